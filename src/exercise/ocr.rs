//! Reader for CSV exports of the HHS OCR breach portal's public list (breaches of 500 or
//! more individuals, 45 CFR 164.408), used to seed tabletop exercises with real records.
//!
//! Columns are mapped **by position**, in the portal's order ([`COLUMNS`]); header names
//! are only checked for a known name sitting in the wrong place, so exports with
//! web-framework junk names (`javax.faces.component.UIPanel@…`) still read. The
//! Web Description column may be absent (8 columns). A UTF-8 BOM, CRLF or LF line
//! endings and newlines inside quoted fields are accepted.
//!
//! Reading streams: [`read_ocr`] checks the header and returns an [`OcrReader`] that
//! yields one `Result<OcrRecord, OcrIssue>` per data row, so one bad row never hides
//! the others. Each record and issue carries the physical line where its row starts.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use csv::{ByteRecord, ReaderBuilder, StringRecord};

use crate::domain::vocab::{BreachType, EntityType, Location, normalize_state};

/// The most an export may hold (the portal's complete list since 2009 is about 3 MiB).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The portal's columns, in export order.
pub const COLUMNS: [&str; 9] = [
    "Name of Covered Entity",
    "State",
    "Covered Entity Type",
    "Individuals Affected",
    "Breach Submission Date",
    "Type of Breach",
    "Location of Breached Information",
    "Business Associate Present",
    "Web Description",
];

const NAME: usize = 0;
const STATE: usize = 1;
const ENTITY: usize = 2;
const INDIVIDUALS: usize = 3;
const SUBMITTED: usize = 4;
const TYPES: usize = 5;
const LOCATIONS: usize = 6;
const BA: usize = 7;
const DESCRIPTION: usize = 8;

/// One row of the portal's breach list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrRecord {
    /// Physical line (1-based) where the row starts in the file.
    pub line: u64,
    /// Name of the covered entity, trimmed.
    pub name: String,
    /// Two-letter code of a State of 45 CFR 160.103; `None` when blank or not such a State.
    pub state: Option<String>,
    /// `None` when the column is blank.
    pub entity_type: Option<EntityType>,
    /// `None` when blank; thousands separators are accepted.
    pub individuals: Option<u64>,
    /// Breach submission date; `None` when blank.
    pub submitted: Option<NaiveDate>,
    /// Every comma-joined "Type of Breach" value, in order; empty when blank.
    pub types: Vec<BreachType>,
    /// Every comma-joined "Location of Breached Information" value, in order; empty when blank.
    pub locations: Vec<Location>,
    /// "Business Associate Present"; `None` when blank.
    pub ba_present: Option<bool>,
    /// OCR's web description with line endings normalised to `\n`; `None` when the column
    /// is absent, blank, or holds the SQL null marker `\N`.
    pub description: Option<String>,
}

/// A data row that could not be read; the reader carries on with the next row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, {field}: {reason}")]
pub struct OcrIssue {
    /// Physical line (1-based) where the row starts.
    pub line: u64,
    /// The column at fault (its portal name), or "row" for the row as a whole.
    pub field: &'static str,
    /// What is wrong and how to fix it.
    pub reason: String,
}

/// Errors that stop reading an export (or picking from it) altogether.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("cannot open breach export {path}: {source}; check the path and permissions")]
    Open { path: PathBuf, source: io::Error },
    #[error(
        "cannot read breach export at line {line}: {source}; the file may be truncated or unreadable, export it again from the portal"
    )]
    Read { line: u64, source: csv::Error },
    #[error("line {line} of the breach export is not valid utf-8; save the export as utf-8")]
    NotUtf8 { line: u64 },
    #[error(
        "breach export is empty: expected a header row and rows of the hhs ocr breach portal list"
    )]
    Empty,
    #[error(
        "header on line {line} has {found} columns, expected 9 (or 8 without Web Description): {expected}; export the full breach report list"
    )]
    HeaderWidth {
        line: u64,
        found: usize,
        expected: String,
    },
    #[error(
        "header on line {line}, column {position}: found another column's name where \"{expected}\" belongs; columns are read by position, so put them in the portal's order"
    )]
    HeaderOrder {
        line: u64,
        position: usize,
        found: String,
        expected: &'static str,
    },
    #[error(
        "breach export is larger than {} MiB: the portal's full list is a few MiB, so this is not an export of it; check the file", MAX_BYTES / (1024 * 1024)
    )]
    TooLarge,
    #[error(
        "line {line} of the breach export contains NUL bytes: it is a binary file, not a CSV export"
    )]
    Binary { line: u64 },
    #[error("no breach records to pick from: every row of the export was reported as an issue")]
    NoRecords,
    #[error("row {row} is out of range: give a data row from 1 to {count}")]
    RowOutOfRange { row: usize, count: usize },
    #[error("give either a row number or a seed to pick a record, not both")]
    RowAndSeed,
    #[error("give a row number or a seed to pick a record")]
    NoChoice,
}

/// Streaming reader over an export; see [`read_ocr`].
pub struct OcrReader<R: Read> {
    csv: csv::Reader<Source<R>>,
    /// Expected columns per row: 9, or 8 when Web Description is absent.
    width: usize,
    /// The first row, when it turned out to be data rather than a header.
    pending: Option<(u64, StringRecord)>,
    raw: ByteRecord,
    fatal: Option<OcrError>,
    done: bool,
}

/// Opens a reader over an export, reading and checking its first row.
///
/// The first row is a header when any cell is a portal column name or a
/// `javax.faces…` placeholder; it must then have 8 or 9 columns with no known name out
/// of place. Without a header, rows are read by position all the same.
pub fn read_ocr<R: Read>(r: R) -> Result<OcrReader<R>, OcrError> {
    let mut csv = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Source::new(r));
    let mut raw = ByteRecord::new();
    let line = match next_raw(&mut csv, &mut raw) {
        Ok(Some(line)) => line,
        Ok(None) => return Err(OcrError::Empty),
        Err(_) if csv.get_ref().tripped => return Err(OcrError::TooLarge),
        Err(source) => return Err(OcrError::Read { line: 1, source }),
    };
    if raw.as_slice().contains(&0) {
        return Err(OcrError::Binary { line });
    }
    let first =
        StringRecord::from_byte_record(raw.clone()).map_err(|_| OcrError::NotUtf8 { line })?;
    let (width, pending) = if is_header(&first) {
        check_header(&first, line)?;
        (first.len(), None)
    } else {
        (if first.len() == 8 { 8 } else { 9 }, Some((line, first)))
    };
    Ok(OcrReader {
        csv,
        width,
        pending,
        raw,
        fatal: None,
        done: false,
    })
}

impl<R: Read> OcrReader<R> {
    /// Whether rows carry the Web Description column.
    pub fn has_description(&self) -> bool {
        self.width > DESCRIPTION
    }

    /// The error that ended reading early, if any (it was also yielded as an issue).
    pub fn take_error(&mut self) -> Option<OcrError> {
        self.fatal.take()
    }
}

impl<R: Read> Iterator for OcrReader<R> {
    type Item = Result<OcrRecord, OcrIssue>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((line, first)) = self.pending.take() {
            return Some(parse_row(&first, line, self.width));
        }
        if self.done {
            return None;
        }
        match next_raw(&mut self.csv, &mut self.raw) {
            Ok(Some(line)) if self.raw.as_slice().contains(&0) => {
                // A binary file: stop rather than report every "row" of it.
                self.done = true;
                self.fatal = Some(OcrError::Binary { line });
                Some(Err(OcrIssue {
                    line,
                    field: "row",
                    reason: "contains NUL bytes: the file is not a CSV export; reading stopped"
                        .to_string(),
                }))
            }
            Ok(Some(line)) => match StringRecord::from_byte_record(self.raw.clone()) {
                Ok(record) => Some(parse_row(&record, line, self.width)),
                // The row was consumed; report it and go on with the next.
                Err(e) => Some(Err(OcrIssue {
                    line,
                    field: COLUMNS
                        .get(e.utf8_error().field())
                        .copied()
                        .unwrap_or("row"),
                    reason: "is not valid utf-8; save the export as utf-8 and read it again"
                        .to_string(),
                })),
            },
            Ok(None) => {
                self.done = true;
                None
            }
            Err(_) if self.csv.get_ref().tripped => {
                self.done = true;
                self.fatal = Some(OcrError::TooLarge);
                Some(Err(OcrIssue {
                    line: 0,
                    field: "row",
                    reason: format!(
                        "reading stopped: the export is larger than {} MiB",
                        MAX_BYTES / (1024 * 1024)
                    ),
                }))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                self.done = true;
                let issue = OcrIssue {
                    line,
                    field: "row",
                    reason: format!(
                        "reading stopped: {e}; the rest of the file was not read, export it again"
                    ),
                };
                self.fatal = Some(OcrError::Read { line, source: e });
                Some(Err(issue))
            }
        }
    }
}

/// Reads a whole export: the records, and the rows reported as issues.
pub fn parse_all(path: impl AsRef<Path>) -> Result<(Vec<OcrRecord>, Vec<OcrIssue>), OcrError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| OcrError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = read_ocr(BufReader::new(file))?;
    let mut records = Vec::new();
    let mut issues = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(r) => records.push(r),
            Err(i) => issues.push(i),
        }
    }
    match reader.take_error() {
        Some(e) => Err(e),
        None => Ok((records, issues)),
    }
}

/// Chooses a record for an exercise: by `row`, its 1-based position in `records` (the
/// file's data-row number when no row was reported as an issue), or pseudo-randomly from
/// `seed`. The same seed and records always give the same pick: the index is
/// `(splitmix64(seed) as u128 * len as u128) >> 64` (Lemire's multiply-shift reduction
/// of one [`splitmix64`] output).
pub fn pick(
    records: &[OcrRecord],
    row: Option<usize>,
    seed: Option<u64>,
) -> Result<&OcrRecord, OcrError> {
    if records.is_empty() {
        return Err(OcrError::NoRecords);
    }
    let count = records.len();
    let index = match (row, seed) {
        (Some(_), Some(_)) => return Err(OcrError::RowAndSeed),
        (None, None) => return Err(OcrError::NoChoice),
        (Some(row), None) => {
            if row == 0 || row > count {
                return Err(OcrError::RowOutOfRange { row, count });
            }
            row - 1
        }
        (None, Some(seed)) => ((u128::from(splitmix64(seed)) * count as u128) >> 64) as usize,
    };
    records.get(index).ok_or(OcrError::RowOutOfRange {
        row: index + 1,
        count,
    })
}

/// SplitMix64 (Steele, Lea and Flood 2014; Vigna's reference constants): the first
/// output of a generator whose state is `seed`.
pub fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Reads the next raw row and works out the physical line where it starts.
///
/// csv-core counts every `\n` it consumes, but a row's recorded position is taken before
/// the `\n` of a preceding CRLF and before skipped blank lines. So count back from the end
/// instead: the line reached after the row, less the newlines inside its fields, less one
/// when the row's own terminator was a `\n` (looked up in [`Source`]).
fn next_raw<R: Read>(
    csv: &mut csv::Reader<Source<R>>,
    raw: &mut ByteRecord,
) -> csv::Result<Option<u64>> {
    if !csv.read_byte_record(raw)? {
        return Ok(None);
    }
    let end = csv.position().clone();
    let inner: u64 = raw
        .iter()
        .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum();
    let own_lf = end.byte() > 0 && csv.get_mut().newline_at(end.byte() - 1);
    Ok(Some(
        end.line().saturating_sub(inner + u64::from(own_lf)).max(1),
    ))
}

fn is_header(rec: &StringRecord) -> bool {
    rec.iter().any(|cell| {
        let cell = cell.trim();
        is_junk_name(cell) || COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(cell))
    })
}

fn is_junk_name(cell: &str) -> bool {
    cell.starts_with("javax.faces.")
}

fn check_header(rec: &StringRecord, line: u64) -> Result<(), OcrError> {
    if rec.len() != COLUMNS.len() && rec.len() != COLUMNS.len() - 1 {
        return Err(OcrError::HeaderWidth {
            line,
            found: rec.len(),
            expected: COLUMNS.join(", "),
        });
    }
    for (i, cell) in rec.iter().enumerate() {
        let cell = cell.trim();
        let known = COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(cell));
        if let Some(j) = known
            && j != i
        {
            return Err(OcrError::HeaderOrder {
                line,
                position: i + 1,
                found: cell.to_string(),
                expected: COLUMNS[i],
            });
        }
    }
    Ok(())
}

/// Submission years a portal record may carry: the Breach Notification Rule took effect in
/// 2009; the upper bound only keeps seeded scenario dates in range.
const SUBMITTED_YEARS: std::ops::RangeInclusive<i32> = 2009..=2999;

fn issue(line: u64, column: usize, reason: String) -> OcrIssue {
    OcrIssue {
        line,
        field: COLUMNS[column],
        reason,
    }
}

fn parse_row(rec: &StringRecord, line: u64, width: usize) -> Result<OcrRecord, OcrIssue> {
    if rec.len() != width {
        return Err(OcrIssue {
            line,
            field: "row",
            reason: format!(
                "has {} columns, expected {width} like the header ({}); quote any value that contains a comma",
                rec.len(),
                COLUMNS[..width].join(", ")
            ),
        });
    }
    let cell = |i: usize| rec.get(i).unwrap_or("").trim();

    let name = cell(NAME);
    if name.is_empty() {
        return Err(issue(
            line,
            NAME,
            "is blank; every portal row names its covered entity".to_string(),
        ));
    }
    let state = normalize_state(cell(STATE)).map(str::to_string);

    let entity_type = match cell(ENTITY) {
        "" => None,
        s => Some(EntityType::from_label(s).ok_or_else(|| {
            issue(
                line,
                ENTITY,
                format!(
                    "is not a recognised value; use one of: {}",
                    labels(EntityType::ALL.iter().map(|v| v.label()))
                ),
            )
        })?),
    };

    let individuals = match cell(INDIVIDUALS) {
        "" => None,
        s => Some(s.replace(',', "").parse::<u64>().map_err(|_| {
            issue(
                line,
                INDIVIDUALS,
                "is not a count of individuals; give a whole number like 13055".to_string(),
            )
        })?),
    };

    let submitted = match cell(SUBMITTED) {
        "" => None,
        s => {
            let date = NaiveDate::parse_from_str(s, "%m/%d/%Y").map_err(|_| {
                issue(
                    line,
                    SUBMITTED,
                    "is not a date; give it as MM/DD/YYYY, like 04/26/2024".to_string(),
                )
            })?;
            // chrono's %Y reads any year, signed and of any width; the portal only holds
            // submissions made under the Breach Notification Rule (in force 2009-09-23).
            if !SUBMITTED_YEARS.contains(&date.year()) {
                return Err(issue(
                    line,
                    SUBMITTED,
                    format!(
                        "has year {}; the portal's submissions date from {} to {}, so check the export",
                        date.year(),
                        SUBMITTED_YEARS.start(),
                        SUBMITTED_YEARS.end()
                    ),
                ));
            }
            Some(date)
        }
    };

    let types = categories(cell(TYPES), BreachType::from_label, || {
        labels(BreachType::ALL.iter().map(|v| v.label()))
    })
    .map_err(|r| issue(line, TYPES, r))?;
    let locations = categories(cell(LOCATIONS), Location::from_label, || {
        labels(Location::ALL.iter().map(|v| v.label()))
    })
    .map_err(|r| issue(line, LOCATIONS, r))?;

    let ba = cell(BA);
    let ba_present = if ba.is_empty() {
        None
    } else if ba.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if ba.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        return Err(issue(
            line,
            BA,
            "is not a recognised value; use Yes or No".to_string(),
        ));
    };

    let description = if width > DESCRIPTION {
        clean_description(&without_controls(cell(DESCRIPTION), true))
    } else {
        None
    };

    Ok(OcrRecord {
        line,
        name: without_controls(name, false),
        state,
        entity_type,
        individuals,
        submitted,
        types,
        locations,
        ba_present,
        description,
    })
}

/// Splits a comma-joined category cell ("Loss, Theft") and maps every value; duplicates
/// are dropped, order kept.
fn categories<T: PartialEq>(
    s: &str,
    from_label: fn(&str) -> Option<T>,
    accepted: impl Fn() -> String,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v = from_label(part).ok_or_else(|| {
            format!(
                "has a value that is not recognised; use one or more, comma-separated, of: {}",
                accepted()
            )
        })?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn labels<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

/// Normalises CRLF and bare CR to LF, drops the stray backslashes some exports leave at
/// line ends (`…taken. \r\\\r\\`), and maps blank or the SQL null marker `\N` to `None`.
/// Text without control characters, which the portal's exports do carry (`\x19` where a
/// Windows typographic apostrophe was mis-encoded) and which a seeded scenario must not:
/// `\x19` becomes an apostrophe, any other control character a space (line ends stay in
/// the description).
fn without_controls(s: &str, keep_lines: bool) -> String {
    s.chars()
        .map(|c| match c {
            '\u{19}' => '\'',
            '\n' | '\r' if keep_lines => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

fn clean_description(s: &str) -> Option<String> {
    if s == "\\N" {
        return None;
    }
    let text = s.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end().trim_end_matches('\\').trim_end())
        .map(|l| l.strip_prefix('\\').unwrap_or(l))
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for l in lines {
        if l.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(l);
    }
    let out = out.trim().to_string();
    (!out.is_empty()).then_some(out)
}

/// The input as the csv reader sees it: without a leading UTF-8 byte-order mark, and
/// remembering where the `\n` bytes of the read-ahead window are.
struct Source<R> {
    inner: R,
    head: [u8; 3],
    head_len: usize,
    head_pos: usize,
    checked: bool,
    /// Bytes handed out so far.
    offset: u64,
    /// Offsets of `\n` bytes handed out and not yet asked about.
    newlines: VecDeque<u64>,
    /// Reading went past [`MAX_BYTES`].
    tripped: bool,
}

impl<R: Read> Source<R> {
    fn new(inner: R) -> Self {
        Source {
            inner,
            head: [0; 3],
            head_len: 0,
            head_pos: 0,
            checked: false,
            offset: 0,
            newlines: VecDeque::new(),
            tripped: false,
        }
    }

    /// Whether the byte at `offset` is `\n`; offsets asked must not decrease.
    fn newline_at(&mut self, offset: u64) -> bool {
        while self.newlines.front().is_some_and(|&o| o < offset) {
            self.newlines.pop_front();
        }
        self.newlines.front() == Some(&offset)
    }

    fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            while self.head_len < 3 {
                match self.inner.read(&mut self.head[self.head_len..]) {
                    Ok(0) => break,
                    Ok(n) => self.head_len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.checked = true;
            if self.head[..self.head_len] == [0xEF, 0xBB, 0xBF] {
                self.head_pos = 3;
            }
        }
        if self.head_pos < self.head_len {
            let n = (self.head_len - self.head_pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.head_pos..self.head_pos + n]);
            self.head_pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offset >= MAX_BYTES {
            self.tripped = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the export is larger than the limit",
            ));
        }
        let room = usize::try_from(MAX_BYTES - self.offset).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.read_raw(&mut buf[..want])?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' {
                self.newlines.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl From<OcrError> for crate::error::Error {
    /// A missing export is "not found" (4), an unreadable one an I/O error (8), anything
    /// about its content invalid input (3).
    fn from(e: OcrError) -> crate::error::Error {
        use crate::error::Error;
        match e {
            OcrError::Open { path, source } => {
                crate::files::read_error(&path, "breach export", source)
            }
            OcrError::Read { line, source } => match source.into_kind() {
                csv::ErrorKind::Io(io) => {
                    Error::io(format!("cannot read the breach export at line {line}"), io)
                }
                _ => Error::invalid(format!(
                    "cannot read the breach export at line {line}; export it again from the portal"
                )),
            },
            other => Error::invalid(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\"Name of Covered Entity\",\"State\",\"Covered Entity Type\",\"Individuals Affected\",\"Breach Submission Date\",\"Type of Breach\",\"Location of Breached Information\",\"Business Associate Present\",\"Web Description\"";

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ocr")
            .join(name)
    }

    fn read_str(s: &str) -> (Vec<OcrRecord>, Vec<OcrIssue>) {
        let mut records = Vec::new();
        let mut issues = Vec::new();
        for item in read_ocr(s.as_bytes()).expect("header") {
            match item {
                Ok(r) => records.push(r),
                Err(i) => issues.push(i),
            }
        }
        (records, issues)
    }

    const COMBINED: &str = "ocr_breach_report_combined_2009-2024-04.csv";
    const UI_2024: &str = "ocr_breach_report_under_investigation_2024-11.csv";
    const UI_2026: &str = "ocr_breach_report_under_investigation_2026-04.csv";

    #[test]
    fn ocr_all_three_exports_parse_completely() {
        for (file, rows) in [(COMBINED, 5371), (UI_2024, 857), (UI_2026, 702)] {
            let (records, issues) = parse_all(fixture(file)).expect(file);
            assert_eq!(records.len() + issues.len(), rows, "{file}");
            assert!(issues.is_empty(), "{file}: {issues:#?}");
            // Every row names its entity and has a submission date; lines only increase.
            assert!(records.iter().all(|r| !r.name.is_empty()));
            assert!(records.iter().all(|r| r.submitted.is_some()));
            assert!(records.windows(2).all(|w| w[0].line < w[1].line));
            assert_eq!(records[0].line, 2, "{file}");
        }
    }

    #[test]
    fn ocr_combined_export_details() {
        let (records, _) = parse_all(fixture(COMBINED)).expect("combined");
        assert!(
            records
                .iter()
                .all(|r| r.description.as_deref() != Some("\\N"))
        );
        assert!(records.iter().all(|r| {
            r.description
                .as_deref()
                .is_none_or(|d| !d.contains('\r') && !d.ends_with('\\') && d.trim() == d)
        }));
        // 305 blank, 488 SQL nulls (`\N`) and one lone pair of backslashes.
        assert_eq!(
            records.iter().filter(|r| r.description.is_none()).count(),
            794
        );
        assert!(
            records
                .iter()
                .any(|r| r.description.as_deref().is_some_and(|d| d.contains('\n')))
        );

        // The one blank Individuals Affected; line numbers counted past embedded newlines.
        let blank: Vec<_> = records.iter().filter(|r| r.individuals.is_none()).collect();
        assert_eq!(blank.len(), 1);
        assert_eq!(blank[0].name, "Valperaiso Fire Department");
        assert_eq!(blank[0].line, 5524);
        let cpsi = records
            .iter()
            .find(|r| r.name == "Computer Program and Systems, Inc. (CPSI)")
            .expect("cpsi");
        assert_eq!(cpsi.line, 6510);
        assert!(cpsi.types.is_empty(), "blank Type of Breach");
        assert_eq!(records.last().map(|r| r.line), Some(6567));

        // Multi-valued categories.
        assert!(records.iter().any(|r| r.types.len() > 1));
        assert!(records.iter().any(|r| r.locations.len() > 1));
        assert_eq!(records.iter().filter(|r| r.types.len() > 1).count(), 86);
        assert_eq!(
            records.iter().filter(|r| r.locations.len() > 1).count(),
            435
        );
        assert!(
            records
                .iter()
                .any(|r| r.types.contains(&BreachType::Unknown))
        );
        assert_eq!(
            records
                .iter()
                .filter(|r| r.entity_type == Some(EntityType::HealthcareClearingHouse))
                .count(),
            10
        );
        assert_eq!(
            records.iter().filter(|r| r.entity_type.is_none()).count(),
            5
        );
        assert_eq!(records.iter().filter(|r| r.state.is_none()).count(), 13);
        assert!(records.iter().all(|r| r.name.trim() == r.name));

        let first = &records[0];
        assert_eq!(first.name, "Bay Oral Surgery & Implant Center");
        assert_eq!(first.state.as_deref(), Some("WI"));
        assert_eq!(first.entity_type, Some(EntityType::HealthcareProvider));
        assert_eq!(first.individuals, Some(13055));
        assert_eq!(first.submitted, NaiveDate::from_ymd_opt(2024, 4, 26));
        assert_eq!(first.types, vec![BreachType::HackingItIncident]);
        assert_eq!(first.locations, vec![Location::Email]);
        assert_eq!(first.ba_present, Some(false));
        assert!(
            first
                .description
                .as_deref()
                .is_some_and(|d| d.starts_with("The covered entity (CE), Bay Oral"))
        );
    }

    #[test]
    fn ocr_change_healthcare_and_junk_header() {
        let (records, issues) = parse_all(fixture(UI_2026)).expect("2026-04");
        assert!(issues.is_empty());
        let change = records
            .iter()
            .find(|r| r.name == "Change Healthcare, Inc." && r.state.as_deref() == Some("MN"))
            .expect("change healthcare");
        assert_eq!(change.individuals, Some(192_700_000));
        assert_eq!(change.entity_type, Some(EntityType::BusinessAssociate));
        assert_eq!(change.ba_present, Some(true));
        assert_eq!(change.submitted, NaiveDate::from_ymd_opt(2024, 7, 19));
        assert_eq!(
            records.iter().filter_map(|r| r.individuals).max(),
            Some(192_700_000)
        );
        // Columns 1 and 8 have junk names; values still land by position.
        let first = &records[0];
        assert_eq!(
            first.name,
            "Virginia Department of Behavioral Health and Developmental Services"
        );
        assert_eq!(first.ba_present, Some(false));
        assert_eq!(first.description, None);
        assert!(records.iter().any(|r| r.ba_present == Some(true)));
        assert!(records.iter().any(|r| r.locations.len() > 1));

        // The 2024-11 export carries the earlier estimate for the same breach.
        let (records, _) = parse_all(fixture(UI_2024)).expect("2024-11");
        let change = records
            .iter()
            .find(|r| r.name == "Change Healthcare, Inc.")
            .expect("change healthcare");
        assert_eq!(change.individuals, Some(100_000_000));
    }

    #[test]
    fn ocr_crlf_bom_and_embedded_newlines() {
        let csv = format!(
            "\u{feff}{HEADER}\r\n\"A Clinic \",\"ca\",\"Healthcare Clearing House\",\"1,234\",\"01/02/2020\",\"Loss, Theft\",\"Laptop, Paper/Films\",\"Yes\",\"first line\r\nsecond line\r\n\r\nthird\"\r\n\"B Plan\",\"\",\"Health Plan\",\"\",\"12/31/2019\",\"Unknown\",\"Other\",\"No\",\"\\N\"\r\n\"C\",\"ZZ\",\"\",\"600\",\"03/04/2021\",\"Theft\",\"Email\",\"\",\"\"\r\n"
        );
        let (records, issues) = read_str(&csv);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(records.len(), 3);
        let a = &records[0];
        assert_eq!(a.line, 2);
        assert_eq!(a.name, "A Clinic");
        assert_eq!(a.state.as_deref(), Some("CA"));
        assert_eq!(a.entity_type, Some(EntityType::HealthcareClearingHouse));
        assert_eq!(a.individuals, Some(1234));
        assert_eq!(a.types, vec![BreachType::Loss, BreachType::Theft]);
        assert_eq!(a.locations, vec![Location::Laptop, Location::PaperFilms]);
        assert_eq!(
            a.description.as_deref(),
            Some("first line\nsecond line\n\nthird")
        );
        let b = &records[1];
        assert_eq!(b.line, 6, "after a record spanning lines 2-5");
        assert_eq!(b.state, None);
        assert_eq!(b.individuals, None);
        assert_eq!(b.types, vec![BreachType::Unknown]);
        assert_eq!(b.description, None);
        let c = &records[2];
        assert_eq!(c.line, 7);
        assert_eq!(c.state, None, "not a State of 160.103");
        assert_eq!(c.entity_type, None);
        assert_eq!(c.ba_present, None);
    }

    #[test]
    fn ocr_submission_years_outside_the_rule_are_named_and_in_range_ones_seed() {
        // A fuzzer found "01/02/0000": chrono reads it, and the seeded start, 60 days
        // earlier, fell in year -1, which TOML cannot write.
        for bad in [
            "01/02/0000",
            "01/02/-0001",
            "01/02/10000",
            "01/02/+2020",
            "12/31/2008",
        ] {
            let csv = format!(
                "{HEADER}\n\"A\",\"WI\",\"Health Plan\",\"1\",\"{bad}\",\"Theft\",\"Email\",\"No\",\"\"\n"
            );
            let (records, issues) = read_str(&csv);
            if bad == "01/02/+2020" && issues.is_empty() {
                // Some chrono versions read a signed four-digit year; it is 2020 all the same.
                assert_eq!(records[0].submitted, NaiveDate::from_ymd_opt(2020, 1, 2));
                continue;
            }
            assert!(records.is_empty(), "{bad}");
            assert_eq!(issues.len(), 1, "{bad}");
            assert_eq!(
                (issues[0].line, issues[0].field),
                (2, "Breach Submission Date")
            );
        }
        for good in ["01/01/2009", "12/31/2999"] {
            let csv = format!(
                "{HEADER}\n\"A\",\"WI\",\"Health Plan\",\"1\",\"{good}\",\"Theft\",\"Email\",\"No\",\"\"\n"
            );
            let (records, issues) = read_str(&csv);
            assert!(issues.is_empty(), "{good}: {issues:?}");
            let toml = crate::exercise::from_ocr(&records[0]);
            crate::exercise::parse_scenario(&toml, "seeded.toml").expect(good);
        }
    }

    #[test]
    fn ocr_lf_line_numbers_with_embedded_newlines() {
        let csv = format!(
            "{HEADER}\n\"A\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"x\ny\nz\"\n\"B\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"\"\n"
        );
        let (records, _) = read_str(&csv);
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 5]);

        // Blank lines between rows are skipped and counted, with either line ending.
        for nl in ["\n", "\r\n"] {
            let row =
                "\"A\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"\"";
            let csv = format!("{nl}{HEADER}{nl}{nl}{row}{nl}{nl}{nl}{row}");
            let (records, issues) = read_str(&csv);
            assert!(issues.is_empty());
            assert_eq!(
                records.iter().map(|r| r.line).collect::<Vec<_>>(),
                [4, 7],
                "{nl:?}"
            );
        }
    }

    #[test]
    fn ocr_bad_rows_are_reported_with_their_line() {
        let csv = format!(
            "{HEADER}\n\
             \"A\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\"\n\
             \"B\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft, Fire\",\"Email\",\"No\",\"\"\n\
             \"C\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Cloud\",\"No\",\"\"\n\
             \"D\",\"WI\",\"Hospital\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"\"\n\
             \"E\",\"WI\",\"Health Plan\",\"many\",\"2020-01-02\",\"Theft\",\"Email\",\"No\",\"\"\n\
             \"F\",\"WI\",\"Health Plan\",\"1\",\"2020-01-02\",\"Theft\",\"Email\",\"No\",\"\"\n\
             \"G\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"Maybe\",\"\"\n\
             \"H\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"\"\n"
        );
        let (records, issues) = read_str(&csv);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name, "H");
        assert_eq!(records[0].line, 9);
        let got: Vec<_> = issues.iter().map(|i| (i.line, i.field)).collect();
        assert_eq!(
            got,
            [
                (2, "row"),
                (3, "Type of Breach"),
                (4, "Location of Breached Information"),
                (5, "Covered Entity Type"),
                (6, "Individuals Affected"),
                (7, "Breach Submission Date"),
                (8, "Business Associate Present"),
            ]
        );
        assert!(issues[0].reason.contains("has 8 columns, expected 9"));
        // The value itself is never echoed (issue 11).
        assert!(!issues[1].reason.contains("Fire"), "{}", issues[1].reason);
        assert!(issues[1].reason.contains("Hacking/IT Incident"));
        assert!(issues[2].reason.contains("Paper/Films"));
        assert!(issues[3].reason.contains("Healthcare Clearing House"));
        assert_eq!(
            issues[1].to_string(),
            format!("line 3, Type of Breach: {}", issues[1].reason)
        );
    }

    #[test]
    fn ocr_headers() {
        // Junk names tolerated; a known name out of place is not.
        let junk = "\"javax.faces.component.UIPanel@1\",\"State\",\"x\",\"\",\"\",\"\",\"\",\"javax.faces.component.UIPanel@2\",\"Web Description\"\n\"A\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"Yes\",\"\"\n";
        let (records, _) = read_str(junk);
        assert_eq!(records[0].ba_present, Some(true));

        let swapped = HEADER.replace(
            "\"State\",\"Covered Entity Type\"",
            "\"Covered Entity Type\",\"State\"",
        );
        assert!(matches!(
            read_ocr(swapped.as_bytes()),
            Err(OcrError::HeaderOrder { position: 2, .. })
        ));
        let short = "\"Name of Covered Entity\",\"State\"\n";
        assert!(matches!(
            read_ocr(short.as_bytes()),
            Err(OcrError::HeaderWidth { found: 2, .. })
        ));
        assert!(matches!(read_ocr(&b""[..]), Err(OcrError::Empty)));

        // No Web Description column.
        let eight = "Name of Covered Entity,State,Covered Entity Type,Individuals Affected,Breach Submission Date,Type of Breach,Location of Breached Information,Business Associate Present\nA,WI,Health Plan,1,01/02/2020,Theft,Email,No\n";
        let reader = read_ocr(eight.as_bytes()).expect("eight");
        assert!(!reader.has_description());
        let records: Vec<_> = reader.collect();
        assert!(matches!(&records[..], [Ok(r)] if r.description.is_none() && r.line == 2));

        // No header at all: the first row is data.
        let (records, issues) = read_str(
            "\"A\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"\"\n",
        );
        assert!(issues.is_empty());
        assert_eq!(records[0].line, 1);
    }

    #[test]
    fn ocr_invalid_utf8_is_an_issue_not_the_end() {
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend_from_slice(b"\"A\xff\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"\"\n");
        bytes.extend_from_slice(
            b"\"B\",\"WI\",\"Health Plan\",\"1\",\"01/02/2020\",\"Theft\",\"Email\",\"No\",\"\"\n",
        );
        let items: Vec<_> = read_ocr(&bytes[..]).expect("header").collect();
        assert!(matches!(&items[0], Err(i) if i.line == 2 && i.field == "Name of Covered Entity"));
        assert!(matches!(&items[1], Ok(r) if r.name == "B" && r.line == 3));
    }

    #[test]
    fn ocr_pick_is_deterministic() {
        // Reference value of SplitMix64 seeded with 0.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        let (records, _) = parse_all(fixture(UI_2024)).expect("2024-11");
        let a = pick(&records, None, Some(42)).expect("seed");
        let b = pick(&records, None, Some(42)).expect("seed");
        assert_eq!(a, b);
        let picks: std::collections::HashSet<_> = (0..50)
            .map(|s| pick(&records, None, Some(s)).expect("seed").line)
            .collect();
        assert!(picks.len() > 40, "seeds spread over the records");
        assert_eq!(pick(&records, Some(1), None).expect("row").line, 2);
        assert_eq!(
            pick(&records, Some(857), None).expect("row").line,
            records[856].line
        );
        assert!(matches!(
            pick(&records, Some(0), None),
            Err(OcrError::RowOutOfRange { row: 0, count: 857 })
        ));
        assert!(matches!(
            pick(&records, Some(858), None),
            Err(OcrError::RowOutOfRange { .. })
        ));
        assert!(matches!(
            pick(&records, Some(1), Some(1)),
            Err(OcrError::RowAndSeed)
        ));
        assert!(matches!(
            pick(&records, None, None),
            Err(OcrError::NoChoice)
        ));
        assert!(matches!(pick(&[], None, Some(1)), Err(OcrError::NoRecords)));
    }

    #[test]
    fn ocr_parse_all_missing_file() {
        let err = parse_all("/nonexistent/breach.csv").expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("cannot open breach export /nonexistent/breach.csv")
        );
    }
}
