//! Counsel's State-law rules files (`laws_v1`, the `laws` subject), the determinations
//! recorded for each incident (`determinations_v1`) and the copies of the rules files they
//! used (`law_texts_v1`), both part of the incident's subject.
//!
//! Nothing here is ever rewritten: a new version of counsel's file, or its removal, is a
//! new record; a new determination is a new record. That history is what replays read.

use redb::{ReadableTable, WriteTransaction};

use super::records::{CounselLawRecord, DeterminationLogRecord, LawActionRecord};
use super::tables::{DETERMINATIONS, LAW_TEXTS, LAWS};
use crate::domain::IncidentId;
use crate::error::{Error, Result};

fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Database(format!(
            "a stored {what} cannot be decoded ({e}); run `breachdesk audit verify`"
        ))
    })
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Storage(format!("cannot encode: {e}")))
}

/// Every record of a prefix, in key order.
fn under<T, R>(table: &T, prefix: &str, what: &str) -> Result<Vec<R>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
    R: serde::de::DeserializeOwned,
{
    let mut out = Vec::new();
    for row in table.range(prefix..)? {
        let (k, v) = row?;
        if !k.value().starts_with(prefix) {
            break;
        }
        out.push(decode(what, v.value())?);
    }
    Ok(out)
}

/// Every version of counsel's files ever stored, by jurisdiction then sequence.
pub fn history<T>(table: &T) -> Result<Vec<CounselLawRecord>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    under(table, "", "rules file of counsel")
}

/// Counsel's files in force: the last record of each jurisdiction, when it sets a file.
pub fn in_force(history: &[CounselLawRecord]) -> Vec<CounselLawRecord> {
    let mut last: std::collections::BTreeMap<&str, &CounselLawRecord> = Default::default();
    for r in history {
        last.insert(r.jurisdiction.as_str(), r);
    }
    last.into_values()
        .filter(|r| r.action == LawActionRecord::Set)
        .cloned()
        .collect()
}

/// Appends a record for `rec.jurisdiction` with the next sequence number (which it sets).
pub fn add(tx: &WriteTransaction, rec: &mut CounselLawRecord) -> Result<()> {
    let mut t = tx.open_table(LAWS)?;
    let prefix = format!("{}/", rec.jurisdiction);
    let n = under::<_, CounselLawRecord>(&t, &prefix, "rules file of counsel")?
        .iter()
        .map(|r| r.seq)
        .max()
        .unwrap_or(0);
    rec.seq = n + 1;
    let key = format!("{}{:06}", prefix, rec.seq);
    t.insert(key.as_str(), encode(rec)?.as_slice())?;
    Ok(())
}

/// An incident's recorded determinations, oldest first.
pub fn determinations<T>(table: &T, id: &IncidentId) -> Result<Vec<DeterminationLogRecord>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    under(table, &format!("{id}/"), "determination")
}

/// Appends a determination (its `seq` is set to the next number) and the copies of the
/// rules files it used that the incident does not hold yet.
pub fn add_determination(
    tx: &WriteTransaction,
    id: &IncidentId,
    rec: &mut DeterminationLogRecord,
    texts: &[(String, String)],
) -> Result<()> {
    let mut t = tx.open_table(DETERMINATIONS)?;
    let n = determinations(&t, id)?
        .iter()
        .map(|r| r.seq)
        .max()
        .unwrap_or(0);
    rec.seq = n + 1;
    let key = format!("{id}/{:06}", rec.seq);
    t.insert(key.as_str(), encode(rec)?.as_slice())?;
    let mut texts_t = tx.open_table(LAW_TEXTS)?;
    for (sha, text) in texts {
        let key = format!("{id}/{sha}");
        if texts_t.get(key.as_str())?.is_none() {
            texts_t.insert(key.as_str(), text.as_bytes())?;
        }
    }
    Ok(())
}

/// The copy of a rules file an incident's determination used.
pub fn law_text<T>(table: &T, id: &IncidentId, sha256: &str) -> Result<Option<String>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let key = format!("{id}/{sha256}");
    match table.get(key.as_str())? {
        None => Ok(None),
        Some(v) => String::from_utf8(v.value().to_vec())
            .map(Some)
            .map_err(|_| {
                Error::Database(
                    "a stored rules file is not UTF-8; run `breachdesk audit verify`".into(),
                )
            }),
    }
}
