//! State duties beside HIPAA: one line per edge a statute draws, on the built-in rules data
//! (so each line checks the data as well as the engine), then the engine's policies on
//! small fixture laws.

use chrono::NaiveDate;

use super::calendar::{BusinessDays, federal_holidays};
use super::state::pi_elements;
use super::*;
use crate::domain::vocab::{DataElement, Location, PiElement};
use crate::domain::{
    Counts, Facts, HarmDetermination, HarmOutcome, LawEnforcementStatement, LePolicy, NoticeMethod,
    NoticeRecord, ObligationKind, Role, StatementKind,
};
use crate::laws::{LawSet, LawSource, Origin};

use ObligationKind::{StateCra, StateIndividual, StateRegulator};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("test dates are valid")
}

/// A scenario for the State pass.
#[derive(Clone)]
struct S {
    facts: Facts,
    role: Role,
    notices: Vec<NoticeRecord>,
    today: NaiveDate,
    bd: BusinessDays,
    laws: Option<LawSet>,
}

/// A covered entity's presumed breach of names and diagnoses, discovered 2026-10-05.
fn s() -> S {
    let mut facts = Facts::default();
    facts.breach.discovered = Some(d("2026-10-05"));
    facts.breach.phi = vec![DataElement::Name, DataElement::Diagnosis];
    S {
        facts,
        role: Role::CoveredEntity,
        notices: Vec::new(),
        today: d("2026-10-06"),
        bd: BusinessDays::WeekendsOnly,
        laws: None,
    }
}

impl S {
    fn disc(mut self, x: &str) -> S {
        self.facts.breach.discovered = Some(d(x));
        self
    }
    fn today(mut self, x: &str) -> S {
        self.today = d(x);
        self
    }
    fn st(mut self, code: &str, n: u64) -> S {
        self.facts.individuals.by_state.insert(code.into(), n);
        self
    }
    fn total(mut self, n: u64) -> S {
        self.facts.individuals.estimated_total = Some(n);
        self
    }
    fn determined(mut self, x: &str) -> S {
        self.facts.state_law.determined = Some(d(x));
        self
    }
    fn phi(mut self, v: &[DataElement]) -> S {
        self.facts.breach.phi = v.to_vec();
        self
    }
    fn extra(mut self, v: &[PiElement]) -> S {
        self.facts.state_law.elements = v.to_vec();
        self
    }
    fn secured(mut self) -> S {
        self.facts.security.encrypted = true;
        self.facts.security.device_state = Some(crate::domain::vocab::DeviceState::Off);
        self
    }
    fn paper(mut self) -> S {
        self.facts.breach.locations = vec![Location::PaperFilms];
        self
    }
    fn low_probability(mut self) -> S {
        use crate::domain::vocab::RecipientKind;
        use crate::domain::{AcquisitionStatus, MitigationStatus};
        let a = &mut self.facts.assessment;
        a.nature.answered = true;
        a.nature.direct_identifiers = true;
        a.nature.clinical = true;
        a.recipient.kind = Some(RecipientKind::HipaaEntity);
        a.acquired.status = Some(AcquisitionStatus::NotAcquiredEvidence);
        a.mitigation.status = Some(MitigationStatus::AttestedDestruction);
        self
    }
    fn harm(mut self, outcome: HarmOutcome, date: &str, states: &[&str]) -> S {
        self.facts.state_law.harm = Some(HarmDetermination {
            outcome,
            date: d(date),
            states: states.iter().map(|s| s.to_string()).collect(),
            basis: String::new(),
        });
        self
    }
    fn ba(mut self) -> S {
        self.role = Role::BusinessAssociate;
        self
    }
    fn written_delay(mut self, date: &str, until: &str) -> S {
        self.facts.law_enforcement.push(LawEnforcementStatement {
            kind: StatementKind::Written,
            date: d(date),
            until: Some(d(until)),
            agency: "FBI".into(),
            official: String::new(),
        });
        self
    }
    fn sent(
        mut self,
        kind: ObligationKind,
        jur: Option<&str>,
        rcpt: Option<&str>,
        date: &str,
        count: u64,
    ) -> S {
        self.notices.push(NoticeRecord {
            kind,
            jurisdiction: jur.map(String::from),
            recipient: rcpt.map(String::from),
            date: d(date),
            method: NoticeMethod::Mail,
            count,
            evidence_sha256: None,
            batch: None,
            signoff: None,
        });
        self
    }
    fn bd(mut self, b: BusinessDays) -> S {
        self.bd = b;
        self
    }
    fn laws(mut self, l: LawSet) -> S {
        self.laws = Some(l);
        self
    }
    fn run(&self) -> Evaluation {
        let counts = Counts::from_facts(&self.facts.individuals);
        let input = EngineInput {
            facts: &self.facts,
            role: self.role,
            counts: &counts,
            notices: &self.notices,
            policy: LePolicy::LaterOf,
            override_class: None,
            last_in_effect: self.today,
        };
        let laws = self.laws.as_ref().unwrap_or_else(|| LawSet::builtin());
        evaluate_with_laws(
            &input,
            StateOptions {
                laws,
                business_days: self.bd,
            },
            self.today,
        )
    }
}

fn get<'a>(
    ev: &'a Evaluation,
    kind: ObligationKind,
    st: &str,
    rcpt: Option<&str>,
) -> &'a Obligation {
    ev.obligations
        .iter()
        .find(|o| {
            o.kind == kind
                && o.jurisdiction.as_deref() == Some(st)
                && o.recipient.as_deref() == rcpt
        })
        .unwrap_or_else(|| {
            panic!(
                "no {kind} for {st} {rcpt:?} in {:#?}",
                ev.obligations
                    .iter()
                    .filter(|o| o.kind.is_state())
                    .collect::<Vec<_>>()
            )
        })
}

fn has(ev: &Evaluation, kind: ObligationKind, st: &str, rcpt: Option<&str>) -> bool {
    ev.obligations.iter().any(|o| {
        o.kind == kind && o.jurisdiction.as_deref() == Some(st) && o.recipient.as_deref() == rcpt
    })
}

/// (required, due) of a State obligation.
#[track_caller]
fn case(
    sc: S,
    kind: ObligationKind,
    st: &str,
    rcpt: Option<&str>,
    required: bool,
    due: Option<&str>,
    cite: &str,
) {
    let ev = sc.run();
    let o = get(&ev, kind, st, rcpt);
    assert_eq!(
        o.status.is_required(),
        required,
        "{cite}: {:?} — {}",
        o.status,
        o.note
    );
    if required {
        assert_eq!(o.due, due.map(d), "{cite}: {}", o.note);
    }
    assert!(
        o.cite.contains(cite) || cite.is_empty(),
        "{} vs {cite}",
        o.cite
    );
    assert!(o.effective.is_some() && o.verified.is_some() && o.source.is_some());
}

// ------------------------------------------------------------------ the statutes' edges

#[test]
fn texas_ag_250_residents_30_days_from_determination_521_053_i() {
    // 249 is below "at least 250"; 250 meets it.
    case(
        s().st("TX", 249),
        StateRegulator,
        "TX",
        Some("ag"),
        false,
        None,
        "521.053(i)",
    );
    case(
        s().st("TX", 250),
        StateRegulator,
        "TX",
        Some("ag"),
        true,
        Some("2026-11-04"),
        "521.053(i)",
    );
    // From the recorded determination, not discovery.
    case(
        s().st("TX", 250)
            .determined("2026-10-10")
            .today("2026-10-11"),
        StateRegulator,
        "TX",
        Some("ag"),
        true,
        Some("2026-11-09"),
        "521.053(i)",
    );
    let ev = s().st("TX", 250).run();
    let o = get(&ev, StateRegulator, "TX", Some("ag"));
    assert_eq!(o.verified, Some(true), "S.B. 768 enrolled text was read");
    assert_eq!(o.effective, Some(d("2023-09-01")));
    assert!(o.note.contains("determination not recorded"), "{}", o.note);
}

#[test]
fn texas_before_and_after_sb_768_effective_2023_09_01() {
    // Discovered the day before S.B. 768 took effect: 60 days; the day it did: 30.
    let before = s().disc("2023-08-31").today("2023-09-01").st("TX", 300);
    case(
        before.clone(),
        StateRegulator,
        "TX",
        Some("ag"),
        true,
        Some("2023-10-30"),
        "521.053(i)",
    );
    let o = get(&before.run(), StateRegulator, "TX", Some("ag")).clone();
    assert_eq!(o.effective, Some(d("2020-01-01")));
    assert_eq!(o.verified, Some(false));
    case(
        s().disc("2023-09-01").today("2023-09-02").st("TX", 300),
        StateRegulator,
        "TX",
        Some("ag"),
        true,
        Some("2023-10-01"),
        "521.053(i)",
    );
}

#[test]
fn texas_individual_60_days_from_determination_is_never_before_hipaa() {
    // 521.053(b): 60 days after determination ≥ discovery + 60: HIPAA's notice meets it.
    let ev = s().st("TX", 10).run();
    let o = get(&ev, StateIndividual, "TX", None);
    assert!(!o.status.is_required());
    assert!(
        o.status_reason().contains("not earlier than HIPAA's"),
        "{:?}",
        o.status
    );
    // Texas has a CRA rule for more than 10,000.
    case(
        s().st("TX", 10_000),
        StateCra,
        "TX",
        None,
        false,
        None,
        "521.053(h)",
    );
    case(
        s().st("TX", 10_001),
        StateCra,
        "TX",
        None,
        true,
        None,
        "521.053(h)",
    );
}

#[test]
fn dc_ag_from_50_residents_with_the_notice_to_residents_28_3852_b_1() {
    case(
        s().st("DC", 49),
        StateRegulator,
        "DC",
        Some("ag"),
        false,
        None,
        "28-3852(b-1)",
    );
    // DC sets no number of days for residents, so the AG notice is due with HIPAA's.
    case(
        s().st("DC", 50),
        StateRegulator,
        "DC",
        Some("ag"),
        true,
        Some("2026-12-04"),
        "28-3852(b-1)",
    );
    // Once the notice to residents is recorded, the AG notice is due that day.
    let sc = s().st("DC", 50).today("2026-10-21").sent(
        ObligationKind::Individual,
        None,
        None,
        "2026-10-20",
        50,
    );
    case(
        sc,
        StateRegulator,
        "DC",
        Some("ag"),
        true,
        Some("2026-10-20"),
        "28-3852(b-1)",
    );
    // More than 1,000: consumer reporting agencies.
    case(
        s().st("DC", 1000),
        StateCra,
        "DC",
        None,
        false,
        None,
        "28-3852(c)",
    );
    // "Without unreasonable delay": no number of days, so no date is invented.
    case(
        s().st("DC", 1001),
        StateCra,
        "DC",
        None,
        true,
        None,
        "28-3852(c)",
    );
}

#[test]
fn dc_identity_theft_protection_for_ssn_28_3852_02() {
    let ev = s()
        .st("DC", 5)
        .phi(&[DataElement::Name, DataElement::Ssn])
        .run();
    let dc = ev
        .laws
        .as_ref()
        .expect("laws used")
        .jurisdictions
        .iter()
        .find(|j| j.jurisdiction == "DC")
        .expect("DC");
    assert_eq!(dc.monitoring.len(), 1, "{dc:?}");
    assert!(dc.monitoring[0].contains("18 months") && dc.monitoring[0].contains("verified"));
    let ev = s().st("DC", 5).run();
    let dc = &ev.laws.as_ref().expect("laws").jurisdictions[0];
    assert!(dc.monitoring.is_empty(), "no SSN, no mandate");
}

#[test]
fn california_500_vs_501_and_the_30_days_of_sb_446() {
    // "More than 500": 500 residents do not need the AG sample; 501 do.
    let sc = s().disc("2026-01-05").today("2026-01-06");
    case(
        sc.clone().st("CA", 500),
        StateRegulator,
        "CA",
        Some("ag"),
        false,
        None,
        "1798.82(f)",
    );
    // 30 days from discovery (2026-02-04), then 15 days after notifying residents.
    case(
        sc.clone().st("CA", 501),
        StateRegulator,
        "CA",
        Some("ag"),
        true,
        Some("2026-02-19"),
        "1798.82(f)",
    );
    case(
        sc.clone().st("CA", 501),
        StateIndividual,
        "CA",
        None,
        true,
        Some("2026-02-04"),
        "1798.82(a)(2)",
    );
    let o = get(&sc.clone().st("CA", 10).run(), StateIndividual, "CA", None).clone();
    assert_eq!(o.verified, Some(true));
    assert_eq!(o.effective, Some(d("2026-01-01")));
    // Discovered 2025-12-31: "most expedient time", no number of days: HIPAA's date rules.
    let ev = s()
        .disc("2025-12-31")
        .today("2026-01-02")
        .st("CA", 10)
        .run();
    assert!(!get(&ev, StateIndividual, "CA", None).status.is_required());
    // The licensed-facility rule of H&S Code 1280.15 is listed, conditional, in business days.
    let ev = sc.st("CA", 10).run();
    let o = get(&ev, StateIndividual, "CA", Some("hsc_1280_15"));
    assert!(o.status.is_required());
    assert_eq!(
        o.due,
        Some(d("2026-01-26")),
        "15 business days after Monday 2026-01-05"
    );
    assert!(o.note.starts_with("applies only to a clinic"), "{}", o.note);
    assert!(
        o.note.contains("business-day policy weekends_only"),
        "{}",
        o.note
    );
}

#[test]
fn new_york_hipaa_notice_satisfies_residents_but_regulators_are_due() {
    let ev = s().st("NY", 3).run();
    assert!(!get(&ev, StateIndividual, "NY", None).status.is_required());
    for r in ["ag", "dos", "state_police", "dfs"] {
        let o = get(&ev, StateRegulator, "NY", Some(r));
        assert!(o.status.is_required(), "{r}");
        assert_eq!(o.due, Some(d("2026-12-04")), "with the notice to residents");
    }
    // 899-aa(9): within 5 business days of notifying HHS (fewer than 500: the annual log,
    // due 2027-03-01, a Monday; five business days later is Monday 2027-03-08).
    let o = get(&ev, StateRegulator, "NY", Some("ag_hhs"));
    assert_eq!(o.due, Some(d("2027-03-08")));
    assert_eq!(o.verified, Some(true), "SHIELD Act enacted text was read");
    // A no-harm determination for more than 500 residents goes to the AG within 10 days
    // (899-aa(2)(a)); for 500 it does not.
    let nh = |n| {
        s().st("NY", n)
            .harm(HarmOutcome::NotLikely, "2026-10-09", &["NY"])
            .today("2026-10-10")
    };
    case(
        nh(501),
        StateRegulator,
        "NY",
        Some("ag_no_harm"),
        true,
        Some("2026-10-19"),
        "899-aa(2)(a)",
    );
    case(
        nh(500),
        StateRegulator,
        "NY",
        Some("ag_no_harm"),
        false,
        None,
        "899-aa(2)(a)",
    );
    // More than 5,000: CRAs.
    case(
        s().st("NY", 5000),
        StateCra,
        "NY",
        None,
        false,
        None,
        "899-aa(8)(b)",
    );
    case(
        s().st("NY", 5001),
        StateCra,
        "NY",
        None,
        true,
        None,
        "899-aa(8)(b)",
    );
    // Before the 2025-03-21 amendment, name + diagnosis was not private information.
    let ev = s().disc("2025-03-20").today("2025-03-21").st("NY", 3).run();
    let o = get(&ev, StateIndividual, "NY", None);
    assert!(
        o.status_reason().contains("not personal information"),
        "{:?}",
        o.status
    );
    let ev = s().disc("2025-03-21").today("2025-03-22").st("NY", 3).run();
    assert!(has(&ev, StateRegulator, "NY", Some("ag")));
}

#[test]
fn illinois_hipaa_entity_notifies_the_ag_5_business_days_after_hhs_530_50() {
    // Deemed compliant: the >500 AG notice of 530/10(e) is satisfied, 530/50's is not.
    let base = s().st("IL", 600).total(600);
    let ev = base.clone().run();
    assert!(
        !get(&ev, StateRegulator, "IL", Some("ag"))
            .status
            .is_required()
    );
    // 600 in total: HHS immediate, due with individual notice by 2026-12-04 (a Friday);
    // 5 business days later is Friday 2026-12-11.
    case(
        base.clone(),
        StateRegulator,
        "IL",
        Some("ag_hhs"),
        true,
        Some("2026-12-11"),
        "530/50",
    );
    // HHS notified on Thursday 2026-11-19: weekends only → Thursday 2026-11-26 (Thanksgiving);
    // federal holidays → Friday 2026-11-27. The policy is printed.
    let sent = base.clone().today("2026-11-20").sent(
        ObligationKind::HhsImmediate,
        None,
        None,
        "2026-11-19",
        1,
    );
    case(
        sent.clone(),
        StateRegulator,
        "IL",
        Some("ag_hhs"),
        true,
        Some("2026-11-26"),
        "530/50",
    );
    case(
        sent.clone().bd(BusinessDays::FederalHolidays),
        StateRegulator,
        "IL",
        Some("ag_hhs"),
        true,
        Some("2026-11-27"),
        "530/50",
    );
    let o = get(
        &sent.bd(BusinessDays::FederalHolidays).run(),
        StateRegulator,
        "IL",
        Some("ag_hhs"),
    )
    .clone();
    assert!(
        o.note.contains("business-day policy federal_holidays"),
        "{}",
        o.note
    );
}

#[test]
fn hipaa_exempt_states_owe_nothing_kentucky_new_mexico() {
    for st in ["KY", "NM", "TN", "WI", "OH"] {
        let ev = s()
            .st(st, 2000)
            .phi(&[DataElement::Name, DataElement::Ssn])
            .run();
        let o = get(&ev, StateIndividual, st, None);
        assert!(
            o.status_reason()
                .contains("does not apply to entities subject to HIPAA"),
            "{st}: {:?}",
            o.status
        );
        assert!(!has(&ev, StateRegulator, st, Some("ag")), "{st}");
    }
}

#[test]
fn the_data_elements_decide_whether_a_state_law_applies() {
    // Georgia: name + SSN is personal information; name + diagnosis is not.
    let ev = s().st("GA", 20_000).run();
    assert!(
        get(&ev, StateIndividual, "GA", None)
            .status_reason()
            .contains("not personal information")
    );
    let ev = s()
        .st("GA", 20_000)
        .phi(&[DataElement::Name, DataElement::Ssn])
        .run();
    assert!(
        get(&ev, StateCra, "GA", None).status.is_required(),
        "more than 10,000: CRAs"
    );
    // An account number counts in Texas only with its access code ([state_law] elements).
    let no_code = s()
        .st("TX", 300)
        .phi(&[DataElement::Name, DataElement::FinancialAccount]);
    let ev = no_code.clone().run();
    assert!(
        get(&ev, StateIndividual, "TX", None)
            .status_reason()
            .contains("not personal information")
    );
    assert!(!has(&ev, StateRegulator, "TX", Some("ag")));
    let code = no_code.extra(&[PiElement::AccountAccessCode]);
    assert!(
        get(&code.run(), StateRegulator, "TX", Some("ag"))
            .status
            .is_required()
    );
    // Online credentials count on their own in California.
    let creds = s()
        .disc("2026-01-05")
        .today("2026-01-06")
        .st("CA", 600)
        .phi(&[])
        .extra(&[PiElement::OnlineCredentials]);
    assert!(
        get(&creds.run(), StateRegulator, "CA", Some("ag"))
            .status
            .is_required()
    );
    // Nothing recorded about the data: a State is never ruled out.
    let ev = s().st("GA", 20_000).phi(&[]).run();
    assert!(get(&ev, StateCra, "GA", None).status.is_required());
}

#[test]
fn pi_elements_map_the_portal_list() {
    let mut f = Facts::default();
    f.breach.phi = vec![
        DataElement::Name,
        DataElement::LabResults,
        DataElement::Claims,
        DataElement::FinancialAccount,
    ];
    f.state_law.elements = vec![PiElement::AccountAccessCode];
    let e = pi_elements(&f);
    for want in [
        PiElement::Medical,
        PiElement::HealthInsurance,
        PiElement::FinancialAccount,
        PiElement::FinancialAccountWithCode,
    ] {
        assert!(e.contains(&want), "{want:?} in {e:?}");
    }
}

#[test]
fn paper_secured_and_business_associate_rule_states_out() {
    let ev = s().st("TX", 300).paper().run();
    assert!(
        get(&ev, StateIndividual, "TX", None)
            .status_reason()
            .contains("paper records only")
    );
    let ev = s().st("TX", 300).secured().run();
    assert!(
        get(&ev, StateIndividual, "TX", None)
            .status_reason()
            .contains("secured")
    );
    let ev = s().st("TX", 300).ba().run();
    assert!(
        get(&ev, StateIndividual, "TX", None)
            .status_reason()
            .contains("business associate")
    );
    assert!(!has(&ev, StateRegulator, "TX", Some("ag")));
}

#[test]
fn a_hipaa_low_probability_finding_does_not_decide_state_law() {
    // Texas has no risk-of-harm standard: its AG notice stays owed, with the reason.
    let ev = s().st("TX", 300).low_probability().run();
    assert_eq!(
        ev.effective_class,
        DeterminationClass::NotBreachLowProbability
    );
    let o = get(&ev, StateRegulator, "TX", Some("ag"));
    assert!(o.status.is_required());
    assert!(
        o.note.starts_with(
            "HIPAA's finding (not_breach_low_probability) does not decide Texas's law"
        ),
        "{}",
        o.note
    );
    // Florida has one: a recorded no-harm determination rules the residents' notice out and
    // sets off the notice of that determination to the Department within 30 days.
    let fl = s()
        .st("FL", 600)
        .low_probability()
        .harm(HarmOutcome::NotLikely, "2026-10-09", &["FL"])
        .today("2026-10-10");
    let ev = fl.run();
    assert!(
        get(&ev, StateIndividual, "FL", None)
            .status_reason()
            .contains("no-harm determination")
    );
    // Deemed compliance (FL 501.171(4)(g)) does not reach the no-harm determination notice.
    let fl2 = s()
        .st("FL", 600)
        .harm(HarmOutcome::NotLikely, "2026-10-09", &[])
        .today("2026-10-10");
    case(
        fl2,
        StateRegulator,
        "FL",
        Some("dla_no_harm"),
        true,
        Some("2026-11-08"),
        "501.171(4)(c)",
    );
}

#[test]
fn law_enforcement_delay_moves_state_deadlines_under_the_same_policy() {
    let sc = s().st("TX", 300).written_delay("2026-10-06", "2026-12-15");
    let ev = sc.run();
    let o = get(&ev, StateRegulator, "TX", Some("ag"));
    assert_eq!(o.original_due, Some(d("2026-11-04")));
    assert_eq!(o.due, Some(d("2026-12-15")));
    assert!(o.policy.as_deref().is_some_and(|p| p.contains("later_of")));
}

#[test]
fn met_late_and_recipients() {
    // A Texas AG notice recorded on time is met; two days late is late by 2.
    let on_time = s().st("TX", 300).today("2026-11-10").sent(
        StateRegulator,
        Some("TX"),
        None,
        "2026-11-01",
        1,
    );
    let ev = on_time.run();
    assert_eq!(
        get(&ev, StateRegulator, "TX", Some("ag")).status,
        ObligationStatus::Met {
            on: d("2026-11-01")
        }
    );
    let late = s().st("TX", 300).today("2026-11-10").sent(
        StateRegulator,
        Some("TX"),
        Some("ag"),
        "2026-11-06",
        1,
    );
    let ev = late.run();
    assert_eq!(
        get(&ev, StateRegulator, "TX", Some("ag")).status,
        ObligationStatus::Late {
            days: 2,
            sent: true
        }
    );
    // New York has several regulators: a record names which one it went to.
    let ny = s().st("NY", 3).today("2026-11-10").sent(
        StateRegulator,
        Some("NY"),
        Some("dos"),
        "2026-11-01",
        1,
    );
    let ev = ny.run();
    assert!(matches!(
        get(&ev, StateRegulator, "NY", Some("dos")).status,
        ObligationStatus::Met { .. }
    ));
    assert_eq!(
        get(&ev, StateRegulator, "NY", Some("ag")).status,
        ObligationStatus::Pending
    );
    // An unnamed record cannot be assigned among several regulators.
    let ny =
        s().st("NY", 3)
            .today("2026-11-10")
            .sent(StateRegulator, Some("NY"), None, "2026-11-01", 1);
    assert_eq!(
        get(&ny.run(), StateRegulator, "NY", Some("ag")).status,
        ObligationStatus::Pending
    );
    // California's 30-day notice is met by the HIPAA notice once all individuals have it.
    let ca = s()
        .disc("2026-01-05")
        .today("2026-02-10")
        .st("CA", 10)
        .sent(ObligationKind::Individual, None, None, "2026-02-01", 10);
    let ev = ca.run();
    assert_eq!(
        get(&ev, StateIndividual, "CA", None).status,
        ObligationStatus::Met {
            on: d("2026-02-01")
        }
    );
}

#[test]
fn notes_for_states_without_data_unassigned_residents_and_dates_before_the_data() {
    let ev = s().st("AS", 3).st("TX", 3).total(10).run();
    let notes: Vec<&str> = ev.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.contains("no rules data for AS")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("4 of 10 affected individuals are not assigned")),
        "{notes:?}"
    );
    let ev = s().disc("2019-06-01").today("2019-06-02").st("TX", 3).run();
    assert!(
        ev.notes
            .iter()
            .any(|n| n.text.contains("before 2020-01-01"))
    );
    assert!(
        !ev.obligations
            .iter()
            .any(|o| o.jurisdiction.as_deref() == Some("TX") && o.kind.is_state())
    );
}

#[test]
fn the_hipaa_only_evaluation_is_unchanged_and_the_laws_used_are_named() {
    let sc = s().st("TX", 300);
    let counts = Counts::from_facts(&sc.facts.individuals);
    let input = EngineInput {
        facts: &sc.facts,
        role: sc.role,
        counts: &counts,
        notices: &[],
        policy: LePolicy::LaterOf,
        override_class: None,
        last_in_effect: sc.today,
    };
    let plain = evaluate(&input, sc.today);
    assert!(plain.laws.is_none());
    assert!(!plain.obligations.iter().any(|o| o.kind.is_state()));
    let with = sc.run();
    let hipaa: Vec<&Obligation> = with
        .obligations
        .iter()
        .filter(|o| !o.kind.is_state())
        .collect();
    assert_eq!(hipaa, plain.obligations.iter().collect::<Vec<_>>());
    let used = with.laws.expect("laws used");
    assert_eq!(used.digest, LawSet::builtin().digest);
    assert_eq!(used.jurisdictions[0].jurisdiction, "TX");
    assert_eq!(used.jurisdictions[0].effective, Some(d("2023-09-01")));
    assert_eq!(used.jurisdictions[0].sha256.len(), 64);
}

const FIXTURE: &str = r#"
format = 1
jurisdiction = "VT"
name = "Vermont"

[[version]]
effective = 2020-01-01
citation = "fixture"

[version.trigger]
with_name = ["ssn", "medical"]
cite = "fixture (trigger)"
unverified = { source = "fixture" }

[[version.individual]]
days = 10
from = "discovery"
standard = "within 10 days"
cite = "fixture (individual)"
unverified = { source = "fixture" }

[[version.regulator]]
id = "ag"
name = "Attorney General"
more_than = 100
days = 3
from = "individual_notice"
before = false
unit = "business"
or = { days = 5, from = "discovery" }
standard = "3 business days after notice, or 5 days after discovery if earlier"
cite = "fixture (ag)"
verified = { source = "https://example.org/fixture", section = "1", read = 2026-11-30 }

[[version.regulator]]
id = "police"
name = "State Police"
days = 0
from = "individual_notice"
before = true
standard = "before notice to residents"
cite = "fixture (police)"
unverified = { source = "fixture" }

[version.hipaa]
treatment = "none"
cite = "fixture (hipaa)"
unverified = { source = "fixture" }
"#;

fn fixture() -> LawSet {
    LawSet::build(
        &[],
        &[LawSource {
            origin: Origin::Counsel,
            name: "vt.toml".into(),
            text: FIXTURE.into(),
        }],
    )
    .expect("fixture loads")
}

#[test]
fn counsel_rules_drive_the_engine_whichever_is_earlier_and_before() {
    let sc = s().st("VT", 101).laws(fixture());
    // Individual: 10 days from Monday 2026-10-05 → 2026-10-15, earlier than HIPAA's.
    case(
        sc.clone(),
        StateIndividual,
        "VT",
        None,
        true,
        Some("2026-10-15"),
        "fixture (individual)",
    );
    // AG: 3 business days after 2026-10-15 (Thu) → Tue 2026-10-20; or discovery + 5 =
    // 2026-10-10, which is earlier.
    case(
        sc.clone(),
        StateRegulator,
        "VT",
        Some("ag"),
        true,
        Some("2026-10-10"),
        "fixture (ag)",
    );
    // Police: before the notice to residents → the day before its deadline.
    case(
        sc.clone(),
        StateRegulator,
        "VT",
        Some("police"),
        true,
        Some("2026-10-14"),
        "fixture (police)",
    );
    // 100 is not more than 100.
    case(
        s().st("VT", 100).laws(fixture()),
        StateRegulator,
        "VT",
        Some("ag"),
        false,
        None,
        "fixture (ag)",
    );
    let ev = sc.run();
    assert_eq!(
        get(&ev, StateRegulator, "VT", Some("ag")).verified,
        Some(true)
    );
    assert_eq!(
        get(&ev, StateRegulator, "VT", Some("police")).verified,
        Some(false)
    );
    assert!(ev.laws.expect("used").counsel_digest.is_some());
}

// ------------------------------------------------------------------ business days

#[test]
fn federal_holidays_as_observed_5_usc_6103() {
    let h2026: Vec<String> = federal_holidays(2026)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        h2026,
        [
            "2026-01-01",
            "2026-01-19",
            "2026-02-16",
            "2026-05-25",
            "2026-06-19",
            "2026-07-03",
            "2026-09-07",
            "2026-10-12",
            "2026-11-11",
            "2026-11-26",
            "2026-12-25"
        ]
    );
    // Juneteenth 2021 fell on a Saturday: observed Friday 2021-06-18. Not before 2021.
    assert!(federal_holidays(2021).contains(&d("2021-06-18")));
    assert!(
        !federal_holidays(2020)
            .iter()
            .any(|d| d.to_string().starts_with("2020-06-19"))
    );
    // New Year's Day 2022 was a Saturday: observed Friday 2021-12-31 (in 2021's list).
    assert!(federal_holidays(2021).contains(&d("2021-12-31")));
    assert!(!federal_holidays(2022).contains(&d("2022-01-01")));
    // A Sunday holiday moves to Monday: Christmas 2022 → 2022-12-26.
    assert!(federal_holidays(2022).contains(&d("2022-12-26")));
}

#[test]
fn business_day_counting_skips_weekends_and_under_the_policy_holidays() {
    let w = BusinessDays::WeekendsOnly;
    let f = BusinessDays::FederalHolidays;
    // Friday + 1 business day = Monday; + 5 = the next Friday.
    assert_eq!(w.add(d("2026-10-02"), 1), d("2026-10-05"));
    assert_eq!(w.add(d("2026-10-02"), 5), d("2026-10-09"));
    // Columbus Day, Monday 2026-10-12.
    assert_eq!(w.add(d("2026-10-09"), 1), d("2026-10-12"));
    assert_eq!(f.add(d("2026-10-09"), 1), d("2026-10-13"));
    // From a Saturday: Monday is day 1. Zero days is the anchor itself.
    assert_eq!(w.add(d("2026-10-03"), 1), d("2026-10-05"));
    assert_eq!(w.add(d("2026-10-03"), 0), d("2026-10-03"));
    assert_eq!(BusinessDays::from_key("federal-holidays"), Some(f));
    assert_eq!(BusinessDays::default(), w);
}

impl Obligation {
    fn status_reason(&self) -> String {
        match &self.status {
            ObligationStatus::NotRequired { reason } => reason.clone(),
            s => format!("{s:?}"),
        }
    }
}

/// A duty ruled out by another rule of the State's is only as sure as that rule: Illinois's
/// notice to residents (530/10(a), verified) is not owed by a HIPAA entity because of
/// 530/50 (unverified), so the outcome is unverified and its source names the deciding rule.
#[test]
fn a_duty_ruled_out_by_an_unverified_rule_is_marked_unverified() {
    let ev = s().st("IL", 200).total(200).run();
    let o = get(&ev, StateIndividual, "IL", None);
    assert!(!o.status.is_required());
    assert_eq!(o.verified, Some(false));
    let src = o.source.as_deref().unwrap_or_default();
    assert!(src.starts_with("verified against statute text"), "{src}");
    assert!(src.contains("ruled out by a rule UNVERIFIED"), "{src}");
    // Ruled out by a verified rule: stays verified (Texas's own 60-day notice to residents is
    // not earlier than HIPAA's: the comparison, not another rule, decides).
    let ev = s().st("TX", 300).total(300).determined("2026-10-05").run();
    let o = get(&ev, StateIndividual, "TX", None);
    assert!(!o.status.is_required());
    assert_eq!(o.verified, Some(true));
}
