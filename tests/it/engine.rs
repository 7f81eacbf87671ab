//! The determination and obligations engine through the binary: assess, evaluate,
//! deadlines, and `incident show` saying what changed.

use crate::common::*;

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn required(v: &serde_json::Value) -> Vec<(String, Option<String>, Option<String>)> {
    v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] != "not_required")
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_string(),
                o["jurisdiction"].as_str().map(str::to_string),
                o["due"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn every_example_facts_file_evaluates() {
    let e = Env::empty();
    let dir = std::fs::read_dir(format!("{}/examples", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut n = 0;
    for f in dir {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let v = e.run(&["evaluate", s(&p), "--json"]).ok().json();
            assert!(v["determination"].is_string(), "{p:?}");
            n += 1;
        }
    }
    assert!(n >= 7, "an example per common incident kind");
}

#[test]
fn evaluate_json_contract() {
    let e = Env::empty();
    let v = e
        .run(&[
            "evaluate",
            &example("stolen-laptop-unencrypted.toml"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["determination"], "breach");
    for r in v["reasons"].as_array().unwrap() {
        assert!(
            r["cite"].as_str().unwrap().contains("164.402")
                || r["cite"].as_str().unwrap().contains("FR"),
            "{r}"
        );
    }
    assert_eq!(v["factors"].as_array().unwrap().len(), 4);
    let kinds: Vec<&str> = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    for k in [
        "individual",
        "next_of_kin",
        "substitute_web_or_media",
        "toll_free_line",
        "media",
        "hhs_immediate",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let media = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "media" && o["status"] != "not_required")
        .unwrap();
    assert_eq!(media["jurisdiction"], "WI");
    assert_eq!(media["due"], "2026-11-29");
    assert_eq!(media["cite"], "45 CFR 164.406");
    assert_eq!(v["retention_until"], "2032-11-22");
}

#[test]
fn evaluate_safe_harbor_and_low_probability() {
    let e = Env::empty();
    let v = e
        .run(&[
            "evaluate",
            &example("encrypted-laptop-powered-off.toml"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["determination"], "not_breach_secured");
    assert!(required(&v).is_empty());
    // The same laptop stolen while logged in: not secured.
    let text = std::fs::read_to_string(example("encrypted-laptop-powered-off.toml"))
        .unwrap()
        .replace("device_state = \"off\"", "device_state = \"logged_in\"");
    let f = e.write("on.toml", &text);
    let v = e.run(&["evaluate", s(&f), "--json"]).ok().json();
    assert_eq!(v["determination"], "breach");
    let v = e
        .run(&[
            "evaluate",
            &example("misdirected-fax-to-provider.toml"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["determination"], "not_breach_low_probability");
    assert_eq!(v["route"], "R2");
}

#[test]
fn evaluate_law_enforcement_policy_is_printed_with_moved_dates() {
    let e = Env::empty();
    let f = example("phishing-with-law-enforcement-delay.toml");
    let v = e.run(&["evaluate", &f, "--json"]).ok().json();
    assert_eq!(v["policy"], "later_of");
    let ind = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "individual")
        .unwrap();
    assert_eq!(ind["original_due"], "2026-08-04");
    assert_eq!(ind["due"], "2026-10-15");
    assert!(ind["policy"].as_str().unwrap().contains("later_of"));
    // Tolling: 2026-08-04 + (2026-10-15 − 2026-07-20 = 87 days) = 2026-10-30.
    let v = e
        .run(&["evaluate", &f, "--json", "--le-policy", "extend-by-delay"])
        .ok()
        .json();
    let ind = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "individual")
        .unwrap();
    assert_eq!(ind["due"], "2026-10-30");
    assert!(ind["policy"].as_str().unwrap().contains("extend_by_delay"));
    let human = e.run(&["evaluate", &f]).ok();
    assert!(human.stdout.contains("later_of"), "{}", human.stdout);
}

#[test]
fn evaluate_business_associate_role_and_stdin() {
    let e = Env::empty();
    let f = e.write(
        "ba.toml",
        "[breach]\ndiscovered = 2026-10-01\n[individuals]\nestimated_total = 10\n",
    );
    let v = e
        .run(&["evaluate", s(&f), "--role", "business-associate", "--json"])
        .ok()
        .json();
    assert_eq!(
        required(&v),
        [("ba_to_ce".to_string(), None, Some("2026-11-30".to_string()))]
    );
    let mut c = e.cmd();
    c.stdin(std::process::Stdio::piped());
    let mut child = c
        .args(["evaluate", "-", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"[breach]\ndiscovered = 2025-12-31\n[individuals]\nestimated_total = 12\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let req = required(&v);
    // Discovery on Dec 31: individual and annual HHS deadlines (2026-03-01) coincide.
    assert!(
        req.contains(&("individual".into(), None, Some("2026-03-01".into()))),
        "{req:?}"
    );
    assert!(
        req.contains(&("hhs_annual".into(), None, Some("2026-03-01".into()))),
        "{req:?}"
    );
}

#[test]
fn evaluate_needs_no_database_and_reports_bad_files() {
    let e = Env::empty();
    let bad = e.write("bad.toml", "[individuals]\nby_state = { XX = 3 }\n");
    let r = e.run(&["evaluate", s(&bad)]).code(3);
    assert!(r.stderr.contains("by_state"), "{}", r.stderr);
    assert!(!e.db.exists());
}

#[test]
fn assess_records_engine_result_and_override() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Fax",
        "--discovered",
        "2026-11-02",
        "--individuals",
        "1",
        "--state",
        "OH=1",
    ]);
    let v = e
        .run(&[
            "assess",
            &id,
            "--from",
            &example("misdirected-fax-to-provider.toml"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["determination"], "not_breach_low_probability");
    let show = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(show["status"], "assessed");
    assert_eq!(
        show["evaluation"]["determination"],
        "not_breach_low_probability"
    );
    // An override needs a rationale; with one, both results stay on record.
    e.run(&["assess", &id, "--override", "breach"]).code(2);
    e.run(&[
        "assess",
        &id,
        "--override",
        "breach",
        "--rationale",
        "counsel prefers to notify",
    ])
    .ok();
    let show = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(show["evaluation"]["determination"], "breach");
    assert_eq!(
        show["evaluation"]["engine_determination"],
        "not_breach_low_probability"
    );
    assert_eq!(
        show["evaluation"]["override"]["rationale"],
        "counsel prefers to notify"
    );
    assert!(!required(&show["evaluation"]).is_empty());
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let last = log["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "incident.assess");
    assert!(
        last["detail"].as_str().unwrap().contains("override=breach"),
        "{last}"
    );
    e.run(&[
        "assess",
        &id,
        "--set",
        "breach.discovered=2026-01-01",
        "--no-interview",
    ])
    .code(3);
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn show_says_what_changed_when_a_fact_changes() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Mailing error",
        "--discovered",
        "2026-11-01",
        "--individuals",
        "499",
    ]);
    let show = e.run(&["incident", "show", &id, "--json"]).ok().json();
    let kinds: Vec<String> = required(&show["evaluation"])
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert!(kinds.contains(&"hhs_annual".to_string()), "{kinds:?}");
    let r = e
        .run(&["incident", "update", &id, "--individuals", "500"])
        .ok();
    assert!(r.stdout.contains("hhs_immediate"), "{}", r.stdout);
    let show = e.run(&["incident", "show", &id, "--json"]).ok().json();
    let changes = show["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c.as_str().unwrap().contains("hhs_immediate")),
        "{changes:?}"
    );
    let human = e.run(&["incident", "show", &id]).ok();
    assert!(
        human.stdout.contains("What changed at the last update"),
        "{}",
        human.stdout
    );
}

#[test]
fn deadlines_lists_open_obligations_and_flags_overdue() {
    let e = Env::plain();
    e.incident(&[
        "--title",
        "Old",
        "--discovered",
        "2026-08-01",
        "--individuals",
        "20",
    ]);
    e.incident(&[
        "--title",
        "New",
        "--discovered",
        "2026-11-20",
        "--individuals",
        "600",
        "--state",
        "FL=600",
    ]);
    let closed = e.incident(&["--title", "Closed", "--discovered", "2026-08-01"]);
    e.run(&["incident", "close", &closed, "--disposition", "no_phi"])
        .ok();
    let v = e.run(&["deadlines", "--json"]).ok().json();
    let rows = v["deadlines"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["incident"] != closed.as_str()));
    assert_eq!(rows[0]["incident"], "2026-0001");
    assert_eq!(rows[0]["status"], "late");
    assert_eq!(v["overdue"], 1);
    assert!(
        rows.iter()
            .any(|r| r["kind"] == "media" && r["jurisdiction"] == "FL" && r["due"] == "2027-01-19")
    );
    e.run(&["deadlines", "--fail-on-overdue"]).code(20);
    let v = e.run(&["deadlines", "--within", "0", "--json"]).ok().json();
    assert_eq!(v["deadlines"].as_array().unwrap().len(), 1);
}
