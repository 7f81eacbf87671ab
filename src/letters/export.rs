//! Structured outputs that are not templates: the mail vendor's merge CSV, the HHS
//! worksheet as JSON, and the annual log (164.408(c)) as CSV or JSON. JSON outputs are a
//! contract: a `format_version`, fields in declaration order.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

use super::LetterKind;
use super::context::{EXERCISE_WATERMARK, HhsWorksheet, RecipientContext, ReportType};
use super::error::LetterError;

/// Version of the JSON outputs of this module; bump on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// Prefixes `'` to a cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab,
/// CR), so opening a vendor file can never run attacker-chosen text from a name field.
pub fn neutralize_formula(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// An I/O failure under the CSV writer (a full disk) stays an I/O error.
fn csv_err(e: csv::Error) -> LetterError {
    let msg = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => LetterError::Io(io),
        _ => LetterError::Csv(msg),
    }
}

fn watermark(exercise: bool) -> &'static str {
    if exercise { EXERCISE_WATERMARK } else { "" }
}

const MAIL_MERGE_HEADER: [&str; 12] = [
    "recipient_id",
    "name",
    "address_line1",
    "address_line2",
    "address_line3",
    "city",
    "state",
    "zip",
    "email",
    "deceased_name",
    "letter_kind",
    "watermark",
];

/// The mail vendor's merge file: a header and one row per recipient. Address lines past
/// the third are joined into `address_line3` with ", " so no line is lost.
pub fn mail_merge_csv<'a, W: Write>(
    w: W,
    kind: LetterKind,
    exercise: bool,
    recipients: impl IntoIterator<Item = &'a RecipientContext>,
) -> Result<(), LetterError> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(MAIL_MERGE_HEADER).map_err(csv_err)?;
    for r in recipients {
        let line = |i: usize| r.address_lines.get(i).map_or("", String::as_str);
        let line3 = match r.address_lines.len() {
            0..=3 => line(2).to_string(),
            _ => r.address_lines[2..].join(", "),
        };
        let row: [&str; 12] = [
            &r.id,
            &r.name,
            line(0),
            line(1),
            &line3,
            &r.city,
            &r.state,
            &r.zip,
            &r.email,
            r.deceased_name.as_deref().unwrap_or(""),
            kind.key(),
            watermark(exercise),
        ];
        out.write_record(row.iter().map(|c| neutralize_formula(c).into_owned()))
            .map_err(csv_err)?;
    }
    out.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct HhsJson<'a> {
    format_version: u32,
    exercise: bool,
    watermark: &'static str,
    worksheet: &'a HhsWorksheet,
}

/// The HHS worksheet as JSON (same struct the `hhs_notice` template renders).
pub fn hhs_worksheet_json(ws: &HhsWorksheet, exercise: bool) -> Result<String, LetterError> {
    let doc = HhsJson {
        format_version: FORMAT_VERSION,
        exercise,
        watermark: watermark(exercise),
        worksheet: ws,
    };
    serde_json::to_string_pretty(&doc)
        .map(|s| s + "\n")
        .map_err(|e| LetterError::Json(e.to_string()))
}

/// One breach in the annual log to the Secretary (fewer than 500 individuals,
/// 164.408(c)): the worksheet's fields flattened to one row, lists joined with "; ".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnnualLogRecord {
    pub incident_id: String,
    pub report_type: String,
    pub filer_name: String,
    pub entity_type: String,
    pub filer_is_business_associate: bool,
    pub business_associate_involved: bool,
    pub business_associate_name: String,
    pub breach_start: String,
    pub breach_end: String,
    pub discovery_start: String,
    pub discovery_end: String,
    pub individuals_affected: u64,
    pub breach_types: String,
    pub locations: String,
    pub phi_clinical: String,
    pub phi_demographic: String,
    pub phi_financial: String,
    pub phi_other: String,
    pub safeguards: String,
    pub actions_taken: String,
    pub substitute_notice_required: bool,
    pub media_notice_required: bool,
    pub individual_notice_began: String,
    pub description: String,
    pub exercise: bool,
    pub watermark: String,
}

impl AnnualLogRecord {
    pub fn from_worksheet(incident_id: &str, ws: &HhsWorksheet, exercise: bool) -> Self {
        let j = |v: &[String]| v.join("; ");
        AnnualLogRecord {
            incident_id: incident_id.to_string(),
            report_type: match ws.report_type {
                ReportType::Initial => "initial",
                ReportType::Addendum => "addendum",
            }
            .to_string(),
            filer_name: ws.filer_name.clone(),
            entity_type: ws.entity_type.clone(),
            filer_is_business_associate: ws.filer_is_business_associate,
            business_associate_involved: ws.business_associate_involved,
            business_associate_name: ws.business_associate_name.clone(),
            breach_start: ws.breach_start.clone(),
            breach_end: ws.breach_end.clone(),
            discovery_start: ws.discovery_start.clone(),
            discovery_end: ws.discovery_end.clone(),
            individuals_affected: ws.individuals_affected,
            breach_types: j(&ws.breach_types),
            locations: j(&ws.locations),
            phi_clinical: j(&ws.phi_clinical),
            phi_demographic: j(&ws.phi_demographic),
            phi_financial: j(&ws.phi_financial),
            phi_other: j(&ws.phi_other),
            safeguards: j(&ws.safeguards),
            actions_taken: j(&ws.actions_taken),
            substitute_notice_required: ws.substitute_notice_required,
            media_notice_required: ws.media_notice_required,
            individual_notice_began: ws.individual_notice_began.clone(),
            description: ws.description.clone(),
            exercise,
            watermark: watermark(exercise).to_string(),
        }
    }

    fn neutralized(&self) -> AnnualLogRecord {
        let n = |s: &String| neutralize_formula(s).into_owned();
        AnnualLogRecord {
            incident_id: n(&self.incident_id),
            report_type: n(&self.report_type),
            filer_name: n(&self.filer_name),
            entity_type: n(&self.entity_type),
            business_associate_name: n(&self.business_associate_name),
            breach_start: n(&self.breach_start),
            breach_end: n(&self.breach_end),
            discovery_start: n(&self.discovery_start),
            discovery_end: n(&self.discovery_end),
            breach_types: n(&self.breach_types),
            locations: n(&self.locations),
            phi_clinical: n(&self.phi_clinical),
            phi_demographic: n(&self.phi_demographic),
            phi_financial: n(&self.phi_financial),
            phi_other: n(&self.phi_other),
            safeguards: n(&self.safeguards),
            actions_taken: n(&self.actions_taken),
            individual_notice_began: n(&self.individual_notice_began),
            description: n(&self.description),
            watermark: n(&self.watermark),
            ..self.clone()
        }
    }
}

/// The annual log as CSV: a header row and one row per breach, formula-neutralised. An
/// empty log still gets its header row.
pub fn write_annual_log_csv<W: Write>(
    mut w: W,
    records: &[AnnualLogRecord],
) -> Result<(), LetterError> {
    if records.is_empty() {
        // csv writes the header with the first record; take it from a blank one.
        let mut probe = csv::Writer::from_writer(Vec::new());
        probe
            .serialize(AnnualLogRecord::default())
            .map_err(csv_err)?;
        let bytes = probe
            .into_inner()
            .map_err(|e| LetterError::Csv(e.to_string()))?;
        let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        w.write_all(header)?;
        w.write_all(b"\n")?;
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(w);
    for r in records {
        out.serialize(r.neutralized()).map_err(csv_err)?;
    }
    out.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct AnnualJson<'a> {
    format_version: u32,
    records: &'a [AnnualLogRecord],
}

/// The annual log as JSON: `{"format_version": 1, "records": [...]}`.
pub fn annual_log_json(records: &[AnnualLogRecord]) -> Result<String, LetterError> {
    serde_json::to_string_pretty(&AnnualJson {
        format_version: FORMAT_VERSION,
        records,
    })
    .map(|s| s + "\n")
    .map_err(|e| LetterError::Json(e.to_string()))
}
