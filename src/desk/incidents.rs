//! Incidents: log, list, show, update, note, close, reopen.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::change::{Access, Plan, put_new_incident};
use super::evaluate::evaluate;
use super::office::{Desk, counts_or_estimate};
use super::records::Derived;
use crate::domain::incident::Disposition;
use crate::domain::{Counts, Facts, Incident, IncidentId, IncidentStatus, TimelineEntry};
use crate::error::{Error, Result};
use crate::intake::facts::{FactsPatch, validate};
use crate::rules::{self, Evaluation};
use crate::store::{Action, Change};

/// `incident new`: facts from a file (or none) with edits applied on top.
#[derive(Debug, Clone, Default)]
pub struct NewIncident {
    /// The facts read from a facts file, else empty facts.
    pub facts: Facts,
    pub edits: FactsPatch,
}

/// `incident update`.
#[derive(Debug, Clone)]
pub struct UpdateIncident {
    pub id: IncidentId,
    /// Replaces every fact (a facts file).
    pub replacement: Option<Facts>,
    pub edits: FactsPatch,
    /// Any status but closed (closing takes a disposition: [`Desk::close_incident`]).
    pub status: Option<IncidentStatus>,
}

/// `incident note`: a timeline entry (its text may contain PHI: sealed at rest).
#[derive(Debug, Clone)]
pub struct NewNote {
    pub id: IncidentId,
    pub text: String,
    /// When it happened (default: now).
    pub at: Option<DateTime<Utc>>,
    /// Who wrote it (default: the actor).
    pub author: Option<String>,
}

/// Which incidents `incident list` shows.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    pub open_only: bool,
    pub closed_only: bool,
    /// Case-insensitive text in the ID or title.
    pub text: Option<String>,
}

/// One line of the register.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Without PHI.
    pub incident: Incident,
    /// Individuals affected: the roster's count, else the facts' estimate.
    pub individuals: u64,
}

/// Everything `incident show` (and the incident page) shows.
#[derive(Debug, Clone)]
pub struct IncidentView {
    /// PHI opened when the key is at hand, else the locked placeholder.
    pub incident: Incident,
    pub counts: Counts,
    pub derived: Derived,
    pub evaluation: Evaluation,
    /// What moved since the snapshot of the last recorded change: a roster import (whose
    /// audit entry is the roster's), or the days passing (a deadline now late).
    pub since: Vec<String>,
    pub today: NaiveDate,
}

/// What an update did.
#[derive(Debug, Clone)]
pub struct Updated {
    pub incident: Incident,
    /// How the obligations moved.
    pub moved: Vec<String>,
}

/// Top-level paths of facts that differ (for the audit detail; names only, never values).
fn changed_fields(a: &Facts, b: &Facts) -> Vec<String> {
    let (Ok(va), Ok(vb)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return vec![];
    };
    let mut out = vec![];
    diff_paths("", &va, &vb, &mut out);
    out
}

fn diff_paths(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(ma), serde_json::Value::Object(mb)) => {
            for (k, va) in ma {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match mb.get(k) {
                    Some(vb) => diff_paths(&p, va, vb, out),
                    None => out.push(p),
                }
            }
        }
        _ if a != b => out.push(prefix.to_string()),
        _ => {}
    }
}

impl Desk<'_> {
    /// `incident new`: returns the incident as stored.
    pub fn new_incident(&self, req: NewIncident) -> Result<Incident> {
        let org = self.org()?.clone();
        let today = self.today()?;
        let mut facts = req.facts;
        req.edits.apply(&mut facts)?;
        validate(&facts, today)?;
        crate::intake::facts::check_role(&facts, org.role)?;
        if facts.title.trim().is_empty() {
            return Err(Error::invalid(
                "an incident needs a title (no PHI): --title \"Stolen laptop, billing\" or title = \"...\" in the facts file",
            ));
        }
        let codec = self.codec(!facts.breach.narrative.is_empty())?;
        let now = self.ctx.now;
        self.store().write(&self.actor()?, |w| {
            let id = w.next_incident_id(today.year())?;
            let inc = Incident {
                id: id.clone(),
                created: now,
                updated: now,
                status: IncidentStatus::Reported,
                disposition: None,
                disposition_note: String::new(),
                exercise: false,
                facts,
                timeline: vec![],
                notices: vec![],
            };
            put_new_incident(w, &org, &inc, Derived::default(), codec, today)?;
            Ok((inc, Change::incident(Action::IncidentNew, &id)))
        })
    }

    /// `incident list`: the register, filtered, in ID order. Needs no key.
    pub fn incidents(&self, f: &IncidentFilter) -> Result<Vec<Listed>> {
        let r = self.reader()?;
        let text = f.text.as_deref().map(str::to_lowercase);
        let mut out = Vec::new();
        for i in r.incidents()? {
            let keep = f.status.is_none_or(|s| i.status == s)
                && (!f.open_only || i.status.is_open())
                && (!f.closed_only || !i.status.is_open())
                && text.as_ref().is_none_or(|t| {
                    i.id.as_str().contains(t.as_str())
                        || i.facts.title.to_lowercase().contains(t.as_str())
                });
            if keep {
                let counts = counts_or_estimate(r.roster_counts(&i.id)?, &i);
                out.push(Listed {
                    individuals: counts.total,
                    incident: i,
                });
            }
        }
        Ok(out)
    }

    /// `incident show`: the incident (PHI when the key is at hand), its counts, the
    /// evaluation as of today and what moved.
    pub fn incident_view(&self, id: &IncidentId) -> Result<IncidentView> {
        let org = self.org()?;
        let today = self.today()?;
        let codec = self.codec(false)?;
        let r = self.reader()?;
        let incident = r.incident(id, codec)?;
        let derived = Derived::from(r.derived(id)?);
        let counts = counts_or_estimate(r.roster_counts(id)?, &incident);
        let evaluation = evaluate(org, &incident, &derived, &counts, None, today);
        let since = if derived.obligations.is_empty() {
            vec![]
        } else {
            rules::diff_obligations(&derived.obligations, &evaluation.obligations)
        };
        Ok(IncidentView {
            incident,
            counts,
            derived,
            evaluation,
            since,
            today,
        })
    }

    /// The incident without its PHI (no key needed), e.g. the facts an assessment starts
    /// from.
    pub fn incident_record(&self, id: &IncidentId) -> Result<Incident> {
        self.reader()?.incident(id, self.office.no_phi())
    }

    /// `incident update`: facts, a replacement facts file, a status.
    pub fn update_incident(&self, req: &UpdateIncident) -> Result<Updated> {
        if req.status == Some(IncidentStatus::Closed) {
            return Err(Error::invalid(
                "use `breachdesk incident close ID --disposition ...` to close an incident",
            ));
        }
        if req.replacement.is_none() && req.edits.is_empty() && req.status.is_none() {
            return Err(Error::invalid(
                "nothing to change: give fact flags, --set PATH=VALUE, --from FILE or --status",
            ));
        }
        let touches_phi = req.edits.touches_phi()
            || req
                .replacement
                .as_ref()
                .is_some_and(|f| !f.breach.narrative.is_empty());
        let today = self.today()?;
        let role = self.org()?.role;
        let plan = Plan {
            action: Action::IncidentUpdate,
            // Reading the current narrative to carry it over needs the key when it is sealed.
            access: if touches_phi {
                Access::Write
            } else {
                Access::Read
            },
            touch: true,
            refresh: true,
        };
        let c = self.change_incident(&req.id, plan, |e| {
            if e.locked {
                // Keep sealed values untouched: the placeholder is not the narrative.
                e.inc.facts.breach.narrative.clear();
            }
            let before = e.inc.facts.clone();
            if let Some(r) = &req.replacement {
                e.inc.facts = r.clone();
            }
            req.edits.apply(&mut e.inc.facts)?;
            validate(&e.inc.facts, today)?;
            crate::intake::facts::check_role(&e.inc.facts, role)?;
            if let Some(s) = req.status {
                e.inc.status = s;
            }
            let mut detail = format!("fields={}", changed_fields(&before, &e.inc.facts).join(","));
            if let Some(s) = req.status {
                detail.push_str(&format!(" status={}", s.key()));
            }
            Ok(((), detail))
        })?;
        Ok(Updated {
            incident: c.incident,
            moved: c.moved,
        })
    }

    /// `incident note`: returns the note's number.
    pub fn add_note(&self, req: &NewNote) -> Result<usize> {
        if req.text.trim().is_empty() {
            return Err(Error::invalid("the note text is empty"));
        }
        let plan = Plan {
            action: Action::IncidentNote,
            access: Access::Write,
            touch: true,
            refresh: false,
        };
        let entry = TimelineEntry {
            at: req.at.unwrap_or(self.ctx.now),
            author: req
                .author
                .clone()
                .unwrap_or_else(|| self.ctx.who.person().to_string()),
            text: req.text.clone(),
        };
        let c = self.change_incident(&req.id, plan, |e| {
            e.inc.timeline.push(entry);
            let n = e.inc.timeline.len();
            Ok((n, format!("note={n}")))
        })?;
        Ok(c.value)
    }

    /// `incident close`: a disposition and a closing note (no PHI).
    pub fn close_incident(
        &self,
        id: &IncidentId,
        disposition: Disposition,
        note: &str,
    ) -> Result<Incident> {
        self.set_status(id, Action::IncidentClose, |inc| {
            if inc.status == IncidentStatus::Closed {
                return Err(Error::invalid(format!("{} is already closed", inc.id)));
            }
            inc.status = IncidentStatus::Closed;
            inc.disposition = Some(disposition);
            inc.disposition_note = note.to_string();
            Ok(format!("disposition={}", disposition.key()))
        })
    }

    /// `incident reopen`: back to investigating.
    pub fn reopen_incident(&self, id: &IncidentId) -> Result<Incident> {
        self.set_status(id, Action::IncidentReopen, |inc| {
            if inc.status != IncidentStatus::Closed {
                return Err(Error::invalid(format!("{} is not closed", inc.id)));
            }
            inc.status = IncidentStatus::Investigating;
            inc.disposition = None;
            Ok("status=investigating".into())
        })
    }

    /// A status change touches no PHI: the record is rewritten, sealed values kept.
    fn set_status(
        &self,
        id: &IncidentId,
        action: Action,
        f: impl FnOnce(&mut Incident) -> Result<String>,
    ) -> Result<Incident> {
        let plan = Plan {
            action,
            access: Access::Keep,
            touch: true,
            refresh: true,
        };
        Ok(self
            .change_incident(id, plan, |e| Ok(((), f(&mut e.inc)?)))?
            .incident)
    }
}
