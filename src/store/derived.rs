//! State kept beside each incident record: the recorded determination (engine result and
//! any human override), the obligations as last computed, what changed at the last update,
//! and, in an exercise database, the running exercise.
//! Stored in `assessments_v1` and covered by the incident's audit subject.

use chrono::{DateTime, Utc};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::ASSESSMENTS;
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::rules::{Determination, DeterminationClass, Obligation};

/// A recorded determination. Both the engine's and the human's results stay on record
/// (reference § 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentRecord {
    pub engine: Determination,
    pub override_class: Option<DeterminationClass>,
    /// Required with an override.
    pub rationale: String,
    pub assessed_by: String,
    pub assessed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derived {
    pub assessment: Option<AssessmentRecord>,
    /// Obligations as computed at the last change.
    pub obligations: Vec<Obligation>,
    /// Plain-language changes to the obligations made by the last change.
    pub changes: Vec<String>,
    pub changed_at: Option<DateTime<Utc>>,
    /// In an exercise database: the running exercise (stage, decisions, notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise: Option<crate::exercise::ExerciseState>,
}

fn decode(bytes: &[u8]) -> Result<Derived> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Database(format!(
            "a stored determination cannot be decoded ({e}); run `breachdesk audit verify`"
        ))
    })
}

pub fn get<T>(table: &T, id: &IncidentId) -> Result<Derived>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    match table.get(id.as_str())? {
        Some(v) => decode(v.value()),
        None => Ok(Derived::default()),
    }
}

pub fn get_read(tx: &ReadTransaction, id: &IncidentId) -> Result<Derived> {
    get(&tx.open_table(ASSESSMENTS)?, id)
}

pub fn get_write(tx: &WriteTransaction, id: &IncidentId) -> Result<Derived> {
    get(&tx.open_table(ASSESSMENTS)?, id)
}

pub fn put(tx: &WriteTransaction, id: &IncidentId, d: &Derived) -> Result<()> {
    let json = serde_json::to_vec(d).map_err(|e| Error::Storage(format!("cannot encode: {e}")))?;
    tx.open_table(ASSESSMENTS)?
        .insert(id.as_str(), json.as_slice())?;
    Ok(())
}
