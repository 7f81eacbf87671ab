//! Facts files and single facts: TOML parsing with errors that name the file, line and
//! field path (never a value, which could be PHI), `path=value` assignments, and the
//! cross-field validation every way of entering facts goes through.

use std::path::Path;

use chrono::NaiveDate;

use crate::domain::vocab::{BreachType, DataElement, Location, normalize_state};
use crate::domain::{Counts, Facts};
use crate::error::{Error, Result};
use crate::files;

/// Reads and validates a facts file (at most [`files::FACTS`] bytes of UTF-8; a missing file
/// is "not found").
pub fn read_facts_file(path: &Path, today: NaiveDate) -> Result<Facts> {
    let text = files::read_text(path, files::FACTS)?;
    let facts = parse_facts(&text, &path.display().to_string())?;
    validate(&facts, today)?;
    Ok(facts)
}

/// Reads and validates facts from a reader (standard input), bounded like a file.
pub fn read_facts_from(r: impl std::io::Read, origin: &str, today: NaiveDate) -> Result<Facts> {
    let text = files::read_text_from(r, origin, files::FACTS)?;
    let facts = parse_facts(&text, origin)?;
    validate(&facts, today)?;
    Ok(facts)
}

/// Parses facts-file text; `origin` names it in errors. A file that states no fact at all
/// (empty, or only comments and empty sections) is refused: evaluated, it would be a
/// presumed breach of nobody on no date.
pub fn parse_facts(text: &str, origin: &str) -> Result<Facts> {
    let value: toml::Value = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        Error::invalid(format!(
            "{origin}, line {line}: not valid TOML: {}",
            sanitize(e.message())
        ))
    })?;
    let facts = from_value(value).map_err(|(path, msg)| {
        let line = find_line(text, &path)
            .map(|l| format!(", line {l}"))
            .unwrap_or_default();
        Error::invalid(format!("{origin}{line}, field `{path}`: {msg}"))
    })?;
    if facts == Facts::default() {
        return Err(Error::invalid(format!(
            "{origin} states no facts: give at least the discovery date ([breach] discovered = YYYY-MM-DD) or the facts you know; see examples/README.md"
        )));
    }
    Ok(facts)
}

/// 1-based line of a byte offset (which need not fall on a character boundary).
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The path (`breach.title`, `law_enforcement[0].agency`) of the first string that holds a
/// NUL or another control character (other than tab and line ends): such a character is
/// never part of a name, an ID or a narrative, and would be cut off or misread downstream.
pub fn control_char_path(v: &toml::Value) -> Option<String> {
    fn walk(v: &toml::Value, path: &mut String) -> bool {
        match v {
            toml::Value::String(s) => s
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
            toml::Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let hit = walk(x, path);
                if !hit {
                    path.truncate(len);
                }
                hit
            }),
            toml::Value::Table(t) => t.iter().any(|(k, x)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.extend(k.escape_debug());
                let hit = walk(x, path);
                if !hit {
                    path.truncate(len);
                }
                hit
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then_some(path)
}

/// Deserializes facts from a TOML value, returning (field path, sanitized message) on error.
fn from_value(value: toml::Value) -> std::result::Result<Facts, (String, String)> {
    if let Some(path) = control_char_path(&value) {
        return Err((
            path,
            "contains a NUL or another control character; remove it".to_string(),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = sanitize(&e.inner().to_string());
        (path, explain(&msg))
    })
}

/// Adds the accepted values for vocabularies serde does not list itself.
fn explain(msg: &str) -> String {
    if msg.contains("formatted date string") || msg.contains("premature end of input") {
        return format!("{msg} (dates are YYYY-MM-DD)");
    }
    msg.to_string()
}

/// Removes quoted values from a serde message: `invalid type: string "Jane Doe"` becomes
/// `invalid type: string`. Field names and variants are in backticks and stay.
pub fn sanitize(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut in_quote = false;
    for c in msg.chars() {
        if c == '"' {
            if !in_quote {
                out.push_str("(value hidden)");
            }
            in_quote = !in_quote;
            continue;
        }
        if !in_quote {
            out.push(c);
        }
    }
    let out = out.replace("string (value hidden)", "a string");
    hide_found(&out)
}

/// serde names what it found in backticks before "expected" (`invalid type: integer `42`,
/// expected a string`, `unknown variant `Jane`, expected one of …`): that is a value from the
/// file, hidden; what follows "expected" is the accepted form and stays. A field name
/// (`unknown field`, `missing field`, `duplicate field`) is structure, not a value, and stays.
fn hide_found(msg: &str) -> String {
    let names_field = ["unknown field", "missing field", "duplicate field"]
        .iter()
        .any(|p| msg.starts_with(p));
    if names_field {
        return msg.to_string();
    }
    let (head, tail) = match msg.find("expected") {
        Some(i) => msg.split_at(i),
        None => (msg, ""),
    };
    let mut out = String::with_capacity(msg.len());
    let mut in_tick = false;
    for c in head.chars() {
        if c == '`' {
            if !in_tick {
                out.push_str("(value hidden)");
            }
            in_tick = !in_tick;
            continue;
        }
        if !in_tick {
            out.push(c);
        }
    }
    out.push_str(tail);
    out
}

/// Finds the line where the last segment of a dotted path is assigned, inside its table.
fn find_line(text: &str, path: &str) -> Option<usize> {
    let segs: Vec<&str> = path
        .split('.')
        .filter(|s| {
            !s.chars()
                .all(|c| c.is_ascii_digit() || c == '[' || c == ']')
        })
        .map(|s| s.split('[').next().unwrap_or(s))
        .collect();
    let key = segs.last()?;
    let table = segs[..segs.len().saturating_sub(1)].join(".");
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        let Some((k, _)) = t.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches('"');
        let full = if current.is_empty() {
            k.to_string()
        } else {
            format!("{current}.{k}")
        };
        let want = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        if full == want || (k == *key && current == table) {
            return Some(i + 1);
        }
    }
    None
}

/// `--set a.b.c=value`: the value is read as a TOML value (numbers, booleans, dates, arrays)
/// or, failing that, as a string.
pub fn set_path(facts: &mut Facts, assignment: &str) -> Result<()> {
    let (path, raw) = assignment.split_once('=').ok_or_else(|| {
        Error::invalid("--set takes PATH=VALUE, for example --set security.encrypted=true")
    })?;
    let path = path.trim();
    // TOML integers are 64-bit signed: a count beyond that (possible only from a roster or a
    // flag) cannot be edited this way.
    let mut root = toml::Value::try_from(&*facts).map_err(|_| {
        Error::invalid(format!(
            "--set {path}: the incident's facts hold a count too large to edit with --set; correct it with the flag or file it came from"
        ))
    })?;
    // A value is one TOML value (a number, boolean, date, array, quoted string); anything
    // else, or text that would define more than that one value, is taken as a string.
    let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) if t.len() == 1 => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        _ => toml::Value::String(raw.to_string()),
    };
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = &mut root;
    for (i, seg) in segs.iter().enumerate() {
        let toml::Value::Table(t) = cur else {
            return Err(Error::invalid(format!(
                "--set {path}: `{}` is not a section of the facts",
                segs[..i].join(".")
            )));
        };
        if i + 1 == segs.len() {
            t.insert(seg.to_string(), value);
            break;
        }
        cur = t
            .entry(seg.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    *facts = from_value(root)
        .map_err(|(p, msg)| Error::invalid(format!("--set {path}: field `{p}`: {msg}")))?;
    Ok(())
}

/// A facts file's `[organization] role` must agree with the database's organization: the
/// recorded organization decides whose obligations an incident has (a what-if, `evaluate`,
/// has no database and uses the key).
pub fn check_role(f: &Facts, org_role: crate::domain::Role) -> Result<()> {
    match f.organization.role {
        Some(r) if r != org_role => Err(Error::invalid(format!(
            "organization.role disagrees with this database's organization, a {}: the recorded organization decides whose obligations these are; remove the key (or change the organization with `org update`)",
            org_role.key()
        ))),
        _ => Ok(()),
    }
}

/// The counts must add up: per-State counts summed without overflow, and the unreachable
/// and deceased (who are among the affected individuals) no more than the total.
fn counts(f: &Facts) -> Result<()> {
    let i = &f.individuals;
    let state_sum = Counts::state_sum(i).ok_or_else(|| {
        Error::invalid(
            "individuals.by_state: the per-State counts add up to more than a count can hold (18,446,744,073,709,551,615); check them",
        )
    })?;
    let total = i.estimated_total.unwrap_or(0).max(state_sum);
    let subset = i
        .unreachable
        .checked_add(i.deceased_with_nok)
        .and_then(|n| n.checked_add(i.deceased_without_nok));
    match subset {
        None => Err(Error::invalid(
            "individuals.unreachable, deceased_with_nok and deceased_without_nok add up to more than a count can hold; check them",
        )),
        Some(n) if n > total => Err(Error::invalid(
            "individuals.unreachable + deceased_with_nok + deceased_without_nok is more than the total number of affected individuals (estimated_total, or the sum of by_state when larger): they are counted in the total, so raise estimated_total or correct these counts",
        )),
        Some(_) => Ok(()),
    }
}

/// Cross-field checks. Names the fields; never the values.
pub fn validate(f: &Facts, today: NaiveDate) -> Result<()> {
    let b = &f.breach;
    if let (Some(s), Some(d)) = (b.start, b.discovered)
        && d < s
    {
        return Err(Error::invalid(
            "breach.discovered is before breach.start: discovery cannot precede the breach; check both dates",
        ));
    }
    if let (Some(s), Some(e)) = (b.start, b.end)
        && e < s
    {
        return Err(Error::invalid(
            "breach.end is before breach.start; check both dates",
        ));
    }
    for (name, d) in [
        ("breach.start", b.start),
        ("breach.discovered", b.discovered),
        (
            "business_associate.discovered",
            f.business_associate.discovered,
        ),
        (
            "business_associate.notified_ce",
            f.business_associate.notified_ce,
        ),
    ] {
        if let Some(d) = d
            && d > today
        {
            return Err(Error::invalid(format!(
                "{name} is in the future ({}); dates are YYYY-MM-DD and cannot be later than today",
                d.format("%Y-%m-%d")
            )));
        }
    }
    let ba = &f.business_associate;
    if let (Some(d), Some(n)) = (ba.discovered, ba.notified_ce)
        && n < d
    {
        return Err(Error::invalid(
            "business_associate.notified_ce is before business_associate.discovered; check both dates",
        ));
    }
    for (i, ev) in f.discovery_events.iter().enumerate() {
        if ev.date > today {
            return Err(Error::invalid(format!(
                "discovery_events[{i}].date is in the future; dates are YYYY-MM-DD and cannot be later than today"
            )));
        }
        if b.start.is_some_and(|s| ev.date < s) {
            return Err(Error::invalid(format!(
                "discovery_events[{i}].date is before breach.start: nobody can learn of a breach before it began; check both dates"
            )));
        }
    }
    counts(f)?;
    for k in f.individuals.by_state.keys() {
        if normalize_state(k) != Some(k.as_str()) {
            return Err(Error::invalid(format!(
                "individuals.by_state has the key `{k}`, which is not a two-letter State code of 45 CFR 160.103 (50 States, DC, PR, VI, GU, AS, MP, upper case)"
            )));
        }
    }
    for k in f.individuals.by_jurisdiction.keys() {
        let ok = k
            .split_once(':')
            .is_some_and(|(st, name)| normalize_state(st) == Some(st) && !name.trim().is_empty());
        if !ok {
            return Err(Error::invalid(format!(
                "individuals.by_jurisdiction has the key `{k}`: keys are \"ST:Name\", e.g. \"CA:Los Angeles County\""
            )));
        }
    }
    let sl = &f.state_law;
    if let (Some(det), Some(disc)) = (sl.determined, b.discovered)
        && det < disc
    {
        return Err(Error::invalid(
            "state_law.determined is before breach.discovered: a breach is determined after it is discovered; check both dates",
        ));
    }
    for (name, d) in [
        ("state_law.determined", sl.determined),
        ("state_law.harm.date", sl.harm.as_ref().map(|h| h.date)),
    ] {
        if let Some(d) = d
            && d > today
        {
            return Err(Error::invalid(format!(
                "{name} is in the future ({}); dates are YYYY-MM-DD and cannot be later than today",
                d.format("%Y-%m-%d")
            )));
        }
    }
    if let Some(h) = &sl.harm {
        if let Some(disc) = b.discovered
            && h.date < disc
        {
            return Err(Error::invalid(
                "state_law.harm.date is before breach.discovered; check both dates",
            ));
        }
        for k in &h.states {
            if normalize_state(k) != Some(k.as_str()) {
                return Err(Error::invalid(format!(
                    "state_law.harm.states has `{k}`, which is not a two-letter State code (upper case, e.g. \"FL\")"
                )));
            }
        }
    }
    for (i, s) in f.law_enforcement.iter().enumerate() {
        if s.kind == crate::domain::StatementKind::Written && s.until.is_none() {
            return Err(Error::invalid(format!(
                "law_enforcement[{i}] is a written statement without `until`: 164.412(a) delays for the time the statement specifies; give until = YYYY-MM-DD"
            )));
        }
        if s.kind == crate::domain::StatementKind::Oral && s.official.trim().is_empty() {
            return Err(Error::invalid(format!(
                "law_enforcement[{i}] is an oral statement without `official`: 164.412(b) requires documenting the official's identity"
            )));
        }
        if let Some(u) = s.until
            && u < s.date
        {
            return Err(Error::invalid(format!(
                "law_enforcement[{i}].until is before its date; check both dates"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).expect("valid")
    }

    /// Regression (issue 10): an integer typed into a text field, and an unknown variant
    /// spelled with a name, were echoed back in the error.
    #[test]
    fn errors_name_the_field_and_line_never_the_value() {
        for (text, field) in [
            ("title = 4815162342\n", "title"),
            (
                "[breach]\ntypes = [\"Zebulon Quxworthy\"]\n",
                "breach.types",
            ),
            (
                "[business_associate]\nrelationship = \"Zebulon Quxworthy\"\n",
                "business_associate.relationship",
            ),
            (
                "[breach]\ndiscovered = \"Zebulon Quxworthy\"\n",
                "breach.discovered",
            ),
            (
                "[individuals]\nunreachable = \"Zebulon Quxworthy\"\n",
                "individuals.unreachable",
            ),
            (
                "[individuals]\nunreachable = -4815162342\n",
                "individuals.unreachable",
            ),
            (
                "[individuals]\nunreachable = 4815162342.5\n",
                "individuals.unreachable",
            ),
            ("[breach]\nsafeguards = 4815162342\n", "breach.safeguards"),
            (
                "[[law_enforcement]]\nkind = \"Zebulon Quxworthy\"\ndate = 2026-01-01\n",
                "law_enforcement[0].kind",
            ),
        ] {
            let e = parse_facts(text, "f.toml").unwrap_err().to_string();
            assert!(
                !e.contains("Zebulon") && !e.contains("4815162342"),
                "value echoed: {e}"
            );
            assert!(e.contains(field), "{e}");
            assert!(e.contains("line "), "{e}");
        }
    }

    #[test]
    fn dates_unquoted_and_quoted() {
        let f = parse_facts(
            "[breach]\ndiscovered = 2026-01-05\nstart = \"2026-01-01\"\n",
            "t",
        )
        .expect("parses");
        assert_eq!(f.breach.discovered, NaiveDate::from_ymd_opt(2026, 1, 5));
        assert_eq!(f.breach.start, NaiveDate::from_ymd_opt(2026, 1, 1));
    }

    #[test]
    fn unknown_key_names_field_and_line() {
        let e = parse_facts(
            "title = \"x\"\n[breach]\ndiscoverd = 2026-01-05\n",
            "f.toml",
        )
        .expect_err("unknown key");
        let m = e.to_string();
        assert!(m.contains("f.toml"), "{m}");
        assert!(m.contains("discoverd"), "{m}");
        assert!(m.contains("discovered"), "accepted keys listed: {m}");
    }

    #[test]
    fn bad_values_never_echo_the_value() {
        let e = parse_facts(
            "[individuals]\nestimated_total = \"Jane Canary Doe\"\n",
            "f.toml",
        )
        .expect_err("type error");
        let m = e.to_string();
        assert!(!m.contains("Canary"), "{m}");
        assert!(m.contains("individuals.estimated_total"), "{m}");
        assert!(m.contains("line 2"), "{m}");
        let e = parse_facts("[breach]\ntypes = [\"stolen\"]\n", "f.toml").expect_err("variant");
        assert!(e.to_string().contains("hacking_it_incident"), "{e}");
        let e = parse_facts("[individuals]\nunreachable = -5\n", "f.toml").expect_err("negative");
        assert!(e.to_string().contains("individuals.unreachable"), "{e}");
    }

    #[test]
    fn discovery_before_start_is_refused() {
        let f = parse_facts(
            "[breach]\nstart = 2026-02-01\ndiscovered = 2026-01-05\n",
            "t",
        )
        .expect("parses");
        let e = validate(&f, today()).expect_err("invalid");
        assert!(
            e.to_string()
                .contains("breach.discovered is before breach.start")
        );
    }

    #[test]
    fn empty_facts_are_refused() {
        for text in ["", "# only a comment\n", "[breach]\n[individuals]\n"] {
            let e = parse_facts(text, "f.toml").expect_err("empty");
            assert!(e.to_string().contains("states no facts"), "{e}");
        }
    }

    #[test]
    fn counts_must_add_up_without_overflow() {
        // Regression: per-State counts near the integer limit wrapped when summed.
        let f = parse_facts(
            "[individuals.by_state]\nCA = 9223372036854775807\nNY = 9223372036854775807\nTX = 9223372036854775807\n",
            "t",
        )
        .expect("parses");
        let e = validate(&f, today()).expect_err("overflow");
        assert!(e.to_string().contains("add up to more than"), "{e}");
        let f = parse_facts(
            "[individuals]\nestimated_total = 10\nunreachable = 6\ndeceased_with_nok = 5\n",
            "t",
        )
        .expect("parses");
        let e = validate(&f, today()).expect_err("more than the total");
        assert!(e.to_string().contains("more than the total"), "{e}");
        assert!(!e.to_string().contains("10"), "no values echoed: {e}");
        let f = parse_facts("[individuals]\nunreachable = 3\n", "t").expect("parses");
        assert!(validate(&f, today()).is_err(), "no total at all");
        let f = parse_facts(
            "[individuals]\nestimated_total = 11\nunreachable = 6\ndeceased_with_nok = 5\n",
            "t",
        )
        .expect("parses");
        validate(&f, today()).expect("adds up");
    }

    #[test]
    fn nul_and_control_characters_are_refused_by_field() {
        let e = parse_facts("title = \"a\\u0000b\"\n", "f.toml").expect_err("nul");
        assert!(e.to_string().contains("field `title`"), "{e}");
        let e = parse_facts(
            "[[law_enforcement]]\nkind = \"oral\"\ndate = 2026-01-01\nofficial = \"x\\u0007\"\n",
            "f.toml",
        )
        .expect_err("bell");
        assert!(e.to_string().contains("law_enforcement[0].official"), "{e}");
        let mut f = Facts::default();
        let e = set_path(&mut f, "title=\"a\\u0000\"").expect_err("--set nul");
        assert!(e.to_string().contains("NUL"), "{e}");
        parse_facts("title = \"tab\\tand\\nnewline\"\n", "t").expect("tab and newline are text");
    }

    #[test]
    fn discovery_events_and_role_parse() {
        let f = parse_facts(
            "[organization]\nrole = \"business-associate\"\n\n[[discovery_events]]\ndate = 2026-01-02\nwho = \"workforce_member\"\nkind = \"should_have_known\"\ndescription = \"SIEM alert, not reviewed\"\n",
            "t",
        )
        .expect("parses");
        assert_eq!(
            f.organization.role,
            Some(crate::domain::Role::BusinessAssociate)
        );
        assert_eq!(f.discovery_events.len(), 1);
        let f2 =
            parse_facts("[organization]\nrole = \"business_associate\"\n", "t").expect("parses");
        assert_eq!(f2.organization.role, f.organization.role);
        let e = parse_facts("[organization]\nrole = \"hospital\"\n", "t").expect_err("bad role");
        assert!(e.to_string().contains("covered_entity"), "{e}");
        let e = parse_facts(
            "[[discovery_events]]\ndate = 2026-01-02\nwho = \"janitor\"\nkind = \"learned\"\n",
            "f.toml",
        )
        .expect_err("bad who");
        assert!(e.to_string().contains("discovery_events[0].who"), "{e}");
        assert!(
            e.to_string().contains("wrongdoer"),
            "accepted values listed: {e}"
        );
        let future = parse_facts(
            "[[discovery_events]]\ndate = 2027-01-02\nwho = \"agent\"\nkind = \"learned\"\n",
            "t",
        )
        .expect("parses");
        let e = validate(&future, today()).expect_err("future");
        assert!(
            e.to_string()
                .contains("discovery_events[0].date is in the future"),
            "{e}"
        );
        let before = parse_facts(
            "[breach]\nstart = 2026-02-01\n[[discovery_events]]\ndate = 2026-01-02\nwho = \"agent\"\nkind = \"learned\"\n",
            "t",
        )
        .expect("parses");
        assert!(validate(&before, today()).is_err());
        // Stored facts without the new keys serialize as before (no empty sections).
        let json = serde_json::to_string(&Facts {
            title: "x".into(),
            ..Facts::default()
        })
        .expect("json");
        assert!(
            !json.contains("discovery_events") && !json.contains("organization"),
            "{json}"
        );
    }

    #[test]
    fn set_path_reaches_any_fact() {
        let mut f = Facts::default();
        set_path(&mut f, "security.encrypted=true").expect("set");
        set_path(&mut f, "business_associate.relationship=agent").expect("set");
        set_path(&mut f, "breach.discovered=2026-01-05").expect("set");
        assert!(f.security.encrypted);
        assert_eq!(f.breach.discovered, NaiveDate::from_ymd_opt(2026, 1, 5));
        let e = set_path(&mut f, "security.encryptd=true").expect_err("unknown");
        assert!(e.to_string().contains("encryptd"));
        let e = set_path(&mut f, "business_associate.relationship=boss").expect_err("variant");
        assert!(e.to_string().contains("independent_contractor"));
    }

    #[test]
    fn state_law_facts_parse_and_are_checked() {
        let f = parse_facts(
            "[breach]\ndiscovered = 2026-01-05\n[state_law]\ndetermined = 2026-01-09\nelements = [\"account_access_code\", \"biometric\"]\n[state_law.harm]\noutcome = \"not_likely\"\ndate = 2026-01-10\nstates = [\"FL\"]\n",
            "t",
        )
        .expect("parses");
        validate(&f, today()).expect("valid");
        assert_eq!(f.state_law.determined, NaiveDate::from_ymd_opt(2026, 1, 9));
        assert_eq!(f.state_law.elements.len(), 2);
        let bad = parse_facts(
            "[breach]\ndiscovered = 2026-01-05\n[state_law]\ndetermined = 2026-01-04\n",
            "t",
        )
        .expect("parses");
        let e = validate(&bad, today()).expect_err("before discovery");
        assert!(
            e.to_string()
                .contains("state_law.determined is before breach.discovered")
        );
        let bad = parse_facts(
            "[state_law.harm]\noutcome = \"not_likely\"\ndate = 2026-01-10\nstates = [\"Florida\"]\n",
            "t",
        )
        .expect("parses");
        let e = validate(&bad, today()).expect_err("bad code");
        assert!(e.to_string().contains("state_law.harm.states"), "{e}");
        let e =
            parse_facts("[state_law]\nelements = [\"retina\"]\n", "f.toml").expect_err("variant");
        assert!(
            e.to_string().contains("online_credentials"),
            "accepted values listed: {e}"
        );
        // A facts file without the section serializes as before (stored records unchanged).
        let plain = parse_facts("title = \"x\"\n", "t").expect("parses");
        assert!(
            !serde_json::to_string(&plain)
                .expect("json")
                .contains("state_law")
        );
    }
}

/// Typed edits to facts: what `--title`, `--discovered`, `--state CA=1200`… give (already
/// parsed: dates are dates, vocabularies are values, States are normalised codes), or the
/// `incident new` interview, or a form. Absent fields leave the facts as they are; then the
/// `set` assignments (`path=value`, checked by [`set_path`]) apply in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsPatch {
    pub title: Option<String>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub discovered: Option<NaiveDate>,
    pub discovery_method: Option<String>,
    pub reported_by: Option<String>,
    /// Replaces the types when not empty.
    pub types: Vec<BreachType>,
    /// Replaces the locations when not empty.
    pub locations: Vec<Location>,
    /// Replaces the data elements when not empty.
    pub phi: Vec<DataElement>,
    /// May contain PHI (sealed at rest).
    pub narrative: Option<String>,
    pub individuals: Option<u64>,
    /// Residents per State: (two-letter code of 45 CFR 160.103, count).
    pub states: Vec<(String, u64)>,
    /// Events bearing on discovery (164.404(a)(2)); replace the recorded ones when not empty.
    pub discovery_events: Vec<crate::domain::DiscoveryEvent>,
    /// `path=value` assignments, applied last.
    pub set: Vec<String>,
}

impl FactsPatch {
    pub fn is_empty(&self) -> bool {
        *self == FactsPatch::default()
    }

    /// Whether applying the patch writes the narrative (PHI: the key is needed).
    pub fn touches_phi(&self) -> bool {
        self.narrative.is_some() || self.set.iter().any(|s| s.starts_with("breach.narrative"))
    }

    /// Applies the given fields, then the `set` assignments.
    pub fn apply(&self, facts: &mut Facts) -> Result<()> {
        let b = &mut facts.breach;
        if let Some(t) = &self.title {
            facts.title = t.clone();
        }
        if let Some(d) = self.start {
            b.start = Some(d);
        }
        if let Some(d) = self.end {
            b.end = Some(d);
        }
        if let Some(d) = self.discovered {
            b.discovered = Some(d);
        }
        if let Some(s) = &self.discovery_method {
            b.discovery_method = s.clone();
        }
        if let Some(s) = &self.reported_by {
            b.reported_by = s.clone();
        }
        if !self.types.is_empty() {
            b.types = self.types.clone();
        }
        if !self.locations.is_empty() {
            b.locations = self.locations.clone();
        }
        if !self.phi.is_empty() {
            b.phi = self.phi.clone();
        }
        if let Some(n) = &self.narrative {
            b.narrative = n.clone();
        }
        if let Some(n) = self.individuals {
            facts.individuals.estimated_total = Some(n);
        }
        for (code, n) in &self.states {
            facts.individuals.by_state.insert(code.clone(), *n);
        }
        if !self.discovery_events.is_empty() {
            facts.discovery_events = self.discovery_events.clone();
        }
        for s in &self.set {
            set_path(facts, s)?;
        }
        Ok(())
    }
}

/// A date of a fact flag: `YYYY-MM-DD`; the error names the flag.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        Error::invalid(format!(
            "{field} is not a date: use YYYY-MM-DD (for example 2026-03-01)"
        ))
    })
}

/// `ST=N`: residents of a State of 45 CFR 160.103.
pub fn parse_state_count(s: &str) -> Result<(String, u64)> {
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
    Ok((code.to_string(), n))
}

/// A value of a portal vocabulary; the error names the flag and the accepted values.
pub fn parse_vocab<T>(
    field: &str,
    s: &str,
    parse: impl Fn(&str) -> Option<T>,
    accepted: impl Fn() -> String,
) -> Result<T> {
    parse(s).ok_or_else(|| {
        Error::invalid(format!(
            "{field} has a value that is not recognised; accepted: {}",
            accepted()
        ))
    })
}
