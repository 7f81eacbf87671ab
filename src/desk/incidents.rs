//! Incidents: log, list, show, update, note, close, reopen.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::change::{Plan, Revision, put_new_incident};
use super::evaluate::{Policies, evaluate};
use super::office::{Desk, counts_or_estimate};
use super::records::Derived;
use crate::domain::incident::Disposition;
use crate::domain::{Counts, Facts, Incident, IncidentId, IncidentStatus, TimelineEntry};
use crate::error::{Error, Result};
use crate::intake::facts::{FactsPatch, validate};
use crate::rules::{self, Evaluation, Obligation, ObligationStatus};
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
    /// The incident as its author saw it: a change since is a conflict.
    pub expected: Option<Revision>,
}

/// `incident note`: a timeline entry (its text may contain PHI: sealed at rest).
#[derive(Debug, Clone)]
pub struct NewNote {
    pub id: IncidentId,
    pub text: String,
    /// When it happened (default: now).
    pub at: Option<DateTime<Utc>>,
    /// Who wrote it (default: the person acted for, else the accountable identity).
    pub author: Option<String>,
    /// The incident as its author saw it: a change since is a conflict.
    pub expected: Option<Revision>,
}

/// `incident close`.
#[derive(Debug, Clone)]
pub struct CloseIncident {
    pub id: IncidentId,
    pub disposition: Disposition,
    /// Closing note (no PHI).
    pub note: String,
    /// Close as `breach_notified` although obligations are unmet: the reason, recorded with
    /// the closing (`--force --rationale`).
    pub force: Option<String>,
    pub expected: Option<Revision>,
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
    /// Its text opened when the key was given, else placeholders.
    pub incident: Incident,
    /// How to name it: the title when the key is at hand, else the kind (see [`label`]).
    pub label: String,
    /// Individuals affected: the roster's count, else the facts' estimate.
    pub individuals: u64,
}

/// Everything `incident show` (and the incident page) shows.
#[derive(Debug, Clone)]
pub struct IncidentView {
    /// PHI opened when the key is at hand, else the locked placeholder.
    pub incident: Incident,
    /// The title when the key is at hand, else the kind (see [`label`]).
    pub label: String,
    /// Read without the key: every typed string is a placeholder.
    pub locked: bool,
    pub counts: Counts,
    pub derived: Derived,
    pub evaluation: Evaluation,
    /// What moved since the snapshot of the last recorded change: a roster import (whose
    /// audit entry is the roster's), or the days passing (a deadline now late).
    pub since: Vec<String>,
    pub today: NaiveDate,
    /// The incident's records as read: a change made from this view names it, so a change
    /// by someone else in between is a conflict.
    pub revision: Revision,
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
        // The title at least is typed text: sealed.
        let codec = self.codec(true)?;
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
                close_rationale: None,
                exercise: false,
                facts,
                timeline: vec![],
                notices: vec![],
            };
            put_new_incident(w, &org, &inc, Derived::default(), codec, today)?;
            Ok((inc, Change::incident(Action::IncidentNew, &id)))
        })
    }

    /// `incident list`: the register, filtered, in ID order. Needs no key: without it each
    /// incident is named by its ID and kind (a title may name someone), and `text` matches
    /// the ID and kind only.
    pub fn incidents(&self, f: &IncidentFilter) -> Result<Vec<Listed>> {
        let codec = self.quiet_codec()?;
        let locked = codec.is_locked();
        let r = self.reader()?;
        let text = f.text.as_deref().map(str::to_lowercase);
        let mut out = Vec::new();
        for i in r.incidents(codec)? {
            let label = label(&i, locked);
            let keep = f.status.is_none_or(|s| i.status == s)
                && (!f.open_only || i.status.is_open())
                && (!f.closed_only || !i.status.is_open())
                && text.as_ref().is_none_or(|t| {
                    i.id.as_str().contains(t.as_str()) || label.to_lowercase().contains(t.as_str())
                });
            if keep {
                let counts = counts_or_estimate(r.roster_counts(&i.id)?, &i);
                out.push(Listed {
                    individuals: counts.total,
                    label,
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
        let revision = Revision(r.incident_revision(id)?);
        let derived = Derived::from(r.derived(id, codec)?);
        let counts = counts_or_estimate(r.roster_counts(id)?, &incident);
        let evaluation = evaluate(
            org,
            self.laws()?,
            &incident,
            &derived,
            &counts,
            Policies::default(),
            today,
        );
        let since = if derived.obligations.is_empty() {
            vec![]
        } else {
            rules::diff_obligations(&derived.obligations, &evaluation.obligations)
        };
        Ok(IncidentView {
            label: label(&incident, codec.is_locked()),
            locked: codec.is_locked(),
            incident,
            counts,
            derived,
            evaluation,
            since,
            today,
            revision,
        })
    }

    /// The incident and its revision, read together: what an interview starts from before
    /// the database is closed while a person answers. Its text is opened (the change that
    /// follows needs the key anyway).
    pub fn incident_for_change(&self, id: &IncidentId) -> Result<(Incident, Revision)> {
        let codec = self.codec(true)?;
        let r = self.reader()?;
        let inc = r.incident(id, codec)?;
        Ok((inc, Revision(r.incident_revision(id)?)))
    }

    /// The incident (text opened when the key is at hand) and its revision, read together:
    /// what a web form is filled in on, so that saving it can refuse a change made since.
    pub fn incident_for_form(&self, id: &IncidentId) -> Result<(Incident, Revision)> {
        let codec = self.codec(false)?;
        let r = self.reader()?;
        let inc = r.incident(id, codec)?;
        Ok((inc, Revision(r.incident_revision(id)?)))
    }

    /// The incident with its text opened when the key is at hand, e.g. the facts an
    /// assessment starts from.
    pub fn incident_record(&self, id: &IncidentId) -> Result<Incident> {
        let codec = self.codec(false)?;
        self.reader()?.incident(id, codec)
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
        let today = self.today()?;
        let role = self.org()?.role;
        let plan = Plan {
            action: Action::IncidentUpdate,
            touch: true,
            refresh: true,
            expect: req.expected,
            record: false,
        };
        let c = self.change_incident(&req.id, plan, |e| {
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
            touch: true,
            refresh: false,
            expect: req.expected,
            record: false,
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

    /// `incident close`: a disposition and a closing note (no PHI). Closing as
    /// `breach_notified` says every notice was made: it is refused while an obligation is
    /// pending or overdue, unless forced with a rationale (recorded with the closing, and the
    /// deadline board keeps listing what is unmet).
    pub fn close_incident(&self, req: &CloseIncident) -> Result<Incident> {
        if req.force.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(Error::invalid(
                "--force needs --rationale TEXT: why close as breach_notified with notices unmet (kept on record)",
            ));
        }
        let org = self.org()?.clone();
        let today = self.today()?;
        let laws = self.laws()?;
        let d = req.disposition;
        self.set_status(&req.id, Action::IncidentClose, req.expected, |e| {
            let inc = &e.inc;
            if inc.status == IncidentStatus::Closed {
                return Err(Error::invalid(format!("{} is already closed", inc.id)));
            }
            let mut detail = format!("disposition={}", d.key());
            if d == Disposition::BreachNotified {
                let ev = evaluate(
                    &org,
                    laws,
                    inc,
                    &e.derived,
                    &e.counts,
                    Policies::default(),
                    today,
                );
                let unmet: Vec<&Obligation> = ev.obligations.iter().filter(|o| unmet(o)).collect();
                match (&req.force, unmet.is_empty()) {
                    (_, true) => {}
                    (None, false) => {
                        return Err(Error::invalid(format!(
                            "{} still has {} unmet obligation(s): {}. Closing as breach_notified says every notice was made: \
                             record them with `breachdesk notice record`, or close anyway with --force --rationale TEXT (both are recorded, \
                             and the deadline board keeps listing them)",
                            inc.id,
                            unmet.len(),
                            unmet.iter().map(|o| describe(o)).collect::<Vec<_>>().join("; ")
                        )));
                    }
                    (Some(_), false) => {
                        detail.push_str(&format!(
                            " forced unmet={}",
                            unmet
                                .iter()
                                .map(|o| match &o.jurisdiction {
                                    Some(j) => format!("{}:{j}", o.kind.key()),
                                    None => o.kind.key().to_string(),
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        ));
                    }
                }
            }
            let inc = &mut e.inc;
            inc.status = IncidentStatus::Closed;
            inc.disposition = Some(d);
            inc.disposition_note = req.note.clone();
            inc.close_rationale = req.force.clone().filter(|_| d == Disposition::BreachNotified);
            Ok(detail)
        })
    }

    /// `incident reopen`: back to investigating.
    pub fn reopen_incident(&self, id: &IncidentId) -> Result<Incident> {
        self.set_status(id, Action::IncidentReopen, None, |e| {
            let inc = &mut e.inc;
            if inc.status != IncidentStatus::Closed {
                return Err(Error::invalid(format!("{} is not closed", inc.id)));
            }
            inc.status = IncidentStatus::Investigating;
            inc.disposition = None;
            inc.close_rationale = None;
            Ok("status=investigating".into())
        })
    }

    /// A status change touches no PHI: the record is rewritten, sealed values kept.
    fn set_status(
        &self,
        id: &IncidentId,
        action: Action,
        expected: Option<Revision>,
        f: impl FnOnce(&mut super::change::Edit) -> Result<String>,
    ) -> Result<Incident> {
        let plan = Plan {
            action,
            touch: true,
            refresh: true,
            expect: expected,
            record: false,
        };
        Ok(self
            .change_incident(id, plan, |e| Ok(((), f(e)?)))?
            .incident)
    }
}

/// How an incident is named: its title when its text could be opened, else its kind (e.g.
/// `theft · laptop`), since a title may name someone and is sealed.
pub fn label(inc: &Incident, locked: bool) -> String {
    let f = &inc.facts;
    if !locked && !f.title.trim().is_empty() {
        return f.title.clone();
    }
    let join = |v: Vec<&str>| {
        if v.is_empty() {
            "?".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "{} · {}",
        join(f.breach.types.iter().map(|t| t.key()).collect()),
        join(f.breach.locations.iter().map(|l| l.key()).collect())
    )
}

/// An obligation still owed: pending or overdue (the optional urgent telephone notice of
/// 164.404(d)(3) never is).
pub fn unmet(o: &Obligation) -> bool {
    o.kind != crate::domain::ObligationKind::UrgentPhoneOptional
        && matches!(
            o.status,
            ObligationStatus::Pending | ObligationStatus::Late { sent: false, .. }
        )
}

/// `media:CA (due 2026-11-29)`, `individual (OVERDUE by 3 day(s))`.
fn describe(o: &Obligation) -> String {
    let what = match &o.jurisdiction {
        Some(j) => format!("{}:{j}", o.kind.key()),
        None => o.kind.key().to_string(),
    };
    match (&o.status, o.due) {
        (ObligationStatus::Late { days, .. }, _) => format!("{what} (OVERDUE by {days} day(s))"),
        (_, Some(due)) => format!("{what} (due {})", due.format("%Y-%m-%d")),
        _ => what,
    }
}
