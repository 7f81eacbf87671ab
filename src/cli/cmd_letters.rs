//! `letters check|render`, `notice record`, `hhs annual-log`: the documents a breach
//! requires and the proof that each went out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use super::Ctx;
use super::args::{
    AnnualLogArgs, LettersCheckArgs, LettersRenderArgs, NoticeRecordArgs, TemplatesCommand,
};
use super::cmd_incident::parse_id;
use super::cmd_org::load_org;
use super::engine;
use super::output::print_json;
use crate::audit::entry::hex;
use crate::desk::records::Derived;
use crate::domain::vocab::{BreachType, state_name};
use crate::domain::*;
use crate::error::{Error, Result};
use crate::letters::manifest::HashingWriter;
pub use crate::letters::manifest::{Manifest, ManifestFile};
use crate::letters::{
    self, AnnualLogRecord, BaToCeContext, Format, HhsWorksheet, IncidentContext, LeDelayContext,
    LetterContext, LetterKind, MediaContext, OrgContext, Renderer, ReportType, SubstituteContext,
};
use crate::rules::{DeterminationClass, ObligationStatus};
use crate::store::phi::PhiCodec;
use crate::store::tables::{META, META_TEMPLATES};
use crate::store::{Action, Change, Store, Subject, derived, incidents};

/// Letters per shard file unless `--shard-size` says otherwise.
pub const DEFAULT_SHARD: usize = 10_000;

fn letter_error(e: letters::LetterError) -> Error {
    Error::invalid(e.to_string())
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------- notice record

pub fn notice_record(ctx: &Ctx, a: NoticeRecordArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    let kind = ObligationKind::from_key(&a.kind).ok_or_else(|| {
        Error::invalid(format!(
            "--kind is not recognised; accepted: {}",
            ObligationKind::accepted()
        ))
    })?;
    let date = NaiveDate::parse_from_str(a.date.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid("--date is not a date: use YYYY-MM-DD"))?;
    let method = match a.method.trim() {
        "mail" => NoticeMethod::Mail,
        "email" => NoticeMethod::Email,
        "web" => NoticeMethod::Web,
        "media" => NoticeMethod::Media,
        "phone" => NoticeMethod::Phone,
        "portal" => NoticeMethod::Portal,
        _ => {
            return Err(Error::invalid(
                "--method is not recognised; accepted: mail, email, web, media, phone, portal",
            ));
        }
    };
    let jurisdiction = match &a.jurisdiction {
        Some(j) => {
            let (st, rest) = j
                .split_once(':')
                .map_or((j.as_str(), None), |(s, r)| (s, Some(r)));
            let code = vocab::normalize_state(st).ok_or_else(|| {
                Error::invalid("--jurisdiction must start with a State code of 45 CFR 160.103 (e.g. CA, or CA:Los Angeles County)")
            })?;
            Some(match rest {
                Some(r) => format!("{code}:{}", r.trim()),
                None => code.to_string(),
            })
        }
        None if kind == ObligationKind::Media => {
            return Err(Error::invalid(
                "media notice is per State (164.406): add --jurisdiction ST for the State it went to",
            ));
        }
        None => None,
    };
    let evidence_sha256 = match &a.evidence {
        Some(p) => Some(sha256_file(p)?),
        None => None,
    };
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    if date > today {
        return Err(Error::invalid(
            "--date is in the future: record a notice once it has gone out",
        ));
    }
    let record = NoticeRecord {
        kind,
        jurisdiction,
        recipient: None,
        date,
        method,
        count: a.count,
        evidence_sha256: evidence_sha256.clone(),
    };
    let now = ctx.actor.now;
    let (inc, status) = store.write(&ctx.actor, |tx| {
        let mut inc = incidents::get_write(tx, &id, &PhiCodec::Locked)?;
        if inc.facts.breach.discovered.is_some_and(|d| date < d) {
            return Err(Error::invalid(
                "--date is before the discovery date: check the date",
            ));
        }
        inc.notices.push(record.clone());
        if inc.status != IncidentStatus::Closed {
            inc.status = IncidentStatus::Notifying;
        }
        inc.updated = now;
        incidents::put_keep_phi(tx, &inc)?;
        let counts = super::roster_glue::counts_write(tx, &inc)?;
        engine::refresh(tx, &org, &inc, &counts, today, now)?;
        let d = Derived::from(derived::get_write(tx, &id)?);
        let ev = engine::evaluate(&org, &inc, &d, &counts, None, today);
        let status = ev
            .obligations
            .iter()
            .find(|o| {
                o.kind == kind
                    && (kind != ObligationKind::Media || o.jurisdiction == record.jurisdiction)
            })
            .map(|o| {
                (
                    super::cmd_assess::status_text(&o.status),
                    o.sent_count,
                    o.required_count,
                )
            });
        let mut detail = format!(
            "kind={} method={} count={} date={}",
            kind.key(),
            a.method.trim(),
            a.count,
            ymd(date)
        );
        if let Some(j) = &record.jurisdiction {
            detail.push_str(&format!(" jurisdiction={j}"));
        }
        if let Some(h) = &evidence_sha256 {
            detail.push_str(&format!(" evidence_sha256={h}"));
        }
        Ok((
            (inc, status),
            Change::incident(Action::NoticeRecord, &id).detail(detail),
        ))
    })?;
    if ctx.json {
        return print_json(&serde_json::json!({
            "incident": inc.id.as_str(),
            "recorded": record,
            "status": status.as_ref().map(|s| &s.0),
            "sent_count": status.as_ref().map(|s| s.1),
            "required_count": status.as_ref().and_then(|s| s.2),
        }))
        .map(|_| 0);
    }
    match status {
        Some((s, sent, req)) => println!(
            "recorded {} notice for {}: {} sent{}; {s}",
            kind.key(),
            inc.id,
            sent,
            req.map(|r| format!(" of {r}")).unwrap_or_default()
        ),
        None => println!(
            "recorded {} notice for {} (the engine lists no such obligation for this incident)",
            kind.key(),
            inc.id
        ),
    }
    Ok(0)
}

fn sha256_file(p: &Path) -> Result<String> {
    let mut f = File::open(p)
        .map_err(|e| Error::io(format!("cannot read the evidence file {}", p.display()), e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)
        .map_err(|e| Error::io(format!("cannot read {}", p.display()), e))?;
    Ok(hex(&h.finalize()))
}

// ---------------------------------------------------------------- contexts

/// A plain-language "What Happened?" built from the facts when counsel wrote none.
pub fn what_happened(f: &Facts) -> String {
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
    let found = f
        .breach
        .discovered
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
        &what_happened(&inc.facts),
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

fn parse_kind(s: &str) -> Result<LetterKind> {
    LetterKind::from_key(s).ok_or_else(|| {
        Error::invalid(format!(
            "--kind is not recognised; accepted: {}",
            LetterKind::ALL
                .iter()
                .map(|k| k.key())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Which templates a command uses: a directory given on the command line, else the
/// organization's stored set, else the embedded templates.
pub enum TemplateSet {
    Embedded,
    Dir(PathBuf),
    Stored(BTreeMap<String, String>),
}

impl TemplateSet {
    pub fn resolve(store: Option<&Store>, dir: Option<&Path>) -> Result<TemplateSet> {
        if let Some(d) = dir {
            return Ok(TemplateSet::Dir(d.to_path_buf()));
        }
        match store.map(|s| s.meta(META_TEMPLATES)).transpose()?.flatten() {
            Some(bytes) => Ok(TemplateSet::Stored(
                serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Database(format!("the stored template set cannot be decoded ({e})"))
                })?,
            )),
            None => Ok(TemplateSet::Embedded),
        }
    }

    pub fn renderer(&self) -> Result<Renderer> {
        match self {
            TemplateSet::Embedded => Renderer::new(),
            TemplateSet::Dir(d) => Renderer::with_override_dir(d),
            TemplateSet::Stored(m) => Renderer::with_overrides(m),
        }
        .map_err(letter_error)
    }

    /// SHA-256 of the template source used for `kind`/`format`.
    pub fn hash(&self, kind: LetterKind, format: Format) -> Result<String> {
        let Some(e) = letters::entry(kind, format) else {
            return Ok(String::new());
        };
        let src = match self {
            TemplateSet::Dir(d) if d.join(e.file).is_file() => {
                let p = d.join(e.file);
                std::fs::read(&p)
                    .map_err(|err| Error::io(format!("cannot read {}", p.display()), err))?
            }
            TemplateSet::Stored(m) if m.contains_key(e.file) => m[e.file].as_bytes().to_vec(),
            _ => e.source.as_bytes().to_vec(),
        };
        Ok(hex(&Sha256::digest(&src)))
    }

    fn describe(&self) -> String {
        match self {
            TemplateSet::Embedded => String::new(),
            TemplateSet::Dir(d) => format!(" (overrides from {})", d.display()),
            TemplateSet::Stored(m) => {
                format!(" (the organization's stored set: {} file(s))", m.len())
            }
        }
    }
}

pub fn letters_render(ctx: &Ctx, a: LettersRenderArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    let kind = parse_kind(&a.kind)?;
    let (format, csv) = match a.format.trim() {
        "text" | "txt" => (Format::Text, false),
        "html" => (Format::Html, false),
        "csv" => (Format::Text, true),
        "json" if kind == LetterKind::HhsNotice => (Format::Text, false),
        _ => {
            return Err(Error::invalid(
                "--format is not recognised; accepted: text, html, csv (mail-merge data), json (hhs_notice only)",
            ));
        }
    };
    if csv && !matches!(kind, LetterKind::Individual | LetterKind::NextOfKin) {
        return Err(Error::invalid(
            "--format csv (mail-merge data) exists for individual and next_of_kin letters",
        ));
    }
    if letters::entry(kind, format).is_none() && !csv {
        return Err(Error::invalid(format!(
            "there is no {} template for {}; hhs_notice renders as text or json",
            format.key(),
            kind.key()
        )));
    }
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let notice_date = match &a.notice_date {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| Error::invalid("--notice-date is not a date: use YYYY-MM-DD"))?,
        None => today,
    };
    let templates = TemplateSet::resolve(Some(&store), a.templates.as_deref())?;
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
    let codec = ctx.codec(&store, needs_phi)?;
    let tx = store.read()?;
    let inc = incidents::get_read(&tx, &id, &PhiCodec::Locked)?;
    let d = Derived::from(derived::get_read(&tx, &id)?);
    let counts = super::roster_glue::counts_read(&tx, &inc)?;
    let ev = engine::evaluate(&org, &inc, &d, &counts, None, today);
    if ev.effective_class != DeterminationClass::Breach && !a.force {
        return Err(Error::invalid(format!(
            "{} is not a breach on record ({}): notices are not required; run `breachdesk assess`, or pass --force to draft anyway",
            id,
            ev.effective_class.key()
        )));
    }
    let base = base_context(&org, &inc, notice_date);
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
    let progress = super::progress::bar(ctx, counts.total, "letters");
    match kind {
        LetterKind::Individual | LetterKind::NextOfKin => {
            let bulk = super::roster_glue::render_bulk(
                &tx,
                &inc,
                &codec,
                &renderer,
                &base,
                &super::roster_glue::BulkSpec {
                    kind,
                    format,
                    csv,
                    stem: &stem,
                    title: &title,
                    per_file: a.shard_size,
                    out: &a.out,
                },
                &progress,
            )?;
            progress.finish_and_clear();
            drop(tx);
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
            return finish_batch(ctx, &store, &a.out, m);
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
            let ws = worksheet(&org, &inc, &counts, &ev, a.addendum);
            if a.format.trim() == "json" {
                let json = letters::hhs_worksheet_json(&ws, inc.exercise).map_err(letter_error)?;
                std::fs::write(a.out.join("hhs_notice.json"), &json)
                    .map_err(|e| Error::io("cannot write hhs_notice.json", e))?;
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
                drop(tx);
                return finish_batch(ctx, &store, &a.out, m);
            }
            shards.push(kind, &base.clone().with_hhs(ws))?;
        }
        LetterKind::BaToCe => {
            let ce = a.covered_entity.clone().or_else(|| org.serves.first().cloned()).ok_or_else(|| {
                Error::invalid("name the covered entity with --covered-entity NAME (or record it with `org update --serves`)")
            })?;
            let attachment = "ba_to_ce-individuals.csv";
            let n = super::roster_glue::attachment(&tx, &inc, &codec, &a.out.join(attachment))?;
            if n == 0 {
                return Err(Error::invalid(
                    "the roster holds no individual to identify to the covered entity",
                ));
            }
            let mut b = BaToCeContext::new(&org.legal_name, &ce, &counts, attachment);
            b.individuals_count = n;
            shards.push(kind, &base.clone().with_ba_to_ce(b))?;
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
    progress.finish_and_clear();
    drop(tx);
    let (mut files, data) = shards.finish()?;
    if kind == LetterKind::BaToCe {
        let p = a.out.join("ba_to_ce-individuals.csv");
        files.push(ManifestFile {
            name: "ba_to_ce-individuals.csv".into(),
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
    finish_batch(ctx, &store, &a.out, m)
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

/// Writes `manifest.json` and records its hash in the audit chain.
fn finish_batch(ctx: &Ctx, store: &Store, out: &Path, m: Manifest) -> Result<i32> {
    let json = serde_json::to_string_pretty(&m).map_err(|e| Error::Storage(e.to_string()))? + "\n";
    let path = out.join("manifest.json");
    std::fs::write(&path, &json)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    let hash = hex(&Sha256::digest(json.as_bytes()));
    let id =
        IncidentId::parse(&m.incident).ok_or_else(|| Error::Storage("bad incident id".into()))?;
    store.write(&ctx.actor, |tx| {
        crate::store::manifests::add(tx, &id, &crate::desk::records::manifest_record(&m), &hash)?;
        Ok((
            (),
            Change::incident(Action::LettersRender, &id).detail(format!(
                "kind={} format={} count={} manifest_sha256={hash}",
                m.kind, m.format, m.count
            )),
        ))
    })?;
    if ctx.json {
        print_json(&serde_json::json!({"manifest": m, "manifest_sha256": hash, "out": out}))?;
    } else {
        println!(
            "rendered {} {} document(s) as {} into {} ({} file(s)); manifest sha256 {hash} recorded in the audit trail",
            m.count,
            m.kind,
            m.format,
            out.display(),
            m.files.len()
        );
    }
    Ok(0)
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

// ---------------------------------------------------------------- letters check

pub fn letters_check(ctx: &Ctx, a: LettersCheckArgs) -> Result<i32> {
    let store = if a.dir.is_none() && ctx.db_path.exists() {
        Some(ctx.open()?)
    } else {
        None
    };
    let set = TemplateSet::resolve(store.as_ref(), a.dir.as_deref())?;
    let findings = match &set {
        TemplateSet::Stored(m) => letters::check_overrides(m),
        _ => letters::check_templates(a.dir.as_deref()),
    }
    .map_err(letter_error)?;
    if ctx.json {
        print_json(&serde_json::json!({"ok": findings.is_empty(), "findings": findings}))?;
    } else if findings.is_empty() {
        println!(
            "every template renders and carries its required elements (164.404(c)(1)(A)-(E) and the kind-specific ones){}",
            set.describe()
        );
    } else {
        for f in &findings {
            eprintln!(
                "{} ({}): element {} missing: {}",
                f.kind.key(),
                f.format.key(),
                f.element,
                f.what
            );
        }
    }
    Ok(if findings.is_empty() {
        0
    } else {
        crate::error::exit::INVALID_INPUT
    })
}

pub fn templates(ctx: &Ctx, c: TemplatesCommand) -> Result<i32> {
    let store = ctx.open()?;
    match c {
        TemplatesCommand::Set { dir } => {
            let mut set = BTreeMap::new();
            for item in std::fs::read_dir(&dir)
                .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?
            {
                let item =
                    item.map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
                let name = item.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || !item.path().is_file() {
                    continue;
                }
                let text = std::fs::read_to_string(item.path())
                    .map_err(|e| Error::io(format!("cannot read {}", item.path().display()), e))?;
                set.insert(name, text);
            }
            if set.is_empty() {
                return Err(Error::invalid(format!(
                    "{} holds no template files",
                    dir.display()
                )));
            }
            let findings = letters::check_overrides(&set).map_err(letter_error)?;
            if let Some(f) = findings.first() {
                return Err(Error::invalid(format!(
                    "not stored: {} ({}) is missing required element {}: {} ({} finding(s); run `breachdesk letters check {}`)",
                    f.kind.key(),
                    f.format.key(),
                    f.element,
                    f.what,
                    findings.len(),
                    dir.display()
                )));
            }
            let json = serde_json::to_vec(&set).map_err(|e| Error::Storage(e.to_string()))?;
            let hash = hex(&Sha256::digest(&json));
            store.write(&ctx.actor, |tx| {
                tx.open_table(META)?
                    .insert(META_TEMPLATES, json.as_slice())?;
                Ok((
                    (),
                    Change::new(Action::OrgTemplates, Subject::Org)
                        .detail(format!("files={} sha256={hash}", set.len())),
                ))
            })?;
            println!(
                "stored {} template override(s) for the organization; `letters render` uses them unless --templates",
                set.len()
            );
        }
        TemplatesCommand::Show => {
            let set = TemplateSet::resolve(Some(&store), None)?;
            let files: Vec<(String, String)> = match &set {
                TemplateSet::Stored(m) => m
                    .iter()
                    .map(|(k, v)| (k.clone(), hex(&Sha256::digest(v.as_bytes()))))
                    .collect(),
                _ => vec![],
            };
            if ctx.json {
                let v: Vec<_> = files
                    .iter()
                    .map(|(n, h)| serde_json::json!({"file": n, "sha256": h}))
                    .collect();
                return print_json(&serde_json::json!({"stored": v})).map(|_| 0);
            }
            if files.is_empty() {
                println!("no stored template set: the embedded templates apply");
            }
            for (n, h) in files {
                println!("{n}  {h}");
            }
        }
        TemplatesCommand::Clear => {
            store.write(&ctx.actor, |tx| {
                let removed = tx.open_table(META)?.remove(META_TEMPLATES)?.is_some();
                if !removed {
                    return Err(Error::invalid("there is no stored template set to clear"));
                }
                Ok(((), Change::new(Action::OrgTemplatesClear, Subject::Org)))
            })?;
            println!("stored template set removed: the embedded templates apply");
        }
    }
    Ok(0)
}

// ---------------------------------------------------------------- hhs annual-log

pub fn annual_log(ctx: &Ctx, a: AnnualLogArgs) -> Result<i32> {
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let tx = store.read()?;
    let assessments = tx.open_table(crate::store::tables::ASSESSMENTS)?;
    let mut records = Vec::new();
    for inc in incidents::list(&tx)? {
        if inc.exercise || inc.facts.breach.discovered.map(|d| d.year()) != Some(a.year) {
            continue;
        }
        let d = Derived::from(derived::get(&assessments, &inc.id)?);
        let counts = super::roster_glue::counts_read(&tx, &inc)?;
        let ev = engine::evaluate(&org, &inc, &d, &counts, None, today);
        let annual = ev
            .obligations
            .iter()
            .any(|o| o.kind == ObligationKind::HhsAnnual && o.status.is_required());
        if ev.effective_class == DeterminationClass::Breach && annual {
            let ws = worksheet(&org, &inc, &counts, &ev, false);
            records.push(AnnualLogRecord::from_worksheet(inc.id.as_str(), &ws, false));
        }
    }
    let out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(
            File::create(p).map_err(|e| Error::io(format!("cannot create {}", p.display()), e))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    match a.format.as_str() {
        "csv" => letters::write_annual_log_csv(out, &records).map_err(letter_error)?,
        "json" => {
            let mut out = out;
            let s = letters::annual_log_json(&records).map_err(letter_error)?;
            out.write_all(s.as_bytes())
                .map_err(|e| Error::io("cannot write the annual log", e))?;
        }
        _ => return Err(Error::invalid("--format is csv or json")),
    }
    if a.out.is_some() {
        let due =
            NaiveDate::from_ymd_opt(a.year, 12, 31).map(crate::rules::calendar::hhs_annual_due);
        eprintln!(
            "{} breach(es) under 500 discovered in {} for the annual log to the Secretary, due {} (164.408(c))",
            records.len(),
            a.year,
            due.map(ymd).unwrap_or_default()
        );
    }
    Ok(0)
}
