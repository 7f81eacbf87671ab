//! The start page (open incidents by status, the deadline board with overdue first, batches
//! awaiting counsel's sign-off) and the full deadline board.

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::widgets::board;
use crate::desk::{Window, status_text};
use crate::domain::Permission;
use crate::web::auth::start_for;
use crate::web::page::{WebError, page, see_other};
use crate::web::state::{AppState, CurrentUser};
use page as page_markup;

type Page = Result<Response, WebError>;

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Page {
    if let Some(r) = start_for(&user) {
        return Ok(r);
    }
    let s = state.clone();
    let d = state
        .desk(&user, move |d| {
            d.dashboard_window(
                &s.board,
                Window {
                    offset: 0,
                    limit: DASHBOARD_ROWS,
                },
            )
        })
        .await?;
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
            (board(&d.board.rows))
            @if d.total > d.board.rows.len() {
                p.small { (d.total - d.board.rows.len()) " more on " a href="/deadlines" { "the deadline board" } "." }
            }
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

/// Rows of the deadline board on the start page.
const DASHBOARD_ROWS: usize = 25;
/// Rows per page of the full deadline board.
pub const BOARD_PAGE: usize = 100;
/// A page number beyond any board (so the offset arithmetic cannot overflow).
const MAX_PAGE: usize = 1 << 32;

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    /// 1-based; absent or unreadable: the first page.
    page: Option<String>,
}

pub async fn deadlines(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<BoardQuery>,
) -> Page {
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .filter(|p| (1..=MAX_PAGE).contains(p))
        .unwrap_or(1);
    let s = state.clone();
    let d = state
        .desk(&user, move |d| {
            d.dashboard_window(
                &s.board,
                Window {
                    offset: (page - 1).saturating_mul(BOARD_PAGE),
                    limit: BOARD_PAGE,
                },
            )
        })
        .await?;
    let b = &d.board;
    let pages = d.total.div_ceil(BOARD_PAGE).max(1);
    if page > pages {
        // Past the end (a stale link after rows were met): the last page.
        return Ok(see_other(&format!("/deadlines?page={pages}")));
    }
    let first = d.offset.saturating_add(1).min(d.total);
    let last = d.offset.saturating_add(b.rows.len());
    let body = html! {
        h1 { "Deadline board" }
        p.sub {
            "As of " (b.today.format("%Y-%m-%d")) " · law-enforcement delay policy: " (b.policy.key())
            " · " (d.total) " row(s), " (b.overdue) " overdue"
        }
        @if pages > 1 {
            (pager(page, pages, first, last, d.total))
        }
        (board(&b.rows))
        @if pages > 1 {
            (pager(page, pages, first, last, d.total))
        }
        p.small { "What `breachdesk deadlines` lists: every obligation still owed (" (status_text(&crate::rules::ObligationStatus::Pending)) " or OVERDUE) of every incident, a closed one's too (closing never hides a duty), and every web posting or toll-free line whose window is still running; soonest first. An incident's own page lists all of its obligations." }
    };
    Ok(page_markup("Deadlines", &user, body).into_response())
}

/// "Rows 101–200 of 5,000 · page 2 of 50", with links to the pages around.
fn pager(page: usize, pages: usize, first: usize, last: usize, total: usize) -> Markup {
    html! {
        nav.pager aria-label="Deadline board pages" {
            "Rows " (first) "–" (last) " of " (total) " · page " (page) " of " (pages) " · "
            @if page > 1 {
                a href="/deadlines?page=1" { "first" } " · "
                a href={"/deadlines?page=" (page - 1)} rel="prev" { "previous" }
            } @else { "first · previous" }
            " · "
            @if page < pages {
                a href={"/deadlines?page=" (page + 1)} rel="next" { "next" } " · "
                a href={"/deadlines?page=" (pages)} { "last" }
            } @else { "next · last" }
        }
    }
}
