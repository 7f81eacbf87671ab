//! Built-in sample data: fictitious, PHI-free. Used by `check` to prove that templates
//! carry their required elements and render whatever is or is not known, by the golden-file
//! tests, and by the print tests (the full sample is the longest letter the templates
//! write: every kind of data, every step, a credit-monitoring offer).

use super::context::*;

fn s(x: &str) -> String {
    x.to_string()
}

/// The sample organization: every contact channel present.
pub fn sample_org() -> OrgContext {
    OrgContext {
        legal_name: Some(s("Lakeside Community Hospital")),
        address: Some(s("100 Harbor Road, Lakeside, CA 90000")),
        privacy_officer: Some(s("Dana Privacy, Privacy Officer")),
        toll_free: Some(s("1-800-555-0100")),
        email: Some(s("privacy@lakeside.example")),
        website: Some(s("https://www.lakeside.example/notice")),
        postal_address: Some(s("Privacy Office, 100 Harbor Road, Lakeside, CA 90000")),
        business_associate: false,
        other_contacts: None,
    }
}

/// The sample's counsel-written "What We Are Doing." (164.404(c)(1)(D)).
pub const SAMPLE_DOING: [&str; 3] = [
    "We reported the theft to the police and are working with a forensic firm to learn exactly which records the laptop held.",
    "We have disabled the laptop's access to our systems and reset the passwords it stored.",
    "We are encrypting every laptop and retraining staff on keeping devices secure.",
];

/// The sample's internal actions list, the default for (D) when counsel wrote none.
pub const SAMPLE_ACTIONS: [&str; 2] = [
    "Reported the theft to the police.",
    "Encrypted every laptop and retrained staff.",
];

fn sample_incident() -> IncidentContext {
    IncidentContext {
        id: s("2025-0007"),
        title: Some(s("Stolen laptop, cardiology")),
        breach_start: Some(s("January 10, 2025")),
        breach_end: Some(s("January 11, 2025")),
        breach_one_day: false,
        discovered: Some(s("January 14, 2025")),
        public_summary: Some(s(
            "A laptop used by our cardiology clinic was stolen from a staff car. The laptop held clinic schedules and billing worksheets.",
        )),
        types: [("theft", true)].into_iter().collect(),
        locations: vec![[("laptop", true)].into_iter().collect()],
        phi_involved: vec![
            s("Name"),
            s("Date of birth"),
            s("Social Security number"),
            s("Medical record number"),
            s("Health plan member ID"),
            s("Diagnosis/conditions"),
            s("Credit card/bank account number"),
        ],
        involves: [
            ("credit", true),
            ("identity_numbers", true),
            ("financial", true),
            ("medical", true),
            ("health_plan_id", true),
        ]
        .into_iter()
        .collect(),
        doing: Some(DoingContext {
            investigate: Some(s(SAMPLE_DOING[0])),
            mitigate: Some(s(SAMPLE_DOING[1])),
            prevent: Some(s(SAMPLE_DOING[2])),
        }),
        actions: SAMPLE_ACTIONS.iter().map(|a| s(a)).collect(),
        credit_monitoring: Some(CreditContext {
            provider: s("Example Credit Watch"),
            enrollment_url: Some(s("https://enroll.example.com/lakeside")),
            enroll_by: Some(s("May 31, 2025")),
            months: Some(24),
        }),
        business_associate: Some(BaContext {
            name: s("Harbor IT Services"),
            discovered: Some(s("January 12, 2025")),
        }),
        notice_date: s("February 20, 2025"),
        what_happened: None,
        what_we_are_doing: Vec::new(),
        what_you_can_do: Vec::new(),
    }
}

/// The sample recipient of an individual letter.
pub fn sample_recipient() -> RecipientContext {
    RecipientContext {
        id: s("R-000001"),
        name: s("Jordan Sample"),
        address_lines: vec![s("12 Elm Street"), s("Apt 3")],
        city: s("Lakeside"),
        state: s("CA"),
        zip: s("90001-1234"),
        email: s("jordan@example.com"),
        deceased_name: None,
        minor_name: None,
        credit_code: Some(s("LKS-4F7Q-93KD")),
        first_name: s("Jordan"),
        last_name: s("Sample"),
    }
}

/// One recipient of every kind: an adult, a minor with and without a named parent, the next
/// of kin of a deceased individual.
pub fn sample_recipients() -> Vec<RecipientContext> {
    let adult = sample_recipient();
    let minor = RecipientContext {
        id: s("R-000002"),
        name: s("Pat Sample"),
        minor_name: Some(s("Casey Sample")),
        credit_code: Some(s("LKS-7H2M-11XA")),
        ..adult.clone()
    };
    let minor_unnamed_parent = RecipientContext {
        id: s("R-000003"),
        name: String::new(),
        address_lines: vec![s("40 Lake Drive")],
        minor_name: Some(s("Riley Example")),
        credit_code: None,
        ..adult.clone()
    };
    let next_of_kin = RecipientContext {
        id: s("R-000004"),
        name: s("Morgan Kin"),
        address_lines: vec![s("3 Oak Avenue")],
        city: s("Reno"),
        state: s("NV"),
        zip: s("89501"),
        email: String::new(),
        deceased_name: Some(s("Avery Sample")),
        minor_name: None,
        credit_code: None,
        first_name: s("Avery"),
        last_name: s("Sample"),
    };
    vec![adult, minor, minor_unnamed_parent, next_of_kin]
}

/// A complete, fictitious context that every template can render: everything known.
pub fn sample_context(exercise: bool) -> LetterContext {
    let hhs = HhsWorksheet {
        report_type: ReportType::Initial,
        entity_type: s("Healthcare Provider"),
        filer_is_business_associate: false,
        covered_entity: Party {
            name: Some(s("Lakeside Community Hospital")),
            address: Some(s("100 Harbor Road, Lakeside, CA 90000")),
        },
        business_associate_involved: true,
        business_associate: Some(Party {
            name: Some(s("Harbor IT Services")),
            address: Some(s("5 Dock Street, Lakeside, CA 90002")),
        }),
        contact: Contact {
            name: Some(s("Dana Privacy, Privacy Officer")),
            phone: Some(s("1-800-555-0100")),
            email: Some(s("privacy@lakeside.example")),
            address: Some(s("Privacy Office, 100 Harbor Road, Lakeside, CA 90000")),
        },
        breach_start: Some(s("2025-01-10")),
        breach_end: Some(s("2025-01-11")),
        discovery_start: Some(s("2025-01-12")),
        discovery_end: Some(s("2025-01-14")),
        discovered_by_business_associate: Some(s("2025-01-12")),
        discovered_by_covered_entity: Some(s("2025-01-14")),
        individuals_affected: 1234,
        breach_types: vec![s("Theft")],
        locations: vec![s("Laptop")],
        phi_clinical: vec![s("Diagnosis/conditions")],
        phi_demographic: vec![s("Name"), s("Date of birth"), s("Medical record number")],
        phi_financial: vec![],
        phi_other: vec![],
        safeguards: vec![s("Password protection"), s("Physical security")],
        actions_taken: vec![s("Adopted encryption"), s("Retrained workforce")],
        substitute_notice_required: true,
        media_notice_required: true,
        individual_notice_began: Some(s("2025-02-20")),
        description: Some(s(
            "A laptop holding clinic schedules was stolen from a staff car.",
        )),
    };
    LetterContext::new(sample_org(), sample_incident(), exercise)
        .with_recipient(sample_recipient())
        .with_media(MediaContext {
            state_name: s("California"),
            count_in_state: 1100,
        })
        .with_substitute(SubstituteContext {
            posting_start: s("February 20, 2025"),
            posting_end: s("May 21, 2025"),
            toll_free_start: s("February 20, 2025"),
            toll_free_end: s("May 21, 2025"),
            unreachable_count: 42,
        })
        .with_hhs(hhs)
        .with_ba_to_ce(BaToCeContext {
            ba_name: s("Harbor IT Services"),
            ce_name: s("Lakeside Community Hospital"),
            individuals_count: 1234,
            by_state: vec![
                StateCount {
                    state_name: s("California"),
                    count: 1100,
                },
                StateCount {
                    state_name: s("Nevada"),
                    count: 134,
                },
            ],
            attachment_name: s("2025-0007-individuals.csv"),
        })
        .with_le_delay(LeDelayContext {
            agency: s("FBI Los Angeles field office"),
            official: Some(s("Special Agent Lee Example")),
            oral: true,
            statement_date: s("January 20, 2025"),
            delay_end: Some(s("February 19, 2025")),
            policy: s("law-enforcement delay policy later_of: deadline = later of original deadline and delay end"),
        })
        .with_regulator(RegulatorContext {
            jurisdiction: s("CA"),
            state_name: s("California"),
            rule_id: s("ag"),
            name: s("California Attorney General"),
            residents: 1100,
            total_individuals: 1234,
            cite: s("Cal. Civ. Code 1798.82(f)"),
            standard: s("within 15 calendar days of notifying residents"),
            due: Some(s("March 7, 2025")),
            method: Some(s("electronic submission of a single sample copy of the notice through the Attorney General's web form")),
            condition: None,
            content: vec![s("a sample copy of the notice, without personally identifiable information")],
            le_delayed: true,
            no_harm: false,
            before_residents: false,
            residents_notified: Some(s("February 20, 2025")),
            sample_copy: Some(s("state_regulator-CA-ag-sample-copy.txt")),
            verified: true,
            provenance: s("verified against statute text: 1798.82(f) at https://example.org/ca (read 2026-11-30)"),
            effective: s("January 1, 2026"),
        })
}

/// The same incident early on, when little is known: no dates, no public summary, no
/// business associate, no counsel-written (D) nor offer; an organization with only the
/// required contacts. Every template must still render it (saying "not yet known"), never
/// print a blank.
pub fn sparse_context() -> LetterContext {
    let mut c = sample_context(false);
    c.org = OrgContext {
        legal_name: Some(s("Lakeside Community Hospital")),
        toll_free: Some(s("1-800-555-0100")),
        email: Some(s("privacy@lakeside.example")),
        ..OrgContext::default()
    };
    let i = &mut c.incident;
    i.title = None;
    i.breach_start = None;
    i.breach_end = None;
    i.discovered = None;
    i.public_summary = None;
    i.types.clear();
    i.locations.clear();
    i.phi_involved = vec![s("Name"), s("Address/ZIP")];
    i.involves.clear();
    i.doing = None;
    i.credit_monitoring = None;
    i.business_associate = None;
    if let Some(h) = c.hhs.as_mut() {
        h.business_associate_involved = false;
        h.business_associate = None;
        h.covered_entity.address = None;
        h.contact = Contact {
            email: Some(s("privacy@lakeside.example")),
            ..Contact::default()
        };
        h.breach_start = None;
        h.breach_end = None;
        h.discovery_start = None;
        h.discovery_end = None;
        h.discovered_by_business_associate = None;
        h.discovered_by_covered_entity = None;
        h.individual_notice_began = None;
        h.description = None;
    }
    if let Some(l) = c.le_delay.as_mut() {
        l.official = None;
        l.delay_end = None;
    }
    if let Some(r) = c.regulator.as_mut() {
        r.due = None;
        r.method = None;
        r.content.clear();
        r.le_delayed = false;
        r.residents_notified = None;
        r.sample_copy = None;
        r.verified = false;
        r.provenance = s("UNVERIFIED against statute text (source: a reference summary)");
    }
    if let Some(r) = c.recipient.as_mut() {
        r.credit_code = None;
        r.address_lines.truncate(1);
        r.email.clear();
    }
    c
}

/// The full sample as a document of `kind` sees it: a next-of-kin letter goes to the next
/// of kin of a deceased individual; a business associate's own letter names no other
/// business associate.
pub fn sample_for(kind: super::LetterKind, exercise: bool) -> LetterContext {
    let mut ctx = sample_context(exercise);
    if kind == super::LetterKind::BaToCe {
        ctx.org.legal_name = Some(s("Harbor IT Services"));
        ctx.org.business_associate = true;
        ctx.incident.business_associate = None;
    }
    if kind == super::LetterKind::NextOfKin {
        ctx.recipient = sample_recipients()
            .into_iter()
            .find(|r| r.deceased_name.is_some());
    }
    ctx
}
