//! Rosters of affected individuals: import a CSV (streamed, validated row by row, sealed at
//! rest), counts, purge. Nothing here returns a value from a roster: reports name lines,
//! field keys and counts.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::office::Desk;
use super::progress::Progress;
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::intake::roster_csv::{Field, RosterError, RosterReader, RowIssue};
use crate::store::roster::{
    self, Batch, BatchStatus, Event, Outcome, Plan, RosterTotals, RowSource, SourceRow, Stager,
};

/// `roster import`.
#[derive(Debug, Clone)]
pub struct ImportRoster {
    pub id: IncidentId,
    /// The CSV file (a header row, then one row per individual).
    pub file: PathBuf,
    /// Columns whose header is not recognised: (column name, field).
    pub maps: Vec<(String, Field)>,
    /// Validate and report only; write nothing.
    pub dry_run: bool,
    /// At most this many rejected and duplicate rows are listed (all are counted).
    pub report_limit: usize,
    /// Rows per sorted run (memory bound; [`roster::RUN_ROWS`] by default).
    pub run_rows: usize,
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

impl Listed<DuplicateRow> {
    /// Duplicates arrive in key order: keep the `limit` lowest lines (memory stays bounded).
    fn push_lowest(&mut self, item: DuplicateRow) {
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

/// A row with the identifier of an earlier one (counted once).
#[derive(Debug, Clone)]
pub struct DuplicateRow {
    pub line: u64,
    /// Line of the first row with the same identifier.
    pub first_line: u64,
    /// Batch of that row; `None` when it is earlier in this file.
    pub first_batch: Option<u32>,
}

/// What an import (or a dry run) found and did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub incident: IncidentId,
    pub file_sha256: String,
    pub dry_run: bool,
    /// The committed batch (not for a dry run).
    pub batch: Option<u32>,
    /// An interrupted import of the same file was resumed.
    pub resumed: bool,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Columns (1-based) whose header was not recognised and that were ignored.
    pub ignored_columns: Vec<usize>,
    /// What this file adds (per State, deceased, unreachable...).
    pub added: RosterTotals,
    /// The roster after this import (not for a dry run).
    pub roster: Option<RosterTotals>,
    pub rejected_rows: Listed<RowIssue>,
    pub duplicate_rows: Listed<DuplicateRow>,
}

/// `roster stats`.
#[derive(Debug, Clone)]
pub struct RosterStats {
    pub totals: RosterTotals,
    /// The committed batches, oldest first (without their per-batch counts).
    pub batches: Vec<Batch>,
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

/// A roster CSV as the store's row source: file errors name the file.
struct CsvRows<'a, R: Read> {
    reader: &'a mut RosterReader<R>,
    path: &'a Path,
}

impl<R: Read + Send> RowSource for CsvRows<'_, R> {
    type Issue = RowIssue;

    fn next_row(&mut self) -> Result<Option<SourceRow<RowIssue>>> {
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

impl Desk<'_> {
    fn ensure_incident(&self, id: &IncidentId) -> Result<()> {
        if !self.reader()?.incident_exists(id)? {
            return Err(Error::NotFound(format!(
                "no incident {id}; list incidents with `breachdesk incident list`"
            )));
        }
        Ok(())
    }

    /// `roster import`: rows staged in chunks, then one audited commit (see
    /// `store::roster`); or, for a dry run, validation only.
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
        let plan = self.reader()?.roster_plan(id, &sha)?;
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
        let mut reader = RosterReader::new(file, &a.maps).map_err(|e| roster_error(&a.file, e))?;
        let ignored_columns: Vec<usize> = (0..reader.header_map().width())
            .filter(|i| reader.header_map().field_at(*i).is_none())
            .map(|i| i + 1)
            .collect();
        let mut rejected_rows = Listed::new(a.report_limit);
        let mut duplicate_rows = Listed::new(a.report_limit);
        progress.start("importing", len, true);
        let mut since_tick = 0u32;

        let mut out = ImportReport {
            incident: id.clone(),
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
            let mut dry = roster::DryRun::new(self.store(), id, codec)?;
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
                                duplicate_rows.push(DuplicateRow {
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
                    progress.set(reader.bytes_read());
                }
            }
            progress.finish();
            out.added = dry.added;
        } else {
            let mut stager = Stager::start(self.store(), id, codec, plan, &sha, self.ctx.now)?;
            let seq = stager.batch.seq;
            let writing = std::sync::atomic::AtomicBool::new(false);
            let report = |p: roster::Progress| match p {
                roster::Progress::Read(bytes) => progress.set(bytes),
                roster::Progress::Write { done, total } => {
                    if !writing.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        progress.start("writing", total, false);
                    }
                    progress.set(done);
                }
            };
            let mut on_event = |e: Event<RowIssue>| match e {
                Event::Rejected(issue) => rejected_rows.push(issue),
                Event::Duplicate {
                    line,
                    first_batch,
                    first_line,
                } => duplicate_rows.push_lowest(DuplicateRow {
                    line,
                    first_line,
                    first_batch: (first_batch != seq).then_some(first_batch),
                }),
            };
            let mut rows = CsvRows {
                reader: &mut reader,
                path: &a.file,
            };
            if let Err(e) = stager.import_rows(&mut rows, a.run_rows, &report, &mut on_event) {
                progress.finish();
                if matches!(e, Error::Invalid(_)) {
                    // The file is unusable past this point: drop what was staged, so a
                    // corrected file starts clean. None of it was part of the record.
                    roster::discard_staging(self.store(), id, seq)?;
                    return Err(Error::invalid(format!("{e}; nothing was imported")));
                }
                return Err(e);
            }
            progress.finish();
            out.resumed = stager.resumed;
            let (batch, totals) = stager.commit(&self.actor()?)?;
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
                b
            })
            .collect();
        Ok(RosterStats { totals, batches })
    }

    /// `roster purge`: deletes the rows (names, addresses) for good; counts, batch records
    /// and the audit proof stay. Returns how many rows were deleted.
    pub fn purge_roster(&self, id: &IncidentId) -> Result<u64> {
        self.ensure_incident(id)?;
        roster::purge(self.store(), &self.actor()?, id)
    }
}
