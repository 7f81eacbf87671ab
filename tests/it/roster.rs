//! Roster import, stats, purge, rekey: the real binary against temporary databases.

use std::process::Stdio;

use crate::common::tables::{AUDIT, ROSTER_GROUPS};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use crate::common::*;

const ID: &str = "2026-0001";
const HEADER: &str = "MRN,First Name,Last Name,Address,City,State,Zip,Email,Email Consent,Deceased,NOK Name,NOK Address,NOK City,NOK State,NOK Zip";

fn with_incident(e: Env) -> Env {
    e.incident(&["--title", "Roster test", "--discovered", "2026-10-01"]);
    e
}

fn import(e: &Env, file: &str, extra: &[&str]) -> Run {
    let mut a = vec!["roster", "import", ID, file];
    a.extend_from_slice(extra);
    e.run(&a)
}

fn stats(e: &Env) -> serde_json::Value {
    e.run(&["roster", "stats", ID, "--json"]).ok().json()
}

fn audit_entries(e: &Env) -> u64 {
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_read().unwrap();
    tx.open_table(AUDIT).unwrap().len().unwrap()
}

fn row(id: u64, state: &str) -> String {
    format!("P{id},First{id},Last{id},{id} Main St,Austin,{state},78701,,,,,,,,")
}

#[test]
fn import_counts_states_deceased_unreachable_and_email_only() {
    let e = with_incident(Env::plain());
    let csv = format!(
        "{HEADER}\n{}\n{}\n\
         3,Em,Only,,,,,em@example.org,yes,,,,,,\n\
         4,No,Contact,,,,,,,,,,,,\n\
         5,Dee,Ceased,1 Elm,Reno,NV,89501,,,2025-01-02,Kin Name,3 Oak,Reno,NV,89501\n\
         6,Dee,NoKin,1 Elm,Reno,Nevada,89501,,,yes,,,,,\n\
         7,Puerto,Rico,1 Calle,San Juan,PR,00901,,,,,,,,\n",
        row(1, "TX"),
        row(2, "tx"),
    );
    let f = e.write("r.csv", &csv);
    let v = import(&e, s(&f), &["--json"]).ok().json();
    assert_eq!(v["rows_read"], 7);
    assert_eq!(v["accepted"], 7);
    let st = stats(&e);
    assert_eq!(st["total"], 7);
    assert_eq!(st["by_state"]["TX"], 2);
    assert_eq!(st["by_state"]["NV"], 2, "deceased count in their State");
    assert_eq!(st["by_state"]["PR"], 1);
    assert_eq!(st["deceased_with_nok"], 1);
    assert_eq!(st["deceased_without_nok"], 1);
    assert_eq!(st["unreachable"], 1);
    assert_eq!(st["email_only"], 1);
    assert_eq!(st["no_state"], 2);
    let human = e.run(&["roster", "stats", ID]).ok().stdout;
    assert!(human.contains("Unreachable (living)"), "{human}");
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn header_variants_and_map_override() {
    let e = with_incident(Env::plain());
    let f = e.write(
        "a.csv",
        "Patient ID,Given Name,Surname,Street Address,Town,State Code,Postal Code\n\
         1,A,B,1 Main St,Austin,Texas,78701\n",
    );
    let v = import(&e, s(&f), &["--json"]).ok().json();
    assert_eq!(v["accepted"], 1);
    assert_eq!(v["added"]["by_state"]["TX"], 1);

    // An unrecognised id column: exit 3 naming --map, then --map fixes it.
    let f = e.write("b.csv", "Pt Acct,Last,ST\n9,Z,CA\n");
    let r = import(&e, s(&f), &[]).code(3);
    assert!(r.stderr.contains("--map"), "{}", r.stderr);
    let v = import(&e, s(&f), &["--map", "Pt Acct=id", "--json"])
        .ok()
        .json();
    assert_eq!(v["accepted"], 1);
    assert_eq!(stats(&e)["total"], 2);
    // A bad --map field is a usage problem with the input: exit 3.
    import(&e, s(&f), &["--map", "Pt Acct=shoe_size"]).code(3);
}

#[test]
fn bom_and_crlf() {
    let e = with_incident(Env::plain());
    let csv = format!(
        "\u{feff}{HEADER}\r\n{}\r\n{}\r\n",
        row(1, "TX"),
        row(2, "CA")
    );
    let f = e.write("bom.csv", &csv);
    let v = import(&e, s(&f), &["--json"]).ok().json();
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["rejected"], 0);
    assert_eq!(stats(&e)["by_state"]["CA"], 1);
}

#[test]
fn ragged_rows_and_bad_states_are_reported_by_line_without_values() {
    let e = with_incident(Env::plain());
    let csv = format!(
        "{HEADER}\n{}\nP2,Secretname,Ragged,too,few\n{}\n{}\n",
        row(1, "TX"),
        row(3, "Atlantis"),
        row(4, "ZZ"),
    );
    let f = e.write("bad.csv", &csv);
    let r = import(&e, s(&f), &[]).ok();
    assert!(r.stdout.contains("line 3:"), "{}", r.stdout);
    assert!(r.stdout.contains("line 4: state:"), "{}", r.stdout);
    assert!(r.stdout.contains("line 5: state:"), "{}", r.stdout);
    assert!(r.stdout.contains("import succeeded"), "{}", r.stdout);
    for secret in ["Secretname", "Atlantis", "ZZ", "Last3", "P3"] {
        assert!(
            !r.stdout.contains(secret),
            "value {secret} echoed: {}",
            r.stdout
        );
        assert!(
            !r.stderr.contains(secret),
            "value {secret} echoed: {}",
            r.stderr
        );
    }
    // A file whose every row is rejected changes nothing and exits 3 with the report
    // (issue 9: it used to exit 0 and "succeed").
    let before = audit_entries(&e);
    let v = import(
        &e,
        s(&e.write("bad2.csv", &format!("{HEADER}\n{}\n", row(9, "Mars")))),
        &["--json"],
    )
    .code(3)
    .json();
    assert_eq!(v["committed"], false);
    assert_eq!(v["outcome"], "nothing_accepted");
    assert_eq!(v["rejected"], 1);
    assert_eq!(v["rejected_rows"]["items"][0]["line"], 2);
    assert_eq!(v["rejected_rows"]["items"][0]["field"], "state");
    assert_eq!(stats(&e)["total"], 1);
    assert_eq!(audit_entries(&e), before);
}

#[test]
fn duplicates_in_file_and_across_appends_count_once() {
    let e = with_incident(Env::plain());
    let csv = format!(
        "{HEADER}\n{}\n{}\n{}\n",
        row(1, "TX"),
        row(2, "TX"),
        row(1, "TX")
    );
    let f = e.write("a.csv", &csv);
    let v = import(&e, s(&f), &["--json"]).ok().json();
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["duplicates"], 1);
    assert_eq!(v["duplicate_rows"]["items"][0]["line"], 4);
    assert_eq!(v["duplicate_rows"]["items"][0]["first_line"], 2);

    // Addendum: one known person, two new ones: counts revised, not double-counted.
    let csv = format!(
        "{HEADER}\n{}\n{}\n{}\n",
        row(3, "CA"),
        row(2, "TX"),
        row(4, "CA")
    );
    let f = e.write("addendum.csv", &csv);
    let v = import(&e, s(&f), &["--json"]).ok().json();
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["duplicates"], 1);
    assert_eq!(v["duplicate_rows"]["items"][0]["line"], 3);
    assert_eq!(v["duplicate_rows"]["items"][0]["first_batch"], 1);
    let st = stats(&e);
    assert_eq!(st["total"], 4);
    assert_eq!(st["by_state"]["TX"], 2);
    assert_eq!(st["by_state"]["CA"], 2);
    assert_eq!(st["batches"].as_array().unwrap().len(), 2);

    // The same file again is refused and changes nothing.
    let before = audit_entries(&e);
    let r = import(&e, s(&f), &[]).code(3);
    assert!(r.stderr.contains("already imported"), "{}", r.stderr);
    assert_eq!(audit_entries(&e), before);
    assert_eq!(stats(&e)["total"], 4);
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn non_utf8_row_is_rejected_with_its_line() {
    let e = with_incident(Env::plain());
    let mut bytes = format!("{HEADER}\n{}\n", row(1, "TX")).into_bytes();
    bytes.extend_from_slice(b"P2,Jos\xe9,Latin,1 Main St,Austin,TX,78701,,,,,,,,\n");
    let f = e.path("latin1.csv");
    std::fs::write(&f, bytes).unwrap();
    let r = import(&e, s(&f), &[]).ok();
    assert!(
        r.stdout
            .contains("line 3: first_name: field is not valid UTF-8"),
        "{}",
        r.stdout
    );
    assert_eq!(stats(&e)["total"], 1);
}

#[test]
fn unusable_files_exit_3_and_write_nothing() {
    let e = with_incident(Env::plain());
    let before = audit_entries(&e);
    let empty = e.write("empty.csv", "");
    let r = import(&e, s(&empty), &[]).code(3);
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
    let noid = e.write("noid.csv", "Name,City\nA,B\n");
    import(&e, s(&noid), &[]).code(3);
    // Changed (issue 11): a missing file is "not found", 4, as documented (it was 3).
    import(&e, "missing.csv", &[]).code(4);
    let r = e.run(&["roster", "import", "2026-0099", s(&noid)]).code(4);
    assert!(r.stderr.contains("no incident"), "{}", r.stderr);
    assert_eq!(audit_entries(&e), before);
    e.run(&["roster", "stats", ID]).code(4);
}

#[test]
fn a_one_mib_field_imports() {
    let e = with_incident(Env::plain());
    let big = "x".repeat(1_048_576);
    let csv = format!(
        "{HEADER},Notes\n{},\"{big}\"\n{},\n",
        row(1, "TX"),
        row(2, "TX")
    );
    let f = e.write("big.csv", &csv);
    let v = import(&e, s(&f), &["--map", "Notes=address2", "--json"])
        .ok()
        .json();
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["rejected"], 0);
}

#[test]
fn dry_run_writes_nothing() {
    let e = with_incident(Env::plain());
    let csv = format!(
        "{HEADER}\n{}\n{}\n{}\n",
        row(1, "TX"),
        row(2, "CA"),
        row(1, "TX")
    );
    let f = e.write("a.csv", &csv);
    let before = audit_entries(&e);
    let v = import(&e, s(&f), &["--dry-run", "--json"]).ok().json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["duplicates"], 1);
    assert_eq!(audit_entries(&e), before);
    e.run(&["roster", "stats", ID]).code(4);

    import(&e, s(&f), &[]).ok();
    let st = stats(&e);
    let n = audit_entries(&e);
    let g = e.write(
        "b.csv",
        &format!("{HEADER}\n{}\n{}\n", row(2, "CA"), row(5, "NY")),
    );
    let v = import(&e, s(&g), &["--dry-run", "--json"]).ok().json();
    assert_eq!(v["accepted"], 1);
    assert_eq!(
        v["duplicates"], 1,
        "a duplicate of a committed row is found"
    );
    assert_eq!(audit_entries(&e), n);
    assert_eq!(stats(&e), st);
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn canary_values_never_reach_the_database_file_in_plaintext() {
    let e = with_incident(Env::new());
    let csv = format!(
        "{HEADER}\n\
         CANARYMRN7731,Zebulon,Quxworthy,77 Canaryvane Ln,Frobtown,TX,78701,zq@canarymail.example,yes,,,,,,\n\
         CANARYSSN5519,Wilhelmina,Grelbstock,9 Pinchfold Rd,Frobtown,TX,78701,,,yes,Oswaldo Grelbstock,12 Tumblequill Ct,Frobtown,TX,78701\n"
    );
    let f = e.write("canary.csv", &csv);
    import(&e, s(&f), &[]).ok();
    assert_eq!(stats(&e)["total"], 2);
    let raw = std::fs::read(&e.db).unwrap();
    for canary in [
        "Zebulon",
        "Quxworthy",
        "Canaryvane",
        "canarymail",
        "CANARYMRN7731",
        "CANARYSSN5519",
        "Wilhelmina",
        "Grelbstock",
        "Pinchfold",
        "Tumblequill",
        "Frobtown",
    ] {
        assert!(
            !raw.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{canary} found in plaintext in the database file"
        );
    }
    // The temporary sort files are gone.
    let leftovers: Vec<_> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .filter_map(|d| d.ok())
        .filter(|d| d.file_name().to_string_lossy().contains("roster-tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn audit_verify_catches_an_edited_roster_row_and_an_orphan() {
    let e = with_incident(Env::new());
    let f = e.write(
        "a.csv",
        &format!("{HEADER}\n{}\n{}\n", row(1, "TX"), row(2, "CA")),
    );
    import(&e, s(&f), &[]).ok();
    e.run(&["audit", "verify"]).ok();
    // Rows are stored in sealed groups: flip one byte of a group.
    let (key, mut value) = {
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_read().unwrap();
        let t = tx.open_table(ROSTER_GROUPS).unwrap();
        let (k, v) = t.first().unwrap().unwrap();
        (k.value().to_string(), v.value().to_vec())
    };
    let last = value.len() - 1;
    value[last] ^= 1;
    {
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(ROSTER_GROUPS)
            .unwrap()
            .insert(key.as_str(), value.as_slice())
            .unwrap();
        tx.commit().unwrap();
    }
    let r = e.run(&["audit", "verify"]).code(10);
    assert!(r.stderr.contains("roster/2026-0001"), "{}", r.stderr);

    // A row for an incident with no roster entry is an orphan.
    let e = with_incident(Env::plain());
    e.incident(&["--title", "Other", "--discovered", "2026-10-01"]);
    let f = e.write("a.csv", &format!("{HEADER}\n{}\n", row(1, "TX")));
    import(&e, s(&f), &[]).ok();
    {
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(ROSTER_GROUPS).unwrap();
            let v = t.first().unwrap().unwrap().1.value().to_vec();
            t.insert("2026-0002/000001/0000000000", v.as_slice())
                .unwrap();
        }
        tx.commit().unwrap();
    }
    e.run(&["audit", "verify"]).code(14);
}

#[test]
fn rekey_changes_the_passphrase_without_reencrypting() {
    let e = with_incident(Env::new());
    let f = e.write("a.csv", &format!("{HEADER}\n{}\n", row(1, "TX")));
    import(&e, s(&f), &[]).ok();
    let rows_before = {
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_read().unwrap();
        let t = tx.open_table(ROSTER_GROUPS).unwrap();
        let (k, v) = t.first().unwrap().unwrap();
        (k.value().to_string(), v.value().to_vec())
    };
    let mut c = e.cmd();
    c.env("BREACHDESK_NEW_PASSPHRASE", "a brand new passphrase");
    e.run_with(c, &["rekey"]).ok();
    // The old passphrase no longer opens the data.
    let g = e.write("b.csv", &format!("{HEADER}\n{}\n", row(2, "TX")));
    import(&e, s(&g), &[]).code(7);
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "a brand new passphrase");
    let v = e
        .run_with(c, &["roster", "import", ID, s(&g), "--json"])
        .ok()
        .json();
    assert_eq!(v["accepted"], 1);
    // Sealed rows were not rewritten; duplicates are still found under the same data key.
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_read().unwrap();
    let t = tx.open_table(ROSTER_GROUPS).unwrap();
    assert_eq!(
        t.get(rows_before.0.as_str()).unwrap().unwrap().value(),
        rows_before.1.as_slice()
    );
    drop(t);
    drop(tx);
    drop(db);
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "a brand new passphrase");
    let h = e.write(
        "c.csv",
        &format!("{HEADER}\n{}\n{}\n", row(1, "TX"), row(7, "TX")),
    );
    let v = e
        .run_with(c, &["roster", "import", ID, s(&h), "--json"])
        .ok()
        .json();
    assert_eq!(v["duplicates"], 1);
    e.run(&["audit", "verify"]).ok();
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    assert!(log.to_string().contains("org.rekey"));
}

#[test]
fn stats_need_no_passphrase_but_import_does() {
    let e = with_incident(Env::new());
    let f = e.write(
        "a.csv",
        &format!("{HEADER}\n{}\n{}\n", row(1, "TX"), row(2, "CA")),
    );
    import(&e, s(&f), &[]).ok();
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let v = e
        .run_with(c, &["roster", "stats", ID, "--json"])
        .ok()
        .json();
    assert_eq!(v["total"], 2);
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let g = e.write("b.csv", &format!("{HEADER}\n{}\n", row(3, "TX")));
    let r = e.run_with(c, &["roster", "import", ID, s(&g)]).code(7);
    assert!(r.stderr.contains("BREACHDESK_PASSPHRASE"), "{}", r.stderr);
}

#[test]
fn purge_keeps_counts_and_the_audit_proof() {
    let e = with_incident(Env::new());
    let f = e.write(
        "a.csv",
        &format!("{HEADER}\n{}\n{}\n", row(1, "TX"), row(2, "CA")),
    );
    import(&e, s(&f), &[]).ok();
    e.run(&["roster", "purge", ID]).code(3);
    let v = e
        .run(&["roster", "purge", ID, "--yes", "--json"])
        .ok()
        .json();
    assert_eq!(v["rows_deleted"], 2);
    let st = stats(&e);
    assert_eq!(st["total"], 2);
    assert_eq!(st["rows_stored"], 0);
    assert!(st["purged"].is_string());
    e.run(&["audit", "verify"]).ok();
    let db = redb::Database::open(&e.db).unwrap();
    let tx = db.begin_read().unwrap();
    assert_eq!(tx.open_table(ROSTER_GROUPS).unwrap().len().unwrap(), 0);
    drop(tx);
    drop(db);
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    assert!(log.to_string().contains("roster.purge"));
    // Imports after a purge are refused: duplicates could no longer be found.
    let g = e.write("b.csv", &format!("{HEADER}\n{}\n", row(3, "TX")));
    let r = import(&e, s(&g), &[]).code(3);
    assert!(r.stderr.contains("purged"), "{}", r.stderr);
}

/// A roster with a duplicate every 50 rows and a rejected row every 97; returns the CSV
/// and its number of unique valid rows.
fn crash_roster(rows: u64) -> (String, u64) {
    let mut csv = String::with_capacity(rows as usize * 80);
    csv.push_str(HEADER);
    csv.push('\n');
    let mut seen = std::collections::HashSet::new();
    for i in 0..rows {
        let (id, state) = if i % 97 == 96 {
            (i, "XX")
        } else if i % 50 == 49 {
            (i - 10, "TX")
        } else {
            (i, "TX")
        };
        csv.push_str(&row(id, state));
        csv.push('\n');
        if state != "XX" {
            seen.insert(id);
        }
    }
    let unique = seen.len() as u64;
    (csv, unique)
}

/// Changed (issue 11): the import used to be killed after a random sleep, and the test
/// demanded that at least 10 of 20 kills landed mid-import and that all 20 trials took under
/// 120 s, both of which depend on the machine's speed. Now each trial stops the import at a
/// progress point it reports (`BREACHDESK_TEST_PAUSE_AT`, an announced pause), then kills it
/// with SIGKILL there: every kill is mid-import, on any machine.
#[test]
fn kill_9_at_reported_progress_points_then_verify_and_resume_exactly() {
    use std::io::BufRead;
    let (csv, unique) = crash_roster(60_000);
    let template = with_incident(Env::plain());
    let f = template.write("crash.csv", &csv);
    // Reading reports progress every 2,048 rows (and the parsing thread every 4,096), with
    // groups of rows staged in a chunk transaction every 7,000 rows; the duplicate check
    // reports once it has staged its marks (write:1), before the final commit of the batch.
    let mut points: Vec<String> = (1..=18).map(|n| format!("read:{n}")).collect();
    points.push("write:1".into());
    points.push("read:23".into());
    let mut resumed = 0;
    for point in &points {
        let e = with_incident(Env::plain());
        let mut c = e.cmd();
        c.env("BREACHDESK_ROSTER_RUN_ROWS", "7000")
            .env("BREACHDESK_TEST_PAUSE_AT", point);
        let mut child = c
            .args(["roster", "import", ID, s(&f)])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut paused = false;
        for line in stderr.lines() {
            if line
                .unwrap()
                .contains(&format!("paused at progress point {point}"))
            {
                paused = true;
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(paused, "the import ended before progress point {point}");
        e.run(&["audit", "verify"]).ok();
        let mut c = e.cmd();
        c.env("BREACHDESK_ROSTER_RUN_ROWS", "7000");
        let r = e.run_with(c, &["roster", "import", ID, s(&f)]).ok();
        if r.stdout.contains("resumed") {
            resumed += 1;
        }
        let st = stats(&e);
        assert_eq!(st["total"], unique, "killed at {point}");
        assert_eq!(st["batches"].as_array().unwrap().len(), 1);
        e.run(&["audit", "verify"]).ok();
    }
    // Every kill came after the staging batch was created: every re-run resumes it.
    assert_eq!(resumed, points.len());
}
