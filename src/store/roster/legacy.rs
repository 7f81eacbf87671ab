//! Rosters written by release 0.1: one sealed JSON row per record in `roster_rows_v1`,
//! keyed by the person key, sealed under the database's data key. [`convert`] moves such a
//! roster to sealed groups under a roster key of its own (needs the key, so it runs at the
//! first roster command that has the passphrase), in chunk transactions into a staging
//! batch, then one audited `roster.migrate` transaction that commits it and deletes the old
//! rows, recording the subject's new digest.

use serde::Deserialize;

use super::codec::{self, GROUP_PAYLOAD_LIMIT, RosterSeal};
use super::import::new_batch;
use super::{
    BatchStatus, CHUNK_BYTES, MIGRATION_FILE, RosterTotals, batch_key, json, prefix, prefix_end,
    read_batches, read_totals,
};
use crate::domain::{IncidentId, RosterRow};
use crate::error::{Error, Result};
use crate::store::phi::{PhiCodec, locked_error};
use crate::store::tables::{
    ROSTER_BATCHES, ROSTER_COUNTS, ROSTER_GROUPS, ROSTER_KEYS, ROSTER_ROWS, ROSTER_ROWS_NAME,
};
use crate::store::{Action, Actor, Change, Store, Subject};

/// Bytes of the stamp before a 0.1 row's payload: batch (u32) and line (u64), big-endian.
pub const STAMP_LEN: usize = 12;

/// The (batch, line) stamp of a release 0.1 row.
pub fn stamp(value: &[u8]) -> Option<(u32, u64)> {
    let b = u32::from_be_bytes(value.get(0..4)?.try_into().ok()?);
    let l = u64::from_be_bytes(value.get(4..STAMP_LEN)?.try_into().ok()?);
    Some((b, l))
}

/// A 0.1 row's JSON: every field optional (absent means empty).
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
    minor: bool,
    representative_name: String,
}

fn damaged() -> Error {
    Error::Key(
        "a stored roster row (release 0.1 format) failed authentication: it was altered or moved; run `breachdesk audit verify`"
            .into(),
    )
}

/// Opens a release 0.1 row: `stamp ‖ 0x01 ‖ nonce ‖ sealed JSON` under the database key with
/// associated data ("roster_rows_v1", key, "row"), or `stamp ‖ 0x00 ‖ JSON` in an
/// unencrypted database. A plain value in an encrypted database is refused.
pub fn decode_row(codec: &PhiCodec, key: &str, value: &[u8]) -> Result<RosterRow> {
    let payload = value.get(STAMP_LEN..).ok_or_else(damaged)?;
    let plain = match (codec, payload.first()) {
        (PhiCodec::Plain, Some(0)) => payload[1..].to_vec(),
        (PhiCodec::Sealed(v), Some(1)) => v
            .open(
                &crate::store::vault::associated_data(ROSTER_ROWS_NAME, key.as_bytes(), "row"),
                payload,
            )
            .map_err(|_| damaged())?,
        (PhiCodec::Locked, _) => return Err(locked_error()),
        _ => return Err(damaged()),
    };
    let r: RowRecord = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    Ok(RosterRow {
        id: r.id,
        first_name: r.first_name,
        last_name: r.last_name,
        address1: r.address1,
        address2: r.address2,
        city: r.city,
        state: r.state,
        zip: r.zip,
        email: r.email,
        email_consent: r.email_consent,
        phone: r.phone,
        deceased: r.deceased,
        nok_name: r.nok_name,
        nok_address: r.nok_address,
        nok_city: r.nok_city,
        nok_state: r.nok_state,
        nok_zip: r.nok_zip,
        date_of_birth: None,
        // 0.1 stored `false` for both "no" and "not given".
        minor: r.minor.then_some(true),
        representative_name: r.representative_name,
        covered_entity: String::new(),
        credit_monitoring_code: String::new(),
    })
}

/// Converts the incident's release 0.1 roster (if it has one) to sealed groups under a new
/// roster key. Returns the number of rows converted (0: nothing to do).
pub fn convert(store: &Store, actor: &Actor, id: &IncidentId, codec: &PhiCodec) -> Result<u64> {
    let sid = id.as_str();
    let view = store.reader()?.roster_view(id)?;
    if view.legacy.is_empty() {
        return Ok(0);
    }
    if codec.is_locked() {
        return Err(locked_error());
    }
    // An interrupted conversion is started over.
    for b in &view.batches {
        if b.status == BatchStatus::Staging && b.file_sha256 == MIGRATION_FILE {
            super::discard_staging(store, id, b.seq)?;
        }
    }
    let seq = view.batches.iter().map(|b| b.seq).max().unwrap_or(0) + 1;
    let mut batch = new_batch(seq, MIGRATION_FILE, actor.now);
    let (seal, stored_key) = match (store.reader()?.roster_seal(id, codec)?, codec) {
        (Some(s), _) => (s, None),
        (None, PhiCodec::Sealed(v)) => {
            let k =
                crate::store::vault::DataKey::generate().map_err(|e| Error::Key(e.to_string()))?;
            let stored = codec::encode_roster_key(v, sid, &k)?;
            (RosterSeal::Sealed(k), Some(stored))
        }
        (None, _) => (RosterSeal::Plain, None),
    };
    batch.key_fingerprint = seal.fingerprint();
    {
        let tx = store.db()?.begin_write()?;
        super::super::extra_tables(&tx)?;
        if let Some(k) = &stored_key {
            tx.open_table(ROSTER_KEYS)?.insert(sid, k.as_slice())?;
        }
        tx.open_table(ROSTER_BATCHES)?
            .insert(batch_key(sid, seq).as_str(), json(&batch)?.as_slice())?;
        tx.commit()?;
    }
    // One pass per 0.1 batch, so each one's rows get contiguous ordinals.
    let mut ordinal: u32 = 0;
    let mut total = 0u64;
    let mut pending: Vec<(String, Vec<u8>)> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut payload = Vec::with_capacity(GROUP_PAYLOAD_LIMIT + 256);
    let mut body = Vec::new();
    let mut value = Vec::new();
    let flush = |pending: &mut Vec<(String, Vec<u8>)>, batch: &super::Batch| -> Result<()> {
        let tx = store.db()?.begin_write()?;
        {
            let mut g = tx.open_table(ROSTER_GROUPS)?;
            for (k, v) in pending.drain(..) {
                g.insert(k.as_str(), v.as_slice())?;
            }
            tx.open_table(ROSTER_BATCHES)?
                .insert(batch_key(sid, batch.seq).as_str(), json(batch)?.as_slice())?;
        }
        tx.commit()?;
        Ok(())
    };
    for &origin in &view.legacy {
        let rtx = store.db.begin_read()?;
        let rows = rtx.open_table(ROSTER_ROWS)?;
        let (p, end) = (prefix(sid), prefix_end(sid));
        let mut first = ordinal;
        let mut n: u16 = 0;
        let mut prev = (ordinal, 0u64);
        payload.clear();
        for row in rows.range(p.as_str()..end.as_str())? {
            let (k, v) = row?;
            let Some((b, line)) = stamp(v.value()) else {
                return Err(damaged());
            };
            if b != origin {
                continue;
            }
            let r = decode_row(codec, k.value(), v.value())?;
            body.clear();
            codec::encode_row_body(&r, &mut body);
            if n > 0 && (payload.len() + body.len() + 20 > GROUP_PAYLOAD_LIMIT || n == u16::MAX) {
                let key = codec::group_key(sid, seq, first);
                codec::seal_group(&seal, &key, origin, n, MIGRATION_FILE, &payload, &mut value)?;
                pending_bytes += value.len();
                pending.push((key, std::mem::take(&mut value)));
                batch.groups += 1;
                payload.clear();
                n = 0;
            }
            if n == 0 {
                first = ordinal;
                prev = (ordinal, 0);
            }
            codec::push_row(
                &mut payload,
                ordinal - prev.0,
                line.saturating_sub(prev.1),
                &body,
            );
            prev = (ordinal, line);
            n += 1;
            ordinal = ordinal
                .checked_add(1)
                .ok_or_else(|| Error::invalid("roster too large"))?;
            total += 1;
            if pending_bytes >= CHUNK_BYTES {
                batch.accepted = total;
                batch.ordinals = u64::from(ordinal);
                flush(&mut pending, &batch)?;
                pending_bytes = 0;
            }
        }
        if n > 0 {
            let key = codec::group_key(sid, seq, first);
            codec::seal_group(&seal, &key, origin, n, MIGRATION_FILE, &payload, &mut value)?;
            pending.push((key, std::mem::take(&mut value)));
            batch.groups += 1;
        }
    }
    batch.accepted = total;
    batch.rows_read = total;
    batch.ordinals = u64::from(ordinal);
    flush(&mut pending, &batch)?;
    let fingerprint = seal.fingerprint();
    store.write_tx(actor, |tx| {
        batch.status = BatchStatus::Committed;
        batch.committed = Some(actor.now);
        batch.added = Some(RosterTotals::roster());
        let mut batches = tx.open_table(ROSTER_BATCHES)?;
        for mut b in read_batches(&batches, sid)? {
            if view.legacy.contains(&b.seq) {
                // The rows now live in the migration batch.
                b.format = 1;
                batches.insert(batch_key(sid, b.seq).as_str(), json(&b)?.as_slice())?;
            }
        }
        batches.insert(batch_key(sid, seq).as_str(), json(&batch)?.as_slice())?;
        // A 0.1 import interrupted and never resumed: its rows go with the others.
        for b in read_batches(&batches, sid)? {
            if b.status == BatchStatus::Staging && b.format == 0 {
                batches.remove(batch_key(sid, b.seq).as_str())?;
            }
        }
        let mut rows = tx.open_table(ROSTER_ROWS)?;
        let (p, end) = (prefix(sid), prefix_end(sid));
        rows.retain_in(p.as_str()..end.as_str(), |_, _| false)?;
        let mut counts = tx.open_table(ROSTER_COUNTS)?;
        if let Some(mut t) = read_totals(&counts, sid)? {
            t.key_fingerprint = fingerprint.clone();
            counts.insert(sid, json(&t)?.as_slice())?;
        }
        let mut detail = format!(
            "rows={total} from batches {:?} into batch {seq}: release 0.1 rows (one sealed record each, under the database key) now in {} sealed groups",
            view.legacy, batch.groups
        );
        if let Some(f) = &fingerprint {
            detail.push_str(&format!(" under roster key {}", &f[..16]));
        }
        Ok((
            (),
            Change::new(Action::RosterMigrate, Subject::Roster(id.clone())).detail(detail),
        ))
    })?;
    Ok(total)
}
