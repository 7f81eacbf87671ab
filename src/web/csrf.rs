//! CSRF protection of every state-changing request: the synchronizer-token pattern (a
//! random token kept in the server-side session, carried by every form as `csrf`, compared
//! in constant time), plus a same-origin check of the `Origin` header when the browser
//! sends one. `SameSite=Strict` cookies already keep other sites' requests unauthenticated;
//! the token also covers the sign-in form (login CSRF) and older browsers.
//!
//! Why not a crate: the token lives in the session we already keep (tower-sessions), so the
//! check is a comparison; the maintained axum CSRF crates use the double-submit-cookie
//! pattern (a second, signed cookie), which is weaker than a server-side token and adds a
//! key to manage. Forms are read here, once, for every route: no handler can forget.
//!
//! Multipart bodies (the roster upload) are streamed, not buffered: the route table marks
//! the one route that takes them, and its handler checks the token, which the form sends as
//! its first part, before it reads the file.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use super::page::error_page;
use super::session::{CSRF, same_token};

/// Largest URL-encoded form accepted (a narrative fits; a roster goes by upload).
pub const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// Paths that take multipart bodies (their handler checks the token).
#[derive(Clone)]
pub struct MultipartRoutes(pub fn(&str) -> bool);

/// The token a multipart handler must find as the form's first part.
#[derive(Clone, Debug)]
pub struct ExpectedToken(pub String);

fn refuse(msg: &str) -> Response {
    error_page(StatusCode::FORBIDDEN, msg)
}

/// The middleware.
pub async fn check(
    State(multipart): State<MultipartRoutes>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    // "null" is what a browser sends when it withholds the origin (privacy settings,
    // sandboxed frames): the token below still decides.
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| o.as_bytes() != b"null")
    {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://").map(|(_, rest)| rest == host))
            .unwrap_or(false);
        if !same {
            return refuse("this form was sent from another site; nothing was done");
        }
    }
    let expected = session.get::<String>(CSRF).await.ok().flatten();
    let Some(expected) = expected else {
        return refuse(
            "your session has ended or the form is out of date; nothing was done. Open the page again and resend",
        );
    };
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("multipart/form-data") {
        if !(multipart.0)(req.uri().path()) {
            return refuse("this address does not take file uploads");
        }
        let mut req = req;
        req.extensions_mut().insert(ExpectedToken(expected));
        return next.run(req).await;
    }
    if !ctype.starts_with("application/x-www-form-urlencoded") {
        return refuse("forms are sent as application/x-www-form-urlencoded");
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, FORM_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the form is larger than 2 MiB; nothing was done",
            );
        }
    };
    let sent = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v));
    if !sent.is_some_and(|t| same_token(&expected, &t)) {
        return refuse(
            "the form's security token is missing or out of date; nothing was done. Open the page again and resend",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
