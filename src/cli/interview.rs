//! The terminal interviews: `incident new`, `assess` (one screen per step of 164.402) and
//! `exercise decide`. Each produces the same typed request the flags do; a form on the web
//! asks the same questions.

use std::io::{BufRead, Write};

use crate::domain::vocab::{
    BreachType, DestructionMethod, DeviceState, Location, RecipientKind, SensitiveCategory,
};
use crate::domain::*;
use crate::error::{Error, Result};
use crate::exercise::DecidedNotice;
use crate::intake::facts::{FactsPatch, parse_date, parse_state_count, parse_vocab};
use crate::rules::DeterminationClass;

/// A short interactive interview for `incident new` on a terminal.
pub fn incident(input: &mut impl BufRead, out: &mut impl Write) -> Result<FactsPatch> {
    let mut ask = |q: &str| -> Result<Option<String>> {
        write!(out, "{q}: ").map_err(|e| Error::io("cannot write the prompt", e))?;
        out.flush()
            .map_err(|e| Error::io("cannot write the prompt", e))?;
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| Error::io("cannot read the answer", e))?;
        let t = line.trim().to_string();
        Ok((!t.is_empty()).then_some(t))
    };
    let mut a = FactsPatch {
        title: ask("Short title, no patient details (e.g. \"Stolen laptop, billing\")")?,
        ..FactsPatch::default()
    };
    a.discovered = ask(
        "Date discovered, YYYY-MM-DD (first day anyone but the wrongdoer knew; blank to derive it from the events below)",
    )?
    .map(|s| parse_date("--discovered", &s))
    .transpose()?;
    // 164.404(a)(2): the earliest event that counts starts the clock, e.g. an alert that
    // fired and was not looked at.
    let mut prompt = "Record an event that bears on discovery (an alert that fired, a complaint, a business associate's notice)? y/N";
    while ask(prompt)?.is_some_and(|x| x.eq_ignore_ascii_case("y") || x.eq_ignore_ascii_case("yes"))
    {
        prompt = "Record another event? y/N";
        let date = ask("  Date of the event, YYYY-MM-DD")?
            .ok_or_else(|| Error::invalid("a discovery event needs its date (YYYY-MM-DD)"))?;
        let date = parse_date("the event's date", &date)?;
        let who = ask(
            "  Who learned or could have learned: workforce_member, agent, business_associate or wrongdoer",
        )?
        .unwrap_or_default();
        let who = *DiscoveryWho::ALL
            .iter()
            .find(|w| w.key() == who.trim())
            .ok_or_else(|| {
                Error::invalid(
                    "who learned is one of: workforce_member, agent, business_associate, wrongdoer",
                )
            })?;
        let kind = ask(
            "  learned, or should_have_known (with reasonable diligence, e.g. an ignored alert)",
        )?
        .unwrap_or_default();
        let kind = *DiscoveryKind::ALL
            .iter()
            .find(|k| k.key() == kind.trim())
            .ok_or_else(|| Error::invalid("the kind of event is learned or should_have_known"))?;
        let description = ask("  What happened (no PHI)")?.unwrap_or_default();
        a.discovery_events.push(DiscoveryEvent {
            date,
            who,
            kind,
            description,
        });
    }
    a.start = ask("Date the breach began, YYYY-MM-DD (blank if unknown)")?
        .map(|s| parse_date("--start", &s))
        .transpose()?;
    if let Some(t) = ask(&format!(
        "Type(s) of breach, comma-separated [{}]",
        BreachType::accepted()
    ))? {
        a.types = t
            .split(',')
            .map(|s| {
                parse_vocab(
                    "--type",
                    s.trim(),
                    BreachType::from_label,
                    BreachType::accepted,
                )
            })
            .collect::<Result<_>>()?;
    }
    if let Some(t) = ask(&format!(
        "Location(s) of the information [{}]",
        Location::accepted()
    ))? {
        a.locations = t
            .split(',')
            .map(|s| {
                parse_vocab(
                    "--location",
                    s.trim(),
                    Location::from_label,
                    Location::accepted,
                )
            })
            .collect::<Result<_>>()?;
    }
    if let Some(t) = ask("Approximate number of individuals (blank if unknown)")? {
        a.individuals = Some(t.parse().map_err(|_| {
            Error::invalid("the number of individuals must be a whole number of 0 or more")
        })?);
    }
    if let Some(t) = ask("Residents per State, e.g. CA=120,NV=30 (blank if unknown)")? {
        a.states = t
            .split(',')
            .map(|s| parse_state_count(s.trim()))
            .collect::<Result<_>>()?;
    }
    a.narrative = ask("What happened (may include PHI; stored encrypted)")?;
    Ok(a)
}

/// The guided interview: one screen per step of 164.402, plain-language questions,
/// structured answers and a free-text rationale.
pub fn assessment(facts: &mut Facts, input: &mut impl BufRead, out: &mut impl Write) -> Result<()> {
    let mut io = Prompt { input, out };
    io.screen("1/6  Was the PHI secured?  (74 FR 19006; safe harbor)")?;
    let s = &mut facts.security;
    s.encrypted = io.yes_no("Was the data encrypted consistent with HHS guidance (NIST SP 800-111 at rest, FIPS 140-2 in motion)?", s.encrypted)?;
    if s.encrypted {
        s.key_compromised = io.yes_no(
            "Was the key or password compromised, or kept with the data?",
            s.key_compromised,
        )?;
        s.device_state = Some(io.choice(
            "What state was the device in when it happened?",
            DeviceState::ALL,
            |d| d.key(),
        )?);
    }
    if io.yes_no(
        "Does the incident concern disposal of paper or media?",
        s.destruction.is_some(),
    )? {
        s.destruction = Some(io.choice(
            "How were they destroyed?",
            DestructionMethod::ALL,
            |d| d.key(),
        )?);
    }

    io.screen("2/6  Does a statutory exception apply?  (164.402(1))")?;
    let ex = &mut facts.exceptions;
    if io.yes_no("(i) Was it an unintentional access or use by a workforce member or person acting under your authority?", ex.workforce_good_faith.is_some())? {
        let w = ex.workforce_good_faith.get_or_insert_with(Default::default);
        w.under_authority = true;
        w.good_faith = io.yes_no("  Was it made in good faith? (Looking without a job need is never good faith.)", w.good_faith)?;
        w.within_scope = io.yes_no("  Was it within the scope of the person's authority?", w.within_scope)?;
        w.further_disclosure = io.yes_no("  Was the PHI further used or disclosed in a way the Privacy Rule does not permit?", w.further_disclosure)?;
        w.rationale = io.text("  Rationale")?;
    }
    if io.yes_no("(ii) Was it an inadvertent disclosure between two people authorized at your organization (or its OHCA)?", ex.authorized_to_authorized.is_some())? {
        let x = ex.authorized_to_authorized.get_or_insert_with(Default::default);
        x.discloser_authorized = true;
        x.inadvertent = true;
        x.recipient_authorized_same_entity = io.yes_no("  Is the recipient authorized to access PHI at the same entity or OHCA?", x.recipient_authorized_same_entity)?;
        x.further_disclosure = io.yes_no("  Was the PHI further used or disclosed impermissibly?", x.further_disclosure)?;
        x.rationale = io.text("  Rationale")?;
    }
    if io.yes_no("(iii) Do you believe in good faith that the recipient could not reasonably have retained the PHI?", ex.could_not_retain.is_some())? {
        let x = ex.could_not_retain.get_or_insert_with(Default::default);
        x.good_faith_belief = true;
        x.basis = io.text("  What supports that belief (e.g. mail returned unopened)?")?;
    }

    let asm = &mut facts.assessment;
    io.screen("3/6  Factor (i): nature and extent of the PHI  (164.402(2)(i))")?;
    asm.nature.answered = true;
    asm.nature.direct_identifiers = io.yes_no(
        "Were direct identifiers involved (name, address, SSN, MRN, member ID)?",
        asm.nature.direct_identifiers,
    )?;
    asm.nature.financial = io.yes_no(
        "Were SSN, driver's licence, or financial/account data involved?",
        asm.nature.financial,
    )?;
    asm.nature.clinical = io.yes_no(
        "Was clinical detail involved (diagnoses, medications, results)?",
        asm.nature.clinical,
    )?;
    if io.yes_no("Were especially sensitive categories involved (mental health, substance use, HIV/STI, reproductive, genetic)?", !asm.nature.sensitive.is_empty())? {
        asm.nature.sensitive = vec![io.choice("Which one (the most sensitive)?", SensitiveCategory::ALL, |c| c.key())?];
    }
    if !asm.nature.direct_identifiers {
        asm.nature.reidentifiable = io.yes_no(
            "Could the data plausibly be re-identified?",
            asm.nature.reidentifiable,
        )?;
    }
    asm.nature.rationale = io.text("Rationale")?;

    io.screen("4/6  Factor (ii): the unauthorized person  (164.402(2)(ii))")?;
    asm.recipient.kind = Some(io.choice(
        "Who used or received the PHI?",
        RecipientKind::ALL,
        |k| k.key(),
    )?);
    asm.recipient.rationale = io.text("Rationale")?;

    io.screen("5/6  Factor (iii): was the PHI actually acquired or viewed?  (164.402(2)(iii))")?;
    const ACQ: &[AcquisitionStatus] = &[
        AcquisitionStatus::NotAcquiredEvidence,
        AcquisitionStatus::NotAcquiredNoEvidence,
        AcquisitionStatus::Acquired,
        AcquisitionStatus::Viewed,
        AcquisitionStatus::Exfiltrated,
        AcquisitionStatus::Unknown,
    ];
    asm.acquired.status = Some(io.choice("What do you know?", ACQ, |a| match a {
        AcquisitionStatus::NotAcquiredEvidence => "not_acquired_evidence",
        AcquisitionStatus::NotAcquiredNoEvidence => "not_acquired_no_evidence",
        AcquisitionStatus::Acquired => "acquired",
        AcquisitionStatus::Viewed => "viewed",
        AcquisitionStatus::Exfiltrated => "exfiltrated",
        AcquisitionStatus::Unknown => "unknown",
    })?);
    asm.acquired.rationale = io.text("Rationale (e.g. forensic report reference)")?;

    io.screen("6/6  Factor (iv): how far has the risk been mitigated?  (164.402(2)(iv))")?;
    const MIT: &[MitigationStatus] = &[
        MitigationStatus::AttestedDestruction,
        MitigationStatus::Returned,
        MitigationStatus::RemoteWiped,
        MitigationStatus::Partial,
        MitigationStatus::None,
        MitigationStatus::Unknown,
    ];
    asm.mitigation.status = Some(io.choice("What mitigation is in place?", MIT, |m| match m {
        MitigationStatus::AttestedDestruction => "attested_destruction",
        MitigationStatus::Returned => "returned",
        MitigationStatus::RemoteWiped => "remote_wiped",
        MitigationStatus::Partial => "partial",
        MitigationStatus::None => "none",
        MitigationStatus::Unknown => "unknown",
    })?);
    asm.mitigation.rationale = io.text("Rationale")?;
    Ok(())
}

struct Prompt<'a, R, W> {
    input: &'a mut R,
    out: &'a mut W,
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

    fn yes_no(&mut self, q: &str, default: bool) -> Result<bool> {
        loop {
            self.say(&format!("{q} [{}] ", if default { "Y/n" } else { "y/N" }))?;
            match self.line()?.to_ascii_lowercase().as_str() {
                "" => return Ok(default),
                "y" | "yes" => return Ok(true),
                "n" | "no" => return Ok(false),
                _ => self.say("  please answer y or n\n")?,
            }
        }
    }

    fn choice<T: Copy>(
        &mut self,
        q: &str,
        options: &[T],
        key: impl Fn(&T) -> &'static str,
    ) -> Result<T> {
        loop {
            self.say(&format!("{q}\n"))?;
            for (i, o) in options.iter().enumerate() {
                self.say(&format!("  {}) {}\n", i + 1, key(o)))?;
            }
            self.say("> ")?;
            let a = self.line()?;
            if let Ok(n) = a.parse::<usize>()
                && (1..=options.len()).contains(&n)
            {
                return Ok(options[n - 1]);
            }
            if let Some(o) = options.iter().find(|o| key(o) == a) {
                return Ok(*o);
            }
            self.say("  please answer with a number from the list\n")?;
        }
    }

    fn text(&mut self, q: &str) -> Result<String> {
        self.say(&format!("{q}: "))?;
        self.line()
    }
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
mod incident_tests {
    use super::*;
    use chrono::NaiveDate;
    #[test]
    fn interview_builds_fact_flags() {
        let answers = "Lost binder\n2026-05-02\nn\n\ntheft,loss\npaper_films\n42\nCA=40,NV=2\nLeft on a bus\n";
        let mut out = Vec::new();
        let a = incident(&mut answers.as_bytes(), &mut out).expect("answers");
        let mut f = Facts::default();
        a.apply(&mut f).expect("valid");
        assert_eq!(f.title, "Lost binder");
        assert_eq!(f.breach.discovered, NaiveDate::from_ymd_opt(2026, 5, 2));
        assert_eq!(f.breach.start, None);
        assert_eq!(f.breach.types.len(), 2);
        assert_eq!(f.individuals.by_state.get("NV"), Some(&2));
        assert_eq!(f.breach.narrative, "Left on a bus");
        let e = incident(
            &mut "x\n2026-05-02\n\n\n\n\nmany\n".as_bytes(),
            &mut Vec::new(),
        )
        .expect_err("not a number");
        assert!(e.to_string().contains("whole number"));
    }

    /// Issue 11: the interview records the events that bear on discovery.
    #[test]
    fn interview_records_discovery_events() {
        let answers = "Phish\n\ny\n2026-04-01\nworkforce_member\nshould_have_known\nalert \"ignored\", not reviewed\ny\n2026-04-03\nwrongdoer\nlearned\n\nn\n\n\n\n\n\nnarrative\n";
        let a = incident(&mut answers.as_bytes(), &mut Vec::new()).expect("answers");
        let mut f = Facts::default();
        a.apply(&mut f).expect("valid");
        assert_eq!(f.breach.discovered, None);
        assert_eq!(f.discovery_events.len(), 2);
        assert_eq!(f.discovery_events[0].kind, DiscoveryKind::ShouldHaveKnown);
        assert_eq!(
            f.discovery_events[0].description,
            "alert \"ignored\", not reviewed"
        );
        assert_eq!(f.discovery_events[1].who, DiscoveryWho::Wrongdoer);
        let d = crate::rules::discovery::discover(&f, Role::CoveredEntity);
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2026, 4, 1));
        let e = incident(
            &mut "x\n\ny\n2026-04-01\njanitor\n".as_bytes(),
            &mut Vec::new(),
        )
        .expect_err("unknown who");
        assert!(e.to_string().contains("workforce_member"), "{e}");
    }
}

#[cfg(test)]
mod assessment_tests {
    use super::*;

    #[test]
    fn interview_answers_every_screen() {
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
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("164.402(2)(iv)"));
    }

    #[test]
    fn interview_cut_short_is_an_error() {
        let mut facts = Facts::default();
        let e = assessment(&mut facts, &mut "n\n".as_bytes(), &mut Vec::new()).expect_err("short");
        assert!(e.to_string().contains("nothing was recorded"));
    }
}
