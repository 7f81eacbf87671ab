//! Rosters of affected individuals: rows sealed at rest, import batches, and aggregate
//! counts that can be read without the passphrase.
//!
//! # Tables
//!
//! * `roster_rows_v1`: key `<incident>/<person key hex>`; value
//!   `batch seq (u32 BE) ‖ line (u64 BE) ‖ payload`, where the payload is the [`RosterRow`]
//!   JSON sealed with the vault under `associated_data("roster_rows_v1", key, "row")`
//!   (`0x01 ‖ nonce ‖ ciphertext`), or `0x00 ‖ JSON` in an unencrypted database. The stamp
//!   (batch and line, no PHI) says which import wrote the row and where it was in the file.
//! * `roster_batches_v1`: key `<incident>/<batch seq, 6 digits>`; value [`Batch`] JSON
//!   (status `staging` or `committed`, file SHA-256, rows read / accepted / rejected /
//!   duplicates, `lines_done`, this batch's contribution to the counts, purge marks).
//! * `roster_counts_v1`: key `<incident>`; value [`RosterTotals`] JSON: a
//!   [`Counts`] (readable as one) plus e-mail-only, no-State and purge tallies. No PHI, so
//!   `roster stats` and the obligations engine need no key.
//!
//! The person key must not reveal the identifier (an MRN, an SSN): it is
//! `SHA-256(subkey ‖ incident ‖ 0x00 ‖ id)` with `subkey = Vault::derive_subkey("roster-person-v1")`,
//! or `SHA-256("breachdesk-person-v1" ‖ incident ‖ 0x00 ‖ id)` in an unencrypted database.
//! The same identifier in the same incident always gives the same key, which is how
//! duplicates are found, in one file and across appended imports, without an in-memory set.
//!
//! # Crash safety: the one exception to "one transaction per command"
//!
//! A roster can have hundreds of millions of rows and redb keeps a transaction's dirty pages
//! in memory, so `roster import` writes rows in chunk transactions into a batch whose status
//! is `staging`. To write each B-tree leaf about once, rows are first sorted by person key
//! (external sort: runs of [`RUN_ROWS`] sealed rows in a private temporary directory next to
//! the database, `<db>.roster-tmp/`, removed afterwards), then merged into `roster_rows_v1`
//! in key order, committing every [`CHUNK_ROWS`] rows. Staging chunks carry **no audit
//! entry** and are **not part of the record**: counts ignore them (the counts record is only
//! written at commit), the `roster/<id>` subject digest skips staging rows and batch records,
//! and `audit verify` does not call them orphans. The command's final write transaction,
//! through [`Store::write`](super::Store::write), flips the batch to `committed`, adds the
//! batch's counts to `roster_counts_v1` and appends the command's single audit entry
//! (`roster.import` on `roster/<incident>`). Until then nothing of the import is visible.
//!
//! After a crash (kill -9, power loss), re-running the import of the **same file** (same
//! SHA-256) resumes the staging batch: the file is read (and sorted) again from the top, so
//! the rejected-row report and the counts are rebuilt exactly without storing them, but a row
//! already staged by this batch at the same line is recognised by its stamp and counted
//! once (`lines_done` records how far reading got; it is informational). Importing a **different file**
//! while a staging batch exists discards the staging batch first (in chunks, unaudited,
//! since it was never part of the record). Importing a file whose SHA-256 matches a
//! committed batch is refused: it would only produce duplicates.
//!
//! `roster purge` deletes an incident's rows in one audited transaction, keeping the batch
//! records (marked purged) and the counts; after a purge further imports are refused, since
//! duplicates against the purged rows could no longer be found.

use std::collections::HashMap;

mod sort;

use chrono::{DateTime, Utc};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::phi::{PhiCodec, locked_error};
use super::tables::{ROSTER_BATCHES, ROSTER_COUNTS, ROSTER_ROWS, SubjectDigest};
use super::{Action, Actor, Change, Store, Subject};
use crate::domain::RosterRow;
use crate::domain::{CountSource, Counts, IncidentId};
use crate::error::{Error, Result};

/// Rows per staging transaction of the merge phase: bounds the dirty pages redb holds.
pub const CHUNK_ROWS: usize = 100_000;
/// Rows per sorted run: bounds the rows held in memory while reading (two runs at a time).
pub const RUN_ROWS: usize = 50_000;

/// Bytes of the stamp before the payload: batch (u32) and line (u64), big-endian.
pub(super) const STAMP_LEN: usize = 12;

use super::tables::ROSTER_ROWS_NAME as ROWS_NAME;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Being written; not part of the record.
    Staging,
    /// Committed with its audit entry.
    Committed,
}

/// One import of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub seq: u32,
    pub status: BatchStatus,
    pub file_sha256: String,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Last line of the file whose row is staged (resume progress).
    pub lines_done: u64,
    pub started: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<DateTime<Utc>>,
    /// What this batch added to the counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<RosterTotals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged: Option<DateTime<Utc>>,
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
}

impl RosterTotals {
    fn roster() -> RosterTotals {
        let mut t = RosterTotals::default();
        t.counts.source = CountSource::Roster;
        t
    }

    /// Counts one accepted individual (reference § 3: deceased individuals are affected
    /// individuals and count in their State).
    pub fn add_row(&mut self, row: &RosterRow) {
        self.add_class(&RowClass::of(row));
    }

    fn add_class(&mut self, r: &RowClass) {
        let c = &mut self.counts;
        c.total += 1;
        match r.state.as_ref().and_then(|s| std::str::from_utf8(s).ok()) {
            Some(st) => match c.by_state.get_mut(st) {
                Some(n) => *n += 1,
                None => {
                    c.by_state.insert(st.to_string(), 1);
                }
            },
            None => self.no_state += 1,
        }
        if r.deceased {
            self.deceased += 1;
            if r.nok_known {
                c.deceased_with_nok += 1;
            } else {
                c.deceased_without_nok += 1;
            }
        } else if !r.reachable {
            c.unreachable += 1;
        } else if !r.postal {
            self.email_only += 1;
        }
    }

    fn merge(&mut self, o: &RosterTotals) {
        let c = &mut self.counts;
        c.source = CountSource::Roster;
        c.total += o.counts.total;
        for (k, v) in &o.counts.by_state {
            *c.by_state.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &o.counts.by_jurisdiction {
            *c.by_jurisdiction.entry(k.clone()).or_insert(0) += v;
        }
        c.unreachable += o.counts.unreachable;
        c.deceased_with_nok += o.counts.deceased_with_nok;
        c.deceased_without_nok += o.counts.deceased_without_nok;
        self.email_only += o.email_only;
        self.no_state += o.no_state;
        self.deceased += o.deceased;
    }
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Storage(format!("cannot encode a roster record: {e}")))
}

fn prefix(id: &str) -> String {
    format!("{id}/")
}

/// The first key after every `<id>/…` key (`'0'` follows `'/'`).
fn prefix_end(id: &str) -> String {
    format!("{id}0")
}

fn batch_key(id: &str, seq: u32) -> String {
    format!("{id}/{seq:06}")
}

/// Computes person keys: a keyed hash of (incident, identifier).
pub struct PersonKeyer {
    secret: Option<[u8; 32]>,
}

impl PersonKeyer {
    /// Needs the key on an encrypted database.
    pub fn new(codec: &PhiCodec) -> Result<PersonKeyer> {
        match codec {
            PhiCodec::Plain => Ok(PersonKeyer { secret: None }),
            PhiCodec::Sealed(v) => Ok(PersonKeyer {
                secret: Some(v.derive_subkey("roster-person-v1")),
            }),
            PhiCodec::Locked => Err(locked_error()),
        }
    }

    pub fn hash(&self, incident: &str, id: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        match &self.secret {
            Some(k) => h.update(k),
            None => h.update(b"breachdesk-person-v1"),
        }
        h.update(incident.as_bytes());
        h.update([0u8]);
        h.update(id.as_bytes());
        h.finalize().into()
    }

    /// `<incident>/<person key hex>`, written into `out`.
    pub fn row_key(&self, incident: &str, id: &str, out: &mut String) {
        key_from_hash(incident, &self.hash(incident, id), out);
    }
}

/// The row key `<incident>/<hex>` for a hash from [`PersonKeyer::hash`].
pub(super) fn key_from_hash(incident: &str, hash: &[u8; 32], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.clear();
    out.push_str(incident);
    out.push('/');
    for &b in hash {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

impl Drop for PersonKeyer {
    fn drop(&mut self) {
        if let Some(k) = &mut self.secret {
            for b in k.iter_mut() {
                // Best effort, like the vault's own key.
                *b = 0;
            }
        }
    }
}

fn row_ad(key: &str) -> Vec<u8> {
    super::vault::associated_data(ROWS_NAME, key.as_bytes(), "row")
}

/// Encodes a stored row: stamp, then the sealed (or plain) JSON.
pub fn encode_row(
    codec: &PhiCodec,
    key: &str,
    batch: u32,
    line: u64,
    row: &RosterRow,
) -> Result<Vec<u8>> {
    seal_row(codec, key, batch, line, &row_json(row)?)
}

/// The stored JSON of a row (empty fields left out).
pub(super) fn row_json(row: &RosterRow) -> Result<Vec<u8>> {
    json(&CompactRow::new(row))
}

/// Stamp and seal a row's JSON from [`row_json`].
pub(super) fn seal_row(
    codec: &PhiCodec,
    key: &str,
    batch: u32,
    line: u64,
    plain: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(STAMP_LEN + plain.len() + 48);
    out.extend_from_slice(&batch.to_be_bytes());
    out.extend_from_slice(&line.to_be_bytes());
    match codec {
        PhiCodec::Plain => {
            out.push(0);
            out.extend_from_slice(plain);
        }
        PhiCodec::Sealed(v) => {
            let sealed = v
                .seal(&row_ad(key), plain)
                .map_err(|e| Error::Key(format!("cannot seal a roster row: {e}")))?;
            out.extend_from_slice(&sealed);
        }
        PhiCodec::Locked => return Err(locked_error()),
    }
    Ok(out)
}

/// Opens a stored row.
pub fn decode_row(codec: &PhiCodec, key: &str, value: &[u8]) -> Result<RosterRow> {
    let damaged = || {
        Error::Key(
            "a stored roster row failed authentication: it was altered or moved; run `breachdesk audit verify`"
                .into(),
        )
    };
    let payload = value.get(STAMP_LEN..).ok_or_else(damaged)?;
    let plain = match (codec, payload.first()) {
        // A clear row only in an unencrypted database: in an encrypted one it was planted.
        (PhiCodec::Plain, Some(0)) => payload[1..].to_vec(),
        (PhiCodec::Sealed(v), _) => v.open(&row_ad(key), payload).map_err(|_| damaged())?,
        (PhiCodec::Locked, _) => return Err(locked_error()),
        _ => return Err(damaged()),
    };
    // Absent fields are empty (see CompactRow).
    serde_json::from_slice::<RowRecord>(&plain)
        .map(RowRecord::into_row)
        .map_err(|_| damaged())
}

fn is_false(b: &bool) -> bool {
    !*b
}

macro_rules! compact_row {
    ($($s:ident),* ; $($o:ident),* ; $($b:ident),* ; $($c:ident: $t:ty),*) => {
        /// The stored JSON of a [`RosterRow`]: the same field names, empty fields left out
        /// (half the size for a typical row, so fewer pages to write).
        #[derive(Serialize)]
        struct CompactRow<'a> {
            $(#[serde(skip_serializing_if = "str::is_empty")] $s: &'a str,)*
            $(#[serde(skip_serializing_if = "Option::is_none")] $o: Option<&'a str>,)*
            $(#[serde(skip_serializing_if = "is_false")] $b: bool,)*
            $(#[serde(skip_serializing_if = "Option::is_none")] $c: Option<$t>,)*
        }

        impl<'a> CompactRow<'a> {
            fn new(r: &'a RosterRow) -> CompactRow<'a> {
                CompactRow {
                    $($s: r.$s.as_str(),)*
                    $($o: r.$o.as_deref(),)*
                    $($b: r.$b,)*
                    $($c: r.$c,)*
                }
            }
        }
    };
}

/// The stored JSON of a row, read back: every field optional (absent means empty).
#[derive(Deserialize, Default)]
#[serde(default)]
struct RowRecord {
    id: String,
    first_name: String,
    last_name: String,
    address1: String,
    address2: String,
    city: String,
    state: Option<String>,
    zip: String,
    email: String,
    email_consent: bool,
    phone: String,
    deceased: bool,
    nok_name: String,
    nok_address: String,
    nok_city: String,
    nok_state: Option<String>,
    nok_zip: String,
    minor: Option<bool>,
    representative_name: String,
    date_of_birth: Option<chrono::NaiveDate>,
    credit_monitoring_code: String,
}

impl RowRecord {
    fn into_row(self) -> RosterRow {
        RosterRow {
            id: self.id,
            first_name: self.first_name,
            last_name: self.last_name,
            address1: self.address1,
            address2: self.address2,
            city: self.city,
            state: self.state,
            zip: self.zip,
            email: self.email,
            email_consent: self.email_consent,
            phone: self.phone,
            deceased: self.deceased,
            nok_name: self.nok_name,
            nok_address: self.nok_address,
            nok_city: self.nok_city,
            nok_state: self.nok_state,
            nok_zip: self.nok_zip,
            minor: self.minor,
            representative_name: self.representative_name,
            date_of_birth: self.date_of_birth,
            credit_monitoring_code: self.credit_monitoring_code,
        }
    }
}

compact_row!(id, first_name, last_name, address1, address2, city, zip, email, phone, nok_name,
    nok_address, nok_city, nok_zip, representative_name, credit_monitoring_code; state, nok_state;
    email_consent, deceased; minor: bool, date_of_birth: chrono::NaiveDate);

/// The (batch, line) stamp of a stored row.
pub fn stamp(value: &[u8]) -> Option<(u32, u64)> {
    let b = u32::from_be_bytes(value.get(0..4)?.try_into().ok()?);
    let l = u64::from_be_bytes(value.get(4..STAMP_LEN)?.try_into().ok()?);
    Some((b, l))
}

fn read_batches<T>(table: &T, id: &str) -> Result<Vec<Batch>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let p = prefix(id);
    let mut out = Vec::new();
    for row in table.range(p.as_str()..)? {
        let (k, v) = row?;
        if !k.value().starts_with(&p) {
            break;
        }
        let b: Batch = serde_json::from_slice(v.value()).map_err(|_| {
            Error::Database(
                "a roster batch record is unreadable; run `breachdesk audit verify` to locate the damage"
                    .into(),
            )
        })?;
        out.push(b);
    }
    Ok(out)
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
    let Some(v) = t.get(id.as_str())? else {
        return Ok(None);
    };
    let totals = serde_json::from_slice(v.value()).map_err(|_| {
        Error::Database(
            "the roster counts record is unreadable; run `breachdesk audit verify` to locate the damage"
                .into(),
        )
    })?;
    Ok(Some(totals))
}

/// [`roster_counts`] inside a write transaction (for the engine's snapshot on update).
pub(super) fn roster_counts_write(
    tx: &WriteTransaction,
    id: &IncidentId,
) -> Result<Option<Counts>> {
    let t = tx.open_table(ROSTER_COUNTS)?;
    let Some(v) = t.get(id.as_str())? else {
        return Ok(None);
    };
    let mut c: Counts = serde_json::from_slice(v.value()).map_err(|_| {
        Error::Database(
            "the roster counts record is unreadable; run `breachdesk audit verify` to locate the damage"
                .into(),
        )
    })?;
    c.source = CountSource::Roster;
    Ok(Some(c))
}

/// The counts of an incident's imported roster (source [`CountSource::Roster`]), for the
/// obligations engine: `by_state` includes deceased individuals, `unreachable` counts living
/// individuals only. `None` when no roster was imported. Needs no key.
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

/// Deletes a staging batch's rows and record in chunk transactions (unaudited: staging is
/// not part of the record). Safe to interrupt: the record goes last.
pub fn discard_staging(store: &Store, id: &IncidentId, seq: u32) -> Result<()> {
    let p = prefix(id.as_str());
    let end = prefix_end(id.as_str());
    let mut from = p.clone();
    loop {
        let tx = store.db()?.begin_write()?;
        let done = {
            let mut rows = tx.open_table(ROSTER_ROWS)?;
            let mut doomed: Vec<String> = Vec::new();
            let mut last: Option<String> = None;
            let mut exhausted = true;
            for row in rows.range(from.as_str()..end.as_str())? {
                let (k, v) = row?;
                if stamp(v.value()).is_some_and(|(b, _)| b == seq) {
                    doomed.push(k.value().to_string());
                }
                if doomed.len() >= CHUNK_ROWS {
                    last = Some(k.value().to_string());
                    exhausted = false;
                    break;
                }
            }
            for k in &doomed {
                rows.remove(k.as_str())?;
            }
            if let Some(l) = last {
                from = l;
            }
            if exhausted {
                let mut batches = tx.open_table(ROSTER_BATCHES)?;
                batches.remove(batch_key(id.as_str(), seq).as_str())?;
            }
            exhausted
        };
        tx.commit()?;
        if done {
            return Ok(());
        }
    }
}

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Newly stored (or already staged by this batch at this line, on resume).
    Accepted,
    /// Same identifier as an earlier row: of this file (`batch` = this batch) or of an
    /// earlier import.
    Duplicate { first_batch: u32, first_line: u64 },
}

/// A staging import: writes chunks, then commits with the audit entry.
pub struct Stager<'a> {
    store: &'a Store,
    incident: IncidentId,
    codec: &'a PhiCodec,
    keyer: PersonKeyer,
    pub batch: Batch,
    pub added: RosterTotals,
    pub resumed: bool,
}

impl<'a> Stager<'a> {
    /// Starts (writing the staging batch record) or resumes a batch.
    pub fn start(
        store: &'a Store,
        incident: &IncidentId,
        codec: &'a PhiCodec,
        plan: Plan,
        file_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Stager<'a>> {
        let keyer = PersonKeyer::new(codec)?;
        let (mut batch, resumed) = match plan {
            Plan::Resume(b) => (b, true),
            Plan::Fresh { seq } => (new_batch(seq, file_sha256, now), false),
            Plan::DiscardThenFresh { stale, seq } => {
                discard_staging(store, incident, stale.seq)?;
                (new_batch(seq, file_sha256, now), false)
            }
            Plan::AlreadyImported(_) | Plan::Purged(_) => {
                return Err(Error::Storage(
                    "internal: a refused import plan reached the stager".into(),
                ));
            }
        };
        // Counters are rebuilt from the top of the file on resume.
        batch.rows_read = 0;
        batch.accepted = 0;
        batch.rejected = 0;
        batch.duplicates = 0;
        let s = Stager {
            store,
            incident: incident.clone(),
            codec,
            keyer,
            batch,
            added: RosterTotals::roster(),
            resumed,
        };
        if !resumed {
            let tx = store.db()?.begin_write()?;
            super::extra_tables(&tx)?;
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

    /// Reads every row of `reader` and stages it. Two phases, so that memory stays bounded
    /// and every B-tree leaf is written about once however large the file:
    ///
    /// 1. *Sort*: one thread parses, hashes and seals rows; another sorts them by person key
    ///    in runs of `run_rows` rows, written to temporary files in `<db>.roster-tmp/`
    ///    (sealed values and keyed hashes only: no plaintext PHI when the database is
    ///    encrypted; removed when the import ends, and at the start of the next one after a
    ///    crash).
    /// 2. *Merge*: the runs are merged in key order and inserted, committing a staging
    ///    transaction every [`CHUNK_ROWS`] rows. Equal keys arrive together (first line
    ///    first), so duplicates in the file need no lookup; duplicates of earlier imports are
    ///    found by the insert itself.
    ///
    /// Rejected rows are reported in line order; duplicates in key order.
    pub fn import_rows<S: RowSource>(
        &mut self,
        source: &mut S,
        run_rows: usize,
        progress: &(dyn Fn(Progress) + Sync),
        on_event: &mut dyn FnMut(Event<S::Issue>),
    ) -> Result<()> {
        let runs = sort::make_runs(
            source,
            run_rows.max(1),
            &sort::tmp_dir(self.store.path()),
            &self.keyer,
            self.codec,
            self.incident.as_str(),
            self.batch.seq,
            progress,
            &mut |rows_read, lines_done, issue| {
                self.batch.rows_read = rows_read;
                self.batch.lines_done = lines_done;
                if let Some(i) = issue {
                    self.batch.rejected += 1;
                    on_event(Event::Rejected(i));
                }
            },
        )?;
        sort::merge_into(
            self.store,
            self.incident.as_str(),
            &mut self.batch,
            &mut self.added,
            runs,
            progress,
            &mut |e| on_event(e),
        )
    }

    /// The final, audited transaction: the batch becomes committed, the counts are revised
    /// and one `roster.import` entry is appended.
    pub fn commit(mut self, actor: &Actor) -> Result<(Batch, RosterTotals)> {
        let id = self.incident.clone();
        self.batch.status = BatchStatus::Committed;
        self.batch.committed = Some(actor.now);
        self.batch.added = Some(self.added.clone());
        let b = self.batch.clone();
        let detail = format!(
            "batch={} file_sha256={} rows_read={} accepted={} rejected={} duplicates={}{}",
            b.seq,
            b.file_sha256,
            b.rows_read,
            b.accepted,
            b.rejected,
            b.duplicates,
            if self.resumed { " resumed=true" } else { "" }
        );
        let store = self.store;
        store.write_tx(actor, |tx| {
            self.put_batch(tx)?;
            let mut counts = tx.open_table(ROSTER_COUNTS)?;
            let mut t = match counts.get(id.as_str())? {
                Some(v) => serde_json::from_slice(v.value()).map_err(|_| {
                    Error::Database(
                        "the roster counts record is unreadable; run `breachdesk audit verify`"
                            .into(),
                    )
                })?,
                None => RosterTotals::roster(),
            };
            t.merge(&self.added);
            t.batches += 1;
            t.rows_stored += self.batch.accepted;
            let v = json(&t)?;
            counts.insert(id.as_str(), v.as_slice())?;
            Ok((
                (self.batch.clone(), t),
                Change::new(Action::RosterImport, Subject::Roster(id.clone())).detail(detail),
            ))
        })
    }
}

/// Progress of an import, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Bytes of the file read (phase 1).
    Read(u64),
    /// Rows written of the rows to write (phase 2).
    Write { done: u64, total: u64 },
}

/// One row from a [`RowSource`]: its line number and the row, or the issue that rejected it.
pub type SourceRow<I> = (u64, std::result::Result<RosterRow, I>);

/// Where an import's rows come from: validated rows or the issue that rejected one (the
/// store never looks inside an issue; it only reports it back in line order).
pub trait RowSource: Send {
    /// Why a row was rejected (no PHI: it is reported and may be printed).
    type Issue: Send;
    /// The next row with its line number, or the issue that rejected it; `None` at the end.
    /// An error ends the import (the file is unusable past this point).
    fn next_row(&mut self) -> Result<Option<SourceRow<Self::Issue>>>;
    /// Bytes of the file read so far, for progress.
    fn bytes_read(&self) -> u64;
}

/// What the import reports, row by row.
#[derive(Debug)]
pub enum Event<I> {
    /// A row failed validation and was not imported.
    Rejected(I),
    /// A row has the identifier of an earlier row (`first_batch` = this batch: earlier in
    /// this file).
    Duplicate {
        line: u64,
        first_batch: u32,
        first_line: u64,
    },
}

/// What the counts need to know about a row (no PHI beyond the State).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowClass {
    state: Option<[u8; 2]>,
    deceased: bool,
    nok_known: bool,
    reachable: bool,
    postal: bool,
}

impl RowClass {
    pub fn of(row: &RosterRow) -> RowClass {
        RowClass {
            state: row
                .state
                .as_deref()
                .and_then(|s| s.as_bytes().try_into().ok()),
            deceased: row.deceased,
            nok_known: row.nok_contact_known(),
            reachable: row.reachable(),
            postal: row.has_postal_address(),
        }
    }
}

fn new_batch(seq: u32, sha: &str, now: DateTime<Utc>) -> Batch {
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
    }
}

/// Validation without writing: duplicates in the file (a map of hashed keys to first lines,
/// ~24 bytes per accepted row) and against committed rows.
pub struct DryRun<'a> {
    tx: ReadTransaction,
    incident: &'a IncidentId,
    keyer: PersonKeyer,
    staging: Vec<u32>,
    seen: HashMap<u64, u64>,
    key_buf: String,
    pub added: RosterTotals,
}

impl<'a> DryRun<'a> {
    pub fn new(store: &Store, incident: &'a IncidentId, codec: &PhiCodec) -> Result<DryRun<'a>> {
        let tx = store.db()?.begin_read()?;
        let staging = batches(&tx, incident)?
            .into_iter()
            .filter(|b| b.status == BatchStatus::Staging)
            .map(|b| b.seq)
            .collect();
        Ok(DryRun {
            tx,
            incident,
            keyer: PersonKeyer::new(codec)?,
            staging,
            seen: HashMap::new(),
            key_buf: String::new(),
            added: RosterTotals::roster(),
        })
    }

    pub fn check(&mut self, line: u64, row: &RosterRow) -> Result<Outcome> {
        let h = self.keyer.hash(self.incident.as_str(), &row.id);
        let short = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
        if let Some(first) = self.seen.get(&short) {
            return Ok(Outcome::Duplicate {
                first_batch: 0,
                first_line: *first,
            });
        }
        self.keyer
            .row_key(self.incident.as_str(), &row.id, &mut self.key_buf);
        let rows = self.tx.open_table(ROSTER_ROWS)?;
        if let Some(v) = rows.get(self.key_buf.as_str())?
            && let Some((b, l)) = stamp(v.value())
            && !self.staging.contains(&b)
        {
            return Ok(Outcome::Duplicate {
                first_batch: b,
                first_line: l,
            });
        }
        self.seen.insert(short, line);
        self.added.add_row(row);
        Ok(Outcome::Accepted)
    }
}

/// Deletes an incident's roster rows in one audited transaction, keeping batch records
/// (marked purged) and counts. Returns the number of rows deleted.
pub fn purge(store: &Store, actor: &Actor, id: &IncidentId) -> Result<u64> {
    store.write_tx(actor, |tx| {
        super::extra_tables(tx)?;
        let p = prefix(id.as_str());
        let end = prefix_end(id.as_str());
        let mut n = 0u64;
        {
            let mut rows = tx.open_table(ROSTER_ROWS)?;
            rows.retain_in(p.as_str()..end.as_str(), |_, _| {
                n += 1;
                false
            })?;
        }
        let mut batches_t = tx.open_table(ROSTER_BATCHES)?;
        let all = read_batches(&batches_t, id.as_str())?;
        for mut b in all {
            let key = batch_key(id.as_str(), b.seq);
            if b.status == BatchStatus::Staging {
                batches_t.remove(key.as_str())?;
                continue;
            }
            if b.purged.is_none() {
                b.purged = Some(actor.now);
            }
            let v = json(&b)?;
            batches_t.insert(key.as_str(), v.as_slice())?;
        }
        let mut counts = tx.open_table(ROSTER_COUNTS)?;
        let mut t: RosterTotals = match counts.get(id.as_str())? {
            Some(v) => serde_json::from_slice(v.value()).map_err(|_| {
                Error::Database(
                    "the roster counts record is unreadable; run `breachdesk audit verify`".into(),
                )
            })?,
            None => {
                return Err(Error::NotFound(format!(
                    "incident {id} has no imported roster; nothing to purge"
                )));
            }
        };
        if t.purged.is_none() {
            t.purged = Some(actor.now);
        }
        t.rows_stored = 0;
        let v = json(&t)?;
        counts.insert(id.as_str(), v.as_slice())?;
        Ok((
            n,
            Change::new(Action::RosterPurge, Subject::Roster(id.clone()))
                .detail(format!("rows_deleted={n}; counts and batch records kept")),
        ))
    })
}

fn staging_seqs<T>(batches: &T, id: &str) -> Result<Vec<u32>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let p = prefix(id);
    let mut out = Vec::new();
    for row in batches.range(p.as_str()..)? {
        let (k, v) = row?;
        if !k.value().starts_with(&p) {
            break;
        }
        if let Ok(b) = serde_json::from_slice::<Batch>(v.value())
            && b.status == BatchStatus::Staging
        {
            out.push(b.seq);
        }
    }
    Ok(out)
}

/// Adds the committed batch records of `id` (key order) to a subject digest and returns the
/// sequence numbers of its staging batches. An unreadable batch record counts as committed.
pub(super) fn digest_batches<T>(
    d: &mut SubjectDigest,
    name: &str,
    id: &str,
    batches: &T,
) -> Result<Vec<u32>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let p = prefix(id);
    let end = prefix_end(id);
    let mut staging = Vec::new();
    for row in batches.range(p.as_str()..end.as_str())? {
        let (k, v) = row?;
        match serde_json::from_slice::<Batch>(v.value()) {
            Ok(b) if b.status == BatchStatus::Staging => staging.push(b.seq),
            _ => d.add(name, k.value().as_bytes(), v.value()),
        }
    }
    Ok(staging)
}

/// Adds the rows of `id` (key order) to a subject digest, except those of a staging batch:
/// any other row counts, so a row added outside breachdesk changes the digest.
pub(super) fn digest_rows<T>(
    d: &mut SubjectDigest,
    name: &str,
    id: &str,
    rows: &T,
    staging: &[u32],
) -> Result<()>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let p = prefix(id);
    let end = prefix_end(id);
    for row in rows.range(p.as_str()..end.as_str())? {
        let (k, v) = row?;
        let value = v.value();
        if let Some((b, _)) = stamp(value)
            && staging.contains(&b)
        {
            continue;
        }
        d.add(name, k.value().as_bytes(), value);
    }
    Ok(())
}

/// Incidents with committed roster records (rows, batches or counts), for orphan detection.
/// `audited(id)` says an incident has a `roster/<id>` entry; its rows are then skipped
/// without being read.
pub(super) fn committed_incidents<T>(
    rows: &T,
    batches: &T,
    counts: &T,
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
    for row in counts.iter()? {
        let (k, _) = row?;
        push(k.value(), &mut out);
    }
    for row in batches.iter()? {
        let (k, v) = row?;
        let id = k.value().split('/').next().unwrap_or_default();
        let staging = serde_json::from_slice::<Batch>(v.value())
            .is_ok_and(|b| b.status == BatchStatus::Staging);
        if !staging {
            push(id, &mut out);
        }
    }
    let mut from = String::new();
    loop {
        let next = rows.range(from.as_str()..)?.next();
        let Some(row) = next else { break };
        let (k, _) = row?;
        let id = k.value().split('/').next().unwrap_or_default().to_string();
        drop(k);
        if !audited(&id) && !out.contains(&id) {
            let staging = staging_seqs(batches, &id)?;
            let p = prefix(&id);
            let end = prefix_end(&id);
            for row in rows.range(p.as_str()..end.as_str())? {
                let (_, v) = row?;
                let in_staging = stamp(v.value()).is_some_and(|(b, _)| staging.contains(&b));
                if !in_staging {
                    push(&id, &mut out);
                    break;
                }
            }
        }
        from = prefix_end(&id);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::vault::Vault;

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
    fn sealed_rows_round_trip_and_are_bound_to_their_key() {
        let (vault, _) = Vault::create(b"pw").unwrap();
        let codec = PhiCodec::Sealed(vault);
        let keyer = PersonKeyer::new(&codec).unwrap();
        let mut key = String::new();
        keyer.row_key("2026-0001", "MRN-1", &mut key);
        assert!(!key.contains("MRN"));
        let v = encode_row(&codec, &key, 3, 17, &sample()).unwrap();
        assert_eq!(stamp(&v), Some((3, 17)));
        assert_eq!(decode_row(&codec, &key, &v).unwrap(), sample());
        let mut other = String::new();
        keyer.row_key("2026-0001", "MRN-2", &mut other);
        assert!(
            decode_row(&codec, &other, &v).is_err(),
            "moved value must fail"
        );
    }

    #[test]
    fn person_keys_are_keyed_and_per_incident() {
        let plain = PersonKeyer::new(&PhiCodec::Plain).unwrap();
        let (vault, _) = Vault::create(b"pw").unwrap();
        let sealed = PersonKeyer::new(&PhiCodec::Sealed(vault)).unwrap();
        assert_ne!(plain.hash("a", "1"), sealed.hash("a", "1"));
        assert_ne!(plain.hash("a", "1"), plain.hash("b", "1"));
        assert_ne!(plain.hash("a1", ""), plain.hash("a", "1"));
        assert!(PersonKeyer::new(&PhiCodec::Locked).is_err());
    }

    #[test]
    fn plain_rows_round_trip_with_empty_fields_left_out() {
        let v = encode_row(&PhiCodec::Plain, "k", 1, 2, &sample()).unwrap();
        let text = String::from_utf8_lossy(&v[STAMP_LEN + 1..]).into_owned();
        assert!(!text.contains("address2"), "{text}");
        assert_eq!(decode_row(&PhiCodec::Plain, "k", &v).unwrap(), sample());
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
}
