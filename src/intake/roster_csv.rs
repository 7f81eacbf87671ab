//! Streaming reader for the roster of affected individuals, as exported to CSV by an EHR,
//! a claims system or a forensic vendor.
//!
//! The file is never held in memory: the `csv` crate buffers one record at a time, and a
//! record larger than [`RosterOptions::max_record_bytes`] (an unclosed quotation mark, say)
//! stops the import instead of swallowing the rest of the file. Fields are read as bytes,
//! so a field that is not UTF-8 is reported with its line and column instead of aborting.
//!
//! * Fatal problems (I/O, header) are [`RosterError`]s; problems with one row are
//!   [`RowIssue`]s and the import goes on.
//! * Neither ever contains a value from the file: they name the line, the field key and
//!   what is wrong. Only [`HeaderMap::ignored`] echoes column names from the header row.
//! * Lines are 1-based physical lines, the header being line 1 (when the file does not start
//!   with blank lines); a record with a quoted multi-line field is reported at the line where
//!   it starts. Files may use LF or CRLF line endings; classic-Mac CR-only files are refused.
//! * A leading UTF-8 byte-order mark is ignored. Rows whose fields are all blank are skipped.

use std::fmt;
use std::io::{self, Read};

use csv::{ByteRecord, ReaderBuilder, Terminator};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::vocab::normalize_state;

/// Default limit on one field: 1 MiB.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 1_048_576;
/// Default limit on one record (all its fields and quoting): 8 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 8 * 1_048_576;
/// Read buffer of the CSV parser; also the slack allowed over the record limit.
const BUFFER_CAPACITY: usize = 64 * 1024;

macro_rules! fields {
    ($($variant:ident => $key:literal, [$($alias:literal),* $(,)?];)+) => {
        /// A roster column breachdesk understands.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Field { $($variant,)+ }

        impl Field {
            pub const ALL: &'static [Field] = &[$(Field::$variant,)+];

            /// The snake_case key, as used by `--map COLUMN=KEY`.
            pub fn key(self) -> &'static str {
                match self { $(Field::$variant => $key,)+ }
            }

            /// Header spellings recognised for this field (compared ignoring case, spaces,
            /// underscores and hyphens; the key itself is always recognised too).
            pub fn aliases(self) -> &'static [&'static str] {
                match self { $(Field::$variant => &[$($alias),*],)+ }
            }
        }
    };
}

fields! {
    Id => "id", ["id", "patient_id", "member_id", "mrn", "identifier", "record_id",
        "subscriber_id", "patient id", "person id", "individual id", "account number",
        "medical record number"];
    FirstName => "first_name", ["first", "first name", "given name", "fname", "forename",
        "patient first name", "member first name"];
    LastName => "last_name", ["last", "last name", "surname", "family name", "lname",
        "patient last name", "member last name"];
    FullName => "full_name", ["name", "full name", "patient name", "member name",
        "individual name"];
    Address1 => "address1", ["address", "address1", "street", "address line 1",
        "street address", "addr1", "mailing address", "address 1"];
    Address2 => "address2", ["address2", "address line 2", "addr2", "address 2",
        "apartment", "apt", "suite", "unit"];
    City => "city", ["city", "town", "municipality"];
    State => "state", ["state", "st", "state/province", "region", "state code", "province"];
    Zip => "zip", ["zip", "zip code", "postal code", "zipcode", "postcode", "zip5", "postal"];
    Email => "email", ["email", "email address", "e-mail address", "mail"];
    EmailConsent => "email_consent", ["email_consent", "email opt in", "e-notice consent",
        "consent_email", "email optin", "electronic notice consent", "email consent"];
    Phone => "phone", ["phone", "telephone", "phone number", "tel", "mobile", "cell",
        "home phone"];
    Deceased => "deceased", ["deceased", "is_deceased", "date of death", "dod",
        "death date", "deceased date", "deceased flag"];
    NokName => "nok_name", ["next of kin", "nok name", "personal representative", "nok",
        "next of kin name", "nok_name"];
    NokAddress => "nok_address", ["nok address", "next of kin address", "nok address1",
        "nok street"];
    NokCity => "nok_city", ["nok city", "next of kin city"];
    NokState => "nok_state", ["nok state", "next of kin state"];
    NokZip => "nok_zip", ["nok zip", "next of kin zip", "nok postal code", "nok zip code"];
    Minor => "minor", ["minor", "is_minor", "under 18", "is minor", "minor flag"];
    RepresentativeName => "representative_name", ["representative", "representative name",
        "guardian", "guardian name", "parent/guardian", "parent or guardian",
        "authorized representative", "parent name"];
    DateOfBirth => "date_of_birth", ["dob", "date of birth", "birth date", "birthdate",
        "d.o.b.", "patient dob", "member dob", "patient date of birth"];
    CoveredEntity => "covered_entity", ["covered entity", "covered entity name", "ce name",
        "client", "client name", "entity", "entity name", "covered_entity_name"];
    CreditMonitoringCode => "credit_monitoring_code", ["credit monitoring code",
        "activation code", "enrollment code", "credit monitoring activation code",
        "monitoring code", "redemption code"];
}

impl Field {
    /// Parses a field key (`first_name`) or any recognised alias.
    pub fn from_key(s: &str) -> Option<Field> {
        detect_field(&normalize_header(s))
    }

    /// The keys, for error and help messages.
    pub fn accepted_keys() -> String {
        Field::ALL
            .iter()
            .map(|f| f.key())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Lowercase, without spaces, underscores and hyphens, trimmed of a byte-order mark.
fn normalize_header(s: &str) -> String {
    s.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Fatal problems: the import cannot go on. Messages never contain values from rows.
#[derive(Debug, Error)]
pub enum RosterError {
    #[error(
        "the file is empty: expected a header row naming the columns (at least an id column), \
         then one row per affected individual"
    )]
    Empty,
    #[error(
        "the header has no id column (accepted names: {aliases}); name the column that \
         identifies each individual with --map COLUMN=id"
    )]
    MissingId { aliases: String },
    #[error(
        "--map names column \"{column}\", which is not in the header; check the spelling \
         (matching ignores case, spaces, underscores and hyphens)"
    )]
    OverrideColumnNotFound { column: String },
    #[error(
        "--map names column \"{column}\", which matches {count} columns of the header; \
         rename the duplicate columns in the file"
    )]
    AmbiguousOverride { column: String, count: usize },
    #[error("--map maps more than one column to {field}; map each field to one column only")]
    DuplicateOverride { field: Field },
    #[error("--map names column \"{column}\" more than once; map each column to one field")]
    DuplicateOverrideColumn { column: String },
    #[error("columns {columns} all look like {field}; choose one with --map COLUMN={field}")]
    DuplicateField { field: Field, columns: String },
    #[error(
        "the header has address columns but no state column; a State is needed for the \
         notification counts: add a state column, or name it with --map COLUMN=state"
    )]
    MissingState,
    #[error(
        "the file uses carriage-return-only (classic Mac) line endings; save it again \
         with Windows (CRLF) or Unix (LF) line endings"
    )]
    CarriageReturnLineEndings,
    #[error(
        "the row starting at line {line} (or just after) runs past {limit} bytes{}",
        if *quoted {
            ": a quotation mark is probably not closed, so everything after it reads as one \
             field; close the quotation mark in the file"
        } else {
            " without a line break: no roster row is that long, so this is not a CSV roster \
             export or one field is damaged; check the file"
        }
    )]
    RecordTooLarge {
        line: u64,
        limit: usize,
        /// A quotation mark was read within the row (an unclosed quote is the likely cause).
        quoted: bool,
    },
    #[error(
        "line {line} contains NUL bytes: this is a binary file (or a damaged export), not a CSV \
         text file; export the roster as CSV (UTF-8)"
    )]
    Binary { line: u64 },
    #[error(
        "the header row (line 1) is not UTF-8 text: this is a binary file or an export in another \
         encoding; export the roster as CSV (UTF-8)"
    )]
    HeaderNotText,
    #[error(
        "--delimiter {given} was given, but the header row has no {given} outside quotes and \
         looks {found}-separated; drop --delimiter to have the separator recognised"
    )]
    WrongDelimiter {
        given: &'static str,
        found: &'static str,
    },
    #[error("could not read the roster file: {0}; check that the file is readable")]
    Io(String),
}

/// A problem with one row: the row is rejected and the import goes on, or (a warning,
/// [`RosterReader::warnings`]) the row is imported without the doubtful value. `reason`
/// never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowIssue {
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// Field key (`state`, `zip`...), when the problem is with one field.
    pub field: Option<String>,
    /// The header of the field's column, as the file names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match (&self.field, &self.column) {
            // The column named by its header when the header is not the field's own key.
            (Some(field), Some(col)) if normalize_header(col) != normalize_header(field) => {
                write!(f, "{field} (column \"{col}\"): ")?
            }
            (Some(field), _) => write!(f, "{field}: ")?,
            (None, _) => {}
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RowIssue {}

/// Which column holds which [`Field`], built from the header row and `--map` overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    columns: Vec<Option<Field>>,
    /// Every column's header, trimmed, control characters removed, at most 80 characters.
    names: Vec<String>,
    ignored: Vec<String>,
}

impl HeaderMap {
    /// Recognises columns by alias, then applies overrides (`column name`, field): an
    /// override wins over a recognised alias, and a column auto-detected as an overridden
    /// field is ignored. Unknown columns are ignored and listed in [`HeaderMap::ignored`].
    pub fn build(
        headers: &ByteRecord,
        overrides: &[(String, Field)],
    ) -> Result<HeaderMap, RosterError> {
        let names: Vec<String> = (0..headers.len())
            .map(|i| {
                let raw = field_bytes(headers, i);
                String::from_utf8_lossy(raw)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(80)
                    .collect()
            })
            .collect();
        let normalized: Vec<String> = names.iter().map(|n| normalize_header(n)).collect();
        let mut columns: Vec<Option<Field>> = normalized.iter().map(|n| detect_field(n)).collect();

        let mut overridden: Vec<Field> = Vec::new();
        let mut forced: Vec<(usize, Field)> = Vec::new();
        for (column, field) in overrides {
            if overridden.contains(field) {
                return Err(RosterError::DuplicateOverride { field: *field });
            }
            overridden.push(*field);
            let want = normalize_header(column);
            let hits: Vec<usize> = normalized
                .iter()
                .enumerate()
                .filter(|(_, n)| **n == want)
                .map(|(i, _)| i)
                .collect();
            match hits.as_slice() {
                [] => {
                    return Err(RosterError::OverrideColumnNotFound {
                        column: column.clone(),
                    });
                }
                [i] => forced.push((*i, *field)),
                _ => {
                    return Err(RosterError::AmbiguousOverride {
                        column: column.clone(),
                        count: hits.len(),
                    });
                }
            }
        }
        for slot in columns.iter_mut() {
            if slot.is_some_and(|f| overridden.contains(&f)) {
                *slot = None;
            }
        }
        for (n, (i, field)) in forced.iter().enumerate() {
            if forced[..n].iter().any(|(j, _)| j == i) {
                return Err(RosterError::DuplicateOverrideColumn {
                    column: overrides[n].0.clone(),
                });
            }
            columns[*i] = Some(*field);
        }

        for field in Field::ALL {
            let cols: Vec<usize> = columns
                .iter()
                .enumerate()
                .filter(|(_, f)| **f == Some(*field))
                .map(|(i, _)| i)
                .collect();
            if cols.len() > 1 {
                let list = cols
                    .iter()
                    .map(|i| format!("\"{}\"", names[*i]))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(RosterError::DuplicateField {
                    field: *field,
                    columns: list,
                });
            }
        }
        let has = |f: Field| columns.contains(&Some(f));
        if !has(Field::Id) {
            let mut aliases = vec![Field::Id.key()];
            aliases.extend(Field::Id.aliases().iter().filter(|a| **a != "id"));
            return Err(RosterError::MissingId {
                aliases: aliases.join(", "),
            });
        }
        if !has(Field::State)
            && [Field::Address1, Field::City, Field::Zip]
                .into_iter()
                .any(has)
        {
            return Err(RosterError::MissingState);
        }
        let ignored = columns
            .iter()
            .zip(&names)
            .filter(|(f, _)| f.is_none())
            .map(|(_, n)| n.clone())
            .collect();
        Ok(HeaderMap {
            columns,
            names,
            ignored,
        })
    }

    /// The header of the column holding `field`, as the file names it.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        self.column_of(field)
            .and_then(|i| self.names.get(i))
            .map(String::as_str)
    }

    /// The header of column `index` (0-based).
    pub fn header_at(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    /// Number of columns in the header.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// The field held by column `index` (0-based), if any.
    pub fn field_at(&self, index: usize) -> Option<Field> {
        self.columns.get(index).copied().flatten()
    }

    /// The column (0-based) holding `field`, if any.
    pub fn column_of(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|f| *f == Some(field))
    }

    /// Names of the columns that were not recognised, in file order (from the header row,
    /// which has a recognised identifier column, so it is a header and not a person's data).
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }
}

/// Every normalised spelling and its field, in [`Field::ALL`] order (the first field that
/// claims a spelling wins). Built once: a header of thousands of columns used to normalise
/// every alias again for every column.
static SPELLINGS: std::sync::LazyLock<Vec<(String, Field)>> = std::sync::LazyLock::new(|| {
    Field::ALL
        .iter()
        .flat_map(|f| {
            std::iter::once(normalize_header(f.key()))
                .chain(f.aliases().iter().map(|a| normalize_header(a)))
                .map(move |n| (n, *f))
        })
        .collect()
});

/// The field a header name is recognised as (the aliases `roster import` uses), if any.
pub fn detect_column(name: &str) -> Option<Field> {
    detect_field(&normalize_header(name))
}

fn detect_field(normalized: &str) -> Option<Field> {
    if normalized.is_empty() {
        return None;
    }
    SPELLINGS
        .iter()
        .find(|(n, _)| n == normalized)
        .map(|(_, f)| *f)
}

pub use crate::domain::roster::{RosterRow, is_valid_zip, looks_like_email};

/// Limits on row size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterOptions {
    /// A mapped field longer than this is a [`RowIssue`].
    pub max_field_bytes: usize,
    /// A record longer than this (roughly) is a fatal [`RosterError::RecordTooLarge`]:
    /// it bounds memory when a quotation mark is never closed.
    pub max_record_bytes: usize,
}

impl Default for RosterOptions {
    fn default() -> Self {
        RosterOptions {
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

/// Counts bytes for progress, refuses to read past a limit (bounding one record), and
/// appends a final newline when the file lacks one (so every record ends with `\n`, which
/// keeps line numbers exact).
struct CountingReader<R> {
    inner: R,
    bytes: u64,
    limit: u64,
    tripped: bool,
    last: Option<u8>,
    finished: bool,
    /// Byte offset of the last quotation mark read.
    last_quote: Option<u64>,
    /// The start of the file, read ahead to recognise the separator, served first.
    head: Vec<u8>,
    head_pos: usize,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished || buf.is_empty() {
            return Ok(0);
        }
        if self.head_pos < self.head.len() {
            // Counted when it was read ahead.
            let n = (self.head.len() - self.head_pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.head_pos..self.head_pos + n]);
            self.head_pos += n;
            self.last = Some(buf[n - 1]);
            if self.head_pos == self.head.len() {
                self.head = Vec::new();
                self.head_pos = 0;
            }
            return Ok(n);
        }
        if self.bytes >= self.limit {
            self.tripped = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "row size limit exceeded",
            ));
        }
        let room = usize::try_from(self.limit - self.bytes).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            self.finished = true;
            if self.last.is_some_and(|b| b != b'\n') {
                buf[0] = b'\n';
                return Ok(1);
            }
            return Ok(0);
        }
        if let Some(p) = buf[..n].iter().rposition(|b| *b == b'"') {
            self.last_quote = Some(self.bytes + p as u64);
        }
        self.bytes += n as u64;
        self.last = Some(buf[n - 1]);
        Ok(n)
    }
}

/// Streams [`RosterRow`]s from a CSV file.
///
/// ```no_run
/// # use breachdesk::intake::roster_csv::*;
/// # fn main() -> Result<(), RosterError> {
/// let file = std::fs::File::open("roster.csv").map_err(|e| RosterError::Io(e.to_string()))?;
/// let mut rows = RosterReader::new(file, &[])?;
/// while let Some(row) = rows.next_row()? {
///     match row {
///         Ok(person) => { /* store it */ }
///         Err(issue) => eprintln!("{issue}"),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct RosterReader<R: Read> {
    csv: csv::Reader<CountingReader<R>>,
    map: HeaderMap,
    options: RosterOptions,
    delimiter: u8,
    /// Warnings about the row last returned (it was imported without the doubtful value).
    warnings: Vec<RowIssue>,
    /// The identifier of the row last read, when it could be read (for a rejected row).
    last_id: Option<String>,
    record: ByteRecord,
    /// Line where the last record read ended (its terminating newline).
    last_end_line: u64,
    /// Line where the last record returned by `next_row` started.
    line: u64,
    done: bool,
}

impl<R: Read> fmt::Debug for RosterReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosterReader")
            .field("map", &self.map)
            .field("options", &self.options)
            .field("bytes_read", &self.bytes_read())
            .finish_non_exhaustive()
    }
}

impl<R: Read> RosterReader<R> {
    /// Reads the header row and builds the [`HeaderMap`] with default limits.
    pub fn new(inner: R, overrides: &[(String, Field)]) -> Result<RosterReader<R>, RosterError> {
        Self::with_options(inner, overrides, RosterOptions::default())
    }

    /// Like [`RosterReader::new`] with explicit limits.
    pub fn with_options(
        inner: R,
        overrides: &[(String, Field)],
        options: RosterOptions,
    ) -> Result<RosterReader<R>, RosterError> {
        Self::open(inner, overrides, options, None)
    }

    /// Like [`RosterReader::with_options`], with the field separator given (`,` `;` or tab)
    /// instead of recognised from the header row.
    pub fn open(
        mut inner: R,
        overrides: &[(String, Field)],
        options: RosterOptions,
        delimiter: Option<u8>,
    ) -> Result<RosterReader<R>, RosterError> {
        // Read the header line ahead (at most 64 KiB) to recognise the separator.
        let mut head = Vec::new();
        let mut chunk = [0u8; 8192];
        while head.len() < SNIFF_BYTES && !head.contains(&b'\n') {
            let n =
                read_retry(&mut inner, &mut chunk).map_err(|e| RosterError::Io(e.to_string()))?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&chunk[..n]);
        }
        let sniffed = sniff_delimiter(&head);
        let delimiter = match delimiter {
            Some(d) => {
                if d != sniffed && count_outside_quotes(first_line(&head), d) == 0 {
                    return Err(RosterError::WrongDelimiter {
                        given: delimiter_name(d),
                        found: delimiter_name(sniffed),
                    });
                }
                d
            }
            None => sniffed,
        };
        let counting = CountingReader {
            inner,
            bytes: head.len() as u64,
            limit: 0,
            tripped: false,
            last: None,
            finished: false,
            // Offsets count from the start of the file, which the read-ahead holds.
            last_quote: head.iter().rposition(|b| *b == b'"').map(|p| p as u64),
            head,
            head_pos: 0,
        };
        let csv = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .terminator(Terminator::Any(b'\n'))
            .buffer_capacity(BUFFER_CAPACITY)
            .from_reader(counting);
        let mut reader = RosterReader {
            csv,
            map: HeaderMap {
                columns: Vec::new(),
                names: Vec::new(),
                ignored: Vec::new(),
            },
            options,
            delimiter,
            warnings: Vec::new(),
            last_id: None,
            record: ByteRecord::new(),
            last_end_line: 0,
            line: 0,
            done: false,
        };
        let Some(_line) = reader.read_record()? else {
            return Err(RosterError::Empty);
        };
        let header = &reader.record;
        // A binary file's first "row" is not text; say so rather than guess at line endings.
        if header.as_slice().contains(&0)
            || header
                .as_slice()
                .iter()
                .any(|b| b.is_ascii_control() && !matches!(b, b'\t' | b'\r' | b'\n'))
        {
            return Err(RosterError::Binary { line: 1 });
        }
        if std::str::from_utf8(header.as_slice()).is_err() {
            return Err(RosterError::HeaderNotText);
        }
        let has_inner_cr = (0..header.len()).any(|i| field_bytes(header, i).contains(&b'\r'));
        if has_inner_cr {
            return Err(RosterError::CarriageReturnLineEndings);
        }
        reader.map = HeaderMap::build(header, overrides)?;
        Ok(reader)
    }

    /// The column mapping in use.
    pub fn header_map(&self) -> &HeaderMap {
        &self.map
    }

    /// The field separator in use (recognised from the header row, or given).
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Warnings about the row last returned by [`RosterReader::next_row`]: values it was
    /// imported without (a ZIP that is not one, an e-mail address that is not one, a date
    /// of birth that cannot be read, …). Empty for a rejected row.
    pub fn warnings(&self) -> &[RowIssue] {
        &self.warnings
    }

    /// The identifier of the row last read, when it could be read (also for a rejected row,
    /// so a caller can recognise the row when it is imported again fixed). Never print it.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Bytes read from the underlying reader so far (for a progress bar; runs at most one
    /// read buffer ahead of the rows returned).
    pub fn bytes_read(&self) -> u64 {
        self.csv.get_ref().bytes
    }

    /// The 1-based line where the row last returned by [`RosterReader::next_row`] starts
    /// (the same numbering as [`RowIssue::line`]); 0 before the first row.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The next row: `Ok(None)` at the end, `Ok(Some(Err(issue)))` for a rejected row,
    /// `Err` for a fatal problem (after which the reader returns `Ok(None)`).
    pub fn next_row(&mut self) -> Result<Option<Result<RosterRow, RowIssue>>, RosterError> {
        if self.done {
            return Ok(None);
        }
        match self.read_record() {
            Ok(Some(line)) => {
                let mut row = RosterRow::default();
                Ok(Some(self.parse_line(line, &mut row).map(|()| row)))
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Like [`RosterReader::next_row`], but fills `row` in place (its strings' buffers are
    /// reused: no allocation per row for a bulk import). On a rejected row `row` holds
    /// nothing usable.
    pub fn next_row_into(
        &mut self,
        row: &mut RosterRow,
    ) -> Result<Option<Result<(), RowIssue>>, RosterError> {
        if self.done {
            return Ok(None);
        }
        match self.read_record() {
            Ok(Some(line)) => Ok(Some(self.parse_line(line, row))),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    fn parse_line(&mut self, line: u64, row: &mut RosterRow) -> Result<(), RowIssue> {
        self.line = line;
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.clear();
        let mut id = self.last_id.take();
        let r = self.parse(line, row, &mut warnings, &mut id);
        if r.is_err() {
            warnings.clear();
        }
        self.warnings = warnings;
        self.last_id = id;
        r
    }

    /// Reads the next non-blank record into `self.record`; returns its start line.
    fn read_record(&mut self) -> Result<Option<u64>, RosterError> {
        loop {
            let slack = (2 * BUFFER_CAPACITY) as u64;
            let start = self.csv.position().byte();
            self.csv.get_mut().limit = start
                .saturating_add(self.options.max_record_bytes as u64)
                .saturating_add(slack);
            let more = match self.csv.read_byte_record(&mut self.record) {
                Ok(more) => more,
                Err(e) => {
                    if self.csv.get_ref().tripped {
                        return Err(RosterError::RecordTooLarge {
                            line: self.last_end_line + 1,
                            limit: self.options.max_record_bytes,
                            quoted: self.csv.get_ref().last_quote.is_some_and(|q| q >= start),
                        });
                    }
                    return Err(RosterError::Io(io_message(e)));
                }
            };
            if !more {
                return Ok(None);
            }
            // Every record ends with '\n' (see CountingReader), which the parser has
            // consumed: the record ends on the line before the parser's line counter.
            let end_line = self.csv.position().line().saturating_sub(1);
            let embedded = self
                .record
                .as_slice()
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            // A record starts after the previous one ends. This also corrects the one case
            // where the record did not end with a newline: a quotation mark left open at
            // the end of the file, where the final newline is inside the field.
            let start = end_line
                .saturating_sub(embedded)
                .max(self.last_end_line + 1);
            self.last_end_line = end_line.max(start);
            if self.record.as_slice().contains(&0) {
                return Err(RosterError::Binary { line: start });
            }
            if is_blank(&self.record) {
                continue;
            }
            return Ok(Some(start));
        }
    }

    /// Validates the record just read into `row` (its strings' buffers are reused).
    fn parse(
        &self,
        line: u64,
        row: &mut RosterRow,
        warnings: &mut Vec<RowIssue>,
        last_id: &mut Option<String>,
    ) -> Result<(), RowIssue> {
        let rec = &self.record;
        let map = &self.map;
        let issue = |field: Option<Field>, reason: String| RowIssue {
            line,
            field: field.map(|f| f.key().to_string()),
            column: field.and_then(|f| map.header_of(f)).map(str::to_string),
            reason,
        };
        let read_id = self.map.column_of(Field::Id).and_then(|c| {
            std::str::from_utf8(field_bytes(rec, c))
                .ok()
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 1024)
        });
        match (last_id.as_mut(), read_id) {
            (Some(d), Some(v)) => set(d, v),
            (_, v) => *last_id = v.map(str::to_string),
        }
        if rec.len() != self.map.width() {
            return Err(issue(
                None,
                format!(
                    "row has {} fields, header has {}; check for a missing or extra \
                     separator or an unquoted comma",
                    rec.len(),
                    self.map.width()
                ),
            ));
        }
        let mut values: [&str; FIELD_COUNT] = [""; FIELD_COUNT];
        for (i, slot) in self.map.columns.iter().enumerate() {
            let Some(field) = slot else { continue };
            let raw = field_bytes(rec, i);
            if raw.len() > self.options.max_field_bytes {
                return Err(issue(
                    Some(*field),
                    format!(
                        "field is larger than the limit of {} bytes",
                        self.options.max_field_bytes
                    ),
                ));
            }
            let text = std::str::from_utf8(raw).map_err(|_| {
                issue(
                    Some(*field),
                    "field is not valid UTF-8; export or convert the file as UTF-8".to_string(),
                )
            })?;
            // Line breaks inside a quoted field are text; other control characters never
            // belong in a name, an ID or an address.
            if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            {
                return Err(issue(
                    Some(*field),
                    "field contains a control character; remove it from the file".to_string(),
                ));
            }
            values[*field as usize] = text.trim();
        }
        let get = |f: Field| values[f as usize];
        let boolean = |f: Field| -> Result<bool, RowIssue> {
            parse_bool(values[f as usize]).ok_or_else(|| {
                issue(
                    Some(f),
                    "boolean not recognised (accepted: yes/no/true/false/1/0/y/n)".to_string(),
                )
            })
        };

        let id = get(Field::Id);
        if id.is_empty() {
            return Err(issue(Some(Field::Id), "id is empty".to_string()));
        }

        let split;
        let (mut first_name, mut last_name) = (get(Field::FirstName), get(Field::LastName));
        if first_name.is_empty() && last_name.is_empty() {
            split = split_full_name(values[Field::FullName as usize]);
            (first_name, last_name) = (split.0.as_str(), split.1.as_str());
        }

        let address1 = get(Field::Address1);
        let city = get(Field::City);
        let zip = get(Field::Zip);
        let state = match normalize_state(values[Field::State as usize]) {
            Some(code) => Some(code),
            None if values[Field::State as usize].is_empty() => {
                if !address1.is_empty() || !city.is_empty() || !zip.is_empty() {
                    return Err(issue(
                        Some(Field::State),
                        "state is empty but the row has an address; a State is needed for \
                         the notification counts: fill it in"
                            .to_string(),
                    ));
                }
                None
            }
            None => return Err(issue(Some(Field::State), bad_state_reason())),
        };
        let nok_state = match normalize_state(values[Field::NokState as usize]) {
            Some(code) => Some(code),
            None if values[Field::NokState as usize].is_empty() => None,
            None => return Err(issue(Some(Field::NokState), bad_state_reason())),
        };

        let deceased = parse_deceased(values[Field::Deceased as usize]).ok_or_else(|| {
            issue(
                Some(Field::Deceased),
                "value not recognised (accepted: yes/no/true/false/1/0/y/n, or a date of \
                 death)"
                    .to_string(),
            )
        })?;
        let minor = match values[Field::Minor as usize] {
            "" => None,
            v => Some(parse_bool(v).ok_or_else(|| {
                issue(
                    Some(Field::Minor),
                    "boolean not recognised (accepted: yes/no/true/false/1/0/y/n)".to_string(),
                )
            })?),
        };
        let email_consent = boolean(Field::EmailConsent)?;

        // Values the row is imported without, each with a warning.
        let mut warn = |f: Field, reason: &str| warnings.push(issue(Some(f), reason.to_string()));
        let dob_text = values[Field::DateOfBirth as usize];
        let date_of_birth = match dob_text {
            "" => None,
            t => match parse_date(t) {
                Some(d) => Some(d),
                None => {
                    warn(
                        Field::DateOfBirth,
                        "date of birth not recognised (accepted: YYYY-MM-DD, MM/DD/YYYY, \
                         YYYYMMDD, a year from 1880 on): imported without it",
                    );
                    None
                }
            },
        };
        if !zip.is_empty() && !is_valid_zip(zip) {
            warn(
                Field::Zip,
                "not a ZIP code (5 digits, or ZIP+4 as 12345-6789): the postal address is not \
                 usable until it is corrected",
            );
        }
        let postal_parts = [!address1.is_empty(), !city.is_empty(), !zip.is_empty()];
        if postal_parts.iter().any(|p| *p) && !postal_parts.iter().all(|p| *p) {
            let missing: Vec<&str> = [(Field::Address1, 0), (Field::City, 1), (Field::Zip, 2)]
                .iter()
                .filter(|(_, i)| !postal_parts[*i])
                .map(|(f, _)| f.key())
                .collect();
            warnings.push(issue(
                Some(Field::Address1),
                format!(
                    "postal address incomplete ({} missing): not usable for mail until \
                     completed",
                    missing.join(", ")
                ),
            ));
        }
        let email = get(Field::Email);
        if !email.is_empty() && !looks_like_email(email) {
            warnings.push(issue(
                Some(Field::Email),
                "not a usable e-mail address (name@domain.tld): no electronic notice to it"
                    .to_string(),
            ));
        } else if email_consent && email.is_empty() {
            warnings.push(issue(
                Some(Field::EmailConsent),
                "consent to electronic notice but no e-mail address: notice goes by post"
                    .to_string(),
            ));
        }
        let covered_entity = get(Field::CoveredEntity);
        if covered_entity.is_empty() && self.map.column_of(Field::CoveredEntity).is_some() {
            warnings.push(issue(
                Some(Field::CoveredEntity),
                "no covered entity: this individual is in no covered entity's identification \
                 file until it is filled in"
                    .to_string(),
            ));
        }
        let nok_zip = get(Field::NokZip);
        if !nok_zip.is_empty() && !is_valid_zip(nok_zip) {
            warnings.push(issue(
                Some(Field::NokZip),
                "not a ZIP code: no next-of-kin letter can be mailed until it is corrected"
                    .to_string(),
            ));
        }

        set(&mut row.id, id);
        set(&mut row.first_name, first_name);
        set(&mut row.last_name, last_name);
        set(&mut row.address1, address1);
        set(&mut row.address2, get(Field::Address2));
        set(&mut row.city, city);
        set_opt(&mut row.state, state);
        set(&mut row.zip, zip);
        set(&mut row.email, email);
        row.email_consent = email_consent;
        set(&mut row.phone, get(Field::Phone));
        row.deceased = deceased;
        set(&mut row.nok_name, get(Field::NokName));
        set(&mut row.nok_address, get(Field::NokAddress));
        set(&mut row.nok_city, get(Field::NokCity));
        set_opt(&mut row.nok_state, nok_state);
        set(&mut row.nok_zip, nok_zip);
        row.date_of_birth = date_of_birth;
        row.minor = minor;
        set(&mut row.representative_name, get(Field::RepresentativeName));
        set(&mut row.covered_entity, covered_entity);
        set(
            &mut row.credit_monitoring_code,
            get(Field::CreditMonitoringCode),
        );
        Ok(())
    }
}

fn set(dst: &mut String, v: &str) {
    dst.clear();
    dst.push_str(v);
}

fn set_opt(dst: &mut Option<String>, v: Option<&str>) {
    match (dst.as_mut(), v) {
        (Some(d), Some(v)) => set(d, v),
        (_, v) => *dst = v.map(str::to_string),
    }
}

const FIELD_COUNT: usize = 23;
const _: () = assert!(Field::ALL.len() == FIELD_COUNT);

impl<R: Read> Iterator for RosterReader<R> {
    /// Outer `Err`: fatal, the iteration ends. Inner `Err`: one rejected row.
    type Item = Result<Result<RosterRow, RowIssue>, RosterError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

/// Bytes of the file read ahead to recognise the separator.
const SNIFF_BYTES: usize = 64 * 1024;

fn read_retry<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn first_line(head: &[u8]) -> &[u8] {
    match head.iter().position(|b| *b == b'\n') {
        Some(i) => &head[..i],
        None => head,
    }
}

fn count_outside_quotes(line: &[u8], d: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if b == d && !quoted {
            n += 1;
        }
    }
    n
}

/// The separator of the header row: the one of `,` `;` tab it uses most (outside quotes);
/// a comma when it uses none.
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = first_line(head);
    let mut best = (b',', count_outside_quotes(line, b','));
    for d in [b';', b'\t'] {
        let n = count_outside_quotes(line, d);
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// How a separator is named in messages.
pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "comma",
        b';' => "semicolon",
        b'\t' => "tab",
        b'|' => "pipe",
        _ => "other",
    }
}

/// A date in a roster: `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY`, `M/D/YYYY`, `MM-DD-YYYY`,
/// `YYYYMMDD` (an optional time after a space or `T` is ignored), years 1880 to 2100.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    let d = s.split([' ', 'T']).next()?;
    let nums: Vec<&str> = d.split(['-', '/', '.']).collect();
    let num = |x: &str| -> Option<u32> {
        (!x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let (y, m, day) = match nums.as_slice() {
        [a] if a.len() == 8 && a.bytes().all(|b| b.is_ascii_digit()) => (
            a[..4].parse().ok()?,
            a[4..6].parse().ok()?,
            a[6..].parse().ok()?,
        ),
        [a, b, c] if a.len() == 4 => (num(a)?, num(b)?, num(c)?),
        [a, b, c] if c.len() == 4 => (num(c)?, num(a)?, num(b)?),
        _ => return None,
    };
    if !(1880..=2100).contains(&y) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y as i32, m, day)
}

fn bad_state_reason() -> String {
    "state is not a US State or territory of 45 CFR 160.103 (accepted: two-letter code or \
     name)"
        .to_string()
}

fn io_message(e: csv::Error) -> String {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        // With flexible(true) and byte records, only I/O errors are expected; say nothing
        // about the data.
        _ => "unexpected CSV parser error".to_string(),
    }
}

/// Field `i` with the `\r` of a CRLF line ending removed from the last field.
fn field_bytes(rec: &ByteRecord, i: usize) -> &[u8] {
    let raw = rec.get(i).unwrap_or(&[]);
    if i + 1 == rec.len() {
        raw.strip_suffix(b"\r").unwrap_or(raw)
    } else {
        raw
    }
}

fn is_blank(rec: &ByteRecord) -> bool {
    (0..rec.len()).all(|i| field_bytes(rec, i).iter().all(u8::is_ascii_whitespace))
}

/// yes/no/true/false/1/0/y/n, any case; blank is `false`.
fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "f" | "0" => Some(false),
        "yes" | "y" | "true" | "t" | "1" => Some(true),
        _ => None,
    }
}

/// A boolean, or a date of death: any value made of digits and `-/.: T` with a non-zero
/// digit counts as deceased (all-zero placeholders like `0000-00-00` do not).
fn parse_deceased(s: &str) -> Option<bool> {
    if let Some(b) = parse_bool(s) {
        return Some(b);
    }
    let date_like = s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'/' | b'.' | b':' | b' ' | b'T'));
    if date_like {
        Some(s.bytes().any(|b| matches!(b, b'1'..=b'9')))
    } else {
        None
    }
}

/// `Last, First` or `First Middle Last` (the last word is the last name).
fn split_full_name(full: &str) -> (String, String) {
    if let Some((last, first)) = full.split_once(',') {
        return (first.trim().to_string(), last.trim().to_string());
    }
    match full.trim().rsplit_once(char::is_whitespace) {
        Some((first, last)) => (first.trim().to_string(), last.trim().to_string()),
        None => (String::new(), full.trim().to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEADER: &str = "id,first_name,last_name,address1,city,state,zip,email,email_consent\n";

    type Outcome = (Vec<RosterRow>, Vec<RowIssue>);

    fn read_with(data: &[u8], overrides: &[(String, Field)]) -> Result<Outcome, RosterError> {
        let mut reader = RosterReader::new(data, overrides)?;
        let (mut rows, mut issues) = (Vec::new(), Vec::new());
        while let Some(item) = reader.next_row()? {
            match item {
                Ok(r) => rows.push(r),
                Err(i) => issues.push(i),
            }
        }
        assert_eq!(reader.bytes_read(), data.len() as u64);
        Ok((rows, issues))
    }

    fn read(data: &str) -> Outcome {
        read_with(data.as_bytes(), &[]).unwrap()
    }

    fn header(cols: &str) -> ByteRecord {
        ByteRecord::from(cols.split(',').collect::<Vec<_>>())
    }

    #[test]
    fn aliases_are_unique_and_keys_parse() {
        let mut seen = std::collections::HashMap::new();
        for f in Field::ALL {
            assert_eq!(Field::from_key(f.key()), Some(*f));
            for a in f.aliases().iter().chain([&f.key()]) {
                let n = normalize_header(a);
                if let Some(other) = seen.insert(n.clone(), *f) {
                    assert_eq!(other, *f, "alias {a} used by {other} and {f}");
                }
            }
        }
        assert_eq!(Field::from_key("ignore"), None);
        for f in Field::ALL {
            let json = serde_json::to_string(f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.key()));
        }
        assert_eq!(Field::from_key(""), None);
    }

    #[test]
    fn header_variants_are_recognised() {
        let h = header(
            "Patient ID,First Name,SURNAME,Street Address,City,ST,Postal-Code,E-Mail,\
             Email Opt In,Date of Death,Next of Kin,NOK_Address,Is_Minor,Guardian,Notes",
        );
        let m = HeaderMap::build(&h, &[]).unwrap();
        let expect = [
            Field::Id,
            Field::FirstName,
            Field::LastName,
            Field::Address1,
            Field::City,
            Field::State,
            Field::Zip,
            Field::Email,
            Field::EmailConsent,
            Field::Deceased,
            Field::NokName,
            Field::NokAddress,
            Field::Minor,
            Field::RepresentativeName,
        ];
        for (i, f) in expect.iter().enumerate() {
            assert_eq!(m.field_at(i), Some(*f), "column {i}");
        }
        assert_eq!(m.field_at(14), None);
        assert_eq!(m.ignored(), ["Notes"]);
        assert_eq!(m.column_of(Field::Zip), Some(6));
        for name in [
            "MRN",
            "member_id",
            "subscriber-id",
            "Record ID",
            "identifier",
        ] {
            let m = HeaderMap::build(&header(name), &[]).unwrap();
            assert_eq!(m.field_at(0), Some(Field::Id), "{name}");
        }
    }

    #[test]
    fn overrides_win_and_unknown_columns_are_errors() {
        let h = header("Ref,Name,Member ID,Where");
        let m = HeaderMap::build(
            &h,
            &[
                ("ref".to_string(), Field::Id),
                ("WHERE".to_string(), Field::Phone),
            ],
        )
        .unwrap();
        assert_eq!(m.field_at(0), Some(Field::Id));
        assert_eq!(m.field_at(1), Some(Field::FullName));
        // Auto-detected id column loses to the override.
        assert_eq!(m.field_at(2), None);
        assert_eq!(m.field_at(3), Some(Field::Phone));
        assert_eq!(m.ignored(), ["Member ID"]);

        let err = HeaderMap::build(&h, &[("Reference".to_string(), Field::Id)]).unwrap_err();
        assert!(matches!(err, RosterError::OverrideColumnNotFound { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("\"Reference\"") && msg.contains("--map"),
            "{msg}"
        );

        let err = HeaderMap::build(
            &h,
            &[
                ("Ref".to_string(), Field::Id),
                ("Where".to_string(), Field::Id),
            ],
        )
        .unwrap_err();
        assert!(matches!(err, RosterError::DuplicateOverride { .. }));
        let err = HeaderMap::build(
            &h,
            &[
                ("Ref".to_string(), Field::Id),
                ("ref".to_string(), Field::Zip),
            ],
        )
        .unwrap_err();
        assert!(matches!(err, RosterError::DuplicateOverrideColumn { .. }));
    }

    #[test]
    fn duplicate_auto_detected_fields_need_a_choice() {
        let h = header("patient_id,mrn,last");
        let err = HeaderMap::build(&h, &[]).unwrap_err();
        assert!(matches!(
            err,
            RosterError::DuplicateField {
                field: Field::Id,
                ..
            }
        ));
        assert!(err.to_string().contains("--map COLUMN=id"), "{err}");
        let m = HeaderMap::build(&h, &[("mrn".to_string(), Field::Id)]).unwrap();
        assert_eq!(m.column_of(Field::Id), Some(1));
        assert_eq!(m.ignored(), ["patient_id"]);
    }

    #[test]
    fn address_without_state_column_is_refused() {
        let err = HeaderMap::build(&header("id,address,city,zip"), &[]).unwrap_err();
        assert!(matches!(err, RosterError::MissingState));
        assert!(err.to_string().contains("--map COLUMN=state"));
        let m = HeaderMap::build(
            &header("id,address,city,zip,prov"),
            &[("prov".to_string(), Field::State)],
        );
        assert!(m.is_ok());
    }

    #[test]
    fn missing_id_column_names_aliases_and_map_flag() {
        let err = read_with(b"first,last\nAda,Lovelace\n", &[]).unwrap_err();
        assert!(matches!(err, RosterError::MissingId { .. }));
        let msg = err.to_string();
        for needle in ["patient_id", "mrn", "member_id", "--map COLUMN=id"] {
            assert!(msg.contains(needle), "{msg}");
        }
    }

    #[test]
    fn reads_rows_and_normalises() {
        let (rows, issues) = read(&format!(
            "{HEADER}1, Ada ,Lovelace,12 St James Sq,London,ca,90210,ada@example.org,Yes\n\
             2,Grace,Hopper,1 Navy Way,Arlington,Virginia,22201-1234,,\n"
        ));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].first_name, "Ada");
        assert_eq!(rows[0].state.as_deref(), Some("CA"));
        assert!(rows[0].email_consent && rows[0].email_usable() && rows[0].reachable());
        assert_eq!(rows[1].state.as_deref(), Some("VA"));
        assert!(rows[1].has_postal_address() && !rows[1].email_usable());
        assert!(!rows[1].is_unreachable_living());
    }

    #[test]
    fn bom_and_crlf() {
        let data = format!(
            "\u{feff}{}1,A,B,1 Main,Town,NY,10001,,\r\n2,C,D,2 Main,Town,NY,10001,,\r\n",
            HEADER.replace('\n', "\r\n")
        );
        let (rows, issues) = read(&data);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].id, "1");
        // The last field must not keep the '\r'.
        assert!(!rows[1].email_consent);
        // BOM split from the rest of the file by a 1-byte reader is still stripped.
        let one_byte = OneByte(data.as_bytes());
        let mut r = RosterReader::new(one_byte, &[]).unwrap();
        assert_eq!(r.header_map().column_of(Field::Id), Some(0));
        assert_eq!(r.next_row().unwrap().unwrap().unwrap().id, "1");
    }

    struct OneByte<'a>(&'a [u8]);
    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                Some((b, rest)) if !buf.is_empty() => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn quoted_fields_with_newlines_keep_line_numbers() {
        for eol in ["\n", "\r\n"] {
            let data = [
                "id,full name,address,city,state,zip",
                "1,\"Doe, Jane\",\"12 Elm St",
                "Apt 3, rear\",Springfield,IL,62701",
                "",
                "2,John Q Public,1 Oak,Peoria,ZZ,61602",
                "3,\"Multi",
                "",
                "Line\",,,,",
                "4,Bad,Row",
                "5,Last Row,1 Pine,Peoria,IL,61602",
            ]
            .join(eol);
            let (rows, issues) = read(&data);
            assert_eq!(rows.len(), 3, "{eol:?} {issues:?}");
            assert_eq!(rows[0].first_name, "Jane");
            assert_eq!(rows[0].last_name, "Doe");
            assert_eq!(rows[0].address1, format!("12 Elm St{eol}Apt 3, rear"));
            assert_eq!(rows[1].id, "3");
            assert_eq!(rows[1].first_name, "Multi");
            assert_eq!(rows[1].last_name, "Line");
            assert_eq!(rows[1].state, None);
            assert_eq!(rows[2].id, "5");
            let lines: Vec<u64> = issues.iter().map(|i| i.line).collect();
            assert_eq!(lines, [5, 9], "{eol:?} {issues:?}");
            assert_eq!(issues[0].field.as_deref(), Some("state"));
            assert_eq!(issues[1].field, None);
            assert_eq!(
                issues[1].reason.split(';').next(),
                Some("row has 3 fields, header has 6")
            );
        }
    }

    #[test]
    fn full_name_split() {
        assert_eq!(split_full_name("Doe, Jane"), ("Jane".into(), "Doe".into()));
        assert_eq!(
            split_full_name("Mary Ann Smith"),
            ("Mary Ann".into(), "Smith".into())
        );
        assert_eq!(split_full_name("Cher"), (String::new(), "Cher".into()));
        // first/last columns win over full name.
        let (rows, _) = read("id,name,first,last\n1,X Y,Ann,Lee\n");
        assert_eq!(rows[0].display_name(), "Ann Lee");
    }

    #[test]
    fn states_and_territories() {
        let mut data = String::from("id,address,city,state,zip\n");
        for (i, st) in ["DC", "PR", "gu", "Virgin Islands", "AS", "MP", "Texas"]
            .iter()
            .enumerate()
        {
            data.push_str(&format!("{i},1 Main,Town,{st},00901\n"));
        }
        data.push_str("bad1,1 Main,Toronto,Ontario,00901\n");
        data.push_str("bad2,1 Main,Town,,00901\n");
        data.push_str("ok,,,,\n");
        let (rows, issues) = read(&data);
        let states: Vec<_> = rows.iter().map(|r| r.state.clone()).collect();
        let want = ["DC", "PR", "GU", "VI", "AS", "MP", "TX"];
        assert_eq!(states[..7], want.map(|s| Some(s.to_string())));
        assert_eq!(rows[7].id, "ok");
        assert_eq!(rows[7].state, None);
        assert!(rows[7].is_unreachable_living());
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].line, 9);
        assert!(
            issues[0]
                .reason
                .starts_with("state is not a US State or territory")
        );
        assert_eq!(issues[1].line, 10);
        assert!(
            issues[1]
                .reason
                .starts_with("state is empty but the row has an address")
        );
    }

    #[test]
    fn non_utf8_field_is_a_row_issue() {
        let mut data = b"id,last,phone\n1,Ok,5\n2,Mu\xf1oz,5\n3,Fine,5\n".to_vec();
        // Non-UTF-8 in an ignored column is not an issue.
        data.extend_from_slice(b"4,Also,5\n");
        let data2 = b"id,last,notes\n1,A,caf\xe9\n".to_vec();
        let (rows, issues) = read_with(&data, &[]).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].line, 3);
        assert_eq!(issues[0].field.as_deref(), Some("last_name"));
        assert!(issues[0].reason.contains("not valid UTF-8"));
        let (rows, issues) = read_with(&data2, &[]).unwrap();
        assert_eq!((rows.len(), issues.len()), (1, 0));
    }

    #[test]
    fn empty_and_header_only() {
        for empty in ["", "\n\n", "\u{feff}", "\r\n  \r\n"] {
            assert!(
                matches!(read_with(empty.as_bytes(), &[]), Err(RosterError::Empty)),
                "{empty:?}"
            );
        }
        assert!(
            RosterError::Empty
                .to_string()
                .starts_with("the file is empty: expected a header row")
        );
        let (rows, issues) = read("id,last\n");
        assert!(rows.is_empty() && issues.is_empty());
        let (rows, issues) = read("id,last");
        assert!(rows.is_empty() && issues.is_empty());
    }

    #[test]
    fn blank_rows_are_skipped_and_last_line_needs_no_newline() {
        let (rows, issues) = read("id,last,phone\n,,\n1,A,\n , ,\n\n2,B,");
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["1", "2"]
        );
    }

    #[test]
    fn empty_id_and_booleans() {
        let (rows, issues) = read(
            "id,last,deceased,minor,email,email consent\n\
             ,A,,,,\n\
             2,B,2021-03-04,Y,b@example.org,TRUE\n\
             3,C,0000-00-00,no,c@example.org,\n\
             4,D,maybe,,,\n\
             5,E,,perhaps,,\n",
        );
        assert_eq!(issues.len(), 3);
        assert_eq!(
            (issues[0].line, issues[0].reason.as_str()),
            (2, "id is empty")
        );
        assert_eq!(
            (issues[1].line, issues[1].field.as_deref()),
            (5, Some("deceased"))
        );
        assert_eq!(
            (issues[2].line, issues[2].field.as_deref()),
            (6, Some("minor"))
        );
        assert_eq!(
            issues[2].reason,
            "boolean not recognised (accepted: yes/no/true/false/1/0/y/n)"
        );
        assert!(rows[0].deceased && rows[0].minor == Some(true) && rows[0].email_usable());
        assert!(!rows[1].deceased && !rows[1].email_usable());
        assert!(!rows[0].is_unreachable_living());
        assert!(rows[1].is_unreachable_living());
    }

    #[test]
    fn helpers() {
        let mut r = RosterRow {
            id: "1".into(),
            // A usable name is needed to be reachable at all (a letter must be addressed).
            last_name: "Lee".into(),
            address1: "1 Main".into(),
            city: "Town".into(),
            state: Some("NY".into()),
            zip: "1001".into(),
            ..RosterRow::default()
        };
        assert!(!r.has_postal_address(), "4-digit zip");
        r.zip = "01001".into();
        assert!(r.has_postal_address() && r.reachable());
        r.city.clear();
        assert!(!r.has_postal_address());
        r.email = "x@example.org".into();
        assert!(!r.email_usable(), "no consent");
        r.email_consent = true;
        assert!(r.email_usable() && r.reachable());
        r.email = "not an email".into();
        assert!(!r.reachable() && r.is_unreachable_living());
        r.deceased = true;
        assert!(!r.is_unreachable_living());
        assert!(!r.nok_contact_known());
        r.nok_name = "Kin".into();
        r.nok_address = "2 Main".into();
        r.nok_city = "Town".into();
        r.nok_state = Some("PR".into());
        r.nok_zip = "00901-1234".into();
        assert!(r.nok_contact_known());
        assert!(is_valid_zip("123456789") && !is_valid_zip("12345-678") && !is_valid_zip("abcde"));
    }

    #[test]
    fn one_mib_field() {
        let big = "x".repeat(DEFAULT_MAX_FIELD_BYTES);
        let data = format!("id,address2,notes\n1,{big},\n2,{big}y,\n3,ok,{big}yy\n4,ok,\n");
        let (rows, issues) = read(&data);
        assert_eq!(
            rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["1", "3", "4"]
        );
        assert_eq!(rows[0].address2.len(), DEFAULT_MAX_FIELD_BYTES);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].line, 3);
        assert_eq!(issues[0].field.as_deref(), Some("address2"));
        assert!(
            issues[0]
                .reason
                .contains("larger than the limit of 1048576 bytes")
        );
    }

    /// Endless input inside an unclosed quotation mark.
    struct Endless {
        served: u64,
        head: &'static [u8],
    }
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = if self.head.is_empty() {
                buf.fill(b'a');
                buf.len()
            } else {
                let n = self.head.len().min(buf.len());
                buf[..n].copy_from_slice(&self.head[..n]);
                self.head = &self.head[n..];
                n
            };
            self.served += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn unclosed_quote_stops_with_bounded_memory() {
        let src = Endless {
            served: 0,
            head: b"id,last\n1,ok\n2,\"never closed",
        };
        let options = RosterOptions {
            max_field_bytes: 1024,
            max_record_bytes: 4 * 1_048_576,
        };
        let mut r = RosterReader::with_options(src, &[], options).unwrap();
        assert!(r.next_row().unwrap().unwrap().is_ok());
        let err = r.next_row().unwrap_err();
        assert!(
            matches!(
                err,
                RosterError::RecordTooLarge {
                    line: 3,
                    quoted: true,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("quotation mark is probably not closed"),
            "{err}"
        );
        assert!(
            !err.to_string().contains("raise"),
            "no advice about an option that does not exist: {err}"
        );
        let read = r.bytes_read();
        assert!(read <= 4 * 1_048_576 + 4 * BUFFER_CAPACITY as u64, "{read}");
        assert_eq!(read, r.csv.get_ref().inner.served);
        assert!(r.next_row().unwrap().is_none());
        // The header is bounded too.
        let src = Endless {
            served: 0,
            head: b"\"id",
        };
        let err = RosterReader::with_options(src, &[], options).unwrap_err();
        assert!(matches!(
            err,
            RosterError::RecordTooLarge {
                line: 1,
                quoted: true,
                ..
            }
        ));
    }

    /// Regression: a row with one enormous unquoted field was blamed on an unclosed
    /// quotation mark, with advice to raise a limit no option sets.
    #[test]
    fn a_huge_unquoted_row_is_not_called_an_unclosed_quote() {
        let src = Endless {
            served: 0,
            head: b"id,last\n1,ok\n2,",
        };
        let options = RosterOptions {
            max_field_bytes: 1024,
            max_record_bytes: 1_048_576,
        };
        let mut r = RosterReader::with_options(src, &[], options).unwrap();
        assert!(r.next_row().unwrap().unwrap().is_ok());
        let err = r.next_row().unwrap_err();
        assert!(
            matches!(err, RosterError::RecordTooLarge { quoted: false, .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("quotation"), "{err}");
    }

    /// Regression: a binary file (a PNG here) was refused as "classic Mac line endings".
    #[test]
    fn binary_files_are_called_binary() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00";
        let err = read_with(png, &[]).unwrap_err();
        assert!(matches!(err, RosterError::HeaderNotText), "{err}");
        assert!(!err.to_string().contains("Mac"), "{err}");
        let err = read_with(b"\x00\x01\x02\rabc\r", &[]).unwrap_err();
        assert!(matches!(err, RosterError::Binary { line: 1 }), "{err}");
        let err = read_with(b"id,last\n1,A\n2,B\x00C\n", &[]).unwrap_err();
        assert!(matches!(err, RosterError::Binary { line: 3 }), "{err}");
    }

    #[test]
    fn control_characters_in_ids_and_names_are_rejected_rows() {
        let (rows, issues) = read("id,first,last\n1,A\x01,B\nX\x1b,C,D\n3,E,F\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].field.as_deref(), Some("first_name"));
        assert_eq!(issues[1].field.as_deref(), Some("id"));
    }

    #[test]
    fn carriage_return_only_files_are_refused() {
        let err = read_with(b"id,last\r1,A\r2,B\r", &[]).unwrap_err();
        assert!(matches!(err, RosterError::CarriageReturnLineEndings));
    }

    #[test]
    fn iterator_and_progress() {
        let data = format!("{HEADER}1,A,B,,,,,,\n2,C,D,,,,,,\n");
        let mut r = RosterReader::new(data.as_bytes(), &[]).unwrap();
        assert!(r.bytes_read() > 0);
        let ids: Vec<String> = r.by_ref().map(|item| item.unwrap().unwrap().id).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(r.bytes_read(), data.len() as u64);
    }

    #[test]
    fn messages_never_contain_row_values() {
        const CANARY: &str = "Zebulon";
        let c = CANARY;
        let data = format!(
            "id,first,last,address,city,state,zip,deceased,minor,email consent,nok state\n\
             {c}1,{c},{c},{c} St,{c}ville,{c}land,{c},,,,\n\
             {c}2,{c},{c},,,,,{c},,,\n\
             {c}3,{c},{c},,,,,,{c},,\n\
             {c}4,{c},{c},,,,,,,{c},\n\
             {c}5,{c},{c},,,,,,,,{c}\n\
             {c}6,{c}\n\
             ,{c},{c},,,,,,,,\n\
             {c}7,\"{c}\u{ff}\",{c},,,,,,,,\n"
        );
        let mut data = data.into_bytes();
        // Make the \xff a real invalid byte (format! wrote U+00FF as UTF-8).
        let pos = data
            .windows(2)
            .position(|w| w == "\u{ff}".as_bytes())
            .unwrap();
        data.splice(pos..pos + 2, [0xff]);
        let (rows, issues) = read_with(&data, &[]).unwrap();
        assert!(rows.is_empty(), "{rows:?}");
        assert_eq!(issues.len(), 8);
        for i in &issues {
            let text = format!("{i} {i:?}");
            assert!(!text.contains(CANARY), "{text}");
        }
        // Header errors too (a header-less file whose first row is a person).
        let err = read_with(format!("{c},{c} St,{c}ville\n").as_bytes(), &[]).unwrap_err();
        assert!(!err.to_string().contains(CANARY), "{err}");
        let err = read_with(b"\"id", &[]).map(|_| ()).err();
        assert!(err.is_none() || !err.unwrap().to_string().contains(CANARY));
    }

    #[test]
    fn error_messages_are_lowercase() {
        let errors = [
            RosterError::Empty,
            RosterError::MissingId {
                aliases: "id".into(),
            },
            RosterError::OverrideColumnNotFound { column: "x".into() },
            RosterError::DuplicateOverride { field: Field::Id },
            RosterError::CarriageReturnLineEndings,
            RosterError::RecordTooLarge {
                line: 1,
                limit: 1,
                quoted: true,
            },
            RosterError::RecordTooLarge {
                line: 1,
                limit: 1,
                quoted: false,
            },
            RosterError::Binary { line: 1 },
            RosterError::HeaderNotText,
        ];
        for e in errors {
            let s = e.to_string();
            assert!(
                s.starts_with(|c: char| c.is_ascii_lowercase() || c == '-'),
                "{s}"
            );
        }
    }

    #[test]
    fn separators_are_recognised_from_the_header() {
        assert_eq!(sniff_delimiter(b"id,last;x\n"), b',');
        assert_eq!(sniff_delimiter(b"id;last;state\n1,2;3"), b';');
        assert_eq!(sniff_delimiter(b"id\tlast\tstate\n"), b'\t');
        assert_eq!(
            sniff_delimiter(b"\"a;b;c\",d\n"),
            b',',
            "quoted separators do not count"
        );
        assert_eq!(sniff_delimiter(b"id\n"), b',');
        let (rows, issues) =
            read("id;last;state;zip;address;city\n1;\"Lee; Jr\";TX;78701;1 Main;Austin\n");
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(rows[0].last_name, "Lee; Jr");
        // A separator given that the header does not use is named, not guessed.
        let err = RosterReader::open(
            &b"id;last\n1;A\n"[..],
            &[],
            RosterOptions::default(),
            Some(b','),
        )
        .unwrap_err();
        assert!(err.to_string().contains("semicolon"), "{err}");
        // The header line read ahead is served to the parser too, byte by byte.
        let data = "id\tlast\n1\tA\n2\tB\n";
        let mut r = RosterReader::new(OneByte(data.as_bytes()), &[]).unwrap();
        assert_eq!(r.delimiter(), b'\t');
        let ids: Vec<String> = r.by_ref().map(|x| x.unwrap().unwrap().id).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(r.bytes_read(), data.len() as u64);
    }

    #[test]
    fn dates_of_birth() {
        let d = |s: &str| parse_date(s).map(|d| d.to_string());
        assert_eq!(d("1990-02-03").as_deref(), Some("1990-02-03"));
        assert_eq!(d("02/03/1990").as_deref(), Some("1990-02-03"));
        assert_eq!(d("2/3/1990").as_deref(), Some("1990-02-03"));
        assert_eq!(d("19900203").as_deref(), Some("1990-02-03"));
        assert_eq!(d("1990-02-03T00:00:00").as_deref(), Some("1990-02-03"));
        assert_eq!(d("1990/02/03 12:00").as_deref(), Some("1990-02-03"));
        for bad in [
            "02/30/1990",
            "13/01/1990",
            "1850-01-01",
            "yesterday",
            "1990-2",
            "",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn warnings_name_the_column_and_keep_the_row() {
        let (rows, issues) = read(
            "MRN,Last,Street,City,ST,Postal,Email,Email Consent,DOB,Minor,Covered Entity\n\
             1,Lee,1 Main,Austin,TX,7870,x@,yes,1990-13-01,,\n\
             2,Kim,,Austin,TX,78701,,yes,02/03/2001,Y,Lakeside\n",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(rows[0].date_of_birth, None);
        assert_eq!(rows[0].minor, None);
        assert_eq!(rows[1].minor, Some(true));
        assert_eq!(rows[1].covered_entity, "Lakeside");
        let mut r = RosterReader::new(
            &b"MRN,Last,Street,City,ST,Postal,Email,Email Consent,DOB,Covered Entity\n\
               1,Lee,1 Main,Austin,TX,7870,x@,yes,1990-13-01,\n"[..],
            &[],
        )
        .unwrap();
        r.next_row().unwrap().unwrap().unwrap();
        let w: Vec<String> = r.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(
            w[0].starts_with("line 2: date_of_birth (column \"DOB\"): "),
            "{w:?}"
        );
        assert!(
            w[1].starts_with("line 2: zip (column \"Postal\"): not a ZIP"),
            "{w:?}"
        );
        assert!(
            w[2].starts_with("line 2: email: not a usable e-mail"),
            "{w:?}"
        );
        // A header that is the field's own name is not repeated.
        assert!(
            w[3].starts_with("line 2: covered_entity: no covered entity"),
            "{w:?}"
        );
        assert_eq!(r.last_id(), Some("1"));
        // A rejected row has no warnings, but its identifier can be read (never printed).
        let mut r = RosterReader::new(&b"MRN,Last,State\nX9,Lee,Narnia\n"[..], &[]).unwrap();
        assert!(r.next_row().unwrap().unwrap().is_err());
        assert!(r.warnings().is_empty());
        assert_eq!(r.last_id(), Some("X9"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(data in proptest::collection::vec(
            proptest::sample::select(vec![b'a', b'1', b',', b'"', b'\n', b'\r', 0xff, b' ']), 0..300)
        ) {
            let mut input = b"id,last,state,zip,address\n".to_vec();
            input.extend_from_slice(&data);
            if let Ok(mut r) = RosterReader::new(&input[..], &[]) {
                let mut prev = 1;
                while let Ok(Some(item)) = r.next_row() {
                    if let Err(issue) = item {
                        proptest::prop_assert!(issue.line > prev);
                        prev = issue.line;
                    }
                }
            }
        }
    }
}
