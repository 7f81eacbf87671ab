//! Letters and the reports that go with them: render a batch (`letters render`), check
//! and store counsel's templates, the HHS annual log, the letter context of an incident.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use super::bulk::{self, BulkOutput, BulkSpec, Channel};
use super::change::Plan;
use super::evaluate::{Policies, evaluate};
use super::office::{Desk, counts_or_estimate};
use super::progress::Progress;
use super::records::Derived;
use crate::audit::entry::hex;
use crate::domain::vocab::state_name;
use crate::domain::*;
use crate::error::{Error, Result};
use crate::files::{create_private_dir, create_private_file, sync_dir};
use crate::laws::schema::Rule as _;
use crate::letters::manifest::HashingWriter;
pub use crate::letters::manifest::{Manifest, ManifestFile};
use crate::letters::{
    self, AnnualLogRecord, CheckFinding, Format, HhsWorksheet, IncidentContext, Layout,
    LeDelayContext, LetterContext, LetterKind, MediaContext, OrgContext, RecipientContext,
    RegulatorContext, Renderer, ReportType, SubstituteContext,
};
use crate::rules::{DeterminationClass, ObligationStatus};
use crate::store::{Action, Change, Subject};

/// Letters per shard file unless the request says otherwise.
pub const DEFAULT_SHARD: usize = 10_000;

/// Template and data problems are invalid input (3); reading or writing files is an I/O
/// error (8), e.g. a full disk while writing letters.
fn letter_error(e: letters::LetterError) -> Error {
    e.into()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn sha256_file(p: &Path) -> Result<String> {
    // A pipe or a device (`/dev/zero`) would never end, or could not be hashed again later.
    if p.exists() && !crate::files::is_regular_file(p) {
        return Err(Error::invalid(format!(
            "{} is not a regular file: the evidence must be a file whose SHA-256 can be checked again later",
            p.display()
        )));
    }
    let mut f = File::open(p).map_err(|e| crate::files::read_error(p, "evidence file", e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)
        .map_err(|e| Error::io(format!("cannot read {}", p.display()), e))?;
    Ok(hex(&h.finalize()))
}

// ---------------------------------------------------------------- contexts

/// The letter context of an incident: the organization and the incident's facts, dated
/// `notice_date`. Facts only: every sentence is in the templates.
pub fn base_context(org: &Organization, inc: &Incident, notice_date: NaiveDate) -> LetterContext {
    LetterContext::new(
        OrgContext::from_org(org),
        IncidentContext::from_facts(inc.id.as_str(), &inc.facts, org.role, notice_date),
        inc.exercise,
    )
}

/// The addressee of a sample copy sent to a State regulator: placeholders where a
/// resident's name, address and enrollment code would be, so the copy shows the letter as
/// residents get it without anyone's personal information.
pub fn sample_copy_recipient(state: &str, base: &LetterContext) -> RecipientContext {
    let p = |x: &str| format!("[{x}]");
    RecipientContext {
        id: p("Record number"),
        name: p("Resident's name"),
        address_lines: vec![p("Street address")],
        city: p("City"),
        state: state.to_string(),
        zip: p("ZIP code"),
        email: String::new(),
        deceased_name: None,
        minor_name: None,
        credit_code: base
            .incident
            .credit_monitoring
            .as_ref()
            .map(|_| p("Enrollment code")),
        first_name: p("First name"),
        last_name: p("Last name"),
    }
}

// ---------------------------------------------------------------- sharded output

/// What a batch of shards holds and how it is split.
pub struct ShardSpec {
    /// File-name stem, e.g. `individual-text`.
    pub stem: String,
    pub format: Format,
    pub per_file: usize,
    pub title: String,
    pub exercise: bool,
    pub layout: Layout,
}

/// Writes documents into shard files under a directory, via `.partial` names renamed only
/// when complete, so an interrupted render never leaves a file that looks finished.
pub struct Shards<'a> {
    dir: PathBuf,
    stem: String,
    format: Format,
    per_file: usize,
    title: String,
    exercise: bool,
    layout: Layout,
    renderer: &'a Renderer,
    current: Option<(HashingWriter<BufWriter<File>>, String, u64)>,
    done: Vec<ManifestFile>,
    partials: Vec<PathBuf>,
    data: Sha256,
    pub count: u64,
}

impl<'a> Shards<'a> {
    pub fn new(dir: &Path, spec: ShardSpec, renderer: &'a Renderer) -> Shards<'a> {
        Shards {
            dir: dir.to_path_buf(),
            stem: spec.stem,
            format: spec.format,
            per_file: spec.per_file.max(1),
            title: spec.title,
            exercise: spec.exercise,
            layout: spec.layout,
            renderer,
            current: None,
            done: Vec::new(),
            partials: Vec::new(),
            data: Sha256::new(),
            count: 0,
        }
    }

    fn ext(&self) -> &'static str {
        match self.format {
            Format::Text => "txt",
            Format::Html => "html",
        }
    }

    fn open(&mut self) -> Result<()> {
        let name = format!("{}-{:05}.{}", self.stem, self.done.len() + 1, self.ext());
        let partial = self.dir.join(format!(".{name}.partial"));
        let f = create_private_file(&partial)?;
        self.partials.push(partial);
        let mut w = HashingWriter::new(BufWriter::with_capacity(1 << 20, f));
        if self.format == Format::Html {
            letters::write_html_head(&mut w, &self.title, self.exercise, self.layout)
                .map_err(letter_error)?;
        }
        self.current = Some((w, name, 0));
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let Some((mut w, name, n)) = self.current.take() else {
            return Ok(());
        };
        if self.format == Format::Html {
            letters::write_html_foot(&mut w).map_err(letter_error)?;
        }
        w.flush()
            .map_err(|e| Error::io(format!("cannot write {name}"), e))?;
        let (sha256, bytes) = w.finish();
        self.done.push(ManifestFile {
            name,
            count: n,
            bytes,
            sha256,
        });
        Ok(())
    }

    /// Renders one document into the current shard.
    pub fn push(&mut self, kind: LetterKind, ctx: &LetterContext) -> Result<()> {
        if self.current.is_none() {
            self.open()?;
        }
        let json = serde_json::to_vec(ctx).map_err(|e| Error::Storage(e.to_string()))?;
        self.data.update((json.len() as u64).to_be_bytes());
        self.data.update(&json);
        let format = self.format;
        let first = self.current.as_ref().is_some_and(|c| c.2 == 0);
        let (w, _, _) = self
            .current
            .as_mut()
            .ok_or_else(|| Error::Storage("no open shard".into()))?;
        if format == Format::Text && !first {
            // A form feed between letters: one letter per printed page.
            w.write_all(b"\x0c\n")
                .map_err(|e| Error::io("cannot write a letter", e))?;
        }
        self.renderer
            .render_to(kind, format, ctx, w)
            .map_err(letter_error)?;
        let full = {
            let c = self
                .current
                .as_mut()
                .ok_or_else(|| Error::Storage("no open shard".into()))?;
            c.2 += 1;
            c.2 as usize >= self.per_file
        };
        self.count += 1;
        if full {
            self.close()?;
        }
        Ok(())
    }

    /// Finishes the shards and describes them in a manifest.
    pub fn manifest(
        self,
        inc: &Incident,
        kind: LetterKind,
        format: &str,
        notice_date: NaiveDate,
        template_sha256: String,
    ) -> Result<Manifest> {
        let (files, data) = self.finish()?;
        Ok(manifest_for(
            inc,
            kind,
            format,
            notice_date,
            files,
            template_sha256,
            data,
        ))
    }

    /// Closes the last shard and renames every file to its final name.
    pub fn finish(mut self) -> Result<(Vec<ManifestFile>, String)> {
        self.close()?;
        for f in &self.done {
            let partial = self.dir.join(format!(".{}.partial", f.name));
            let fin = self.dir.join(&f.name);
            std::fs::rename(&partial, &fin)
                .map_err(|e| Error::io(format!("cannot rename {}", partial.display()), e))?;
        }
        self.partials.clear();
        let data = hex(&self.data.clone().finalize());
        Ok((std::mem::take(&mut self.done), data))
    }
}

impl Drop for Shards<'_> {
    fn drop(&mut self) {
        for p in &self.partials {
            let _ = std::fs::remove_file(p);
        }
    }
}

// ---------------------------------------------------------------- letters render

/// Which templates a command uses: a directory given on the command line, else the
/// organization's stored set, else the embedded templates.
pub enum TemplateSet {
    Embedded,
    /// Read once from the directory (no symbolic link out of it, each file bounded), so what
    /// is checked, rendered and hashed is the same text.
    Dir(PathBuf, BTreeMap<String, String>),
    Stored(BTreeMap<String, String>),
}

impl TemplateSet {
    /// A directory given on the command line (read now), else the stored set, else the
    /// embedded.
    pub fn resolve(
        stored: Option<BTreeMap<String, String>>,
        dir: Option<&Path>,
    ) -> Result<TemplateSet> {
        Ok(match (dir, stored) {
            (Some(d), _) => TemplateSet::Dir(
                d.to_path_buf(),
                letters::read_template_dir(d).map_err(letter_error)?,
            ),
            (None, Some(m)) => TemplateSet::Stored(m),
            (None, None) => TemplateSet::Embedded,
        })
    }

    /// The overrides, if any.
    fn overrides(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            TemplateSet::Embedded => None,
            TemplateSet::Dir(_, m) | TemplateSet::Stored(m) => Some(m),
        }
    }

    /// The renderer, refused when an override set lacks a required element: every set is
    /// checked wherever it is used, as `letters templates set` checks it before storing.
    pub fn renderer(&self) -> Result<Renderer> {
        let Some(m) = self.overrides() else {
            // The embedded set is checked by the test suite.
            return Renderer::new().map_err(letter_error);
        };
        // A template that fails only on data some incidents lack (an unknown date) is still
        // used: strict rendering refuses exactly those incidents, naming the field.
        let findings = letters::check_overrides(m).map_err(letter_error)?;
        if let Some(f) = findings.iter().find(|f| !f.caught_when_rendering) {
            return Err(Error::invalid(format!(
                "the template set{} is not used: {} fails element {}: {}; run `breachdesk letters check` on it",
                self.describe(),
                f.file,
                f.element,
                f.what
            )));
        }
        Renderer::with_overrides(m).map_err(letter_error)
    }

    /// How `letters check` names the set checked.
    pub fn describe(&self) -> String {
        match self {
            TemplateSet::Embedded => String::new(),
            TemplateSet::Dir(d, _) => format!(" (overrides from {})", d.display()),
            TemplateSet::Stored(m) => {
                format!(" (the organization's stored set: {} file(s))", m.len())
            }
        }
    }
}

/// SHA-256 of the template source `renderer` compiled for `kind`/`format` (empty when there
/// is none).
pub fn template_hash(renderer: &Renderer, kind: LetterKind, format: Format) -> String {
    renderer
        .sources()
        .templates
        .iter()
        .find(|(e, _)| e.kind == kind && e.format == format)
        .map(|(_, src)| hex(&Sha256::digest(src.as_bytes())))
        .unwrap_or_default()
}

/// SHA-256 over every partial `renderer` compiled for `format`, in file-name order: for each,
/// the file name and its text, each as a u64 big-endian length and the UTF-8 bytes.
pub fn partials_hash(renderer: &Renderer, format: Format) -> String {
    let mut parts: Vec<_> = renderer
        .sources()
        .partials
        .iter()
        .filter(|(p, _)| p.in_format(format))
        .collect();
    parts.sort_by_key(|(p, _)| p.file);
    let mut h = Sha256::new();
    for (p, src) in parts {
        for b in [p.file.as_bytes(), src.as_bytes()] {
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
    }
    hex(&h.finalize())
}

/// `letters templates export`: writes every built-in template and partial, and an example
/// `headings.toml`, into `dir` (created). Existing files are kept unless `force`. Returns
/// how many files were written.
pub fn export_templates(dir: &Path, force: bool) -> Result<usize> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let files = template_files();
    // Refuse before writing anything, so a refused export leaves the directory as it was.
    for (name, _) in &files {
        crate::files::refuse_existing(&dir.join(name), force)?;
    }
    for (name, text) in &files {
        let p = dir.join(name);
        if force && std::fs::symlink_metadata(&p).is_ok() {
            std::fs::remove_file(&p)
                .map_err(|e| Error::io(format!("cannot replace {}", p.display()), e))?;
        }
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        let mut f = o
            .open(&p)
            .map_err(|e| Error::io(format!("cannot create {}", p.display()), e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", p.display()), e))?;
    }
    Ok(files.len())
}

/// Every file counsel may override, with its built-in text: the templates, the partials and
/// the headings map (whose built-in text is the commented example `export` writes).
pub fn template_files() -> Vec<(&'static str, &'static str)> {
    let mut files: Vec<(&str, &str)> = letters::REGISTRY
        .iter()
        .map(|e| (e.file, e.source))
        .collect();
    files.extend(letters::PARTIALS.iter().map(|p| (p.file, p.source)));
    files.push((letters::HEADINGS_FILE, HEADINGS_EXAMPLE));
    files
}

/// The `headings.toml` that `letters templates export` writes: every key commented out.
const HEADINGS_EXAMPLE: &str =
    "# Headings `letters check` accepts for each element of 45 CFR 164.404(c)(1), besides
# the defaults (What Happened? / What Information Was Involved? / What You Can Do. /
# What We Are Doing. / For More Information.). Case and trailing punctuation are ignored.
# A = [\"Here is what happened\"]
# B = [\"The information involved\"]
# C = [\"Steps you can take\"]
# D = [\"Our response\"]
# E = [\"Questions\"]
";

/// What a batch is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    Text,
    /// Print-ready, one letter per page (or two, duplex).
    Html,
    /// Mail-vendor merge data (individual and next-of-kin letters), sorted by ZIP.
    Csv,
    /// The HHS worksheet as JSON (hhs_notice only).
    Json,
    /// One e-mail message (`.eml`, text and HTML parts) per individual who agreed to
    /// electronic notice, and the e-mail vendor's list (individual letters only).
    Email,
}

impl RenderFormat {
    /// `text` (or `txt`), `html`, `csv`, `json`, `email` (or `eml`).
    pub fn from_key(s: &str) -> Option<RenderFormat> {
        match s.trim() {
            "text" | "txt" => Some(RenderFormat::Text),
            "html" => Some(RenderFormat::Html),
            "csv" => Some(RenderFormat::Csv),
            "json" => Some(RenderFormat::Json),
            "email" | "eml" => Some(RenderFormat::Email),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            RenderFormat::Text => "text",
            RenderFormat::Html => "html",
            RenderFormat::Csv => "csv",
            RenderFormat::Json => "json",
            RenderFormat::Email => "email",
        }
    }
}

/// A point of `letters render` at which a test build can stop the process as a crash would
/// (`--crash-at`, debug builds only), to prove that an interrupted batch is never in place
/// without its audit entry and that a re-run completes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// Every file and `manifest.json` written in the staging directory; nothing recorded.
    BeforeAudit,
    /// The audit entry committed; the batch not yet moved into place.
    BeforeMove,
}

impl CrashPoint {
    pub fn from_key(s: &str) -> Option<CrashPoint> {
        match s {
            "before-audit" => Some(CrashPoint::BeforeAudit),
            "before-move" => Some(CrashPoint::BeforeMove),
            _ => None,
        }
    }
}

/// `letters render`.
#[derive(Debug, Clone)]
pub struct RenderLetters {
    pub id: IncidentId,
    pub kind: LetterKind,
    pub format: RenderFormat,
    /// The output directory: must not exist, or be empty. The batch is written beside it
    /// and moved into place once recorded.
    pub out: PathBuf,
    /// Template overrides instead of the stored set.
    pub templates: Option<PathBuf>,
    /// Letters per file.
    pub shard_size: usize,
    /// The date printed on the notices (default: today).
    pub notice_date: Option<NaiveDate>,
    /// HHS worksheet: an addendum to a previous report.
    pub addendum: bool,
    /// ba_to_ce: the covered entity notified (default: the first one the organization serves).
    pub covered_entity: Option<String>,
    /// state_regulator: only this State's notices (two-letter code).
    pub jurisdiction: Option<String>,
    /// state_regulator: only the regulator with this id in the State's rules (`ag`).
    pub recipient: Option<String>,
    /// Draft notices even when the determination on record is "not a breach".
    pub force: bool,
    /// Print layout of HTML letters.
    pub layout: Layout,
    /// Test builds only: stop as a crash would at this point.
    pub crash_at: Option<CrashPoint>,
}

impl RenderLetters {
    /// The template format and what is written; refuses combinations that do not exist
    /// (needs no database).
    pub fn check(&self) -> Result<(Format, Output)> {
        let kind = self.kind;
        let (format, output) = match self.format {
            RenderFormat::Text => (Format::Text, Output::Documents),
            RenderFormat::Html => (Format::Html, Output::Documents),
            RenderFormat::Csv => (Format::Text, Output::MailMerge),
            RenderFormat::Email => (Format::Text, Output::Email),
            RenderFormat::Json if kind == LetterKind::HhsNotice => (Format::Text, Output::Json),
            RenderFormat::Json => {
                return Err(Error::invalid(
                    "--format json exists for hhs_notice only; accepted: text, html, csv (mail-vendor file), email (individual), json (hhs_notice)",
                ));
            }
        };
        if output == Output::MailMerge
            && !matches!(kind, LetterKind::Individual | LetterKind::NextOfKin)
        {
            return Err(Error::invalid(
                "--format csv (the mail vendor's file) exists for individual and next_of_kin letters",
            ));
        }
        if output == Output::Email && kind != LetterKind::Individual {
            return Err(Error::invalid(
                "--format email exists for individual letters (people who agreed to electronic notice, 164.404(d)(1)(i)); next-of-kin letters go by mail",
            ));
        }
        if (self.jurisdiction.is_some() || self.recipient.is_some())
            && kind != LetterKind::StateRegulator
        {
            return Err(Error::invalid(
                "--jurisdiction and --recipient choose State regulator notices: add --kind state_regulator",
            ));
        }
        if self.layout != Layout::Single && kind == LetterKind::StateRegulator {
            return Err(Error::invalid(
                "--layout duplex is for letters to individuals; a State regulator notice prints on single pages",
            ));
        }
        if self.layout != Layout::Single && self.format != RenderFormat::Html {
            return Err(Error::invalid(
                "--layout applies to printed letters: add --format html",
            ));
        }
        if output == Output::Documents && letters::entry(kind, format).is_none() {
            return Err(Error::invalid(format!(
                "there is no {} template for {}; hhs_notice renders as text or json",
                format.key(),
                kind.key()
            )));
        }
        if self.shard_size == 0 {
            return Err(Error::invalid("--shard-size must be at least 1"));
        }
        Ok((format, output))
    }
}

/// What a batch writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Letters or notices from the templates.
    Documents,
    /// The mail vendor's merge file.
    MailMerge,
    /// E-mail messages and the e-mail vendor's list.
    Email,
    /// The HHS worksheet as JSON.
    Json,
}

/// A rendered batch: its manifest (written as `manifest.json` in `out`) and the manifest's
/// SHA-256, which the audit trail records.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub manifest: Manifest,
    pub manifest_sha256: String,
    pub out: PathBuf,
    /// This run completed a batch an earlier, interrupted run had rendered and recorded
    /// (it was moved into place now, not rendered again).
    pub completed_earlier: bool,
    /// The batch's number with its incident (`letters approve ID BATCH`): a draft until
    /// counsel approves it.
    pub batch: u32,
}

/// Refuses an output directory that holds anything (an earlier batch is evidence: it is
/// never written over) or is a symbolic link.
fn check_out_dir(out: &Path) -> Result<()> {
    match std::fs::symlink_metadata(out) {
        Err(_) => Ok(()),
        Ok(m) if m.file_type().is_symlink() => Err(Error::invalid(format!(
            "{} is a symbolic link; name a new directory for the batch",
            out.display()
        ))),
        Ok(m) if !m.is_dir() => Err(Error::invalid(format!(
            "{} exists and is not a directory; name a new directory for the batch",
            out.display()
        ))),
        Ok(_) => {
            let mut items = std::fs::read_dir(out)
                .map_err(|e| Error::io(format!("cannot read {}", out.display()), e))?;
            if items.next().is_some() {
                let what = if out.join("manifest.json").exists() {
                    "already holds a rendered batch (manifest.json)"
                } else {
                    "is not empty"
                };
                return Err(Error::invalid(format!(
                    "{} {what}; choose a new or empty --out directory (batches are never written over)",
                    out.display()
                )));
            }
            Ok(())
        }
    }
}

/// Moves a recorded batch from its staging directory to `out` (a rename, which replaces
/// an empty `out`), and makes the move durable.
fn move_into_place(staging: &Path, out: &Path) -> Result<()> {
    if let Ok(m) = std::fs::symlink_metadata(out)
        && m.is_dir()
    {
        // An empty directory the user made for the batch: rename replaces it.
        let _ = std::fs::remove_dir(out);
    }
    std::fs::rename(staging, out)
        .map_err(|e| Error::io(format!("cannot move the batch into {}", out.display()), e))?;
    sync_dir(out.parent());
    Ok(())
}

/// Test builds: stop here as a crash would (no clean-up, no destructors).
fn crash_point(at: Option<CrashPoint>, here: CrashPoint) {
    if cfg!(debug_assertions) && at == Some(here) {
        std::process::abort();
    }
}

/// Where a batch is written before it is recorded: beside the output directory, so the
/// move into place is a rename on one file system.
pub fn staging_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "letters".into());
    out.with_file_name(format!(".{name}.partial"))
}

fn manifest_for(
    inc: &Incident,
    kind: LetterKind,
    format: &str,
    notice_date: NaiveDate,
    files: Vec<ManifestFile>,
    template_sha256: String,
    data_sha256: String,
) -> Manifest {
    Manifest {
        format_version: 1,
        incident: inc.id.to_string(),
        kind: kind.key().into(),
        format: format.into(),
        exercise: inc.exercise,
        notice_date: ymd(notice_date),
        count: files.iter().map(|f| f.count).sum(),
        template_sha256,
        data_sha256,
        files,
        partials_sha256: None,
        channel: None,
        layout: None,
        pages_per_letter: None,
    }
}

/// The HHS worksheet, with the substitute and media answers taken from the engine.
pub fn worksheet(
    org: &Organization,
    inc: &Incident,
    counts: &Counts,
    ev: &crate::rules::Evaluation,
    addendum: bool,
    covered_entity: Option<&str>,
) -> HhsWorksheet {
    let began = inc
        .notices
        .iter()
        .filter(|n| n.kind == ObligationKind::Individual)
        .map(|n| n.date)
        .min();
    let report = if addendum {
        ReportType::Addendum
    } else {
        ReportType::Initial
    };
    let mut ws = HhsWorksheet::from_facts(org, &inc.facts, counts, report, began, covered_entity);
    let required = |k: ObligationKind| {
        ev.obligations
            .iter()
            .any(|o| o.kind == k && !matches!(o.status, ObligationStatus::NotRequired { .. }))
    };
    ws.substitute_notice_required = required(ObligationKind::SubstituteInformal)
        || required(ObligationKind::SubstituteWebOrMedia);
    ws.media_notice_required = required(ObligationKind::Media);
    ws
}

/// The stored template set's files with their SHA-256 (`letters templates show`).
#[derive(Debug, Clone)]
pub struct StoredTemplate {
    pub file: String,
    pub sha256: String,
}

/// `letters check`: renders every template (of `set`) against sample data and names any
/// missing required element (164.404(c)).
pub fn check_templates(set: &TemplateSet) -> Result<Vec<CheckFinding>> {
    match set.overrides() {
        Some(m) => letters::check_overrides(m),
        None => letters::check_templates(None),
    }
    .map_err(letter_error)
}

impl Desk<'_> {
    /// The organization's stored template set, if any.
    pub fn stored_templates(&self) -> Result<Option<BTreeMap<String, String>>> {
        self.reader()?.templates()
    }

    /// The templates a render or check uses: `dir`, else the stored set, else the embedded.
    pub fn template_set(&self, dir: Option<&Path>) -> Result<TemplateSet> {
        if dir.is_some() {
            return TemplateSet::resolve(None, dir);
        }
        TemplateSet::resolve(self.stored_templates()?, None)
    }

    /// `letters templates set`: stores counsel's templates (file name → text) once
    /// `letters check` passes on them. Returns how many.
    pub fn store_templates(&self, set: &BTreeMap<String, String>, origin: &str) -> Result<usize> {
        if set.is_empty() {
            return Err(Error::invalid(format!("{origin} holds no template files")));
        }
        let findings = letters::check_overrides(set).map_err(letter_error)?;
        if let Some(f) = findings.first() {
            return Err(Error::invalid(format!(
                "not stored: {} fails element {}: {} ({} finding(s); run `breachdesk letters check {origin}`)",
                f.file,
                f.element,
                f.what,
                findings.len(),
            )));
        }
        self.store().write(&self.actor()?, |w| {
            let json = w.put_templates(set)?;
            let hash = hex(&Sha256::digest(&json));
            Ok((
                (),
                Change::new(Action::OrgTemplates, Subject::Org)
                    .detail(format!("files={} sha256={hash}", set.len())),
            ))
        })?;
        Ok(set.len())
    }

    /// `letters templates show`.
    pub fn template_hashes(&self) -> Result<Vec<StoredTemplate>> {
        Ok(self
            .stored_templates()?
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| StoredTemplate {
                file: k.clone(),
                sha256: hex(&Sha256::digest(v.as_bytes())),
            })
            .collect())
    }

    /// `letters templates clear`: the embedded templates apply again.
    pub fn clear_templates(&self) -> Result<()> {
        self.store().write(&self.actor()?, |w| {
            if !w.clear_templates()? {
                return Err(Error::invalid("there is no stored template set to clear"));
            }
            Ok(((), Change::new(Action::OrgTemplatesClear, Subject::Org)))
        })
    }

    /// The letter context of an incident (everything but the recipient), as rendering uses it.
    /// Release 0.1's fields are filled from the template set's partials, as rendering does.
    pub fn letter_context(&self, id: &IncidentId, notice_date: NaiveDate) -> Result<LetterContext> {
        let codec = self.codec(true)?;
        let inc = self.reader()?.incident(id, codec)?;
        let mut base = base_context(&self.org_unlocked()?, &inc, notice_date);
        self.template_set(None)?.renderer()?.fill_legacy(&mut base);
        Ok(base)
    }

    /// `letters render`: every document of a kind into sharded files and `manifest.json`,
    /// whose hash goes into the audit trail (one `letters.render` entry).
    ///
    /// The batch is written into a staging directory beside `out` (owner-only), its
    /// manifest hash committed with the audit entry, and only then moved into place: a
    /// crash leaves no batch in `out` that the audit trail does not record. A re-run after a
    /// crash finds the staging directory: a batch already recorded is moved into place
    /// (not rendered again); anything else is removed and the batch rendered anew.
    pub fn render_letters(&self, a: &RenderLetters, progress: &dyn Progress) -> Result<Rendered> {
        let (format, output) = a.check()?;
        check_out_dir(&a.out)?;
        let staging = staging_dir(&a.out);
        if std::fs::symlink_metadata(&staging).is_ok() {
            if let Some(done) = self.complete_recorded(a, &staging)? {
                return Ok(done);
            }
            std::fs::remove_dir_all(&staging).map_err(|e| {
                Error::io(
                    format!(
                        "cannot remove {}, left by an interrupted run",
                        staging.display()
                    ),
                    e,
                )
            })?;
        }
        create_private_dir(&staging)?;
        let m = match self.render_into(a, format, output, &staging, progress) {
            Ok(m) => m,
            Err(e) => {
                // Nothing was recorded: leave nothing behind.
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        self.finish_batch(a, &staging, m)
    }

    /// An interrupted run's staging directory whose manifest the audit trail records: moved
    /// into place. `None` when it holds no recorded batch (the caller removes it).
    fn complete_recorded(&self, a: &RenderLetters, staging: &Path) -> Result<Option<Rendered>> {
        let Ok(json) = std::fs::read(staging.join("manifest.json")) else {
            return Ok(None);
        };
        let hash = hex(&Sha256::digest(&json));
        let r = self.reader()?;
        let recorded = r
            .batches(&a.id)?
            .into_iter()
            .find(|(_, m)| m.manifest_sha256 == hash)
            .map(|(n, _)| n);
        drop(r);
        let Some(batch) = recorded else {
            return Ok(None);
        };
        let m: Manifest = serde_json::from_slice(&json).map_err(|_| {
            Error::invalid(format!(
                "{} holds a recorded batch whose manifest.json cannot be read; move it away and run `breachdesk audit verify`",
                staging.display()
            ))
        })?;
        let format_key = a.format.key();
        if m.kind != a.kind.key()
            || (m.format != format_key && !(m.format == "text" && format_key == "text"))
        {
            return Err(Error::invalid(format!(
                "{} holds a batch of {} letters as {} that was recorded but not moved into place; run the same `letters render --kind {} --format {}` again to complete it",
                staging.display(),
                m.kind,
                m.format,
                m.kind,
                m.format
            )));
        }
        move_into_place(staging, &a.out)?;
        Ok(Some(Rendered {
            manifest: m,
            manifest_sha256: hash,
            out: a.out.clone(),
            completed_earlier: true,
            batch,
        }))
    }

    /// Renders the batch into `dir`; returns its manifest (not yet written).
    fn render_into(
        &self,
        a: &RenderLetters,
        format: Format,
        output: Output,
        dir: &Path,
        progress: &dyn Progress,
    ) -> Result<Manifest> {
        let id = &a.id;
        let kind = a.kind;
        // Every letter quotes sealed text (the public summary, the privacy officer).
        let codec = self.codec(true)?;
        let org = &self.org_unlocked()?;
        let today = self.today()?;
        let notice_date = a.notice_date.unwrap_or(today);
        let templates = self.template_set(a.templates.as_deref())?;
        let renderer = templates.renderer()?;
        let needs_phi = matches!(
            kind,
            LetterKind::Individual | LetterKind::NextOfKin | LetterKind::BaToCe
        );
        if needs_phi {
            self.roster_current(id)?;
        }
        let r = self.reader()?;
        let inc = r.incident(id, codec)?;
        let d = Derived::from(r.derived(id, codec)?);
        let counts = counts_or_estimate(r.roster_counts(id)?, &inc);
        let ev = evaluate(
            org,
            self.laws()?,
            &inc,
            &d,
            &counts,
            Policies::default(),
            today,
        );
        // A State regulator notice follows the State's law, not HIPAA's class (some States
        // want notice of a no-harm determination); it is drafted when a State requires it.
        if ev.effective_class != DeterminationClass::Breach
            && !a.force
            && kind != LetterKind::StateRegulator
        {
            return Err(Error::invalid(format!(
                "{} is not a breach on record ({}): notices are not required; run `breachdesk assess`, or pass --force to draft anyway",
                id,
                ev.effective_class.key()
            )));
        }
        let mut base = base_context(org, &inc, notice_date);
        renderer.fill_legacy(&mut base);
        let title = format!("{} — {} notices", org.legal_name, kind.key());
        let fmt = match output {
            Output::MailMerge => "csv",
            Output::Email => "email",
            Output::Json => "json",
            Output::Documents => format.key(),
        };
        let stem = format!(
            "{}-{}",
            kind.key(),
            match output {
                Output::MailMerge => "mail-merge",
                Output::Email => "email",
                _ => format.key(),
            }
        );
        let mut shards = Shards::new(
            dir,
            ShardSpec {
                stem: stem.clone(),
                format,
                per_file: a.shard_size,
                title: title.clone(),
                exercise: inc.exercise,
                layout: a.layout,
            },
            &renderer,
        );
        let (th, ph) = match output {
            Output::MailMerge | Output::Json => (String::new(), None),
            Output::Email => {
                let t = template_hash(&renderer, kind, Format::Text);
                let h = template_hash(&renderer, kind, Format::Html);
                let pt = partials_hash(&renderer, Format::Text);
                let py = partials_hash(&renderer, Format::Html);
                (
                    hex(&Sha256::digest(format!("{t}\n{h}\n").as_bytes())),
                    Some(hex(&Sha256::digest(format!("{pt}\n{py}\n").as_bytes()))),
                )
            }
            Output::Documents => (
                template_hash(&renderer, kind, format),
                Some(partials_hash(&renderer, format)),
            ),
        };
        let channel = if output == Output::Email {
            Channel::Email
        } else {
            Channel::Mail
        };
        let mut m = match kind {
            LetterKind::Individual | LetterKind::NextOfKin => {
                progress.start("letters", counts.total, false);
                let bulk = bulk::render_bulk(
                    &r,
                    &inc,
                    codec,
                    &renderer,
                    &base,
                    &BulkSpec {
                        kind,
                        channel,
                        output: match output {
                            Output::MailMerge => BulkOutput::MailMerge,
                            Output::Email => BulkOutput::Email,
                            _ => BulkOutput::Letters(format, a.layout),
                        },
                        notice_date,
                        stem: &stem,
                        title: &title,
                        per_file: a.shard_size,
                        out: dir,
                    },
                    progress,
                )?;
                progress.finish();
                if bulk.count == 0 {
                    return Err(Error::invalid(format!(
                        "no roster row of {id} gets a {} {}; nothing was written",
                        kind.key(),
                        match (kind, channel) {
                            (LetterKind::Individual, Channel::Email) =>
                                "e-mail (no living individual agreed to electronic notice with a usable address)",
                            (LetterKind::Individual, Channel::Mail) =>
                                "letter by mail (no living individual with a complete postal address who did not agree to e-mail)",
                            _ => "letter (no deceased individual with a known next-of-kin address)",
                        }
                    )));
                }
                manifest_for(
                    &inc,
                    kind,
                    fmt,
                    notice_date,
                    bulk.files,
                    th,
                    bulk.data_sha256,
                )
            }
            LetterKind::Media => {
                let states: Vec<String> = ev
                    .obligations
                    .iter()
                    .filter(|o| o.kind == ObligationKind::Media && o.status.is_required())
                    .filter_map(|o| o.jurisdiction.clone())
                    .collect();
                if states.is_empty() {
                    return Err(Error::invalid(
                        "no State or jurisdiction has more than 500 residents: media notice is not required (164.406)",
                    ));
                }
                for st in states {
                    let code = st.split(':').next().unwrap_or(&st).to_string();
                    let n = counts
                        .by_jurisdiction
                        .get(&st)
                        .or_else(|| counts.by_state.get(&code))
                        .copied()
                        .unwrap_or(0);
                    let mut m = MediaContext::new(&code, n);
                    if st.contains(':') {
                        m.state_name = format!(
                            "{} ({})",
                            st.split_once(':').map(|x| x.1).unwrap_or(""),
                            state_name(&code)
                        );
                    }
                    shards.push(kind, &base.clone().with_media(m))?;
                }
                shards.manifest(&inc, kind, fmt, notice_date, th)?
            }
            LetterKind::SubstituteWeb | LetterKind::SubstituteMedia => {
                let s = SubstituteContext::new(notice_date, notice_date, counts.unreachable);
                shards.push(kind, &base.clone().with_substitute(s))?;
                shards.manifest(&inc, kind, fmt, notice_date, th)?
            }
            LetterKind::HhsNotice => {
                let ws = worksheet(
                    org,
                    &inc,
                    &counts,
                    &ev,
                    a.addendum,
                    a.covered_entity.as_deref(),
                );
                if output == Output::Json {
                    let json =
                        letters::hhs_worksheet_json(&ws, inc.exercise).map_err(letter_error)?;
                    let mut f = create_private_file(&dir.join("hhs_notice.json"))?;
                    f.write_all(json.as_bytes())
                        .map_err(|e| Error::io("cannot write hhs_notice.json", e))?;
                    let sha = hex(&Sha256::digest(json.as_bytes()));
                    manifest_for(
                        &inc,
                        kind,
                        "json",
                        notice_date,
                        vec![ManifestFile {
                            name: "hhs_notice.json".into(),
                            count: 1,
                            bytes: json.len() as u64,
                            sha256: sha.clone(),
                        }],
                        String::new(),
                        sha,
                    )
                } else {
                    shards.push(kind, &base.clone().with_hhs(ws))?;
                    shards.manifest(&inc, kind, fmt, notice_date, th)?
                }
            }
            LetterKind::BaToCe => {
                // One letter per covered entity, each with only its individuals.
                let ces = bulk::ba_to_ce(
                    &r,
                    &inc,
                    codec,
                    org,
                    a.covered_entity.as_deref(),
                    &counts,
                    dir,
                )?;
                let mut attachments = Vec::new();
                for b in ces {
                    attachments.push(b.attachment_name.clone());
                    shards.push(kind, &base.clone().with_ba_to_ce(b))?;
                }
                let mut m = shards.manifest(&inc, kind, fmt, notice_date, th)?;
                for name in attachments {
                    let p = dir.join(&name);
                    m.files.push(ManifestFile {
                        name,
                        count: 0,
                        bytes: std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0),
                        sha256: sha256_file(&p)?,
                    });
                }
                m
            }
            LetterKind::StateRegulator => {
                drop(shards);
                let (files, data, sampled) = self.regulator_letters(
                    a, &inc, &counts, &ev, &renderer, &base, format, dir, &title,
                )?;
                let th = if sampled {
                    let i = template_hash(&renderer, LetterKind::Individual, format);
                    hex(&Sha256::digest(format!("{th}\n{i}\n").as_bytes()))
                } else {
                    th
                };
                manifest_for(&inc, kind, fmt, notice_date, files, th, data)
            }
            LetterKind::LeDelayMemo => {
                if inc.facts.law_enforcement.is_empty() {
                    return Err(Error::invalid(
                        "no law-enforcement statement is recorded for this incident (law_enforcement in the facts)",
                    ));
                }
                for s in &inc.facts.law_enforcement {
                    shards.push(
                        kind,
                        &base
                            .clone()
                            .with_le_delay(LeDelayContext::from_statement(s, org.le_policy)),
                    )?;
                }
                shards.manifest(&inc, kind, fmt, notice_date, th)?
            }
        };
        drop(r);
        m.partials_sha256 = ph;
        m.channel = match output {
            Output::Email => Some("email".into()),
            Output::MailMerge => Some("mail".into()),
            Output::Documents if kind.is_notice_to_individuals() || kind == LetterKind::BaToCe => {
                Some("mail".into())
            }
            _ => None,
        };
        if output == Output::Documents && format == Format::Html {
            m.layout = Some(a.layout.key().into());
            m.pages_per_letter = Some(a.layout.pages_per_letter());
        }
        Ok(m)
    }

    /// One notice per State regulator the engine says is owed (`--jurisdiction` and
    /// `--recipient` narrow it), each in its own file, and a sample copy of the notice to
    /// residents (a placeholder recipient, no one's personal information) for a regulator
    /// the State's content rule names in `sample_to` (California's Attorney General,
    /// Cal. Civ. Code 1798.82(f)). Returns the files, the data hash and whether a sample
    /// copy was rendered.
    #[allow(clippy::too_many_arguments)]
    fn regulator_letters(
        &self,
        a: &RenderLetters,
        inc: &Incident,
        counts: &Counts,
        ev: &crate::rules::Evaluation,
        renderer: &Renderer,
        base: &LetterContext,
        format: Format,
        dir: &Path,
        title: &str,
    ) -> Result<(Vec<ManifestFile>, String, bool)> {
        let laws = self.laws()?;
        let owed: Vec<&crate::rules::Obligation> = ev
            .obligations
            .iter()
            .filter(|o| o.kind == ObligationKind::StateRegulator && o.status.is_required())
            .collect();
        let chosen: Vec<&crate::rules::Obligation> = owed
            .iter()
            .copied()
            .filter(|o| {
                a.jurisdiction
                    .as_deref()
                    .is_none_or(|j| o.jurisdiction.as_deref() == Some(j))
                    && a.recipient
                        .as_deref()
                        .is_none_or(|r| o.recipient.as_deref() == Some(r))
            })
            .collect();
        if chosen.is_empty() {
            let listed: Vec<String> = owed
                .iter()
                .map(|o| {
                    format!(
                        "{} {}",
                        o.jurisdiction.as_deref().unwrap_or("?"),
                        o.recipient.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            return Err(Error::invalid(if owed.is_empty() {
                format!(
                    "no State regulator notice is owed for {}: no State law with residents among the affected requires one (see `breachdesk deadlines {}`)",
                    inc.id, inc.id
                )
            } else {
                format!(
                    "no owed State regulator notice matches --jurisdiction/--recipient; owed: {}",
                    listed.join(", ")
                )
            }));
        }
        let spec = |stem: String| ShardSpec {
            stem,
            format,
            per_file: 1,
            title: title.to_string(),
            exercise: inc.exercise,
            layout: Layout::Single,
        };
        let mut files = Vec::new();
        let mut data = Sha256::new();
        let mut sampled = false;
        // The first notice to individuals on record (HIPAA's, or a State's).
        let residents_notified = inc
            .notices
            .iter()
            .filter(|n| {
                matches!(
                    n.kind,
                    ObligationKind::Individual | ObligationKind::StateIndividual
                )
            })
            .map(|n| n.date)
            .min();
        for o in chosen {
            let code = o.jurisdiction.clone().unwrap_or_default();
            let rid = o.recipient.clone().unwrap_or_default();
            let law = laws.get(&code).ok_or_else(|| {
                Error::Storage(format!("the State rules in force have no file for {code}"))
            })?;
            let version = law
                .file
                .version
                .iter()
                .find(|v| Some(v.effective) == o.effective)
                .ok_or_else(|| {
                    Error::Storage(format!(
                        "the State rules for {code} have no version effective {:?}",
                        o.effective
                    ))
                })?;
            let rule = version
                .regulator
                .iter()
                .find(|r| r.id == rid)
                .ok_or_else(|| {
                    Error::Storage(format!(
                        "the State rules for {code} name no regulator {rid}"
                    ))
                })?;
            let provenance = rule.provenance();
            let mut reg = RegulatorContext {
                jurisdiction: code.clone(),
                state_name: state_name(&code).to_string(),
                rule_id: rid.clone(),
                name: rule.name.clone(),
                residents: counts.by_state.get(&code).copied().unwrap_or(0),
                total_individuals: counts.total,
                cite: rule.cite.clone(),
                standard: rule.standard.clone(),
                due: letters::opt_date(o.due),
                method: letters::text(&rule.method),
                condition: letters::text(&rule.condition),
                content: rule.content.clone(),
                le_delayed: ev.delay.is_some(),
                no_harm: rule.when == crate::laws::schema::When::NoHarmDetermination,
                before_residents: rule.before,
                residents_notified: letters::opt_date(residents_notified),
                sample_copy: None,
                verified: provenance.is_verified(),
                provenance: provenance.describe(),
                effective: letters::long_date(version.effective),
            };
            let stem = format!("state_regulator-{code}-{rid}");
            let wants_sample = version
                .content
                .as_ref()
                .and_then(|c| c.sample_to.as_deref())
                == Some(rid.as_str());
            if wants_sample {
                let mut shards = Shards::new(dir, spec(format!("{stem}-sample-copy")), renderer);
                shards.push(
                    LetterKind::Individual,
                    &base
                        .clone()
                        .with_recipient(sample_copy_recipient(&code, base)),
                )?;
                let (mut f, d) = shards.finish()?;
                data.update(d.as_bytes());
                for x in &mut f {
                    // An enclosure, not a notice: it does not count as a letter.
                    x.count = 0;
                    reg.sample_copy = Some(x.name.clone());
                }
                files.extend(f);
                sampled = true;
            }
            let mut shards = Shards::new(dir, spec(stem), renderer);
            shards.push(
                LetterKind::StateRegulator,
                &base.clone().with_regulator(reg),
            )?;
            let (f, d) = shards.finish()?;
            data.update(d.as_bytes());
            files.extend(f);
        }
        Ok((files, hex(&data.finalize()), sampled))
    }

    /// Writes `manifest.json` into the staging directory, records the batch and its hash
    /// with the incident (one audit entry), then moves the batch into place.
    fn finish_batch(&self, a: &RenderLetters, staging: &Path, m: Manifest) -> Result<Rendered> {
        let recorded = (|| {
            let json =
                serde_json::to_string_pretty(&m).map_err(|e| Error::Storage(e.to_string()))? + "\n";
            let path = staging.join("manifest.json");
            let mut f = create_private_file(&path)?;
            f.write_all(json.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            drop(f);
            for f in &m.files {
                // Shard files are synced before they count as written.
                if let Ok(file) = File::open(staging.join(f.name.trim_end_matches('/'))) {
                    let _ = file.sync_all();
                }
            }
            sync_dir(Some(staging));
            crash_point(a.crash_at, CrashPoint::BeforeAudit);
            let hash = hex(&Sha256::digest(json.as_bytes()));
            let plan = Plan {
                action: Action::LettersRender,
                touch: false,
                refresh: false,
                expect: None,
                record: false,
            };
            let c = self.change_incident(&a.id, plan, |e| {
                e.add_manifest(&m, &hash);
                Ok((
                    (),
                    format!(
                        "kind={} format={} count={} manifest_sha256={hash}",
                        m.kind, m.format, m.count
                    ),
                ))
            })?;
            Ok((hash, c.batch.unwrap_or_default()))
        })();
        let (hash, batch) = match recorded {
            Ok(h) => h,
            Err(e) => {
                // Not recorded: leave nothing behind.
                let _ = std::fs::remove_dir_all(staging);
                return Err(e);
            }
        };
        crash_point(a.crash_at, CrashPoint::BeforeMove);
        // Recorded: from here on a failure leaves the staging directory for a re-run to
        // move into place, never removes it.
        move_into_place(staging, &a.out).map_err(|e| {
            Error::invalid(format!(
                "the batch is rendered and recorded (manifest sha256 {hash}) but could not be moved into place ({e}); run the same command again to complete it"
            ))
        })?;
        Ok(Rendered {
            manifest: m,
            manifest_sha256: hash,
            out: a.out.clone(),
            completed_earlier: false,
            batch,
        })
    }

    /// `hhs annual-log`: one record per breach under 500 discovered in `year` (164.408(c)).
    pub fn annual_log(&self, year: i32) -> Result<Vec<AnnualLogRecord>> {
        let codec = self.codec(true)?;
        let org = &self.org_unlocked()?;
        let today = self.today()?;
        let r = self.reader()?;
        let mut records = Vec::new();
        for inc in r.incidents(codec)? {
            if inc.exercise {
                continue;
            }
            let d = Derived::from(r.derived(&inc.id, codec)?);
            let counts = counts_or_estimate(r.roster_counts(&inc.id)?, &inc);
            let ev = evaluate(
                org,
                self.laws()?,
                &inc,
                &d,
                &counts,
                Policies::default(),
                today,
            );
            // The year of discovery as the engine established it (typed, or the earliest
            // discovery event that counts), 164.408(c).
            if ev.clock.date.map(|d| d.year()) != Some(year) {
                continue;
            }
            let annual = ev
                .obligations
                .iter()
                .any(|o| o.kind == ObligationKind::HhsAnnual && o.status.is_required());
            if ev.effective_class == DeterminationClass::Breach && annual {
                let ws = worksheet(org, &inc, &counts, &ev, false, None);
                records.push(AnnualLogRecord::from_worksheet(inc.id.as_str(), &ws, false));
            }
        }
        Ok(records)
    }
}
