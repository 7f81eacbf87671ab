//! Scenario skeletons seeded from a public HHS OCR breach-portal record.
//!
//! Mapping (documented defaults in brackets):
//! - entity type → `organization.entity_type` and role (a Business Associate filer plays as
//!   a business associate) [blank: healthcare_provider, covered entity];
//! - individuals → `individuals.estimated_total`, and `individuals.by_state.<ST>` when the
//!   State is known [blank: [`DEFAULT_INDIVIDUALS`] = 500, the least a record on the
//!   portal's list of breaches of 500 or more can be];
//! - types and locations → `breach.types`, `breach.locations`;
//! - Business Associate Present → `business_associate.involved`;
//! - OCR's web description → the briefing [absent: a briefing built from the fields];
//! - submission date → one inject on that date (the HHS filing, recorded as a sent
//!   `hhs_immediate` notice for a covered entity of 500 or more); `start` and
//!   `breach.discovered` are 60 days earlier [blank: submission [`DEFAULT_SUBMITTED`]].
//!
//! The skeleton leaves the data elements and the risk assessment unanswered, so the engine
//! presumes a breach (164.402(2)) until the facilitator fills them in.

use chrono::NaiveDate;

use crate::domain::vocab::{EntityType, state_name};
use crate::rules::calendar::plus_days_signed;

use super::ocr::OcrRecord;

/// Individuals assumed when the record gives none.
pub const DEFAULT_INDIVIDUALS: u64 = 500;
/// Submission date assumed when the record gives none.
pub const DEFAULT_SUBMITTED: &str = "2026-03-02";

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list<T>(v: &[T], key: impl Fn(&T) -> &'static str) -> String {
    let items: Vec<String> = v.iter().map(|x| q(key(x))).collect();
    format!("[{}]", items.join(", "))
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "record".into() } else { out }
}

/// A scenario TOML skeleton (valid for [`super::parse_scenario`] and
/// [`super::validate`]) from one portal record.
pub fn from_ocr(rec: &OcrRecord) -> String {
    let name = if rec.name.trim().is_empty() {
        "Unnamed covered entity".to_string()
    } else {
        rec.name.trim().to_string()
    };
    let entity = rec.entity_type.unwrap_or(EntityType::HealthcareProvider);
    let is_ba = entity == EntityType::BusinessAssociate;
    let role = if is_ba {
        "business_associate"
    } else {
        "covered_entity"
    };
    let n = rec.individuals.unwrap_or(DEFAULT_INDIVIDUALS);
    let default_submitted =
        NaiveDate::parse_from_str(DEFAULT_SUBMITTED, "%Y-%m-%d").unwrap_or(NaiveDate::MIN);
    let submitted = rec.submitted.unwrap_or(default_submitted);
    let start = plus_days_signed(submitted, -60);
    let types = list(&rec.types, |t| t.key());
    let locations = list(&rec.locations, |l| l.key());
    let where_ = rec
        .state
        .as_deref()
        .map(|s| format!(" in {}", state_name(s)))
        .unwrap_or_default();
    let labels = |v: Vec<&str>| {
        if v.is_empty() {
            "not stated".to_string()
        } else {
            v.join(", ")
        }
    };
    let generated = format!(
        "{name}, a {}{where_}, reported a breach affecting {n} individuals to the HHS Office for Civil Rights on {submitted}. Type of breach: {}. Location of the information: {}. This skeleton was seeded from the public breach-portal list: complete the facts (data elements, discovery, risk assessment) before the exercise.",
        entity.label().to_lowercase(),
        labels(rec.types.iter().map(|t| t.label()).collect()),
        labels(rec.locations.iter().map(|l| l.label()).collect()),
    );
    let briefing = match rec.description.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => format!("OCR's public description: {d}\n\n{generated}"),
        _ => generated,
    };

    let mut t = String::new();
    t.push_str(&format!(
        "# Scenario skeleton seeded from the HHS OCR breach portal (record on line {} of the export).\n# Defaults are documented in src/exercise/seed.rs. Edit the facts, then validate.\n\n",
        rec.line
    ));
    t.push_str(&format!(
        "id = {}\n",
        q(&format!("ocr-{}-l{}", slug(&name), rec.line))
    ));
    t.push_str(&format!(
        "title = {}\n",
        q(&format!("Seeded from HHS OCR record: {name}"))
    ));
    t.push_str(&format!("briefing = {}\n", q(&briefing)));
    t.push_str(&format!("start = {start}T09:00:00\n"));
    t.push_str("questions = [\n  \"Is this a breach of unsecured PHI, and what do you still need to know to decide?\",\n  \"When did the 60-day clock start, and who must be notified by when?\",\n]\n\n");

    t.push_str("[organization]\n");
    t.push_str(&format!("legal_name = {}\n", q(&name)));
    t.push_str(&format!("role = {}\n", q(role)));
    t.push_str(&format!("entity_type = {}\n", q(entity.key())));
    t.push_str("toll_free = \"1-800-555-0100\"\n\n");

    t.push_str("[facts]\n");
    t.push_str(&format!("title = {}\n\n", q(&format!("Seeded: {name}"))));
    t.push_str("[facts.breach]\n");
    t.push_str(&format!("discovered = {start}\n"));
    t.push_str(&format!("types = {types}\n"));
    t.push_str(&format!("locations = {locations}\n\n"));
    t.push_str("[facts.individuals]\n");
    t.push_str(&format!("estimated_total = {n}\n"));
    if let Some(st) = &rec.state {
        t.push_str(&format!("by_state = {{ {st} = {n} }}\n"));
    }
    t.push('\n');
    if rec.ba_present == Some(true) {
        t.push_str("[facts.business_associate]\ninvolved = true\n\n");
    }

    t.push_str("[[inject]]\n");
    t.push_str(&format!("at = {submitted}\n"));
    t.push_str("title = \"Report filed with HHS OCR\"\n");
    t.push_str(&format!(
        "told = {}\n",
        q(&format!(
            "The breach report was submitted to the HHS breach portal on {submitted}, reporting {n} individuals."
        ))
    ));
    t.push_str("questions = [\"Were the individual notices and any media notices given by the same date? What would OCR ask for first?\"]\n");
    if !is_ba && n >= 500 {
        t.push_str(&format!(
            "\n[[inject.notices]]\nkind = \"hhs_immediate\"\ndate = {submitted}\nmethod = \"portal\"\ncount = 1\n"
        ));
    }
    t
}
