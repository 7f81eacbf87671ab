//! The facts of an incident: everything the rules engine uses and the HHS portal asks for.
//!
//! This is also the schema of the TOML facts file (`incident new --from`, `evaluate`),
//! documented field by field in `examples/README.md`. Unknown keys are rejected
//! (`deny_unknown_fields`) so a typo never silently drops a fact.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::org::Role;
use super::vocab::{
    BreachType, DataElement, DestructionMethod, DeviceState, Location, PiElement, RecipientKind,
    SensitiveCategory,
};

/// All facts of one incident. Every section is optional in a facts file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Facts {
    /// Short non-PHI title, e.g. "Stolen laptop, cardiology".
    pub title: String,
    pub breach: BreachFacts,
    pub individuals: IndividualFacts,
    pub business_associate: BaFacts,
    pub security: SecurityFacts,
    pub exceptions: ExceptionFacts,
    pub assessment: AssessmentFacts,
    pub law_enforcement: Vec<LawEnforcementStatement>,
    /// What State breach laws ask that HIPAA does not (see [`StateLawFacts`]).
    #[serde(skip_serializing_if = "StateLawFacts::is_empty")]
    pub state_law: StateLawFacts,
    /// What happened that bears on the discovery date, 164.404(a)(2) and 164.410(a)(2): the
    /// engine takes the earliest event that counts (see `rules::discovery`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discovery_events: Vec<DiscoveryEvent>,
    /// Facts about our own organization for a what-if (`evaluate`); a database uses its
    /// recorded organization instead.
    #[serde(skip_serializing_if = "OrganizationFacts::is_empty")]
    pub organization: OrganizationFacts,
    /// What counsel writes for the notices of this incident (see [`NoticeFacts`]).
    #[serde(skip_serializing_if = "NoticeFacts::is_empty")]
    pub notice: NoticeFacts,
}

/// `[organization]` in a facts file: lets a what-if say whose obligations to compute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrganizationFacts {
    /// Covered entity or business associate; `evaluate --role` wins over it.
    pub role: Option<Role>,
}

impl OrganizationFacts {
    pub fn is_empty(&self) -> bool {
        self.role.is_none()
    }
}

/// One event bearing on discovery, 164.404(a)(2): who learned of the breach, or would have
/// learned of it by exercising reasonable diligence, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryEvent {
    pub date: NaiveDate,
    /// Who learned, or could have learned.
    pub who: DiscoveryWho,
    /// Learned of it, or should have known with reasonable diligence (an ignored alert).
    pub kind: DiscoveryKind,
    /// What happened, without PHI, e.g. "SIEM alert on the billing server, not reviewed".
    #[serde(default)]
    pub description: String,
}

/// Whose knowledge an event is, 164.404(a)(2) ("any person, other than the person
/// committing the breach, who is a workforce member or agent") and 164.410(a)(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryWho {
    /// A workforce member (employee, volunteer, trainee, officer) of our organization.
    WorkforceMember,
    /// An agent of our organization (federal common law of agency), other than the business
    /// associate of `[business_associate]`.
    Agent,
    /// The business associate of `[business_associate]` (for a business associate's own
    /// database: the business associate itself).
    BusinessAssociate,
    /// The person who committed the breach: never discovery.
    Wrongdoer,
}

impl DiscoveryWho {
    pub const ALL: &'static [DiscoveryWho] = &[
        DiscoveryWho::WorkforceMember,
        DiscoveryWho::Agent,
        DiscoveryWho::BusinessAssociate,
        DiscoveryWho::Wrongdoer,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DiscoveryWho::WorkforceMember => "workforce_member",
            DiscoveryWho::Agent => "agent",
            DiscoveryWho::BusinessAssociate => "business_associate",
            DiscoveryWho::Wrongdoer => "wrongdoer",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            DiscoveryWho::WorkforceMember => "a workforce member",
            DiscoveryWho::Agent => "an agent",
            DiscoveryWho::BusinessAssociate => "the business associate",
            DiscoveryWho::Wrongdoer => "the person who committed the breach",
        }
    }
}

/// Actual knowledge, or knowledge that reasonable diligence would have given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryKind {
    /// Learned of the breach.
    Learned,
    /// Would have known by exercising reasonable diligence (e.g. an alert that fired and was
    /// not reviewed, a complaint that was not read).
    ShouldHaveKnown,
}

impl DiscoveryKind {
    pub const ALL: &'static [DiscoveryKind] =
        &[DiscoveryKind::Learned, DiscoveryKind::ShouldHaveKnown];

    pub fn key(self) -> &'static str {
        match self {
            DiscoveryKind::Learned => "learned",
            DiscoveryKind::ShouldHaveKnown => "should_have_known",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            DiscoveryKind::Learned => "learned of the breach",
            DiscoveryKind::ShouldHaveKnown => {
                "would have known of it by exercising reasonable diligence"
            }
        }
    }
}

/// `[notice]`: counsel's wording and offers for this incident's notices. Every field is
/// optional; letters fall back to the templates' defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeFacts {
    /// "What We Are Doing." (164.404(c)(1)(D)): how the incident is being investigated.
    pub investigate: String,
    /// How harm to individuals is being mitigated.
    pub mitigate: String,
    /// How further breaches are being prevented.
    pub prevent: String,
    /// A credit-monitoring or identity-protection offer, when one is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_monitoring: Option<CreditMonitoring>,
}

impl NoticeFacts {
    pub fn is_empty(&self) -> bool {
        self == &NoticeFacts::default()
    }
}

/// `[notice.credit_monitoring]`: the offer letters describe; each person's own enrollment
/// code comes from the roster (`credit_monitoring_code`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreditMonitoring {
    /// Who provides it, e.g. "Experian IdentityWorks".
    pub provider: String,
    /// Where to enroll.
    pub enrollment_url: String,
    /// Last day to enroll.
    pub enroll_by: Option<NaiveDate>,
    /// Length of the free service in months.
    pub months: Option<u32>,
}

/// When and how it happened and was found; what kind of breach, where, which data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreachFacts {
    /// First day of the breach (HHS portal "breach start date").
    pub start: Option<NaiveDate>,
    /// Last day of the breach, if it has ended.
    pub end: Option<NaiveDate>,
    /// Discovery date, 164.404(a)(2): first day known, or that it would have been known
    /// with reasonable diligence, to anyone other than the person who committed it. Typed
    /// in; `discovery_events` let the engine derive it (it warns when this is later than an
    /// event that counts).
    pub discovered: Option<NaiveDate>,
    /// How it was discovered (free text, no PHI), e.g. "SIEM alert", "patient complaint".
    pub discovery_method: String,
    /// Who reported it internally (role or name of a workforce member, not a patient).
    pub reported_by: String,
    /// OCR portal "Type of Breach" values; several may apply.
    pub types: Vec<BreachType>,
    /// OCR portal "Location of Breached Information" values; several may apply.
    pub locations: Vec<Location>,
    /// Data elements of the PHI involved.
    pub phi: Vec<DataElement>,
    /// Safeguards in place before the breach (portal field).
    pub safeguards: Vec<String>,
    /// Actions taken in response (portal field).
    pub actions: Vec<String>,
    /// Free-text narrative. May contain PHI: stored encrypted, never logged.
    pub narrative: String,
    /// Plain-language description for notices and the HHS portal ("What Happened?",
    /// 164.404(c)(1)(A)), written by counsel without naming anyone. When empty, letters use
    /// a description built from the facts.
    pub public_summary: String,
}

/// How many individuals are affected, and the facts that drive substitute and next-of-kin
/// notice. Before a roster is imported these are estimates; afterwards the roster's counts
/// take precedence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndividualFacts {
    /// Approximate total number of affected individuals (including the deceased).
    pub estimated_total: Option<u64>,
    /// Residents per State or territory (two-letter USPS code), 164.406.
    pub by_state: BTreeMap<String, u64>,
    /// Residents per smaller jurisdiction (county, city), keyed "ST:Name", 164.406.
    pub by_jurisdiction: BTreeMap<String, u64>,
    /// Living individuals whose contact information is insufficient or out of date,
    /// 164.404(d)(2).
    pub unreachable: u64,
    /// Deceased individuals whose next of kin or personal representative's address is known,
    /// 164.404(d)(1)(ii).
    pub deceased_with_nok: u64,
    /// Deceased individuals with no known next-of-kin address (no notice, no substitute).
    pub deceased_without_nok: u64,
    /// Possible imminent misuse of unsecured PHI, 164.404(d)(3).
    pub urgent: bool,
}

/// Whether a business associate was involved, and the dates that start each clock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaFacts {
    pub involved: bool,
    /// Business associate's name (an organization, not PHI).
    pub name: String,
    /// Its postal address (HHS portal: business associate's address).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Agent (CE controls how the BA performs) or independent contractor; decides when the
    /// covered entity's clock starts, 164.404(a)(2) and federal common law of agency.
    pub relationship: Option<BaRelationship>,
    /// The day the business associate discovered the breach, 164.410(a)(2).
    pub discovered: Option<NaiveDate>,
    /// The day the business associate notified the covered entity, 164.410(b).
    pub notified_ce: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaRelationship {
    Agent,
    IndependentContractor,
}

/// Encryption and destruction status: the safe harbor of 74 FR 19006.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityFacts {
    /// Data were encrypted with a method meeting HHS guidance (NIST SP 800-111 at rest;
    /// SP 800-52/77/113 or FIPS 140-2 validated in motion).
    pub encrypted: bool,
    /// Description of the encryption (e.g. "BitLocker XTS-AES-256, FIPS 140-2 module").
    pub encryption_method: String,
    /// The key or password was compromised or kept with the data.
    pub key_compromised: bool,
    /// State of the device when the incident happened (full-disk encryption protects only
    /// a device that is off or locked: HHS ransomware fact sheet, 2016).
    pub device_state: Option<DeviceState>,
    /// How the media were destroyed, if the incident concerns disposal.
    pub destruction: Option<DestructionMethod>,
}

/// Structured answers for the three exceptions of 164.402(1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExceptionFacts {
    /// 164.402(1)(i): unintentional acquisition, access or use by a workforce member.
    pub workforce_good_faith: Option<WorkforceException>,
    /// 164.402(1)(ii): inadvertent disclosure between authorized persons.
    pub authorized_to_authorized: Option<AuthorizedException>,
    /// 164.402(1)(iii): recipient could not reasonably have retained the information.
    pub could_not_retain: Option<RetainException>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkforceException {
    /// Person was a workforce member or acting under the authority of the CE or BA.
    pub under_authority: bool,
    /// The access was unintentional and made in good faith (snooping is never good faith).
    pub good_faith: bool,
    /// The access was within the scope of the person's authority.
    pub within_scope: bool,
    /// Any further use or disclosure not permitted by the Privacy Rule.
    pub further_disclosure: bool,
    pub rationale: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthorizedException {
    /// The discloser is authorized to access PHI at the CE/BA.
    pub discloser_authorized: bool,
    /// The recipient is authorized at the same CE/BA or an OHCA it participates in.
    pub recipient_authorized_same_entity: bool,
    /// The disclosure was inadvertent.
    pub inadvertent: bool,
    pub further_disclosure: bool,
    pub rationale: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetainException {
    /// Good-faith belief that the recipient could not reasonably have retained the PHI.
    pub good_faith_belief: bool,
    /// What supports that belief, e.g. "envelope returned unopened by USPS".
    pub basis: String,
}

/// The four-factor risk assessment of 164.402(2), as structured answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssessmentFacts {
    /// The entity chose to notify without performing an assessment.
    pub skip: bool,
    /// Factor (i): nature and extent of the PHI.
    pub nature: NatureFactor,
    /// Factor (ii): the unauthorized person who used the PHI or to whom it was disclosed.
    pub recipient: RecipientFactor,
    /// Factor (iii): whether the PHI was actually acquired or viewed.
    pub acquired: AcquiredFactor,
    /// Factor (iv): extent to which the risk has been mitigated.
    pub mitigation: MitigationFactor,
    /// Additional factors ("at least these factors").
    pub extra: Vec<ExtraFactor>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatureFactor {
    /// Answered at all; an unanswered factor rates `unknown`.
    pub answered: bool,
    /// Direct identifiers (name, address, SSN, MRN, ...) were involved.
    pub direct_identifiers: bool,
    /// Financial data or identity-theft data (SSN, account, driver's licence).
    pub financial: bool,
    /// Clinical detail (diagnosis, medications, lab results, treatment).
    pub clinical: bool,
    /// Especially sensitive categories.
    pub sensitive: Vec<SensitiveCategory>,
    /// The data could plausibly be re-identified (for data without direct identifiers).
    pub reidentifiable: bool,
    pub rationale: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecipientFactor {
    /// Who received or used the PHI; `None` rates `unknown`.
    pub kind: Option<RecipientKind>,
    pub rationale: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcquiredFactor {
    pub status: Option<AcquisitionStatus>,
    pub rationale: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcquisitionStatus {
    /// Evidence (e.g. forensics on a recovered device) shows it was not acquired or viewed.
    NotAcquiredEvidence,
    /// Believed not viewed, but without evidence.
    NotAcquiredNoEvidence,
    /// Acquired (e.g. ransomware: the attacker took control) but not shown to be viewed.
    Acquired,
    /// Viewed (e.g. mail opened by the wrong person).
    Viewed,
    /// Exfiltrated.
    Exfiltrated,
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MitigationFactor {
    pub status: Option<MitigationStatus>,
    pub rationale: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MitigationStatus {
    /// Signed attestation of destruction or non-use from a trustworthy recipient.
    AttestedDestruction,
    /// The PHI (device, papers) was recovered or returned intact.
    Returned,
    /// Device remotely wiped before access could occur.
    RemoteWiped,
    /// Some mitigation, not complete.
    Partial,
    None,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraFactor {
    pub name: String,
    pub rating: Rating,
    #[serde(default)]
    pub rationale: String,
}

/// A factor's rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Low,
    Moderate,
    High,
    Unknown,
}

/// A law-enforcement statement under 164.412.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LawEnforcementStatement {
    pub kind: StatementKind,
    /// Date the statement was made.
    pub date: NaiveDate,
    /// For a written statement: the end of the period it specifies.
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// Agency (e.g. "FBI Pittsburgh field office").
    #[serde(default)]
    pub agency: String,
    /// Identity of the official, required for an oral statement, 164.412(b).
    #[serde(default)]
    pub official: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    Written,
    Oral,
}

/// Facts that State breach laws use and the HIPAA rule does not: when the entity determined
/// that a breach occurred (many State deadlines count from it), data elements beyond the
/// portal's list, and a determination under a State's risk-of-harm standard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateLawFacts {
    /// The day the entity determined that a breach occurred. Deadlines a State counts "from
    /// determination" use it; when it is not recorded they count from discovery (the
    /// earliest it can be), and say so.
    pub determined: Option<NaiveDate>,
    /// Data elements State laws name that the portal list does not carry (or carries less
    /// precisely): `account_access_code`, `biometric`, `online_credentials`, `passport`,
    /// `tax_id`, `military_id`, `government_id`, `genetic`, `date_of_birth`, …
    pub elements: Vec<PiElement>,
    /// A determination that the breach is not likely to cause harm (or that it is).
    pub harm: Option<HarmDetermination>,
}

impl StateLawFacts {
    pub fn is_empty(&self) -> bool {
        self == &StateLawFacts::default()
    }
}

/// A determination made under a State law's risk-of-harm standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarmDetermination {
    pub outcome: HarmOutcome,
    /// The day it was made (some States want it within days of this date).
    pub date: NaiveDate,
    /// The States it was made for (two-letter codes); empty: every State whose law has a
    /// risk-of-harm standard.
    #[serde(default)]
    pub states: Vec<String>,
    /// What it rests on (investigation, consultation with law enforcement); no PHI.
    #[serde(default)]
    pub basis: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HarmOutcome {
    /// Harm (misuse, identity theft, fraud) is not reasonably likely: States with a
    /// risk-of-harm standard do not require notice to residents.
    NotLikely,
    /// Harm is reasonably likely: notice is required.
    Likely,
}
