//! `roster import`, in phases, every one of them bounded in memory:
//!
//! 1. **Read** (two threads): one parses and validates rows (the [`RowSource`]), encodes
//!    each row and normalises its key material; the other computes the keyed hashes, cuts
//!    the rows into groups in file order, seals them under the roster key and stages them
//!    (with the rows' issues) in chunk transactions, and feeds the keyed hashes to two
//!    external sorts: the identifier's (to find duplicates) and the name-with-date-of-birth
//!    and name-with-address keys (possible duplicates across identifiers).
//! 2. **Rescan** (only when the roster already has rows): the rows of earlier imports are
//!    opened and their hashes added to the same sorts.
//! 3. **Merge**: equal identifiers meet in the sorted stream. The first row of an identifier
//!    is accepted and counted; later ones are duplicates (a dead mark and an issue); a new
//!    row whose earlier twin needed fixing replaces it; a rejected row of an earlier import
//!    whose identifier now arrives is resolved. Then equal name keys meet: rows of different
//!    identifiers become possible duplicates, for review.
//! 4. **Commit** (the caller decides, after seeing the counts): one audited transaction.
//!
//! A dry run does phases 1–3 without writing anything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};

use super::codec::{
    self, GROUP_PAYLOAD_LIMIT, IssueKind, IssueRecord, Keyer, RosterSeal, RowRef, SLOT_DUPLICATE,
    SLOT_NEEDS_FIXING, SLOT_POSSIBLE, SLOT_REJECTED, SLOT_WARNING,
};
use super::read::{RosterView, for_each_issue, for_each_live_row};
use super::sort::{RunKey, Sorter, TmpDir, tmp_dir};
use super::{
    Batch, BatchStatus, CHUNK_BYTES, Plan, Progress, RosterTotals, RowClass, batch_key,
    batch_range, json, read_totals,
};
use chrono::Datelike;

use crate::domain::roster::{FixReason, address_key_into, match_name_into};
use crate::domain::{IncidentId, RosterRow};
use crate::error::{Error, Result};
use crate::store::phi::PhiCodec;
use crate::store::tables::{
    ROSTER_BATCHES, ROSTER_COUNTS, ROSTER_DEAD, ROSTER_GROUPS, ROSTER_ISSUES, ROSTER_KEYS,
};
use crate::store::{Action, Actor, Change, Store, Subject};

/// A problem with one row, as the source reports it (no value: a field key, the column's
/// header, what is wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueNote {
    pub field: Option<String>,
    pub column: Option<String>,
    pub reason: String,
}

/// One data row of the file.
#[derive(Debug, Clone)]
pub enum SourceItem {
    /// Validated (the row is in the buffer given to [`RowSource::next_row`]); `warnings`
    /// name doubtful or unusable values the row is imported with.
    Row { warnings: Vec<IssueNote> },
    /// Rejected; `id` is the row's identifier when it could be read (hashed at once, so a
    /// later import of the fixed row can resolve the issue).
    Rejected { id: Option<String>, note: IssueNote },
}

/// A data row with its line (1-based, the header being line 1).
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub line: u64,
    pub item: SourceItem,
}

/// Where an import's rows come from: validated rows or the issue that rejected one.
pub trait RowSource: Send {
    /// The next data row, validated into `row` (whose buffers are reused from row to row);
    /// `None` at the end. An error ends the import (the file is unusable past this point).
    fn next_row(&mut self, row: &mut RosterRow) -> Result<Option<SourceRow>>;
    /// Bytes of the file read so far, for progress.
    fn bytes_read(&self) -> u64;
}

/// What the import reports, row by row (never a value).
#[derive(Debug, Clone)]
pub enum Event {
    Rejected {
        line: u64,
        note: IssueNote,
    },
    Warning {
        line: u64,
        note: IssueNote,
    },
    NeedsFixing {
        line: u64,
        reason: FixReason,
    },
    /// Same identifier as an earlier row (`first.batch` = this batch: earlier in this file).
    Duplicate {
        line: u64,
        first: RowRef,
    },
    /// This row replaces an earlier import's row of the same identifier that needed fixing.
    Replaced {
        line: u64,
        old: RowRef,
    },
    /// Another identifier with the same name and date of birth (`basis` 1) or the same name
    /// and address (`basis` 2).
    PossibleDuplicate {
        line: u64,
        other: RowRef,
        basis: u8,
    },
}

/// Bytes of an identifier record of the sort: the first 12 bytes of the person key (96
/// bits: two different identifiers among 200 million share them with odds of about 1 in
/// 4 × 10^12), source, batch, ordinal, line (40 bits), origin, class.
pub(crate) const ID_REC: usize = 38;
/// Bytes of the person key an identifier record keeps.
const ID_HASH: usize = 12;
/// Bytes of a name record: key, source, origin batch, ordinal, line (40 bits), person (8
/// bytes of the person key), basis.
pub(crate) const NAME_REC: usize = 31;
/// The largest line number a sort record holds (40 bits).
const MAX_LINE: u64 = (1 << 40) - 1;
const SRC_GHOST: u8 = 0;
const SRC_EXISTING: u8 = 1;
const SRC_NEW: u8 = 2;

/// The most covered entities one roster can name.
const MAX_ENTITIES: usize = 10_000;

fn put_line(r: &mut [u8], line: u64) {
    r.copy_from_slice(&line.min(MAX_LINE).to_be_bytes()[3..]);
}

fn get_line(r: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[3..].copy_from_slice(r);
    u64::from_be_bytes(b)
}

/// Refuses a line number a sort record cannot hold (a file of more than 10^12 lines).
fn check_line(line: u64) -> Result<()> {
    if line > MAX_LINE {
        return Err(Error::invalid(
            "the file has more than 1,099,511,627,775 lines; split it into several imports",
        ));
    }
    Ok(())
}

struct IdRec {
    /// The person key; only its first [`ID_HASH`] bytes are sorted and compared.
    hash: [u8; 16],
    src: u8,
    batch: u32,
    ordinal: u32,
    line: u64,
    origin: u32,
    class: RowClass,
}

impl IdRec {
    fn encode(&self) -> [u8; ID_REC] {
        let mut r = [0u8; ID_REC];
        r[..12].copy_from_slice(&self.hash[..ID_HASH]);
        r[12] = self.src;
        r[13..17].copy_from_slice(&self.batch.to_be_bytes());
        r[17..21].copy_from_slice(&self.ordinal.to_be_bytes());
        put_line(&mut r[21..26], self.line);
        r[26..30].copy_from_slice(&self.origin.to_be_bytes());
        r[30..38].copy_from_slice(&self.class.to_bytes());
        r
    }

    fn decode(r: &[u8; ID_REC]) -> IdRec {
        let u32_at = |i: usize| u32::from_be_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]);
        let mut hash = [0u8; 16];
        hash[..ID_HASH].copy_from_slice(&r[..ID_HASH]);
        let mut class = [0u8; 8];
        class.copy_from_slice(&r[30..38]);
        IdRec {
            hash,
            src: r[12],
            batch: u32_at(13),
            ordinal: u32_at(17),
            line: get_line(&r[21..26]),
            origin: u32_at(26),
            class: RowClass::from_bytes(class),
        }
    }
}

/// A name record sorts by key, source, origin batch and ordinal: equal keys meet, earlier
/// imports' rows first.
struct NameRec {
    key: [u8; 8],
    src: u8,
    origin: u32,
    ordinal: u32,
    line: u64,
    person: [u8; 8],
    basis: u8,
}

impl NameRec {
    fn encode(&self) -> [u8; NAME_REC] {
        let mut r = [0u8; NAME_REC];
        r[..8].copy_from_slice(&self.key);
        r[8] = self.src;
        r[9..13].copy_from_slice(&self.origin.to_be_bytes());
        r[13..17].copy_from_slice(&self.ordinal.to_be_bytes());
        put_line(&mut r[17..22], self.line);
        r[22..30].copy_from_slice(&self.person);
        r[30] = self.basis;
        r
    }

    fn decode(r: &[u8; NAME_REC]) -> NameRec {
        let u32_at = |i: usize| u32::from_be_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]);
        let mut key = [0u8; 8];
        key.copy_from_slice(&r[..8]);
        let mut person = [0u8; 8];
        person.copy_from_slice(&r[22..30]);
        NameRec {
            key,
            src: r[8],
            origin: u32_at(9),
            ordinal: u32_at(13),
            line: get_line(&r[17..22]),
            person,
            basis: r[30],
        }
    }
}

/// What a row's keyed hashes are computed from, as ranges of a byte buffer: the identifier,
/// and when the row has a usable name, the normalised name, the date of birth and the
/// normalised address. The reading thread fills it; the staging thread hashes it
/// ([`hash_material`]), so the two threads share the work.
#[derive(Debug, Clone, Default)]
struct KeySpans {
    id: std::ops::Range<usize>,
    name: Option<std::ops::Range<usize>>,
    dob: Option<i32>,
    addr: Option<std::ops::Range<usize>>,
}

fn key_material(row: &RosterRow, buf: &mut Vec<u8>) -> KeySpans {
    let start = buf.len();
    buf.extend_from_slice(row.id.as_bytes());
    let mut k = KeySpans {
        id: start..buf.len(),
        ..KeySpans::default()
    };
    if row.has_usable_name() {
        let start = buf.len();
        match_name_into(&row.first_name, &row.last_name, &mut |b| {
            buf.extend_from_slice(b)
        });
        k.name = Some(start..buf.len());
        k.dob = row.date_of_birth.map(|d| d.num_days_from_ce());
        let start = buf.len();
        if address_key_into(row, &mut |b| buf.extend_from_slice(b)) {
            k.addr = Some(start..buf.len());
        }
    }
    k
}

/// The keyed hashes of a row: its identifier's, and its name keys (the name with the date
/// of birth, with the address) when it has a usable name.
fn hash_material(keyer: &Keyer, buf: &[u8], k: &KeySpans) -> ([u8; 16], [Option<[u8; 8]>; 2]) {
    use sha2::Digest;
    let person = keyer.person_bytes(&buf[k.id.clone()]);
    let mut m = [None, None];
    if let Some(name) = &k.name {
        let name = &buf[name.clone()];
        if let Some(d) = k.dob {
            let mut h = keyer.match_hasher(1);
            h.update(name);
            h.update(b"|");
            h.update(d.to_be_bytes());
            m[0] = Some(codec::finish8(h));
        }
        if let Some(a) = &k.addr {
            let mut h = keyer.match_hasher(2);
            h.update(name);
            h.update(b"|");
            h.update(&buf[a.clone()]);
            m[1] = Some(codec::finish8(h));
        }
    }
    (person, m)
}

/// [`key_material`] and [`hash_material`] at once (`buf` is scratch space).
fn hashes(keyer: &Keyer, row: &RosterRow, buf: &mut Vec<u8>) -> ([u8; 16], [Option<[u8; 8]>; 2]) {
    buf.clear();
    let k = key_material(row, buf);
    hash_material(keyer, buf, &k)
}

/// A row of this file with the same name key as a row of another identifier.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Possible {
    ordinal: u32,
    line: u64,
    basis: u8,
    other: RowRef,
}

/// Bytes of a [`Possible`] as a sort record: ordinal (u32 BE), basis, line (40 bits), the
/// other row's batch (u32 BE) and line (40 bits). Sorted, they come back in the order of
/// their issue keys (ordinal, then slot), so the issues are written in key order.
const POSSIBLE_REC: usize = 19;

impl Possible {
    fn encode(&self) -> [u8; POSSIBLE_REC] {
        let mut r = [0u8; POSSIBLE_REC];
        r[..4].copy_from_slice(&self.ordinal.to_be_bytes());
        r[4] = self.basis;
        put_line(&mut r[5..10], self.line);
        r[10..14].copy_from_slice(&self.other.batch.to_be_bytes());
        put_line(&mut r[14..19], self.other.line);
        r
    }

    fn decode(r: &[u8; POSSIBLE_REC]) -> Possible {
        Possible {
            ordinal: u32::from_be_bytes([r[0], r[1], r[2], r[3]]),
            basis: r[4],
            line: get_line(&r[5..10]),
            other: RowRef {
                batch: u32::from_be_bytes([r[10], r[11], r[12], r[13]]),
                line: get_line(&r[14..19]),
            },
        }
    }
}

/// Phase 3b's search, on its own thread while phase 3a runs: equal name keys meet in the
/// sorted stream; a row of this file whose key another identifier's row has already shown
/// is a possible duplicate of that row. Sent in batches, in hash order; stops when the
/// receiver is gone or `stop` is raised (the other merge failed).
fn find_possible_duplicates(
    names: Sorter<NAME_REC>,
    send: &std::sync::mpsc::SyncSender<Result<Vec<Possible>>>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut m = names.finish()?;
    let mut group: Vec<NameRec> = Vec::new();
    let mut out: Vec<Possible> = Vec::new();
    let mut tick = 0u32;
    loop {
        tick = tick.wrapping_add(1);
        if tick.is_multiple_of(STOP_CHECK) && stop.load(AtomicOrdering::Relaxed) {
            return Ok(());
        }
        let next = m.next_rec()?;
        let boundary = match (&next, group.first()) {
            (Some(r), Some(g)) => r[..8] != g.key,
            (None, Some(_)) => true,
            _ => false,
        };
        if boundary {
            if group.len() > 1 {
                let reference = &group[0];
                let mut seen: Vec<[u8; 8]> = vec![reference.person];
                for r in &group[1..] {
                    if seen.contains(&r.person) {
                        continue;
                    }
                    seen.push(r.person);
                    if r.src != SRC_NEW {
                        continue;
                    }
                    out.push(Possible {
                        ordinal: r.ordinal,
                        line: r.line,
                        basis: r.basis,
                        other: RowRef {
                            batch: reference.origin,
                            line: reference.line,
                        },
                    });
                }
                if out.len() >= 4096 && send.send(Ok(std::mem::take(&mut out))).is_err() {
                    return Ok(());
                }
            }
            group.clear();
        }
        match next {
            Some(r) => {
                let n = NameRec::decode(&r);
                if group.len() < 10_000 {
                    group.push(n);
                }
            }
            None => break,
        }
    }
    if !out.is_empty() {
        let _ = send.send(Ok(out));
    }
    Ok(())
}

fn short(h: &[u8; 16]) -> [u8; 8] {
    let mut s = [0u8; 8];
    s.copy_from_slice(&h[..8]);
    s
}

/// An accepted row as the reading thread hands it over.
struct Parsed {
    ordinal: u32,
    line: u64,
    body: std::ops::Range<usize>,
    keys: KeySpans,
    class: RowClass,
    entity: Option<String>,
    fix: Option<FixReason>,
    warnings: Vec<IssueNote>,
}

enum Item {
    Row(Parsed),
    Rejected {
        ordinal: u32,
        line: u64,
        person: Option<[u8; 16]>,
        note: IssueNote,
    },
}

struct Chunk {
    items: Vec<Item>,
    bodies: Vec<u8>,
    /// Key material of the rows ([`KeySpans`]).
    keys: Vec<u8>,
    bytes_read: u64,
    ended: bool,
}

/// Writes staged records in chunk transactions.
struct Pending {
    groups: Vec<(String, Vec<u8>)>,
    issues: Vec<(String, Vec<u8>)>,
    dead: Vec<(String, u8)>,
    bytes: usize,
}

impl Pending {
    fn new() -> Pending {
        Pending {
            groups: Vec::new(),
            issues: Vec::new(),
            dead: Vec::new(),
            bytes: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.issues.is_empty() && self.dead.is_empty()
    }
}

/// The group being filled.
struct GroupBuf {
    first: u32,
    prev_ordinal: u32,
    prev_line: u64,
    rows: u16,
    payload: Vec<u8>,
}

fn staged_damaged(id: &IncidentId, seq: u32) -> Error {
    Error::Key(format!(
        "the interrupted import of this file (batch {seq} of {id}) holds staged data that does not match the file or fails authentication: it was planted or altered, and nothing was imported. \
         Run `breachdesk audit verify`, then import again with --restart to discard the staged data and start over"
    ))
}

/// A staging import: writes chunks, then commits with the audit entry.
pub struct Stager<'a> {
    store: &'a Store,
    incident: IncidentId,
    seal: RosterSeal,
    keyer: Keyer,
    pub batch: Batch,
    pub added: RosterTotals,
    pub removed: RosterTotals,
    pub resumed: bool,
    /// Bytes of records (keys and values) this run staged.
    pub staged_bytes: u64,
    dry: bool,
    /// The roster's covered entities: those already counted, then new ones in order.
    entities: Vec<String>,
    entity_index: HashMap<String, u16>,
    /// Ordinals already staged by the interrupted run (resume only).
    staged_groups: u64,
    view: RosterView,
    last_durable: std::time::Instant,
}

/// Chunks of 2,048 parsed rows the reading thread may have ready ahead of the staging
/// thread (about 0.6 MB each): enough to keep reading while a chunk transaction commits.
const CHUNK_QUEUE: usize = 12;
/// Records merged between two looks at the other merge's stop flag.
const STOP_CHECK: u32 = 1 << 16;

/// How often a staging chunk is committed durably (the others are committed without
/// waiting for the disk).
const DURABLE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl<'a> Stager<'a> {
    /// Starts (writing the staging batch record, and the roster's key on a first import) or
    /// resumes a batch; a dry run writes nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        store: &'a Store,
        incident: &IncidentId,
        codec: &PhiCodec,
        plan: Plan,
        file_sha256: &str,
        delimiter: Option<String>,
        now: DateTime<Utc>,
        dry: bool,
    ) -> Result<Stager<'a>> {
        let id = incident.as_str();
        let vault = codec::vault(codec)?;
        let (mut batch, resumed) = match plan {
            Plan::Resume(b) => (b, true),
            Plan::Fresh { seq } => (new_batch(seq, file_sha256, now), false),
            Plan::DiscardThenFresh { stale, seq } => {
                if !dry {
                    super::discard_staging(store, incident, stale.seq)?;
                }
                (new_batch(seq, file_sha256, now), false)
            }
            Plan::AlreadyImported(_) | Plan::Purged(_) => {
                return Err(Error::Storage(
                    "internal: a refused import plan reached the stager".into(),
                ));
            }
        };
        batch.delimiter = delimiter;
        let r = store.reader()?;
        let view = r.roster_view(incident)?;
        let existing = r.roster_seal(incident, codec)?;
        drop(r);
        let (seal, new_key) = match (existing, vault) {
            (Some(s), _) if s.rotating() => {
                return Err(Error::invalid(format!(
                    "the key of {incident}'s roster is being rotated; finish the rotation (`breachdesk rekey --rotate`) before importing"
                )));
            }
            (Some(s), _) => (s, None),
            (None, None) => (RosterSeal::Plain, None),
            (None, Some(v)) => {
                let k = crate::store::vault::DataKey::generate()
                    .map_err(|e| Error::Key(e.to_string()))?;
                let stored = codec::encode_roster_key(v, id, &k)?;
                (RosterSeal::Sealed(k), Some(stored))
            }
        };
        batch.key_fingerprint = seal.fingerprint();
        // Counters are rebuilt from the top of the file on resume.
        batch.rows_read = 0;
        batch.accepted = 0;
        batch.rejected = 0;
        batch.duplicates = 0;
        batch.ordinals = 0;
        batch.needs_fixing = 0;
        batch.warnings = 0;
        batch.possible_duplicates = 0;
        batch.replaced = 0;
        batch.resolved = 0;
        batch.format = 2;
        let staged_groups = if resumed { batch.groups } else { 0 };
        batch.groups = 0;
        let totals = {
            let tx = store.db.begin_read()?;
            let t = tx.open_table(ROSTER_COUNTS)?;
            read_totals(&t, id)?
        };
        let entities: Vec<String> = totals
            .map(|t| t.by_entity.keys().cloned().collect())
            .unwrap_or_default();
        let entity_index = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.to_lowercase(), i as u16))
            .collect();
        let s = Stager {
            store,
            incident: incident.clone(),
            keyer: Keyer::new(&seal),
            seal,
            batch,
            added: RosterTotals::roster(),
            removed: RosterTotals::roster(),
            resumed,
            staged_bytes: 0,
            dry,
            entities,
            entity_index,
            staged_groups,
            view,
            last_durable: std::time::Instant::now(),
        };
        if !dry {
            let tx = store.db()?.begin_write()?;
            super::super::extra_tables(&tx)?;
            if let Some(k) = new_key {
                tx.open_table(ROSTER_KEYS)?.insert(id, k.as_slice())?;
            }
            // Anything under this batch's key ranges that this run does not write again
            // (issues and dead marks of an interrupted run, or records planted for a batch
            // number not yet used) goes; groups are checked row by row instead on resume.
            let (from, to) = batch_range(id, s.batch.seq);
            tx.open_table(ROSTER_ISSUES)?
                .retain_in(from.as_str()..to.as_str(), |_, _| false)?;
            tx.open_table(ROSTER_DEAD)?
                .retain_in(from.as_str()..to.as_str(), |_, _| false)?;
            if !resumed {
                tx.open_table(ROSTER_GROUPS)?
                    .retain_in(from.as_str()..to.as_str(), |_, _| false)?;
            }
            s.put_batch(&tx)?;
            tx.commit()?;
        }
        Ok(s)
    }

    fn put_batch(&self, tx: &WriteTransaction) -> Result<()> {
        let mut t = tx.open_table(ROSTER_BATCHES)?;
        let v = json(&self.batch)?;
        t.insert(
            batch_key(self.incident.as_str(), self.batch.seq).as_str(),
            v.as_slice(),
        )?;
        Ok(())
    }

    /// The covered-entity names, in index order.
    fn entity_name(&self, i: u16) -> Option<&str> {
        self.entities.get(usize::from(i)).map(String::as_str)
    }

    /// The index of a covered entity, matched without regard to case or repeated spaces
    /// (the first spelling met names it).
    fn entity(&mut self, name: Option<String>) -> Result<Option<u16>> {
        let Some(n) = name else { return Ok(None) };
        let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
        let folded = n.to_lowercase();
        if let Some(i) = self.entity_index.get(&folded) {
            return Ok(Some(*i));
        }
        if self.entities.len() >= MAX_ENTITIES {
            return Err(Error::invalid(format!(
                "the covered-entity column names more than {MAX_ENTITIES} different covered entities; check that the right column is mapped to covered_entity"
            )));
        }
        let i = self.entities.len() as u16;
        self.entities.push(n);
        self.entity_index.insert(folded, i);
        Ok(Some(i))
    }

    fn flush(&mut self, p: &mut Pending) -> Result<()> {
        if self.dry || p.is_empty() {
            p.groups.clear();
            p.issues.clear();
            p.dead.clear();
            p.bytes = 0;
            return Ok(());
        }
        let id = self.incident.clone();
        // Marks and issues of the identifier merge arrive in hash order: insert in key order
        // (within the chunk).
        p.issues.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        p.dead.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut tx = self.store.db()?.begin_write()?;
        // Durable at most about once a second: an interrupted import resumes from the last
        // durable chunk (the final commit makes everything before it durable).
        if self.last_durable.elapsed() < DURABLE_EVERY {
            tx.set_durability(redb::Durability::None)
                .map_err(|e| Error::Storage(e.to_string()))?;
        } else {
            self.last_durable = std::time::Instant::now();
        }
        {
            let mut groups = tx.open_table(ROSTER_GROUPS)?;
            let mut buf = Vec::new();
            for (k, v) in p.groups.drain(..) {
                if self.resumed {
                    let existing = groups.get(k.as_str())?.map(|g| g.value().to_vec());
                    if let Some(old) = existing {
                        // The same rows sealed again differ only in the nonce: compare the
                        // opened payloads.
                        let (_, _) = codec::open_group(
                            &self.seal,
                            &k,
                            &self.batch.file_sha256,
                            &old,
                            &mut buf,
                        )
                        .map_err(|_| staged_damaged(&id, self.batch.seq))?;
                        let old_payload = std::mem::take(&mut buf);
                        codec::open_group(&self.seal, &k, &self.batch.file_sha256, &v, &mut buf)?;
                        if old_payload != buf
                            || codec::group_header(&old) != codec::group_header(&v)
                        {
                            return Err(staged_damaged(&id, self.batch.seq));
                        }
                        continue;
                    }
                }
                groups.insert(k.as_str(), v.as_slice())?;
            }
            let mut issues = tx.open_table(ROSTER_ISSUES)?;
            for (k, v) in p.issues.drain(..) {
                issues.insert(k.as_str(), v.as_slice())?;
            }
            let mut dead = tx.open_table(ROSTER_DEAD)?;
            for (k, v) in p.dead.drain(..) {
                dead.insert(k.as_str(), [v].as_slice())?;
            }
        }
        self.put_batch(&tx)?;
        tx.commit()?;
        self.staged_bytes += p.bytes as u64;
        p.bytes = 0;
        Ok(())
    }

    fn seal_group(&mut self, g: &mut GroupBuf, p: &mut Pending, value: &mut Vec<u8>) -> Result<()> {
        if g.rows == 0 {
            return Ok(());
        }
        let key = codec::group_key(self.incident.as_str(), self.batch.seq, g.first);
        if !self.dry {
            codec::seal_group(
                &self.seal,
                &key,
                self.batch.seq,
                g.rows,
                &self.batch.file_sha256,
                &g.payload,
                value,
            )?;
            p.bytes += value.len() + key.len();
            p.groups.push((key, std::mem::take(value)));
        }
        self.batch.groups += 1;
        g.rows = 0;
        g.payload.clear();
        Ok(())
    }

    fn issue(&mut self, p: &mut Pending, ordinal: u32, slot: u16, rec: &IssueRecord) -> Result<()> {
        if self.dry {
            return Ok(());
        }
        let k = codec::issue_key(self.incident.as_str(), self.batch.seq, ordinal, slot);
        let v = json(rec)?;
        p.bytes += k.len() + v.len();
        p.issues.push((k, v));
        Ok(())
    }

    /// Runs phases 1–3 (see the module documentation); the batch is then ready to commit.
    /// Rejected rows, warnings and possible duplicates are reported in line order, duplicates
    /// in hash order.
    pub fn import_rows<S: RowSource>(
        &mut self,
        source: &mut S,
        run_rows: usize,
        progress: &(dyn Fn(Progress) + Sync),
        on_event: &mut dyn FnMut(Event),
    ) -> Result<()> {
        let tmp = TmpDir::create(&tmp_dir(self.store.path()))?;
        let key = match self.seal {
            RosterSeal::Plain => RunKey::plain(),
            _ => RunKey::generate()?,
        };
        let run_rows = run_rows.max(1);
        let mut ids = Sorter::<ID_REC>::new(&key, tmp.path(), run_rows * ID_REC);
        let mut names = Sorter::<NAME_REC>::new(&key, tmp.path(), run_rows * NAME_REC);
        self.read_phase(source, run_rows, &mut ids, &mut names, progress, on_event)?;
        self.rescan(&mut ids, &mut names, progress)?;
        let total = ids.len;
        // Phases 3a and 3b at once: possible duplicates are found on a second thread. A
        // failure on either side stops the other within `STOP_CHECK` records.
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| -> Result<()> {
            let (send, found) = std::sync::mpsc::sync_channel(16);
            let stop = &stop;
            scope.spawn(move || {
                if let Err(e) = find_possible_duplicates(names, &send, stop) {
                    stop.store(true, AtomicOrdering::Relaxed);
                    let _ = send.send(Err(e));
                }
            });
            if let Err(e) = self.merge_ids(ids, total, stop, progress, on_event) {
                stop.store(true, AtomicOrdering::Relaxed);
                return Err(e);
            }
            // When the search failed, its error is waiting in the channel.
            self.merge_names(found, &key, tmp.path(), run_rows, on_event)?;
            Ok(())
        })
    }

    fn read_phase<S: RowSource>(
        &mut self,
        source: &mut S,
        run_rows: usize,
        ids: &mut Sorter<ID_REC>,
        names: &mut Sorter<NAME_REC>,
        progress: &(dyn Fn(Progress) + Sync),
        on_event: &mut dyn FnMut(Event),
    ) -> Result<()> {
        let keyer = self.keyer.clone();
        let seq = self.batch.seq;
        std::thread::scope(|scope| -> Result<()> {
            let (send, recv) = std::sync::mpsc::sync_channel::<Result<Chunk>>(CHUNK_QUEUE);
            scope.spawn(move || {
                let mut ordinal: u64 = 0;
                let mut tick = 0u32;
                let mut row = RosterRow::default();
                loop {
                    let mut c = Chunk {
                        items: Vec::with_capacity(2048),
                        bodies: Vec::with_capacity(2048 * 128),
                        keys: Vec::with_capacity(2048 * 64),
                        bytes_read: 0,
                        ended: false,
                    };
                    while c.items.len() < 2048 {
                        tick += 1;
                        if tick >= 4096 {
                            tick = 0;
                            progress(Progress::Read(source.bytes_read()));
                        }
                        let next = match source.next_row(&mut row) {
                            Err(e) => {
                                let _ = send.send(Err(e));
                                return;
                            }
                            Ok(n) => n,
                        };
                        let Some(SourceRow { line, item }) = next else {
                            c.ended = true;
                            break;
                        };
                        let Ok(ord) = u32::try_from(ordinal) else {
                            let _ = send.send(Err(Error::invalid(
                                "the file has more than 4,294,967,295 rows; split it into several imports",
                            )));
                            return;
                        };
                        ordinal += 1;
                        match item {
                            SourceItem::Rejected { id, note } => c.items.push(Item::Rejected {
                                ordinal: ord,
                                line,
                                person: id.filter(|i| !i.is_empty()).map(|i| keyer.person(&i)),
                                note,
                            }),
                            SourceItem::Row { warnings } => {
                                let start = c.bodies.len();
                                codec::encode_row_body(&row, &mut c.bodies);
                                let keys = key_material(&row, &mut c.keys);
                                let class = RowClass::of(&row, None, !warnings.is_empty());
                                let entity = (!row.covered_entity.is_empty())
                                    .then(|| row.covered_entity.clone());
                                c.items.push(Item::Row(Parsed {
                                    ordinal: ord,
                                    line,
                                    body: start..c.bodies.len(),
                                    keys,
                                    class,
                                    entity,
                                    fix: row.needs_fixing(),
                                    warnings,
                                }));
                            }
                        }
                    }
                    c.bytes_read = source.bytes_read();
                    let ended = c.ended;
                    if send.send(Ok(c)).is_err() || ended {
                        return;
                    }
                }
            });
            let mut pending = Pending::new();
            let mut g = GroupBuf {
                first: 0,
                prev_ordinal: 0,
                prev_line: 0,
                rows: 0,
                payload: Vec::with_capacity(GROUP_PAYLOAD_LIMIT + 256),
            };
            let mut value = Vec::with_capacity(4096);
            let mut rows_since_flush = 0usize;
            for msg in recv {
                let c = msg?;
                for item in c.items {
                    self.batch.rows_read += 1;
                    match item {
                        Item::Rejected {
                            ordinal,
                            line,
                            person,
                            note,
                        } => {
                            self.batch.rejected += 1;
                            self.batch.lines_done = self.batch.lines_done.max(line);
                            self.batch.ordinals = u64::from(ordinal) + 1;
                            let rec = IssueRecord {
                                kind: IssueKind::Rejected,
                                line,
                                field: note.field.clone(),
                                column: note.column.clone(),
                                reason: note.reason.clone(),
                                other: None,
                                person: person.map(|p| crate::audit::entry::hex(&p)),
                            };
                            self.issue(&mut pending, ordinal, SLOT_REJECTED, &rec)?;
                            on_event(Event::Rejected { line, note });
                        }
                        Item::Row(r) => {
                            check_line(r.line)?;
                            let (person, matches) = hash_material(&self.keyer, &c.keys, &r.keys);
                            self.batch.lines_done = self.batch.lines_done.max(r.line);
                            self.batch.ordinals = u64::from(r.ordinal) + 1;
                            let body = &c.bodies[r.body.clone()];
                            if g.rows > 0
                                && (g.payload.len() + body.len() + 20 > GROUP_PAYLOAD_LIMIT
                                    || g.rows == u16::MAX)
                            {
                                self.seal_group(&mut g, &mut pending, &mut value)?;
                            }
                            if g.rows == 0 {
                                g.first = r.ordinal;
                                g.prev_ordinal = r.ordinal;
                                g.prev_line = 0;
                            }
                            codec::push_row(
                                &mut g.payload,
                                r.ordinal - g.prev_ordinal,
                                r.line.saturating_sub(g.prev_line),
                                body,
                            );
                            g.prev_ordinal = r.ordinal;
                            g.prev_line = r.line;
                            g.rows += 1;
                            let mut class = r.class;
                            class.entity = self.entity(r.entity)?.unwrap_or(u16::MAX);
                            ids.push(
                                IdRec {
                                    hash: person,
                                    src: SRC_NEW,
                                    batch: seq,
                                    ordinal: r.ordinal,
                                    line: r.line,
                                    origin: seq,
                                    class,
                                }
                                .encode(),
                            )?;
                            for (i, m) in matches.iter().enumerate() {
                                if let Some(k) = m {
                                    names.push(
                                        NameRec {
                                            key: *k,
                                            src: SRC_NEW,
                                            ordinal: r.ordinal,
                                            line: r.line,
                                            person: short(&person),
                                            origin: seq,
                                            basis: i as u8 + 1,
                                        }
                                        .encode(),
                                    )?;
                                }
                            }
                            if let Some(fix) = r.fix {
                                self.batch.needs_fixing += 1;
                                let rec = IssueRecord {
                                    kind: IssueKind::NeedsFixing,
                                    line: r.line,
                                    field: Some(fix.field().to_string()),
                                    column: None,
                                    reason: fix.text().to_string(),
                                    other: None,
                                    person: None,
                                };
                                self.issue(&mut pending, r.ordinal, SLOT_NEEDS_FIXING, &rec)?;
                                on_event(Event::NeedsFixing {
                                    line: r.line,
                                    reason: fix,
                                });
                            }
                            if !r.warnings.is_empty() {
                                self.batch.warnings += 1;
                            }
                            for (i, w) in r.warnings.into_iter().enumerate().take(80) {
                                let rec = IssueRecord {
                                    kind: IssueKind::Warning,
                                    line: r.line,
                                    field: w.field.clone(),
                                    column: w.column.clone(),
                                    reason: w.reason.clone(),
                                    other: None,
                                    person: None,
                                };
                                self.issue(&mut pending, r.ordinal, SLOT_WARNING + i as u16, &rec)?;
                                on_event(Event::Warning {
                                    line: r.line,
                                    note: w,
                                });
                            }
                        }
                    }
                    rows_since_flush += 1;
                }
                if pending.bytes >= CHUNK_BYTES || rows_since_flush >= run_rows {
                    self.flush(&mut pending)?;
                    rows_since_flush = 0;
                }
                progress(Progress::Read(c.bytes_read));
                if c.ended {
                    break;
                }
            }
            self.seal_group(&mut g, &mut pending, &mut value)?;
            self.flush(&mut pending)?;
            Ok(())
        })?;
        if self.resumed && !self.dry {
            // Every staged group must be one this run produced again.
            let (from, to) = super::batch_range(self.incident.as_str(), self.batch.seq);
            let tx = self.store.db.begin_read()?;
            let n = tx
                .open_table(ROSTER_GROUPS)?
                .range(from.as_str()..to.as_str())?
                .count() as u64;
            if n != self.batch.groups || self.staged_groups > self.batch.groups {
                return Err(staged_damaged(&self.incident, self.batch.seq));
            }
        }
        Ok(())
    }

    /// Phase 2: the live rows of earlier imports, and their open rejected rows, join the
    /// sorts.
    fn rescan(
        &mut self,
        ids: &mut Sorter<ID_REC>,
        names: &mut Sorter<NAME_REC>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<()> {
        if self.view.visible.is_empty() {
            return Ok(());
        }
        let total = self.view.rows_stored;
        let mut done = 0u64;
        let r = self.store.reader()?;
        let keyer = self.keyer.clone();
        let entities = self.entity_index.clone();
        let mut name_buf = Vec::with_capacity(64);
        for_each_live_row(&r, &self.incident, &self.view, &self.seal, &mut |row| {
            let (person, matches) = hashes(&keyer, &row.row, &mut name_buf);
            let folded = row
                .row
                .covered_entity
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            let entity = entities.get(&folded).copied();
            let class = RowClass::of(&row.row, entity, false);
            ids.push(
                IdRec {
                    hash: person,
                    src: SRC_EXISTING,
                    batch: row.batch,
                    ordinal: row.ordinal,
                    line: row.line,
                    origin: row.origin,
                    class,
                }
                .encode(),
            )?;
            for (i, m) in matches.iter().enumerate() {
                if let Some(k) = m {
                    names.push(
                        NameRec {
                            key: *k,
                            src: SRC_EXISTING,
                            ordinal: row.ordinal,
                            line: row.line,
                            person: short(&person),
                            origin: row.origin,
                            basis: i as u8 + 1,
                        }
                        .encode(),
                    )?;
                }
            }
            done += 1;
            if done.is_multiple_of(65_536) {
                progress(Progress::Rescan { done, total });
            }
            Ok(true)
        })?;
        // Open rejected rows of earlier imports with a readable identifier.
        for_each_issue(&r, &self.incident, &self.view, &mut |issue| {
            if issue.record.kind != IssueKind::Rejected {
                return Ok(true);
            }
            let Some(p) = issue.record.person.as_deref().and_then(unhex16) else {
                return Ok(true);
            };
            ids.push(
                IdRec {
                    hash: p,
                    src: SRC_GHOST,
                    batch: issue.batch,
                    ordinal: issue.ordinal,
                    line: issue.record.line,
                    origin: issue.batch,
                    class: RowClass::default(),
                }
                .encode(),
            )?;
            Ok(true)
        })
    }

    /// Phase 3a: duplicates, replacements, resolutions and the counts. Returns early, with
    /// nothing more written, once `stop` is raised (the possible-duplicate search failed and
    /// its error follows).
    fn merge_ids(
        &mut self,
        ids: Sorter<ID_REC>,
        total: u64,
        stop: &AtomicBool,
        progress: &(dyn Fn(Progress) + Sync),
        on_event: &mut dyn FnMut(Event),
    ) -> Result<()> {
        let seq = self.batch.seq;
        let id = self.incident.as_str().to_string();
        let mut m = ids.finish()?;
        let mut pending = Pending::new();
        let mut group: Vec<IdRec> = Vec::new();
        let mut done = 0u64;
        let mut tick = 0u32;
        loop {
            tick = tick.wrapping_add(1);
            if tick.is_multiple_of(STOP_CHECK) && stop.load(AtomicOrdering::Relaxed) {
                return Ok(());
            }
            let next = m.next_rec()?;
            let boundary = match (&next, group.first()) {
                (Some(r), Some(g)) => r[..ID_HASH] != g.hash[..ID_HASH],
                (None, Some(_)) => true,
                _ => false,
            };
            if boundary {
                done += group.len() as u64;
                self.settle(&id, seq, &group, &mut pending, on_event)?;
                group.clear();
                if pending.bytes >= CHUNK_BYTES || pending.dead.len() >= 100_000 {
                    self.flush(&mut pending)?;
                    progress(Progress::Write { done, total });
                }
            }
            match next {
                Some(r) => group.push(IdRec::decode(&r)),
                None => break,
            }
        }
        self.flush(&mut pending)?;
        progress(Progress::Write { done: total, total });
        Ok(())
    }

    /// Decides the records of one identifier (ghosts, then rows of earlier imports, then
    /// this file's rows in line order).
    fn settle(
        &mut self,
        id: &str,
        seq: u32,
        group: &[IdRec],
        p: &mut Pending,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<()> {
        let existing = group.iter().find(|r| r.src == SRC_EXISTING);
        // The sort puts this file's rows last, in line order.
        let news = match group.iter().position(|r| r.src == SRC_NEW) {
            Some(i) => &group[i..],
            None => return Ok(()),
        };
        let first_new = &news[0];
        let mut first_ref = RowRef {
            batch: seq,
            line: first_new.line,
        };
        let mut rest = &news[1..];
        match existing {
            Some(old) if old.class.fix != 0 => {
                // The earlier row needed fixing: this file's first row replaces it.
                let old_entity = self.entity_name(old.class.entity).map(str::to_string);
                self.removed.count(&old.class, old_entity.as_deref(), true);
                let entity = self.entity_name(first_new.class.entity).map(str::to_string);
                self.added.count(&first_new.class, entity.as_deref(), true);
                self.batch.accepted += 1;
                self.batch.replaced += 1;
                p.dead.push((
                    codec::dead_key(id, seq, old.batch, old.ordinal),
                    codec::DeadReason::Replaced as u8,
                ));
                on_event(Event::Replaced {
                    line: first_new.line,
                    old: RowRef {
                        batch: old.origin,
                        line: old.line,
                    },
                });
            }
            Some(old) => {
                first_ref = RowRef {
                    batch: old.origin,
                    line: old.line,
                };
                rest = news;
            }
            None => {
                let entity = self.entity_name(first_new.class.entity).map(str::to_string);
                self.added.count(&first_new.class, entity.as_deref(), true);
                self.batch.accepted += 1;
            }
        }
        for dup in rest {
            self.batch.duplicates += 1;
            p.dead.push((
                codec::dead_key(id, seq, seq, dup.ordinal),
                codec::DeadReason::Duplicate as u8,
            ));
            let rec = IssueRecord {
                kind: IssueKind::Duplicate,
                line: dup.line,
                field: Some("id".into()),
                column: None,
                reason: "same identifier as an earlier row: counted once".into(),
                other: Some(first_ref),
                person: None,
            };
            self.issue(p, dup.ordinal, SLOT_DUPLICATE, &rec)?;
            p.bytes += 64;
            on_event(Event::Duplicate {
                line: dup.line,
                first: first_ref,
            });
        }
        if existing.is_none_or(|o| o.class.fix != 0) {
            for g in group.iter().filter(|r| r.src == SRC_GHOST) {
                self.batch.resolved += 1;
                p.dead.push((
                    codec::dead_key(id, seq, g.batch, g.ordinal),
                    codec::DeadReason::Resolved as u8,
                ));
            }
        }
        Ok(())
    }

    /// Phase 3b: rows of different identifiers with the same name key, as
    /// [`find_possible_duplicates`] sends them (in hash order), are sorted by line and become
    /// issues and events: issues are written in key order, so however many there are, the
    /// issues table grows by appending, not by splitting pages all over the tree.
    fn merge_names(
        &mut self,
        found: std::sync::mpsc::Receiver<Result<Vec<Possible>>>,
        key: &RunKey,
        dir: &std::path::Path,
        run_rows: usize,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<()> {
        let mut by_line = Sorter::<POSSIBLE_REC>::new(key, dir, run_rows * POSSIBLE_REC);
        for batch in found {
            for r in batch? {
                by_line.push(r.encode())?;
            }
        }
        let mut sorted = by_line.finish()?;
        let mut pending = Pending::new();
        while let Some(rec) = sorted.next_rec()? {
            let r = Possible::decode(&rec);
            let what = if r.basis == 1 {
                "date of birth"
            } else {
                "address"
            };
            let rec = IssueRecord {
                kind: IssueKind::PossibleDuplicate,
                line: r.line,
                field: Some(
                    if r.basis == 1 {
                        "date_of_birth"
                    } else {
                        "address1"
                    }
                    .into(),
                ),
                column: None,
                reason: format!(
                    "same name and {what} as another identifier: the same person under two identifiers? review before mailing"
                ),
                other: Some(r.other),
                person: None,
            };
            self.issue(
                &mut pending,
                r.ordinal,
                SLOT_POSSIBLE + u16::from(r.basis),
                &rec,
            )?;
            self.batch.possible_duplicates += 1;
            on_event(Event::PossibleDuplicate {
                line: r.line,
                other: r.other,
                basis: r.basis,
            });
            if pending.bytes >= CHUNK_BYTES {
                self.flush(&mut pending)?;
            }
        }
        self.added.possible_duplicates = self.batch.possible_duplicates;
        self.flush(&mut pending)
    }

    /// The roster's totals once this batch is committed (what the counts would become).
    pub fn preview(&self) -> Result<RosterTotals> {
        let tx = self.store.db.begin_read()?;
        let t = tx.open_table(ROSTER_COUNTS)?;
        let mut totals =
            read_totals(&t, self.incident.as_str())?.unwrap_or_else(RosterTotals::roster);
        totals.merge(&self.added, true);
        totals.merge(&self.removed, false);
        totals.batches += 1;
        totals.rows_stored = totals.rows_stored + self.batch.accepted - self.batch.replaced;
        totals.key_fingerprint = self.seal.fingerprint();
        Ok(totals)
    }

    /// The final, audited transaction: the batch becomes committed, the counts are revised
    /// and one `roster.import` entry is appended.
    pub fn commit(mut self, actor: &Actor) -> Result<(Batch, RosterTotals)> {
        let id = self.incident.clone();
        let totals = self.preview()?;
        self.batch.status = BatchStatus::Committed;
        self.batch.committed = Some(actor.now);
        self.batch.added = Some(self.added.clone());
        self.batch.removed = (self.batch.replaced > 0).then(|| self.removed.clone());
        let b = self.batch.clone();
        let mut detail = format!(
            "batch={} file_sha256={} rows_read={} accepted={} rejected={} duplicates={}",
            b.seq, b.file_sha256, b.rows_read, b.accepted, b.rejected, b.duplicates,
        );
        for (k, v) in [
            ("needs_fixing", b.needs_fixing),
            ("warnings", b.warnings),
            ("possible_duplicates", b.possible_duplicates),
            ("replaced", b.replaced),
            ("resolved", b.resolved),
        ] {
            if v > 0 {
                detail.push_str(&format!(" {k}={v}"));
            }
        }
        if let Some(f) = &b.key_fingerprint {
            detail.push_str(&format!(" roster_key={}", &f[..16]));
        }
        if self.resumed {
            detail.push_str(" resumed=true");
        }
        let store = self.store;
        store.write_tx(actor, |tx| {
            self.put_batch(tx)?;
            let v = json(&totals)?;
            tx.open_table(ROSTER_COUNTS)?
                .insert(id.as_str(), v.as_slice())?;
            Ok((
                (self.batch.clone(), totals.clone()),
                Change::new(Action::RosterImport, Subject::Roster(id.clone())).detail(detail),
            ))
        })
    }
}

fn unhex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

pub(super) fn new_batch(seq: u32, sha: &str, now: DateTime<Utc>) -> Batch {
    Batch {
        seq,
        status: BatchStatus::Staging,
        file_sha256: sha.to_string(),
        rows_read: 0,
        accepted: 0,
        rejected: 0,
        duplicates: 0,
        lines_done: 0,
        started: now,
        committed: None,
        added: None,
        purged: None,
        format: 2,
        ordinals: 0,
        groups: 0,
        needs_fixing: 0,
        warnings: 0,
        possible_duplicates: 0,
        replaced: 0,
        resolved: 0,
        removed: None,
        delimiter: None,
        key_fingerprint: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Two identifiers' rows under one name key make a possible duplicate; with the stop
    /// flag raised (the identifier merge failed), the search ends without sending more.
    #[test]
    fn possible_duplicate_search_finds_pairs_and_stops_when_told() {
        let run = |stop: bool| {
            let dir = tempfile::tempdir().unwrap();
            let key = RunKey::generate().unwrap();
            let mut names = Sorter::<NAME_REC>::new(&key, dir.path(), 1024 * NAME_REC);
            let rows = 3 * u64::from(STOP_CHECK);
            for i in 0..rows {
                // Pairs of rows (two people) share each name key.
                let mut k = [0u8; 8];
                k.copy_from_slice(&(i / 2).to_be_bytes());
                names
                    .push(
                        NameRec {
                            key: k,
                            src: SRC_NEW,
                            origin: 1,
                            ordinal: u32::try_from(i).unwrap(),
                            line: i + 2,
                            person: i.to_be_bytes(),
                            basis: 1,
                        }
                        .encode(),
                    )
                    .unwrap();
            }
            let (send, found) = std::sync::mpsc::sync_channel::<Result<Vec<Possible>>>(1 << 20);
            let flag = AtomicBool::new(stop);
            find_possible_duplicates(names, &send, &flag).unwrap();
            drop(send);
            let got: Vec<Possible> = found.into_iter().flat_map(|b| b.unwrap()).collect();
            (rows, got)
        };
        let (rows, got) = run(false);
        assert_eq!(got.len() as u64, rows / 2);
        assert!(
            got.iter()
                .all(|p| p.line == p.other.line + 1 && p.basis == 1)
        );
        let (_, got) = run(true);
        assert!(got.len() < STOP_CHECK as usize, "{}", got.len());
    }

    #[test]
    fn sort_records_round_trip_and_order_by_hash_then_source() {
        let class = RowClass {
            state: Some(*b"TX"),
            fix: 2,
            entity: 7,
            ..RowClass::default()
        };
        // Only the first 12 bytes of the person key are kept.
        let mut hash = [5; 16];
        hash[ID_HASH..].fill(0);
        let r = IdRec {
            hash,
            src: SRC_NEW,
            batch: 3,
            ordinal: 9,
            line: MAX_LINE,
            origin: 3,
            class,
        };
        let d = IdRec::decode(&r.encode());
        assert_eq!(
            (d.hash, d.src, d.batch, d.ordinal, d.line, d.origin, d.class),
            (r.hash, r.src, r.batch, r.ordinal, r.line, r.origin, r.class)
        );
        assert_eq!(
            IdRec::decode(&IdRec { hash: [5; 16], ..r }.encode()).hash,
            hash
        );
        assert!(check_line(MAX_LINE).is_ok());
        assert!(
            check_line(MAX_LINE + 1).is_err(),
            "a line past 40 bits is refused, not wrapped"
        );
        let existing = IdRec {
            src: SRC_EXISTING,
            batch: 9,
            ..r
        };
        assert!(existing.encode() < r.encode(), "earlier imports sort first");
        let n = NameRec {
            key: [1; 8],
            src: SRC_NEW,
            ordinal: 4,
            line: 6,
            person: [9; 8],
            origin: 2,
            basis: 2,
        };
        let d = NameRec::decode(&n.encode());
        assert_eq!(
            (d.key, d.src, d.ordinal, d.line, d.person, d.origin, d.basis),
            (n.key, n.src, n.ordinal, n.line, n.person, n.origin, n.basis)
        );
        assert_eq!(
            unhex16(&crate::audit::entry::hex(&[7u8; 16])),
            Some([7u8; 16])
        );
    }
}
