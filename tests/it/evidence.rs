//! Evidence that stands up (issue 9): true time and names, a chain that covers everything.

use breachdesk::audit::entry::{AuditEntry, ClockSource, Recorded, Who, decode_stored};
use redb::ReadableTable;

use crate::common::tables::{AUDIT, META};
use crate::common::*;

const EDITED_RECORD: i32 = 10;
const ORPHAN: i32 = 14;
const CLOCK_BACKWARDS: i32 = 18;
const KEY_REPLACED: i32 = 19;

/// A real register: created and used on the system clock.
fn real() -> Env {
    let e = Env::empty();
    e.run_real(&[
        "init",
        "--org",
        "Real Hospital",
        "--role",
        "covered-entity",
        "--no-encryption",
    ])
    .ok();
    e
}

fn os_account() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_real_register_refuses_a_pinned_clock() {
    // Creating a real register under a pinned clock is refused, and leaves no file.
    let e = Env::empty();
    let r = e
        .run(&[
            "init",
            "--org",
            "X",
            "--role",
            "covered-entity",
            "--no-encryption",
        ])
        .code(3);
    assert!(r.stderr.contains("--pinned-clock"), "{}", r.stderr);
    assert!(!e.db.exists());

    let e = real();
    let id = e
        .run_real(&[
            "incident",
            "new",
            "--title",
            "Lost binder",
            "--no-interview",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    // Before: `BREACHDESK_NOW=1971-01-01 breachdesk incident note …` wrote an entry stamped
    // 1971 after entries of today, and verify said "intact".
    let mut c = e.cmd();
    c.env("BREACHDESK_NOW", "1971-01-01");
    let r = e
        .run_with(c, &["incident", "note", &id, "backdated"])
        .code(3);
    assert!(r.stderr.contains("real register"), "{}", r.stderr);
    assert!(r.stderr.contains("system clock"), "{}", r.stderr);
    // Reads are refused too: "today" on a real register is the system's.
    e.run(&["deadlines"]).code(3);
    let log = e.run_real(&["audit", "log", "--json"]).ok().json();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        3,
        "store.init, org.init, incident.new: {log}"
    );
    assert!(entries.iter().all(|x| x["clock"] == "system"));
    // No "not evidence" note on a real register.
    assert!(log.get("clock").is_none());
    // evaluate uses no database and keeps --today and the pinned clock for what-ifs.
    let facts = e.write(
        "f.toml",
        "title = \"x\"\n[breach]\ndiscovered = 1970-12-01\n",
    );
    let mut c = e.cmd();
    c.env("BREACHDESK_NOW", "1971-01-01");
    let r = e.run_with(c, &["evaluate", s(&facts)]).ok();
    assert!(r.stdout.contains("as of 1971-01-01"), "{}", r.stdout);
}

#[test]
fn a_pinned_clock_database_says_it_is_not_evidence() {
    let e = Env::plain();
    let r = e.run(&["incident", "list"]).ok();
    assert!(
        r.stderr.contains("pinned clock — not evidence"),
        "{}",
        r.stderr
    );
    let v = e.run(&["incident", "list", "--json"]).ok().json();
    assert_eq!(v["clock"], "pinned clock — not evidence");
    let id = e.incident(&["--title", "x", "--discovered", "2026-10-01"]);
    let out = e.path("d.html");
    e.run(&["report", &id, "--html", "--out", s(&out)]).ok();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("pinned clock — not evidence"));
    // The marker is part of the audited organization: flipping it is an edited record.
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_write().unwrap();
    tx.open_table(META)
        .unwrap()
        .insert("clock", b"system".as_slice())
        .unwrap();
    tx.commit().unwrap();
    drop(db);
    let r = e.run_real(&["audit", "verify"]).code(EDITED_RECORD);
    assert!(r.stderr.contains("org"), "{}", r.stderr);
}

/// An entry forced into the file with an earlier time (correctly chained and hashed, as an
/// attacker with write access and this documentation would) is named by verify.
#[test]
fn a_backdated_entry_forced_into_the_file_is_named() {
    let e = real();
    e.run_real(&[
        "incident",
        "new",
        "--title",
        "Lost binder",
        "--no-interview",
    ])
    .ok();
    e.run_real(&["audit", "verify"]).ok();
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx.open_table(AUDIT).unwrap();
        let (seq, head) = {
            let (k, v) = t.last().unwrap().unwrap();
            (k.value(), decode_stored(v.value()).unwrap())
        };
        let forged = AuditEntry {
            seq: seq + 1,
            at: "1971-01-01T12:00:00Z".parse().unwrap(),
            recorded: Recorded::V2 {
                who: Who::cli("root", Some(0), None),
                clock: ClockSource::System,
            },
            action: "incident.note".into(),
            subject: head.entry.subject.clone(),
            detail: "note=1".into(),
            // The subject's state is unchanged: only the time is wrong.
            digest: head.entry.digest,
            prev_hash: head.stored_hash,
        };
        t.insert(seq + 1, forged.encode_stored().as_slice())
            .unwrap();
    }
    tx.commit().unwrap();
    drop(db);
    let r = e.run_real(&["audit", "verify"]).code(CLOCK_BACKWARDS);
    assert!(
        r.stderr.contains("time goes backwards at entry 4"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("1971-01-01"), "{}", r.stderr);
    let v = e
        .run_real(&["audit", "verify", "--json"])
        .code(CLOCK_BACKWARDS)
        .json();
    assert_eq!(v["findings"][0]["damage"], "clock_backwards");
}

#[test]
fn entries_name_the_os_account_and_the_person_acted_for() {
    let e = Env::plain();
    let id = e.incident(&["--title", "x", "--discovered", "2026-10-01"]);
    let mut c = e.cmd();
    // The OS account comes from the user id, never from the environment.
    c.env("USER", "mallory").env("LOGNAME", "mallory");
    e.run_with(c, &["--actor", "Dana Reyes", "incident", "note", &id, "n"])
        .ok();
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let last = log["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["os_account"], os_account());
    assert_ne!(last["os_account"], "mallory");
    assert_eq!(last["on_behalf_of"], "Dana Reyes");
    assert_eq!(last["via"], "cli");
    assert_eq!(last["authenticated_user"], serde_json::Value::Null);
    assert_eq!(last["encoding"], 2);
    assert_eq!(
        last["actor"],
        format!("{} for Dana Reyes", os_account()).as_str()
    );
    let r = e.run(&["audit", "log"]).ok();
    assert!(r.stdout.contains("On behalf of"), "{}", r.stdout);
    assert!(r.stdout.contains("Dana Reyes"), "{}", r.stdout);
    let out = e.path("d.html");
    e.run(&["report", &id, "--html", "--out", s(&out)]).ok();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("On behalf of"));
    assert!(html.contains(&format!("{} (OS account, uid", os_account())));
}

#[test]
fn a_plaintext_value_in_an_encrypted_database_is_refused_and_named() {
    let e = Env::new();
    let id = e.incident(&[
        "--title",
        "x",
        "--discovered",
        "2026-10-01",
        "--narrative",
        "sealed text",
    ]);
    // Before: a 0x00-tagged value planted without the passphrase was shown as if genuine.
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let phi: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("phi_v1");
        let mut t = tx.open_table(phi).unwrap();
        // Issue 10: the narrative lives in the incident's sealed text (`fields`).
        let key = format!("incident/{id}/fields");
        assert!(t.get(key.as_str()).unwrap().is_some());
        t.insert(key.as_str(), b"\x00planted text".as_slice())
            .unwrap();
    }
    tx.commit().unwrap();
    drop(db);
    let r = e.run(&["incident", "show", &id]).code(7);
    assert!(r.stderr.contains("failed authentication"), "{}", r.stderr);
    assert!(!r.stdout.contains("planted"));
    let v = e
        .run(&["audit", "verify", "--json"])
        .code(EDITED_RECORD)
        .json();
    let f = v["findings"].as_array().unwrap();
    assert!(
        f.iter().any(|x| x["damage"] == "unsealed_value"
            && x["message"].as_str().unwrap().contains("/fields")),
        "{v}"
    );
}

#[test]
fn every_setting_belongs_to_an_audited_subject() {
    let e = Env::plain();
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_write().unwrap();
    tx.open_table(META)
        .unwrap()
        .insert("retention_override", b"1 day".as_slice())
        .unwrap();
    tx.commit().unwrap();
    drop(db);
    let r = e.run(&["audit", "verify"]).code(ORPHAN);
    assert!(
        r.stderr.contains("meta_v1[retention_override]"),
        "{}",
        r.stderr
    );

    // The schema version is on record too.
    let e = Env::plain();
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_write().unwrap();
    tx.open_table(META)
        .unwrap()
        .insert("schema_version", b"1".as_slice())
        .unwrap();
    tx.commit().unwrap();
    drop(db);
    let r = e.run(&["audit", "verify"]).code(EDITED_RECORD);
    assert!(r.stderr.contains("store"), "{}", r.stderr);
}

#[test]
fn a_replaced_signing_key_is_its_own_finding() {
    let e = Env::plain();
    e.incident(&["--title", "x", "--discovered", "2026-10-01"]);
    e.run(&["audit", "keygen"]).ok();
    let cp = e.path("cp.json");
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(v["format_version"], 2);
    assert_eq!(v["key_fingerprint"].as_str().unwrap().len(), 64);
    e.run(&["audit", "verify", "--against", s(&cp)]).ok();
    // Replacing the key needs --replace and is an audited event.
    let other = e.path("other.key");
    e.run(&["audit", "keygen", "--out", s(&other)]).code(3);
    e.run(&["audit", "keygen", "--out", s(&other), "--replace"])
        .ok();
    let r = e
        .run(&["audit", "verify", "--against", s(&cp)])
        .code(KEY_REPLACED);
    assert!(
        r.stderr
            .contains("signing key replaced since this checkpoint"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("replaced at entry 5"), "{}", r.stderr);
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let last = log["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "audit.keygen");
    assert!(last["detail"].as_str().unwrap().contains("replaces="));
    // A checkpoint after the replacement verifies against the new key.
    let cp2 = e.path("cp2.json");
    e.run(&[
        "audit",
        "checkpoint",
        "--out",
        s(&cp2),
        "--signing-key",
        s(&other),
    ])
    .ok();
    e.run(&["audit", "verify", "--against", s(&cp2)]).ok();
    // A checkpoint whose named key was swapped for another (fingerprint no longer matching)
    // is a bad checkpoint.
    let mut forged = v.clone();
    forged["public_key"] = serde_json::Value::String("11".repeat(32));
    let p = e.write("forged.json", &forged.to_string());
    e.run(&["audit", "verify", "--against", s(&p)]).code(17);
}

/// Before: `incident close --disposition breach_notified` was accepted with notices pending,
/// and those duties vanished from `deadlines` and `deadlines --fail-on-overdue`.
#[test]
fn closing_with_notices_pending_is_refused_and_the_board_keeps_them() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Stolen laptop",
        "--discovered",
        "2026-09-01",
        "--individuals",
        "40",
        "--state",
        "WI=40",
        "--set",
        "individuals.unreachable=20",
    ]);
    let r = e
        .run(&["incident", "close", &id, "--disposition", "breach_notified"])
        .code(3);
    assert!(r.stderr.contains("unmet obligation"), "{}", r.stderr);
    assert!(r.stderr.contains("individual"), "{}", r.stderr);
    // --force needs a rationale (and the reverse).
    e.run(&[
        "incident",
        "close",
        &id,
        "--disposition",
        "breach_notified",
        "--force",
    ])
    .code(2);
    for (kind, method, count) in [
        ("individual", "mail", "20"),
        ("substitute_web_or_media", "web", "1"),
        ("toll_free_line", "phone", "1"),
    ] {
        e.run(&[
            "notice",
            "record",
            &id,
            "--kind",
            kind,
            "--date",
            "2026-11-01",
            "--method",
            method,
            "--count",
            count,
            "--override-rationale",
            "sent before counsel's sign-off was recorded here",
        ])
        .ok();
    }
    // The annual log to HHS (fewer than 500) is still owed: refused again, then forced.
    let r = e
        .run(&["incident", "close", &id, "--disposition", "breach_notified"])
        .code(3);
    assert!(r.stderr.contains("hhs_annual"), "{}", r.stderr);
    e.run(&[
        "incident",
        "close",
        &id,
        "--disposition",
        "breach_notified",
        "--force",
        "--rationale",
        "the annual log goes with the 2026 batch",
    ])
    .ok();
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["status"], "closed");
    assert_eq!(
        v["close_rationale"],
        "the annual log goes with the 2026 batch"
    );
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let last = log["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "incident.close");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("forced unmet=hhs_annual"),
        "{last}"
    );
    // The board lists the unmet duty of the closed incident, and the windows still running.
    let v = e.run(&["deadlines", "--json"]).ok().json();
    let rows = v["deadlines"].as_array().unwrap();
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"hhs_annual"), "{v}");
    assert!(rows.iter().all(|r| r["incident_status"] == "closed"));
    let posting = rows
        .iter()
        .find(|r| r["kind"] == "substitute_web_or_media")
        .expect("the web posting stays on the board");
    assert_eq!(posting["keep_until"], "2027-01-30");
    let line = rows.iter().find(|r| r["kind"] == "toll_free_line").unwrap();
    assert_eq!(line["keep_until"], "2027-01-30");
    let r = e.run(&["deadlines"]).ok();
    assert!(
        r.stdout.contains("keep posted until 2027-01-30"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("keep active until 2027-01-30"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("(closed)"), "{}", r.stdout);
    // After the windows end they leave the board.
    let mut c = e.cmd();
    c.env("BREACHDESK_NOW", "2027-01-31T12:00:00Z");
    let v = e.run_with(c, &["deadlines", "--json"]).ok().json();
    let kinds: Vec<&str> = v["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["hhs_annual"]);
}

/// Before: a write error on standard output after the commit panicked (exit 101).
#[test]
fn output_after_a_commit_never_panics() {
    let e = Env::plain();
    let id = e.incident(&["--title", "x", "--discovered", "2026-10-01"]);
    // A full output device.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut c = e.cmd();
    c.stdout(full);
    let out = c
        .args(["incident", "note", &id, "written before the output fails"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The change itself was committed.
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["timeline"].as_array().unwrap().len(), 1);
    // A closed output (the reader went away): quiet, exit 141.
    let mut c = e.cmd();
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.args(["audit", "log"]).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .trim()
            .lines()
            .all(|l| l.starts_with("note:"))
    );
}

/// Answers to the `assess` interview that end in "breach" (no confirmation asked).
const BREACH_ANSWERS: &str = "n\nn\n\
    y\nn\ny\nn\nlooked without a job need\n\
    n\nn\n\
    y\nn\ny\nn\nnames and diagnoses\n\
    3\nco-worker\n\
    4\nviewed in the EHR log\n\
    5\nno mitigation possible\n";

/// Starts `assess ID --interview` with its answers to come, and waits until it asks the
/// first question (by then it has read the incident and closed the database).
fn interview_waiting(e: &Env, id: &str) -> std::process::Child {
    use std::io::Read;
    let mut c = e.cmd();
    c.stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .args(["assess", id, "--interview"]);
    let mut child = c.spawn().unwrap();
    let err = child.stderr.as_mut().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("1/6") {
        assert_eq!(err.read(&mut byte).unwrap(), 1, "the interview ended early");
        seen.push(byte[0]);
    }
    child
}

fn answer(mut child: std::process::Child, answers: &str) -> Run {
    use std::io::Write;
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(answers.as_bytes())
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Before: an `assess` interview left open at its first question locked everyone out of the
/// whole file, even from reading the deadline board.
#[test]
fn one_process_in_an_interview_another_reading_the_board_both_succeed() {
    let e = Env::plain();
    let id = e.incident(&["--title", "Snooping", "--discovered", "2026-10-01"]);
    let child = interview_waiting(&e, &id);
    // No waiting: the database is not held while a person answers.
    let v = e.run(&["--wait", "0", "deadlines", "--json"]).ok().json();
    assert!(!v["deadlines"].as_array().unwrap().is_empty());
    let r = answer(child, BREACH_ANSWERS).ok();
    assert!(r.stdout.contains("breach"), "{}", r.stdout);
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["assessed"], true);
}

/// The interview re-checks that the incident did not change while it was answered.
#[test]
fn an_interview_overtaken_by_another_change_records_nothing() {
    let e = Env::plain();
    let id = e.incident(&["--title", "Snooping", "--discovered", "2026-10-01"]);
    let child = interview_waiting(&e, &id);
    e.run(&["incident", "update", &id, "--individuals", "3"])
        .ok();
    let r = answer(child, BREACH_ANSWERS).code(9);
    assert!(r.stderr.contains("changed by someone else"), "{}", r.stderr);
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["assessed"], false, "nothing was recorded");
}

#[test]
fn incident_interview_from_a_pipe() {
    let e = Env::plain();
    let answers = "Lost binder\nemployee report\nward clerk\n2026-13-01\n2026-11-02\nn\n?\n3\n8\n5,1\n12\nWI=12\nn\n\n";
    let mut c = e.cmd();
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .args(["incident", "new", "--interview"]);
    let child = c.spawn().unwrap();
    let r = answer(child, answers).ok();
    let id = r.stdout.trim().to_string();
    assert!(r.stderr.contains("is not a date"), "{}", r.stderr);
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["facts"]["breach"]["discovered"], "2026-11-02");
    assert_eq!(v["facts"]["breach"]["discovery_method"], "employee report");
    assert_eq!(v["facts"]["breach"]["phi"][0], "name");
    assert_eq!(v["facts"]["individuals"]["estimated_total"], 12);
}

/// A not-a-breach result asks for a reason per factor and a confirmation; without it nothing
/// is recorded.
#[test]
fn not_a_breach_from_the_interview_needs_reasons_and_a_confirmation() {
    let e = Env::plain();
    let id = e.incident(&["--title", "Misdirected fax", "--discovered", "2026-10-01"]);
    // Not secured, no exceptions; names only; another covered entity; viewed; attested
    // destruction: low probability by route R2.
    let answers = "n\nn\nn\nn\nn\n\
        y\nn\nn\nn\nn\n\
        1\n\n\
        4\n\n\
        1\n\n";
    let mut c = e.cmd();
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .args(["assess", &id, "--interview"]);
    let r = answer(
        c.spawn().unwrap(),
        &format!("{answers}the clinic is a covered entity\nfax log shows it was read\nsigned attestation\nno\n"),
    )
    .code(3);
    assert!(r.stderr.contains("needs the reason"), "{}", r.stderr);
    assert!(r.stderr.contains("not confirmed"), "{}", r.stderr);
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["assessed"], false);
    let mut c = e.cmd();
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .args(["assess", &id, "--interview", "--json"]);
    let r = answer(
        c.spawn().unwrap(),
        &format!("{answers}names only, no clinical detail beyond one line\nthe clinic is a covered entity\nfax log shows it was read\nsigned attestation\nyes\n"),
    )
    .ok();
    assert_eq!(r.json()["determination"], "not_breach_low_probability");
}

/// A command finding the database busy waits up to --wait with a message, then exits 5.
#[test]
fn a_busy_database_is_waited_for() {
    let e = Env::plain();
    let held = redb::Database::open(&e.db).unwrap();
    let r = e.run(&["--wait", "300ms", "incident", "list"]).code(5);
    assert!(r.stderr.contains("waiting up to 0.3s"), "{}", r.stderr);
    let mut c = e.cmd();
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .args(["--wait", "20s", "incident", "list"]);
    let child = c.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    drop(held);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("in use by another breachdesk process; waiting up to 20s"),
        "{err}"
    );
}
