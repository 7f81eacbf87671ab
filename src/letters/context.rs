//! The data a letter template sees: facts only. Every sentence of a letter lives in the
//! templates and their partials (`templates/partials/`), where counsel can change it; the
//! Rust side says what is known, never how to say it.
//!
//! These are output types, separate from the domain types: a template names
//! `incident.discovered`, never a domain field, so the domain can change without breaking
//! counsel's edited templates.
//!
//! **Nothing blank.** Every text field that is empty, every date that is unknown and every
//! part that does not apply is left out of the serialized data, never written as `""`. In
//! strict mode a template that prints such a field fails with the field's name instead of
//! printing a blank ("Dear :", "Media contact: , Org"); templates say what to print instead
//! with `{{#if …}}…{{else}}…{{/if}}` (e.g. the `date_unknown` partial: "not yet known").

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::domain::vocab::{BreachType, DataElement, EntityType, Location, state_name};
use crate::domain::{
    BaRelationship, Counts, Facts, LawEnforcementStatement, LePolicy, Organization, Role,
    StatementKind,
};

/// Printed at the top and bottom of every text letter and on every HTML page of an exercise.
pub const EXERCISE_WATERMARK: &str = "EXERCISE — NOT A REAL NOTICE";

/// Substitute-notice posting and toll-free line last at least 90 days, 164.404(d)(2)(ii).
pub const SUBSTITUTE_DAYS: u64 = 90;

/// A date as letters print it: "March 3, 2025".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%B %-d, %Y").to_string()
}

/// [`long_date`] of a date that may be unknown (`None`: left out of the data, so templates
/// print their "not yet known" wording).
pub fn opt_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(long_date)
}

/// A date as data files (the HHS worksheet, CSV, JSON) carry it: `YYYY-MM-DD`.
pub fn iso_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn plus_days(d: NaiveDate, days: u64) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(days))
}

/// `Some(trimmed)` for a non-blank string.
pub fn text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Everything one rendering needs. Build with [`LetterContext::new`] and the `with_*`
/// methods; each kind needs the parts its template names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterContext {
    /// A tabletop exercise: every output carries [`EXERCISE_WATERMARK`].
    pub exercise: bool,
    /// This copy goes by e-mail (164.404(d)(1)(i)): templates leave out the postal address
    /// block.
    #[serde(skip_serializing_if = "is_false")]
    pub email: bool,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regulator: Option<RegulatorContext>,
}

impl LetterContext {
    pub fn new(org: OrgContext, incident: IncidentContext, exercise: bool) -> LetterContext {
        LetterContext {
            exercise,
            email: false,
            org,
            incident,
            recipient: None,
            media: None,
            substitute: None,
            hhs: None,
            ba_to_ce: None,
            le_delay: None,
            regulator: None,
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

    pub fn with_regulator(mut self, r: RegulatorContext) -> LetterContext {
        self.regulator = Some(r);
        self
    }
}

/// The sender, and the contact procedures of 164.404(c)(1)(E). Blank fields are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_officer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toll_free: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
    /// The organization is a business associate (its letters go to covered entities).
    #[serde(skip_serializing_if = "is_false")]
    pub business_associate: bool,
    /// Release 0.1's field, kept so template sets stored by it keep rendering: the
    /// `contact_methods` partial's text (see [`super::Renderer::fill_legacy`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_contacts: Option<String>,
}

impl OrgContext {
    pub fn from_org(o: &Organization) -> OrgContext {
        OrgContext {
            legal_name: text(&o.legal_name),
            address: text(&o.address),
            privacy_officer: text(&o.privacy_officer),
            toll_free: text(&o.toll_free),
            email: text(&o.email),
            website: text(&o.website),
            postal_address: text(&o.postal_address),
            business_associate: o.role == Role::BusinessAssociate,
            other_contacts: None,
        }
    }
}

/// The business associate involved, named in letters (164.404(c)(1)(A): what happened).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaContext {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered: Option<String>,
}

/// "What We Are Doing." (164.404(c)(1)(D)) as counsel wrote it for this incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DoingContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub investigate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mitigate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prevent: Option<String>,
}

/// A credit-monitoring offer; the person's own code is `recipient.credit_code`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreditContext {
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enroll_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
}

/// What happened, as facts for the templates' plain language of 164.404(c)(1)(A)–(D).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IncidentContext {
    pub id: String,
    /// The internal title: for memos to file, never for notices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_end: Option<String>,
    /// The breach started and ended on the same known day.
    #[serde(skip_serializing_if = "is_false")]
    pub breach_one_day: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered: Option<String>,
    /// Counsel's plain-language "What Happened?" (`breach.public_summary`); it must not
    /// name anyone. Absent: the `what_happened` partial describes the incident from the
    /// facts below. The internal narrative never reaches a letter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_summary: Option<String>,
    /// Portal "Type of Breach" keys present, e.g. `{"theft": true}`.
    pub types: BTreeMap<&'static str, bool>,
    /// Portal locations, in the facts' order, each `{"laptop": true}`.
    pub locations: Vec<BTreeMap<&'static str, bool>>,
    /// Labels of the PHI involved (B), in the portal's vocabulary.
    pub phi_involved: Vec<String>,
    /// Kinds of data involved that call for particular protective steps (C): any of
    /// `credit` (data that enable credit fraud: SSN, driver's licence, financial account),
    /// `identity_numbers` (SSN, driver's licence), `financial`, `medical`, `health_plan_id`.
    pub involves: BTreeMap<&'static str, bool>,
    /// Counsel's "What We Are Doing." for this incident; absent when none was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doing: Option<DoingContext>,
    /// The internal list of actions taken (portal field), the default for (D).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_monitoring: Option<CreditContext>,
    /// The business associate involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_associate: Option<BaContext>,
    pub notice_date: String,
    /// Release 0.1's fields, kept so template sets stored by it keep rendering. They hold
    /// what the partials `what_happened` (its first line), `what_we_are_doing` and `steps`
    /// say, so the wording is still the templates' (see [`super::Renderer::fill_legacy`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_happened: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub what_we_are_doing: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub what_you_can_do: Vec<String>,
}

impl IncidentContext {
    /// The facts of an incident for its notices, dated `notice_date`. The discovery date is
    /// the organization's own (164.404(a)(2)): the typed date or the earliest discovery event
    /// that counts for `role`.
    pub fn from_facts(
        id: &str,
        facts: &Facts,
        role: Role,
        notice_date: NaiveDate,
    ) -> IncidentContext {
        let b = &facts.breach;
        let has = |xs: &[DataElement]| xs.iter().any(|x| b.phi.contains(x));
        let mut involves = BTreeMap::new();
        {
            use DataElement::*;
            for (key, elements) in [
                (
                    "credit",
                    &[Ssn, DriversLicense, FinancialAccount, OtherFinancial][..],
                ),
                ("identity_numbers", &[Ssn, DriversLicense][..]),
                ("financial", &[FinancialAccount, OtherFinancial][..]),
                (
                    "medical",
                    &[
                        HealthPlanId,
                        MedicalRecordNumber,
                        Claims,
                        Diagnosis,
                        LabResults,
                        Medications,
                        OtherTreatment,
                    ][..],
                ),
                ("health_plan_id", &[HealthPlanId][..]),
            ] {
                if has(elements) {
                    involves.insert(key, true);
                }
            }
        }
        let n = &facts.notice;
        let doing = DoingContext {
            investigate: text(&n.investigate),
            mitigate: text(&n.mitigate),
            prevent: text(&n.prevent),
        };
        let ba = &facts.business_associate;
        IncidentContext {
            id: id.to_string(),
            title: text(&facts.title),
            breach_start: opt_date(b.start),
            breach_end: opt_date(b.end),
            breach_one_day: b.start.is_some() && b.start == b.end,
            discovered: opt_date(crate::rules::discovery::discover(facts, role).date),
            public_summary: text(&b.public_summary),
            types: b
                .types
                .iter()
                .map(|t: &BreachType| (t.key(), true))
                .collect(),
            locations: b
                .locations
                .iter()
                .map(|l: &Location| BTreeMap::from([(l.key(), true)]))
                .collect(),
            phi_involved: b.phi.iter().map(|e| e.label().to_string()).collect(),
            involves,
            doing: (doing != DoingContext::default()).then_some(doing),
            actions: b.actions.iter().filter_map(|a| text(a)).collect(),
            credit_monitoring: n.credit_monitoring.as_ref().and_then(|c| {
                Some(CreditContext {
                    provider: text(&c.provider)?,
                    enrollment_url: text(&c.enrollment_url),
                    enroll_by: opt_date(c.enroll_by),
                    months: c.months.filter(|m| *m > 0),
                })
            }),
            business_associate: if ba.involved {
                text(&ba.name).map(|name| BaContext {
                    name,
                    discovered: opt_date(ba.discovered),
                })
            } else {
                None
            },
            notice_date: long_date(notice_date),
            what_happened: None,
            what_we_are_doing: Vec::new(),
            what_you_can_do: Vec::new(),
        }
    }
}

/// One addressee. Blank fields are absent. For a letter to the individual, `name` is
/// theirs; for a minor's letter (to the parent or guardian), `minor_name` is the child's and
/// `name` the parent's or guardian's when the roster gives it; for a next-of-kin letter
/// (164.404(d)(1)(ii)), `name` is the next of kin's and `deceased_name` the individual's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecipientContext {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub address_lines: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub city: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub state: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub zip: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minor_name: Option<String>,
    /// The person's own credit-monitoring enrollment code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
    /// For the mail vendor's file only (templates never see these): the individual's first
    /// and last name as the roster gives them (for a next-of-kin letter, the deceased's).
    #[serde(skip)]
    pub first_name: String,
    #[serde(skip)]
    pub last_name: String,
}

/// Who a letter is addressed to, for the mail vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressee {
    /// The individual.
    Individual,
    /// A minor's parent or guardian.
    ParentOrGuardian,
    /// The next of kin or personal representative of a deceased individual.
    NextOfKin,
}

impl Addressee {
    pub fn key(self) -> &'static str {
        match self {
            Addressee::Individual => "individual",
            Addressee::ParentOrGuardian => "parent_or_guardian",
            Addressee::NextOfKin => "next_of_kin",
        }
    }
}

impl RecipientContext {
    pub fn addressee(&self) -> Addressee {
        if self.deceased_name.is_some() {
            Addressee::NextOfKin
        } else if self.minor_name.is_some() {
            Addressee::ParentOrGuardian
        } else {
            Addressee::Individual
        }
    }
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

/// Notice to a State regulator (an Attorney General, a department of health, the State
/// police) under a State breach law, as the State's rules data describe it. The letter's
/// facts come from the incident; this part says who is notified, under which statute, how
/// many of the State's residents are affected, and what counsel must check before sending
/// (the statute's timing, method and content, and whether the rule was verified against
/// statute text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegulatorContext {
    /// The State's two-letter code.
    pub jurisdiction: String,
    pub state_name: String,
    /// The regulator's key in the State's rules (`ag`). (Field names avoid "recipient",
    /// which marks a letter's addressee data for the stencil analysis.)
    pub rule_id: String,
    /// Who is notified, e.g. "Texas Attorney General".
    pub name: String,
    /// Residents of the State among the individuals affected.
    pub residents: u64,
    /// All individuals affected.
    pub total_individuals: u64,
    /// The statute that requires this notice.
    pub cite: String,
    /// The statute's own words for the timing.
    pub standard: String,
    /// The deadline the engine computed (after any law-enforcement delay); absent when the
    /// statute gives no number of days or the discovery date is not recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// How the regulator takes the notice (online form, written notice, e-mail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The rule applies only to some entities (e.g. licensed health facilities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// What the statute says the notice must contain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<String>,
    /// A law-enforcement delay moved the incident's deadlines (164.412; most States ask
    /// whether notice was delayed for an investigation).
    #[serde(skip_serializing_if = "is_false")]
    pub le_delayed: bool,
    /// The notice reports a determination that harm is not likely (the residents are not
    /// notified), not a breach that residents are told of.
    #[serde(skip_serializing_if = "is_false")]
    pub no_harm: bool,
    /// The statute wants this notice before the residents are notified.
    #[serde(skip_serializing_if = "is_false")]
    pub before_residents: bool,
    /// The first notice to the residents on record, if they have been notified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residents_notified: Option<String>,
    /// The file name of the enclosed sample copy of the notice to residents, when the
    /// State asks for one (e.g. Cal. Civ. Code 1798.82(f)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_copy: Option<String>,
    /// The rule was verified against statute text.
    #[serde(skip_serializing_if = "is_false")]
    pub verified: bool,
    /// Where the rule was verified, or its source and "UNVERIFIED" when it was not.
    pub provenance: String,
    /// The effective date of the law version used.
    pub effective: String,
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
        let end = |d: NaiveDate| plus_days(d, SUBSTITUTE_DAYS).map(long_date);
        SubstituteContext {
            posting_start: long_date(posting_start),
            posting_end: end(posting_start).unwrap_or_default(),
            toll_free_start: long_date(toll_free_start),
            toll_free_end: end(toll_free_start).unwrap_or_default(),
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

/// A party named on the HHS worksheet (covered entity or business associate).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// The person HHS contacts about the report, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// The "Notice to the Secretary" worksheet: every portal field of reference § 6, filled in
/// portal vocabulary so counsel can copy it into the HHS portal as-is. Rendered as text by
/// the `hhs_notice` template (unknown values are absent, so the template says "not yet
/// known") and as JSON by [`super::hhs_worksheet_json`] (unknown values are `null`).
/// Dates are `YYYY-MM-DD`: this is a form, not a letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HhsWorksheet {
    pub report_type: ReportType,
    /// Portal "Covered Entity Type" label of the filer.
    pub entity_type: String,
    pub filer_is_business_associate: bool,
    pub covered_entity: Party,
    pub business_associate_involved: bool,
    /// Present when a business associate was involved (or is the filer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_associate: Option<Party>,
    pub contact: Contact,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_end: Option<String>,
    /// For a breach a business associate discovered: its discovery date (164.410(a)(2)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered_by_business_associate: Option<String>,
    /// ... and the covered entity's (its own, or the date the BA notified it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered_by_covered_entity: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub individual_notice_began: Option<String>,
    /// Brief, PHI-free description for the portal: counsel's public summary, never the
    /// internal title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The fields of [`HhsWorksheet`] (and its parts) that may be unknown: JSON writes them as
/// `null` rather than leaving them out.
pub(crate) const HHS_OPTIONAL: &[&str] = &[
    "business_associate",
    "breach_start",
    "breach_end",
    "discovery_start",
    "discovery_end",
    "discovered_by_business_associate",
    "discovered_by_covered_entity",
    "individual_notice_began",
    "description",
];
pub(crate) const PARTY_OPTIONAL: &[&str] = &["name", "address"];
pub(crate) const CONTACT_OPTIONAL: &[&str] = &["name", "phone", "email", "address"];

impl HhsWorksheet {
    /// Fills the worksheet from the register. `covered_entity` names the covered entity
    /// when the filer is a business associate. `substitute_notice_required` is set when any
    /// living individual is unreachable (164.404(d)(2)) and `media_notice_required` when a
    /// State or jurisdiction has more than 500 residents (164.406); overwrite them with the
    /// rules engine's obligations when they differ.
    pub fn from_facts(
        org: &Organization,
        facts: &Facts,
        counts: &Counts,
        report_type: ReportType,
        individual_notice_began: Option<NaiveDate>,
        covered_entity: Option<&str>,
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
        let is_ba = org.role == Role::BusinessAssociate;
        let entity_type = if is_ba {
            EntityType::BusinessAssociate
        } else {
            org.entity_type
        };
        let ba = &facts.business_associate;
        let ours = Party {
            name: text(&org.legal_name),
            address: text(&org.address).or_else(|| text(&org.postal_address)),
        };
        let (covered_entity, business_associate) = if is_ba {
            let ce = Party {
                name: covered_entity
                    .and_then(text)
                    .or_else(|| org.serves.first().and_then(|s| text(s))),
                address: None,
            };
            (ce, Some(ours))
        } else {
            let ba_party = ba.involved.then(|| Party {
                name: text(&ba.name),
                address: text(&ba.address),
            });
            (ours, ba_party)
        };
        // A breach the business associate discovered has two discovery dates: the BA's
        // (164.410(a)(2)) and the covered entity's (its own discovery, or the BA's notice).
        // Discovery as the engine establishes it for this organization (typed, or the
        // earliest event that counts); the covered entity's own is the day it learned.
        let discovered = crate::rules::discovery::discover(facts, org.role).date;
        let ce_discovered = facts.breach.discovered;
        let (by_ba, by_ce) = match (is_ba, ba.involved) {
            (true, _) => (discovered, None),
            (false, true) if ba.discovered.is_some() => {
                let ce = match ba.relationship {
                    Some(BaRelationship::IndependentContractor) => ba.notified_ce.or(ce_discovered),
                    _ => ce_discovered.or(ba.notified_ce),
                };
                (ba.discovered, ce)
            }
            _ => (None, None),
        };
        let dates: Vec<NaiveDate> = [discovered, by_ba, by_ce].into_iter().flatten().collect();
        HhsWorksheet {
            report_type,
            entity_type: entity_type.label().to_string(),
            filer_is_business_associate: is_ba,
            covered_entity,
            business_associate_involved: is_ba || ba.involved,
            business_associate,
            contact: Contact {
                name: text(&org.privacy_officer),
                phone: text(&org.toll_free),
                email: text(&org.email),
                address: text(&org.postal_address).or_else(|| text(&org.address)),
            },
            breach_start: iso_date(facts.breach.start),
            breach_end: iso_date(facts.breach.end),
            discovery_start: iso_date(dates.iter().min().copied()),
            discovery_end: iso_date(dates.iter().max().copied()),
            discovered_by_business_associate: if is_ba { None } else { iso_date(by_ba) },
            discovered_by_covered_entity: iso_date(by_ce),
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
            individual_notice_began: iso_date(individual_notice_began),
            description: text(&facts.breach.public_summary),
        }
    }
}

/// One line of the BA's summary of individuals per State.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCount {
    pub state_name: String,
    pub count: u64,
}

/// Business associate's notice to the covered entity, 164.410(c). The individuals are
/// identified in a separate CSV attachment, never in the letter body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaToCeContext {
    pub ba_name: String,
    pub ce_name: String,
    pub individuals_count: u64,
    pub by_state: Vec<StateCount>,
    /// File name of the CSV that identifies each individual.
    pub attachment_name: String,
}

impl BaToCeContext {
    pub fn new(ba_name: &str, ce_name: &str, counts: &Counts, attachment_name: &str) -> Self {
        BaToCeContext {
            ba_name: ba_name.to_string(),
            ce_name: ce_name.to_string(),
            individuals_count: counts.total,
            by_state: counts
                .by_state
                .iter()
                .map(|(st, n)| StateCount {
                    state_name: state_name(st).to_string(),
                    count: *n,
                })
                .collect(),
            attachment_name: attachment_name.to_string(),
        }
    }
}

/// Memo to file documenting a law-enforcement delay, 164.412.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LeDelayContext {
    pub agency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub official: Option<String>,
    /// The statement was oral (164.412(b)); otherwise written (164.412(a)).
    #[serde(skip_serializing_if = "is_false")]
    pub oral: bool,
    pub statement_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_end: Option<String>,
    /// Which deadline policy applied (reference § 4: a policy choice, always printed).
    pub policy: String,
}

/// An oral statement delays notice at most 30 days unless a written one follows, 164.412(b).
pub const ORAL_DELAY_DAYS: u64 = 30;

impl LeDelayContext {
    pub fn from_statement(s: &LawEnforcementStatement, policy: LePolicy) -> LeDelayContext {
        let (oral, end) = match s.kind {
            StatementKind::Written => (false, s.until),
            StatementKind::Oral => (true, plus_days(s.date, ORAL_DELAY_DAYS)),
        };
        LeDelayContext {
            agency: s.agency.clone(),
            official: text(&s.official),
            oral,
            statement_date: long_date(s.date),
            delay_end: opt_date(end),
            policy: policy.describe().to_string(),
        }
    }
}
