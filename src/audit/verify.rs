//! `audit verify`: recompute every link of the chain and every record's digest.
//!
//! This module is the pure part: the kinds of damage, the report, and the walk along the
//! chain ([`ChainWalk`]). `store::verify` feeds it the stored entries and checks each
//! subject's records against the latest entry (the mapping is `store::subjects`).

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::entry::{AuditEntry, ClockSource, Hash, ZERO, decode_stored, hex};
use crate::error::exit;

/// How far an entry's system-clock time may fall before an earlier entry's without being
/// reported: clocks are adjusted (NTP steps, a laptop resuming) and a file on a shared drive
/// can be written from two machines whose clocks differ slightly. Beyond it the time went
/// backwards: an entry was backdated, or the clock was set back.
pub const CLOCK_TOLERANCE: TimeDelta = TimeDelta::minutes(5);

/// Whether an entry at `at` by `clock` would go backwards from `prev` beyond the tolerance.
/// Only times that are evidence are compared: those a version-2 entry records as read from
/// the system clock. A pinned or simulated time is neither checked nor a reference, and
/// neither is a release-0.1 entry's (that release accepted `BREACHDESK_NOW` on any database
/// and did not record the clock, so its times prove no order).
pub fn goes_back(prev: &AuditEntry, at: DateTime<Utc>, clock: ClockSource) -> bool {
    clock == ClockSource::System
        && prev.recorded.clock() == Some(ClockSource::System)
        && at + CLOCK_TOLERANCE < prev.at
}

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
    /// A protected value stored in the clear in an encrypted database.
    UnsealedValue,
    /// An entry's time is earlier than an earlier entry's, beyond the tolerance.
    ClockBackwards,
    /// The checkpoint signing key was replaced after the checkpoint was made.
    KeyReplaced,
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
            // Breachdesk never writes a clear value into an encrypted file: one was put there
            // from outside, like an edited record.
            Damage::UnsealedValue => exit::AUDIT_EDITED_RECORD,
            Damage::ClockBackwards => exit::AUDIT_CLOCK_BACKWARDS,
            Damage::KeyReplaced => exit::AUDIT_KEY_REPLACED,
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
            Damage::UnsealedValue => "unsealed value in an encrypted database",
            Damage::ClockBackwards => "time goes backwards",
            Damage::KeyReplaced => "signing key replaced since this checkpoint",
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

/// The latest audit entry per subject string: (seq, digest).
pub type Latest = HashMap<String, (u64, Hash)>;

/// The walk along the chain, entry by entry in key order. Pure: the store feeds it the
/// stored entries and then checks records against [`ChainWalk::latest`]. Never stops at the
/// first problem.
#[derive(Debug)]
pub struct ChainWalk {
    findings: Vec<Finding>,
    latest: Latest,
    expected: u64,
    /// Hash of the previous entry, when it could be read.
    prev: Option<Hash>,
    entries: u64,
    head_seq: u64,
    head_hash: Hash,
    /// The latest time that is evidence so far, and its entry.
    latest_time: Option<(u64, DateTime<Utc>)>,
}

impl Default for ChainWalk {
    fn default() -> Self {
        ChainWalk {
            findings: Vec::new(),
            latest: HashMap::new(),
            expected: 1,
            prev: Some(ZERO),
            entries: 0,
            head_seq: 0,
            head_hash: ZERO,
            latest_time: None,
        }
    }
}

impl ChainWalk {
    /// The next stored entry: its key in the audit table and its stored bytes.
    pub fn push(&mut self, key: u64, value: &[u8]) {
        let findings = &mut self.findings;
        self.entries += 1;
        let expected = self.expected;
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
        self.expected = key + 1;
        self.head_seq = key;
        let Some(stored) = decode_stored(value) else {
            findings.push(Finding {
                seq: Some(key),
                damage: Damage::EditedEntry,
                message: format!("audit entry {key} is not a well-formed entry: it was edited"),
            });
            self.prev = None;
            return;
        };
        self.head_hash = stored.stored_hash;
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
        } else if let Some(p) = self.prev
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
        self.prev = Some(stored.stored_hash);
        self.latest.insert(e.subject.clone(), (key, e.digest));
        self.check_time(e);
    }

    /// Times that are evidence (see [`goes_back`]) never go backwards beyond
    /// [`CLOCK_TOLERANCE`].
    fn check_time(&mut self, e: &AuditEntry) {
        if e.recorded.clock() != Some(ClockSource::System) {
            return;
        }
        match self.latest_time {
            Some((seq, t)) if e.at + CLOCK_TOLERANCE < t => {
                self.findings.push(Finding {
                    seq: Some(e.seq),
                    damage: Damage::ClockBackwards,
                    message: format!(
                        "audit entry {} ({} on {}) is stamped {}, before entry {} ({}) by more than the {}-minute tolerance: an entry was backdated or the clock was set back",
                        e.seq,
                        e.action,
                        e.subject,
                        e.at.format("%Y-%m-%d %H:%M:%S UTC"),
                        seq,
                        t.format("%Y-%m-%d %H:%M:%S UTC"),
                        CLOCK_TOLERANCE.num_minutes()
                    ),
                });
            }
            Some((_, t)) if e.at <= t => {}
            _ => self.latest_time = Some((e.seq, e.at)),
        }
    }

    /// A protected value is stored in the clear in an encrypted database; `what` names it.
    pub fn unsealed(&mut self, what: &str) {
        self.findings.push(Finding {
            seq: None,
            damage: Damage::UnsealedValue,
            message: format!(
                "{what} is stored in the clear although this database is encrypted: breachdesk never writes one, so it was put there from outside"
            ),
        });
    }

    /// The latest entry of every subject seen, for the record checks.
    pub fn latest(&self) -> &Latest {
        &self.latest
    }

    /// A subject's stored state no longer matches the digest of its latest entry.
    pub fn edited_record(&mut self, subject: &str, seq: u64) {
        self.findings.push(Finding {
            seq: Some(seq),
            damage: Damage::EditedRecord,
            message: format!(
                "the stored {subject} does not match the digest in its latest audit entry ({seq}): the record was edited outside breachdesk"
            ),
        });
    }

    /// A stored record belongs to a subject no entry covers; `what` names the record.
    pub fn orphan(&mut self, subject: &str, what: &str) {
        self.findings.push(Finding {
            seq: None,
            damage: Damage::OrphanRecord,
            message: format!(
                "{what} {subject} has no audit entry: it was added outside breachdesk"
            ),
        });
    }

    /// The report: chain damage first (a record's mismatch can be the consequence of a
    /// missing or altered entry, so the chain finding is the one to name), then by sequence.
    pub fn finish(self) -> Report {
        let mut findings = self.findings;
        findings.sort_by_key(|f| {
            let record = matches!(
                f.damage,
                Damage::EditedRecord | Damage::OrphanRecord | Damage::UnsealedValue
            );
            (record, f.seq.unwrap_or(u64::MAX), f.damage.exit_code())
        });
        Report {
            entries: self.entries,
            head_seq: self.head_seq,
            head_hash: self.head_hash,
            subjects: self.latest.len(),
            findings,
        }
    }
}
