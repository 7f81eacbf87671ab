//! Who may do what: the authorization layer every route carries (its permission comes from
//! the route table), signing in and out, one's own password.
//!
//! Sign-in: a new session ID at every sign-in (no fixation), a generic message for every
//! failure (no user enumeration), Argon2id checked off the async threads, an account locked
//! after repeated failures and a source address throttled after many; every attempt, the
//! sign-out and the automatic logoff are audited. Disabling a user or changing their role
//! takes effect at their next request: the layer reads the user's record every time.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Form;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use tower_sessions::Session;

use super::page::{WebError, csrf_field, error_box, error_page, page, public_page, see_other};
use super::session::{CSRF, FLASH, USER, token};
use super::state::{AppState, CurrentUser, Throttle};
use crate::desk::{LoginOutcome, SignIn};
use crate::domain::Permission;
use crate::error::Error;

/// Where a request comes from: the peer address, or behind a proxy the address the proxy
/// appended last to `X-Forwarded-For`.
pub fn source(
    req_headers: &axum::http::HeaderMap,
    peer: Option<SocketAddr>,
    proxy: bool,
) -> String {
    if proxy
        && let Some(last) = req_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
    {
        return last.trim().to_string();
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn has_cookie(req: &Request) -> bool {
    req.headers()
        .get_all(axum::http::header::COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|c| c.contains("breachdesk_session=")))
}

async fn to_login(had_cookie: bool, session: &Session) -> Response {
    // A session cookie that no longer names a session: it ended (inactivity, sign-out
    // elsewhere, a disabled account); the sign-in page says so.
    let ended = had_cookie && session.is_empty().await;
    see_other(if ended {
        "/login?session=ended"
    } else {
        "/login"
    })
}

/// The authorization layer of one route.
pub async fn authorize(
    State((state, perm)): State<(AppState, Permission)>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    if perm == Permission::Public {
        return next.run(req).await;
    }
    let Some(name) = session.get::<String>(USER).await.ok().flatten() else {
        return to_login(has_cookie(&req), &session).await;
    };
    let lookup = name.clone();
    let user = match state.run(None, move |d| d.user(&lookup)).await {
        Ok(u) => u,
        Err(e) => return WebError(e).into_response(),
    };
    let Some(user) = user.filter(|u| !u.disabled) else {
        let _ = session.flush().await;
        return to_login(has_cookie(&req), &session).await;
    };
    if !user.role.may(perm) {
        return error_page(
            StatusCode::FORBIDDEN,
            &format!(
                "your role ({}) does not allow this page; the privacy officer can change roles",
                user.role.label()
            ),
        );
    }
    let csrf = session
        .get::<String>(CSRF)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let flash = if req.method() == Method::GET {
        session.remove::<String>(FLASH).await.ok().flatten()
    } else {
        None
    };
    req.extensions_mut().insert(CurrentUser {
        name: user.name,
        role: user.role,
        csrf,
        flash,
    });
    next.run(req).await
}

/// A message for the next page (after a redirect).
pub async fn flash(session: &Session, msg: impl Into<String>) {
    let _ = session.insert(FLASH, msg.into()).await;
}

// ---------------------------------------------------------------- sign in

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    signed_out: Option<String>,
    #[serde(default)]
    session: Option<String>,
}

fn login_form(csrf: &str, error: Option<&str>, note: Option<&str>) -> maud::Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(n) = note { p.flash role="status" { (n) } }
        (error_box(error))
        form.stack method="post" action="/login" {
            input type="hidden" name="csrf" value=(csrf);
            label for="name" { "User name" }
            input id="name" name="name" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus;
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p.small { "Sessions end after inactivity. Every sign-in, failed attempt and sign-out is recorded in the audit trail." }
    }
}

/// A session's CSRF token, created when missing (the sign-in form needs one before anyone
/// is signed in).
async fn ensure_csrf(session: &Session) -> Result<String, WebError> {
    if let Some(t) = session.get::<String>(CSRF).await.ok().flatten() {
        return Ok(t);
    }
    let t = token()?;
    session
        .insert(CSRF, t.clone())
        .await
        .map_err(|e| Error::Storage(e.to_string()))?;
    Ok(t)
}

pub async fn login_page(
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if session.get::<String>(USER).await.ok().flatten().is_some() {
        return Ok(see_other("/"));
    }
    let csrf = ensure_csrf(&session).await?;
    let note = match (q.signed_out, q.session) {
        (Some(_), _) => Some("You are signed out."),
        (None, Some(_)) => Some(
            "Your session has ended (no activity for a while, or your account changed). Sign in again.",
        ),
        _ => None,
    };
    Ok(public_page("Sign in", login_form(&csrf, None, note)).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

const FAILED: &str = "Sign-in failed: the user name or password is not right, or the account is locked or disabled. After repeated failures an account is locked for a while; the privacy officer can reset it.";

/// The peer address when the server recorded one (absent in tests that call the router
/// directly).
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

pub async fn login(
    State(state): State<AppState>,
    session: Session,
    Peer(peer): Peer,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let src = source(&headers, peer, state.config.behind_proxy);
    let csrf = ensure_csrf(&session).await?;
    let window = state.config.lockout_for;
    // A source that sent too many failures is refused for the rest of the period.
    let throttled = {
        let mut t = state
            .throttle
            .lock()
            .map_err(|_| Error::Storage("throttle poisoned".into()))?;
        t.retain(|_, v| v.since.elapsed() < window);
        match t.get_mut(&src) {
            Some(v) if v.failures >= state.config.throttle_after => {
                let first = !v.recorded;
                v.recorded = true;
                Some(first)
            }
            _ => None,
        }
    };
    if let Some(first) = throttled {
        if first {
            let s = src.clone();
            state.run(None, move |d| d.throttled(&s)).await?;
        }
        let body = login_form(
            &csrf,
            Some("Too many failed sign-ins from this address; try again later."),
            None,
        );
        return Ok((StatusCode::TOO_MANY_REQUESTS, public_page("Sign in", body)).into_response());
    }
    let req = SignIn {
        name: f.name.trim().to_ascii_lowercase(),
        password: f.password,
        source: src.clone(),
        lockout_after: state.config.lockout_after,
        lockout_for: chrono::Duration::from_std(window).unwrap_or(chrono::Duration::minutes(15)),
    };
    let outcome = state.run(None, move |d| d.sign_in(&req)).await?;
    match outcome {
        LoginOutcome::SignedIn(u) => {
            // A new session ID at sign-in; the old one (and its token) is gone.
            session
                .cycle_id()
                .await
                .map_err(|e| Error::Storage(e.to_string()))?;
            session
                .insert(USER, u.name.clone())
                .await
                .map_err(|e| Error::Storage(e.to_string()))?;
            session
                .insert(CSRF, token()?)
                .await
                .map_err(|e| Error::Storage(e.to_string()))?;
            let to = if u.role.may(Permission::ReadRegister) {
                "/"
            } else {
                "/exercise"
            };
            Ok(see_other(to))
        }
        LoginOutcome::Failed | LoginOutcome::Locked { .. } => {
            if let Ok(mut t) = state.throttle.lock() {
                t.entry(src)
                    .or_insert(Throttle {
                        since: Instant::now(),
                        failures: 0,
                        recorded: false,
                    })
                    .failures += 1;
            }
            let body = login_form(&csrf, Some(FAILED), None);
            Ok((StatusCode::UNAUTHORIZED, public_page("Sign in", body)).into_response())
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    axum::Extension(user): axum::Extension<CurrentUser>,
) -> Result<Response, WebError> {
    let name = user.name.clone();
    state
        .desk(&user, move |d| d.sign_out(&name, "signed_out"))
        .await?;
    session
        .flush()
        .await
        .map_err(|e| Error::Storage(e.to_string()))?;
    Ok(see_other("/login?signed_out=1"))
}

// ---------------------------------------------------------------- own password

pub async fn account(axum::Extension(user): axum::Extension<CurrentUser>) -> Response {
    account_page(&user, None).into_response()
}

fn account_page(user: &CurrentUser, error: Option<&str>) -> axum::response::Html<String> {
    page(
        "Account",
        user,
        html! {
            h1 { "Your account" }
            p { "Signed in as " strong { (user.name) } " (" (user.role.label()) ")." }
            h2 { "Change your password" }
            (error_box(error))
            form.stack method="post" action="/account/password" {
                (csrf_field(user))
                label for="current" { "Current password" }
                input id="current" name="current" type="password" autocomplete="current-password" required;
                label for="new" { "New password (12 characters or more; a passphrase of several words is easiest)" }
                input id="new" name="new" type="password" autocomplete="new-password" required;
                label for="again" { "New password again" }
                input id="again" name="again" type="password" autocomplete="new-password" required;
                button type="submit" { "Change password" }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    axum::Extension(user): axum::Extension<CurrentUser>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, WebError> {
    if f.new != f.again {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            account_page(&user, Some("the two new passwords differ")),
        )
            .into_response());
    }
    let name = user.name.clone();
    match state
        .desk(&user, move |d| {
            d.change_own_password(&name, &f.current, &f.new)
        })
        .await
    {
        Ok(()) => {
            flash(&session, "Your password was changed.").await;
            Ok(see_other("/account"))
        }
        Err(Error::Invalid(m)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            account_page(&user, Some(&m)),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

/// The start page: the dashboard, or the exercise room for a facilitator.
pub fn start_for(user: &CurrentUser) -> Option<Response> {
    (!user.role.may(Permission::ReadRegister)).then(|| see_other("/exercise"))
}
