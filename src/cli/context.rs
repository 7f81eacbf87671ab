//! What the command line reads once: the environment ([`Env`], in `main`) and, per
//! invocation, where the database is, who acts and how to print ([`Ctx`]). `Ctx` opens the
//! desk; nothing below it reads the clock, the environment or the terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use crate::desk::{ClockSource, Context, DbClock, Desk, KeySource, NOT_EVIDENCE, Office, Who};
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
#[derive(Debug, Clone)]
pub struct Env {
    pub db: Option<PathBuf>,
    /// `BREACHDESK_EXERCISE_DB`: where exercises keep their own database.
    pub exercise_db: Option<PathBuf>,
    /// `BREACHDESK_ACTOR`: the person acted for (`--actor` wins).
    pub actor: Option<String>,
    /// The account running the process, from its user id, and the id.
    pub os_account: String,
    pub os_uid: Option<u32>,
    pub passphrase: Option<String>,
    /// `BREACHDESK_NEW_PASSPHRASE`: the new passphrase for `rekey`.
    pub new_passphrase: Option<String>,
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
            passphrase: var("BREACHDESK_PASSPHRASE"),
            new_passphrase: var("BREACHDESK_NEW_PASSPHRASE"),
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
    pub env: Option<String>,
    pub tty: bool,
    pub prompt: &'static str,
}

impl KeySource for CliKeys {
    fn passphrase(&self) -> Result<Option<String>> {
        if let Some(f) = &self.key_file {
            let text = crate::files::read_text(f, crate::files::KEY_FILE)?;
            let line = text.lines().next().unwrap_or("").to_string();
            if line.is_empty() {
                return Err(Error::Key(format!(
                    "the key file {} is empty: put the passphrase on its first line",
                    f.display()
                )));
            }
            return Ok(Some(line));
        }
        if let Some(p) = &self.env {
            return Ok(Some(p.clone()));
        }
        if self.tty {
            let p = rpassword::prompt_password(self.prompt)
                .map_err(|e| Error::io("cannot read the passphrase", e))?;
            return Ok(Some(p));
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
