//! Kinds of notification obligation, and records of notices actually sent.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The kinds of obligation the engine computes (reference § 3). The snake_case keys are a
/// JSON contract (`evaluate --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    /// 164.404(b)
    Individual,
    /// 164.404(d)(1)(ii)
    NextOfKin,
    /// 164.404(d)(2)(i): fewer than 10 unreachable.
    SubstituteInformal,
    /// 164.404(d)(2)(ii): 10 or more unreachable; web posting 90 days or major media.
    SubstituteWebOrMedia,
    /// 164.404(d)(2)(ii)(B): toll-free number active at least 90 days.
    TollFreeLine,
    /// 164.404(d)(3): optional, in addition to written notice.
    UrgentPhoneOptional,
    /// 164.406: per State or jurisdiction with more than 500 residents.
    Media,
    /// 164.408(b): 500 or more.
    HhsImmediate,
    /// 164.408(c): fewer than 500, annual log.
    HhsAnnual,
    /// 164.410: business associate to covered entity.
    BaToCe,
    /// A State law's notice to its residents, listed when it is due before HIPAA's.
    StateIndividual,
    /// A State law's notice to a State regulator (Attorney General, consumer protection).
    StateRegulator,
    /// A State law's notice to the nationwide consumer reporting agencies.
    StateCra,
}

impl ObligationKind {
    pub const ALL: &'static [ObligationKind] = &[
        ObligationKind::Individual,
        ObligationKind::NextOfKin,
        ObligationKind::SubstituteInformal,
        ObligationKind::SubstituteWebOrMedia,
        ObligationKind::TollFreeLine,
        ObligationKind::UrgentPhoneOptional,
        ObligationKind::Media,
        ObligationKind::HhsImmediate,
        ObligationKind::HhsAnnual,
        ObligationKind::BaToCe,
        ObligationKind::StateIndividual,
        ObligationKind::StateRegulator,
        ObligationKind::StateCra,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ObligationKind::Individual => "individual",
            ObligationKind::NextOfKin => "next_of_kin",
            ObligationKind::SubstituteInformal => "substitute_informal",
            ObligationKind::SubstituteWebOrMedia => "substitute_web_or_media",
            ObligationKind::TollFreeLine => "toll_free_line",
            ObligationKind::UrgentPhoneOptional => "urgent_phone_optional",
            ObligationKind::Media => "media",
            ObligationKind::HhsImmediate => "hhs_immediate",
            ObligationKind::HhsAnnual => "hhs_annual",
            ObligationKind::BaToCe => "ba_to_ce",
            ObligationKind::StateIndividual => "state_individual",
            ObligationKind::StateRegulator => "state_regulator",
            ObligationKind::StateCra => "state_cra",
        }
    }

    pub fn from_key(s: &str) -> Option<ObligationKind> {
        let s = s.trim().replace('-', "_");
        ObligationKind::ALL
            .iter()
            .copied()
            .find(|k| k.key().eq_ignore_ascii_case(&s))
    }

    /// A duty under a State law (not 45 CFR 164).
    pub fn is_state(self) -> bool {
        matches!(
            self,
            ObligationKind::StateIndividual
                | ObligationKind::StateRegulator
                | ObligationKind::StateCra
        )
    }

    pub fn accepted() -> String {
        ObligationKind::ALL
            .iter()
            .map(|k| k.key())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Plain-language name.
    pub fn describe(self) -> &'static str {
        match self {
            ObligationKind::Individual => "Written notice to each affected individual",
            ObligationKind::NextOfKin => "Notice to next of kin or personal representative",
            ObligationKind::SubstituteInformal => {
                "Substitute notice (fewer than 10): alternative written notice, telephone or other means"
            }
            ObligationKind::SubstituteWebOrMedia => {
                "Substitute notice (10 or more): home-page posting for 90 days or major print/broadcast media"
            }
            ObligationKind::TollFreeLine => "Toll-free number active at least 90 days",
            ObligationKind::UrgentPhoneOptional => {
                "Optional urgent telephone notice (in addition to written notice)"
            }
            ObligationKind::Media => "Notice to prominent media outlets in the State",
            ObligationKind::HhsImmediate => "Notice to the Secretary of HHS (500 or more)",
            ObligationKind::HhsAnnual => "Annual log to the Secretary of HHS (fewer than 500)",
            ObligationKind::BaToCe => "Business associate notice to the covered entity",
            ObligationKind::StateIndividual => {
                "State law: notice to the State's residents (due before HIPAA's deadline)"
            }
            ObligationKind::StateRegulator => "State law: notice to a State regulator",
            ObligationKind::StateCra => {
                "State law: notice to the nationwide consumer reporting agencies"
            }
        }
    }
}

impl std::fmt::Display for ObligationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// How a notice was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeMethod {
    Mail,
    Email,
    Web,
    Media,
    Phone,
    Portal,
}

impl NoticeMethod {
    pub const ALL: &'static [NoticeMethod] = &[
        NoticeMethod::Mail,
        NoticeMethod::Email,
        NoticeMethod::Web,
        NoticeMethod::Media,
        NoticeMethod::Phone,
        NoticeMethod::Portal,
    ];

    pub fn key(self) -> &'static str {
        match self {
            NoticeMethod::Mail => "mail",
            NoticeMethod::Email => "email",
            NoticeMethod::Web => "web",
            NoticeMethod::Media => "media",
            NoticeMethod::Phone => "phone",
            NoticeMethod::Portal => "portal",
        }
    }

    /// Exactly one of the keys (after trimming).
    pub fn from_key(s: &str) -> Option<NoticeMethod> {
        NoticeMethod::ALL
            .iter()
            .copied()
            .find(|m| m.key() == s.trim())
    }
}

/// A notice that was sent (or a batch of it). Partial sends add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub kind: ObligationKind,
    /// State code or "ST:Name" for media notices; `None` otherwise.
    pub jurisdiction: Option<String>,
    /// For a State regulator notice: the regulator's id in the State's rules (`ag`,
    /// `state_police`); see `breachdesk laws show ST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    pub date: NaiveDate,
    pub method: NoticeMethod,
    pub count: u64,
    /// SHA-256 of an evidence file, if one was given.
    pub evidence_sha256: Option<String>,
    /// A label telling apart batches that share kind, State, date, method and count (a mail
    /// vendor's job number), if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// What authorized sending it (issue 12): the approved letters batch, or an override
    /// with its rationale. Absent on notices recorded before sign-off existed and on kinds
    /// that have no letters batch (a toll-free line, a phone call, the annual log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signoff: Option<Signoff>,
}

/// What authorized a notice: counsel's approved letters batch, or an explicit override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signoff {
    /// The approved batch it was sent from, by number, and the manifest hash approved.
    Batch {
        number: u32,
        manifest_sha256: String,
    },
    /// Sent without an approved batch; the rationale (no PHI) is kept on record.
    Override { rationale: String },
}

impl NoticeRecord {
    /// The same notice: kind, State, date, method, count and batch label all equal. Recording
    /// it again (a retry after an uncertain outcome) must not count it twice.
    pub fn same_notice(&self, other: &NoticeRecord) -> bool {
        self.kind == other.kind
            && self.jurisdiction == other.jurisdiction
            && self.date == other.date
            && self.method == other.method
            && self.count == other.count
            && self.batch == other.batch
    }
}
