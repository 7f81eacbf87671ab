//! `assess ID --replay [N]`: a recorded determination re-run exactly as it was made, and
//! what today's rules and today's facts would say differently.
//!
//! Each recorded determination (`determinations_v1`) keeps the engine's inputs as they were
//! (facts without the narrative, counts, notices sent, role, policies, the date), their hash,
//! the digests of the rules data in force, the files the engine read (with copies kept
//! beside the incident), and the result. A replay:
//!
//! 1. checks the stored inputs against their hash and every restored rules file against its
//!    SHA-256;
//! 2. runs the engine on them (**the replay**) and compares the result with the one
//!    recorded. With the same engine version the two must agree; with another version the
//!    inputs and the rules are still exactly the decision's, and any difference is the
//!    engine's change (the recorded result remains the decision as made);
//! 3. runs the same inputs under the rules in force today (**today's rules**): what changed
//!    in the rules data (a new built-in release, counsel's overrides);
//! 4. evaluates the incident as it stands today (**today's facts**): what changed in the
//!    facts, counts, notices and the date since the decision.

use std::collections::BTreeMap;

use super::assess::Recorded;
use super::evaluate::{Policies, inputs, run};
use super::office::{Desk, counts_or_estimate};
use super::records::{Derived, class, determination, obligation};
use crate::domain::IncidentId;
use crate::error::{Error, Result};
use crate::laws::{Law, LawSet, LawSource, Origin, parse_source, sha256_hex};
use crate::rules::{self, Evaluation, Obligation};
use crate::store::records::{DeterminationLogRecord, InputsRecord, LawFileRecord};

/// `assess ID --replay [N]`.
#[derive(Debug, Clone)]
pub struct ReplayRequest {
    pub id: IncidentId,
    /// Which recorded determination (1 = the first); `None`: the latest.
    pub number: Option<u32>,
}

/// A rules file the decision used, and how it stands today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReplay {
    pub jurisdiction: String,
    /// `built-in` or `counsel`, at the decision.
    pub origin: String,
    pub sha256: String,
    /// Where its text came from for the replay.
    pub restored_from: &'static str,
    /// The file in force today for the jurisdiction: (origin, sha256); `None` if none.
    pub today: Option<(String, String)>,
}

impl FileReplay {
    pub fn changed(&self) -> bool {
        self.today.as_ref().is_none_or(|(_, s)| *s != self.sha256)
    }
}

/// What a replay found.
#[derive(Debug, Clone)]
pub struct Replay {
    pub incident: IncidentId,
    pub recorded: Recorded,
    /// How many determinations the incident has on record.
    pub count: usize,
    /// The engine version replaying it.
    pub engine_now: &'static str,
    pub same_engine: bool,
    /// What "exactly as made" means for this replay, in words.
    pub meaning: String,
    /// The recorded inputs as stored (their hash checked).
    pub inputs: InputsRecord,
    pub files: Vec<FileReplay>,
    /// The binary's built-in rules data differs from the one in force at the decision.
    pub builtin_changed: bool,
    pub builtin_digest_now: String,
    /// Counsel's files in force differ from those at the decision.
    pub counsel_changed: bool,
    pub counsel_digest_now: Option<String>,
    /// The stored inputs under the stored rules, by today's engine code.
    pub replayed: Evaluation,
    /// Differences between the result recorded and the replay (empty: reproduced).
    pub differences: Vec<String>,
    /// The stored inputs under the rules in force today.
    pub todays_rules: Evaluation,
    /// What today's rules change (from the replay).
    pub rules_changes: Vec<String>,
    /// The incident as it stands today, under today's rules.
    pub current: Evaluation,
    /// Which inputs changed since the decision (`facts.…` paths, counts, notices, date).
    pub inputs_changed: Vec<String>,
    /// What today's facts change (from today's rules on the stored inputs).
    pub facts_changes: Vec<String>,
}

fn class_line(
    label: &str,
    a: rules::DeterminationClass,
    b: rules::DeterminationClass,
) -> Option<String> {
    (a != b).then(|| format!("{label}: {} → {}", a.key(), b.key()))
}

/// Differences between two results: the determination, then the obligations.
fn differences(
    a_engine: rules::DeterminationClass,
    a_eff: rules::DeterminationClass,
    a: &[Obligation],
    b: &Evaluation,
) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(class_line(
        "engine's determination",
        a_engine,
        b.engine.class,
    ));
    if a_eff != b.effective_class && a_engine == b.engine.class {
        out.extend(class_line(
            "determination in effect",
            a_eff,
            b.effective_class,
        ));
    }
    out.extend(rules::diff_obligations(a, &b.obligations));
    out
}

fn diff_of(a: &Evaluation, b: &Evaluation) -> Vec<String> {
    differences(a.engine.class, a.effective_class, &a.obligations, b)
}

/// `path → scalar` of a JSON value (arrays by index).
fn flatten(v: &serde_json::Value, path: String, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(x, p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(x, format!("{path}[{i}]"), out);
            }
        }
        other => {
            out.insert(path, other.to_string());
        }
    }
}

/// Which inputs differ: facts and notices by path only (they are counsel's words), the rest
/// with the values then and now.
fn inputs_changed(then: &InputsRecord, now: &InputsRecord) -> Vec<String> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten(
        &serde_json::to_value(then).unwrap_or_default(),
        String::new(),
        &mut a,
    );
    flatten(
        &serde_json::to_value(now).unwrap_or_default(),
        String::new(),
        &mut b,
    );
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        let (x, y) = (a.get(k), b.get(k));
        if x == y {
            continue;
        }
        let words = k.starts_with("facts.") || k.starts_with("notices[");
        out.push(match (words, x, y) {
            (true, _, _) => format!("{k} changed"),
            (false, Some(x), Some(y)) => format!("{k}: {x} → {y}"),
            (false, None, Some(y)) => format!("{k}: added ({y})"),
            (false, Some(x), None) => format!("{k}: removed (was {x})"),
            (false, None, None) => continue,
        });
    }
    out
}

impl Desk<'_> {
    /// The determinations recorded for an incident, oldest first.
    pub fn determinations(&self, id: &IncidentId) -> Result<Vec<Recorded>> {
        let r = self.reader()?;
        if !r.incident_exists(id)? {
            return Err(Error::NotFound(format!("no incident {id}")));
        }
        Ok(r.determinations(id)?.iter().map(Recorded::from).collect())
    }

    /// `assess ID --replay [N]`.
    pub fn replay(&self, req: &ReplayRequest) -> Result<Replay> {
        let id = &req.id;
        let org = self.org()?;
        let today = self.today()?;
        let r = self.reader()?;
        let inc = r.incident(id, self.office.no_phi())?;
        let all = r.determinations(id)?;
        let Some(last) = all.last() else {
            return Err(Error::NotFound(format!(
                "{id} has no replayable determination: it was never assessed, or its determination was recorded by a release that did not keep the inputs and the rules (release 0.1); run `breachdesk assess {id}` to record one"
            )));
        };
        let rec: &DeterminationLogRecord = match req.number {
            None => last,
            Some(n) => all.iter().find(|x| x.seq == n).ok_or_else(|| {
                Error::NotFound(format!(
                    "{id} has {} recorded determination(s), numbered 1 to {}; there is no number {n}",
                    all.len(),
                    last.seq
                ))
            })?,
        };
        if rec.inputs.sha256() != rec.inputs_sha256 {
            return Err(Error::Audit {
                code: crate::error::exit::AUDIT_EDITED_RECORD,
                message: format!(
                    "the inputs stored with determination {} of {id} no longer match their hash: the record was altered; run `breachdesk audit verify`",
                    rec.seq
                ),
            });
        }

        // The rules as they were: the copies kept with the incident, else counsel's history
        // or the binary's own file with the same hash.
        let now_laws = self.laws()?;
        let history = r.counsel_law_history()?;
        let mut files = Vec::new();
        let mut restored: Vec<Law> = Vec::new();
        for f in &rec.laws.used {
            let (text, from) = self.restore(&r, id, f, &history)?;
            let origin = if f.origin == Origin::Counsel.key() {
                Origin::Counsel
            } else {
                Origin::BuiltIn
            };
            let law = parse_source(&LawSource {
                origin,
                name: format!("{} rules file {} as used by determination {}", f.origin, f.jurisdiction, rec.seq),
                text,
            })
            .map_err(|e| {
                Error::invalid(format!(
                    "the rules file used by determination {} no longer loads in this release ({e}): the decision cannot be replayed with this binary",
                    rec.seq
                ))
            })?;
            restored.push(law);
            files.push(FileReplay {
                jurisdiction: f.jurisdiction.clone(),
                origin: f.origin.clone(),
                sha256: f.sha256.clone(),
                restored_from: from,
                today: now_laws
                    .get(&f.jurisdiction)
                    .map(|l| (l.origin.key().to_string(), l.sha256.clone())),
            });
        }
        let then_laws = LawSet::of(restored);
        let mut replayed = run(&rec.inputs, &then_laws);
        // The set rebuilt holds only the files the engine read (each checked against its
        // SHA-256); it stands for the set in force at the decision, whose digests it names.
        if let Some(l) = &mut replayed.laws {
            l.digest = rec.laws.digest.clone();
            l.builtin_digest = rec.laws.builtin_digest.clone();
            l.counsel_digest = rec.laws.counsel_digest.clone();
        }
        let recorded_obligations: Vec<Obligation> = rec
            .result
            .obligations
            .iter()
            .cloned()
            .map(obligation)
            .collect();
        let engine_then = determination(rec.result.engine.clone()).class;
        let differences = differences(
            engine_then,
            class(rec.result.effective_class),
            &recorded_obligations,
            &replayed,
        );

        let todays_rules = run(&rec.inputs, now_laws);
        let rules_changes = diff_of(&replayed, &todays_rules);

        let d = Derived::from(r.derived(id, self.office.no_phi())?);
        let counts = counts_or_estimate(r.roster_counts(id)?, &inc);
        let now_inputs = inputs(org, &inc, &d, &counts, Policies::default(), today);
        let current = run(&now_inputs, now_laws);
        let facts_changes = diff_of(&todays_rules, &current);

        let same_engine = rec.engine_version == rules::ENGINE_VERSION;
        let meaning = if same_engine {
            format!(
                "Replayed exactly as made: the same engine version ({}) on the inputs recorded with the decision (their hash checked) and on copies of the rules files it used (each checked against its SHA-256). The replay must reproduce the recorded result{}.",
                rules::ENGINE_VERSION,
                if differences.is_empty() {
                    ", and does"
                } else {
                    "; it does NOT (see the differences): report this, the record or the engine is not what it should be"
                }
            )
        } else {
            format!(
                "The decision was made by engine version {} and is replayed by {}. The inputs and the rules data are exactly the decision's (hash and SHA-256 checked), but the code that applies them is today's: the recorded result is the decision as made, and any difference between it and the replay is the engine's change, not the facts' or the rules'{}.",
                rec.engine_version,
                rules::ENGINE_VERSION,
                if differences.is_empty() {
                    " (there is none)"
                } else {
                    ""
                }
            )
        };
        Ok(Replay {
            incident: id.clone(),
            recorded: Recorded::from(rec),
            count: all.len(),
            engine_now: rules::ENGINE_VERSION,
            same_engine,
            meaning,
            inputs_changed: inputs_changed(&rec.inputs, &now_inputs),
            inputs: rec.inputs.clone(),
            files,
            builtin_changed: now_laws.builtin_digest != rec.laws.builtin_digest,
            builtin_digest_now: now_laws.builtin_digest.clone(),
            counsel_changed: now_laws.counsel_digest != rec.laws.counsel_digest,
            counsel_digest_now: now_laws.counsel_digest.clone(),
            replayed,
            differences,
            todays_rules,
            rules_changes,
            current,
            facts_changes,
        })
    }

    /// The text of a rules file a determination used, checked against its SHA-256, and
    /// where it was found.
    fn restore(
        &self,
        r: &crate::store::Reader,
        id: &IncidentId,
        f: &LawFileRecord,
        history: &[crate::store::records::CounselLawRecord],
    ) -> Result<(String, &'static str)> {
        let ok = |t: &str| sha256_hex(t) == f.sha256;
        if let Some(t) = r.law_text(id, &f.sha256)?.filter(|t| ok(t)) {
            return Ok((t, "the copy kept with the incident"));
        }
        if let Some(h) = history
            .iter()
            .find(|h| h.jurisdiction == f.jurisdiction && h.sha256 == f.sha256 && ok(&h.text))
        {
            return Ok((h.text.clone(), "counsel's stored history"));
        }
        if let Some(l) = LawSet::builtin()
            .get(&f.jurisdiction)
            .filter(|l| l.sha256 == f.sha256)
        {
            return Ok((l.text.clone(), "this binary's built-in data (same file)"));
        }
        Err(Error::Audit {
            code: crate::error::exit::AUDIT_EDITED_RECORD,
            message: format!(
                "the copy of {}'s rules file used by a determination of {id} (SHA-256 {}) is missing or altered; run `breachdesk audit verify`",
                f.jurisdiction, f.sha256
            ),
        })
    }
}
