//! `roster import|stats|issues|purge`, `compact` and `rekey`.
//!
//! Nothing here prints a value from a roster: reports name lines, field keys and counts.

use std::io::Write;

use serde::Serialize;

use super::args::{ImportArgs, IssuesArgs, PurgeArgs, RekeyArgs, RosterCommand};
use super::context::Ctx;
use super::output::{print_json, table};
use super::progress::Bar;
use crate::desk::{self, Progress, Secret};
use crate::desk::{
    Compacted, DuplicateRow, FixRow, ImportOutcome, ImportReport, ImportRoster, ListedRows,
    LowerCounts, LoweredCounts, RUN_ROWS, RelatedRow, RosterBatch as Batch, RosterIssue,
    RosterTotals,
};
use crate::domain::IncidentId;
use crate::error::{Error, Result, exit};
use crate::intake::roster_csv::RowIssue;

pub fn run(ctx: &Ctx, c: RosterCommand) -> Result<i32> {
    match c {
        RosterCommand::Import(a) => import(ctx, a),
        RosterCommand::Stats { id } => stats(ctx, &id),
        RosterCommand::Issues(a) => issues(ctx, a),
        RosterCommand::Purge(a) => purge(ctx, a),
    }
}

/// Rows listed up to a limit and always counted.
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
struct FixOut {
    line: u64,
    field: &'static str,
    reason: &'static str,
}

#[derive(Debug, Serialize)]
struct RelatedOut {
    line: u64,
    other_line: u64,
    /// Batch of the other row; absent when it is in this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    other_batch: Option<u32>,
    basis: &'static str,
}

#[derive(Debug, Serialize)]
struct ColumnOut {
    /// 1-based.
    column: usize,
    header: String,
}

#[derive(Debug, Serialize)]
struct LoweredOut {
    count: String,
    before: u64,
    after: u64,
}

#[derive(Debug, Serialize)]
struct ImportOut<'a> {
    incident: String,
    file_sha256: &'a str,
    dry_run: bool,
    /// The batch is committed (false for a dry run, an import that accepted no row, or
    /// one that lowered counts without confirmation).
    committed: bool,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<u32>,
    resumed: bool,
    /// The field separator: comma, semicolon or tab.
    delimiter: &'static str,
    rows_read: u64,
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    needs_fixing: u64,
    warned_rows: u64,
    possible_duplicates: u64,
    replaced: u64,
    /// Columns whose header was not recognised and that were ignored.
    ignored_columns: Vec<ColumnOut>,
    /// What this file adds (per State, deceased, unreachable...).
    added: &'a RosterTotals,
    /// The roster after this import (or as it would be).
    #[serde(skip_serializing_if = "Option::is_none")]
    roster: Option<&'a RosterTotals>,
    /// Counts this import lowers (or would), and obligations that would then not be required.
    lowered_counts: Vec<LoweredOut>,
    obligations_dropped: &'a [String],
    rejected_rows: Listed<'a, RowIssue>,
    warnings: Listed<'a, RowIssue>,
    needs_fixing_rows: Listed<'a, FixOut>,
    duplicate_rows: Listed<'a, DupRow>,
    possible_duplicate_rows: Listed<'a, RelatedOut>,
    replaced_rows: Listed<'a, RelatedOut>,
}

fn related(l: &ListedRows<RelatedRow>) -> Vec<RelatedOut> {
    l.items
        .iter()
        .map(|r| RelatedOut {
            line: r.line,
            other_line: r.other_line,
            other_batch: r.other_batch,
            basis: r.basis,
        })
        .collect()
}

fn describe_lowered(l: &LoweredCounts) -> String {
    let mut s = String::new();
    for (name, before, after) in &l.counts {
        s.push_str(&format!("  {name}: {before} -> {after}\n"));
    }
    if !l.obligations_dropped.is_empty() {
        s.push_str(&format!(
            "  obligations no longer required with these counts: {}\n",
            l.obligations_dropped.join(", ")
        ));
    }
    s
}

fn ask_lower(l: &LoweredCounts) -> bool {
    eprint!(
        "This import lowers counts that obligations depend on (the roster's counts replace the current ones):\n{}Commit it? [y/N] ",
        describe_lowered(l)
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
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
    let mut office = ctx.open()?;
    let interactive = ctx.env.stdin_tty && ctx.env.stderr_tty && !ctx.json;
    let lower_counts = if a.accept_lower_counts {
        LowerCounts::Accept
    } else if interactive {
        LowerCounts::Ask(&ask_lower)
    } else {
        LowerCounts::Refuse
    };
    let report: ImportReport = ctx.desk(&office).import_roster(
        &ImportRoster {
            id: a.id,
            file: a.file,
            maps: a.map,
            delimiter: a.delimiter,
            dry_run: a.dry_run,
            restart: a.restart,
            report_limit: a.report_limit,
            run_rows: ctx.env.roster_run_rows.unwrap_or(RUN_ROWS),
            lower_counts,
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
    let fixes: Vec<FixOut> = report
        .needs_fixing_rows
        .items
        .iter()
        .map(|f: &FixRow| FixOut {
            line: f.line,
            field: f.field,
            reason: f.reason,
        })
        .collect();
    let possible = related(&report.possible_duplicate_rows);
    let replaced = related(&report.replaced_rows);
    let outcome = match report.outcome {
        ImportOutcome::Committed => "committed",
        ImportOutcome::DryRun => "dry_run",
        ImportOutcome::NothingAccepted => "nothing_accepted",
        ImportOutcome::LowerCountsRefused => "lower_counts_not_confirmed",
    };
    let out = ImportOut {
        incident: report.incident.to_string(),
        file_sha256: &report.file_sha256,
        dry_run: report.outcome == ImportOutcome::DryRun,
        committed: report.outcome == ImportOutcome::Committed,
        outcome,
        batch: report.batch,
        resumed: report.resumed,
        delimiter: report.delimiter,
        rows_read: report.rows_read,
        accepted: report.accepted,
        rejected: report.rejected,
        duplicates: report.duplicates,
        needs_fixing: report.needs_fixing,
        warned_rows: report.warned_rows,
        possible_duplicates: report.possible_duplicates,
        replaced: report.replaced,
        ignored_columns: report
            .ignored_columns
            .iter()
            .map(|(c, h)| ColumnOut {
                column: *c,
                header: h.clone(),
            })
            .collect(),
        added: &report.added,
        roster: report.roster.as_ref(),
        lowered_counts: report
            .lowered
            .counts
            .iter()
            .map(|(c, b, a)| LoweredOut {
                count: c.clone(),
                before: *b,
                after: *a,
            })
            .collect(),
        obligations_dropped: &report.lowered.obligations_dropped,
        rejected_rows: Listed::new(&report.rejected_rows),
        warnings: Listed::new(&report.warnings),
        needs_fixing_rows: Listed {
            items: &fixes,
            not_listed: report.needs_fixing_rows.not_listed,
        },
        duplicate_rows: Listed {
            items: &dups,
            not_listed: report.duplicate_rows.not_listed,
        },
        possible_duplicate_rows: Listed {
            items: &possible,
            not_listed: report.possible_duplicate_rows.not_listed,
        },
        replaced_rows: Listed {
            items: &replaced,
            not_listed: report.replaced_rows.not_listed,
        },
    };
    if ctx.json {
        print_json(&out)?;
    } else {
        print_import(&out)?;
    }
    match report.outcome {
        ImportOutcome::NothingAccepted => {
            eprintln!(
                "error: no row of the file was accepted, so nothing was imported and the counts are unchanged; fix the rows listed above and import the file again"
            );
            Ok(exit::INVALID_INPUT)
        }
        ImportOutcome::LowerCountsRefused => {
            eprintln!(
                "error: this import would lower counts that obligations depend on, and nothing was committed:\n{}Check the roster; to commit it, run the same import again with --accept-lower-counts (the staged rows are kept, so it resumes)",
                describe_lowered(&report.lowered)
            );
            Ok(exit::INVALID_INPUT)
        }
        ImportOutcome::Committed => {
            // A discarded staging batch or rows rewritten out of order can leave much free
            // space.
            let compacted = if report.may_have_freed_space {
                office.compact_if_pays()?
            } else {
                None
            };
            if let Some(c) = compacted
                && !ctx.json
            {
                print_compacted("Compacted the database", &c)?;
            }
            Ok(0)
        }
        ImportOutcome::DryRun => Ok(0),
    }
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / 1_048_576.0)
}

fn print_compacted(what: &str, c: &Compacted) -> Result<()> {
    println!(
        "{what}: {} -> {} ({} free before)",
        mib(c.before.file_bytes),
        mib(c.after.file_bytes),
        mib(c.before.free_bytes)
    );
    Ok(())
}

fn print_list<T>(title: &str, l: &Listed<T>, line: impl Fn(&T) -> String) -> Result<()> {
    if l.items.is_empty() {
        return Ok(());
    }
    println!("{title}");
    for i in l.items {
        println!("  {}", line(i));
    }
    if l.not_listed > 0 {
        println!(
            "  ... and {} more (`breachdesk roster issues` lists every one)",
            l.not_listed
        );
    }
    Ok(())
}

fn print_import(o: &ImportOut) -> Result<()> {
    match (o.outcome, o.batch) {
        ("dry_run", _) => println!(
            "Dry run of a roster import for {}: nothing was written",
            o.incident
        ),
        ("committed", Some(b)) => println!(
            "Roster import for {}: batch {b} committed{}",
            o.incident,
            if o.resumed {
                " (resumed after an interruption)"
            } else {
                ""
            }
        ),
        ("nothing_accepted", _) => println!(
            "Roster import for {}: NOTHING IMPORTED (no row accepted)",
            o.incident
        ),
        _ => println!(
            "Roster import for {}: NOT COMMITTED (it lowers counts; see below)",
            o.incident
        ),
    }
    println!("  file sha256   {}", o.file_sha256);
    println!("  separator     {}", o.delimiter);
    println!("  rows read     {}", o.rows_read);
    println!("  accepted      {}", o.accepted);
    println!("  rejected      {}", o.rejected);
    println!("  duplicates    {}", o.duplicates);
    if o.needs_fixing > 0 {
        println!(
            "  need fixing   {} (imported, counted as unreachable until fixed)",
            o.needs_fixing
        );
    }
    if o.warned_rows > 0 {
        println!("  with warnings {}", o.warned_rows);
    }
    if o.possible_duplicates > 0 {
        println!(
            "  possible duplicates {} (same name and date of birth or address under another identifier: review)",
            o.possible_duplicates
        );
    }
    if o.replaced > 0 {
        println!(
            "  replaced      {} (rows of earlier imports that needed fixing)",
            o.replaced
        );
    }
    if !o.ignored_columns.is_empty() {
        let cols: Vec<String> = o
            .ignored_columns
            .iter()
            .map(|c| format!("\"{}\"", c.header))
            .collect();
        println!(
            "  ignored columns (header not recognised; name them with --map COLUMN=FIELD): {}",
            cols.join(", ")
        );
    }
    print_list(
        "Rejected rows (not imported; fix them and import them again as an addendum):",
        &o.rejected_rows,
        |i| i.to_string(),
    )?;
    print_list(
        "Rows that need fixing (imported and counted as unreachable until fixed and imported again):",
        &o.needs_fixing_rows,
        |f| format!("line {}: {}: {}", f.line, f.field, f.reason),
    )?;
    print_list(
        "Warnings (rows imported without the value named):",
        &o.warnings,
        |i| i.to_string(),
    )?;
    print_list(
        "Duplicate rows (same identifier as an earlier row; counted once):",
        &o.duplicate_rows,
        |d| match d.first_batch {
            Some(b) => format!(
                "line {}: same identifier as line {} of batch {b}",
                d.line, d.first_line
            ),
            None => format!(
                "line {}: same identifier as line {} of this file",
                d.line, d.first_line
            ),
        },
    )?;
    print_list(
        "Possible duplicates (another identifier, same name and date of birth or address; review before mailing):",
        &o.possible_duplicate_rows,
        |d| {
            let basis = if d.basis == "name_and_date_of_birth" {
                "name and date of birth"
            } else {
                "name and address"
            };
            match d.other_batch {
                Some(b) => format!(
                    "line {}: same {basis} as line {} of batch {b}",
                    d.line, d.other_line
                ),
                None => format!(
                    "line {}: same {basis} as line {} of this file",
                    d.line, d.other_line
                ),
            }
        },
    )?;
    print_list(
        "Replaced rows (this file's row replaces an earlier import's row that needed fixing):",
        &o.replaced_rows,
        |d| {
            format!(
                "line {}: replaces line {} of batch {}",
                d.line,
                d.other_line,
                d.other_batch.unwrap_or(0)
            )
        },
    )?;
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
    if !o.lowered_counts.is_empty() {
        println!("Counts this import lowers (obligations depend on them):");
        for l in &o.lowered_counts {
            println!("  {}: {} -> {}", l.count, l.before, l.after);
        }
        if !o.obligations_dropped.is_empty() {
            println!(
                "  obligations no longer required: {}",
                o.obligations_dropped.join(", ")
            );
        }
    }
    if let (Some(t), true) = (&o.roster, o.committed) {
        println!(
            "Roster of {} now: {} individuals in {} import(s); see `breachdesk roster stats {}` and `breachdesk roster issues {}`",
            o.incident, t.counts.total, t.batches, o.incident, o.incident
        );
    }
    if o.rejected > 0 && o.accepted > 0 {
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
    email: u64,
    needs_fixing: u64,
    warnings: u64,
    possible_duplicates: u64,
    rows_stored: u64,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    by_entity: std::collections::BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_fingerprint: Option<String>,
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
        email: t.email,
        needs_fixing: t.needs_fixing,
        warnings: t.warnings,
        possible_duplicates: t.possible_duplicates,
        rows_stored: t.rows_stored,
        by_entity: t
            .by_entity
            .iter()
            .map(|(k, c)| (k.clone(), c.total))
            .collect(),
        key_fingerprint: t.key_fingerprint.clone(),
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
        "  of which need fixing".to_string(),
        out.needs_fixing.to_string(),
        "fix and import again (`roster issues`)".into(),
    ]);
    tb.add_row(vec![
        "E-mail (consented)".to_string(),
        out.email.to_string(),
        "electronic notice".into(),
    ]);
    tb.add_row(vec![
        "  of which e-mail only".to_string(),
        out.email_only.to_string(),
        "no postal address".into(),
    ]);
    if out.no_state > 0 {
        tb.add_row(vec![
            "No State (no address)".to_string(),
            out.no_state.to_string(),
            String::new(),
        ]);
    }
    if out.possible_duplicates > 0 {
        tb.add_row(vec![
            "Possible duplicates".to_string(),
            out.possible_duplicates.to_string(),
            "review before mailing (`roster issues`)".into(),
        ]);
    }
    println!("{tb}");
    let mut st = table(&["State", "Individuals"]);
    for (k, v) in &out.by_state {
        st.add_row(vec![k.clone(), v.to_string()]);
    }
    println!("{st}");
    if !out.by_entity.is_empty() {
        let mut et = table(&["Covered entity", "Individuals"]);
        for (k, v) in &out.by_entity {
            et.add_row(vec![k.clone(), v.to_string()]);
        }
        println!("{et}");
    }
    match out.purged {
        Some(p) => println!(
            "Rows purged on {}: the roster's key was destroyed; counts kept.",
            p.format("%Y-%m-%d")
        ),
        None => println!("Rows stored (sealed): {}", out.rows_stored),
    }
    Ok(0)
}

#[derive(Debug, Serialize)]
struct IssueOut {
    kind: &'static str,
    batch: u32,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<String>,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_batch: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_line: Option<u64>,
}

impl From<RosterIssue> for IssueOut {
    fn from(i: RosterIssue) -> IssueOut {
        IssueOut {
            kind: i.kind.key(),
            batch: i.batch,
            line: i.line,
            field: i.field,
            column: i.column,
            reason: i.reason,
            other_batch: i.other.map(|o| o.batch),
            other_line: i.other.map(|o| o.line),
        }
    }
}

fn issues(ctx: &Ctx, a: IssuesArgs) -> Result<i32> {
    let office = ctx.open()?;
    let out_err = |e: std::io::Error| Error::io("cannot write the issues list", e);
    let mut w: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| Error::io(format!("cannot create {}", p.display()), e))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let desk = ctx.desk(&office);
    let summary = if ctx.json {
        write!(
            w,
            "{{\"format_version\":1,\"incident\":\"{}\",\"issues\":[",
            a.id
        )
        .map_err(out_err)?;
        let mut first = true;
        let sum = desk.roster_issues(&a.id, &mut |i| {
            if !first {
                w.write_all(b",").map_err(out_err)?;
            }
            first = false;
            serde_json::to_writer(&mut w, &IssueOut::from(i))
                .map_err(|e| Error::Storage(e.to_string()))?;
            Ok(true)
        })?;
        let s = serde_json::json!({
            "rejected": sum.rejected,
            "needs_fixing": sum.needs_fixing,
            "warning": sum.warning,
            "duplicate": sum.duplicate,
            "possible_duplicate": sum.possible_duplicate,
        });
        writeln!(w, "],\"summary\":{s}}}").map_err(out_err)?;
        sum
    } else {
        let mut csv = csv::Writer::from_writer(&mut w);
        csv.write_record([
            "kind",
            "batch",
            "line",
            "field",
            "column",
            "reason",
            "other_batch",
            "other_line",
        ])
        .map_err(|e| Error::Storage(e.to_string()))?;
        let sum = desk.roster_issues(&a.id, &mut |i| {
            let o = IssueOut::from(i);
            csv.write_record([
                o.kind.to_string(),
                o.batch.to_string(),
                o.line.to_string(),
                o.field.unwrap_or_default(),
                crate::letters::neutralize_formula(&o.column.unwrap_or_default()).into_owned(),
                o.reason,
                o.other_batch.map(|b| b.to_string()).unwrap_or_default(),
                o.other_line.map(|b| b.to_string()).unwrap_or_default(),
            ])
            .map_err(|e| Error::Storage(e.to_string()))?;
            Ok(true)
        })?;
        csv.flush().map_err(out_err)?;
        sum
    };
    w.flush().map_err(out_err)?;
    if !ctx.json || a.out.is_some() {
        eprintln!(
            "{}: {} rejected, {} need fixing, {} warnings, {} duplicates, {} possible duplicates{}",
            a.id,
            summary.rejected,
            summary.needs_fixing,
            summary.warning,
            summary.duplicate,
            summary.possible_duplicate,
            a.out
                .as_ref()
                .map(|p| format!(" (written to {})", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(0)
}

fn purge(ctx: &Ctx, a: PurgeArgs) -> Result<i32> {
    let id = a.id;
    if !a.yes {
        return Err(Error::invalid(format!(
            "purging destroys the names and addresses of {id}'s roster for good (counts and the audit proof are kept); confirm with --yes"
        )));
    }
    let mut office = ctx.open()?;
    let p = ctx.desk(&office).purge_roster(&id)?;
    // Space back, and no free page left holding what the purge destroyed.
    let c = office.compact()?;
    if ctx.json {
        print_json(&serde_json::json!({
            "incident": id.to_string(),
            "rows_deleted": p.rows,
            "key_fingerprint": p.key_fingerprint,
            "records_deleted": p.records_deleted,
            "file_bytes_before": c.before.file_bytes,
            "file_bytes_after": c.after.file_bytes,
        }))?;
    } else {
        match &p.key_fingerprint {
            Some(f) => println!(
                "Purged the roster of {id}: {} row(s). Its key (fingerprint {f}) was destroyed, so no copy of the rows — in this file or any backup taken from now on — can be decrypted; counts, batch records and the audit entry are kept.",
                p.rows
            ),
            None => println!(
                "Deleted {} roster row(s) of {id} (unencrypted database); counts, batch records and the audit entry are kept.",
                p.rows
            ),
        }
        print_compacted("Space given back", &c)?;
    }
    Ok(0)
}

pub fn compact(ctx: &Ctx) -> Result<i32> {
    let mut office = ctx.open()?;
    let c = office.compact()?;
    if ctx.json {
        print_json(&serde_json::json!({
            "file_bytes_before": c.before.file_bytes,
            "free_bytes_before": c.before.free_bytes,
            "file_bytes_after": c.after.file_bytes,
            "free_bytes_after": c.after.free_bytes,
        }))?;
    } else {
        print_compacted("Compacted the database", &c)?;
    }
    Ok(0)
}

fn new_passphrase(ctx: &Ctx, a: &RekeyArgs) -> Result<Secret> {
    if let Some(f) = &a.new_key_file {
        return super::context::key_file_line(f, "new key file");
    }
    if let Some(p) = &ctx.env.new_passphrase {
        return Ok(p.clone());
    }
    if ctx.env.stdin_tty && ctx.env.stderr_tty {
        return super::context::prompt_twice("New passphrase: ", "nothing was changed");
    }
    Err(Error::Key(
        "rekey needs the new passphrase: set BREACHDESK_NEW_PASSPHRASE, use --new-key-file FILE, or run on a terminal"
            .into(),
    ))
}

pub fn rekey(ctx: &Ctx, a: RekeyArgs) -> Result<i32> {
    let office = ctx.open()?;
    let req = desk::Rekey {
        allow_weak: a.allow_weak_passphrase,
        rotate: a.rotate,
    };
    let done = ctx.desk(&office).rekey(&req, || new_passphrase(ctx, &a))?;
    if done.weak {
        eprintln!(
            "warning: the new passphrase is weak (accepted with --allow-weak-passphrase; recorded in the organization record)"
        );
    }
    if ctx.json {
        print_json(&serde_json::json!({
            "rekeyed": true,
            "rotated": done.rotated,
            "incidents_resealed": done.incidents,
            "weak_passphrase": done.weak,
        }))?;
    } else if done.rotated {
        println!(
            "Passphrase changed and keys rotated: new data keys, {} incident(s) sealed again. \
             Neither the old passphrase nor a backup taken before opens anything written from now on \
             (a backup still opens what it already held with the old passphrase: destroy old backups you no longer need).",
            done.incidents
        );
    } else {
        println!(
            "Passphrase changed. The old passphrase no longer opens this file, but the data keys are unchanged: \
             a backup taken before keeps opening with the old passphrase, and so would data written from now on if copied next to it. \
             If the old passphrase may have leaked, run `breachdesk rekey --rotate`."
        );
    }
    Ok(0)
}
