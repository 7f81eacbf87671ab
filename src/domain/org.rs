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
}
