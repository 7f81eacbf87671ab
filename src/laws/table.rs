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

/// One rule of a version, in a line: what `laws show` lists per version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleLine {
    /// `trigger`, `individual`, `regulator`, `cra`, `hipaa`, `credit_monitoring`, `content`.
    pub rule: &'static str,
    /// The regulator's or a conditional rule's id, if any.
    pub id: String,
    /// What the rule says, in words.
    pub summary: String,
    pub cite: String,
    pub verified: bool,
    /// "verified against statute text: …" or "UNVERIFIED against statute text (source: …)".
    pub provenance: String,
    pub note: String,
}

fn line(rule: &'static str, id: &str, summary: String, r: &dyn Rule) -> RuleLine {
    let p = r.provenance();
    RuleLine {
        rule,
        id: id.to_string(),
        summary,
        cite: r.cite().to_string(),
        verified: p.is_verified(),
        provenance: p.describe(),
        note: r.note().to_string(),
    }
}

/// Every rule of a version with its provenance, in the order of [`provenances`].
pub fn rules_of(v: &LawVersion) -> Vec<RuleLine> {
    let keys = |els: &[crate::domain::vocab::PiElement]| {
        els.iter().map(|e| e.key()).collect::<Vec<_>>().join(", ")
    };
    let t = &v.trigger;
    let mut trigger = Vec::new();
    if !t.with_name.is_empty() {
        trigger.push(format!(
            "with the name{}: {}",
            if t.identifier_suffices {
                " or another identifier"
            } else {
                ""
            },
            keys(&t.with_name)
        ));
    }
    if !t.alone.is_empty() {
        trigger.push(format!("on their own: {}", keys(&t.alone)));
    }
    if t.harm_threshold {
        trigger.push("no notice when harm is determined not reasonably likely".into());
    }
    if v.covers_paper {
        trigger.push("covers records on paper too".into());
    }
    let mut out = vec![line(
        "trigger",
        "",
        format!("personal information: {}", trigger.join("; ")),
        t,
    )];
    for r in &v.individual {
        let who = if r.condition.trim().is_empty() {
            String::new()
        } else {
            format!(" (only {})", r.condition)
        };
        out.push(line(
            "individual",
            &r.id,
            format!("notice to residents{who}: {}", timing_text(&r.timing())),
            r,
        ));
    }
    for r in &v.regulator {
        let when = match r.when {
            super::schema::When::Notice => String::new(),
            super::schema::When::NoHarmDetermination => {
                " of a determination that harm is not likely".into()
            }
        };
        let mut s = format!(
            "{}{when}: {}; {}",
            r.name,
            r.threshold().describe(),
            timing_text(&r.timing())
        );
        if !r.condition.is_empty() {
            s.push_str(&format!("; only {}", r.condition));
        }
        if !r.method.is_empty() {
            s.push_str(&format!("; method: {}", r.method));
        }
        if !r.content.is_empty() {
            s.push_str(&format!("; content: {}", r.content.join("; ")));
        }
        if let Some(h) = r.hipaa {
            s.push_str(&format!(
                "; HIPAA entities: {}",
                match h {
                    super::schema::HipaaEffect::Due => "still due",
                    super::schema::HipaaEffect::Satisfied => "satisfied by HIPAA compliance",
                }
            ));
        }
        out.push(line("regulator", &r.id, s, r));
    }
    if let Some(c) = &v.cra {
        out.push(line(
            "cra",
            "",
            format!(
                "consumer reporting agencies: {}; {}",
                c.threshold().describe(),
                timing_text(&c.timing())
            ),
            c,
        ));
    }
    out.push(line(
        "hipaa",
        "",
        format!(
            "entities subject to HIPAA: {} ({})",
            v.hipaa.treatment.describe(),
            v.hipaa.treatment.key()
        ),
        &v.hipaa,
    ));
    for m in &v.credit_monitoring {
        out.push(line(
            "credit_monitoring",
            "",
            format!(
                "{} for {} months when {} is involved",
                m.service,
                m.months,
                keys(&m.when)
            ),
            m,
        ));
    }
    if let Some(c) = &v.content {
        let mut parts = Vec::new();
        if !c.title.is_empty() {
            parts.push(format!("title \"{}\"", c.title));
        }
        if !c.headings.is_empty() {
            parts.push(format!("headings: {}", c.headings.join(" / ")));
        }
        parts.extend(c.items.iter().cloned());
        if let Some(p) = c.min_type_points {
            parts.push(format!("at least {p}-point type"));
        }
        if let Some(to) = &c.sample_to {
            parts.push(format!("a sample copy to the regulator `{to}`"));
        }
        out.push(line(
            "content",
            "",
            format!("notice content: {}", parts.join("; ")),
            c,
        ));
    }
    out
}

/// The README table of verified rules (`src/laws/README.md`): per jurisdiction of the
/// built-in set with any verified rule, the rules verified and where they were read.
pub fn verified_markdown(set: &LawSet) -> String {
    let mut s = String::from(
        "| jurisdiction | rules verified (current version) | read in |\n|---|---|---|\n",
    );
    for law in set.iter() {
        let Some(v) = law.file.version.last() else {
            continue;
        };
        let lines: Vec<RuleLine> = rules_of(v).into_iter().filter(|r| r.verified).collect();
        if lines.is_empty() {
            continue;
        }
        let what: Vec<String> = lines
            .iter()
            .map(|r| {
                let id = if r.id.is_empty() {
                    String::new()
                } else {
                    format!(" `{}`", r.id)
                };
                format!("{}{id} ({})", r.rule, r.cite)
            })
            .collect();
        let mut sources: Vec<String> = Vec::new();
        for p in provenances(v) {
            if let Provenance::Verified(x) = p
                && !sources.contains(&x.source)
            {
                sources.push(x.source.clone());
            }
        }
        s.push_str(&format!(
            "| {} | {} of {}: {} | {} |\n",
            law.file.jurisdiction,
            lines.len(),
            provenances(v).len(),
            cell(&what.join("; ")),
            cell(&sources.join(" ; "))
        ));
    }
    s
}
