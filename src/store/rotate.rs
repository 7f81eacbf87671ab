//! `rekey --rotate`: new keys, every sealed value sealed again, one audit entry.
//!
//! A plain `rekey` wraps the same database key under a new passphrase: the incident keys and
//! every sealed value stay as they are, so a backup of the file taken before, opened with the
//! old passphrase, yields the database key that also opens everything written afterwards. A
//! rotation makes a new database key and a new key for every incident, seals every value
//! again under them, and wraps the new database key under the new passphrase: the old
//! passphrase and every old backup hold only keys that open nothing written from then on.
//!
//! Rosters go first: each roster's groups are sealed again under a next roster key in
//! resumable chunk transactions (`store::roster::rotate`, readable throughout). Then one
//! write transaction holds the rest of the rotation and its one `org.rekey` entry: every
//! incident sealed again, each roster's next key made its key under the new database key,
//! the organization, the new wrapped key. Interrupted, the keys stay as they were and running
//! it again resumes (incidents are small; each is read, sealed again and written in turn).
//!
//! The entry covers the `org` subject only, yet every incident's and roster's records changed: the
//! rotation writes `meta_v1.resealed` (part of the `org` subject, so covered by the entry's
//! digest) listing each incident and roster subject with its new digest and the entry's sequence number.
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
        let PhiCodec::Sealed(old_vault) = old else {
            return Err(super::phi::locked_error());
        };
        // Rosters first: each roster's groups are sealed again under a next key, in resumable
        // chunk transactions (`store::roster::rotate`), readable throughout; the rotation's
        // transaction below then makes each next key the roster's key, wrapped by the new
        // database key. Release 0.1 rows not yet converted are refused.
        {
            let tx = self.db.begin_read()?;
            if let Ok(t) = tx.open_table(ROSTER_ROWS)
                && t.first()?.is_some()
            {
                return Err(Error::invalid(
                    "this database still holds roster rows in release 0.1's format; run a roster command with the passphrase \
                     (e.g. `breachdesk roster issues ID`) to convert them, then rekey --rotate again. Nothing was changed",
                ));
            }
        }
        let rosters: Vec<IncidentId> = {
            let tx = self.db.begin_read()?;
            match tx.open_table(ROSTER_KEYS) {
                Ok(t) => {
                    let mut v = Vec::new();
                    for row in t.iter()? {
                        if let Some(id) = IncidentId::parse(row?.0.value()) {
                            v.push(id);
                        }
                    }
                    v
                }
                Err(redb::TableError::TableDoesNotExist(_)) => vec![],
                Err(e) => return Err(e.into()),
            }
        };
        for id in &rosters {
            if super::roster::rotate::begin(self, id, old_vault)? {
                super::roster::rotate::reseal(self, id, old_vault, &|_| {})?;
            }
        }
        let new = PhiCodec::Sealed(new_vault);
        let tx = self.db.rw()?.begin_write()?;
        extra_tables(&tx)?;
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
            if let PhiCodec::Sealed(new_vault) = &new {
                for id in &rosters {
                    w.finish_roster_rotation(id, old_vault, new_vault)?;
                }
            }
            w.put_org(org, &new)?;
            w.put_wrapped_key(wrapped)?;
        }
        let seq = match tx.open_table(AUDIT)?.last()? {
            Some((k, _)) => k.value() + 1,
            None => 1,
        };
        let mut subjects = Vec::with_capacity(ids.len() + rosters.len());
        for s in ids
            .iter()
            .map(|id| Subject::Incident(id.clone()))
            .chain(rosters.iter().map(|id| Subject::Roster(id.clone())))
        {
            subjects.push((s.encode(), hex(&subject_digest_write(&tx, &s)?)));
        }
        let record = serde_json::to_vec(&Resealed { seq, subjects })
            .map_err(|e| Error::Storage(e.to_string()))?;
        tx.open_table(META)?
            .insert(META_RESEALED, record.as_slice())?;
        let change = Change::new(Action::OrgRekey, Subject::Org).detail(format!(
            "rotated: new database key, incident and roster keys, every sealed value sealed again (incidents={} rosters={}); \
             old passphrases and backups open nothing written from now on",
            ids.len(),
            rosters.len()
        ));
        let digest = subject_digest_write(&tx, &change.subject)?;
        let entry = append_entry(&tx, actor, &change, digest)?;
        debug_assert_eq!(entry.seq, seq);
        commit(tx, &entry)?;
        Ok(ids.len())
    }
}
