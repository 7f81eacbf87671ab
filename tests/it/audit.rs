//! Tamper tests: the database is edited with redb directly, bypassing breachdesk, and
//! `audit verify` must fail with the right exit code and name the damage.

use crate::common::tables::{AUDIT, INCIDENTS};
use breachdesk::audit::entry::{Recorded, decode_stored};
use redb::{ReadableDatabase, ReadableTable};

use crate::common::*;

const EDITED_RECORD: i32 = 10;
const EDITED_ENTRY: i32 = 11;
const MISSING_ENTRY: i32 = 12;
const REORDERED: i32 = 13;
const ORPHAN: i32 = 14;
const TRUNCATED: i32 = 15;
const FORKED: i32 = 16;
const BAD_CHECKPOINT: i32 = 17;

/// A database with an org and three incidents: eight entries (the file's own `store.init`,
/// then `org.init`, three incidents, a note, an update, a close).
fn populated() -> Env {
    let e = Env::plain();
    for t in ["Lost laptop", "Misdirected fax", "Snooping"] {
        e.incident(&["--title", t, "--discovered", "2026-10-01"]);
    }
    e.run(&["incident", "note", "2026-0001", "police report"])
        .ok();
    e.run(&["incident", "update", "2026-0002", "--individuals", "12"])
        .ok();
    e.run(&[
        "incident",
        "close",
        "2026-0003",
        "--disposition",
        "not_breach",
    ])
    .ok();
    e.run(&["audit", "verify"]).ok();
    e
}

fn with_db(e: &Env, f: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_write().unwrap();
    f(&tx);
    tx.commit().unwrap();
}

fn entry_bytes(e: &Env, seq: u64) -> Vec<u8> {
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_read().unwrap();
    let t = tx.open_table(AUDIT).unwrap();
    t.get(seq).unwrap().unwrap().value().to_vec()
}

#[track_caller]
fn verify_fails(e: &Env, code: i32, names: &[&str]) -> String {
    let r = e.run(&["audit", "verify"]).code(code);
    for n in names {
        assert!(r.stderr.contains(n), "expected {n:?} in: {}", r.stderr);
    }
    r.stderr
}

#[test]
fn intact_chain_verifies_and_json_reports_head() {
    let e = populated();
    let v = e.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(v["intact"], true);
    assert_eq!(v["entries"], 8);
    assert_eq!(v["head_seq"], 8);
    assert_eq!(v["head_hash"].as_str().unwrap().len(), 64);
    let log = e
        .run(&["audit", "log", "--incident", "2026-0001", "--json"])
        .ok()
        .json();
    let seqs: Vec<u64> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 6]);
    // The OS account from the process's user id, and the person acted for (--actor).
    let first = &log["entries"][0];
    assert_eq!(first["on_behalf_of"], "tester");
    assert_eq!(first["via"], "cli");
    assert_eq!(first["clock"], "pinned");
    assert!(!first["os_account"].as_str().unwrap().is_empty());
    assert!(first["os_uid"].is_u64());
}

#[test]
fn edited_incident_field_is_an_edited_record() {
    let e = populated();
    with_db(&e, |tx| {
        let mut t = tx.open_table(INCIDENTS).unwrap();
        let v = t.get("2026-0002").unwrap().unwrap().value().to_vec();
        let s = String::from_utf8(v)
            .unwrap()
            .replace("\"estimated_total\":12", "\"estimated_total\":2");
        t.insert("2026-0002", s.as_bytes()).unwrap();
    });
    verify_fails(
        &e,
        EDITED_RECORD,
        &["edited record", "incident/2026-0002", "(7)"],
    );
}

#[test]
fn edited_audit_entry_is_named() {
    let e = populated();
    with_db(&e, |tx| {
        let mut t = tx.open_table(AUDIT).unwrap();
        let mut v = t.get(5).unwrap().unwrap().value().to_vec();
        // Change the actor name's first byte ("tester" → "Tester"), leaving the hash stale.
        let pos = v.windows(6).position(|w| w == b"tester").unwrap();
        v[pos] = b'T';
        t.insert(5, v.as_slice()).unwrap();
    });
    verify_fails(&e, EDITED_ENTRY, &["edited entry at entry 5"]);
}

#[test]
fn rehashed_edit_breaks_the_next_link() {
    let e = populated();
    let stored = decode_stored(&entry_bytes(&e, 4)).unwrap();
    let mut entry = stored.entry.clone();
    let Recorded::V2 { who, .. } = &mut entry.recorded else {
        panic!("a new entry is version 2")
    };
    who.on_behalf_of = Some("someone else".into());
    with_db(&e, |tx| {
        let mut t = tx.open_table(AUDIT).unwrap();
        t.insert(4, entry.encode_stored().as_slice()).unwrap();
    });
    verify_fails(&e, EDITED_ENTRY, &["at entry 4", "re-hashed"]);
}

#[test]
fn deleted_entry_is_missing() {
    let e = populated();
    with_db(&e, |tx| {
        tx.open_table(AUDIT).unwrap().remove(6).unwrap();
    });
    let err = verify_fails(&e, MISSING_ENTRY, &["missing entry at entry 6"]);
    assert!(err.contains("jumps from 5 to 7"), "{err}");
}

#[test]
fn swapped_entries_are_reordered() {
    let e = populated();
    let a = entry_bytes(&e, 4);
    let b = entry_bytes(&e, 5);
    with_db(&e, |tx| {
        let mut t = tx.open_table(AUDIT).unwrap();
        t.insert(4, b.as_slice()).unwrap();
        t.insert(5, a.as_slice()).unwrap();
    });
    verify_fails(
        &e,
        REORDERED,
        &["reordered entries at entry 4", "carries sequence number 5"],
    );
}

#[test]
fn record_without_entry_is_an_orphan() {
    let e = populated();
    with_db(&e, |tx| {
        let mut t = tx.open_table(INCIDENTS).unwrap();
        let v = t.get("2026-0001").unwrap().unwrap().value().to_vec();
        let s = String::from_utf8(v)
            .unwrap()
            .replace("2026-0001", "2026-0042");
        t.insert("2026-0042", s.as_bytes()).unwrap();
    });
    verify_fails(&e, ORPHAN, &["orphan record", "incident/2026-0042"]);
}

#[test]
fn truncated_tail_is_caught_against_a_checkpoint() {
    let e = populated();
    let cp = e.path("cp.json");
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    // Remove the last two entries: the chain alone still links, the checkpoint does not.
    with_db(&e, |tx| {
        let mut t = tx.open_table(AUDIT).unwrap();
        t.remove(8).unwrap();
        t.remove(7).unwrap();
    });
    let r = e
        .run(&["audit", "verify", "--against", s(&cp)])
        .code(TRUNCATED);
    assert!(
        r.stderr.contains("truncated or rolled back"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("ends at entry 6"), "{}", r.stderr);
}

#[test]
fn rollback_to_an_older_copy_is_caught() {
    let e = populated();
    let old = e.path("old.redb");
    std::fs::copy(&e.db, &old).unwrap();
    e.run(&["incident", "note", "2026-0002", "later work"]).ok();
    let cp = e.path("cp.json");
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    std::fs::copy(&old, &e.db).unwrap();
    e.run(&["audit", "verify"]).ok();
    let r = e
        .run(&["audit", "verify", "--against", s(&cp)])
        .code(TRUNCATED);
    assert!(
        r.stderr.contains("ends at entry 8") && r.stderr.contains("records entry 9"),
        "{}",
        r.stderr
    );
}

#[test]
fn forked_history_is_caught() {
    let e = populated();
    let cp = e.path("cp.json");
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    // Rewrite the head entry consistently (re-hashed): only the checkpoint can tell.
    let stored = decode_stored(&entry_bytes(&e, 8)).unwrap();
    let mut entry = stored.entry.clone();
    entry.detail = "disposition=other".into();
    with_db(&e, |tx| {
        tx.open_table(AUDIT)
            .unwrap()
            .insert(8, entry.encode_stored().as_slice())
            .unwrap();
    });
    e.run(&["audit", "verify"]).ok();
    let r = e
        .run(&["audit", "verify", "--against", s(&cp)])
        .code(FORKED);
    assert!(r.stderr.contains("forked"), "{}", r.stderr);
}

#[test]
fn signed_checkpoints_and_forgeries() {
    let e = populated();
    e.run(&["audit", "keygen"]).ok();
    let key = std::fs::read_to_string(e.path("test.redb.signing-key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    let cp = e.path("cp.json");
    let r = e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    assert!(r.stdout.contains("signed"), "{}", r.stdout);
    let ok = e.run(&["audit", "verify", "--against", s(&cp)]).ok();
    assert!(ok.stdout.contains("signature verified"), "{}", ok.stdout);

    // A forger moves the checkpoint back to hide later entries: the signature fails.
    let text = std::fs::read_to_string(&cp).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let seq = v["seq"].as_u64().unwrap();
    let forged = text.replace(&format!("\"seq\": {seq}"), &format!("\"seq\": {}", seq - 1));
    let bad = e.write("forged.json", &forged);
    let r = e
        .run(&["audit", "verify", "--against", s(&bad)])
        .code(BAD_CHECKPOINT);
    assert!(
        r.stderr.contains("signature does not verify"),
        "{}",
        r.stderr
    );

    // Unsigned checkpoint where the database has a key: rejected.
    let mut unsigned = v.clone();
    unsigned["signature"] = serde_json::Value::Null;
    let p = e.write("unsigned.json", &unsigned.to_string());
    e.run(&["audit", "verify", "--against", s(&p)])
        .code(BAD_CHECKPOINT);

    // Garbage is a bad checkpoint, not a crash.
    let p = e.write("junk.json", "{\"hello\": 1}");
    e.run(&["audit", "verify", "--against", s(&p)])
        .code(BAD_CHECKPOINT);

    // keygen never overwrites.
    e.run(&["audit", "keygen"]).code(3);
}

// Before the desk computed "today" only when a command needs it, every command (even
// `audit verify`) run on the real clock first read the first incident's determination
// record to look for an exercise's simulated date: a damaged record made verification
// itself fail with exit 6 ("cannot be decoded; run `breachdesk audit verify`") instead of
// naming the edited record.
#[test]
fn damaged_determination_record_is_named_by_verify() {
    let e = populated();
    with_db(&e, |tx| {
        let mut t = tx.open_table(crate::common::tables::ASSESSMENTS).unwrap();
        t.insert("2026-0001", b"not json".as_slice()).unwrap();
    });
    verify_fails(&e, EDITED_RECORD, &["edited record", "incident/2026-0001"]);
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_NOW");
    let r = e.run_with(c, &["audit", "verify"]).code(EDITED_RECORD);
    assert!(r.stderr.contains("incident/2026-0001"), "{}", r.stderr);
}
