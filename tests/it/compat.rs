//! Databases written by release 0.1 keep opening, verifying and taking new entries.
//!
//! `tests/fixtures/release-0.1.redb` (and `release-0.1-exercise.redb`) were made by the
//! breachdesk 0.1 binary with `tests/fixtures/make-release-0.1.sh`; see that script for what
//! they hold. Each test works on a copy in a temporary directory.

use redb::{ReadableDatabase, ReadableTable};
use std::path::{Path, PathBuf};

use crate::common::{Env, Run, s};

/// The passphrase the fixture was encrypted with (in the script).
const FIXTURE_PASS: &str = "fixture passphrase 0.1";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A copy of the release-0.1 database. It carries no clock marker, so it is a real register:
/// commands on it run on the system clock (`BREACHDESK_NOW` would be refused).
fn fixture() -> Env {
    let e = Env::empty();
    std::fs::copy(fixtures().join("release-0.1.redb"), &e.db).expect("copy the fixture");
    e
}

fn run(e: &Env, args: &[&str]) -> Run {
    let mut c = e.real_cmd();
    c.env("BREACHDESK_PASSPHRASE", FIXTURE_PASS);
    e.run_with(c, args)
}

fn checkpoint() -> String {
    fixtures()
        .join("release-0.1.checkpoint.json")
        .display()
        .to_string()
}

/// Every action the 0.1 script recorded, in order: the strings of the audit trail.
const ACTIONS: &[&str] = &[
    "org.init",
    "org.update",
    "incident.new",
    "incident.note",
    "incident.note",
    "incident.assess",
    "incident.new",
    "incident.update",
    "incident.assess",
    "incident.new",
    "incident.assess",
    "incident.close",
    "roster.import",
    "org.templates",
    "letters.render",
    "letters.render",
    "notice.record",
    "notice.record",
    "audit.keygen",
];

/// The entries a later release adds when it first opens the file: the schema migration
/// steps (FORMAT-COORD: one audited `store.migrate` entry per step, naming it).
const MIGRATION_ACTIONS: &[&str] = &[
    "store.migrate",
    "store.migrate",
    "store.migrate",
    "store.migrate",
    "store.migrate",
];

#[test]
fn release_0_1_database_verifies_against_its_checkpoint() {
    let e = fixture();
    // Verification changes nothing: it reads release 0.1's 19 entries as they are.
    let r = run(&e, &["audit", "verify"]).ok();
    assert!(
        r.stdout.contains("audit trail intact: 19 entries"),
        "{}",
        r.stdout
    );
    let r = run(&e, &["audit", "verify", "--against", &checkpoint()]).ok();
    assert!(
        r.stdout
            .contains("signature verified against the database's audit signing key: consistent"),
        "{}",
        r.stdout
    );
    let public = std::fs::read_to_string(fixtures().join("release-0.1.public-key")).unwrap();
    run(
        &e,
        &[
            "audit",
            "verify",
            "--against",
            &checkpoint(),
            "--public-key",
            public.trim(),
        ],
    )
    .ok();
    // Verification writes nothing; the first other command migrates the file to the
    // current schema version, one audited step per version (2: audited meta; 3: State
    // laws; 4: roster v2; 5: sealed text; 6: issue 12's users), and the chain continues in the version-2 encoding. (`audit
    // log` reads no sealed text: the text release 0.1 kept in the clear waits for the first
    // command that opens the key, see below.)
    let log = run(&e, &["audit", "log", "--json"]).ok().json();
    let entries = log["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[..ACTIONS.len()], *ACTIONS);
    assert_eq!(actions[ACTIONS.len()..], *MIGRATION_ACTIONS);
    assert!(
        entries[22]["detail"]
            .as_str()
            .unwrap()
            .contains("step=sealed-text schema_version=4->5"),
        "{}",
        entries[22]["detail"]
    );
    let last = entries.len() - 1;
    assert_eq!(entries[last]["subject"], "store");
    assert!(
        entries[last]["detail"]
            .as_str()
            .unwrap()
            .contains("step=users schema_version=5->6"),
        "{}",
        entries[last]["detail"]
    );
    assert_eq!(entries[19]["subject"], "store");
    assert!(
        entries[19]["detail"]
            .as_str()
            .unwrap()
            .contains("schema_version=1->2"),
        "{}",
        entries[19]["detail"]
    );
    assert_eq!(entries[20]["subject"], "store");
    assert!(
        entries[20]["detail"]
            .as_str()
            .unwrap()
            .contains("step=state-laws schema_version=2->3"),
        "{}",
        entries[20]["detail"]
    );
    assert_eq!(entries[21]["subject"], "store");
    assert!(
        entries[21]["detail"]
            .as_str()
            .unwrap()
            .contains("step=roster-v2 schema_version=3->4"),
        "{}",
        entries[21]["detail"]
    );
    assert_eq!(entries[18]["encoding"], 1);
    assert_eq!(entries[19]["encoding"], 2);
    assert_eq!(entries[19]["clock"], "system");
    assert!(entries[19]["os_account"].as_str().is_some());
    let r = run(&e, &["audit", "verify", "--against", &checkpoint()]).ok();
    assert!(
        r.stdout.contains("audit trail intact: 24 entries"),
        "{}",
        r.stdout
    );
    let subjects: Vec<&str> = entries
        .iter()
        .map(|x| x["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects[0], "org");
    assert_eq!(subjects[2], "incident/2026-0001");
    assert_eq!(subjects[12], "roster/2026-0001");
    assert_eq!(subjects[18], "keys/signing");
    assert_eq!(entries[12]["actor"], "fixture.maker");
    assert!(
        entries[12]["detail"]
            .as_str()
            .unwrap()
            .contains("rows_read=40 accepted=35 rejected=3 duplicates=2"),
        "{}",
        entries[12]["detail"]
    );
}

#[test]
fn release_0_1_incidents_read_back_with_their_phi_and_determinations() {
    let e = fixture();
    let v = run(&e, &["incident", "show", "2026-0001", "--json"])
        .ok()
        .json();
    assert_eq!(
        v["facts"]["breach"]["narrative"],
        "Mailbox of a billing clerk was phished; messages held lab results."
    );
    assert_eq!(
        v["timeline"][0]["text"],
        "Forensics engaged; mailbox rules removed."
    );
    assert_eq!(v["timeline"][1]["author"], "IR lead");
    assert_eq!(v["counts"]["source"], "roster");
    assert_eq!(v["counts"]["total"], 35);
    assert_eq!(v["assessed"], true);
    assert_eq!(v["evaluation"]["determination"], "breach");
    assert_eq!(
        v["evaluation"]["law_enforcement_delay"]["end"],
        "2026-10-15"
    );
    assert_eq!(v["notices"].as_array().unwrap().len(), 2);
    assert_eq!(v["notices"][0]["count"], 33);

    let v = run(&e, &["incident", "show", "2026-0002", "--json"])
        .ok()
        .json();
    assert_eq!(v["facts"]["business_associate"]["involved"], true);
    assert_eq!(v["evaluation"]["overridden"], true);
    assert_eq!(v["evaluation"]["override"]["determination"], "breach");
    assert_eq!(
        v["evaluation"]["override"]["rationale"],
        "Counsel: vendor attestation not yet verified; treat as a breach."
    );
    assert_eq!(v["evaluation"]["override"]["by"], "fixture.maker");
    assert_eq!(v["counts"]["total"], 431);

    let v = run(&e, &["incident", "show", "2026-0003", "--json"])
        .ok()
        .json();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["disposition"], "not_breach");
    assert_eq!(
        v["evaluation"]["determination"],
        "not_breach_low_probability"
    );

    // Without the passphrase, PHI stays sealed and the rest reads.
    let mut c = e.real_cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let r = e.run_with(c, &["incident", "show", "2026-0001"]).ok();
    assert!(
        r.stdout.contains("[encrypted: passphrase required]"),
        "{}",
        r.stdout
    );
    // A wrong passphrase is refused.
    let mut c = e.real_cmd();
    c.env("BREACHDESK_PASSPHRASE", "not the fixture passphrase");
    e.run_with(c, &["incident", "show", "2026-0001"]).code(7);
}

#[test]
fn release_0_1_deadlines_roster_and_templates_read() {
    let e = fixture();
    let v = run(&e, &["deadlines", "--json"]).ok().json();
    let rows = v["deadlines"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["incident"] == "2026-0002"));
    assert!(
        rows.iter().all(|r| r["incident"] != "2026-0003"),
        "a closed incident has no open deadline"
    );
    run(&e, &["deadlines"]).ok();

    let mut c = e.real_cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let v = e
        .run_with(c, &["roster", "stats", "2026-0001", "--json"])
        .ok()
        .json();
    assert_eq!(v["total"], 35);
    assert_eq!(v["by_state"]["CA"], 26);
    assert_eq!(v["by_state"]["NV"], 9);
    assert_eq!(v["deceased_with_nok"], 1);
    assert_eq!(v["deceased_without_nok"], 1);
    assert_eq!(v["unreachable"], 1);
    assert_eq!(v["email_only"], 1);
    assert_eq!(v["batches"].as_array().unwrap().len(), 1);

    let v = run(&e, &["letters", "templates", "show", "--json"])
        .ok()
        .json();
    assert_eq!(v["stored"][0]["file"], "individual.txt.hbs");

    let out = e.path("dossier.html");
    run(&e, &["report", "2026-0001", "--html", "--out", s(&out)]).ok();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("the whole audit trail is intact"));
}

#[test]
fn release_0_1_database_takes_new_entries() {
    let e = fixture();
    run(
        &e,
        &["incident", "note", "2026-0001", "added by a later release"],
    )
    .ok();
    run(
        &e,
        &["incident", "update", "2026-0002", "--individuals", "440"],
    )
    .ok();
    run(
        &e,
        &[
            "notice",
            "record",
            "2026-0002",
            "--kind",
            "individual",
            "--date",
            "2026-11-20",
            "--method",
            "mail",
            "--count",
            "400",
            "--override-rationale",
            "sent before counsel's sign-off existed",
        ],
    )
    .ok();
    let addendum = e.write(
        "addendum.csv",
        "MRN,First Name,Last Name,Address 1,City,State,Zip Code\n\
         F-90,New,Person,90 Test St,Testville,CA,90090\n\
         F-1,Dup,One,1 Test St,Testville,CA,90001\n",
    );
    let v = run(
        &e,
        &["roster", "import", "2026-0001", s(&addendum), "--json"],
    )
    .ok()
    .json();
    assert_eq!(v["accepted"], 1);
    assert_eq!(
        v["duplicates"], 1,
        "duplicates are found against 0.1's rows"
    );
    let dir = e.path("letters");
    run(
        &e,
        &[
            "letters",
            "render",
            "2026-0001",
            "--kind",
            "individual",
            "--out",
            s(&dir),
        ],
    )
    .ok();
    run(&e, &["incident", "reopen", "2026-0003"]).ok();

    let r = run(&e, &["audit", "verify"]).ok();
    // Release 0.1's 19, the four schema migration steps, the sealing of its clear text at
    // the first unlock (`store.migrate` + three `incident.migrate` + one `org.migrate`), the
    // conversion of 0.1's roster rows (roster.migrate, by the first roster command with the
    // passphrase), then the 6 above.
    assert!(
        // main's count, plus the users migration step (issue 12).
        r.stdout.contains("audit trail intact: 36 entries"),
        "{}",
        r.stdout
    );
    let log = run(&e, &["audit", "log", "--json"]).ok().json();
    let migrate = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["action"] == "roster.migrate")
        .expect("the 0.1 roster was converted");
    assert_eq!(migrate["subject"], "roster/2026-0001");
    assert!(
        migrate["detail"].as_str().unwrap().contains("rows=35"),
        "{}",
        migrate["detail"]
    );
    // The old checkpoint still holds: the chain only grew.
    run(&e, &["audit", "verify", "--against", &checkpoint()]).ok();
    let v = run(&e, &["incident", "show", "2026-0001", "--json"])
        .ok()
        .json();
    assert_eq!(v["timeline"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["timeline"][0]["text"],
        "Forensics engaged; mailbox rules removed."
    );
    assert_eq!(v["timeline"][2]["text"], "added by a later release");
    assert_eq!(v["counts"]["total"], 36);
    // A new signing key replaces 0.1's (an audited, explicit replacement), and a checkpoint
    // of the extended chain verifies.
    let key = e.path("new.signing-key");
    run(&e, &["audit", "keygen", "--out", s(&key)]).code(3);
    run(&e, &["audit", "keygen", "--out", s(&key), "--replace"]).ok();
    // 0.1's checkpoint (format 1) now reports the replacement, not a bad checkpoint.
    let r = run(&e, &["audit", "verify", "--against", &checkpoint()]).code(19);
    assert!(
        r.stderr
            .contains("signing key replaced since this checkpoint"),
        "{}",
        r.stderr
    );
    let cp = e.path("new.checkpoint.json");
    run(
        &e,
        &[
            "audit",
            "checkpoint",
            "--out",
            s(&cp),
            "--signing-key",
            s(&key),
        ],
    )
    .ok();
    run(&e, &["audit", "verify", "--against", s(&cp)]).ok();
    // Schema 5 (issue 12): users are one more audited migration step, and the file takes
    // users.
    let log = run(&e, &["audit", "log", "--json"]).ok().json();
    let migrations: Vec<_> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["action"] == "store.migrate")
        .collect();
    // The five steps, then the sealing of 0.1's clear text at the first unlock.
    assert_eq!(migrations.len(), 6, "{log}");
    assert_eq!(migrations[4]["subject"], "store");
    assert_eq!(
        migrations[4]["detail"], "step=users schema_version=5->6",
        "{log}"
    );
    let mut c = e.real_cmd();
    c.env("BREACHDESK_PASSPHRASE", FIXTURE_PASS).env(
        "BREACHDESK_USER_PASSWORD",
        "violet tractor mirror quarry 42",
    );
    e.run_with(c, &["user", "add", "dana", "--role", "privacy-officer"])
        .ok();
    let users = run(&e, &["user", "list", "--json"]).ok().json();
    assert_eq!(users["users"][0]["name"], "dana");
    run(&e, &["audit", "verify", "--against", s(&cp)]).ok();
}

/// A file written before clock markers existed is a real register: a pinned clock is refused,
/// and nothing is written.
#[test]
fn release_0_1_database_is_a_real_register() {
    let e = fixture();
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", FIXTURE_PASS);
    let r = e
        .run_with(c, &["incident", "note", "2026-0001", "backdated"])
        .code(3);
    assert!(r.stderr.contains("real register"), "{}", r.stderr);
    let r = run(&e, &["audit", "verify"]).ok();
    assert!(
        r.stdout.contains("audit trail intact: 19 entries"),
        "{}",
        r.stdout
    );
}

#[test]
fn release_0_1_exercise_database_continues() {
    let e = Env::empty();
    let ex = e.path("exercise.redb");
    std::fs::copy(fixtures().join("release-0.1-exercise.redb"), &ex).unwrap();
    let r = run(&e, &["exercise", "brief", "--exercise-db", s(&ex)]).ok();
    assert!(r.stdout.contains("EXERCISE"), "{}", r.stdout);
    let v = run(
        &e,
        &["exercise", "score", "--exercise-db", s(&ex), "--json"],
    )
    .ok()
    .json();
    assert!(v["total"].as_u64().unwrap() >= 1, "{v}");
    run(
        &e,
        &[
            "exercise",
            "decide",
            "--exercise-db",
            s(&ex),
            "--determination",
            "breach",
            "--notice",
            "media:PA=2026-11-13",
            "--no-interview",
        ],
    )
    .ok();
    run(&e, &["exercise", "next", "--exercise-db", s(&ex)]).ok();
    // The exercise file is not encrypted: the schema-5 step seals its incident's text at
    // once (`store.migrate` + `incident.migrate`), beside the other steps and two changes.
    let r = run(&e, &["--db", s(&ex), "audit", "verify"]).ok();
    // 0.1's entries, the schema migration on open (four steps, the last issue 12's users),
    // and the two steps above.
    assert!(
        r.stdout.contains("audit trail intact: 12 entries"),
        "{}",
        r.stdout
    );
    let log = run(&e, &["--db", s(&ex), "audit", "log", "--json"])
        .ok()
        .json();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries[4]["action"], "store.migrate", "{log}");
    let users: Vec<_> = entries
        .iter()
        .filter(|x| {
            x["action"] == "store.migrate" && x["detail"] == "step=users schema_version=5->6"
        })
        .collect();
    assert_eq!(users.len(), 1, "{log}");
    run(&e, &["--db", s(&ex), "incident", "show", "2026-0001"]).ok();
}

/// Release 0.1's roster: readable and verifiable before conversion (even without the
/// passphrase), converted by the first roster command that has it into sealed groups under a
/// key of its own, and then purged by destroying that key.
#[test]
fn release_0_1_roster_converts_to_groups_then_purges_by_shredding_its_key() {
    use crate::common::tables::{ROSTER_GROUPS, ROSTER_KEYS, ROSTER_ROWS};
    use redb::{ReadableDatabase, ReadableTableMetadata};
    let e = fixture();
    let count = |t: redb::TableDefinition<&str, &[u8]>| -> u64 {
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_read().unwrap();
        tx.open_table(t).map(|t| t.len().unwrap()).unwrap_or(0)
    };
    // Without the passphrase: the schema step runs, the 0.1 rows stay and verify.
    let mut c = e.real_cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    e.run_with(c, &["audit", "verify"]).ok();
    assert_eq!(count(ROSTER_ROWS), 35);
    let mut c = e.real_cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let v = e
        .run_with(c, &["roster", "issues", "2026-0001", "--json"])
        .ok()
        .json();
    assert_eq!(v["issues"].as_array().unwrap().len(), 0);
    // With it, a roster command converts them first.
    let before = std::fs::read(&e.db).unwrap();
    run(&e, &["roster", "purge", "2026-0001", "--yes"]).ok();
    assert_eq!(count(ROSTER_ROWS), 0);
    assert_eq!(count(ROSTER_GROUPS), 0);
    assert_eq!(count(ROSTER_KEYS), 0);
    let log = run(&e, &["audit", "log", "--json"]).ok().json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[ACTIONS.len()..],
        [
            "store.migrate",
            "store.migrate",
            "store.migrate",
            "store.migrate",
            "store.migrate",
            // The first command with the passphrase seals 0.1's clear text (issue 10).
            "store.migrate",
            "incident.migrate",
            "incident.migrate",
            "incident.migrate",
            "org.migrate",
            "roster.migrate",
            "roster.purge"
        ]
    );
    let purge = &log["entries"][30]["detail"];
    assert!(purge.as_str().unwrap().contains("destroyed"), "{purge}");
    let v = run(&e, &["roster", "stats", "2026-0001", "--json"])
        .ok()
        .json();
    assert_eq!(v["total"], 35, "the counts stay");
    assert_eq!(v["rows_stored"], 0);
    run(&e, &["audit", "verify", "--against", &checkpoint()]).ok();
    assert!(before.len() as u64 > 0);
}

/// Release 0.1 kept titles, rationales, note authors and the privacy officer in the clear.
/// Opened without the passphrase the file keeps working, masks them and says they wait;
/// the first open with the passphrase seals them (one `store.migrate` entry naming the step,
/// one entry per subject rewritten), every value reads back the same and everything verifies.
#[test]
fn release_0_1_clear_text_is_sealed_at_the_first_unlock() {
    let e = fixture();
    let mut c = e.real_cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let r = e.run_with(c, &["incident", "list", "--json"]).ok();
    assert!(r.stderr.contains("stored in the clear"), "{}", r.stderr);
    let v = r.json();
    for i in v["incidents"].as_array().unwrap() {
        assert_eq!(i["title"], "[encrypted: passphrase required]", "{i}");
    }
    let clear = incident_records(&e.db);
    assert!(
        clear
            .iter()
            .any(|r| r.contains("Ransomware at billing vendor")),
        "release 0.1's clear text is still there before the key is given"
    );
    // The first open with the key seals it.
    let v = run(&e, &["incident", "show", "2026-0002", "--json"])
        .ok()
        .json();
    assert_eq!(
        v["evaluation"]["override"]["rationale"],
        "Counsel: vendor attestation not yet verified; treat as a breach."
    );
    let log = run(&e, &["audit", "log", "--json"]).ok().json();
    let entries = log["entries"].as_array().unwrap();
    // After the four migration steps of main and issue 12's users step (entries 20 to 24).
    let tail: Vec<(&str, &str)> = entries[24..]
        .iter()
        .map(|x| {
            (
                x["action"].as_str().unwrap(),
                x["subject"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tail,
        [
            ("store.migrate", "store"),
            ("incident.migrate", "incident/2026-0001"),
            ("incident.migrate", "incident/2026-0002"),
            ("incident.migrate", "incident/2026-0003"),
            ("org.migrate", "org"),
        ]
    );
    assert!(
        entries[24]["detail"]
            .as_str()
            .unwrap()
            .contains("step=seal-legacy-text incidents=3 org=1")
    );
    for r in incident_records(&e.db) {
        for clear in [
            "Counsel",
            "IR lead",
            "Ransomware at billing",
            "Misdirected fax",
        ] {
            assert!(!r.contains(clear), "{r}");
        }
    }
    let v = run(&e, &["incident", "show", "2026-0001", "--json"])
        .ok()
        .json();
    assert_eq!(v["timeline"][1]["author"], "IR lead");
    assert_eq!(
        v["facts"]["breach"]["narrative"],
        "Mailbox of a billing clerk was phished; messages held lab results."
    );
    let r = run(&e, &["audit", "verify"]).ok();
    assert!(r.stdout.contains("intact"), "{}", r.stdout);
    run(&e, &["audit", "verify", "--against", &checkpoint()]).ok();
    // Nothing waits any more: no note.
    let mut c = e.real_cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let r = e.run_with(c, &["incident", "list"]).ok();
    assert!(!r.stderr.contains("stored in the clear"), "{}", r.stderr);
}

/// The stored incident and determination records, as text (the records, not free pages).
fn incident_records(db: &std::path::Path) -> Vec<String> {
    let db = redb::Database::open(db).unwrap();
    let tx = db.begin_read().unwrap();
    let mut out = Vec::new();
    for t in [
        crate::common::tables::INCIDENTS,
        crate::common::tables::ASSESSMENTS,
    ] {
        let t = tx.open_table(t).unwrap();
        for row in t.iter().unwrap() {
            let (_, v) = row.unwrap();
            out.push(String::from_utf8_lossy(v.value()).into_owned());
        }
    }
    out
}
