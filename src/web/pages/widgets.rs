//! Views several pages share: the obligations table, the deadline board, the incident's
//! header and actions, audit entries, a batch's sign-off.

use maud::{Markup, html};

use crate::audit::entry::StoredEntry;
use crate::desk::{Batch, DeadlineRow, status_text};
use crate::domain::{Incident, Permission};
use crate::rules::{Obligation, ObligationStatus};
use crate::web::page::{date, instant};
use crate::web::state::CurrentUser;

/// A status as a short badge class: overdue, due soon, done.
pub fn status_class(o: &Obligation) -> &'static str {
    match &o.status {
        ObligationStatus::Late { sent: false, .. } => "bad",
        ObligationStatus::Pending if o.days_remaining.is_some_and(|d| d <= 7) => "warn",
        ObligationStatus::Met { .. } => "ok",
        ObligationStatus::NotRequired { .. } => "muted",
        _ => "",
    }
}

fn days_left(o: &Obligation) -> String {
    o.days_remaining
        .map(|d| d.to_string())
        .unwrap_or_else(|| "—".into())
}

/// An incident's obligations: kind, where, due, days left, status, basis.
pub fn obligations(list: &[Obligation]) -> Markup {
    html! {
        @if list.is_empty() {
            p { "No obligation applies yet." }
        } @else {
            table {
                thead { tr { th { "Obligation" } th { "Where" } th { "Due" } th { "Days left" } th { "Status" } th { "Basis" } } }
                tbody {
                    @for o in list {
                        tr class=(status_class(o)) {
                            td { (o.kind.key()) }
                            td { (o.jurisdiction.clone().unwrap_or_default()) }
                            td { (date(o.due)) @if let Some(orig) = o.original_due { br; span.small { "(was " (orig.format("%Y-%m-%d")) ")" } } }
                            td.num { (days_left(o)) }
                            td { (status_text(&o.status)) }
                            td.small { (o.cite) @if let Some(p) = &o.policy { "; " (p) } @if !o.note.is_empty() { br; (o.note) } }
                        }
                    }
                }
            }
        }
    }
}

/// The deadline board: overdue first (they sort first by date), days left, the incident.
pub fn board(rows: &[DeadlineRow]) -> Markup {
    html! {
        @if rows.is_empty() {
            p { "Nothing is due: every incident's notices are met or not required, and no window is running." }
        } @else {
            table.board {
                thead { tr { th { "Due" } th { "Days left" } th { "Incident" } th { "Obligation" } th { "Where" } th { "Status" } } }
                tbody {
                    @for r in rows {
                        tr class=(status_class(&r.obligation)) {
                            td { (date(r.obligation.due)) }
                            td.num { (days_left(&r.obligation)) }
                            td {
                                a href={"/incidents/" (r.incident)} { (r.incident) } " " span.small { (r.title) }
                                @if !r.status.is_open() { " " span.small { "(closed)" } }
                            }
                            td { (r.obligation.kind.key()) }
                            td { (r.obligation.jurisdiction.clone().unwrap_or_default()) }
                            td {
                                (status_text(&r.obligation.status))
                                @if let Some(k) = &r.keep_until { "; " (k.text()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The incident's title line and the actions the person may take.
pub fn incident_header(inc: &Incident, user: &CurrentUser) -> Markup {
    let id = inc.id.as_str();
    let actions: &[(&str, &str, Permission)] = &[
        ("", "Overview", Permission::ReadRegister),
        ("/edit", "Edit facts", Permission::EditIncident),
        ("/assess", "Assess", Permission::Assess),
        ("/roster", "Roster", Permission::ImportRoster),
        ("/letters", "Letters", Permission::RenderLetters),
        ("/notices/new", "Record notice", Permission::RecordNotice),
        ("/dossier", "Dossier", Permission::Audit),
    ];
    html! {
        @if inc.exercise {
            p.watermark { "EXERCISE RECORD — not a real incident" }
        }
        h1 { (id) " — " (inc.facts.title) }
        p.sub {
            "Status: " strong { (inc.status.key()) }
            @if let Some(d) = inc.disposition { " (" (d.key()) ")" }
            " · logged " (instant(inc.created)) " · updated " (instant(inc.updated))
        }
        nav.actions aria-label="Incident" {
            ul {
                @for (suffix, label, perm) in actions {
                    @if user.role.may(*perm) {
                        li { a href={"/incidents/" (id) (suffix)} { (label) } }
                    }
                }
            }
        }
    }
}

/// Audit entries: sequence, time, actor, action, subject, detail.
pub fn audit_entries(entries: &[StoredEntry]) -> Markup {
    html! {
        table.audit {
            thead { tr { th { "#" } th { "When" } th { "Who" } th { "Action" } th { "Subject" } th { "Detail" } } }
            tbody {
                @for e in entries {
                    tr {
                        td.num { (e.entry.seq) }
                        td { (instant(e.entry.at)) }
                        td { (e.entry.recorded.describe()) }
                        td { (e.entry.action) }
                        td { (e.entry.subject) }
                        td.mono { (e.entry.detail) }
                    }
                }
            }
        }
    }
}

/// A batch's sign-off, in words.
pub fn signoff(b: &Batch) -> Markup {
    html! {
        @match &b.approval {
            Some(a) => span.ok { "approved by " (a.by) ", " (instant(a.at)) },
            None => span.warn { "draft — awaiting counsel's sign-off" },
        }
    }
}
