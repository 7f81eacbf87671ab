//! Rosters of affected individuals: rows sealed at rest in groups under the roster's own
//! key, import batches, data-quality issues, and aggregate counts that can be read without
//! the passphrase.
//!
//! # Tables (schema 2; encodings in [`codec`] and ARCHITECTURE.md "Roster encodings")
//!
//! * `roster_keys_v2[<incident>]`: the roster's own data key, wrapped by the database's data
//!   key (encrypted databases only). Every group of the roster is sealed under it, and the
//!   keyed hashes that find duplicates are keyed by subkeys of it.
//! * `roster_groups_v2[<incident>/<batch>/<first ordinal>]`: rows in file order, as many as
//!   fill a 4 KiB page (about 35), sealed together with one nonce and tag and bound to their
//!   key, batch and file. An *ordinal* numbers the data rows of a file from 0 (rejected rows
//!   take one too, so ordinals follow lines).
//! * `roster_dead_v2[<incident>/<by batch>/<target batch>/<ordinal>]`: rows that no longer
//!   count (a duplicate of an earlier identifier, a row that needed fixing replaced by a later
//!   import, a rejected row a later import resolved), written by batch *by*.
//! * `roster_issues_v2[<incident>/<batch>/<ordinal>/<slot>]`: data-quality issues (JSON, no
//!   values): rejected rows, rows that need fixing, warnings, duplicates, possible duplicates.
//! * `roster_batches_v1[<incident>/<batch>]`: [`Batch`] JSON (status, file SHA-256,
//!   tallies, what the batch added and removed); `roster_counts_v1[<incident>]`:
//!   [`RosterTotals`] JSON, readable as a `Counts`. No PHI, so `roster stats` and the
//!   obligations engine need no key.
//! * `roster_rows_v1`: rows as release 0.1 stored them (one sealed JSON row each); converted
//!   to groups when the key is first available ([`legacy`]).
//!
//! Identifiers are never stored in the clear outside sealed groups: a duplicate is found by
//! sorting keyed hashes ([`codec::Keyer`]), in the file and against the rows already
//! imported, not by a lookup key.
//!
//! # Crash safety: the one exception to "one transaction per command"
//!
//! A roster can have hundreds of millions of rows and redb keeps a transaction's dirty pages
//! in memory, so `roster import` writes in chunk transactions into a batch whose status is
//! `staging` (see [`import`]). Staging records carry **no audit entry** and are **not part of
//! the record**: counts ignore them (the counts record is only written at commit), the
//! `roster/<id>` subject digest skips them and `audit verify` does not call them orphans. The
//! command's final write transaction, through [`Store::write`](super::Store::write), flips
//! the batch to `committed`, revises the counts and appends the command's single audit entry
//! (`roster.import` on `roster/<incident>`). Until then nothing of the import is visible.
//!
//! Staged groups are sealed under the roster key and bound to the batch and the file's
//! SHA-256, so re-running the import of the **same file** resumes the staging batch only
//! after checking that every staged group opens and holds exactly the rows the file gives
//! (a planted or altered group stops the import; `--restart` discards the staging batch).
//! Importing a **different file** while a staging batch exists discards the staging batch
//! first. Importing a file whose SHA-256 matches a committed batch is refused.
//!
//! # Purge: crypto-shredding
//!
//! `roster purge` deletes the roster's key in one audited transaction (keeping counts, batch
//! records and the key's fingerprint), after which every group of the roster — in the table,
//! in free pages, in any later copy of the file — is ciphertext under a key that exists
//! nowhere. The groups, dead marks and issues are then deleted in chunk transactions (they
//! are no longer part of the record), and the file is compacted when that pays.

use std::collections::BTreeMap;

pub mod codec;
pub mod import;
pub mod legacy;
pub mod purge;
pub mod read;
pub mod rotate;
pub(super) mod sort;

use chrono::{DateTime, Utc};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::{ROSTER_BATCHES, ROSTER_COUNTS, SubjectDigest};
use crate::domain::{CountSource, Counts, IncidentId, RosterRow};
use crate::error::{Error, Result};

pub use codec::{DeadReason, GroupRow, IssueKind, IssueRecord, RosterSeal, RowRef};
pub use import::{Event, IssueNote, RowSource, SourceItem, SourceRow, Stager};
pub use purge::{discard_staging, purge};
pub use read::{IssueRow, RosterView};

/// Rows per sorted run of an import (at most 11.4 MB of identifier records and 9.3 MB of
/// name records), and the most rows staged per chunk transaction.
pub const RUN_ROWS: usize = 300_000;
/// Bytes of groups and issues staged per chunk transaction: bounds redb's dirty pages.
pub const CHUNK_BYTES: usize = 8 << 20;

/// The file marker of a batch that converted release 0.1 rows (no file was read).
pub const MIGRATION_FILE: &str = "migration-from-release-0.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Being written; not part of the record.
    Staging,
    /// Committed with its audit entry.
    Committed,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One import of one file (or one conversion of release 0.1 rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub seq: u32,
    pub status: BatchStatus,
    pub file_sha256: String,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Last line of the file read (progress).
    pub lines_done: u64,
    pub started: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<DateTime<Utc>>,
    /// What this batch added to the counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<RosterTotals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged: Option<DateTime<Utc>>,
    /// Storage format of the batch's rows: absent (0) for release 0.1's one-row records in
    /// `roster_rows_v1`, 2 for sealed groups.
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub format: u8,
    /// Data rows of the file (ordinals given), rejected ones included.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ordinals: u64,
    /// Groups written.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub groups: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub needs_fixing: u64,
    /// Accepted rows with at least one warning.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warnings: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub possible_duplicates: u64,
    /// Rows of earlier imports that needed fixing and that this batch replaced.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replaced: u64,
    /// Rejected rows of earlier imports whose identifier this batch brought in.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resolved: u64,
    /// What replacements took off the counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<RosterTotals>,
    /// The field separator the file used (`,`, `;`, tab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// Fingerprint of the roster key the batch's groups are sealed under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
}

fn is_zero_u8(n: &u8) -> bool {
    *n == 0
}

/// The aggregate record of an incident's roster: a [`Counts`] plus tallies `roster stats`
/// shows. Serialised flat, so it reads as a `Counts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RosterTotals {
    #[serde(flatten)]
    pub counts: Counts,
    /// Living individuals with no usable postal address but a usable e-mail (consent).
    #[serde(default)]
    pub email_only: u64,
    /// Individuals with no State (no address at all).
    #[serde(default)]
    pub no_state: u64,
    /// Deceased individuals (with and without next-of-kin contact).
    #[serde(default)]
    pub deceased: u64,
    #[serde(default)]
    pub batches: u32,
    /// Rows currently stored (0 after a purge).
    #[serde(default)]
    pub rows_stored: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged: Option<DateTime<Utc>>,
    /// Living individuals notified by e-mail (consent and a usable address).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub email: u64,
    /// Living individuals whose row needs fixing (no usable name, or a postal recipient
    /// without a complete address): counted in `unreachable` until fixed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub needs_fixing: u64,
    /// Individuals whose row carries a warning.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warnings: u64,
    /// Possible-duplicate reports: rows resembling another identifier's (same name and date
    /// of birth, or same name and address), for review.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub possible_duplicates: u64,
    /// Counts per covered entity, for a business associate serving several.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_entity: BTreeMap<String, Counts>,
    /// Fingerprint of the roster's key (while it exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, add: bool) {
    if add {
        match map.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                map.insert(key.to_string(), 1);
            }
        }
    } else if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

fn merge_counts(c: &mut Counts, o: &Counts, add: bool) {
    let f = |a: &mut u64, b: u64| {
        *a = if add { *a + b } else { a.saturating_sub(b) };
    };
    c.source = CountSource::Roster;
    f(&mut c.total, o.total);
    for (k, v) in &o.by_state {
        let e = c.by_state.entry(k.clone()).or_insert(0);
        f(e, *v);
    }
    c.by_state.retain(|_, v| *v > 0);
    for (k, v) in &o.by_jurisdiction {
        let e = c.by_jurisdiction.entry(k.clone()).or_insert(0);
        f(e, *v);
    }
    c.by_jurisdiction.retain(|_, v| *v > 0);
    f(&mut c.unreachable, o.unreachable);
    f(&mut c.deceased_with_nok, o.deceased_with_nok);
    f(&mut c.deceased_without_nok, o.deceased_without_nok);
}

fn count_class(c: &mut Counts, r: &RowClass, add: bool) {
    let f = |a: &mut u64| {
        *a = if add { *a + 1 } else { a.saturating_sub(1) };
    };
    c.source = CountSource::Roster;
    f(&mut c.total);
    if let Some(st) = r.state_str() {
        bump(&mut c.by_state, st, add);
    }
    if r.deceased {
        if r.nok_known {
            f(&mut c.deceased_with_nok);
        } else {
            f(&mut c.deceased_without_nok);
        }
    } else if !r.reachable {
        f(&mut c.unreachable);
    }
}

impl RosterTotals {
    pub fn roster() -> RosterTotals {
        let mut t = RosterTotals::default();
        t.counts.source = CountSource::Roster;
        t
    }

    /// Counts one accepted individual (reference § 3: deceased individuals are affected
    /// individuals and count in their State).
    pub fn add_row(&mut self, row: &RosterRow) {
        self.add_class(&RowClass::of(row, None, false), None);
    }

    /// Adds (or, with `add` false, takes away) one individual of class `r`; `entity` is the
    /// covered entity's name when the roster has that column.
    pub fn count(&mut self, r: &RowClass, entity: Option<&str>, add: bool) {
        let f = |a: &mut u64| {
            *a = if add { *a + 1 } else { a.saturating_sub(1) };
        };
        count_class(&mut self.counts, r, add);
        if r.state.is_none() {
            f(&mut self.no_state);
        }
        if r.deceased {
            f(&mut self.deceased);
        } else if r.reachable && r.email {
            f(&mut self.email);
            if !r.postal {
                f(&mut self.email_only);
            }
        }
        if r.fix != 0 {
            f(&mut self.needs_fixing);
        }
        if r.warned {
            f(&mut self.warnings);
        }
        if let Some(e) = entity {
            let c = self.by_entity.entry(e.to_string()).or_default();
            count_class(c, r, add);
            if c.total == 0 {
                self.by_entity.remove(e);
            }
        }
    }

    pub fn add_class(&mut self, r: &RowClass, entity: Option<&str>) {
        self.count(r, entity, true);
    }

    /// Adds (`add`) or takes away another tally.
    pub fn merge(&mut self, o: &RosterTotals, add: bool) {
        merge_counts(&mut self.counts, &o.counts, add);
        let f = |a: &mut u64, b: u64| {
            *a = if add { *a + b } else { a.saturating_sub(b) };
        };
        f(&mut self.email_only, o.email_only);
        f(&mut self.no_state, o.no_state);
        f(&mut self.deceased, o.deceased);
        f(&mut self.email, o.email);
        f(&mut self.needs_fixing, o.needs_fixing);
        f(&mut self.warnings, o.warnings);
        f(&mut self.possible_duplicates, o.possible_duplicates);
        for (k, v) in &o.by_entity {
            let c = self.by_entity.entry(k.clone()).or_default();
            merge_counts(c, v, add);
        }
        self.by_entity.retain(|_, c| c.total > 0);
    }
}

/// What the counts need to know about a row (no PHI beyond the State), 8 bytes in the sort
/// records of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowClass {
    pub state: Option<[u8; 2]>,
    pub deceased: bool,
    pub nok_known: bool,
    /// A usable name and a postal address or e-mail with consent.
    pub reachable: bool,
    pub postal: bool,
    /// E-mail consent with a usable address.
    pub email: bool,
    /// 0: fine; 1: no usable name; 2: no postal address (a living individual's row).
    pub fix: u8,
    /// The row carries at least one warning.
    pub warned: bool,
    /// Index into the roster's covered-entity list; `u16::MAX` for none.
    pub entity: u16,
}

impl RowClass {
    /// The class of a row, as [`RosterRow::reachable`] and [`RosterRow::needs_fixing`]
    /// decide (each test made once).
    pub fn of(row: &RosterRow, entity: Option<u16>, warned: bool) -> RowClass {
        let named = row.has_usable_name();
        let postal = row.has_postal_address();
        let email = row.email_usable();
        let fix = if row.deceased {
            0
        } else if !named {
            1
        } else if !postal && !email {
            2
        } else {
            0
        };
        RowClass {
            state: row
                .state
                .as_deref()
                .and_then(|s| s.as_bytes().try_into().ok()),
            deceased: row.deceased,
            nok_known: row.deceased && row.nok_contact_known(),
            reachable: named && (postal || email),
            postal,
            email,
            fix,
            warned,
            entity: entity.unwrap_or(u16::MAX),
        }
    }

    fn state_str(&self) -> Option<&str> {
        self.state
            .as_ref()
            .and_then(|s| std::str::from_utf8(s).ok())
    }

    pub fn to_bytes(self) -> [u8; 8] {
        let st = self.state.unwrap_or([0, 0]);
        let flags = u8::from(self.deceased)
            | u8::from(self.nok_known) << 1
            | u8::from(self.reachable) << 2
            | u8::from(self.postal) << 3
            | u8::from(self.state.is_some()) << 4
            | u8::from(self.email) << 5;
        let e = self.entity.to_be_bytes();
        [
            st[0],
            st[1],
            flags,
            self.fix,
            e[0],
            e[1],
            u8::from(self.warned),
            0,
        ]
    }

    pub fn from_bytes(b: [u8; 8]) -> RowClass {
        let f = b[2];
        RowClass {
            state: (f & 16 != 0).then_some([b[0], b[1]]),
            deceased: f & 1 != 0,
            nok_known: f & 2 != 0,
            reachable: f & 4 != 0,
            postal: f & 8 != 0,
            email: f & 32 != 0,
            fix: b[3],
            warned: b[6] != 0,
            entity: u16::from_be_bytes([b[4], b[5]]),
        }
    }
}

pub(super) fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Storage(format!("cannot encode a roster record: {e}")))
}

pub(super) fn prefix(id: &str) -> String {
    format!("{id}/")
}

/// The first key after every `<id>/…` key (`'0'` follows `'/'`).
pub(super) fn prefix_end(id: &str) -> String {
    format!("{id}0")
}

pub(super) fn batch_key(id: &str, seq: u32) -> String {
    format!("{id}/{seq:06}")
}

/// The first key after every `<id>/<seq>/…` key.
pub(super) fn batch_range(id: &str, seq: u32) -> (String, String) {
    (format!("{id}/{seq:06}/"), format!("{id}/{seq:06}0"))
}

fn unreadable_batch() -> Error {
    Error::Database(
        "a roster batch record is unreadable; run `breachdesk audit verify` to locate the damage"
            .into(),
    )
}

fn unreadable_counts() -> Error {
    Error::Database(
        "the roster counts record is unreadable; run `breachdesk audit verify` to locate the damage"
            .into(),
    )
}

pub(super) fn read_batches<T>(table: &T, id: &str) -> Result<Vec<Batch>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let p = prefix(id);
    let end = prefix_end(id);
    let mut out = Vec::new();
    for row in table.range(p.as_str()..end.as_str())? {
        let (_, v) = row?;
        let b: Batch = serde_json::from_slice(v.value()).map_err(|_| unreadable_batch())?;
        out.push(b);
    }
    Ok(out)
}

pub(super) fn read_totals<T>(table: &T, id: &str) -> Result<Option<RosterTotals>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    match table.get(id)? {
        Some(v) => Ok(Some(
            serde_json::from_slice(v.value()).map_err(|_| unreadable_counts())?,
        )),
        None => Ok(None),
    }
}

/// The import batches of an incident, oldest first.
pub(super) fn batches(tx: &ReadTransaction, id: &IncidentId) -> Result<Vec<Batch>> {
    let t = tx.open_table(ROSTER_BATCHES)?;
    read_batches(&t, id.as_str())
}

/// The roster aggregate of an incident, if a roster was imported (committed batches only).
pub(super) fn totals(tx: &ReadTransaction, id: &IncidentId) -> Result<Option<RosterTotals>> {
    let t = match tx.open_table(ROSTER_COUNTS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    read_totals(&t, id.as_str())
}

/// [`roster_counts`] inside a write transaction (for the engine's snapshot on update).
pub(super) fn roster_counts_write(
    tx: &WriteTransaction,
    id: &IncidentId,
) -> Result<Option<Counts>> {
    let t = tx.open_table(ROSTER_COUNTS)?;
    Ok(read_totals(&t, id.as_str())?.map(|t| {
        let mut c = t.counts;
        c.source = CountSource::Roster;
        c
    }))
}

/// The counts of an incident's imported roster (source [`CountSource::Roster`]), for the
/// obligations engine: `by_state` includes deceased individuals, `unreachable` counts living
/// individuals only (those that need fixing included). `None` when no roster was imported.
/// Needs no key.
pub(super) fn roster_counts(tx: &ReadTransaction, id: &IncidentId) -> Result<Option<Counts>> {
    Ok(totals(tx, id)?.map(|t| {
        let mut c = t.counts;
        c.source = CountSource::Roster;
        c
    }))
}

/// What `roster import` should do with a file, given the batches already stored.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Start a new batch with this sequence number.
    Fresh { seq: u32 },
    /// Continue the staging batch of the same file.
    Resume(Batch),
    /// Discard the staging batch of another file, then start `seq`.
    DiscardThenFresh { stale: Batch, seq: u32 },
    /// The file was already imported (committed).
    AlreadyImported(Batch),
    /// The roster was purged; imports are refused.
    Purged(DateTime<Utc>),
}

pub(super) fn plan(tx: &ReadTransaction, id: &IncidentId, file_sha256: &str) -> Result<Plan> {
    if let Some(p) = totals(tx, id)?.and_then(|t| t.purged) {
        return Ok(Plan::Purged(p));
    }
    let all = batches(tx, id)?;
    let seq = all.iter().map(|b| b.seq).max().unwrap_or(0) + 1;
    if let Some(b) = all
        .iter()
        .find(|b| b.status == BatchStatus::Committed && b.file_sha256 == file_sha256)
    {
        return Ok(Plan::AlreadyImported(b.clone()));
    }
    match all.into_iter().find(|b| b.status == BatchStatus::Staging) {
        Some(b) if b.file_sha256 == file_sha256 => Ok(Plan::Resume(b)),
        Some(stale) => Ok(Plan::DiscardThenFresh { stale, seq }),
        None => Ok(Plan::Fresh { seq }),
    }
}

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Newly stored.
    Accepted,
    /// Same identifier as an earlier row: of this file (`batch` = this batch) or of an
    /// earlier import.
    Duplicate { first_batch: u32, first_line: u64 },
}

/// Progress of an import, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Bytes of the file read (phase 1).
    Read(u64),
    /// Rows of earlier imports re-read to find duplicates against them.
    Rescan { done: u64, total: u64 },
    /// Rows checked for duplicates (phase 3).
    Write { done: u64, total: u64 },
}

/// The batches of an incident that belong to its record (committed) and whose rows are still
/// stored (not purged), and the staging ones, from its batch records. A record that cannot
/// be read counts as committed, so that rows stamped with it stay in the digest.
#[derive(Debug, Default, Clone)]
pub(super) struct BatchSets {
    pub staging: Vec<u32>,
    pub purged: Vec<u32>,
}

impl BatchSets {
    pub fn read<T>(batches: &T, id: &str) -> Result<BatchSets>
    where
        T: ReadableTable<&'static str, &'static [u8]>,
    {
        let mut s = BatchSets::default();
        let p = prefix(id);
        let end = prefix_end(id);
        for row in batches.range(p.as_str()..end.as_str())? {
            let (k, v) = row?;
            let seq = k
                .value()
                .rsplit('/')
                .next()
                .and_then(|x| x.parse().ok())
                .unwrap_or(u32::MAX);
            if let Ok(b) = serde_json::from_slice::<Batch>(v.value()) {
                if b.status == BatchStatus::Staging {
                    s.staging.push(seq);
                } else if b.purged.is_some() {
                    s.purged.push(seq);
                }
            }
        }
        Ok(s)
    }

    /// Records of batch `seq` belong to the roster's record.
    pub fn in_record(&self, seq: u32) -> bool {
        !self.staging.contains(&seq) && !self.purged.contains(&seq)
    }
}

fn seq_of(part: Option<&str>) -> Option<u32> {
    part.and_then(|s| s.parse().ok())
}

/// Adds the committed batch records of `id` (key order) to a subject digest and returns the
/// batch sets. An unreadable batch record counts as committed.
pub(super) fn digest_batches<T>(
    d: &mut SubjectDigest,
    name: &str,
    id: &str,
    batches: &T,
) -> Result<BatchSets>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let sets = BatchSets::read(batches, id)?;
    let p = prefix(id);
    let end = prefix_end(id);
    for row in batches.range(p.as_str()..end.as_str())? {
        let (k, v) = row?;
        let staging = serde_json::from_slice::<Batch>(v.value())
            .is_ok_and(|b| b.status == BatchStatus::Staging);
        if !staging {
            d.add(name, k.value().as_bytes(), v.value());
        }
    }
    Ok(sets)
}

/// Adds release 0.1's rows of `id` (key order) to a subject digest, except those of a
/// staging batch: any other row counts, so a row added outside breachdesk changes it.
pub(super) fn digest_rows<T>(
    d: &mut SubjectDigest,
    name: &str,
    id: &str,
    rows: &T,
    sets: &BatchSets,
) -> Result<()>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let p = prefix(id);
    let end = prefix_end(id);
    for row in rows.range(p.as_str()..end.as_str())? {
        let (k, v) = row?;
        let value = v.value();
        if let Some((b, _)) = legacy::stamp(value)
            && sets.staging.contains(&b)
        {
            continue;
        }
        d.add(name, k.value().as_bytes(), value);
    }
    Ok(())
}

/// Which batch a schema-2 record belongs to, from its key: groups and issues
/// `<id>/<batch>/…`; dead marks `<id>/<by batch>/…` (the batch that wrote the mark).
fn record_batch(key: &str, id_len: usize) -> Option<u32> {
    seq_of(key.get(id_len + 1..)?.split('/').next())
}

/// Adds the schema-2 records of `id` in `table` (groups, dead marks or issues; key order) to
/// a subject digest, except those of staging or purged batches. A record whose key names no
/// batch counts.
pub(super) fn digest_v2<T>(
    d: &mut SubjectDigest,
    name: &str,
    id: &str,
    table: &T,
    sets: &BatchSets,
) -> Result<()>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let p = prefix(id);
    let end = prefix_end(id);
    for row in table.range(p.as_str()..end.as_str())? {
        let (k, v) = row?;
        let key = k.value();
        if record_batch(key, id.len()).is_some_and(|b| !sets.in_record(b)) {
            continue;
        }
        d.add(name, key.as_bytes(), v.value());
    }
    Ok(())
}

/// Incidents with roster records that belong to a record (rows, groups, marks, issues,
/// batches, counts, keys), for orphan detection. `audited(id)` says an incident has a
/// `roster/<id>` entry; its rows are then skipped without being read. Records of a staging
/// batch are not orphans, and neither is the key of a roster whose first import is staging.
/// Incidents with a group in the clear under a staging batch (or under a batch number with
/// no record), for `audit verify` on an encrypted database. Committed groups are covered by
/// the subject digest.
pub(super) fn unsealed_staging<T>(batches: &T, groups: &T) -> Result<Vec<String>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut out: Vec<String> = Vec::new();
    let mut sets: Option<(String, BatchSets)> = None;
    for row in groups.iter()? {
        let (k, v) = row?;
        if !codec::group_is_plain(v.value()) {
            continue;
        }
        let key = k.value();
        let id = key.split('/').next().unwrap_or_default().to_string();
        if sets.as_ref().is_none_or(|(i, _)| *i != id) {
            sets = Some((id.clone(), BatchSets::read(batches, &id)?));
        }
        let staged = record_batch(key, id.len())
            .is_some_and(|b| sets.as_ref().is_some_and(|(_, s)| s.staging.contains(&b)));
        if staged && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The roster's tables, as the orphan scan reads them.
pub(super) struct RosterTables<'a, T> {
    pub rows: &'a T,
    pub batches: &'a T,
    pub counts: &'a T,
    /// Schema 2's tables (absent from an older file opened read-only).
    pub keys: Option<&'a T>,
    pub groups: Option<&'a T>,
    pub dead: Option<&'a T>,
    pub issues: Option<&'a T>,
}

pub(super) fn committed_incidents<T>(
    t: &RosterTables<T>,
    audited: impl Fn(&str) -> bool,
) -> Result<Vec<String>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut out: Vec<String> = Vec::new();
    let push = |id: &str, out: &mut Vec<String>| {
        if !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    };
    for row in t.counts.iter()? {
        let (k, _) = row?;
        push(k.value(), &mut out);
    }
    for row in t.keys.map(|k| k.iter()).transpose()?.into_iter().flatten() {
        let (k, _) = row?;
        let id = k.value();
        if !audited(id) && !out.iter().any(|x| x == id) {
            let sets = BatchSets::read(t.batches, id)?;
            if sets.staging.is_empty() {
                push(id, &mut out);
            }
        }
    }
    for row in t.batches.iter()? {
        let (k, v) = row?;
        let id = k.value().split('/').next().unwrap_or_default();
        let staging = serde_json::from_slice::<Batch>(v.value())
            .is_ok_and(|b| b.status == BatchStatus::Staging);
        if !staging {
            push(id, &mut out);
        }
    }
    // Rows (0.1) and schema-2 records: one incident at a time, skipping audited ones.
    let tables: [(Option<&T>, bool); 4] = [
        (Some(t.rows), true),
        (t.groups, false),
        (t.dead, false),
        (t.issues, false),
    ];
    for (table, legacy_rows) in tables {
        let Some(table) = table else { continue };
        let mut from = String::new();
        loop {
            let next = table.range(from.as_str()..)?.next();
            let Some(row) = next else { break };
            let (k, _) = row?;
            let id = k.value().split('/').next().unwrap_or_default().to_string();
            drop(k);
            if !audited(&id) && !out.contains(&id) {
                let sets = BatchSets::read(t.batches, &id)?;
                let p = prefix(&id);
                let end = prefix_end(&id);
                for row in table.range(p.as_str()..end.as_str())? {
                    let (k, v) = row?;
                    let batch = if legacy_rows {
                        legacy::stamp(v.value()).map(|(b, _)| b)
                    } else {
                        record_batch(k.value(), id.len())
                    };
                    if batch.is_none_or(|b| !sets.staging.contains(&b)) {
                        push(&id, &mut out);
                        break;
                    }
                }
            }
            from = prefix_end(&id);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> RosterRow {
        RosterRow {
            id: "MRN-1".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            address1: "1 Main St".into(),
            city: "Austin".into(),
            state: Some("TX".into()),
            zip: "78701".into(),
            deceased: true,
            nok_state: Some("CA".into()),
            ..RosterRow::default()
        }
    }

    #[test]
    fn totals_read_as_counts() {
        let mut t = RosterTotals::roster();
        t.add_row(&sample());
        let c: Counts = serde_json::from_slice(&json(&t).unwrap()).unwrap();
        assert_eq!(c.source, CountSource::Roster);
        assert_eq!(c.total, 1);
        assert_eq!(c.by_state.get("TX"), Some(&1));
        assert_eq!(c.deceased_without_nok, 1);
    }

    /// The one-pass class agrees with the row's own tests.
    #[test]
    fn class_agrees_with_the_row() {
        use crate::domain::roster::FixReason;
        let mut r = sample();
        for f in [
            |r: &mut RosterRow| r.deceased = false,
            |r: &mut RosterRow| r.zip = "1".into(),
            |r: &mut RosterRow| r.first_name = "N/A".into(),
            |r: &mut RosterRow| r.last_name = "?".into(),
            |r: &mut RosterRow| {
                r.email = "a@example.org".into();
                r.email_consent = true
            },
        ] {
            f(&mut r);
            let c = RowClass::of(&r, None, false);
            assert_eq!(c.reachable, r.reachable(), "{r:?}");
            let fix = match r.needs_fixing() {
                None => 0,
                Some(FixReason::NoName) => 1,
                Some(FixReason::NoPostalAddress) => 2,
            };
            assert_eq!(c.fix, fix, "{r:?}");
        }
    }

    #[test]
    fn classes_round_trip_and_count_up_and_down() {
        let mut r = sample();
        r.deceased = false;
        let c = RowClass::of(&r, Some(3), true);
        assert_eq!(RowClass::from_bytes(c.to_bytes()), c);
        let mut t = RosterTotals::roster();
        t.count(&c, Some("Lakeside"), true);
        let mut nf = r.clone();
        nf.zip = "7870".into();
        let n = RowClass::of(&nf, Some(3), false);
        assert_eq!(n.fix, 2);
        t.count(&n, Some("Lakeside"), true);
        assert_eq!(t.counts.total, 2);
        assert_eq!(t.counts.unreachable, 1);
        assert_eq!(t.needs_fixing, 1);
        assert_eq!(t.warnings, 1);
        assert_eq!(t.by_entity["Lakeside"].total, 2);
        // The row that needed fixing is replaced by its fixed version.
        t.count(&n, Some("Lakeside"), false);
        t.count(&c, Some("Lakeside"), true);
        assert_eq!(t.counts.total, 2);
        assert_eq!(t.counts.unreachable, 0);
        assert_eq!(t.needs_fixing, 0);
        assert_eq!(t.counts.by_state["TX"], 2);
        let mut u = RosterTotals::roster();
        u.merge(&t, true);
        u.merge(&t, false);
        assert_eq!(u.counts.total, 0);
        assert!(u.counts.by_state.is_empty() && u.by_entity.is_empty());
    }
}
