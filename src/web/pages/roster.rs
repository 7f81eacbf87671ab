//! Roster upload: the file is streamed to a private temporary file (with a size limit),
//! its header is shown with the field each column was recognised as (the person can map
//! the others), then the desk's import runs in the background while the page shows its
//! progress, and ends with the report: counts, and rejected rows by line and field (never
//! their values).

use std::io::Write;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::incidents::parse_id;
use super::widgets::incident_header;
use crate::desk::{
    ImportOutcome, ImportReport, ImportRoster, LowerCounts, RUN_ROWS, RosterTotals, roster_columns,
};
use crate::domain::IncidentId;
use crate::error::{Error, Result as DeskResult};
use crate::intake::roster_csv::Field;
use crate::web::csrf::ExpectedToken;
use crate::web::forms::Fields;
use crate::web::jobs::{Column, Job, Kind, State as JobState};
use crate::web::page::{WebError, csrf_field, error_page, page, see_other};
use crate::web::session::{same_token, token};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

/// Rows listed in the rejected-rows report (all are counted).
const REPORT_LIMIT: usize = 200;

fn totals(t: &RosterTotals) -> Markup {
    let c = &t.counts;
    html! {
        table.facts {
            tr { th { "Individuals" } td.num { (c.total) } }
            tr { th { "Unreachable (no usable address)" } td.num { (c.unreachable) } }
            tr { th { "E-mail only (with consent)" } td.num { (t.email_only) } }
            tr { th { "Deceased with next-of-kin address" } td.num { (c.deceased_with_nok) } }
            tr { th { "Deceased without" } td.num { (c.deceased_without_nok) } }
            tr { th { "No State" } td.num { (t.no_state) } }
            tr { th { "By State" } td { (c.by_state.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")) } }
        }
    }
}

fn upload_form(user: &CurrentUser, id: &IncidentId, max_mib: u64) -> Markup {
    html! {
        h2 { "Import a roster" }
        p { "A CSV export with a header row, one row per affected individual (README “Rosters” lists the columns). The file is checked row by row; rejected rows are reported by line and field, never by value. Up to " (max_mib) " MiB." }
        form.stack method="post" action={"/incidents/" (id) "/roster/upload"} enctype="multipart/form-data" {
            // The token comes first: the server checks it before it reads the file.
            (csrf_field(user))
            label for="file" { "Roster file (CSV)" }
            input id="file" name="file" type="file" accept=".csv,text/csv" required;
            button type="submit" { "Upload and check the columns" }
        }
    }
}

pub async fn page_(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let rid = id.clone();
    let (inc, stats) = state
        .desk(&user, move |d| {
            let inc = d.incident_record(&rid)?;
            let stats = match d.roster_stats(&rid) {
                Ok(s) => Some(s),
                Err(Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            Ok((inc, stats))
        })
        .await?;
    let body = html! {
        (incident_header(&inc, &user))
        h2 { "Roster" }
        @match &stats {
            None => p { "No roster imported yet: the obligations use the facts' estimates." },
            Some(s) => {
                p { (s.batches.len()) " import(s) committed." }
                (totals(&s.totals))
            }
        }
        (upload_form(&user, &id, state.config.max_upload / (1024 * 1024)))
    };
    Ok(page("Roster", &user, body).into_response())
}

/// Streams the multipart upload: first the CSRF token, then the file, to
/// `<uploads>/<job>.csv` (0600), refusing more than the limit.
pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Extension(expected): Extension<ExpectedToken>,
    Path(id): Path<String>,
    mut mp: Multipart,
) -> Page {
    let id = parse_id(&id)?;
    let first = mp.next_field().await.ok().flatten();
    let token_ok = match first {
        Some(f) if f.name() == Some("csrf") => {
            let t = f.text().await.unwrap_or_default();
            same_token(&expected.0, &t)
        }
        _ => false,
    };
    if !token_ok {
        return Ok(error_page(
            StatusCode::FORBIDDEN,
            "the form's security token is missing or out of date; nothing was uploaded. Open the page again and resend",
        ));
    }
    let Some(mut field) = mp
        .next_field()
        .await
        .ok()
        .flatten()
        .filter(|f| f.name() == Some("file"))
    else {
        return Err(Error::invalid("choose a CSV file to upload").into());
    };
    let job_id = token()?;
    std::fs::create_dir_all(&state.jobs.uploads)
        .map_err(|e| Error::io("cannot create the uploads directory", e))?;
    let path = state.jobs.uploads.join(format!("{job_id}.csv"));
    let mut file = open_private(&path)?;
    let mut bytes: u64 = 0;
    let limit = state.config.max_upload;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                return Err(
                    Error::invalid("the upload was interrupted; nothing was imported").into(),
                );
            }
        };
        bytes += chunk.len() as u64;
        if bytes > limit {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Ok(error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the file is larger than {} MiB (the server's --max-upload-mib); nothing was imported. Import it with `breachdesk roster import` on the server, or raise the limit",
                    limit / (1024 * 1024)
                ),
            ));
        }
        if let Err(e) = file.write_all(&chunk) {
            let _ = std::fs::remove_file(&path);
            return Err(Error::io("cannot store the upload", e).into());
        }
    }
    drop(file);
    let p = path.clone();
    let (columns, error) = match tokio::task::spawn_blocking(move || roster_columns(&p)).await {
        Ok(Ok(c)) => (
            c.into_iter()
                .map(|(name, field)| Column { name, field })
                .collect(),
            None,
        ),
        Ok(Err(e)) => (vec![], Some(e.to_string())),
        Err(e) => (vec![], Some(e.to_string())),
    };
    state.jobs.add(Job {
        id: job_id.clone(),
        owner: user.name.clone(),
        incident: id.clone(),
        kind: Kind::Roster,
        started: std::time::Instant::now(),
        meter: Default::default(),
        state: std::sync::Mutex::new(JobState::Uploaded {
            file: path,
            bytes,
            columns,
            error,
        }),
    });
    Ok(see_other(&format!("/incidents/{id}/roster/jobs/{job_id}")))
}

fn open_private(path: &std::path::Path) -> DeskResult<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .map_err(|e| Error::io("cannot store the upload", e))
}

fn mapping_form(
    user: &CurrentUser,
    id: &IncidentId,
    job: &str,
    bytes: u64,
    columns: &[Column],
    error: Option<&str>,
) -> Markup {
    html! {
        h2 { "Check the columns" }
        p { "Uploaded " (bytes) " bytes. Each column of the header row and the field it will be read as; choose a field for any column that was not recognised. Rows are validated one by one." }
        @if let Some(e) = error { div.error role="alert" { (e) } }
        form.stack method="post" action={"/incidents/" (id) "/roster/jobs/" (job) "/start"} {
            (csrf_field(user))
            table {
                thead { tr { th { "#" } th { "Column" } th { "Read as" } } }
                tbody {
                    @for (i, c) in columns.iter().enumerate() {
                        tr {
                            td.num { (i + 1) }
                            td { label for={"col_" (i)} { (c.name) } }
                            td {
                                select id={"col_" (i)} name={"col_" (i)} {
                                    option value="" selected[c.field.is_none()] { "(ignored)" }
                                    @for f in Field::ALL {
                                        option value=(f.key()) selected[c.field == Some(*f)] { (f.key()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            label { input type="checkbox" name="dry_run" value="yes"; " Check only (a dry run: nothing is written)" }
            label { input type="checkbox" name="accept_lower_counts" value="yes"; " Commit even if this roster lowers counts the obligations depend on (the report names them)" }
            label { input type="checkbox" name="restart" value="yes"; " Discard an interrupted import of this incident and start over (by default an interrupted import resumes where it stopped)" }
            button type="submit" { "Import" }
        }
    }
}

fn report(r: &ImportReport) -> Markup {
    html! {
        @match r.outcome {
            ImportOutcome::DryRun => { p.flash { "Dry run: nothing was written." } }
            ImportOutcome::NothingAccepted => { p.flash.error role="alert" { "No row was accepted: nothing was written." } }
            ImportOutcome::LowerCountsRefused => {
                p.flash.error role="alert" { "Not committed: this import would lower counts the obligations depend on. Check the file, then import it again with the box to commit anyway ticked." }
            }
            ImportOutcome::Committed => {
                p.flash role="status" { "Imported as batch " (r.batch.unwrap_or(0)) @if r.resumed { " (an interrupted import of this file was resumed)" } "." }
            }
        }
        table.facts {
            tr { th { "Rows read" } td.num { (r.rows_read) } }
            tr { th { "Accepted" } td.num { (r.accepted) } }
            tr { th { "Rejected" } td.num { (r.rejected) } }
            tr { th { "Duplicates (counted once)" } td.num { (r.duplicates) } }
            tr { th { "File SHA-256" } td.mono { (r.file_sha256) } }
            @if !r.ignored_columns.is_empty() {
                tr { th { "Columns ignored" } td { (r.ignored_columns.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join(", ")) } }
            }
        }
        @if let Some(t) = &r.roster { h3 { "The roster now" } (totals(t)) }
        @if r.rejected > 0 {
            h3 { "Rejected rows" }
            table {
                thead { tr { th.num { "Line" } th { "Field" } th { "Problem" } } }
                tbody {
                    @for i in &r.rejected_rows.items {
                        tr { td.num { (i.line) } td { (i.field.clone().unwrap_or_default()) } td { (i.reason) } }
                    }
                }
            }
            @if r.rejected_rows.not_listed > 0 { p.small { (r.rejected_rows.not_listed) " more not listed." } }
        }
        @if r.duplicates > 0 {
            h3 { "Duplicate rows" }
            table {
                thead { tr { th.num { "Line" } th.num { "First seen at line" } th { "In" } } }
                tbody {
                    @for d in &r.duplicate_rows.items {
                        tr { td.num { (d.line) } td.num { (d.first_line) } td { @match d.first_batch { Some(b) => { "batch " (b) }, None => "this file" } } }
                    }
                }
            }
            @if r.duplicate_rows.not_listed > 0 { p.small { (r.duplicate_rows.not_listed) " more not listed." } }
        }
    }
}

fn progress(job: &Job) -> Markup {
    let (phase, done, total, bytes) = job.meter.read();
    let pct = (done.min(total) * 100).checked_div(total).unwrap_or(0);
    html! {
        p role="status" {
            "Working: " (if phase.is_empty() { "starting" } else { &phase }) " — "
            @if bytes { (done / 1024) " of " (total / 1024) " KiB" } @else { (done) " of " (total) }
            " (" (pct) "%)"
        }
        progress max="100" value=(pct) { (pct) "%" }
        p.small { "This page refreshes itself every two seconds. You can leave it; the work goes on." }
    }
}

/// While work runs, the page reloads itself (a `Refresh` header: no script needed).
pub fn refreshing(mut r: Response, running: bool) -> Response {
    if running {
        r.headers_mut()
            .insert("refresh", axum::http::HeaderValue::from_static("2"));
    }
    r
}

fn lookup(
    state: &AppState,
    user: &CurrentUser,
    id: &IncidentId,
    job: &str,
) -> Result<Arc<Job>, WebError> {
    state.jobs.get(job, &user.name, id).ok_or_else(|| {
        WebError(Error::NotFound(
            "no such upload (it may have finished a day ago, or belong to someone else)".into(),
        ))
    })
}

pub async fn job(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, job)): Path<(String, String)>,
) -> Page {
    let id = parse_id(&id)?;
    let j = lookup(&state, &user, &id, &job)?;
    let rid = id.clone();
    let inc = state.desk(&user, move |d| d.incident_record(&rid)).await?;
    let (body, running) = {
        let st = j
            .state
            .lock()
            .map_err(|_| Error::Storage("job state poisoned".into()))?;
        match &*st {
            JobState::Uploaded {
                bytes,
                columns,
                error,
                ..
            } => (
                mapping_form(&user, &id, &job, *bytes, columns, error.as_deref()),
                false,
            ),
            JobState::Running => (progress(&j), true),
            JobState::Imported(r) => (report(r), false),
            JobState::Failed(m) => (
                html! { div.error role="alert" { strong { "Nothing was imported: " } (m) } p { a href={"/incidents/" (id) "/roster"} { "Upload a corrected file" } } },
                false,
            ),
            JobState::Rendered(_) => (html! {}, false),
        }
    };
    let body = html! {
        (incident_header(&inc, &user))
        (body)
    };
    Ok(refreshing(
        page("Roster import", &user, body).into_response(),
        running,
    ))
}

pub async fn start(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((id, job)): Path<(String, String)>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    let j = lookup(&state, &user, &id, &job)?;
    let (file, maps) = {
        let mut st = j
            .state
            .lock()
            .map_err(|_| Error::Storage("job state poisoned".into()))?;
        let JobState::Uploaded { file, columns, .. } = &*st else {
            return Ok(see_other(&format!("/incidents/{id}/roster/jobs/{job}")));
        };
        let mut maps = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let key = format!("col_{i}");
            if !f.has(&key) {
                continue;
            }
            let chosen = f.get(&key);
            if chosen.is_empty() {
                if c.field.is_some() {
                    return Err(Error::invalid(format!(
                        "column {} was recognised as {}; a recognised column cannot be ignored (rename it in the file if it must be)",
                        i + 1,
                        c.field.map(|f| f.key()).unwrap_or_default()
                    ))
                    .into());
                }
                continue;
            }
            let field = Field::from_key(chosen).ok_or_else(|| {
                Error::invalid("a column is mapped to a field that does not exist")
            })?;
            if Some(field) != c.field {
                maps.push((c.name.clone(), field));
            }
        }
        let file = file.clone();
        *st = JobState::Running;
        (file, maps)
    };
    let (rid, rfile, dry_run) = (id.clone(), file.clone(), f.get("dry_run") == "yes");
    let accept_lower = f.get("accept_lower_counts") == "yes";
    let restart = f.get("restart") == "yes";
    let st = state.clone();
    let jj = j.clone();
    let u = user.clone();
    tokio::spawn(async move {
        let meter = jj.clone();
        let out = st
            .desk(&u, move |d| {
                let req = ImportRoster {
                    id: rid,
                    file: rfile,
                    maps,
                    delimiter: None,
                    dry_run,
                    restart,
                    report_limit: REPORT_LIMIT,
                    run_rows: RUN_ROWS,
                    // An import that would lower the counts obligations depend on is committed
                    // only when the form says so (as --accept-lower-counts does).
                    lower_counts: if accept_lower {
                        LowerCounts::Accept
                    } else {
                        LowerCounts::Refuse
                    },
                };
                d.import_roster(&req, &meter.meter)
            })
            .await;
        let _ = std::fs::remove_file(&file);
        if let Ok(mut s) = jj.state.lock() {
            *s = match out {
                Ok(r) => JobState::Imported(Box::new(r)),
                Err(e) => JobState::Failed(e.to_string()),
            };
        }
    });
    Ok(see_other(&format!("/incidents/{id}/roster/jobs/{job}")))
}
