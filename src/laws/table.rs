//! The summary of the laws in force, one row per jurisdiction (its current version): the
//! source of `breachdesk laws list` and of the table in README.md, which a test keeps equal
//! to [`markdown`] of the built-in set.

use super::schema::{LawVersion, Provenance, Rule, Timing};
use super::{LawSet, Origin};

/// One jurisdiction's current law in a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub jurisdiction: String,
    pub name: String,
    pub origin: &'static str,
    pub effective: String,
    pub citation: String,
    pub individual: String,
    pub regulators: String,
    pub cra: String,
    pub hipaa: String,
    /// Rules verified against statute text.
    pub verified: usize,
    /// All rules of the version.
    pub rules: usize,
    /// Where the verified rules were read.
    pub verified_in: Vec<String>,
}

/// "30 calendar days from determination", "most expedient time (no number of days)".
pub fn timing_text(t: &Timing) -> String {
    let first = match t.days {
        None => format!("{} (no number of days)", t.standard),
        Some(0) if t.before => format!("before {}", t.from.describe()),
        Some(0) => format!("with {}", t.from.describe()),
        Some(n) => format!("{n} {} from {}", t.unit.word(), t.from.describe()),
    };
    match t.or {
        Some(o) => format!(
            "{first}, or {} {} from {} if earlier",
            o.days,
            o.unit.word(),
            o.from.describe()
        ),
        None => first,
    }
}

/// Every rule of a version with its provenance, for counting and listing.
pub fn provenances(v: &LawVersion) -> Vec<Provenance<'_>> {
    let mut out = vec![v.trigger.provenance()];
    out.extend(v.individual.iter().map(|r| r.provenance()));
    out.extend(v.regulator.iter().map(|r| r.provenance()));
    out.extend(v.cra.iter().map(|r| r.provenance()));
    out.push(v.hipaa.provenance());
    out.extend(v.credit_monitoring.iter().map(|r| r.provenance()));
    out.extend(v.content.iter().map(|r| r.provenance()));
    out
}

pub fn rows(set: &LawSet) -> Vec<Row> {
    set.iter()
        .filter_map(|law| {
            let v = law.file.version.last()?;
            let general = v
                .individual
                .iter()
                .find(|r| r.condition.trim().is_empty())?;
            let regulators = if v.regulator.is_empty() {
                "none".to_string()
            } else {
                v.regulator
                    .iter()
                    .map(|r| {
                        let who = match r.when {
                            super::schema::When::Notice => r.name.clone(),
                            super::schema::When::NoHarmDetermination => {
                                format!("{} if harm is found unlikely", r.name)
                            }
                        };
                        let cond = if r.condition.is_empty() {
                            String::new()
                        } else {
                            " (conditional)".into()
                        };
                        format!(
                            "{who}{cond}: {}; {}",
                            r.threshold().describe(),
                            timing_text(&r.timing())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            let cra = match &v.cra {
                None => "none".to_string(),
                Some(c) => c.threshold().describe(),
            };
            let provs = provenances(v);
            let verified_in = provs
                .iter()
                .filter_map(|p| match p {
                    Provenance::Verified(v) => Some(v.source.clone()),
                    Provenance::Unverified(_) => None,
                })
                .fold(Vec::new(), |mut acc: Vec<String>, s| {
                    if !acc.contains(&s) {
                        acc.push(s);
                    }
                    acc
                });
            Some(Row {
                jurisdiction: law.file.jurisdiction.clone(),
                name: law.file.name.clone(),
                origin: law.origin.key(),
                effective: v.effective.to_string(),
                citation: v.citation.clone(),
                individual: timing_text(&general.timing()),
                regulators,
                cra,
                hipaa: v.hipaa.treatment.key().to_string(),
                verified: provs.iter().filter(|p| p.is_verified()).count(),
                rules: provs.len(),
                verified_in,
            })
        })
        .collect()
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The README table (GitHub-flavoured Markdown).
pub fn markdown(set: &LawSet) -> String {
    let mut s = String::from(
        "| | law (current version, from) | notice to residents | regulators | CRA notice | HIPAA entities | rules verified |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows(set) {
        let origin = if r.origin == Origin::Counsel.key() {
            " (counsel)"
        } else {
            ""
        };
        s.push_str(&format!(
            "| {}{} | {} (from {}) | {} | {} | {} | {} | {} of {} |\n",
            r.jurisdiction,
            origin,
            cell(&r.citation),
            r.effective,
            cell(&r.individual),
            cell(&r.regulators),
            cell(&r.cra),
            r.hipaa,
            r.verified,
            r.rules
        ));
    }
    s
}
