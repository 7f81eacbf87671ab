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
    // Closing never hides a duty (issue 9): the closed incident, never assessed (a breach is
    // presumed, 164.402(2)), keeps its unmet obligations on the board, marked closed.
    let of_closed: Vec<_> = rows
        .iter()
        .filter(|r| r["incident"] == closed.as_str())
        .collect();
    assert!(!of_closed.is_empty());
    assert!(of_closed.iter().all(|r| r["incident_status"] == "closed"));
    assert_eq!(rows[0]["incident"], "2026-0001");
    assert_eq!(rows[0]["status"], "late");
    assert_eq!(v["overdue"], 2);
    assert!(
        rows.iter()
            .any(|r| r["kind"] == "media" && r["jurisdiction"] == "FL" && r["due"] == "2027-01-19")
    );
    e.run(&["deadlines", "--fail-on-overdue"]).code(20);
    let v = e.run(&["deadlines", "--within", "0", "--json"]).ok().json();
    assert_eq!(v["deadlines"].as_array().unwrap().len(), 2);
}

/// Issue 11: discovery derived from `[[discovery_events]]`, 164.404(a)(2): an ignored alert
/// starts the clock; the wrongdoer's knowledge and an independent contractor's never do;
/// the typed date still works and is warned about when later.
#[test]
fn discovery_is_derived_from_events_and_explained() {
    let e = Env::empty();
    let f = e.write(
        "events.toml",
        r#"title = "Phishing, billing"
[breach]
discovered = 2026-09-20
[individuals]
estimated_total = 40
[business_associate]
involved = true
relationship = "independent_contractor"
notified_ce = 2026-09-25

[[discovery_events]]
date = 2026-09-01
who = "workforce_member"
kind = "should_have_known"
description = "SIEM alert on the billing server, not reviewed"

[[discovery_events]]
date = 2026-08-15
who = "wrongdoer"
kind = "learned"

[[discovery_events]]
date = 2026-08-20
who = "business_associate"
kind = "learned"
"#,
    );
    let v = e.run(&["evaluate", s(&f), "--json"]).ok().json();
    assert_eq!(v["clock_start"], "2026-09-01");
    let events: Vec<&str> = v["discovery_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    assert!(events[0].contains("is the earliest"), "{events:?}");
    assert!(
        events[1].contains("person who committed the breach"),
        "{events:?}"
    );
    assert!(events[2].contains("independent contractor"), "{events:?}");
    assert!(
        v["notes"].as_array().unwrap().iter().any(|n| n["text"]
            .as_str()
            .unwrap()
            .contains("breach.discovered (2026-09-20) is later than discovery event 1")),
        "{v}"
    );
    let ind = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "individual")
        .unwrap();
    assert_eq!(ind["due"], "2026-10-31");
    let text = e.run(&["evaluate", s(&f)]).ok().stdout;
    assert!(
        text.contains("Discovery events (45 CFR 164.404(a)(2))"),
        "{text}"
    );
    assert!(text.contains("SIEM alert on the billing server"), "{text}");

    // Stored incidents use the same derivation: show, letters' discovery date, annual log.
    let e = Env::plain();
    let id = e
        .run(&[
            "incident",
            "new",
            "--from",
            s(&e.write("events.toml", &std::fs::read_to_string(&f).unwrap())),
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    let show = e.run(&["incident", "show", &id]).ok().stdout;
    assert!(show.contains("day 0 = 2026-09-01"), "{show}");
    assert!(show.contains("is the earliest"), "{show}");
    let log = e
        .run(&["hhs", "annual-log", "2026", "--format", "json"])
        .ok()
        .stdout;
    assert!(log.contains(&id), "{log}");
}

/// Issue 11: `[organization] role` in a facts file makes a what-if a business associate's;
/// the flag still wins; a stored incident must agree with the database's organization.
#[test]
fn organization_role_key_in_facts_and_the_flag_wins() {
    let e = Env::empty();
    let f = e.write(
        "ba.toml",
        "[organization]\nrole = \"business-associate\"\n[breach]\ndiscovered = 2026-10-01\n[individuals]\nestimated_total = 10\n",
    );
    let v = e.run(&["evaluate", s(&f), "--json"]).ok().json();
    assert_eq!(
        required(&v),
        [("ba_to_ce".to_string(), None, Some("2026-11-30".to_string()))]
    );
    assert!(
        e.run(&["evaluate", s(&f)])
            .ok()
            .stdout
            .contains("for a business associate")
    );
    let v = e
        .run(&["evaluate", s(&f), "--role", "covered-entity", "--json"])
        .ok()
        .json();
    assert!(
        required(&v).iter().any(|(k, _, _)| k == "individual"),
        "{v}"
    );
    let e = Env::plain();
    let r = e
        .run(&[
            "incident",
            "new",
            "--from",
            s(&e.write("ba.toml", &std::fs::read_to_string(&f).unwrap())),
            "--title",
            "x",
        ])
        .code(3);
    assert!(r.stderr.contains("organization.role"), "{}", r.stderr);
}

/// Issue 11, law-enforcement delays through the binary: a lapsed delay is not revived by a
/// later statement, and the periods are printed one by one.
#[test]
fn a_lapsed_delay_is_not_revived() {
    let e = Env::empty();
    let f = e.write(
        "le.toml",
        r#"[breach]
discovered = 2025-03-03
[individuals]
estimated_total = 10
[[law_enforcement]]
kind = "written"
date = 2025-04-25
until = 2025-05-15
agency = "FBI"
[[law_enforcement]]
kind = "written"
date = 2025-06-01
until = 2025-09-01
agency = "FBI"
"#,
    );
    let v = e
        .run(&["evaluate", s(&f), "--today", "2025-05-16", "--json"])
        .ok()
        .json();
    let ind = v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "individual")
        .unwrap();
    assert_eq!(ind["due"], "2025-05-15");
    assert_eq!(ind["status"], "late");
    assert_eq!(ind["late_days"], 1);
    assert_eq!(
        v["law_enforcement_delay"]["periods"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let text = e
        .run(&["evaluate", s(&f), "--today", "2025-05-16"])
        .ok()
        .stdout;
    assert!(
        text.contains("2025-04-25 to 2025-05-15 and 2025-06-01 to 2025-09-01"),
        "{text}"
    );
    assert!(text.contains("1 day(s) past due"), "{text}");
    assert!(!text.contains("-1 day(s) remaining"), "{text}");
}

/// Issue 11: `deadlines --ics FILE` — RFC 5545 events with reminders for every open
/// obligation, window ends included, read back by an independent parser; a re-export keeps
/// the UIDs, so a moved deadline updates the same entry and a met one is cancelled.
#[test]
fn deadlines_export_a_calendar_with_stable_uids() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Stolen laptop",
        "--discovered",
        "2026-11-01",
        "--individuals",
        "700",
        "--state",
        "WI=600",
        "--state",
        "IL=100",
        "--set",
        "individuals.unreachable=12",
    ]);
    let ics = e.path("deadlines.ics");
    let r = e.run(&["deadlines", "--ics", s(&ics)]).ok();
    assert!(r.stderr.contains("calendar event(s)"), "{}", r.stderr);
    let parse = |path: &std::path::Path| {
        let text = std::fs::read_to_string(path).unwrap();
        let cals: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()))
            .collect::<Result<_, _>>()
            .expect("an RFC 5545 calendar");
        assert_eq!(cals.len(), 1);
        cals.into_iter().next().unwrap()
    };
    let prop = |ev: &ical::parser::ical::component::IcalEvent, name: &str| {
        ev.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    let cal = parse(&ics);
    let by_uid = |cal: &ical::parser::ical::component::IcalCalendar| {
        cal.events
            .iter()
            .map(|ev| {
                (
                    prop(ev, "UID"),
                    (prop(ev, "DTSTART"), prop(ev, "STATUS"), ev.alarms.len()),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let before = by_uid(&cal);
    let find = |m: &std::collections::BTreeMap<String, (String, String, usize)>, part: &str| {
        m.iter()
            .find(|(k, _)| k.contains(part))
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap_or_else(|| panic!("no {part} in {m:?}"))
    };
    let (ind_uid, (ind_date, ind_status, alarms)) = find(&before, &format!("{id}-individual-due@"));
    assert_eq!(ind_date, "20261231");
    assert_eq!(ind_status, "CONFIRMED");
    assert_eq!(alarms, 3);
    let (_, (wi_date, _, _)) = find(&before, &format!("{id}-media-wi-due@"));
    assert_eq!(wi_date, "20261231");
    let (_, (window, _, walarms)) = find(&before, &format!("{id}-toll-free-line-window-end@"));
    assert_eq!(window, "20270331");
    assert!(walarms > 0);
    assert!(
        cal.events
            .iter()
            .all(|ev| prop(ev, "DTSTAMP") == "20261122T150000Z")
    );

    // A written delay moves the deadline; the individual notice goes out: same UIDs.
    e.run(&[
        "incident",
        "update",
        &id,
        "--set",
        "law_enforcement=[{kind=\"written\",date=2026-11-10,until=2027-01-20,agency=\"FBI\"}]",
    ])
    .ok();
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "media",
        "--jurisdiction",
        "WI",
        "--date",
        "2026-11-20",
        "--method",
        "media",
        "--override-rationale",
        "press release approved by counsel outside breachdesk",
    ])
    .ok();
    let ics2 = e.path("again.ics");
    e.run(&["deadlines", "--ics", s(&ics2)]).ok();
    let after = by_uid(&parse(&ics2));
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same entries"
    );
    assert_eq!(after[&ind_uid].0, "20270120", "moved by the delay");
    let (_, (_, wi_status, wi_alarms)) = find(&after, &format!("{id}-media-wi-due@"));
    assert_eq!(
        (wi_status.as_str(), wi_alarms),
        ("CANCELLED", 0),
        "met: no reminders"
    );
}

/// Issue 11, wording: `incident show` names the incident to assess (it printed the
/// determination class), and the `deadlines` header names the policy actually applied
/// (it named the organization's even under `--le-policy`).
#[test]
fn show_and_deadlines_say_the_right_thing() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "t",
        "--discovered",
        "2026-11-01",
        "--individuals",
        "5",
    ]);
    let show = e.run(&["incident", "show", &id]).ok().stdout;
    assert!(
        show.contains(&format!("run `breachdesk assess {id}`")),
        "{show}"
    );
    assert!(!show.contains("assess breach`"), "{show}");
    let text = e
        .run(&["deadlines", "--le-policy", "extend-by-delay"])
        .ok()
        .stdout;
    assert!(text.contains("extend_by_delay"), "{text}");
    assert!(!text.contains("later_of"), "{text}");
    let v = e
        .run(&["deadlines", "--le-policy", "extend-by-delay", "--json"])
        .ok()
        .json();
    assert_eq!(v["policy"], "extend_by_delay");
}
