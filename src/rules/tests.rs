//! Table-driven tests of the rules engine: one line per legal edge case, each naming the
//! section it checks, then property tests.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::domain::vocab::{DataElement, DestructionMethod, DeviceState, RecipientKind};
use crate::domain::{
    AcquisitionStatus, AuthorizedException, BaRelationship, Counts, DiscoveryEvent, DiscoveryKind,
    DiscoveryWho, ExtraFactor, Facts, LawEnforcementStatement, LePolicy, MitigationStatus,
    NoticeMethod, NoticeRecord, ObligationKind, Rating, RetainException, Role, StatementKind,
    WorkforceException,
};

use DeterminationClass::{Breach, NotBreachException, NotBreachLowProbability, NotBreachSecured};
use ObligationKind::{
    BaToCe, HhsAnnual, HhsImmediate, Individual, Media, NextOfKin, SubstituteInformal,
    SubstituteWebOrMedia, TollFreeLine, UrgentPhoneOptional,
};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("test dates are valid")
}

/// A scenario: facts plus everything else `evaluate` takes.
#[derive(Clone)]
struct S {
    facts: Facts,
    role: Role,
    notices: Vec<NoticeRecord>,
    policy: LePolicy,
    over: Option<DeterminationClass>,
    today: NaiveDate,
    last: NaiveDate,
}

/// A covered entity, no facts at all (which is a presumed breach), today 2025-03-02.
fn s() -> S {
    S {
        facts: Facts::default(),
        role: Role::CoveredEntity,
        notices: Vec::new(),
        policy: LePolicy::LaterOf,
        over: None,
        today: d("2025-03-02"),
        last: d("2025-03-02"),
    }
}

impl S {
    fn disc(mut self, x: &str) -> S {
        self.facts.breach.discovered = Some(d(x));
        self
    }
    fn total(mut self, n: u64) -> S {
        self.facts.individuals.estimated_total = Some(n);
        self
    }
    fn states(mut self, v: &[(&str, u64)]) -> S {
        for (k, n) in v {
            self.facts.individuals.by_state.insert((*k).into(), *n);
        }
        self
    }
    fn jur(mut self, k: &str, n: u64) -> S {
        self.facts.individuals.by_jurisdiction.insert(k.into(), n);
        self
    }
    fn unreachable(mut self, n: u64) -> S {
        self.facts.individuals.unreachable = n;
        self
    }
    fn nok(mut self, n: u64) -> S {
        self.facts.individuals.deceased_with_nok = n;
        self
    }
    fn no_nok(mut self, n: u64) -> S {
        self.facts.individuals.deceased_without_nok = n;
        self
    }
    fn urgent(mut self) -> S {
        self.facts.individuals.urgent = true;
        self
    }
    fn today(mut self, x: &str) -> S {
        self.today = d(x);
        self
    }
    fn last(mut self, x: &str) -> S {
        self.last = d(x);
        self
    }
    fn ba(mut self, rel: Option<BaRelationship>, disc: Option<&str>, notified: Option<&str>) -> S {
        let b = &mut self.facts.business_associate;
        b.involved = true;
        b.relationship = rel;
        b.discovered = disc.map(d);
        b.notified_ce = notified.map(d);
        self
    }
    fn ba_role(mut self) -> S {
        self.role = Role::BusinessAssociate;
        self
    }
    fn enc(mut self, state: Option<DeviceState>) -> S {
        self.facts.security.encrypted = true;
        self.facts.security.device_state = state;
        self
    }
    fn key_lost(mut self) -> S {
        self.facts.security.key_compromised = true;
        self
    }
    fn destroyed(mut self, m: DestructionMethod) -> S {
        self.facts.security.destruction = Some(m);
        self
    }
    /// Exception (i): under authority, good faith, within scope, further disclosure.
    fn exc_i(mut self, auth: bool, good_faith: bool, scope: bool, further: bool) -> S {
        self.facts.exceptions.workforce_good_faith = Some(WorkforceException {
            under_authority: auth,
            good_faith,
            within_scope: scope,
            further_disclosure: further,
            rationale: String::new(),
        });
        self
    }
    /// Exception (ii): discloser authorized, recipient same entity, inadvertent, further.
    fn exc_ii(mut self, disc_auth: bool, same: bool, inadvertent: bool, further: bool) -> S {
        self.facts.exceptions.authorized_to_authorized = Some(AuthorizedException {
            discloser_authorized: disc_auth,
            recipient_authorized_same_entity: same,
            inadvertent,
            further_disclosure: further,
            rationale: String::new(),
        });
        self
    }
    fn exc_iii(mut self, belief: bool) -> S {
        self.facts.exceptions.could_not_retain = Some(RetainException {
            good_faith_belief: belief,
            basis: "envelope returned unopened".into(),
        });
        self
    }
    fn skip(mut self) -> S {
        self.facts.assessment.skip = true;
        self
    }
    /// Factor (i) answered: 'L' low, 'M' moderate (direct identifiers), 'H' high (financial).
    fn nat(mut self, r: char) -> S {
        let n = &mut self.facts.assessment.nature;
        n.answered = true;
        n.direct_identifiers = r != 'L';
        n.financial = r == 'H';
        self
    }
    fn rec(mut self, k: RecipientKind) -> S {
        self.facts.assessment.recipient.kind = Some(k);
        self
    }
    fn acq(mut self, a: AcquisitionStatus) -> S {
        self.facts.assessment.acquired.status = Some(a);
        self
    }
    fn mit(mut self, m: MitigationStatus) -> S {
        self.facts.assessment.mitigation.status = Some(m);
        self
    }
    fn extra(mut self, name: &str, rating: Rating) -> S {
        self.facts.assessment.extra.push(ExtraFactor {
            name: name.into(),
            rating,
            rationale: String::new(),
        });
        self
    }
    fn phi(mut self, e: &[DataElement]) -> S {
        self.facts.breach.phi = e.to_vec();
        self
    }
    fn oral(mut self, date: &str) -> S {
        self.facts.law_enforcement.push(LawEnforcementStatement {
            kind: StatementKind::Oral,
            date: d(date),
            until: None,
            agency: "FBI".into(),
            official: "SA Smith".into(),
        });
        self
    }
    fn written(mut self, date: &str, until: Option<&str>) -> S {
        self.facts.law_enforcement.push(LawEnforcementStatement {
            kind: StatementKind::Written,
            date: d(date),
            until: until.map(d),
            agency: "FBI".into(),
            official: String::new(),
        });
        self
    }
    fn hacking(mut self) -> S {
        self.facts
            .breach
            .types
            .push(crate::domain::vocab::BreachType::HackingItIncident);
        self
    }
    fn event(mut self, date: &str, who: DiscoveryWho, kind: DiscoveryKind) -> S {
        self.facts.discovery_events.push(DiscoveryEvent {
            date: d(date),
            who,
            kind,
            description: String::new(),
        });
        self
    }
    fn policy(mut self, p: LePolicy) -> S {
        self.policy = p;
        self
    }
    fn sent(mut self, kind: ObligationKind, jur: Option<&str>, date: &str, count: u64) -> S {
        self.notices.push(NoticeRecord {
            kind,
            jurisdiction: jur.map(String::from),
            recipient: None,
            date: d(date),
            method: NoticeMethod::Mail,
            count,
            evidence_sha256: None,
            batch: None,
            signoff: None,
        });
        self
    }
    fn over(mut self, c: DeterminationClass) -> S {
        self.over = Some(c);
        self
    }

    fn run(&self) -> Evaluation {
        let counts = Counts::from_facts(&self.facts.individuals);
        let input = EngineInput {
            facts: &self.facts,
            role: self.role,
            counts: &counts,
            notices: &self.notices,
            policy: self.policy,
            override_class: self.over,
            last_in_effect: self.last,
        };
        evaluate(&input, self.today)
    }
}

/// The expectations a table line can state.
#[derive(Debug, Clone)]
enum E {
    /// Engine class.
    Class(DeterminationClass),
    /// Effective class (after override).
    Eff(DeterminationClass),
    Overridden(bool),
    Via(Option<Route>),
    /// Some reason or defeated-route text contains this.
    Why(&'static str),
    /// Rating of a factor, by its key.
    Factor(&'static str, Rating),
    FactorCite(&'static str, &'static str),
    Clock(Option<&'static str>),
    ClockWhy(&'static str),
    /// Due date of the (first) obligation of this kind.
    Due(ObligationKind, &'static str),
    NoDue(ObligationKind),
    DueJ(ObligationKind, &'static str, &'static str),
    OrigDue(ObligationKind, &'static str),
    Window(ObligationKind, &'static str),
    Absent(ObligationKind),
    Required(ObligationKind),
    NotReq(ObligationKind),
    AllNotRequired,
    /// Exactly these jurisdictions have a required media obligation.
    MediaIn(&'static [&'static str]),
    Count(ObligationKind, u64),
    Status(ObligationKind, &'static str),
    StatusJ(ObligationKind, &'static str, &'static str),
    MetOn(ObligationKind, &'static str),
    Late(ObligationKind, i64, bool),
    Remaining(ObligationKind, i64),
    Elapsed(ObligationKind, i64),
    /// The obligation's note, not-required reason or policy text contains this.
    Note(ObligationKind, &'static str),
    /// The delay ends on this date (None: no delay in effect).
    DelayEnd(Option<&'static str>),
    /// An evaluation note contains this.
    EvNote(&'static str),
    /// No evaluation note contains this.
    NoEvNote(&'static str),
    /// The reason given for discovery event `i` (0-based) contains this.
    EventWhy(usize, &'static str),
    /// The plain-language explanation contains this.
    Says(&'static str),
    /// The plain-language explanation does not contain this.
    NotSays(&'static str),
    Retention(&'static str),
}

fn find(ev: &Evaluation, k: ObligationKind, section: &str) -> Obligation {
    ev.obligations
        .iter()
        .find(|o| o.kind == k)
        .cloned()
        .unwrap_or_else(|| panic!("[{section}] no {k} obligation in {:#?}", ev.obligations))
}

fn find_j(ev: &Evaluation, k: ObligationKind, j: &str, section: &str) -> Obligation {
    ev.obligations
        .iter()
        .find(|o| o.kind == k && o.jurisdiction.as_deref() == Some(j))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "[{section}] no {k} ({j}) obligation in {:#?}",
                ev.obligations
            )
        })
}

#[track_caller]
fn case(section: &str, s: S, expect: &[E]) {
    let ev = s.run();
    let ctx = || format!("[{section}]\n{}", explain(&ev));
    for e in expect {
        match e {
            E::Class(c) => assert_eq!(ev.engine.class, *c, "{}", ctx()),
            E::Eff(c) => assert_eq!(ev.effective_class, *c, "{}", ctx()),
            E::Overridden(b) => assert_eq!(ev.overridden, *b, "{}", ctx()),
            E::Via(r) => assert_eq!(ev.engine.route, *r, "{}", ctx()),
            E::Why(t) => assert!(
                ev.engine
                    .reasons
                    .iter()
                    .chain(&ev.engine.defeated)
                    .any(|r| r.text.contains(t)),
                "reason containing {t:?} missing: {}",
                ctx()
            ),
            E::Factor(k, r) => {
                let f = ev.engine.factors.iter().find(|f| f.factor == *k);
                assert_eq!(f.map(|f| f.rating), Some(*r), "factor {k}: {}", ctx());
            }
            E::FactorCite(k, c) => {
                let f = ev.engine.factors.iter().find(|f| f.factor == *k);
                assert!(
                    f.is_some_and(|f| f.cite.contains(c)),
                    "factor {k} cite {c}: {}",
                    ctx()
                );
            }
            E::Clock(x) => assert_eq!(ev.clock.date, x.map(d), "clock: {}", ctx()),
            E::ClockWhy(t) => assert!(ev.clock.basis.contains(t), "clock basis {t:?}: {}", ctx()),
            E::Due(k, x) => {
                assert_eq!(find(&ev, *k, section).due, Some(d(x)), "due {k}: {}", ctx())
            }
            E::NoDue(k) => assert_eq!(find(&ev, *k, section).due, None, "due {k}: {}", ctx()),
            E::DueJ(k, j, x) => {
                assert_eq!(
                    find_j(&ev, *k, j, section).due,
                    Some(d(x)),
                    "due {k} {j}: {}",
                    ctx()
                )
            }
            E::OrigDue(k, x) => assert_eq!(
                find(&ev, *k, section).original_due,
                Some(d(x)),
                "original due {k}: {}",
                ctx()
            ),
            E::Window(k, x) => assert_eq!(
                find(&ev, *k, section).window_end,
                Some(d(x)),
                "window {k}: {}",
                ctx()
            ),
            E::Absent(k) => assert!(
                ev.obligations.iter().all(|o| o.kind != *k),
                "{k} should be absent: {}",
                ctx()
            ),
            E::Required(k) => assert!(
                find(&ev, *k, section).status.is_required(),
                "{k} should be required: {}",
                ctx()
            ),
            E::NotReq(k) => assert!(
                ev.obligations
                    .iter()
                    .filter(|o| o.kind == *k)
                    .all(|o| !o.status.is_required())
                    && ev.obligations.iter().any(|o| o.kind == *k),
                "{k} should be listed as not required: {}",
                ctx()
            ),
            E::AllNotRequired => assert!(
                !ev.obligations.is_empty()
                    && ev.obligations.iter().all(|o| !o.status.is_required()),
                "all not required: {}",
                ctx()
            ),
            E::MediaIn(v) => {
                let got: BTreeSet<String> = obligations::media_jurisdictions(&ev.obligations)
                    .into_keys()
                    .collect();
                let want: BTreeSet<String> = v.iter().map(|s| s.to_string()).collect();
                assert_eq!(got, want, "media: {}", ctx());
            }
            E::Count(k, n) => assert_eq!(
                find(&ev, *k, section).required_count,
                Some(*n),
                "count {k}: {}",
                ctx()
            ),
            E::Status(k, st) => {
                assert_eq!(
                    find(&ev, *k, section).status.key(),
                    *st,
                    "status {k}: {}",
                    ctx()
                )
            }
            E::StatusJ(k, j, st) => assert_eq!(
                find_j(&ev, *k, j, section).status.key(),
                *st,
                "status {k} {j}: {}",
                ctx()
            ),
            E::MetOn(k, x) => assert_eq!(
                find(&ev, *k, section).status,
                ObligationStatus::Met { on: d(x) },
                "met {k}: {}",
                ctx()
            ),
            E::Late(k, days, sent) => assert_eq!(
                find(&ev, *k, section).status,
                ObligationStatus::Late {
                    days: *days,
                    sent: *sent
                },
                "late {k}: {}",
                ctx()
            ),
            E::Remaining(k, n) => assert_eq!(
                find(&ev, *k, section).days_remaining,
                Some(*n),
                "remaining {k}: {}",
                ctx()
            ),
            E::Elapsed(k, n) => assert_eq!(
                find(&ev, *k, section).days_elapsed,
                Some(*n),
                "elapsed {k}: {}",
                ctx()
            ),
            E::Note(k, t) => {
                let o = find(&ev, *k, section);
                let reason = match &o.status {
                    ObligationStatus::NotRequired { reason } => reason.clone(),
                    _ => String::new(),
                };
                let text = format!("{} | {} | {}", o.note, reason, o.policy.unwrap_or_default());
                assert!(text.contains(t), "{k} note {t:?} in {text:?}: {}", ctx());
            }
            E::DelayEnd(x) => {
                assert_eq!(
                    ev.delay.as_ref().map(|dl| dl.end),
                    x.map(d),
                    "delay: {}",
                    ctx()
                )
            }
            E::EvNote(t) => assert!(
                ev.notes.iter().any(|n| n.text.contains(t)),
                "evaluation note {t:?}: {}",
                ctx()
            ),
            E::Retention(x) => assert_eq!(ev.retention_until, d(x), "retention: {}", ctx()),
            E::NoEvNote(t) => assert!(
                !ev.notes.iter().any(|n| n.text.contains(t)),
                "unexpected evaluation note {t:?}: {}",
                ctx()
            ),
            E::EventWhy(i, t) => assert!(
                ev.clock.events.get(*i).is_some_and(|r| r.text.contains(t)),
                "discovery event {i} reason {t:?}: {}",
                ctx()
            ),
            E::Says(t) => assert!(explain(&ev).contains(t), "{t:?} not said: {}", ctx()),
            E::NotSays(t) => assert!(!explain(&ev).contains(t), "{t:?} said: {}", ctx()),
        }
    }
}

use AcquisitionStatus as A;
use DeviceState as Dev;
use E::*;
use MitigationStatus as M;
use RecipientKind as R;

/// Discovery 2025-03-01: day 60 is 2025-04-30; the annual HHS log is due 2026-03-01.
const D0: &str = "2025-03-01";

#[rustfmt::skip]
#[test]
fn thresholds_and_dates() {
    case("164.408(b) 500 in total is HHS immediate, due day 60", s().disc(D0).total(500), &[Due(HhsImmediate, "2025-04-30"), Absent(HhsAnnual)]);
    case("164.408(c) 499 in total is the annual log", s().disc(D0).total(499), &[Due(HhsAnnual, "2026-03-01"), Absent(HhsImmediate)]);
    case("164.408(b) 501 in total is HHS immediate", s().disc(D0).total(501), &[Required(HhsImmediate), Absent(HhsAnnual)]);
    case("164.406 exactly 500 residents of one State: no media", s().disc(D0).states(&[("CA", 500)]), &[NotReq(Media), MediaIn(&[]), Note(Media, "largest: California with 500"), Required(HhsImmediate)]);
    case("164.406 501 residents of one State: media", s().disc(D0).states(&[("CA", 501)]), &[DueJ(Media, "CA", "2025-04-30"), MediaIn(&["CA"])]);
    case("164.406 499 residents of one State: no media, annual log", s().disc(D0).states(&[("TX", 499)]), &[NotReq(Media), Due(HhsAnnual, "2026-03-01")]);
    case("164.406/164.408(b) 600 split 200/200/200: HHS immediate, no media", s().disc(D0).states(&[("CA", 200), ("NY", 200), ("TX", 200)]), &[Required(HhsImmediate), MediaIn(&[]), NotReq(Media), Note(Media, "not in total")]);
    case("164.406 one media notice per State over 500", s().disc(D0).states(&[("CA", 501), ("NY", 900), ("TX", 100)]), &[MediaIn(&["CA", "NY"]), DueJ(Media, "NY", "2025-04-30")]);
    case("164.406 a smaller jurisdiction over 500 gets its own media notice", s().disc(D0).states(&[("CA", 501)]).jur("CA:Los Angeles", 501), &[MediaIn(&["CA", "CA:Los Angeles"])]);
    case("164.406 residents not assigned to a State: media cannot be ruled out", s().disc(D0).total(800), &[Status(Media, "pending"), MediaIn(&[]), Note(Media, "cannot be ruled out")]);
    case("160.103 Puerto Rico is a State for 164.406", s().disc(D0).states(&[("PR", 501)]), &[MediaIn(&["PR"]), Note(Media, "Puerto Rico")]);
    case("164.404(d)(2)(i) 9 unreachable: informal substitute", s().disc(D0).total(100).unreachable(9), &[Due(SubstituteInformal, "2025-04-30"), Count(SubstituteInformal, 9), Count(Individual, 91), Absent(SubstituteWebOrMedia), Absent(TollFreeLine)]);
    case("164.404(d)(2)(ii) 10 unreachable: web/media and toll-free, 90 days", s().disc(D0).total(100).unreachable(10), &[Due(SubstituteWebOrMedia, "2025-04-30"), Window(SubstituteWebOrMedia, "2025-07-29"), Window(TollFreeLine, "2025-07-29"), Absent(SubstituteInformal), Note(TollFreeLine, "not yet started")]);
    case("164.404(d)(2)(ii) the 90-day window runs from the first posting", s().disc(D0).total(100).unreachable(12).sent(SubstituteWebOrMedia, None, "2025-04-01", 1), &[Window(SubstituteWebOrMedia, "2025-06-30"), MetOn(SubstituteWebOrMedia, "2025-04-01"), Window(TollFreeLine, "2025-07-29")]);
    case("164.404(d)(2) missing next-of-kin contact never triggers substitute notice", s().disc(D0).total(10).no_nok(10), &[NotReq(SubstituteInformal), Absent(SubstituteWebOrMedia), Count(Individual, 0), Absent(NextOfKin)]);
    case("164.404(d)(1)(ii) next of kin of deceased individuals, same deadline", s().disc(D0).total(50).nok(3), &[Due(NextOfKin, "2025-04-30"), Count(NextOfKin, 3), Count(Individual, 47)]);
    case("164.404(d)(3) urgent phone notice is optional and in addition", s().disc(D0).total(5).urgent().today("2026-01-01"), &[Status(UrgentPhoneOptional, "pending"), NoDue(UrgentPhoneOptional), Required(Individual), Note(UrgentPhoneOptional, "never instead")]);
    case("164.408(c) 2023 discovery: annual log due 2024-02-29 (leap)", s().disc("2023-06-15").total(10), &[Due(HhsAnnual, "2024-02-29")]);
    case("164.408(c) 2025 discovery: annual log due 2026-03-01", s().disc("2025-06-15").total(10), &[Due(HhsAnnual, "2026-03-01")]);
    case("164.408(c) 2027 discovery: annual log due 2028-02-29 (leap)", s().disc("2027-01-01").total(10), &[Due(HhsAnnual, "2028-02-29")]);
    case("164.408(c) 2099 discovery: 2100 is not leap, due 2100-03-01", s().disc("2099-07-04").total(10), &[Due(HhsAnnual, "2100-03-01")]);
    case("164.404(b)/164.408(c) discovery Dec 31 2023: individual and annual coincide", s().disc("2023-12-31").total(10), &[Due(Individual, "2024-02-29"), Due(HhsAnnual, "2024-02-29")]);
    case("164.404(b)/164.408(c) discovery Dec 31 2024: both due 2025-03-01", s().disc("2024-12-31").total(10), &[Due(Individual, "2025-03-01"), Due(HhsAnnual, "2025-03-01")]);
    case("164.404(b) 60 calendar days across a non-leap February", s().disc("2025-01-10").total(10), &[Due(Individual, "2025-03-11")]);
    case("164.404(b) no weekend roll-forward (day 60 is a Sunday)", s().disc("2025-03-05").total(10), &[Due(Individual, "2025-05-04")]);
    case("164.404(a)(2) no discovery date: undated, pending", s().total(10), &[Clock(None), NoDue(Individual), Status(Individual, "pending"), Note(Individual, "discovery date not recorded"), NoDue(HhsAnnual)]);
}

#[rustfmt::skip]
#[test]
fn clock_and_roles() {
    case("164.404(a)(2) BA as agent: BA discovery imputed to the CE", s().disc("2025-03-10").total(10).ba(Some(BaRelationship::Agent), Some(D0), Some("2025-03-20")), &[Clock(Some(D0)), Due(Individual, "2025-04-30"), ClockWhy("imputed")]);
    case("164.404(a)(2)/164.410(b) independent contractor: clock starts at the BA's notice", s().total(10).ba(Some(BaRelationship::IndependentContractor), Some(D0), Some("2025-03-20")), &[Clock(Some("2025-03-20")), Due(Individual, "2025-05-19")]);
    case("164.404(a)(2) independent contractor: our own earlier discovery governs", s().disc("2025-03-10").total(10).ba(Some(BaRelationship::IndependentContractor), Some(D0), Some("2025-03-20")), &[Clock(Some("2025-03-10"))]);
    case("164.404(a)(2) relationship unknown: treated as agent", s().total(10).ba(None, Some(D0), Some("2025-03-20")), &[Clock(Some(D0)), ClockWhy("treated conservatively as agency")]);
    case("164.410(b) business associate: notice to the CE within 60 days", s().ba_role().disc(D0).total(10), &[Due(BaToCe, "2025-04-30"), NotReq(Individual), NotReq(Media), NotReq(HhsAnnual), Note(Individual, "a business associate notifies the covered entity (164.410)")]);
    case("164.410(b)/164.412 business associate notice is delayed too", s().ba_role().disc(D0).total(10).written("2025-04-20", Some("2025-05-20")), &[Due(BaToCe, "2025-05-20"), OrigDue(BaToCe, "2025-04-30")]);
}

#[rustfmt::skip]
#[test]
fn law_enforcement_delay() {
    case("164.412(b) oral statement: at most 30 days", s().disc(D0).total(10).oral("2025-04-20"), &[Due(Individual, "2025-05-20"), OrigDue(Individual, "2025-04-30"), DelayEnd(Some("2025-05-20")), Note(Individual, "later_of")]);
    case("164.412(a)/(b) written statement within 30 days of the oral one governs", s().disc(D0).total(10).oral("2025-04-20").written("2025-05-01", Some("2025-06-30")), &[Due(Individual, "2025-06-30"), DelayEnd(Some("2025-06-30"))]);
    case("164.412(b) written statement within 30 days governs even when shorter", s().disc(D0).total(10).oral("2025-04-20").written("2025-04-25", Some("2025-05-05")), &[Due(Individual, "2025-05-05")]);
    case("164.412(a) written statement without a period is not a valid delay", s().disc(D0).total(10).written("2025-04-20", None), &[Due(Individual, "2025-04-30"), DelayEnd(None), EvNote("specifies no time period")]);
    case("164.412 policy later_of: deadline held until the delay ends", s().disc(D0).total(10).written("2025-04-20", Some("2025-05-20")), &[Due(Individual, "2025-05-20")]);
    case("164.412 policy extend_by_delay: deadline + 30 days of delay", s().disc(D0).total(10).written("2025-04-20", Some("2025-05-20")).policy(LePolicy::ExtendByDelay), &[Due(Individual, "2025-05-30"), OrigDue(Individual, "2025-04-30"), Note(Individual, "extend_by_delay")]);
    // Changed (issue 11): the annual log used to move to 2026-04-21, by a delay that ended
    // half a year before its own clock (Dec 31) started.
    case("164.412 a deadline already past when police spoke is not revived", s().disc(D0).total(10).written("2025-05-10", Some("2025-06-30")).policy(LePolicy::ExtendByDelay), &[Due(Individual, "2025-04-30"), Note(Individual, "came after this notice was due"), Due(HhsAnnual, "2026-03-01")]);
    case("164.412 applies to media and HHS notices", s().disc(D0).states(&[("CA", 600)]).written("2025-04-20", Some("2025-05-20")), &[DueJ(Media, "CA", "2025-05-20"), Due(HhsImmediate, "2025-05-20"), OrigDue(HhsImmediate, "2025-04-30")]);
}

/// Issue 11: statements taken in turn against the deadline as it stands; only the days a
/// statement was in effect count, and only while the obligation's clock was running.
#[rustfmt::skip]
#[test]
fn law_enforcement_statements_in_turn() {
    // Discovery 2025-03-03: day 60 is 2025-05-02.
    let lapsed = s().disc("2025-03-03").total(10).written("2025-04-25", Some("2025-05-15")).written("2025-06-01", Some("2025-09-01"));
    case("164.412(a) a lapsed written delay is not revived by a later statement", lapsed.clone().today("2025-05-16"), &[Due(Individual, "2025-05-15"), OrigDue(Individual, "2025-05-02"), Late(Individual, 1, false), Note(Individual, "statement of 2025-06-01 came after this notice was due (2025-05-15)")]);
    case("164.412(a) sent on 05-16 after a lapsed delay: one day late", lapsed.clone().sent(Individual, None, "2025-05-16", 10).today("2025-10-01"), &[Late(Individual, 1, true)]);
    case("164.412 periods are printed one by one, never merged", lapsed, &[Says("2025-04-25 to 2025-05-15 and 2025-06-01 to 2025-09-01")]);
    case("164.412 extend_by_delay: the 41-day gap between two delays is not delay", s().disc(D0).total(10).written("2025-03-05", Some("2025-03-10")).written("2025-04-20", Some("2025-05-20")).policy(LePolicy::ExtendByDelay), &[Due(Individual, "2025-06-04"), OrigDue(Individual, "2025-04-30")]);
    case("164.412 extend_by_delay: overlapping statements count each day once", s().disc(D0).total(10).written("2025-04-20", Some("2025-05-20")).written("2025-05-10", Some("2025-06-10")).policy(LePolicy::ExtendByDelay), &[Due(Individual, "2025-06-20")]);
    case("164.412 extend_by_delay: a delay made before discovery counts from day 0 only", s().disc(D0).total(10).written("2025-02-20", Some("2025-03-11")).policy(LePolicy::ExtendByDelay), &[Due(Individual, "2025-05-10")]);
    case("164.412 extend_by_delay: oral then a shorter written statement within 30 days", s().disc(D0).total(10).oral("2025-04-20").written("2025-04-25", Some("2025-05-05")).policy(LePolicy::ExtendByDelay), &[Due(Individual, "2025-05-15")]);
    case("164.408(c)/164.412 extend_by_delay: only days after Dec 31 move the annual log", s().disc(D0).total(10).written("2025-06-01", Some("2026-01-10")).policy(LePolicy::ExtendByDelay), &[Due(HhsAnnual, "2026-03-11"), OrigDue(HhsAnnual, "2026-03-01"), Due(Individual, "2025-04-30")]);
    case("164.408(c)/164.412 later_of: a delay past the annual log's date holds it", s().disc(D0).total(10).written("2025-06-01", Some("2026-04-01")), &[Due(HhsAnnual, "2026-04-01")]);
    case("164.408(c)/164.412 later_of: a delay that ended before the annual log does not move it", s().disc(D0).total(10).written("2025-04-20", Some("2025-05-20")), &[Due(HhsAnnual, "2026-03-01"), Due(Individual, "2025-05-20")]);
}

/// Issue 11: discovery derived from events, 164.404(a)(2).
#[rustfmt::skip]
#[test]
fn discovery_events() {
    use DiscoveryKind::{Learned, ShouldHaveKnown};
    use DiscoveryWho::{Agent, BusinessAssociate, WorkforceMember, Wrongdoer};
    case("164.404(a)(2) an ignored alert starts the clock; the later typed date is warned about", s().disc("2025-03-20").total(10).event("2025-03-01", WorkforceMember, ShouldHaveKnown).event("2025-03-20", WorkforceMember, Learned), &[Clock(Some(D0)), Due(Individual, "2025-04-30"), EvNote("breach.discovered (2025-03-20) is later than discovery event 1 (2025-03-01)"), EventWhy(0, "is the earliest"), EventWhy(1, "but discovery event 1 is earlier"), ClockWhy("discovery event 1"), Says("would have known of it by exercising reasonable diligence")]);
    case("164.404(a)(2) events alone set the date, no typed date needed", s().total(10).event("2025-03-05", Agent, Learned).event(D0, WorkforceMember, Learned), &[Clock(Some(D0)), EventWhy(0, "but discovery event 2 is earlier"), NoEvNote("later than")]);
    case("164.404(a)(2) the wrongdoer's own knowledge never counts", s().total(10).event("2025-01-01", Wrongdoer, Learned).event(D0, WorkforceMember, Learned), &[Clock(Some(D0)), EventWhy(0, "person who committed the breach is excluded")]);
    case("164.404(a)(2) only the wrongdoer knew: no date, said so", s().total(10).event(D0, Wrongdoer, Learned), &[Clock(None), NoDue(Individual), EvNote("no recorded discovery event counts")]);
    case("164.404(a)(2) a typed date earlier than every event governs", s().disc("2025-02-20").total(10).event(D0, WorkforceMember, Learned), &[Clock(Some("2025-02-20")), EventWhy(0, "the typed breach.discovered is earlier"), NoEvNote("later than")]);
    case("164.404(a)(2) an agent business associate's knowledge is imputed", s().disc("2025-03-10").total(10).ba(Some(BaRelationship::Agent), None, None).event(D0, BusinessAssociate, Learned), &[Clock(Some(D0)), EventWhy(0, "acts as our agent")]);
    case("164.404(a)(2) an independent contractor's knowledge is not imputed", s().disc("2025-03-10").total(10).ba(Some(BaRelationship::IndependentContractor), None, Some("2025-03-20")).event(D0, BusinessAssociate, Learned), &[Clock(Some("2025-03-10")), EventWhy(0, "independent contractor")]);
    case("164.404(a)(2) relationship unrecorded: treated conservatively as agency", s().total(10).ba(None, None, None).event(D0, BusinessAssociate, Learned), &[Clock(Some(D0)), EventWhy(0, "treated conservatively as agency")]);
    case("164.410(a)(2) a business associate's own events are its discovery", s().ba_role().total(10).event(D0, BusinessAssociate, Learned).event("2025-02-01", Wrongdoer, Learned), &[Clock(Some(D0)), Due(BaToCe, "2025-04-30"), EventWhy(1, "excluded")]);
}

/// Issue 11: counts and wording.
#[rustfmt::skip]
#[test]
fn counts_and_wording() {
    // Regression: per-State counts near the integer limit wrapped (or panicked in a debug
    // build) when summed; the engine saturates and intake refuses them.
    case("164.406 huge per-State counts do not wrap", s().disc(D0).states(&[("CA", u64::MAX), ("NY", 5)]), &[MediaIn(&["CA"]), Required(HhsImmediate), Says("18446744073709551615 individuals")]);
    case("164.404(b) a late notice says how late once, no negative days remaining", s().disc(D0).total(100).today("2025-05-10"), &[Says("LATE: not sent, 10 day(s) past due"), NotSays("-10 day(s) remaining")]);
    case("164.402(2) the not-required reason does not repeat itself", s().disc(D0).total(10).nat('H').rec(R::Malicious).acq(A::NotAcquiredEvidence).mit(M::None), &[Class(NotBreachLowProbability), Note(Individual, "Not a breach: low probability that the PHI has been compromised, by route R1"), NotSays("compromised: low probability")]);
    case("164.404(a)(2) no discovery date reads as not recorded, not \"on not recorded\"", s().total(10), &[ClockWhy("discovery is not recorded"), NotSays("on not recorded")]);
}

#[rustfmt::skip]
#[test]
fn determinations() {
    case("74 FR 19006 encrypted laptop, powered off: secured", s().disc(D0).total(600).enc(Some(Dev::Off)), &[Class(NotBreachSecured), AllNotRequired, Note(Individual, "encrypted per HHS guidance")]);
    case("74 FR 19006 encrypted laptop, locked: secured", s().enc(Some(Dev::Locked)), &[Class(NotBreachSecured)]);
    case("HHS ransomware fact sheet: encrypted but logged in is not secured", s().enc(Some(Dev::LoggedIn)), &[Class(Breach), Why("running and logged in")]);
    case("74 FR 19006 device state unknown: encryption not demonstrated", s().enc(Some(Dev::Unknown)), &[Class(Breach), Why("not demonstrated")]);
    case("74 FR 19006 key compromised: not secured", s().enc(Some(Dev::Off)).key_lost(), &[Class(Breach), Why("key or password was compromised")]);
    case("74 FR 19006 paper shredded: secured", s().destroyed(DestructionMethod::PaperShredded), &[Class(NotBreachSecured)]);
    case("74 FR 19006 media sanitized per NIST SP 800-88: secured", s().destroyed(DestructionMethod::MediaSanitizedNist80088), &[Class(NotBreachSecured)]);
    case("74 FR 19006 redaction is not destruction", s().destroyed(DestructionMethod::Redacted), &[Class(Breach), Why("redaction is not destruction")]);
    case("164.402(1)(i) workforce, good faith, in scope, no further disclosure", s().exc_i(true, true, true, false), &[Class(NotBreachException), Why("exception (i) applies")]);
    case("164.402(1)(i) snooping is not good faith", s().exc_i(true, false, true, false), &[Class(Breach), Why("exception (i) fails: the access was not unintentional and in good faith")]);
    case("164.402(1)(i) outside the scope of authority", s().exc_i(true, true, false, false), &[Class(Breach), Why("outside the scope")]);
    case("164.402(1)(i) further impermissible disclosure", s().exc_i(true, true, true, true), &[Class(Breach), Why("further used or disclosed")]);
    case("164.402(1)(i) not under the entity's authority", s().exc_i(false, true, true, false), &[Class(Breach), Why("not a workforce member")]);
    case("164.402(1)(ii) authorized to authorized at the same entity", s().exc_ii(true, true, true, false), &[Class(NotBreachException), Why("exception (ii) applies")]);
    case("164.402(1)(ii) recipient at another entity", s().exc_ii(true, false, true, false), &[Class(Breach), Why("exception (ii) fails: the recipient was not authorized")]);
    case("164.402(1)(ii) not inadvertent", s().exc_ii(true, true, false, false), &[Class(Breach), Why("not inadvertent")]);
    case("164.402(1)(iii) could not reasonably have retained", s().exc_iii(true), &[Class(NotBreachException), Why("exception (iii) applies")]);
    case("164.402(1)(iii) no good-faith belief", s().exc_iii(false), &[Class(Breach), Why("exception (iii) fails")]);
    case("164.402 secured is decided before exceptions", s().enc(None).exc_i(true, false, true, false), &[Class(NotBreachSecured)]);
    case("164.402(2) skipping the assessment: breach even if R1 would hold", s().skip().nat('L').rec(R::HipaaEntity).acq(A::NotAcquiredEvidence).mit(M::Returned), &[Class(Breach), Via(None), Why("chose to notify")]);
    case("164.402(2)(iii) R1: forensics show never opened", s().nat('H').rec(R::Malicious).acq(A::NotAcquiredEvidence).mit(M::None), &[Class(NotBreachLowProbability), Via(Some(Route::R1))]);
    case("164.402(2)(ii)+(iv) R2: misdirected fax to a HIPAA entity, destroyed", s().nat('M').rec(R::HipaaEntity).acq(A::Viewed).mit(M::AttestedDestruction), &[Class(NotBreachLowProbability), Via(Some(Route::R2)), Why("R1 (")]);
    case("164.402(2)(i)+(ii) R3: low re-identification risk, recipient not hostile", s().nat('L').rec(R::OwnWorkforce).acq(A::Viewed).mit(M::None), &[Class(NotBreachLowProbability), Via(Some(Route::R3))]);
    case("164.402(2) R3 defeated by a hostile recipient", s().nat('L').rec(R::Malicious).acq(A::Viewed).mit(M::None), &[Class(Breach), Via(None), Why("factor (ii) is high")]);
    case("164.402(2) an unknown factor blocks every route", s().nat('L').rec(R::HipaaEntity).acq(A::NotAcquiredEvidence), &[Class(Breach), Via(None), Why("factor (iv) unknown")]);
    case("164.402(2) unanswered factor (i) is unknown", s().rec(R::HipaaEntity).acq(A::NotAcquiredEvidence).mit(M::Returned), &[Class(Breach), Factor("i", Rating::Unknown)]);
    case("164.402(2) an additional factor rated high defeats every route", s().nat('L').rec(R::HipaaEntity).acq(A::NotAcquiredEvidence).mit(M::Returned).extra("recipient posted it online", Rating::High), &[Class(Breach), Via(None), Why("additional factor")]);
    case("164.402(2) an additional factor rated unknown blocks every route", s().nat('L').rec(R::HipaaEntity).acq(A::NotAcquiredEvidence).mit(M::Returned).extra("scope of access", Rating::Unknown), &[Class(Breach), Why("\"scope of access\" unknown")]);
    // Changed (issue 11): the ransomware gloss is cited only for a hacking/IT incident.
    case("HHS ransomware fact sheet: encrypted by ransomware = acquired, breach presumed", s().hacking().nat('M').rec(R::Malicious).acq(A::Acquired).mit(M::None), &[Class(Breach), Factor("iii", Rating::High), FactorCite("iii", "ransomware")]);
    case("164.402(2)(iii) a stolen, acquired laptop gets no ransomware gloss", s().nat('M').rec(R::UnknownPerson).acq(A::Acquired).mit(M::None), &[Class(Breach), Factor("iii", Rating::High), NotSays("ransomware")]);
    case("164.402(2)(i) SSN in the recorded PHI makes factor (i) high", s().nat('L').phi(&[DataElement::Ssn]).rec(R::OwnWorkforce).acq(A::Viewed).mit(M::None), &[Factor("i", Rating::High), Class(Breach)]);
    case("164.402(2)(ii) unknown person rates high", s().rec(R::UnknownPerson), &[Factor("ii", Rating::High)]);
    case("164.402(2)(iii) no evidence rates moderate", s().acq(A::NotAcquiredNoEvidence), &[Factor("iii", Rating::Moderate)]);
    case("164.402(2)(iv) partial mitigation rates moderate", s().mit(M::Partial), &[Factor("iv", Rating::Moderate)]);
}

#[rustfmt::skip]
#[test]
fn overrides_status_retention() {
    case("164.402(2) override to not-a-breach keeps the engine result", s().disc(D0).total(10).over(NotBreachLowProbability), &[Class(Breach), Eff(NotBreachLowProbability), Overridden(true), AllNotRequired, Note(Individual, "human override")]);
    case("164.402 override to breach of a secured incident requires notice", s().disc(D0).total(10).enc(Some(Dev::Off)).over(Breach), &[Class(NotBreachSecured), Eff(Breach), Required(Individual), Due(Individual, "2025-04-30")]);
    case("164.414(b) sent in full before the deadline: met", s().disc(D0).total(100).sent(Individual, None, "2025-04-10", 100).today("2025-05-15"), &[MetOn(Individual, "2025-04-10")]);
    case("164.414(b) partial sends add up; met on the completing batch", s().disc(D0).total(100).sent(Individual, None, "2025-04-29", 40).sent(Individual, None, "2025-04-10", 60), &[MetOn(Individual, "2025-04-29")]);
    case("164.404(b) sent on day 60 is on time", s().disc(D0).total(100).sent(Individual, None, "2025-04-30", 100), &[MetOn(Individual, "2025-04-30")]);
    case("164.404(b) sent on day 65: late by 5", s().disc(D0).total(100).sent(Individual, None, "2025-05-05", 100), &[Late(Individual, 5, true)]);
    case("164.404(b) not sent, 10 days past due", s().disc(D0).total(100).today("2025-05-10"), &[Late(Individual, 10, false), Remaining(Individual, -10), Elapsed(Individual, 70)]);
    case("164.404(b) partly sent is still late", s().disc(D0).total(100).sent(Individual, None, "2025-04-10", 99).today("2025-05-01"), &[Late(Individual, 1, false)]);
    case("164.404(b) pending: days remaining and elapsed", s().disc(D0).total(100).today("2025-04-01"), &[Status(Individual, "pending"), Remaining(Individual, 29), Elapsed(Individual, 31)]);
    case("164.406 media status per State", s().disc(D0).states(&[("CA", 600), ("NY", 700)]).sent(Media, Some("CA"), "2025-04-01", 1).today("2025-05-01"), &[StatusJ(Media, "CA", "met"), StatusJ(Media, "NY", "late")]);
    case("164.530(j) retention six years; Feb 29 ends Feb 28", s().last("2024-02-29"), &[Retention("2030-02-28")]);
    case("164.530(j) retention six years from last in effect", s().last("2025-06-30"), &[Retention("2031-06-30")]);
}

#[test]
fn diff_says_what_changed() {
    let before = s().disc(D0).states(&[("CA", 400)]).run();
    let after = s()
        .disc(D0)
        .states(&[("CA", 501)])
        .written("2025-04-20", Some("2025-05-20"))
        .run();
    let changes = diff_obligations(&before.obligations, &after.obligations);
    assert!(
        changes.iter().any(|c| c
            == "individual: due date moved from 2025-04-30 to 2025-05-20 (law-enforcement delay)"),
        "{changes:#?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("new obligation: media (CA), due 2025-05-20")),
        "{changes:#?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("new obligation: hhs_immediate")),
        "{changes:#?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("no longer listed: hhs_annual")),
        "{changes:#?}"
    );

    let overridden = s()
        .disc(D0)
        .states(&[("CA", 400)])
        .over(NotBreachException)
        .run();
    let changes = diff_obligations(&before.obligations, &overridden.obligations);
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("individual is no longer required: Not a breach")),
        "{changes:#?}"
    );
    assert!(diff_obligations(&before.obligations, &before.obligations).is_empty());
}

#[test]
fn explain_cites_and_round_trips() {
    let ev = s()
        .disc(D0)
        .states(&[("CA", 501)])
        .unreachable(10)
        .oral("2025-04-20")
        .run();
    let text = explain(&ev);
    for needle in [
        "Determination: Breach of unsecured PHI",
        "45 CFR 164.402(2)",
        "45 CFR 164.406",
        "45 CFR 164.412(b)",
        "law-enforcement delay policy later_of",
        "45 CFR 164.530(j)",
        "day 0 = 2025-03-01",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let json = serde_json::to_string(&ev).expect("serializes");
    assert!(json.contains("\"effective_class\":\"breach\""), "{json}");
    assert!(json.contains("\"status\":{\"key\":\"pending\""), "{json}");
    let back: Evaluation = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, ev);
    for c in DeterminationClass::ALL {
        assert_eq!(DeterminationClass::from_key(c.key()), Some(*c));
        assert_eq!(
            serde_json::to_string(c).expect("serializes"),
            format!("\"{}\"", c.key())
        );
    }
    let late = ObligationStatus::Late {
        days: 3,
        sent: true,
    };
    assert_eq!(late.key(), "late");
    assert_eq!(ObligationStatus::Pending.key(), "pending");
    assert_eq!(ObligationStatus::Met { on: d(D0) }.key(), "met");
    assert_eq!(
        ObligationStatus::NotRequired {
            reason: String::new()
        }
        .key(),
        "not_required"
    );
}

const CODES: [&str; 8] = ["CA", "NY", "TX", "PR", "DC", "GU", "FL", "WA"];

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..36_500).prop_map(|n| calendar::plus_days(d("1990-01-01"), n))
}

proptest! {
    /// 164.404(b), 164.408, 164.410, 164.412: no deadline (original or moved) and no window
    /// ever precedes the start of the clock.
    #[test]
    fn no_deadline_precedes_discovery(
        disc in arb_date(),
        total in 0u64..2_000,
        states in proptest::collection::vec(0u64..1_200, 0..4),
        unreachable in 0u64..30,
        nok in 0u64..5,
        stmts in proptest::collection::vec((-100i64..200, 0i64..200, any::<bool>(), any::<bool>()), 0..3),
        ba in any::<bool>(),
        extend in any::<bool>(),
        is_ba_role in any::<bool>(),
    ) {
        let mut sc = s().disc(&disc.to_string()).total(total).unreachable(unreachable).nok(nok).urgent();
        for (i, n) in states.iter().enumerate() {
            sc = sc.states(&[(CODES[i], *n)]);
        }
        if ba {
            let bd = calendar::plus_days_signed(disc, -5).to_string();
            sc = sc.ba(Some(BaRelationship::Agent), Some(&bd), None);
        }
        if is_ba_role { sc = sc.ba_role(); }
        if extend { sc = sc.policy(LePolicy::ExtendByDelay); }
        for (off, len, oral, has_until) in stmts {
            let date = calendar::plus_days_signed(disc, off);
            if oral {
                sc = sc.oral(&date.to_string());
            } else {
                let until = calendar::plus_days_signed(date, len).to_string();
                sc = sc.written(&date.to_string(), has_until.then_some(until.as_str()));
            }
        }
        let ev = sc.run();
        let start = ev.clock.date.expect("discovery recorded");
        for o in &ev.obligations {
            for x in [o.due, o.original_due, o.window_end].into_iter().flatten() {
                prop_assert!(x >= start, "{} {:?} before {}", o.kind, x, start);
            }
            if let Some(due) = o.due {
                // Delays only ever move a deadline later, and Dec 31 + 60 is never before
                // discovery + 60.
                prop_assert!(due >= calendar::sixty_days(start), "{} due {} before day 60", o.kind, due);
            }
        }
    }

    /// 164.412 (issue 11): a deadline moves by at most the days some statement was in
    /// effect (extend_by_delay), or to the end of one of the periods (later_of); never by
    /// the gaps between statements.
    #[test]
    fn delays_move_deadlines_only_by_days_in_effect(
        disc in arb_date(),
        stmts in proptest::collection::vec((-40i64..120, 1i64..60), 1..4),
        extend in any::<bool>(),
    ) {
        let mut sc = s().disc(&disc.to_string()).total(10);
        if extend { sc = sc.policy(LePolicy::ExtendByDelay); }
        let mut in_effect = std::collections::BTreeSet::new();
        let mut ends = BTreeSet::new();
        for (off, len) in &stmts {
            let from = calendar::plus_days_signed(disc, *off);
            let until = calendar::plus_days_signed(from, *len);
            let mut x = from.max(disc);
            while x < until {
                in_effect.insert(x);
                x = calendar::plus_days(x, 1);
            }
            ends.insert(until);
            sc = sc.written(&from.to_string(), Some(&until.to_string()));
        }
        let ev = sc.run();
        let ind = ev.obligations.iter().find(|o| o.kind == Individual).expect("individual");
        let (Some(due), orig) = (ind.due, ind.original_due.or(ind.due)) else { unreachable!() };
        let orig = orig.expect("dated");
        prop_assert!(due >= orig);
        if extend {
            prop_assert!(calendar::days_between(orig, due) <= in_effect.len() as i64, "moved {} days, {} in effect", calendar::days_between(orig, due), in_effect.len());
        } else if due != orig {
            prop_assert!(ends.contains(&due), "later_of due {due} is not the end of a statement");
        }
    }

    /// 164.408(c): the annual log is due Mar 1, or Feb 29 when the following year is leap.
    #[test]
    fn annual_hhs_is_mar1_or_feb29(disc in arb_date(), total in 0u64..500) {
        let ev = s().disc(&disc.to_string()).total(total).run();
        let due = ev.obligations.iter().find(|o| o.kind == HhsAnnual).and_then(|o| o.due).expect("annual log");
        let next = disc.year() + 1;
        let leap = NaiveDate::from_ymd_opt(next, 2, 29).is_some();
        let want = if leap { NaiveDate::from_ymd_opt(next, 2, 29) } else { NaiveDate::from_ymd_opt(next, 3, 1) };
        prop_assert_eq!(Some(due), want);
        prop_assert_eq!(due, calendar::hhs_annual_due(disc));
    }

    /// 164.406: required media obligations are exactly the States with more than 500.
    #[test]
    fn media_exactly_states_over_500(counts in proptest::collection::vec(0u64..1_200, 0..8)) {
        let mut sc = s().disc(D0);
        for (i, n) in counts.iter().enumerate() {
            sc = sc.states(&[(CODES[i], *n)]);
        }
        let ev = sc.run();
        let got: BTreeSet<String> = obligations::media_jurisdictions(&ev.obligations).into_keys().collect();
        let want: BTreeSet<String> = counts.iter().enumerate().filter(|(_, n)| **n > 500).map(|(i, _)| CODES[i].to_string()).collect();
        prop_assert_eq!(&got, &want);
        let media: Vec<&Obligation> = ev.obligations.iter().filter(|o| o.kind == Media).collect();
        if want.is_empty() {
            prop_assert_eq!(media.len(), 1);
            prop_assert!(!media[0].status.is_required());
        } else {
            prop_assert_eq!(media.len(), want.len());
        }
    }
}
