//! Value parsers for the clap definition: each turns one argument into its type or says
//! what is wrong and what is accepted (never echoing a value that could be PHI). `main`
//! reports their errors as invalid input (exit 3), like every other validation failure.

use chrono::{DateTime, NaiveDate, Utc};

use crate::desk::letters::RenderFormat;
use crate::domain::incident::Disposition;
use crate::domain::vocab::{self, BreachType, DataElement, Location};
use crate::domain::{IncidentId, IncidentStatus, NoticeMethod, ObligationKind};
use crate::exercise::DecidedNotice;
use crate::intake::facts::{parse_date, parse_state_count, parse_vocab};
use crate::intake::roster_csv::Field;
use crate::letters::LetterKind;
use crate::rules::DeterminationClass;

type Parsed<T> = Result<T, String>;

fn msg<T>(r: crate::error::Result<T>) -> Parsed<T> {
    r.map_err(|e| e.to_string())
}

pub fn incident_id(s: &str) -> Parsed<IncidentId> {
    IncidentId::parse(s).ok_or_else(|| {
        "an incident ID looks like 2026-0007 (year, dash, four or more digits)".to_string()
    })
}

/// A date of a fact flag (`--start`, `--discovered`, ...).
pub fn fact_date(field: &str, s: &str) -> Parsed<NaiveDate> {
    msg(parse_date(field, s))
}

/// Any other `YYYY-MM-DD` flag.
pub fn date(field: &str, s: &str) -> Parsed<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{field} is not a date: use YYYY-MM-DD"))
}

pub fn note_at(s: &str) -> Parsed<DateTime<Utc>> {
    super::context::parse_instant(s).ok_or_else(|| {
        "--at is not a date: use YYYY-MM-DD or RFC 3339 (2026-03-01T09:30:00Z)".to_string()
    })
}

pub fn breach_type(s: &str) -> Parsed<BreachType> {
    msg(parse_vocab(
        "--type",
        s,
        BreachType::from_label,
        BreachType::accepted,
    ))
}

pub fn location(s: &str) -> Parsed<Location> {
    msg(parse_vocab(
        "--location",
        s,
        Location::from_label,
        Location::accepted,
    ))
}

pub fn data_element(s: &str) -> Parsed<DataElement> {
    msg(parse_vocab(
        "--phi",
        s,
        DataElement::from_label,
        DataElement::accepted,
    ))
}

pub fn state_count(s: &str) -> Parsed<(String, u64)> {
    msg(parse_state_count(s))
}

pub fn list_status(s: &str) -> Parsed<IncidentStatus> {
    IncidentStatus::from_key(s).ok_or_else(|| {
        "--status is not recognised; accepted: reported, investigating, assessed, notifying, closed"
            .to_string()
    })
}

/// `incident update --status`: any status but closed (closing takes a disposition).
pub fn update_status(s: &str) -> Parsed<IncidentStatus> {
    match IncidentStatus::from_key(s) {
        Some(IncidentStatus::Closed) => Err(
            "use `breachdesk incident close ID --disposition ...` to close an incident".to_string(),
        ),
        Some(s) => Ok(s),
        None => Err(
            "--status is not recognised; accepted: reported, investigating, assessed, notifying"
                .to_string(),
        ),
    }
}

pub fn disposition(s: &str) -> Parsed<Disposition> {
    Disposition::ALL
        .iter()
        .copied()
        .find(|d| d.key() == s.trim())
        .ok_or_else(|| {
            "--disposition is not recognised; accepted: breach_notified, not_breach, no_phi, duplicate, other"
                .to_string()
        })
}

pub fn override_class(s: &str) -> Parsed<DeterminationClass> {
    DeterminationClass::from_key(s).ok_or_else(|| {
        "--override is not recognised; accepted: not_breach_secured, not_breach_exception, not_breach_low_probability, breach"
            .to_string()
    })
}

pub fn determination(s: &str) -> Parsed<DeterminationClass> {
    DeterminationClass::from_key(s).ok_or_else(|| {
        "--determination is not recognised; accepted: not_breach_secured, not_breach_exception, not_breach_low_probability, breach"
            .to_string()
    })
}

pub fn obligation_kind(s: &str) -> Parsed<ObligationKind> {
    ObligationKind::from_key(s).ok_or_else(|| {
        format!(
            "--kind is not recognised; accepted: {}",
            ObligationKind::accepted()
        )
    })
}

pub fn notice_method(s: &str) -> Parsed<NoticeMethod> {
    NoticeMethod::from_key(s).ok_or_else(|| {
        "--method is not recognised; accepted: mail, email, web, media, phone, portal".to_string()
    })
}

/// `ST` or `ST:Jurisdiction`, the State normalised.
pub fn jurisdiction(j: &str) -> Parsed<String> {
    let (st, rest) = j.split_once(':').map_or((j, None), |(s, r)| (s, Some(r)));
    let code = vocab::normalize_state(st).ok_or_else(|| {
        "--jurisdiction must start with a State code of 45 CFR 160.103 (e.g. CA, or CA:Los Angeles County)"
            .to_string()
    })?;
    Ok(match rest {
        Some(r) => format!("{code}:{}", r.trim()),
        None => code.to_string(),
    })
}

/// A State of 45 CFR 160.103, by code or name, as its two-letter code.
pub fn state_code(s: &str) -> Parsed<String> {
    vocab::normalize_state(s)
        .map(str::to_string)
        .ok_or_else(|| {
            "--jurisdiction must be a State code of 45 CFR 160.103 (e.g. TX)".to_string()
        })
}

pub fn letter_kind(s: &str) -> Parsed<LetterKind> {
    LetterKind::from_key(s).ok_or_else(|| {
        format!(
            "--kind is not recognised; accepted: {}",
            LetterKind::ALL
                .iter()
                .map(|k| k.key())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

pub fn render_format(s: &str) -> Parsed<RenderFormat> {
    RenderFormat::from_key(s).ok_or_else(|| {
        "--format is not recognised; accepted: text, html, csv (mail-vendor file), email (individual), json (hhs_notice only)"
            .to_string()
    })
}

pub fn layout(s: &str) -> Parsed<crate::letters::Layout> {
    crate::letters::Layout::from_key(s)
        .ok_or_else(|| "--layout is not recognised; accepted: single, duplex".to_string())
}

pub fn crash_point(s: &str) -> Parsed<crate::desk::letters::CrashPoint> {
    if !cfg!(debug_assertions) {
        return Err("--crash-at exists in test builds only".to_string());
    }
    crate::desk::letters::CrashPoint::from_key(s).ok_or_else(|| {
        "--crash-at is not recognised; accepted: before-audit, before-move".to_string()
    })
}

/// The annual log's output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Csv,
    Json,
}

pub fn log_format(s: &str) -> Parsed<LogFormat> {
    match s {
        "csv" => Ok(LogFormat::Csv),
        "json" => Ok(LogFormat::Json),
        _ => Err("--format is csv or json".to_string()),
    }
}

pub fn public_key(h: &str) -> Parsed<[u8; 32]> {
    crate::audit::entry::parse_hex32(h)
        .ok_or_else(|| "--public-key must be 64 hex digits (an ed25519 public key)".to_string())
}

/// `--wait DURATION`: `10s`, `2m`, `1h`, `500ms`, or a bare number of seconds.
pub fn duration(s: &str) -> Parsed<std::time::Duration> {
    let bad = || {
        "--wait takes a duration such as 10s, 2m, 500ms or 0 (a number, then ms, s, m or h)"
            .to_string()
    };
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let ms = match unit.trim() {
        "ms" => n,
        "" | "s" => n.checked_mul(1000).ok_or_else(bad)?,
        "m" => n.checked_mul(60_000).ok_or_else(bad)?,
        "h" => n.checked_mul(3_600_000).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    Ok(std::time::Duration::from_millis(ms))
}

/// `--map "Column=field"`.
pub fn column_map(m: &str) -> Parsed<(String, Field)> {
    let (col, field) = m.rsplit_once('=').ok_or_else(|| {
        "--map takes COLUMN=FIELD, e.g. --map \"Pt Acct=id\"; quote it if the column name has spaces"
            .to_string()
    })?;
    let f = Field::from_key(field).ok_or_else(|| {
        format!(
            "--map: the field after '=' is not a roster field; accepted: {}",
            Field::accepted_keys()
        )
    })?;
    Ok((col.trim().to_string(), f))
}

/// A roster's field separator: `comma`, `semicolon`, `tab` (or the character itself).
pub fn delimiter(s: &str) -> Parsed<u8> {
    match s.trim().to_ascii_lowercase().as_str() {
        "comma" | "," => Ok(b','),
        "semicolon" | ";" => Ok(b';'),
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "pipe" | "|" => Ok(b'|'),
        _ => Err("--delimiter takes comma, semicolon, tab or pipe".to_string()),
    }
}

/// A sign-in name (`user add NAME`).
pub fn user_name(s: &str) -> Parsed<String> {
    crate::domain::staff::check_user_name(s)?;
    Ok(s.to_string())
}

/// A period of time that must be more than zero (`serve --idle-timeout`, `--lockout-for`):
/// `15m`, `900s`, `1h`, `2d`, or a number of seconds.
pub fn period(s: &str) -> Parsed<std::time::Duration> {
    let s = s.trim();
    let bad = || "a duration looks like 15m, 900s, 1h or 2d".to_string();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(bad()),
    };
    if secs == 0 {
        return Err("a duration must be more than zero".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// `KIND[:JURISDICTION][=YYYY-MM-DD]`: a notice the room says is owed.
pub fn decided_notice(s: &str) -> Parsed<DecidedNotice> {
    DecidedNotice::parse(s)
}

/// A jurisdiction with rules data (`laws show TX`): a two-letter code, any case.
pub fn law_jurisdiction(s: &str) -> Parsed<String> {
    let code = s.trim().to_ascii_uppercase();
    if crate::laws::JURISDICTIONS.contains(&code.as_str())
        || crate::laws::COUNSEL_ONLY.contains(&code.as_str())
    {
        Ok(code)
    } else {
        Err(format!(
            "not a jurisdiction with State-law rules; give a two-letter code: {}, {}",
            crate::laws::JURISDICTIONS.join(", "),
            crate::laws::COUNSEL_ONLY.join(", ")
        ))
    }
}

/// A regulator's (or a conditional rule's) id in a State's rules: lowercase letters, digits
/// and `_`, as the rules files write them.
pub fn recipient(s: &str) -> Parsed<String> {
    let t = s.trim();
    if !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(t.to_string())
    } else {
        Err("--recipient is a regulator's id in the State's rules, e.g. ag (see `breachdesk laws show ST`)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(duration("soon").is_err());
        assert!(duration("-1s").is_err());
    }

    #[test]
    fn periods() {
        assert_eq!(period("15m"), Ok(std::time::Duration::from_secs(900)));
        assert_eq!(period("2"), Ok(std::time::Duration::from_secs(2)));
        assert_eq!(period("1h"), Ok(std::time::Duration::from_secs(3600)));
        assert!(period("0s").is_err());
        assert!(period("fifteen").is_err());
        assert!(period("5w").is_err());
    }

    #[test]
    fn notice_syntax() {
        let n = decided_notice("media:ca=2026-11-29").expect("parses");
        assert_eq!(n.kind, ObligationKind::Media);
        assert_eq!(n.jurisdiction.as_deref(), Some("CA"));
        assert_eq!(n.due, NaiveDate::from_ymd_opt(2026, 11, 29));
        assert!(decided_notice("hhs_immediate").is_ok());
        assert!(decided_notice("letters").is_err());
        assert!(decided_notice("individual=2026-13-01").is_err());
    }
}
