//! `demo`: a walk-through on a throwaway database, running the real commands in-process.

use std::path::PathBuf;

use clap::Parser;

use super::args::{Cli, DemoArgs};
use super::context::{Ctx, Env, parse_instant};
use crate::error::{Error, Result};

/// The demo's passphrase: the demo database is encrypted like a real one.
const DEMO_PASSPHRASE: &str = "demo passphrase: not for real data";

/// The steps of the walk-through, as the user would type them. `dir` holds the demo's
/// output files.
fn script(dir: &std::path::Path) -> Vec<(&'static str, Vec<String>)> {
    let d = |name: &str| dir.join(name).display().to_string();
    let steps: Vec<(&'static str, Vec<&str>)> = vec![
        (
            "Create an encrypted register for a covered entity",
            vec![
                "init",
                "--pinned-clock",
                "--org",
                "Lakeside Community Hospital",
                "--role",
                "covered-entity",
                "--privacy-officer",
                "Dana Reyes, Privacy Officer",
                "--toll-free",
                "1-800-555-0134",
                "--email",
                "privacy@lakeside.example",
                "--website",
                "https://lakeside.example/notice",
                "--postal-address",
                "100 Shore Dr, Madison, WI 53703",
                "--time-zone",
                "America/Chicago",
            ],
        ),
        (
            "Log a stolen laptop (prints the new incident ID)",
            vec![
                "incident",
                "new",
                "--title",
                "Stolen laptop, cardiology clinic",
                "--start",
                "2026-09-28",
                "--discovered",
                "2026-09-30",
                "--type",
                "theft",
                "--location",
                "laptop",
                "--phi",
                "name,date_of_birth,diagnosis,medications",
                "--individuals",
                "1450",
                "--state",
                "WI=1210",
                "--state",
                "IL=240",
                "--discovery-method",
                "employee report",
                "--narrative",
                "Laptop taken from a staff car; the device was logged in.",
                "--no-interview",
            ],
        ),
        (
            "Record what the forensics team found",
            vec![
                "incident",
                "note",
                "2026-0001",
                "Police report filed; device not recovered.",
                "--at",
                "2026-10-01",
            ],
        ),
        (
            "The breach determination: encryption safe harbor, exceptions, the four factors (164.402)",
            vec![
                "assess",
                "2026-0001",
                "--set",
                "security.encrypted=true",
                "--set",
                "security.device_state=logged_in",
                "--set",
                "assessment.recipient.kind=malicious",
                "--set",
                "assessment.acquired.status=acquired",
                "--set",
                "assessment.mitigation.status=none",
                "--no-interview",
            ],
        ),
        (
            "A fact changes: the count is revised, and the obligations move",
            vec![
                "incident",
                "update",
                "2026-0001",
                "--individuals",
                "1460",
                "--state",
                "IL=250",
            ],
        ),
        (
            "Import the list of affected individuals (a synthetic CSV: 1,460 rows; some lack an address, which lowers the per-State estimates, so the script confirms with --accept-lower-counts)",
            vec![
                "roster",
                "import",
                "2026-0001",
                "@roster.csv",
                "--accept-lower-counts",
            ],
        ),
        (
            "The roster's counts now drive the obligations",
            vec!["roster", "stats", "2026-0001"],
        ),
        (
            "What to fix before mailing: rows without an address, by line and reason, never a value",
            vec!["roster", "issues", "2026-0001"],
        ),
        ("Every deadline of the open incidents", vec!["deadlines"]),
        (
            "Draft every individual letter, print-ready HTML, sharded, with a manifest",
            vec![
                "letters",
                "render",
                "2026-0001",
                "--kind",
                "individual",
                "--format",
                "html",
                "--out",
                "@letters",
            ],
        ),
        (
            "Draft the media notice for Wisconsin (more than 500 residents, 164.406)",
            vec![
                "letters",
                "render",
                "2026-0001",
                "--kind",
                "media",
                "--format",
                "html",
                "--out",
                "@media",
            ],
        ),
        (
            "The HHS breach-portal worksheet (164.408(b))",
            vec![
                "letters",
                "render",
                "2026-0001",
                "--kind",
                "hhs_notice",
                "--out",
                "@hhs",
            ],
        ),
        (
            "The drafts are batches 1-3; counsel signs off the media notice (batch 2)",
            vec![
                "--actor",
                "Morgan Lee, Counsel",
                "letters",
                "approve",
                "2026-0001",
                "2",
            ],
        ),
        (
            "Record the press release as sent, from the approved batch",
            vec![
                "notice",
                "record",
                "2026-0001",
                "--kind",
                "media",
                "--jurisdiction",
                "WI",
                "--date",
                "2026-11-20",
                "--method",
                "media",
                "--approved-batch",
                "2",
            ],
        ),
        (
            "The team signs in to `breachdesk serve`: add counsel as a user",
            vec!["user", "add", "mlee", "--role", "counsel"],
        ),
        (
            "One incident in full",
            vec!["incident", "show", "2026-0001"],
        ),
        (
            "The dossier for the file or a regulator",
            vec!["report", "2026-0001", "--html", "--out", "@dossier.html"],
        ),
        ("The audit trail of every change", vec!["audit", "log"]),
        (
            "Verify the hash chain and every record",
            vec!["audit", "verify"],
        ),
        (
            "Tabletop exercise on the same engine, in its own database: 500 or 501 residents?",
            vec![
                "exercise",
                "start",
                "state-500-vs-501",
                "--exercise-db",
                "@exercise.redb",
            ],
        ),
        (
            "The room's decision at stage 0",
            vec![
                "exercise",
                "decide",
                "--exercise-db",
                "@exercise.redb",
                "--no-interview",
                "--determination",
                "breach",
                "--notice",
                "individual=2026-11-13",
                "--notice",
                "hhs_immediate=2026-11-13",
            ],
        ),
        (
            "The next inject arrives",
            vec!["exercise", "next", "--exercise-db", "@exercise.redb"],
        ),
        (
            "The room forgets the media notice",
            vec![
                "exercise",
                "decide",
                "--exercise-db",
                "@exercise.redb",
                "--no-interview",
                "--determination",
                "breach",
                "--notice",
                "individual=2026-11-13",
                "--notice",
                "hhs_immediate=2026-11-13",
            ],
        ),
        (
            "Scored against the engine, with reasons and citations",
            vec!["exercise", "score", "--exercise-db", "@exercise.redb"],
        ),
    ];
    steps
        .into_iter()
        .map(|(what, argv)| {
            let argv = argv
                .into_iter()
                .map(|a| match a.strip_prefix('@') {
                    Some(name) => d(name),
                    None => a.to_string(),
                })
                .collect();
            (what, argv)
        })
        .collect()
}

/// The password the demo gives the user it adds (a demo database only).
const DEMO_USER_PASSWORD: &str = "lakeside demo tabletop 2026";

/// Runs the walk-through; `run` runs one command line (the CLI's own dispatch).
pub fn run_demo(ctx: &Ctx, a: DemoArgs, run: &dyn Fn(Cli, Env) -> Result<i32>) -> Result<i32> {
    let dir = match &a.keep {
        Some(d) => {
            std::fs::create_dir_all(d)
                .map_err(|e| Error::io(format!("cannot create {}", d.display()), e))?;
            d.clone()
        }
        None => {
            let d = std::env::temp_dir().join(format!("breachdesk-demo-{}", std::process::id()));
            std::fs::create_dir_all(&d)
                .map_err(|e| Error::io(format!("cannot create {}", d.display()), e))?;
            d
        }
    };
    let db: PathBuf = dir.join("demo.redb");
    if db.exists() {
        std::fs::remove_file(&db)
            .map_err(|e| Error::io(format!("cannot replace {}", db.display()), e))?;
    }
    write_roster(&dir.join("roster.csv"))?;
    let env = Env {
        db: Some(db.clone()),
        passphrase: Some(crate::desk::Secret::new(DEMO_PASSPHRASE.into())),
        actor: Some("demo".into()),
        user_password: Some(DEMO_USER_PASSWORD.into()),
        stdin_tty: false,
        // The walk-through's dates and IDs are fixed, so its clock is too: the demo database is
        // created with --pinned-clock, and every output says it is not evidence.
        now: parse_instant("2026-11-22T15:00:00Z").unwrap_or(ctx.env.now),
        now_pinned: true,
        ..ctx.env.clone()
    };
    println!(
        "breachdesk demo: a throwaway database at {}\n",
        db.display()
    );
    let mut result = Ok(0);
    for (what, argv) in script(&dir) {
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        println!("== {what}\n$ breachdesk {}", shell_words(&words));
        let cli = Cli::try_parse_from(std::iter::once("breachdesk").chain(words.iter().copied()))
            .map_err(|e| Error::invalid(format!("demo script: {e}")))?;
        match run(cli, env.clone()) {
            Ok(0) => println!(),
            Ok(code) => {
                result = Ok(code);
                break;
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if a.keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
        println!("demo database removed (use --keep DIR to keep it)");
    } else {
        println!(
            "demo database kept at {} (passphrase: \"{DEMO_PASSPHRASE}\")",
            db.display()
        );
    }
    result
}

fn shell_words(argv: &[&str]) -> String {
    argv.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.,/=:@".contains(c))
            {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A synthetic roster for the demo's incident: Wisconsin and Illinois residents, a few with
/// no usable address, a few deceased with and without a next-of-kin address. No real data.
fn write_roster(path: &std::path::Path) -> Result<()> {
    const FIRST: &[&str] = &[
        "Avery", "Jordan", "Maria", "Wei", "Olu", "Priya", "Sean", "Lucia",
    ];
    const LAST: &[&str] = &[
        "Lindqvist",
        "Okafor",
        "Nguyen",
        "Garcia",
        "O'Neil",
        "Haddad",
        "Kowalski",
    ];
    let mut out = String::from(
        "MRN,First Name,Last Name,Address,City,State,Zip,Email,Email Consent,Deceased,NOK Name,NOK Address,NOK City,NOK State,NOK Zip\n",
    );
    for i in 0..1460u32 {
        let (f, l) = (FIRST[(i % 8) as usize], LAST[(i % 7) as usize]);
        let (city, st, zip) = if i < 1210 {
            ("Madison", "WI", "53703")
        } else {
            ("Rockford", "IL", "61101")
        };
        let line = match i % 100 {
            // No usable address, no e-mail consent: substitute notice.
            7 => format!("D{i:06},{f},\"{l}\",,,,,,,,,,,,"),
            // Deceased, next of kin known.
            13 => format!(
                "D{i:06},{f},\"{l}\",{i} Lake St,{city},{st},{zip},,,2026-01-15,Kin of {f},{i} Lake St,{city},{st},{zip}"
            ),
            _ => format!("D{i:06},{f},\"{l}\",{i} Lake St,{city},{st},{zip},,,,,,,,"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}
