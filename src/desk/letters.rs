//! Letters and the reports that go with them: render a batch (`letters render`), check
//! and store counsel's templates, the HHS annual log, the letter context of an incident.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use super::bulk::{self, BulkSpec};
use super::change::Plan;
use super::evaluate::{Policies, evaluate};
use super::office::{Desk, counts_or_estimate};
use super::progress::Progress;
use super::records::Derived;
use crate::audit::entry::hex;
use crate::domain::vocab::{BreachType, state_name};
use crate::domain::*;
use crate::error::{Error, Result};
use crate::letters::manifest::HashingWriter;
pub use crate::letters::manifest::{Manifest, ManifestFile};
use crate::letters::{
    self, AnnualLogRecord, CheckFinding, Format, HhsWorksheet, IncidentContext, LeDelayContext,
    LetterContext, LetterKind, MediaContext, OrgContext, Renderer, ReportType, SubstituteContext,
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

/// A plain-language "What Happened?" built from the facts when counsel wrote none.
pub fn what_happened(f: &Facts, role: Role) -> String {
    if !f.breach.public_summary.trim().is_empty() {
        return f.breach.public_summary.trim().to_string();
    }
    let kind = match f.breach.types.first() {
        Some(BreachType::Theft) => "a theft",
        Some(BreachType::Loss) => "a loss",
        Some(BreachType::HackingItIncident) => "a cyber-security incident",
        Some(BreachType::ImproperDisposal) => "an improper disposal of records",
        Some(BreachType::UnauthorizedAccessDisclosure) => "an unauthorized access or disclosure",
        _ => "an incident",
    };
    let place = if f.breach.locations.is_empty() {
        String::new()
    } else {
        format!(
            " involving {}",
            f.breach
                .locations
                .iter()
                .map(|l| match l {
                    vocab::Location::DesktopComputer => "a desktop computer",
                    vocab::Location::ElectronicMedicalRecord =>
                        "our electronic medical record system",
                    vocab::Location::Email => "e-mail",
                    vocab::Location::Laptop => "a laptop computer",
                    vocab::Location::NetworkServer => "a network server",
                    vocab::Location::OtherPortableElectronicDevice =>
                        "a portable electronic device",
                    vocab::Location::PaperFilms => "paper records or films",
                    vocab::Location::Other => "other records",
                })
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    let when = match (f.breach.start, f.breach.end) {
        (Some(s), Some(e)) if s != e => format!(" between {} and {}", fmt_long(s), fmt_long(e)),
        (Some(s), _) => format!(" on {}", fmt_long(s)),
        _ => String::new(),
    };
    // The discovery date the engine established (typed, or the earliest event that counts).
    let found = crate::rules::discovery::discover(f, role)
        .date
        .map(|d| format!(" We discovered it on {}.", fmt_long(d)))
        .unwrap_or_default();
    format!(
        "We learned of {kind}{place}{when} that may have exposed some of your health information.{found}"
    )
}

fn fmt_long(d: NaiveDate) -> String {
    d.format("%B %-d, %Y").to_string()
}

pub fn base_context(org: &Organization, inc: &Incident, notice_date: NaiveDate) -> LetterContext {
    let mut ic = IncidentContext::from_facts(
        inc.id.as_str(),
        &inc.facts,
        org.role,
        &what_happened(&inc.facts, org.role),
        notice_date,
    );
    if ic.what_we_are_doing.is_empty() {
        // 164.404(c)(1)(D) must never be blank: say what every response does.
        ic.what_we_are_doing = vec![
            "We are investigating what happened and have taken steps to contain the incident.".into(),
            "We are reviewing our safeguards, policies and training to help prevent this from happening again.".into(),
        ];
    }
    LetterContext::new(OrgContext::from_org(org), ic, inc.exercise)
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
        let f = File::create(&partial)
            .map_err(|e| Error::io(format!("cannot create {}", partial.display()), e))?;
        self.partials.push(partial);
        let mut w = HashingWriter::new(BufWriter::with_capacity(1 << 20, f));
        if self.format == Format::Html {
            letters::write_html_head(&mut w, &self.title, self.exercise).map_err(letter_error)?;
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
        let findings = letters::check_overrides(m).map_err(letter_error)?;
        if let Some(f) = findings.first() {
            return Err(Error::invalid(format!(
                "the template set{} is not used: {} ({}) is missing required element {}: {}; run `breachdesk letters check` on it",
                self.describe(),
                f.kind.key(),
                f.format.key(),
                f.element,
                f.what
            )));
        }
        Renderer::with_overrides(m).map_err(letter_error)
    }

    /// SHA-256 of the template source used for `kind`/`format`.
    pub fn hash(&self, kind: LetterKind, format: Format) -> Result<String> {
        let Some(e) = letters::entry(kind, format) else {
            return Ok(String::new());
        };
        let src = match self.overrides().and_then(|m| m.get(e.file)) {
            Some(text) => text.as_bytes().to_vec(),
            None => e.source.as_bytes().to_vec(),
        };
        Ok(hex(&Sha256::digest(&src)))
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

/// What a batch is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    Text,
    /// Print-ready, one letter per page.
    Html,
    /// Mail-vendor merge data (individual and next-of-kin letters).
    Csv,
    /// The HHS worksheet as JSON (hhs_notice only).
    Json,
}

impl RenderFormat {
    /// `text` (or `txt`), `html`, `csv`, `json`.
    pub fn from_key(s: &str) -> Option<RenderFormat> {
        match s.trim() {
            "text" | "txt" => Some(RenderFormat::Text),
            "html" => Some(RenderFormat::Html),
            "csv" => Some(RenderFormat::Csv),
            "json" => Some(RenderFormat::Json),
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
    /// The output directory (created; must not hold an earlier batch).
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
    /// Draft notices even when the determination on record is "not a breach".
    pub force: bool,
}

impl RenderLetters {
    /// The template format and whether the batch is mail-merge CSV; refuses combinations
    /// that do not exist (needs no database).
    pub fn check(&self) -> Result<(Format, bool)> {
        let (format, csv) = match self.format {
            RenderFormat::Text => (Format::Text, false),
            RenderFormat::Html => (Format::Html, false),
            RenderFormat::Csv => (Format::Text, true),
            RenderFormat::Json if self.kind == LetterKind::HhsNotice => (Format::Text, false),
            RenderFormat::Json => {
                return Err(Error::invalid(
                    "--format is not recognised; accepted: text, html, csv (mail-merge data), json (hhs_notice only)",
                ));
            }
        };
        if csv && !matches!(self.kind, LetterKind::Individual | LetterKind::NextOfKin) {
            return Err(Error::invalid(
                "--format csv (mail-merge data) exists for individual and next_of_kin letters",
            ));
        }
        if letters::entry(self.kind, format).is_none() && !csv {
            return Err(Error::invalid(format!(
                "there is no {} template for {}; hhs_notice renders as text or json",
                format.key(),
                self.kind.key()
            )));
        }
        Ok((format, csv))
    }
}

/// A rendered batch: its manifest (written as `manifest.json` in `out`) and the manifest's
/// SHA-256, which the audit trail records.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub manifest: Manifest,
    pub manifest_sha256: String,
    pub out: PathBuf,
    /// The batch's number with its incident (`letters approve ID BATCH`): a draft until
    /// counsel approves it.
    pub batch: u32,
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
    }
}

/// The HHS worksheet, with the substitute and media answers taken from the engine.
pub fn worksheet(
    org: &Organization,
    inc: &Incident,
    counts: &Counts,
    ev: &crate::rules::Evaluation,
    addendum: bool,
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
    let mut ws = HhsWorksheet::from_facts(org, &inc.facts, counts, report, began);
    let required = |k: ObligationKind| {
        ev.obligations
            .iter()
            .any(|o| o.kind == k && !matches!(o.status, ObligationStatus::NotRequired { .. }))
    };
    ws.substitute_notice_required = required(ObligationKind::SubstituteInformal)
        || required(ObligationKind::SubstituteWebOrMedia);
    ws.media_notice_required = required(ObligationKind::Media);
    if !inc.facts.breach.public_summary.trim().is_empty() {
        ws.description = inc.facts.breach.public_summary.trim().to_string();
    }
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
                "not stored: {} ({}) is missing required element {}: {} ({} finding(s); run `breachdesk letters check {origin}`)",
                f.kind.key(),
                f.format.key(),
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
    pub fn letter_context(&self, id: &IncidentId, notice_date: NaiveDate) -> Result<LetterContext> {
        let codec = self.codec(true)?;
        let inc = self.reader()?.incident(id, codec)?;
        Ok(base_context(&self.org_unlocked()?, &inc, notice_date))
    }

    /// `letters render`: every document of a kind into sharded files and `manifest.json`,
    /// whose hash goes into the audit trail (one `letters.render` entry).
    ///
    /// Counsel's approval of the batch (issue 12, section 3) comes later: the stored manifest
    /// is the draft it will approve.
    pub fn render_letters(&self, a: &RenderLetters, progress: &dyn Progress) -> Result<Rendered> {
        let id = &a.id;
        let kind = a.kind;
        let (format, csv) = a.check()?;
        // Every letter quotes sealed text (the public summary, the privacy officer).
        let codec = self.codec(true)?;
        let org = &self.org_unlocked()?;
        let today = self.today()?;
        let notice_date = a.notice_date.unwrap_or(today);
        let templates = self.template_set(a.templates.as_deref())?;
        let renderer = templates.renderer()?;
        std::fs::create_dir_all(&a.out)
            .map_err(|e| Error::io(format!("cannot create {}", a.out.display()), e))?;
        if a.out.join("manifest.json").exists() {
            return Err(Error::invalid(format!(
                "{} already holds a rendered batch (manifest.json); choose an empty --out directory",
                a.out.display()
            )));
        }
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
        if ev.effective_class != DeterminationClass::Breach && !a.force {
            return Err(Error::invalid(format!(
                "{} is not a breach on record ({}): notices are not required; run `breachdesk assess`, or pass --force to draft anyway",
                id,
                ev.effective_class.key()
            )));
        }
        let base = base_context(org, &inc, notice_date);
        let title = format!("{} — {} notices", org.legal_name, kind.key());
        let stem = format!(
            "{}-{}",
            kind.key(),
            if csv { "mail-merge" } else { format.key() }
        );
        let spec = ShardSpec {
            stem: stem.clone(),
            format,
            per_file: a.shard_size,
            title: title.clone(),
            exercise: inc.exercise,
        };
        let mut shards = Shards::new(&a.out, spec, &renderer);
        let mut attachments: Vec<String> = Vec::new();
        progress.start("letters", counts.total, false);
        match kind {
            LetterKind::Individual | LetterKind::NextOfKin => {
                let bulk = bulk::render_bulk(
                    &r,
                    &inc,
                    codec,
                    &renderer,
                    &base,
                    &BulkSpec {
                        kind,
                        format,
                        csv,
                        stem: &stem,
                        title: &title,
                        per_file: a.shard_size,
                        out: &a.out,
                    },
                    progress,
                )?;
                progress.finish();
                drop(r);
                drop(shards);
                if bulk.count == 0 {
                    return Err(Error::invalid(format!(
                        "no roster row of {id} gets a {} letter ({}); nothing was written",
                        kind.key(),
                        if kind == LetterKind::Individual {
                            "no living individual with a usable postal address or e-mail consent"
                        } else {
                            "no deceased individual with a known next-of-kin address"
                        }
                    )));
                }
                let fmt = if csv { "csv" } else { format.key() };
                let th = if csv {
                    String::new()
                } else {
                    templates.hash(kind, format)?
                };
                let m = manifest_for(
                    &inc,
                    kind,
                    fmt,
                    notice_date,
                    bulk.files,
                    th,
                    bulk.data_sha256,
                );
                return self.finish_batch(&a.out, m);
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
            }
            LetterKind::SubstituteWeb | LetterKind::SubstituteMedia => {
                let s = SubstituteContext::new(notice_date, notice_date, counts.unreachable);
                shards.push(kind, &base.clone().with_substitute(s))?;
            }
            LetterKind::HhsNotice => {
                let ws = worksheet(org, &inc, &counts, &ev, a.addendum);
                if a.format == RenderFormat::Json {
                    let json =
                        letters::hhs_worksheet_json(&ws, inc.exercise).map_err(letter_error)?;
                    crate::files::write_atomic(
                        &a.out.join("hhs_notice.json"),
                        json.as_bytes(),
                        true,
                    )?;
                    let m = manifest_for(
                        &inc,
                        kind,
                        "json",
                        notice_date,
                        vec![ManifestFile {
                            name: "hhs_notice.json".into(),
                            count: 1,
                            bytes: json.len() as u64,
                            sha256: hex(&Sha256::digest(json.as_bytes())),
                        }],
                        String::new(),
                        hex(&Sha256::digest(json.as_bytes())),
                    );
                    drop(r);
                    return self.finish_batch(&a.out, m);
                }
                shards.push(kind, &base.clone().with_hhs(ws))?;
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
                    &a.out,
                )?;
                for b in ces {
                    attachments.push(b.attachment_name.clone());
                    shards.push(kind, &base.clone().with_ba_to_ce(b))?;
                }
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
            }
        }
        progress.finish();
        drop(r);
        let (mut files, data) = shards.finish()?;
        for name in attachments {
            let p = a.out.join(&name);
            files.push(ManifestFile {
                name,
                count: 0,
                bytes: std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0),
                sha256: sha256_file(&p)?,
            });
        }
        let fmt = if csv { "csv" } else { format.key() };
        let th = if csv {
            String::new()
        } else {
            templates.hash(kind, format)?
        };
        let m = manifest_for(&inc, kind, fmt, notice_date, files, th, data);
        self.finish_batch(&a.out, m)
    }

    /// Writes `manifest.json` and records the batch and its hash with the incident.
    fn finish_batch(&self, out: &Path, m: Manifest) -> Result<Rendered> {
        let json =
            serde_json::to_string_pretty(&m).map_err(|e| Error::Storage(e.to_string()))? + "\n";
        let path = out.join("manifest.json");
        crate::files::write_atomic(&path, json.as_bytes(), false)?;
        let hash = hex(&Sha256::digest(json.as_bytes()));
        let id = IncidentId::parse(&m.incident)
            .ok_or_else(|| Error::Storage("bad incident id".into()))?;
        let plan = Plan {
            action: Action::LettersRender,
            touch: false,
            refresh: false,
            expect: None,
            record: false,
        };
        let c = self.change_incident(&id, plan, |e| {
            e.add_manifest(&m, &hash);
            Ok((
                (),
                format!(
                    "kind={} format={} count={} manifest_sha256={hash}",
                    m.kind, m.format, m.count
                ),
            ))
        })?;
        Ok(Rendered {
            manifest: m,
            manifest_sha256: hash,
            out: out.to_path_buf(),
            batch: c.batch.unwrap_or_default(),
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
                let ws = worksheet(org, &inc, &counts, &ev, false);
                records.push(AnnualLogRecord::from_worksheet(inc.id.as_str(), &ws, false));
            }
        }
        Ok(records)
    }
}
