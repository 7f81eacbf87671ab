//! The organization that keeps this register.

use serde::{Deserialize, Serialize};

use super::vocab::EntityType;

/// Covered entity or business associate (45 CFR 160.103).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[serde(alias = "covered-entity")]
    CoveredEntity,
    #[serde(alias = "business-associate")]
    BusinessAssociate,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::CoveredEntity => "covered-entity",
            Role::BusinessAssociate => "business-associate",
        }
    }
}

/// How a law-enforcement delay moves a deadline (164.412; the rule is silent: policy choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LePolicy {
    /// Conservative default: the later of the original deadline and the end of the delay.
    #[default]
    LaterOf,
    /// The original deadline extended by the length of the delay (tolling).
    ExtendByDelay,
}

impl LePolicy {
    pub fn key(self) -> &'static str {
        match self {
            LePolicy::LaterOf => "later_of",
            LePolicy::ExtendByDelay => "extend_by_delay",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            LePolicy::LaterOf => {
                "law-enforcement delay policy later_of: deadline = later of original deadline and delay end"
            }
            LePolicy::ExtendByDelay => {
                "law-enforcement delay policy extend_by_delay: deadline = original deadline + length of delay"
            }
        }
    }
}

/// How business days are counted for State deadlines given in business days (Illinois: 5
/// business days after notifying HHS; Iowa, Vermont, California H&S Code 1280.15). The
/// statutes do not define the term and State holiday calendars differ, so this is a policy
/// choice, set per organization (`org update --business-days`) or per what-if, and printed
/// beside every date it produced. The counting is `rules::calendar`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessDays {
    /// Conservative default: Monday to Friday are business days, holidays included. It
    /// gives the earliest due date any reading allows.
    #[default]
    WeekendsOnly,
    /// Monday to Friday except the federal legal public holidays of 5 U.S.C. 6103(a), on
    /// the days they are observed (a Saturday holiday on the Friday before, a Sunday one on
    /// the Monday after); Juneteenth from 2021. State holidays are not counted.
    FederalHolidays,
}

impl BusinessDays {
    pub const ALL: &'static [BusinessDays] =
        &[BusinessDays::WeekendsOnly, BusinessDays::FederalHolidays];

    pub fn key(self) -> &'static str {
        match self {
            BusinessDays::WeekendsOnly => "weekends_only",
            BusinessDays::FederalHolidays => "federal_holidays",
        }
    }

    pub fn from_key(s: &str) -> Option<BusinessDays> {
        let s = s.trim().replace('-', "_");
        BusinessDays::ALL
            .iter()
            .copied()
            .find(|b| b.key().eq_ignore_ascii_case(&s))
    }

    pub fn describe(self) -> &'static str {
        match self {
            BusinessDays::WeekendsOnly => {
                "business-day policy weekends_only: Monday to Friday count, holidays included (the earliest date any reading allows); the day of the event is day 0"
            }
            BusinessDays::FederalHolidays => {
                "business-day policy federal_holidays: Monday to Friday count except federal holidays as observed (5 U.S.C. 6103); the day of the event is day 0"
            }
        }
    }

    /// The default is not written, so an organization record without the policy keeps the
    /// bytes release 0.1 wrote.
    pub fn is_default(&self) -> bool {
        *self == BusinessDays::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub legal_name: String,
    pub role: Role,
    /// Portal entity type: provider, health plan or clearinghouse (or business associate).
    pub entity_type: EntityType,
    /// For a business associate: the covered entities it serves.
    #[serde(default)]
    pub serves: Vec<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub privacy_officer: String,
    #[serde(default)]
    pub toll_free: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub website: String,
    #[serde(default)]
    pub postal_address: String,
    /// IANA time zone; "today" for deadlines is the date in this zone.
    pub time_zone: String,
    #[serde(default)]
    pub le_policy: LePolicy,
    /// How business days are counted for State deadlines (added after release 0.1: absent
    /// means the default, and the default is not written).
    #[serde(default, skip_serializing_if = "BusinessDays::is_default")]
    pub business_days: BusinessDays,
    /// The database passphrase was judged weak and accepted anyway with
    /// `--allow-weak-passphrase` (demos and tests); a `rekey` to a strong one clears it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weak_passphrase: bool,
}
