//! Manifests of rendered letter batches, kept with the incident (and covered by its audit
//! subject) so the dossier can list what was produced, with the hash of each file.

use super::records::{ManifestRecord, StoredManifest};
use super::tables::MANIFESTS;
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

pub fn add(tx: &WriteTransaction, id: &IncidentId, m: &ManifestRecord, hash: &str) -> Result<()> {
    let mut t = tx.open_table(MANIFESTS)?;
    let prefix = format!("{id}/");
    let n = t
        .range(prefix.as_str()..)?
        .take_while(|r| {
            r.as_ref()
                .is_ok_and(|(k, _)| k.value().starts_with(&prefix))
        })
        .count();
    let key = format!("{id}/{:04}", n + 1);
    let json = serde_json::to_vec(&StoredManifest {
        manifest: m.clone(),
        manifest_sha256: hash.to_string(),
    })
    .map_err(|e| Error::Storage(e.to_string()))?;
    t.insert(key.as_str(), json.as_slice())?;
    Ok(())
}

pub fn list(tx: &ReadTransaction, id: &IncidentId) -> Result<Vec<StoredManifest>> {
    let t = tx.open_table(MANIFESTS)?;
    let prefix = format!("{id}/");
    let mut out = Vec::new();
    for row in t.range(prefix.as_str()..)? {
        let (k, v) = row?;
        if !k.value().starts_with(&prefix) {
            break;
        }
        out.push(serde_json::from_slice(v.value()).map_err(|e| {
            Error::Database(format!("a stored letters manifest cannot be decoded ({e})"))
        })?);
    }
    Ok(out)
}
