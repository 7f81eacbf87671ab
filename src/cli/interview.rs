//! The terminal interviews: `incident new`, `assess` (one screen per step of 164.402) and
//! `exercise decide`. Each produces the same typed request the flags do; a form on the web
//! asks the same questions.
//!
//! Written for a privacy officer: every answer is checked when it is typed and asked again
//! at once when it is wrong (nothing typed before is lost); every question takes `?` for
//! "unknown"; no yes/no question has a default (an empty answer asks again); menus say what
//! each choice means. The interviews run with the database closed: the command reads what
//! it needs first, closes the file while a person thinks, and opens it again to commit.

use std::io::{BufRead, Write};

use chrono::NaiveDate;

use crate::domain::vocab::{
    BreachType, DataElement, DestructionMethod, DeviceState, Location, RecipientKind,
    SensitiveCategory,
};
use crate::domain::*;
use crate::error::{Error, Result};
use crate::exercise::DecidedNotice;
use crate::intake::facts::{FactsPatch, parse_date, parse_state_count};
use crate::rules::DeterminationClass;

/// An answer to a yes/no question: "unknown" is an answer too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

/// What a typed answer means when it says "unknown".
fn is_unknown(a: &str) -> bool {
    matches!(
        a.to_ascii_lowercase().as_str(),
        "?" | "unknown" | "u" | "don't know" | "dont know"
    )
}

/// Questions and answers on a terminal (or any reader and writer: tests drive it).
pub struct Prompt<'a, R, W> {
    pub input: &'a mut R,
    pub out: &'a mut W,
}

impl<R: BufRead, W: Write> Prompt<'_, R, W> {
    fn say(&mut self, s: &str) -> Result<()> {
        write!(self.out, "{s}").map_err(|e| Error::io("cannot write the prompt", e))?;
        self.out
            .flush()
            .map_err(|e| Error::io("cannot write the prompt", e))
    }

    fn line(&mut self) -> Result<String> {
        let mut l = String::new();
        let n = self
            .input
            .read_line(&mut l)
            .map_err(|e| Error::io("cannot read the answer", e))?;
        if n == 0 {
            return Err(Error::invalid(
                "the interview ended before every question was answered; nothing was recorded",
            ));
        }
        Ok(l.trim().to_string())
    }

    fn screen(&mut self, title: &str) -> Result<()> {
        self.say(&format!("\n== {title}\n"))
    }

    /// Asks until `parse` accepts the answer; a refusal is shown and the question asked again
    /// at once.
    fn ask<T>(
        &mut self,
        q: &str,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        loop {
            self.say(&format!("{q}: "))?;
            let a = self.line()?;
            match parse(&a) {
                Ok(v) => return Ok(v),
                Err(why) => self.say(&format!("  {why}; please answer again\n"))?,
            }
        }
    }

    /// Free text; `?` is "unknown" (empty). `required`: an empty answer asks again.
    fn text(&mut self, q: &str, required: bool) -> Result<String> {
        self.ask(q, |a| {
            if is_unknown(a) {
                Ok(String::new())
            } else if required && a.is_empty() {
                Err("an answer is needed (or ? if it is not known)".into())
            } else {
                Ok(a.to_string())
            }
        })
    }

    /// A date no later than `today`, or `?`/empty for unknown.
    fn date(&mut self, q: &str, today: NaiveDate) -> Result<Option<NaiveDate>> {
        self.ask(&format!("{q} (YYYY-MM-DD, ? if unknown)"), |a| {
            if a.is_empty() || is_unknown(a) {
                return Ok(None);
            }
            let d = parse_date("the date", a).map_err(|e| e.to_string())?;
            if d > today {
                return Err(format!(
                    "{} is after today ({today}): dates record what has happened",
                    d.format("%Y-%m-%d")
                ));
            }
            Ok(Some(d))
        })
    }

    /// Yes, no or unknown: there is no default, an empty answer asks again.
    fn tri(&mut self, q: &str) -> Result<Tri> {
        self.ask(&format!("{q} [y = yes, n = no, ? = unknown]"), |a| match a
            .to_ascii_lowercase()
            .as_str()
        {
            "y" | "yes" => Ok(Tri::Yes),
            "n" | "no" => Ok(Tri::No),
            x if is_unknown(x) => Ok(Tri::Unknown),
            _ => Err("answer y, n or ? (unknown)".into()),
        })
    }

    /// One choice from a menu of plain-language labels, by number (or `?` for unknown when
    /// `unknown` is given).
    fn choose<T: Copy>(
        &mut self,
        q: &str,
        options: &[T],
        label: impl Fn(T) -> String,
        unknown: Option<T>,
    ) -> Result<T> {
        self.say(&format!("{q}\n"))?;
        for (i, o) in options.iter().enumerate() {
            self.say(&format!("  {}) {}\n", i + 1, label(*o)))?;
        }
        if unknown.is_some() {
            self.say("  ?) Unknown\n")?;
        }
        let n = options.len();
        self.ask("> ", |a| {
            if is_unknown(a) {
                return unknown.ok_or_else(|| format!("choose a number from 1 to {n}"));
            }
            match a.parse::<usize>() {
                Ok(k) if (1..=n).contains(&k) => Ok(options[k - 1]),
                _ => Err(format!("choose a number from 1 to {n}")),
            }
        })
    }

    /// Several choices (numbers separated by commas); `?` for none known yet.
    fn choose_many<T: Copy>(
        &mut self,
        q: &str,
        options: &[T],
        label: impl Fn(T) -> String,
    ) -> Result<Vec<T>> {
        self.say(&format!("{q}\n"))?;
        for (i, o) in options.iter().enumerate() {
            self.say(&format!("  {}) {}\n", i + 1, label(*o)))?;
        }
        let n = options.len();
        self.ask("> numbers separated by commas, ? if unknown", |a| {
            if a.is_empty() || is_unknown(a) {
                return Ok(vec![]);
            }
            a.split(',')
                .map(|x| match x.trim().parse::<usize>() {
                    Ok(k) if (1..=n).contains(&k) => Ok(options[k - 1]),
                    _ => Err(format!("each choice is a number from 1 to {n}")),
                })
                .collect()
        })
    }
}

/// `incident new`: the facts to log, each checked when typed. `today` bounds the dates.
pub fn incident(
    input: &mut impl BufRead,
    out: &mut impl Write,
    today: NaiveDate,
) -> Result<FactsPatch> {
    let mut io = Prompt { input, out };
    io.say("New incident. Answer each question; ? means unknown. Nothing is recorded until the last answer.\n")?;
    let mut a = FactsPatch {
        title: Some(io.text(
            "Short title, no patient details (e.g. \"Stolen laptop, billing\")",
            true,
        )?)
        .filter(|t| !t.is_empty()),
        ..FactsPatch::default()
    };

    io.screen("How it was discovered  (164.404(a)(2))")?;
    a.discovery_method = Some(io.text(
        "How was it discovered (e.g. employee report, security alert, patient complaint)",
        false,
    )?);
    a.reported_by = Some(io.text(
        "Who reported it (a role or department, no patient names)",
        false,
    )?);
    a.discovered = io.date(
        "Date discovered: the first day anyone other than the wrongdoer knew, or should have known",
        today,
    )?;
    // The earliest event that counts starts the clock, e.g. an alert that fired and was not
    // looked at.
    let mut q = "Is there an event that bears on discovery to record (an alert that fired, a complaint, a business associate's notice)?";
    while io.tri(q)? == Tri::Yes {
        q = "Another event to record?";
        let date = loop {
            if let Some(d) = io.date("  Date of the event", today)? {
                break d;
            }
            io.say("  an event needs its date\n")?;
        };
        let who = io.choose(
            "  Who learned of it, or could have?",
            DiscoveryWho::ALL,
            |w| w.describe().to_string(),
            None,
        )?;
        let kind = io.choose(
            "  Did they learn of it, or should they have known?",
            DiscoveryKind::ALL,
            |k| k.describe().to_string(),
            None,
        )?;
        let description = io.text("  What happened (no PHI)", false)?;
        a.discovery_events.push(DiscoveryEvent {
            date,
            who,
            kind,
            description,
        });
    }

    io.screen("What happened")?;
    let discovered = a.discovered;
    a.start = io.ask("Date the breach began (YYYY-MM-DD, ? if unknown)", |x| {
        if x.is_empty() || is_unknown(x) {
            return Ok(None);
        }
        let d = parse_date("the date", x).map_err(|e| e.to_string())?;
        if d > today {
            return Err(format!("{d} is after today ({today})"));
        }
        if discovered.is_some_and(|disc| d > disc) {
            return Err("the breach cannot begin after it was discovered".into());
        }
        Ok(Some(d))
    })?;
    a.types = io.choose_many("What kind of breach?", BreachType::ALL, |t| {
        t.label().to_string()
    })?;
    a.locations = io.choose_many("Where was the information?", Location::ALL, |l| {
        l.label().to_string()
    })?;
    a.phi = io.choose_many(
        "Which kinds of protected health information were involved?",
        DataElement::ALL,
        |d| d.label().to_string(),
    )?;

    io.screen("Who is affected")?;
    a.individuals = io.ask(
        "About how many individuals (a whole number, ? if unknown)",
        |x| {
            if x.is_empty() || is_unknown(x) {
                return Ok(None);
            }
            x.replace(',', "")
                .parse::<u64>()
                .map(Some)
                .map_err(|_| "the number of individuals is a whole number of 0 or more".into())
        },
    )?;
    a.states = io.ask(
        "Residents per State, e.g. CA=120, NV=30 (? if unknown)",
        |x| {
            if x.is_empty() || is_unknown(x) {
                return Ok(vec![]);
            }
            x.split(',')
                .map(|p| parse_state_count(p.trim()).map_err(|e| e.to_string()))
                .collect()
        },
    )?;

    io.screen("Business associate  (164.410)")?;
    if io.tri("Was a business associate (a vendor handling the PHI for you) involved?")? == Tri::Yes
    {
        a.set.push("business_associate.involved=true".into());
        let name = io.text("  Its name (an organization)", false)?;
        if !name.is_empty() {
            a.set.push(format!(
                "business_associate.name={}",
                toml::Value::String(name)
            ));
        }
        const REL: &[Option<BaRelationship>] = &[
            Some(BaRelationship::Agent),
            Some(BaRelationship::IndependentContractor),
        ];
        let rel = io.choose(
            "  How does it act for you? (it decides when our clock starts)",
            REL,
            |r| match r {
                Some(BaRelationship::Agent) => {
                    "As our agent: we control how it does the work (its discovery counts as ours)"
                        .into()
                }
                _ => "As an independent contractor: our clock starts when it tells us".into(),
            },
            Some(None),
        )?;
        if let Some(r) = rel {
            a.set.push(format!(
                "business_associate.relationship={}",
                match r {
                    BaRelationship::Agent => "\"agent\"",
                    BaRelationship::IndependentContractor => "\"independent_contractor\"",
                }
            ));
        }
        if let Some(d) = io.date("  Date the business associate discovered it", today)? {
            a.set.push(format!(
                "business_associate.discovered={}",
                d.format("%Y-%m-%d")
            ));
        }
        if let Some(d) = io.date("  Date it notified us", today)? {
            a.set.push(format!(
                "business_associate.notified_ce={}",
                d.format("%Y-%m-%d")
            ));
        }
    }

    io.screen("Narrative")?;
    let n = io.text(
        "What happened, in your words (may include PHI; stored encrypted)",
        false,
    )?;
    a.narrative = (!n.is_empty()).then_some(n);
    Ok(a)
}

/// Answers that were "unknown", mapped to the value that claims nothing (the presumption of
/// a breach stands, 164.402(2)) and noted in the factor's rationale.
fn claimed(t: Tri) -> bool {
    t == Tri::Yes
}

/// The guided interview: one screen per step of 164.402, plain-language questions,
/// structured answers and a rationale per factor. An unknown answer never claims the safe
/// harbor, an exception or a low probability.
pub fn assessment(facts: &mut Facts, input: &mut impl BufRead, out: &mut impl Write) -> Result<()> {
    let mut io = Prompt { input, out };
    io.say("Breach determination (45 CFR 164.402). ? means unknown; an unknown never counts as a reason not to notify.\n")?;
    io.screen("1/6  Was the PHI secured?  (74 FR 19006; safe harbor)")?;
    let s = &mut facts.security;
    s.encrypted = claimed(io.tri("Was the data encrypted consistent with HHS guidance (NIST SP 800-111 at rest, FIPS 140-2 in motion)?")?);
    if s.encrypted {
        // Unknown: the key may have been exposed, so the safe harbor is not claimed.
        s.key_compromised =
            io.tri("Was the key or password compromised, or kept with the data?")? != Tri::No;
        s.device_state = Some(io.choose(
            "What state was the device in when it happened?",
            DeviceState::ALL,
            |d| d.label().to_string(),
            Some(DeviceState::Unknown),
        )?);
    }
    if io.tri("Does the incident concern disposal of paper or media?")? == Tri::Yes {
        s.destruction = Some(io.choose(
            "How were they destroyed?",
            DestructionMethod::ALL,
            |d| d.label().to_string(),
            Some(DestructionMethod::NotDestroyed),
        )?);
    }

    io.screen("2/6  Does a statutory exception apply?  (164.402(1))")?;
    let ex = &mut facts.exceptions;
    if io.tri("(i) Was it an unintentional access or use by a workforce member or person acting under your authority?")? == Tri::Yes {
        let w = ex.workforce_good_faith.get_or_insert_with(Default::default);
        w.under_authority = true;
        w.good_faith = claimed(io.tri("  Was it made in good faith? (Looking without a job need is never good faith.)")?);
        w.within_scope = claimed(io.tri("  Was it within the scope of the person's authority?")?);
        w.further_disclosure = io.tri("  Was the PHI further used or disclosed in a way the Privacy Rule does not permit?")? != Tri::No;
        w.rationale = io.text("  Why (what supports these answers)", true)?;
    }
    if io.tri("(ii) Was it an inadvertent disclosure between two people authorized at your organization (or its OHCA)?")? == Tri::Yes {
        let x = ex.authorized_to_authorized.get_or_insert_with(Default::default);
        x.discloser_authorized = true;
        x.inadvertent = true;
        x.recipient_authorized_same_entity = claimed(io.tri("  Is the recipient authorized to access PHI at the same entity or OHCA?")?);
        x.further_disclosure = io.tri("  Was the PHI further used or disclosed impermissibly?")? != Tri::No;
        x.rationale = io.text("  Why (what supports these answers)", true)?;
    }
    if io.tri("(iii) Do you believe in good faith that the recipient could not reasonably have retained the PHI?")? == Tri::Yes {
        let x = ex.could_not_retain.get_or_insert_with(Default::default);
        x.good_faith_belief = true;
        x.basis = io.text("  What supports that belief (e.g. mail returned unopened)?", true)?;
    }

    let asm = &mut facts.assessment;
    io.screen("3/6  Factor (i): nature and extent of the PHI  (164.402(2)(i))")?;
    asm.nature.answered = true;
    let mut unknowns = Vec::new();
    let yes = |io: &mut Prompt<_, _>, q: &str, unknowns: &mut Vec<String>| -> Result<bool> {
        Ok(match io.tri(q)? {
            Tri::Yes => true,
            Tri::No => false,
            Tri::Unknown => {
                unknowns.push(q.to_string());
                true
            }
        })
    };
    asm.nature.direct_identifiers = yes(
        &mut io,
        "Were direct identifiers involved (name, address, SSN, MRN, member ID)?",
        &mut unknowns,
    )?;
    asm.nature.financial = yes(
        &mut io,
        "Were SSN, driver's licence, or financial/account data involved?",
        &mut unknowns,
    )?;
    asm.nature.clinical = yes(
        &mut io,
        "Was clinical detail involved (diagnoses, medications, results)?",
        &mut unknowns,
    )?;
    match io.tri("Were especially sensitive categories involved (mental health, substance use, HIV/STI, reproductive, genetic)?")? {
        Tri::Yes => {
            asm.nature.sensitive = io.choose_many(
                "Which ones?",
                SensitiveCategory::ALL,
                |c| c.label().to_string(),
            )?;
        }
        Tri::Unknown => unknowns.push("especially sensitive categories".into()),
        Tri::No => asm.nature.sensitive.clear(),
    }
    if !asm.nature.direct_identifiers {
        asm.nature.reidentifiable = yes(
            &mut io,
            "Could the data plausibly be re-identified?",
            &mut unknowns,
        )?;
    }
    asm.nature.rationale = io.text("Why (what supports these answers)", false)?;
    if !unknowns.is_empty() {
        asm.nature.rationale = format!(
            "{} [unknown, taken as yes: {}]",
            asm.nature.rationale,
            unknowns.join("; ")
        )
        .trim()
        .to_string();
    }

    io.screen("4/6  Factor (ii): the unauthorized person  (164.402(2)(ii))")?;
    asm.recipient.kind = Some(io.choose(
        "Who used or received the PHI?",
        RecipientKind::ALL,
        |k| k.label().to_string(),
        Some(RecipientKind::UnknownPerson),
    )?);
    asm.recipient.rationale = io.text("Why (what supports this answer)", false)?;

    io.screen("5/6  Factor (iii): was the PHI actually acquired or viewed?  (164.402(2)(iii))")?;
    const ACQ: &[AcquisitionStatus] = &[
        AcquisitionStatus::NotAcquiredEvidence,
        AcquisitionStatus::NotAcquiredNoEvidence,
        AcquisitionStatus::Acquired,
        AcquisitionStatus::Viewed,
        AcquisitionStatus::Exfiltrated,
    ];
    asm.acquired.status = Some(io.choose(
        "What do you know?",
        ACQ,
        |a| {
            match a {
                AcquisitionStatus::NotAcquiredEvidence => "Not acquired or viewed, and evidence shows it (e.g. forensics on a recovered device)",
                AcquisitionStatus::NotAcquiredNoEvidence => "Believed not viewed, but without evidence",
                AcquisitionStatus::Acquired => "Acquired (someone took control of it) but not shown to be viewed",
                AcquisitionStatus::Viewed => "Viewed (e.g. mail opened by the wrong person)",
                AcquisitionStatus::Exfiltrated => "Copied out (exfiltrated)",
                AcquisitionStatus::Unknown => "Unknown",
            }
            .to_string()
        },
        Some(AcquisitionStatus::Unknown),
    )?);
    asm.acquired.rationale = io.text("Why (e.g. forensic report reference)", false)?;

    io.screen("6/6  Factor (iv): how far has the risk been mitigated?  (164.402(2)(iv))")?;
    const MIT: &[MitigationStatus] = &[
        MitigationStatus::AttestedDestruction,
        MitigationStatus::Returned,
        MitigationStatus::RemoteWiped,
        MitigationStatus::Partial,
        MitigationStatus::None,
    ];
    asm.mitigation.status = Some(io.choose(
        "What mitigation is in place?",
        MIT,
        |m| {
            match m {
                MitigationStatus::AttestedDestruction => {
                    "A trustworthy recipient signed that it destroyed or will not use the PHI"
                }
                MitigationStatus::Returned => {
                    "The PHI (device, papers) was recovered or returned intact"
                }
                MitigationStatus::RemoteWiped => {
                    "The device was wiped remotely before anyone could get at it"
                }
                MitigationStatus::Partial => "Some mitigation, not complete",
                MitigationStatus::None => "None",
                MitigationStatus::Unknown => "Unknown",
            }
            .to_string()
        },
        Some(MitigationStatus::Unknown),
    )?);
    asm.mitigation.rationale = io.text("Why (what supports this answer)", false)?;
    Ok(())
}

/// A result of "not a breach" needs a reason for each factor and a confirmation: the
/// rationales left empty are asked for now, then the person confirms. `false`: not confirmed
/// (nothing is recorded).
pub fn confirm_not_breach(
    facts: &mut Facts,
    class: DeterminationClass,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<bool> {
    let mut io = Prompt { input, out };
    io.screen(&format!(
        "Result: {} [{}]: no notification would be owed",
        class.label(),
        class.cite()
    ))?;
    let asm = &mut facts.assessment;
    for (name, r) in [
        (
            "(i) the nature and extent of the PHI",
            &mut asm.nature.rationale,
        ),
        ("(ii) the unauthorized person", &mut asm.recipient.rationale),
        (
            "(iii) whether it was acquired or viewed",
            &mut asm.acquired.rationale,
        ),
        ("(iv) mitigation", &mut asm.mitigation.rationale),
    ] {
        if r.trim().is_empty() {
            *r = io.ask(
                &format!("A not-a-breach result needs the reason for factor {name}"),
                |a| {
                    if a.is_empty() || is_unknown(a) {
                        Err("a reason is needed for a not-a-breach result".to_string())
                    } else {
                        Ok(a.to_string())
                    }
                },
            )?;
        }
    }
    io.ask(
        "Record this determination that NO notification is owed? Type yes to record it, no to stop",
        |a| match a.to_ascii_lowercase().as_str() {
            "yes" => Ok(true),
            "no" | "n" => Ok(false),
            _ => Err("type yes or no".into()),
        },
    )
}

/// Asks the room's answer on a terminal.
pub fn room_decision(
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(Option<DeterminationClass>, Vec<DecidedNotice>)> {
    let mut line = |q: &str| -> Result<String> {
        write!(out, "{q}: ").map_err(|e| Error::io("cannot write the prompt", e))?;
        out.flush()
            .map_err(|e| Error::io("cannot write the prompt", e))?;
        let mut l = String::new();
        input
            .read_line(&mut l)
            .map_err(|e| Error::io("cannot read the answer", e))?;
        Ok(l.trim().to_string())
    };
    let d = line(
        "Determination [not_breach_secured, not_breach_exception, not_breach_low_probability, breach]",
    )?;
    let det = if d.is_empty() {
        None
    } else {
        Some(
            DeterminationClass::from_key(&d)
                .ok_or_else(|| Error::invalid("determination not recognised"))?,
        )
    };
    let mut notices = Vec::new();
    loop {
        let n = line("A notice owed, as KIND[:ST]=YYYY-MM-DD (blank when done)")?;
        if n.is_empty() {
            break;
        }
        notices.push(super::parse::decided_notice(&n).map_err(Error::invalid)?);
    }
    Ok((det, notices))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn incident_interview_asks_again_at_once_and_loses_nothing() {
        // A bad date and a future date are asked again at once; every earlier answer stays.
        let answers = "Lost binder\nemployee report\nward clerk\n2026-13-01\n2027-01-01\n2026-05-02\n\
            maybe\nn\n2026-05-03\n2026-04-30\n3,4\n7\n5,1\nmany\n42\nCA=40,ZZ=2\nCA=40,NV=2\n\
            y\nAcme Billing\n2\n2026-05-01\n?\nLeft on a bus\n";
        let mut out = Vec::new();
        let a = incident(&mut answers.as_bytes(), &mut out, today()).expect("answers");
        let mut f = Facts::default();
        a.apply(&mut f).expect("valid");
        assert_eq!(f.title, "Lost binder");
        assert_eq!(f.breach.discovery_method, "employee report");
        assert_eq!(f.breach.discovered, NaiveDate::from_ymd_opt(2026, 5, 2));
        assert_eq!(f.breach.start, NaiveDate::from_ymd_opt(2026, 4, 30));
        assert_eq!(f.breach.types, [BreachType::Loss, BreachType::Theft]);
        assert_eq!(f.breach.phi, [DataElement::Name, DataElement::Diagnosis]);
        assert_eq!(f.individuals.by_state.get("NV"), Some(&2));
        assert!(f.business_associate.involved);
        assert_eq!(f.business_associate.name, "Acme Billing");
        assert_eq!(
            f.business_associate.relationship,
            Some(BaRelationship::IndependentContractor)
        );
        assert_eq!(f.business_associate.notified_ce, None);
        assert_eq!(f.breach.narrative, "Left on a bus");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("is not a date"), "{text}");
        assert!(text.contains("after today"), "{text}");
        assert!(text.contains("answer y, n or ?"), "{text}");
        assert!(
            text.contains("cannot begin after it was discovered"),
            "{text}"
        );
        assert!(text.contains("whole number"), "{text}");
        // Menus say what each choice means.
        assert!(text.contains("Hacking/IT Incident"), "{text}");
        assert!(text.contains("As an independent contractor"), "{text}");
    }

    #[test]
    fn a_yes_no_question_has_no_default() {
        let mut out = Vec::new();
        let mut io = Prompt {
            input: &mut "\n\n?\n".as_bytes(),
            out: &mut out,
        };
        assert_eq!(io.tri("Encrypted?").unwrap(), Tri::Unknown);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("answer y, n or ?").count(), 2, "{text}");
    }

    #[test]
    fn assessment_interview_answers_every_screen() {
        let answers = "n\nn\n\
            y\nn\ny\nn\nlooked without a job need\n\
            n\nn\n\
            y\nn\ny\nn\nnames and diagnoses\n\
            3\nco-worker\n\
            4\nviewed in the EHR log\n\
            5\nno mitigation possible\n";
        let mut facts = Facts::default();
        let mut out = Vec::new();
        assessment(&mut facts, &mut answers.as_bytes(), &mut out).expect("completes");
        let w = facts
            .exceptions
            .workforce_good_faith
            .as_ref()
            .expect("exception (i) answered");
        assert!(!w.good_faith);
        assert_eq!(
            facts.assessment.recipient.kind,
            Some(RecipientKind::OwnWorkforce)
        );
        assert_eq!(
            facts.assessment.acquired.status,
            Some(AcquisitionStatus::Viewed)
        );
        assert_eq!(
            facts.assessment.mitigation.status,
            Some(MitigationStatus::None)
        );
        assert_eq!(
            crate::rules::determine(&facts).class,
            DeterminationClass::Breach
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("164.402(2)(iv)"));
    }

    #[test]
    fn unknown_never_claims_a_reason_not_to_notify() {
        // Encrypted: unknown; the exceptions: unknown; every factor unknown.
        let answers = "?\n?\n?\n?\n?\n?\n?\n?\n?\n?\n\n?\n\n?\n\n?\n\n";
        let mut facts = Facts::default();
        assessment(&mut facts, &mut answers.as_bytes(), &mut Vec::new()).expect("completes");
        assert!(!facts.security.encrypted);
        assert!(facts.exceptions.workforce_good_faith.is_none());
        assert_eq!(
            facts.assessment.acquired.status,
            Some(AcquisitionStatus::Unknown)
        );
        assert!(facts.assessment.nature.rationale.contains("unknown"));
        assert_eq!(
            crate::rules::determine(&facts).class,
            DeterminationClass::Breach
        );
    }

    #[test]
    fn interview_cut_short_is_an_error() {
        let mut facts = Facts::default();
        let e = assessment(&mut facts, &mut "n\n".as_bytes(), &mut Vec::new()).expect_err("short");
        assert!(e.to_string().contains("nothing was recorded"));
    }

    #[test]
    fn not_a_breach_needs_every_reason_and_a_confirmation() {
        let mut facts = Facts::default();
        facts.assessment.nature.rationale = "names only".into();
        let answers = "\nthe clinic is a covered entity\nfax log\nattested\nmaybe\nyes\n";
        let mut out = Vec::new();
        let ok = confirm_not_breach(
            &mut facts,
            DeterminationClass::NotBreachLowProbability,
            &mut answers.as_bytes(),
            &mut out,
        )
        .unwrap();
        assert!(ok);
        assert_eq!(
            facts.assessment.recipient.rationale,
            "the clinic is a covered entity"
        );
        assert_eq!(facts.assessment.mitigation.rationale, "attested");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("a reason is needed"), "{text}");
        assert!(text.contains("type yes or no"), "{text}");
        let stop = confirm_not_breach(
            &mut facts,
            DeterminationClass::NotBreachLowProbability,
            &mut "no\n".as_bytes(),
            &mut Vec::new(),
        )
        .unwrap();
        assert!(!stop);
    }
}
