//! Letters: render a batch (in the background, into the server's private data directory),
//! see a batch (its manifest, one letter previewed, the files to download, each checked
//! against the manifest's hash first), and counsel's sign-off.

use std::path::PathBuf;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use super::incidents::parse_id;
use super::roster::refreshing;
use super::widgets::{incident_header, signoff};
use crate::audit::entry::hex;
use crate::desk::letters::{DEFAULT_SHARD, RenderFormat, RenderLetters};
use crate::desk::{ApproveBatch, Batch};
use crate::domain::{IncidentId, Permission};
use crate::error::Error;
use crate::letters::LetterKind;
use crate::web::auth::flash;
use crate::web::forms::Fields;
use crate::web::jobs::{Job, Kind, State as JobState};
use crate::web::page::{DOCUMENT_CSP, WebError, csrf_field, page, see_other};
use crate::web::session::token;
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

/// Where the server keeps an incident's rendered batches: `<data>/letters/<id>/`.
fn incident_dir(state: &AppState, id: &IncidentId) -> PathBuf {
    state.config.data_dir.join("letters").join(id.as_str())
}

/// A batch's files, when this server rendered it: named by its manifest hash.
fn batch_dir(state: &AppState, id: &IncidentId, b: &Batch) -> PathBuf {
    incident_dir(state, id).join(&b.manifest_sha256)
}

const FORMATS: &[(&str, &str)] = &[
    ("text", "text (one letter per page)"),
    ("html", "HTML (print-ready)"),
    ("csv", "CSV mail-merge data (individual, next of kin)"),
    ("json", "JSON (HHS worksheet)"),
];

fn render_form(user: &CurrentUser, id: &IncidentId) -> Markup {
    html! {
        h2 { "Render a batch" }
        p { "Every document of a kind, from the templates on record. A batch is a draft until counsel approves it; notices are recorded against an approved batch." }
        form.stack method="post" action={"/incidents/" (id) "/letters"} {
            (csrf_field(user))
            label for="kind" { "Kind" }
            select id="kind" name="kind" {
                @for k in LetterKind::ALL { option value=(k.key()) { (k.key()) } }
            }
            label for="format" { "Format" }
            select id="format" name="format" {
                @for (k, l) in FORMATS { option value=(k) { (l) } }
            }
            label for="jurisdiction" { "State regulator notices: only this State " span.hint { "two-letter code; blank for every State that requires one" } }
            input id="jurisdiction" name="jurisdiction" type="text" maxlength="20" placeholder="e.g. TX";
            label for="recipient" { "State regulator notices: only this regulator " span.hint { "its id in the State's rules, e.g. ag; blank for all" } }
            input id="recipient" name="recipient" type="text" maxlength="40";
            label for="notice_date" { "Date printed on the notices " span.hint { "YYYY-MM-DD; blank for today" } }
            input id="notice_date" name="notice_date" type="text" inputmode="numeric" placeholder="YYYY-MM-DD";
            label for="shard" { "Letters per file" }
            input id="shard" name="shard" type="text" inputmode="numeric" value=(DEFAULT_SHARD);
            label { input type="checkbox" name="force" value="yes"; " Draft even though the determination on record is not a breach" }
            button type="submit" { "Render" }
        }
    }
}

fn batches_table(id: &IncidentId, batches: &[Batch]) -> Markup {
    html! {
        @if batches.is_empty() { p { "No batch rendered yet." } }
        @else {
            table {
                thead { tr { th { "Batch" } th { "Kind" } th { "Format" } th.num { "Count" } th { "Notice date" } th { "Sign-off" } } }
                tbody {
                    @for b in batches {
                        tr {
                            td { a href={"/incidents/" (id) "/letters/" (b.number)} { "batch " (b.number) } }
                            td { (b.manifest.kind) } td { (b.manifest.format) } td.num { (b.manifest.count) } td { (b.manifest.notice_date) } td { (signoff(b)) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn index(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let rid = id.clone();
    let (inc, batches) = state
        .desk(&user, move |d| {
            Ok((d.incident_record(&rid)?, d.batches(&rid)?))
        })
        .await?;
    let body = html! {
        (incident_header(&inc, &user))
        h2 { "Letters batches" }
        (batches_table(&id, &batches))
        (render_form(&user, &id))
    };
    Ok(page("Letters", &user, body).into_response())
}

pub async fn render(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    let kind = LetterKind::from_key(f.get("kind"))
        .ok_or_else(|| Error::invalid("choose a kind of document"))?;
    let format =
        RenderFormat::from_key(f.get("format")).ok_or_else(|| Error::invalid("choose a format"))?;
    let notice_date = f.date("notice_date", "Notice date")?;
    let shard_size = f
        .count("shard", "Letters per file")?
        .unwrap_or(DEFAULT_SHARD as u64) as usize;
    let job_id = token()?;
    let dir = incident_dir(&state, &id);
    let tmp = dir.join(format!(".render-{job_id}"));
    let req = RenderLetters {
        id: id.clone(),
        kind,
        format,
        out: tmp.clone(),
        templates: None,
        shard_size: shard_size.max(1),
        notice_date,
        addendum: false,
        covered_entity: None,
        jurisdiction: crate::web::forms::optional_state(f.get("jurisdiction"))?,
        recipient: f.opt("recipient").map(|r| r.trim().to_ascii_lowercase()),
        force: f.get("force") == "yes",
        layout: crate::letters::Layout::default(),
        crash_at: None,
    };
    req.check()?;
    private_dir(&dir)?;
    let job = state.jobs.add(Job {
        id: job_id.clone(),
        owner: user.name.clone(),
        incident: id.clone(),
        kind: Kind::Letters,
        started: std::time::Instant::now(),
        meter: Default::default(),
        state: std::sync::Mutex::new(JobState::Running),
    });
    let st = state.clone();
    let u = user.clone();
    tokio::spawn(async move {
        let j = job.clone();
        let out = st
            .desk(&u, move |d| {
                let r = d.render_letters(&req, &j.meter)?;
                // Files are kept under the manifest's hash: the batch record finds them.
                let fin = dir.join(&r.manifest_sha256);
                if !fin.exists() {
                    std::fs::rename(&tmp, &fin)
                        .map_err(|e| Error::io("cannot keep the rendered batch", e))?;
                } else {
                    let _ = std::fs::remove_dir_all(&tmp);
                }
                Ok(r)
            })
            .await;
        if let Ok(mut s) = job.state.lock() {
            *s = match out {
                Ok(r) => JobState::Rendered(Box::new(r)),
                Err(e) => JobState::Failed(e.to_string()),
            };
        }
    });
    Ok(see_other(&format!("/incidents/{id}/letters/jobs/{job_id}")))
}

/// A directory only the server's account can read (rendered letters hold names and
/// addresses).
fn private_dir(dir: &std::path::Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io("cannot create the letters directory", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

pub async fn job(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, job)): Path<(String, String)>,
) -> Page {
    let id = parse_id(&id)?;
    let j = state.jobs.get(&job, &user.name, &id).ok_or_else(|| {
        WebError(Error::NotFound(
            "no such render (it may have finished a day ago, or belong to someone else)".into(),
        ))
    })?;
    let (body, running) = {
        let st = j
            .state
            .lock()
            .map_err(|_| Error::Storage("job state poisoned".into()))?;
        match &*st {
            JobState::Running => {
                let (phase, done, total, _) = j.meter.read();
                (
                    html! {
                        p role="status" { "Rendering: " (if phase.is_empty() { "starting" } else { &phase }) " — " (done) " of " (total) }
                        p.small { "This page refreshes itself every two seconds." }
                    },
                    true,
                )
            }
            JobState::Rendered(r) => (
                html! {
                    p.flash role="status" { "Rendered batch " (r.batch) ": " (r.manifest.count) " " (r.manifest.kind) " document(s). It is a draft until counsel approves it." }
                    p { a href={"/incidents/" (id) "/letters/" (r.batch)} { "Open batch " (r.batch) } }
                },
                false,
            ),
            JobState::Failed(m) => (
                html! {
                    div.error role="alert" { strong { "Not rendered: " } (m) }
                    p { a href={"/incidents/" (id) "/letters"} { "Back to letters" } }
                },
                false,
            ),
            _ => (html! {}, false),
        }
    };
    Ok(refreshing(
        page("Letters", &user, body).into_response(),
        running,
    ))
}

/// The first letter of a text batch (letters are separated by form feeds), at most 64 KiB.
fn preview(dir: &std::path::Path, b: &Batch) -> Option<String> {
    let first = b.manifest.files.first()?;
    let bytes = std::fs::read(dir.join(&first.name)).ok()?;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned();
    Some(match b.manifest.format.as_str() {
        "text" => text
            .split('\u{c}')
            .next()
            .unwrap_or("")
            .trim_end()
            .to_string(),
        "csv" => text.lines().take(2).collect::<Vec<_>>().join("\n"),
        _ => text,
    })
}

fn find_batch(batches: Vec<Batch>, n: u32) -> Result<Batch, WebError> {
    batches
        .into_iter()
        .find(|b| b.number == n)
        .ok_or_else(|| WebError(Error::NotFound(format!("there is no batch {n}"))))
}

pub async fn batch(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, n)): Path<(String, u32)>,
) -> Page {
    let id = parse_id(&id)?;
    let rid = id.clone();
    let (inc, batches) = state
        .desk(&user, move |d| {
            Ok((d.incident_record(&rid)?, d.batches(&rid)?))
        })
        .await?;
    let b = find_batch(batches, n)?;
    let dir = batch_dir(&state, &id, &b);
    let here = dir.is_dir();
    let pv = if here && b.manifest.format != "html" {
        preview(&dir, &b)
    } else {
        None
    };
    let body = html! {
        (incident_header(&inc, &user))
        h2 { "Batch " (b.number) ": " (b.manifest.kind) " (" (b.manifest.format) ")" }
        table.facts {
            tr { th { "Documents" } td.num { (b.manifest.count) } }
            tr { th { "Notice date" } td { (b.manifest.notice_date) } }
            tr { th { "Manifest SHA-256" } td.mono { (b.manifest_sha256) } }
            tr { th { "Template SHA-256" } td.mono { (b.manifest.template_sha256) } }
            tr { th { "Data SHA-256" } td.mono { (b.manifest.data_sha256) } }
            tr { th { "Sign-off" } td { (signoff(&b)) } }
        }
        h3 { "Files" }
        table {
            thead { tr { th { "File" } th.num { "Documents" } th.num { "Bytes" } th { "SHA-256" } } }
            tbody {
                @for f in &b.manifest.files {
                    tr {
                        td { @if here { a href={"/incidents/" (id) "/letters/" (b.number) "/files/" (f.name)} { (f.name) } } @else { (f.name) } }
                        td.num { (f.count) } td.num { (f.bytes) } td.mono { (f.sha256) }
                    }
                }
            }
        }
        @if !here {
            p.warn { "These files were rendered outside the server (with " code { "breachdesk letters render --out DIR" } "); they are in that directory." }
        }
        @if let Some(p) = &pv {
            h3 { "The first letter" }
            pre.letter { (p) }
        }
        @if user.role.may(Permission::ApproveLetters) && b.approval.is_none() {
            section.approve.noprint {
                h3 { "Counsel's sign-off" }
                p { "Approving records your name, the time and this batch's manifest hash in the audit trail. Notices can then be recorded as sent from it." }
                form.stack method="post" action={"/incidents/" (id) "/letters/" (b.number) "/approve"} {
                    (csrf_field(&user))
                    input type="hidden" name="manifest_sha256" value=(b.manifest_sha256);
                    label { input type="checkbox" name="reviewed" value="yes" required; " I reviewed this batch (manifest " code { (&b.manifest_sha256[..12.min(b.manifest_sha256.len())]) "…" } ")" }
                    button type="submit" { "Approve batch " (b.number) }
                }
            }
        }
    };
    Ok(page(&format!("Batch {}", b.number), &user, body).into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path((id, n)): Path<(String, u32)>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    if f.get("reviewed") != "yes" {
        return Err(Error::invalid("tick “I reviewed this batch” to approve it").into());
    }
    let req = ApproveBatch {
        id: id.clone(),
        batch: n,
        manifest_sha256: Some(f.get("manifest_sha256").to_string()),
    };
    let b = state.desk(&user, move |d| d.approve_batch(&req)).await?;
    flash(
        &session,
        format!(
            "Approved batch {} ({} {} document(s)).",
            b.number, b.manifest.count, b.manifest.kind
        ),
    )
    .await;
    Ok(see_other(&format!("/incidents/{id}/letters/{n}")))
}

pub async fn file(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, n, name)): Path<(String, u32, String)>,
) -> Page {
    let id = parse_id(&id)?;
    let rid = id.clone();
    let batches = state.desk(&user, move |d| d.batches(&rid)).await?;
    let b = find_batch(batches, n)?;
    // Only a file the manifest names (no path from the address reaches the disk).
    let entry = b
        .manifest
        .files
        .iter()
        .find(|f| f.name == name)
        .cloned()
        .ok_or_else(|| WebError(Error::NotFound("this batch has no such file".into())))?;
    let path = batch_dir(&state, &id, &b).join(&entry.name);
    let p = path.clone();
    let digest = tokio::task::spawn_blocking(move || -> Result<String, Error> {
        let mut f = std::fs::File::open(&p)
            .map_err(|e| Error::NotFound(format!("the file is not on this server ({e})")))?;
        let mut h = Sha256::new();
        std::io::copy(&mut f, &mut h).map_err(|e| Error::io("cannot read the file", e))?;
        Ok(hex(&h.finalize()))
    })
    .await
    .map_err(|e| Error::Storage(e.to_string()))??;
    if digest != entry.sha256 {
        return Err(Error::Conflict(format!(
            "{} no longer matches its manifest (SHA-256 differs): it was changed after rendering; not served. Render the batch again",
            entry.name
        ))
        .into());
    }
    let f = tokio::fs::File::open(&path)
        .await
        .map_err(|e| Error::io("cannot read the file", e))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
    let mut r = body.into_response();
    let (ctype, inline) = if entry.name.ends_with(".html") {
        ("text/html; charset=utf-8", true)
    } else if entry.name.ends_with(".csv") {
        ("text/csv; charset=utf-8", false)
    } else if entry.name.ends_with(".json") {
        ("application/json", false)
    } else {
        ("text/plain; charset=utf-8", false)
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if inline {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCUMENT_CSP),
        );
    } else if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", entry.name))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
