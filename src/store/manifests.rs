//! Manifests of rendered letter batches, kept with the incident (and covered by its audit
//! subject) so the dossier can list what was produced, with the hash of each file. A batch
//! is numbered by its key (`<id>/<NNNN>`, from 1); counsel's sign-off is recorded in it.

use super::records::{ApprovalRecord, ManifestRecord, StoredManifest};
use super::tables::MANIFESTS;
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

fn key(id: &IncidentId, n: u32) -> String {
    format!("{id}/{n:04}")
}

fn decode(v: &[u8]) -> Result<StoredManifest> {
    serde_json::from_slice(v)
        .map_err(|e| Error::Database(format!("a stored letters manifest cannot be decoded ({e})")))
}

fn encode(m: &StoredManifest) -> Result<Vec<u8>> {
    serde_json::to_vec(m).map_err(|e| Error::Storage(e.to_string()))
}

/// Records a new batch; returns its number.
pub fn add(tx: &WriteTransaction, id: &IncidentId, m: &ManifestRecord, hash: &str) -> Result<u32> {
    let mut t = tx.open_table(MANIFESTS)?;
    let prefix = format!("{id}/");
    let n = t
        .range(prefix.as_str()..)?
        .take_while(|r| {
            r.as_ref()
                .is_ok_and(|(k, _)| k.value().starts_with(&prefix))
        })
        .count() as u32
        + 1;
    let json = encode(&StoredManifest {
        manifest: m.clone(),
        manifest_sha256: hash.to_string(),
        approval: None,
    })?;
    t.insert(key(id, n).as_str(), json.as_slice())?;
    Ok(n)
}

/// Every batch of an incident with its number, oldest first.
fn numbered(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &IncidentId,
) -> Result<Vec<(u32, StoredManifest)>> {
    let prefix = format!("{id}/");
    let mut out = Vec::new();
    for row in t.range(prefix.as_str()..)? {
        let (k, v) = row?;
        let Some(rest) = k.value().strip_prefix(&prefix) else {
            break;
        };
        let n = rest.parse::<u32>().map_err(|_| {
            Error::Database(format!(
                "a letters manifest key of {id} is not a batch number"
            ))
        })?;
        out.push((n, decode(v.value())?));
    }
    Ok(out)
}

pub fn list(tx: &ReadTransaction, id: &IncidentId) -> Result<Vec<StoredManifest>> {
    Ok(list_numbered(tx, id)?.into_iter().map(|(_, m)| m).collect())
}

pub fn list_numbered(tx: &ReadTransaction, id: &IncidentId) -> Result<Vec<(u32, StoredManifest)>> {
    numbered(&tx.open_table(MANIFESTS)?, id)
}

pub fn list_write(tx: &WriteTransaction, id: &IncidentId) -> Result<Vec<(u32, StoredManifest)>> {
    numbered(&tx.open_table(MANIFESTS)?, id)
}

/// Records counsel's sign-off in batch `n` (which must exist).
pub fn approve(tx: &WriteTransaction, id: &IncidentId, n: u32, a: &ApprovalRecord) -> Result<()> {
    let mut t = tx.open_table(MANIFESTS)?;
    let k = key(id, n);
    let mut m = match t.get(k.as_str())? {
        Some(v) => decode(v.value())?,
        None => return Err(Error::NotFound(format!("{id} has no letters batch {n}"))),
    };
    m.approval = Some(a.clone());
    t.insert(k.as_str(), encode(&m)?.as_slice())?;
    Ok(())
}
