//! Roster data at rest (issue 9 § 3, issue 10 § 2, issue 14 § 1): staged rows bound to their
//! import (a planted or altered staged group is refused on resume and named by `audit
//! verify`), purge by destroying the roster's own key (crypto-shredding), space given back.

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use crate::common::tables::{META, ROSTER_BATCHES, ROSTER_GROUPS, ROSTER_KEYS};
use crate::common::*;

const ID: &str = "2026-0001";
const HEADER: &str = "MRN,First Name,Last Name,Address,City,State,Zip";

fn roster(rows: u64) -> String {
    let mut s = format!("{HEADER}\n");
    for i in 0..rows {
        s.push_str(&format!(
            "MRN{i:07},Zebulon{i},Quxworthy{i},{i} Canaryvane Ln,Austin,TX,78701\n"
        ));
    }
    s
}

fn read(db: &std::path::Path, t: redb::TableDefinition<&str, &[u8]>) -> Vec<(String, Vec<u8>)> {
    let db = redb::Database::open(db).unwrap();
    let tx = db.begin_read().unwrap();
    let t = tx.open_table(t).unwrap();
    t.iter()
        .unwrap()
        .map(|r| {
            let (k, v) = r.unwrap();
            (k.value().to_string(), v.value().to_vec())
        })
        .collect()
}

fn put(db: &std::path::Path, t: redb::TableDefinition<&str, &[u8]>, k: &str, v: &[u8]) {
    let db = redb::Database::open(db).unwrap();
    let tx = db.begin_write().unwrap();
    tx.open_table(t).unwrap().insert(k, v).unwrap();
    tx.commit().unwrap();
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// An import left staging (here: it lowered the counts and was not confirmed).
fn staged(e: &Env, rows: u64) -> std::path::PathBuf {
    e.incident(&[
        "--title",
        "Staged",
        "--discovered",
        "2026-10-01",
        "--individuals",
        "100000",
        "--state",
        "TX=100000",
    ]);
    let f = e.write("r.csv", &roster(rows));
    e.run(&["roster", "import", ID, s(&f)]).code(3);
    let batches = read(&e.db, ROSTER_BATCHES);
    assert!(
        String::from_utf8_lossy(&batches[0].1).contains("\"staging\""),
        "a staging batch is left"
    );
    f
}

/// Regression (issue 9): a staged batch with one extra plaintext row verified clean and
/// the next import of that file "resumed" and committed the extra person.
#[test]
fn a_planted_plaintext_row_in_staging_is_named_by_verify_and_refused_on_resume() {
    let e = Env::new();
    let f = staged(&e, 50);
    // Plant a group in the clear: format 2, origin 1, one row, body tag 0x00, then the row
    // (ordinal delta 0, line 60, no flags, id and last name present: "EVIL", "Planted").
    let mut v = vec![0x02, 0, 0, 0, 1, 0, 1, 0x00, 0, 60, 0, 0b101];
    v.extend_from_slice(&[4, b'E', b'V', b'I', b'L', 7]);
    v.extend_from_slice(b"Planted");
    put(&e.db, ROSTER_GROUPS, "2026-0001/000001/0000000999", &v);
    let r = e.run(&["audit", "verify"]).code(14);
    assert!(
        r.stderr.contains("roster/2026-0001") && r.stderr.contains("unsealed staged roster data"),
        "{}",
        r.stderr
    );
    // Resuming refuses the staged data and imports nothing.
    let r = e
        .run(&["roster", "import", ID, s(&f), "--accept-lower-counts"])
        .code(7);
    assert!(
        r.stderr.contains("planted or altered") && r.stderr.contains("--restart"),
        "{}",
        r.stderr
    );
    e.run(&["roster", "stats", ID]).code(4);
    // --restart discards it and imports the file from the top.
    let v = e
        .run(&[
            "roster",
            "import",
            ID,
            s(&f),
            "--accept-lower-counts",
            "--restart",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["accepted"], 50);
    assert_eq!(v["resumed"], false);
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn an_altered_staged_group_is_refused_on_resume() {
    let e = Env::new();
    let f = staged(&e, 200);
    let groups = read(&e.db, ROSTER_GROUPS);
    assert!(groups.len() >= 2, "{}", groups.len());
    let (k, mut v) = groups[1].clone();
    let n = v.len();
    v[n - 20] ^= 1;
    put(&e.db, ROSTER_GROUPS, &k, &v);
    e.run(&["roster", "import", ID, s(&f), "--accept-lower-counts"])
        .code(7);
    // A sealed group moved to another place (another ordinal) is refused too.
    let e = Env::new();
    let f = staged(&e, 200);
    let groups = read(&e.db, ROSTER_GROUPS);
    put(&e.db, ROSTER_GROUPS, &groups[1].0, &groups[0].1);
    e.run(&["roster", "import", ID, s(&f), "--accept-lower-counts"])
        .code(7);
    // Untouched staging resumes.
    let e = Env::new();
    let f = staged(&e, 200);
    let v = e
        .run(&[
            "roster",
            "import",
            ID,
            s(&f),
            "--accept-lower-counts",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        (v["resumed"].as_bool(), v["accepted"].as_u64()),
        (Some(true), Some(200))
    );
}

/// Issue 10: purge destroys the roster's own key in the audited transaction; nothing of the
/// roster can be decrypted from the file afterwards, even with the database's key (here an
/// old wrapped copy of it, restored) and the roster's old ciphertexts planted back.
#[test]
fn purge_destroys_the_roster_key_and_leaves_nothing_decryptable() {
    let e = Env::new();
    e.incident(&["--title", "Purge", "--discovered", "2026-10-01"]);
    let f = e.write("r.csv", &roster(3000));
    e.run(&["roster", "import", ID, s(&f)]).ok();
    let size_before = std::fs::metadata(&e.db).unwrap().len();
    let backup = e.path("backup.redb");
    std::fs::copy(&e.db, &backup).unwrap();
    let key = read(&e.db, ROSTER_KEYS);
    assert_eq!(key.len(), 1);
    let wrapped = key[0].1.clone();
    let fingerprint = breachdesk::audit::entry::hex(&wrapped[1..33]);
    let groups = read(&e.db, ROSTER_GROUPS);
    let old_meta = read(&e.db, META);

    // A wrong passphrase deletes nothing.
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "not the passphrase");
    e.run_with(c, &["roster", "purge", ID, "--yes"]).code(7);
    assert_eq!(read(&e.db, ROSTER_GROUPS).len(), groups.len());

    let v = e
        .run(&["roster", "purge", ID, "--yes", "--json"])
        .ok()
        .json();
    assert_eq!(v["rows_deleted"], 3000);
    assert_eq!(v["key_fingerprint"], fingerprint.as_str());
    e.run(&["audit", "verify"]).ok();
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let purge = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["action"] == "roster.purge")
        .unwrap()
        .clone();
    assert!(
        purge["detail"].as_str().unwrap().contains(&fingerprint),
        "{purge}"
    );
    let st = e.run(&["roster", "stats", ID, "--json"]).ok().json();
    assert_eq!(
        (st["total"].as_u64(), st["rows_stored"].as_u64()),
        (Some(3000), Some(0))
    );

    // Nothing of the key or of the rows is left anywhere in the file (not in free pages):
    // the purge compacted the file and overwrote its free space.
    let raw = std::fs::read(&e.db).unwrap();
    assert!(
        !contains(&raw, &wrapped[33..]),
        "the wrapped roster key survived"
    );
    for (_, g) in groups.iter().take(50) {
        assert!(!contains(&raw, &g[g.len() - 40..]), "a group survived");
    }
    assert!(!contains(&raw, b"Canaryvane"));
    let size_after = raw.len() as u64;
    assert!(
        size_after * 2 < size_before,
        "space given back: {size_before} -> {size_after}"
    );

    // An attacker with the passphrase restores an old wrapped database key and plants the
    // roster's old groups and batch records back: the roster's key is gone, so nothing
    // decrypts.
    for (k, v) in old_meta.iter().filter(|(k, _)| k == "wrapped_key") {
        put(&e.db, META, k, v);
    }
    for (k, v) in &groups {
        put(&e.db, ROSTER_GROUPS, k, v);
    }
    for (k, v) in read(&backup, ROSTER_BATCHES) {
        put(&e.db, ROSTER_BATCHES, &k, &v);
    }
    let r = e.run(&[
        "letters",
        "render",
        ID,
        "--kind",
        "individual",
        "--out",
        s(&e.path("l")),
        "--force",
    ]);
    assert_ne!(r.code, 0);
    assert!(
        !r.stdout.contains("Zebulon") && !r.stderr.contains("Zebulon"),
        "{r:?}"
    );
    let letters = std::fs::read_dir(e.path("l"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(letters, 0);
    // And verify names the planted records.
    assert_ne!(e.run(&["audit", "verify"]).code, 0);
    // The backup taken before the purge still decrypts (by design: purge protects copies
    // taken afterwards).
    let db = redb::Database::open(&backup).unwrap();
    assert_eq!(
        db.begin_read()
            .unwrap()
            .open_table(ROSTER_KEYS)
            .unwrap()
            .len()
            .unwrap(),
        1
    );
}

#[test]
fn compact_gives_space_back_and_changes_no_record() {
    let e = Env::plain();
    e.incident(&["--title", "C", "--discovered", "2026-10-01"]);
    let f = e.write("r.csv", &roster(2000));
    e.run(&["roster", "import", ID, s(&f)]).ok();
    let entries = |e: &Env| {
        e.run(&["audit", "log", "--json"]).ok().json()["entries"]
            .as_array()
            .unwrap()
            .len()
    };
    let n = entries(&e);
    let v = e.run(&["compact", "--json"]).ok().json();
    assert!(
        v["file_bytes_after"].as_u64().unwrap() <= v["file_bytes_before"].as_u64().unwrap(),
        "{v}"
    );
    assert_eq!(entries(&e), n);
    e.run(&["audit", "verify"]).ok();
    assert_eq!(
        e.run(&["roster", "stats", ID, "--json"]).ok().json()["total"],
        2000
    );
}

/// A dead mark planted to suppress someone's letter, or an issue planted or removed, changes
/// the roster's record: `audit verify` names it.
#[test]
fn planted_dead_marks_and_issues_are_named_by_verify() {
    use crate::common::tables::{ROSTER_DEAD, ROSTER_ISSUES};
    let e = Env::new();
    e.incident(&["--title", "D", "--discovered", "2026-10-01"]);
    let f = e.write("r.csv", &format!("{}1,A,B,,,,\n", roster(20)));
    e.run(&["roster", "import", ID, s(&f)]).ok();
    e.run(&["audit", "verify"]).ok();
    let backup = e.path("b.redb");
    std::fs::copy(&e.db, &backup).unwrap();
    // Batch 1 marks its own row 3 a duplicate.
    put(
        &e.db,
        ROSTER_DEAD,
        "2026-0001/000001/000001/0000000003",
        &[1],
    );
    let r = e.run(&["audit", "verify"]).code(10);
    assert!(r.stderr.contains("roster/2026-0001"), "{}", r.stderr);
    std::fs::copy(&backup, &e.db).unwrap();
    // The row that needs fixing loses its issue.
    let issues = read(&e.db, ROSTER_ISSUES);
    assert_eq!(issues.len(), 1, "{issues:?}");
    {
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(ROSTER_ISSUES)
            .unwrap()
            .remove(issues[0].0.as_str())
            .unwrap();
        tx.commit().unwrap();
    }
    e.run(&["audit", "verify"]).code(10);
}
