//! Incident records: the clear part in `incidents_v1` (IDs, dates, statuses, kinds, codes and
//! counts: what lists and deadlines need), the free text sealed in `phi_v1` under the
//! incident's own data key ([`super::sealing`] says which strings are which).
//!
//! `phi_v1` keys of incident `<id>` (schema 3):
//!
//! | key | value |
//! |---|---|
//! | `incident/<id>/key` | the incident's [`DataKey`], wrapped by the database's data key (encrypted databases only) |
//! | `incident/<id>/fields` | the record's text (narrative, notes and every other typed string), sealed under it |
//! | `incident/<id>/derived` | the text of what is kept beside it (`assessments_v1[<id>]`), sealed under it |
//!
//! A record written by an older release (schema 1 or 2) has no `fields` value: its typed
//! strings are still clear in `incidents_v1` (and `assessments_v1`), its narrative and notes
//! sealed under the database key at `incident/<id>/narrative` and `incident/<id>/note/NNNNNN`.
//! Such a *legacy* record reads as before with the key and masked without it; the first write
//! with the key (or the sealing pass at the first unlocked open, `Store::seal_legacy`) converts it.

use redb::{ReadTransaction, ReadableTable, Table, WriteTransaction};
use serde_json::Value;

use super::phi::{PhiCodec, locked_error};
use super::sealing::{self, INCIDENT_CLEAR};
use super::tables::{INCIDENTS, PHI, PHI_NAME};
use super::vault::{DataKey, associated_data};
use crate::domain::{Incident, IncidentId};
use crate::error::{Error, Result};

pub fn key_name(id: &IncidentId) -> String {
    format!("incident/{id}/key")
}

pub fn fields_name(id: &IncidentId) -> String {
    format!("incident/{id}/fields")
}

pub fn derived_name(id: &IncidentId) -> String {
    format!("incident/{id}/derived")
}

fn legacy_narrative(id: &IncidentId) -> String {
    format!("incident/{id}/narrative")
}

fn legacy_note(id: &IncidentId, i: usize) -> String {
    format!("incident/{id}/note/{i:06}")
}

fn value_ad(name: &str) -> Vec<u8> {
    associated_data(PHI_NAME, name.as_bytes(), "value")
}

fn key_ad(name: &str) -> Vec<u8> {
    associated_data(PHI_NAME, name.as_bytes(), "data-key")
}

/// How one incident's values are sealed and opened.
pub enum Keyed {
    /// An unencrypted database: `0x00 ‖ plaintext`.
    Plain,
    /// The incident's own data key.
    Key(DataKey),
    /// No passphrase: nothing can be opened or written.
    Locked,
    /// An encrypted database, unlocked, but the incident has no key yet (a legacy record).
    NoKey,
}

fn failed() -> Error {
    Error::Key(
        "a protected value failed authentication: it was altered or moved; run `breachdesk audit verify`"
            .into(),
    )
}

impl Keyed {
    /// The incident's key as stored (`NoKey` when it has none).
    pub fn of<T>(phi: &T, id: &IncidentId, codec: &PhiCodec) -> Result<Keyed>
    where
        T: ReadableTable<&'static str, &'static [u8]>,
    {
        Ok(match codec {
            PhiCodec::Plain => Keyed::Plain,
            PhiCodec::Locked => Keyed::Locked,
            PhiCodec::Sealed(vault) => {
                let name = key_name(id);
                match phi.get(name.as_str())? {
                    Some(w) => Keyed::Key(
                        vault
                            .unwrap_key(&key_ad(&name), w.value())
                            .map_err(|_| failed())?,
                    ),
                    None => Keyed::NoKey,
                }
            }
        })
    }

    /// Opens a value; `None` when locked.
    pub fn open(&self, name: &str, stored: &[u8]) -> Result<Option<Vec<u8>>> {
        match (self, stored.split_first()) {
            (Keyed::Plain, Some((0, rest))) => Ok(Some(rest.to_vec())),
            (Keyed::Key(k), _) => k
                .open(&value_ad(name), stored)
                .map(Some)
                .map_err(|_| failed()),
            (Keyed::Locked, _) => Ok(None),
            _ => Err(failed()),
        }
    }

    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        match self {
            Keyed::Plain => {
                let mut v = Vec::with_capacity(plaintext.len() + 1);
                v.push(0);
                v.extend_from_slice(plaintext);
                Ok(v)
            }
            Keyed::Key(k) => k
                .seal(&value_ad(name), plaintext)
                .map_err(|e| Error::Key(format!("cannot seal a protected value: {e}"))),
            Keyed::Locked | Keyed::NoKey => Err(locked_error()),
        }
    }
}

/// The incident's key for writing: the stored one, or a new one wrapped by the database key.
pub fn key_for_write(
    phi: &mut Table<'_, &'static str, &'static [u8]>,
    id: &IncidentId,
    codec: &PhiCodec,
) -> Result<Keyed> {
    match Keyed::of(phi, id, codec)? {
        Keyed::Locked => Err(locked_error()),
        Keyed::NoKey => {
            let PhiCodec::Sealed(vault) = codec else {
                return Err(locked_error());
            };
            let key = DataKey::generate().map_err(|e| Error::Key(e.to_string()))?;
            let name = key_name(id);
            let wrapped = vault
                .wrap_key(&key, &key_ad(&name))
                .map_err(|e| Error::Key(e.to_string()))?;
            phi.insert(name.as_str(), wrapped.as_slice())?;
            Ok(Keyed::Key(key))
        }
        k => Ok(k),
    }
}

/// The next free ID in `year`: one past the highest sequence used that year.
pub fn next_id(tx: &WriteTransaction, year: i32) -> Result<IncidentId> {
    let table = tx.open_table(INCIDENTS)?;
    let prefix = format!("{year:04}-");
    let mut max = 0u32;
    for row in table.range(prefix.as_str()..)? {
        let (k, _) = row?;
        let Some(id) = IncidentId::parse(k.value()) else {
            continue;
        };
        if id.year() != year {
            break;
        }
        max = max.max(id.seq());
    }
    Ok(IncidentId::new(year, max + 1))
}

/// Writes an incident: its clear part, and its text sealed under its own key (created on the
/// first write, which also converts a legacy record). Needs the key in an encrypted database.
/// Returns whether the record was a legacy one: what is kept beside it (`store::derived`)
/// must then be converted in the same transaction (the caller does, see `Writer`).
pub fn put(tx: &WriteTransaction, inc: &Incident, codec: &PhiCodec) -> Result<bool> {
    put_record(tx, inc, codec)
}

/// Writes the record and its text; returns whether it was a legacy record.
fn put_record(tx: &WriteTransaction, inc: &Incident, codec: &PhiCodec) -> Result<bool> {
    let mut phi = tx.open_table(PHI)?;
    let legacy = is_legacy(&phi, &inc.id)?;
    let keyed = key_for_write(&mut phi, &inc.id, codec)?;
    let value = serde_json::to_value(inc)
        .map_err(|e| Error::Storage(format!("cannot encode incident: {e}")))?;
    let (clear, text) = sealing::split(value, INCIDENT_CLEAR);
    let json = serde_json::to_vec(&clear)
        .map_err(|e| Error::Storage(format!("cannot encode incident: {e}")))?;
    tx.open_table(INCIDENTS)?
        .insert(inc.id.as_str(), json.as_slice())?;
    let name = fields_name(&inc.id);
    let sealed = keyed.seal(&name, &sealing::encode(&text)?)?;
    phi.insert(name.as_str(), sealed.as_slice())?;
    // A legacy record's narrative and notes now live in the sealed text.
    phi.remove(legacy_narrative(&inc.id).as_str())?;
    let prefix = format!("incident/{}/note/", inc.id);
    let old: Vec<String> = phi
        .range(prefix.as_str()..)?
        .map_while(|r| {
            r.ok()
                .map(|(k, _)| k.value().to_string())
                .filter(|k| k.starts_with(&prefix))
        })
        .collect();
    for k in old {
        phi.remove(k.as_str())?;
    }
    Ok(legacy)
}

/// Reads an incident with its text opened when the codec can; otherwise every sealed string
/// reads [`sealing::SEALED`] (a legacy record's clear text is masked the same way).
pub fn get<T>(incidents: &T, phi: &T, id: &IncidentId, codec: &PhiCodec) -> Result<Option<Incident>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let Some(v) = incidents.get(id.as_str())? else {
        return Ok(None);
    };
    let mut record: Value = serde_json::from_slice(v.value()).map_err(|e| undecodable(&e))?;
    let name = fields_name(id);
    if let Some(blob) = phi.get(name.as_str())? {
        let keyed = Keyed::of(phi, id, codec)?;
        if let Some(plain) = keyed.open(&name, blob.value())? {
            sealing::join(&mut record, sealing::decode(&plain)?)?;
        }
        return decode(record).map(Some);
    }
    // Written by an older release.
    if codec.is_locked() {
        record = sealing::mask(record, INCIDENT_CLEAR);
    }
    let mut inc = decode(record)?;
    if let Some(n) = phi.get(legacy_narrative(id).as_str())? {
        inc.facts.breach.narrative = codec.open_text(&legacy_narrative(id), n.value())?;
    }
    for i in 0..inc.timeline.len() {
        let key = legacy_note(id, i);
        if let Some(n) = phi.get(key.as_str())? {
            inc.timeline[i].text = codec.open_text(&key, n.value())?;
        }
    }
    Ok(Some(inc))
}

/// Whether an incident was written by an older release and still holds clear text.
pub fn is_legacy<T>(phi: &T, id: &IncidentId) -> Result<bool>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    Ok(phi.get(fields_name(id).as_str())?.is_none())
}

pub fn get_read(tx: &ReadTransaction, id: &IncidentId, codec: &PhiCodec) -> Result<Incident> {
    let incidents = tx.open_table(INCIDENTS)?;
    let phi = tx.open_table(PHI)?;
    get(&incidents, &phi, id, codec)?.ok_or_else(|| not_found(id))
}

pub fn get_write(tx: &WriteTransaction, id: &IncidentId, codec: &PhiCodec) -> Result<Incident> {
    let incidents = tx.open_table(INCIDENTS)?;
    let phi = tx.open_table(PHI)?;
    get(&incidents, &phi, id, codec)?.ok_or_else(|| not_found(id))
}

pub fn not_found(id: &IncidentId) -> Error {
    Error::NotFound(format!(
        "no incident {id}; `breachdesk incident list` shows the IDs"
    ))
}

fn undecodable(e: &serde_json::Error) -> Error {
    Error::Database(format!(
        "an incident record cannot be decoded ({}); run `breachdesk audit verify`",
        damage(e)
    ))
}

/// What kind of damage a record has, never its value (a record may hold text).
pub fn damage(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "unexpected field or value",
        serde_json::error::Category::Eof => "truncated",
    }
}

fn decode(v: Value) -> Result<Incident> {
    serde_json::from_value(v).map_err(|e| undecodable(&e))
}

/// Every incident (text opened as far as `codec` can), in ID order. For lists and boards.
pub fn list(tx: &ReadTransaction, codec: &PhiCodec) -> Result<Vec<Incident>> {
    let incidents = tx.open_table(INCIDENTS)?;
    let phi = tx.open_table(PHI)?;
    let mut out = Vec::new();
    for row in incidents.iter()? {
        let (k, _) = row?;
        let Some(id) = IncidentId::parse(k.value()) else {
            continue;
        };
        if let Some(inc) = get(&incidents, &phi, &id, codec)? {
            out.push(inc);
        }
    }
    Ok(out)
}

/// The IDs of incidents written by an older release that still hold clear text.
pub fn legacy_ids_in<T>(incidents: &T, phi: &T) -> Result<Vec<IncidentId>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut out = Vec::new();
    for row in incidents.iter()? {
        let (k, _) = row?;
        if let Some(id) = IncidentId::parse(k.value())
            && is_legacy(phi, &id)?
        {
            out.push(id);
        }
    }
    Ok(out)
}
