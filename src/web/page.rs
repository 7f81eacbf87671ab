//! The page frame (navigation by role, sign-out, messages), shared widgets, the error page.
//! Pages are written with maud: every interpolated value is HTML-escaped unless wrapped in
//! `PreEscaped`, which is used only for documents the desk built and escaped itself.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::state::CurrentUser;
use crate::domain::Permission;
use crate::error::Error;

/// Content-Security-Policy of a page: nothing but our own style sheet; forms post to us;
/// never framed. No script at all.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Content-Security-Policy of a document the desk renders (dossier, after-action report,
/// letters): its own inline styles, nothing else — no script, no fetch, no form.
pub const DOCUMENT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// One navigation entry: where, what, and who sees it.
const NAV: &[(&str, &str, Permission)] = &[
    ("/", "Dashboard", Permission::ReadRegister),
    ("/incidents", "Incidents", Permission::ReadRegister),
    ("/deadlines", "Deadlines", Permission::ReadRegister),
    ("/incidents/new", "New incident", Permission::LogIncident),
    ("/laws", "State laws", Permission::ReadRegister),
    ("/templates", "Templates", Permission::ManageRules),
    ("/audit", "Audit", Permission::Audit),
    ("/users", "Users", Permission::ManageUsers),
    ("/exercise", "Exercise", Permission::RunExercise),
];

/// A full page for a signed-in person.
pub fn page(title: &str, user: &CurrentUser, body: Markup) -> Html<String> {
    frame(title, Some(user), body)
}

/// A page without a session (the sign-in page).
pub fn public_page(title: &str, body: Markup) -> Html<String> {
    frame(title, None, body)
}

fn frame(title: &str, user: Option<&CurrentUser>, body: Markup) -> Html<String> {
    let m = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — breachdesk" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "breachdesk" }
                    @if let Some(u) = user {
                        nav aria-label="Main" {
                            ul {
                                @for (href, label, perm) in NAV {
                                    @if u.role.may(*perm) {
                                        li { a href=(href) { (label) } }
                                    }
                                }
                            }
                        }
                        div.who {
                            span { (u.name) " · " (u.role.label()) }
                            " "
                            a href="/account" { "Account" }
                            form.inline method="post" action="/logout" {
                                (csrf_field(u))
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" {
                    @if let Some(u) = user {
                        @if let Some(f) = &u.flash {
                            p.flash role="status" { (f) }
                        }
                    }
                    (body)
                }
                footer { "breachdesk " (env!("CARGO_PKG_VERSION")) " — decision support, not legal advice" }
            }
        }
    };
    Html(m.into_string())
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(u: &CurrentUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(u.csrf); }
}

/// A date or a dash.
pub fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "—".into())
}

pub fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A form error shown above the form.
pub fn error_box(msg: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = msg {
            div.error role="alert" { strong { "Not saved: " } (m) }
        }
    }
}

/// An error as a page. Messages never carry PHI (the desk's invariant); storage errors are
/// summarised.
pub struct WebError(pub Error);

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        WebError(e)
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Key(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self.0 {
            Error::Storage(_) | Error::Io { .. } => {
                "the server could not complete this request (a storage error); nothing was saved. Try again, and tell the privacy officer if it persists".to_string()
            }
            e => e.to_string(),
        };
        error_page(status, &message)
    }
}

/// A plain error page (no navigation: the person may not be signed in).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = html! {
        h1 { (title) }
        p.error role="alert" { (message) }
        p { a href="/" { "Back to the start page" } }
    };
    let mut r = (status, public_page(title, body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A redirect after a POST (303: the browser follows with GET).
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A document the desk built (dossier, after-action report): served as its own page with
/// a CSP that allows its inline styles and nothing else.
pub fn document(html: String) -> Response {
    let mut r = Html(html).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCUMENT_CSP),
    );
    r
}
