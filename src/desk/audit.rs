//! The audit trail: the log, verification (with a checkpoint), checkpoints, the signing key.

use ed25519_dalek::SigningKey;

use super::office::Desk;
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

    /// The most recent `limit` entries about an incident (unreadable entries skipped; the
    /// verification names them), and how many there are in all.
    pub fn incident_audit(
        &self,
        id: &IncidentId,
        limit: usize,
    ) -> Result<(Vec<StoredEntry>, usize)> {
        let mut entries = Vec::new();
        self.reader()?.for_each_audit_entry(|_, e| {
            if let Some(e) = e
                && about(&e, id)
            {
                entries.push(e);
            }
            Ok(())
        })?;
        let all = entries.len();
        let skip = all.saturating_sub(limit);
        Ok((entries.split_off(skip), all))
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
                Ok(c) => match c.check_signature(trusted.as_ref()) {
                    Err(f) => report.findings.insert(0, f),
                    Ok(n) => {
                        note = Some(format!("checkpoint seq {} of {}: {n}", c.seq, c.time));
                        let lookup = |seq: u64| r.audit_hash_at(seq).ok().flatten();
                        if let Some(f) = checkpoint::compare(&c, report.head_seq, lookup) {
                            report.findings.insert(0, f);
                        }
                    }
                },
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

    /// `audit keygen`: a new ed25519 signing key, or `existing` (the complete key file of an
    /// interrupted keygen, whose public half was never recorded). `keep` stores the private
    /// half (the CLI: a 0600 file, written atomically) before the public half is recorded;
    /// returns the public key.
    pub fn keygen(
        &self,
        existing: Option<SigningKey>,
        keep: impl FnOnce(&SigningKey) -> Result<()>,
    ) -> Result<[u8; 32]> {
        let sk = match existing {
            Some(k) => k,
            None => {
                let sk = checkpoint::generate_key().map_err(Error::Storage)?;
                keep(&sk)?;
                sk
            }
        };
        let public = *sk.verifying_key().as_bytes();
        self.store().write(&self.actor()?, |w| {
            w.put_signing_key(&public)?;
            Ok((
                (),
                Change::new(Action::AuditKeygen, Subject::SigningKey)
                    .detail(format!("ed25519={}", crate::audit::entry::hex(&public))),
            ))
        })?;
        Ok(public)
    }
}
