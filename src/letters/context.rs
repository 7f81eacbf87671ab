//! The data a letter template sees. These are output types, separate from the domain types:
//! a template names `incident.discovered`, never a domain field, so the domain can change
//! without breaking counsel's edited templates.
//!
//! Optional parts (`recipient`, `media`, ...) are left out of the serialized data when
//! absent, so a template that needs one fails in strict mode with the field's name instead
//! of printing a blank.

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::domain::vocab::{DataElement, state_name};
use crate::domain::{Counts, Facts, LawEnforcementStatement, LePolicy, Organization, Role};
use crate::domain::{StatementKind, vocab::EntityType};

/// Printed at the top and bottom of every text letter and on every HTML page of an exercise.
pub const EXERCISE_WATERMARK: &str = "EXERCISE — NOT A REAL NOTICE";

/// Substitute-notice posting and toll-free line last at least 90 days, 164.404(d)(2)(ii).
pub const SUBSTITUTE_DAYS: u64 = 90;

/// A date as letters print it: `YYYY-MM-DD`, or "unknown".
pub fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(
        || "unknown".to_string(),
        |d| d.format("%Y-%m-%d").to_string(),
    )
}

fn plus_days(d: NaiveDate, days: u64) -> String {
    fmt_date(d.checked_add_days(Days::new(days)))
}

/// Everything one rendering needs. Build with [`LetterContext::new`] and the `with_*`
/// methods; each kind needs the parts its template names (see `letters::registry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterContext {
    /// A tabletop exercise: every output carries [`EXERCISE_WATERMARK`].
    pub exercise: bool,
    pub org: OrgContext,
    pub incident: IncidentContext,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub substitute: Option<SubstituteContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hhs: Option<HhsWorksheet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ba_to_ce: Option<BaToCeContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub le_delay: Option<LeDelayContext>,
}

impl LetterContext {
    pub fn new(org: OrgContext, incident: IncidentContext, exercise: bool) -> LetterContext {
        LetterContext {
            exercise,
            org,
            incident,
            recipient: None,
            media: None,
            substitute: None,
            hhs: None,
            ba_to_ce: None,
            le_delay: None,
        }
    }

    /// Sets the recipient; cheap to call once per letter in a batch.
    pub fn with_recipient(mut self, r: RecipientContext) -> LetterContext {
        self.recipient = Some(r);
        self
    }

    pub fn with_media(mut self, m: MediaContext) -> LetterContext {
        self.media = Some(m);
        self
    }

    pub fn with_substitute(mut self, s: SubstituteContext) -> LetterContext {
        self.substitute = Some(s);
        self
    }

    pub fn with_hhs(mut self, h: HhsWorksheet) -> LetterContext {
        self.hhs = Some(h);
        self
    }

    pub fn with_ba_to_ce(mut self, b: BaToCeContext) -> LetterContext {
        self.ba_to_ce = Some(b);
        self
    }

    pub fn with_le_delay(mut self, l: LeDelayContext) -> LetterContext {
        self.le_delay = Some(l);
        self
    }
}

/// The sender, and the contact procedures of 164.404(c)(1)(E).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgContext {
    pub legal_name: String,
    pub address: String,
    pub privacy_officer: String,
    pub toll_free: String,
    pub email: String,
    pub website: String,
    pub postal_address: String,
    /// The contact channels other than the toll-free number that the organization has,
    /// joined in plain language ("e-mail x, visit y, or write to z"); never a blank slot.
    pub other_contacts: String,
}

impl OrgContext {
    /// Fills `other_contacts` from the e-mail, web site and postal address present.
    pub fn with_other_contacts(mut self) -> OrgContext {
        let mut parts = Vec::new();
        if !self.email.trim().is_empty() {
            parts.push(format!("e-mail {}", self.email.trim()));
        }
        if !self.website.trim().is_empty() {
            parts.push(format!("visit {}", self.website.trim()));
        }
        if !self.postal_address.trim().is_empty() {
            parts.push(format!("write to {}", self.postal_address.trim()));
        }
        self.other_contacts = match parts.len() {
            0 => String::new(),
            1 => parts.remove(0),
            2 => format!("{} or {}", parts[0], parts[1]),
            _ => format!("{}, {} or {}", parts[0], parts[1], parts[2]),
        };
        self
    }

    pub fn from_org(o: &Organization) -> OrgContext {
        OrgContext {
            legal_name: o.legal_name.clone(),
            address: o.address.clone(),
            privacy_officer: o.privacy_officer.clone(),
            toll_free: o.toll_free.clone(),
            email: o.email.clone(),
            website: o.website.clone(),
            postal_address: o.postal_address.clone(),
            other_contacts: String::new(),
        }
        .with_other_contacts()
    }
}

/// What happened, in the plain language of 164.404(c)(1)(A)–(D).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IncidentContext {
    pub id: String,
    pub title: String,
    pub breach_start: String,
    pub breach_end: String,
    pub discovered: String,
    /// Plain-language narrative for the letter (A). Counsel writes it; it must not name
    /// any individual.
    pub what_happened: String,
    /// Labels of the PHI involved (B).
    pub phi_involved: Vec<String>,
    /// Investigation, mitigation and prevention (D).
    pub what_we_are_doing: Vec<String>,
    /// Steps individuals should take (C); see [`default_steps`].
    pub what_you_can_do: Vec<String>,
    pub notice_date: String,
}

impl IncidentContext {
    /// Fills dates, PHI labels, actions and default protective steps from the facts.
    /// `what_happened` is counsel's plain-language narrative, not the internal one.
    /// The discovery date is the organization's own (164.404(a)(2)): the typed date or the
    /// earliest discovery event that counts for `role`.
    pub fn from_facts(
        id: &str,
        facts: &Facts,
        role: Role,
        what_happened: &str,
        notice_date: NaiveDate,
    ) -> IncidentContext {
        IncidentContext {
            id: id.to_string(),
            title: facts.title.clone(),
            breach_start: fmt_date(facts.breach.start),
            breach_end: fmt_date(facts.breach.end),
            discovered: fmt_date(crate::rules::discovery::discover(facts, role).date),
            what_happened: what_happened.to_string(),
            phi_involved: facts
                .breach
                .phi
                .iter()
                .map(|e| e.label().to_string())
                .collect(),
            what_we_are_doing: facts.breach.actions.clone(),
            what_you_can_do: default_steps(&facts.breach.phi),
            notice_date: fmt_date(Some(notice_date)),
        }
    }
}

/// Default protective steps (164.404(c)(1)(C)) chosen from the data elements involved, in
/// a fixed order so output is reproducible.
pub fn default_steps(elements: &[DataElement]) -> Vec<String> {
    use DataElement::*;
    let has = |xs: &[DataElement]| xs.iter().any(|x| elements.contains(x));
    let mut steps = Vec::new();
    if has(&[Ssn, DriversLicense, FinancialAccount, OtherFinancial]) {
        steps.push("Place a free security freeze or fraud alert on your credit file with each of the three nationwide credit bureaus: Equifax (1-800-685-1111), Experian (1-888-397-3742) and TransUnion (1-888-909-8872).".to_string());
        steps.push("Get your free credit reports at www.annualcreditreport.com or 1-877-322-8228, check them for accounts you did not open, and enroll in any credit monitoring we offer.".to_string());
    }
    if has(&[Ssn, DriversLicense]) {
        steps.push("If you think someone is using your identity, report it at www.identitytheft.gov or 1-877-438-4338 and to your local police.".to_string());
    }
    if has(&[FinancialAccount, OtherFinancial]) {
        steps.push("Call your bank or card issuer, watch your account statements for charges you did not make, and ask whether you should get a new account or card number.".to_string());
    }
    if has(&[
        HealthPlanId,
        MedicalRecordNumber,
        Claims,
        Diagnosis,
        LabResults,
        Medications,
        OtherTreatment,
    ]) {
        steps.push("Review the Explanation of Benefits (EOB) statements from your health plan and the bills from your providers. If you see a service you did not receive, call the plan or provider.".to_string());
    }
    if has(&[HealthPlanId]) {
        steps.push("Ask your health plan whether you should get a new member ID card.".to_string());
    }
    steps.push(
        "Be careful with calls, e-mails or letters that ask for your personal information. We will never ask for your Social Security number or passwords by phone or e-mail.".to_string(),
    );
    steps
}

/// One addressee. For a next-of-kin letter (164.404(d)(1)(ii)) the recipient is the next of
/// kin or personal representative and `deceased_name` names the individual.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecipientContext {
    pub id: String,
    pub name: String,
    pub address_lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased_name: Option<String>,
}

/// Notice to prominent media outlets serving a State, 164.406.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MediaContext {
    pub state_name: String,
    pub count_in_state: u64,
}

impl MediaContext {
    /// `state` is a two-letter code of 45 CFR 160.103 (unknown codes print as given).
    pub fn new(state: &str, count_in_state: u64) -> MediaContext {
        MediaContext {
            state_name: state_name(state).to_string(),
            count_in_state,
        }
    }
}

/// Substitute notice for individuals who cannot be reached, 164.404(d)(2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubstituteContext {
    pub posting_start: String,
    pub posting_end: String,
    pub toll_free_start: String,
    pub toll_free_end: String,
    pub unreachable_count: u64,
}

impl SubstituteContext {
    /// Ends are start + 90 days, 164.404(d)(2)(ii)(A)–(B).
    pub fn new(
        posting_start: NaiveDate,
        toll_free_start: NaiveDate,
        unreachable_count: u64,
    ) -> SubstituteContext {
        SubstituteContext {
            posting_start: fmt_date(Some(posting_start)),
            posting_end: plus_days(posting_start, SUBSTITUTE_DAYS),
            toll_free_start: fmt_date(Some(toll_free_start)),
            toll_free_end: plus_days(toll_free_start, SUBSTITUTE_DAYS),
            unreachable_count,
        }
    }
}

/// HHS portal report type (reference § 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportType {
    Initial,
    Addendum,
}

/// The "Notice to the Secretary" worksheet: every portal field of reference § 6, filled in
/// portal vocabulary so counsel can copy it into the HHS portal as-is. Rendered as text by
/// the `hhs_notice` template and as JSON by [`super::hhs_worksheet_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HhsWorksheet {
    pub report_type: ReportType,
    pub filer_name: String,
    /// Portal "Covered Entity Type" label.
    pub entity_type: String,
    pub filer_is_business_associate: bool,
    pub business_associate_involved: bool,
    pub business_associate_name: String,
    pub breach_start: String,
    pub breach_end: String,
    pub discovery_start: String,
    pub discovery_end: String,
    pub individuals_affected: u64,
    pub breach_types: Vec<String>,
    pub locations: Vec<String>,
    pub phi_clinical: Vec<String>,
    pub phi_demographic: Vec<String>,
    pub phi_financial: Vec<String>,
    pub phi_other: Vec<String>,
    pub safeguards: Vec<String>,
    pub actions_taken: Vec<String>,
    pub substitute_notice_required: bool,
    pub media_notice_required: bool,
    pub individual_notice_began: String,
    /// Brief, PHI-free description for the portal.
    pub description: String,
}

impl HhsWorksheet {
    /// Fills the worksheet from the register. Discovery start and end both default to the
    /// discovery date; `substitute_notice_required` is set when any living individual is
    /// unreachable (164.404(d)(2)) and `media_notice_required` when a State or jurisdiction
    /// has more than 500 residents (164.406). The fields are public: overwrite them with the
    /// rules engine's obligations when they differ.
    pub fn from_facts(
        org: &Organization,
        facts: &Facts,
        counts: &Counts,
        report_type: ReportType,
        individual_notice_began: Option<NaiveDate>,
    ) -> HhsWorksheet {
        let group = |g: &str| -> Vec<String> {
            facts
                .breach
                .phi
                .iter()
                .filter(|e| e.group() == g)
                .map(|e| e.label().to_string())
                .collect()
        };
        let discovered = crate::rules::discovery::discover(facts, org.role).date;
        let entity_type = match org.role {
            Role::BusinessAssociate => EntityType::BusinessAssociate,
            Role::CoveredEntity => org.entity_type,
        };
        HhsWorksheet {
            report_type,
            filer_name: org.legal_name.clone(),
            entity_type: entity_type.label().to_string(),
            filer_is_business_associate: org.role == Role::BusinessAssociate,
            business_associate_involved: facts.business_associate.involved,
            business_associate_name: facts.business_associate.name.clone(),
            breach_start: fmt_date(facts.breach.start),
            breach_end: fmt_date(facts.breach.end),
            discovery_start: fmt_date(discovered),
            discovery_end: fmt_date(discovered),
            individuals_affected: counts.total,
            breach_types: facts
                .breach
                .types
                .iter()
                .map(|t| t.label().to_string())
                .collect(),
            locations: facts
                .breach
                .locations
                .iter()
                .map(|l| l.label().to_string())
                .collect(),
            phi_clinical: group("clinical"),
            phi_demographic: group("demographic"),
            phi_financial: group("financial"),
            phi_other: group("other"),
            safeguards: facts.breach.safeguards.clone(),
            actions_taken: facts.breach.actions.clone(),
            substitute_notice_required: counts.unreachable > 0,
            media_notice_required: counts.by_state.values().any(|n| *n > 500)
                || counts.by_jurisdiction.values().any(|n| *n > 500),
            individual_notice_began: fmt_date(individual_notice_began),
            description: facts.title.clone(),
        }
    }
}

/// Business associate's notice to the covered entity, 164.410(c). The individuals are
/// identified in a separate CSV attachment, never in the letter body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaToCeContext {
    pub ba_name: String,
    pub ce_name: String,
    pub individuals_count: u64,
    /// Summary lines, e.g. "California: 120".
    pub list_summary: Vec<String>,
    /// File name of the CSV that identifies each individual.
    pub attachment_name: String,
}

impl BaToCeContext {
    pub fn new(ba_name: &str, ce_name: &str, counts: &Counts, attachment_name: &str) -> Self {
        BaToCeContext {
            ba_name: ba_name.to_string(),
            ce_name: ce_name.to_string(),
            individuals_count: counts.total,
            list_summary: counts
                .by_state
                .iter()
                .map(|(st, n)| format!("{}: {n}", state_name(st)))
                .collect(),
            attachment_name: attachment_name.to_string(),
        }
    }
}

/// Memo to file documenting a law-enforcement delay, 164.412.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LeDelayContext {
    pub agency: String,
    pub official: String,
    /// "oral" or "written".
    pub statement_kind: String,
    pub statement_date: String,
    pub delay_end: String,
    /// Which deadline policy applied (reference § 4: a policy choice, always printed).
    pub policy: String,
}

/// An oral statement delays notice at most 30 days unless a written one follows, 164.412(b).
pub const ORAL_DELAY_DAYS: u64 = 30;

impl LeDelayContext {
    pub fn from_statement(s: &LawEnforcementStatement, policy: LePolicy) -> LeDelayContext {
        let (kind, end) = match s.kind {
            StatementKind::Written => ("written", fmt_date(s.until)),
            StatementKind::Oral => ("oral", plus_days(s.date, ORAL_DELAY_DAYS)),
        };
        LeDelayContext {
            agency: s.agency.clone(),
            official: s.official.clone(),
            statement_kind: kind.to_string(),
            statement_date: fmt_date(Some(s.date)),
            delay_end: end,
            policy: policy.describe().to_string(),
        }
    }
}
