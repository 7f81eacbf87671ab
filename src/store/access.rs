//! Typed access to the stored records inside one transaction: [`Reader`] (a read
//! transaction: sees one consistent snapshot and never waits for a writer) and [`Writer`]
//! (the inside of [`Store::write`](super::Store::write)). Tables, keys and encodings stay in
//! this module and its siblings: callers see records, never redb.

use std::collections::BTreeMap;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::phi::PhiCodec;
use super::records::{
    AccessRecord, ApprovalRecord, CounselLawRecord, DerivedRecord, DeterminationLogRecord,
    ManifestRecord, StoredManifest, UserRecord,
};
use super::roster::{self, Batch, Plan, RosterTotals};
use super::tables::*;
use super::{derived, incidents, laws, manifests, sealing, subjects, users};
use crate::audit::entry::{Hash, StoredEntry, decode_stored};
use crate::audit::verify::Report;
use crate::domain::{Counts, Incident, IncidentId, Organization};
use crate::error::{Error, Result, exit};

/// Whether PHI at rest is encrypted, and the wrapped data key when it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// Created with `--no-encryption` (or an exercise database): PHI is stored plain.
    Off,
    /// Encrypted: the data key wrapped under the passphrase (`store::vault`).
    On { wrapped_key: Vec<u8> },
}

fn decode_org(bytes: &[u8]) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Database(format!(
            "the organization record is unreadable ({})",
            incidents::damage(&e)
        ))
    })
}

fn org_from(v: serde_json::Value) -> Result<Organization> {
    serde_json::from_value(v).map_err(|e| {
        Error::Database(format!(
            "the organization record is unreadable ({})",
            incidents::damage(&e)
        ))
    })
}

fn org_text_ad() -> Vec<u8> {
    super::vault::associated_data(META_NAME, META_ORG_TEXT.as_bytes(), "value")
}

fn decode_templates(bytes: &[u8]) -> Result<BTreeMap<String, String>> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Database(format!("the stored template set cannot be decoded ({e})")))
}

fn unreadable_entry(seq: u64) -> Error {
    Error::Audit {
        code: exit::AUDIT_EDITED_ENTRY,
        message: format!("audit entry {seq} is unreadable; run `breachdesk audit verify`"),
    }
}

/// A consistent snapshot of the database.
pub struct Reader {
    tx: ReadTransaction,
}

impl Reader {
    pub(super) fn new(tx: ReadTransaction) -> Reader {
        Reader { tx }
    }

    pub(super) fn tx(&self) -> &ReadTransaction {
        &self.tx
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let meta = self.tx.open_table(META)?;
        Ok(meta.get(key)?.map(|v| v.value().to_vec()))
    }

    /// The organization record as readable without the key (its sealed strings read
    /// `[encrypted: …]`; see `store::sealing::ORG_CLEAR`); `None` in a database that has none
    /// (an exercise database).
    pub fn org(&self) -> Result<Option<Organization>> {
        self.org_opened(&PhiCodec::Locked)
    }

    /// The organization record with its sealed strings opened as far as `codec` can.
    pub fn org_opened(&self, codec: &PhiCodec) -> Result<Option<Organization>> {
        org_opened(self.meta(META_ORG)?, self.meta(META_ORG_TEXT)?, codec)
    }

    /// Whether the organization record was written by an older release (clear text).
    pub fn org_is_legacy(&self) -> Result<bool> {
        Ok(self.meta(META_ORG)?.is_some() && self.meta(META_ORG_TEXT)?.is_none())
    }

    pub fn encryption(&self) -> Result<Encryption> {
        encryption_from(self.meta(META_ENCRYPTION)?, self.meta(META_WRAPPED_KEY)?)
    }

    /// Whether an organization record is stored (a register; an exercise database has none).
    pub fn has_org(&self) -> Result<bool> {
        Ok(self.meta(META_ORG)?.is_some())
    }

    /// The clock marker `init` wrote (`None`: a file from before markers, i.e. real).
    pub fn clock_marker(&self) -> Result<Option<super::ClockMarker>> {
        Ok(match self.meta(META_CLOCK)?.as_deref() {
            None => None,
            Some(b"pinned") => Some(super::ClockMarker::Pinned),
            Some(b"system") => Some(super::ClockMarker::System),
            Some(_) => {
                return Err(Error::Database(
                    "the database's clock marker is unreadable; run `breachdesk audit verify`"
                        .into(),
                ));
            }
        })
    }

    /// Counsel's stored template set (file name → text), if any.
    pub fn templates(&self) -> Result<Option<BTreeMap<String, String>>> {
        self.meta(META_TEMPLATES)?
            .map(|b| decode_templates(&b))
            .transpose()
    }

    /// The checkpoint signing key's public half, as recorded (by `audit keygen`).
    pub fn signing_key(&self) -> Result<Option<Vec<u8>>> {
        self.meta(META_SIGNING_KEY)
    }

    /// An incident with its text opened as far as `codec` can (else the locked placeholder).
    pub fn incident(&self, id: &IncidentId, codec: &PhiCodec) -> Result<Incident> {
        incidents::get_read(&self.tx, id, codec)
    }

    /// The incidents written by an older release whose text is still clear.
    pub fn legacy_incidents(&self) -> Result<Vec<IncidentId>> {
        let incidents = self.tx.open_table(INCIDENTS)?;
        let phi = self.tx.open_table(PHI)?;
        incidents::legacy_ids_in(&incidents, &phi)
    }

    pub fn incident_exists(&self, id: &IncidentId) -> Result<bool> {
        Ok(self.tx.open_table(INCIDENTS)?.get(id.as_str())?.is_some())
    }

    /// Every incident, its text opened as far as `codec` can, in ID order.
    pub fn incidents(&self, codec: &PhiCodec) -> Result<Vec<Incident>> {
        incidents::list(&self.tx, codec)
    }

    /// The first incident's ID (an exercise database holds exactly one).
    pub fn first_incident(&self) -> Result<Option<IncidentId>> {
        let t = self.tx.open_table(INCIDENTS)?;
        let mut it = t.iter()?;
        Ok(match it.next() {
            Some(row) => IncidentId::parse(row?.0.value()),
            None => None,
        })
    }

    /// What is kept beside an incident (empty when nothing is), its text opened as far as
    /// `codec` can.
    pub fn derived(&self, id: &IncidentId, codec: &PhiCodec) -> Result<DerivedRecord> {
        derived::get_read(&self.tx, id, codec)
    }

    /// The counts of the incident's committed roster, if one was imported. Needs no key.
    pub fn roster_counts(&self, id: &IncidentId) -> Result<Option<Counts>> {
        roster::roster_counts(&self.tx, id)
    }

    pub fn roster_totals(&self, id: &IncidentId) -> Result<Option<RosterTotals>> {
        roster::totals(&self.tx, id)
    }

    /// The roster import batches of an incident, oldest first (staging ones included).
    pub fn roster_batches(&self, id: &IncidentId) -> Result<Vec<Batch>> {
        roster::batches(&self.tx, id)
    }

    /// What importing a file with this SHA-256 should do.
    pub fn roster_plan(&self, id: &IncidentId, file_sha256: &str) -> Result<Plan> {
        roster::plan(&self.tx, id, file_sha256)
    }

    /// What a reader needs to know about an incident's roster batches (no key needed).
    pub fn roster_view(&self, id: &IncidentId) -> Result<roster::RosterView> {
        roster::RosterView::load(&self.tx, id)
    }

    /// The roster's key, unwrapped with the database key (proves the passphrase); `None` in
    /// an encrypted database that holds no key for this roster.
    pub fn roster_seal(
        &self,
        id: &IncidentId,
        codec: &PhiCodec,
    ) -> Result<Option<roster::RosterSeal>> {
        roster::read::roster_seal(&self.tx, id, codec)
    }

    /// The letters batches recorded for an incident, oldest first.
    pub fn manifests(&self, id: &IncidentId) -> Result<Vec<StoredManifest>> {
        manifests::list(&self.tx, id)
    }

    /// Every version of counsel's rules files ever stored, by jurisdiction then sequence.
    pub fn counsel_law_history(&self) -> Result<Vec<CounselLawRecord>> {
        laws::history(&self.tx.open_table(LAWS)?)
    }

    /// Counsel's rules files in force (the last version of each jurisdiction, unless cleared).
    pub fn counsel_laws(&self) -> Result<Vec<CounselLawRecord>> {
        Ok(laws::in_force(&self.counsel_law_history()?))
    }

    /// An incident's recorded determinations, oldest first.
    pub fn determinations(&self, id: &IncidentId) -> Result<Vec<DeterminationLogRecord>> {
        laws::determinations(&self.tx.open_table(DETERMINATIONS)?, id)
    }

    /// The copy of a rules file (by its SHA-256) that a determination of the incident used.
    pub fn law_text(&self, id: &IncidentId, sha256: &str) -> Result<Option<String>> {
        laws::law_text(&self.tx.open_table(LAW_TEXTS)?, id, sha256)
    }

    /// The letters batches of an incident with their numbers (from 1), oldest first.
    pub fn batches(&self, id: &IncidentId) -> Result<Vec<(u32, StoredManifest)>> {
        manifests::list_numbered(&self.tx, id)
    }

    /// A person who signs in, by user name.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>> {
        users::get_read(&self.tx, name)
    }

    /// Every user, in name order.
    pub fn users(&self) -> Result<Vec<UserRecord>> {
        users::list(&self.tx)
    }

    /// Calls `f` with every audit entry in key order (`None`: the stored bytes do not
    /// decode; `audit verify` names such damage).
    pub fn for_each_audit_entry(
        &self,
        mut f: impl FnMut(u64, Option<StoredEntry>) -> Result<()>,
    ) -> Result<()> {
        let audit = self.tx.open_table(AUDIT)?;
        for row in audit.iter()? {
            let (k, v) = row?;
            f(k.value(), decode_stored(v.value()))?;
        }
        Ok(())
    }

    /// Calls `f` with each audit entry from sequence `start` on, in order (`None`: the
    /// stored bytes do not decode).
    pub fn for_each_audit_entry_from(
        &self,
        start: u64,
        mut f: impl FnMut(u64, Option<StoredEntry>) -> Result<()>,
    ) -> Result<()> {
        let audit = self.tx.open_table(AUDIT)?;
        for row in audit.range(start..)? {
            let (k, v) = row?;
            f(k.value(), decode_stored(v.value()))?;
        }
        Ok(())
    }

    /// One audit entry, if it exists and decodes.
    pub fn audit_entry(&self, seq: u64) -> Result<Option<StoredEntry>> {
        let audit = self.tx.open_table(AUDIT)?;
        Ok(audit.get(seq)?.and_then(|v| decode_stored(v.value())))
    }

    /// The newest `n` entries, newest first (unreadable ones skipped: `verify` names them).
    pub fn audit_tail(&self, n: usize) -> Result<Vec<StoredEntry>> {
        let audit = self.tx.open_table(AUDIT)?;
        let mut out = Vec::with_capacity(n);
        for row in audit.iter()?.rev() {
            if out.len() >= n {
                break;
            }
            let (_, v) = row?;
            if let Some(e) = decode_stored(v.value()) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Every audit entry, in order; an unreadable one is an error.
    pub fn audit_entries(&self) -> Result<Vec<StoredEntry>> {
        let mut out = Vec::new();
        self.for_each_audit_entry(|seq, e| {
            out.push(e.ok_or_else(|| unreadable_entry(seq))?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The newest entry's sequence number and hash; `None` for an empty chain.
    pub fn audit_head(&self) -> Result<Option<(u64, Hash)>> {
        let audit = self.tx.open_table(AUDIT)?;
        let Some((k, v)) = audit.last()? else {
            return Ok(None);
        };
        let s = decode_stored(v.value()).ok_or_else(|| Error::Audit {
            code: exit::AUDIT_EDITED_ENTRY,
            message: "the last audit entry is unreadable; run `breachdesk audit verify`".into(),
        })?;
        Ok(Some((k.value(), s.stored_hash)))
    }

    /// The stored hash of entry `seq`, if it exists and decodes.
    pub fn audit_hash_at(&self, seq: u64) -> Result<Option<Hash>> {
        let audit = self.tx.open_table(AUDIT)?;
        Ok(audit
            .get(seq)?
            .and_then(|v| decode_stored(v.value()))
            .map(|s| s.stored_hash))
    }

    /// The digest of an incident's stored records now (its revision).
    pub fn incident_revision(&self, id: &IncidentId) -> Result<Hash> {
        let t = super::open_subject_tables!(self.tx);
        subjects::digest(&crate::audit::subject::Subject::Incident(id.clone()), &t)
    }

    /// The digest of a subject's current state (what its next audit entry would carry): an
    /// incident's changes whenever any of its records does, so it serves as its revision.
    pub fn subject_digest(&self, subject: &super::Subject) -> Result<Hash> {
        let t = super::open_subject_tables!(self.tx);
        super::subjects::digest(subject, &t)
    }

    /// `audit verify`: every link and every record, in this snapshot.
    pub fn verify(&self) -> Result<Report> {
        super::verify::verify(&self.tx)
    }
}

/// The records of one write transaction, inside [`Store::write`](super::Store::write).
pub struct Writer<'t> {
    tx: &'t WriteTransaction,
}

impl<'t> Writer<'t> {
    pub(super) fn new(tx: &'t WriteTransaction) -> Writer<'t> {
        Writer { tx }
    }

    /// Creates the (empty) users table: the `users` migration step.
    pub(super) fn create_users_table(&self) -> Result<()> {
        self.tx.open_table(super::tables::USERS)?;
        Ok(())
    }

    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<()> {
        self.tx.open_table(META)?.insert(key, value)?;
        Ok(())
    }

    /// Writes the organization: its clear part, and its text (the privacy officer) sealed
    /// under the database's data key. Needs the key in an encrypted database.
    pub fn put_org(&mut self, org: &Organization, codec: &PhiCodec) -> Result<()> {
        let v = serde_json::to_value(org).map_err(|e| Error::Storage(e.to_string()))?;
        let (clear, text) = sealing::split(v, sealing::ORG_CLEAR);
        let sealed = seal_org_text(codec, &sealing::encode(&text)?)?;
        let json = serde_json::to_vec(&clear).map_err(|e| Error::Storage(e.to_string()))?;
        self.put_meta(META_ORG, &json)?;
        self.put_meta(META_ORG_TEXT, &sealed)
    }

    /// Records whether PHI is encrypted (and the wrapped key when it is). For `init`.
    pub fn put_encryption(&mut self, e: &Encryption) -> Result<()> {
        match e {
            Encryption::On { wrapped_key } => {
                self.put_meta(META_ENCRYPTION, b"on")?;
                self.put_meta(META_WRAPPED_KEY, wrapped_key)
            }
            Encryption::Off => self.put_meta(META_ENCRYPTION, b"off"),
        }
    }

    /// Records which clock the database accepts. For `init` only: a register never changes
    /// from real to pinned.
    pub fn put_clock_marker(&mut self, m: super::ClockMarker) -> Result<()> {
        self.put_meta(META_CLOCK, m.key().as_bytes())
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let meta = self.tx.open_table(META)?;
        Ok(meta.get(key)?.map(|v| v.value().to_vec()))
    }

    /// Whether PHI is encrypted (see [`Reader::encryption`]).
    pub fn encryption(&self) -> Result<Encryption> {
        encryption_from(self.meta(META_ENCRYPTION)?, self.meta(META_WRAPPED_KEY)?)
    }

    /// The incidents written by an older release whose text is still clear.
    pub fn legacy_incidents(&self) -> Result<Vec<IncidentId>> {
        let incidents = self.tx.open_table(INCIDENTS)?;
        let phi = self.tx.open_table(PHI)?;
        incidents::legacy_ids_in(&incidents, &phi)
    }

    pub fn org_is_legacy(&self) -> Result<bool> {
        Ok(self.meta(META_ORG)?.is_some() && self.meta(META_ORG_TEXT)?.is_none())
    }

    /// The organization, opened as far as `codec` can (see [`Reader::org_opened`]).
    pub fn org_opened(&self, codec: &PhiCodec) -> Result<Option<Organization>> {
        org_opened(self.meta(META_ORG)?, self.meta(META_ORG_TEXT)?, codec)
    }

    /// Replaces the wrapped data key (`rekey`).
    pub fn put_wrapped_key(&mut self, wrapped: &[u8]) -> Result<()> {
        self.put_meta(META_WRAPPED_KEY, wrapped)
    }

    /// Stores counsel's template set; returns the bytes stored, for their hash.
    pub fn put_templates(&mut self, set: &BTreeMap<String, String>) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(set).map_err(|e| Error::Storage(e.to_string()))?;
        self.put_meta(META_TEMPLATES, &json)?;
        Ok(json)
    }

    /// Removes the stored template set; `false` when there was none.
    pub fn clear_templates(&mut self) -> Result<bool> {
        Ok(self.tx.open_table(META)?.remove(META_TEMPLATES)?.is_some())
    }

    pub fn put_signing_key(&mut self, public: &[u8; 32]) -> Result<()> {
        self.put_meta(META_SIGNING_KEY, public)
    }

    /// The next free incident ID in `year`.
    pub fn next_incident_id(&self, year: i32) -> Result<IncidentId> {
        incidents::next_id(self.tx, year)
    }

    pub fn incident(&self, id: &IncidentId, codec: &PhiCodec) -> Result<Incident> {
        incidents::get_write(self.tx, id, codec)
    }

    pub fn incident_exists(&self, id: &IncidentId) -> Result<bool> {
        Ok(self.tx.open_table(INCIDENTS)?.get(id.as_str())?.is_some())
    }

    /// The digest of an incident's stored records inside this write (its revision).
    pub fn incident_revision(&self, id: &IncidentId) -> Result<Hash> {
        super::extra_tables(self.tx)?;
        let t = super::open_subject_tables!(self.tx);
        subjects::digest(&crate::audit::subject::Subject::Incident(id.clone()), &t)
    }

    /// Writes an incident, its text sealed under its own key (see `store::incidents`).
    pub fn put_incident(&mut self, inc: &Incident, codec: &PhiCodec) -> Result<()> {
        let legacy = incidents::put(self.tx, inc, codec)?;
        // What is kept beside a legacy record is converted with it, under its new key.
        if legacy
            && self
                .tx
                .open_table(super::tables::ASSESSMENTS)?
                .get(inc.id.as_str())?
                .is_some()
        {
            let d = derived::get_write(self.tx, &inc.id, codec)?;
            derived::put(self.tx, &inc.id, &d, codec)?;
        }
        Ok(())
    }

    pub fn derived(&self, id: &IncidentId, codec: &PhiCodec) -> Result<DerivedRecord> {
        derived::get_write(self.tx, id, codec)
    }

    /// Whether anything is kept beside the incident.
    pub fn has_derived(&self, id: &IncidentId) -> Result<bool> {
        Ok(self.tx.open_table(ASSESSMENTS)?.get(id.as_str())?.is_some())
    }

    /// Drops the incident's wrapped key, so the next write makes a new one (rotation; the
    /// values sealed under the old key are all rewritten in the same transaction).
    pub fn forget_incident_key(&mut self, id: &IncidentId) -> Result<()> {
        self.tx
            .open_table(PHI)?
            .remove(incidents::key_name(id).as_str())?;
        Ok(())
    }

    pub fn put_derived(
        &mut self,
        id: &IncidentId,
        d: &DerivedRecord,
        codec: &PhiCodec,
    ) -> Result<()> {
        derived::put(self.tx, id, d, codec)
    }

    /// The counts of the incident's committed roster, if one was imported.
    pub fn roster_counts(&self, id: &IncidentId) -> Result<Option<Counts>> {
        roster::roster_counts_write(self.tx, id)
    }

    /// Creates the tables of rosters in sealed groups (migration step `roster-v2`).
    pub(super) fn create_roster_v2_tables(&mut self) -> Result<()> {
        self.tx.open_table(ROSTER_KEYS)?;
        self.tx.open_table(ROSTER_GROUPS)?;
        self.tx.open_table(ROSTER_DEAD)?;
        self.tx.open_table(ROSTER_ISSUES)?;
        Ok(())
    }

    /// Creates the State-law tables (a migration step; idempotent).
    pub(super) fn create_state_law_tables(&mut self) -> Result<()> {
        self.tx.open_table(LAWS)?;
        self.tx.open_table(DETERMINATIONS)?;
        self.tx.open_table(LAW_TEXTS)?;
        Ok(())
    }

    /// Counsel's rules files in force, read inside this write.
    pub fn counsel_laws(&self) -> Result<Vec<CounselLawRecord>> {
        Ok(laws::in_force(&laws::history(&self.tx.open_table(LAWS)?)?))
    }

    /// Appends a version of counsel's file (or its removal); sets `rec.seq`.
    pub fn add_counsel_law(&mut self, rec: &mut CounselLawRecord) -> Result<()> {
        laws::add(self.tx, rec)
    }

    /// Records a determination and the copies of the rules files it used (`(sha256, text)`);
    /// sets `rec.seq`.
    pub fn add_determination(
        &mut self,
        id: &IncidentId,
        rec: &mut DeterminationLogRecord,
        texts: &[(String, String)],
    ) -> Result<()> {
        laws::add_determination(self.tx, id, rec, texts)
    }

    /// Step 3 of a roster key rotation (`store::roster::rotate`): the roster's next key
    /// becomes its key, wrapped by the database's new data key. Returns its fingerprint.
    pub fn finish_roster_rotation(
        &mut self,
        id: &IncidentId,
        current: &super::vault::Vault,
        new: &super::vault::Vault,
    ) -> Result<Option<String>> {
        roster::rotate::finish(self.tx, id, current, new)
    }

    /// A person who signs in, by user name (inside this write).
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>> {
        users::get_write(self.tx, name)
    }

    /// The digest of a subject's current state inside this transaction (no table of it may
    /// be open).
    pub fn subject_digest(&self, subject: &super::Subject) -> Result<Hash> {
        super::subject_digest_write(self.tx, subject)
    }

    pub fn users(&self) -> Result<Vec<UserRecord>> {
        users::list_write(self.tx)
    }

    pub fn put_user(&mut self, u: &UserRecord) -> Result<()> {
        users::put(self.tx, u)
    }

    pub fn access(&self) -> Result<AccessRecord> {
        users::access(self.tx)
    }

    pub fn put_access(&mut self, a: &AccessRecord) -> Result<()> {
        users::put_access(self.tx, a)
    }

    /// Records a rendered letters batch under the incident; returns its number.
    pub fn add_manifest(
        &mut self,
        id: &IncidentId,
        m: &ManifestRecord,
        manifest_sha256: &str,
    ) -> Result<u32> {
        manifests::add(self.tx, id, m, manifest_sha256)
    }

    /// The letters batches of an incident with their numbers, oldest first.
    pub fn batches(&self, id: &IncidentId) -> Result<Vec<(u32, StoredManifest)>> {
        manifests::list_write(self.tx, id)
    }

    /// Records counsel's sign-off in batch `n`.
    pub fn approve_batch(&mut self, id: &IncidentId, n: u32, a: &ApprovalRecord) -> Result<()> {
        manifests::approve(self.tx, id, n, a)
    }
}

fn seal_org_text(codec: &PhiCodec, plain: &[u8]) -> Result<Vec<u8>> {
    match codec {
        PhiCodec::Plain => {
            let mut v = vec![0];
            v.extend_from_slice(plain);
            Ok(v)
        }
        PhiCodec::Sealed(vault) => vault
            .seal(&org_text_ad(), plain)
            .map_err(|e| Error::Key(format!("cannot seal a protected value: {e}"))),
        PhiCodec::Locked => Err(super::phi::locked_error()),
    }
}

fn open_org_text(codec: &PhiCodec, stored: &[u8]) -> Result<Vec<u8>> {
    let failed = || {
        Error::Key(
            "the organization's sealed text failed authentication: it was altered; run `breachdesk audit verify`"
                .into(),
        )
    };
    match (codec, stored.split_first()) {
        (PhiCodec::Plain, Some((0, rest))) => Ok(rest.to_vec()),
        (PhiCodec::Sealed(vault), _) => vault.open(&org_text_ad(), stored).map_err(|_| failed()),
        _ => Err(failed()),
    }
}

fn encryption_from(flag: Option<Vec<u8>>, wrapped: Option<Vec<u8>>) -> Result<Encryption> {
    if flag.as_deref() != Some(b"on".as_slice()) {
        return Ok(Encryption::Off);
    }
    let wrapped_key = wrapped.ok_or_else(|| {
        Error::Database("the database is marked encrypted but holds no wrapped key".into())
    })?;
    Ok(Encryption::On { wrapped_key })
}

fn org_opened(
    record: Option<Vec<u8>>,
    text: Option<Vec<u8>>,
    codec: &PhiCodec,
) -> Result<Option<Organization>> {
    let Some(b) = record else {
        return Ok(None);
    };
    let mut v = decode_org(&b)?;
    match (text, codec) {
        (Some(_), PhiCodec::Locked) => {}
        (Some(sealed), c) => {
            let plain = open_org_text(c, &sealed)?;
            sealing::join(&mut v, sealing::decode(&plain)?)?;
        }
        // Written by an older release: clear, masked without the key.
        (None, PhiCodec::Locked) => v = sealing::mask(v, sealing::ORG_CLEAR),
        (None, _) => {}
    }
    org_from(v).map(Some)
}
