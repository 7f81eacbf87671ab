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
        AuditCommand::Keygen { out } => keygen(ctx, out.as_deref()),
    }
}

#[derive(Serialize)]
struct EntryOut {
    seq: u64,
    at: String,
    actor: String,
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
            EntryOut {
                seq: e.seq,
                at: e.at.to_rfc3339(),
                actor: e.actor,
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
        "Actor",
        "Action",
        "Subject",
        "Detail",
        "Hash",
    ]);
    for e in &out {
        t.add_row(vec![
            e.seq.to_string(),
            e.at.get(..19).unwrap_or(&e.at).replace('T', " "),
            e.actor.clone(),
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
    let office = ctx.open()?;
    let checkpoint = match against {
        Some(path) => Some(CheckpointFile {
            name: path.display().to_string(),
            text: std::fs::read_to_string(path).map_err(|e| {
                Error::io(format!("cannot read the checkpoint {}", path.display()), e)
            })?,
        }),
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
    let sk = if key_path.exists() {
        let text = std::fs::read_to_string(&key_path).map_err(|e| {
            Error::io(
                format!("cannot read the signing key {}", key_path.display()),
                e,
            )
        })?;
        Some(checkpoint::key_from_hex(text.trim()).ok_or_else(|| {
            Error::Key(format!(
                "{} is not a breachdesk signing key",
                key_path.display()
            ))
        })?)
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
    std::fs::write(out, json + "\n")
        .map_err(|e| Error::io(format!("cannot write {}", out.display()), e))?;
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

fn keygen(ctx: &Ctx, out: Option<&Path>) -> Result<i32> {
    let office = ctx.open()?;
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_signing_key(&ctx.db_path));
    if path.exists() {
        return Err(Error::invalid(format!(
            "{} already exists; a signing key is never overwritten (move it away first)",
            path.display()
        )));
    }
    let mut created = false;
    let written = ctx.desk(&office).keygen(|sk| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        use std::io::Write;
        let mut f = opts
            .open(&path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        created = true;
        f.write_all(format!("{}\n", checkpoint::key_to_hex(sk)).as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
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
