//! Tabletop exercises through the binary: every built-in scenario runs to the end, perfect
//! answers score 100%, wrong ones less with the engine's reasons; exercise records stay out
//! of the real register and every document is watermarked.

use breachdesk::exercise::{self, Decision};

use crate::common::*;

fn ex(e: &Env, args: &[&str]) -> Run {
    let mut a = vec!["exercise"];
    a.extend_from_slice(args);
    let mut c = e.cmd();
    // The simulated clock drives exercises; a pinned clock would override it.
    c.env_remove("BREACHDESK_NOW");
    e.run_with(c, &a)
}

fn decision_flags(d: &Decision) -> Vec<String> {
    let mut v = vec![
        "decide".to_string(),
        "--no-interview".into(),
        "--stage".into(),
        d.stage.to_string(),
    ];
    if let Some(c) = d.determination {
        v.push("--determination".into());
        v.push(c.key().into());
    }
    for n in &d.notices {
        let mut s = n.kind.key().to_string();
        if let Some(j) = &n.jurisdiction {
            s.push(':');
            s.push_str(j);
        }
        if let Some(due) = n.due {
            s.push('=');
            s.push_str(&due.to_string());
        }
        v.push("--notice".into());
        v.push(s);
    }
    v
}

fn run_scenario(e: &Env, id: &str, decisions: &[Decision]) -> serde_json::Value {
    ex(e, &["start", id, "--force"]).ok();
    let s = exercise::load_builtin(id).unwrap();
    for stage in 0..=s.last_stage() {
        if stage > 0 {
            ex(e, &["next"]).ok();
        }
        ex(e, &["brief"]).ok();
        for d in decisions.iter().filter(|d| d.stage == stage) {
            let flags = decision_flags(d);
            let refs: Vec<&str> = flags.iter().map(String::as_str).collect();
            ex(e, &refs).ok();
        }
    }
    ex(e, &["next"]).code(3);
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_NOW");
    e.run_with(c, &["--json", "exercise", "score"]).ok().json()
}

#[test]
fn every_builtin_scenario_runs_and_scores() {
    let e = Env::empty();
    let list = ex(&e, &["list", "--json"]).ok().json();
    let ids: Vec<String> = list["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 10, "{ids:?}");
    for id in &ids {
        let scenario = exercise::load_builtin(id).unwrap();
        let perfect = exercise::perfect_answers(&scenario).unwrap();
        let v = run_scenario(&e, id, &perfect);
        assert_eq!(v["percent"], 100.0, "{id}: {v}");
        // Wrong: flip every determination.
        let wrong: Vec<Decision> = perfect
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.determination = Some(match d.determination {
                    Some(breachdesk::rules::DeterminationClass::Breach) => {
                        breachdesk::rules::DeterminationClass::NotBreachLowProbability
                    }
                    _ => breachdesk::rules::DeterminationClass::Breach,
                });
                d
            })
            .collect();
        let v = run_scenario(&e, id, &wrong);
        assert!(v["percent"].as_f64().unwrap() < 100.0, "{id}: {v}");
        let bad: Vec<&serde_json::Value> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["correct"] == false)
            .collect();
        assert!(
            bad.iter().all(|i| !i["reason"].as_str().unwrap().is_empty()
                && !i["cite"].as_str().unwrap().is_empty()),
            "{id}"
        );
        assert!(
            bad.iter()
                .any(|i| i["cite"].as_str().unwrap().contains("164.402")
                    || i["cite"].as_str().unwrap().contains("19006")),
            "{id}: {bad:?}"
        );
        let db = e.path("breachdesk-exercise.redb");
        e.run(&["--db", s(&db), "audit", "verify"]).ok();
    }
}

#[test]
fn exercises_never_touch_the_real_register() {
    let e = Env::plain();
    e.incident(&[
        "--title",
        "Real",
        "--discovered",
        "2026-03-03",
        "--individuals",
        "3",
    ]);
    ex(&e, &["start", "december-leap-year-annual-log"]).ok();
    let real = e.run(&["incident", "list", "--json"]).ok().json();
    assert_eq!(real["incidents"].as_array().unwrap().len(), 1);
    let log: serde_json::Value = serde_json::from_str(
        &e.run(&["hhs", "annual-log", "2027", "--format", "json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(log["records"].as_array().unwrap().len(), 0);
    // The exercise database is marked: its incident says so, and exercise commands refuse a real one.
    let xdb = e.path("breachdesk-exercise.redb");
    let v = e
        .run(&["--db", s(&xdb), "incident", "list", "--json"])
        .ok()
        .json();
    assert_eq!(v["incidents"][0]["exercise"], true);
    let r = ex(&e, &["brief", "--exercise-db", s(&e.db)]).code(6);
    assert!(
        r.stderr.contains("not an exercise database"),
        "{}",
        r.stderr
    );
    ex(&e, &["start", "state-500-vs-501"]).code(3);
}

#[test]
fn brief_hides_the_answer_until_revealed_and_uses_the_simulated_clock() {
    let e = Env::empty();
    ex(&e, &["start", "december-leap-year-annual-log"]).ok();
    let b = ex(&e, &["brief"]).ok().stdout;
    assert!(b.contains("EXERCISE — NOT A REAL NOTICE"));
    assert!(!b.contains("ENGINE ANSWER"), "{b}");
    let r = ex(&e, &["brief", "--reveal"]).ok().stdout;
    assert!(r.contains("ENGINE ANSWER"), "{r}");
    while ex(&e, &["next"]).code == 0 {}
    let xdb = e.path("breachdesk-exercise.redb");
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_NOW");
    let v = e
        .run_with(c, &["--db", s(&xdb), "deadlines", "--all", "--json"])
        .ok()
        .json();
    let annual = v["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "hhs_annual")
        .unwrap()
        .clone();
    assert_eq!(annual["due"], "2028-02-29");
}

#[test]
fn documents_rendered_from_an_exercise_are_watermarked() {
    let e = Env::empty();
    ex(&e, &["start", "law-enforcement-oral-then-written"]).ok();
    while ex(&e, &["next"]).code == 0 {}
    let xdb = e.path("breachdesk-exercise.redb");
    let id = e
        .run(&["--db", s(&xdb), "incident", "list", "--json"])
        .ok()
        .json()["incidents"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let roster = e.write(
        "roster.csv",
        "id,first,last,address,city,state,zip,deceased,nok name,nok address,nok city,nok state,nok zip\n\
         1,Ana,Ruiz,1 Main St,Austin,TX,78701,,,,,,\n\
         2,Dee,Ceased,1 Elm,Reno,NV,89501,yes,Kin Person,3 Oak,Reno,NV,89501\n",
    );
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_NOW");
    // The two-row roster lowers the scenario's estimates: a script confirms it.
    e.run_with(
        c,
        &[
            "--db",
            s(&xdb),
            "roster",
            "import",
            &id,
            s(&roster),
            "--accept-lower-counts",
        ],
    )
    .ok();
    let kinds = [
        ("individual", "text"),
        ("individual", "html"),
        ("individual", "csv"),
        ("next_of_kin", "text"),
        ("next_of_kin", "html"),
        ("media", "text"),
        ("media", "html"),
        ("substitute_web", "text"),
        ("substitute_media", "html"),
        ("hhs_notice", "text"),
        ("hhs_notice", "json"),
        ("le_delay_memo", "text"),
        ("le_delay_memo", "html"),
    ];
    let mut rendered = Vec::new();
    for (i, (kind, format)) in kinds.iter().enumerate() {
        let out = e.path(&format!("out{i}"));
        let mut c = e.cmd();
        c.env_remove("BREACHDESK_NOW");
        let r = e.run_with(
            c,
            &[
                "--db",
                s(&xdb),
                "letters",
                "render",
                &id,
                "--kind",
                kind,
                "--format",
                format,
                "--out",
                s(&out),
                "--force",
            ],
        );
        if r.code != 0 {
            // A kind the scenario does not call for (e.g. no State over 500) is refused, not faked.
            assert_eq!(r.code, 3, "{kind} {format}: {}", r.stderr);
            continue;
        }
        for f in std::fs::read_dir(&out).unwrap() {
            let p = f.unwrap().path();
            if p.file_name().unwrap() == "manifest.json" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(
                text.contains("EXERCISE — NOT A REAL NOTICE"),
                "{kind} {format} {p:?}"
            );
        }
        rendered.push((*kind, *format));
    }
    for must in [
        ("individual", "text"),
        ("individual", "html"),
        ("individual", "csv"),
        ("next_of_kin", "text"),
        ("next_of_kin", "html"),
        ("hhs_notice", "text"),
        ("le_delay_memo", "html"),
    ] {
        assert!(
            rendered.contains(&must),
            "{must:?} was not rendered: {rendered:?}"
        );
    }
    let out = e.path("dossier.html");
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_NOW");
    e.run_with(
        c,
        &["--db", s(&xdb), "report", &id, "--html", "--out", s(&out)],
    )
    .ok();
    assert!(
        std::fs::read_to_string(out)
            .unwrap()
            .contains("EXERCISE — NOT A REAL NOTICE")
    );
    let out = e.path("aar.html");
    ex(&e, &["note", "Legal wanted the FBI letter in the file"]).ok();
    ex(&e, &["report", "--html", "--out", s(&out)]).ok();
    let h = std::fs::read_to_string(out).unwrap();
    assert!(
        h.contains("EXERCISE — NOT A REAL NOTICE") && h.contains("Legal wanted the FBI letter")
    );
}

#[test]
fn scenarios_seeded_from_the_ocr_list() {
    let e = Env::empty();
    let f = format!(
        "{}/tests/fixtures/ocr/ocr_breach_report_under_investigation_2026-04.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let a = ex(&e, &["from-ocr", &f, "--random", "--seed", "7"])
        .ok()
        .stdout;
    let b = ex(&e, &["from-ocr", &f, "--random", "--seed", "7"])
        .ok()
        .stdout;
    assert_eq!(a, b, "a seed picks the same record");
    let out = e.path("seeded.toml");
    ex(&e, &["from-ocr", &f, "--row", "3", "--out", s(&out)]).ok();
    ex(&e, &["validate", s(&out)]).ok();
    ex(&e, &["start", "--file", s(&out)]).ok();
    ex(&e, &["brief"]).ok();
    ex(&e, &["from-ocr", &f, "--row", "999999"]).code(3);
    let bad = e.write(
        "bad.toml",
        "id = \"x\"\ntitle = \"t\"\nbriefing = \"b\"\nstart = 2026-01-01\nbogus = 1\n",
    );
    let r = ex(&e, &["validate", s(&bad)]).code(3);
    assert!(r.stderr.contains("bogus"), "{}", r.stderr);
}
