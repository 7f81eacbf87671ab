//! The register: the incident list, one incident's page, the guided intake, the edit form,
//! timeline notes, closing and reopening.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use super::widgets::{audit_entries, incident_header, obligations, signoff};
use crate::desk::{
    Batch, CloseIncident, IncidentFilter, IncidentView, Listed, NewIncident, NewNote,
    UpdateIncident,
};
use crate::domain::incident::Disposition;
use crate::domain::notice::Signoff;
use crate::domain::vocab::{BreachType, DataElement, Location};
use crate::domain::{
    BaRelationship, CountSource, Facts, IncidentId, IncidentStatus, Permission, Rating,
};
use crate::error::Error;
use crate::web::auth::flash;
use crate::web::forms::{self, Fields, expected_revision};
use crate::web::page::{WebError, csrf_field, date, error_box, instant, page, see_other};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

/// An incident ID from the path (IDs are not PHI).
pub fn parse_id(s: &str) -> Result<IncidentId, WebError> {
    IncidentId::parse(s)
        .filter(|i| i.as_str() == s)
        .ok_or_else(|| WebError(Error::NotFound("no such incident".into())))
}

// ---------------------------------------------------------------- list

const PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    page: Option<usize>,
}

fn register(rows: &[Listed], from: usize) -> Markup {
    html! {
        table {
            thead { tr { th { "Incident" } th { "Title" } th { "Status" } th.num { "Individuals" } th { "Discovered" } th { "Updated" } } }
            tbody {
                @for l in rows.iter().skip(from).take(PAGE) {
                    tr {
                        td { a href={"/incidents/" (l.incident.id)} { (l.incident.id) } }
                        td { (l.incident.facts.title) }
                        td { (l.incident.status.key()) }
                        td.num { (l.individuals) }
                        td { (date(l.incident.facts.breach.discovered)) }
                        td { (instant(l.incident.updated)) }
                    }
                }
            }
        }
    }
}

fn search_form(user: &CurrentUser, status: Option<IncidentStatus>) -> Markup {
    html! {
        div.filters {
            form.inline method="get" action="/incidents" {
                label for="status" { "Status " }
                select id="status" name="status" {
                    option value="" { "any" }
                    @for s in IncidentStatus::ALL {
                        option value=(s.key()) selected[status == Some(*s)] { (s.key()) }
                    }
                }
                button type="submit" { "Show" }
            }
            // Search text goes in the request body, never the address (it could be typed PHI).
            form.inline method="post" action="/incidents/search" {
                (csrf_field(user))
                label for="text" { "ID or title contains " }
                input id="text" name="text" type="search";
                button type="submit" { "Search" }
            }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Page {
    let status = q.status.as_deref().and_then(IncidentStatus::from_key);
    let rows = state
        .desk(&user, move |d| {
            d.incidents(&IncidentFilter {
                status,
                ..IncidentFilter::default()
            })
        })
        .await?;
    let pages = rows.len().div_ceil(PAGE).max(1);
    let p = q.page.unwrap_or(1).clamp(1, pages);
    let link = |n: usize| match status {
        Some(s) => format!("/incidents?status={}&page={n}", s.key()),
        None => format!("/incidents?page={n}"),
    };
    let body = html! {
        h1 { "Incidents" }
        (search_form(&user, status))
        p { (rows.len()) " incident(s)" @if let Some(s) = status { " with status " (s.key()) } "." }
        (register(&rows, (p - 1) * PAGE))
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if p > 1 { a href=(link(p - 1)) { "← previous" } " " }
                "page " (p) " of " (pages)
                @if p < pages { " " a href=(link(p + 1)) { "next →" } }
            }
        }
    };
    Ok(page("Incidents", &user, body).into_response())
}

pub async fn search(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    f: Fields,
) -> Page {
    let text = f.get("text").to_string();
    let t = text.clone();
    let rows = state
        .desk(&user, move |d| {
            d.incidents(&IncidentFilter {
                text: Some(t),
                ..IncidentFilter::default()
            })
        })
        .await?;
    let body = html! {
        h1 { "Incidents" }
        (search_form(&user, None))
        p { (rows.len()) " incident(s) whose ID or title contains “" (text) "”." }
        (register(&rows, 0))
    };
    Ok(page("Search", &user, body).into_response())
}

// ---------------------------------------------------------------- one incident

struct Shown {
    view: IncidentView,
    batches: Vec<Batch>,
    audit: Vec<crate::audit::entry::StoredEntry>,
    audit_all: usize,
}

fn facts_table(v: &IncidentView) -> Markup {
    let f = &v.incident.facts;
    let b = &f.breach;
    let c = &v.counts;
    let labels = |l: Vec<&'static str>| {
        if l.is_empty() {
            "—".to_string()
        } else {
            l.join(", ")
        }
    };
    html! {
        table.facts {
            tr { th { "Breach period" } td { (date(b.start)) " to " (date(b.end)) } }
            tr { th { "Discovered" } td { (date(b.discovered)) @if !b.discovery_method.is_empty() { " (" (b.discovery_method) ")" } } }
            @if !b.reported_by.is_empty() { tr { th { "Reported by" } td { (b.reported_by) } } }
            tr { th { "Type of breach" } td { (labels(b.types.iter().map(|t| t.label()).collect())) } }
            tr { th { "Location" } td { (labels(b.locations.iter().map(|t| t.label()).collect())) } }
            tr { th { "PHI involved" } td { (labels(b.phi.iter().map(|t| t.label()).collect())) } }
            tr {
                th { "Individuals" }
                td {
                    @match c.source {
                        CountSource::Roster => { (c.total) " (roster): unreachable " (c.unreachable) ", deceased with next of kin " (c.deceased_with_nok) ", without " (c.deceased_without_nok) }
                        CountSource::Estimate => { (c.total) " (estimate)" }
                    }
                    @if !c.by_state.is_empty() {
                        br;
                        span.small { "by State: " (c.by_state.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
            @if f.business_associate.involved {
                tr { th { "Business associate" } td {
                    (f.business_associate.name) " ("
                    (match f.business_associate.relationship { Some(BaRelationship::Agent) => "agent", Some(BaRelationship::IndependentContractor) => "independent contractor", None => "relationship not recorded" })
                    "), discovered " (date(f.business_associate.discovered)) ", notified us " (date(f.business_associate.notified_ce))
                } }
            }
            @if !b.public_summary.is_empty() { tr { th { "What happened (for notices)" } td { (b.public_summary) } } }
            @if !b.narrative.is_empty() { tr { th { "Narrative (PHI, encrypted at rest)" } td.pre { (b.narrative) } } }
        }
    }
}

fn rating(r: Rating) -> &'static str {
    match r {
        Rating::Low => "low",
        Rating::Moderate => "moderate",
        Rating::High => "high",
        Rating::Unknown => "unknown",
    }
}

fn determination(v: &IncidentView) -> Markup {
    let ev = &v.evaluation;
    let e = &ev.engine;
    html! {
        @match &v.derived.assessment {
            None => p { "Not assessed yet: the presumption of breach stands until the assessment is recorded (164.402(2))." },
            Some(a) => p.small { "Recorded by " (a.assessed_by) ", " (instant(a.assessed_at)) "." },
        }
        p.result { strong { (ev.effective_class.label()) } " [" (ev.effective_class.cite()) "]" }
        @if ev.overridden {
            p.warn {
                "A human override is on record. The engine found: " (e.class.label()) "."
                @if let Some(a) = &v.derived.assessment { br; "Rationale: " (a.rationale) }
            }
        } @else if let Some(a) = v.derived.assessment.as_ref().filter(|a| !a.rationale.is_empty()) {
            p { "Rationale recorded with the result: " (a.rationale) }
        }
        h3 { "Each step" }
        ol.steps {
            @for r in &e.reasons { li { (r.text) " " span.cite { "[" (r.cite) "]" } } }
        }
        @if !e.factors.is_empty() {
            h3 { "Factor ratings (164.402(2))" }
            table {
                thead { tr { th { "Factor" } th { "" } th { "Rating" } th { "Why" } th { "Basis" } } }
                tbody {
                    @for f in &e.factors {
                        tr { td { (f.factor) } td { (f.name) } td { (rating(f.rating)) } td { (f.rationale) } td.small { (f.cite) } }
                    }
                }
            }
        }
        @if let Some(r) = e.route {
            p { "Low probability shown by route " strong { (r.key()) } ": " (r.describe()) "." }
        }
        @if !e.defeated.is_empty() {
            h3 { "Routes not taken" }
            ul { @for r in &e.defeated { li { (r.text) " " span.cite { "[" (r.cite) "]" } } } }
        }
    }
}

fn notices_table(inc: &crate::domain::Incident) -> Markup {
    html! {
        @if inc.notices.is_empty() {
            p { "No notice recorded yet." }
        } @else {
            table {
                thead { tr { th { "Sent" } th { "Kind" } th { "Where" } th { "Method" } th.num { "Count" } th { "Sign-off" } } }
                tbody {
                    @for n in &inc.notices {
                        tr {
                            td { (n.date.format("%Y-%m-%d")) }
                            td { (n.kind.key()) }
                            td { (n.jurisdiction.clone().unwrap_or_default()) }
                            td { (n.method.key()) }
                            td.num { (n.count) }
                            td {
                                @match &n.signoff {
                                    Some(Signoff::Batch { number, .. }) => { "batch " (number) }
                                    Some(Signoff::Override { rationale }) => { "override: " (rationale) }
                                    None => "—",
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn show_body(s: &Shown, user: &CurrentUser) -> Markup {
    let v = &s.view;
    let inc = &v.incident;
    let id = inc.id.as_str();
    let ev = &v.evaluation;
    let revision = v.revision.to_string();
    let mut timeline = inc.timeline.clone();
    timeline.sort_by_key(|t| t.at);
    html! {
        (incident_header(inc, user))
        @if !v.since.is_empty() {
            div.flash { "Since the last recorded change: " ul { @for c in &v.since { li { (c) } } } }
        }
        section {
            h2 { "Facts" }
            (facts_table(v))
        }
        section {
            h2 { "Determination" }
            (determination(v))
        }
        section {
            h2 { "Obligations as of " (v.today.format("%Y-%m-%d")) }
            p.small {
                "Clock start: " (date(ev.clock.date)) " — " (ev.clock.basis) " [" (ev.clock.cite) "]"
                @if let Some(d) = &ev.delay { br; "Law-enforcement delay " (d.start.format("%Y-%m-%d")) " to " (d.end.format("%Y-%m-%d")) " (" (ev.policy.describe()) ")" }
            }
            (obligations(&ev.obligations))
            @for n in &ev.notes { p.warn { "Note: " (n.text) " [" (n.cite) "]" } }
            p.small { "Keep this documentation until " (ev.retention_until.format("%Y-%m-%d")) " [" (ev.retention_cite) "]." }
        }
        section {
            h2 { "Timeline" }
            @if timeline.is_empty() { p { "No entry yet." } }
            @else {
                ol.timeline {
                    @for t in &timeline { li { span.when { (instant(t.at)) } " " span.who { (t.author) } ": " span.pre { (t.text) } } }
                }
            }
            @if user.role.may(Permission::EditIncident) {
                form.stack method="post" action={"/incidents/" (id) "/notes"} {
                    (csrf_field(user))
                    label for="note" { "Add a timeline note (may contain PHI; stored encrypted)" }
                    textarea id="note" name="text" rows="3" required {}
                    button type="submit" { "Add note" }
                }
            }
        }
        section {
            h2 { "Letters batches" }
            @if s.batches.is_empty() { p { "No batch rendered yet." } }
            @else {
                table {
                    thead { tr { th { "Batch" } th { "Kind" } th { "Format" } th.num { "Count" } th { "Notice date" } th { "Sign-off" } } }
                    tbody {
                        @for b in &s.batches {
                            tr {
                                td {
                                    @if user.role.may(Permission::RenderLetters) { a href={"/incidents/" (id) "/letters/" (b.number)} { (b.number) } }
                                    @else { (b.number) }
                                }
                                td { (b.manifest.kind) } td { (b.manifest.format) } td.num { (b.manifest.count) } td { (b.manifest.notice_date) } td { (signoff(b)) }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Notices sent" }
            (notices_table(inc))
        }
        section {
            h2 { "Audit trail (last " (s.audit.len()) " of " (s.audit_all) ")" }
            (audit_entries(&s.audit))
        }
        @if user.role.may(Permission::CloseIncident) {
            section.noprint {
                h2 { "Close or reopen" }
                @if inc.status == IncidentStatus::Closed {
                    form.inline method="post" action={"/incidents/" (id) "/reopen"} {
                        (csrf_field(user))
                        button type="submit" { "Reopen" }
                    }
                } @else {
                    form.stack method="post" action={"/incidents/" (id) "/close"} {
                        (csrf_field(user))
                        input type="hidden" name="revision" value=(revision);
                        label for="disposition" { "Disposition" }
                        select id="disposition" name="disposition" required {
                            @for d in Disposition::ALL { option value=(d.key()) { (d.key()) } }
                        }
                        label for="close_note" { "Closing note (no PHI)" }
                        input id="close_note" name="note" type="text";
                        label for="close_force" { "Closing as breach_notified while notices are still unmet: why (recorded; the deadline board keeps listing them). Leave empty otherwise." }
                        input id="close_force" name="force_rationale" type="text";
                        button type="submit" { "Close incident" }
                    }
                }
            }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let shown = state
        .desk(&user, move |d| {
            let view = d.incident_view(&id)?;
            let batches = d.batches(&id)?;
            let (audit, audit_all) = d.incident_audit(&id, 20)?;
            Ok(Shown {
                view,
                batches,
                audit,
                audit_all,
            })
        })
        .await?;
    let title = format!(
        "{} — {}",
        shown.view.incident.id, shown.view.incident.facts.title
    );
    Ok(page(&title, &user, show_body(&shown, &user)).into_response())
}

// ---------------------------------------------------------------- intake and edit

/// A yes / no / unknown question as three radio buttons (keyboard: arrow keys).
pub fn tri(name: &str, legend: &str, value: Option<bool>) -> Markup {
    html! {
        fieldset.tri {
            legend { (legend) }
            label { input type="radio" name=(name) value="yes" checked[value == Some(true)]; " Yes" }
            label { input type="radio" name=(name) value="no" checked[value == Some(false)]; " No" }
            label { input type="radio" name=(name) value="unknown" checked[value.is_none()]; " Unknown" }
        }
    }
}

fn checkboxes<T: Copy + PartialEq>(
    name: &str,
    legend: &str,
    all: &[T],
    chosen: &[T],
    key: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Markup {
    html! {
        fieldset.checks {
            legend { (legend) }
            @for v in all {
                label { input type="checkbox" name=(name) value=(key(*v)) checked[chosen.contains(v)]; " " (label(*v)) }
            }
        }
    }
}

fn text_input(name: &str, label: &str, value: &str, hint: &str) -> Markup {
    html! {
        label for=(name) { (label) @if !hint.is_empty() { " " span.hint { (hint) } } }
        input id=(name) name=(name) type="text" value=(value);
    }
}

fn date_input(name: &str, label: &str, value: Option<chrono::NaiveDate>) -> Markup {
    let v = value
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    html! {
        label for=(name) { (label) " " span.hint { "YYYY-MM-DD; leave blank if not known" } }
        input id=(name) name=(name) type="text" inputmode="numeric" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" placeholder="YYYY-MM-DD" value=(v);
    }
}

fn states_text(f: &Facts) -> String {
    f.individuals
        .by_state
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The intake questions (those of the terminal interview), prefilled from `f`.
fn intake_fields(f: &Facts) -> Markup {
    let b = &f.breach;
    html! {
        (text_input("title", "Short title", &f.title, "no patient details, e.g. “Stolen laptop, billing”"))
        (date_input("discovered", "Date discovered (first day anyone but the wrongdoer knew, 164.404(a)(2))", b.discovered))
        (date_input("start", "Date the breach began", b.start))
        (checkboxes("types", "Type(s) of breach (HHS portal)", BreachType::ALL, &b.types, |t| t.key(), |t| t.label()))
        (checkboxes("locations", "Location(s) of the information (leave all unticked if not known)", Location::ALL, &b.locations, |t| t.key(), |t| t.label()))
        label for="individuals" { "Approximate number of individuals " span.hint { "blank if not known" } }
        input id="individuals" name="individuals" type="text" inputmode="numeric" value=(f.individuals.estimated_total.map(|n| n.to_string()).unwrap_or_default());
        (text_input("states", "Residents per State", &states_text(f), "e.g. CA=120, NV=30; blank if not known"))
        label for="narrative" { "What happened " span.hint { "may include PHI; stored encrypted" } }
        textarea id="narrative" name="narrative" rows="5" { (b.narrative) }
    }
}

fn new_form(user: &CurrentUser, f: &Facts, error: Option<&str>) -> Markup {
    html! {
        h1 { "Log an incident" }
        p { "The same questions as " code { "breachdesk incident new" } ". Blank answers are recorded as not known; you can add facts later." }
        (error_box(error))
        form.stack method="post" action="/incidents" {
            (csrf_field(user))
            (intake_fields(f))
            button type="submit" { "Log incident" }
        }
    }
}

pub async fn new_page(Extension(user): Extension<CurrentUser>) -> Page {
    Ok(page(
        "Log an incident",
        &user,
        new_form(&user, &Facts::default(), None),
    )
    .into_response())
}

/// Re-shows a form with what was typed and the message (nothing was saved).
fn invalid(title: &str, user: &CurrentUser, body: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page(title, user, body)).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    f: Fields,
) -> Page {
    let mut facts = Facts::default();
    if let Err(e) = forms::intake(&f, &mut facts) {
        return Ok(invalid(
            "Log an incident",
            &user,
            new_form(&user, &facts, Some(&e.to_string())),
        ));
    }
    let req = NewIncident {
        facts: facts.clone(),
        edits: Default::default(),
    };
    match state.desk(&user, move |d| d.new_incident(req)).await {
        Ok(inc) => {
            flash(
                &session,
                format!("Logged {}. Assess it next: is it a breach?", inc.id),
            )
            .await;
            Ok(see_other(&format!("/incidents/{}", inc.id)))
        }
        Err(Error::Invalid(m)) => Ok(invalid(
            "Log an incident",
            &user,
            new_form(&user, &facts, Some(&m)),
        )),
        Err(e) => Err(e.into()),
    }
}

fn edit_form(
    user: &CurrentUser,
    id: &str,
    f: &Facts,
    revision: &str,
    error: Option<&str>,
) -> Markup {
    let b = &f.breach;
    let i = &f.individuals;
    let ba = &f.business_associate;
    let n = |x: u64| x.to_string();
    html! {
        h1 { "Edit " (id) }
        (error_box(error))
        form.stack method="post" action={"/incidents/" (id) "/edit"} {
            (csrf_field(user))
            input type="hidden" name="revision" value=(revision);
            (intake_fields(f))
            (date_input("end", "Date the breach ended", b.end))
            (text_input("discovery_method", "How it was discovered", &b.discovery_method, "no PHI, e.g. “SIEM alert”"))
            (text_input("reported_by", "Reported by", &b.reported_by, "a workforce member or role, not a patient"))
            (checkboxes("phi", "PHI involved", DataElement::ALL, &b.phi, |t| t.key(), |t| t.label()))
            label for="public_summary" { "What happened, for the notices " span.hint { "164.404(c)(1)(A); must not name anyone" } }
            textarea id="public_summary" name="public_summary" rows="3" { (b.public_summary) }
            (text_input("unreachable", "Unreachable individuals (164.404(d)(2))", &n(i.unreachable), ""))
            (text_input("deceased_with_nok", "Deceased, next-of-kin address known (164.404(d)(1)(ii))", &n(i.deceased_with_nok), ""))
            (text_input("deceased_without_nok", "Deceased, no next-of-kin address", &n(i.deceased_without_nok), ""))
            (tri("urgent", "Possible imminent misuse (urgent telephone notice, 164.404(d)(3))?", Some(i.urgent)))
            (tri("ba_involved", "Was a business associate involved?", Some(ba.involved)))
            (text_input("ba_name", "Business associate", &ba.name, ""))
            label for="ba_relationship" { "Business associate's relationship" }
            select id="ba_relationship" name="ba_relationship" {
                option value="unknown" selected[ba.relationship.is_none()] { "not known (treated as agent)" }
                option value="agent" selected[ba.relationship == Some(BaRelationship::Agent)] { "agent" }
                option value="independent_contractor" selected[ba.relationship == Some(BaRelationship::IndependentContractor)] { "independent contractor" }
            }
            (date_input("ba_discovered", "Date the business associate discovered it", ba.discovered))
            (date_input("ba_notified", "Date the business associate notified us", ba.notified_ce))
            button type="submit" { "Save changes" }
        }
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let v = state.desk(&user, move |d| d.incident_view(&id)).await?;
    let body = edit_form(
        &user,
        v.incident.id.as_str(),
        &v.incident.facts,
        &v.revision.to_string(),
        None,
    );
    Ok(page("Edit incident", &user, body).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    let revision = f.get("revision").to_string();
    let rid = id.clone();
    let current = state.desk(&user, move |d| d.incident_view(&rid)).await?;
    let mut facts = current.incident.facts.clone();
    let form_error = forms::edit(&f, &mut facts).err();
    if let Some(e) = form_error {
        return Ok(invalid(
            "Edit incident",
            &user,
            edit_form(&user, id.as_str(), &facts, &revision, Some(&e.to_string())),
        ));
    }
    let expected = expected_revision(&revision)?;
    let req = UpdateIncident {
        id: id.clone(),
        replacement: Some(facts.clone()),
        edits: Default::default(),
        status: None,
        expected: Some(expected),
    };
    match state.desk(&user, move |d| d.update_incident(&req)).await
    {
        Ok(u) => {
            let msg = if u.moved.is_empty() {
                format!("Saved {}.", id)
            } else {
                format!("Saved {}. Obligations moved: {}", id, u.moved.join("; "))
            };
            flash(&session, msg).await;
            Ok(see_other(&format!("/incidents/{id}")))
        }
        Err(Error::Invalid(m)) => Ok(invalid("Edit incident", &user, edit_form(&user, id.as_str(), &facts, &revision, Some(&m)))),
        Err(Error::Conflict(m)) => Ok((
            StatusCode::CONFLICT,
            page("Edit incident", &user, html! {
                h1 { "Not saved: someone else changed " (id) }
                p.error role="alert" { (m) }
                p { a href={"/incidents/" (id)} { "See the incident as it is now" } " · " a href={"/incidents/" (id) "/edit"} { "Edit it again" } }
            }),
        ).into_response()),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- notes, close, reopen

pub async fn note(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    let req = NewNote {
        id: id.clone(),
        text: f.text("text"),
        at: None,
        author: None,
        expected: None,
    };
    let n = state.desk(&user, move |d| d.add_note(&req)).await?;
    flash(&session, format!("Added note {n}.")).await;
    Ok(see_other(&format!("/incidents/{id}")))
}

pub async fn close(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    let disposition = Disposition::ALL
        .iter()
        .copied()
        .find(|d| d.key() == f.get("disposition"))
        .ok_or_else(|| Error::invalid("choose a disposition"))?;
    let note = f.get("note").to_string();
    let force = Some(f.get("force_rationale").trim().to_string()).filter(|r| !r.is_empty());
    let expected = Some(expected_revision(f.get("revision"))?);
    let rid = id.clone();
    state
        .desk(&user, move |d| {
            d.close_incident(&CloseIncident {
                id: rid,
                disposition,
                note,
                force,
                expected,
            })
        })
        .await?;
    flash(&session, format!("Closed {id} ({}).", disposition.key())).await;
    Ok(see_other(&format!("/incidents/{id}")))
}

pub async fn reopen(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let rid = id.clone();
    state.desk(&user, move |d| d.reopen_incident(&rid)).await?;
    flash(&session, format!("Reopened {id}.")).await;
    Ok(see_other(&format!("/incidents/{id}")))
}
