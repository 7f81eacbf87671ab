//! Notices sent: `notice record` marks obligations met or late.
//!
//! Counsel's sign-off of a letters batch (issue 12, section 3) arrives with the web front
//! end: a batch is a draft until approved, and recording notices then requires an approved
//! batch or an override with a rationale. `Desk::approve_batch` belongs in this module, and
//! its check at the top of [`Desk::record_notice`].

use chrono::NaiveDate;

use sha2::{Digest, Sha256};

use super::change::{Plan, Revision};
use crate::domain::{IncidentId, IncidentStatus, NoticeMethod, NoticeRecord, ObligationKind};
use crate::error::{Error, Result};
use crate::rules::Obligation;
use crate::store::Action;

use super::office::Desk;

/// `notice record`: a batch of notices that went out.
#[derive(Debug, Clone)]
pub struct NewNotice {
    pub id: IncidentId,
    pub kind: ObligationKind,
    /// A State code, or `ST:Jurisdiction` (required for media notice, 164.406, and for every
    /// State-law notice).
    pub jurisdiction: Option<String>,
    /// A State-law notice: the regulator's id in the State's rules (`ag`), or the id of a
    /// conditional rule (`laws show ST` lists them).
    pub recipient: Option<String>,
    pub date: NaiveDate,
    pub method: NoticeMethod,
    pub count: u64,
    /// SHA-256 of the proof (a mail vendor's affidavit, a portal receipt), if given.
    pub evidence_sha256: Option<String>,
    /// A label for this batch when another shares its kind, State, date, method and count.
    pub batch: Option<String>,
    /// The incident as its author saw it: a change since is a conflict.
    pub expected: Option<Revision>,
}

impl NewNotice {
    /// Checks what needs no database: media notice and State-law notices name their State;
    /// only State-law notices have a recipient.
    pub fn check(&self) -> Result<()> {
        if self.jurisdiction.is_none() && self.kind == ObligationKind::Media {
            return Err(Error::invalid(
                "media notice is per State (164.406): add --jurisdiction ST for the State it went to",
            ));
        }
        if self.kind.is_state() {
            match self.jurisdiction.as_deref() {
                Some(j) if j.len() == 2 => {}
                _ => {
                    return Err(Error::invalid(format!(
                        "a {} notice is owed under one State's law: add --jurisdiction ST (a two-letter code)",
                        self.kind.key()
                    )));
                }
            }
        } else if self.recipient.is_some() {
            return Err(Error::invalid(
                "--recipient names a State regulator (or a conditional State rule) and goes with --kind state_regulator or state_individual",
            ));
        }
        Ok(())
    }

    /// Checks the recipient against the State's rules in force: a regulator notice names
    /// one of the State's regulators (it must, when the State has more than one).
    fn check_recipient(&self, laws: &crate::laws::LawSet) -> Result<()> {
        let Some(code) = self
            .jurisdiction
            .as_deref()
            .filter(|_| self.kind.is_state())
        else {
            return Ok(());
        };
        let Some(law) = laws.get(code) else {
            return Ok(());
        };
        let mut ids: Vec<&str> = Vec::new();
        for v in &law.file.version {
            let vs: Vec<&str> = match self.kind {
                ObligationKind::StateRegulator => {
                    v.regulator.iter().map(|r| r.id.as_str()).collect()
                }
                ObligationKind::StateIndividual => v
                    .individual
                    .iter()
                    .filter(|r| !r.id.is_empty())
                    .map(|r| r.id.as_str())
                    .collect(),
                _ => vec![],
            };
            for id in vs {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        match &self.recipient {
            Some(r) if !ids.contains(&r.as_str()) => Err(Error::invalid(format!(
                "--recipient is not one of {code}'s {} in the rules in force; accepted: {} (see `breachdesk laws show {code}`)",
                if self.kind == ObligationKind::StateRegulator {
                    "regulators"
                } else {
                    "conditional rules"
                },
                if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.join(", ")
                }
            ))),
            None if self.kind == ObligationKind::StateRegulator && ids.len() > 1 => {
                Err(Error::invalid(format!(
                    "{code}'s law names more than one regulator: add --recipient, one of {}",
                    ids.join(", ")
                )))
            }
            _ => Ok(()),
        }
    }
}

/// What recording did: the notice, and where its obligation stands now.
#[derive(Debug, Clone)]
pub struct NoticeRecorded {
    pub incident: IncidentId,
    pub record: NoticeRecord,
    /// The obligation the notice counts toward (`None`: the engine lists none such).
    pub obligation: Option<Obligation>,
    /// The same notice was already on record (a retry): nothing was written, nothing counted
    /// twice.
    pub already_recorded: bool,
}

impl Desk<'_> {
    /// `notice record`.
    pub fn record_notice(&self, req: &NewNotice) -> Result<NoticeRecorded> {
        req.check()?;
        let today = self.today()?;
        if req.date > today {
            return Err(Error::invalid(
                "--date is in the future: record a notice once it has gone out",
            ));
        }
        req.check_recipient(self.laws()?)?;
        let record = NoticeRecord {
            kind: req.kind,
            jurisdiction: req.jurisdiction.clone(),
            recipient: req.recipient.clone(),
            date: req.date,
            method: req.method,
            count: req.count,
            evidence_sha256: req.evidence_sha256.clone(),
            batch: req.batch.clone().filter(|b| !b.trim().is_empty()),
        };
        // A retry (after an uncertain outcome, or simply run twice) finds the notice already
        // on record: nothing is written and nothing counted twice.
        let view = self.incident_view(&req.id)?;
        if view.incident.notices.iter().any(|n| n.same_notice(&record)) {
            let obligation = find(view.evaluation.obligations, &record);
            return Ok(NoticeRecorded {
                incident: req.id.clone(),
                record,
                obligation,
                already_recorded: true,
            });
        }
        let plan = Plan {
            action: Action::NoticeRecord,
            touch: true,
            refresh: true,
            expect: req.expected,
            record: false,
        };
        let c = self.change_incident(&req.id, plan, |e| {
            if e.inc.facts.breach.discovered.is_some_and(|d| req.date < d) {
                return Err(Error::invalid(
                    "--date is before the discovery date: check the date",
                ));
            }
            if e.inc.notices.iter().any(|n| n.same_notice(&record)) {
                return Err(Error::Conflict(format!(
                    "the same notice was recorded for {} by someone else a moment ago; it is not counted twice",
                    req.id
                )));
            }
            e.inc.notices.push(record.clone());
            if e.inc.status != IncidentStatus::Closed {
                e.inc.status = IncidentStatus::Notifying;
            }
            let mut detail = format!(
                "kind={} method={} count={} date={}",
                req.kind.key(),
                req.method.key(),
                req.count,
                req.date.format("%Y-%m-%d")
            );
            if let Some(j) = &record.jurisdiction {
                detail.push_str(&format!(" jurisdiction={j}"));
            }
            if let Some(r) = &record.recipient {
                detail.push_str(&format!(" recipient={r}"));
            }
            if let Some(h) = &record.evidence_sha256 {
                detail.push_str(&format!(" evidence_sha256={h}"));
            }
            if let Some(b) = &record.batch {
                detail.push_str(&format!(" batch_sha256={}", crate::audit::entry::hex(&Sha256::digest(b))));
            }
            Ok(((), detail))
        })?;
        // The refreshed snapshot is the evaluation as of today.
        let obligation = find(c.derived.obligations, &record);
        Ok(NoticeRecorded {
            incident: c.incident.id,
            record,
            obligation,
            already_recorded: false,
        })
    }
}

/// The obligation a notice counts toward.
fn find(obligations: Vec<Obligation>, record: &NoticeRecord) -> Option<Obligation> {
    obligations.into_iter().find(|o| {
        o.kind == record.kind
            && (!(record.kind == ObligationKind::Media || record.kind.is_state())
                || o.jurisdiction == record.jurisdiction)
            && (!record.kind.is_state()
                || record.recipient.is_none()
                || o.recipient == record.recipient)
    })
}
