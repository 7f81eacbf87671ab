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
    // A rotation rewrote every incident under one `org` entry; its record (covered by that
    // entry's digest) holds each incident's digest then (see `store::rotate`).
    let resealed = t
        .meta
        .get(META_RESEALED)?
        .and_then(|v| super::rotate::Resealed::decode(v.value()));
    for (subject, (seq, digest)) in &subjects {
        let now = match Subject::parse(subject) {
            Some(s) => subjects::digest(&s, &t)?,
            // A subject this binary does not know has no records.
            None => SubjectDigest::default().finish(),
        };
        let (seq, expected) = match resealed
            .as_ref()
            .filter(|r| r.seq > *seq)
            .and_then(|r| Some((r.seq, r.digest_of(subject)?)))
        {
            Some(later) => later,
            None => (*seq, *digest),
        };
        if now != expected {
            walk.edited_record(subject, seq);
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
        if t.meta
            .get(META_ORG_TEXT)?
            .is_some_and(|v| v.value().first() != Some(&SEAL_VERSION))
        {
            walk.unsealed(&format!(
                "the organization's text {META_NAME}[{META_ORG_TEXT}]"
            ));
        }
    }
    if encrypted && let Some(groups) = &t.roster_groups {
        for id in super::roster::unsealed_staging(&t.roster_batches, groups)? {
            walk.orphan(
                &format!("roster/{id}"),
                "unsealed staged roster data (a plaintext value in an encrypted database) of",
            );
        }
    }
    clear_text(&mut walk, &t)?;
    Ok(walk.finish())
}

/// A record whose text is sealed keeps only placeholders where that text was: any other
/// string there was put in from outside (or written by a bug) and is readable without the
/// key. Records of an older release, whose text waits for the key, are not damage.
fn clear_text<T>(walk: &mut ChainWalk, t: &subjects::Tables<T>) -> Result<()>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    use super::incidents::{derived_name, fields_name};
    use super::sealing::{DERIVED_CLEAR, INCIDENT_CLEAR, ORG_CLEAR, unsealed_paths};
    let check = |walk: &mut ChainWalk, what: String, bytes: &[u8], allow: &[&str]| {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            for p in unsealed_paths(&v, allow) {
                walk.unsealed(&format!("{what}, field {p}"));
            }
        }
    };
    for (table, name, allow, blob) in [
        (
            &t.incidents,
            INCIDENTS_NAME,
            INCIDENT_CLEAR,
            fields_name as fn(&_) -> String,
        ),
        (
            &t.assessments,
            ASSESSMENTS_NAME,
            DERIVED_CLEAR,
            derived_name,
        ),
    ] {
        for row in table.iter()? {
            let (k, v) = row?;
            let Some(id) = crate::domain::IncidentId::parse(k.value()) else {
                continue;
            };
            if t.phi.get(blob(&id).as_str())?.is_some() {
                check(
                    walk,
                    format!("the clear record {name}[{id}]"),
                    v.value(),
                    allow,
                );
            }
        }
    }
    if t.meta.get(META_ORG_TEXT)?.is_some()
        && let Some(v) = t.meta.get(META_ORG)?
    {
        check(
            walk,
            format!("the clear record {META_NAME}[{META_ORG}]"),
            v.value(),
            ORG_CLEAR,
        );
    }
    Ok(())
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
