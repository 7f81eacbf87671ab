//! The audit trail: verification of the whole chain (and every record), the latest
//! entries, a checkpoint to download (signed when the server can read the signing key), and
//! an incident's dossier.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::incidents::parse_id;
use super::widgets::audit_entries;
use crate::audit::checkpoint;
use crate::audit::entry::hex;
use crate::error::Error;
use crate::web::page::{WebError, document, page};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

/// Entries shown under the verification result.
const SHOWN: usize = 50;

pub async fn index(State(state): State<AppState>, Extension(user): Extension<CurrentUser>) -> Page {
    let latest = state.desk(&user, |d| d.audit_tail(SHOWN)).await?;
    let body = html! {
        h1 { "Audit trail" }
        p.noprint {
            a.button href="/audit/verify" { "Verify the whole trail now" }
            " "
            a.button href="/audit/checkpoint" { "Download a checkpoint" }
        }
        p.small { "Verification recomputes every link and every record's digest (it reads the whole database). Keep checkpoints somewhere else: " code { "breachdesk audit verify --against FILE" } " then detects truncation, rollback and forks." }
        h2 { "Latest entries" }
        (audit_entries(&latest))
    };
    Ok(page("Audit", &user, body).into_response())
}

pub async fn verify(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Page {
    let v = state.desk(&user, |d| d.verify(None, None)).await?;
    let r = &v.report;
    let body = html! {
        h1 { "Audit verification" }
        @if r.intact() {
            p.ok.result role="status" { "Intact: " (r.entries) " entries, " (r.subjects) " subjects; every link and every record digest recomputed." }
        } @else {
            div.error role="alert" {
                p { strong { "Damage found" } " (" (r.findings.len()) " finding(s)); the first:" }
                ul { @for f in r.findings.iter().take(20) { li { (f.damage.label()) @if let Some(s) = f.seq { " at entry " (s) } ": " (f.message) } } }
            }
        }
        p { "Head: entry " (r.head_seq) ", hash " code.mono { (hex(&r.head_hash)) } }
        p.noprint { a.button href="/audit/checkpoint" { "Download a checkpoint" } " " a href="/audit" { "Back to the audit trail" } }
    };
    Ok(page("Audit verification", &user, body).into_response())
}

pub async fn checkpoint_file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Page {
    let key_path = state.config.signing_key.clone();
    let cp = state
        .desk(&user, move |d| {
            let sk = match std::fs::read_to_string(&key_path) {
                Ok(text) => Some(checkpoint::key_from_hex(text.trim()).ok_or_else(|| {
                    Error::Key(
                        "the server's signing key file is not a breachdesk signing key".into(),
                    )
                })?),
                Err(_) => None,
            };
            let name = key_path.display().to_string();
            d.checkpoint(sk.as_ref().map(|k| (k, name.as_str())))
        })
        .await?;
    let json = serde_json::to_string_pretty(&cp).map_err(|e| Error::Storage(e.to_string()))? + "\n";
    let mut r = json.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"checkpoint-{}.json\"",
        cp.seq
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

pub async fn dossier(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let d = state.desk(&user, move |d| d.dossier(&id, 200)).await?;
    Ok(document(d.html))
}
