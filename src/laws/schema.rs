//! The schema of a jurisdiction's rules file (`src/laws/data/ST.toml`, or counsel's file
//! given to `laws set`). Documented field by field in `src/laws/README.md`.
//!
//! Every struct refuses unknown keys, so a typo never drops a rule silently. Deserializing
//! only checks types; [`super::load`] then checks everything else (dates in order, exactly
//! one of `verified`/`unverified`, thresholds, anchors) and names the file, field and reason.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::vocab::PiElement;

/// The schema version this binary reads.
pub const FORMAT: u32 = 1;

/// One jurisdiction's law, as a list of versions by effective date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LawFile {
    /// Schema version, [`FORMAT`].
    pub format: u32,
    /// Two-letter code (50 States, DC, PR, VI, GU).
    pub jurisdiction: String,
    pub name: String,
    /// Versions in order of `effective`; a breach uses the last version whose `effective`
    /// is on or before its discovery date. Amendments add a version, never overwrite one.
    pub version: Vec<LawVersion>,
}

/// The law as in force from `effective` until the next version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LawVersion {
    /// First discovery date this version governs.
    pub effective: NaiveDate,
    /// Statute citation of the whole law.
    pub citation: String,
    /// What made this version (the amending act), or "as enacted".
    #[serde(default)]
    pub change: String,
    /// The law also covers records on paper (most cover computerized data only).
    #[serde(default)]
    pub covers_paper: bool,
    pub trigger: Trigger,
    /// Notice to residents. The first rule without a `condition` is the general rule.
    #[serde(default)]
    pub individual: Vec<IndividualRule>,
    #[serde(default)]
    pub regulator: Vec<RegulatorRule>,
    #[serde(default)]
    pub cra: Option<CraRule>,
    pub hipaa: HipaaRule,
    #[serde(default)]
    pub credit_monitoring: Vec<MonitoringRule>,
    #[serde(default)]
    pub content: Option<ContentRule>,
}

/// Where a rule came from. Exactly one of `verified` / `unverified` per rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verified {
    /// Where the statute (or enacted bill) text was read: a URL, or `github:owner/repo@commit:path`.
    pub source: String,
    /// What was read there (section, subsection, or the bill section that enacted it).
    pub section: String,
    /// The day it was read.
    pub read: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unverified {
    /// Where the rule comes from (secondary source, reference chart, counsel's note).
    pub source: String,
}

/// A rule's provenance, after validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance<'a> {
    Verified(&'a Verified),
    Unverified(&'a Unverified),
}

impl Provenance<'_> {
    pub fn is_verified(&self) -> bool {
        matches!(self, Provenance::Verified(_))
    }

    /// "verified in <section> at <source> (read <date>)" or "UNVERIFIED (source: …)".
    pub fn describe(&self) -> String {
        match self {
            Provenance::Verified(v) => format!(
                "verified against statute text: {} at {} (read {})",
                v.section, v.source, v.read
            ),
            Provenance::Unverified(u) => {
                format!("UNVERIFIED against statute text (source: {})", u.source)
            }
        }
    }
}

/// What a deadline counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// Discovery of the breach (or notice of it from a third party that maintains the data).
    Discovery,
    /// The entity's determination that a breach occurred (`[state_law] determined`).
    Determination,
    /// Notice to the State's residents.
    IndividualNotice,
    /// Notice to the Secretary of HHS under 45 CFR 164.408.
    HhsNotice,
    /// A determination that the breach is not likely to cause harm (`[state_law.harm]`).
    HarmDetermination,
}

impl Anchor {
    pub fn key(self) -> &'static str {
        match self {
            Anchor::Discovery => "discovery",
            Anchor::Determination => "determination",
            Anchor::IndividualNotice => "individual_notice",
            Anchor::HhsNotice => "hhs_notice",
            Anchor::HarmDetermination => "harm_determination",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Anchor::Discovery => "discovery",
            Anchor::Determination => "the determination that a breach occurred",
            Anchor::IndividualNotice => "notice to residents",
            Anchor::HhsNotice => "notice to the Secretary of HHS",
            Anchor::HarmDetermination => "the determination that harm is not likely",
        }
    }
}

/// Calendar days, or business days counted under the printed business-day policy
/// ([`crate::rules::calendar::BusinessDays`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    #[default]
    Calendar,
    Business,
}

impl DayUnit {
    pub fn word(self) -> &'static str {
        match self {
            DayUnit::Calendar => "calendar days",
            DayUnit::Business => "business days",
        }
    }
}

/// A second deadline where the law says "whichever is earlier".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrTiming {
    pub days: u32,
    pub from: Anchor,
    #[serde(default)]
    pub unit: DayUnit,
}

/// The timing of a rule, as the engine reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing<'a> {
    /// `None`: no number of days ("most expedient time", "without unreasonable delay").
    pub days: Option<u32>,
    pub from: Anchor,
    pub unit: DayUnit,
    /// Must come *before* the anchor (e.g. regulator notice before notice to residents).
    pub before: bool,
    pub or: Option<OrTiming>,
    /// The statute's own words for the timing.
    pub standard: &'a str,
}

/// Which personal information triggers the law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Elements that are personal information in combination with the individual's name.
    #[serde(default)]
    pub with_name: Vec<PiElement>,
    /// Elements that are personal information on their own (e.g. online credentials).
    #[serde(default)]
    pub alone: Vec<PiElement>,
    /// Any personal identifier (not only the name) combines with `with_name` elements.
    #[serde(default)]
    pub identifier_suffices: bool,
    /// Notice is not required when the entity determines harm is not reasonably likely.
    #[serde(default)]
    pub harm_threshold: bool,
    pub cite: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub verified: Option<Verified>,
    #[serde(default)]
    pub unverified: Option<Unverified>,
}

/// Notice to the State's residents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndividualRule {
    /// Set for a rule that applies only to some entities (printed; never assumed away).
    #[serde(default)]
    pub condition: String,
    /// Key of a conditional rule (`hsc_1280_15`); notice records name it as their recipient.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default = "discovery")]
    pub from: Anchor,
    #[serde(default)]
    pub unit: DayUnit,
    #[serde(default)]
    pub or: Option<OrTiming>,
    pub standard: String,
    pub cite: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub verified: Option<Verified>,
    #[serde(default)]
    pub unverified: Option<Unverified>,
}

fn discovery() -> Anchor {
    Anchor::Discovery
}

fn individual_notice() -> Anchor {
    Anchor::IndividualNotice
}

/// What sets a regulator notice off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// The breach requires notice to residents.
    #[default]
    Notice,
    /// The entity determined that notice is not required because harm is not likely.
    NoHarmDetermination,
}

/// How a HIPAA entity stands toward one rule, overriding the law's general treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HipaaEffect {
    /// Still owed by an entity that complies with HIPAA.
    Due,
    /// Deemed satisfied by complying with HIPAA.
    Satisfied,
}

/// A notice to a State regulator (Attorney General, consumer protection office, police).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulatorRule {
    /// Stable key within the jurisdiction (`ag`, `ag_hhs`, `state_police`): notice records
    /// name it as their recipient.
    pub id: String,
    /// Who is notified, e.g. "Attorney General".
    pub name: String,
    #[serde(default)]
    pub when: When,
    /// Residents of the State affected: at least this many.
    #[serde(default)]
    pub at_least: Option<u64>,
    /// Residents of the State affected: more than this many.
    #[serde(default)]
    pub more_than: Option<u64>,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default = "individual_notice")]
    pub from: Anchor,
    #[serde(default)]
    pub unit: DayUnit,
    #[serde(default)]
    pub before: bool,
    #[serde(default)]
    pub or: Option<OrTiming>,
    pub standard: String,
    /// How (online form, written notice, e-mail).
    #[serde(default)]
    pub method: String,
    /// What the notice must contain.
    #[serde(default)]
    pub content: Vec<String>,
    #[serde(default)]
    pub hipaa: Option<HipaaEffect>,
    pub cite: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub verified: Option<Verified>,
    #[serde(default)]
    pub unverified: Option<Unverified>,
}

/// Notice to the nationwide consumer reporting agencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CraRule {
    #[serde(default)]
    pub at_least: Option<u64>,
    #[serde(default)]
    pub more_than: Option<u64>,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default = "individual_notice")]
    pub from: Anchor,
    #[serde(default)]
    pub unit: DayUnit,
    #[serde(default)]
    pub or: Option<OrTiming>,
    pub standard: String,
    #[serde(default)]
    pub hipaa: Option<HipaaEffect>,
    pub cite: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub verified: Option<Verified>,
    #[serde(default)]
    pub unverified: Option<Unverified>,
}

/// How the law treats an entity subject to HIPAA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HipaaTreatment {
    /// No HIPAA provision: every duty applies.
    None,
    /// The law does not apply to entities subject to HIPAA.
    Exempt,
    /// Complying with HIPAA is deemed compliance with the law (rules marked `hipaa = "due"`
    /// still apply).
    DeemedCompliant,
    /// HIPAA notice to individuals is deemed compliance, but regulator (and CRA) notices
    /// are still due (rules marked `hipaa = "satisfied"` excepted).
    DeemedCompliantRegulatorDue,
}

impl HipaaTreatment {
    pub fn key(self) -> &'static str {
        match self {
            HipaaTreatment::None => "none",
            HipaaTreatment::Exempt => "exempt",
            HipaaTreatment::DeemedCompliant => "deemed_compliant",
            HipaaTreatment::DeemedCompliantRegulatorDue => "deemed_compliant_regulator_due",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            HipaaTreatment::None => "no HIPAA exemption",
            HipaaTreatment::Exempt => "does not apply to entities subject to HIPAA",
            HipaaTreatment::DeemedCompliant => "HIPAA compliance is deemed compliance",
            HipaaTreatment::DeemedCompliantRegulatorDue => {
                "HIPAA notice is deemed notice to residents; regulator notices still due"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HipaaRule {
    pub treatment: HipaaTreatment,
    pub cite: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub verified: Option<Verified>,
    #[serde(default)]
    pub unverified: Option<Unverified>,
}

/// A mandate to offer credit monitoring or identity-theft protection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringRule {
    pub months: u32,
    /// Owed when any of these elements was involved.
    pub when: Vec<PiElement>,
    pub service: String,
    pub cite: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub verified: Option<Verified>,
    #[serde(default)]
    pub unverified: Option<Unverified>,
}

/// What the notice to residents must contain beyond 45 CFR 164.404(c).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentRule {
    /// A required title, e.g. "Notice of Data Breach".
    #[serde(default)]
    pub title: String,
    /// Required headings, in order.
    #[serde(default)]
    pub headings: Vec<String>,
    /// Required content items.
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub min_type_points: Option<u32>,
    /// The regulator (`id`) that receives a sample copy of the notice, if any.
    #[serde(default)]
    pub sample_to: Option<String>,
    pub cite: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub verified: Option<Verified>,
    #[serde(default)]
    pub unverified: Option<Unverified>,
}

/// Accessors shared by every rule type.
pub trait Rule {
    fn cite(&self) -> &str;
    fn note(&self) -> &str;
    fn verified(&self) -> Option<&Verified>;
    fn unverified(&self) -> Option<&Unverified>;

    /// The provenance. Validation guarantees exactly one of the two is set; an unvalidated
    /// rule with neither reads as unverified with an empty source.
    fn provenance(&self) -> Provenance<'_> {
        match (self.verified(), self.unverified()) {
            (Some(v), _) => Provenance::Verified(v),
            (None, Some(u)) => Provenance::Unverified(u),
            (None, None) => Provenance::Unverified(&NO_SOURCE),
        }
    }
}

static NO_SOURCE: Unverified = Unverified {
    source: String::new(),
};

macro_rules! rule {
    ($($t:ty),+) => {$(
        impl Rule for $t {
            fn cite(&self) -> &str { &self.cite }
            fn note(&self) -> &str { &self.note }
            fn verified(&self) -> Option<&Verified> { self.verified.as_ref() }
            fn unverified(&self) -> Option<&Unverified> { self.unverified.as_ref() }
        }
    )+};
}
rule!(
    Trigger,
    IndividualRule,
    RegulatorRule,
    CraRule,
    HipaaRule,
    MonitoringRule,
    ContentRule
);

impl IndividualRule {
    pub fn timing(&self) -> Timing<'_> {
        Timing {
            days: self.days,
            from: self.from,
            unit: self.unit,
            before: false,
            or: self.or,
            standard: &self.standard,
        }
    }
}

impl RegulatorRule {
    pub fn timing(&self) -> Timing<'_> {
        Timing {
            days: self.days,
            from: self.from,
            unit: self.unit,
            before: self.before,
            or: self.or,
            standard: &self.standard,
        }
    }

    pub fn threshold(&self) -> Threshold {
        Threshold::new(self.at_least, self.more_than)
    }
}

impl CraRule {
    pub fn timing(&self) -> Timing<'_> {
        Timing {
            days: self.days,
            from: self.from,
            unit: self.unit,
            before: false,
            or: self.or,
            standard: &self.standard,
        }
    }

    pub fn threshold(&self) -> Threshold {
        Threshold::new(self.at_least, self.more_than)
    }
}

/// A resident-count threshold, kept in the statute's own form ("at least 250", "more than
/// 500") so that the edge (250 vs 249, 500 vs 501) is never off by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    Any,
    AtLeast(u64),
    MoreThan(u64),
}

impl Threshold {
    fn new(at_least: Option<u64>, more_than: Option<u64>) -> Threshold {
        match (at_least, more_than) {
            (Some(n), _) => Threshold::AtLeast(n),
            (None, Some(n)) => Threshold::MoreThan(n),
            (None, None) => Threshold::Any,
        }
    }

    pub fn met(self, residents: u64) -> bool {
        match self {
            Threshold::Any => residents > 0,
            Threshold::AtLeast(n) => residents >= n,
            Threshold::MoreThan(n) => residents > n,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Threshold::Any => "any number of residents".into(),
            Threshold::AtLeast(n) => format!("{n} or more residents"),
            Threshold::MoreThan(n) => format!("more than {n} residents"),
        }
    }
}
