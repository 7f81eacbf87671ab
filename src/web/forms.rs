//! Form fields into typed values, with the same parsers and messages as the command line
//! and the terminal interview (`intake::facts`): a date is `YYYY-MM-DD`, a count a whole
//! number, a vocabulary one of its keys. A blank answer means "not known yet".

use axum::Form;
use axum::extract::{FromRequest, Request};
use chrono::NaiveDate;

use super::page::WebError;
use crate::domain::Facts;
use crate::domain::vocab::{BreachType, DataElement, Location};
use crate::error::{Error, Result};
use crate::intake::facts::{parse_date, parse_state_count};

/// A URL-encoded form as name/value pairs (names may repeat: checkboxes).
pub struct Fields(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Form(v) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| Error::invalid(format!("the form could not be read: {e}")))?;
        Ok(Fields(v))
    }
}

impl Fields {
    /// The value (trimmed), empty when absent.
    pub fn get(&self, k: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// The value as typed (not trimmed): free text.
    pub fn text(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    }

    /// A non-blank value.
    pub fn opt(&self, k: &str) -> Option<&str> {
        Some(self.get(k)).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field (checkboxes), blanks dropped.
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub fn has(&self, k: &str) -> bool {
        self.0.iter().any(|(n, _)| n == k)
    }

    /// A date; blank is "not known" (`None`).
    pub fn date(&self, k: &str, label: &str) -> Result<Option<NaiveDate>> {
        self.opt(k).map(|s| parse_date(label, s)).transpose()
    }

    /// A whole number of 0 or more; blank is "not known".
    pub fn count(&self, k: &str, label: &str) -> Result<Option<u64>> {
        self.opt(k)
            .map(|s| {
                s.replace(',', "").parse::<u64>().map_err(|_| {
                    Error::invalid(format!("{label} must be a whole number of 0 or more"))
                })
            })
            .transpose()
    }

    /// A yes/no question where "unknown" is always an answer: `Some(true)`, `Some(false)`,
    /// or `None` (unknown, or not answered).
    pub fn tri(&self, k: &str) -> Option<bool> {
        match self.get(k) {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        }
    }

    /// A value of an enumerated list, by key; blank (or `unknown` when the list has no
    /// such value) is `None`.
    pub fn pick<T: Copy>(
        &self,
        k: &str,
        label: &str,
        all: &[T],
        key: impl Fn(T) -> &'static str,
    ) -> Result<Option<T>> {
        let Some(s) = self.opt(k) else {
            return Ok(None);
        };
        if let Some(v) = all.iter().copied().find(|v| key(*v) == s) {
            return Ok(Some(v));
        }
        if s == "unknown" {
            return Ok(None);
        }
        Err(Error::invalid(format!(
            "{label}: choose one of the listed answers"
        )))
    }
}

fn vocab_list<T: Copy>(
    f: &Fields,
    k: &str,
    label: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>> {
    f.all(k)
        .into_iter()
        .map(|v| {
            parse(v).ok_or_else(|| {
                Error::invalid(format!("{label} has a value that is not recognised"))
            })
        })
        .collect()
}

/// `CA=120, NV=30` (the interview's syntax); blank is "not known".
pub fn state_counts(s: &str) -> Result<Vec<(String, u64)>> {
    s.split([',', '\n', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            parse_state_count(p).map_err(|_| {
                Error::invalid(
                    "Residents per State: write ST=N separated by commas, e.g. CA=120, NV=30 (two-letter codes of the 50 States, DC, PR, VI, GU, AS, MP)",
                )
            })
        })
        .collect()
}

/// The guided intake: the terminal interview's questions (`incident new`), onto `facts`.
pub fn intake(f: &Fields, facts: &mut Facts) -> Result<()> {
    facts.title = f.get("title").to_string();
    facts.breach.discovered = f.date("discovered", "Date discovered")?;
    facts.breach.start = f.date("start", "Date the breach began")?;
    facts.breach.types = vocab_list(f, "types", "Type of breach", BreachType::from_label)?;
    facts.breach.locations = vocab_list(f, "locations", "Location", Location::from_label)?;
    facts.individuals.estimated_total = f.count("individuals", "Number of individuals")?;
    facts.individuals.by_state = state_counts(f.get("states"))?.into_iter().collect();
    facts.breach.narrative = f.text("narrative").trim().to_string();
    Ok(())
}

/// The edit form: the intake's questions and the rest of the incident's facts that people
/// revise as they learn more.
pub fn edit(f: &Fields, facts: &mut Facts) -> Result<()> {
    intake(f, facts)?;
    let b = &mut facts.breach;
    b.end = f.date("end", "Date the breach ended")?;
    b.discovery_method = f.get("discovery_method").to_string();
    b.reported_by = f.get("reported_by").to_string();
    b.phi = vocab_list(f, "phi", "PHI involved", DataElement::from_label)?;
    b.public_summary = f.text("public_summary").trim().to_string();
    let i = &mut facts.individuals;
    i.unreachable = f
        .count("unreachable", "Unreachable individuals")?
        .unwrap_or(0);
    i.deceased_with_nok = f
        .count("deceased_with_nok", "Deceased with next-of-kin address")?
        .unwrap_or(0);
    i.deceased_without_nok = f
        .count(
            "deceased_without_nok",
            "Deceased without next-of-kin address",
        )?
        .unwrap_or(0);
    i.urgent = f.tri("urgent") == Some(true);
    let ba = &mut facts.business_associate;
    ba.involved = f.tri("ba_involved") == Some(true);
    ba.name = f.get("ba_name").to_string();
    ba.relationship = match f.get("ba_relationship") {
        "agent" => Some(crate::domain::BaRelationship::Agent),
        "independent_contractor" => Some(crate::domain::BaRelationship::IndependentContractor),
        _ => None,
    };
    ba.discovered = f.date("ba_discovered", "Date the business associate discovered it")?;
    ba.notified_ce = f.date("ba_notified", "Date the business associate notified us")?;
    Ok(())
}

/// The incident version a form was filled in on (its hidden `revision` field): saving the
/// form refuses a change made since, instead of overwriting it.
pub fn expected_revision(revision: &str) -> Result<crate::desk::Revision, crate::error::Error> {
    crate::desk::Revision::parse(revision.trim()).ok_or_else(|| {
        crate::error::Error::invalid(
            "the form does not say which version of the incident it changes: open the incident again",
        )
    })
}

/// A form's optional State field: blank for none, else a State of 45 CFR 160.103 (code or
/// name) as its two-letter code.
pub fn optional_state(value: &str) -> Result<Option<String>, crate::error::Error> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    crate::domain::vocab::normalize_state(value)
        .map(|c| Some(c.to_string()))
        .ok_or_else(|| crate::error::Error::invalid("State: use a two-letter code (CA, NY, PR…)"))
}
