//! Notices sent and counsel's sign-off. A letters batch is a draft until counsel approves
//! it ([`Desk::approve_batch`]: an audited step naming the approver and the manifest hash);
//! recording a notice of a kind that letters are rendered for requires an approved batch of
//! that kind, or an explicit override with a rationale ([`Desk::record_notice`]). The CLI
//! (`letters approve`, `notice record --approved-batch | --override-rationale`) and the web server
//! both come here.

use chrono::NaiveDate;

use sha2::{Digest, Sha256};

use super::change::{Plan, Revision};
use super::records::{Approval, Batch, batch};
use crate::domain::notice::Signoff;
use crate::domain::{IncidentId, IncidentStatus, NoticeMethod, NoticeRecord, ObligationKind};
use crate::error::{Error, Result};
use crate::letters::LetterKind;
use crate::rules::Obligation;
use crate::store::Action;

use super::office::Desk;

/// The letter kinds whose batches can carry a notice of this kind; empty when no letters
/// batch applies (the toll-free line, a phone call, informal substitute notice, the annual
/// HHS log and credit bureaus), and sign-off then is not asked for. A State regulator notice
/// may cite its approved `state_regulator` batch; most go through a regulator's online
/// form, so one is not required ([`batch_required`]).
pub fn letter_kinds(kind: ObligationKind) -> &'static [LetterKind] {
    match kind {
        ObligationKind::Individual | ObligationKind::StateIndividual => &[LetterKind::Individual],
        ObligationKind::NextOfKin => &[LetterKind::NextOfKin],
        ObligationKind::SubstituteWebOrMedia => {
            &[LetterKind::SubstituteWeb, LetterKind::SubstituteMedia]
        }
        ObligationKind::Media => &[LetterKind::Media],
        ObligationKind::HhsImmediate => &[LetterKind::HhsNotice],
        ObligationKind::BaToCe => &[LetterKind::BaToCe],
        ObligationKind::SubstituteInformal
        | ObligationKind::TollFreeLine
        | ObligationKind::UrgentPhoneOptional
        | ObligationKind::HhsAnnual
        | ObligationKind::StateCra => &[],
        ObligationKind::StateRegulator => &[LetterKind::StateRegulator],
    }
}

/// Whether a notice of this kind must name an approved batch (or an override): every kind
/// with letter kinds but a State regulator's.
pub fn batch_required(kind: ObligationKind) -> bool {
    !letter_kinds(kind).is_empty() && kind != ObligationKind::StateRegulator
}

/// `letters approve`: counsel's sign-off of one batch.
#[derive(Debug, Clone)]
pub struct ApproveBatch {
    pub id: IncidentId,
    pub batch: u32,
    /// The manifest hash the approver reviewed; refused when it is not the batch's.
    pub manifest_sha256: Option<String>,
}

/// What authorizes recording a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// The approved batch it went out from.
    Batch(u32),
    /// No approved batch: the rationale is kept on record (no PHI).
    Override(String),
    /// Nothing given (accepted only for kinds no letters batch applies to).
    None,
}

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
    /// The approved batch, or an override with its rationale.
    pub authority: Authority,
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
        if let Authority::Override(r) = &self.authority
            && r.trim().is_empty()
        {
            return Err(Error::invalid(
                "an override needs a rationale: why this notice went out without an approved letters batch (kept on record)",
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
        let mut record = NoticeRecord {
            kind: req.kind,
            jurisdiction: req.jurisdiction.clone(),
            recipient: req.recipient.clone(),
            date: req.date,
            method: req.method,
            count: req.count,
            evidence_sha256: req.evidence_sha256.clone(),
            batch: req.batch.clone().filter(|b| !b.trim().is_empty()),
            signoff: None,
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
            record.signoff = signoff(req, &e.batches)?;
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
            match &record.signoff {
                Some(Signoff::Batch {
                    number,
                    manifest_sha256,
                }) => detail.push_str(&format!(
                    " approved_batch={number} manifest_sha256={manifest_sha256}"
                )),
                Some(Signoff::Override { .. }) => detail.push_str(" signoff=override"),
                None => {}
            }
            Ok(((), detail))
        })?;
        // The refreshed snapshot is the evaluation as of today.
        let obligation = find(c.derived.obligations, &record);
        Ok(NoticeRecorded {
            incident: c.incident.id,
            record: c.incident.notices.last().cloned().unwrap_or(record),
            obligation,
            already_recorded: false,
        })
    }

    /// The letters batches of an incident, oldest first, with their sign-off.
    pub fn batches(&self, id: &IncidentId) -> Result<Vec<Batch>> {
        let r = self.reader()?;
        if !r.incident_exists(id)? {
            return Err(Error::NotFound(format!(
                "no incident {id}; list incidents with `breachdesk incident list`"
            )));
        }
        Ok(r.batches(id)?
            .into_iter()
            .map(|(n, m)| batch(n, m))
            .collect())
    }

    /// Draft batches of open incidents, awaiting counsel's sign-off (the dashboard).
    pub fn awaiting_signoff(&self) -> Result<Vec<(IncidentId, String, Batch)>> {
        let r = self.reader()?;
        let mut out = Vec::new();
        for inc in r.incidents(self.quiet_codec()?)? {
            if !inc.status.is_open() {
                continue;
            }
            for (n, m) in r.batches(&inc.id)? {
                if m.approval.is_none() {
                    out.push((inc.id.clone(), inc.facts.title.clone(), batch(n, m)));
                }
            }
        }
        Ok(out)
    }

    /// `letters approve`: counsel signs off a draft batch. The audit entry names the approver
    /// (the actor) and the manifest hash.
    pub fn approve_batch(&self, req: &ApproveBatch) -> Result<Batch> {
        let plan = Plan {
            action: Action::LettersApprove,
            touch: false,
            refresh: false,
            expect: None,
            record: false,
        };
        let approver = self.ctx.who.person().to_string();
        let now = self.ctx.now;
        let c = self.change_incident(&req.id, plan, |e| {
            let Some(b) = e.batches.iter().find(|b| b.number == req.batch).cloned() else {
                return Err(Error::NotFound(format!(
                    "{} has no letters batch {}; `breachdesk letters batches {}` lists them",
                    req.id, req.batch, req.id
                )));
            };
            if let Some(a) = &b.approval {
                return Err(Error::invalid(format!(
                    "batch {} of {} was already approved by {} on {}",
                    b.number,
                    req.id,
                    a.by,
                    a.at.format("%Y-%m-%d %H:%M UTC")
                )));
            }
            if let Some(h) = &req.manifest_sha256
                && !h.trim().eq_ignore_ascii_case(&b.manifest_sha256)
            {
                return Err(Error::Conflict(format!(
                    "batch {} of {} has manifest hash {}, not the one reviewed; nothing was approved: review the batch again",
                    b.number, req.id, b.manifest_sha256
                )));
            }
            let a = Approval {
                by: approver.clone(),
                at: now,
                manifest_sha256: b.manifest_sha256.clone(),
            };
            e.approve(b.number, a.clone());
            let detail = format!(
                "batch={} kind={} count={} manifest_sha256={} approver={}",
                b.number, b.manifest.kind, b.manifest.count, b.manifest_sha256, approver
            );
            Ok((
                Batch {
                    approval: Some(a),
                    ..b
                },
                detail,
            ))
        })?;
        Ok(c.value)
    }
}

/// The sign-off a notice is recorded with, checked against the incident's batches.
fn signoff(req: &NewNotice, batches: &[Batch]) -> Result<Option<Signoff>> {
    let kinds = letter_kinds(req.kind);
    let names = || {
        kinds
            .iter()
            .map(|k| k.key())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match &req.authority {
        Authority::Override(r) => Ok(Some(Signoff::Override {
            rationale: r.trim().to_string(),
        })),
        Authority::None if !batch_required(req.kind) => Ok(None),
        Authority::None => Err(Error::invalid(format!(
            "{} notices go out from a letters batch that counsel approved: name it with --approved-batch N (`breachdesk letters batches {}`), or record an override with --override-rationale TEXT",
            req.kind.key(),
            req.id
        ))),
        Authority::Batch(n) if kinds.is_empty() => Err(Error::invalid(format!(
            "no letters batch applies to {} notices (batch {n} given); record it without --approved-batch",
            req.kind.key()
        ))),
        Authority::Batch(n) => {
            let Some(b) = batches.iter().find(|b| b.number == *n) else {
                return Err(Error::NotFound(format!(
                    "{} has no letters batch {n}; `breachdesk letters batches {}` lists them",
                    req.id, req.id
                )));
            };
            if !kinds.iter().any(|k| k.key() == b.manifest.kind) {
                return Err(Error::invalid(format!(
                    "batch {n} holds {} documents, not {} letters for {} notice",
                    b.manifest.kind,
                    names(),
                    req.kind.key()
                )));
            }
            if !b.is_approved() {
                return Err(Error::invalid(format!(
                    "batch {n} of {} is a draft: counsel approves it first (`breachdesk letters approve {} {n}`), or record an override with --override-rationale TEXT",
                    req.id, req.id
                )));
            }
            Ok(Some(Signoff::Batch {
                number: b.number,
                manifest_sha256: b.manifest_sha256.clone(),
            }))
        }
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
