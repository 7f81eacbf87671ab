//! `letters check|render|templates`, `notice record`, `hhs annual-log`: the documents a
//! breach requires and the proof that each went out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::args::{
    AnnualLogArgs, LettersApproveArgs, LettersCheckArgs, LettersRenderArgs, NoticeRecordArgs,
    TemplatesCommand,
};
use super::context::Ctx;
use super::output::print_json;
use super::parse::LogFormat;
use super::progress::Bar;
use crate::audit::entry::hex;
use crate::desk::letters::{RenderLetters, TemplateSet, check_templates};
use crate::desk::{ApproveBatch, Authority, Batch, NewNotice, status_text};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::letters;

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

// ---------------------------------------------------------------- notice record

pub fn notice_record(ctx: &Ctx, a: NoticeRecordArgs) -> Result<i32> {
    let mut req = NewNotice {
        id: a.id,
        kind: a.kind,
        jurisdiction: a.jurisdiction,
        recipient: a.recipient,
        date: a.date,
        method: a.method,
        count: a.count,
        evidence_sha256: None,
        batch: a.batch,
        expected: None,
        authority: match (a.approved_batch, a.override_rationale) {
            (Some(n), _) => Authority::Batch(n),
            (None, Some(r)) => Authority::Override(r),
            (None, None) => Authority::None,
        },
    };
    req.check()?;
    if let Some(p) = &a.evidence {
        req.evidence_sha256 = Some(sha256_file(p)?);
    }
    let office = ctx.open()?;
    let done = ctx.desk(&office).record_notice(&req)?;
    let kind = req.kind;
    let status = done
        .obligation
        .as_ref()
        .map(|o| (status_text(&o.status), o.sent_count, o.required_count));
    if ctx.json {
        return print_json(&serde_json::json!({
            "incident": done.incident.as_str(),
            "already_recorded": done.already_recorded,
            "recorded": done.record,
            "status": status.as_ref().map(|s| &s.0),
            "sent_count": status.as_ref().map(|s| s.1),
            "required_count": status.as_ref().and_then(|s| s.2),
        }))
        .map(|_| 0);
    }
    if done.already_recorded {
        println!(
            "this {} notice for {} is already on record (same kind, State, date, method and count): not counted again; \
             if it is a second batch, give it its own --batch LABEL",
            kind.key(),
            done.incident
        );
        return Ok(0);
    }
    match status {
        Some((s, sent, req)) => println!(
            "recorded {} notice for {}: {} sent{}; {s}",
            kind.key(),
            done.incident,
            sent,
            req.map(|r| format!(" of {r}")).unwrap_or_default()
        ),
        None => println!(
            "recorded {} notice for {} (the engine lists no such obligation for this incident)",
            kind.key(),
            done.incident
        ),
    }
    Ok(0)
}

// ---------------------------------------------------------------- letters render

pub fn letters_render(ctx: &Ctx, a: LettersRenderArgs) -> Result<i32> {
    let req = RenderLetters {
        id: a.id,
        kind: a.kind,
        format: a.format,
        out: a.out,
        templates: a.templates,
        shard_size: a.shard_size,
        notice_date: a.notice_date,
        addendum: a.addendum,
        covered_entity: a.covered_entity,
        jurisdiction: a.jurisdiction,
        recipient: a.recipient.map(|r| r.trim().to_ascii_lowercase()),
        force: a.force,
        layout: a.layout,
        crash_at: a.crash_at,
    };
    req.check()?;
    let office = ctx.open()?;
    let done = ctx.desk(&office).render_letters(&req, &Bar::new(ctx))?;
    let m = &done.manifest;
    let hash = &done.manifest_sha256;
    if ctx.json {
        print_json(&serde_json::json!({
            "manifest": m,
            "manifest_sha256": hash,
            "out": done.out,
            "completed_earlier": done.completed_earlier,
            "batch": done.batch,
            "approved": false,
        }))?;
    } else if done.completed_earlier {
        println!(
            "completed an interrupted run: its batch of {} {} document(s) as {} (manifest sha256 {hash}, already in the audit trail) is now in {}",
            m.count,
            m.kind,
            m.format,
            done.out.display()
        );
        println!(
            "batch {} is a draft until counsel approves it: breachdesk letters approve {} {}",
            done.batch, m.incident, done.batch
        );
    } else {
        let pages = m
            .pages_per_letter
            .map(|p| format!(", {p} printed page(s) per letter"))
            .unwrap_or_default();
        println!(
            "rendered {} {} document(s) as {} into {} ({} file(s){pages}); manifest sha256 {hash} recorded in the audit trail",
            m.count,
            m.kind,
            m.format,
            done.out.display(),
            m.files.len()
        );
        println!(
            "batch {} is a draft until counsel approves it: breachdesk letters approve {} {}",
            done.batch, m.incident, done.batch
        );
    }
    Ok(0)
}

// ---------------------------------------------------------------- sign-off

fn batch_json(b: &Batch) -> serde_json::Value {
    serde_json::json!({
        "batch": b.number,
        "kind": b.manifest.kind,
        "format": b.manifest.format,
        "count": b.manifest.count,
        "notice_date": b.manifest.notice_date,
        "manifest_sha256": b.manifest_sha256,
        "approved": b.approval.is_some(),
        "approved_by": b.approval.as_ref().map(|a| &a.by),
        "approved_at": b.approval.as_ref().map(|a| a.at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    })
}

/// `letters batches ID`.
pub fn letters_batches(ctx: &Ctx, id: &IncidentId) -> Result<i32> {
    let office = ctx.open()?;
    let batches = ctx.desk(&office).batches(id)?;
    if ctx.json {
        let list: Vec<_> = batches.iter().map(batch_json).collect();
        return print_json(&serde_json::json!({"incident": id.as_str(), "batches": list}))
            .map(|_| 0);
    }
    if batches.is_empty() {
        println!(
            "{id} has no letters batch yet: `breachdesk letters render {id} --kind ... --out DIR`"
        );
        return Ok(0);
    }
    let mut t = super::output::table(&[
        "Batch",
        "Kind",
        "Format",
        "Count",
        "Notice date",
        "Sign-off",
        "Manifest SHA-256",
    ]);
    for b in &batches {
        t.add_row(vec![
            b.number.to_string(),
            b.manifest.kind.clone(),
            b.manifest.format.clone(),
            b.manifest.count.to_string(),
            b.manifest.notice_date.clone(),
            match &b.approval {
                Some(a) => format!("approved by {} {}", a.by, a.at.format("%Y-%m-%d")),
                None => "draft".into(),
            },
            b.manifest_sha256.clone(),
        ]);
    }
    println!("{t}");
    Ok(0)
}

/// `letters approve ID BATCH`: the actor signs the batch off.
pub fn letters_approve(ctx: &Ctx, a: LettersApproveArgs) -> Result<i32> {
    let office = ctx.open()?;
    let b = ctx.desk(&office).approve_batch(&ApproveBatch {
        id: a.id.clone(),
        batch: a.batch,
        manifest_sha256: a.manifest_sha256,
    })?;
    if ctx.json {
        return print_json(&batch_json(&b)).map(|_| 0);
    }
    println!(
        "approved batch {} of {} ({} {} document(s), manifest sha256 {}) as {}; notices may now be recorded with --approved-batch {}",
        b.number,
        a.id,
        b.manifest.count,
        b.manifest.kind,
        b.manifest_sha256,
        b.approval.as_ref().map(|x| x.by.as_str()).unwrap_or(""),
        b.number
    );
    Ok(0)
}

// ---------------------------------------------------------------- letters check

pub fn letters_check(ctx: &Ctx, a: LettersCheckArgs) -> Result<i32> {
    let set = if a.dir.is_none() && ctx.db_path.exists() {
        let office = ctx.open()?;
        ctx.desk(&office).template_set(None)?
    } else {
        TemplateSet::resolve(None, a.dir.as_deref())?
    };
    let findings = check_templates(&set)?;
    if ctx.json {
        print_json(&serde_json::json!({"ok": findings.is_empty(), "findings": findings}))?;
    } else if findings.is_empty() {
        println!(
            "every template renders and carries its required elements (164.404(c)(1)(A)-(E) and the kind-specific ones){}",
            set.describe()
        );
    } else {
        for f in &findings {
            let element = match f.element {
                "render" => "does not render".to_string(),
                "agree" => "text and HTML disagree".to_string(),
                e => format!("element {e}"),
            };
            eprintln!("{}: {element}: {}", f.file, f.what);
        }
    }
    Ok(if findings.is_empty() {
        0
    } else {
        crate::error::exit::INVALID_INPUT
    })
}

/// The template files of a directory (names as in templates/; hidden files and
/// sub-directories skipped; no symbolic link followed out of it; each file bounded and UTF-8).
fn read_template_dir(dir: &Path) -> Result<BTreeMap<String, String>> {
    Ok(letters::read_template_dir(dir)?)
}

pub fn templates(ctx: &Ctx, c: TemplatesCommand) -> Result<i32> {
    if let TemplatesCommand::Export { dir, force } = &c {
        let n = crate::desk::letters::export_templates(dir, *force)?;
        if ctx.json {
            return print_json(&serde_json::json!({"dir": dir, "files": n})).map(|_| 0);
        }
        println!(
            "wrote {n} built-in template and partial file(s) and an example headings.toml into {}; edit them, run `breachdesk letters check {}`, then `breachdesk letters templates set {}`",
            dir.display(),
            dir.display(),
            dir.display()
        );
        return Ok(0);
    }
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    match c {
        TemplatesCommand::Set { dir } => {
            let set = read_template_dir(&dir)?;
            let n = desk.store_templates(&set, &dir.display().to_string())?;
            println!(
                "stored {n} template override(s) for the organization; `letters render` uses them unless --templates"
            );
        }
        TemplatesCommand::Show => {
            let files = desk.template_hashes()?;
            if ctx.json {
                let v: Vec<_> = files
                    .iter()
                    .map(|t| serde_json::json!({"file": t.file, "sha256": t.sha256}))
                    .collect();
                return print_json(&serde_json::json!({"stored": v})).map(|_| 0);
            }
            if files.is_empty() {
                println!("no stored template set: the embedded templates apply");
            }
            for t in files {
                println!("{}  {}", t.file, t.sha256);
            }
        }
        TemplatesCommand::Clear => {
            desk.clear_templates()?;
            println!("stored template set removed: the embedded templates apply");
        }
        TemplatesCommand::Export { .. } => {}
    }
    Ok(0)
}

// ---------------------------------------------------------------- hhs annual-log

pub fn annual_log(ctx: &Ctx, a: AnnualLogArgs) -> Result<i32> {
    let office = ctx.open()?;
    let records = ctx.desk(&office).annual_log(a.year)?;
    let mut bytes = Vec::new();
    match a.format {
        LogFormat::Csv => letters::write_annual_log_csv(&mut bytes, &records)?,
        LogFormat::Json => bytes = letters::annual_log_json(&records)?.into_bytes(),
    }
    // Written whole under a temporary name, or not at all.
    match &a.out {
        Some(p) => crate::files::write_output(p, &bytes, true, a.force)?,
        None => std::io::stdout()
            .write_all(&bytes)
            .map_err(|e| Error::io("cannot write the annual log", e))?,
    }
    if a.out.is_some() {
        let due =
            NaiveDate::from_ymd_opt(a.year, 12, 31).map(crate::rules::calendar::hhs_annual_due);
        eprintln!(
            "{} breach(es) under 500 discovered in {} for the annual log to the Secretary, due {} (164.408(c))",
            records.len(),
            a.year,
            due.map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        );
    }
    Ok(0)
}
