//! `audit log|verify|checkpoint|keygen`.

use std::path::Path;

use serde::Serialize;

use super::args::AuditCommand;
use super::context::Ctx;
use super::output::{print_json, table};
use crate::audit::checkpoint;
use crate::audit::entry::hex;
use crate::audit::verify::Finding;
use crate::desk::{CheckpointFile, default_signing_key};
use crate::domain::IncidentId;
use crate::error::{Error, Result};

pub fn run(ctx: &Ctx, c: AuditCommand) -> Result<i32> {
    match c {
        AuditCommand::Log { incident } => log(ctx, incident.as_ref()),
        AuditCommand::Verify {
            against,
            public_key,
        } => verify_cmd(ctx, against.as_deref(), public_key),
        AuditCommand::Checkpoint { out, signing_key } => {
            checkpoint_cmd(ctx, &out, signing_key.as_deref())
        }
        AuditCommand::Keygen { out, replace } => keygen(ctx, out.as_deref(), replace),
    }
}

#[derive(Serialize)]
struct EntryOut {
    seq: u64,
    at: String,
    /// One line: `alice`, `alice for Dana Reyes`, `dana (web)`; a release-0.1 entry's name.
    actor: String,
    /// The entry's encoding: 1 (release 0.1: one unverified name, no clock) or 2.
    encoding: u8,
    /// The OS account that ran the command (from the process's user id) and the id.
    os_account: Option<String>,
    os_uid: Option<u32>,
    /// `cli` or `web`.
    via: Option<&'static str>,
    /// The user logged in to the web server.
    authenticated_user: Option<String>,
    /// The person the change was made for (`--actor`).
    on_behalf_of: Option<String>,
    /// `system`, `pinned` or `simulated` (absent in release-0.1 entries).
    clock: Option<&'static str>,
    action: String,
    subject: String,
    detail: String,
    digest: String,
    prev_hash: String,
    hash: String,
}

fn log(ctx: &Ctx, incident: Option<&IncidentId>) -> Result<i32> {
    let office = ctx.open()?;
    let out: Vec<EntryOut> = ctx
        .desk(&office)
        .audit_log(incident)?
        .into_iter()
        .map(|s| {
            let e = s.entry;
            let who = e.recorded.who();
            EntryOut {
                seq: e.seq,
                at: e.at.to_rfc3339(),
                actor: e.recorded.describe(),
                encoding: e.recorded.version(),
                os_account: who.map(|w| w.os_account.clone()),
                os_uid: who.and_then(|w| w.os_uid),
                via: who.map(|w| w.via.key()),
                authenticated_user: who.and_then(|w| w.user.clone()),
                on_behalf_of: who.and_then(|w| w.on_behalf_of.clone()),
                clock: e.recorded.clock().map(|c| c.key()),
                action: e.action,
                subject: e.subject,
                detail: e.detail,
                digest: hex(&e.digest),
                prev_hash: hex(&e.prev_hash),
                hash: hex(&s.stored_hash),
            }
        })
        .collect();
    if ctx.json {
        return print_json(&serde_json::json!({ "entries": out })).map(|_| 0);
    }
    let mut t = table(&[
        "Seq",
        "Time (UTC)",
        "OS account / user",
        "On behalf of",
        "Action",
        "Subject",
        "Detail",
        "Hash",
    ]);
    for e in &out {
        let mut time = e.at.get(..19).unwrap_or(&e.at).replace('T', " ");
        match e.clock {
            Some("pinned") => time.push_str(" (pinned)"),
            Some("simulated") => time.push_str(" (simulated)"),
            _ => {}
        }
        let who = match (&e.authenticated_user, &e.os_account) {
            (Some(u), _) => format!("{u} (web)"),
            (None, Some(a)) => a.clone(),
            // Release 0.1 recorded one name, as given.
            (None, None) => format!("{} (0.1, unverified)", e.actor),
        };
        t.add_row(vec![
            e.seq.to_string(),
            time,
            who,
            e.on_behalf_of.clone().unwrap_or_default(),
            e.action.clone(),
            e.subject.clone(),
            e.detail.clone(),
            e.hash[..12].to_string(),
        ]);
    }
    println!("{t}");
    Ok(0)
}

#[derive(Serialize)]
struct VerifyOut<'a> {
    intact: bool,
    entries: u64,
    head_seq: u64,
    head_hash: String,
    subjects: usize,
    checkpoint: Option<String>,
    findings: &'a [Finding],
}

fn verify_cmd(ctx: &Ctx, against: Option<&Path>, public_key: Option<[u8; 32]>) -> Result<i32> {
    // Verification changes nothing (and never migrates an older file): a database it cannot
    // write is opened read-only.
    let office = ctx.open_for_reading()?;
    let checkpoint = match against {
        // A missing file is "not found" (4); one that is too large or not text is a bad
        // checkpoint (17), as is one that does not parse.
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| crate::files::read_error(path, "checkpoint", e))?;
            let name = path.display().to_string();
            let text = match crate::files::read_bytes_from(file, &name, crate::files::CHECKPOINT) {
                Ok(bytes) => {
                    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
                }
                Err(Error::Invalid(why)) => Err(why),
                Err(other) => return Err(other),
            };
            Some(CheckpointFile { name, text })
        }
        None => None,
    };
    let v = ctx.desk(&office).verify(checkpoint.as_ref(), public_key)?;
    let (report, cp_note) = (v.report, v.checkpoint);
    let code = report.first().map(|f| f.damage.exit_code()).unwrap_or(0);
    if ctx.json {
        print_json(&VerifyOut {
            intact: report.intact(),
            entries: report.entries,
            head_seq: report.head_seq,
            head_hash: hex(&report.head_hash),
            subjects: report.subjects,
            checkpoint: cp_note,
            findings: &report.findings,
        })?;
        return Ok(code);
    }
    let style = ctx.style();
    match report.first() {
        None => {
            println!(
                "{}: {} entries, {} records checked; head {} = {}",
                style.green("audit trail intact"),
                report.entries,
                report.subjects,
                report.head_seq,
                hex(&report.head_hash)
            );
            if let Some(n) = cp_note {
                println!("{n}: consistent");
            }
        }
        Some(first) => {
            let seq = first
                .seq
                .map(|s| format!(" at entry {s}"))
                .unwrap_or_default();
            eprintln!(
                "{}{seq}: {}",
                style.red(&format!(
                    "audit verification FAILED: {}",
                    first.damage.label()
                )),
                first.message
            );
            for f in report.findings.iter().skip(1).take(20) {
                eprintln!("  also: {}: {}", f.damage.label(), f.message);
            }
            if report.findings.len() > 21 {
                eprintln!(
                    "  ... and {} more findings (use --json for all)",
                    report.findings.len() - 21
                );
            }
        }
    }
    Ok(code)
}

fn checkpoint_cmd(ctx: &Ctx, out: &Path, key: Option<&Path>) -> Result<i32> {
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    let key_path = key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_signing_key(&ctx.db_path));
    let mut warning = None;
    let sk = if key_path.exists() {
        let read = read_signing_key(&key_path)?;
        let recorded = desk.signing_key()?;
        let is_recorded = read
            .as_ref()
            .is_some_and(|k| recorded.as_deref() == Some(k.verifying_key().as_bytes().as_slice()));
        match read {
            // The default key file of an `audit keygen` that stopped before recording its
            // key (older releases could leave it empty): it signs nothing and blocks
            // nothing; `audit keygen` finishes the job.
            _ if !is_recorded && key.is_none() && recorded.is_none() => {
                warning = Some(format!(
                    "{} holds no signing key recorded in this database (left by an interrupted `audit keygen`?); the checkpoint is unsigned; run `breachdesk audit keygen` to finish recording it",
                    key_path.display()
                ));
                None
            }
            Some(k) => Some(k),
            None => {
                return Err(Error::Key(format!(
                    "{} is not a breachdesk signing key",
                    key_path.display()
                )));
            }
        }
    } else if key.is_some() {
        return Err(Error::Key(format!(
            "no signing key at {}",
            key_path.display()
        )));
    } else {
        None
    };
    let name = key_path.display().to_string();
    let cp = desk.checkpoint(sk.as_ref().map(|k| (k, name.as_str())))?;
    let json = serde_json::to_string_pretty(&cp).map_err(|e| Error::Storage(e.to_string()))?;
    // Written whole under a temporary name, or not at all.
    crate::files::write_atomic(out, (json + "\n").as_bytes(), false)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    if ctx.json {
        print_json(&cp)?;
    } else {
        println!(
            "checkpoint at entry {}, head {} ({}) written to {}",
            cp.seq,
            cp.head_hash,
            if sk.is_some() {
                "signed"
            } else {
                "unsigned: run `audit keygen` to sign checkpoints"
            },
            out.display()
        );
    }
    Ok(0)
}

/// Reads a signing-key file: `None` when it does not hold a key (empty, truncated).
fn read_signing_key(path: &Path) -> Result<Option<ed25519_dalek::SigningKey>> {
    let text = crate::files::read_text(path, crate::files::KEY_FILE).map_err(|e| match e {
        Error::Invalid(_) => Error::Key(format!(
            "{} is not a breachdesk signing key",
            path.display()
        )),
        other => other,
    })?;
    Ok(checkpoint::key_from_hex(text.trim()))
}

/// Creates the signing key. Atomic: the key file appears complete (written under a
/// temporary name, synced, renamed without overwriting) before its public half is recorded
/// in the audit trail; if recording fails, the file is removed. A crash between the two
/// leaves a complete key file that is not recorded: running `audit keygen` again records
/// it instead of refusing.
fn keygen(ctx: &Ctx, out: Option<&Path>, replace: bool) -> Result<i32> {
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_signing_key(&ctx.db_path));
    let recorded = desk.signing_key()?;
    // An empty file at the key's path, with no key recorded, is what an interrupted keygen
    // of an older release left: it holds nothing and is replaced.
    if recorded.is_none() && std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
        std::fs::remove_file(&path)
            .map_err(|e| crate::files::write_error(&path, "cannot replace the empty", e))?;
    }
    let existing = if path.exists() {
        match (read_signing_key(&path)?, recorded.as_deref()) {
            (Some(k), Some(r)) if k.verifying_key().as_bytes().as_slice() == r => {
                return Err(Error::invalid(format!(
                    "{} is already this database's signing key; nothing to do",
                    path.display()
                )));
            }
            // Finishing an interrupted keygen: the file is complete, nothing is recorded.
            (Some(k), None) => Some(k),
            _ => {
                return Err(Error::invalid(format!(
                    "{} already exists; a signing key is never overwritten (move it away first)",
                    path.display()
                )));
            }
        }
    } else {
        None
    };
    let mut created = false;
    let written = desk.keygen(existing, replace, |sk| {
        let mut f = crate::files::AtomicFile::create_new(&path, true)?;
        use std::io::Write;
        f.write_all(format!("{}\n", checkpoint::key_to_hex(sk)).as_bytes())
            .map_err(|e| crate::files::write_error(&path, "cannot write", e))?;
        f.commit()?;
        created = true;
        Ok(())
    });
    let public = match written {
        Ok(p) => p,
        Err(e) => {
            if created {
                let _ = std::fs::remove_file(&path);
            }
            return Err(e);
        }
    };
    if ctx.json {
        print_json(&serde_json::json!({"public_key": hex(&public), "private_key_file": path}))?;
    } else {
        println!(
            "signing key written to {} (keep it apart from the database)\npublic key: {}",
            path.display(),
            hex(&public)
        );
    }
    Ok(0)
}
