//! The redb store: one file, versioned tables, and write transactions that always carry
//! their audit entry.
//!
//! Invariant: every mutation goes through [`Store::write`], which commits the change and
//! exactly one audit entry in the same redb write transaction, or nothing at all.

mod access;
pub use access::{Encryption, Reader, Writer};
#[doc(hidden)]
pub mod bulk;
pub mod compact;
mod derived;
mod incidents;
mod laws;
mod manifests;
pub mod phi;
pub mod records;
pub mod roster;
mod rotate;
pub mod sealing;
pub mod subjects;
mod tables;
mod users;
pub mod vault;
mod verify;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
#[cfg(test)]
use redb::TableDefinition;
use redb::{
    Builder, Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    WriteTransaction,
};

use crate::audit::entry::{AuditEntry, Hash, Recorded, ZERO, decode_stored};
pub use crate::audit::entry::{ClockSource, Via, Who};
pub use crate::audit::subject::{Action, Subject};
use crate::audit::verify::{CLOCK_TOLERANCE, goes_back};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use tables::*;

/// Who did it, when, and by which clock: read once by the front end and passed down.
#[derive(Debug, Clone)]
pub struct Actor {
    pub who: Who,
    pub now: DateTime<Utc>,
    pub clock: ClockSource,
}

/// What a database says about its clock (`meta_v1.clock`, part of the audited `org`
/// subject, written once by `init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMarker {
    /// A real register: every record takes the system clock. Also a file with no marker
    /// (written before markers existed, e.g. by release 0.1).
    System,
    /// Created with `init --pinned-clock` for tests and demos: `BREACHDESK_NOW` is accepted
    /// and nothing in it is evidence.
    Pinned,
}

impl ClockMarker {
    pub fn key(self) -> &'static str {
        match self {
            ClockMarker::System => "system",
            ClockMarker::Pinned => "pinned",
        }
    }
}

/// What a mutating command changed, for its audit entry: a typed action on a typed subject
/// (their strings are fixed in [`crate::audit::subject`]).
#[derive(Debug, Clone)]
pub struct Change {
    pub action: Action,
    pub subject: Subject,
    /// Non-PHI detail (counts, hashes).
    pub detail: String,
}

impl Change {
    pub fn new(action: Action, subject: Subject) -> Change {
        debug_assert_eq!(
            action.subject_kind(),
            subject.kind(),
            "{action} does not change a {subject}"
        );
        Change {
            action,
            subject,
            detail: String::new(),
        }
    }

    /// A change of an incident (`incident/<id>`).
    pub fn incident(action: Action, id: &IncidentId) -> Change {
        Change::new(action, Subject::Incident(id.clone()))
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Change {
        self.detail = detail.into();
        self
    }
}

pub struct Store {
    db: Db,
    path: PathBuf,
}

/// The file opened for reading and writing, or read-only (a copy on read-only media, or a
/// file without write permission: `audit verify` still works on it).
enum Db {
    ReadWrite(Database),
    ReadOnly(ReadOnlyDatabase),
}

impl Db {
    fn rw(&self) -> Result<&Database> {
        match self {
            Db::ReadWrite(db) => Ok(db),
            Db::ReadOnly(_) => Err(Error::io(
                "the database was opened read-only; nothing can be changed",
                std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            )),
        }
    }

    fn begin_read(&self) -> Result<ReadTransaction> {
        Ok(match self {
            Db::ReadWrite(db) => db.begin_read()?,
            Db::ReadOnly(db) => db.begin_read()?,
        })
    }
}

impl Store {
    /// Creates a new database file with owner-only permissions. Refuses to overwrite an
    /// existing non-empty file.
    pub fn create(path: &Path) -> Result<Store> {
        if path.exists()
            && std::fs::metadata(path)
                .map(|m| m.len() > 0)
                .unwrap_or(false)
        {
            return Err(Error::invalid(format!(
                "a database already exists at {}; use `org update` to change it, or choose another --db path",
                path.display()
            )));
        }
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| Error::io(format!("cannot set permissions on {}", path.display()), e),
            )?;
        }
        let db = builder()
            .create(path)
            .map_err(|e| map_open_error(e, path))?;
        Ok(Store {
            db: Db::ReadWrite(db),
            path: path.to_path_buf(),
        })
    }

    /// The first write of a new database: creates every table and records the schema
    /// version, in the same transaction as the change `f` makes and its audit entry.
    pub fn init<T>(
        &self,
        actor: &Actor,
        f: impl FnOnce(&mut Writer) -> Result<(T, Change)>,
    ) -> Result<T> {
        self.init_write_tx(actor, |tx| f(&mut Writer::new(tx)))
    }

    /// Runs `f` in one write transaction and appends exactly one audit entry for the change
    /// it reports, then commits. If `f` fails, nothing is written.
    pub fn write<T>(
        &self,
        actor: &Actor,
        f: impl FnOnce(&mut Writer) -> Result<(T, Change)>,
    ) -> Result<T> {
        self.write_tx(actor, |tx| f(&mut Writer::new(tx)))
    }

    /// A consistent snapshot to read from; never waits for a writer.
    pub fn reader(&self) -> Result<Reader> {
        Ok(Reader::new(self.db.begin_read()?))
    }

    /// The first transaction of a file: every table, the schema version and its own
    /// `store.init` entry (the `store` subject), then the command's change and its entry.
    fn init_write_tx<T>(
        &self,
        actor: &Actor,
        f: impl FnOnce(&WriteTransaction) -> Result<(T, Change)>,
    ) -> Result<T> {
        let tx = self.db.rw()?.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            meta.insert(META_SCHEMA, SCHEMA_VERSION.to_string().as_bytes())?;
            tx.open_table(INCIDENTS)?;
            tx.open_table(PHI)?;
            tx.open_table(ASSESSMENTS)?;
            tx.open_table(AUDIT)?;
            extra_tables(&tx)?;
        }
        let created = Change::new(Action::StoreInit, Subject::Store)
            .detail(format!("schema_version={SCHEMA_VERSION}"));
        let digest = subject_digest_write(&tx, &created.subject)?;
        append_entry(&tx, actor, &created, digest)?;
        let (out, change) = f(&tx)?;
        let digest = subject_digest_write(&tx, &change.subject)?;
        let entry = append_entry(&tx, actor, &change, digest)?;
        commit(tx, &entry)?;
        Ok(out)
    }

    /// Opens an existing database, checking its schema version.
    pub fn open(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(Error::Database(format!(
                "no database at {}; create one with `breachdesk init --org NAME --role covered-entity` \
                 or point --db / BREACHDESK_DB at an existing file",
                path.display()
            )));
        }
        let db = builder().open(path).map_err(|e| map_open_error(e, path))?;
        let store = Store {
            db: Db::ReadWrite(db),
            path: path.to_path_buf(),
        };
        let version = store.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(Error::Database(format!(
                "{} was written by a newer breachdesk (schema version {version}; this binary reads up to {SCHEMA_VERSION}); upgrade breachdesk to open it",
                path.display()
            )));
        }
        store.ensure_extra_tables()?;
        Ok(store)
    }

    /// Opens an existing database for reading only, for a command that changes nothing
    /// (`audit verify`) on a file it may not write; see [`Store::open_for_reading`].
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Store::open(path);
        }
        let db = builder()
            .open_read_only(path)
            .map_err(|e| map_open_error(e, path))?;
        let store = Store {
            db: Db::ReadOnly(db),
            path: path.to_path_buf(),
        };
        let version = store.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(Error::Database(format!(
                "{} was written by a newer breachdesk (schema version {version}; this binary reads up to {SCHEMA_VERSION}); upgrade breachdesk to open it",
                path.display()
            )));
        }
        Ok(store)
    }

    /// Opens for reading and writing when the file allows it, else read-only.
    pub fn open_for_reading(path: &Path) -> Result<Store> {
        match Store::open(path) {
            Err(Error::Io { source, .. })
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                Store::open_read_only(path)
            }
            other => other,
        }
    }

    /// Creates the tables added after schema version 1 was first written (empty tables hold
    /// no records, so this needs no audit entry).
    fn ensure_extra_tables(&self) -> Result<()> {
        let tx = self.db.begin_read()?;
        let mut missing = false;
        for t in [ROSTER_COUNTS, LAW_TEXTS, ROSTER_ISSUES, USERS] {
            match tx.open_table(t) {
                Ok(_) => {}
                Err(redb::TableError::TableDoesNotExist(_)) => missing = true,
                Err(e) => return Err(e.into()),
            }
        }
        drop(tx);
        if missing {
            let tx = self.db.rw()?.begin_write()?;
            extra_tables(&tx)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database for a write transaction; an error when it was opened read-only.
    fn db(&self) -> Result<&Database> {
        self.db.rw()
    }

    fn db_mut(&mut self) -> Result<&mut Database> {
        match &mut self.db {
            Db::ReadWrite(db) => Ok(db),
            Db::ReadOnly(_) => Err(Error::io(
                "the database was opened read-only; nothing can be changed",
                std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            )),
        }
    }

    /// The file was opened read-only (no migration, no compaction).
    pub fn read_only(&self) -> bool {
        matches!(self.db, Db::ReadOnly(_))
    }

    fn schema_version(&self) -> Result<u32> {
        let tx = self.db.begin_read()?;
        // Only a missing table means a foreign file; a failed read is an I/O error.
        let meta = tx.open_table(META).map_err(|e| match e {
            redb::TableError::TableDoesNotExist(_) | redb::TableError::TableTypeMismatch { .. } => {
                Error::Database(format!(
                    "{} is not a breachdesk database (no meta table)",
                    self.path.display()
                ))
            }
            other => other.into(),
        })?;
        let v = meta
            .get(META_SCHEMA)?
            .and_then(|v| std::str::from_utf8(v.value()).ok()?.parse::<u32>().ok())
            .ok_or_else(|| {
                Error::Database(format!(
                    "{} has no readable schema version; it is not a breachdesk database or is damaged",
                    self.path.display()
                ))
            })?;
        Ok(v)
    }

    fn write_tx<T>(
        &self,
        actor: &Actor,
        f: impl FnOnce(&WriteTransaction) -> Result<(T, Change)>,
    ) -> Result<T> {
        let tx = self.db.rw()?.begin_write()?;
        let (out, change) = f(&tx)?;
        let digest = subject_digest_write(&tx, &change.subject)?;
        let entry = append_entry(&tx, actor, &change, digest)?;
        commit(tx, &entry)?;
        Ok(out)
    }

    /// Whether the file is older than this binary's schema (a migration is due).
    pub fn needs_migration(&self) -> Result<bool> {
        Ok(self.schema_version()? < SCHEMA_VERSION)
    }

    /// Brings an older file up to [`SCHEMA_VERSION`], one step per transaction, each with its
    /// `store.migrate` entry (and the entries of any other subject the step changed). Old
    /// entries are never rewritten: the chain continues across the change. Returns the names
    /// of the steps run.
    pub fn migrate(&self, actor: &Actor) -> Result<Vec<&'static str>> {
        let mut done = Vec::new();
        loop {
            let from = self.schema_version()?;
            if from >= SCHEMA_VERSION {
                return Ok(done);
            }
            let Some(step) = from.checked_sub(1).and_then(|i| MIGRATIONS.get(i as usize)) else {
                return Err(Error::Database(format!(
                    "{} has schema version {from}, which no release wrote",
                    self.path.display()
                )));
            };
            let to = from + 1;
            let tx = self.db.rw()?.begin_write()?;
            extra_tables(&tx)?;
            let others = (step.run)(&mut Writer::new(&tx))?;
            tx.open_table(META)?
                .insert(META_SCHEMA, to.to_string().as_bytes())?;
            let change = Change::new(Action::StoreMigrate, Subject::Store)
                .detail(format!("step={} schema_version={from}->{to}", step.name));
            let digest = subject_digest_write(&tx, &change.subject)?;
            let mut entry = append_entry(&tx, actor, &change, digest)?;
            for c in others {
                let digest = subject_digest_write(&tx, &c.subject)?;
                entry = append_entry(&tx, actor, &c, digest)?;
            }
            commit(tx, &entry)?;
            done.push(step.name);
        }
    }
}

impl Store {
    /// Whether text an older release stored in the clear is still waiting for the key: the
    /// incidents, and whether the organization record is one.
    pub fn legacy_text(&self) -> Result<(Vec<IncidentId>, bool)> {
        let r = self.reader()?;
        if !matches!(r.encryption()?, Encryption::On { .. }) {
            return Ok((vec![], false));
        }
        Ok((r.legacy_incidents()?, r.org_is_legacy()?))
    }

    /// Seals the text an older release stored in the clear (see [`seal_legacy_text`]), in one
    /// transaction with a `store.migrate` entry naming the step and one entry per subject
    /// rewritten (so each verifies). Needs the unlocked key; does nothing when nothing waits.
    pub fn seal_legacy(&self, actor: &Actor, codec: &phi::PhiCodec) -> Result<Vec<Change>> {
        let (ids, org) = self.legacy_text()?;
        if ids.is_empty() && !org {
            return Ok(vec![]);
        }
        let tx = self.db.rw()?.begin_write()?;
        extra_tables(&tx)?;
        let others = seal_legacy_text(&mut Writer::new(&tx), codec)?;
        let change = Change::new(Action::StoreMigrate, Subject::Store).detail(format!(
            "step=seal-legacy-text incidents={} org={}",
            ids.len(),
            u8::from(org)
        ));
        let digest = subject_digest_write(&tx, &change.subject)?;
        let mut entry = append_entry(&tx, actor, &change, digest)?;
        for c in &others {
            let digest = subject_digest_write(&tx, &c.subject)?;
            entry = append_entry(&tx, actor, c, digest)?;
        }
        commit(tx, &entry)?;
        Ok(others)
    }
}

/// One migration step: from the schema version before it to the next. Each is
/// self-contained (it reads only the tables it changes and assumes no particular number) and
/// idempotent; it returns the audit changes of any subject other than `store` whose records
/// it rewrote (so their digests stay on record).
struct Migration {
    name: &'static str,
    run: fn(&mut Writer) -> Result<Vec<Change>>,
}

/// Step i takes a file from schema version i + 1 to i + 2; [`SCHEMA_VERSION`] is one more
/// than their number.
const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "audited-meta",
        run: migrate_audited_meta,
    },
    Migration {
        name: "state-laws",
        run: migrate_state_laws,
    },
    Migration {
        name: "roster-v2",
        run: migrate_roster_v2,
    },
    Migration {
        name: "sealed-text",
        run: migrate_sealed_text,
    },
    Migration {
        name: "users",
        run: migrate_users,
    },
];

const _: () = assert!(MIGRATIONS.len() as u32 + 1 == SCHEMA_VERSION);

/// Version 2: audit entries are written as `BDAUDIT2` (who: the OS account, the channel, the
/// logged-in user, the person acted for; the clock), the schema version belongs to the
/// audited `store` subject and every `meta_v1` key to an audited subject. Nothing stored is
/// rewritten: the step's own `store.migrate` entry puts the schema version on record.
fn migrate_audited_meta(_w: &mut Writer) -> Result<Vec<Change>> {
    Ok(vec![])
}

/// State breach laws: counsel's rules files (`laws_v1`, the `laws` subject), recorded
/// determinations and the copies of the rules files they used (`determinations_v1`,
/// `law_texts_v1`, part of each incident's subject). The step creates the (empty) tables;
/// nothing stored is rewritten, so no subject's digest changes. Records written before it
/// read as they are: an organization without a business-day policy has the default
/// (`weekends_only`), an incident without recorded determinations has nothing to replay.
/// A binary older than this step refuses the file, rather than ignore counsel's rules.
fn migrate_state_laws(w: &mut Writer) -> Result<Vec<Change>> {
    w.create_state_law_tables()?;
    Ok(vec![])
}

/// Rosters in sealed groups under a key per roster (`roster_keys_v2`, `roster_groups_v2`,
/// `roster_dead_v2`, `roster_issues_v2`). The step creates the (empty) tables; nothing
/// stored is rewritten, so no subject's digest changes. Rows written by release 0.1 stay in
/// `roster_rows_v1` (still verified and readable) until the first roster command with the
/// passphrase converts them (`roster.migrate`, recording the roster's new digest), since
/// sealing them under a new key needs the database key, which opening a file does not have.
fn migrate_roster_v2(w: &mut Writer) -> Result<Vec<Change>> {
    w.create_roster_v2_tables()?;
    Ok(vec![])
}

/// Version 5 (step `sealed-text`): every string a person types is sealed (`store::sealing`), an incident's under
/// its own data key wrapped by the database's (`store::incidents`), the organization's under
/// the database's. An unencrypted file is converted here (no key is needed); an encrypted one
/// keeps its clear text until the first open that unlocks the key ([`Store::seal_legacy`]),
/// and reads as before meanwhile (masked without the key).
fn migrate_sealed_text(w: &mut Writer) -> Result<Vec<Change>> {
    match w.encryption()? {
        Encryption::Off => seal_legacy_text(w, &phi::PhiCodec::Plain),
        Encryption::On { .. } => Ok(vec![]),
    }
}

/// Seals the text of every record an older release wrote in the clear: each legacy incident
/// (and what is kept beside it) under a new key of its own, and the organization's. Returns
/// the audit change of each subject it rewrote.
fn seal_legacy_text(w: &mut Writer, codec: &phi::PhiCodec) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    for id in w.legacy_incidents()? {
        let inc = w.incident(&id, codec)?;
        w.put_incident(&inc, codec)?;
        out.push(Change::incident(Action::IncidentMigrate, &id).detail(
            "sealed the text an older release stored in the clear, under the incident's own key",
        ));
    }
    if w.org_is_legacy()? {
        let org = w.org_opened(codec)?;
        if let Some(org) = org {
            w.put_org(&org, codec)?;
            out.push(
                Change::new(Action::OrgMigrate, Subject::Org)
                    .detail("sealed the text an older release stored in the clear"),
            );
        }
    }
    Ok(out)
}

/// Issue 12: the people who sign in to `breachdesk serve` (`users_v1`, created empty; see
/// `store::users`) and the count of sign-ins under unknown names (`meta_v1.access`, written
/// when first needed). An empty table holds no audited record, so the step's own
/// `store.migrate` entry is its whole audit trail. Reads no other table; idempotent.
fn migrate_users(w: &mut Writer) -> Result<Vec<Change>> {
    w.create_users_table()?;
    Ok(vec![])
}

/// Commits a write. An error before the commit leaves nothing written (the transaction is
/// dropped, i.e. aborted); an error from the commit itself may come after the data reached
/// the file (a failed flush), so the outcome is uncertain and the error says how to check.
fn commit(tx: WriteTransaction, last: &AuditEntry) -> Result<()> {
    match tx.commit() {
        Ok(()) => Ok(()),
        // An earlier I/O failure stopped the file before this commit wrote anything.
        Err(redb::CommitError::Storage(redb::StorageError::PreviousIo)) => Err(Error::Storage(
            "an earlier write to the database file failed; nothing was saved".into(),
        )),
        Err(e) => Err(Error::Uncertain {
            seq: last.seq,
            action: last.action.clone(),
            subject: last.subject.clone(),
            cause: e.to_string(),
        }),
    }
}

/// redb's page cache (default 1 GiB) is capped so that a roster import of any size stays
/// within a bounded resident set; the OS page cache does the rest.
pub const CACHE_BYTES: usize = 24 * 1024 * 1024;

fn builder() -> Builder {
    let mut b = Database::builder();
    b.set_cache_size(CACHE_BYTES);
    b
}

/// Tables added by later modules, created up front so read transactions can always open them.
/// Also called before roster writes, so databases created before the roster tables existed
/// gain them on first use.
fn extra_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(MANIFESTS)?;
    tx.open_table(ROSTER_ROWS)?;
    tx.open_table(ROSTER_BATCHES)?;
    tx.open_table(ROSTER_COUNTS)?;
    tx.open_table(LAWS)?;
    tx.open_table(DETERMINATIONS)?;
    tx.open_table(LAW_TEXTS)?;
    tx.open_table(ROSTER_KEYS)?;
    tx.open_table(ROSTER_GROUPS)?;
    tx.open_table(ROSTER_DEAD)?;
    tx.open_table(ROSTER_ISSUES)?;
    tx.open_table(USERS)?;
    Ok(())
}

fn map_open_error(e: redb::DatabaseError, path: &Path) -> Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::Locked {
            path: path.to_path_buf(),
        },
        redb::DatabaseError::UpgradeRequired(v) => Error::Database(format!(
            "{} uses an old redb file format ({v}) that this binary cannot read",
            path.display()
        )),
        // Permissions, a device error, a full disk: an I/O failure, not a foreign file.
        redb::DatabaseError::Storage(redb::StorageError::Io(source)) => {
            Error::io(format!("cannot open {}", path.display()), source)
        }
        other => Error::Database(format!(
            "cannot open {} as a breachdesk database: {other}",
            path.display()
        )),
    }
}

/// Appends one audit entry inside `tx`.
fn append_entry(
    tx: &WriteTransaction,
    actor: &Actor,
    change: &Change,
    digest: Hash,
) -> Result<AuditEntry> {
    let mut audit = tx.open_table(AUDIT)?;
    let (seq, prev_hash) = match audit.last()? {
        Some((k, v)) => {
            let prev = decode_stored(v.value()).ok_or_else(|| {
                Error::Database(
                    "the last audit entry is unreadable; run `breachdesk audit verify` to locate the damage"
                        .into(),
                )
            })?;
            if goes_back(&prev.entry, actor.now, actor.clock) {
                return Err(Error::invalid(format!(
                    "the system clock reads {}, earlier than the last audit entry ({}, entry {}) by more than the {}-minute tolerance: \
                     the clock was set back. Nothing was recorded; set the system clock right and run the command again",
                    actor.now.format("%Y-%m-%d %H:%M:%S UTC"),
                    prev.entry.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    prev.entry.seq,
                    CLOCK_TOLERANCE.num_minutes()
                )));
            }
            (k.value() + 1, prev.stored_hash)
        }
        None => (1, ZERO),
    };
    let entry = AuditEntry {
        seq,
        at: actor.now,
        recorded: Recorded::V2 {
            who: actor.who.clone(),
            clock: actor.clock,
        },
        action: change.action.key().to_string(),
        subject: change.subject.encode(),
        detail: change.detail.clone(),
        digest,
        prev_hash,
    };
    audit.insert(seq, entry.encode_stored().as_slice())?;
    Ok(entry)
}

macro_rules! open_subject_tables {
    ($tx:expr) => {
        subjects::Tables {
            meta: $tx.open_table(META)?,
            incidents: $tx.open_table(INCIDENTS)?,
            phi: $tx.open_table(PHI)?,
            assessments: $tx.open_table(ASSESSMENTS)?,
            manifests: $tx.open_table(MANIFESTS)?,
            roster_rows: $tx.open_table(ROSTER_ROWS)?,
            roster_batches: $tx.open_table(ROSTER_BATCHES)?,
            roster_counts: $tx.open_table(ROSTER_COUNTS)?,
            laws: $tx.open_table(LAWS)?,
            determinations: $tx.open_table(DETERMINATIONS)?,
            law_texts: $tx.open_table(LAW_TEXTS)?,
            // Schema 2's tables: absent from an older file opened read-only.
            roster_keys: $crate::store::open_subject_tables!(@opt $tx, ROSTER_KEYS),
            roster_groups: $crate::store::open_subject_tables!(@opt $tx, ROSTER_GROUPS),
            roster_dead: $crate::store::open_subject_tables!(@opt $tx, ROSTER_DEAD),
            roster_issues: $crate::store::open_subject_tables!(@opt $tx, ROSTER_ISSUES),
            // The users step's table: absent from an older file opened read-only.
            users: $crate::store::open_subject_tables!(@opt $tx, USERS),
        }
    };
    (@opt $tx:expr, $t:expr) => {
        match $tx.open_table($t) {
            Ok(t) => Some(t),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        }
    };
}
pub(crate) use open_subject_tables;

/// The digest of a subject's current state inside a write transaction.
fn subject_digest_write(tx: &WriteTransaction, subject: &Subject) -> Result<Hash> {
    extra_tables(tx)?;
    let t = open_subject_tables!(tx);
    subjects::digest(subject, &t)
}

/// Every `(key, value)` of a `&str`-keyed table of a copy of `path`, for tests that check
/// stored bytes (e.g. against the release-0.1 fixture).
#[cfg(test)]
pub(crate) fn dump_table(path: &Path, table: &str) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("copy.redb");
    std::fs::copy(path, &copy).expect("copy");
    let db = Database::open(&copy).expect("open");
    let tx = db.begin_read().expect("read");
    let t = tx
        .open_table(TableDefinition::<&str, &[u8]>::new(table))
        .expect("table");
    t.iter()
        .expect("iter")
        .map(|r| {
            let (k, v) = r.expect("row");
            (k.value().to_string(), v.value().to_vec())
        })
        .collect()
}

/// The database release 0.1 wrote (see tests/fixtures/make-release-0.1.sh).
#[cfg(test)]
pub(crate) fn release_0_1_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1.redb")
}

/// A disk whose flush fails on demand (tests): the data reach the file, the confirmation
/// does not, as with EIO from `fsync`.
#[cfg(test)]
pub(crate) mod flaky {
    use std::ops::Bound;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use redb::StorageBackend;
    use redb::backends::FileBackend;

    use super::{Db, Path, Result, Store, builder, map_open_error};

    #[derive(Debug)]
    pub struct FlakyDisk {
        inner: FileBackend,
        /// The next `sync_data` fails (once).
        pub fail_next_sync: Arc<AtomicBool>,
    }

    type Io<T> = std::result::Result<T, std::io::Error>;
    type Lock<T> = std::result::Result<T, redb::BackendError>;

    impl StorageBackend for FlakyDisk {
        fn len(&self) -> Io<u64> {
            self.inner.len()
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> Io<()> {
            self.inner.read(offset, out)
        }
        fn set_len(&self, len: u64) -> Io<()> {
            self.inner.set_len(len)
        }
        fn sync_data(&self) -> Io<()> {
            if self.fail_next_sync.swap(false, Ordering::SeqCst) {
                return Err(std::io::Error::other(
                    "injected: the disk did not confirm the write",
                ));
            }
            self.inner.sync_data()
        }
        fn write(&self, offset: u64, data: &[u8]) -> Io<()> {
            self.inner.write(offset, data)
        }
        fn close(&self) -> Io<()> {
            self.inner.close()
        }
        fn try_lock_range(&self, a: Bound<u64>, b: Bound<u64>) -> Lock<bool> {
            self.inner.try_lock_range(a, b)
        }
        fn try_lock_shared_range(&self, a: Bound<u64>, b: Bound<u64>) -> Lock<bool> {
            self.inner.try_lock_shared_range(a, b)
        }
        fn lock_range(&self, a: Bound<u64>, b: Bound<u64>) -> Lock<()> {
            self.inner.lock_range(a, b)
        }
        fn lock_shared_range(&self, a: Bound<u64>, b: Bound<u64>) -> Lock<()> {
            self.inner.lock_shared_range(a, b)
        }
        fn unlock_range(&self, a: Bound<u64>, b: Bound<u64>) -> Lock<()> {
            self.inner.unlock_range(a, b)
        }
        fn query_lock_range(&self, a: Bound<u64>, b: Bound<u64>) -> Lock<bool> {
            self.inner.query_lock_range(a, b)
        }
    }

    /// A new database file on a flaky disk, and the switch that fails its next flush.
    pub fn create(path: &Path) -> Result<(Store, Arc<AtomicBool>)> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| crate::error::Error::io("cannot create the test file", e))?;
        let fail = Arc::new(AtomicBool::new(false));
        let disk = FlakyDisk {
            inner: FileBackend::new(file).map_err(|e| map_open_error(e, path))?,
            fail_next_sync: Arc::clone(&fail),
        };
        let db = builder()
            .create_with_backend(disk)
            .map_err(|e| map_open_error(e, path))?;
        Ok((
            Store {
                db: Db::ReadWrite(db),
                path: path.to_path_buf(),
            },
            fail,
        ))
    }
}
