//! The command layer: clap arguments → validated requests → store and engine → output.

pub mod args;
mod cmd_assess;
mod cmd_audit;
mod cmd_demo;
mod cmd_exercise;
mod cmd_incident;
pub mod cmd_letters;
mod cmd_org;
pub use cmd_org::load_org;
mod cmd_report;
pub mod cmd_roster;
pub mod engine;
pub mod facts_input;
pub mod output;
pub mod progress;
pub mod roster_glue;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::store::phi::PhiCodec;
use crate::store::tables::{META_ENCRYPTION, META_WRAPPED_KEY};
use crate::store::vault::{Vault, WrappedKey};
use crate::store::{Actor, Store};
use args::{Cli, Command};

/// Everything read from the process environment, once, in `main`.
#[derive(Debug, Clone)]
pub struct Env {
    pub db: Option<PathBuf>,
    /// `BREACHDESK_EXERCISE_DB`: where exercises keep their own database.
    pub exercise_db: Option<PathBuf>,
    pub actor: Option<String>,
    pub os_user: Option<String>,
    pub passphrase: Option<String>,
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
        Ok(Env {
            db: var("BREACHDESK_DB").map(PathBuf::from),
            exercise_db: var("BREACHDESK_EXERCISE_DB").map(PathBuf::from),
            actor: var("BREACHDESK_ACTOR"),
            os_user: var("USER")
                .or_else(|| var("LOGNAME"))
                .or_else(|| var("USERNAME")),
            passphrase: var("BREACHDESK_PASSPHRASE"),
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
    pub actor: Actor,
    pub json: bool,
    pub env: Env,
    pub key_file: Option<PathBuf>,
    /// The simulated date when the database is an exercise's (set on open).
    pub sim_today: std::cell::Cell<Option<NaiveDate>>,
}

impl Ctx {
    /// Opens the database. An exercise database brings its simulated clock, unless
    /// BREACHDESK_NOW pins one.
    pub fn open(&self) -> Result<Store> {
        let store = Store::open(&self.db_path)?;
        if !self.env.now_pinned {
            self.sim_today.set(cmd_exercise::simulated_today(&store)?);
        }
        Ok(store)
    }

    /// The passphrase from --key-file, BREACHDESK_PASSPHRASE, or a prompt on a terminal.
    pub fn passphrase(&self, prompt: &str) -> Result<Option<String>> {
        if let Some(f) = &self.key_file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Error::io(format!("cannot read the key file {}", f.display()), e))?;
            let line = text.lines().next().unwrap_or("").to_string();
            if line.is_empty() {
                return Err(Error::Key(format!(
                    "the key file {} is empty: put the passphrase on its first line",
                    f.display()
                )));
            }
            return Ok(Some(line));
        }
        if let Some(p) = &self.env.passphrase {
            return Ok(Some(p.clone()));
        }
        if self.env.stdin_tty && self.env.stderr_tty {
            let p = rpassword::prompt_password(prompt)
                .map_err(|e| Error::io("cannot read the passphrase", e))?;
            return Ok(Some(p));
        }
        Ok(None)
    }

    /// The PHI codec for this database: plain, unlocked with the passphrase, or locked when
    /// none was given and `required` is false.
    pub fn codec(&self, store: &Store, required: bool) -> Result<PhiCodec> {
        let enc = store.meta(META_ENCRYPTION)?;
        if enc.as_deref() != Some(b"on".as_slice()) {
            return Ok(PhiCodec::Plain);
        }
        let wrapped = store.meta(META_WRAPPED_KEY)?.ok_or_else(|| {
            Error::Database("the database is marked encrypted but holds no wrapped key".into())
        })?;
        let wrapped = WrappedKey::from_bytes(&wrapped)
            .map_err(|e| Error::Database(format!("the wrapped data key is unreadable: {e}")))?;
        match self.passphrase("Database passphrase: ")? {
            Some(p) => {
                let vault =
                    Vault::unlock(&wrapped, p.as_bytes()).map_err(|e| Error::Key(e.to_string()))?;
                Ok(PhiCodec::Sealed(vault))
            }
            None if required => Err(crate::store::phi::locked_error()),
            None => Ok(PhiCodec::Locked),
        }
    }

    pub fn today(&self, tz: &str) -> NaiveDate {
        self.sim_today
            .get()
            .unwrap_or_else(|| today_in(self.actor.now, tz))
    }
}

/// The calendar date of `now` in an IANA time zone (UTC when the zone is unknown).
pub fn today_in(now: DateTime<Utc>, tz: &str) -> NaiveDate {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(z) => now.with_timezone(&z).date_naive(),
        Err(_) => now.date_naive(),
    }
}

/// Runs one command. Returns the exit code on success (0 unless a check failed).
pub fn run(cli: Cli, env: Env) -> Result<i32> {
    let db_path = cli
        .db
        .clone()
        .or_else(|| env.db.clone())
        .unwrap_or_else(|| PathBuf::from("breachdesk.redb"));
    let actor_name = cli
        .actor
        .clone()
        .or_else(|| env.actor.clone())
        .or_else(|| env.os_user.clone())
        .unwrap_or_else(|| "unknown".to_string());
    let ctx = Ctx {
        db_path,
        actor: Actor {
            name: actor_name,
            now: env.now,
        },
        json: cli.json,
        env: env.clone(),
        key_file: cli.key_file.clone(),
        sim_today: std::cell::Cell::new(None),
    };
    match cli.command {
        Command::Demo(a) => cmd_demo::run_demo(&ctx, a),
        Command::Init(a) => cmd_org::init(&ctx, a),
        Command::Org(c) => cmd_org::run(&ctx, c),
        Command::Incident(c) => cmd_incident::run(&ctx, c),
        Command::Assess(a) => cmd_assess::assess(&ctx, a),
        Command::Evaluate(a) => cmd_assess::evaluate(&ctx, a),
        Command::Deadlines(a) => cmd_assess::deadlines(&ctx, a),
        Command::Notice(args::NoticeCommand::Record(a)) => cmd_letters::notice_record(&ctx, a),
        Command::Letters(args::LettersCommand::Check(a)) => cmd_letters::letters_check(&ctx, a),
        Command::Letters(args::LettersCommand::Render(a)) => cmd_letters::letters_render(&ctx, a),
        Command::Letters(args::LettersCommand::Templates(c)) => cmd_letters::templates(&ctx, c),
        Command::Hhs(args::HhsCommand::AnnualLog(a)) => cmd_letters::annual_log(&ctx, a),
        Command::Report(a) => cmd_report::report(&ctx, a),
        Command::Exercise(c) => cmd_exercise::run(&ctx, c),
        Command::Audit(c) => cmd_audit::run(&ctx, c),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "breachdesk", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| Error::io("cannot write the man page", e))?;
            Ok(0)
        }
        Command::Roster(c) => cmd_roster::run(&ctx, c),
        Command::Rekey(a) => cmd_roster::rekey(&ctx, a),
    }
}

/// The default path of the checkpoint signing key for a database.
pub fn default_signing_key(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".signing-key");
    PathBuf::from(s)
}
