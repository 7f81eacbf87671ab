//! `audit log|verify|checkpoint|keygen`.

use std::path::Path;

use redb::ReadableTable;
use serde::Serialize;

use super::output::{Style, print_json, table};
use super::{Ctx, default_signing_key};
use crate::audit::checkpoint::{self, Checkpoint};
use crate::audit::entry::{decode_stored, hex, parse_hex32};
use crate::audit::verify::{self, Damage, Finding};
use crate::error::{Error, Result, exit};
use crate::store::tables::{AUDIT, META, META_SIGNING_KEY};
use crate::store::{Action, Change, Subject};

pub fn run(ctx: &Ctx, c: super::args::AuditCommand) -> Result<i32> {
    use super::args::AuditCommand as A;
    match c {
        A::Log { incident } => log(ctx, incident.as_deref()),
        A::Verify {
            against,
            public_key,
        } => verify_cmd(ctx, against.as_deref(), public_key.as_deref()),
        A::Checkpoint { out, signing_key } => checkpoint_cmd(ctx, &out, signing_key.as_deref()),
        A::Keygen { out } => keygen(ctx, out.as_deref()),
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

fn log(ctx: &Ctx, incident: Option<&str>) -> Result<i32> {
    let store = ctx.open()?;
    let filter = match incident {
        Some(s) => Some(super::cmd_incident::parse_id(s)?.to_string()),
        None => None,
    };
    let tx = store.read()?;
    let audit = tx.open_table(AUDIT)?;
    let mut out = Vec::new();
    for row in audit.iter()? {
        let (k, v) = row?;
        let Some(s) = decode_stored(v.value()) else {
            return Err(Error::Audit {
                code: exit::AUDIT_EDITED_ENTRY,
                message: format!(
                    "audit entry {} is unreadable; run `breachdesk audit verify`",
                    k.value()
                ),
            });
        };
        let e = s.entry;
        if let Some(id) = &filter {
            let about = e.subject.split('/').nth(1) == Some(id.as_str());
            if !about {
                continue;
            }
        }
        out.push(EntryOut {
            seq: e.seq,
            at: e.at.to_rfc3339(),
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            detail: e.detail,
            digest: hex(&e.digest),
            prev_hash: hex(&e.prev_hash),
            hash: hex(&s.stored_hash),
        });
    }
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

fn trusted_key(ctx: &Ctx, public_key: Option<&str>) -> Result<Option<[u8; 32]>> {
    if let Some(h) = public_key {
        return parse_hex32(h).map(Some).ok_or_else(|| {
            Error::invalid("--public-key must be 64 hex digits (an ed25519 public key)")
        });
    }
    let store = ctx.open()?;
    Ok(store
        .meta(META_SIGNING_KEY)?
        .and_then(|b| b.try_into().ok()))
}

/// Verifies the chain (and a checkpoint). Returns the exit code naming the first damage.
pub fn verify_report(
    ctx: &Ctx,
    against: Option<&Path>,
    public_key: Option<&str>,
) -> Result<(verify::Report, Option<String>)> {
    let trusted = trusted_key(ctx, public_key)?;
    let store = ctx.open()?;
    let tx = store.read()?;
    let mut report = crate::store::verify::verify(&tx)?;
    let mut cp_note = None;
    if let Some(path) = against {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read the checkpoint {}", path.display()), e))?;
        match serde_json::from_str::<Checkpoint>(&text) {
            Err(e) => report.findings.insert(
                0,
                Finding {
                    seq: None,
                    damage: Damage::BadCheckpoint,
                    message: format!("{} is not a breachdesk checkpoint: {e}", path.display()),
                },
            ),
            Ok(cp) => match cp.check_signature(trusted.as_ref()) {
                Err(f) => report.findings.insert(0, f),
                Ok(note) => {
                    cp_note = Some(format!("checkpoint seq {} of {}: {note}", cp.seq, cp.time));
                    let audit = tx.open_table(AUDIT)?;
                    let lookup = |seq: u64| {
                        audit
                            .get(seq)
                            .ok()
                            .flatten()
                            .and_then(|v| decode_stored(v.value()))
                            .map(|s| s.stored_hash)
                    };
                    if let Some(f) = checkpoint::compare(&cp, report.head_seq, lookup) {
                        report.findings.insert(0, f);
                    }
                }
            },
        }
    }
    Ok((report, cp_note))
}

fn verify_cmd(ctx: &Ctx, against: Option<&Path>, public_key: Option<&str>) -> Result<i32> {
    let (report, cp_note) = verify_report(ctx, against, public_key)?;
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
    let style = Style {
        color: ctx.env.color,
    };
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
    let store = ctx.open()?;
    let tx = store.read()?;
    let audit = tx.open_table(AUDIT)?;
    let (seq, head) = match audit.last()? {
        Some((k, v)) => {
            let s = decode_stored(v.value()).ok_or_else(|| Error::Audit {
                code: exit::AUDIT_EDITED_ENTRY,
                message: "the last audit entry is unreadable; run `breachdesk audit verify`".into(),
            })?;
            (k.value(), s.stored_hash)
        }
        None => {
            return Err(Error::invalid(
                "the audit trail is empty: nothing to checkpoint",
            ));
        }
    };
    let time = ctx.actor.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut cp = Checkpoint::new(seq, &head, &time);
    let key_path = key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_signing_key(&ctx.db_path));
    let signed = if key_path.exists() {
        let text = std::fs::read_to_string(&key_path).map_err(|e| {
            Error::io(
                format!("cannot read the signing key {}", key_path.display()),
                e,
            )
        })?;
        let sk = checkpoint::key_from_hex(text.trim()).ok_or_else(|| {
            Error::Key(format!(
                "{} is not a breachdesk signing key",
                key_path.display()
            ))
        })?;
        let recorded = store.meta(META_SIGNING_KEY)?;
        if recorded.as_deref() != Some(sk.verifying_key().as_bytes().as_slice()) {
            return Err(Error::Key(format!(
                "{} is not the signing key recorded in this database; use the key from `audit keygen`",
                key_path.display()
            )));
        }
        cp.sign(&sk);
        true
    } else if key.is_some() {
        return Err(Error::Key(format!(
            "no signing key at {}",
            key_path.display()
        )));
    } else {
        false
    };
    let json = serde_json::to_string_pretty(&cp).map_err(|e| Error::Storage(e.to_string()))?;
    std::fs::write(out, json + "\n")
        .map_err(|e| Error::io(format!("cannot write {}", out.display()), e))?;
    if ctx.json {
        print_json(&cp)?;
    } else {
        println!(
            "checkpoint at entry {seq}, head {} ({}) written to {}",
            hex(&head),
            if signed {
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
    let store = ctx.open()?;
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_signing_key(&ctx.db_path));
    if path.exists() {
        return Err(Error::invalid(format!(
            "{} already exists; a signing key is never overwritten (move it away first)",
            path.display()
        )));
    }
    let sk = checkpoint::generate_key().map_err(Error::Storage)?;
    let public = *sk.verifying_key().as_bytes();
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
    f.write_all(format!("{}\n", checkpoint::key_to_hex(&sk)).as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    let written = store.write(&ctx.actor, |tx| {
        let mut meta = tx.open_table(META)?;
        meta.insert(META_SIGNING_KEY, public.as_slice())?;
        Ok((
            (),
            Change::new(Action::AuditKeygen, Subject::SigningKey)
                .detail(format!("ed25519={}", hex(&public))),
        ))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
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
