//! How many individuals are affected, as the obligations engine needs them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::facts::IndividualFacts;

/// Where counts came from: the facts' estimates, or an imported roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CountSource {
    #[default]
    Estimate,
    Roster,
}

/// Affected-individual counts. Deceased individuals are affected individuals and are
/// included in `total` and `by_state` (reference § 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub source: CountSource,
    pub total: u64,
    /// Residents per State (two-letter code).
    pub by_state: BTreeMap<String, u64>,
    /// Residents per smaller jurisdiction, keyed "ST:Name".
    pub by_jurisdiction: BTreeMap<String, u64>,
    /// Living individuals with insufficient or out-of-date contact information.
    pub unreachable: u64,
    pub deceased_with_nok: u64,
    pub deceased_without_nok: u64,
}

impl Counts {
    /// Counts from the facts' estimates. The total is the larger of the stated estimate and
    /// the sum of the per-State estimates, so a per-State breakdown is never lost. The sum
    /// saturates instead of wrapping; intake refuses facts whose counts overflow
    /// ([`Counts::state_sum`]), so saturation is only a last line of defence.
    pub fn from_facts(f: &IndividualFacts) -> Counts {
        let state_sum = Counts::state_sum(f).unwrap_or(u64::MAX);
        Counts {
            source: CountSource::Estimate,
            total: f.estimated_total.unwrap_or(0).max(state_sum),
            by_state: f.by_state.clone(),
            by_jurisdiction: f.by_jurisdiction.clone(),
            unreachable: f.unreachable,
            deceased_with_nok: f.deceased_with_nok,
            deceased_without_nok: f.deceased_without_nok,
        }
    }

    /// The sum of the per-State counts, `None` when it does not fit in a `u64`.
    pub fn state_sum(f: &IndividualFacts) -> Option<u64> {
        f.by_state
            .values()
            .try_fold(0u64, |acc, n| acc.checked_add(*n))
    }
}
