//! Facts from command-line flags and the `incident new` interview. Parsing, `--set` and
//! validation live in [`crate::intake::facts`].

use std::io::{BufRead, Write};

use chrono::NaiveDate;

use super::args::FactArgs;
use crate::domain::Facts;
use crate::domain::vocab::{BreachType, DataElement, Location, normalize_state};
use crate::error::{Error, Result};
pub use crate::intake::facts::{parse_facts, read_facts_file, sanitize, set_path, validate};

fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        Error::invalid(format!(
            "{field} is not a date: use YYYY-MM-DD (for example 2026-03-01)"
        ))
    })
}

fn vocab_list<T>(
    field: &str,
    values: &[String],
    parse: impl Fn(&str) -> Option<T>,
    accepted: String,
) -> Result<Vec<T>> {
    values
        .iter()
        .map(|v| {
            parse(v).ok_or_else(|| {
                Error::invalid(format!(
                    "{field} has a value that is not recognised; accepted: {accepted}"
                ))
            })
        })
        .collect()
}

/// Applies flags to facts (only those given), then `--set` paths.
pub fn apply_args(facts: &mut Facts, a: &FactArgs) -> Result<()> {
    let b = &mut facts.breach;
    if let Some(t) = &a.title {
        facts.title = t.clone();
    }
    if let Some(s) = &a.start {
        b.start = Some(parse_date("--start", s)?);
    }
    if let Some(s) = &a.end {
        b.end = Some(parse_date("--end", s)?);
    }
    if let Some(s) = &a.discovered {
        b.discovered = Some(parse_date("--discovered", s)?);
    }
    if let Some(s) = &a.discovery_method {
        b.discovery_method = s.clone();
    }
    if let Some(s) = &a.reported_by {
        b.reported_by = s.clone();
    }
    if !a.types.is_empty() {
        b.types = vocab_list(
            "--type",
            &a.types,
            BreachType::from_label,
            BreachType::accepted(),
        )?;
    }
    if !a.locations.is_empty() {
        b.locations = vocab_list(
            "--location",
            &a.locations,
            Location::from_label,
            Location::accepted(),
        )?;
    }
    if !a.phi.is_empty() {
        b.phi = vocab_list(
            "--phi",
            &a.phi,
            DataElement::from_label,
            DataElement::accepted(),
        )?;
    }
    if let Some(n) = &a.narrative {
        b.narrative = n.clone();
    }
    if let Some(n) = a.individuals {
        facts.individuals.estimated_total = Some(n);
    }
    for s in &a.states {
        let (st, n) = s
            .split_once('=')
            .ok_or_else(|| Error::invalid("--state takes ST=N, for example --state CA=1200"))?;
        let code = normalize_state(st).ok_or_else(|| {
            Error::invalid(
                "--state names something that is not a State of 45 CFR 160.103: use a two-letter code (50 States, DC, PR, VI, GU, AS, MP)",
            )
        })?;
        let n: u64 = n.trim().parse().map_err(|_| {
            Error::invalid(
                "--state count is not a whole number of 0 or more, for example --state CA=1200",
            )
        })?;
        facts.individuals.by_state.insert(code.to_string(), n);
    }
    for s in &a.set {
        set_path(facts, s)?;
    }
    Ok(())
}

/// A short interactive interview for `incident new` on a terminal.
pub fn interview(input: &mut impl BufRead, out: &mut impl Write) -> Result<FactArgs> {
    let mut ask = |q: &str| -> Result<Option<String>> {
        write!(out, "{q}: ").map_err(|e| Error::io("cannot write the prompt", e))?;
        out.flush()
            .map_err(|e| Error::io("cannot write the prompt", e))?;
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| Error::io("cannot read the answer", e))?;
        let t = line.trim().to_string();
        Ok((!t.is_empty()).then_some(t))
    };
    let mut a = FactArgs {
        title: ask("Short title, no patient details (e.g. \"Stolen laptop, billing\")")?,
        ..FactArgs::default()
    };
    a.discovered = ask("Date discovered, YYYY-MM-DD (first day anyone but the wrongdoer knew)")?;
    a.start = ask("Date the breach began, YYYY-MM-DD (blank if unknown)")?;
    if let Some(t) = ask(&format!(
        "Type(s) of breach, comma-separated [{}]",
        BreachType::accepted()
    ))? {
        a.types = t.split(',').map(|s| s.trim().to_string()).collect();
    }
    if let Some(t) = ask(&format!(
        "Location(s) of the information [{}]",
        Location::accepted()
    ))? {
        a.locations = t.split(',').map(|s| s.trim().to_string()).collect();
    }
    if let Some(t) = ask("Approximate number of individuals (blank if unknown)")? {
        a.individuals = Some(t.parse().map_err(|_| {
            Error::invalid("the number of individuals must be a whole number of 0 or more")
        })?);
    }
    if let Some(t) = ask("Residents per State, e.g. CA=120,NV=30 (blank if unknown)")? {
        a.states = t.split(',').map(|s| s.trim().to_string()).collect();
    }
    a.narrative = ask("What happened (may include PHI; stored encrypted)")?;
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interview_builds_fact_flags() {
        let answers =
            "Lost binder\n2026-05-02\n\ntheft,loss\npaper_films\n42\nCA=40,NV=2\nLeft on a bus\n";
        let mut out = Vec::new();
        let a = interview(&mut answers.as_bytes(), &mut out).expect("answers");
        let mut f = Facts::default();
        apply_args(&mut f, &a).expect("valid");
        assert_eq!(f.title, "Lost binder");
        assert_eq!(f.breach.discovered, NaiveDate::from_ymd_opt(2026, 5, 2));
        assert_eq!(f.breach.start, None);
        assert_eq!(f.breach.types.len(), 2);
        assert_eq!(f.individuals.by_state.get("NV"), Some(&2));
        assert_eq!(f.breach.narrative, "Left on a bus");
        let e = interview(
            &mut "x\n2026-05-02\n\n\n\nmany\n".as_bytes(),
            &mut Vec::new(),
        )
        .expect_err("not a number");
        assert!(e.to_string().contains("whole number"));
    }
}
