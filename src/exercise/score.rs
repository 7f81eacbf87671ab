//! The room's decisions, scored against the rules engine.
//!
//! Per decision (a decision belongs to one stage) the items are:
//! - the determination: right or wrong (no answer is wrong);
//! - for each obligation the engine requires at that stage: was it named (kind, and the
//!   State for a media notice), and was its due date right. The optional urgent telephone
//!   notice, 164.404(d)(3), is never required, so it is neither scored when missing nor
//!   wrong when named while the engine lists it;
//! - for each notice the room named that the engine does not require: wrong (unnecessary).
//!
//! Every item carries the engine's reason and citation, so the debrief reads the rule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::ObligationKind;
use crate::domain::vocab::normalize_state;
use crate::rules::{DeterminationClass, Evaluation, Obligation};

use super::error::ExerciseError;
use super::scenario::{Scenario, expected};

/// One notice the room says must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedNotice {
    pub kind: ObligationKind,
    /// State code for a media notice; ignored for other kinds.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// The last permitted day, as the room computed it.
    #[serde(default)]
    pub due: Option<NaiveDate>,
}

impl DecidedNotice {
    /// `KIND[:JURISDICTION][=YYYY-MM-DD]`: a notice the room says is owed (the command
    /// line's `--notice` and the facilitator's form). Errors name the syntax, not the value.
    pub fn parse(s: &str) -> Result<DecidedNotice, String> {
        let (head, due) = match s.split_once('=') {
            Some((h, d)) => (
                h,
                Some(
                    NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                        "--notice due date is not a date: use KIND[:ST]=YYYY-MM-DD".to_string()
                    })?,
                ),
            ),
            None => (s, None),
        };
        let (kind, jurisdiction) = match head.split_once(':') {
            Some((k, j)) => (
                k,
                Some(
                    normalize_state(j)
                        .map(str::to_string)
                        .unwrap_or_else(|| j.trim().to_string()),
                ),
            ),
            None => (head, None),
        };
        let kind = ObligationKind::from_key(kind.trim()).ok_or_else(|| {
            format!(
                "--notice kind is not recognised; accepted: {} (format KIND[:ST][=YYYY-MM-DD])",
                ObligationKind::accepted()
            )
        })?;
        Ok(DecidedNotice {
            kind,
            jurisdiction,
            due,
        })
    }
}

/// What the room decided at one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub stage: usize,
    #[serde(default)]
    pub determination: Option<DeterminationClass>,
    #[serde(default)]
    pub notices: Vec<DecidedNotice>,
    #[serde(default)]
    pub note: String,
}

/// One scored item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreItem {
    pub stage: usize,
    pub question: String,
    pub answer_given: String,
    pub expected: String,
    pub correct: bool,
    /// The engine's reason.
    pub reason: String,
    /// The engine's citation.
    pub cite: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub items: Vec<ScoreItem>,
    pub correct: usize,
    pub total: usize,
    /// 0–100; 0 when nothing was scored.
    pub percent: f64,
    /// What the score leaves out, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Score {
    fn from_items(items: Vec<ScoreItem>) -> Score {
        let correct = items.iter().filter(|i| i.correct).count();
        let total = items.len();
        let percent = if total == 0 {
            0.0
        } else {
            correct as f64 * 100.0 / total as f64
        };
        Score {
            items,
            correct,
            total,
            percent,
            notes: Vec::new(),
        }
    }

    pub fn is_perfect(&self) -> bool {
        self.total > 0 && self.correct == self.total
    }
}

/// Scores every decision against the engine's answer at its stage. In a scenario without
/// State laws (`state_laws = false`), State-law notices the room names are left out of the
/// score, and the score says so.
pub fn score(s: &Scenario, decisions: &[Decision]) -> Result<Score, ExerciseError> {
    let mut items = Vec::new();
    let mut unscored = 0;
    for d in decisions {
        let ev = expected(s, d.stage)?;
        let mut d = d.clone();
        if !s.state_laws {
            let before = d.notices.len();
            d.notices.retain(|n| !n.kind.is_state());
            unscored += before - d.notices.len();
        }
        items.extend(score_decision(&d, &ev));
    }
    let mut score = Score::from_items(items);
    if unscored > 0 {
        score.notes.push(format!(
            "{unscored} State-law notice(s) named by the room are not scored: this scenario is scored on HIPAA's duties (it does not set state_laws = true)"
        ));
    }
    Ok(score)
}

/// The engine's answers, one decision per stage: what a perfect room would say.
pub fn perfect_answers(s: &Scenario) -> Result<Vec<Decision>, ExerciseError> {
    (0..=s.last_stage())
        .map(|stage| {
            let ev = expected(s, stage)?;
            Ok(Decision {
                stage,
                determination: Some(ev.effective_class),
                notices: required(&ev)
                    .map(|o| DecidedNotice {
                        kind: o.kind,
                        jurisdiction: o.jurisdiction.clone(),
                        due: o.due,
                    })
                    .collect(),
                note: "derived from the rules engine".into(),
            })
        })
        .collect()
}

/// Obligations the room must name: required, and not the optional urgent call. (State-law
/// duties are in the engine's answer only when the scenario asks for them.)
pub(crate) fn required(ev: &Evaluation) -> impl Iterator<Item = &Obligation> {
    ev.obligations
        .iter()
        .filter(|o| o.status.is_required() && o.kind != ObligationKind::UrgentPhoneOptional)
}

/// `kind (ST)` or `kind`.
pub(crate) fn ident(kind: ObligationKind, jurisdiction: Option<&str>) -> String {
    match jurisdiction {
        Some(j) if kind == ObligationKind::Media || kind.is_state() => {
            format!("{} ({j})", kind.key())
        }
        _ => kind.key().to_string(),
    }
}

fn same_place(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
        || matches!((normalize_state(a), normalize_state(b)), (Some(x), Some(y)) if x == y)
}

/// Does the room's notice name this obligation? Kind, and the State for a media notice
/// to a named State or a State-law notice.
pub(crate) fn names(n: &DecidedNotice, o: &Obligation) -> bool {
    n.kind == o.kind
        && match (&o.jurisdiction, o.kind) {
            (Some(j), k) if k == ObligationKind::Media || k.is_state() => {
                n.jurisdiction.as_deref().is_some_and(|x| same_place(x, j))
            }
            _ => true,
        }
}

fn kind_cite(kind: ObligationKind) -> &'static str {
    match kind {
        ObligationKind::Individual => "45 CFR 164.404(b)",
        ObligationKind::NextOfKin => "45 CFR 164.404(d)(1)(ii)",
        ObligationKind::SubstituteInformal => "45 CFR 164.404(d)(2)(i)",
        ObligationKind::SubstituteWebOrMedia => "45 CFR 164.404(d)(2)(ii)(A)",
        ObligationKind::TollFreeLine => "45 CFR 164.404(d)(2)(ii)(B)",
        ObligationKind::UrgentPhoneOptional => "45 CFR 164.404(d)(3)",
        ObligationKind::Media => "45 CFR 164.406",
        ObligationKind::HhsImmediate => "45 CFR 164.408(b)",
        ObligationKind::HhsAnnual => "45 CFR 164.408(c)",
        ObligationKind::BaToCe => "45 CFR 164.410",
        ObligationKind::StateIndividual
        | ObligationKind::StateRegulator
        | ObligationKind::StateCra => {
            "State breach-notification law (see the obligation's citation)"
        }
    }
}

fn date_or(d: Option<NaiveDate>, none: &str) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| none.to_string())
}

/// Why the due date is what it is.
fn due_reason(o: &Obligation, ev: &Evaluation) -> (String, String) {
    let due = date_or(o.due, "no date");
    let clock = date_or(ev.clock.date, "not recorded");
    let mut text = match o.kind {
        // A State's deadline: its own count, as the engine's note states it.
        k if k.is_state() => format!("last permitted day {due}: {}", o.note),
        ObligationKind::HhsAnnual => format!(
            "last permitted day {due}: within 60 days after the end of the calendar year of discovery (clock start {clock}); March 1, or February 29 when the next year is a leap year"
        ),
        _ => format!(
            "last permitted day {due}: 60 calendar days from the clock start {clock}, no weekend or holiday roll-forward; {}",
            ev.clock.basis
        ),
    };
    let mut cite = format!("{}; {}", o.cite, ev.clock.cite);
    if let Some(orig) = o.original_due {
        text.push_str(&format!(
            "; moved from {orig} by the law-enforcement delay ({})",
            o.policy.as_deref().unwrap_or("164.412")
        ));
        cite.push_str("; 45 CFR 164.412");
    }
    (text, cite)
}

/// The required HHS obligation of the other route (immediate vs annual), if any.
fn hhs_counterpart(kind: ObligationKind, ev: &Evaluation) -> Option<&Obligation> {
    let other = match kind {
        ObligationKind::HhsImmediate => ObligationKind::HhsAnnual,
        ObligationKind::HhsAnnual => ObligationKind::HhsImmediate,
        _ => return None,
    };
    required(ev).find(|o| o.kind == other)
}

/// Items for one decision against the engine's evaluation at its stage.
pub fn score_decision(d: &Decision, ev: &Evaluation) -> Vec<ScoreItem> {
    let mut items = Vec::new();
    let class = ev.effective_class;
    let (decisive, decisive_cite) = match ev.engine.decisive() {
        Some(r) => (r.text.clone(), r.cite.clone()),
        None => (class.label().to_string(), class.cite().to_string()),
    };

    let given = d.determination;
    let correct = given == Some(class);
    items.push(ScoreItem {
        stage: d.stage,
        question: "Is this a breach of unsecured PHI (45 CFR 164.402)?".into(),
        answer_given: given
            .map(|g| g.key().to_string())
            .unwrap_or_else(|| "no answer".into()),
        expected: class.key().into(),
        correct,
        reason: if correct {
            format!("{}: {decisive}", class.label())
        } else {
            format!("the engine finds {}: {decisive}", class.label())
        },
        cite: decisive_cite.clone(),
    });

    for o in required(ev) {
        let id = ident(o.kind, o.jurisdiction.as_deref());
        let named = d.notices.iter().find(|n| names(n, o));
        items.push(ScoreItem {
            stage: d.stage,
            question: format!("Must you give: {} [{id}]?", o.kind.describe()),
            answer_given: if named.is_some() {
                "named"
            } else {
                "not named"
            }
            .into(),
            expected: "required".into(),
            correct: named.is_some(),
            reason: if named.is_some() {
                o.note.clone()
            } else {
                format!("required but not named: {}", o.note)
            },
            cite: o.cite.clone(),
        });
        if let Some(due) = o.due {
            let (mut reason, cite) = due_reason(o, ev);
            let given_due = named.and_then(|n| n.due);
            if let Some(g) = given_due
                && g != due
            {
                let diff = (g - due).num_days();
                reason = format!(
                    "{} day(s) {}: {reason}",
                    diff.abs(),
                    if diff > 0 { "late" } else { "early" }
                );
            }
            items.push(ScoreItem {
                stage: d.stage,
                question: format!("By when [{id}]?"),
                answer_given: match named {
                    None => "not named".into(),
                    Some(_) => date_or(given_due, "no date given"),
                },
                expected: due.to_string(),
                correct: given_due == Some(due),
                reason,
                cite,
            });
        }
    }

    for n in &d.notices {
        let listed_optional = n.kind == ObligationKind::UrgentPhoneOptional
            && ev
                .obligations
                .iter()
                .any(|o| o.kind == n.kind && o.status.is_required());
        if listed_optional || required(ev).any(|o| names(n, o)) {
            continue;
        }
        let id = ident(n.kind, n.jurisdiction.as_deref());
        let same_kind = ev.obligations.iter().find(|o| o.kind == n.kind);
        let (reason, cite) = if !class.is_breach() {
            (
                format!("unnecessary notice: {}: {decisive}", class.label()),
                decisive_cite.clone(),
            )
        } else {
            match same_kind.map(|o| (&o.status, o)) {
                Some((crate::rules::ObligationStatus::NotRequired { reason }, o)) => {
                    (format!("unnecessary notice: {reason}"), o.cite.clone())
                }
                Some((_, o)) if o.kind == ObligationKind::Media => (
                    format!(
                        "unnecessary notice: media notice is counted per State and is required only where more than 500 residents are affected; {} is not such a State at this stage",
                        n.jurisdiction
                            .as_deref()
                            .unwrap_or("no State was named, and it")
                    ),
                    o.cite.clone(),
                ),
                _ => match hhs_counterpart(n.kind, ev) {
                    // Named the wrong HHS route: say which one the count calls for.
                    Some(o) => (
                        format!(
                            "unnecessary notice: HHS notice at this stage is {}: {}",
                            o.kind.key(),
                            o.note
                        ),
                        kind_cite(n.kind).to_string(),
                    ),
                    None => (
                        format!(
                            "unnecessary notice: the engine requires no {} notice at this stage",
                            n.kind.key()
                        ),
                        kind_cite(n.kind).to_string(),
                    ),
                },
            }
        };
        items.push(ScoreItem {
            stage: d.stage,
            question: format!("Must you give: {} [{id}]?", n.kind.describe()),
            answer_given: "named".into(),
            expected: "not required".into(),
            correct: false,
            reason,
            cite,
        });
    }
    items
}
