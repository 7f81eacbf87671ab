//! Who must be notified, by when, and whether it was done: 164.404–164.412.
//!
//! Default policies documented here:
//! - **Clock**, 164.404(a)(2) and 164.410: a covered entity's clock starts at its own
//!   discovery. With a business associate involved, an **agent**'s discovery is imputed to
//!   the covered entity (earlier of the two dates); for an **independent contractor** the
//!   clock starts when the BA notified the covered entity (earlier of that and our own
//!   discovery). A relationship that is not recorded is treated as agency — the earlier,
//!   conservative date — and the basis says so.
//! - A business associate's clock is its own discovery (`breach.discovered`, falling back
//!   to `business_associate.discovered`); it owes only the notice to the covered entity.
//! - **Media**, 164.406: counted per State and per smaller jurisdiction, never in total.
//!   When no State exceeds 500 but residents are missing from the per-State counts
//!   (`total` larger than the sum of `by_state`) and they could push a State above 500, the
//!   media obligation stays *pending* with no jurisdiction: it cannot be ruled out.
//! - **Not a breach** (effective class): every obligation is still listed, as not required,
//!   with the determination as the reason, so the output is complete.
//! - `days_remaining` is shown for pending and unsent-late obligations; `days_elapsed` for
//!   every required obligation with a known clock.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::domain::vocab::{normalize_state, state_name};
use crate::domain::{Counts, Facts, NoticeRecord, ObligationKind, Role};

use super::calendar::{
    SUBSTITUTE_WINDOW_DAYS, days_between, hhs_annual_due, plus_days, retention_until, sixty_days,
};
use super::{
    ClockStart, DeterminationClass, EngineInput, Evaluation, Obligation, ObligationStatus, delay,
    determine, discovery,
};

/// Media threshold: **more than** 500 residents of a State or jurisdiction, 164.406(a).
pub const MEDIA_THRESHOLD: u64 = 500;
/// HHS immediate notice: **500 or more** individuals, 164.408(b).
pub const HHS_IMMEDIATE_THRESHOLD: u64 = 500;
/// Formal substitute notice: **10 or more** unreachable individuals, 164.404(d)(2)(ii).
pub const SUBSTITUTE_FORMAL_THRESHOLD: u64 = 10;

/// The reason a business associate's CE-facing obligations are not its own.
pub const BA_REASON: &str = "the covered entity notifies individuals, HHS and media; a business associate notifies the covered entity (164.410)";
const NO_DISCOVERY: &str = "discovery date not recorded";

/// Determination plus obligations: the whole engine.
pub fn evaluate(input: &EngineInput, today: NaiveDate) -> Evaluation {
    let engine = determine(input.facts);
    let effective_class = input.override_class.unwrap_or(engine.class);
    let overridden = input.override_class.is_some();
    let disc = discovery::discover(input.facts, input.role);
    let clock = clock_with(input.facts, input.role, &disc);
    let (delay, mut notes) = delay::compute(&input.facts.law_enforcement);
    notes.splice(0..0, disc.warnings);

    let mut obligations = match input.role {
        Role::CoveredEntity => ce_obligations(input.facts, input.counts, clock.date),
        Role::BusinessAssociate => ba_obligations(input.counts, clock.date),
    };

    for ob in &mut obligations {
        if !ob.status.is_required() {
            continue;
        }
        if let (Some(due), Some(d), Some(from)) = (ob.due, &delay, clock_from(ob.kind, clock.date))
        {
            let applied = delay::apply(due, from, d, input.policy);
            if applied.due != due {
                ob.original_due = Some(due);
                ob.due = Some(applied.due);
                ob.policy = Some(input.policy.describe().to_string());
            }
            for n in applied.notes {
                ob.note = join_note(&ob.note, &n);
            }
        }
        let records = matching(input.notices, ob.kind, ob.jurisdiction.as_deref());
        window(ob, &records);
        status(ob, records, today, clock.date);
        if clock.date.is_none()
            && ob.due.is_none()
            && ob.kind != ObligationKind::UrgentPhoneOptional
        {
            ob.note = join_note(NO_DISCOVERY, &ob.note);
        }
    }

    if !effective_class.is_breach() {
        let reason = not_breach_reason(&engine, effective_class, overridden);
        for ob in &mut obligations {
            ob.status = ObligationStatus::NotRequired {
                reason: reason.clone(),
            };
            ob.days_remaining = None;
            ob.days_elapsed = None;
        }
    }

    Evaluation {
        engine,
        effective_class,
        overridden,
        clock,
        delay,
        policy: input.policy,
        obligations,
        retention_until: retention_until(input.last_in_effect),
        retention_cite: "45 CFR 164.530(j)(2); 164.414(b)".into(),
        notes,
        laws: None,
    }
}

pub(super) fn join_note(first: &str, rest: &str) -> String {
    match (first.is_empty(), rest.is_empty()) {
        (_, true) => first.to_string(),
        (true, false) => rest.to_string(),
        (false, false) => format!("{first}; {rest}"),
    }
}

/// Day 0 of an obligation's own clock, from which a law-enforcement delay can hold it
/// (164.412 with the extend_by_delay policy): discovery for the 60-day notices, the end of
/// the calendar year of discovery for the annual HHS log (164.408(c)).
fn clock_from(kind: ObligationKind, clock: Option<NaiveDate>) -> Option<NaiveDate> {
    let d = clock?;
    match kind {
        ObligationKind::HhsAnnual => NaiveDate::from_ymd_opt(d.year(), 12, 31),
        _ => Some(d),
    }
}

fn not_breach_reason(
    engine: &super::Determination,
    class: DeterminationClass,
    overridden: bool,
) -> String {
    // The label already says "low probability that the PHI has been compromised"; the
    // decisive reason of that class starts with the same words.
    let label = class.label();
    let tail = label.trim_start_matches("Not a breach: ");
    if overridden && class != engine.class {
        format!(
            "{} (human override; the engine found {}) ({})",
            class.label(),
            engine.class.key(),
            class.cite()
        )
    } else {
        match engine.decisive() {
            Some(r) => match r.text.strip_prefix(tail) {
                Some(rest) => format!("{label}{rest} ({})", r.cite),
                None => format!("{label}: {} ({})", r.text, r.cite),
            },
            None => format!("{} ({})", class.label(), class.cite()),
        }
    }
}

fn earlier(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn show(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string())
        .unwrap_or_else(|| "not recorded".into())
}

/// Day 0 of the 60-day clock, 164.404(a)(2) and 164.410(a)(2). The organization's own
/// discovery comes from [`discovery::discover`] (typed date and discovery events); a
/// business associate's `discovered` date or notice is applied on top.
pub fn clock_start(f: &Facts, role: Role) -> ClockStart {
    clock_with(f, role, &discovery::discover(f, role))
}

fn clock_with(f: &Facts, role: Role, disc: &discovery::Discovery) -> ClockStart {
    let own = disc.date;
    let from = |d: Option<NaiveDate>| match d {
        Some(_) => format!(" (from {})", disc.basis),
        None => String::new(),
    };
    let ba = &f.business_associate;
    let mut clock = match role {
        Role::BusinessAssociate => {
            let (date, basis) = match (own, ba.discovered) {
                (Some(d), _) => (
                    Some(d),
                    format!("the business associate's discovery on {d}{}", from(own)),
                ),
                (None, Some(d)) => (
                    Some(d),
                    format!(
                        "the business associate's discovery on {d} (from the business associate section)"
                    ),
                ),
                (None, None) => (
                    None,
                    "the business associate's discovery: not recorded".into(),
                ),
            };
            ClockStart {
                date,
                basis,
                cite: "45 CFR 164.410(a)(2)".into(),
                events: Vec::new(),
            }
        }
        Role::CoveredEntity if !ba.involved => ClockStart {
            date: own,
            basis: match own {
                Some(d) => format!(
                    "discovery by the covered entity on {d}{}: the first day the breach was known, or would have been known with reasonable diligence, to a workforce member or agent other than the person who committed it",
                    from(own)
                ),
                None => "the covered entity's discovery is not recorded (the first day the breach was known, or would have been known with reasonable diligence, to a workforce member or agent other than the person who committed it)".into(),
            },
            cite: "45 CFR 164.404(a)(2)".into(),
            events: Vec::new(),
        },
        Role::CoveredEntity => match ba.relationship {
            Some(crate::domain::BaRelationship::IndependentContractor) => ClockStart {
                date: earlier(own, ba.notified_ce),
                basis: format!(
                    "the business associate is an independent contractor: its discovery is not imputed; the clock starts at the earlier of our own discovery ({}{}) and the business associate's notice to us ({})",
                    show(own),
                    from(own),
                    show(ba.notified_ce)
                ),
                cite: "45 CFR 164.404(a)(2); 164.410(b); federal common law of agency".into(),
                events: Vec::new(),
            },
            rel => {
                let assumed = if rel.is_none() {
                    "the relationship is not recorded, so it is treated conservatively as agency: "
                } else {
                    ""
                };
                ClockStart {
                    date: earlier(own, ba.discovered),
                    basis: format!(
                        "{assumed}the business associate acts as our agent: its discovery is imputed to us; the clock starts at the earlier of our own discovery ({}{}) and the business associate's discovery ({})",
                        show(own),
                        from(own),
                        show(ba.discovered)
                    ),
                    cite: "45 CFR 164.404(a)(2); 164.410(a)(2); federal common law of agency"
                        .into(),
                    events: Vec::new(),
                }
            }
        },
    };
    clock.events = disc.events.clone();
    clock
}

pub(super) fn ob(
    kind: ObligationKind,
    due: Option<NaiveDate>,
    cite: &str,
    note: impl Into<String>,
) -> Obligation {
    Obligation {
        kind,
        jurisdiction: None,
        due,
        original_due: None,
        window_end: None,
        cite: cite.into(),
        policy: None,
        status: ObligationStatus::Pending,
        days_remaining: None,
        days_elapsed: None,
        required_count: None,
        sent_count: 0,
        note: note.into(),
        recipient: None,
        verified: None,
        effective: None,
        source: None,
    }
}

pub(super) fn not_required(mut o: Obligation, reason: impl Into<String>) -> Obligation {
    o.status = ObligationStatus::NotRequired {
        reason: reason.into(),
    };
    o
}

fn ce_obligations(f: &Facts, c: &Counts, clock: Option<NaiveDate>) -> Vec<Obligation> {
    let due60 = clock.map(sixty_days);
    let mut out = Vec::new();

    // 164.404(b): the living, reachable individuals get first-class mail (or e-mail).
    let mut ind = ob(
        ObligationKind::Individual,
        due60,
        "45 CFR 164.404(b)",
        "first-class mail to the last known address, or e-mail if the individual agreed; content per 164.404(c); the unreachable get substitute notice and the deceased notice to next of kin",
    );
    ind.required_count = Some(
        c.total
            .saturating_sub(c.unreachable)
            .saturating_sub(c.deceased_with_nok)
            .saturating_sub(c.deceased_without_nok),
    );
    out.push(ind);

    if c.deceased_with_nok > 0 {
        let mut nok = ob(
            ObligationKind::NextOfKin,
            due60,
            "45 CFR 164.404(d)(1)(ii)",
            format!(
                "{} deceased individual(s) whose next of kin or personal representative's address is known",
                c.deceased_with_nok
            ),
        );
        nok.required_count = Some(c.deceased_with_nok);
        out.push(nok);
    }

    match c.unreachable {
        0 => {
            if c.deceased_without_nok > 0 {
                out.push(not_required(
                    ob(ObligationKind::SubstituteInformal, None, "45 CFR 164.404(d)(2)", ""),
                    format!(
                        "substitute notice is not required when it is the next of kin's or personal representative's contact information that is missing ({} deceased without a next-of-kin address)",
                        c.deceased_without_nok
                    ),
                ));
            }
        }
        n if n < SUBSTITUTE_FORMAL_THRESHOLD => {
            let mut s = ob(
                ObligationKind::SubstituteInformal,
                due60,
                "45 CFR 164.404(d)(2)(i)",
                format!(
                    "{n} individual(s) with insufficient or out-of-date contact information (fewer than 10): alternative written notice, telephone or other means"
                ),
            );
            s.required_count = Some(n);
            out.push(s);
        }
        n => {
            out.push(ob(
                ObligationKind::SubstituteWebOrMedia,
                due60,
                "45 CFR 164.404(d)(2)(ii)(A)",
                format!(
                    "{n} individuals with insufficient or out-of-date contact information (10 or more): conspicuous home-page posting for 90 days, or major print or broadcast media where they likely live"
                ),
            ));
            out.push(ob(
                ObligationKind::TollFreeLine,
                due60,
                "45 CFR 164.404(d)(2)(ii)(B)",
                "toll-free number active for at least 90 days, included in the substitute notice",
            ));
        }
    }

    if f.individuals.urgent {
        out.push(ob(
            ObligationKind::UrgentPhoneOptional,
            None,
            "45 CFR 164.404(d)(3)",
            "optional: possible imminent misuse; telephone or other means in addition to written notice, never instead of it",
        ));
    }

    out.extend(media(c, due60));

    if c.total >= HHS_IMMEDIATE_THRESHOLD {
        out.push(ob(
            ObligationKind::HhsImmediate,
            due60,
            "45 CFR 164.408(b)",
            format!(
                "{} individuals (500 or more): notify the Secretary contemporaneously with the individual notice; outer limit discovery + 60 days",
                c.total
            ),
        ));
    } else {
        let note = match clock {
            Some(d) => format!(
                "{} individual(s) (fewer than 500): log and report within 60 days after the end of {}; may be filed earlier",
                c.total,
                d.year()
            ),
            None => format!(
                "{} individual(s) (fewer than 500): within 60 days after the end of the calendar year of discovery; may be filed earlier",
                c.total
            ),
        };
        out.push(ob(
            ObligationKind::HhsAnnual,
            clock.map(hhs_annual_due),
            "45 CFR 164.408(c)",
            note,
        ));
    }
    out
}

/// One media obligation per State and per jurisdiction with **more than** 500 residents.
fn media(c: &Counts, due60: Option<NaiveDate>) -> Vec<Obligation> {
    let mut out = Vec::new();
    let areas = c
        .by_state
        .iter()
        .map(|(k, n)| (k, n, true))
        .chain(c.by_jurisdiction.iter().map(|(k, n)| (k, n, false)));
    for (key, n, is_state) in areas {
        if *n > MEDIA_THRESHOLD {
            let name = if is_state {
                state_name(key).to_string()
            } else {
                key.clone()
            };
            let mut o = ob(
                ObligationKind::Media,
                due60,
                "45 CFR 164.406",
                format!(
                    "{n} residents of {name} (more than 500): prominent media outlets serving the {}",
                    if is_state { "State" } else { "jurisdiction" }
                ),
            );
            o.jurisdiction = Some(key.clone());
            out.push(o);
        }
    }
    if !out.is_empty() {
        return out;
    }

    let assigned: u64 = c.by_state.values().sum();
    let unassigned = c.total.saturating_sub(assigned);
    let largest = c
        .by_state
        .iter()
        .fold(None::<(&String, u64)>, |best, (k, n)| match best {
            Some((_, b)) if b >= *n => best,
            _ => Some((k, *n)),
        });
    let largest_n = largest.map(|l| l.1).unwrap_or(0);
    if unassigned > 0 && largest_n.saturating_add(unassigned) > MEDIA_THRESHOLD {
        return vec![ob(
            ObligationKind::Media,
            due60,
            "45 CFR 164.406",
            format!(
                "cannot be ruled out: {unassigned} of {} individuals are not assigned to a State; record residents per State (media notice is required for each State with more than 500)",
                c.total
            ),
        )];
    }
    let largest_text = match largest {
        Some((k, n)) => format!("largest: {} with {n}", state_name(k)),
        None => "no per-State counts recorded".to_string(),
    };
    vec![not_required(
        ob(ObligationKind::Media, None, "45 CFR 164.406", ""),
        format!(
            "no State or jurisdiction has more than 500 residents ({largest_text}); media notice is counted per State, not in total"
        ),
    )]
}

fn ba_obligations(c: &Counts, clock: Option<NaiveDate>) -> Vec<Obligation> {
    let mut to_ce = ob(
        ObligationKind::BaToCe,
        clock.map(sixty_days),
        "45 CFR 164.410(b)",
        "identify each individual affected and give the covered entity the information it needs for its notices (164.410(c))",
    );
    if c.total > 0 {
        to_ce.note = format!("{} individual(s); {}", c.total, to_ce.note);
    }
    let hhs = if c.total >= HHS_IMMEDIATE_THRESHOLD {
        (ObligationKind::HhsImmediate, "45 CFR 164.408(b)")
    } else {
        (ObligationKind::HhsAnnual, "45 CFR 164.408(c)")
    };
    let mut out = vec![to_ce];
    for (kind, cite) in [
        (ObligationKind::Individual, "45 CFR 164.404"),
        (ObligationKind::Media, "45 CFR 164.406"),
        hhs,
    ] {
        out.push(not_required(ob(kind, None, cite, ""), BA_REASON));
    }
    out
}

fn same_jurisdiction(a: &str, b: &str) -> bool {
    if a.trim().eq_ignore_ascii_case(b.trim()) {
        return true;
    }
    match (normalize_state(a), normalize_state(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The notice records for one obligation: same kind and, for a media notice to a named
/// State or jurisdiction, the same jurisdiction. Sorted by date.
fn matching<'a>(
    notices: &'a [NoticeRecord],
    kind: ObligationKind,
    jurisdiction: Option<&str>,
) -> Vec<&'a NoticeRecord> {
    let mut v: Vec<&NoticeRecord> = notices
        .iter()
        .filter(|n| n.kind == kind)
        .filter(|n| match (kind, jurisdiction) {
            (ObligationKind::Media, Some(j)) => n
                .jurisdiction
                .as_deref()
                .is_some_and(|nj| same_jurisdiction(nj, j)),
            _ => true,
        })
        .collect();
    v.sort_by_key(|n| n.date);
    v
}

/// The 90-day window of substitute web posting and the toll-free line, 164.404(d)(2)(ii).
fn window(o: &mut Obligation, records: &[&NoticeRecord]) {
    if !matches!(
        o.kind,
        ObligationKind::SubstituteWebOrMedia | ObligationKind::TollFreeLine
    ) {
        return;
    }
    match (records.first(), o.due) {
        (Some(first), _) => {
            o.window_end = Some(plus_days(first.date, SUBSTITUTE_WINDOW_DAYS));
            o.note = format!(
                "{}; the 90-day window runs from the first recorded notice on {}",
                o.note, first.date
            );
        }
        (None, Some(due)) => {
            o.window_end = Some(plus_days(due, SUBSTITUTE_WINDOW_DAYS));
            o.note = format!(
                "{}; not yet started: window end shown as deadline + 90 days, it runs 90 days from the day it starts",
                o.note
            );
        }
        (None, None) => {}
    }
}

/// Met / late / pending from the notice records, 164.414(b).
fn status(
    o: &mut Obligation,
    records: Vec<&NoticeRecord>,
    today: NaiveDate,
    clock: Option<NaiveDate>,
) {
    o.sent_count = records.iter().map(|r| r.count).sum();
    let done_on = completion(&records, o.required_count);
    settle(o, done_on, today, clock);
}

/// The date the records completed an obligation: the record that brought the cumulative
/// count to `required` (or the first record when one notice suffices).
pub(super) fn completion(records: &[&NoticeRecord], required: Option<u64>) -> Option<NaiveDate> {
    let need = required.filter(|n| *n > 0);
    let mut acc: u64 = 0;
    for r in records {
        acc = acc.saturating_add(r.count);
        if need.is_none_or(|n| acc >= n) {
            return Some(r.date);
        }
    }
    None
}

/// Met / late / pending from the completion date, and the day counts.
pub(super) fn settle(
    o: &mut Obligation,
    done_on: Option<NaiveDate>,
    today: NaiveDate,
    clock: Option<NaiveDate>,
) {
    o.status = match (done_on, o.due) {
        (Some(on), Some(due)) if on > due => ObligationStatus::Late {
            days: days_between(due, on),
            sent: true,
        },
        (Some(on), _) => ObligationStatus::Met { on },
        (None, Some(due)) if today > due => ObligationStatus::Late {
            days: days_between(due, today),
            sent: false,
        },
        (None, _) => ObligationStatus::Pending,
    };
    o.days_remaining = match o.status {
        ObligationStatus::Pending | ObligationStatus::Late { sent: false, .. } => {
            o.due.map(|d| days_between(today, d))
        }
        _ => None,
    };
    o.days_elapsed = clock.map(|c| days_between(c, today));
}

/// Required media obligations by jurisdiction, for callers that only need the list.
pub fn media_jurisdictions(
    obligations: &[super::Obligation],
) -> BTreeMap<String, Option<NaiveDate>> {
    obligations
        .iter()
        .filter(|o| o.kind == ObligationKind::Media && o.status.is_required())
        .filter_map(|o| o.jurisdiction.clone().map(|j| (j, o.due)))
        .collect()
}
