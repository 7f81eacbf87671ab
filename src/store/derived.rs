//! State kept beside each incident record ([`DerivedRecord`]): the recorded determination
//! (engine result and any human override), the obligations as last computed, what changed at
//! the last update, and, in an exercise database, the running exercise.
//! Stored in `assessments_v1` and covered by the incident's audit subject.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::records::DerivedRecord;
use super::tables::ASSESSMENTS;
use crate::domain::IncidentId;
use crate::error::{Error, Result};

fn decode(bytes: &[u8]) -> Result<DerivedRecord> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Database(format!(
            "a stored determination cannot be decoded ({e}); run `breachdesk audit verify`"
        ))
    })
}

pub fn get<T>(table: &T, id: &IncidentId) -> Result<DerivedRecord>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    match table.get(id.as_str())? {
        Some(v) => decode(v.value()),
        None => Ok(DerivedRecord::default()),
    }
}

pub fn get_read(tx: &ReadTransaction, id: &IncidentId) -> Result<DerivedRecord> {
    get(&tx.open_table(ASSESSMENTS)?, id)
}

pub fn get_write(tx: &WriteTransaction, id: &IncidentId) -> Result<DerivedRecord> {
    get(&tx.open_table(ASSESSMENTS)?, id)
}

pub fn put(tx: &WriteTransaction, id: &IncidentId, d: &DerivedRecord) -> Result<()> {
    let json = serde_json::to_vec(d).map_err(|e| Error::Storage(format!("cannot encode: {e}")))?;
    tx.open_table(ASSESSMENTS)?
        .insert(id.as_str(), json.as_slice())?;
    Ok(())
}
