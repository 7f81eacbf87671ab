//! Rosters of affected individuals: import a CSV (streamed, validated row by row, sealed at
//! rest), the issues to fix before mailing, counts, purge. Nothing here returns a value from
//! a roster: reports name lines, columns, field keys and counts.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::evaluate::{Policies, evaluate};
use super::office::{Desk, counts_or_estimate};
use super::progress::Progress;
use super::records::Derived;
use crate::domain::roster::FixReason;
use crate::domain::{Counts, IncidentId, RosterRow};
use crate::error::{Error, Result};
use crate::intake::roster_csv::{
    Field, RosterError, RosterReader, RowIssue, delimiter_name, detect_column,
};
use crate::store::roster::{
    self, Batch, BatchStatus, Event, IssueKind, IssueNote, Plan, RosterTotals, RowRef, RowSource,
    SourceItem, SourceRow, Stager,
};

/// What to do when an import would lower a count that obligations depend on.
pub enum LowerCounts<'a> {
    /// Commit anyway (`--accept-lower-counts`).
    Accept,
    /// Commit nothing (a script without the flag).
    Refuse,
    /// Ask (a terminal): `true` commits.
    Ask(&'a dyn Fn(&LoweredCounts) -> bool),
}

/// `roster import`.
pub struct ImportRoster<'a> {
    pub id: IncidentId,
    /// The CSV file (a header row, then one row per individual).
    pub file: PathBuf,
    /// Columns whose header is not recognised: (column name, field).
    pub maps: Vec<(String, Field)>,
    /// The field separator; `None`: recognised from the header row.
    pub delimiter: Option<u8>,
    /// Validate and report only; write nothing.
    pub dry_run: bool,
    /// Discard an interrupted import of this incident first instead of resuming it.
    pub restart: bool,
    /// At most this many rows of each kind are listed (all are counted).
    pub report_limit: usize,
    /// Rows per sorted run (memory bound; [`roster::RUN_ROWS`] by default).
    pub run_rows: usize,
    pub lower_counts: LowerCounts<'a>,
}

/// Rows listed up to a limit and always counted.
#[derive(Debug, Clone, Default)]
pub struct Listed<T> {
    pub items: Vec<T>,
    limit: usize,
    /// How many more there were.
    pub not_listed: u64,
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

/// A listed row's line, to keep the lowest ones.
pub trait Lined {
    fn line(&self) -> u64;
}

impl<T: Lined> Listed<T> {
    /// Items arriving in no particular order: keep the `limit` lowest lines (memory stays
    /// bounded).
    fn push_lowest(&mut self, item: T) {
        self.items.push(item);
        if self.items.len() >= self.limit.saturating_mul(2).max(64) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.items.sort_by_key(|d| d.line());
        let extra = self.items.len().saturating_sub(self.limit);
        self.items.truncate(self.limit);
        self.not_listed += extra as u64;
    }
}

/// A row with the identifier of an earlier one (counted once).
#[derive(Debug, Clone)]
pub struct DuplicateRow {
    pub line: u64,
    /// Line of the first row with the same identifier.
    pub first_line: u64,
    /// Batch of that row; `None` when it is earlier in this file.
    pub first_batch: Option<u32>,
}

impl Lined for DuplicateRow {
    fn line(&self) -> u64 {
        self.line
    }
}

/// A row that resembles another identifier's (same name and date of birth, or name and
/// address), or replaces an earlier import's row that needed fixing.
#[derive(Debug, Clone)]
pub struct RelatedRow {
    pub line: u64,
    pub other_line: u64,
    /// Batch of the other row; `None` when it is in this file.
    pub other_batch: Option<u32>,
    /// `name_and_date_of_birth`, `name_and_address`, or `replaced`.
    pub basis: &'static str,
}

impl Lined for RelatedRow {
    fn line(&self) -> u64 {
        self.line
    }
}

/// A row imported but unreachable until fixed.
#[derive(Debug, Clone)]
pub struct FixRow {
    pub line: u64,
    pub field: &'static str,
    pub reason: &'static str,
}

/// A count that an import would lower, with the obligations that would then no longer be
/// required.
#[derive(Debug, Clone, Default)]
pub struct LoweredCounts {
    /// (count, before, after), e.g. ("total", 1450, 40) or ("State CA", 700, 31).
    pub counts: Vec<(String, u64, u64)>,
    /// Obligations required now and not after the import (kind and jurisdiction).
    pub obligations_dropped: Vec<String>,
}

impl LoweredCounts {
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Whether the import was committed, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Committed,
    DryRun,
    /// No row was accepted: nothing was written.
    NothingAccepted,
    /// The import would lower counts and was not confirmed: nothing was committed (the staged
    /// rows are kept, so running it again with the confirmation is quick).
    LowerCountsRefused,
}

/// What an import (or a dry run) found and did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub incident: IncidentId,
    pub file_sha256: String,
    pub outcome: ImportOutcome,
    /// The batch (committed, or staged when refused).
    pub batch: Option<u32>,
    /// An interrupted import of the same file was resumed.
    pub resumed: bool,
    /// The separator used: `comma`, `semicolon`, `tab`.
    pub delimiter: &'static str,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub needs_fixing: u64,
    /// Accepted rows with at least one warning.
    pub warned_rows: u64,
    pub possible_duplicates: u64,
    /// Rows of earlier imports that needed fixing, replaced by this file's.
    pub replaced: u64,
    /// Columns whose header was not recognised and that were ignored: (1-based, header).
    pub ignored_columns: Vec<(usize, String)>,
    /// What this file adds (per State, deceased, unreachable...).
    pub added: RosterTotals,
    /// The roster after this import (committed), or as it would be (dry run, refused).
    pub roster: Option<RosterTotals>,
    /// Counts this import lowers (or would).
    pub lowered: LoweredCounts,
    pub rejected_rows: Listed<RowIssue>,
    pub warnings: Listed<RowIssue>,
    pub needs_fixing_rows: Listed<FixRow>,
    pub duplicate_rows: Listed<DuplicateRow>,
    pub possible_duplicate_rows: Listed<RelatedRow>,
    pub replaced_rows: Listed<RelatedRow>,
    /// The import may have left much free space in the file (a discarded staging batch, or
    /// a file that grew well beyond what was written): worth measuring for compaction.
    pub may_have_freed_space: bool,
}

/// `roster stats`.
#[derive(Debug, Clone)]
pub struct RosterStats {
    pub totals: RosterTotals,
    /// The committed batches, oldest first (without their per-batch counts).
    pub batches: Vec<Batch>,
}

/// One open issue of a roster, for `roster issues`: where and why, never a value.
#[derive(Debug, Clone)]
pub struct RosterIssue {
    pub kind: IssueKind,
    pub batch: u32,
    pub line: u64,
    pub field: Option<String>,
    pub column: Option<String>,
    pub reason: String,
    /// The row this one duplicates or resembles.
    pub other: Option<RowRef>,
}

/// `roster issues`: how many of each kind.
#[derive(Debug, Clone, Default)]
pub struct IssueSummary {
    pub rejected: u64,
    pub needs_fixing: u64,
    pub warning: u64,
    pub duplicate: u64,
    pub possible_duplicate: u64,
}

/// What `roster purge` did.
#[derive(Debug, Clone)]
pub struct PurgeReport {
    pub rows: u64,
    /// Fingerprint of the destroyed roster key (encrypted databases).
    pub key_fingerprint: Option<String>,
    pub records_deleted: u64,
}

/// A missing roster is "not found" (4), an unreadable one an I/O error (8).
fn file_error(path: &Path, e: std::io::Error) -> Error {
    crate::files::read_error(path, "roster file", e)
}

fn roster_error(path: &Path, e: RosterError) -> Error {
    match e {
        // A failed read is an I/O error (8), not a problem with the file's content.
        RosterError::Io(msg) => Error::io(
            format!("cannot read the roster file {}", path.display()),
            std::io::Error::other(msg),
        ),
        other => Error::invalid(format!("{}: {other}", path.display())),
    }
}

fn note(i: &RowIssue) -> IssueNote {
    IssueNote {
        field: i.field.clone(),
        column: i.column.clone(),
        reason: i.reason.clone(),
    }
}

fn row_issue(line: u64, n: IssueNote) -> RowIssue {
    RowIssue {
        line,
        field: n.field,
        column: n.column,
        reason: n.reason,
    }
}

/// A roster CSV as the store's row source: file errors name the file.
struct CsvRows<'a, R: Read> {
    reader: &'a mut RosterReader<R>,
    path: &'a Path,
}

impl<R: Read + Send> RowSource for CsvRows<'_, R> {
    fn next_row(&mut self, row: &mut RosterRow) -> Result<Option<SourceRow>> {
        match self.reader.next_row_into(row) {
            Err(e) => Err(roster_error(self.path, e)),
            Ok(None) => Ok(None),
            Ok(Some(Err(issue))) => Ok(Some(SourceRow {
                line: issue.line,
                item: SourceItem::Rejected {
                    id: self.reader.last_id().map(str::to_string),
                    note: note(&issue),
                },
            })),
            Ok(Some(Ok(()))) => Ok(Some(SourceRow {
                line: self.reader.line(),
                item: SourceItem::Row {
                    warnings: self.reader.warnings().iter().map(note).collect(),
                },
            })),
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.bytes_read()
    }
}

/// SHA-256 of the file, which identifies it for resume and for refusing re-imports.
fn hash_file(path: &Path, progress: &dyn Progress) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| file_error(path, e))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    progress.start("checking", len, true);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| file_error(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress.add(n as u64);
    }
    progress.finish();
    let digest: [u8; 32] = h.finalize().into();
    Ok((crate::audit::entry::hex(&digest), len))
}

fn fix_text(r: FixReason) -> (&'static str, &'static str) {
    (r.field(), r.text())
}

/// The counts (among those obligations depend on) that `after` has lower than `before`.
fn lowered(before: &Counts, after: &Counts) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    let mut cmp = |name: String, b: u64, a: u64| {
        if a < b {
            out.push((name, b, a));
        }
    };
    cmp("total".into(), before.total, after.total);
    for (st, n) in &before.by_state {
        cmp(
            format!("State {st}"),
            *n,
            after.by_state.get(st).copied().unwrap_or(0),
        );
    }
    for (j, n) in &before.by_jurisdiction {
        cmp(
            format!("jurisdiction {j}"),
            *n,
            after.by_jurisdiction.get(j).copied().unwrap_or(0),
        );
    }
    cmp("unreachable".into(), before.unreachable, after.unreachable);
    cmp(
        "deceased with next of kin".into(),
        before.deceased_with_nok,
        after.deceased_with_nok,
    );
    out
}

/// The columns of a roster file's header row, with the field each is recognised as: what a
/// mapping form shows before the import. (Without a header row these are the first
/// individual's values; they are shown only to the person who uploaded the file.)
pub fn roster_columns(path: &Path) -> Result<Vec<(String, Option<Field>)>> {
    let file = File::open(path).map_err(|e| file_error(path, e))?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file);
    let mut rec = csv::ByteRecord::new();
    let got = r.read_byte_record(&mut rec).map_err(|_| {
        Error::invalid(format!(
            "{}: the first row is not readable CSV",
            path.display()
        ))
    })?;
    if !got {
        return Err(Error::invalid(format!("{} is empty", path.display())));
    }
    Ok(rec
        .iter()
        .map(|b| {
            let name = String::from_utf8_lossy(b).trim().to_string();
            let field = detect_column(&name);
            (name, field)
        })
        .collect())
}

impl Desk<'_> {
    fn ensure_incident(&self, id: &IncidentId) -> Result<()> {
        if !self.reader()?.incident_exists(id)? {
            return Err(Error::NotFound(format!(
                "no incident {id}; list incidents with `breachdesk incident list`"
            )));
        }
        Ok(())
    }

    /// Converts the incident's roster from release 0.1's format, when it still has one (needs
    /// the key; one `roster.migrate` entry). Every command that reads or writes roster rows
    /// calls this first.
    pub(super) fn roster_current(&self, id: &IncidentId) -> Result<()> {
        if self.reader()?.roster_view(id)?.legacy.is_empty() {
            return Ok(());
        }
        let codec = self.codec(true)?;
        roster::legacy::convert(self.store(), &self.actor()?, id, codec)?;
        Ok(())
    }

    /// What the incident's counts are now (the roster's, else the facts' estimates) and the
    /// obligations required with them, against `after`.
    fn lowered_by(&self, id: &IncidentId, after: &Counts) -> Result<LoweredCounts> {
        let r = self.reader()?;
        let inc = r.incident(id, self.office.no_phi())?;
        let before = counts_or_estimate(r.roster_counts(id)?, &inc);
        let counts = lowered(&before, after);
        if counts.is_empty() {
            return Ok(LoweredCounts::default());
        }
        let org = self.org()?;
        let today = self.today()?;
        let d = Derived::from(r.derived(id, self.office.no_phi())?);
        let laws = self.laws()?;
        let required = |c: &Counts| -> Vec<String> {
            evaluate(org, laws, &inc, &d, c, Policies::default(), today)
                .obligations
                .iter()
                .filter(|o| o.status.is_required())
                .map(|o| match &o.jurisdiction {
                    Some(j) => format!("{} ({j})", o.kind.key()),
                    None => o.kind.key().to_string(),
                })
                .collect()
        };
        let after_req = required(after);
        let obligations_dropped = required(&before)
            .into_iter()
            .filter(|o| !after_req.contains(o))
            .collect();
        Ok(LoweredCounts {
            counts,
            obligations_dropped,
        })
    }

    /// `roster import`: rows staged in chunks, then one audited commit (see
    /// `store::roster`); or, for a dry run, validation only. An import that accepts no row
    /// changes nothing; one that would lower a count obligations depend on commits only when
    /// `lower_counts` says so.
    pub fn import_roster(&self, a: &ImportRoster, progress: &dyn Progress) -> Result<ImportReport> {
        let id = &a.id;
        self.ensure_incident(id)?;
        let codec = self.codec(true)?;
        // The file is read twice (its SHA-256 first, to resume an interrupted import or refuse
        // a repeated one, then its rows): a pipe or a device cannot be, and /dev/zero never
        // ends.
        if a.file.exists() && !crate::files::is_regular_file(&a.file) {
            return Err(Error::invalid(format!(
                "{} is not a regular file (a pipe, standard input or a device): a roster is read twice, for its checksum and then its rows; save it to a file first and import that",
                a.file.display()
            )));
        }
        let (sha, len) = hash_file(&a.file, progress)?;
        if !a.dry_run {
            self.roster_current(id)?;
        }
        let file_before = crate::files::disk_used(self.store().path());
        let mut plan = self.reader()?.roster_plan(id, &sha)?;
        let mut discarded = matches!(plan, Plan::DiscardThenFresh { .. });
        if a.restart
            && !a.dry_run
            && let Plan::Resume(b) | Plan::DiscardThenFresh { stale: b, .. } = &plan
        {
            roster::discard_staging(self.store(), id, b.seq)?;
            discarded = true;
            plan = self.reader()?.roster_plan(id, &sha)?;
        }
        match &plan {
            Plan::AlreadyImported(b) => {
                return Err(Error::invalid(format!(
                    "{}: this file (sha256 {sha}) was already imported into {id} as batch {}; nothing was written. \
                     To revise the counts, import a file with the additional or corrected rows (rows already imported are reported as duplicates and counted once; rows that needed fixing are replaced)",
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
        if a.dry_run && matches!(plan, Plan::Resume(_)) {
            plan = Plan::Fresh { seq: 0 };
        }
        let file = File::open(&a.file).map_err(|e| file_error(&a.file, e))?;
        let mut reader = RosterReader::open(file, &a.maps, Default::default(), a.delimiter)
            .map_err(|e| roster_error(&a.file, e))?;
        let map = reader.header_map();
        let ignored_columns: Vec<(usize, String)> = (0..map.width())
            .filter(|i| map.field_at(*i).is_none())
            .map(|i| (i + 1, map.header_at(i).unwrap_or("").to_string()))
            .collect();
        let delimiter = delimiter_name(reader.delimiter());
        let mut rejected_rows = Listed::new(a.report_limit);
        let mut warnings = Listed::new(a.report_limit);
        let mut needs_fixing_rows = Listed::new(a.report_limit);
        let mut duplicate_rows = Listed::new(a.report_limit);
        let mut possible_duplicate_rows = Listed::new(a.report_limit);
        let mut replaced_rows = Listed::new(a.report_limit);
        progress.start("importing", len, true);

        let mut stager = Stager::start(
            self.store(),
            id,
            codec,
            plan,
            &sha,
            Some(delimiter.to_string()),
            self.ctx.now,
            a.dry_run,
        )?;
        let seq = stager.batch.seq;
        let phase = std::sync::atomic::AtomicU8::new(0);
        let report = |p: roster::Progress| {
            use std::sync::atomic::Ordering::Relaxed;
            match p {
                roster::Progress::Read(bytes) => progress.set(bytes),
                roster::Progress::Rescan { done, total } => {
                    if phase.swap(1, Relaxed) != 1 {
                        progress.start("re-reading the roster", total, false);
                    }
                    progress.set(done);
                }
                roster::Progress::Write { done, total } => {
                    if phase.swap(2, Relaxed) != 2 {
                        progress.start("writing", total, false);
                    }
                    progress.set(done);
                }
            }
        };
        let other_batch = |b: u32| (b != seq).then_some(b);
        let mut on_event = |e: Event| match e {
            Event::Rejected { line, note } => rejected_rows.push(row_issue(line, note)),
            Event::Warning { line, note } => warnings.push(row_issue(line, note)),
            Event::NeedsFixing { line, reason } => {
                let (field, reason) = fix_text(reason);
                needs_fixing_rows.push(FixRow {
                    line,
                    field,
                    reason,
                });
            }
            Event::Duplicate { line, first } => duplicate_rows.push_lowest(DuplicateRow {
                line,
                first_line: first.line,
                first_batch: other_batch(first.batch),
            }),
            Event::Replaced { line, old } => replaced_rows.push_lowest(RelatedRow {
                line,
                other_line: old.line,
                other_batch: Some(old.batch),
                basis: "replaced",
            }),
            Event::PossibleDuplicate { line, other, basis } => {
                possible_duplicate_rows.push_lowest(RelatedRow {
                    line,
                    other_line: other.line,
                    other_batch: other_batch(other.batch),
                    basis: if basis == 1 {
                        "name_and_date_of_birth"
                    } else {
                        "name_and_address"
                    },
                })
            }
        };
        let mut rows = CsvRows {
            reader: &mut reader,
            path: &a.file,
        };
        if let Err(e) = stager.import_rows(&mut rows, a.run_rows, &report, &mut on_event) {
            progress.finish();
            if matches!(e, Error::Invalid(_)) && !a.dry_run {
                // The file is unusable past this point: drop what was staged, so a
                // corrected file starts clean. None of it was part of the record.
                roster::discard_staging(self.store(), id, seq)?;
                return Err(Error::invalid(format!("{e}; nothing was imported")));
            }
            return Err(e);
        }
        progress.finish();
        duplicate_rows.trim();
        possible_duplicate_rows.trim();
        replaced_rows.trim();
        let preview = stager.preview()?;
        let lowered = self.lowered_by(id, &preview.counts)?;
        let b = &stager.batch;
        let mut out = ImportReport {
            incident: id.clone(),
            file_sha256: sha.clone(),
            outcome: ImportOutcome::DryRun,
            batch: None,
            resumed: stager.resumed,
            delimiter,
            rows_read: b.rows_read,
            accepted: b.accepted,
            rejected: b.rejected,
            duplicates: b.duplicates,
            needs_fixing: b.needs_fixing,
            warned_rows: b.warnings,
            possible_duplicates: b.possible_duplicates,
            replaced: b.replaced,
            ignored_columns,
            added: stager.added.clone(),
            roster: Some(preview),
            lowered,
            rejected_rows,
            warnings,
            needs_fixing_rows,
            duplicate_rows,
            possible_duplicate_rows,
            replaced_rows,
            may_have_freed_space: false,
        };
        if a.dry_run {
            return Ok(out);
        }
        if out.accepted == 0 {
            roster::discard_staging(self.store(), id, seq)?;
            out.outcome = ImportOutcome::NothingAccepted;
            out.roster = None;
            return Ok(out);
        }
        if !out.lowered.is_empty() {
            let go = match &a.lower_counts {
                LowerCounts::Accept => true,
                LowerCounts::Refuse => false,
                LowerCounts::Ask(ask) => ask(&out.lowered),
            };
            if !go {
                out.outcome = ImportOutcome::LowerCountsRefused;
                out.batch = Some(seq);
                return Ok(out);
            }
        }
        let staged = stager.staged_bytes;
        let (batch, totals) = stager.commit(&self.actor()?)?;
        out.outcome = ImportOutcome::Committed;
        // Measuring free space walks every page of the file, so it is done only when the
        // import may have freed much: a discarded staging batch, or a file that grew by
        // more than a quarter again what was written (records rewritten out of key order).
        // Disk taken, not length: redb extends the file ahead of need with holes.
        let file_after = crate::files::disk_used(self.store().path());
        let grown = file_after.saturating_sub(file_before);
        out.may_have_freed_space = may_have_freed_space(discarded, grown, staged);
        out.batch = Some(batch.seq);
        out.roster = Some(totals);
        Ok(out)
    }

    /// `roster stats`: counts per State, deceased, unreachable; needs no key.
    pub fn roster_stats(&self, id: &IncidentId) -> Result<RosterStats> {
        self.ensure_incident(id)?;
        let r = self.reader()?;
        let Some(totals) = r.roster_totals(id)? else {
            return Err(Error::NotFound(format!(
                "incident {id} has no imported roster; import one with `breachdesk roster import {id} FILE.csv`"
            )));
        };
        let batches = r
            .roster_batches(id)?
            .into_iter()
            .filter(|b| b.status == BatchStatus::Committed)
            .map(|mut b| {
                b.added = None;
                b.removed = None;
                b
            })
            .collect();
        Ok(RosterStats { totals, batches })
    }

    /// `roster issues`: every open issue (rows to fix and import again, warnings, duplicates,
    /// possible duplicates), in batch and line order; needs no key (issues hold no values).
    pub fn roster_issues(
        &self,
        id: &IncidentId,
        f: &mut dyn FnMut(RosterIssue) -> Result<bool>,
    ) -> Result<IssueSummary> {
        self.ensure_incident(id)?;
        let r = self.reader()?;
        if r.roster_totals(id)?.is_none() {
            return Err(Error::NotFound(format!(
                "incident {id} has no imported roster; import one with `breachdesk roster import {id} FILE.csv`"
            )));
        }
        let view = r.roster_view(id)?;
        let mut sum = IssueSummary::default();
        roster::read::for_each_issue(&r, id, &view, &mut |i| {
            match i.record.kind {
                IssueKind::Rejected => sum.rejected += 1,
                IssueKind::NeedsFixing => sum.needs_fixing += 1,
                IssueKind::Warning => sum.warning += 1,
                IssueKind::Duplicate => sum.duplicate += 1,
                IssueKind::PossibleDuplicate => sum.possible_duplicate += 1,
            }
            f(RosterIssue {
                kind: i.record.kind,
                batch: i.batch,
                line: i.record.line,
                field: i.record.field,
                column: i.record.column,
                reason: i.record.reason,
                other: i.record.other,
            })
        })?;
        Ok(sum)
    }

    /// `roster purge`: destroys the roster's key (crypto-shredding) in one audited
    /// transaction, then deletes the unreadable rows; counts, batch records and the audit
    /// proof stay. Checks the passphrase (the roster key must open) before deleting anything.
    pub fn purge_roster(&self, id: &IncidentId) -> Result<PurgeReport> {
        self.ensure_incident(id)?;
        let codec = self.codec(true)?;
        self.roster_current(id)?;
        let p = roster::purge(self.store(), &self.actor()?, id, codec)?;
        Ok(PurgeReport {
            rows: p.rows,
            key_fingerprint: p.key_fingerprint,
            records_deleted: p.records_deleted,
        })
    }
}

/// Whether a committed import may have left much free space in the file: it discarded a
/// staging batch, or the file took more disk than a quarter again what the import wrote
/// (plus 16 MiB for the B-tree's own pages): records rewritten out of key order.
fn may_have_freed_space(discarded: bool, grown: u64, staged: u64) -> bool {
    discarded || grown > staged + staged / 4 + (16 << 20)
}

#[cfg(test)]
mod freed_space_tests {
    use super::may_have_freed_space;

    #[test]
    fn free_space_is_measured_only_when_an_import_may_have_freed_much() {
        const MIB: u64 = 1 << 20;
        // A fresh import of 1 M rows: about as much disk as written.
        assert!(!may_have_freed_space(false, 130 * MIB, 120 * MIB));
        // Records written out of key order (many duplicates): the file grew twice as much.
        assert!(may_have_freed_space(false, 272 * MIB, 150 * MIB));
        // A discarded interrupted import, whatever the growth.
        assert!(may_have_freed_space(true, 0, 0));
        // Small imports never trigger it by growth alone.
        assert!(!may_have_freed_space(false, 10 * MIB, MIB));
    }
}
