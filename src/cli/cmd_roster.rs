//! `roster import|stats|purge` and `rekey`.
//!
//! Nothing here prints a value from a roster: reports name lines, field keys and counts.

use serde::Serialize;

use super::args::{ImportArgs, PurgeArgs, RekeyArgs, RosterCommand};
use super::context::Ctx;
use super::output::{print_json, table};
use super::progress::Bar;
use crate::desk::Progress;
use crate::desk::{
    DuplicateRow, ImportReport, ImportRoster, ListedRows, RUN_ROWS, RosterBatch as Batch,
    RosterTotals,
};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::intake::roster_csv::RowIssue;

pub fn run(ctx: &Ctx, c: RosterCommand) -> Result<i32> {
    match c {
        RosterCommand::Import(a) => import(ctx, a),
        RosterCommand::Stats { id } => stats(ctx, &id),
        RosterCommand::Purge(a) => purge(ctx, a),
    }
}

/// Rejected and duplicate rows, listed up to a limit and always counted.
#[derive(Debug, Serialize)]
struct Listed<'a, T> {
    items: &'a [T],
    not_listed: u64,
}

impl<'a, T> Listed<'a, T> {
    fn new(l: &'a ListedRows<T>) -> Self {
        Listed {
            items: &l.items,
            not_listed: l.not_listed,
        }
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
struct ImportOut<'a> {
    incident: String,
    file_sha256: &'a str,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<u32>,
    resumed: bool,
    rows_read: u64,
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    /// Columns (1-based) whose header was not recognised and that were ignored.
    ignored_columns: &'a [usize],
    /// What this file adds (per State, deceased, unreachable...).
    added: &'a RosterTotals,
    /// The roster after this import (absent for a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    roster: Option<&'a RosterTotals>,
    rejected_rows: Listed<'a, RowIssue>,
    duplicate_rows: Listed<'a, DupRow>,
}

/// The progress bar, and the crash test's pause (`BREACHDESK_TEST_PAUSE_AT`): at the N-th
/// report of the reading phase (`read:N`) or of committed chunks of staged rows (`write:N`)
/// the import announces the point on standard error and waits to be killed. Without the
/// variable it is just the bar.
struct Pausing {
    bar: Bar,
    at: Option<(String, u64)>,
    phase: std::sync::Mutex<String>,
    seen: std::sync::atomic::AtomicU64,
}

impl Progress for Pausing {
    fn start(&self, what: &str, total: u64, bytes: bool) {
        if let Ok(mut p) = self.phase.lock() {
            *p = what.to_string();
        }
        self.seen.store(0, std::sync::atomic::Ordering::SeqCst);
        self.bar.start(what, total, bytes);
    }

    fn set(&self, done: u64) {
        self.bar.set(done);
        let Some((phase, n)) = &self.at else { return };
        let current = self.phase.lock().map(|p| p.clone()).unwrap_or_default();
        let wanted = match phase.as_str() {
            "read" => "importing",
            _ => "writing",
        };
        if current != wanted {
            return;
        }
        let seen = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if seen == *n {
            eprintln!("roster import paused at progress point {phase}:{n}");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }

    fn add(&self, n: u64) {
        self.bar.add(n);
    }

    fn finish(&self) {
        self.bar.finish();
    }
}

fn import(ctx: &Ctx, a: ImportArgs) -> Result<i32> {
    let office = ctx.open()?;
    let report: ImportReport = ctx.desk(&office).import_roster(
        &ImportRoster {
            id: a.id,
            file: a.file,
            maps: a.map,
            dry_run: a.dry_run,
            report_limit: a.report_limit,
            run_rows: ctx.env.roster_run_rows.unwrap_or(RUN_ROWS),
        },
        &Pausing {
            bar: Bar::new(ctx),
            at: ctx.env.test_pause_at.clone(),
            phase: std::sync::Mutex::new(String::new()),
            seen: std::sync::atomic::AtomicU64::new(0),
        },
    )?;
    let dups: Vec<DupRow> = report
        .duplicate_rows
        .items
        .iter()
        .map(|d: &DuplicateRow| DupRow {
            line: d.line,
            first_line: d.first_line,
            first_batch: d.first_batch,
        })
        .collect();
    let out = ImportOut {
        incident: report.incident.to_string(),
        file_sha256: &report.file_sha256,
        dry_run: report.dry_run,
        batch: report.batch,
        resumed: report.resumed,
        rows_read: report.rows_read,
        accepted: report.accepted,
        rejected: report.rejected,
        duplicates: report.duplicates,
        ignored_columns: &report.ignored_columns,
        added: &report.added,
        roster: report.roster.as_ref(),
        rejected_rows: Listed::new(&report.rejected_rows),
        duplicate_rows: Listed {
            items: &dups,
            not_listed: report.duplicate_rows.not_listed,
        },
    };
    if ctx.json {
        print_json(&out)?;
    } else {
        print_import(&out)?;
    }
    Ok(0)
}

fn print_import(o: &ImportOut) -> Result<()> {
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
        for i in o.rejected_rows.items {
            println!("  {i}");
        }
        if o.rejected_rows.not_listed > 0 {
            println!("  ... and {} more", o.rejected_rows.not_listed);
        }
    }
    if !o.duplicate_rows.items.is_empty() {
        println!("Duplicate rows (same identifier as an earlier row; counted once):");
        for d in o.duplicate_rows.items {
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
    Ok(())
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
    let office = ctx.open()?;
    let s = ctx.desk(&office).roster_stats(id)?;
    let t = &s.totals;
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
        batches: s.batches,
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
    let id = a.id;
    if !a.yes {
        return Err(Error::invalid(format!(
            "purging deletes the names and addresses of {id}'s roster for good (counts and the audit proof are kept); confirm with --yes"
        )));
    }
    let office = ctx.open()?;
    let n = ctx.desk(&office).purge_roster(&id)?;
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
        let text = crate::files::read_text(f, crate::files::KEY_FILE)?;
        let p = first_line(&text);
        if p.is_empty() {
            return Err(Error::Key(format!(
                "the new key file {} is empty: put the new passphrase on its first line",
                f.display()
            )));
        }
        return Ok(p);
    }
    if let Some(p) = &ctx.env.new_passphrase {
        return Ok(p.clone());
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
    let office = ctx.open()?;
    ctx.desk(&office).rekey(|| new_passphrase(ctx, &a))?;
    if ctx.json {
        print_json(&serde_json::json!({ "rekeyed": true }))?;
    } else {
        println!("Passphrase changed. The old passphrase no longer opens this database.");
    }
    Ok(0)
}
