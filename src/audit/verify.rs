//! `audit verify`: recompute every link of the chain and every record's digest.

use std::collections::HashMap;

use redb::{ReadTransaction, ReadableTable};
use serde::Serialize;

use super::entry::{Hash, ZERO, decode_stored, hex};
use crate::error::Result;
use crate::error::exit;
use crate::store::tables::*;

/// The kinds of damage verification can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    EditedRecord,
    EditedEntry,
    MissingEntry,
    Reordered,
    OrphanRecord,
    Truncated,
    Forked,
    BadCheckpoint,
}

impl Damage {
    pub fn exit_code(self) -> i32 {
        match self {
            Damage::EditedRecord => exit::AUDIT_EDITED_RECORD,
            Damage::EditedEntry => exit::AUDIT_EDITED_ENTRY,
            Damage::MissingEntry => exit::AUDIT_MISSING_ENTRY,
            Damage::Reordered => exit::AUDIT_REORDERED,
            Damage::OrphanRecord => exit::AUDIT_ORPHAN_RECORD,
            Damage::Truncated => exit::AUDIT_TRUNCATED,
            Damage::Forked => exit::AUDIT_FORKED,
            Damage::BadCheckpoint => exit::AUDIT_BAD_CHECKPOINT,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Damage::EditedRecord => "edited record",
            Damage::EditedEntry => "edited entry",
            Damage::MissingEntry => "missing entry",
            Damage::Reordered => "reordered entries",
            Damage::OrphanRecord => "orphan record",
            Damage::Truncated => "truncated or rolled back",
            Damage::Forked => "forked history",
            Damage::BadCheckpoint => "bad checkpoint",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The first sequence number concerned, when there is one.
    pub seq: Option<u64>,
    pub damage: Damage,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub entries: u64,
    pub head_seq: u64,
    #[serde(serialize_with = "ser_hex")]
    pub head_hash: Hash,
    pub subjects: usize,
    pub findings: Vec<Finding>,
}

fn ser_hex<S: serde::Serializer>(h: &Hash, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex(h))
}

impl Report {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }

    /// The finding to report first: the lowest sequence number, chain damage before records.
    pub fn first(&self) -> Option<&Finding> {
        self.findings.first()
    }
}

/// The latest audit entry per subject: (seq, digest).
pub type Latest = HashMap<String, (u64, Hash)>;

/// Walks the chain and checks every record. Never stops at the first problem: all findings
/// are collected, sorted by sequence number.
pub fn verify(tx: &ReadTransaction) -> Result<Report> {
    let audit = tx.open_table(AUDIT)?;
    let mut findings = Vec::new();
    let mut latest: Latest = HashMap::new();
    let mut expected = 1u64;
    // Hash of the previous entry, when it could be read.
    let mut prev: Option<Hash> = Some(ZERO);
    let mut entries = 0u64;
    let mut head_seq = 0u64;
    let mut head_hash = ZERO;
    for row in audit.iter()? {
        let (k, v) = row?;
        let key = k.value();
        entries += 1;
        let mut gap = false;
        if key > expected {
            gap = true;
            findings.push(Finding {
                seq: Some(expected),
                damage: Damage::MissingEntry,
                message: if key - expected == 1 {
                    format!(
                        "audit entry {expected} is missing (the chain jumps from {} to {key})",
                        expected - 1
                    )
                } else {
                    format!("audit entries {expected} to {} are missing", key - 1)
                },
            });
        }
        expected = key + 1;
        head_seq = key;
        let Some(stored) = decode_stored(v.value()) else {
            findings.push(Finding {
                seq: Some(key),
                damage: Damage::EditedEntry,
                message: format!("audit entry {key} is not a well-formed entry: it was edited"),
            });
            prev = None;
            continue;
        };
        head_hash = stored.stored_hash;
        let e = &stored.entry;
        if e.seq != key {
            findings.push(Finding {
                seq: Some(key),
                damage: Damage::Reordered,
                message: format!(
                    "the entry stored at position {key} carries sequence number {}: entries were reordered",
                    e.seq
                ),
            });
        } else if stored.stored_hash != stored.computed_hash {
            findings.push(Finding {
                seq: Some(key),
                damage: Damage::EditedEntry,
                message: format!(
                    "audit entry {key} ({} on {}) does not match its own hash: it was edited",
                    e.action, e.subject
                ),
            });
        } else if let Some(p) = prev
            && e.prev_hash != p
            && !gap
        {
            findings.push(Finding {
                seq: Some(key.saturating_sub(1).max(1)),
                damage: Damage::EditedEntry,
                message: format!(
                    "audit entry {} was altered and re-hashed: entry {key} links to a different hash",
                    key.saturating_sub(1)
                ),
            });
        }
        prev = Some(stored.stored_hash);
        latest.insert(e.subject.clone(), (key, e.digest));
    }
    drop(audit);

    check_records(tx, &latest, &mut findings)?;
    // Chain damage first: a record's mismatch can be the consequence of a missing or altered
    // entry, so the chain finding is the one to name.
    findings.sort_by_key(|f| {
        let record = matches!(f.damage, Damage::EditedRecord | Damage::OrphanRecord);
        (record, f.seq.unwrap_or(u64::MAX), f.damage.exit_code())
    });
    Ok(Report {
        entries,
        head_seq,
        head_hash,
        subjects: latest.len(),
        findings,
    })
}

/// Every audited subject's current digest must equal the digest in its latest entry, and
/// every stored record must belong to an audited subject.
fn check_records(tx: &ReadTransaction, latest: &Latest, findings: &mut Vec<Finding>) -> Result<()> {
    let mut subjects: Vec<(&String, &(u64, Hash))> = latest.iter().collect();
    subjects.sort_by_key(|(_, (seq, _))| *seq);
    let t = crate::store::DigestTables::open_read(tx)?;
    let (meta, incidents, phi, assessments, manifests) =
        (&t.meta, &t.incidents, &t.phi, &t.assessments, &t.manifests);
    for (subject, (seq, digest)) in subjects {
        let now = match crate::audit::subject::Subject::parse(subject) {
            Some(s) => crate::store::subject_digest(&s, &t)?,
            // A subject this binary does not know has no records.
            None => crate::store::tables::SubjectDigest::default().finish(),
        };
        if now != *digest {
            findings.push(Finding {
                seq: Some(*seq),
                damage: Damage::EditedRecord,
                message: format!(
                    "the stored {subject} does not match the digest in its latest audit entry ({seq}): the record was edited outside breachdesk"
                ),
            });
        }
    }
    let mut orphan = |subject: String, what: &str| {
        if !latest.contains_key(&subject) {
            findings.push(Finding {
                seq: None,
                damage: Damage::OrphanRecord,
                message: format!(
                    "{what} {subject} has no audit entry: it was added outside breachdesk"
                ),
            });
        }
    };
    for row in meta.iter()? {
        let (k, _) = row?;
        if let Some(s) = meta_subject(k.value()) {
            orphan(s.to_string(), "setting");
        }
    }
    for row in incidents.iter()? {
        let (k, _) = row?;
        orphan(format!("incident/{}", k.value()), "record");
    }
    let mut last_phi_subject = String::new();
    for row in phi.iter()? {
        let (k, _) = row?;
        let key = k.value();
        let subject = key.splitn(3, '/').take(2).collect::<Vec<_>>().join("/");
        if subject != last_phi_subject {
            orphan(subject.clone(), "protected value of");
            last_phi_subject = subject;
        }
    }
    for row in assessments.iter()? {
        let (k, _) = row?;
        orphan(format!("incident/{}", k.value()), "determination of");
    }
    for row in manifests.iter()? {
        let (k, _) = row?;
        let id = k.value().split('/').next().unwrap_or_default().to_string();
        orphan(format!("incident/{id}"), "letters manifest of");
    }
    // Committed roster rows, batches and counts belong to `roster/<id>`; staging rows and
    // batches (an interrupted import) are not part of the record.
    let audited = |id: &str| latest.contains_key(&format!("roster/{id}"));
    for id in crate::store::roster::committed_incidents(
        &t.roster_rows,
        &t.roster_batches,
        &t.roster_counts,
        audited,
    )? {
        orphan(format!("roster/{id}"), "stored");
    }
    Ok(())
}
