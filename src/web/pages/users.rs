//! Users (the privacy officer only): add a person with a role and a first password, change
//! a role, disable or enable, reset a password. Each is an audited record; a person's
//! sessions end when they are disabled or their role changes.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tower_sessions::Session;

use crate::desk::{NewUser, User, UserChange};
use crate::domain::StaffRole;
use crate::domain::staff::{Permission, check_user_name};
use crate::error::Error;
use crate::web::auth::flash;
use crate::web::forms::Fields;
use crate::web::page::{WebError, csrf_field, error_box, instant, page, see_other};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

fn role_select(name: &str, id: &str, chosen: Option<StaffRole>) -> Markup {
    html! {
        select id=(id) name=(name) {
            @for r in StaffRole::ALL { option value=(r.key()) selected[chosen == Some(*r)] { (r.label()) } }
        }
    }
}

fn listing(
    user: &CurrentUser,
    users: &[User],
    now: chrono::DateTime<chrono::Utc>,
    error: Option<&str>,
) -> Markup {
    html! {
        h1 { "Users" }
        (error_box(error))
        table.users {
            thead { tr { th { "User" } th { "Role" } th { "State" } th { "Last sign-in" } th { "Added" } th.noprint { "Change" } } }
            tbody {
                @for u in users {
                    tr {
                        td { (u.name) }
                        td { (u.role.label()) }
                        td {
                            @if u.disabled { "disabled" }
                            @else if u.locked_at(now) { "locked until " (u.locked_until.map(instant).unwrap_or_default()) }
                            @else { "active" }
                        }
                        td { (u.last_login.map(instant).unwrap_or_else(|| "never".into())) }
                        td { (instant(u.created)) " by " (u.created_by) }
                        td.noprint {
                            form.inline method="post" action={"/users/" (u.name) "/role"} {
                                (csrf_field(user))
                                label.visually-hidden for={"role-" (u.name)} { "Role of " (u.name) }
                                (role_select("role", &format!("role-{}", u.name), Some(u.role)))
                                button type="submit" { "Set role" }
                            }
                            @if u.disabled {
                                form.inline method="post" action={"/users/" (u.name) "/enable"} { (csrf_field(user)) button type="submit" { "Enable" } }
                            } @else {
                                form.inline method="post" action={"/users/" (u.name) "/disable"} { (csrf_field(user)) button type="submit" { "Disable" } }
                            }
                            form.inline method="post" action={"/users/" (u.name) "/password"} {
                                (csrf_field(user))
                                label.visually-hidden for={"pw-" (u.name)} { "New password for " (u.name) }
                                input id={"pw-" (u.name)} name="password" type="password" autocomplete="new-password" placeholder="new password" required;
                                button type="submit" { "Reset password" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add a user" }
        form.stack method="post" action="/users" {
            (csrf_field(user))
            label for="name" { "User name " span.hint { "lower-case letters, digits, . - _ (e.g. jsmith)" } }
            input id="name" name="name" type="text" autocapitalize="none" spellcheck="false" required;
            label for="role" { "Role" }
            (role_select("role", "role", Some(StaffRole::Analyst)))
            label for="password" { "First password " span.hint { "12 characters or more; hard to guess; tell it to them apart from e-mail" } }
            input id="password" name="password" type="password" autocomplete="new-password" required;
            button type="submit" { "Add user" }
        }
        h2 { "What each role may do" }
        table.perms {
            thead { tr { th { "may …" } @for r in StaffRole::ALL { th { (r.label()) } } } }
            tbody {
                @for p in Permission::ALL.iter().filter(|p| **p != Permission::Public) {
                    tr { td { (p.describe()) } @for r in StaffRole::ALL { td.c { @if r.may(*p) { "✔" } } } }
                }
            }
        }
    }
}

async fn show(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let users = state.desk(user, |d| d.users()).await?;
    let now = state.context(None).now;
    Ok((
        status,
        page("Users", user, listing(user, &users, now, error)),
    )
        .into_response())
}

pub async fn index(State(state): State<AppState>, Extension(user): Extension<CurrentUser>) -> Page {
    show(&state, &user, StatusCode::OK, None).await
}

/// A desk change, then back to the list (with the message), or the list with the error.
async fn apply(
    state: AppState,
    user: CurrentUser,
    session: Session,
    name: String,
    change: UserChange,
    done: String,
) -> Page {
    check_user_name(&name).map_err(|e| WebError(Error::NotFound(e)))?;
    let n = name.clone();
    let ends_sessions = matches!(
        change,
        UserChange::Role(_) | UserChange::Disable | UserChange::ResetPassword(_)
    );
    match state.desk(&user, move |d| d.change_user(&n, &change)).await {
        Ok(_) => {
            if ends_sessions && name != user.name {
                state.sessions.end_for(&name);
            }
            flash(&session, done).await;
            Ok(see_other("/users"))
        }
        Err(Error::Invalid(m)) => {
            show(&state, &user, StatusCode::UNPROCESSABLE_ENTITY, Some(&m)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn add(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    f: Fields,
) -> Page {
    let Some(role) = StaffRole::from_key(f.get("role")) else {
        return show(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("choose a role"),
        )
        .await;
    };
    let req = NewUser {
        name: f.get("name").to_ascii_lowercase(),
        role,
        password: f.text("password"),
    };
    match state.desk(&user, move |d| d.add_user(&req)).await {
        Ok(u) => {
            flash(&session, format!("Added {} as {}.", u.name, u.role.label())).await;
            Ok(see_other("/users"))
        }
        Err(Error::Invalid(m)) => {
            show(&state, &user, StatusCode::UNPROCESSABLE_ENTITY, Some(&m)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn role(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
    f: Fields,
) -> Page {
    let Some(r) = StaffRole::from_key(f.get("role")) else {
        return show(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("choose a role"),
        )
        .await;
    };
    let msg = format!("{name} is now {}.", r.label());
    apply(state, user, session, name, UserChange::Role(r), msg).await
}

pub async fn disable(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
) -> Page {
    let msg = format!("{name} is disabled; their sessions have ended.");
    apply(state, user, session, name, UserChange::Disable, msg).await
}

pub async fn enable(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
) -> Page {
    let msg = format!("{name} may sign in again.");
    apply(state, user, session, name, UserChange::Enable, msg).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
    f: Fields,
) -> Page {
    let msg = format!("{name}'s password was reset.");
    apply(
        state,
        user,
        session,
        name,
        UserChange::ResetPassword(f.text("password")),
        msg,
    )
    .await
}
