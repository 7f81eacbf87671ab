//! Reading a roster: the live rows (groups of committed batches, minus dead marks), the
//! open issues, and the roster's key. Streaming: memory does not grow with the roster.

use std::collections::{HashMap, VecDeque};

use redb::{ReadTransaction, ReadableTable};

use super::codec::{self, DeadReason, IssueKind, IssueRecord, RosterSeal};
use super::{Batch, BatchStatus, read_batches};
use crate::domain::{IncidentId, RosterRow};
use crate::error::{Error, Result};
use crate::store::Reader;
use crate::store::phi::PhiCodec;
use crate::store::tables::{
    ROSTER_BATCHES, ROSTER_DEAD, ROSTER_GROUPS, ROSTER_ISSUES, ROSTER_KEYS,
};

/// What a reader needs to know about a roster's batches (no key needed).
#[derive(Debug, Clone, Default)]
pub struct RosterView {
    pub batches: Vec<Batch>,
    /// Committed, not purged batches whose rows are groups, in order.
    pub visible: Vec<u32>,
    /// Committed batches (their dead marks count).
    pub committed: Vec<u32>,
    /// File SHA-256 per batch (groups are bound to it).
    pub shas: HashMap<u32, String>,
    /// Rows stored in visible batches (accepted, not replaced), for progress.
    pub rows_stored: u64,
    /// Committed batches still in release 0.1's row format.
    pub legacy: Vec<u32>,
}

impl RosterView {
    pub(crate) fn load(tx: &ReadTransaction, id: &IncidentId) -> Result<RosterView> {
        let t = match tx.open_table(ROSTER_BATCHES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(RosterView::default()),
            Err(e) => return Err(e.into()),
        };
        let batches = read_batches(&t, id.as_str())?;
        let mut v = RosterView::default();
        for b in &batches {
            v.shas.insert(b.seq, b.file_sha256.clone());
            if b.status != BatchStatus::Committed {
                continue;
            }
            v.committed.push(b.seq);
            if b.purged.is_some() {
                continue;
            }
            if b.format == 0 {
                v.legacy.push(b.seq);
            } else {
                v.visible.push(b.seq);
                v.rows_stored += b.accepted.saturating_sub(b.replaced);
            }
        }
        v.batches = batches;
        Ok(v)
    }

    /// The roster has rows in groups.
    pub fn has_rows(&self) -> bool {
        !self.visible.is_empty()
    }

    fn sha(&self, batch: u32) -> &str {
        self.shas.get(&batch).map(String::as_str).unwrap_or("")
    }
}

/// The roster's key: [`RosterSeal::Plain`] in an unencrypted database; `None` in an
/// encrypted one that holds no key for this roster yet (no import started).
pub(crate) fn roster_seal(
    tx: &ReadTransaction,
    id: &IncidentId,
    codec: &PhiCodec,
) -> Result<Option<RosterSeal>> {
    let Some(vault) = codec::vault(codec)? else {
        return Ok(Some(RosterSeal::Plain));
    };
    let t = match tx.open_table(ROSTER_KEYS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(v) = t.get(id.as_str())? else {
        return Ok(None);
    };
    Ok(Some(
        match super::rotate::keys(vault, id.as_str(), v.value())? {
            (current, None) => RosterSeal::Sealed(current),
            (current, Some(next)) => RosterSeal::Rotating { current, next },
        },
    ))
}

/// Dead marks of one target batch, merged from every committed batch that may have written
/// them, read in chunks.
struct DeadMarks {
    sources: Vec<DeadSource>,
}

struct DeadSource {
    from: String,
    end: String,
    buf: VecDeque<(u32, u8)>,
    done: bool,
}

const DEAD_CHUNK: usize = 4096;

impl DeadMarks {
    fn new(id: &str, target: u32, committed: &[u32]) -> DeadMarks {
        DeadMarks {
            sources: committed
                .iter()
                .filter(|b| **b >= target)
                .map(|b| DeadSource {
                    from: format!("{id}/{b:06}/{target:06}/"),
                    end: format!("{id}/{b:06}/{target:06}0"),
                    buf: VecDeque::new(),
                    done: false,
                })
                .collect(),
        }
    }

    /// Every mark with an ordinal below `limit` not taken yet, in any order.
    fn take_below<T>(&mut self, table: &T, limit: u64, out: &mut Vec<(u32, u8)>) -> Result<()>
    where
        T: ReadableTable<&'static str, &'static [u8]>,
    {
        for s in &mut self.sources {
            loop {
                if s.buf.is_empty() && !s.done {
                    let mut n = 0;
                    let mut last = None;
                    for row in table
                        .range(s.from.as_str()..s.end.as_str())?
                        .take(DEAD_CHUNK)
                    {
                        let (k, v) = row?;
                        n += 1;
                        if let Some((_, _, ordinal)) = codec::parse_dead_key(k.value()) {
                            s.buf
                                .push_back((ordinal, v.value().first().copied().unwrap_or(0)));
                        }
                        last = Some(k.value().to_string());
                    }
                    if let Some(l) = last {
                        s.from = format!("{l}\u{0}");
                    }
                    if n < DEAD_CHUNK {
                        s.done = true;
                    }
                }
                match s.buf.front() {
                    Some(&(o, r)) if u64::from(o) < limit => {
                        out.push((o, r));
                        s.buf.pop_front();
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }
}

/// One stored group with the ordinals of its rows that no longer count (duplicates and
/// replaced rows; each is one of the group's rows).
#[derive(Debug, Clone)]
pub struct GroupBlob {
    pub key: String,
    pub value: Vec<u8>,
    pub batch: u32,
    pub first: u32,
    pub dead: Vec<u32>,
}

/// A live row: the batch holding it, the batch it came from (the same, except for rows
/// converted from release 0.1), its ordinal and line, and the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRow {
    pub batch: u32,
    pub origin: u32,
    pub ordinal: u32,
    pub line: u64,
    pub row: RosterRow,
}

/// Calls `f` with every group of the roster's visible batches, in key order (batch, then
/// file order), with its dead ordinals, until `f` returns `false`.
pub fn for_each_group(
    r: &Reader,
    id: &IncidentId,
    view: &RosterView,
    f: &mut dyn FnMut(GroupBlob) -> Result<bool>,
) -> Result<()> {
    let tx = r.tx();
    let groups = tx.open_table(ROSTER_GROUPS)?;
    let dead_t = tx.open_table(ROSTER_DEAD)?;
    let sid = id.as_str();
    for &batch in &view.visible {
        let mut marks = DeadMarks::new(sid, batch, &view.committed);
        let (from, to) = super::batch_range(sid, batch);
        let mut held: Option<GroupBlob> = None;
        let mut dead = Vec::new();
        for row in groups.range(from.as_str()..to.as_str())? {
            let (k, v) = row?;
            let key = k.value();
            let (_, first) = codec::parse_group_key(key).ok_or_else(codec::damaged_group)?;
            if let Some(mut g) = held.take() {
                dead.clear();
                marks.take_below(&dead_t, u64::from(first), &mut dead)?;
                g.dead = stored_dead(&dead);
                if !f(g)? {
                    return Ok(());
                }
            }
            held = Some(GroupBlob {
                key: key.to_string(),
                value: v.value().to_vec(),
                batch,
                first,
                dead: Vec::new(),
            });
        }
        if let Some(mut g) = held.take() {
            dead.clear();
            marks.take_below(&dead_t, u64::MAX, &mut dead)?;
            g.dead = stored_dead(&dead);
            if !f(g)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The ordinals of stored rows among dead marks (a resolved mark is about a rejected row,
/// which no group holds).
fn stored_dead(marks: &[(u32, u8)]) -> Vec<u32> {
    marks
        .iter()
        .filter(|(_, r)| *r != DeadReason::Resolved as u8)
        .map(|(o, _)| *o)
        .collect()
}

/// Opens a group and returns its live rows. `payload` is a reusable buffer.
pub fn open_blob(
    seal: &RosterSeal,
    view: &RosterView,
    g: &GroupBlob,
    payload: &mut Vec<u8>,
) -> Result<Vec<LiveRow>> {
    let (origin, rows) = codec::open_group(seal, &g.key, view.sha(g.batch), &g.value, payload)?;
    let rows = codec::decode_payload(g.first, rows, payload)?;
    Ok(rows
        .into_iter()
        .filter(|r| !g.dead.contains(&r.ordinal))
        .map(|r| LiveRow {
            batch: g.batch,
            origin,
            ordinal: r.ordinal,
            line: r.line,
            row: r.row,
        })
        .collect())
}

/// Calls `f` with every live row of the roster, in key order, until it returns `false`.
pub fn for_each_live_row(
    r: &Reader,
    id: &IncidentId,
    view: &RosterView,
    seal: &RosterSeal,
    f: &mut dyn FnMut(LiveRow) -> Result<bool>,
) -> Result<()> {
    let mut payload = Vec::with_capacity(4096);
    let mut go = true;
    for_each_group(r, id, view, &mut |g| {
        for row in open_blob(seal, view, &g, &mut payload)? {
            if !f(row)? {
                go = false;
                return Ok(false);
            }
        }
        Ok(go)
    })
}

/// An open issue of the roster.
#[derive(Debug, Clone)]
pub struct IssueRow {
    pub batch: u32,
    pub ordinal: u32,
    pub record: IssueRecord,
}

/// Calls `f` with every open issue of the roster's visible batches, in batch then line
/// order: issues of rows that no longer count (replaced, duplicates) are left out (except
/// the duplicate notes themselves), and so are rejected rows a later import resolved.
pub fn for_each_issue(
    r: &Reader,
    id: &IncidentId,
    view: &RosterView,
    f: &mut dyn FnMut(IssueRow) -> Result<bool>,
) -> Result<()> {
    let tx = r.tx();
    let issues = match tx.open_table(ROSTER_ISSUES) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let dead_t = tx.open_table(ROSTER_DEAD)?;
    let sid = id.as_str();
    for &batch in &view.visible {
        let mut marks = DeadMarks::new(sid, batch, &view.committed);
        let mut dead: Vec<(u32, u8)> = Vec::new();
        let mut dead_upto = 0u64;
        let (from, to) = super::batch_range(sid, batch);
        for row in issues.range(from.as_str()..to.as_str())? {
            let (k, v) = row?;
            let Some((_, ordinal)) = codec::parse_issue_key(k.value()) else {
                continue;
            };
            let record: IssueRecord = serde_json::from_slice(v.value()).map_err(|_| {
                Error::Database(
                    "a roster issue record is unreadable; run `breachdesk audit verify`".into(),
                )
            })?;
            if u64::from(ordinal) >= dead_upto {
                dead.retain(|(o, _)| *o >= ordinal);
                dead_upto = u64::from(ordinal) + 1 + 65_536;
                marks.take_below(&dead_t, dead_upto, &mut dead)?;
            }
            let reason = dead
                .iter()
                .find(|(o, _)| *o == ordinal)
                .and_then(|(_, r)| DeadReason::from_byte(*r));
            let open = matches!(
                (record.kind, reason),
                (_, None) | (IssueKind::Duplicate, Some(DeadReason::Duplicate))
            );
            if open
                && !f(IssueRow {
                    batch,
                    ordinal,
                    record,
                })?
            {
                return Ok(());
            }
        }
    }
    Ok(())
}
