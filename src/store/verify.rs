//! `audit verify` over the stored file: feeds the chain to [`ChainWalk`], then compares every
//! audited subject's current digest with its latest entry and looks for records no entry
//! covers (the mapping is [`super::subjects`]).

use redb::{ReadTransaction, ReadableTable};

use super::subjects;
use super::tables::*;
use crate::audit::subject::Subject;
use crate::audit::verify::{ChainWalk, Report};
use crate::error::Result;
use crate::store::vault::SEAL_VERSION;

/// Walks the chain and checks every record, in one read transaction.
pub fn verify(tx: &ReadTransaction) -> Result<Report> {
    let mut walk = ChainWalk::default();
    {
        let audit = tx.open_table(AUDIT)?;
        for row in audit.iter()? {
            let (k, v) = row?;
            walk.push(k.value(), v.value());
        }
    }
    let t = super::open_subject_tables!(tx);
    let mut subjects: Vec<(String, (u64, crate::audit::entry::Hash))> =
        walk.latest().iter().map(|(s, v)| (s.clone(), *v)).collect();
    subjects.sort_by_key(|(_, (seq, _))| *seq);
    for (subject, (seq, digest)) in &subjects {
        let now = match Subject::parse(subject) {
            Some(s) => subjects::digest(&s, &t)?,
            // A subject this binary does not know has no records.
            None => SubjectDigest::default().finish(),
        };
        if now != *digest {
            walk.edited_record(subject, *seq);
        }
    }
    let latest = walk.latest();
    let orphans = subjects::orphans(&t, &|s| latest.contains_key(s))?;
    for (subject, what) in orphans {
        walk.orphan(&subject, what);
    }
    // Staged roster data is not part of any subject's record, but it must be sealed: a
    // plaintext group in an encrypted database was planted (issue 9).
    let encrypted = t
        .meta
        .get(META_ENCRYPTION)?
        .is_some_and(|v| v.value() == b"on");
    if encrypted {
        unsealed(&mut walk, &t.phi, &t.roster_rows)?;
    }
    if encrypted && let Some(groups) = &t.roster_groups {
        for id in super::roster::unsealed_staging(&t.roster_batches, groups)? {
            walk.orphan(
                &format!("roster/{id}"),
                "unsealed staged roster data (a plaintext value in an encrypted database) of",
            );
        }
    }
    Ok(walk.finish())
}

/// In an encrypted database every protected value (narratives, notes, roster rows, staged or
/// committed) is sealed: its first byte is the seal's version, never `0x00` (clear). A clear
/// value was put there from outside, readable without the passphrase; a self-consistent chain
/// would not show it, so each is named (the seal itself is checked when a value is opened).
fn unsealed(
    walk: &mut ChainWalk,
    phi: &impl ReadableTable<&'static str, &'static [u8]>,
    rows: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<()> {
    for row in phi.iter()? {
        let (k, v) = row?;
        if v.value().first() != Some(&SEAL_VERSION) {
            walk.unsealed(&format!("the protected value {PHI_NAME}[{}]", k.value()));
        }
    }
    let mut named = 0usize;
    for row in rows.iter()? {
        let (k, v) = row?;
        if v.value().get(super::roster::legacy::STAMP_LEN).copied() != Some(SEAL_VERSION) {
            // Keys are keyed hashes, not identifiers: naming them reveals nothing.
            walk.unsealed(&format!("the roster row {ROSTER_ROWS_NAME}[{}]", k.value()));
            named += 1;
            if named >= 100 {
                break;
            }
        }
    }
    Ok(())
}
