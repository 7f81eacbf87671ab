//! Bulk loading for benchmarks only: builds large databases quickly, many audited changes
//! per transaction (the one-entry-per-transaction rule is for commands, and each change here
//! still gets its own entry, so the result verifies). Not used by the program.

use std::io::Write;

use redb::ReadableTable;

use super::tables::AUDIT;
use super::{Actor, Change, Store, Writer, append_entry, extra_tables, subject_digest_write};
use crate::audit::subject::{Action, Subject};
use crate::domain::{Incident, IncidentId};
use crate::error::{Error, Result};
use crate::store::phi::PhiCodec;

/// Writes incidents (plain, no obligations snapshot) in one transaction, with one
/// `incident.new` entry each.
pub fn load_incidents(store: &Store, actor: &Actor, incidents: &[Incident]) -> Result<()> {
    let tx = store.db()?.begin_write()?;
    extra_tables(&tx)?;
    for inc in incidents {
        Writer::new(&tx).put_incident(inc, &PhiCodec::Plain)?;
        let subject = Subject::Incident(inc.id.clone());
        let digest = subject_digest_write(&tx, &subject)?;
        append_entry(
            &tx,
            actor,
            &Change::new(Action::IncidentNew, subject),
            digest,
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Appends `n` `incident.note` entries about incidents `<year>-0001`…`<year>-<incidents>`
/// in turn (their records unchanged), `per_tx` per transaction.
pub fn append_notes(
    store: &Store,
    actor: &Actor,
    year: i32,
    incidents: u32,
    n: u64,
    per_tx: u64,
) -> Result<()> {
    let digests = {
        let tx = store.db()?.begin_write()?;
        let d = (1..=incidents)
            .map(|i| subject_digest_write(&tx, &Subject::Incident(IncidentId::new(year, i))))
            .collect::<Result<Vec<_>>>()?;
        tx.abort()?;
        d
    };
    let mut written = 0u64;
    while written < n {
        let tx = store.db()?.begin_write()?;
        let k = per_tx.min(n - written);
        for j in 0..k {
            let i = ((written + j) % incidents as u64) as u32 + 1;
            let change = Change::incident(Action::IncidentNote, &IncidentId::new(year, i))
                .detail(format!("note={}", written + j));
            append_entry(&tx, actor, &change, digests[(i - 1) as usize])?;
        }
        tx.commit()?;
        written += k;
    }
    Ok(())
}

/// Writes every stored audit entry's bytes, in order, to `w`; returns how many bytes.
pub fn audit_bytes(store: &Store, w: &mut impl Write) -> Result<u64> {
    let tx = store.db.begin_read()?;
    let t = tx.open_table(AUDIT)?;
    let mut total = 0u64;
    for row in t.iter()? {
        let (_, v) = row?;
        w.write_all(v.value())
            .map_err(|e| Error::io("cannot write the entry bytes", e))?;
        total += v.value().len() as u64;
    }
    Ok(total)
}

/// What [`sort_records`] did.
#[derive(Debug, Clone, Copy)]
pub struct SortStats {
    pub records: u64,
    /// Bytes of one record.
    pub record_bytes: usize,
    /// Bytes written to temporary run files (every level).
    pub spilled_bytes: u64,
}

/// Benchmarks only: sorts `records` pseudo-random records of the size of an import's
/// identifier records through the import's external sort, with its run size and merge
/// fan-in, run files sealed as for an encrypted database, in `dir`. Memory stays bounded
/// whatever `records` is; the benchmark measures it.
pub fn sort_records(records: u64, dir: &std::path::Path) -> Result<SortStats> {
    use super::roster::import::ID_REC;
    use super::roster::sort::{RunKey, Sorter, TmpDir};
    let tmp = TmpDir::create(&dir.join("sort-bench"))?;
    let key = RunKey::generate()?;
    let mut s = Sorter::<ID_REC>::new(&key, tmp.path(), super::roster::RUN_ROWS * ID_REC);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..records {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut r = [0u8; ID_REC];
        r[..8].copy_from_slice(&x.to_be_bytes());
        r[8..16].copy_from_slice(&i.to_be_bytes());
        s.push(r)?;
    }
    let mut m = s.finish()?;
    let mut prev = [0u8; ID_REC];
    let mut n = 0u64;
    while let Some(r) = m.next_rec()? {
        if r < prev {
            return Err(Error::Storage(
                "the sort returned records out of order".into(),
            ));
        }
        prev = r;
        n += 1;
    }
    let spilled = m.spilled();
    drop(m);
    if n != records {
        return Err(Error::Storage(format!(
            "the sort returned {n} of {records} records"
        )));
    }
    Ok(SortStats {
        records: n,
        record_bytes: ID_REC,
        spilled_bytes: spilled,
    })
}
