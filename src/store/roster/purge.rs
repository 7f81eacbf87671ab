//! Purging a roster (crypto-shredding), discarding a staging batch, and deleting records
//! that are no longer part of the record, in bounded chunk transactions.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::codec;
use super::{
    BatchStatus, RosterTotals, batch_key, batch_range, json, prefix, prefix_end, read_batches,
    read_totals,
};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::store::phi::PhiCodec;
use crate::store::tables::{
    ROSTER_BATCHES, ROSTER_COUNTS, ROSTER_DEAD, ROSTER_GROUPS, ROSTER_ISSUES, ROSTER_KEYS,
    ROSTER_ROWS,
};
use crate::store::{Action, Actor, Change, Store, Subject};

/// Keys deleted per chunk transaction.
const DELETE_CHUNK: usize = 20_000;

/// Deletes every key of `table` in `from..to`, [`DELETE_CHUNK`] per transaction. Returns how
/// many. Safe to interrupt and run again.
fn delete_range(
    store: &Store,
    table: TableDefinition<&str, &[u8]>,
    from: &str,
    to: &str,
) -> Result<u64> {
    let mut n = 0u64;
    loop {
        let tx = store.db()?.begin_write()?;
        let done = {
            let mut t = tx.open_table(table)?;
            let keys: Vec<String> = t
                .range(from..to)?
                .take(DELETE_CHUNK)
                .map(|r| r.map(|(k, _)| k.value().to_string()))
                .collect::<std::result::Result<_, _>>()?;
            for k in &keys {
                t.remove(k.as_str())?;
            }
            n += keys.len() as u64;
            keys.len() < DELETE_CHUNK
        };
        tx.commit()?;
        if done {
            return Ok(n);
        }
    }
}

/// Deletes a staging batch's groups, issues and dead marks, then its record, in chunk
/// transactions (unaudited: staging is not part of the record). Safe to interrupt: the
/// record goes last. The roster's key goes too when no other batch remains.
pub fn discard_staging(store: &Store, id: &IncidentId, seq: u32) -> Result<()> {
    let sid = id.as_str();
    let (from, to) = batch_range(sid, seq);
    for t in [ROSTER_GROUPS, ROSTER_ISSUES, ROSTER_DEAD] {
        delete_range(store, t, &from, &to)?;
    }
    let tx = store.db()?.begin_write()?;
    {
        let mut batches = tx.open_table(ROSTER_BATCHES)?;
        batches.remove(batch_key(sid, seq).as_str())?;
        let left = read_batches(&batches, sid)?;
        if left.is_empty() {
            tx.open_table(ROSTER_KEYS)?.remove(sid)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// What a purge did.
#[derive(Debug, Clone)]
pub struct Purged {
    /// Individuals whose rows were stored (and are now unreadable, then deleted).
    pub rows: u64,
    /// Fingerprint of the destroyed roster key (encrypted databases).
    pub key_fingerprint: Option<String>,
    /// Records deleted after the key (groups, marks, issues, rows of release 0.1).
    pub records_deleted: u64,
}

/// Purges an incident's roster. First, in one audited transaction, the roster's key is
/// destroyed (every group sealed under it becomes unreadable, wherever a copy lies), the
/// batches are marked purged and the counts kept; the entry records the key's fingerprint.
/// Then the unreadable records are deleted in chunk transactions.
///
/// The key must open with `codec` first: a wrong passphrase deletes nothing.
pub fn purge(store: &Store, actor: &Actor, id: &IncidentId, codec: &PhiCodec) -> Result<Purged> {
    let sid = id.as_str();
    {
        let r = store.reader()?;
        let view = r.roster_view(id)?;
        if !view.legacy.is_empty() {
            return Err(Error::Storage(
                "internal: a roster in release 0.1's format must be converted before it is purged"
                    .into(),
            ));
        }
        // Proves the passphrase before anything is deleted.
        r.roster_seal(id, codec)?;
    }
    let (rows, fingerprint) = store.write_tx(actor, |tx| {
        super::super::extra_tables(tx)?;
        let mut counts_t = tx.open_table(ROSTER_COUNTS)?;
        let Some(mut t): Option<RosterTotals> = read_totals(&counts_t, sid)? else {
            return Err(Error::NotFound(format!(
                "incident {id} has no imported roster; nothing to purge"
            )));
        };
        let key = tx
            .open_table(ROSTER_KEYS)?
            .remove(sid)?
            .map(|v| v.value().to_vec());
        let fingerprint = key.as_deref().and_then(codec::roster_key_fingerprint);
        mark_purged(tx, sid, actor)?;
        let rows = t.rows_stored;
        if t.purged.is_none() {
            t.purged = Some(actor.now);
        }
        t.rows_stored = 0;
        t.key_fingerprint = None;
        let v = json(&t)?;
        counts_t.insert(sid, v.as_slice())?;
        let mut detail = format!("rows_purged={rows}; counts and batch records kept");
        match &fingerprint {
            Some(f) => detail.push_str(&format!(
                "; roster key {f} destroyed: its rows cannot be decrypted from any copy"
            )),
            None => detail.push_str("; unencrypted database: rows deleted"),
        }
        Ok((
            (rows, fingerprint),
            Change::new(Action::RosterPurge, Subject::Roster(id.clone())).detail(detail),
        ))
    })?;
    let records_deleted = delete_residue(store, id)?;
    Ok(Purged {
        rows,
        key_fingerprint: fingerprint,
        records_deleted,
    })
}

fn mark_purged(tx: &WriteTransaction, sid: &str, actor: &Actor) -> Result<()> {
    let mut batches_t = tx.open_table(ROSTER_BATCHES)?;
    for mut b in read_batches(&batches_t, sid)? {
        if b.purged.is_none() {
            b.purged = Some(actor.now);
        }
        let v = json(&b)?;
        batches_t.insert(batch_key(sid, b.seq).as_str(), v.as_slice())?;
    }
    Ok(())
}

/// Deletes what a purge left unreadable (groups, marks, issues, release 0.1 rows, staging
/// batch records) in chunk transactions; a no-op when there is none. Run again after an
/// interruption (`roster purge` and `compact` do).
pub fn delete_residue(store: &Store, id: &IncidentId) -> Result<u64> {
    let sid = id.as_str();
    let purged = {
        let tx = store.db.begin_read()?;
        match tx.open_table(ROSTER_COUNTS) {
            Ok(t) => read_totals(&t, sid)?.is_some_and(|t| t.purged.is_some()),
            Err(_) => false,
        }
    };
    if !purged {
        return Ok(0);
    }
    let (from, to) = (prefix(sid), prefix_end(sid));
    let mut n = 0;
    for t in [ROSTER_GROUPS, ROSTER_ISSUES, ROSTER_DEAD, ROSTER_ROWS] {
        n += delete_range(store, t, &from, &to)?;
    }
    let tx = store.db()?.begin_write()?;
    {
        let mut batches = tx.open_table(ROSTER_BATCHES)?;
        for b in read_batches(&batches, sid)? {
            if b.status == BatchStatus::Staging {
                batches.remove(batch_key(sid, b.seq).as_str())?;
            }
        }
    }
    tx.commit()?;
    Ok(n)
}

/// Incidents whose roster was purged but still has records to delete.
pub fn residue(store: &Store) -> Result<Vec<IncidentId>> {
    let tx = store.db.begin_read()?;
    let counts = match tx.open_table(ROSTER_COUNTS) {
        Ok(t) => t,
        Err(_) => return Ok(Vec::new()),
    };
    let groups = tx.open_table(ROSTER_GROUPS)?;
    let mut out = Vec::new();
    for row in counts.iter()? {
        let (k, v) = row?;
        let purged = serde_json::from_slice::<RosterTotals>(v.value())
            .ok()
            .is_some_and(|t| t.purged.is_some());
        if !purged {
            continue;
        }
        let sid = k.value();
        let (from, to) = (prefix(sid), prefix_end(sid));
        if groups.range(from.as_str()..to.as_str())?.next().is_some()
            && let Some(id) = IncidentId::parse(sid)
        {
            out.push(id);
        }
    }
    Ok(out)
}
