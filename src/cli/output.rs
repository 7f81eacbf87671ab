//! Output helpers: JSON with a `format_version`, tables, colour that honours NO_COLOR.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::error::{Error, Result};

/// Version of every `--json` document. Bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// Writes to standard output; a closed or full output is an error, never a panic.
pub fn write_out(args: std::fmt::Arguments) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|_| out.flush())
        .map_err(Error::Output)
}

/// Set once a pinned-clock database is opened: every JSON document then says so.
static NOT_EVIDENCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// This process works on a database created with a pinned clock (tests, demos). `true` the
/// first time (the note is said once).
pub fn mark_not_evidence() -> bool {
    !NOT_EVIDENCE.swap(true, std::sync::atomic::Ordering::Relaxed)
}

/// Prints `{"format_version": 1, ...value}` for a JSON object value (with
/// `"clock": "pinned clock — not evidence"` on a pinned-clock database).
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut v = serde_json::to_value(value)
        .map_err(|e| Error::Storage(format!("cannot encode JSON output: {e}")))?;
    let out = match &mut v {
        serde_json::Value::Object(map) => {
            let mut m = serde_json::Map::new();
            m.insert("format_version".into(), FORMAT_VERSION.into());
            if NOT_EVIDENCE.load(std::sync::atomic::Ordering::Relaxed) {
                m.insert("clock".into(), crate::desk::NOT_EVIDENCE.into());
            }
            for (k, val) in std::mem::take(map) {
                if k != "format_version" {
                    m.insert(k, val);
                }
            }
            serde_json::Value::Object(m)
        }
        other => serde_json::json!({"format_version": FORMAT_VERSION, "items": other}),
    };
    let s = serde_json::to_string_pretty(&out)
        .map_err(|e| Error::Storage(format!("cannot encode JSON output: {e}")))?;
    println!("{s}");
    Ok(())
}

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

/// Terminal styling; every method is a no-op when colour is off (NO_COLOR, or not a terminal).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }

    pub fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }

    pub fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }

    pub fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
}

pub fn date_or_dash(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "-".into())
}

/// The "Obligation" cell: its kind, marked when it rests on an unverified State rule.
pub fn kind_cell(o: &crate::rules::Obligation) -> String {
    if crate::rules::explain::unverified(o) {
        format!(
            "{} {}",
            o.kind.key(),
            crate::rules::explain::UNVERIFIED_MARK
        )
    } else {
        o.kind.key().to_string()
    }
}

/// The "Where" cell: the State or jurisdiction, and a State regulator's id.
pub fn where_cell(o: &crate::rules::Obligation) -> String {
    match (&o.jurisdiction, &o.recipient) {
        (Some(j), Some(r)) => format!("{j} {r}"),
        (Some(j), None) => j.clone(),
        _ => String::new(),
    }
}

/// The "Basis" cell: the citation, and every policy that set the date.
pub fn basis_cell(o: &crate::rules::Obligation) -> String {
    format!(
        "{}{}",
        o.cite,
        o.policy
            .as_ref()
            .map(|p| format!("; {p}"))
            .unwrap_or_default()
    )
}

/// The footnote of the unverified marker, when any of `obligations` carries it.
pub fn unverified_footnote<'a>(
    mut obligations: impl Iterator<Item = &'a crate::rules::Obligation>,
) -> Option<&'static str> {
    obligations
        .any(crate::rules::explain::unverified)
        .then_some(crate::rules::explain::UNVERIFIED_FOOTNOTE)
}
