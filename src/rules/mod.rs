//! The pure rules engine (45 CFR 164.400–414). No I/O; `today` is passed in.
//!
//! Data flows in one direction:
//!
//! 1. [`determine`] applies the § 164.402 pipeline to the facts: safe harbor (74 FR 19006)
//!    → the three exceptions of 164.402(1) → the entity's choice to skip the assessment →
//!    the four-factor assessment of 164.402(2) → the presumption of breach.
//! 2. [`evaluate`] adds the clock (164.404(a)(2), 164.410), the notice obligations and their
//!    deadlines (164.404–164.410), the law-enforcement delay (164.412), the status of each
//!    obligation against the notices already sent, and the retention date (164.530(j)).
//! 3. [`explain`] and [`diff_obligations`] turn the result into plain language.
//!
//! Every decision carries a [`Reason`] with a citation so that the printed output is its own
//! documentation (burden of proof, 164.414(b)).
//!
//! Default policies (each one printed where it applies):
//! - low probability of compromise only via routes R1–R3 and never with an unknown factor
//!   ([`factors`]);
//! - law-enforcement delay: [`LePolicy::LaterOf`] unless the caller chooses otherwise
//!   ([`delay`]);
//! - a business associate whose relationship is not recorded is treated as an agent
//!   ([`obligations`]);
//! - media notice is not ruled out while residents are missing from the per-State counts
//!   ([`obligations`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{Counts, Facts, LePolicy, NoticeRecord, ObligationKind, Rating, Role};

pub mod calendar;
pub mod delay;
pub mod determination;
pub mod discovery;
pub mod explain;
pub mod factors;
pub mod obligations;
pub mod state;

#[cfg(test)]
mod state_tests;
#[cfg(test)]
mod tests;

pub use determination::determine;
pub use explain::{diff_obligations, explain};
pub use obligations::evaluate;
pub use state::{StateOptions, evaluate_with_laws};

/// The engine's version, recorded with every determination: a replay names the version that
/// made a decision and the one that replays it.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything [`evaluate`] needs. `today` is a separate argument so callers can pin the clock.
#[derive(Debug, Clone)]
pub struct EngineInput<'a> {
    pub facts: &'a Facts,
    /// Our organization: covered entity or business associate.
    pub role: Role,
    /// Estimates from the facts, or roster counts.
    pub counts: &'a Counts,
    /// Notices already sent (for met / late).
    pub notices: &'a [NoticeRecord],
    /// Law-enforcement delay policy, 164.412 (policy choice).
    pub policy: LePolicy,
    /// A human override of the determination; the engine's own result is still computed and
    /// kept (reference § 1: both results stay on record).
    pub override_class: Option<DeterminationClass>,
    /// For retention: the close date, or today for an open incident.
    pub last_in_effect: NaiveDate,
}

/// The outcome of the § 164.402 pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeterminationClass {
    /// The PHI was secured (74 FR 19006): no breach of *unsecured* PHI.
    NotBreachSecured,
    /// One of the exceptions of 164.402(1) applies.
    NotBreachException,
    /// Low probability of compromise demonstrated, 164.402(2).
    NotBreachLowProbability,
    /// A breach of unsecured PHI: notice is required.
    Breach,
}

impl DeterminationClass {
    pub const ALL: &'static [DeterminationClass] = &[
        DeterminationClass::NotBreachSecured,
        DeterminationClass::NotBreachException,
        DeterminationClass::NotBreachLowProbability,
        DeterminationClass::Breach,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DeterminationClass::NotBreachSecured => "not_breach_secured",
            DeterminationClass::NotBreachException => "not_breach_exception",
            DeterminationClass::NotBreachLowProbability => "not_breach_low_probability",
            DeterminationClass::Breach => "breach",
        }
    }

    pub fn from_key(s: &str) -> Option<DeterminationClass> {
        let s = s.trim().replace('-', "_");
        DeterminationClass::ALL
            .iter()
            .copied()
            .find(|c| c.key().eq_ignore_ascii_case(&s))
    }

    /// Plain-language label.
    pub fn label(self) -> &'static str {
        match self {
            DeterminationClass::NotBreachSecured => {
                "Not a breach: the PHI was secured (no breach of unsecured PHI)"
            }
            DeterminationClass::NotBreachException => "Not a breach: a statutory exception applies",
            DeterminationClass::NotBreachLowProbability => {
                "Not a breach: low probability that the PHI has been compromised"
            }
            DeterminationClass::Breach => "Breach of unsecured PHI: notification required",
        }
    }

    /// The section that decides this class.
    pub fn cite(self) -> &'static str {
        match self {
            DeterminationClass::NotBreachSecured => "45 CFR 164.402; 74 FR 19006",
            DeterminationClass::NotBreachException => "45 CFR 164.402(1)",
            DeterminationClass::NotBreachLowProbability | DeterminationClass::Breach => {
                "45 CFR 164.402(2)"
            }
        }
    }

    pub fn is_breach(self) -> bool {
        self == DeterminationClass::Breach
    }
}

/// One statement of why, with its authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub text: String,
    /// e.g. "45 CFR 164.402(1)(i)", "74 FR 19006", "HHS ransomware fact sheet (2016)".
    pub cite: String,
}

impl Reason {
    pub fn new(text: impl Into<String>, cite: impl Into<String>) -> Reason {
        Reason {
            text: text.into(),
            cite: cite.into(),
        }
    }
}

/// One factor of the 164.402(2) risk assessment, rated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorResult {
    /// "i", "ii", "iii", "iv", or the name of an additional factor.
    pub factor: String,
    pub name: String,
    pub rating: Rating,
    pub rationale: String,
    pub cite: String,
}

/// The route by which a low probability of compromise was demonstrated (see [`factors`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Not actually acquired or viewed, shown by evidence (factor iii low).
    R1,
    /// Recipient bound by HIPAA or equivalent duties and risk mitigated (ii and iv low).
    R2,
    /// Low re-identification risk and a recipient who is not hostile (i low, ii not high).
    R3,
}

impl Route {
    pub fn key(self) -> &'static str {
        match self {
            Route::R1 => "R1",
            Route::R2 => "R2",
            Route::R3 => "R3",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Route::R1 => "the PHI was not actually acquired or viewed, shown by evidence",
            Route::R2 => {
                "the recipient is bound by HIPAA or equivalent confidentiality duties and gave credible assurance of return, destruction or non-use"
            }
            Route::R3 => {
                "the data carry low re-identification risk and the recipient is not hostile"
            }
        }
    }
}

/// The result of [`determine`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    pub class: DeterminationClass,
    /// The steps taken, in order; the last one decided.
    pub reasons: Vec<Reason>,
    /// Empty unless the four-factor assessment ran.
    pub factors: Vec<FactorResult>,
    /// The low-probability route taken, if any.
    pub route: Option<Route>,
    /// What defeated each route R1–R3 that was not taken.
    pub defeated: Vec<Reason>,
}

impl Determination {
    /// The reason that decided the class (the last step).
    pub fn decisive(&self) -> Option<&Reason> {
        self.reasons.last()
    }
}

/// When the 60-day clock started, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockStart {
    /// Day 0. `None` when no discovery date is recorded.
    pub date: Option<NaiveDate>,
    pub basis: String,
    pub cite: String,
    /// One reason per recorded discovery event: the one used, or why each other one did not
    /// set the date (164.404(a)(2)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Reason>,
}

/// A law-enforcement delay in effect, 164.412: one period per statement that delays notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayInfo {
    /// The earliest start of a period.
    pub start: NaiveDate,
    /// The latest end of a period.
    pub end: NaiveDate,
    /// One reason per statement: what it did, or why it was not a valid delay.
    pub basis: Vec<Reason>,
    /// The periods, in order of their start. They need not touch: the days between two
    /// statements are not delay.
    #[serde(default)]
    pub periods: Vec<DelayPeriod>,
}

impl DelayInfo {
    /// "2025-04-01 to 2025-04-06 and 2025-05-17 to 2025-06-16".
    pub fn describe_periods(&self) -> String {
        let v: Vec<String> = self
            .periods
            .iter()
            .map(|p| format!("{} to {}", p.start, p.end))
            .collect();
        match v.len() {
            0 => format!("{} to {}", self.start, self.end),
            _ => v.join(" and "),
        }
    }
}

/// The days one law-enforcement statement was in effect: notice delayed from `start` until
/// `end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// 1-based position of the statement in `law_enforcement`.
    pub statement: usize,
}

/// Where an obligation stands. JSON: `{"key": "late", "days": 3, "sent": true}`; the tag
/// is the same string as [`ObligationStatus::key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "key", rename_all = "snake_case")]
pub enum ObligationStatus {
    Pending,
    /// Fully sent on or before the due date; `on` is the date of the record that completed it.
    Met {
        on: NaiveDate,
    },
    /// `sent: true`: completed `days` after the due date. `sent: false`: not yet complete and
    /// `days` past the due date.
    Late {
        days: i64,
        sent: bool,
    },
    NotRequired {
        reason: String,
    },
}

impl ObligationStatus {
    pub fn key(&self) -> &'static str {
        match self {
            ObligationStatus::Pending => "pending",
            ObligationStatus::Met { .. } => "met",
            ObligationStatus::Late { .. } => "late",
            ObligationStatus::NotRequired { .. } => "not_required",
        }
    }

    pub fn is_required(&self) -> bool {
        !matches!(self, ObligationStatus::NotRequired { .. })
    }
}

/// One notice the entity owes (or would owe), with its deadline and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    pub kind: ObligationKind,
    /// State code or "ST:Name" for media notices; `None` otherwise.
    pub jurisdiction: Option<String>,
    /// Last permitted day (after any law-enforcement delay). `None`: no date applies or the
    /// discovery date is not recorded.
    pub due: Option<NaiveDate>,
    /// Set when a law-enforcement delay moved `due`: the deadline before the delay.
    pub original_due: Option<NaiveDate>,
    /// End of the 90-day posting / toll-free window, 164.404(d)(2)(ii).
    pub window_end: Option<NaiveDate>,
    pub cite: String,
    /// Set when a law-enforcement delay moved this date: [`LePolicy::describe`].
    pub policy: Option<String>,
    pub status: ObligationStatus,
    /// `due − today`; negative when past due. `None` when met, not required or undated.
    pub days_remaining: Option<i64>,
    /// `today − clock start`: the "without unreasonable delay" standard, 164.404(b).
    pub days_elapsed: Option<i64>,
    /// How many recipients must be notified; `None` when one notice suffices.
    pub required_count: Option<u64>,
    /// Sum of the counts of matching notice records.
    pub sent_count: u64,
    pub note: String,
    /// State obligations: the regulator's id in the State's rules (`ag`), or the id of a
    /// conditional rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// State obligations: whether the rule used was verified against statute text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// State obligations: the effective date of the law version used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<NaiveDate>,
    /// State obligations: where the rule was verified, or its source when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The engine's own determination (kept even when overridden).
    pub engine: Determination,
    /// The override if there is one, else the engine's class.
    pub effective_class: DeterminationClass,
    /// A human override was recorded (even one that agrees with the engine).
    pub overridden: bool,
    pub clock: ClockStart,
    pub delay: Option<DelayInfo>,
    pub policy: LePolicy,
    pub obligations: Vec<Obligation>,
    pub retention_until: NaiveDate,
    pub retention_cite: String,
    /// Warnings that belong to no single obligation (e.g. a law-enforcement statement that is
    /// not a valid delay). Additive to the brief's contract.
    pub notes: Vec<Reason>,
    /// The State laws considered ([`evaluate_with_laws`]); `None` for a HIPAA-only evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub laws: Option<state::LawsUsed>,
}
