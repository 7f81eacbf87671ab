//! Tests of the exercise core: every built-in scenario against the engine, scoring,
//! parse errors, briefs, state, the after-action report and OCR seeding.

use std::path::Path;

use chrono::NaiveDate;

use super::*;
use crate::domain::ObligationKind::{self, *};
use crate::rules::{DeterminationClass, Evaluation};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("test dates are valid")
}

fn load(id: &str) -> Scenario {
    load_builtin(id).unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn ev(s: &Scenario, stage: usize) -> Evaluation {
    expected(s, stage).unwrap_or_else(|e| panic!("{}: {e}", s.id))
}

/// Required obligations as (kind, jurisdiction, due).
fn req(e: &Evaluation) -> Vec<(ObligationKind, Option<String>, Option<NaiveDate>)> {
    e.obligations
        .iter()
        .filter(|o| o.status.is_required())
        .map(|o| (o.kind, o.jurisdiction.clone(), o.due))
        .collect()
}

fn due(e: &Evaluation, kind: ObligationKind) -> Option<NaiveDate> {
    e.obligations
        .iter()
        .find(|o| o.kind == kind && o.status.is_required())
        .and_then(|o| o.due)
}

fn has(e: &Evaluation, kind: ObligationKind) -> bool {
    e.obligations
        .iter()
        .any(|o| o.kind == kind && o.status.is_required())
}

#[test]
fn library_has_the_twelve_scenarios_with_matching_ids() {
    let lib = builtin();
    assert!(lib.len() >= 12);
    for (id, text) in lib {
        let s = parse_scenario(text, id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(s.id, id, "file id matches the library key");
    }
    let e = load_builtin("nope").expect_err("unknown id");
    assert!(e.to_string().contains("laptop-encrypted-off"), "{e}");
}

#[test]
fn every_builtin_validates_runs_to_the_end_and_perfect_answers_score_100() {
    for (id, _) in builtin() {
        let s = load(id);
        let warnings = validate(&s).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(
            warnings.is_empty(),
            "{id}: unexpected warnings {warnings:?}"
        );
        assert!(s.last_stage() >= 1, "{id} has injects");
        for stage in 0..=s.last_stage() {
            ev(&s, stage);
            let b = brief(&s, stage, true).expect("brief");
            assert!(b.to_string().contains("EXERCISE — NOT A REAL NOTICE"));
        }
        let perfect = perfect_answers(&s).expect("perfect");
        assert_eq!(perfect.len(), s.last_stage() + 1);
        let sc = score(&s, &perfect).expect("score");
        assert!(
            sc.is_perfect(),
            "{id}: {:?}",
            sc.items.iter().find(|i| !i.correct)
        );
        assert!((sc.percent - 100.0).abs() < f64::EPSILON);
    }
}

#[test]
fn flipped_determination_scores_wrong_with_the_rule_and_cite() {
    let s = load("laptop-encrypted-off");
    let mut answers = perfect_answers(&s).expect("perfect");
    // Stage 1: the laptop was off: safe harbor. The room says "breach".
    assert_eq!(
        answers[1].determination,
        Some(DeterminationClass::NotBreachSecured)
    );
    answers[1].determination = Some(DeterminationClass::Breach);
    answers[1].notices.push(DecidedNotice {
        kind: Individual,
        jurisdiction: None,
        due: Some(d("2026-04-30")),
    });
    let sc = score(&s, &answers).expect("score");
    assert!(sc.percent < 100.0);
    let wrong: Vec<&ScoreItem> = sc.items.iter().filter(|i| !i.correct).collect();
    assert_eq!(wrong.len(), 2, "{wrong:#?}");
    let det = wrong[0];
    assert_eq!(det.stage, 1);
    assert_eq!(det.answer_given, "breach");
    assert_eq!(det.expected, "not_breach_secured");
    assert!(
        det.reason.contains("encrypted per HHS guidance"),
        "{}",
        det.reason
    );
    assert!(det.cite.contains("74 FR 19006"), "{}", det.cite);
    let extra = wrong[1];
    assert_eq!(extra.expected, "not required");
    assert!(
        extra.reason.starts_with("unnecessary notice"),
        "{}",
        extra.reason
    );
    assert!(extra.cite.contains("74 FR 19006"), "{}", extra.cite);
}

#[test]
fn dropped_notice_and_shifted_due_date_score_wrong_with_reasons() {
    let s = load("state-500-vs-501");
    let mut answers = perfect_answers(&s).expect("perfect");
    // Stage 1: 501 Pennsylvanians. Drop the media notice; shift the HHS date by a day.
    let a = &mut answers[1];
    a.notices.retain(|n| n.kind != Media);
    let hhs = a
        .notices
        .iter_mut()
        .find(|n| n.kind == HhsImmediate)
        .expect("hhs named");
    hhs.due = hhs.due.and_then(|x| x.succ_opt());
    let sc = score(&s, &answers).expect("score");
    let wrong: Vec<&ScoreItem> = sc.items.iter().filter(|i| !i.correct).collect();
    assert!(sc.percent < 100.0);
    let media = wrong
        .iter()
        .find(|i| i.question.contains("media (PA)") && i.answer_given == "not named")
        .expect("missing media item");
    assert!(
        media
            .reason
            .contains("501 residents of Pennsylvania (more than 500)"),
        "{}",
        media.reason
    );
    assert_eq!(media.cite, "45 CFR 164.406");
    let late = wrong
        .iter()
        .find(|i| i.question.contains("By when [hhs_immediate]"))
        .expect("hhs date item");
    assert_eq!(late.expected, "2026-11-13");
    assert_eq!(late.answer_given, "2026-11-14");
    assert!(late.reason.starts_with("1 day(s) late"), "{}", late.reason);
    assert!(late.reason.contains("60 calendar days"), "{}", late.reason);
    assert!(late.cite.starts_with("45 CFR 164.408(b)"), "{}", late.cite);
    // The due date of the dropped media notice is wrong too ("not named").
    assert!(
        wrong
            .iter()
            .any(|i| i.question.contains("By when [media (PA)]"))
    );
    // Unanswered determination counts as wrong.
    let sc = score(
        &s,
        &[Decision {
            stage: 0,
            determination: None,
            notices: vec![],
            note: String::new(),
        }],
    )
    .expect("score");
    assert_eq!(sc.items[0].answer_given, "no answer");
    assert!(!sc.items[0].correct);
}

#[test]
fn state_500_vs_501_media_only_for_501() {
    let s = load("state-500-vs-501");
    let e0 = ev(&s, 0);
    assert_eq!(e0.effective_class, DeterminationClass::Breach);
    assert!(!has(&e0, Media), "exactly 500 residents of PA: no media");
    assert!(has(&e0, HhsImmediate), "742 in total: HHS immediate");
    let e1 = ev(&s, 1);
    let media: Vec<_> = req(&e1).into_iter().filter(|o| o.0 == Media).collect();
    assert_eq!(
        media,
        vec![(Media, Some("PA".into()), Some(d("2026-11-13")))]
    );
    // Stage 2: the notices recorded by the inject meet every obligation.
    let e2 = ev(&s, 2);
    for o in e2.obligations.iter().filter(|o| o.status.is_required()) {
        assert_eq!(o.status.key(), "met", "{:?}", o.kind);
    }
}

/// A scenario that asks for State laws: the engine's answer includes the Texas Attorney
/// General's notice from 250 residents (30 days from the determination), and the room is
/// scored on it like HIPAA's duties.
#[test]
fn texas_ag_only_for_250_and_scored_when_the_scenario_asks() {
    let s = load("texas-ag-249-vs-250");
    assert!(s.state_laws);
    let e0 = ev(&s, 0);
    assert_eq!(e0.effective_class, DeterminationClass::Breach);
    assert!(!has(&e0, StateRegulator), "249 Texans: no AG notice");
    assert!(e0.laws.is_some());
    let e1 = ev(&s, 1);
    let ag: Vec<_> = req(&e1)
        .into_iter()
        .filter(|o| o.0 == StateRegulator)
        .collect();
    assert_eq!(
        ag,
        vec![(StateRegulator, Some("TX".into()), Some(d("2026-11-06")))]
    );
    let room = |notices: Vec<DecidedNotice>| Decision {
        stage: 1,
        determination: Some(DeterminationClass::Breach),
        notices,
        note: String::new(),
    };
    let hipaa = DecidedNotice {
        kind: Individual,
        jurisdiction: None,
        due: Some(d("2026-12-05")),
    };
    let annual = DecidedNotice {
        kind: HhsAnnual,
        jurisdiction: None,
        due: Some(d("2027-03-01")),
    };
    let tx = DecidedNotice {
        kind: StateRegulator,
        jurisdiction: Some("TX".into()),
        due: Some(d("2026-11-06")),
    };
    let full = score(&s, &[room(vec![hipaa.clone(), annual.clone(), tx.clone()])]).unwrap();
    assert!(full.is_perfect(), "{full:#?}");
    let missed = score(&s, &[room(vec![hipaa, annual])]).unwrap();
    let wrong: Vec<_> = missed.items.iter().filter(|i| !i.correct).collect();
    assert!(
        wrong
            .iter()
            .any(|i| i.question.contains("state_regulator (TX)")),
        "{wrong:#?}"
    );
    assert!(
        wrong.iter().any(|i| i.cite.contains("521.053(i)")),
        "{wrong:#?}"
    );
}

/// A HIPAA scenario leaves State-law notices out of its answers and its score, and says so.
#[test]
fn state_notices_are_not_scored_in_a_hipaa_scenario() {
    let s = load("state-500-vs-501");
    assert!(!s.state_laws);
    assert!(ev(&s, 0).laws.is_none());
    let mut answers = perfect_answers(&s).unwrap();
    let base = score(&s, &answers).unwrap();
    answers[0].notices.push(DecidedNotice {
        kind: StateRegulator,
        jurisdiction: Some("PA".into()),
        due: None,
    });
    let with = score(&s, &answers).unwrap();
    assert_eq!((with.correct, with.total), (base.correct, base.total));
    assert!(
        with.notes.iter().any(|n| n.contains("not scored")),
        "{:?}",
        with.notes
    );
    assert!(base.notes.is_empty());
}

#[test]
fn returned_mail_9_then_10_adds_substitute_web_and_toll_free() {
    let s = load("returned-mail-9-vs-10");
    let e0 = ev(&s, 0);
    assert!(!has(&e0, SubstituteInformal) && !has(&e0, SubstituteWebOrMedia));
    let e1 = ev(&s, 1);
    assert!(has(&e1, SubstituteInformal));
    assert!(!has(&e1, SubstituteWebOrMedia) && !has(&e1, TollFreeLine));
    let e2 = ev(&s, 2);
    assert!(!has(&e2, SubstituteInformal));
    assert!(has(&e2, SubstituteWebOrMedia) && has(&e2, TollFreeLine));
    assert_eq!(due(&e2, TollFreeLine), Some(d("2026-11-07")));
    assert_eq!(due(&e2, HhsAnnual), Some(d("2027-03-01")));
}

#[test]
fn december_2027_discovery_hhs_annual_due_2028_02_29() {
    let s = load("december-leap-year-annual-log");
    for stage in 0..=s.last_stage() {
        let e = ev(&s, stage);
        assert_eq!(e.effective_class, DeterminationClass::Breach);
        assert_eq!(due(&e, HhsAnnual), Some(d("2028-02-29")), "stage {stage}");
        assert_eq!(
            due(&e, Individual),
            Some(d("2028-02-29")),
            "Dec 31 + 60 days"
        );
        assert!(!has(&e, HhsImmediate));
    }
}

#[test]
fn oral_then_written_law_enforcement_delay_moves_dates() {
    let s = load("law-enforcement-oral-then-written");
    let e0 = ev(&s, 0);
    assert_eq!(due(&e0, Individual), Some(d("2026-10-02")));
    let e1 = ev(&s, 1);
    for k in [Individual, Media, HhsImmediate] {
        assert_eq!(due(&e1, k), Some(d("2026-10-25")), "oral: 30 days, {k:?}");
    }
    let e2 = ev(&s, 2);
    for k in [Individual, Media, HhsImmediate] {
        assert_eq!(due(&e2, k), Some(d("2026-12-15")), "written governs, {k:?}");
    }
    let ind = e2
        .obligations
        .iter()
        .find(|o| o.kind == Individual)
        .expect("individual");
    assert_eq!(ind.original_due, Some(d("2026-10-02")));
    // The score's due-date reason names the delay and 164.412.
    let answers = perfect_answers(&s).expect("perfect");
    let sc = score(&s, &answers[2..]).expect("score");
    let item = sc
        .items
        .iter()
        .find(|i| i.question == "By when [individual]?")
        .expect("item");
    assert!(
        item.reason.contains("law-enforcement delay"),
        "{}",
        item.reason
    );
    assert!(item.cite.contains("164.412"), "{}", item.cite);
}

#[test]
fn count_revised_past_500_moves_hhs_to_immediate_and_adds_media() {
    let s = load("count-revised-past-500");
    for stage in [0, 1] {
        let e = ev(&s, stage);
        assert!(has(&e, HhsAnnual) && !has(&e, HhsImmediate) && !has(&e, Media));
        assert_eq!(due(&e, HhsAnnual), Some(d("2027-03-01")));
    }
    let e = ev(&s, 2);
    assert!(!has(&e, HhsAnnual));
    assert_eq!(due(&e, HhsImmediate), Some(d("2026-09-12")));
    assert_eq!(
        req(&e)
            .into_iter()
            .filter(|o| o.0 == Media)
            .collect::<Vec<_>>(),
        vec![(Media, Some("NC".into()), Some(d("2026-09-12")))]
    );
    // A room that kept the annual log at stage 2 is told why it is wrong.
    let mut answers = perfect_answers(&s).expect("perfect");
    answers[2].notices = answers[1].notices.clone();
    let sc = score(&s, &answers[2..]).expect("score");
    let annual = sc
        .items
        .iter()
        .find(|i| i.question.contains("[hhs_annual]") && i.expected == "not required")
        .expect("unnecessary annual");
    assert!(
        annual.reason.starts_with("unnecessary notice: HHS notice at this stage is hhs_immediate: 1150 individuals (500 or more)"),
        "{}",
        annual.reason
    );
    assert_eq!(annual.cite, "45 CFR 164.408(c)");
}

#[test]
fn determinations_across_the_paired_scenarios() {
    use DeterminationClass::*;
    let classes = |id: &str| -> Vec<DeterminationClass> {
        let s = load(id);
        (0..=s.last_stage())
            .map(|k| ev(&s, k).effective_class)
            .collect()
    };
    assert_eq!(
        classes("laptop-encrypted-off"),
        [Breach, NotBreachSecured, NotBreachSecured]
    );
    assert_eq!(
        classes("laptop-encrypted-logged-in"),
        [Breach, Breach, Breach]
    );
    assert_eq!(
        classes("workforce-snooping"),
        [NotBreachException, Breach, Breach, Breach]
    );
    assert_eq!(
        classes("fax-to-covered-entity"),
        [Breach, NotBreachLowProbability]
    );
    assert_eq!(classes("fax-to-unbound-business"), [Breach, Breach]);
    assert_eq!(classes("ransomware-exfiltration-unknown"), [Breach; 4]);
    let fax = load("fax-to-covered-entity");
    assert_eq!(ev(&fax, 1).engine.route, Some(crate::rules::Route::R2));
    let logged_in = load("laptop-encrypted-logged-in");
    let why = ev(&logged_in, 1).engine.reasons[0].text.clone();
    assert!(why.contains("running and logged in"), "{why}");
}

#[test]
fn snooping_ignored_alert_moves_discovery_earlier() {
    let s = load("workforce-snooping");
    assert_eq!(due(&ev(&s, 1), Individual), Some(d("2026-07-10")));
    assert_eq!(due(&ev(&s, 2), Individual), Some(d("2026-06-26")));
    assert_eq!(due(&ev(&s, 2), HhsAnnual), Some(d("2027-03-01")));
}

#[test]
fn business_associate_agent_vs_independent_contractor_clock() {
    let s = load("ba-agent-vs-contractor");
    let e0 = ev(&s, 0);
    assert_eq!(
        e0.clock.date,
        Some(d("2026-02-02")),
        "unrecorded: treated as agent"
    );
    assert_eq!(due(&e0, Individual), Some(d("2026-04-03")));
    let e1 = ev(&s, 1);
    assert_eq!(
        e1.clock.date,
        Some(d("2026-03-10")),
        "independent contractor"
    );
    assert_eq!(due(&e1, Individual), Some(d("2026-05-09")));
    let e2 = ev(&s, 2);
    assert_eq!(e2.clock.date, Some(d("2026-02-02")), "agent");
    assert_eq!(due(&e2, Media), Some(d("2026-04-03")));
}

#[test]
fn ransomware_media_per_state_500_then_512() {
    let s = load("ransomware-exfiltration-unknown");
    let media = |k| -> Vec<Option<String>> {
        req(&ev(&s, k))
            .into_iter()
            .filter(|o| o.0 == Media)
            .map(|o| o.1)
            .collect()
    };
    assert_eq!(media(0), vec![Some("TX".to_string())]);
    assert_eq!(
        media(3),
        vec![Some("NM".to_string()), Some("TX".to_string())]
    );
    assert!(has(&ev(&s, 2), UrgentPhoneOptional));
    // The optional urgent call is neither required nor wrong to name.
    let mut answers = perfect_answers(&s).expect("perfect");
    assert!(
        answers[2]
            .notices
            .iter()
            .all(|n| n.kind != UrgentPhoneOptional)
    );
    answers[2].notices.push(DecidedNotice {
        kind: UrgentPhoneOptional,
        jurisdiction: None,
        due: None,
    });
    assert!(score(&s, &answers).expect("score").is_perfect());
}

const MINIMAL: &str = r#"
id = "mini"
title = "Minimal"
briefing = "A test."
start = 2026-01-05

[organization]
legal_name = "Test Clinic"
role = "covered_entity"
entity_type = "healthcare_provider"

[facts.breach]
discovered = 2026-01-05

[facts.individuals]
by_state = { CA = 500 }

[[inject]]
at = 2026-01-10
title = "More people"
told = "One more."
[inject.set]
"individuals.by_state.CA" = 501
"#;

#[test]
fn minimal_scenario_parses_and_sets_paths() {
    let s = parse_scenario(MINIMAL, "mini.toml").expect("parses");
    assert_eq!(s.start.to_string(), "2026-01-05");
    assert_eq!(stage_date(&s, 1), d("2026-01-10"));
    let f = stage_facts(&s, 1).expect("facts");
    assert_eq!(f.individuals.by_state.get("CA"), Some(&501));
    assert!(has(&ev(&s, 1), Media) && !has(&ev(&s, 0), Media));
    let e = stage_facts(&s, 2).expect_err("no stage 2");
    assert!(e.to_string().contains("stages 0 to 1"), "{e}");
    // Quoted start with a time.
    let t = MINIMAL.replace("start = 2026-01-05", "start = \"2026-01-05T08:30\"");
    let s = parse_scenario(&t, "t").expect("quoted start");
    assert_eq!(s.start.to_string(), "2026-01-05T08:30");
}

#[test]
fn unknown_key_names_file_line_and_field() {
    let t = MINIMAL.replace("title = \"Minimal\"", "title = \"Minimal\"\nsumary = \"x\"");
    let e = parse_scenario(&t, "mini.toml").expect_err("unknown top-level key");
    let m = e.to_string();
    assert!(m.contains("mini.toml, line 4"), "{m}");
    assert!(m.contains("sumary") && m.contains("briefing"), "{m}");

    let t = MINIMAL.replace("discovered = 2026-01-05", "discoverd = 2026-01-05");
    let m = parse_scenario(&t, "mini.toml")
        .expect_err("unknown fact")
        .to_string();
    assert!(m.contains("line 13"), "{m}");
    assert!(m.contains("facts.breach.discoverd"), "{m}");

    let t = MINIMAL.replace(
        "told = \"One more.\"",
        "told = \"One more.\"\nwhen = 2026-01-10",
    );
    let m = parse_scenario(&t, "mini.toml")
        .expect_err("unknown inject key")
        .to_string();
    assert!(m.contains("inject[0].when"), "{m}");
    assert!(m.contains("line 22"), "{m}");

    let m = parse_scenario("id = \"x\"\ntitle = ", "bad.toml")
        .expect_err("syntax")
        .to_string();
    assert!(m.starts_with("bad.toml, line 2: not valid toml"), "{m}");
}

#[test]
fn bad_inject_path_names_inject_path_and_line() {
    let t = MINIMAL.replace(
        "\"individuals.by_state.CA\" = 501",
        "\"individuals.by_stat.CA\" = 501",
    );
    let m = parse_scenario(&t, "mini.toml")
        .expect_err("bad path")
        .to_string();
    assert!(m.contains("inject 1 (`More people`)"), "{m}");
    assert!(m.contains("set `individuals.by_stat.CA`"), "{m}");
    assert!(
        m.contains("by_stat") && m.contains("by_state"),
        "accepted keys listed: {m}"
    );
    assert!(m.contains("line 23"), "{m}");

    let t = MINIMAL.replace(
        "\"individuals.by_state.CA\" = 501",
        "\"security.device_state\" = \"asleep\"",
    );
    let m = parse_scenario(&t, "mini.toml")
        .expect_err("bad value")
        .to_string();
    assert!(
        m.contains("security.device_state") && m.contains("logged_in"),
        "{m}"
    );

    let t = MINIMAL.replace("\"individuals.by_state.CA\" = 501", "\"title.x\" = 1");
    let m = parse_scenario(&t, "mini.toml")
        .expect_err("not a section")
        .to_string();
    assert!(m.contains("`title` is a value, not a section"), "{m}");
}

#[test]
fn inject_out_of_order_is_refused() {
    let t = MINIMAL.replace("at = 2026-01-10", "at = 2026-01-04");
    let m = parse_scenario(&t, "mini.toml")
        .expect_err("before start")
        .to_string();
    assert!(
        m.contains("inject 1 (`More people`): dated 2026-01-04, before the start (2026-01-05)"),
        "{m}"
    );
    assert!(m.contains("line 19"), "{m}");
    let t =
        format!("{MINIMAL}\n[[inject]]\nat = 2026-01-09\ntitle = \"Back in time\"\ntold = \"x\"\n");
    let m = parse_scenario(&t, "mini.toml")
        .expect_err("before previous")
        .to_string();
    assert!(
        m.contains("inject 2 (`Back in time`): dated 2026-01-09, before inject 1 (2026-01-10)"),
        "{m}"
    );
}

#[test]
fn validate_refuses_facts_not_true_on_the_stage_date() {
    let t = MINIMAL.replace("discovered = 2026-01-05", "discovered = 2026-01-06");
    let s = parse_scenario(&t, "mini.toml").expect("parses");
    let m = validate(&s)
        .expect_err("discovery after the start")
        .to_string();
    assert!(
        m.contains("stage 0 (2026-01-05)") && m.contains("breach.discovered is in the future"),
        "{m}"
    );
}

#[test]
fn brief_hides_the_answer_without_reveal() {
    let s = load("laptop-encrypted-off");
    let hidden = brief(&s, 1, false).expect("brief");
    assert!(hidden.reveal.is_none());
    let text = hidden.to_string();
    assert!(
        text.contains("Stage 1 of 2 — simulated date 2026-03-03"),
        "{text}"
    );
    assert!(text.contains("Inject 1: Endpoint logs"));
    assert!(
        text.contains("Discovered 2026-03-01: day 2 of 60; outer limit 2026-04-30; 58 day(s) left"),
        "{text}"
    );
    assert!(!text.contains("not_breach_secured") && !text.contains("ENGINE ANSWER"));
    let shown = brief(&s, 1, true).expect("brief").to_string();
    assert!(
        shown.contains("ENGINE ANSWER") && shown.contains("not_breach_secured"),
        "{shown}"
    );
    assert!(shown.contains("No notice is required."));

    let s = load("state-500-vs-501");
    let shown = brief(&s, 1, true).expect("brief");
    let r = shown.reveal.as_ref().expect("revealed");
    let media = r
        .obligations
        .iter()
        .find(|o| o.kind == Media)
        .expect("media");
    assert_eq!(media.jurisdiction.as_deref(), Some("PA"));
    assert_eq!(media.days_left, Some(45));
    assert_eq!(
        brief(&s, 0, false).expect("brief").time.as_deref(),
        Some("09:00")
    );
}

#[test]
fn exercise_state_round_trips_as_json_and_guards_stages() {
    let (id, text) = builtin()[0];
    let s = load(id);
    let mut st = ExerciseState::new(&s, text);
    let e = st
        .decide(
            &s,
            Decision {
                stage: 1,
                determination: None,
                notices: vec![],
                note: String::new(),
            },
        )
        .expect_err("stage not reached");
    assert!(e.to_string().contains("advance first"), "{e}");
    assert_eq!(st.advance(&s).expect("advance"), 1);
    st.note("IT confirmed shutdown <b>logs</b>");
    for a in perfect_answers(&s).expect("perfect").into_iter().take(2) {
        st.decide(&s, a).expect("decide");
    }
    let json = serde_json::to_string(&st).expect("json");
    let back: ExerciseState = serde_json::from_str(&json).expect("json back");
    assert_eq!(back, st);
    assert_eq!(back.scenario().expect("scenario").id, id);
    st.advance(&s).expect("advance");
    assert!(st.advance(&s).is_err(), "no stage past the last");
}

#[test]
fn after_action_report_escapes_and_lists_missed_deadlines() {
    let s = load("ba-agent-vs-contractor");
    let text = builtin()
        .into_iter()
        .find(|(k, _)| *k == s.id)
        .map(|(_, t)| t)
        .expect("text");
    let mut st = ExerciseState::new(&s, text);
    st.stage = 2;
    // The room names nothing until stage 2 and gets the agent/contractor call wrong.
    st.decisions.push(Decision {
        stage: 2,
        determination: Some(DeterminationClass::Breach),
        notices: vec![DecidedNotice {
            kind: Individual,
            jurisdiction: None,
            due: Some(d("2026-05-09")),
        }],
        note: "Counsel: <script>alert(1)</script> & \"agency\"".into(),
    });
    st.note("Vendor's letter was late");
    let html = after_action_html(&s, &st).expect("html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<div class=\"banner\">EXERCISE — NOT A REAL NOTICE</div>"));
    assert!(html.contains("@media print"));
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;agency&quot;"));
    assert!(html.contains("Print &amp; Mail"), "inject text escaped");
    assert!(
        html.contains("3 day(s) late") || html.contains("36 day(s) late"),
        "wrong due reason shown"
    );
    assert!(html.contains("2026-04-03"));
    // Issue 13: what the room never named is missed, due yet or not; what it named in time
    // is not.
    let missed = missed_deadlines(&s, &st).expect("missed");
    assert!(!missed.is_empty());
    assert!(missed.iter().all(|m| m.named.is_none()), "{missed:?}");
    assert!(!missed.iter().any(|m| m.kind == Individual), "{missed:?}");
    assert!(html.contains("<h2>Missed</h2>"), "{html}");
    // Each discussion note once (a decision's note is recorded as a note too), in order.
    assert_eq!(
        html.matches("Vendor&#39;s letter was late").count(),
        1,
        "{html}"
    );
    assert_eq!(html.matches("&lt;script&gt;alert(1)").count(), 1, "{html}");

    // A room that never names the HHS annual log in the leap-year scenario, with the
    // simulated clock past Feb 29 (a hand-made last stage), misses it.
    let late = format!(
        "{}\n[[inject]]\nat = 2028-03-02\ntitle = \"OCR calls\"\ntold = \"OCR asks about your log.\"\n",
        builtin()
            .into_iter()
            .find(|(k, _)| *k == "december-leap-year-annual-log")
            .map(|(_, t)| t)
            .expect("text")
    );
    let s = parse_scenario(&late, "late.toml").expect("parses");
    let mut st = ExerciseState::new(&s, &late);
    st.stage = 3;
    st.decisions.push(Decision {
        stage: 0,
        determination: Some(DeterminationClass::Breach),
        notices: vec![DecidedNotice {
            kind: Individual,
            jurisdiction: None,
            due: Some(d("2028-02-29")),
        }],
        note: String::new(),
    });
    let missed = missed_deadlines(&s, &st).expect("missed");
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(missed[0].kind, HhsAnnual);
    assert_eq!(missed[0].due, d("2028-02-29"));
    assert_eq!(missed[0].named, None);
    let html = after_action_html(&s, &st).expect("html");
    assert!(
        html.contains("<td>hhs_annual</td><td>2028-02-29</td><td>never</td>"),
        "{html}"
    );
}

#[test]
fn ocr_seed_round_trips_for_every_row_of_the_2026_export() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ocr/ocr_breach_report_under_investigation_2026-04.csv");
    let (records, _issues) = ocr::parse_all(&path).expect("export reads");
    assert!(records.len() > 600, "{}", records.len());
    for rec in &records {
        let text = from_ocr(rec);
        let s = parse_scenario(&text, &format!("seed line {}", rec.line))
            .unwrap_or_else(|e| panic!("line {}: {e}\n{text}", rec.line));
        validate(&s).unwrap_or_else(|e| panic!("line {}: {e}", rec.line));
        assert_eq!(
            s.title,
            format!("Seeded from HHS OCR record: {}", rec.name.trim())
        );
        let total = crate::domain::Counts::from_facts(&s.facts.individuals).total;
        assert_eq!(total, rec.individuals.unwrap_or(seed::DEFAULT_INDIVIDUALS));
        if let Some(st) = &rec.state {
            assert_eq!(s.facts.individuals.by_state.get(st), Some(&total));
        }
        assert_eq!(s.facts.breach.types, rec.types);
        assert_eq!(
            s.facts.business_associate.involved,
            rec.ba_present == Some(true)
        );
        if let Some(sub) = rec.submitted {
            assert_eq!(stage_date(&s, 1), sub);
            assert_eq!((sub - s.start.date).num_days(), 60);
        }
        score(&s, &perfect_answers(&s).expect("perfect")).expect("score");
    }
}

#[test]
fn ocr_seed_defaults_for_blank_fields() {
    let rec = ocr::OcrRecord {
        line: 7,
        name: "Clinic \"Quotes\" & Co".into(),
        state: None,
        entity_type: None,
        individuals: None,
        submitted: None,
        types: vec![],
        locations: vec![],
        ba_present: None,
        description: Some("Line one.\nLine \"two\" \\ end.".into()),
    };
    let text = from_ocr(&rec);
    let s = parse_scenario(&text, "seed").expect("parses");
    validate(&s).expect("validates");
    assert_eq!(s.id, "ocr-clinic-quotes-co-l7");
    assert!(
        s.briefing
            .starts_with("OCR's public description: Line one.\nLine \"two\" \\ end.")
    );
    assert_eq!(stage_date(&s, 1), d(seed::DEFAULT_SUBMITTED));
    assert_eq!(s.facts.individuals.estimated_total, Some(500));
}

#[test]
fn readme_example_parses_and_validates() {
    let readme = include_str!("scenarios/README.md");
    let start = readme.find("```toml\n").expect("example") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("end of example");
    let s = parse_scenario(&readme[start..end], "README.md").expect("parses");
    validate(&s).expect("validates");
    assert_eq!(s.injects[0].notices.len(), 1);
    assert_eq!(
        stage_facts(&s, 1).expect("facts").individuals.unreachable,
        10
    );
}
