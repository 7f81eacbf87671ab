//! `laws list|show|diff|set|clear`: the State-law rules data in force and counsel's
//! overrides.

use serde::Serialize;

use super::args::LawsCommand;
use super::context::Ctx;
use super::output::{print_json, table};
use crate::desk::{self, CounselVersion, LawDiff, LawShow, LawsChanged, LawsFile, LawsList};
use crate::error::Result;
use crate::laws::LawSet;
use crate::laws::table::RuleLine;
use crate::rules::explain::{UNVERIFIED_MARK, short};

pub fn run(ctx: &Ctx, c: LawsCommand) -> Result<i32> {
    match c {
        LawsCommand::List {
            markdown,
            verified,
            builtin,
        } => list(ctx, markdown, verified, builtin),
        LawsCommand::Show {
            jurisdiction,
            builtin,
        } => show(ctx, &jurisdiction, builtin),
        LawsCommand::Diff { jurisdiction } => diff(ctx, jurisdiction.as_deref()),
        LawsCommand::Set { file } => set(ctx, &file),
        LawsCommand::Clear { jurisdiction } => clear(ctx, &jurisdiction),
    }
}

/// Where read commands take the rules from: the database when one exists (it may hold
/// counsel's files), else the built-in data. Said on standard error in text mode.
fn with_laws<T>(
    ctx: &Ctx,
    builtin: bool,
    f: impl FnOnce(&LawSet, &[CounselVersion]) -> Result<T>,
) -> Result<T> {
    if builtin || !ctx.db_path.exists() {
        if !builtin && !ctx.json {
            eprintln!(
                "(no database at {}: the built-in rules data)",
                ctx.db_path.display()
            );
        }
        return f(LawSet::builtin(), &[]);
    }
    let office = ctx.open()?;
    let d = ctx.desk(&office);
    let history = d.laws_history()?;
    f(d.laws()?, &history)
}

#[derive(Serialize)]
struct ListOut<'a> {
    digest: &'a str,
    builtin_digest: &'a str,
    counsel_digest: Option<&'a str>,
    jurisdictions: &'a [crate::laws::table::Row],
}

fn list(ctx: &Ctx, markdown: bool, verified: bool, builtin: bool) -> Result<i32> {
    with_laws(ctx, builtin, |set, _| {
        match (markdown, verified) {
            (true, false) => {
                print!("{}", crate::laws::table::markdown(set));
                return Ok(0);
            }
            (true, true) => {
                print!("{}", crate::laws::table::verified_markdown(set));
                return Ok(0);
            }
            (false, true) => return list_verified(ctx, set),
            (false, false) => {}
        }
        let l: LawsList = desk::laws_list(set);
        if ctx.json {
            return print_json(&ListOut {
                digest: &l.digest,
                builtin_digest: &l.builtin_digest,
                counsel_digest: l.counsel_digest.as_deref(),
                jurisdictions: &l.rows,
            })
            .map(|_| 0);
        }
        let mut t = table(&[
            "",
            "Law (current version)",
            "Notice to residents",
            "Regulators",
            "CRA",
            "HIPAA entities",
            "Verified",
        ]);
        for r in &l.rows {
            t.add_row(vec![
                if r.origin == crate::laws::Origin::Counsel.key() {
                    format!("{} (counsel)", r.jurisdiction)
                } else {
                    r.jurisdiction.clone()
                },
                format!("{} (from {})", r.citation, r.effective),
                r.individual.clone(),
                r.regulators.clone(),
                r.cra.clone(),
                r.hipaa.clone(),
                format!("{} of {}", r.verified, r.rules),
            ]);
        }
        let verified: usize = l.rows.iter().map(|r| r.verified).sum();
        let rules: usize = l.rows.iter().map(|r| r.rules).sum();
        println!("{t}");
        println!(
            "{} jurisdictions; {verified} of {rules} rules verified against statute text, the rest marked UNVERIFIED with their source (`breachdesk laws show ST`). Rules data {} (built-in {}, counsel's {}). Decision support for counsel, not legal advice.",
            l.rows.len(),
            short(&l.digest),
            short(&l.builtin_digest),
            l.counsel_digest.as_deref().map(short).unwrap_or("none")
        );
        Ok(0)
    })
}

/// `laws list --verified`: per jurisdiction, the rules verified against statute text.
fn list_verified(ctx: &Ctx, set: &LawSet) -> Result<i32> {
    #[derive(Serialize)]
    struct VerifiedOut<'a> {
        jurisdiction: &'a str,
        effective: String,
        rules: usize,
        verified: Vec<RuleLine>,
    }
    let mut out = Vec::new();
    for law in set.iter() {
        let Some(v) = law.file.version.last() else {
            continue;
        };
        let lines = crate::laws::table::rules_of(v);
        let rules = lines.len();
        let verified: Vec<RuleLine> = lines.into_iter().filter(|r| r.verified).collect();
        if !verified.is_empty() {
            out.push(VerifiedOut {
                jurisdiction: &law.file.jurisdiction,
                effective: v.effective.to_string(),
                rules,
                verified,
            });
        }
    }
    if ctx.json {
        return print_json(&serde_json::json!({ "jurisdictions": out })).map(|_| 0);
    }
    for j in &out {
        println!(
            "{} (version from {}): {} of {} rules verified",
            j.jurisdiction,
            j.effective,
            j.verified.len(),
            j.rules
        );
        for r in &j.verified {
            println!("  - {} ({}): {}", r.rule, r.cite, r.provenance);
        }
    }
    Ok(0)
}

#[derive(Serialize)]
struct ShowOut<'a> {
    jurisdiction: &'a str,
    name: &'a str,
    origin: &'a str,
    sha256: &'a str,
    builtin_sha256: Option<&'a str>,
    versions: Vec<VersionOut<'a>>,
    counsel_history: Vec<HistoryOut<'a>>,
}

#[derive(Serialize)]
struct VersionOut<'a> {
    effective: String,
    citation: &'a str,
    change: &'a str,
    rules: &'a [RuleLine],
}

#[derive(Serialize)]
struct HistoryOut<'a> {
    version: u32,
    action: &'static str,
    file: &'a str,
    sha256: &'a str,
    at: String,
    by: &'a str,
}

fn history_out(h: &CounselVersion) -> HistoryOut<'_> {
    HistoryOut {
        version: h.seq,
        action: if h.set { "set" } else { "clear" },
        file: &h.name,
        sha256: &h.sha256,
        at: h.at.to_rfc3339(),
        by: &h.by,
    }
}

fn show(ctx: &Ctx, code: &str, builtin: bool) -> Result<i32> {
    with_laws(ctx, builtin, |set, history| {
        let s: LawShow = desk::laws_show(set, history, code)?;
        let history = &s.history;
        if ctx.json {
            return print_json(&ShowOut {
                jurisdiction: &s.jurisdiction,
                name: &s.name,
                origin: s.origin.key(),
                sha256: &s.sha256,
                builtin_sha256: s.builtin_sha256.as_deref(),
                versions: s
                    .versions
                    .iter()
                    .map(|v| VersionOut {
                        effective: v.effective.to_string(),
                        citation: &v.citation,
                        change: &v.change,
                        rules: &v.rules,
                    })
                    .collect(),
                counsel_history: history.iter().map(history_out).collect(),
            })
            .map(|_| 0);
        }
        println!(
            "{} — {}: {} file in force (SHA-256 {}){}",
            s.jurisdiction,
            s.name,
            s.origin.key(),
            short(&s.sha256),
            s.builtin_sha256
                .as_deref()
                .map(|b| format!(", replacing the built-in file ({})", short(b)))
                .unwrap_or_default()
        );
        let mut any_unverified = false;
        for v in &s.versions {
            println!(
                "\nVersion in force for breaches discovered from {}: {}",
                v.effective, v.citation
            );
            if !v.change.is_empty() {
                println!("  {}", v.change);
            }
            for r in &v.rules {
                let mark = if r.verified {
                    "verified".to_string()
                } else {
                    any_unverified = true;
                    UNVERIFIED_MARK.to_string()
                };
                let id = if r.id.is_empty() {
                    String::new()
                } else {
                    format!(" `{}`", r.id)
                };
                println!("  - [{mark}] {}{id}: {} ({})", r.rule, r.summary, r.cite);
                if !r.note.is_empty() {
                    println!("      note: {}", r.note);
                }
                println!("      {}", r.provenance);
            }
        }
        if any_unverified {
            println!("\n{}", crate::rules::explain::UNVERIFIED_FOOTNOTE);
        }
        if !history.is_empty() {
            println!("\nCounsel's versions for {}:", s.jurisdiction);
            for h in history {
                println!(
                    "  {} {} {} by {}{}",
                    h.seq,
                    if h.set { "set" } else { "cleared" },
                    h.at.format("%Y-%m-%d %H:%M UTC"),
                    h.by,
                    if h.set {
                        format!(": {} (SHA-256 {})", h.name, short(&h.sha256))
                    } else {
                        String::new()
                    }
                );
            }
        }
        println!("\nDecision support for counsel, not legal advice.");
        Ok(0)
    })
}

#[derive(Serialize)]
struct DiffOut<'a> {
    jurisdiction: &'a str,
    builtin_sha256: Option<&'a str>,
    counsel_sha256: &'a str,
    changes: Vec<serde_json::Value>,
    diff: &'a str,
}

fn diff(ctx: &Ctx, code: Option<&str>) -> Result<i32> {
    with_laws(ctx, false, |set, _| {
        let diffs: Vec<LawDiff> = desk::laws_diff(set, code)?;
        if ctx.json {
            let out: Vec<DiffOut> = diffs
                .iter()
                .map(|d| DiffOut {
                    jurisdiction: &d.jurisdiction,
                    builtin_sha256: d.builtin_sha256.as_deref(),
                    counsel_sha256: &d.counsel_sha256,
                    changes: d
                        .summary
                        .iter()
                        .map(|(w, a, b)| serde_json::json!({"what": w, "builtin": a, "counsel": b}))
                        .collect(),
                    diff: &d.text,
                })
                .collect();
            return print_json(&serde_json::json!({ "diffs": out })).map(|_| 0);
        }
        if diffs.is_empty() {
            match code {
                Some(c) => println!(
                    "counsel has no rules file in force for {c}: the built-in file applies"
                ),
                None => println!(
                    "counsel has no rules files in force: the built-in data applies everywhere"
                ),
            }
            return Ok(0);
        }
        for d in &diffs {
            println!(
                "{}: counsel's file {} against the built-in {}",
                d.jurisdiction,
                short(&d.counsel_sha256),
                d.builtin_sha256
                    .as_deref()
                    .map(short)
                    .unwrap_or("(none: no built-in data)")
            );
            if d.summary.is_empty() {
                println!("  the summary is the same (the difference is in details below)");
            } else {
                let mut t = table(&["", "built-in", "counsel's"]);
                for (w, a, b) in &d.summary {
                    t.add_row(vec![w.clone(), a.clone(), b.clone()]);
                }
                println!("{t}");
            }
            println!("{}", d.text);
        }
        Ok(0)
    })
}

#[derive(Serialize)]
struct ChangedOut<'a> {
    jurisdiction: &'a str,
    version: Option<u32>,
    changed: bool,
    origin: &'a str,
    sha256: &'a str,
    digest: &'a str,
    counsel_digest: Option<&'a str>,
    effects: Vec<serde_json::Value>,
}

fn print_changed(ctx: &Ctx, c: &LawsChanged, what: &str) -> Result<i32> {
    if ctx.json {
        return print_json(&ChangedOut {
            jurisdiction: &c.jurisdiction,
            version: c.seq,
            changed: c.seq.is_some(),
            origin: c.origin.key(),
            sha256: &c.sha256,
            digest: &c.digest,
            counsel_digest: c.counsel_digest.as_deref(),
            effects: c
                .effects
                .iter()
                .map(|(id, m)| serde_json::json!({"incident": id.as_str(), "changes": m}))
                .collect(),
        })
        .map(|_| 0);
    }
    match c.seq {
        None => println!(
            "unchanged: this file is already counsel's rules for {} (SHA-256 {}); nothing recorded",
            c.jurisdiction,
            short(&c.sha256)
        ),
        Some(n) => println!(
            "{what} {} (counsel's version {n}); {} file in force{}; rules data now {} (counsel's {})",
            c.jurisdiction,
            match c.origin {
                crate::laws::Origin::Counsel => "counsel's",
                crate::laws::Origin::BuiltIn => "the built-in",
            },
            if c.sha256.is_empty() {
                " (none: no built-in data)".to_string()
            } else {
                format!(" (SHA-256 {})", short(&c.sha256))
            },
            c.digest,
            c.counsel_digest.as_deref().unwrap_or("none")
        ),
    }
    if c.seq.is_some() {
        if c.effects.is_empty() {
            println!("no open incident's obligations change");
        }
        for (id, moved) in &c.effects {
            println!("{id}: obligations change (shown by `incident show {id}`):");
            for m in moved {
                println!("  - {m}");
            }
        }
    }
    Ok(0)
}

fn set(ctx: &Ctx, path: &std::path::Path) -> Result<i32> {
    let file = LawsFile {
        name: path.display().to_string(),
        text: crate::files::read_text(path, crate::files::LAWS_FILE)?,
    };
    // Checked before the database is opened: a bad file changes nothing.
    desk::check_laws(&file)?;
    let office = ctx.open()?;
    let c = ctx.desk(&office).set_laws(&file)?;
    print_changed(ctx, &c, "counsel's rules in force for")
}

fn clear(ctx: &Ctx, code: &str) -> Result<i32> {
    let office = ctx.open()?;
    let c = ctx.desk(&office).clear_laws(code)?;
    print_changed(ctx, &c, "counsel's rules removed for")
}
