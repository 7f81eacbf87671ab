//! `audit verify` over the stored file: feeds the chain to [`ChainWalk`], then compares every
//! audited subject's current digest with its latest entry and looks for records no entry
//! covers (the mapping is [`super::subjects`]).

use redb::{ReadTransaction, ReadableTable};

use super::subjects;
use super::tables::*;
use crate::audit::subject::Subject;
use crate::audit::verify::{ChainWalk, Report};
use crate::error::Result;

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
    Ok(walk.finish())
}
