//! An incident as the register keeps it: facts, status, timeline, notices sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::Facts;
use super::notice::NoticeRecord;

/// Human-friendly incident ID, `YYYY-NNNN` (year of logging, sequence within the year).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(String);

impl IncidentId {
    pub fn new(year: i32, seq: u32) -> IncidentId {
        IncidentId(format!("{year:04}-{seq:04}"))
    }

    /// Parses `YYYY-NNNN` (the sequence may have more digits past 9999).
    pub fn parse(s: &str) -> Option<IncidentId> {
        let (y, n) = s.trim().split_once('-')?;
        let ok = y.len() == 4
            && y.bytes().all(|b| b.is_ascii_digit())
            && n.len() >= 4
            && n.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| IncidentId(s.trim().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn year(&self) -> i32 {
        self.0[..4].parse().unwrap_or(0)
    }

    pub fn seq(&self) -> u32 {
        self.0[5..].parse().unwrap_or(0)
    }
}

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Logged, not yet investigated.
    Reported,
    Investigating,
    /// A determination has been recorded.
    Assessed,
    /// Notices are going out.
    Notifying,
    Closed,
}

impl IncidentStatus {
    pub const ALL: &'static [IncidentStatus] = &[
        IncidentStatus::Reported,
        IncidentStatus::Investigating,
        IncidentStatus::Assessed,
        IncidentStatus::Notifying,
        IncidentStatus::Closed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IncidentStatus::Reported => "reported",
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Assessed => "assessed",
            IncidentStatus::Notifying => "notifying",
            IncidentStatus::Closed => "closed",
        }
    }

    pub fn from_key(s: &str) -> Option<IncidentStatus> {
        IncidentStatus::ALL
            .iter()
            .copied()
            .find(|k| k.key().eq_ignore_ascii_case(s.trim()))
    }

    pub fn is_open(self) -> bool {
        self != IncidentStatus::Closed
    }
}

/// How a closed incident ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// A breach; all required notices were made.
    BreachNotified,
    /// Not a breach (safe harbor, exception or low probability), documented.
    NotBreach,
    /// No PHI was involved after all.
    NoPhi,
    /// Duplicate of another incident.
    Duplicate,
    Other,
}

impl Disposition {
    pub const ALL: &'static [Disposition] = &[
        Disposition::BreachNotified,
        Disposition::NotBreach,
        Disposition::NoPhi,
        Disposition::Duplicate,
        Disposition::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Disposition::BreachNotified => "breach_notified",
            Disposition::NotBreach => "not_breach",
            Disposition::NoPhi => "no_phi",
            Disposition::Duplicate => "duplicate",
            Disposition::Other => "other",
        }
    }
}

/// A timeline entry. Its text may contain PHI: the store keeps it encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub author: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub status: IncidentStatus,
    #[serde(default)]
    pub disposition: Option<Disposition>,
    #[serde(default)]
    pub disposition_note: String,
    /// Closed as `breach_notified` with obligations unmet (`--force`): why, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_rationale: Option<String>,
    /// A tabletop-exercise record, never a real incident.
    #[serde(default)]
    pub exercise: bool,
    pub facts: Facts,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    #[serde(default)]
    pub notices: Vec<NoticeRecord>,
}
