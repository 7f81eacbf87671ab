//! PHI stays sealed (issue 10): a canary in every field a person can type, looked for in the
//! raw database file, the files left in its directory, every view without the passphrase and
//! every error message; the process refuses core dumps; passphrases are judged.

use crate::common::{Env, PASS, Run, s};
use redb::ReadableDatabase;

/// One canary per typed field, each a distinct made-up word (so a hit names its field).
const CANARIES: &[(&str, &str)] = &[
    ("title", "Qxtitle Zebulon"),
    ("discovery_method", "Qxmethod"),
    ("reported_by", "Qxreporter"),
    ("safeguards", "Qxsafeguard"),
    ("actions", "Qxaction"),
    ("narrative", "Qxnarrative"),
    ("public_summary", "Qxsummary"),
    ("business_associate.name", "Qxbaname"),
    ("business_associate.address", "Qxbaaddress"),
    ("notice.investigate", "Qxinvestigate"),
    ("notice.mitigate", "Qxmitigate"),
    ("notice.prevent", "Qxprevent"),
    ("credit monitoring provider", "Qxcmprovider"),
    ("credit monitoring enrollment URL", "Qxcmurl"),
    ("encryption_method", "Qxencryption"),
    ("workforce rationale", "Qxworkforce"),
    ("authorized rationale", "Qxauthorized"),
    ("could_not_retain basis", "Qxretainbasis"),
    ("nature rationale", "Qxnature"),
    ("recipient rationale", "Qxrecipient"),
    ("acquired rationale", "Qxacquired"),
    ("mitigation rationale", "Qxmitigation"),
    ("extra factor name", "Qxextraname"),
    ("extra factor rationale", "Qxextrawhy"),
    ("law-enforcement agency", "Qxagency"),
    ("law-enforcement official", "Qxofficial"),
    ("harm basis", "Qxharmbasis"),
    ("discovery event description", "Qxeventdesc"),
    ("note text", "Qxnotetext"),
    ("note author", "Qxnoteauthor"),
    ("override rationale", "Qxoverride"),
    ("sign-off override rationale", "Qxsignoffwhy"),
    ("notice batch label", "Qxbatchlabel"),
    ("close note", "Qxclosenote"),
    ("close rationale", "Qxcloserationale"),
    ("privacy officer", "Qxprivacyofficer"),
];

fn facts() -> String {
    r#"title = "Qxtitle Zebulon"

[breach]
discovered = 2026-10-01
discovery_method = "Qxmethod"
reported_by = "Qxreporter"
types = ["theft"]
locations = ["laptop"]
phi = ["name", "diagnosis"]
safeguards = ["Qxsafeguard"]
actions = ["Qxaction"]
narrative = "Qxnarrative"
public_summary = "Qxsummary"

[individuals]
estimated_total = 12
by_state = { WI = 12 }

[business_associate]
involved = true
name = "Qxbaname"
address = "Qxbaaddress"
relationship = "agent"

[security]
encryption_method = "Qxencryption"
device_state = "logged_in"

[exceptions.workforce_good_faith]
rationale = "Qxworkforce"

[exceptions.authorized_to_authorized]
rationale = "Qxauthorized"

[exceptions.could_not_retain]
good_faith_belief = false
basis = "Qxretainbasis"

[assessment.nature]
answered = true
direct_identifiers = true
rationale = "Qxnature"

[assessment.recipient]
kind = "malicious"
rationale = "Qxrecipient"

[assessment.acquired]
status = "acquired"
rationale = "Qxacquired"

[assessment.mitigation]
status = "none"
rationale = "Qxmitigation"

[[assessment.extra]]
name = "Qxextraname"
rating = "high"
rationale = "Qxextrawhy"

[[law_enforcement]]
kind = "oral"
date = 2026-10-02
agency = "Qxagency"
official = "Qxofficial"

[state_law.harm]
outcome = "likely"
date = 2026-10-03
basis = "Qxharmbasis"

[[discovery_events]]
date = 2026-10-01
who = "workforce_member"
kind = "learned"
description = "Qxeventdesc"

[notice]
investigate = "Qxinvestigate"
mitigate = "Qxmitigate"
prevent = "Qxprevent"

[notice.credit_monitoring]
provider = "Qxcmprovider"
enrollment_url = "https://Qxcmurl.example"
enroll_by = 2027-01-31
months = 24
"#
    .to_string()
}

fn no_key(e: &Env, args: &[&str]) -> Run {
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    e.run_with(c, args)
}

#[track_caller]
fn assert_no_canary(what: &str, bytes: &[u8]) {
    for (field, canary) in CANARIES {
        let c = canary.split(' ').next().unwrap_or(canary).as_bytes();
        assert!(
            !bytes.windows(c.len()).any(|w| w == c),
            "the {field} canary ({canary}) was found in {what}"
        );
    }
}

/// An incident with a canary in every typed field, and its passphrase-holding history.
fn canary_incident() -> (Env, String) {
    let e = Env::new();
    e.run(&["org", "update", "--privacy-officer", "Qxprivacyofficer"])
        .ok();
    let f = e.write("facts.toml", &facts());
    let id = e.incident(&["--from", s(&f)]);
    std::fs::remove_file(&f).unwrap();
    e.run(&[
        "incident",
        "note",
        &id,
        "Qxnotetext",
        "--author",
        "Qxnoteauthor",
    ])
    .ok();
    e.run(&[
        "assess",
        &id,
        "--no-interview",
        "--override",
        "breach",
        "--rationale",
        "Qxoverride",
    ])
    .ok();
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "individual",
        "--date",
        "2026-11-01",
        "--method",
        "mail",
        "--count",
        "12",
        "--batch",
        "Qxbatchlabel",
        // Issue 12: an individual notice needs an approved batch or an override, whose
        // rationale is sealed with the notice.
        "--override-rationale",
        "Qxsignoffwhy",
    ])
    .ok();
    e.run(&[
        "incident",
        "close",
        &id,
        "--disposition",
        "breach_notified",
        "--note",
        "Qxclosenote",
        "--force",
        "--rationale",
        "Qxcloserationale",
    ])
    .ok();
    (e, id)
}

#[test]
fn every_typed_field_is_sealed_in_the_file_and_in_views_without_the_passphrase() {
    let (e, id) = canary_incident();
    // With the passphrase, every canary reads back: the test can fail.
    let full = e.run(&["incident", "show", &id, "--json"]).ok().stdout;
    for (field, canary) in CANARIES
        .iter()
        .filter(|(f, _)| !matches!(*f, "privacy officer"))
    {
        assert!(
            full.contains(canary),
            "{field} ({canary}) not shown: {full}"
        );
    }
    let org = e.run(&["org", "show", "--json"]).ok().stdout;
    assert!(org.contains("Qxprivacyofficer"), "{org}");

    // The raw file, and every file left beside it, hold none.
    assert_no_canary("the database file", &std::fs::read(&e.db).unwrap());
    for entry in std::fs::read_dir(e.dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            assert_no_canary(&p.display().to_string(), &std::fs::read(&p).unwrap());
        }
    }

    // Views without the passphrase: the ID and the kind, never a typed string.
    for args in [
        vec!["incident", "list"],
        vec!["incident", "list", "--json"],
        vec!["incident", "show", &id],
        vec!["incident", "show", &id, "--json"],
        vec!["deadlines", "--all"],
        vec!["deadlines", "--all", "--json"],
        vec!["org", "show"],
        vec!["org", "show", "--json"],
        vec!["audit", "log"],
        vec!["audit", "log", "--json"],
        vec!["audit", "verify"],
    ] {
        let r = no_key(&e, &args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_no_canary(&format!("{args:?} stdout"), r.stdout.as_bytes());
        assert_no_canary(&format!("{args:?} stderr"), r.stderr.as_bytes());
    }
    let list = no_key(&e, &["incident", "list"]).stdout;
    assert!(list.contains("theft · laptop"), "{list}");
    let show = no_key(&e, &["incident", "show", &id]).stdout;
    assert!(
        show.contains(&format!("Incident {id}  theft · laptop")),
        "{show}"
    );
    // The calendar export goes to other systems: never a title, even with the passphrase.
    let ics = e.path("cal.ics");
    e.run(&["deadlines", "--all", "--ics", s(&ics)]).ok();
    assert_no_canary("the calendar export", &std::fs::read(&ics).unwrap());
    std::fs::remove_file(&ics).unwrap();
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn changes_need_the_passphrase_and_say_so() {
    let (e, id) = canary_incident();
    for args in [
        vec!["incident", "reopen", &id],
        vec!["incident", "note", &id, "x"],
        vec!["incident", "update", &id, "--status", "investigating"],
        vec!["org", "update", "--time-zone", "UTC"],
    ] {
        let r = no_key(&e, &args).code(7);
        assert!(r.stderr.contains("BREACHDESK_PASSPHRASE"), "{}", r.stderr);
        assert_no_canary("an error", r.stderr.as_bytes());
    }
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn errors_from_a_facts_file_never_echo_its_values() {
    let e = Env::new();
    for text in [
        "title = 4815162342\n",
        "[breach]\ntypes = [\"Qxtitle Zebulon\"]\n",
        "[breach]\ndiscovered = \"Qxtitle Zebulon\"\n",
        "[individuals]\nunreachable = \"Qxtitle Zebulon\"\n",
        "[business_associate]\nrelationship = \"Qxtitle Zebulon\"\n",
    ] {
        let f = e.write("bad.toml", text);
        let r = e
            .run(&["incident", "new", "--no-interview", "--from", s(&f)])
            .code(3);
        assert!(r.stderr.contains("bad.toml"), "{}", r.stderr);
        assert!(
            !r.stderr.contains("Zebulon") && !r.stderr.contains("4815162342"),
            "{}",
            r.stderr
        );
        let r = e.run(&["evaluate", s(&f)]).code(3);
        assert!(!r.stderr.contains("Zebulon") && !r.stderr.contains("4815162342"));
    }
}

#[test]
fn weak_and_mismatched_passphrases_are_refused() {
    for weak in ["a", "x", "password", "Test Hospital 1"] {
        let e = Env::empty();
        let mut c = e.cmd();
        c.env("BREACHDESK_PASSPHRASE", weak);
        let r = e
            .run_with(
                c,
                &[
                    "init",
                    "--pinned-clock",
                    "--org",
                    "Test Hospital",
                    "--role",
                    "covered-entity",
                ],
            )
            .code(3);
        assert!(r.stderr.contains("too weak"), "{}", r.stderr);
        assert!(!r.stderr.contains(&format!("\"{weak}\"")), "{}", r.stderr);
        assert!(!e.db.exists(), "nothing is created");
    }
    // Allowed for a demo or a test, and recorded.
    let e = Env::empty();
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "a");
    e.run_with(
        c,
        &[
            "init",
            "--pinned-clock",
            "--org",
            "Test Hospital",
            "--role",
            "covered-entity",
            "--allow-weak-passphrase",
        ],
    )
    .ok();
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "a");
    let v = e.run_with(c, &["org", "show", "--json"]).ok().json();
    assert_eq!(v["weak_passphrase"], true, "{v}");
    // rekey judges the new one too, and a strong one clears the record.
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "a")
        .env("BREACHDESK_NEW_PASSPHRASE", "x");
    let r = e.run_with(c, &["rekey"]).code(3);
    assert!(r.stderr.contains("too weak"), "{}", r.stderr);
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "a")
        .env("BREACHDESK_NEW_PASSPHRASE", PASS);
    let r = e.run_with(c, &["rekey"]).ok();
    assert!(r.stdout.contains("backup"), "{}", r.stdout);
    assert!(r.stdout.contains("--rotate"), "{}", r.stdout);
    let v = e.run(&["org", "show", "--json"]).ok().json();
    assert_eq!(v["weak_passphrase"], false, "{v}");
    e.run(&["audit", "verify"]).ok();
}

/// `rekey --rotate`: an old copy of the file (a backup) and the old passphrase open nothing
/// written afterwards, while a plain `rekey` leaves them able to.
#[test]
fn after_a_rotation_an_old_backup_opens_nothing_written_since() {
    let (e, id) = canary_incident();
    // A roster too: its key is rotated with the rest (resealed in resumable chunks first).
    let mut csv = String::from("MRN,First Name,Last Name,Address,City,State,Zip\n");
    for i in 0..12 {
        csv.push_str(&format!(
            "P{i},Qxrow{i},Last,{i} Main St,Madison,WI,53703\n"
        ));
    }
    let f = e.write("rows.csv", &csv);
    e.run(&["roster", "import", &id, s(&f), "--accept-lower-counts"])
        .ok();
    std::fs::remove_file(&f).unwrap();
    let backup = e.path("backup.redb");
    std::fs::copy(&e.db, &backup).unwrap();
    // The old wrapped key of the backup, put into the rotated file, is what an attacker with
    // the backup and the old passphrase would hold.
    let old_key = wrapped_key(&backup);
    let mut c = e.cmd();
    c.env(
        "BREACHDESK_NEW_PASSPHRASE",
        "new plum ferry atlas nineteen gravel",
    );
    let r = e.run_with(c, &["rekey", "--rotate"]).ok();
    assert!(r.stdout.contains("rotated"), "{}", r.stdout);
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let last = log["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "org.rekey");
    assert!(
        last["detail"].as_str().unwrap().contains("rosters=1"),
        "{last}"
    );
    let new_pass = "new plum ferry atlas nineteen gravel";
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", new_pass);
    let v = e
        .run_with(c, &["incident", "show", &id, "--json"])
        .ok()
        .json();
    assert_eq!(v["facts"]["breach"]["narrative"], "Qxnarrative");
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", new_pass);
    e.run_with(
        c,
        &[
            "incident",
            "note",
            &id,
            "written after the rotation Qxlater",
        ],
    )
    .ok();
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", new_pass);
    let r = e.run_with(c, &["audit", "verify"]).ok();
    assert!(r.stdout.contains("intact"), "{}", r.stdout);
    // The roster reads under its new key: its letters render.
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", new_pass);
    let out = e.path("letters");
    e.run_with(
        c,
        &[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--out",
            s(&out),
        ],
    )
    .ok();
    let mut text = String::new();
    for f in std::fs::read_dir(&out).unwrap() {
        text.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap_or_default());
    }
    assert!(
        text.contains("Qxrow11"),
        "the rotated roster's rows are rendered"
    );
    std::fs::remove_dir_all(&out).unwrap();
    // The rotated file with the backup's wrapped key: the old passphrase unwraps the old
    // database key, which opens nothing in the new file.
    let attacked = e.path("attacked.redb");
    std::fs::copy(&e.db, &attacked).unwrap();
    set_wrapped_key(&attacked, &old_key);
    let mut c = e.cmd();
    c.env("BREACHDESK_DB", &attacked);
    let r = e.run_with(c, &["incident", "show", &id, "--json"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains("Qxlater") && !r.stdout.contains("Qxnarrative"));
    // A plain rekey, by contrast, leaves the old key able to open new data (said plainly).
    let e2 = Env::new();
    let id2 = e2.incident(&["--title", "t", "--discovered", "2026-10-01"]);
    let old2 = wrapped_key(&e2.db);
    let mut c = e2.cmd();
    c.env(
        "BREACHDESK_NEW_PASSPHRASE",
        "new plum ferry atlas nineteen gravel",
    );
    e2.run_with(c, &["rekey"]).ok();
    let mut c = e2.cmd();
    c.env("BREACHDESK_PASSPHRASE", new_pass);
    e2.run_with(c, &["incident", "note", &id2, "Qxlater"]).ok();
    set_wrapped_key(&e2.db, &old2);
    let v = e2.run(&["incident", "show", &id2, "--json"]).ok().json();
    assert_eq!(v["timeline"][0]["text"], "Qxlater");
}

fn wrapped_key(db: &std::path::Path) -> Vec<u8> {
    let db = redb::Database::open(db).unwrap();
    let tx = db.begin_read().unwrap();
    let t = tx.open_table(crate::common::tables::META).unwrap();
    t.get("wrapped_key").unwrap().unwrap().value().to_vec()
}

fn set_wrapped_key(db: &std::path::Path, key: &[u8]) {
    let db = redb::Database::open(db).unwrap();
    let tx = db.begin_write().unwrap();
    tx.open_table(crate::common::tables::META)
        .unwrap()
        .insert("wrapped_key", key)
        .unwrap();
    tx.commit().unwrap();
}

/// The process marks itself non-dumpable and sets its core limit to 0 at start: a crash
/// (here SIGABRT sent while it holds the key mid-import) leaves no core file, even when the
/// shell that started it allowed unlimited cores. A control process started the same way
/// shows the machine would have written one, when the machine writes cores at all.
#[cfg(target_os = "linux")]
#[test]
fn a_forced_crash_writes_no_core_file() {
    use std::process::{Command, Stdio};
    let e = Env::new();
    e.incident(&["--title", "t", "--discovered", "2026-10-01"]);
    let mut csv = String::from("MRN,First Name,Last Name,Address,City,State,Zip\n");
    for i in 0..50 {
        csv.push_str(&format!("P{i},Qxfirst{i},Last,1 Main St,Austin,TX,78701\n"));
    }
    let f = e.write("r.csv", &csv);
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let cores_here = !pattern.starts_with('|') && !pattern.contains('/');
    let cores = |dir: &std::path::Path| -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|d| d.ok())
            .filter(|d| d.file_name().to_string_lossy().starts_with("core"))
            .count()
    };
    let spawn = |cmd: &str| {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("ulimit -c unlimited 2>/dev/null; exec {cmd}"))
            .current_dir(e.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // The control: an ordinary process killed the same way.
    let control_dir = tempfile::tempdir().unwrap();
    let mut control = spawn("sleep 30");
    control.current_dir(control_dir.path());
    let mut child = control.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    Command::new("kill")
        .args(["-ABRT", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let machine_writes_cores = cores_here && cores(control_dir.path()) > 0;

    let mut c = spawn(&format!(
        "{} roster import 2026-0001 {}",
        crate::common::bin(),
        s(&f)
    ));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BREACHDESK_DB", &e.db)
        .env("BREACHDESK_NOW", &e.now)
        .env("BREACHDESK_PASSPHRASE", PASS)
        .env("BREACHDESK_TEST_PAUSE_AT", "read:1")
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let pid = child.id();
    // Wait until it paused mid-import (it has unlocked the key and holds rows by then).
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let paused = std::io::BufRead::lines(stderr)
        .any(|l| l.is_ok_and(|l| l.contains("paused at progress point read:1")));
    assert!(paused, "the import never reached its pause");
    let limits = format!("/proc/{pid}/limits");
    let l = std::fs::read_to_string(&limits).unwrap();
    let core = l
        .lines()
        .find(|x| x.starts_with("Max core file size"))
        .unwrap();
    assert!(
        core.split_whitespace().filter(|w| *w == "0").count() >= 2,
        "soft and hard core limits are 0: {core}"
    );
    Command::new("kill")
        .args(["-ABRT", &pid.to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(cores(e.dir.path()), 0, "a core file was written");
    eprintln!(
        "core pattern {:?}: the machine {} write a core for an ordinary process",
        pattern.trim(),
        if machine_writes_cores {
            "does"
        } else {
            "does not"
        }
    );
}

/// On a terminal `init` asks twice: two different answers create nothing (a typo would lock
/// the organization out of its own PHI), a weak one is refused, two equal strong ones create
/// the database. Run on a pseudo-terminal through util-linux `script`.
#[cfg(target_os = "linux")]
#[test]
fn init_asks_twice_on_a_terminal() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.redb");
    let init = |answers: &str| {
        let cmd = format!(
            "{} --db {} init --org 'Test Hospital' --role covered-entity",
            crate::common::bin(),
            db.display()
        );
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("TERM", "dumb")
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answers.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = init("plum ferry atlas nineteen gravel\nplum ferry atlas nineteen grave\n");
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("The same passphrase again"), "{out}");
    assert!(out.contains("the two passphrases differ"), "{out}");
    assert!(!db.exists(), "nothing is created");
    let (code, out) = init("password\npassword\n");
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("too weak"), "{out}");
    assert!(!db.exists(), "nothing is created");
    let (code, out) = init("plum ferry atlas nineteen gravel\nplum ferry atlas nineteen gravel\n");
    assert_eq!(code, Some(0), "{out}");
    assert!(db.exists());
}

/// A scenario file's errors name the file, line and field, never the value found there.
#[test]
fn errors_from_a_scenario_never_echo_its_values() {
    let e = Env::empty();
    let good = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/exercise/scenarios/ba-agent-vs-contractor.toml"),
    )
    .unwrap();
    assert!(good.contains("types = [\""));
    for bad in [
        good.replacen("types = [\"", "types = [\"Zebulon Quxworthy\", \"", 1),
        good.replacen("\ntitle = ", "\ntitle = 4815162342\nx_title = ", 1),
    ] {
        let f = e.write("bad-scenario.toml", &bad);
        let r = e.run(&["exercise", "validate", s(&f)]).code(3);
        assert!(
            r.stderr.contains("bad-scenario.toml, line "),
            "{}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("Zebulon") && !r.stderr.contains("4815162342"),
            "{}",
            r.stderr
        );
    }
}
