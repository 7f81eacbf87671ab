//! The office's dashboard: the deadline board (what `deadlines` lists: every unmet
//! obligation of every incident, closed ones too, and running windows), incidents by status,
//! batches of open incidents awaiting counsel's sign-off. A server shows it on every
//! start page, over registers of tens of thousands of incidents, while people write; so the
//! caller (the server) keeps a [`BoardCache`] for the life of its office, per incident, and brings it up to date from the audit trail: every
//! change appends an entry naming its subject, so only the incidents named since the last
//! look are evaluated again (all of them when the date or the organization changes). The
//! evaluation is the one evaluate step, as `deadlines` runs it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::assess::{DeadlineBoard, DeadlineQuery, DeadlineRow, board_rows, overdue, sort_board};
use super::evaluate::evaluate;
use super::office::{Desk, counts_or_estimate};
use super::records::{Batch, Derived, batch};
use crate::domain::{IncidentId, IncidentStatus, LePolicy, ObligationKind};
use crate::error::{Error, Result};
use crate::store::Reader;

/// What the start page shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The audit head it reflects.
    pub head: u64,
    /// The deadline board, as `deadlines` computes it, cut to the window asked for: `rows`
    /// holds at most `limit` rows from `offset`; `overdue` counts the whole board.
    pub board: DeadlineBoard,
    /// Rows on the whole board.
    pub total: usize,
    /// Where the window starts.
    pub offset: usize,
    pub by_status: Vec<(IncidentStatus, usize)>,
    /// Draft batches of open incidents.
    pub awaiting: Vec<(IncidentId, String, Batch)>,
}

/// Which rows of the board a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: usize,
    pub limit: usize,
}

impl Window {
    /// The whole board.
    pub const ALL: Window = Window {
        offset: 0,
        limit: usize::MAX,
    };
}

/// A row's place on the board: `sort_board`'s order (due date or end of a running window,
/// incident, kind), then the row's place among its incident's rows, which that stable sort
/// keeps.
type Key = (NaiveDate, IncidentId, ObligationKind, usize);

fn key(r: &DeadlineRow, i: usize) -> Key {
    (
        r.keep_until
            .map(|k| k.until)
            .or(r.obligation.due)
            .unwrap_or(NaiveDate::MAX),
        r.incident.clone(),
        r.obligation.kind,
        i,
    )
}

/// One incident as the dashboard needs it.
#[derive(Debug, Clone)]
struct Row {
    title: String,
    status: IncidentStatus,
    /// Its rows' keys in [`BoardState::sorted`].
    keys: Vec<Key>,
    overdue: usize,
    drafts: Vec<Batch>,
}

/// The dashboard kept between calls: one per open office (a server holds it beside its
/// office and passes it to [`Desk::dashboard`]).
#[derive(Debug, Default)]
pub struct BoardCache(std::sync::Mutex<BoardState>);

impl BoardCache {
    /// How many incidents have been evaluated for the board so far (a change evaluates only
    /// the incidents it names).
    pub fn evaluations(&self) -> u64 {
        self.0.lock().map(|s| s.evaluations).unwrap_or(0)
    }
}

/// The board, per incident and as one sorted index, as of audit entry `upto` and `today`.
/// A change replaces only its incidents' rows in the index: nothing is re-sorted or copied
/// whole, so a page costs the rows it shows, whatever the size of the register.
#[derive(Debug, Default)]
struct BoardState {
    today: Option<NaiveDate>,
    upto: u64,
    built: bool,
    rows: BTreeMap<IncidentId, Row>,
    sorted: BTreeMap<Key, DeadlineRow>,
    overdue: usize,
    evaluations: u64,
}

impl BoardState {
    fn remove(&mut self, id: &IncidentId) {
        if let Some(old) = self.rows.remove(id) {
            for k in &old.keys {
                self.sorted.remove(k);
            }
            self.overdue -= old.overdue;
        }
    }

    fn insert(&mut self, id: IncidentId, board: Vec<DeadlineRow>, mut row: Row) {
        row.overdue = overdue(&board);
        self.overdue += row.overdue;
        for (i, r) in board.into_iter().enumerate() {
            let k = key(&r, i);
            row.keys.push(k.clone());
            self.sorted.insert(k, r);
        }
        self.rows.insert(id, row);
    }
}

impl Desk<'_> {
    fn board_row(
        &self,
        r: &Reader,
        id: &IncidentId,
        today: NaiveDate,
    ) -> Result<Option<(Vec<DeadlineRow>, Row)>> {
        if !r.incident_exists(id)? {
            return Ok(None);
        }
        let codec = self.quiet_codec()?;
        let inc = r.incident(id, codec)?;
        let d = Derived::from(r.derived(id, codec)?);
        let counts = counts_or_estimate(r.roster_counts(id)?, &inc);
        let ev = evaluate(
            self.org()?,
            self.laws()?,
            &inc,
            &d,
            &counts,
            Default::default(),
            today,
        );
        let drafts = r
            .batches(id)?
            .into_iter()
            .map(|(n, m)| batch(n, m))
            .filter(|b| !b.is_approved())
            .collect();
        let title = super::incidents::label(&inc, codec.is_locked());
        let mut board = board_rows(
            &inc,
            title.clone(),
            ev.obligations,
            today,
            &DeadlineQuery::default(),
        );
        sort_board(&mut board);
        Ok(Some((
            board,
            Row {
                title,
                status: inc.status,
                keys: Vec::new(),
                overdue: 0,
                drafts,
            },
        )))
    }

    /// The whole dashboard as of now (see [`Desk::dashboard_window`]).
    pub fn dashboard(&self, cache: &BoardCache) -> Result<Dashboard> {
        self.dashboard_window(cache, Window::ALL)
    }

    /// The dashboard as of now, with the board's rows in `window`: brought up to date for
    /// the incidents changed since `cache` was last brought up to date (a cache belongs to
    /// one database), all of them when the date or the organization changed.
    pub fn dashboard_window(&self, cache: &BoardCache, window: Window) -> Result<Dashboard> {
        let today = self.today()?;
        let org = self.org()?;
        let policies = super::evaluate::Policies::default();
        let policy: LePolicy = policies.le_for(org);
        let business_days = policies.business_days_for(org);
        let mut cache = cache
            .0
            .lock()
            .map_err(|_| Error::Storage("the dashboard cache is poisoned".into()))?;
        let r = self.reader()?;
        let head = r.audit_head()?.map(|(s, _)| s).unwrap_or(0);
        let mut full = cache.today != Some(today) || head < cache.upto || !cache.built;
        let mut changed: BTreeSet<IncidentId> = BTreeSet::new();
        if !full && head > cache.upto {
            r.for_each_audit_entry_from(cache.upto + 1, |_, e| {
                let Some(e) = e else {
                    full = true;
                    return Ok(());
                };
                match e.entry.subject.split_once('/') {
                    Some(("incident" | "roster", id)) => {
                        if let Some(id) = IncidentId::parse(id) {
                            changed.insert(id);
                        }
                    }
                    // The organization (role, policy, time zone) and counsel's State laws
                    // move every date.
                    None if e.entry.subject == "org" || e.entry.subject == "laws" => full = true,
                    _ => {}
                }
                Ok(())
            })?;
        }
        if full {
            cache.rows.clear();
            cache.sorted.clear();
            cache.overdue = 0;
            changed = r
                .incidents(self.quiet_codec()?)?
                .into_iter()
                .map(|i| i.id)
                .collect();
        }
        for id in &changed {
            cache.remove(id);
            cache.evaluations += 1;
            if let Some((board, row)) = self.board_row(&r, id, today)? {
                cache.insert(id.clone(), board, row);
            }
        }
        cache.today = Some(today);
        // A full rebuild reflects the trail as it is now (a replaced file may be shorter).
        cache.upto = if full { head } else { cache.upto.max(head) };
        cache.built = true;

        let mut by_status: Vec<(IncidentStatus, usize)> =
            IncidentStatus::ALL.iter().map(|s| (*s, 0)).collect();
        let mut awaiting = Vec::new();
        for (id, row) in &cache.rows {
            if let Some(slot) = by_status.iter_mut().find(|(s, _)| *s == row.status) {
                slot.1 += 1;
            }
            if row.status.is_open() {
                for b in &row.drafts {
                    awaiting.push((id.clone(), row.title.clone(), b.clone()));
                }
            }
        }
        let rows = cache
            .sorted
            .values()
            .skip(window.offset)
            .take(window.limit)
            .cloned()
            .collect();
        Ok(Dashboard {
            head,
            board: DeadlineBoard {
                today,
                policy,
                business_days,
                rows,
                overdue: cache.overdue,
            },
            total: cache.sorted.len(),
            offset: window.offset,
            by_status,
            awaiting,
        })
    }
}
