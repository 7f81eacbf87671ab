//! Recording notices sent: against a batch counsel approved, or (privacy officer, counsel)
//! with an explicit override and its rationale. Both go to the desk's one `record_notice`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tower_sessions::Session;

use super::incidents::parse_id;
use super::widgets::{incident_header, obligations};
use crate::desk::{Authority, Batch, IncidentView, NewNotice, status_text};
use crate::domain::{NoticeMethod, ObligationKind, Permission};
use crate::error::Error;
use crate::web::auth::flash;
use crate::web::forms::Fields;
use crate::web::page::{WebError, csrf_field, error_box, page, see_other};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

fn common_fields(view: &IncidentView) -> Markup {
    let kinds: Vec<ObligationKind> = {
        let mut k: Vec<ObligationKind> = view
            .evaluation
            .obligations
            .iter()
            .filter(|o| o.status.is_required())
            .map(|o| o.kind)
            .collect();
        k.dedup();
        if k.is_empty() {
            ObligationKind::ALL.to_vec()
        } else {
            k
        }
    };
    html! {
        label for="kind" { "Kind of notice" }
        select id="kind" name="kind" {
            @for k in &kinds { option value=(k.key()) { (k.key()) " — " (k.describe()) } }
        }
        label for="jurisdiction" { "State (media notice: the State it went to)" }
        input id="jurisdiction" name="jurisdiction" type="text" placeholder="e.g. CA";
        label for="date" { "Date it went out " span.hint { "YYYY-MM-DD" } }
        input id="date" name="date" type="text" inputmode="numeric" placeholder="YYYY-MM-DD" value=(view.today.format("%Y-%m-%d")) required;
        label for="method" { "Method" }
        select id="method" name="method" {
            @for m in NoticeMethod::ALL { option value=(m.key()) { (m.key()) } }
        }
        label for="count" { "How many recipients this send reached" }
        input id="count" name="count" type="text" inputmode="numeric" value="1" required;
        label for="label" { "Label for this send, e.g. the mail vendor's job number (optional; needed only when two sends share kind, State, date, method and count)" }
        input id="label" name="label" type="text";
    }
}

fn form(user: &CurrentUser, view: &IncidentView, batches: &[Batch], error: Option<&str>) -> Markup {
    let id = view.incident.id.as_str();
    let approved: Vec<&Batch> = batches.iter().filter(|b| b.is_approved()).collect();
    html! {
        (incident_header(&view.incident, user))
        h2 { "Record a notice sent" }
        (error_box(error))
        h3 { "Obligations" }
        (obligations(&view.evaluation.obligations))
        h3 { "From an approved batch" }
        @if approved.is_empty() {
            p { "No batch is approved yet. Notices of kinds that letters are rendered for go out from a batch counsel approved; the toll-free line, a phone call, the annual log and State regulators need none." }
        }
        form.stack method="post" action={"/incidents/" (id) "/notices"} {
            (csrf_field(user))
            (common_fields(view))
            label for="batch" { "Approved batch" }
            select id="batch" name="batch" {
                option value="" { "none (a kind that needs no letters batch)" }
                @for b in &approved {
                    option value=(b.number) { "batch " (b.number) ": " (b.manifest.kind) ", " (b.manifest.count) " document(s), approved by " (b.approval.as_ref().map(|a| a.by.as_str()).unwrap_or("")) }
                }
            }
            button type="submit" { "Record notice" }
        }
        @if user.role.may(Permission::OverrideSignoff) {
            section.override {
                h3 { "Without an approved batch (override)" }
                p.small { "Recorded with your name and the rationale; use it when notices went out another way (e.g. counsel's own mailing)." }
                form.stack method="post" action={"/incidents/" (id) "/notices/override"} {
                    (csrf_field(user))
                    (common_fields(view))
                    label for="rationale" { "Rationale (no PHI)" }
                    textarea id="rationale" name="rationale" rows="2" required {}
                    button type="submit" { "Record notice with override" }
                }
            }
        }
    }
}

async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: &crate::domain::IncidentId,
) -> Result<(IncidentView, Vec<Batch>), WebError> {
    let rid = id.clone();
    Ok(state
        .desk(user, move |d| {
            Ok((d.incident_view(&rid)?, d.batches(&rid)?))
        })
        .await?)
}

pub async fn new(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let (view, batches) = load(&state, &user, &id).await?;
    Ok(page("Record a notice", &user, form(&user, &view, &batches, None)).into_response())
}

fn request(
    id: &crate::domain::IncidentId,
    f: &Fields,
    authority: Authority,
) -> Result<NewNotice, Error> {
    let kind = ObligationKind::from_key(f.get("kind"))
        .ok_or_else(|| Error::invalid("choose the kind of notice"))?;
    let method = NoticeMethod::from_key(f.get("method"))
        .ok_or_else(|| Error::invalid("choose how it was sent"))?;
    let date = f
        .date("date", "Date it went out")?
        .ok_or_else(|| Error::invalid("give the date it went out (YYYY-MM-DD)"))?;
    let count = f.count("count", "How many recipients")?.unwrap_or(1);
    let jurisdiction = crate::web::forms::optional_state(f.get("jurisdiction"))?;
    let n = NewNotice {
        id: id.clone(),
        kind,
        jurisdiction,
        date,
        method,
        count,
        evidence_sha256: None,
        recipient: None,
        batch: Some(f.text("label").trim().to_string()).filter(|l| !l.is_empty()),
        expected: None,
        authority,
    };
    n.check()?;
    Ok(n)
}

async fn record_with(
    state: AppState,
    user: CurrentUser,
    session: Session,
    id: String,
    f: Fields,
    overriding: bool,
) -> Page {
    let id = parse_id(&id)?;
    let authority = if overriding {
        Authority::Override(f.text("rationale").trim().to_string())
    } else {
        match f.opt("batch") {
            Some(b) => Authority::Batch(
                b.parse()
                    .map_err(|_| Error::invalid("choose an approved batch"))?,
            ),
            None => Authority::None,
        }
    };
    let req = match request(&id, &f, authority) {
        Ok(r) => r,
        Err(Error::Invalid(m)) => return invalid(&state, &user, &id, &m).await,
        Err(e) => return Err(e.into()),
    };
    match state.desk(&user, move |d| d.record_notice(&req)).await {
        Ok(done) => {
            let status = done
                .obligation
                .as_ref()
                .map(|o| status_text(&o.status))
                .unwrap_or_else(|| "the engine lists no such obligation".into());
            flash(
                &session,
                format!("Recorded {} notice: {status}.", done.record.kind.key()),
            )
            .await;
            Ok(see_other(&format!("/incidents/{id}")))
        }
        Err(Error::Invalid(m)) | Err(Error::NotFound(m)) => invalid(&state, &user, &id, &m).await,
        Err(e) => Err(e.into()),
    }
}

async fn invalid(
    state: &AppState,
    user: &CurrentUser,
    id: &crate::domain::IncidentId,
    m: &str,
) -> Page {
    let (view, batches) = load(state, user, id).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        page(
            "Record a notice",
            user,
            form(user, &view, &batches, Some(m)),
        ),
    )
        .into_response())
}

pub async fn record(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    record_with(state, user, session, id, f, false).await
}

pub async fn record_override(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    record_with(state, user, session, id, f, true).await
}
