//! The one path that changes an incident: read → change → write → counts → refresh
//! obligations → exactly one audit entry, in one write transaction. Every use case that
//! changes an incident (update, note, assess, close, reopen, notices, letters batches,
//! exercise steps) states what it touches in a [`Plan`] and its change in a closure.
//! A change may name the [`Revision`] of the incident its author saw (a form, an interview
//! that ran with the database closed): when the incident changed meanwhile the change is
//! refused with a conflict, before the closure runs.

use super::evaluate::{Policies, inputs, record, refresh, run};
use super::laws::law_set;
use super::office::{Desk, counts_or_estimate};
use super::records::{Approval, Batch, Derived, approval_record, batch, manifest_record};
use crate::domain::{Counts, Incident, IncidentId, Organization};
use crate::error::{Error, Result};
use crate::letters::manifest::Manifest;
use crate::rules::explain::short;
use crate::store::phi::PhiCodec;
use crate::store::records::{DerivedRecord, DeterminationLogRecord, ManifestRecord};
use crate::store::{Action, Change, Writer};

/// What a change touches.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub action: Action,
    /// Rewrites the incident record (with `updated` = now).
    pub touch: bool,
    /// Recomputes the obligations snapshot (with what changed).
    pub refresh: bool,
    /// The incident as its author saw it: a different one now is a conflict.
    pub expect: Option<Revision>,
    /// Records the evaluation as a replayable determination (`assess`): the engine version,
    /// the rules data in force with copies of the files used, the inputs and their hash.
    pub record: bool,
}

/// The state of an incident's stored records (its subject digest): what a person saw before
/// deciding a change. Opaque; `Display` and [`Revision::parse`] carry it through a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision(pub(super) crate::audit::entry::Hash);

impl Revision {
    pub fn parse(s: &str) -> Option<Revision> {
        crate::audit::entry::parse_hex32(s).map(Revision)
    }
}

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::audit::entry::hex(&self.0))
    }
}

/// The incident being changed, inside the transaction.
pub(super) struct Edit {
    pub inc: Incident,
    pub derived: Derived,
    /// The counts the engine uses before the change (the roster's, else the facts').
    pub counts: Counts,
    /// The incident's letters batches, oldest first.
    pub batches: Vec<Batch>,
    manifest: Option<(ManifestRecord, String)>,
    approval: Option<(u32, Approval)>,
}

impl Edit {
    /// Records a rendered letters batch under the incident.
    pub fn add_manifest(&mut self, m: &Manifest, manifest_sha256: &str) {
        self.manifest = Some((manifest_record(m), manifest_sha256.to_string()));
    }

    /// Records counsel's sign-off of batch `number`.
    pub fn approve(&mut self, number: u32, a: Approval) {
        self.approval = Some((number, a));
    }
}

/// What a change left behind.
pub(super) struct Changed<T> {
    pub value: T,
    pub incident: Incident,
    pub derived: Derived,
    /// The counts the engine used.
    pub counts: Counts,
    /// How the obligations moved (empty when they did not, or were not recomputed).
    pub moved: Vec<String>,
    /// The determination recorded, when the plan records one.
    pub recorded: Option<DeterminationLogRecord>,
    /// The number of the batch [`Edit::add_manifest`] recorded.
    pub batch: Option<u32>,
}

impl<'o> Desk<'o> {
    /// Changes one incident. `f` makes the change and returns its result and the audit
    /// detail (non-PHI); on any error nothing is written.
    pub(super) fn change_incident<T>(
        &self,
        id: &IncidentId,
        plan: Plan,
        f: impl FnOnce(&mut Edit) -> Result<(T, String)>,
    ) -> Result<Changed<T>> {
        let org = self.org()?.clone();
        let today = self.today()?;
        let now = self.ctx.now;
        // Every change rewrites the incident's sealed text (and the obligations snapshot, whose
        // notes can quote it): in an encrypted database it needs the key.
        let codec: &PhiCodec = self.codec(true)?;
        self.store().write(&self.actor()?, |w| {
            if let Some(seen) = plan.expect
                && w.incident_exists(id)?
                && Revision(w.incident_revision(id)?) != seen
            {
                return Err(Error::Conflict(format!(
                    "{id} was changed by someone else since you read it; nothing was recorded. \
                     Look at `breachdesk incident show {id}` (and `breachdesk audit log --incident {id}`) and make your change again"
                )));
            }
            // The laws in force as this transaction sees them: what a recorded determination
            // names is what the engine used.
            let laws = law_set(&w.counsel_laws()?)?;
            let inc = w.incident(id, codec)?;
            let stored = w.derived(id, codec)?;
            let counts = counts_or_estimate(w.roster_counts(id)?, &inc);
            let batches = w
                .batches(id)?
                .into_iter()
                .map(|(n, m)| batch(n, m))
                .collect();
            let mut e = Edit {
                inc,
                counts,
                derived: Derived::from(stored.clone()),
                batches,
                manifest: None,
                approval: None,
            };
            let (value, mut detail) = f(&mut e)?;
            if plan.touch {
                e.inc.updated = now;
                w.put_incident(&e.inc, codec)?;
            }
            let counts = counts_or_estimate(w.roster_counts(id)?, &e.inc);
            let mut moved = vec![];
            let mut recorded = None;
            if plan.refresh || plan.record {
                let i = inputs(
                    &org,
                    &e.inc,
                    &e.derived,
                    &counts,
                    Policies::default(),
                    today,
                );
                let ev = run(&i, &laws);
                if plan.refresh {
                    moved = refresh(&mut e.derived, &ev, now);
                }
                if plan.record {
                    let (mut rec, texts) = record(i, &laws, &ev, &self.ctx.who.describe(), now);
                    w.add_determination(id, &mut rec, &texts)?;
                    detail.push_str(&record_detail(&rec));
                    recorded = Some(rec);
                }
            }
            let record = DerivedRecord::from(&e.derived);
            if record != stored {
                w.put_derived(id, &record, codec)?;
            }
            let batch = match &e.manifest {
                Some((m, hash)) => Some(w.add_manifest(id, m, hash)?),
                None => None,
            };
            if let Some((n, a)) = &e.approval {
                w.approve_batch(id, *n, &approval_record(a))?;
            }
            Ok((
                Changed {
                    value,
                    incident: e.inc,
                    derived: e.derived,
                    counts,
                    moved,
                    recorded,
                    batch,
                },
                Change::incident(plan.action, id).detail(detail),
            ))
        })
    }
}

/// Writes a new incident (its sealed values with `codec`) and its first obligations
/// snapshot (the baseline) inside `w`. For `incident new` and `exercise start`.
pub(super) fn put_new_incident(
    w: &mut Writer,
    org: &Organization,
    inc: &Incident,
    mut derived: Derived,
    codec: &PhiCodec,
    today: chrono::NaiveDate,
) -> Result<()> {
    w.put_incident(inc, codec)?;
    let counts = counts_or_estimate(w.roster_counts(&inc.id)?, inc);
    let laws = law_set(&w.counsel_laws()?)?;
    let ev = super::evaluate::evaluate(
        org,
        &laws,
        inc,
        &derived,
        &counts,
        Policies::default(),
        today,
    );
    refresh(&mut derived, &ev, inc.updated);
    w.put_derived(&inc.id, &DerivedRecord::from(&derived), codec)
}

/// What the audit entry of a recorded determination says about it: its number, the engine
/// version, the digests of the rules data in force and the hash of the inputs.
fn record_detail(r: &DeterminationLogRecord) -> String {
    format!(
        " determination={} engine_version={} laws_digest={} builtin_digest={} counsel_digest={} inputs_sha256={}",
        r.seq,
        r.engine_version,
        r.laws.digest,
        short(&r.laws.builtin_digest),
        r.laws.counsel_digest.as_deref().unwrap_or("none"),
        r.inputs_sha256
    )
}
