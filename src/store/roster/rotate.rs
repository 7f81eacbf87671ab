//! Rotating a roster's key (for `rekey --rotate`): a new roster key, every group re-sealed
//! under it, then the new key made the roster's key, wrapped under the database's new data
//! key. After that, neither an old passphrase nor an old backup opens rows written later.
//!
//! Three steps, for a caller that rotates every key of the database:
//!
//! 1. [`begin`] (unaudited, idempotent): the next key is stored beside the current one,
//!    both wrapped by the current database key (key record format `0x02`), so any command
//!    run before the rotation finishes still reads every group.
//! 2. [`reseal`] (unaudited chunk transactions, resumable, bounded memory): every group
//!    still sealed under the current key is opened and sealed again under the next one.
//!    Interrupted, it starts again where it stopped (a group that opens under the next key
//!    is done). Rejected rows' keyed identifier hashes cannot be recomputed (the identifier
//!    is not stored), so their `person` field is dropped: such a rejected row is no longer
//!    resolved automatically by a later import of the fixed row.
//! 3. [`finish`], inside the caller's audited transaction (its one audit entry records the
//!    roster's new digest): the record holds only the next key, wrapped by the database's
//!    new data key (format `0x01`); batches and counts name its fingerprint.
//!
//! Imports are refused while a rotation is under way. Between steps 2 and 3 `audit verify`
//! reports the roster's records as changed since its last entry, until step 3 records them.

use redb::{ReadableTable, WriteTransaction};

use super::codec::{self, GROUP_HEADER, KEY_FORMAT, RosterSeal};
use super::{BatchStatus, json, prefix, prefix_end, read_batches, read_totals};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::tables::{
    ROSTER_BATCHES, ROSTER_COUNTS, ROSTER_GROUPS, ROSTER_ISSUES, ROSTER_KEYS, ROSTER_KEYS_NAME,
};
use crate::store::vault::{DataKey, Vault, associated_data};

/// Format byte of a key record during a rotation.
pub const ROTATING_FORMAT: u8 = 0x02;

fn next_ad(id: &str) -> Vec<u8> {
    associated_data(ROSTER_KEYS_NAME, id.as_bytes(), "roster-key-next")
}

fn damaged() -> Error {
    Error::Key(
        "the roster's key record failed authentication; run `breachdesk audit verify`".into(),
    )
}

/// A key record during a rotation: `0x02 ‖ u16 BE length ‖ the current key's record (format
/// 0x01) ‖ fingerprint of the next key (32) ‖ next key wrapped by the database key with
/// associated data ("roster_keys_v2", id, "roster-key-next")`.
fn encode_rotating(current: &[u8], vault: &Vault, id: &str, next: &DataKey) -> Result<Vec<u8>> {
    let len = u16::try_from(current.len()).map_err(|_| damaged())?;
    let mut out = vec![ROTATING_FORMAT];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(current);
    out.extend_from_slice(&next.fingerprint());
    out.extend_from_slice(
        &vault
            .wrap_key(next, &next_ad(id))
            .map_err(|e| Error::Key(e.to_string()))?,
    );
    Ok(out)
}

/// The current key's record and the next key, from a rotating record.
fn decode_rotating<'a>(stored: &'a [u8], vault: &Vault, id: &str) -> Result<(&'a [u8], DataKey)> {
    let len = usize::from(u16::from_be_bytes(
        stored
            .get(1..3)
            .ok_or_else(damaged)?
            .try_into()
            .map_err(|_| damaged())?,
    ));
    let current = stored.get(3..3 + len).ok_or_else(damaged)?;
    let rest = stored.get(3 + len..).ok_or_else(damaged)?;
    let fp = rest.get(..32).ok_or_else(damaged)?;
    let next = vault
        .unwrap_key(&next_ad(id), rest.get(32..).ok_or_else(damaged)?)
        .map_err(|_| damaged())?;
    if next.fingerprint()[..] != *fp {
        return Err(damaged());
    }
    Ok((current, next))
}

/// The keys a stored key record holds: the current one, and the next during a rotation.
pub fn keys(vault: &Vault, id: &str, stored: &[u8]) -> Result<(DataKey, Option<DataKey>)> {
    match stored.first() {
        Some(&KEY_FORMAT) => Ok((codec::decode_roster_key(vault, id, stored)?, None)),
        Some(&ROTATING_FORMAT) => {
            let (current, next) = decode_rotating(stored, vault, id)?;
            Ok((codec::decode_roster_key(vault, id, current)?, Some(next)))
        }
        _ => Err(damaged()),
    }
}

/// Whether the roster's key is being rotated (its key record holds two keys).
pub fn rotating(stored: &[u8]) -> bool {
    stored.first() == Some(&ROTATING_FORMAT)
}

fn key_record(store: &Store, id: &str) -> Result<Option<Vec<u8>>> {
    let tx = store.db.begin_read()?;
    let t = match tx.open_table(ROSTER_KEYS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(t.get(id)?.map(|v| v.value().to_vec()))
}

/// Step 1: stores a next key beside the current one (idempotent). `vault` is the database's
/// current data key. A roster without a key (unencrypted database, or none imported) has
/// nothing to rotate: `false`.
pub fn begin(store: &Store, id: &IncidentId, vault: &Vault) -> Result<bool> {
    let sid = id.as_str();
    let Some(stored) = key_record(store, sid)? else {
        return Ok(false);
    };
    if rotating(&stored) {
        keys(vault, sid, &stored)?;
        return Ok(true);
    }
    codec::decode_roster_key(vault, sid, &stored)?;
    let next = DataKey::generate().map_err(|e| Error::Key(e.to_string()))?;
    let record = encode_rotating(&stored, vault, sid, &next)?;
    let tx = store.db()?.begin_write()?;
    tx.open_table(ROSTER_KEYS)?.insert(sid, record.as_slice())?;
    tx.commit()?;
    Ok(true)
}

/// Groups re-sealed per chunk transaction.
const RESEAL_CHUNK: usize = 4096;

/// Step 2: re-seals every group still under the current key (chunk transactions; resumable).
/// Returns how many groups it re-sealed; `progress` gets the groups seen so far.
pub fn reseal(
    store: &Store,
    id: &IncidentId,
    vault: &Vault,
    progress: &dyn Fn(u64),
) -> Result<u64> {
    let sid = id.as_str();
    let Some(stored) = key_record(store, sid)? else {
        return Ok(0);
    };
    let (current, Some(next)) = keys(vault, sid, &stored)? else {
        return Err(Error::Storage(
            "internal: reseal before the rotation began".into(),
        ));
    };
    let (cur, nxt) = (RosterSeal::Sealed(current), RosterSeal::Sealed(next));
    let shas: std::collections::HashMap<u32, String> = {
        let tx = store.db.begin_read()?;
        read_batches(&tx.open_table(ROSTER_BATCHES)?, sid)?
            .into_iter()
            .map(|b| (b.seq, b.file_sha256))
            .collect()
    };
    let (mut from, end) = (prefix(sid), prefix_end(sid));
    let (mut seen, mut done) = (0u64, 0u64);
    let mut payload = Vec::with_capacity(4096);
    let mut value = Vec::with_capacity(4096);
    loop {
        let tx = store.db()?.begin_write()?;
        let more = {
            let mut t = tx.open_table(ROSTER_GROUPS)?;
            let chunk: Vec<(String, Vec<u8>)> = t
                .range(from.as_str()..end.as_str())?
                .take(RESEAL_CHUNK)
                .map(|r| r.map(|(k, v)| (k.value().to_string(), v.value().to_vec())))
                .collect::<std::result::Result<_, _>>()?;
            for (k, v) in &chunk {
                seen += 1;
                let Some((batch, _)) = codec::parse_group_key(k) else {
                    continue;
                };
                let sha = shas.get(&batch).map(String::as_str).unwrap_or("");
                if codec::open_group(&nxt, k, sha, v, &mut payload).is_ok() {
                    continue;
                }
                let (origin, rows) = codec::open_group(&cur, k, sha, v, &mut payload)?;
                codec::seal_group(&nxt, k, origin, rows, sha, &payload, &mut value)?;
                debug_assert!(value.len() > GROUP_HEADER);
                t.insert(k.as_str(), value.as_slice())?;
                done += 1;
            }
            if let Some((k, _)) = chunk.last() {
                from = format!("{k}\u{0}");
            }
            chunk.len() == RESEAL_CHUNK
        };
        tx.commit()?;
        progress(seen);
        if !more {
            break;
        }
    }
    // Keyed hashes of rejected rows were under the current key: they can only be dropped.
    let tx = store.db()?.begin_write()?;
    {
        let mut t = tx.open_table(ROSTER_ISSUES)?;
        let stale: Vec<(String, Vec<u8>)> = t
            .range(prefix(sid).as_str()..end.as_str())?
            .filter_map(|r| r.ok())
            .filter_map(|(k, v)| {
                let mut rec: codec::IssueRecord = serde_json::from_slice(v.value()).ok()?;
                rec.person.take()?;
                Some((k.value().to_string(), json(&rec).ok()?))
            })
            .collect();
        for (k, v) in stale {
            t.insert(k.as_str(), v.as_slice())?;
        }
    }
    tx.commit()?;
    Ok(done)
}

/// Step 3, inside the caller's audited transaction: the next key becomes the roster's key,
/// wrapped by the database's new data key `new`; batches and counts name its fingerprint
/// (returned, hex). `current` is the database key the rotation began under.
pub fn finish(
    tx: &WriteTransaction,
    id: &IncidentId,
    current: &Vault,
    new: &Vault,
) -> Result<Option<String>> {
    let sid = id.as_str();
    let mut keys_t = tx.open_table(ROSTER_KEYS)?;
    let Some(stored) = keys_t.get(sid)?.map(|v| v.value().to_vec()) else {
        return Ok(None);
    };
    let (_, Some(next)) = keys(current, sid, &stored)? else {
        return Err(Error::Storage(
            "internal: finish before the rotation began".into(),
        ));
    };
    let record = codec::encode_roster_key(new, sid, &next)?;
    keys_t.insert(sid, record.as_slice())?;
    let fp = crate::audit::entry::hex(&next.fingerprint());
    let mut batches = tx.open_table(ROSTER_BATCHES)?;
    for mut b in read_batches(&batches, sid)? {
        if b.status == BatchStatus::Committed && b.purged.is_none() {
            b.key_fingerprint = Some(fp.clone());
            batches.insert(super::batch_key(sid, b.seq).as_str(), json(&b)?.as_slice())?;
        }
    }
    let mut counts = tx.open_table(ROSTER_COUNTS)?;
    if let Some(mut t) = read_totals(&counts, sid)? {
        t.key_fingerprint = Some(fp.clone());
        counts.insert(sid, json(&t)?.as_slice())?;
    }
    Ok(Some(fp))
}
