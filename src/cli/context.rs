//! What the command line reads once: the environment ([`Env`], in `main`) and, per
//! invocation, where the database is, who acts and how to print ([`Ctx`]). `Ctx` opens the
//! desk; nothing below it reads the clock, the environment or the terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use crate::desk::{
    ClockSource, Context, DbClock, Desk, KeySource, NOT_EVIDENCE, Office, Secret, Who,
};
use crate::error::{Error, Result};

/// The operating-system account running this process, from its user id (never from an
/// environment variable, which anyone can set): the name the system gives the id, else
/// `uid N`.
#[cfg(unix)]
pub fn os_account() -> (String, Option<u32>) {
    let uid = nix::unistd::getuid();
    let name = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid {uid}"));
    (name, Some(uid.as_raw()))
}

#[cfg(not(unix))]
pub fn os_account() -> (String, Option<u32>) {
    ("unknown".into(), None)
}

/// Everything read from the process environment, once, in `main`.
#[derive(Clone)]
pub struct Env {
    pub db: Option<PathBuf>,
    /// `BREACHDESK_EXERCISE_DB`: where exercises keep their own database.
    pub exercise_db: Option<PathBuf>,
    /// `BREACHDESK_ACTOR`: the person acted for (`--actor` wins).
    pub actor: Option<String>,
    /// The account running the process, from its user id, and the id.
    pub os_account: String,
    pub os_uid: Option<u32>,
    /// `BREACHDESK_PASSPHRASE`, held in memory wiped on drop.
    pub passphrase: Option<Secret>,
    /// `BREACHDESK_NEW_PASSPHRASE`: the new passphrase for `rekey`.
    pub new_passphrase: Option<Secret>,
    /// `BREACHDESK_USER_PASSWORD`: the password for `user add` / `user reset-password`.
    pub user_password: Option<String>,
    /// `BREACHDESK_ROSTER_RUN_ROWS`: rows per sorted run of a roster import (tuning).
    pub roster_run_rows: Option<usize>,
    /// `BREACHDESK_TEST_PAUSE_AT=read:N|write:N`: a roster import stops at that progress
    /// point and waits to be killed (the crash test). It only pauses; it changes nothing.
    pub test_pause_at: Option<(String, u64)>,
    pub now: DateTime<Utc>,
    /// The clock was pinned with BREACHDESK_NOW (an exercise's simulated clock then yields).
    pub now_pinned: bool,
    pub color: bool,
    pub stdin_tty: bool,
    pub stderr_tty: bool,
}

impl Env {
    /// Reads the environment. `BREACHDESK_NOW` pins the clock (YYYY-MM-DD means noon UTC).
    pub fn from_process() -> Result<Env> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let now_pinned = var("BREACHDESK_NOW").is_some();
        let now = match var("BREACHDESK_NOW") {
            Some(s) => parse_instant(&s).ok_or_else(|| {
                Error::invalid(
                    "BREACHDESK_NOW is not a date: use YYYY-MM-DD or RFC 3339 (2026-03-01T09:30:00Z)",
                )
            })?,
            None => Utc::now(),
        };
        let (os_account, os_uid) = os_account();
        Ok(Env {
            db: var("BREACHDESK_DB").map(PathBuf::from),
            exercise_db: var("BREACHDESK_EXERCISE_DB").map(PathBuf::from),
            actor: var("BREACHDESK_ACTOR"),
            os_account,
            os_uid,
            passphrase: secret_var("BREACHDESK_PASSPHRASE"),
            new_passphrase: secret_var("BREACHDESK_NEW_PASSPHRASE"),
            user_password: var("BREACHDESK_USER_PASSWORD"),
            roster_run_rows: var("BREACHDESK_ROSTER_RUN_ROWS")
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0),
            test_pause_at: var("BREACHDESK_TEST_PAUSE_AT").and_then(|v| {
                let (phase, n) = v.split_once(':')?;
                let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
                matches!(phase, "read" | "write").then(|| (phase.to_string(), n))
            }),
            now,
            now_pinned,
            color: var("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
        })
    }
}

impl std::fmt::Debug for Env {
    /// Never the passphrases.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("db", &self.db)
            .field("actor", &self.actor)
            .field("os_account", &self.os_account)
            .field("passphrase", &self.passphrase.as_ref().map(|_| "<given>"))
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// A secret from the environment, straight into memory wiped on drop (the variable itself
/// stays in the process's environment block, which only its owner and root can read, and
/// not even they once the process is marked non-dumpable at start).
fn secret_var(k: &str) -> Option<Secret> {
    std::env::var_os(k)
        .and_then(|v| v.into_string().ok())
        .map(Secret::new)
        .filter(|v| !v.is_empty())
}

/// The first line of a key file, as a secret (the file's text is wiped too).
pub fn key_file_line(f: &Path, what: &str) -> Result<Secret> {
    let text = Secret::new(crate::files::read_text(f, crate::files::KEY_FILE)?);
    let line = Secret::new(text.lines().next().unwrap_or("").to_string());
    if line.is_empty() {
        return Err(Error::Key(format!(
            "the {what} {} is empty: put the passphrase on its first line",
            f.display()
        )));
    }
    Ok(line)
}

/// Asks for a new passphrase twice on the terminal (a typo would lock the organization out
/// of its own PHI for good); `nothing` says what was not done when they differ.
pub fn prompt_twice(prompt: &str, nothing: &str) -> Result<Secret> {
    let ask = |p: &str| {
        rpassword::prompt_password(p)
            .map(Secret::new)
            .map_err(|e| Error::io("cannot read the passphrase", e))
    };
    let p1 = ask(prompt)?;
    let p2 = ask("The same passphrase again: ")?;
    if *p1 != *p2 {
        return Err(Error::Key(format!(
            "the two passphrases differ; {nothing}. Run the command again"
        )));
    }
    Ok(p1)
}

/// The process holds the passphrase, the keys and decrypted PHI in memory: no core dump
/// may write them to disk, and no other process of the same user may attach to read them.
/// Marks the process non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`: no core file, no ptrace by
/// unprivileged processes, `/proc/<pid>/mem` and `environ` closed) and sets the core-size
/// limit to 0 (also for the hard limit, so nothing it starts can raise it). Through `nix`, so
/// this crate keeps `unsafe_code = "forbid"`. Returns what could not be done.
pub fn harden_process() -> Vec<String> {
    let mut failed = Vec::new();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        failed.push(format!("cannot mark the process non-dumpable ({e})"));
    }
    #[cfg(unix)]
    if let Err(e) = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0) {
        failed.push(format!("cannot disable core dumps ({e})"));
    }
    failed
}

/// Parses YYYY-MM-DD (noon UTC) or RFC 3339.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(12, 0, 0).map(|t| t.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Per-invocation context: where the database is, who acts, how to print.
pub struct Ctx {
    pub db_path: PathBuf,
    /// The person acted for (`--actor`, `BREACHDESK_ACTOR`), if named.
    pub on_behalf_of: Option<String>,
    pub json: bool,
    pub env: Env,
    pub key_file: Option<PathBuf>,
    /// How long to wait for a database another process holds (`--wait`).
    pub wait: std::time::Duration,
}

/// The passphrase from --key-file, BREACHDESK_PASSPHRASE, or a prompt on a terminal.
pub struct CliKeys {
    pub key_file: Option<PathBuf>,
    pub env: Option<Secret>,
    pub tty: bool,
    pub prompt: &'static str,
}

impl KeySource for CliKeys {
    fn passphrase(&self) -> Result<Option<Secret>> {
        if let Some(p) = self.given()? {
            return Ok(Some(p));
        }
        if self.tty {
            let p = rpassword::prompt_password(self.prompt)
                .map(Secret::new)
                .map_err(|e| Error::io("cannot read the passphrase", e))?;
            return Ok(Some(p));
        }
        Ok(None)
    }

    fn given(&self) -> Result<Option<Secret>> {
        if let Some(f) = &self.key_file {
            return key_file_line(f, "key file").map(Some);
        }
        Ok(self.env.clone())
    }
}

impl CliKeys {
    /// The passphrase of a new database: from a key file or the environment, or asked twice
    /// on a terminal.
    pub fn new_passphrase(&self) -> Result<Option<Secret>> {
        if let Some(p) = self.given()? {
            return Ok(Some(p));
        }
        if self.tty {
            return prompt_twice(self.prompt, "nothing was created").map(Some);
        }
        Ok(None)
    }
}

impl Ctx {
    /// Who acts and when: the OS account, the person acted for, the clock.
    pub fn context(&self) -> Context {
        Context {
            who: Who::cli(
                &self.env.os_account,
                self.env.os_uid,
                self.on_behalf_of.clone(),
            ),
            now: self.env.now,
            clock: if self.env.now_pinned {
                ClockSource::Pinned
            } else {
                ClockSource::System
            },
        }
    }

    pub fn keys(&self, prompt: &'static str) -> CliKeys {
        CliKeys {
            key_file: self.key_file.clone(),
            env: self.env.passphrase.clone(),
            tty: self.env.stdin_tty && self.env.stderr_tty,
            prompt,
        }
    }

    /// Opens the database (`--db`, `BREACHDESK_DB`, `./breachdesk.redb`).
    pub fn open(&self) -> Result<Office> {
        self.open_at(&self.db_path)
    }

    /// Opens a database, waiting up to `--wait` while another breachdesk process holds it
    /// (saying so once on standard error), then exit 5 as before. A database with a pinned
    /// clock is named as such on standard error and in JSON output.
    pub fn open_at(&self, path: &Path) -> Result<Office> {
        self.open_with(path, Office::open)
    }

    fn open_with(
        &self,
        path: &Path,
        open: fn(&Path, Box<dyn KeySource>, &Context) -> Result<Office>,
    ) -> Result<Office> {
        let ctx = self.context();
        let start = std::time::Instant::now();
        let mut said = false;
        let office = loop {
            match open(path, Box::new(self.keys("Database passphrase: ")), &ctx) {
                Err(Error::Locked { .. }) if start.elapsed() < self.wait => {
                    if !said {
                        eprintln!(
                            "the database {} is in use by another breachdesk process; waiting up to {}s (--wait)",
                            path.display(),
                            self.wait.as_secs_f64()
                        );
                        said = true;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => break other?,
            }
        };
        if self.env.passphrase.is_none() && self.key_file.is_none() {
            let (incidents, org) = office.legacy_text()?;
            if incidents > 0 || org {
                eprintln!(
                    "note: {incidents} incident(s){} hold text an older release stored in the clear; it is shown masked, \
                     and sealed the first time a command opens this database with its passphrase",
                    if org {
                        " and the organization record"
                    } else {
                        ""
                    }
                );
            }
        }
        if office.clock() == DbClock::Pinned && super::output::mark_not_evidence() {
            eprintln!(
                "note: {NOT_EVIDENCE} (this database was created with `init --pinned-clock`)"
            );
        }
        Ok(office)
    }

    /// Opens the database for a command that changes nothing (`audit verify`): read-only
    /// when it must be, never migrated.
    pub fn open_for_reading(&self) -> Result<Office> {
        self.open_with(&self.db_path, Office::open_for_reading)
    }

    /// A desk on an office, for this invocation's actor and clock.
    pub fn desk<'o>(&self, office: &'o Office) -> Desk<'o> {
        office.desk(self.context())
    }

    /// Where the exercise database is: `--exercise-db`, `BREACHDESK_EXERCISE_DB`, else
    /// `breachdesk-exercise.redb` in the current directory. Never the real database.
    pub fn exercise_db(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| self.env.exercise_db.clone())
            .unwrap_or_else(|| PathBuf::from("breachdesk-exercise.redb"))
    }

    pub fn style(&self) -> super::output::Style {
        super::output::Style {
            color: self.env.color,
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod harden_tests {
    /// What `main` does first: no core dumps (soft and hard limit 0) and not dumpable (no
    /// ptrace attachment by processes of the same user).
    #[test]
    fn the_process_is_made_non_dumpable_without_core_dumps() {
        assert!(super::harden_process().is_empty());
        assert!(!nix::sys::prctl::get_dumpable().expect("prctl"));
        let limits = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE)
            .expect("getrlimit");
        assert_eq!(limits, (0, 0));
    }
}
