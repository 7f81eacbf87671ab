//! The start page (open incidents by status, the deadline board with overdue first, batches
//! awaiting counsel's sign-off) and the full deadline board.

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::widgets::board;
use crate::desk::status_text;
use crate::domain::Permission;
use crate::web::auth::start_for;
use crate::web::page::{WebError, page};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Page {
    if let Some(r) = start_for(&user) {
        return Ok(r);
    }
    let s = state.clone();
    let d = state.desk(&user, move |d| d.dashboard(&s.board)).await?;
    let open: usize = d
        .by_status
        .iter()
        .filter(|(s, _)| s.is_open())
        .map(|(_, n)| n)
        .sum();
    let body = html! {
        h1 { "Dashboard" }
        p.sub { "Today is " (d.board.today.format("%Y-%m-%d")) " · " (open) " open incident(s) · " (d.board.overdue) " obligation(s) overdue" }
        section.cards {
            @for (s, n) in &d.by_status {
                a.card href={"/incidents?status=" (s.key())} {
                    span.n { (n) }
                    span.l { (s.key()) }
                }
            }
        }
        section {
            h2 { "Deadline board" }
            (board(&d.board.rows, 25))
        }
        section {
            h2 { "Letters awaiting counsel's sign-off" }
            @if d.awaiting.is_empty() {
                p { "None: every rendered batch of an open incident is approved." }
            } @else {
                table {
                    thead { tr { th { "Incident" } th { "Batch" } th { "Kind" } th.num { "Count" } th { "Rendered for" } } }
                    tbody {
                        @for (id, title, b) in &d.awaiting {
                            tr {
                                td { a href={"/incidents/" (id)} { (id) } " " span.small { (title) } }
                                td {
                                    @if user.role.may(Permission::RenderLetters) { a href={"/incidents/" (id) "/letters/" (b.number)} { "batch " (b.number) } }
                                    @else { "batch " (b.number) }
                                }
                                td { (b.manifest.kind) }
                                td.num { (b.manifest.count) }
                                td { (b.manifest.notice_date) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Dashboard", &user, body).into_response())
}

pub async fn deadlines(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Page {
    let s = state.clone();
    let d = state.desk(&user, move |d| d.dashboard(&s.board)).await?;
    let b = &d.board;
    let body = html! {
        h1 { "Deadline board" }
        p.sub {
            "As of " (b.today.format("%Y-%m-%d")) " · law-enforcement delay policy: " (b.policy.key())
            " · " (b.rows.len()) " row(s), " (b.overdue) " overdue"
        }
        (board(&b.rows, usize::MAX))
        p.small { "What `breachdesk deadlines` lists: every obligation still owed (" (status_text(&crate::rules::ObligationStatus::Pending)) " or OVERDUE) of every incident, a closed one's too (closing never hides a duty), and every web posting or toll-free line whose window is still running; soonest first. An incident's own page lists all of its obligations." }
    };
    Ok(page("Deadlines", &user, body).into_response())
}
