//! The office's dashboard: the deadline board (what `deadlines` lists: every unmet
//! obligation of every incident, closed ones too, and running windows), incidents by status,
//! batches of open incidents awaiting counsel's sign-off. A server shows it on every
//! start page, over registers of tens of thousands of incidents, while people write; so the
//! caller (the server) keeps a [`BoardCache`] for the life of its office, per incident, and brings it up to date from the audit trail: every
//! change appends an entry naming its subject, so only the incidents named since the last
//! look are evaluated again (all of them when the date or the organization changes). The
//! evaluation is the one evaluate step, as `deadlines` runs it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;

use super::assess::{DeadlineBoard, DeadlineQuery, DeadlineRow, board_rows, overdue, sort_board};
use super::evaluate::evaluate;
use super::office::{Desk, counts_or_estimate};
use super::records::{Batch, Derived, batch};
use crate::domain::{IncidentId, IncidentStatus, LePolicy};
use crate::error::{Error, Result};
use crate::store::Reader;

/// What the start page shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The audit head it reflects.
    pub head: u64,
    /// The deadline board, as `deadlines` computes it.
    pub board: DeadlineBoard,
    pub by_status: Vec<(IncidentStatus, usize)>,
    /// Draft batches of open incidents.
    pub awaiting: Vec<(IncidentId, String, Batch)>,
}

/// One incident as the dashboard needs it.
#[derive(Debug, Clone)]
struct Row {
    title: String,
    status: IncidentStatus,
    board: Vec<DeadlineRow>,
    drafts: Vec<Batch>,
}

/// The dashboard kept between calls: one per open office (a server holds it beside its
/// office and passes it to [`Desk::dashboard`]).
#[derive(Debug, Default)]
pub struct BoardCache(std::sync::Mutex<BoardState>);

/// The copy, per incident, as of audit entry `upto` and `today`.
#[derive(Debug, Default)]
struct BoardState {
    today: Option<NaiveDate>,
    upto: u64,
    rows: BTreeMap<IncidentId, Row>,
    built: Option<Arc<Dashboard>>,
}

impl Desk<'_> {
    fn board_row(&self, r: &Reader, id: &IncidentId, today: NaiveDate) -> Result<Option<Row>> {
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
        Ok(Some(Row {
            board: board_rows(
                &inc,
                super::incidents::label(&inc, codec.is_locked()),
                ev.obligations,
                today,
                &DeadlineQuery::default(),
            ),
            title: super::incidents::label(&inc, codec.is_locked()),
            status: inc.status,
            drafts,
        }))
    }

    /// The dashboard as of now: recomputed only for the incidents changed since `cache` was
    /// last brought up to date (a cache belongs to one database).
    pub fn dashboard(&self, cache: &BoardCache) -> Result<Arc<Dashboard>> {
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
        let mut full = cache.today != Some(today) || head < cache.upto || cache.upto == 0;
        let mut changed: BTreeSet<IncidentId> = BTreeSet::new();
        if !full {
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
                    // The organization (role, policy, time zone) moves every date.
                    None if e.entry.subject == "org" => full = true,
                    _ => {}
                }
                Ok(())
            })?;
        }
        if full {
            cache.rows.clear();
            changed = r
                .incidents(self.quiet_codec()?)?
                .into_iter()
                .map(|i| i.id)
                .collect();
        }
        if !changed.is_empty() || cache.built.is_none() || full {
            for id in &changed {
                match self.board_row(&r, id, today)? {
                    Some(row) => {
                        cache.rows.insert(id.clone(), row);
                    }
                    None => {
                        cache.rows.remove(id);
                    }
                }
            }
            cache.today = Some(today);
            cache.upto = head;
            let mut rows = Vec::new();
            let mut by_status: Vec<(IncidentStatus, usize)> =
                IncidentStatus::ALL.iter().map(|s| (*s, 0)).collect();
            let mut awaiting = Vec::new();
            for (id, row) in &cache.rows {
                if let Some(slot) = by_status.iter_mut().find(|(s, _)| *s == row.status) {
                    slot.1 += 1;
                }
                rows.extend(row.board.iter().cloned());
                if row.status.is_open() {
                    for b in &row.drafts {
                        awaiting.push((id.clone(), row.title.clone(), b.clone()));
                    }
                }
            }
            sort_board(&mut rows);
            let overdue = overdue(&rows);
            cache.built = Some(Arc::new(Dashboard {
                head,
                board: DeadlineBoard {
                    today,
                    policy,
                    business_days,
                    rows,
                    overdue,
                },
                by_status,
                awaiting,
            }));
        } else {
            cache.upto = cache.upto.max(head);
        }
        cache
            .built
            .clone()
            .ok_or_else(|| Error::Storage("the dashboard was not built".into()))
    }
}
