//! `rekey --rotate`: new keys, every sealed value sealed again, one audit entry.
//!
//! A plain `rekey` wraps the same database key under a new passphrase: the incident keys and
//! every sealed value stay as they are, so a backup of the file taken before, opened with the
//! old passphrase, yields the database key that also opens everything written afterwards. A
//! rotation makes a new database key and a new key for every incident, seals every value
//! again under them, and wraps the new database key under the new passphrase: the old
//! passphrase and every old backup hold only keys that open nothing written from then on.
//!
//! One write transaction holds the whole rotation and its one `org.rekey` entry: an interrupted
//! rotation leaves the file exactly as it was, and running it again starts over (incidents
//! are small; each is read, sealed again and written in turn, never all at once in memory).
//!
//! The entry covers the `org` subject only, yet every incident's records changed: the
//! rotation writes `meta_v1.resealed` (part of the `org` subject, so covered by the entry's
//! digest) listing each incident subject with its new digest and the entry's sequence number.
//! `audit verify` takes a subject's digest from that list when the rotation is newer than the
//! subject's own latest entry.
//!
//! Encoding of `meta_v1.resealed`: JSON `{"seq": N, "subjects": [["incident/2026-0001",
//! "<hex SHA-256>"], …]}`.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::phi::PhiCodec;
use super::tables::*;
use super::vault::Vault;
use super::{
    Actor, Change, Store, Writer, append_entry, commit, extra_tables, subject_digest_write,
};
use crate::audit::entry::hex;
use crate::audit::subject::{Action, Subject};
use crate::domain::{IncidentId, Organization};
use crate::error::{Error, Result};

/// `meta_v1.resealed`: the subjects a rotation sealed again, with their digests then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resealed {
    /// The rotation's own audit entry.
    pub seq: u64,
    pub subjects: Vec<(String, String)>,
}

impl Resealed {
    pub fn decode(bytes: &[u8]) -> Option<Resealed> {
        serde_json::from_slice(bytes).ok()
    }

    /// The digest a subject had right after the rotation, if it rotated it.
    pub fn digest_of(&self, subject: &str) -> Option<crate::audit::entry::Hash> {
        self.subjects
            .iter()
            .find(|(s, _)| s == subject)
            .and_then(|(_, d)| crate::audit::entry::parse_hex32(d))
    }
}

impl Store {
    /// Rotates every key (see the module documentation): `old` is the unlocked codec,
    /// `new_vault` the new database key, `wrapped` it wrapped under the new passphrase, `org`
    /// the organization as it is to be stored. Returns how many incidents were sealed again.
    pub fn rotate(
        &self,
        actor: &Actor,
        old: &PhiCodec,
        new_vault: Vault,
        wrapped: &[u8],
        org: &Organization,
    ) -> Result<usize> {
        let new = PhiCodec::Sealed(new_vault);
        let tx = self.db.rw()?.begin_write()?;
        extra_tables(&tx)?;
        // Each roster's key is wrapped by the database key: a new database key would leave
        // them unreadable, so a rotation waits until rosters rotate with it.
        if tx.open_table(ROSTER_ROWS)?.first()?.is_some()
            || tx.open_table(ROSTER_KEYS)?.first()?.is_some()
        {
            return Err(Error::invalid(
                "rekey --rotate does not yet seal roster rows again: with a roster in this database it would leave them under the old key. \
                 Nothing was changed; purge finished rosters (`breachdesk roster purge`) or use `breachdesk rekey` without --rotate for now",
            ));
        }
        let ids: Vec<IncidentId> = {
            let t = tx.open_table(INCIDENTS)?;
            let mut v = Vec::new();
            for row in t.iter()? {
                if let Some(id) = IncidentId::parse(row?.0.value()) {
                    v.push(id);
                }
            }
            v
        };
        {
            let mut w = Writer::new(&tx);
            for id in &ids {
                let inc = w.incident(id, old)?;
                let derived = if w.has_derived(id)? {
                    Some(w.derived(id, old)?)
                } else {
                    None
                };
                w.forget_incident_key(id)?;
                w.put_incident(&inc, &new)?;
                if let Some(d) = derived {
                    w.put_derived(id, &d, &new)?;
                }
            }
            w.put_org(org, &new)?;
            w.put_wrapped_key(wrapped)?;
        }
        let seq = match tx.open_table(AUDIT)?.last()? {
            Some((k, _)) => k.value() + 1,
            None => 1,
        };
        let mut subjects = Vec::with_capacity(ids.len());
        for id in &ids {
            let s = Subject::Incident(id.clone());
            subjects.push((s.encode(), hex(&subject_digest_write(&tx, &s)?)));
        }
        let record = serde_json::to_vec(&Resealed { seq, subjects })
            .map_err(|e| Error::Storage(e.to_string()))?;
        tx.open_table(META)?
            .insert(META_RESEALED, record.as_slice())?;
        let change = Change::new(Action::OrgRekey, Subject::Org).detail(format!(
            "rotated: new database key and incident keys, every sealed value sealed again (incidents={}); \
             old passphrases and backups open nothing written from now on",
            ids.len()
        ));
        let digest = subject_digest_write(&tx, &change.subject)?;
        let entry = append_entry(&tx, actor, &change, digest)?;
        debug_assert_eq!(entry.seq, seq);
        commit(tx, &entry)?;
        Ok(ids.len())
    }
}
