//! The one route table: every route, its method and the permission it needs. The router is
//! built from it (each route wrapped in the authorization layer for its permission), README's
//! routes are checked against it, and the security tests walk it with every role.

use axum::Router;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post};

use super::auth;
use super::pages::{
    assess, audit, dashboard, exercise, incidents, letters, notices, roster, rules, users,
};
use super::state::AppState;
use crate::domain::Permission;

/// One route as the tests and documentation see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub permission: Permission,
}

type Handler = MethodRouter<AppState>;

fn table() -> Vec<(Method, &'static str, Permission, Handler)> {
    use Permission::*;
    vec![
        (Method::GET, "/login", Public, get(auth::login_page)),
        (Method::POST, "/login", Public, post(auth::login)),
        (Method::POST, "/logout", SignedIn, post(auth::logout)),
        (Method::GET, "/account", SignedIn, get(auth::account)),
        (
            Method::POST,
            "/account/password",
            SignedIn,
            post(auth::change_password),
        ),
        (Method::GET, "/", SignedIn, get(dashboard::dashboard)),
        (
            Method::GET,
            "/deadlines",
            ReadRegister,
            get(dashboard::deadlines),
        ),
        (
            Method::GET,
            "/incidents",
            ReadRegister,
            get(incidents::list),
        ),
        (
            Method::POST,
            "/incidents/search",
            ReadRegister,
            post(incidents::search),
        ),
        (
            Method::GET,
            "/incidents/new",
            LogIncident,
            get(incidents::new_page),
        ),
        (
            Method::POST,
            "/incidents",
            LogIncident,
            post(incidents::create),
        ),
        (
            Method::GET,
            "/incidents/{id}",
            ReadRegister,
            get(incidents::show),
        ),
        (
            Method::GET,
            "/incidents/{id}/edit",
            EditIncident,
            get(incidents::edit_page),
        ),
        (
            Method::POST,
            "/incidents/{id}/edit",
            EditIncident,
            post(incidents::update),
        ),
        (
            Method::POST,
            "/incidents/{id}/notes",
            EditIncident,
            post(incidents::note),
        ),
        (
            Method::POST,
            "/incidents/{id}/close",
            CloseIncident,
            post(incidents::close),
        ),
        (
            Method::POST,
            "/incidents/{id}/reopen",
            CloseIncident,
            post(incidents::reopen),
        ),
        (
            Method::GET,
            "/incidents/{id}/assess",
            Assess,
            get(assess::form),
        ),
        (
            Method::POST,
            "/incidents/{id}/assess",
            Assess,
            post(assess::record),
        ),
        (
            Method::POST,
            "/incidents/{id}/override",
            OverrideDetermination,
            post(assess::override_determination),
        ),
        (
            Method::GET,
            "/incidents/{id}/roster",
            ImportRoster,
            get(roster::page_),
        ),
        (
            Method::POST,
            "/incidents/{id}/roster/upload",
            ImportRoster,
            post(roster::upload),
        ),
        (
            Method::GET,
            "/incidents/{id}/roster/jobs/{job}",
            ImportRoster,
            get(roster::job),
        ),
        (
            Method::POST,
            "/incidents/{id}/roster/jobs/{job}/start",
            ImportRoster,
            post(roster::start),
        ),
        (
            Method::GET,
            "/incidents/{id}/letters",
            RenderLetters,
            get(letters::index),
        ),
        (
            Method::POST,
            "/incidents/{id}/letters",
            RenderLetters,
            post(letters::render),
        ),
        (
            Method::GET,
            "/incidents/{id}/letters/jobs/{job}",
            RenderLetters,
            get(letters::job),
        ),
        (
            Method::GET,
            "/incidents/{id}/letters/{batch}",
            RenderLetters,
            get(letters::batch),
        ),
        (
            Method::GET,
            "/incidents/{id}/letters/{batch}/files/{name}",
            RenderLetters,
            get(letters::file),
        ),
        (
            Method::POST,
            "/incidents/{id}/letters/{batch}/approve",
            ApproveLetters,
            post(letters::approve),
        ),
        (
            Method::GET,
            "/incidents/{id}/notices/new",
            RecordNotice,
            get(notices::new),
        ),
        (
            Method::POST,
            "/incidents/{id}/notices",
            RecordNotice,
            post(notices::record),
        ),
        (
            Method::POST,
            "/incidents/{id}/notices/override",
            OverrideSignoff,
            post(notices::record_override),
        ),
        (
            Method::GET,
            "/incidents/{id}/dossier",
            Audit,
            get(audit::dossier),
        ),
        (Method::GET, "/audit", Audit, get(audit::index)),
        (Method::GET, "/audit/verify", Audit, get(audit::verify)),
        (
            Method::GET,
            "/audit/checkpoint",
            Audit,
            get(audit::checkpoint_file),
        ),
        (
            Method::GET,
            "/templates",
            ManageRules,
            get(rules::templates),
        ),
        (
            Method::POST,
            "/templates/clear",
            ManageRules,
            post(rules::clear_templates),
        ),
        (
            Method::GET,
            "/templates/{name}",
            ManageRules,
            get(rules::template),
        ),
        (
            Method::POST,
            "/templates/{name}",
            ManageRules,
            post(rules::save_template),
        ),
        (
            Method::POST,
            "/templates/{name}/revert",
            ManageRules,
            post(rules::revert_template),
        ),
        (Method::GET, "/laws", ReadRegister, get(rules::laws)),
        (Method::GET, "/laws/{st}", ReadRegister, get(rules::law)),
        (
            Method::POST,
            "/laws/{st}",
            ManageRules,
            post(rules::set_law),
        ),
        (
            Method::POST,
            "/laws/{st}/clear",
            ManageRules,
            post(rules::clear_law),
        ),
        (Method::GET, "/users", ManageUsers, get(users::index)),
        (Method::POST, "/users", ManageUsers, post(users::add)),
        (
            Method::POST,
            "/users/{name}/role",
            ManageUsers,
            post(users::role),
        ),
        (
            Method::POST,
            "/users/{name}/disable",
            ManageUsers,
            post(users::disable),
        ),
        (
            Method::POST,
            "/users/{name}/enable",
            ManageUsers,
            post(users::enable),
        ),
        (
            Method::POST,
            "/users/{name}/password",
            ManageUsers,
            post(users::reset_password),
        ),
        (Method::GET, "/exercise", RunExercise, get(exercise::index)),
        (
            Method::POST,
            "/exercise/start",
            RunExercise,
            post(exercise::start),
        ),
        (
            Method::GET,
            "/exercise/brief",
            RunExercise,
            get(exercise::brief),
        ),
        (
            Method::POST,
            "/exercise/next",
            RunExercise,
            post(exercise::next),
        ),
        (
            Method::POST,
            "/exercise/decide",
            RunExercise,
            post(exercise::decide),
        ),
        (
            Method::GET,
            "/exercise/score",
            RunExercise,
            get(exercise::score),
        ),
        (
            Method::GET,
            "/exercise/report",
            RunExercise,
            get(exercise::report),
        ),
    ]
}

/// Every route, for tests and documentation (the style sheet is public and not listed).
pub fn route_table() -> Vec<RouteInfo> {
    table()
        .into_iter()
        .map(|(m, path, permission, _)| RouteInfo {
            method: if m == Method::GET { "GET" } else { "POST" },
            path,
            permission,
        })
        .collect()
}

/// The routes × roles table as Markdown (README "Team use"; a test keeps them equal).
#[cfg(test)]
pub fn routes_markdown() -> String {
    let mut out = String::from("| route | needs | roles |\n|---|---|---|\n");
    for r in route_table() {
        let roles = match r.permission {
            Permission::Public => "anyone (no session)".to_string(),
            Permission::SignedIn => "every signed-in person".to_string(),
            p => p
                .roles()
                .iter()
                .map(|r| r.key())
                .collect::<Vec<_>>()
                .join(", "),
        };
        out.push_str(&format!(
            "| `{} {}` | `{}` | {} |\n",
            r.method,
            r.path,
            r.permission.key(),
            roles
        ));
    }
    out
}

/// The only route that takes a multipart body (its handler checks the CSRF token first).
pub fn takes_multipart(path: &str) -> bool {
    path.starts_with("/incidents/") && path.ends_with("/roster/upload")
}

/// The routes with their authorization layers.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut r = Router::new();
    for (_, path, perm, handler) in table() {
        let guarded = handler.layer(from_fn_with_state((state.clone(), perm), auth::authorize));
        r = r.route(path, guarded);
    }
    r
}
