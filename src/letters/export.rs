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

/// The header of the mail vendor's merge file ([`mail_merge_row`]).
pub const MAIL_MERGE_HEADER: [&str; 14] = [
    "recipient_id",
    "letter_kind",
    "first_name",
    "last_name",
    "addressee",
    "addressee_name",
    "address_line1",
    "address_line2",
    "address_line3",
    "city",
    "state",
    "zip",
    "zip5",
    "watermark",
];

/// A ZIP code for the mail vendor: `12345` or `12345-6789` (nine digits get their hyphen).
pub fn vendor_zip(zip: &str) -> Option<String> {
    crate::domain::roster::normalize_zip(zip)
}

/// One row of the mail vendor's merge file: the individual's first and last name in their
/// own columns (for a next-of-kin letter, the deceased's), who the envelope is addressed to
/// (`individual`, `parent_or_guardian` or `next_of_kin`) and that person's name when it is
/// not the individual, up to three address lines (more are joined into the third with
/// ", " so none is lost), city, State, ZIP (`12345` or `12345-6789`) and its five-digit
/// part for presort. Cells are formula-neutralised. `None` when the ZIP is not valid.
pub fn mail_merge_row(
    kind: LetterKind,
    exercise: bool,
    r: &RecipientContext,
) -> Option<[String; 14]> {
    let zip = vendor_zip(&r.zip)?;
    let line = |i: usize| r.address_lines.get(i).cloned().unwrap_or_default();
    let line3 = match r.address_lines.len() {
        0..=3 => line(2),
        _ => r.address_lines[2..].join(", "),
    };
    let addressee = r.addressee();
    let addressee_name = match addressee {
        super::context::Addressee::Individual => String::new(),
        _ => r.name.clone(),
    };
    let row = [
        r.id.clone(),
        kind.key().to_string(),
        r.first_name.clone(),
        r.last_name.clone(),
        addressee.key().to_string(),
        addressee_name,
        line(0),
        line(1),
        line3,
        r.city.clone(),
        r.state.clone(),
        zip.clone(),
        zip[..5].to_string(),
        watermark(exercise).to_string(),
    ];
    Some(row.map(|c| neutralize_formula(&c).into_owned()))
}

/// The mail vendor's merge file for `recipients`, in the order given (callers sort by ZIP
/// for presort discounts). Rows whose ZIP is not valid are errors: they never reach a
/// vendor.
pub fn mail_merge_csv<'a, W: Write>(
    w: W,
    kind: LetterKind,
    exercise: bool,
    recipients: impl IntoIterator<Item = &'a RecipientContext>,
) -> Result<(), LetterError> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(MAIL_MERGE_HEADER).map_err(csv_err)?;
    for r in recipients {
        let row = mail_merge_row(kind, exercise, r).ok_or_else(|| {
            LetterError::Csv("a recipient's ZIP code is not valid (5 digits or ZIP+4)".into())
        })?;
        out.write_record(&row).map_err(csv_err)?;
    }
    out.flush()?;
    Ok(())
}

/// The header of the e-mail vendor's file.
pub const EMAIL_LIST_HEADER: [&str; 8] = [
    "recipient_id",
    "letter_kind",
    "first_name",
    "last_name",
    "addressee",
    "addressee_name",
    "email",
    "message_file",
];

/// One row of the e-mail vendor's file: who, at which address, and the `.eml` file that
/// holds their message (relative to the batch directory). Formula-neutralised.
pub fn email_list_row(kind: LetterKind, r: &RecipientContext, message_file: &str) -> [String; 8] {
    let addressee = r.addressee();
    let addressee_name = match addressee {
        super::context::Addressee::Individual => String::new(),
        _ => r.name.clone(),
    };
    [
        r.id.clone(),
        kind.key().to_string(),
        r.first_name.clone(),
        r.last_name.clone(),
        addressee.key().to_string(),
        addressee_name,
        r.email.clone(),
        message_file.to_string(),
    ]
    .map(|c| neutralize_formula(&c).into_owned())
}

#[derive(Serialize)]
struct HhsJson {
    format_version: u32,
    exercise: bool,
    watermark: &'static str,
    worksheet: serde_json::Value,
}

/// Adds `null` for each of `keys` missing from the object `v`.
fn nulls(v: &mut serde_json::Value, keys: &[&str]) {
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            o.entry(k.to_string()).or_insert(serde_json::Value::Null);
        }
    }
}

/// The HHS worksheet as JSON (the struct the `hhs_notice` template renders), every field
/// present: an unknown value is `null`.
pub fn hhs_worksheet_json(ws: &HhsWorksheet, exercise: bool) -> Result<String, LetterError> {
    use super::context::{CONTACT_OPTIONAL, HHS_OPTIONAL, PARTY_OPTIONAL};
    let mut v = serde_json::to_value(ws).map_err(|e| LetterError::Json(e.to_string()))?;
    nulls(&mut v, HHS_OPTIONAL);
    for part in ["covered_entity", "business_associate"] {
        if let Some(p) = v.get_mut(part).filter(|p| p.is_object()) {
            nulls(p, PARTY_OPTIONAL);
        }
    }
    if let Some(c) = v.get_mut("contact") {
        nulls(c, CONTACT_OPTIONAL);
    }
    let doc = HhsJson {
        format_version: FORMAT_VERSION,
        exercise,
        watermark: watermark(exercise),
        worksheet: v,
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
    pub covered_entity_name: String,
    pub covered_entity_address: String,
    pub entity_type: String,
    pub filer_is_business_associate: bool,
    pub business_associate_involved: bool,
    pub business_associate_name: String,
    pub business_associate_address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub contact_address: String,
    pub breach_start: String,
    pub breach_end: String,
    pub discovery_start: String,
    pub discovery_end: String,
    pub discovered_by_business_associate: String,
    pub discovered_by_covered_entity: String,
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
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let ba = ws.business_associate.clone().unwrap_or_default();
        AnnualLogRecord {
            incident_id: incident_id.to_string(),
            report_type: match ws.report_type {
                ReportType::Initial => "initial",
                ReportType::Addendum => "addendum",
            }
            .to_string(),
            covered_entity_name: o(&ws.covered_entity.name),
            covered_entity_address: o(&ws.covered_entity.address),
            entity_type: ws.entity_type.clone(),
            filer_is_business_associate: ws.filer_is_business_associate,
            business_associate_involved: ws.business_associate_involved,
            business_associate_name: o(&ba.name),
            business_associate_address: o(&ba.address),
            contact_name: o(&ws.contact.name),
            contact_phone: o(&ws.contact.phone),
            contact_email: o(&ws.contact.email),
            contact_address: o(&ws.contact.address),
            breach_start: o(&ws.breach_start),
            breach_end: o(&ws.breach_end),
            discovery_start: o(&ws.discovery_start),
            discovery_end: o(&ws.discovery_end),
            discovered_by_business_associate: o(&ws.discovered_by_business_associate),
            discovered_by_covered_entity: o(&ws.discovered_by_covered_entity),
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
            individual_notice_began: o(&ws.individual_notice_began),
            description: o(&ws.description),
            exercise,
            watermark: watermark(exercise).to_string(),
        }
    }

    fn neutralized(&self) -> AnnualLogRecord {
        let n = |s: &String| neutralize_formula(s).into_owned();
        AnnualLogRecord {
            incident_id: n(&self.incident_id),
            report_type: n(&self.report_type),
            covered_entity_name: n(&self.covered_entity_name),
            covered_entity_address: n(&self.covered_entity_address),
            entity_type: n(&self.entity_type),
            business_associate_name: n(&self.business_associate_name),
            business_associate_address: n(&self.business_associate_address),
            contact_name: n(&self.contact_name),
            contact_phone: n(&self.contact_phone),
            contact_email: n(&self.contact_email),
            contact_address: n(&self.contact_address),
            discovered_by_business_associate: n(&self.discovered_by_business_associate),
            discovered_by_covered_entity: n(&self.discovered_by_covered_entity),
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
