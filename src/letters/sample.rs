//! Built-in sample data: fictitious, PHI-free, every part filled. Used by `check` to prove
//! that templates carry their required elements, and by the golden-file tests.

use super::context::*;

fn s(x: &str) -> String {
    x.to_string()
}

/// A complete, fictitious context that every template can render.
pub fn sample_context(exercise: bool) -> LetterContext {
    let org = OrgContext {
        legal_name: s("Lakeside Community Hospital"),
        address: s("100 Harbor Road, Lakeside, CA 90000"),
        privacy_officer: s("Dana Privacy, Privacy Officer"),
        toll_free: s("1-800-555-0100"),
        email: s("privacy@lakeside.example"),
        website: s("https://www.lakeside.example/notice"),
        postal_address: s("Privacy Office, 100 Harbor Road, Lakeside, CA 90000"),
        other_contacts: String::new(),
    }
    .with_other_contacts();
    let incident = IncidentContext {
        id: s("2025-0007"),
        title: s("Stolen laptop, cardiology"),
        breach_start: s("2025-01-10"),
        breach_end: s("2025-01-10"),
        discovered: s("2025-01-14"),
        what_happened: s(
            "A laptop used by our cardiology clinic was stolen from a staff car. The laptop held clinic schedules.",
        ),
        phi_involved: vec![
            s("Name"),
            s("Date of birth"),
            s("Medical record number"),
            s("Diagnosis/conditions"),
        ],
        what_we_are_doing: vec![
            s("We reported the theft to the police."),
            s("We are encrypting every laptop and retraining staff."),
        ],
        what_you_can_do: vec![
            s("Review the statements from your health plan and providers."),
            s("Call us if you see a service you did not receive."),
        ],
        notice_date: s("2025-02-20"),
    };
    let recipient = RecipientContext {
        id: s("R-000001"),
        name: s("Jordan Sample"),
        address_lines: vec![s("12 Elm Street"), s("Apt 3")],
        city: s("Lakeside"),
        state: s("CA"),
        zip: s("90001"),
        email: s("jordan@example.com"),
        deceased_name: Some(s("Avery Sample")),
    };
    let hhs = HhsWorksheet {
        report_type: ReportType::Initial,
        filer_name: s("Lakeside Community Hospital"),
        entity_type: s("Healthcare Provider"),
        filer_is_business_associate: false,
        business_associate_involved: true,
        business_associate_name: s("Harbor IT Services"),
        breach_start: s("2025-01-10"),
        breach_end: s("2025-01-10"),
        discovery_start: s("2025-01-14"),
        discovery_end: s("2025-01-14"),
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
        individual_notice_began: s("2025-02-20"),
        description: s("Stolen laptop, cardiology"),
    };
    LetterContext::new(org, incident, exercise)
        .with_recipient(recipient)
        .with_media(MediaContext {
            state_name: s("California"),
            count_in_state: 1100,
        })
        .with_substitute(SubstituteContext {
            posting_start: s("2025-02-20"),
            posting_end: s("2025-05-21"),
            toll_free_start: s("2025-02-20"),
            toll_free_end: s("2025-05-21"),
            unreachable_count: 42,
        })
        .with_hhs(hhs)
        .with_ba_to_ce(BaToCeContext {
            ba_name: s("Harbor IT Services"),
            ce_name: s("Lakeside Community Hospital"),
            individuals_count: 1234,
            list_summary: vec![s("California: 1100"), s("Nevada: 134")],
            attachment_name: s("2025-0007-individuals.csv"),
        })
        .with_le_delay(LeDelayContext {
            agency: s("FBI Los Angeles field office"),
            official: s("Special Agent Lee Example"),
            statement_kind: s("oral"),
            statement_date: s("2025-01-20"),
            delay_end: s("2025-02-19"),
            policy: s("law-enforcement delay policy later_of: deadline = later of original deadline and delay end"),
        })
}
