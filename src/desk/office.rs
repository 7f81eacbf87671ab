//! [`Office`]: what one process holds for one database (the open store and the unlocked
//! key), shareable between threads; [`Desk`]: the use cases for one caller, built cheaply
//! from an office and a [`Context`] (who acts, and when).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};

use super::secret::Secret;
use crate::domain::{Counts, Incident, Organization};
use crate::error::{Error, Result};
use crate::exercise::ExerciseState;
use crate::laws::LawSet;
use crate::store::phi::{PhiCodec, locked_error};
use crate::store::vault::{Vault, WrappedKey};
use crate::store::{Actor, ClockMarker, ClockSource, Encryption, Reader, Store, Who};

/// Who acts and when, for one call: read once by the front end (the CLI from the process's
/// user id, its flags and the clock; the server from the session and the system clock) and
/// written into every audit entry.
#[derive(Debug, Clone)]
pub struct Context {
    /// Who acts: the OS account, the channel (command line or web), the logged-in user, the
    /// person acted for.
    pub who: Who,
    /// The instant the call happens.
    pub now: DateTime<Utc>,
    /// Where `now` came from: the system clock, or pinned (`BREACHDESK_NOW`, accepted only by
    /// a database created for it; an exercise database's simulated date then yields to it).
    pub clock: ClockSource,
}

impl Context {
    /// Who, when and by which clock, as the store records them.
    pub fn actor(&self) -> Actor {
        Actor {
            who: self.who.clone(),
            now: self.now,
            clock: self.clock,
        }
    }

    pub fn pinned(&self) -> bool {
        self.clock == ClockSource::Pinned
    }
}

/// Which clock a database takes its time from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbClock {
    /// A real register: the system clock only, so what it records is evidence.
    Real,
    /// Created with `init --pinned-clock` (tests, demos): `BREACHDESK_NOW` is accepted, and
    /// every output says "pinned clock — not evidence".
    Pinned,
    /// An exercise database: a simulated clock by design.
    Exercise,
}

/// What every output of a pinned-clock database says.
pub const NOT_EVIDENCE: &str = "pinned clock — not evidence";

/// Where the passphrase comes from when PHI must be read or written. Asked at most once per
/// office; the server unlocks at start-up instead ([`Office::unlock`]).
pub trait KeySource: Send + Sync {
    /// The passphrase, or `None` when none was given (PHI then stays sealed). May ask a
    /// person (a prompt on a terminal).
    fn passphrase(&self) -> Result<Option<Secret>>;

    /// The passphrase if it was given without asking anyone (a key file, the environment):
    /// views that read well without it (lists, the deadline board) never prompt.
    fn given(&self) -> Result<Option<Secret>> {
        self.passphrase()
    }
}

/// No passphrase: PHI stays sealed (and writes that need it are refused).
pub struct NoKey;

impl KeySource for NoKey {
    fn passphrase(&self) -> Result<Option<Secret>> {
        Ok(None)
    }
}

/// A passphrase given up front (a server's, or a test's).
pub struct Passphrase(pub Secret);

impl Passphrase {
    pub fn new(p: impl Into<String>) -> Passphrase {
        Passphrase(Secret::new(p.into()))
    }
}

impl KeySource for Passphrase {
    fn passphrase(&self) -> Result<Option<Secret>> {
        Ok(Some(self.0.clone()))
    }
}

/// Which audit entries are about which incident (by sequence number), up to `upto`: kept
/// by the office so that an incident's audit excerpt never rescans the chain.
#[derive(Debug, Default)]
pub(super) struct AuditIndex {
    pub(super) upto: u64,
    pub(super) by_incident: std::collections::HashMap<String, Vec<u64>>,
}

/// One open database and its key: owned by one process (the CLI for one command, the
/// server for its lifetime) and shared by every desk. `Send + Sync`: put it in an `Arc`.
pub struct Office {
    store: Store,
    keys: Box<dyn KeySource>,
    /// The PHI codec once resolved (plain, unlocked or locked): the key source is asked once.
    codec: OnceLock<PhiCodec>,
    clock: DbClock,
    /// Opened to work on (not only to verify): text an older release stored in the clear is
    /// sealed at the first unlock.
    migrates: bool,
    /// The sealing pass has run (or was not needed).
    sealed_legacy: std::sync::atomic::AtomicBool,
    /// Which audit entries are about which incident (built on first use, then extended).
    pub(super) audit_index: std::sync::Mutex<AuditIndex>,
}

impl Office {
    /// Opens an existing database for a caller: refuses a pinned clock on a real database,
    /// then brings an older file up to this binary's schema (each step audited as done by
    /// `ctx`).
    pub fn open(path: &Path, keys: Box<dyn KeySource>, ctx: &Context) -> Result<Office> {
        let mut office = Office::open_as_is(path, keys, ctx)?;
        if office.store.needs_migration()? {
            office.store.migrate(&ctx.actor())?;
        }
        office.migrates = true;
        Ok(office)
    }

    /// For work that changes nothing (`audit verify`): read-write when the file allows it,
    /// else read-only, so a copy on read-only media can still be verified; never migrated
    /// (an older file verifies as the release that wrote it left it).
    pub fn open_for_reading(
        path: &Path,
        keys: Box<dyn KeySource>,
        ctx: &Context,
    ) -> Result<Office> {
        let office = Office::with_store(
            Store::open_for_reading(path).map_err(super::owner::explain_lock)?,
            keys,
        )?;
        office.admit(ctx)?;
        Ok(office)
    }

    /// Opens without migrating an older file.
    fn open_as_is(path: &Path, keys: Box<dyn KeySource>, ctx: &Context) -> Result<Office> {
        let office =
            Office::with_store(Store::open(path).map_err(super::owner::explain_lock)?, keys)?;
        office.admit(ctx)?;
        Ok(office)
    }

    pub(super) fn with_store(store: Store, keys: Box<dyn KeySource>) -> Result<Office> {
        let clock = detect_clock(&store.reader()?)?;
        Ok(Office {
            store,
            keys,
            codec: OnceLock::new(),
            clock,
            migrates: false,
            sealed_legacy: std::sync::atomic::AtomicBool::new(false),
            audit_index: Default::default(),
        })
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Which clock this database takes its time from.
    pub fn clock(&self) -> DbClock {
        self.clock
    }

    /// Refuses a caller whose clock this database does not accept: a pinned clock on a real
    /// register (its records are evidence: the system clock only).
    pub fn admit(&self, ctx: &Context) -> Result<()> {
        if ctx.pinned() && self.clock == DbClock::Real {
            return Err(Error::invalid(format!(
                "BREACHDESK_NOW pins the clock, but {} is a real register: what it records is evidence and takes the system clock only. \
                 Unset BREACHDESK_NOW (a pinned clock is for databases created with `breachdesk init --pinned-clock`: tests and demos; \
                 `evaluate --today DATE` answers what-if questions without a database)",
                self.path().display()
            )));
        }
        Ok(())
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// A desk for one caller.
    pub fn desk(&self, ctx: Context) -> Desk<'_> {
        Desk {
            office: self,
            ctx,
            org: OnceCell::new(),
            today: OnceCell::new(),
            laws: OnceCell::new(),
        }
    }

    /// Unlocks the data key with a passphrase now (a server, at start-up, before any desk
    /// is used): every desk then reads and writes PHI without asking. A wrong passphrase is
    /// an error; so is unlocking an office whose key was already found missing.
    pub fn unlock(&self, passphrase: &str) -> Result<()> {
        let codec = self.unlock_with(Some(Secret::new(passphrase.to_string())))?;
        if self.codec.set(codec).is_err() && self.codec.get().is_some_and(PhiCodec::is_locked) {
            return Err(Error::Key(
                "this office was already opened without its passphrase: unlock it before use"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Resolves the key now, from the office's key source (asked once): an encrypted
    /// database without its passphrase is an error. For a server, before it serves.
    pub fn ensure_unlocked(&self) -> Result<()> {
        self.codec(true).map(|_| ())
    }

    fn unlock_with(&self, passphrase: Option<Secret>) -> Result<PhiCodec> {
        let Encryption::On { wrapped_key } = self.store.reader()?.encryption()? else {
            return Ok(PhiCodec::Plain);
        };
        let wrapped = WrappedKey::from_bytes(&wrapped_key)
            .map_err(|e| Error::Database(format!("the wrapped data key is unreadable: {e}")))?;
        match passphrase {
            Some(p) => {
                let vault =
                    Vault::unlock(&wrapped, p.as_bytes()).map_err(|e| Error::Key(e.to_string()))?;
                Ok(PhiCodec::Sealed(vault))
            }
            None => Ok(PhiCodec::Locked),
        }
    }

    /// The PHI codec: plain, unlocked, or locked when no passphrase was given. `required`:
    /// a locked codec is an error (the call reads or writes PHI).
    pub(super) fn codec(&self, required: bool) -> Result<&PhiCodec> {
        let codec = match self.codec.get() {
            Some(c) => c,
            None => {
                let resolved = match self.store.reader()?.encryption()? {
                    Encryption::Off => PhiCodec::Plain,
                    Encryption::On { .. } => self.unlock_with(self.keys.passphrase()?)?,
                };
                self.codec.get_or_init(|| resolved)
            }
        };
        if required && codec.is_locked() {
            return Err(locked_error());
        }
        Ok(codec)
    }

    /// The codec if the key is at hand without asking anyone (see [`KeySource::given`]), else
    /// locked: for views that read well without the key.
    pub(super) fn quiet_codec(&self) -> Result<&PhiCodec> {
        if let Some(c) = self.codec.get() {
            return Ok(c);
        }
        let resolved = match self.store.reader()?.encryption()? {
            Encryption::Off => PhiCodec::Plain,
            Encryption::On { .. } => match self.keys.given()? {
                Some(p) => self.unlock_with(Some(p))?,
                None => return Ok(self.no_phi()),
            },
        };
        Ok(self.codec.get_or_init(|| resolved))
    }

    /// A codec that neither reads nor writes PHI: sealed strings read as placeholders.
    /// The unlocked data key (tests of the roster rotation).
    #[cfg(test)]
    pub(super) fn vault(&self) -> Result<&Vault> {
        match self.codec(true)? {
            PhiCodec::Sealed(v) => Ok(v),
            _ => Err(locked_error()),
        }
    }

    pub(super) fn no_phi(&self) -> &'static PhiCodec {
        static LOCKED: PhiCodec = PhiCodec::Locked;
        &LOCKED
    }

    /// Incidents (and the organization) whose text an older release stored in the clear and
    /// that wait for the key to be sealed: how many incidents, and whether the organization.
    pub fn legacy_text(&self) -> Result<(usize, bool)> {
        let (ids, org) = self.store.legacy_text()?;
        Ok((ids.len(), org))
    }

    /// Seals what an older release stored in the clear, once the key is at hand (the first
    /// open that unlocks it; never when opened only to verify).
    fn seal_legacy(&self, codec: &PhiCodec, actor: impl FnOnce() -> Result<Actor>) -> Result<()> {
        use std::sync::atomic::Ordering;
        if !self.migrates
            || !matches!(codec, PhiCodec::Sealed(_))
            || self.sealed_legacy.swap(true, Ordering::SeqCst)
        {
            return Ok(());
        }
        self.store.seal_legacy(&actor()?, codec)?;
        Ok(())
    }
}

/// The use cases, for one caller. Holds the organization and "today" once computed (the
/// date in the organization's time zone, or an exercise's simulated date).
pub struct Desk<'o> {
    pub(super) office: &'o Office,
    pub(super) ctx: Context,
    org: OnceCell<Organization>,
    today: OnceCell<NaiveDate>,
    /// The State laws in force (built-in with counsel's), read once ([`Desk::laws`]).
    pub(super) laws: OnceCell<Cow<'static, LawSet>>,
}

impl<'o> Desk<'o> {
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    pub fn office(&self) -> &'o Office {
        self.office
    }

    pub(super) fn store(&self) -> &'o Store {
        &self.office.store
    }

    pub(super) fn reader(&self) -> Result<Reader> {
        self.office.store.reader()
    }

    /// Who acts, when and by which clock, for the store; refused when the database does not
    /// accept the caller's clock.
    pub(super) fn actor(&self) -> Result<Actor> {
        self.office.admit(&self.ctx)?;
        Ok(self.ctx.actor())
    }

    /// The same caller at another instant and date: an exercise step happens at its
    /// simulated date.
    pub(super) fn at(&self, now: DateTime<Utc>, today: NaiveDate) -> Desk<'o> {
        let d = self.office.desk(Context {
            now,
            clock: ClockSource::Simulated,
            ..self.ctx.clone()
        });
        let _ = d.today.set(today);
        if let Some(o) = self.org.get() {
            let _ = d.org.set(o.clone());
        }
        if let Some(l) = self.laws.get() {
            let _ = d.laws.set(l.clone());
        }
        d
    }

    /// The organization: its record, or in an exercise database the scenario's.
    pub fn org(&self) -> Result<&Organization> {
        if let Some(o) = self.org.get() {
            return Ok(o);
        }
        let org = match self.reader()?.org()? {
            Some(o) => o,
            None => match self.exercise_state()? {
                Some((_, st)) => st
                    .scenario()
                    .map_err(|e| Error::invalid(e.to_string()))?
                    .organization
                    .organization(),
                None => {
                    return Err(Error::Database(
                        "this database has no organization yet; run `breachdesk init --org NAME --role covered-entity`"
                            .into(),
                    ));
                }
            },
        };
        Ok(self.org.get_or_init(|| org))
    }

    /// The organization with its sealed text (the privacy officer) opened: for letters and
    /// exports that print it. Needs the key in an encrypted database.
    pub fn org_unlocked(&self) -> Result<Organization> {
        let codec = self.codec(true)?;
        match self.reader()?.org_opened(codec)? {
            Some(o) => Ok(o),
            None => self.org().cloned(),
        }
    }

    /// The organization with its sealed text opened when the key is at hand without asking,
    /// else placeholders (`org show`).
    pub fn org_view(&self) -> Result<Organization> {
        let codec = self.quiet_codec()?;
        match self.reader()?.org_opened(codec)? {
            Some(o) => Ok(o),
            None => self.org().cloned(),
        }
    }

    /// "Today" for deadlines: the date of `now` in the organization's time zone, or the
    /// simulated date of an exercise database (unless the clock is pinned).
    pub fn today(&self) -> Result<NaiveDate> {
        if let Some(t) = self.today.get() {
            return Ok(*t);
        }
        self.office.admit(&self.ctx)?;
        let sim = if self.ctx.pinned() {
            None
        } else {
            self.simulated_today()?
        };
        let t = match sim {
            Some(t) => t,
            None => today_in(self.ctx.now, &self.org()?.time_zone),
        };
        Ok(*self.today.get_or_init(|| t))
    }

    /// The running exercise of an exercise database: its one incident and the state kept
    /// beside it. `None` for a real register (one read: the first incident's state).
    pub fn exercise_state(&self) -> Result<Option<(crate::domain::IncidentId, ExerciseState)>> {
        let r = self.reader()?;
        let Some(id) = r.first_incident()? else {
            return Ok(None);
        };
        // A register's first incident is no exercise: known without the key.
        if r.derived(&id, self.office.no_phi())?.exercise.is_none() {
            return Ok(None);
        }
        let d = r.derived(&id, self.office.quiet_codec()?)?;
        Ok(d.exercise.map(|e| (id, super::records::exercise(e))))
    }

    fn simulated_today(&self) -> Result<Option<NaiveDate>> {
        Ok(match self.exercise_state()? {
            Some((_, st)) => st
                .scenario()
                .ok()
                .map(|s| crate::exercise::stage_date(&s, st.stage)),
            None => None,
        })
    }

    /// PHI codec; see [`Office::codec`]. The first unlock also seals what an older release
    /// stored in the clear.
    pub(super) fn codec(&self, required: bool) -> Result<&'o PhiCodec> {
        let c = self.office.codec(required)?;
        self.office.seal_legacy(c, || self.actor())?;
        Ok(c)
    }

    /// The codec when the key is at hand without asking (see [`Office::quiet_codec`]).
    pub(super) fn quiet_codec(&self) -> Result<&'o PhiCodec> {
        let c = self.office.quiet_codec()?;
        self.office.seal_legacy(c, || self.actor())?;
        Ok(c)
    }
}

/// The database's clock: its marker, else an exercise database's simulated clock, else (no
/// marker: a file written before markers existed, or a real register) the system clock.
fn detect_clock(r: &Reader) -> Result<DbClock> {
    if r.clock_marker()? == Some(ClockMarker::Pinned) {
        return Ok(DbClock::Pinned);
    }
    // A register always has its organization (`init` writes it); an exercise database never
    // does. A damaged record must not stop the file from opening (verify names it).
    if r.has_org()? {
        return Ok(DbClock::Real);
    }
    let exercise = r
        .first_incident()
        .ok()
        .flatten()
        .and_then(|id| r.derived(&id, &PhiCodec::Locked).ok())
        .is_some_and(|d| d.exercise.is_some());
    Ok(if exercise {
        DbClock::Exercise
    } else {
        DbClock::Real
    })
}

/// The calendar date of `now` in an IANA time zone (UTC when the zone is unknown).
pub fn today_in(now: DateTime<Utc>, tz: &str) -> NaiveDate {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(z) => now.with_timezone(&z).date_naive(),
        Err(_) => now.date_naive(),
    }
}

/// The counts the engine uses: the roster's once one is imported, else the facts' estimates.
pub fn counts_or_estimate(roster: Option<Counts>, inc: &Incident) -> Counts {
    roster.unwrap_or_else(|| Counts::from_facts(&inc.facts.individuals))
}

/// The default path of the checkpoint signing key for a database: `<db>.signing-key`.
pub fn default_signing_key(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".signing-key");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server keeps one office in an `Arc` and serves requests from many threads.
    #[test]
    fn an_office_is_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Office>();
        shared::<Store>();
        fn sent<T: Send>() {}
        sent::<Desk<'static>>();
    }
}
