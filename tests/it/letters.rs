//! Letters, notices sent, the HHS annual log and the dossier, through the binary.

use crate::common::*;

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A database with contact details and one incident from an example facts file, assessed.
fn assessed(example_name: &str) -> (Env, String) {
    let e = Env::plain();
    e.run(&[
        "org",
        "update",
        "--toll-free",
        "1-800-555-0100",
        "--email",
        "privacy@test.example",
    ])
    .ok();
    let f = example(example_name);
    let id = e
        .run(&["incident", "new", "--from", &f])
        .ok()
        .stdout
        .trim()
        .to_string();
    e.run(&["assess", &id, "--from", &f]).ok();
    (e, id)
}

/// A breach of 2,600 (CA 2,100, NV 500) with an oral then written law-enforcement delay.
fn phishing() -> (Env, String) {
    assessed("phishing-with-law-enforcement-delay.toml")
}

fn obligation(e: &Env, id: &str, kind: &str) -> serde_json::Value {
    let v = e.run(&["incident", "show", id, "--json"]).ok().json();
    v["evaluation"]["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap()
        .clone()
}

#[test]
fn media_notice_per_state_with_manifest_in_the_audit_chain() {
    let (e, id) = phishing();
    let out = e.path("media");
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "media",
            "--out",
            s(&out),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(r["manifest"]["count"], 1, "CA only: NV has exactly 500");
    let text = std::fs::read_to_string(out.join("media-text-00001.txt")).unwrap();
    assert!(
        text.contains("California") && !text.contains("Nevada"),
        "{text}"
    );
    for h in [
        "What Happened?",
        "What Information Was Involved?",
        "What We Are Doing.",
        // The public, in the third person (issue 13).
        "What Affected Individuals Can Do.",
        "For More Information.",
    ] {
        assert!(text.contains(h), "{h}");
    }
    assert!(!text.contains("your health information"), "{text}");
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();
    let hash = r["manifest_sha256"].as_str().unwrap();
    use sha2::Digest;
    assert_eq!(
        breachdesk::audit::entry::hex(&sha2::Sha256::digest(&manifest)),
        hash
    );
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let last = log["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "letters.render");
    assert!(last["detail"].as_str().unwrap().contains(hash));
    // An --out directory holding a batch is refused rather than overwritten.
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "media",
        "--out",
        s(&out),
    ])
    .code(3);
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn rendering_is_reproducible() {
    let (e, id) = phishing();
    let a = e.path("a");
    let b = e.path("b");
    let ra = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "le_delay_memo",
            "--format",
            "html",
            "--out",
            s(&a),
            "--json",
        ])
        .ok()
        .json();
    let rb = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "le_delay_memo",
            "--format",
            "html",
            "--out",
            s(&b),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(ra["manifest_sha256"], rb["manifest_sha256"]);
    assert_eq!(ra["manifest"]["count"], 2, "one memo per statement");
    let html = std::fs::read_to_string(a.join("le_delay_memo-html-00001.html")).unwrap();
    assert!(
        html.contains("@page") && html.contains("Special Agent R. Ortiz"),
        "{html}"
    );
}

#[test]
fn hhs_worksheet_text_and_json_use_the_engine() {
    let (e, id) = phishing();
    let out = e.path("hhs");
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "hhs_notice",
        "--format",
        "json",
        "--out",
        s(&out),
    ])
    .ok();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("hhs_notice.json")).unwrap())
            .unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["worksheet"]["individuals_affected"], 2600);
    assert_eq!(v["worksheet"]["media_notice_required"], true);
    assert_eq!(v["worksheet"]["breach_types"][0], "Hacking/IT Incident");
    let out = e.path("hhs-text");
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "hhs_notice",
        "--out",
        s(&out),
    ])
    .ok();
    let t = std::fs::read_to_string(out.join("hhs_notice-text-00001.txt")).unwrap();
    assert!(t.contains("Hacking/IT Incident"), "{t}");
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "hhs_notice",
        "--format",
        "html",
        "--out",
        s(&e.path("x")),
    ])
    .code(3);
}

#[test]
fn individual_letters_need_a_roster() {
    let (e, id) = phishing();
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--out",
            s(&e.path("ind")),
        ])
        .code(4);
    assert!(r.stderr.contains("roster import"), "{}", r.stderr);
}

#[test]
fn not_a_breach_needs_force() {
    let (e, id) = assessed("encrypted-laptop-powered-off.toml");
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "substitute_web",
            "--out",
            s(&e.path("o")),
        ])
        .code(3);
    assert!(r.stderr.contains("not_breach_secured"), "{}", r.stderr);
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "substitute_web",
        "--out",
        s(&e.path("o2")),
        "--force",
    ])
    .ok();
}

#[test]
fn notices_mark_obligations_met_or_late_and_partial_sends_add_up() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Mailing",
        "--discovered",
        "2026-10-01",
        "--individuals",
        "100",
        "--state",
        "TX=100",
    ]);
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
        "60",
        "--override-rationale",
        "mailed by the vendor before sign-off existed",
    ])
    .ok();
    let o = obligation(&e, &id, "individual");
    assert_eq!(o["status"], "pending");
    assert_eq!(o["sent_count"], 60);
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "individual",
        "--date",
        "2026-11-20",
        "--method",
        "email",
        "--count",
        "40",
        "--override-rationale",
        "mailed by the vendor before sign-off existed",
    ])
    .ok();
    let o = obligation(&e, &id, "individual");
    assert_eq!(o["status"], "met");
    assert_eq!(o["met_on"], "2026-11-20");
    // HHS annual log filed late is "late by N days" (due 2027-03-01 → not late yet here).
    let evidence = e.write("receipt.pdf", "portal receipt");
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "hhs_annual",
        "--date",
        "2026-11-21",
        "--method",
        "portal",
        "--evidence",
        s(&evidence),
    ])
    .ok();
    assert_eq!(obligation(&e, &id, "hhs_annual")["status"], "met");
    let late = e.incident(&[
        "--title",
        "Late",
        "--discovered",
        "2026-08-01",
        "--individuals",
        "3",
    ]);
    e.run(&[
        "notice",
        "record",
        &late,
        "--kind",
        "individual",
        "--date",
        "2026-10-05",
        "--method",
        "mail",
        "--count",
        "3",
        "--override-rationale",
        "mailed by the vendor before sign-off existed",
    ])
    .ok();
    let o = obligation(&e, &late, "individual");
    assert_eq!(o["status"], "late");
    assert_eq!(o["late_days"], 5, "due 2026-09-30, sent 2026-10-05");
    // Bad input.
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "media",
        "--date",
        "2026-11-01",
        "--method",
        "media",
    ])
    .code(3);
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "letters",
        "--date",
        "2026-11-01",
        "--method",
        "mail",
    ])
    .code(3);
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "individual",
        "--date",
        "2026-12-01",
        "--method",
        "mail",
        "--override-rationale",
        "mailed by the vendor",
    ])
    .code(3);
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "individual",
        "--date",
        "2026-09-01",
        "--method",
        "mail",
        "--override-rationale",
        "mailed by the vendor",
    ])
    .code(3);
    let log = e
        .run(&["audit", "log", "--incident", &id, "--json"])
        .ok()
        .json();
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["detail"].as_str().unwrap().contains("evidence_sha256="))
    );
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn annual_log_lists_breaches_under_500_of_the_year() {
    let e = Env::plain();
    let a = e.incident(&[
        "--title",
        "Small",
        "--discovered",
        "2026-03-03",
        "--individuals",
        "12",
    ]);
    e.incident(&[
        "--title",
        "Large",
        "--discovered",
        "2026-04-04",
        "--individuals",
        "700",
    ]);
    e.incident(&[
        "--title",
        "Last year",
        "--discovered",
        "2025-12-31",
        "--individuals",
        "5",
    ]);
    let f = example("encrypted-laptop-powered-off.toml");
    let safe = e
        .run(&["incident", "new", "--from", &f])
        .ok()
        .stdout
        .trim()
        .to_string();
    e.run(&["assess", &safe, "--from", &f]).ok();
    let r = e
        .run(&["hhs", "annual-log", "2026", "--format", "json"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let recs = v["records"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(recs.len(), 1, "{v}");
    assert_eq!(recs[0]["incident_id"], a.as_str());
    let out = e.path("log.csv");
    let r = e.run(&["hhs", "annual-log", "2026", "--out", s(&out)]).ok();
    assert!(r.stderr.contains("due 2027-03-01"), "{}", r.stderr);
    let r = e
        .run(&["hhs", "annual-log", "2027", "--out", s(&e.path("l2.csv"))])
        .ok();
    assert!(
        r.stderr.contains("due 2028-02-29"),
        "leap year: {}",
        r.stderr
    );
    let csv = std::fs::read_to_string(out).unwrap();
    assert_eq!(csv.lines().count(), 2);
}

#[test]
fn letters_check_catches_a_dropped_element() {
    let e = Env::empty();
    e.run(&["letters", "check"]).ok();
    let dir = e.path("tpl");
    std::fs::create_dir_all(&dir).unwrap();
    let orig = std::fs::read_to_string(format!(
        "{}/templates/individual.txt.hbs",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    std::fs::write(
        dir.join("individual.txt.hbs"),
        orig.replace("What You Can Do.", "Next steps"),
    )
    .unwrap();
    let r = e.run(&["letters", "check", s(&dir)]).code(3);
    assert!(r.stderr.contains("element C"), "{}", r.stderr);
}

#[test]
fn strict_templates_name_the_missing_field() {
    let (e, id) = phishing();
    let dir = e.path("tpl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("media.txt.hbs"), "Hello {{org.no_such_field}}\n").unwrap();
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "media",
            "--templates",
            s(&dir),
            "--out",
            s(&e.path("o")),
        ])
        .code(3);
    assert!(r.stderr.contains("no_such_field"), "{}", r.stderr);
    assert!(!e.path("o").join("manifest.json").exists());
}

#[test]
fn dossier_is_one_self_contained_html_file() {
    let (e, id) = phishing();
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "media",
        "--out",
        s(&e.path("m")),
    ])
    .ok();
    // Issue 12: notices go out from a batch counsel approved.
    let batches = e.run(&["letters", "batches", &id, "--json"]).ok().json();
    let n = batches["batches"][0]["batch"].as_u64().unwrap().to_string();
    assert_eq!(batches["batches"][0]["approved"], false);
    e.run(&["--actor", "counsel", "letters", "approve", &id, &n])
        .ok();
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "media",
        "--jurisdiction",
        "CA",
        "--date",
        "2026-11-20",
        "--method",
        "media",
        "--approved-batch",
        &n,
    ])
    .ok();
    let out = e.path("dossier.html");
    e.run(&["report", &id, "--html", "--out", s(&out)]).ok();
    let h = std::fs::read_to_string(&out).unwrap();
    for want in [
        "Determination (45 CFR 164.402)",
        "Obligations and deadlines",
        "Notices sent",
        "Letters produced",
        "Audit trail",
        "the whole audit trail is intact",
        "164.412",
        "later_of",
    ] {
        assert!(h.contains(want), "{want}");
    }
    assert!(
        !h.contains("<script") && !h.contains("http://") && !h.contains("https://"),
        "self-contained"
    );
    e.run(&["report", &id]).code(3);
}

const ROSTER: &str = "MRN,First Name,Last Name,Address,Address2,City,State,Zip,Email,Email Consent,Deceased,NOK Name,NOK Address,NOK City,NOK State,NOK Zip
1,Seán,O'Brien <script>,1 Main St,Apt \"2\",Austin,TX,78701,,,,,,,,
2,Ana,Ruiz,9 Oak Ave,,Austin,TX,78702,ana@example.org,yes,,,,,,
3,Em,Only,,,,,,em@example.org,yes,,,,,,
4,No,Contact,,,,,,,,,,,,,
5,Dee,Ceased,1 Elm,,Reno,NV,89501,,,2025-01-02,Kin Person,3 Oak,Reno,NV,89501
6,Dee,NoKin,1 Elm,,Reno,NV,89501,,,yes,,,,,
=1+1,Formula,Person,2 Main St,,Austin,TX,78701,,,,,,,,
";

/// An encrypted database with a breach and the roster above.
fn with_roster() -> (Env, String) {
    let e = Env::new();
    let id = e.incident(&[
        "--title",
        "Mailroom breach",
        "--discovered",
        "2026-11-01",
        "--type",
        "theft",
        "--location",
        "paper_films",
        "--phi",
        "name,address",
    ]);
    let f = e.write("roster.csv", ROSTER);
    e.run(&["roster", "import", &id, s(&f)]).ok();
    (e, id)
}

fn render(e: &Env, id: &str, kind: &str, format: &str, dir: &str) -> serde_json::Value {
    e.run(&[
        "letters",
        "render",
        id,
        "--kind",
        kind,
        "--format",
        format,
        "--out",
        s(&e.path(dir)),
        "--notice-date",
        "2026-11-20",
        "--json",
    ])
    .ok()
    .json()
}

fn read_all(dir: &std::path::Path, ext: &str) -> String {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn roster_counts_drive_the_obligations() {
    let (e, id) = with_roster();
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["counts"]["source"], "roster");
    assert_eq!(v["counts"]["total"], 7);
    assert_eq!(v["counts"]["unreachable"], 1);
    let kinds: Vec<&str> = v["evaluation"]["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] != "not_required")
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"next_of_kin")
            && kinds.contains(&"substitute_informal")
            && kinds.contains(&"hhs_annual"),
        "{kinds:?}"
    );
}

#[test]
fn individual_letters_from_the_roster_text_html_csv() {
    let (e, id) = with_roster();
    let v = render(&e, &id, "individual", "text", "txt");
    // By mail: 1 and =1+1; not 2 and 3 (they agreed to e-mail: their own batch, issue 13),
    // not 4 (no contact), not 5 and 6 (deceased).
    assert_eq!(v["manifest"]["count"], 2, "{v}");
    assert_eq!(v["manifest"]["channel"], "mail");
    let text = read_all(&e.path("txt"), "txt");
    assert!(
        text.contains("Dear Seán O'Brien <script>:"),
        "text is never escaped"
    );
    assert!(text.contains("Apt \"2\""));
    assert!(!text.contains("Contact") && !text.contains("Ceased"));
    assert!(
        !text.contains("Ana Ruiz") && !text.contains("Em Only"),
        "e-mail people are not in the print batch"
    );
    assert_eq!(text.matches("Notice of Data Breach").count(), 2);
    assert_eq!(
        text.matches('\x0c').count(),
        1,
        "a form feed between letters"
    );
    let v = render(&e, &id, "individual", "html", "html");
    assert_eq!(v["manifest"]["pages_per_letter"], 1);
    let html = read_all(&e.path("html"), "html");
    assert!(
        html.contains("O&#x27;Brien &lt;script&gt;") || html.contains("O&#39;Brien &lt;script&gt;"),
        "escaped in HTML"
    );
    assert!(!html.contains("<script>"));
    assert_eq!(html.matches("<section class=\"letter\">").count(), 2);
    render(&e, &id, "individual", "csv", "csv");
    let csv = read_all(&e.path("csv"), "csv");
    assert!(csv.contains("'=1+1"), "formula neutralised: {csv}");
    assert!(!csv.contains("example.org"), "{csv}");
    // The e-mail batch: one message per person who agreed, never a letter.
    let v = render(&e, &id, "individual", "email", "mail");
    assert_eq!(v["manifest"]["count"], 2, "{v}");
    assert_eq!(v["manifest"]["channel"], "email");
    let list =
        std::fs::read_to_string(e.path("mail").join("individual-email-recipients.csv")).unwrap();
    assert!(
        list.contains("ana@example.org") && list.contains("em@example.org"),
        "{list}"
    );
    let msg =
        std::fs::read_to_string(e.path("mail").join("individual-email-00001/00001.eml")).unwrap();
    assert!(
        msg.contains("multipart/alternative")
            && msg.contains("text/plain")
            && msg.contains("text/html"),
        "{msg}"
    );
    let v = render(&e, &id, "next_of_kin", "text", "nok");
    assert_eq!(v["manifest"]["count"], 1);
    let nok = read_all(&e.path("nok"), "txt");
    assert!(
        nok.contains("Kin Person") && nok.contains("Dee Ceased"),
        "{nok}"
    );
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn bulk_rendering_is_reproducible_and_sharded() {
    let (e, id) = with_roster();
    let a = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--out",
            s(&e.path("a")),
            "--shard-size",
            "1",
            "--notice-date",
            "2026-11-20",
            "--json",
        ])
        .ok()
        .json();
    let b = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--out",
            s(&e.path("b")),
            "--shard-size",
            "1",
            "--notice-date",
            "2026-11-20",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(a["manifest_sha256"], b["manifest_sha256"]);
    let files = a["manifest"]["files"].as_array().unwrap();
    assert!(files.len() >= 2, "{files:?}");
    assert_eq!(
        files
            .iter()
            .map(|f| f["count"].as_u64().unwrap())
            .sum::<u64>(),
        2,
        "the two letters by mail"
    );
    for (i, f) in files.iter().enumerate() {
        assert_eq!(f["name"], format!("individual-text-{:05}.txt", i + 1));
        let bytes = std::fs::read(e.path("a").join(f["name"].as_str().unwrap())).unwrap();
        use sha2::Digest;
        assert_eq!(
            breachdesk::audit::entry::hex(&sha2::Sha256::digest(&bytes)),
            f["sha256"].as_str().unwrap()
        );
    }
    assert!(!std::fs::read_dir(e.path("a")).unwrap().any(|f| {
        f.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    }));
}

#[test]
fn business_associate_notice_identifies_each_individual() {
    let e = Env::empty();
    e.run(&[
        "init",
        "--pinned-clock",
        "--org",
        "Billing Co",
        "--role",
        "business-associate",
        "--serves",
        "Lakeside Hospital",
        "--toll-free",
        "1-800-555-0100",
        "--email",
        "p@billing.example",
        "--no-encryption",
    ])
    .ok();
    let id = e.incident(&["--title", "Vendor breach", "--discovered", "2026-11-01"]);
    let f = e.write("roster.csv", ROSTER);
    e.run(&["roster", "import", &id, s(&f)]).ok();
    let v = render(&e, &id, "ba_to_ce", "text", "ba");
    let files: Vec<&str> = v["manifest"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"ba_to_ce-individuals.csv"), "{files:?}");
    let csv = std::fs::read_to_string(e.path("ba").join("ba_to_ce-individuals.csv")).unwrap();
    assert_eq!(csv.lines().count(), 8, "header and all 7 individuals");
    let letter = read_all(&e.path("ba"), "txt");
    assert!(letter.contains("Lakeside Hospital"), "{letter}");
}

#[test]
fn roster_letters_need_the_key() {
    let (e, id) = with_roster();
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    e.run_with(
        c,
        &[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--out",
            s(&e.path("x")),
        ],
    )
    .code(7);
}

#[test]
fn organization_template_set_is_checked_stored_used_and_audited() {
    let (e, id) = phishing();
    let dir = e.path("tpl");
    std::fs::create_dir_all(&dir).unwrap();
    let media = std::fs::read_to_string(format!(
        "{}/templates/media.txt.hbs",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // A set that drops a required element is refused, and nothing is stored.
    std::fs::write(
        dir.join("media.txt.hbs"),
        media.replace("What We Are Doing.", "Our work"),
    )
    .unwrap();
    let r = e.run(&["letters", "templates", "set", s(&dir)]).code(3);
    assert!(r.stderr.contains("element D"), "{}", r.stderr);
    assert!(
        e.run(&["letters", "templates", "show"])
            .ok()
            .stdout
            .contains("no stored template set")
    );
    // Counsel's wording, all elements kept: stored, audited, used.
    std::fs::write(
        dir.join("media.txt.hbs"),
        media.replace("FOR IMMEDIATE RELEASE", "FOR RELEASE BY COUNSEL"),
    )
    .unwrap();
    e.run(&["letters", "templates", "set", s(&dir)]).ok();
    let shown = e
        .run(&["letters", "templates", "show", "--json"])
        .ok()
        .json();
    assert_eq!(shown["stored"][0]["file"], "media.txt.hbs");
    e.run(&["letters", "check"]).ok();
    let out = e.path("m");
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "media",
            "--out",
            s(&out),
            "--json",
        ])
        .ok()
        .json();
    let text = read_all(&out, "txt");
    assert!(text.contains("FOR RELEASE BY COUNSEL"), "{text}");
    use sha2::Digest;
    let want = breachdesk::audit::entry::hex(&sha2::Sha256::digest(
        std::fs::read(dir.join("media.txt.hbs")).unwrap(),
    ));
    assert_eq!(v["manifest"]["template_sha256"], want.as_str());
    e.run(&["letters", "templates", "clear"]).ok();
    e.run(&["letters", "templates", "clear"]).code(3);
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"org.templates") && actions.contains(&"org.templates.clear"),
        "{actions:?}"
    );
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn show_reports_what_a_roster_import_moved() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Estimate first",
        "--discovered",
        "2026-11-01",
        "--individuals",
        "3",
    ]);
    let f = e.write("roster.csv", ROSTER);
    e.run(&["roster", "import", &id, s(&f)]).ok();
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    let since: Vec<&str> = v["changes_since_last_update"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(since.iter().any(|c| c.contains("next_of_kin")), "{since:?}");
    let human = e.run(&["incident", "show", &id]).ok().stdout;
    assert!(human.contains("Since the last recorded update"), "{human}");
}

/// Issue 9 item 6: the batch is written beside its directory, recorded, then moved into
/// place. A crash before the audit entry leaves no batch in place and the re-run renders
/// it; a crash after it leaves the recorded batch staged and the re-run moves it in,
/// without a second entry.
#[test]
fn an_interrupted_render_never_leaves_an_unrecorded_batch_and_a_rerun_completes_it() {
    let (e, id) = with_roster();
    let renders = |e: &Env| -> Vec<String> {
        e.run(&["audit", "log", "--json"]).ok().json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["action"] == "letters.render")
            .map(|x| x["detail"].as_str().unwrap().to_string())
            .collect()
    };
    let out = e.path("batch");
    let staging = e.path(".batch.partial");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--format",
            "html",
            "--out",
            s(&out),
            "--notice-date",
            "2026-11-20",
            "--json",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        e.run(&refs)
    };
    // Killed after every file and the manifest are written, before the audit entry.
    let r = run(args(&["--crash-at", "before-audit"]));
    assert_ne!(r.code, 0, "the process stopped");
    assert!(!out.exists(), "no batch in place without its audit entry");
    assert!(
        staging.join("manifest.json").is_file(),
        "the staged batch is left"
    );
    assert!(renders(&e).is_empty());
    e.run(&["audit", "verify"]).ok();
    let v = run(args(&[])).ok().json();
    assert_eq!(v["completed_earlier"], false, "rendered anew");
    assert!(!staging.exists());
    assert_eq!(renders(&e).len(), 1);
    let first = v["manifest_sha256"].as_str().unwrap().to_string();
    // Killed after the audit entry, before the move.
    let out2 = e.path("batch2");
    let mut a = args(&["--crash-at", "before-move"]);
    let i = a.iter().position(|x| x == s(&out)).unwrap();
    a[i] = s(&out2).to_string();
    let r = run(a.clone());
    assert_ne!(r.code, 0);
    assert!(!out2.exists());
    assert!(e.path(".batch2.partial").join("manifest.json").is_file());
    let recorded = renders(&e);
    assert_eq!(recorded.len(), 2, "the entry was committed");
    a.truncate(a.len() - 2);
    let v = run(a).ok().json();
    assert_eq!(v["completed_earlier"], true, "{v}");
    let hash = v["manifest_sha256"].as_str().unwrap();
    assert!(
        recorded[1].contains(hash),
        "the batch in place is the recorded one"
    );
    assert_eq!(hash, first, "same inputs, same batch");
    assert_eq!(renders(&e).len(), 2, "no second entry");
    let manifest = std::fs::read(out2.join("manifest.json")).unwrap();
    use sha2::Digest;
    assert_eq!(
        breachdesk::audit::entry::hex(&sha2::Sha256::digest(&manifest)),
        hash
    );
    e.run(&["audit", "verify"]).ok();
}

/// Issue 10 item 5: letters and every export with PHI are owner-only whatever the umask,
/// never written through a symbolic link, never over an existing file or batch.
#[test]
fn phi_outputs_are_owner_only_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let (e, id) = with_roster();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let umask0 = |args: &[&str]| {
        let mut c = e.cmd();
        c.env("ARGS_BIN", bin());
        let mut sh = vec![
            "-c".to_string(),
            "umask 000; exec \"$ARGS_BIN\" \"$@\"".into(),
            "sh".into(),
        ];
        sh.extend(args.iter().map(|a| a.to_string()));
        let out = std::process::Command::new("sh")
            .args(&sh)
            .envs(
                c.get_envs()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
            )
            .current_dir(e.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for format in ["text", "html", "csv", "email"] {
        let dir = e.path(format);
        umask0(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--format",
            format,
            "--out",
            s(&dir),
        ]);
        assert_eq!(mode(&dir), 0o700, "{format}");
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for f in std::fs::read_dir(&d).unwrap() {
                let p = f.unwrap().path();
                if p.is_dir() {
                    assert_eq!(mode(&p), 0o700, "{}", p.display());
                    stack.push(p);
                } else {
                    assert_eq!(mode(&p), 0o600, "{}", p.display());
                }
            }
        }
    }
    let report = e.path("dossier.html");
    umask0(&["report", &id, "--html", "--out", s(&report)]);
    assert_eq!(mode(&report), 0o600);
    // An existing batch, a non-empty directory and a symbolic link are refused.
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--out",
            s(&e.path("text")),
        ])
        .code(3);
    assert!(r.stderr.contains("never written over"), "{}", r.stderr);
    let target = e.path("elsewhere");
    std::fs::create_dir(&target).unwrap();
    std::os::unix::fs::symlink(&target, e.path("link")).unwrap();
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "individual",
        "--out",
        s(&e.path("link")),
    ])
    .code(3);
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
    // An empty directory made for the batch is fine.
    let empty = e.path("empty");
    std::fs::create_dir(&empty).unwrap();
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "individual",
        "--out",
        s(&empty),
    ])
    .ok();
    assert!(empty.join("manifest.json").is_file());
    // No partial file is left anywhere.
    let partials: Vec<_> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(partials.is_empty(), "{partials:?}");
}

/// Issue 13: a row with no name became "Dear :"; now the batch is refused, naming the
/// roster line and the field, never a value, and nothing is written.
#[test]
fn a_row_that_needs_fixing_gets_no_letter_and_an_empty_field_is_refused_by_line() {
    let e = Env::plain();
    e.run(&[
        "org",
        "update",
        "--toll-free",
        "1-800-555-0100",
        "--email",
        "privacy@test.example",
    ])
    .ok();
    let id = e.incident(&["--title", "t", "--discovered", "2026-11-01"]);
    // A-2 has no name: the import puts it on the "needs fixing" list (counted unreachable),
    // and no letter is written for it. A-3 died; their next of kin's address is known but
    // not their name: the next-of-kin batch is refused, naming the line and the field,
    // never a value.
    let f = e.write(
        "roster.csv",
        "MRN,First Name,Last Name,Address,City,State,Zip,Deceased,NOK Name,NOK Address,NOK City,NOK State,NOK Zip\n\
         A-1,Ana,Ruiz,9 Oak Ave,Austin,TX,78702,,,,,,\n\
         A-2,,,1 Secret Lane,Austin,TX,78701,,,,,,\n\
         A-3,Cy,Secretkin,3 Oak Ave,Austin,TX,78704,2026-10-01,,7 Secret Way,Austin,TX,78705\n",
    );
    e.run(&["roster", "import", &id, s(&f)]).ok();
    let issues = e.run(&["roster", "issues", &id, "--json"]).ok();
    assert!(issues.stdout.contains("needs_fixing"), "{}", issues.stdout);
    let out = e.path("l");
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--out",
            s(&out),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["manifest"]["count"], 1, "only A-1 gets a letter: {v}");
    // Counsel's letter prints each person's credit-monitoring code, which no row has: the
    // batch is refused, naming every line and the field, never a value.
    let set = e.path("set");
    e.run(&["letters", "templates", "export", s(&set)]).ok();
    let t = set.join("individual.txt.hbs");
    let body = std::fs::read_to_string(&t).unwrap();
    std::fs::write(
        &t,
        format!("{body}\nYour code: {{{{recipient.credit_code}}}}\n"),
    )
    .unwrap();
    let h = set.join("individual.html.hbs");
    let body = std::fs::read_to_string(&h).unwrap();
    std::fs::write(
        &h,
        format!("{body}\n<p>Your code: {{{{recipient.credit_code}}}}</p>\n"),
    )
    .unwrap();
    let l2 = e.path("l2");
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--templates",
            s(&set),
            "--out",
            s(&l2),
        ])
        .code(3);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("recipient.credit_code"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("Secret") && !r.stderr.contains("A-1") && !r.stderr.contains("Ruiz"),
        "no PHI: {}",
        r.stderr
    );
    assert!(!l2.exists());
    assert!(!e.path(".l2.partial").exists());
}

/// The mail vendor's file: first and last name apart, who the envelope is for, ZIP (or
/// ZIP+4) checked and the rows in ZIP order across every shard.
#[test]
fn the_mail_vendor_file_is_sorted_by_zip_across_shards() {
    let e = Env::plain();
    let id = e.incident(&["--title", "t", "--discovered", "2026-11-01"]);
    let f = e.write(
        "roster.csv",
        "MRN,First Name,Last Name,Address,City,State,Zip,Minor,Guardian,Credit Monitoring Code\n\
         1,Ana,Zed,1 A St,Austin,TX,78799,,,C-1\n\
         2,Bo,Young,2 B St,Boston,MA,02110,,,C-2\n\
         3,Cy,Xu,3 C St,Austin,TX,787011234,yes,Dee Xu,C-3\n\
         4,Di,Wu,4 D St,Denver,CO,80202,,,C-4\n\
         5,Ed,Vo,5 E St,Boston,MA,02109,,,C-5\n",
    );
    e.run(&["roster", "import", &id, s(&f)]).ok();
    let out = e.path("csv");
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "individual",
            "--format",
            "csv",
            "--out",
            s(&out),
            "--shard-size",
            "2",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["manifest"]["count"], 5);
    let text = read_all(&out, "csv");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for file_text in text.split("recipient_id,").skip(1) {
        let bytes = format!("recipient_id,{file_text}").into_bytes();
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            breachdesk::letters::MAIL_MERGE_HEADER
        );
        rows.extend(
            r.records()
                .map(|x| x.unwrap().iter().map(String::from).collect()),
        );
    }
    let zips: Vec<&str> = rows.iter().map(|r| r[11].as_str()).collect();
    assert_eq!(zips, ["02109", "02110", "78701-1234", "78799", "80202"]);
    let cy = rows.iter().find(|r| r[3] == "Xu").unwrap();
    assert_eq!(
        (cy[2].as_str(), cy[4].as_str(), cy[5].as_str()),
        ("Cy", "parent_or_guardian", "Dee Xu")
    );
    assert_eq!(cy[12], "78701");
}

/// `letters templates export` writes the built-in set as a starting point that passes the
/// check, and never over counsel's edits without --force.
#[test]
fn templates_export_writes_a_set_that_checks() {
    let e = Env::empty();
    let dir = e.path("tpl");
    let v = e
        .run(&["letters", "templates", "export", s(&dir), "--json"])
        .ok()
        .json();
    assert!(v["files"].as_u64().unwrap() > 30, "{v}");
    for f in [
        "individual.html.hbs",
        "_steps.txt.hbs",
        "_unknown.hbs",
        "headings.toml",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    e.run(&["letters", "check", s(&dir)]).ok();
    std::fs::write(dir.join("_unknown.hbs"), "to be confirmed\n").unwrap();
    let r = e.run(&["letters", "templates", "export", s(&dir)]).code(3);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("_unknown.hbs")).unwrap(),
        "to be confirmed\n"
    );
    e.run(&["letters", "templates", "export", s(&dir), "--force"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(dir.join("_unknown.hbs")).unwrap(),
        "not yet known\n"
    );
}

/// Issue 13 item 5: the worksheet names the covered entity and the business associate with
/// their addresses and the contact person; the description is counsel's public summary,
/// never the internal title; a breach the BA discovered gives both discovery dates;
/// unknown values are null in JSON.
#[test]
fn hhs_worksheet_is_complete() {
    let e = Env::plain();
    e.run(&[
        "org",
        "update",
        "--address",
        "100 Harbor Road, Lakeside, CA 90000",
        "--privacy-officer",
        "Dana Privacy",
        "--toll-free",
        "1-800-555-0100",
        "--email",
        "privacy@test.example",
    ])
    .ok();
    let facts = e.write(
        "f.toml",
        "title = \"Internal: Harbor IT misconfigured bucket\"\n\
         [breach]\nstart = 2026-09-01\ndiscovered = 2026-10-06\npublic_summary = \"A vendor's storage was left open to the internet.\"\n\
         [business_associate]\ninvolved = true\nname = \"Harbor IT Services\"\naddress = \"5 Dock Street, Lakeside, CA 90002\"\nrelationship = \"independent_contractor\"\ndiscovered = 2026-10-01\nnotified_ce = 2026-10-06\n",
    );
    let id = e
        .run(&["incident", "new", "--from", s(&facts), "--no-interview"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let out = e.path("hhs");
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "hhs_notice",
        "--format",
        "json",
        "--out",
        s(&out),
        "--force",
    ])
    .ok();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("hhs_notice.json")).unwrap())
            .unwrap();
    let w = &v["worksheet"];
    assert_eq!(w["covered_entity"]["name"], "Test Hospital");
    assert_eq!(
        w["covered_entity"]["address"],
        "100 Harbor Road, Lakeside, CA 90000"
    );
    assert_eq!(w["business_associate"]["name"], "Harbor IT Services");
    assert_eq!(
        w["business_associate"]["address"],
        "5 Dock Street, Lakeside, CA 90002"
    );
    assert_eq!(w["contact"]["name"], "Dana Privacy");
    assert_eq!(w["contact"]["phone"], "1-800-555-0100");
    assert_eq!(w["contact"]["email"], "privacy@test.example");
    assert_eq!(
        w["description"],
        "A vendor's storage was left open to the internet."
    );
    assert_eq!(w["discovered_by_business_associate"], "2026-10-01");
    assert_eq!(w["discovered_by_covered_entity"], "2026-10-06");
    assert_eq!(w["discovery_start"], "2026-10-01");
    assert_eq!(w["discovery_end"], "2026-10-06");
    assert!(w["breach_end"].is_null(), "unknown is null: {w}");
    assert!(w["individual_notice_began"].is_null());
    assert!(
        !v.to_string().contains("Internal:"),
        "the internal title never goes to HHS"
    );
    let out = e.path("hhs-text");
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "hhs_notice",
        "--out",
        s(&out),
        "--force",
    ])
    .ok();
    let t = read_all(&out, "txt");
    for want in [
        "Name of covered entity: Test Hospital",
        "Name of business associate: Harbor IT Services",
        "Contact name: Dana Privacy",
        "Discovered by the business associate: 2026-10-01",
        "Breach end date: not yet known",
        "Brief description: A vendor's storage",
    ] {
        assert!(t.contains(want), "{want}: {t}");
    }
    assert!(!t.contains("Internal:"), "{t}");
}
