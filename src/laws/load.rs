//! Reading and checking a rules file: TOML → [`LawFile`], then every check the schema
//! documents. Errors name the file, the line where the parser knows it, the field path
//! (`version[1].regulator[0].at_least`) and the reason, so counsel can fix a file alone.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::schema::{Anchor, DayUnit, FORMAT, LawFile, OrTiming, Rule, Trigger, When};

/// The jurisdictions with rules data: the 50 States, DC, PR, VI and GU. (American Samoa and
/// the Northern Mariana Islands are States under 45 CFR 160.103 but have no data here; the
/// engine says so when they have residents among the affected.)
pub const JURISDICTIONS: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC", "PR", "VI", "GU",
];

/// States of 45 CFR 160.103 without built-in rules data: counsel may add a file for them
/// (`laws set`), and the engine then applies it like any other.
pub const COUNSEL_ONLY: &[&str] = &["AS", "MP"];

/// A rules file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: field `{field}`: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct LawError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub reason: String,
}

impl LawError {
    fn new(file: &str, field: impl Into<String>, reason: impl Into<String>) -> LawError {
        LawError {
            file: file.to_string(),
            line: None,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Parses and validates one rules file; `origin` names it in errors.
pub fn load(text: &str, origin: &str) -> Result<LawFile, LawError> {
    let file = parse(text, origin)?;
    validate(&file, origin).map_err(|mut e| {
        e.line = find_line(text, &e.field);
        e
    })?;
    Ok(file)
}

/// TOML and types only.
pub fn parse(text: &str, origin: &str) -> Result<LawFile, LawError> {
    let line_of = |span: Option<std::ops::Range<usize>>| {
        span.map(|s| text[..s.start.min(text.len())].lines().count().max(1))
    };
    let value: toml::Value = toml::from_str(text).map_err(|e| LawError {
        file: origin.to_string(),
        line: line_of(e.span()),
        field: "(syntax)".into(),
        reason: format!("not valid TOML: {}", e.message().trim()),
    })?;
    serde_path_to_error::deserialize::<_, LawFile>(value).map_err(|e| {
        let field = e.path().to_string();
        let reason = e.inner().to_string();
        // The key's own line; else the table's, from a second, span-aware parse.
        let line = find_line(text, &field).or_else(|| {
            toml::from_str::<LawFile>(text)
                .err()
                .and_then(|e| line_of(e.span()))
        });
        LawError {
            file: origin.to_string(),
            line,
            field,
            reason: explain(&reason),
        }
    })
}

/// The line of the key a serde path (`version[1].regulator[0].at_least`) names, following
/// `[[array]]` and `[table]` headers; a key inside an inline table falls back to the line of
/// the inline table.
pub(crate) fn find_line(text: &str, path: &str) -> Option<usize> {
    let segs: Vec<(String, Option<usize>)> = path
        .split('.')
        .map(|s| match s.split_once('[') {
            Some((name, rest)) => (
                name.to_string(),
                rest.trim_end_matches(']').parse::<usize>().ok(),
            ),
            None => (s.to_string(), None),
        })
        .collect();
    for cut in (1..=segs.len()).rev() {
        let (key, tables) = segs[..cut].split_last()?;
        if let Some(l) = find_key(text, tables, &key.0) {
            return Some(l);
        }
    }
    None
}

fn find_key(text: &str, tables: &[(String, Option<usize>)], key: &str) -> Option<usize> {
    use std::collections::HashMap;
    let want: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut current: Vec<(String, Option<usize>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix("[[").and_then(|h| h.strip_suffix("]]")) {
            let h = h.trim().to_string();
            counts.retain(|k, _| !k.starts_with(&format!("{h}.")));
            let n = counts.entry(h.clone()).or_insert(0);
            *n += 1;
            current = header_indices(&h, &counts);
            continue;
        }
        if let Some(h) = t.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            current = header_indices(h.trim(), &counts);
            continue;
        }
        let Some((k, _)) = t.split_once('=') else {
            continue;
        };
        if k.trim().trim_matches('"') != key {
            continue;
        }
        let names: Vec<&str> = current.iter().map(|(n, _)| n.as_str()).collect();
        let indices_match = tables
            .iter()
            .zip(&current)
            .all(|((_, w), (_, c))| w.is_none() || w == c);
        if names == want && indices_match {
            return Some(i + 1);
        }
    }
    None
}

/// For a header `a.b.c`, each segment with its array index (count − 1) when it is an array.
fn header_indices(
    h: &str,
    counts: &std::collections::HashMap<String, usize>,
) -> Vec<(String, Option<usize>)> {
    let parts: Vec<&str> = h.split('.').map(str::trim).collect();
    (0..parts.len())
        .map(|i| {
            let full = parts[..=i].join(".");
            (
                parts[i].to_string(),
                counts.get(&full).map(|n| n.saturating_sub(1)),
            )
        })
        .collect()
}

fn explain(msg: &str) -> String {
    if msg.contains("date") && (msg.contains("invalid") || msg.contains("expected")) {
        return format!("{msg} (dates are YYYY-MM-DD)");
    }
    msg.to_string()
}

/// Everything the schema promises beyond types.
pub fn validate(f: &LawFile, origin: &str) -> Result<(), LawError> {
    let err = |field: &str, reason: &str| Err(LawError::new(origin, field, reason));
    if f.format != FORMAT {
        return err(
            "format",
            &format!("this breachdesk reads rules files of format {FORMAT}"),
        );
    }
    if !JURISDICTIONS.contains(&f.jurisdiction.as_str())
        && !COUNSEL_ONLY.contains(&f.jurisdiction.as_str())
    {
        return err(
            "jurisdiction",
            &format!(
                "not a covered jurisdiction; use one of {}, {} (upper case)",
                JURISDICTIONS.join(", "),
                COUNSEL_ONLY.join(", ")
            ),
        );
    }
    if f.name.trim().is_empty() {
        return err("name", "must not be empty");
    }
    if f.version.is_empty() {
        return err("version", "at least one [[version]] is required");
    }
    let mut last: Option<NaiveDate> = None;
    for (i, v) in f.version.iter().enumerate() {
        let at = |rest: &str| format!("version[{i}].{rest}");
        if let Some(prev) = last
            && v.effective <= prev
        {
            return err(
                &at("effective"),
                "versions must be in order of effective date, each later than the one before",
            );
        }
        last = Some(v.effective);
        if v.citation.trim().is_empty() {
            return err(&at("citation"), "must not be empty");
        }
        check_trigger(&v.trigger, &at("trigger"), origin)?;

        let general = v
            .individual
            .iter()
            .filter(|r| r.condition.trim().is_empty())
            .count();
        if general != 1 {
            return err(
                &at("individual"),
                "exactly one [[version.individual]] without a `condition` is required (the general duty to notify residents)",
            );
        }
        for (j, r) in v.individual.iter().enumerate() {
            let p = at(&format!("individual[{j}]"));
            check_rule(r, &p, origin)?;
            if !matches!(r.from, Anchor::Discovery | Anchor::Determination) {
                return err(
                    &format!("{p}.from"),
                    "notice to residents counts from `discovery` or `determination`",
                );
            }
            let conditional = !r.condition.trim().is_empty();
            if conditional && !is_slug(&r.id) {
                return err(
                    &format!("{p}.id"),
                    "a conditional rule needs an `id` of lower-case letters, digits and `_` (e.g. `hsc_1280_15`)",
                );
            }
            if !conditional && !r.id.is_empty() {
                return err(&format!("{p}.id"), "only a conditional rule has an `id`");
            }
            check_days(r.days, r.unit, &p, origin)?;
            if r.days == Some(0) {
                return err(&format!("{p}.days"), "must be 1 or more");
            }
            check_or(
                r.or,
                r.days,
                &p,
                origin,
                &[Anchor::Discovery, Anchor::Determination],
            )?;
            if r.standard.trim().is_empty() {
                return err(
                    &format!("{p}.standard"),
                    "give the statute's words for the timing",
                );
            }
        }

        let mut ids = BTreeSet::new();
        for (j, r) in v.regulator.iter().enumerate() {
            let p = at(&format!("regulator[{j}]"));
            check_rule(r, &p, origin)?;
            if !is_slug(&r.id) {
                return err(
                    &format!("{p}.id"),
                    "use lower-case letters, digits and `_` (e.g. `ag`, `state_police`)",
                );
            }
            if !ids.insert(r.id.as_str()) {
                return err(&format!("{p}.id"), "two regulator rules share this id");
            }
            if r.name.trim().is_empty() {
                return err(&format!("{p}.name"), "must not be empty");
            }
            check_threshold(r.at_least, r.more_than, &p, origin)?;
            match (r.when, r.from) {
                (When::NoHarmDetermination, Anchor::HarmDetermination) => {}
                (When::NoHarmDetermination, _) if r.days.is_some() => {
                    return err(
                        &format!("{p}.from"),
                        "a notice set off by a no-harm determination counts from `harm_determination`",
                    );
                }
                (When::Notice, Anchor::HarmDetermination) => {
                    return err(
                        &format!("{p}.from"),
                        "`harm_determination` is only for `when = \"no_harm_determination\"`",
                    );
                }
                _ => {}
            }
            check_days(r.days, r.unit, &p, origin)?;
            check_zero(r.days, r.from, r.before, &p, origin)?;
            if r.before && r.from != Anchor::IndividualNotice {
                return err(
                    &format!("{p}.before"),
                    "`before = true` is for notices due before `individual_notice`",
                );
            }
            check_or(
                r.or,
                r.days,
                &p,
                origin,
                &[
                    Anchor::Discovery,
                    Anchor::Determination,
                    Anchor::IndividualNotice,
                    Anchor::HhsNotice,
                ],
            )?;
            if r.standard.trim().is_empty() {
                return err(
                    &format!("{p}.standard"),
                    "give the statute's words for the timing",
                );
            }
        }

        if let Some(c) = &v.cra {
            let p = at("cra");
            check_rule(c, &p, origin)?;
            check_threshold(c.at_least, c.more_than, &p, origin)?;
            if c.from == Anchor::HarmDetermination {
                return err(
                    &format!("{p}.from"),
                    "a CRA notice follows a notice, not a no-harm determination",
                );
            }
            check_days(c.days, c.unit, &p, origin)?;
            check_zero(c.days, c.from, false, &p, origin)?;
            check_or(
                c.or,
                c.days,
                &p,
                origin,
                &[
                    Anchor::Discovery,
                    Anchor::Determination,
                    Anchor::IndividualNotice,
                ],
            )?;
            if c.standard.trim().is_empty() {
                return err(
                    &format!("{p}.standard"),
                    "give the statute's words for the timing",
                );
            }
        }

        check_rule(&v.hipaa, &at("hipaa"), origin)?;

        for (j, m) in v.credit_monitoring.iter().enumerate() {
            let p = at(&format!("credit_monitoring[{j}]"));
            check_rule(m, &p, origin)?;
            if m.months == 0 {
                return err(&format!("{p}.months"), "must be 1 or more");
            }
            if m.when.is_empty() {
                return err(
                    &format!("{p}.when"),
                    "name the data elements that make it owed",
                );
            }
            if m.service.trim().is_empty() {
                return err(&format!("{p}.service"), "must not be empty");
            }
        }

        if let Some(c) = &v.content {
            let p = at("content");
            check_rule(c, &p, origin)?;
            if c.title.is_empty() && c.headings.is_empty() && c.items.is_empty() {
                return err(&p, "give a `title`, `headings` or `items`");
            }
            if let Some(s) = &c.sample_to
                && !v.regulator.iter().any(|r| &r.id == s)
            {
                return err(
                    &format!("{p}.sample_to"),
                    "names no regulator `id` of this version",
                );
            }
        }
    }
    Ok(())
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_trigger(t: &Trigger, p: &str, origin: &str) -> Result<(), LawError> {
    check_rule(t, p, origin)?;
    if t.with_name.is_empty() && t.alone.is_empty() {
        return Err(LawError::new(
            origin,
            format!("{p}.with_name"),
            "name at least one data element in `with_name` or `alone`",
        ));
    }
    Ok(())
}

/// Citation and provenance, shared by every rule.
fn check_rule(r: &dyn Rule, p: &str, origin: &str) -> Result<(), LawError> {
    if r.cite().trim().is_empty() {
        return Err(LawError::new(
            origin,
            format!("{p}.cite"),
            "must not be empty",
        ));
    }
    match (r.verified(), r.unverified()) {
        (Some(_), Some(_)) => Err(LawError::new(
            origin,
            format!("{p}.verified"),
            "a rule is either `verified` or `unverified`, not both",
        )),
        (None, None) => Err(LawError::new(
            origin,
            format!("{p}.unverified"),
            "every rule says where it came from: `verified = { source, section, read }` when checked against statute text, else `unverified = { source }`",
        )),
        (Some(v), None) => {
            let url = v.source.starts_with("https://")
                || v.source.starts_with("http://")
                || v.source.starts_with("github:");
            if !url {
                return Err(LawError::new(
                    origin,
                    format!("{p}.verified.source"),
                    "give the URL (or github:owner/repo@commit:path) of the statute text that was read",
                ));
            }
            if v.section.trim().is_empty() {
                return Err(LawError::new(
                    origin,
                    format!("{p}.verified.section"),
                    "name the section that was read",
                ));
            }
            if v.read < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN) {
                return Err(LawError::new(
                    origin,
                    format!("{p}.verified.read"),
                    "the day the text was read (YYYY-MM-DD)",
                ));
            }
            Ok(())
        }
        (None, Some(u)) => {
            if u.source.trim().is_empty() {
                return Err(LawError::new(
                    origin,
                    format!("{p}.unverified.source"),
                    "say where the rule comes from",
                ));
            }
            Ok(())
        }
    }
}

fn check_threshold(
    at_least: Option<u64>,
    more_than: Option<u64>,
    p: &str,
    origin: &str,
) -> Result<(), LawError> {
    if at_least.is_some() && more_than.is_some() {
        return Err(LawError::new(
            origin,
            format!("{p}.at_least"),
            "give `at_least` or `more_than`, not both (keep the statute's own words)",
        ));
    }
    if at_least == Some(0) {
        return Err(LawError::new(
            origin,
            format!("{p}.at_least"),
            "must be 1 or more (leave both out for any number of residents)",
        ));
    }
    Ok(())
}

fn check_days(days: Option<u32>, unit: DayUnit, p: &str, origin: &str) -> Result<(), LawError> {
    if let Some(d) = days
        && d > 366
    {
        return Err(LawError::new(
            origin,
            format!("{p}.days"),
            "more than a year: check the number",
        ));
    }
    if unit == DayUnit::Business && days.is_none() {
        return Err(LawError::new(
            origin,
            format!("{p}.unit"),
            "`unit = \"business\"` needs `days`",
        ));
    }
    Ok(())
}

fn check_zero(
    days: Option<u32>,
    from: Anchor,
    before: bool,
    p: &str,
    origin: &str,
) -> Result<(), LawError> {
    if days == Some(0) && !before && !matches!(from, Anchor::IndividualNotice | Anchor::HhsNotice) {
        return Err(LawError::new(
            origin,
            format!("{p}.days"),
            "0 days is only for notices due with `individual_notice` or `hhs_notice`",
        ));
    }
    Ok(())
}

fn check_or(
    or: Option<OrTiming>,
    days: Option<u32>,
    p: &str,
    origin: &str,
    allowed: &[Anchor],
) -> Result<(), LawError> {
    let Some(o) = or else { return Ok(()) };
    if days.is_none() {
        return Err(LawError::new(
            origin,
            format!("{p}.or"),
            "\"whichever is earlier\" needs a first deadline with `days`",
        ));
    }
    if !allowed.contains(&o.from) {
        return Err(LawError::new(
            origin,
            format!("{p}.or.from"),
            format!(
                "use one of {}",
                allowed
                    .iter()
                    .map(|a| a.key())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if o.days == 0 && !matches!(o.from, Anchor::IndividualNotice | Anchor::HhsNotice) {
        return Err(LawError::new(
            origin,
            format!("{p}.or.days"),
            "must be 1 or more",
        ));
    }
    Ok(())
}
