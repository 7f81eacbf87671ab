//! Scenario files: parsing, structural checks, and the facts and expected answers at each
//! stage. The format is documented in the module doc of [`crate::exercise`] and in
//! `src/exercise/scenarios/README.md`.
//!
//! A scenario has stages `0..=injects.len()`: stage 0 is the `[facts]` table at `start`;
//! stage `k` is the facts after the first `k` injects have been applied, on the date of
//! inject `k`. The expected answer at every stage is computed by [`crate::rules::evaluate`],
//! never written by hand.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::vocab::{EntityType, normalize_state};
use crate::domain::{
    BusinessDays, Counts, Facts, LePolicy, NoticeMethod, NoticeRecord, ObligationKind,
    Organization, Role,
};
use crate::intake::facts::sanitize;
use crate::laws::LawSet;
use crate::rules::{EngineInput, Evaluation, StateOptions, evaluate, evaluate_with_laws};

use super::error::ExerciseError;

/// Time zone used when a scenario's organization names none.
pub const DEFAULT_TIME_ZONE: &str = "America/New_York";

/// A tabletop-exercise scenario, as read from its TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short id: lowercase letters, digits and hyphens, e.g. `laptop-encrypted-off`.
    pub id: String,
    pub title: String,
    /// What the room is told at the start (no real patient data).
    pub briefing: String,
    pub organization: ScenarioOrg,
    /// Simulated start: a date (`2026-03-02`) or a local date-time (`2026-03-02T08:30:00`).
    pub start: SimStart,
    /// The facts in force at stage 0: a full facts-file table (`domain::Facts`).
    #[serde(default)]
    pub facts: Facts,
    /// Discussion questions for stage 0.
    #[serde(default)]
    pub questions: Vec<String>,
    /// New facts arriving in simulated time, `[[inject]]` in the file.
    #[serde(default, rename = "inject")]
    pub injects: Vec<Inject>,
    /// The engine's answers include State-law duties (breachdesk's built-in rules data) and
    /// the room is scored on them like HIPAA's. Off by default: a HIPAA scenario's answers
    /// and score are HIPAA's alone, and State-law notices the room names are not scored.
    #[serde(default)]
    pub state_laws: bool,
    /// Where the scenario came from (file path or `builtin:<id>`); named in errors.
    #[serde(skip)]
    pub origin: String,
}

/// The organization that runs the exercise: enough to build a [`domain::Organization`].
///
/// [`domain::Organization`]: crate::domain::Organization
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioOrg {
    pub legal_name: String,
    /// `covered_entity` or `business_associate`.
    pub role: Role,
    /// `healthcare_provider`, `health_plan`, `healthcare_clearing_house`, `business_associate`.
    pub entity_type: EntityType,
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
    #[serde(default = "default_tz")]
    pub time_zone: String,
    /// `later_of` (default) or `extend_by_delay`, 164.412.
    #[serde(default)]
    pub le_policy: LePolicy,
    /// `weekends_only` (default) or `federal_holidays`: State deadlines in business days.
    #[serde(default)]
    pub business_days: BusinessDays,
}

fn default_tz() -> String {
    DEFAULT_TIME_ZONE.to_string()
}

impl ScenarioOrg {
    pub fn organization(&self) -> Organization {
        Organization {
            legal_name: self.legal_name.clone(),
            role: self.role,
            entity_type: self.entity_type,
            serves: self.serves.clone(),
            address: self.address.clone(),
            privacy_officer: self.privacy_officer.clone(),
            toll_free: self.toll_free.clone(),
            email: self.email.clone(),
            website: self.website.clone(),
            postal_address: self.postal_address.clone(),
            time_zone: self.time_zone.clone(),
            le_policy: self.le_policy,
            business_days: self.business_days,
            weak_passphrase: false,
        }
    }
}

/// Simulated start: a date, with an optional local time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimStart {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
}

impl SimStart {
    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` or the same with a space.
    pub fn parse(s: &str) -> Option<SimStart> {
        let s = s.trim();
        if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(SimStart { date, time: None });
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(SimStart {
                    date: dt.date(),
                    time: Some(dt.time()),
                });
            }
        }
        None
    }
}

impl fmt::Display for SimStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.time {
            Some(t) => write!(f, "{}T{}", self.date, t.format("%H:%M")),
            None => write!(f, "{}", self.date),
        }
    }
}

impl Serialize for SimStart {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SimStart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const HOW: &str = "expected a date (2026-03-02) or a local date-time without offset (2026-03-02T08:30:00)";
        let text = match toml::Value::deserialize(d)? {
            toml::Value::Datetime(dt) => dt.to_string(),
            toml::Value::String(s) => s,
            _ => return Err(D::Error::custom(HOW)),
        };
        SimStart::parse(&text).ok_or_else(|| D::Error::custom(HOW))
    }
}

/// New facts that arrive at a simulated date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// Simulated date; on or after `start` and the previous inject.
    pub at: NaiveDate,
    pub title: String,
    /// What the room is told.
    pub told: String,
    /// Dotted fact paths → new values, e.g. `"individuals.by_state.CA" = 501`.
    #[serde(default)]
    pub set: toml::Table,
    /// Notices the organization sent by this date (in simulated time).
    #[serde(default)]
    pub notices: Vec<InjectNotice>,
    /// Discussion questions for this stage.
    #[serde(default)]
    pub questions: Vec<String>,
}

/// A notice sent in simulated time (becomes a [`NoticeRecord`] for the engine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectNotice {
    pub kind: ObligationKind,
    /// State code for a media notice.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    pub date: NaiveDate,
    pub method: NoticeMethod,
    pub count: u64,
}

impl InjectNotice {
    pub fn record(&self) -> NoticeRecord {
        NoticeRecord {
            kind: self.kind,
            jurisdiction: self.jurisdiction.clone(),
            recipient: None,
            date: self.date,
            method: self.method,
            count: self.count,
            evidence_sha256: None,
            batch: None,
            signoff: None,
        }
    }
}

impl Scenario {
    /// Index of the last stage (= number of injects).
    pub fn last_stage(&self) -> usize {
        self.injects.len()
    }

    /// Questions for a stage (stage 0: the scenario's; stage k: inject k's).
    pub fn questions_at(&self, stage: usize) -> &[String] {
        match stage {
            0 => &self.questions,
            k => self
                .injects
                .get(k - 1)
                .map(|i| i.questions.as_slice())
                .unwrap_or(&[]),
        }
    }

    pub(crate) fn check_stage(&self, stage: usize) -> Result<(), ExerciseError> {
        if stage > self.last_stage() {
            return Err(ExerciseError::NoSuchStage {
                id: self.id.clone(),
                stage,
                last: self.last_stage(),
            });
        }
        Ok(())
    }
}

/// Parses a scenario file; `origin` (a path or `builtin:<id>`) names it in errors.
///
/// Checks the structure (unknown keys, types, inject order, notice dates) and applies
/// every inject's `set` paths, so a path that names no fact is reported here with its
/// inject. [`validate`] adds the cross-field checks and runs the engine on every stage.
pub fn parse_scenario(text: &str, origin: &str) -> Result<Scenario, ExerciseError> {
    let value: toml::Value = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start)).unwrap_or(1);
        ExerciseError::Syntax {
            origin: origin.to_string(),
            line,
            message: sanitize(e.message()),
        }
    })?;
    if let Some(path) = crate::intake::facts::control_char_path(&value) {
        return Err(ExerciseError::Field {
            origin: origin.to_string(),
            line: locate(text, &path),
            message: "contains a NUL or another control character; remove it".to_string(),
            path,
        });
    }
    let mut scenario: Scenario = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ExerciseError::Field {
            origin: origin.to_string(),
            line: locate(text, &path),
            message: explain(&sanitize(&e.inner().to_string())),
            path,
        }
    })?;
    scenario.origin = origin.to_string();
    check_structure(&scenario, Some(text))?;
    stage_facts(&scenario, scenario.last_stage()).map_err(|e| with_line(e, text))?;
    Ok(scenario)
}

/// Full check: structure, the facts of every stage (deserialization and the facts-file
/// cross-field checks with `today` = the stage date), and an engine run on every stage.
/// Returns warnings for the facilitator (nothing that stops the exercise).
pub fn validate(s: &Scenario) -> Result<Vec<String>, ExerciseError> {
    check_structure(s, None)?;
    let mut warnings = Vec::new();
    for stage in 0..=s.last_stage() {
        let facts = stage_facts(s, stage)?;
        let date = stage_date(s, stage);
        crate::intake::facts::validate(&facts, date).map_err(|e| ExerciseError::Stage {
            origin: s.origin.clone(),
            stage,
            date,
            message: format!("{e}; the facts in force at this stage must be true on its date"),
        })?;
        let ev = expected(s, stage)?;
        if ev.clock.date.is_none() {
            warnings.push(format!(
                "stage {stage} ({date}): neither breach.discovered nor a discovery event that counts is recorded, so no deadline has a date"
            ));
        }
        if s.questions_at(stage).is_empty() {
            warnings.push(format!("stage {stage} ({date}): no discussion questions"));
        }
        for o in &ev.obligations {
            if let crate::rules::ObligationStatus::Late { days, sent: false } = o.status {
                warnings.push(format!(
                    "stage {stage} ({date}): {} is already {days} day(s) past due in simulated time",
                    o.kind.key()
                ));
            }
        }
        if stage > 0
            && let Some(inj) = s.injects.get(stage - 1)
        {
            for n in &inj.notices {
                let required = ev
                    .obligations
                    .iter()
                    .any(|o| o.kind == n.kind && o.status.is_required());
                if !required {
                    warnings.push(format!(
                        "inject {stage}: a {} notice is recorded as sent, but the engine does not require one at this stage",
                        n.kind.key()
                    ));
                }
            }
        }
    }
    Ok(warnings)
}

/// The facts in force at `stage`: stage 0 is `[facts]`, stage k is after k injects.
pub fn stage_facts(s: &Scenario, stage: usize) -> Result<Facts, ExerciseError> {
    s.check_stage(stage)?;
    let mut facts = s.facts.clone();
    for (i, inj) in s.injects.iter().take(stage).enumerate() {
        for (path, value) in &inj.set {
            facts = set_fact(&facts, path, value.clone()).map_err(|message| {
                ExerciseError::InjectPath {
                    origin: s.origin.clone(),
                    line: None,
                    number: i + 1,
                    title: inj.title.clone(),
                    path: path.clone(),
                    message,
                }
            })?;
        }
    }
    Ok(facts)
}

/// The simulated date of `stage` (the start for stage 0; a stage past the end is the last).
pub fn stage_date(s: &Scenario, stage: usize) -> NaiveDate {
    match stage.min(s.last_stage()) {
        0 => s.start.date,
        k => s.injects.get(k - 1).map(|i| i.at).unwrap_or(s.start.date),
    }
}

/// Notices sent in simulated time up to and including `stage`.
pub fn stage_notices(s: &Scenario, stage: usize) -> Vec<NoticeRecord> {
    s.injects
        .iter()
        .take(stage)
        .flat_map(|i| i.notices.iter().map(InjectNotice::record))
        .collect()
}

/// The engine's answer at `stage`: role and policies from the scenario's organization,
/// counts from the facts' estimates, notices from the injects so far, `today` and
/// `last_in_effect` = the stage date; with the built-in State laws when the scenario asks
/// for them (`state_laws = true`), else HIPAA's alone.
pub fn expected(s: &Scenario, stage: usize) -> Result<Evaluation, ExerciseError> {
    let facts = stage_facts(s, stage)?;
    let date = stage_date(s, stage);
    let counts = Counts::from_facts(&facts.individuals);
    let notices = stage_notices(s, stage);
    let input = EngineInput {
        facts: &facts,
        role: s.organization.role,
        counts: &counts,
        notices: &notices,
        policy: s.organization.le_policy,
        override_class: None,
        last_in_effect: date,
    };
    if s.state_laws {
        return Ok(evaluate_with_laws(
            &input,
            StateOptions {
                laws: LawSet::builtin(),
                business_days: s.organization.business_days,
            },
            date,
        ));
    }
    Ok(evaluate(&input, date))
}

/// Sets one dotted path on the facts through their TOML form, then reads them back, so
/// every fact is reachable and an unknown path or a bad value is refused.
fn set_fact(facts: &Facts, path: &str, value: toml::Value) -> Result<Facts, String> {
    let mut root =
        toml::Value::try_from(facts).map_err(|e| format!("cannot convert the facts: {e}"))?;
    let segs: Vec<&str> = path.split('.').map(str::trim).collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err("the path has an empty segment".into());
    }
    let mut cur = &mut root;
    for (i, seg) in segs.iter().enumerate() {
        let toml::Value::Table(t) = cur else {
            return Err(format!(
                "`{}` is a value, not a section of the facts",
                segs[..i].join(".")
            ));
        };
        if i + 1 == segs.len() {
            t.insert((*seg).to_string(), value);
            break;
        }
        cur = t
            .entry((*seg).to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    serde_path_to_error::deserialize::<_, Facts>(root).map_err(|e| {
        format!(
            "field `{}`: {}",
            e.path(),
            explain(&sanitize(&e.inner().to_string()))
        )
    })
}

/// One-line message (toml appends "in `table`" on its own lines), with a date hint.
fn explain(msg: &str) -> String {
    let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    let msg = msg.as_str();
    if msg.contains("formatted date string") || msg.contains("premature end of input") {
        return format!("{msg} (dates are YYYY-MM-DD)");
    }
    msg.to_string()
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Structural rules not expressed by the types. `text` (when known) gives line numbers.
fn check_structure(s: &Scenario, text: Option<&str>) -> Result<(), ExerciseError> {
    let origin = s.origin.clone();
    let line = |path: &str| text.and_then(|t| locate(t, path));
    let invalid = |path: &str, message: String| ExerciseError::Invalid {
        origin: origin.clone(),
        line: line(path),
        message,
    };
    if !is_id(&s.id) {
        return Err(invalid(
            "id",
            "`id` must be 1 to 64 lowercase letters, digits or hyphens, e.g. \"laptop-encrypted-off\"".into(),
        ));
    }
    for (field, v) in [
        ("title", &s.title),
        ("briefing", &s.briefing),
        ("organization.legal_name", &s.organization.legal_name),
    ] {
        if v.trim().is_empty() {
            return Err(invalid(field, format!("`{field}` is empty: write it")));
        }
    }
    let mut limit = s.start.date;
    let mut before = "the start".to_string();
    for (i, inj) in s.injects.iter().enumerate() {
        let n = i + 1;
        let path = format!("inject[{i}]");
        if inj.at < limit {
            return Err(ExerciseError::InjectOrder {
                origin: origin.clone(),
                line: line(&format!("{path}.at")),
                number: n,
                title: inj.title.clone(),
                at: inj.at,
                before,
                limit,
            });
        }
        for (field, v) in [("title", &inj.title), ("told", &inj.told)] {
            if v.trim().is_empty() {
                return Err(invalid(
                    &format!("{path}.{field}"),
                    format!("inject {n}: `{field}` is empty: write what the room is told"),
                ));
            }
        }
        for (j, notice) in inj.notices.iter().enumerate() {
            let npath = format!("{path}.notices[{j}]");
            if notice.date > inj.at || notice.date < s.start.date {
                return Err(invalid(
                    &format!("{npath}.date"),
                    format!(
                        "inject {n}, notice {}: dated {}, outside the simulated time from the start ({}) to the inject ({}); a notice is recorded by the inject on or after the day it was sent",
                        j + 1,
                        notice.date,
                        s.start.date,
                        inj.at
                    ),
                ));
            }
            if let Some(j2) = &notice.jurisdiction
                && notice.kind == ObligationKind::Media
                && normalize_state(j2.split(':').next().unwrap_or("")).is_none()
            {
                return Err(invalid(
                    &format!("{npath}.jurisdiction"),
                    format!(
                        "inject {n}, notice {}: media jurisdiction is not a State code of 45 CFR 160.103 (or \"ST:Name\")",
                        j + 1
                    ),
                ));
            }
        }
        limit = inj.at;
        before = format!("inject {n}");
    }
    Ok(())
}

fn with_line(e: ExerciseError, text: &str) -> ExerciseError {
    match e {
        ExerciseError::InjectPath {
            origin,
            line: None,
            number,
            title,
            path,
            message,
        } => {
            let line = inject_header_line(text, number).map(|start| {
                text.lines()
                    .enumerate()
                    .skip(start)
                    .take_while(|(_, l)| !l.trim_start().starts_with("[[inject]]"))
                    .find(|(_, l)| l.contains(path.as_str()))
                    .map(|(i, _)| i + 1)
                    .unwrap_or(start)
            });
            ExerciseError::InjectPath {
                origin,
                line,
                number,
                title,
                path,
                message,
            }
        }
        other => other,
    }
}

/// 1-based line of the `number`-th (1-based) `[[inject]]` header.
fn inject_header_line(text: &str, number: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[inject]]"))
        .nth(number.checked_sub(1)?)
        .map(|(i, _)| i + 1)
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The line that best matches a serde path such as `inject[1].notices[0].kind` or
/// `facts.breach.discoverd`: the longest recorded key or table path that is a prefix of it.
pub(crate) fn locate(text: &str, path: &str) -> Option<usize> {
    let index = line_index(text);
    let mut best: Option<(usize, usize)> = None;
    for (p, line) in &index {
        let matches = path == p
            || (path.starts_with(p.as_str())
                && matches!(path.as_bytes().get(p.len()), Some(b'.') | Some(b'[')));
        if matches && best.is_none_or(|(len, _)| p.len() > len) {
            best = Some((p.len(), *line));
        }
    }
    best.map(|(_, l)| l)
}

/// Every table header and key assignment with its resolved path (`inject[2].set`, …).
fn line_index(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut arrays: BTreeMap<String, usize> = BTreeMap::new();
    let mut prefix = String::new();
    let mut in_multiline: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if let Some(delim) = in_multiline {
            if t.matches(delim).count() % 2 == 1 {
                in_multiline = None;
            }
            continue;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(rest) = t.strip_prefix("[[") {
            let name = rest.split("]]").next().unwrap_or("").trim().to_string();
            let count = arrays.entry(name.clone()).or_insert(0);
            *count += 1;
            prefix = resolve(&name, &arrays);
            out.push((prefix.clone(), i + 1));
            continue;
        }
        if let Some(rest) = t.strip_prefix('[') {
            let name = rest.split(']').next().unwrap_or("").trim().to_string();
            prefix = resolve(&name, &arrays);
            out.push((prefix.clone(), i + 1));
            continue;
        }
        let Some((k, v)) = t.split_once('=') else {
            continue;
        };
        let key = k.trim().trim_matches('"').trim_matches('\'');
        let full = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        out.push((full, i + 1));
        for delim in ["\"\"\"", "'''"] {
            if v.matches(delim).count() % 2 == 1 {
                in_multiline = Some(delim);
            }
        }
    }
    out
}

/// `inject.notices` → `inject[1].notices[0]` using the counts of arrays of tables seen.
fn resolve(name: &str, arrays: &BTreeMap<String, usize>) -> String {
    let mut raw = String::new();
    let mut out = String::new();
    for seg in name.split('.') {
        let seg = seg.trim().trim_matches('"');
        if !raw.is_empty() {
            raw.push('.');
            out.push('.');
        }
        raw.push_str(seg);
        out.push_str(seg);
        if let Some(n) = arrays.get(&raw) {
            out.push_str(&format!("[{}]", n.saturating_sub(1)));
        }
    }
    out
}
