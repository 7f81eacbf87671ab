//! State kept beside each incident record ([`DerivedRecord`]): the recorded determination
//! (engine result and any human override), the obligations as last computed, what changed at
//! the last update, and, in an exercise database, the running exercise.
//! Stored in `assessments_v1` (the clear part: classes, ratings, citations, the obligations'
//! kinds, dates and statuses) and `phi_v1[incident/<id>/derived]` (every text, which can quote
//! what a person typed, sealed under the incident's key); covered by the incident's audit
//! subject. A record written by an older release has no sealed text and reads as stored with
//! the key, masked without it.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde_json::Value;

use super::incidents::{Keyed, derived_name, key_for_write};
use super::phi::PhiCodec;
use super::records::DerivedRecord;
use super::sealing::{self, DERIVED_CLEAR};
use super::tables::{ASSESSMENTS, PHI};
use crate::domain::IncidentId;
use crate::error::{Error, Result};

fn undecodable(e: &serde_json::Error) -> Error {
    Error::Database(format!(
        "a stored determination cannot be decoded ({}); run `breachdesk audit verify`",
        super::incidents::damage(e)
    ))
}

pub fn get<T>(table: &T, phi: &T, id: &IncidentId, codec: &PhiCodec) -> Result<DerivedRecord>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let Some(v) = table.get(id.as_str())? else {
        return Ok(DerivedRecord::default());
    };
    let mut record: Value = serde_json::from_slice(v.value()).map_err(|e| undecodable(&e))?;
    let name = derived_name(id);
    match phi.get(name.as_str())? {
        Some(blob) => {
            if let Some(plain) = Keyed::of(phi, id, codec)?.open(&name, blob.value())? {
                sealing::join(&mut record, sealing::decode(&plain)?)?;
            }
        }
        None if codec.is_locked() => record = sealing::mask(record, DERIVED_CLEAR),
        None => {}
    }
    serde_json::from_value(record).map_err(|e| undecodable(&e))
}

pub fn get_read(tx: &ReadTransaction, id: &IncidentId, codec: &PhiCodec) -> Result<DerivedRecord> {
    get(
        &tx.open_table(ASSESSMENTS)?,
        &tx.open_table(PHI)?,
        id,
        codec,
    )
}

pub fn get_write(
    tx: &WriteTransaction,
    id: &IncidentId,
    codec: &PhiCodec,
) -> Result<DerivedRecord> {
    get(
        &tx.open_table(ASSESSMENTS)?,
        &tx.open_table(PHI)?,
        id,
        codec,
    )
}

/// Writes the record: its clear part and its text sealed under the incident's key.
pub fn put(
    tx: &WriteTransaction,
    id: &IncidentId,
    d: &DerivedRecord,
    codec: &PhiCodec,
) -> Result<()> {
    let mut phi = tx.open_table(PHI)?;
    let keyed = key_for_write(&mut phi, id, codec)?;
    let value =
        serde_json::to_value(d).map_err(|e| Error::Storage(format!("cannot encode: {e}")))?;
    let (clear, text) = sealing::split(value, DERIVED_CLEAR);
    let json =
        serde_json::to_vec(&clear).map_err(|e| Error::Storage(format!("cannot encode: {e}")))?;
    tx.open_table(ASSESSMENTS)?
        .insert(id.as_str(), json.as_slice())?;
    let name = derived_name(id);
    let sealed = keyed.seal(&name, &sealing::encode(&text)?)?;
    phi.insert(name.as_str(), sealed.as_slice())?;
    Ok(())
}
