//! The audit trail: the log, verification (with a checkpoint), checkpoints, the signing key.

use ed25519_dalek::SigningKey;

use super::office::{AuditIndex, Desk};
use crate::audit::checkpoint::{self, Checkpoint};
use crate::audit::entry::{Hash, StoredEntry};
use crate::audit::subject::Subject;
use crate::audit::verify::{Damage, Finding, Report};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::store::{Action, Change};

/// A checkpoint file to compare the chain with: its name (for messages) and its content,
/// or why it could not be read as text (too large, not UTF-8): a bad checkpoint either way.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    pub name: String,
    pub text: std::result::Result<String, String>,
}

/// `audit verify`.
#[derive(Debug, Clone)]
pub struct Verified {
    pub report: Report,
    /// What the checkpoint comparison found, when one was given and is well signed.
    pub checkpoint: Option<String>,
}

/// Whether an entry is about an incident (its record or its roster).
fn about(e: &StoredEntry, id: &IncidentId) -> bool {
    e.entry.subject.split('/').nth(1) == Some(id.as_str())
}

impl Desk<'_> {
    /// `audit log`: every entry, or those about one incident.
    pub fn audit_log(&self, incident: Option<&IncidentId>) -> Result<Vec<StoredEntry>> {
        Ok(self
            .reader()?
            .audit_entries()?
            .into_iter()
            .filter(|e| incident.is_none_or(|id| about(e, id)))
            .collect())
    }

    /// The newest `n` entries of the whole trail, newest first.
    pub fn audit_tail(&self, n: usize) -> Result<Vec<StoredEntry>> {
        self.reader()?.audit_tail(n)
    }

    /// The most recent `limit` entries about an incident (unreadable entries skipped; the
    /// verification names them), and how many there are in all. The office keeps an index
    /// of which entries are about which incident, brought up to date here by reading only
    /// the entries appended since (a server's incident pages never rescan the chain).
    pub fn incident_audit(
        &self,
        id: &IncidentId,
        limit: usize,
    ) -> Result<(Vec<StoredEntry>, usize)> {
        let r = self.reader()?;
        let head = r.audit_head()?.map(|(s, _)| s).unwrap_or(0);
        let seqs = {
            let mut ix = self
                .office
                .audit_index
                .lock()
                .map_err(|_| Error::Storage("the audit index is poisoned".into()))?;
            if head < ix.upto {
                // A shorter chain than indexed (the file was replaced): start again.
                *ix = AuditIndex::default();
            }
            let from = ix.upto + 1;
            r.for_each_audit_entry_from(from, |seq, e| {
                if let Some(e) = e
                    && let Some(inc) = e.entry.subject.split('/').nth(1)
                {
                    ix.by_incident.entry(inc.to_string()).or_default().push(seq);
                }
                ix.upto = ix.upto.max(seq);
                Ok(())
            })?;
            ix.by_incident.get(id.as_str()).cloned().unwrap_or_default()
        };
        let all = seqs.len();
        let mut entries = Vec::with_capacity(limit.min(all));
        for seq in &seqs[all.saturating_sub(limit)..] {
            if let Some(e) = r.audit_entry(*seq)?
                && about(&e, id)
            {
                entries.push(e);
            }
        }
        Ok((entries, all))
    }

    /// `audit verify`: the whole chain and every record, and the chain against a
    /// checkpoint when one is given (signature checked against `public_key`, else the key
    /// recorded in the database).
    pub fn verify(
        &self,
        against: Option<&CheckpointFile>,
        public_key: Option<[u8; 32]>,
    ) -> Result<Verified> {
        let r = self.reader()?;
        let trusted = match public_key {
            Some(k) => Some(k),
            None => r.signing_key()?.and_then(|b| b.try_into().ok()),
        };
        let mut report = r.verify()?;
        let mut note = None;
        if let Some(cp) = against {
            // The parser's messages name the field and position, never a value.
            let parsed = cp.text.clone().and_then(|t| Checkpoint::parse(&t));
            match parsed {
                Err(why) => report.findings.insert(
                    0,
                    Finding {
                        seq: None,
                        damage: Damage::BadCheckpoint,
                        message: format!("{} is not a breachdesk checkpoint: {why}", cp.name),
                    },
                ),
                Ok(c) => {
                    let lookup = |seq: u64| r.audit_hash_at(seq).ok().flatten();
                    let named = c.named_key();
                    match (named, trusted, public_key) {
                        // The checkpoint names another key than the database's: checked
                        // against the key it names, and the replacement is the finding.
                        (Some(named), Some(current), None) if named != current => {
                            match c.check_signature(Some(&named)) {
                                Err(f) => report.findings.insert(0, f),
                                Ok(_) => {
                                    let history = key_history(&r.audit_entries()?);
                                    report
                                        .findings
                                        .insert(0, replaced(&c, &named, &current, &history));
                                    if let Some(f) =
                                        checkpoint::compare(&c, report.head_seq, lookup)
                                    {
                                        report.findings.insert(0, f);
                                    }
                                }
                            }
                        }
                        _ => match c.check_signature(trusted.as_ref()) {
                            Err(f) => report.findings.insert(0, f),
                            Ok(n) => {
                                note = Some(format!("checkpoint seq {} of {}: {n}", c.seq, c.time));
                                if let Some(f) = checkpoint::compare(&c, report.head_seq, lookup) {
                                    report.findings.insert(0, f);
                                }
                            }
                        },
                    }
                }
            }
        }
        Ok(Verified {
            report,
            checkpoint: note,
        })
    }

    /// The newest entry's sequence number and hash.
    pub fn audit_head(&self) -> Result<(u64, Hash)> {
        self.reader()?
            .audit_head()?
            .ok_or_else(|| Error::invalid("the audit trail is empty: nothing to checkpoint"))
    }

    /// `audit checkpoint`: sequence, head hash and time, signed with `key` (which must be
    /// the one recorded in the database; `name` says where it came from).
    pub fn checkpoint(&self, key: Option<(&SigningKey, &str)>) -> Result<Checkpoint> {
        let (seq, head) = self.audit_head()?;
        let time = self.ctx.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut cp = Checkpoint::new(seq, &head, &time);
        if let Some((sk, name)) = key {
            let recorded = self.reader()?.signing_key()?;
            if recorded.as_deref() != Some(sk.verifying_key().as_bytes().as_slice()) {
                return Err(Error::Key(format!(
                    "{name} is not the signing key recorded in this database; use the key from `audit keygen`"
                )));
            }
            cp.sign(sk);
        }
        Ok(cp)
    }

    /// The public half of the recorded signing key, if any.
    pub fn signing_key(&self) -> Result<Option<Vec<u8>>> {
        self.reader()?.signing_key()
    }

    /// The fingerprint of the recorded checkpoint signing key, if there is one.
    pub fn signing_key_fingerprint(&self) -> Result<Option<String>> {
        Ok(self
            .signing_key()?
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .map(|k| checkpoint::fingerprint(&k)))
    }

    /// `audit keygen`: a new ed25519 signing key, or `existing` (the complete key file of an
    /// interrupted keygen, whose public half was never recorded). `keep` stores the private
    /// half (the CLI: a 0600 file, written atomically) before the public half is recorded;
    /// returns the public key. Replacing a recorded key needs `replace` (it is an audited
    /// event, and checkpoints signed with the old key then report it).
    pub fn keygen(
        &self,
        existing: Option<SigningKey>,
        replace: bool,
        keep: impl FnOnce(&SigningKey) -> Result<()>,
    ) -> Result<[u8; 32]> {
        let old = self.signing_key_fingerprint()?;
        if let (Some(fp), false) = (&old, replace) {
            return Err(Error::invalid(format!(
                "this database already has a checkpoint signing key (fingerprint {}); replacing it is recorded in the audit trail, \
                 and checkpoints signed with it will then report \"signing key replaced since this checkpoint\": pass --replace to do so",
                checkpoint::short(fp)
            )));
        }
        let sk = match existing {
            Some(k) => k,
            None => {
                let sk = checkpoint::generate_key().map_err(Error::Storage)?;
                keep(&sk)?;
                sk
            }
        };
        let public = *sk.verifying_key().as_bytes();
        let mut detail = format!(
            "ed25519={} fingerprint={}",
            crate::audit::entry::hex(&public),
            checkpoint::fingerprint(&public)
        );
        if let Some(fp) = old {
            detail.push_str(&format!(" replaces={fp}"));
        }
        self.store().write(&self.actor()?, |w| {
            w.put_signing_key(&public)?;
            Ok((
                (),
                Change::new(Action::AuditKeygen, Subject::SigningKey).detail(detail),
            ))
        })?;
        Ok(public)
    }
}

/// A signing key as the audit trail recorded it: the `audit.keygen` entry and the key.
struct KeyRecorded {
    seq: u64,
    at: chrono::DateTime<chrono::Utc>,
    by: String,
    key: [u8; 32],
}

/// Every signing key the chain recorded, oldest first (`ed25519=<hex>` in each
/// `audit.keygen` entry's detail, as every release wrote it).
fn key_history(entries: &[StoredEntry]) -> Vec<KeyRecorded> {
    entries
        .iter()
        .filter(|s| s.entry.action == Action::AuditKeygen.key())
        .filter_map(|s| {
            let hex = s
                .entry
                .detail
                .split_whitespace()
                .find_map(|t| t.strip_prefix("ed25519="))?;
            Some(KeyRecorded {
                seq: s.entry.seq,
                at: s.entry.at,
                by: s.entry.recorded.describe(),
                key: crate::audit::entry::parse_hex32(hex)?,
            })
        })
        .collect()
}

/// The finding for a checkpoint signed with another key than the database's current one.
fn replaced(
    cp: &Checkpoint,
    named: &[u8; 32],
    current: &[u8; 32],
    history: &[KeyRecorded],
) -> Finding {
    let fp = checkpoint::fingerprint(named);
    let at_checkpoint = history.iter().rfind(|h| h.seq <= cp.seq);
    let replacement = history.iter().find(|h| h.seq > cp.seq && h.key == *current);
    let message = match (at_checkpoint, replacement) {
        (Some(h), Some(r)) if h.key == *named => format!(
            "the checkpoint of {} (entry {}) is signed with key {} (recorded at entry {}), and its signature verifies against it; \
             the key was replaced at entry {} on {} by {}. If that replacement was yours, make a new checkpoint (`breachdesk audit checkpoint`) and keep it beside this one",
            cp.time,
            cp.seq,
            checkpoint::short(&fp),
            h.seq,
            r.seq,
            r.at.format("%Y-%m-%d %H:%M UTC"),
            r.by
        ),
        _ => format!(
            "the checkpoint of {} (entry {}) is signed with key {}, which this database's audit trail does not record as its key at that entry, \
             and the key recorded now ({}) differs: the key history was rewritten, or the checkpoint belongs to another database",
            cp.time,
            cp.seq,
            checkpoint::short(&fp),
            checkpoint::short(&checkpoint::fingerprint(current))
        ),
    };
    Finding {
        seq: Some(cp.seq),
        damage: Damage::KeyReplaced,
        message,
    }
}
