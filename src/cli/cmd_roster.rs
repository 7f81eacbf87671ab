//! `roster import|stats|purge` and `rekey`.
//!
//! Nothing here prints a value from a roster: reports name lines, field keys and counts.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use indicatif::ProgressStyle;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Ctx;
use super::cmd_incident::parse_id;
use super::output::{print_json, table};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::intake::roster_csv::{Field, RosterError, RosterReader, RowIssue};
use crate::store::phi::PhiCodec;
use crate::store::roster::{self, Batch, Event, Outcome, Plan, Progress, RosterTotals, Stager};
use crate::store::tables::{INCIDENTS, META, META_ENCRYPTION, META_WRAPPED_KEY};
use crate::store::{Action, Change, Store, Subject};

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Import a CSV roster of affected individuals: streamed, validated row by row, sealed
    /// at rest. Rejected rows are reported by line and field (never their values) and the
    /// rest is imported; a later import of another file appends to the roster (an addendum)
    /// and revises the counts. Re-running an interrupted import of the same file resumes it.
    Import(ImportArgs),
    /// Counts of an incident's roster: total, per State, deceased with/without next-of-kin
    /// contact, unreachable, e-mail only. Needs no passphrase.
    Stats {
        /// Incident ID, e.g. 2026-0007
        id: String,
    },
    /// Delete an incident's roster rows (names, addresses) once notices are done. Counts,
    /// batch records and the audit proof are kept; further imports are refused.
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Incident ID, e.g. 2026-0007
    pub id: String,
    /// The roster CSV: a header row, then one row per individual (UTF-8, LF or CRLF)
    pub file: PathBuf,
    /// Name the field a column holds when its header is not recognised, e.g.
    /// --map "Pt Acct=id" (repeatable). Fields: id, first_name, last_name, full_name,
    /// address1, address2, city, state, zip, email, email_consent, phone, deceased, nok_name,
    /// nok_address, nok_city, nok_state, nok_zip, minor, representative_name
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    pub map: Vec<String>,
    /// Validate the file and report what would be imported; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// At most this many rejected and duplicate rows are listed (all are counted)
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub report_limit: usize,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Incident ID, e.g. 2026-0007
    pub id: String,
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
}

pub fn run(ctx: &Ctx, c: RosterCommand) -> Result<i32> {
    match c {
        RosterCommand::Import(a) => import(ctx, a),
        RosterCommand::Stats { id } => stats(ctx, &parse_id(&id)?),
        RosterCommand::Purge(a) => purge(ctx, a),
    }
}

/// Rows per sorted run of an import (`BREACHDESK_ROSTER_RUN_ROWS` overrides, for tuning).
fn run_rows() -> usize {
    std::env::var("BREACHDESK_ROSTER_RUN_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(roster::RUN_ROWS)
}

fn parse_maps(maps: &[String]) -> Result<Vec<(String, Field)>> {
    maps.iter()
        .map(|m| {
            let (col, field) = m.rsplit_once('=').ok_or_else(|| {
                Error::invalid(
                    "--map takes COLUMN=FIELD, e.g. --map \"Pt Acct=id\"; quote it if the column name has spaces",
                )
            })?;
            let f = Field::from_key(field).ok_or_else(|| {
                Error::invalid(format!(
                    "--map: the field after '=' is not a roster field; accepted: {}",
                    Field::accepted_keys()
                ))
            })?;
            Ok((col.trim().to_string(), f))
        })
        .collect()
}

fn ensure_incident(store: &Store, id: &IncidentId) -> Result<()> {
    let tx = store.read()?;
    let t = tx.open_table(INCIDENTS)?;
    if t.get(id.as_str())?.is_none() {
        return Err(Error::NotFound(format!(
            "no incident {id}; list incidents with `breachdesk incident list`"
        )));
    }
    Ok(())
}

fn file_error(path: &Path, e: std::io::Error) -> Error {
    Error::invalid(format!(
        "cannot read the roster file {}: {e}; check the path and that it is readable",
        path.display()
    ))
}

/// SHA-256 of the file, which identifies it for resume and for refusing re-imports.
fn hash_file(ctx: &Ctx, path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| file_error(path, e))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let pb = super::progress::bytes_bar(ctx, len, "checking");
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| file_error(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        pb.inc(n as u64);
    }
    pb.finish_and_clear();
    let digest: [u8; 32] = h.finalize().into();
    Ok((crate::audit::entry::hex(&digest), len))
}

/// A roster CSV as the store's row source: file errors name the file.
struct CsvRows<'a, R: Read> {
    reader: &'a mut RosterReader<R>,
    path: &'a Path,
}

impl<R: Read + Send> roster::RowSource for CsvRows<'_, R> {
    type Issue = RowIssue;

    fn next_row(&mut self) -> Result<Option<roster::SourceRow<RowIssue>>> {
        match self.reader.next_row() {
            Err(e) => Err(roster_error(self.path, e)),
            Ok(None) => Ok(None),
            Ok(Some(Err(issue))) => Ok(Some((issue.line, Err(issue)))),
            Ok(Some(Ok(row))) => Ok(Some((self.reader.line(), Ok(row)))),
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.bytes_read()
    }
}

fn roster_error(path: &Path, e: RosterError) -> Error {
    Error::invalid(format!("{}: {e}", path.display()))
}

/// Rejected and duplicate rows, listed up to a limit and always counted.
#[derive(Debug, Default, Serialize)]
struct Listed<T> {
    items: Vec<T>,
    #[serde(skip)]
    limit: usize,
    not_listed: u64,
}

impl<T> Listed<T> {
    fn new(limit: usize) -> Self {
        Listed {
            items: Vec::new(),
            limit,
            not_listed: 0,
        }
    }

    fn push(&mut self, item: T) {
        if self.items.len() < self.limit {
            self.items.push(item);
        } else {
            self.not_listed += 1;
        }
    }
}

impl Listed<DupRow> {
    /// Duplicates arrive in key order: keep the `limit` lowest lines (memory stays bounded).
    fn push_lowest(&mut self, item: DupRow) {
        self.items.push(item);
        if self.items.len() >= self.limit.saturating_mul(2).max(64) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.items.sort_by_key(|d| d.line);
        let extra = self.items.len().saturating_sub(self.limit);
        self.items.truncate(self.limit);
        self.not_listed += extra as u64;
    }
}

#[derive(Debug, Serialize)]
struct DupRow {
    line: u64,
    /// Line of the first row with the same identifier.
    first_line: u64,
    /// Batch of that row; absent when it is earlier in this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_batch: Option<u32>,
}

#[derive(Debug, Serialize)]
struct ImportOut {
    incident: String,
    file_sha256: String,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<u32>,
    resumed: bool,
    rows_read: u64,
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    /// Columns (1-based) whose header was not recognised and that were ignored.
    ignored_columns: Vec<usize>,
    /// What this file adds (per State, deceased, unreachable...).
    added: RosterTotals,
    /// The roster after this import (absent for a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    roster: Option<RosterTotals>,
    rejected_rows: Listed<RowIssue>,
    duplicate_rows: Listed<DupRow>,
}

fn import(ctx: &Ctx, a: ImportArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    let overrides = parse_maps(&a.map)?;
    let store = ctx.open()?;
    ensure_incident(&store, &id)?;
    let codec = ctx.codec(&store, true)?;
    let (sha, len) = hash_file(ctx, &a.file)?;
    let plan = roster::plan(&store.read()?, &id, &sha)?;
    match &plan {
        Plan::AlreadyImported(b) => {
            return Err(Error::invalid(format!(
                "{}: this file (sha256 {sha}) was already imported into {id} as batch {}; nothing was written. \
                 To revise the counts, import a file with the additional rows (rows already imported are reported as duplicates and counted once)",
                a.file.display(),
                b.seq
            )));
        }
        Plan::Purged(at) => {
            return Err(Error::invalid(format!(
                "the roster of {id} was purged on {}; new rows could not be checked for duplicates against it, so imports are refused. \
                 Log the addendum's counts with `breachdesk incident update {id} --individuals N --state ST=N`",
                at.format("%Y-%m-%d")
            )));
        }
        _ => {}
    }
    let file = File::open(&a.file).map_err(|e| file_error(&a.file, e))?;
    let mut reader = RosterReader::new(file, &overrides).map_err(|e| roster_error(&a.file, e))?;
    let ignored_columns: Vec<usize> = (0..reader.header_map().width())
        .filter(|i| reader.header_map().field_at(*i).is_none())
        .map(|i| i + 1)
        .collect();
    let mut rejected_rows = Listed::new(a.report_limit);
    let mut duplicate_rows = Listed::new(a.report_limit);
    let pb = super::progress::bytes_bar(ctx, len, "importing");
    let mut since_tick = 0u32;

    let mut out = ImportOut {
        incident: id.to_string(),
        file_sha256: sha.clone(),
        dry_run: a.dry_run,
        batch: None,
        resumed: false,
        rows_read: 0,
        accepted: 0,
        rejected: 0,
        duplicates: 0,
        ignored_columns,
        added: RosterTotals::default(),
        roster: None,
        rejected_rows: Listed::new(0),
        duplicate_rows: Listed::new(0),
    };

    if a.dry_run {
        let mut dry = roster::DryRun::new(&store, &id, &codec)?;
        loop {
            let item = reader.next_row().map_err(|e| roster_error(&a.file, e))?;
            let Some(item) = item else { break };
            out.rows_read += 1;
            match item {
                Err(issue) => {
                    out.rejected += 1;
                    rejected_rows.push(issue);
                }
                Ok(row) => {
                    let line = reader.line();
                    match dry.check(line, &row)? {
                        Outcome::Accepted => out.accepted += 1,
                        Outcome::Duplicate {
                            first_batch,
                            first_line,
                        } => {
                            out.duplicates += 1;
                            duplicate_rows.push(DupRow {
                                line,
                                first_line,
                                first_batch: (first_batch != 0).then_some(first_batch),
                            });
                        }
                    }
                }
            }
            since_tick += 1;
            if since_tick >= 4096 {
                since_tick = 0;
                pb.set_position(reader.bytes_read());
            }
        }
        pb.finish_and_clear();
        out.added = dry.added;
    } else {
        let mut stager = Stager::start(&store, &id, &codec, plan, &sha, ctx.actor.now)?;
        let seq = stager.batch.seq;
        let pb2 = pb.clone();
        let progress = move |p: Progress| match p {
            Progress::Read(bytes) => pb2.set_position(bytes),
            Progress::Write { done, total } => {
                if pb2.length() != Some(total) {
                    pb2.set_message("writing");
                    pb2.set_length(total);
                    if let Ok(style) = ProgressStyle::with_template(
                        "{msg} [{bar:30}] {human_pos}/{human_len} rows {per_sec} ETA {eta}",
                    ) {
                        pb2.set_style(style.progress_chars("=> "));
                    }
                    pb2.reset_eta();
                }
                pb2.set_position(done);
            }
        };
        let mut on_event = |e: Event<RowIssue>| match e {
            Event::Rejected(issue) => rejected_rows.push(issue),
            Event::Duplicate {
                line,
                first_batch,
                first_line,
            } => duplicate_rows.push_lowest(DupRow {
                line,
                first_line,
                first_batch: (first_batch != seq).then_some(first_batch),
            }),
        };
        if let Err(e) = stager.import_rows(
            &mut CsvRows {
                reader: &mut reader,
                path: &a.file,
            },
            run_rows(),
            &progress,
            &mut on_event,
        ) {
            pb.finish_and_clear();
            if matches!(e, Error::Invalid(_)) {
                // The file is unusable past this point: drop what was staged, so a
                // corrected file starts clean. None of it was part of the record.
                roster::discard_staging(&store, &id, seq)?;
                return Err(Error::invalid(format!("{e}; nothing was imported")));
            }
            return Err(e);
        }
        pb.finish_and_clear();
        out.resumed = stager.resumed;
        let (batch, totals) = stager.commit(&ctx.actor)?;
        out.batch = Some(batch.seq);
        out.rows_read = batch.rows_read;
        out.accepted = batch.accepted;
        out.rejected = batch.rejected;
        out.duplicates = batch.duplicates;
        out.added = batch.added.unwrap_or_default();
        out.roster = Some(totals);
    }
    duplicate_rows.trim();
    out.rejected_rows = rejected_rows;
    out.duplicate_rows = duplicate_rows;
    if ctx.json {
        print_json(&out)?;
    } else {
        print_import(&out);
    }
    Ok(0)
}

fn print_import(o: &ImportOut) {
    match (o.dry_run, o.batch) {
        (true, _) => println!(
            "Dry run of a roster import for {}: nothing was written",
            o.incident
        ),
        (false, Some(b)) => println!(
            "Roster import for {}: batch {b} committed{}",
            o.incident,
            if o.resumed {
                " (resumed after an interruption)"
            } else {
                ""
            }
        ),
        (false, None) => {}
    }
    println!("  file sha256   {}", o.file_sha256);
    println!("  rows read     {}", o.rows_read);
    println!("  accepted      {}", o.accepted);
    println!("  rejected      {}", o.rejected);
    println!("  duplicates    {}", o.duplicates);
    if !o.ignored_columns.is_empty() {
        let cols: Vec<String> = o.ignored_columns.iter().map(|c| c.to_string()).collect();
        println!(
            "  ignored columns (header not recognised; name them with --map COLUMN=FIELD): {}",
            cols.join(", ")
        );
    }
    if !o.rejected_rows.items.is_empty() {
        println!("Rejected rows (not imported; fix them and import them again as an addendum):");
        for i in &o.rejected_rows.items {
            println!("  {i}");
        }
        if o.rejected_rows.not_listed > 0 {
            println!("  ... and {} more", o.rejected_rows.not_listed);
        }
    }
    if !o.duplicate_rows.items.is_empty() {
        println!("Duplicate rows (same identifier as an earlier row; counted once):");
        for d in &o.duplicate_rows.items {
            match d.first_batch {
                Some(b) => println!(
                    "  line {}: same identifier as line {} of batch {b}",
                    d.line, d.first_line
                ),
                None => println!(
                    "  line {}: same identifier as line {} of this file",
                    d.line, d.first_line
                ),
            }
        }
        if o.duplicate_rows.not_listed > 0 {
            println!("  ... and {} more", o.duplicate_rows.not_listed);
        }
    }
    let states: Vec<String> = o
        .added
        .counts
        .by_state
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !states.is_empty() {
        println!(
            "Per State ({}): {}",
            if o.dry_run {
                "this file"
            } else {
                "this import"
            },
            states.join(", ")
        );
    }
    if let Some(t) = &o.roster {
        println!(
            "Roster of {} now: {} individuals in {} import(s); see `breachdesk roster stats {}`",
            o.incident, t.counts.total, t.batches, o.incident
        );
    }
    if o.rejected > 0 {
        println!(
            "The {} succeeded: {} rejected row(s) were reported above and {}.",
            if o.dry_run { "validation" } else { "import" },
            o.rejected,
            if o.dry_run {
                "would not be imported"
            } else {
                "were not imported"
            }
        );
    }
}

#[derive(Debug, Serialize)]
struct StatsOut {
    incident: String,
    total: u64,
    by_state: std::collections::BTreeMap<String, u64>,
    no_state: u64,
    deceased_with_nok: u64,
    deceased_without_nok: u64,
    unreachable: u64,
    email_only: u64,
    rows_stored: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    purged: Option<chrono::DateTime<chrono::Utc>>,
    batches: Vec<Batch>,
}

fn stats(ctx: &Ctx, id: &IncidentId) -> Result<i32> {
    let store = ctx.open()?;
    ensure_incident(&store, id)?;
    let tx = store.read()?;
    let Some(t) = roster::totals(&tx, id)? else {
        return Err(Error::NotFound(format!(
            "incident {id} has no imported roster; import one with `breachdesk roster import {id} FILE.csv`"
        )));
    };
    let batches: Vec<Batch> = roster::batches(&tx, id)?
        .into_iter()
        .filter(|b| b.status == roster::BatchStatus::Committed)
        .map(|mut b| {
            b.added = None;
            b
        })
        .collect();
    let out = StatsOut {
        incident: id.to_string(),
        total: t.counts.total,
        by_state: t.counts.by_state.clone(),
        no_state: t.no_state,
        deceased_with_nok: t.counts.deceased_with_nok,
        deceased_without_nok: t.counts.deceased_without_nok,
        unreachable: t.counts.unreachable,
        email_only: t.email_only,
        rows_stored: t.rows_stored,
        purged: t.purged,
        batches,
    };
    if ctx.json {
        print_json(&out)?;
        return Ok(0);
    }
    println!("Roster of {id} ({} import(s))", out.batches.len());
    let mut tb = table(&["Count", "Individuals", "Notice (reference § 3)"]);
    tb.add_row(vec![
        "Affected individuals".to_string(),
        out.total.to_string(),
        "individual notice".into(),
    ]);
    tb.add_row(vec![
        "Deceased, next of kin known".to_string(),
        out.deceased_with_nok.to_string(),
        "notice to next of kin or personal representative".into(),
    ]);
    tb.add_row(vec![
        "Deceased, no next-of-kin address".to_string(),
        out.deceased_without_nok.to_string(),
        "none required".into(),
    ]);
    tb.add_row(vec![
        "Unreachable (living)".to_string(),
        out.unreachable.to_string(),
        "substitute notice".into(),
    ]);
    tb.add_row(vec![
        "E-mail only (consented)".to_string(),
        out.email_only.to_string(),
        "electronic notice".into(),
    ]);
    if out.no_state > 0 {
        tb.add_row(vec![
            "No State (no address)".to_string(),
            out.no_state.to_string(),
            String::new(),
        ]);
    }
    println!("{tb}");
    let mut st = table(&["State", "Individuals"]);
    for (k, v) in &out.by_state {
        st.add_row(vec![k.clone(), v.to_string()]);
    }
    println!("{st}");
    match out.purged {
        Some(p) => println!("Rows purged on {}; counts kept.", p.format("%Y-%m-%d")),
        None => println!("Rows stored (sealed): {}", out.rows_stored),
    }
    Ok(0)
}

fn purge(ctx: &Ctx, a: PurgeArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    if !a.yes {
        return Err(Error::invalid(format!(
            "purging deletes the names and addresses of {id}'s roster for good (counts and the audit proof are kept); confirm with --yes"
        )));
    }
    let store = ctx.open()?;
    ensure_incident(&store, &id)?;
    let n = roster::purge(&store, &ctx.actor, &id)?;
    if ctx.json {
        print_json(&serde_json::json!({ "incident": id.to_string(), "rows_deleted": n }))?;
    } else {
        println!(
            "Deleted {n} roster row(s) of {id}; counts, batch records and the audit entry are kept."
        );
    }
    Ok(0)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

fn new_passphrase(ctx: &Ctx, a: &RekeyArgs) -> Result<String> {
    if let Some(f) = &a.new_key_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Error::io(format!("cannot read the new key file {}", f.display()), e))?;
        let p = first_line(&text);
        if p.is_empty() {
            return Err(Error::Key(format!(
                "the new key file {} is empty: put the new passphrase on its first line",
                f.display()
            )));
        }
        return Ok(p);
    }
    if let Ok(p) = std::env::var("BREACHDESK_NEW_PASSPHRASE")
        && !p.is_empty()
    {
        return Ok(p);
    }
    if ctx.env.stdin_tty && ctx.env.stderr_tty {
        let p1 = rpassword::prompt_password("New passphrase: ")
            .map_err(|e| Error::io("cannot read the passphrase", e))?;
        let p2 = rpassword::prompt_password("New passphrase again: ")
            .map_err(|e| Error::io("cannot read the passphrase", e))?;
        if p1 != p2 {
            return Err(Error::Key(
                "the two new passphrases differ; nothing was changed".into(),
            ));
        }
        return Ok(p1);
    }
    Err(Error::Key(
        "rekey needs the new passphrase: set BREACHDESK_NEW_PASSPHRASE, use --new-key-file FILE, or run on a terminal"
            .into(),
    ))
}

pub fn rekey(ctx: &Ctx, a: RekeyArgs) -> Result<i32> {
    let store = ctx.open()?;
    if store.meta(META_ENCRYPTION)?.as_deref() != Some(b"on".as_slice()) {
        return Err(Error::invalid(
            "this database is not encrypted (it was created with --no-encryption); there is no passphrase to change",
        ));
    }
    let PhiCodec::Sealed(vault) = ctx.codec(&store, true)? else {
        return Err(crate::store::phi::locked_error());
    };
    let new = new_passphrase(ctx, &a)?;
    let wrapped = vault
        .rewrap(new.as_bytes())
        .map_err(|e| Error::Key(e.to_string()))?
        .to_bytes();
    store.write(&ctx.actor, |tx| {
        let mut meta = tx.open_table(META)?;
        meta.insert(META_WRAPPED_KEY, wrapped.as_slice())?;
        Ok((
            (),
            Change::new(Action::OrgRekey, Subject::Org)
                .detail("passphrase changed; the data key and the sealed data are unchanged"),
        ))
    })?;
    if ctx.json {
        print_json(&serde_json::json!({ "rekeyed": true }))?;
    } else {
        println!("Passphrase changed. The old passphrase no longer opens this database.");
    }
    Ok(0)
}
