//! Incident records. PHI fields (narrative, timeline texts) are split out of the record into
//! the `phi_v1` table, sealed by the [`PhiCodec`], so non-PHI views never need the key.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::phi::PhiCodec;
use super::tables::{INCIDENTS, PHI};
use crate::domain::{Incident, IncidentId};
use crate::error::{Error, Result};

fn narrative_key(id: &IncidentId) -> String {
    format!("incident/{id}/narrative")
}

fn note_key(id: &IncidentId, i: usize) -> String {
    format!("incident/{id}/note/{i:06}")
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

/// Writes the incident record only (PHI fields stripped), leaving the stored sealed values
/// as they are. For changes that touch no PHI, so they need no key.
pub fn put_keep_phi(tx: &WriteTransaction, inc: &Incident) -> Result<()> {
    let mut record = inc.clone();
    record.facts.breach.narrative.clear();
    for t in &mut record.timeline {
        t.text.clear();
    }
    let json = serde_json::to_vec(&record)
        .map_err(|e| Error::Storage(format!("cannot encode incident: {e}")))?;
    let mut incidents = tx.open_table(INCIDENTS)?;
    incidents.insert(inc.id.as_str(), json.as_slice())?;
    Ok(())
}

/// Writes an incident: the record without PHI, and each PHI value sealed under its own key.
pub fn put(tx: &WriteTransaction, inc: &Incident, codec: &PhiCodec) -> Result<()> {
    put_keep_phi(tx, inc)?;
    let mut phi = tx.open_table(PHI)?;
    let nk = narrative_key(&inc.id);
    if inc.facts.breach.narrative.is_empty() {
        phi.remove(nk.as_str())?;
    } else {
        let sealed = codec.seal(&nk, inc.facts.breach.narrative.as_bytes())?;
        phi.insert(nk.as_str(), sealed.as_slice())?;
    }
    for (i, t) in inc.timeline.iter().enumerate() {
        let key = note_key(&inc.id, i);
        // Existing notes never change: re-sealing them would only churn ciphertext.
        if phi.get(key.as_str())?.is_none() {
            let sealed = codec.seal(&key, t.text.as_bytes())?;
            phi.insert(key.as_str(), sealed.as_slice())?;
        }
    }
    Ok(())
}

/// Reads an incident with its PHI fields opened when the codec can; otherwise they read
/// `[encrypted]`.
pub fn get<T>(incidents: &T, phi: &T, id: &IncidentId, codec: &PhiCodec) -> Result<Option<Incident>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let Some(v) = incidents.get(id.as_str())? else {
        return Ok(None);
    };
    let mut inc = decode(v.value())?;
    if let Some(n) = phi.get(narrative_key(id).as_str())? {
        inc.facts.breach.narrative = codec.open_text(&narrative_key(id), n.value())?;
    }
    for i in 0..inc.timeline.len() {
        let key = note_key(id, i);
        if let Some(n) = phi.get(key.as_str())? {
            inc.timeline[i].text = codec.open_text(&key, n.value())?;
        }
    }
    Ok(Some(inc))
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

fn decode(bytes: &[u8]) -> Result<Incident> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Database(format!(
            "an incident record cannot be decoded ({e}); run `breachdesk audit verify`"
        ))
    })
}

/// Every incident without its PHI fields, in ID order. For lists, boards and deadlines.
pub fn list(tx: &ReadTransaction) -> Result<Vec<Incident>> {
    let incidents = tx.open_table(INCIDENTS)?;
    let mut out = Vec::new();
    for row in incidents.iter()? {
        let (_, v) = row?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}
