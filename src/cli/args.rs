//! The clap definition. Every value is validated here, once, into its type (IDs, dates,
//! kinds, formats, vocabularies) by the parsers in [`super::parse`]; a value that fails is
//! an invalid-input error (exit 3) with the same message the request layer would give.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use super::parse::*;
use crate::desk::letters::RenderFormat;
use crate::domain::incident::Disposition;
use crate::domain::vocab::{BreachType, DataElement, Location};
use crate::domain::{IncidentId, IncidentStatus, NoticeMethod, ObligationKind};
use crate::exercise::DecidedNotice;
use crate::intake::roster_csv::Field;
use crate::letters::LetterKind;
use crate::rules::DeterminationClass;

const AFTER_HELP: &str = "\
Environment:
  BREACHDESK_DB              database path (else ./breachdesk.redb)
  BREACHDESK_ACTOR           the person acted for, recorded beside the OS account (--actor)
  BREACHDESK_PASSPHRASE      passphrase of an encrypted database (else --key-file or a prompt)
  BREACHDESK_NEW_PASSPHRASE  the new passphrase for `rekey`
  BREACHDESK_USER_PASSWORD   the password for `user add` / `user reset-password` (else a prompt)
  BREACHDESK_EXERCISE_DB     the exercise database (default ./breachdesk-exercise.redb)
  BREACHDESK_NOW             pins the clock (YYYY-MM-DD or RFC 3339): only databases made with
                             `init --pinned-clock` (tests, demos) and exercises accept it
  NO_COLOR                   disables colour

Exit codes: 0 ok, 1 failure, 2 usage, 3 invalid input, 4 not found (incident or file),
5 database locked (after --wait), 6 database missing/newer, 7 passphrase, 8 file I/O
(permissions, disk full), 9 conflict (the incident changed meanwhile), 10-17 audit damage,
18 audit time going backwards, 19 signing key replaced since the checkpoint, 20 overdue,
21 outcome uncertain (disk did not confirm; check `audit log`), 141 output closed (see
README).";

/// Breach response for HIPAA covered entities and business associates: incident register,
/// breach determination (45 CFR 164.402), notification deadlines (164.404-164.410),
/// letters, and a tamper-evident audit trail (164.414).
#[derive(Debug, Parser)]
#[command(name = "breachdesk", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// Database file [env: BREACHDESK_DB] [default: ./breachdesk.redb]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The person this is done for, recorded beside the OS account that runs the command
    /// [env: BREACHDESK_ACTOR]
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,

    /// How long to wait while another breachdesk process holds the database, e.g. 30s, 2m,
    /// 0 (then exit 5)
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub wait: std::time::Duration,

    /// File holding the database passphrase (first line)
    #[arg(long, global = true, value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// Machine-readable JSON output (read commands), with a format_version
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a walk-through on a throwaway database (no input needed)
    Demo(DemoArgs),
    /// Create the database and record the organization
    Init(InitArgs),
    /// Show or update the organization
    #[command(subcommand)]
    Org(OrgCommand),
    /// Log and manage incidents
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Rosters of affected individuals: import a CSV, issues to fix, counts per State, purge
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Record the breach determination for an incident (164.402): interview or answers;
    /// --replay re-runs a recorded one exactly as it was made
    Assess(AssessArgs),
    /// What-if: determination and deadlines for a facts file, no database needed
    Evaluate(EvaluateArgs),
    /// Every unmet notification obligation (closed incidents too) and running windows, soonest first
    Deadlines(DeadlinesArgs),
    /// Notices sent: record each batch (date, method, count) to mark obligations met or late
    #[command(subcommand)]
    Notice(NoticeCommand),
    /// Notification letters and notices from templates; check templates for required content
    #[command(subcommand)]
    Letters(LettersCommand),
    /// Reports to the Secretary of HHS
    #[command(subcommand)]
    Hhs(HhsCommand),
    /// State breach-notification laws: the rules data in force, counsel's overrides
    #[command(subcommand)]
    Laws(LawsCommand),
    /// The incident dossier: one self-contained HTML file for the file or a regulator
    Report(ReportArgs),
    /// Tabletop exercises on the real engine, with a simulated clock, in their own database
    #[command(subcommand)]
    Exercise(ExerciseCommand),
    /// The audit trail: log, verify, checkpoints, signing key
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Change the database passphrase: re-wraps the data key (fast; backups keep opening with
    /// the old passphrase), or with --rotate makes new keys and seals everything again
    Rekey(RekeyArgs),
    /// Give space back: finish interrupted purges, compact the file and overwrite its free
    /// pages (nothing a purge destroyed survives in the file or in a later copy of it)
    Compact,
    /// People who sign in to `breachdesk serve`, and their roles
    #[command(subcommand)]
    User(UserCommand),
    /// Serve the privacy office from this process: web pages for every role, on one database
    Serve(ServeArgs),
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo database in this directory instead of a temporary one
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    CoveredEntity,
    BusinessAssociate,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EntityTypeArg {
    Provider,
    HealthPlan,
    Clearinghouse,
}

/// How business days are counted for State deadlines given in business days (a policy
/// choice: the statutes do not define the term)
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BusinessDaysArg {
    /// Monday to Friday, holidays included (default: the earliest date any reading allows)
    WeekendsOnly,
    /// Monday to Friday except federal holidays as observed (5 U.S.C. 6103)
    FederalHolidays,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LePolicyArg {
    /// Deadline = later of the original deadline and the end of the delay (default)
    LaterOf,
    /// Deadline = original deadline + length of the delay
    ExtendByDelay,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Legal name of the organization
    #[arg(long)]
    pub org: String,
    /// Covered entity or business associate
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// For a covered entity: provider, health plan or clearinghouse
    #[arg(long, value_enum, default_value = "provider")]
    pub entity_type: EntityTypeArg,
    /// Do not encrypt PHI at rest (exercises and demos only)
    #[arg(long)]
    pub no_encryption: bool,
    /// Accept a passphrase the strength estimator judges weak (demos and tests only; recorded
    /// in the organization record)
    #[arg(long)]
    pub allow_weak_passphrase: bool,
    /// A database for tests and demos: it accepts a pinned clock (BREACHDESK_NOW), and every
    /// output says "pinned clock — not evidence". A real register (the default) takes the
    /// system clock only and refuses BREACHDESK_NOW.
    #[arg(long)]
    pub pinned_clock: bool,
    #[command(flatten)]
    pub details: OrgDetails,
}

#[derive(Debug, Args, Default)]
pub struct OrgDetails {
    /// For a business associate: a covered entity it serves (repeatable)
    #[arg(long, value_name = "NAME")]
    pub serves: Vec<String>,
    /// Street address of the organization
    #[arg(long)]
    pub address: Option<String>,
    /// Name of the privacy officer
    #[arg(long)]
    pub privacy_officer: Option<String>,
    /// Toll-free number for individuals' questions (164.404(c)(1)(E))
    #[arg(long)]
    pub toll_free: Option<String>,
    /// Contact e-mail address
    #[arg(long)]
    pub email: Option<String>,
    /// Web site
    #[arg(long)]
    pub website: Option<String>,
    /// Postal address for individuals' correspondence
    #[arg(long)]
    pub postal_address: Option<String>,
    /// IANA time zone for "today" (e.g. America/Chicago)
    #[arg(long)]
    pub time_zone: Option<String>,
    /// How a law-enforcement delay moves deadlines (164.412; policy choice)
    #[arg(long, value_enum)]
    pub le_policy: Option<LePolicyArg>,
    /// How business days are counted for State deadlines (policy choice)
    #[arg(long, value_enum)]
    pub business_days: Option<BusinessDaysArg>,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Show the organization
    Show,
    /// Update the organization
    Update(Box<OrgUpdateArgs>),
}

#[derive(Debug, Args)]
pub struct OrgUpdateArgs {
    /// Legal name
    #[arg(long)]
    pub org: Option<String>,
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    #[arg(long, value_enum)]
    pub entity_type: Option<EntityTypeArg>,
    #[command(flatten)]
    pub details: OrgDetails,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Log a new incident (flags, --from FILE, or an interview on a terminal); prints its ID
    New(IncidentNewArgs),
    /// List incidents
    List(IncidentListArgs),
    /// Show one incident
    Show {
        #[arg(value_parser = incident_id)]
        id: IncidentId,
    },
    /// Change any fact of an incident
    Update(IncidentUpdateArgs),
    /// Add a timeline entry
    Note(NoteArgs),
    /// Close an incident with a disposition
    Close(CloseArgs),
    /// Reopen a closed incident
    Reopen {
        #[arg(value_parser = incident_id)]
        id: IncidentId,
    },
}

#[derive(Debug, Args)]
pub struct IncidentNewArgs {
    /// Read the facts from a TOML facts file (see examples/README.md)
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Never start the interactive interview
    #[arg(long)]
    pub no_interview: bool,
    /// Run the interview even when standard input is not a terminal (answers from a pipe)
    #[arg(long, conflicts_with_all = ["no_interview", "from"])]
    pub interview: bool,
    #[command(flatten)]
    pub facts: FactArgs,
}

#[derive(Debug, Args)]
pub struct IncidentUpdateArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// Replace all facts with those of a TOML facts file
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Status: reported, investigating, assessed, notifying (use `close` to close)
    #[arg(long, value_parser = update_status)]
    pub status: Option<IncidentStatus>,
    #[command(flatten)]
    pub facts: FactArgs,
}

/// Facts settable from the command line. Everything else: `--set path=value`.
#[derive(Debug, Args, Default, Clone)]
pub struct FactArgs {
    /// Short title (no PHI)
    #[arg(long)]
    pub title: Option<String>,
    /// Breach start date, YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = |s: &str| fact_date("--start", s))]
    pub start: Option<NaiveDate>,
    /// Breach end date, YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = |s: &str| fact_date("--end", s))]
    pub end: Option<NaiveDate>,
    /// Discovery date, YYYY-MM-DD (164.404(a)(2)). Or record the events that bear on it
    /// ([[discovery_events]] in a facts file, the interview, or --set discovery_events=[...])
    /// and the engine takes the earliest that counts, warning when this date is later
    #[arg(long, value_name = "DATE", value_parser = |s: &str| fact_date("--discovered", s))]
    pub discovered: Option<NaiveDate>,
    /// How it was discovered
    #[arg(long)]
    pub discovery_method: Option<String>,
    /// Who reported it
    #[arg(long)]
    pub reported_by: Option<String>,
    /// OCR type of breach (repeatable or comma-separated): hacking_it_incident, improper_disposal, loss, theft, unauthorized_access_disclosure, other, unknown
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',', value_parser = breach_type)]
    pub types: Vec<BreachType>,
    /// Location of the information (repeatable): desktop_computer, electronic_medical_record, email, laptop, network_server, other_portable_electronic_device, paper_films, other
    #[arg(long = "location", value_name = "LOCATION", value_delimiter = ',', value_parser = location)]
    pub locations: Vec<Location>,
    /// PHI data element involved (repeatable), e.g. name, ssn, diagnosis
    #[arg(long = "phi", value_name = "ELEMENT", value_delimiter = ',', value_parser = data_element)]
    pub phi: Vec<DataElement>,
    /// Approximate number of individuals affected
    #[arg(long, value_name = "N")]
    pub individuals: Option<u64>,
    /// Residents of a State, e.g. --state CA=1200 (repeatable)
    #[arg(long = "state", value_name = "ST=N", value_parser = state_count)]
    pub states: Vec<(String, u64)>,
    /// Free-text narrative (may contain PHI; stored encrypted)
    #[arg(long)]
    pub narrative: Option<String>,
    /// Set any fact by its facts-file path, e.g. --set security.encrypted=true (repeatable)
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

impl FactArgs {
    /// The typed edits these flags make.
    pub fn patch(&self) -> crate::intake::facts::FactsPatch {
        crate::intake::facts::FactsPatch {
            title: self.title.clone(),
            start: self.start,
            end: self.end,
            discovered: self.discovered,
            discovery_method: self.discovery_method.clone(),
            reported_by: self.reported_by.clone(),
            types: self.types.clone(),
            locations: self.locations.clone(),
            phi: self.phi.clone(),
            narrative: self.narrative.clone(),
            individuals: self.individuals,
            states: self.states.clone(),
            // Events come from a facts file, the interview or --set discovery_events=[...].
            discovery_events: Vec::new(),
            set: self.set.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct IncidentListArgs {
    /// Only this status: reported, investigating, assessed, notifying, closed
    #[arg(long, value_parser = list_status)]
    pub status: Option<IncidentStatus>,
    /// Only open incidents
    #[arg(long, conflicts_with = "closed")]
    pub open: bool,
    /// Only closed incidents
    #[arg(long)]
    pub closed: bool,
    /// Only incidents whose ID or title contains this text (case-insensitive)
    #[arg(long)]
    pub text: Option<String>,
}

#[derive(Debug, Args)]
pub struct NoteArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// The note (may contain PHI; stored encrypted)
    pub text: String,
    /// When it happened, YYYY-MM-DD or RFC 3339 (default: now)
    #[arg(long, value_parser = note_at)]
    pub at: Option<DateTime<Utc>>,
    /// Author (default: the actor)
    #[arg(long)]
    pub author: Option<String>,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// breach_notified, not_breach, no_phi, duplicate, other
    #[arg(long, value_parser = disposition)]
    pub disposition: Disposition,
    /// Closing note (no PHI)
    #[arg(long, default_value = "")]
    pub note: String,
    /// Close as breach_notified although obligations are unmet (needs --rationale; both are
    /// recorded, and the deadline board keeps listing what is unmet)
    #[arg(long, requires = "rationale")]
    pub force: bool,
    /// Why close with obligations unmet (kept on record)
    #[arg(long, requires = "force", value_name = "TEXT")]
    pub rationale: Option<String>,
}

/// Runs the 164.402 pipeline (safe harbor → exceptions → four factors) on the incident's
/// facts and records the result with its reasons and citations. On a terminal without
/// answers it interviews you, one screen per step; in scripts give answers with --from or
/// --set. A human override needs --rationale; both results stay on record.
#[derive(Debug, Args)]
pub struct AssessArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// Answers from a facts file: its [security], [exceptions] and [assessment] sections
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// One answer, e.g. --set assessment.recipient.kind=hipaa_entity (repeatable)
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Record a human override of the engine's result: not_breach_secured, not_breach_exception, not_breach_low_probability, breach
    #[arg(long = "override", value_name = "CLASS", requires = "rationale", value_parser = override_class)]
    pub override_class: Option<DeterminationClass>,
    /// Why the override (required with --override; kept on record)
    #[arg(long)]
    pub rationale: Option<String>,
    /// Never start the interview
    #[arg(long)]
    pub no_interview: bool,
    /// Run the interview even when standard input is not a terminal (answers from a pipe)
    #[arg(long, conflicts_with_all = ["no_interview", "from"])]
    pub interview: bool,
    /// Re-run a recorded determination exactly as it was made (its inputs and rules data),
    /// and show what today's rules and today's facts would say differently: the latest, or
    /// number N (`report --html` lists them). Records nothing
    #[arg(
        long,
        value_name = "N",
        num_args = 0..=1,
        default_missing_value = "0",
        conflicts_with_all = ["from", "set", "override_class", "rationale", "no_interview", "interview"]
    )]
    pub replay: Option<u32>,
}

/// Stateless what-if over a facts file (or - for standard input): determination, reasons
/// with citations, and every obligation with its due date. Touches no database.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Facts file (TOML; see examples/README.md), or - for standard input
    pub file: PathBuf,
    /// Whose obligations: a covered entity's or a business associate's [default: the facts
    /// file's `[organization] role`, else covered-entity]
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// Law-enforcement delay policy (164.412)
    #[arg(long, value_enum)]
    pub le_policy: Option<LePolicyArg>,
    /// Business-day policy for State deadlines [default: weekends-only]
    #[arg(long, value_enum)]
    pub business_days: Option<BusinessDaysArg>,
    /// A State-law rules file of counsel's to apply instead of the built-in one of its
    /// jurisdiction (repeatable; same schema as `laws set`) [default: the built-in rules]
    #[arg(long = "laws", value_name = "FILE")]
    pub laws: Vec<PathBuf>,
    /// Evaluate as of this date, YYYY-MM-DD [default: today, or BREACHDESK_NOW]
    #[arg(long, value_name = "DATE", value_parser = |s: &str| date("--today", s))]
    pub today: Option<NaiveDate>,
    /// Apply a determination override (what-if)
    #[arg(long = "override", value_name = "CLASS", value_parser = override_class)]
    pub override_class: Option<DeterminationClass>,
}

/// Lists pending and overdue obligations of every incident, open or closed (closing never
/// hides a duty), and substitute web postings and toll-free lines still inside their 90-day
/// window, soonest first, with days remaining and the section that sets each date.
#[derive(Debug, Args)]
pub struct DeadlinesArgs {
    /// Only this incident (open or closed)
    #[arg(long, value_parser = incident_id)]
    pub incident: Option<IncidentId>,
    /// Only obligations due within N days (overdue ones included)
    #[arg(long, value_name = "DAYS")]
    pub within: Option<i64>,
    /// Also list met and not-required obligations
    #[arg(long)]
    pub all: bool,
    /// Exit 20 when any obligation is overdue (for cron and monitoring)
    #[arg(long)]
    pub fail_on_overdue: bool,
    /// Use this law-enforcement delay policy instead of the organization's
    #[arg(long, value_enum)]
    pub le_policy: Option<LePolicyArg>,
    /// Use this business-day policy for State deadlines instead of the organization's
    #[arg(long, value_enum)]
    pub business_days: Option<BusinessDaysArg>,
    /// Also write the deadlines as an iCalendar file (RFC 5545): one all-day event per due
    /// date and per end of a 90-day window, with reminders a week and a day before and on
    /// the morning; stable UIDs, so importing a later export updates the same entries (met
    /// and no-longer-required obligations come back cancelled)
    #[arg(long, value_name = "FILE")]
    pub ics: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// Record notices that went out; partial sends add up
    Record(NoticeRecordArgs),
}

#[derive(Debug, Args)]
pub struct NoticeRecordArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// individual, next_of_kin, substitute_informal, substitute_web_or_media, toll_free_line, urgent_phone_optional, media, hhs_immediate, hhs_annual, ba_to_ce, state_individual, state_regulator, state_cra
    #[arg(long, value_parser = obligation_kind)]
    pub kind: ObligationKind,
    /// For media notice: the State (e.g. CA) or "ST:Jurisdiction"; for a State-law notice
    /// (state_*), the State
    #[arg(long, value_name = "ST", value_parser = jurisdiction)]
    pub jurisdiction: Option<String>,
    /// For a State regulator notice: the regulator's id in the State's rules (e.g. ag;
    /// required where the State names more than one, see `laws show ST`)
    #[arg(long, value_name = "ID", value_parser = recipient)]
    pub recipient: Option<String>,
    /// The date the notices went out, YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = |s: &str| date("--date", s))]
    pub date: NaiveDate,
    /// mail, email, web, media, phone, portal
    #[arg(long, value_parser = notice_method)]
    pub method: NoticeMethod,
    /// How many recipients this batch reached (1 for a posting, press release or HHS filing)
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// A file proving it (mail vendor's affidavit, portal receipt): its SHA-256 is recorded
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
    /// A label for this batch (e.g. the mail vendor's job number). Recording the same notice
    /// twice (same kind, State, date, method and count) counts it once, so a retry is safe;
    /// two genuine batches that share all of those need different labels.
    #[arg(long, value_name = "LABEL")]
    pub batch: Option<String>,
    /// The letters batch it went out from, which counsel approved (`letters batches ID`);
    /// required for kinds that letters are rendered for, unless --override-rationale
    #[arg(long, value_name = "N", conflicts_with = "override_rationale")]
    pub approved_batch: Option<u32>,
    /// Record it without an approved batch; the rationale (no PHI) is kept on record
    #[arg(long, value_name = "TEXT")]
    pub override_rationale: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LettersCommand {
    /// Render every template against sample data and verify the required content (A)-(E)
    Check(LettersCheckArgs),
    /// Render documents for an incident into sharded files plus a manifest (a draft batch)
    Render(LettersRenderArgs),
    /// The letters batches of an incident: number, kind, count, manifest hash, sign-off
    Batches {
        #[arg(value_parser = incident_id)]
        id: IncidentId,
    },
    /// Counsel's sign-off of a draft batch (the actor approves; audited with the manifest hash)
    Approve(LettersApproveArgs),
    /// The organization's stored template set (counsel's edits), used unless --templates
    #[command(subcommand)]
    Templates(TemplatesCommand),
}

#[derive(Debug, Args)]
pub struct LettersApproveArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// The batch number (`letters render` prints it; `letters batches ID` lists them)
    pub batch: u32,
    /// The manifest hash you reviewed: refused if the batch's differs
    #[arg(long, value_name = "HEX")]
    pub manifest_sha256: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Store the overrides in DIR (files named as in templates/) after `letters check` passes
    Set { dir: PathBuf },
    /// List the stored overrides with their SHA-256
    Show,
    /// Remove the stored set: the embedded templates apply again
    Clear,
    /// Write the built-in templates and partials (and an example headings.toml) into DIR,
    /// as a starting point for counsel's edits
    Export {
        dir: PathBuf,
        /// Replace files DIR already holds
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct LettersCheckArgs {
    /// A directory of counsel's template overrides (same file names as templates/)
    /// [default: the organization's stored set, if a database is given and holds one]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LettersRenderArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// individual, next_of_kin, substitute_web, substitute_media, media, hhs_notice, ba_to_ce,
    /// le_delay_memo, state_regulator (one notice per State regulator a State law requires,
    /// with the sample copy of the notice to residents a State asks for, e.g. California's
    /// Attorney General)
    #[arg(long, value_parser = letter_kind)]
    pub kind: LetterKind,
    /// text, html (print-ready), csv (mail-vendor file, sorted by ZIP), email (one .eml per
    /// person who agreed to electronic notice, plus the e-mail vendor's list), json
    /// (hhs_notice). Letters by mail (text, html, csv) leave out whoever gets e-mail.
    #[arg(long, default_value = "text", value_parser = render_format)]
    pub format: RenderFormat,
    /// Output directory: new or empty (the batch is written beside it and moved in once
    /// recorded in the audit trail)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print layout of --format html letters: single (one US Letter page per letter, for a
    /// #10 double-window envelope) or duplex (two pages per letter, "What You Can Do." on
    /// the back)
    #[arg(long, default_value = "single", value_parser = layout)]
    pub layout: crate::letters::Layout,
    /// Test builds only: stop as a crash would at before-audit or before-move
    #[arg(long, hide = true, value_parser = crash_point)]
    pub crash_at: Option<crate::desk::letters::CrashPoint>,
    /// Template overrides: files named as in templates/ [default: the organization's stored
    /// set (`letters templates set`), else the embedded templates]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Letters per file
    #[arg(long, default_value_t = crate::desk::letters::DEFAULT_SHARD, value_name = "N")]
    pub shard_size: usize,
    /// Date printed on the notices, YYYY-MM-DD [default: today]
    #[arg(long, value_name = "DATE", value_parser = |s: &str| date("--notice-date", s))]
    pub notice_date: Option<NaiveDate>,
    /// HHS worksheet: an addendum to a previous report (revised counts)
    #[arg(long)]
    pub addendum: bool,
    /// ba_to_ce: the covered entity notified [default: the first --serves of the organization]
    #[arg(long, value_name = "NAME")]
    pub covered_entity: Option<String>,
    /// state_regulator: only this State's notices (two-letter code or name) [default: every
    /// State whose law requires one]
    #[arg(long, value_name = "ST", value_parser = state_code)]
    pub jurisdiction: Option<String>,
    /// state_regulator: only the regulator with this id in the State's rules (`ag`; see
    /// `breachdesk laws show ST`) [default: all]
    #[arg(long, value_name = "ID")]
    pub recipient: Option<String>,
    /// Draft notices even when the determination on record is "not a breach"
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum HhsCommand {
    /// The annual log of breaches under 500 discovered in YEAR (164.408(c)), one record each
    AnnualLog(AnnualLogArgs),
}

#[derive(Debug, Args)]
pub struct AnnualLogArgs {
    /// Calendar year of discovery
    pub year: i32,
    /// csv or json
    #[arg(long, default_value = "csv", value_parser = log_format)]
    pub format: LogFormat,
    /// Write to a file (owner-only) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace --out if it exists
    #[arg(long)]
    pub force: bool,
}

/// State breach-notification laws as cited, versioned rules data: the built-in files (one
/// per jurisdiction, each rule verified against statute text or marked unverified with its
/// source) and counsel's overrides stored in the database. Read commands use the database
/// when one exists at --db / BREACHDESK_DB (else the built-in data, and say so).
#[derive(Debug, Subcommand)]
pub enum LawsCommand {
    /// Every jurisdiction: the law's current version, deadlines, regulators, HIPAA
    /// treatment, built-in or counsel's, and how many rules are verified
    List {
        /// Print the Markdown table README.md carries
        #[arg(long)]
        markdown: bool,
        /// Only the rules verified against statute text, per jurisdiction, with where they
        /// were read (the table of src/laws/README.md with --markdown)
        #[arg(long)]
        verified: bool,
        /// The built-in data only, even when a database holds counsel's files
        #[arg(long)]
        builtin: bool,
    },
    /// One jurisdiction: the file in force, every version, every rule with its citation and
    /// verification status, and counsel's history
    Show {
        #[arg(value_parser = law_jurisdiction)]
        jurisdiction: String,
        /// The built-in file only
        #[arg(long)]
        builtin: bool,
    },
    /// Counsel's files against the built-in ones: what changes, and the text diff
    Diff {
        #[arg(value_parser = law_jurisdiction)]
        jurisdiction: Option<String>,
    },
    /// Store counsel's rules file for its jurisdiction (same schema as the built-in files,
    /// src/laws/README.md); it replaces the built-in file in every evaluation from now on.
    /// Audited; earlier versions are kept for replays
    Set { file: PathBuf },
    /// Remove counsel's file for a jurisdiction: the built-in file applies again (audited)
    Clear {
        #[arg(value_parser = law_jurisdiction)]
        jurisdiction: String,
    },
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// Write the self-contained HTML dossier (the only format)
    #[arg(long)]
    pub html: bool,
    /// Output file [default: <ID>-dossier.html]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Audit entries about the incident to include (most recent)
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub audit_entries: usize,
    /// Replace --out if it exists
    #[arg(long)]
    pub force: bool,
}

/// Exercises keep their own database (`--exercise-db`, `BREACHDESK_EXERCISE_DB`, default
/// ./breachdesk-exercise.redb), so exercise incidents never reach real boards or HHS logs.
#[derive(Debug, Subcommand)]
pub enum ExerciseCommand {
    /// The built-in scenario library
    List,
    /// Check a scenario file: syntax, facts at every stage, the engine runs on each
    Validate { file: PathBuf },
    /// Start an exercise from a built-in scenario or a file
    Start(ExerciseStartArgs),
    /// The situation so far, the simulated clock and time left (for projecting in the room)
    Brief {
        #[arg(long, value_name = "PATH")]
        exercise_db: Option<PathBuf>,
        /// Also show the engine's answer (for the facilitator, after the room decides)
        #[arg(long)]
        reveal: bool,
    },
    /// Advance to the next inject
    Next {
        #[arg(long, value_name = "PATH")]
        exercise_db: Option<PathBuf>,
    },
    /// Record the room's answers: determination, notices with jurisdictions and due dates
    Decide(ExerciseDecideArgs),
    /// Record a discussion note at the current stage
    Note {
        text: String,
        #[arg(long, value_name = "PATH")]
        exercise_db: Option<PathBuf>,
    },
    /// Per decision: right or wrong, the engine's answer, the reason and citation
    Score {
        #[arg(long, value_name = "PATH")]
        exercise_db: Option<PathBuf>,
    },
    /// After-action report: timeline, decisions vs expected, missed deadlines, notes
    Report {
        #[arg(long, value_name = "PATH")]
        exercise_db: Option<PathBuf>,
        /// Write HTML (the only format)
        #[arg(long)]
        html: bool,
        /// Output file [default: <scenario>-after-action.html]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace --out if it exists
        #[arg(long)]
        force: bool,
    },
    /// Build a scenario skeleton from a record of HHS's public breach portal list
    FromOcr(ExerciseFromOcrArgs),
}

#[derive(Debug, Args)]
pub struct ExerciseStartArgs {
    /// A built-in scenario id (see `exercise list`)
    pub scenario: Option<String>,
    /// A scenario file instead
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub file: Option<PathBuf>,
    #[arg(long, value_name = "PATH")]
    pub exercise_db: Option<PathBuf>,
    /// Replace an exercise already in the exercise database
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExerciseDecideArgs {
    /// not_breach_secured, not_breach_exception, not_breach_low_probability, breach
    #[arg(long, value_parser = determination)]
    pub determination: Option<DeterminationClass>,
    /// A notice the room says is owed: KIND[:ST][=YYYY-MM-DD], e.g. media:CA=2026-03-01 (repeatable)
    #[arg(long = "notice", value_name = "NOTICE", value_parser = decided_notice)]
    pub notices: Vec<DecidedNotice>,
    /// The stage decided [default: the current stage]
    #[arg(long)]
    pub stage: Option<usize>,
    /// Discussion note kept with the decision
    #[arg(long)]
    pub note: Option<String>,
    /// Never prompt
    #[arg(long)]
    pub no_interview: bool,
    #[arg(long, value_name = "PATH")]
    pub exercise_db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExerciseFromOcrArgs {
    /// An export of the HHS OCR breach portal list (CSV)
    pub file: PathBuf,
    /// The data row to use (1-based)
    #[arg(long, conflicts_with = "random")]
    pub row: Option<usize>,
    /// Pick a row pseudo-randomly (deterministic with --seed)
    #[arg(long)]
    pub random: bool,
    /// Seed for --random
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the scenario here instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show audit entries
    Log {
        /// Only entries about this incident
        #[arg(long, value_parser = incident_id)]
        incident: Option<IncidentId>,
    },
    /// Recompute every link and record digest; exit 0 when intact, 10-17 naming the damage
    Verify {
        /// Also compare with a checkpoint file (catches truncation, rollback, forks)
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
        /// Trusted ed25519 public key (hex) for the checkpoint signature
        #[arg(long, value_name = "HEX", value_parser = public_key)]
        public_key: Option<[u8; 32]>,
    },
    /// Write a checkpoint (sequence, head hash, time), signed when a signing key exists
    Checkpoint {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Signing key file [default: <db>.signing-key]
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
    },
    /// Create the ed25519 checkpoint signing key; its public half is recorded in the database
    Keygen {
        /// Where to write the private key [default: <db>.signing-key]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace the recorded key (an audited event; checkpoints signed with the old key
        /// then report "signing key replaced since this checkpoint")
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Import a CSV roster of affected individuals (comma-, semicolon- or tab-separated):
    /// streamed, validated row by row, sealed at rest. Rejected rows, rows that need fixing,
    /// warnings, duplicates and possible duplicates are reported by line and column (never
    /// their values); a later import of another file appends to the roster (an addendum),
    /// replaces rows that needed fixing and revises the counts. Re-running an interrupted
    /// import of the same file resumes it. An import that accepts no row changes nothing
    /// (exit 3); one that would lower a count obligations depend on asks first on a
    /// terminal, and needs --accept-lower-counts in a script.
    Import(ImportArgs),
    /// Counts of an incident's roster: total, per State, deceased with/without next-of-kin
    /// contact, unreachable, e-mail, needing fixing, per covered entity. Needs no passphrase.
    Stats {
        /// Incident ID, e.g. 2026-0007
        #[arg(value_parser = incident_id)]
        id: IncidentId,
    },
    /// What to fix before mailing: rejected rows, rows that need fixing (counted as
    /// unreachable until fixed), warnings, duplicates and possible duplicates, by batch and
    /// line, with the column and the reason (never a value), as CSV with a kind column (or
    /// --json). Fix the rows in the source and import them again: they replace the entries.
    /// Needs no passphrase.
    Issues(IssuesArgs),
    /// Delete an incident's roster once notices are done: its key is destroyed
    /// (crypto-shredding: no copy of the rows can be decrypted afterwards), the rows deleted
    /// and the space given back. Counts, batch records, the key's fingerprint and the audit
    /// proof are kept; further imports are refused. Asks for the passphrase first.
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub struct IssuesArgs {
    /// Incident ID, e.g. 2026-0007
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// Write the list to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Incident ID, e.g. 2026-0007
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// The roster CSV: a header row, then one row per individual (UTF-8, LF or CRLF;
    /// comma-, semicolon- or tab-separated)
    pub file: PathBuf,
    /// Name the field a column holds when its header is not recognised, e.g.
    /// --map "Pt Acct=id" (repeatable). Fields: id, first_name, last_name, full_name,
    /// address1, address2, city, state, zip, email, email_consent, phone, deceased, nok_name,
    /// nok_address, nok_city, nok_state, nok_zip, minor, representative_name, date_of_birth,
    /// covered_entity
    #[arg(long = "map", value_name = "COLUMN=FIELD", value_parser = column_map)]
    pub map: Vec<(String, Field)>,
    /// Validate the file and report what would be imported; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The field separator: comma, semicolon or tab [default: recognised from the header]
    #[arg(long, value_name = "SEP", value_parser = delimiter)]
    pub delimiter: Option<u8>,
    /// Commit even when the import lowers a count that obligations depend on (total, a
    /// State, unreachable, deceased with next of kin); without it a script gets exit 3 and
    /// a terminal is asked
    #[arg(long)]
    pub accept_lower_counts: bool,
    /// Discard an interrupted import of this incident instead of resuming it
    #[arg(long)]
    pub restart: bool,
    /// At most this many rows of each kind are listed (all are counted; `roster issues`
    /// lists every one)
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub report_limit: usize,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Incident ID, e.g. 2026-0007
    #[arg(value_parser = incident_id)]
    pub id: IncidentId,
    /// Confirm the deletion (it cannot be undone)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// File holding the new passphrase (first line) [else BREACHDESK_NEW_PASSPHRASE, else a
    /// prompt, twice, on a terminal]
    #[arg(long, value_name = "FILE")]
    pub new_key_file: Option<PathBuf>,
    /// Also make new data keys and seal every value again: afterwards neither the old
    /// passphrase nor any backup taken before opens data written from then on. Use it when
    /// the old passphrase may have leaked, or a copy of the file or its key went missing
    #[arg(long)]
    pub rotate: bool,
    /// Accept a new passphrase the strength estimator judges weak (demos and tests only;
    /// recorded in the organization record)
    #[arg(long)]
    pub allow_weak_passphrase: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StaffRoleArg {
    PrivacyOfficer,
    Counsel,
    Analyst,
    Auditor,
    Facilitator,
}

impl StaffRoleArg {
    pub fn role(self) -> crate::domain::StaffRole {
        use crate::domain::StaffRole;
        match self {
            StaffRoleArg::PrivacyOfficer => StaffRole::PrivacyOfficer,
            StaffRoleArg::Counsel => StaffRole::Counsel,
            StaffRoleArg::Analyst => StaffRole::Analyst,
            StaffRoleArg::Auditor => StaffRole::Auditor,
            StaffRoleArg::Facilitator => StaffRole::Facilitator,
        }
    }
}

/// Users are kept in the database (audited); the password comes from
/// BREACHDESK_USER_PASSWORD or a prompt (asked twice), is strength-checked and stored only
/// as an Argon2id hash.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person who signs in to `breachdesk serve`
    Add {
        /// Sign-in name: lower-case letters, digits, '.', '-', '_' (e.g. jsmith)
        #[arg(value_parser = user_name)]
        name: String,
        /// What they may do (README "Team use" has the table)
        #[arg(long, value_enum)]
        role: StaffRoleArg,
    },
    /// Every user: role, state, last sign-in
    List,
    /// Change a user's role
    Role {
        #[arg(value_parser = user_name)]
        name: String,
        #[arg(long, value_enum)]
        role: StaffRoleArg,
    },
    /// Stop a user from signing in (their sessions end at their next request)
    Disable {
        #[arg(value_parser = user_name)]
        name: String,
    },
    /// Let a disabled user sign in again
    Enable {
        #[arg(value_parser = user_name)]
        name: String,
    },
    /// Set a new password for a user (also clears a lockout)
    ResetPassword {
        #[arg(value_parser = user_name)]
        name: String,
    },
}

/// `breachdesk serve`: one process owns the database and serves the office.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; binding beyond loopback needs TLS (--tls-cert/--tls-key) or
    /// --behind-proxy
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// TLS certificate chain (PEM): serve HTTPS directly
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A reverse proxy in front terminates TLS: plain HTTP here (allowed on any address,
    /// with a warning), cookies marked Secure and HSTS sent
    #[arg(long, conflicts_with = "tls_cert")]
    pub behind_proxy: bool,
    /// Sign a session out after this much inactivity (164.312(a)(2)(iii)): 15m, 900s, 1h
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = period)]
    pub idle_timeout: std::time::Duration,
    /// Failed sign-ins in a row that lock an account
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub lockout_after: u32,
    /// How long a lockout lasts
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = period)]
    pub lockout_for: std::time::Duration,
    /// Largest roster upload accepted, in MiB
    #[arg(long, default_value_t = 4096, value_name = "MIB")]
    pub max_upload_mib: u64,
    /// Where rendered letter batches and uploads in progress are kept (0700)
    /// [default: <db>.files]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The exercise database facilitators run [env: BREACHDESK_EXERCISE_DB]
    /// [default: ./breachdesk-exercise.redb]
    #[arg(long, value_name = "PATH")]
    pub exercise_db: Option<PathBuf>,
    /// Print one line per request (method, path, status, time; never a body or a query)
    #[arg(long)]
    pub access_log: bool,
}
