//! Where the letters meet the roster: who gets which letter by which channel, bulk
//! rendering of a roster's letters in parallel (print files, the mail vendor's file sorted
//! by ZIP, one e-mail message per person), and the BA's identification CSV.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::progress::Progress;
use crate::audit::entry::hex;
use crate::domain::roster::RecipientClass;
use crate::domain::{Incident, RosterRow};
use crate::error::{Error, Result};
use crate::files::{create_private_dir, create_private_file};
use crate::letters::manifest::{HashingWriter, ManifestFile};
use crate::letters::stencil::Stencils;
use crate::letters::{
    self, EXERCISE_WATERMARK, Format, Layout, LetterContext, LetterKind, RecipientContext, Renderer,
};
use crate::store::Reader;
use crate::store::phi::PhiCodec;
use crate::store::roster::RosterSeal;
use crate::store::roster::read::{GroupBlob, LiveRow, RosterView, for_each_group, open_blob};

fn no_roster(inc: &Incident) -> Error {
    Error::NotFound(format!(
        "no roster is imported for {}: import the list of affected individuals with `breachdesk roster import {} FILE.csv`",
        inc.id, inc.id
    ))
}

/// An incident's roster as the letters read it: its batches and its key.
pub struct RosterSource {
    pub view: RosterView,
    pub seal: RosterSeal,
}

impl RosterSource {
    /// The committed roster of `inc` (an error when there is none). The roster must be in
    /// the current format (`Desk::roster_current`).
    pub fn open(r: &Reader, inc: &Incident, codec: &PhiCodec) -> Result<RosterSource> {
        let view = r.roster_view(&inc.id)?;
        if !view.has_rows() {
            return Err(no_roster(inc));
        }
        let seal = r.roster_seal(&inc.id, codec)?.ok_or_else(|| {
            Error::Key(format!(
                "the roster of {} has no key in this database (it was removed outside breachdesk); run `breachdesk audit verify`",
                inc.id
            ))
        })?;
        Ok(RosterSource { view, seal })
    }

    /// Calls `f` with every live row in key order (batch, then file order), with its
    /// recipient class, until it returns `false`.
    pub fn for_each_row(
        &self,
        r: &Reader,
        inc: &Incident,
        f: &mut dyn FnMut(RecipientClass, LiveRow) -> Result<bool>,
    ) -> Result<()> {
        let mut payload = Vec::new();
        for_each_group(r, &inc.id, &self.view, &mut |g| {
            for row in open_blob(&self.seal, &self.view, &g, &mut payload)? {
                if !f(row.row.recipient_class(), row)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }
}

/// A covered entity's name for matching: case and repeated spaces ignored (as the import
/// counts them).
fn fold_entity(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether a row belongs to the covered entity named (case and spacing ignored); every row
/// does when no entity is named.
pub fn of_entity(row: &RosterRow, entity: Option<&str>) -> bool {
    entity.is_none_or(|e| fold_entity(&row.covered_entity) == fold_entity(e))
}

/// How a batch reaches people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// First-class mail (164.404(d)(1)(i)): people with a postal address who did not agree
    /// to electronic notice.
    Mail,
    /// E-mail, for those who agreed to electronic notice (164.404(d)(1)(i)) and gave a usable
    /// address; they never get a letter in the print batch.
    Email,
}

fn text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The recipient of a letter of `kind` by `channel` for this person, if they get one:
/// living individuals who agreed to electronic notice and gave a usable address get an
/// e-mail, the other living individuals with a complete postal address a letter (a minor's
/// — by the roster's flag, or under 18 on `notice_date` by date of birth — is written to the
/// parent or guardian); the next of kin or personal representative of a deceased
/// individual, when their address is known, gets the next-of-kin letter by mail
/// (164.404(d)(1)(ii)).
pub fn recipient(
    kind: LetterKind,
    channel: Channel,
    r: RosterRow,
    notice_date: NaiveDate,
) -> Option<RecipientContext> {
    let lines = |a: String, b: String| -> Vec<String> {
        [a, b].into_iter().filter(|s| !s.is_empty()).collect()
    };
    match (kind, channel) {
        (LetterKind::Individual, _) if r.deceased => None,
        // No usable name, or no address for its channel: on the roster's "needs fixing"
        // list and counted unreachable (substitute notice) until a re-import fixes it.
        (LetterKind::Individual, _) if r.recipient_class() == RecipientClass::NeedsFixing => None,
        (LetterKind::Individual, Channel::Email) if !r.email_usable() => None,
        (LetterKind::Individual, Channel::Mail) if r.email_usable() || !r.has_postal_address() => {
            None
        }
        (LetterKind::Individual, _) => {
            let minor = r.is_minor_on(notice_date);
            let own = r.display_name();
            let (name, minor_name) = if minor {
                // Even blank: a minor's letter must never go out as an adult's.
                (r.representative_name.clone(), Some(own.trim().to_string()))
            } else {
                (own, None)
            };
            let (address_lines, city, state, zip) = match channel {
                Channel::Mail => (
                    lines(r.address1, r.address2),
                    r.city,
                    r.state.unwrap_or_default(),
                    crate::domain::roster::normalize_zip(&r.zip).unwrap_or(r.zip),
                ),
                Channel::Email => (vec![], String::new(), String::new(), String::new()),
            };
            Some(RecipientContext {
                id: r.id,
                name,
                address_lines,
                city,
                state,
                zip,
                email: match channel {
                    Channel::Email => r.email,
                    Channel::Mail => String::new(),
                },
                deceased_name: None,
                minor_name,
                credit_code: text(&r.credit_monitoring_code),
                first_name: r.first_name,
                last_name: r.last_name,
            })
        }
        (LetterKind::NextOfKin, Channel::Mail) if r.deceased && r.nok_contact_known() => {
            Some(RecipientContext {
                deceased_name: Some(r.display_name()),
                id: r.id,
                name: r.nok_name,
                address_lines: lines(r.nok_address, String::new()),
                city: r.nok_city,
                state: r.nok_state.unwrap_or_default(),
                zip: crate::domain::roster::normalize_zip(&r.nok_zip).unwrap_or(r.nok_zip),
                email: String::new(),
                minor_name: None,
                credit_code: text(&r.credit_monitoring_code),
                first_name: r.first_name,
                last_name: r.last_name,
            })
        }
        _ => None,
    }
}

/// The field a letter needs and this recipient lacks, whatever the template: a name to
/// address (the individual's, or the child's for a minor's letter; the next of kin's and the
/// deceased's), and the postal address or e-mail address of its channel.
pub fn required_missing(
    kind: LetterKind,
    channel: Channel,
    r: &RecipientContext,
) -> Option<&'static str> {
    let blank = |s: &str| s.trim().is_empty();
    match kind {
        LetterKind::NextOfKin => {
            if blank(&r.name) {
                return Some("recipient.name (the next of kin's name)");
            }
            if r.deceased_name.as_deref().is_none_or(blank) {
                return Some("recipient.deceased_name (the individual's name)");
            }
        }
        _ => match &r.minor_name {
            Some(m) if blank(m) => return Some("recipient.minor_name (the child's name)"),
            None if blank(&r.name) => return Some("recipient.name (the individual's name)"),
            _ => {}
        },
    }
    match channel {
        Channel::Mail => {
            if r.address_lines.is_empty() || blank(&r.address_lines[0]) {
                return Some("recipient.address_lines (street address)");
            }
            if blank(&r.city) {
                return Some("recipient.city");
            }
            if blank(&r.state) {
                return Some("recipient.state");
            }
            if letters::vendor_zip(&r.zip).is_none() {
                return Some("recipient.zip (5 digits or ZIP+4)");
            }
        }
        Channel::Email => {
            if blank(&r.email) {
                return Some("recipient.email");
            }
        }
    }
    None
}

/// Adds a recipient to a batch's data hash: every field as a u64 big-endian length and its
/// UTF-8 bytes (absent optional fields as a zero length), the address lines preceded by
/// their number.
fn hash_recipient(h: &mut Sha256, r: &RecipientContext) {
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put(&r.id);
    put(&r.name);
    put(&r.city);
    put(&r.state);
    put(&r.zip);
    put(&r.email);
    put(r.deceased_name.as_deref().unwrap_or(""));
    put(r.minor_name.as_deref().unwrap_or(""));
    put(r.credit_code.as_deref().unwrap_or(""));
    put(&r.first_name);
    put(&r.last_name);
    h.update((r.address_lines.len() as u64).to_be_bytes());
    for l in &r.address_lines {
        h.update((l.len() as u64).to_be_bytes());
        h.update(l.as_bytes());
    }
}

/// A roster row that cannot be addressed: where it is, and what it lacks (never a value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowProblem {
    /// The import batch (1 = the first import).
    pub batch: u32,
    /// The line of that import's file.
    pub line: u64,
    pub field: String,
}

/// What [`render_bulk`] produced.
pub struct Bulk {
    pub files: Vec<ManifestFile>,
    pub data_sha256: String,
    pub count: u64,
}

/// What one batch of letters is.
pub struct BulkSpec<'a> {
    pub kind: LetterKind,
    pub channel: Channel,
    /// What is written: letters (text or HTML), the mail vendor's file, or e-mails.
    pub output: BulkOutput,
    pub notice_date: NaiveDate,
    pub stem: &'a str,
    pub title: &'a str,
    pub per_file: usize,
    /// The (staging) directory the files go into.
    pub out: &'a Path,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOutput {
    Letters(Format, Layout),
    /// The mail vendor's merge file, sorted by ZIP.
    MailMerge,
    /// One `.eml` message per person (text and HTML parts) and the e-mail vendor's file.
    Email,
}

/// Part of a group in a shard: its live rows `skip..skip + take`.
struct Slice {
    group: GroupBlob,
    skip: usize,
    take: usize,
}

/// One shard's work: its index and the groups (or parts of groups) it covers.
type Job = (usize, Vec<Slice>);

struct ShardDone {
    index: usize,
    /// The partial file (or, for e-mails, directory) written.
    partial: PathBuf,
    file: ManifestFile,
    data: [u8; 32],
}

fn io(e: std::io::Error) -> Error {
    Error::io("cannot write a letters file", e)
}

/// Template and data problems are invalid input (3); writing files is an I/O error (8).
fn letter_err(e: letters::LetterError) -> Error {
    e.into()
}

/// The e-mail vendor's list of a shard, written beside its messages until the shard gets
/// its final name.
const EMAIL_LIST_PARTIAL: &str = ".list.partial";

/// Renders every recipient's letter of `spec.kind` from the roster into shard files, on all
/// cores. Rows are read in key order and cut into shards of `per_file` stored rows; each
/// shard is decoded, filtered and rendered by a worker into its own file, so the output is
/// the same bytes whatever the number of threads. Files are written under `.partial` names
/// and renamed (numbered in order, empty shards dropped) only when all are complete; on any
/// failure every partial file is removed.
///
/// Every row is checked before a file is kept: a recipient who lacks a field the letter
/// needs (see [`required_missing`], and any recipient field the template prints) fails the
/// whole batch, naming each such row by import batch and line, never by value.
pub fn render_bulk(
    r: &Reader,
    inc: &Incident,
    codec: &PhiCodec,
    renderer: &Renderer,
    base: &LetterContext,
    spec: &BulkSpec,
    progress: &dyn Progress,
) -> Result<Bulk> {
    let per_file = spec.per_file.max(1);
    let source = RosterSource::open(r, inc, codec)?;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let (send, recv) = std::sync::mpsc::sync_channel::<Job>(workers);
    let recv = Mutex::new(recv);
    let done: Mutex<Vec<ShardDone>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let problems: Mutex<Vec<RowProblem>> = Mutex::new(Vec::new());
    let count = AtomicU64::new(0);
    let ext = match spec.output {
        BulkOutput::MailMerge => "csv",
        BulkOutput::Letters(Format::Text, _) => "txt",
        BulkOutput::Letters(Format::Html, _) => "html",
        BulkOutput::Email => "eml",
    };
    let mut base = base.clone();
    base.email = spec.channel == Channel::Email;
    let base = &base;

    let work = |job: Job| -> Result<Option<ShardDone>> {
        let (index, slices) = job;
        let mut recipients = Vec::new();
        let mut bad = Vec::new();
        let mut payload = Vec::with_capacity(4096);
        let mut n = 0u64;
        for sl in &slices {
            let rows = open_blob(&source.seal, &source.view, &sl.group, &mut payload)?;
            for LiveRow {
                batch, line, row, ..
            } in rows.into_iter().skip(sl.skip).take(sl.take)
            {
                n += 1;
                if let Some(r) = recipient(spec.kind, spec.channel, row, spec.notice_date) {
                    match required_missing(spec.kind, spec.channel, &r) {
                        Some(field) => bad.push(RowProblem {
                            batch,
                            line,
                            field: field.to_string(),
                        }),
                        None => recipients.push(((batch, line), r)),
                    }
                }
            }
        }
        progress.add(n);
        drop(slices);
        let problem_free = bad.is_empty();
        if !problem_free && let Ok(mut p) = problems.lock() {
            p.append(&mut bad);
        }
        // Once any row is bad the batch fails; keep checking rows, stop writing files.
        let any_problem = problems.lock().map(|p| !p.is_empty()).unwrap_or(true);
        if recipients.is_empty() || any_problem {
            return Ok(None);
        }
        let mut data = Sha256::new();
        for (_, r) in &recipients {
            hash_recipient(&mut data, r);
        }
        let shard = Shard {
            spec,
            base,
            renderer,
            index,
            ext,
        };
        let result = match spec.output {
            BulkOutput::Letters(format, layout) => shard.letters(&recipients, format, layout),
            BulkOutput::MailMerge => shard.mail_merge(&recipients),
            BulkOutput::Email => shard.emails(&recipients),
        };
        match result {
            Ok((partial, file)) => {
                count.fetch_add(file.count, Ordering::Relaxed);
                Ok(Some(ShardDone {
                    index,
                    partial,
                    file,
                    data: data.finalize().into(),
                }))
            }
            Err(ShardError::Rows(mut rows)) => {
                if let Ok(mut p) = problems.lock() {
                    p.append(&mut rows);
                }
                Ok(None)
            }
            Err(ShardError::Fatal(e)) => Err(e),
        }
    };

    let read_result = std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let job = match recv.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        continue;
                    }
                    match work(job) {
                        Ok(Some(d)) => {
                            if let Ok(mut v) = done.lock() {
                                v.push(d);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                        }
                    }
                }
            });
        }
        // Shards of exactly `per_file` live rows in key order, cut through groups where
        // needed (a group's live rows are its row count less its dead marks).
        let mut index = 0usize;
        let mut chunk: Vec<Slice> = Vec::new();
        let mut in_chunk = 0usize;
        let r = for_each_group(r, &inc.id, &source.view, &mut |g| {
            let rows = crate::store::roster::codec::group_header(&g.value)
                .map(|(_, n)| usize::from(n))
                .unwrap_or(0);
            let live = rows.saturating_sub(g.dead.len());
            let mut skip = 0;
            while skip < live {
                let take = (live - skip).min(per_file - in_chunk);
                chunk.push(Slice {
                    group: g.clone(),
                    skip,
                    take,
                });
                skip += take;
                in_chunk += take;
                if in_chunk >= per_file {
                    index += 1;
                    send.send((index, std::mem::take(&mut chunk)))
                        .map_err(|_| Error::Storage("the letter workers stopped".into()))?;
                    in_chunk = 0;
                }
            }
            Ok(true)
        })
        .and_then(|()| {
            if !chunk.is_empty() {
                index += 1;
                send.send((index, std::mem::take(&mut chunk)))
                    .map_err(|_| Error::Storage("the letter workers stopped".into()))?;
            }
            Ok(())
        });
        drop(send);
        r
    });
    let mut done = done
        .into_inner()
        .map_err(|_| Error::Storage("a letter worker panicked".into()))?;
    let cleanup = |done: &[ShardDone]| {
        for d in done {
            remove_partial(&d.partial);
        }
    };
    let failed = failure
        .into_inner()
        .map_err(|_| Error::Storage("a letter worker panicked".into()))?;
    if let Some(e) = failed.or(read_result.err()) {
        cleanup(&done);
        return Err(e);
    }
    let mut problems = problems
        .into_inner()
        .map_err(|_| Error::Storage("a letter worker panicked".into()))?;
    if !problems.is_empty() {
        cleanup(&done);
        problems.sort();
        return Err(rows_error(inc, spec.kind, &problems));
    }
    done.sort_by_key(|d| d.index);
    let mut all = Sha256::new();
    all.update(serde_json::to_vec(base).map_err(|e| Error::Storage(e.to_string()))?);
    for d in &done {
        all.update(d.data);
    }
    let count = count.into_inner();
    let files = match spec.output {
        BulkOutput::MailMerge => {
            let files = merge_by_zip(spec, &done, per_file);
            cleanup(&done);
            files?
        }
        BulkOutput::Email => match finish_emails(spec, &done) {
            Ok(f) => f,
            Err(e) => {
                cleanup(&done);
                return Err(e);
            }
        },
        BulkOutput::Letters(..) => {
            let mut files = Vec::with_capacity(done.len());
            for (n, d) in done.iter().enumerate() {
                let name = format!("{}-{:05}.{ext}", spec.stem, n + 1);
                if let Err(e) = std::fs::rename(&d.partial, spec.out.join(&name)) {
                    cleanup(&done);
                    return Err(Error::io(
                        format!("cannot rename {}", d.partial.display()),
                        e,
                    ));
                }
                let mut f = d.file.clone();
                f.name = name;
                files.push(f);
            }
            files
        }
    };
    Ok(Bulk {
        files,
        data_sha256: hex(&all.finalize()),
        count,
    })
}

fn remove_partial(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

/// The error for rows that cannot be addressed: how many, the first ones by import batch
/// and line with the field each lacks, and what to do.
fn rows_error(inc: &Incident, kind: LetterKind, problems: &[RowProblem]) -> Error {
    const SHOWN: usize = 20;
    let list = problems
        .iter()
        .take(SHOWN)
        .map(|p| format!("import {} line {}: {}", p.batch, p.line, p.field))
        .collect::<Vec<_>>()
        .join("; ");
    let more = if problems.len() > SHOWN {
        format!(" and {} more", problems.len() - SHOWN)
    } else {
        String::new()
    };
    Error::invalid(format!(
        "{} roster row(s) of {} cannot get their {} letter because a field it needs is empty ({list}{more}); nothing was written: fix those lines in the roster file and import it again (`breachdesk roster stats {}` shows the imports)",
        problems.len(),
        inc.id,
        kind.key(),
        inc.id
    ))
}

enum ShardError {
    /// Rows that cannot be rendered (a recipient field the template prints is empty).
    Rows(Vec<RowProblem>),
    Fatal(Error),
}

impl From<Error> for ShardError {
    fn from(e: Error) -> ShardError {
        ShardError::Fatal(e)
    }
}

struct Shard<'a> {
    spec: &'a BulkSpec<'a>,
    base: &'a LetterContext,
    renderer: &'a Renderer,
    index: usize,
    ext: &'static str,
}

type Recipients = [((u32, u64), RecipientContext)];

impl Shard<'_> {
    fn partial(&self) -> PathBuf {
        self.spec.out.join(format!(
            ".{}-{:06}.{}.partial",
            self.spec.stem, self.index, self.ext
        ))
    }

    /// Renders one letter, sorting a recipient problem from a fatal one.
    fn render(
        st: &mut Stencils,
        at: (u32, u64),
        r: &RecipientContext,
        w: &mut impl Write,
        bad: &mut Vec<RowProblem>,
    ) -> std::result::Result<(), ShardError> {
        match st.render_to(r, w) {
            Ok(()) => Ok(()),
            Err(e) => match e.missing_recipient_field() {
                Some(field) => {
                    bad.push(RowProblem {
                        batch: at.0,
                        line: at.1,
                        field: field.to_string(),
                    });
                    Ok(())
                }
                None => Err(ShardError::Fatal(letter_err(e))),
            },
        }
    }

    /// Print letters: one file per shard.
    fn letters(
        &self,
        recipients: &Recipients,
        format: Format,
        layout: Layout,
    ) -> std::result::Result<(PathBuf, ManifestFile), ShardError> {
        let partial = self.partial();
        let f = create_private_file(&partial)?;
        let result = (|| {
            // Buffer first, hash second: the hash sees 1 MiB blocks, not every small write.
            let mut w = BufWriter::with_capacity(1 << 20, HashingWriter::new(f));
            let mut st = Stencils::new(self.renderer, self.spec.kind, format, self.base);
            let mut bad = Vec::new();
            if format == Format::Html {
                letters::write_html_head(&mut w, self.spec.title, self.base.exercise, layout)
                    .map_err(letter_err)?;
            }
            for (i, (at, r)) in recipients.iter().enumerate() {
                if format == Format::Text && i > 0 {
                    // A form feed between letters: each letter starts a printed page.
                    w.write_all(b"\x0c\n").map_err(io)?;
                }
                Shard::render(&mut st, *at, r, &mut w, &mut bad)?;
            }
            if !bad.is_empty() {
                return Err(ShardError::Rows(bad));
            }
            if format == Format::Html {
                letters::write_html_foot(&mut w).map_err(letter_err)?;
            }
            let w = w.into_inner().map_err(|e| io(e.into_error()))?;
            let (sha256, bytes) = w.finish();
            Ok(ManifestFile {
                name: String::new(),
                count: recipients.len() as u64,
                bytes,
                sha256,
            })
        })();
        match result {
            Ok(file) => Ok((partial, file)),
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }

    /// The mail vendor's rows of this shard, sorted by ZIP (then roster order), without a
    /// header: [`merge_by_zip`] merges the shards.
    fn mail_merge(
        &self,
        recipients: &Recipients,
    ) -> std::result::Result<(PathBuf, ManifestFile), ShardError> {
        let mut rows: Vec<[String; 14]> = Vec::with_capacity(recipients.len());
        for (at, r) in recipients {
            match letters::mail_merge_row(self.spec.kind, self.base.exercise, r) {
                Some(row) => rows.push(row),
                None => {
                    return Err(ShardError::Rows(vec![RowProblem {
                        batch: at.0,
                        line: at.1,
                        field: "recipient.zip (5 digits or ZIP+4)".into(),
                    }]));
                }
            }
        }
        // Stable: equal ZIPs keep roster order.
        rows.sort_by(|a, b| a[11].cmp(&b[11]));
        let partial = self.partial();
        let f = create_private_file(&partial)?;
        let result = (|| {
            let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f));
            for row in &rows {
                w.write_record(row)
                    .map_err(|e| Error::Storage(format!("cannot write the mail file: {e}")))?;
            }
            w.flush().map_err(io)?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(ShardError::Fatal(e));
        }
        Ok((
            partial,
            ManifestFile {
                name: String::new(),
                count: rows.len() as u64,
                bytes: 0,
                sha256: String::new(),
            },
        ))
    }

    /// One `.eml` message per person (a text part and an HTML part, both rendered from the
    /// letter templates with the postal block left out) in a directory per shard, and the
    /// e-mail vendor's rows for them. The directory's manifest hash covers each message's
    /// name, length and bytes, in order.
    fn emails(
        &self,
        recipients: &Recipients,
    ) -> std::result::Result<(PathBuf, ManifestFile), ShardError> {
        let dir = self.partial();
        create_private_dir(&dir)?;
        let result = (|| {
            let kind = self.spec.kind;
            let from_addr = self.base.org.email.clone().ok_or_else(|| {
                Error::invalid(
                    "the organization has no e-mail address to send notices from: set it with `breachdesk org update --email ADDRESS`",
                )
            })?;
            let from_name = self.base.org.legal_name.clone().unwrap_or_default();
            let domain = from_addr
                .rsplit_once('@')
                .map_or("breachdesk.invalid", |x| x.1)
                .to_string();
            let mut text_st = Stencils::new(self.renderer, kind, Format::Text, self.base);
            let mut html_st = Stencils::new(self.renderer, kind, Format::Html, self.base);
            let mut ctx = self.base.clone();
            let mut bad = Vec::new();
            let mut hash = Sha256::new();
            let mut bytes = 0u64;
            let list = create_private_file(&dir.join(EMAIL_LIST_PARTIAL))?;
            let mut list = csv::Writer::from_writer(BufWriter::new(list));
            // Noon UTC of the notice date: a fixed date, so a batch is reproducible.
            let date = self
                .spec
                .notice_date
                .and_hms_opt(12, 0, 0)
                .map_or(0, |d| d.and_utc().timestamp());
            let (mut text, mut html) = (Vec::with_capacity(8192), Vec::with_capacity(16384));
            for (n, (at, r)) in recipients.iter().enumerate() {
                text.clear();
                html.clear();
                Shard::render(&mut text_st, *at, r, &mut text, &mut bad)?;
                Shard::render(&mut html_st, *at, r, &mut html, &mut bad)?;
                if !bad.is_empty() {
                    continue;
                }
                ctx.recipient = Some(r.clone());
                let mut subject = self
                    .renderer
                    .render_partial("email_subject", &ctx)
                    .map_err(letter_err)?;
                if self.base.exercise {
                    subject = format!("[{EXERCISE_WATERMARK}] {subject}");
                }
                let html_doc = letters::email_html_document(&subject, &html);
                let id = format!("{}.{}.{}", self.base.incident.id, self.index, n + 1);
                let boundary = format!("breachdesk-{}", hex(&Sha256::digest(id.as_bytes())));
                let message_id = format!("{id}@{domain}");
                let body = mail_builder::mime::MimePart::new(
                    mail_builder::headers::content_type::ContentType::new("multipart/alternative")
                        .attribute("boundary", boundary),
                    vec![
                        mail_builder::mime::MimePart::new(
                            "text/plain",
                            mail_builder::mime::BodyPart::Text(
                                String::from_utf8_lossy(&text).into_owned().into(),
                            ),
                        ),
                        mail_builder::mime::MimePart::new(
                            "text/html",
                            mail_builder::mime::BodyPart::Text(
                                String::from_utf8_lossy(&html_doc).into_owned().into(),
                            ),
                        ),
                    ],
                );
                let to_name = if r.name.is_empty() {
                    r.minor_name.clone().unwrap_or_default()
                } else {
                    r.name.clone()
                };
                let message = mail_builder::MessageBuilder::new()
                    .from((from_name.as_str(), from_addr.as_str()))
                    .to((to_name.as_str(), r.email.as_str()))
                    .subject(subject.as_str())
                    .date(date)
                    .message_id(message_id.as_str())
                    .body(body)
                    .write_to_vec()
                    .map_err(io)?;
                let name = format!("{:05}.eml", n + 1);
                let mut f = create_private_file(&dir.join(&name))?;
                f.write_all(&message).map_err(io)?;
                hash.update((name.len() as u64).to_be_bytes());
                hash.update(name.as_bytes());
                hash.update((message.len() as u64).to_be_bytes());
                hash.update(&message);
                bytes += message.len() as u64;
                list.write_record(letters::email_list_row(kind, r, &name))
                    .map_err(|e| Error::Storage(format!("cannot write the e-mail list: {e}")))?;
            }
            if !bad.is_empty() {
                return Err(ShardError::Rows(bad));
            }
            list.flush().map_err(io)?;
            Ok(ManifestFile {
                name: String::new(),
                count: recipients.len() as u64,
                bytes,
                sha256: hex(&hash.finalize()),
            })
        })();
        match result {
            Ok(file) => Ok((dir, file)),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }
}

/// Merges the shards' ZIP-sorted rows into the mail vendor's files (`per_file` rows each,
/// each with its header), in ZIP order across the whole batch: k-way, reading one row per
/// shard at a time, so memory stays bounded by the number of shards.
fn merge_by_zip(spec: &BulkSpec, done: &[ShardDone], per_file: usize) -> Result<Vec<ManifestFile>> {
    struct Head {
        zip: String,
        shard: usize,
        row: csv::StringRecord,
    }
    impl PartialEq for Head {
        fn eq(&self, o: &Self) -> bool {
            (&self.zip, self.shard) == (&o.zip, o.shard)
        }
    }
    impl Eq for Head {}
    impl PartialOrd for Head {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Head {
        // Reversed: BinaryHeap is a max-heap. Equal ZIPs: the earlier shard first.
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            (&o.zip, o.shard).cmp(&(&self.zip, self.shard))
        }
    }
    let csv_err = |e: csv::Error| Error::Storage(format!("cannot merge the mail file: {e}"));
    let mut readers = Vec::with_capacity(done.len());
    for d in done {
        let f = File::open(&d.partial)
            .map_err(|e| Error::io(format!("cannot read {}", d.partial.display()), e))?;
        readers.push(
            csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(BufReader::with_capacity(1 << 16, f)),
        );
    }
    let mut heap = BinaryHeap::new();
    let next =
        |readers: &mut Vec<csv::Reader<BufReader<File>>>, shard: usize| -> Result<Option<Head>> {
            let mut row = csv::StringRecord::new();
            if readers[shard].read_record(&mut row).map_err(csv_err)? {
                Ok(Some(Head {
                    zip: row.get(11).unwrap_or("").to_string(),
                    shard,
                    row,
                }))
            } else {
                Ok(None)
            }
        };
    for i in 0..readers.len() {
        if let Some(h) = next(&mut readers, i)? {
            heap.push(h);
        }
    }
    let mut files = Vec::new();
    // The open output shard: its writer, file name and rows so far.
    type Shard = (csv::Writer<BufWriter<HashingWriter<File>>>, String, u64);
    let mut current: Option<Shard> = None;
    let close = |c: Shard, files: &mut Vec<ManifestFile>| -> Result<()> {
        let (w, name, n) = c;
        let w = w
            .into_inner()
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        let h = w.into_inner().map_err(|e| io(e.into_error()))?;
        let (sha256, bytes) = h.finish();
        files.push(ManifestFile {
            name,
            count: n,
            bytes,
            sha256,
        });
        Ok(())
    };
    while let Some(h) = heap.pop() {
        if current.is_none() {
            let name = format!("{}-{:05}.csv", spec.stem, files.len() + 1);
            let f = create_private_file(&spec.out.join(&name))?;
            let mut w =
                csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, HashingWriter::new(f)));
            w.write_record(letters::MAIL_MERGE_HEADER)
                .map_err(csv_err)?;
            current = Some((w, name, 0));
        }
        if let Some((w, _, n)) = current.as_mut() {
            w.write_record(&h.row).map_err(csv_err)?;
            *n += 1;
        }
        if current.as_ref().is_some_and(|c| c.2 as usize >= per_file)
            && let Some(c) = current.take()
        {
            close(c, &mut files)?;
        }
        if let Some(n) = next(&mut readers, h.shard)? {
            heap.push(n);
        }
    }
    if let Some(c) = current.take() {
        close(c, &mut files)?;
    }
    Ok(files)
}

/// Names the e-mail shard directories in order and writes the e-mail vendor's file, which
/// names each message by its path in the batch.
fn finish_emails(spec: &BulkSpec, done: &[ShardDone]) -> Result<Vec<ManifestFile>> {
    let mut files = Vec::with_capacity(done.len() + 1);
    let list_name = format!("{}-recipients.csv", spec.stem);
    let list_path = spec.out.join(&list_name);
    let f = create_private_file(&list_path)?;
    let mut list = csv::Writer::from_writer(BufWriter::new(HashingWriter::new(f)));
    let csv_err = |e: csv::Error| Error::Storage(format!("cannot write the e-mail list: {e}"));
    list.write_record(letters::EMAIL_LIST_HEADER)
        .map_err(csv_err)?;
    let mut rows = 0u64;
    for (n, d) in done.iter().enumerate() {
        let name = format!("{}-{:05}", spec.stem, n + 1);
        let fin = spec.out.join(&name);
        std::fs::rename(&d.partial, &fin)
            .map_err(|e| Error::io(format!("cannot rename {}", d.partial.display()), e))?;
        let part = fin.join(EMAIL_LIST_PARTIAL);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(BufReader::new(File::open(&part).map_err(|e| {
                Error::io(format!("cannot read {}", part.display()), e)
            })?));
        let mut rec = csv::StringRecord::new();
        while r.read_record(&mut rec).map_err(csv_err)? {
            let mut cells: Vec<String> = rec.iter().map(str::to_string).collect();
            if let Some(last) = cells.last_mut() {
                *last = format!("{name}/{last}");
            }
            list.write_record(&cells).map_err(csv_err)?;
            rows += 1;
        }
        std::fs::remove_file(&part)
            .map_err(|e| Error::io(format!("cannot remove {}", part.display()), e))?;
        let mut f = d.file.clone();
        f.name = format!("{name}/");
        files.push(f);
    }
    let w = list
        .into_inner()
        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    let h = w.into_inner().map_err(|e| io(e.into_error()))?;
    let (sha256, bytes) = h.finish();
    // The list names the messages above; it is not a document itself.
    debug_assert_eq!(rows, done.iter().map(|d| d.file.count).sum::<u64>());
    files.push(ManifestFile {
        name: list_name,
        count: 0,
        bytes,
        sha256,
    });
    Ok(files)
}

/// Writes the CSV identifying each individual (164.410(c)(1)) of the covered entity named
/// (all of the roster's when `entity` is `None`: a roster without a covered-entity column);
/// returns how many.
pub fn attachment(
    r: &Reader,
    inc: &Incident,
    codec: &PhiCodec,
    path: &Path,
    entity: Option<&str>,
) -> Result<u64> {
    let source = RosterSource::open(r, inc, codec)?;
    // PHI: owner-only, and only under its name once complete.
    let f = crate::files::AtomicFile::create(path, true)?;
    let mut w = csv::Writer::from_writer(f);
    let header = [
        "id",
        "first_name",
        "last_name",
        "address1",
        "address2",
        "city",
        "state",
        "zip",
        "email",
        "deceased",
        "nok_name",
        "nok_address",
        "nok_city",
        "nok_state",
        "nok_zip",
        "date_of_birth",
        "covered_entity",
    ];
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("cannot write the identification CSV", io),
        other => Error::Storage(format!("cannot write the identification CSV: {other:?}")),
    };
    w.write_record(header).map_err(csv_err)?;
    let mut n = 0u64;
    source.for_each_row(r, inc, &mut |_, row| {
        let r = row.row;
        if !of_entity(&r, entity) {
            return Ok(true);
        }
        let dob = r.date_of_birth.map(|d| d.to_string()).unwrap_or_default();
        let cells = [
            r.id.as_str(),
            &r.first_name,
            &r.last_name,
            &r.address1,
            &r.address2,
            &r.city,
            r.state.as_deref().unwrap_or(""),
            &r.zip,
            &r.email,
            if r.deceased { "yes" } else { "no" },
            &r.nok_name,
            &r.nok_address,
            &r.nok_city,
            r.nok_state.as_deref().unwrap_or(""),
            &r.nok_zip,
            &dob,
            &r.covered_entity,
        ];
        w.write_record(
            cells
                .iter()
                .map(|c| letters::neutralize_formula(c).into_owned()),
        )
        .map_err(csv_err)?;
        n += 1;
        Ok(true)
    })?;
    w.flush()
        .map_err(|e| Error::io("cannot write the identification CSV", e))?;
    w.into_inner()
        .map_err(|e| Error::io("cannot write the identification CSV", e.into_error()))?
        .commit()?;
    Ok(n)
}

/// A file name part for a covered entity: lowercase letters and digits, hyphens between.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "entity".into()
    } else {
        out.chars().take(60).collect()
    }
}

/// The business associate's notices to covered entities (164.410), one per covered entity
/// with the CSV identifying that entity's individuals and no one else's: every entity of the
/// roster's covered-entity column (or the one named), or, for a roster without that column,
/// the entity named (default the organization's only `--serves`). Writes the CSVs into
/// `out`; returns each letter's context (its `attachment_name` is the CSV's file name).
pub fn ba_to_ce(
    r: &Reader,
    inc: &Incident,
    codec: &PhiCodec,
    org: &crate::domain::Organization,
    named: Option<&str>,
    counts: &crate::domain::Counts,
    out: &Path,
) -> Result<Vec<letters::BaToCeContext>> {
    let totals = r.roster_totals(&inc.id)?;
    let entities: Vec<String> = totals
        .as_ref()
        .map(|t| t.by_entity.keys().cloned().collect())
        .unwrap_or_default();
    // (the covered entity's name, the roster's entity to select, its counts)
    let targets: Vec<(String, Option<String>, crate::domain::Counts)> = if entities.is_empty() {
        let ce = match named {
            Some(n) => n.to_string(),
            None if org.serves.len() > 1 => {
                return Err(Error::invalid(format!(
                    "this business associate serves {} covered entities but the roster has no covered-entity column, so it cannot tell whose individuals are whose: import the roster with a covered_entity column (aliases: \"Covered Entity\", \"Client\"), or name the one covered entity all of them belong to with --covered-entity NAME",
                    org.serves.len()
                )));
            }
            None => org.serves.first().cloned().ok_or_else(|| {
                Error::invalid(
                    "name the covered entity with --covered-entity NAME (or record it with `org update --serves`)",
                )
            })?,
        };
        vec![(ce, None, counts.clone())]
    } else {
        let by = |e: &str| {
            totals
                .as_ref()
                .and_then(|t| t.by_entity.get(e).cloned())
                .unwrap_or_default()
        };
        match named {
            Some(n) => {
                let e = entities
                    .iter()
                    .find(|e| fold_entity(e) == fold_entity(n))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "--covered-entity names no covered entity of the roster's covered-entity column; the roster has: {}",
                            entities.join(", ")
                        ))
                    })?;
                vec![(e.clone(), Some(e.clone()), by(e))]
            }
            None => entities
                .iter()
                .map(|e| (e.clone(), Some(e.clone()), by(e)))
                .collect(),
        }
    };
    let mut used: Vec<String> = Vec::new();
    let mut letters_out = Vec::new();
    for (ce, filter, ce_counts) in targets {
        let name = match &filter {
            None => "ba_to_ce-individuals.csv".to_string(),
            Some(e) => {
                let mut base = format!("ba_to_ce-individuals-{}", slug(e));
                let mut k = 2;
                while used.contains(&base) {
                    base = format!("ba_to_ce-individuals-{}-{k}", slug(e));
                    k += 1;
                }
                used.push(base.clone());
                format!("{base}.csv")
            }
        };
        let n = attachment(r, inc, codec, &out.join(&name), filter.as_deref())?;
        if n == 0 {
            let _ = std::fs::remove_file(out.join(&name));
            return Err(Error::invalid(format!(
                "the roster holds no individual of {ce} to identify to it"
            )));
        }
        let mut b = letters::BaToCeContext::new(&org.legal_name, &ce, &ce_counts, &name);
        b.individuals_count = n;
        letters_out.push(b);
    }
    Ok(letters_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn row() -> RosterRow {
        RosterRow {
            id: "1".into(),
            first_name: "Casey".into(),
            last_name: "Sample".into(),
            address1: "40 Lake Drive".into(),
            city: "Lakeside".into(),
            state: Some("CA".into()),
            zip: "900021234".into(),
            representative_name: "Pat Sample".into(),
            credit_monitoring_code: "C-1".into(),
            ..RosterRow::default()
        }
    }

    #[test]
    fn a_minor_by_date_of_birth_at_the_notice_date_gets_the_parents_letter() {
        let notice = d("2026-11-20");
        let mut r = row();
        // 18 the day after the notice: still a minor on the notice date.
        r.date_of_birth = Some(d("2008-11-21"));
        let rc =
            recipient(LetterKind::Individual, Channel::Mail, r.clone(), notice).expect("a letter");
        assert_eq!(rc.minor_name.as_deref(), Some("Casey Sample"));
        assert_eq!(rc.name, "Pat Sample");
        assert_eq!(rc.zip, "90002-1234");
        assert_eq!(rc.credit_code.as_deref(), Some("C-1"));
        // 18 on the notice date: written to them.
        r.date_of_birth = Some(d("2008-11-20"));
        let rc =
            recipient(LetterKind::Individual, Channel::Mail, r.clone(), notice).expect("a letter");
        assert_eq!((rc.minor_name, rc.name.as_str()), (None, "Casey Sample"));
        // The roster's flag wins over the date of birth.
        r.minor = Some(true);
        assert!(
            recipient(LetterKind::Individual, Channel::Mail, r, notice)
                .expect("a letter")
                .minor_name
                .is_some()
        );
    }

    #[test]
    fn email_consent_puts_a_person_in_the_email_batch_never_the_print_batch() {
        let notice = d("2026-11-20");
        let mut r = row();
        r.email = "casey@example.org".into();
        r.email_consent = true;
        assert!(recipient(LetterKind::Individual, Channel::Mail, r.clone(), notice).is_none());
        let rc = recipient(LetterKind::Individual, Channel::Email, r.clone(), notice)
            .expect("an e-mail");
        assert!(rc.address_lines.is_empty() && rc.email == "casey@example.org");
        // Without consent: the letter, and no e-mail.
        r.email_consent = false;
        assert!(recipient(LetterKind::Individual, Channel::Email, r.clone(), notice).is_none());
        assert!(recipient(LetterKind::Individual, Channel::Mail, r, notice).is_some());
    }

    #[test]
    fn required_fields_are_named() {
        let notice = d("2026-11-20");
        // A row without a usable name needs fixing: no letter (it is counted unreachable).
        let mut r = row();
        r.first_name.clear();
        r.last_name = "Unknown".into();
        assert!(recipient(LetterKind::Individual, Channel::Mail, r, notice).is_none());
        // Whatever the roster held, a letter without its name is named by the field.
        let mut rc =
            recipient(LetterKind::Individual, Channel::Mail, row(), notice).expect("a letter");
        rc.name.clear();
        assert_eq!(
            required_missing(LetterKind::Individual, Channel::Mail, &rc),
            Some("recipient.name (the individual's name)")
        );
        let mut minor = row();
        minor.minor = Some(true);
        let mut rc =
            recipient(LetterKind::Individual, Channel::Mail, minor, notice).expect("a letter");
        rc.minor_name = Some(String::new());
        assert_eq!(
            required_missing(LetterKind::Individual, Channel::Mail, &rc),
            Some("recipient.minor_name (the child's name)")
        );
    }
}
