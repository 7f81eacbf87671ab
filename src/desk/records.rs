//! Conversions between the store's record types (`store::records`) and the engine's,
//! exercise's and letters' types. The store never sees the latter; this is the one place
//! both meet, so a renamed engine field is a compile error here, never a format change.

use chrono::{DateTime, Utc};

use crate::exercise::{DecidedNotice, Decision, ExerciseState};
use crate::letters::manifest::{Manifest, ManifestFile};
use crate::rules::{
    Determination, DeterminationClass, FactorResult, Obligation, ObligationStatus, Reason, Route,
};
use crate::store::records::{
    ApprovalRecord, AssessmentRecord, ClassRecord, DecidedNoticeRecord, DecisionRecord,
    DerivedRecord, DeterminationRecord, ExerciseRecord, FactorRecord, ManifestFileRecord,
    ManifestRecord, ObligationRecord, ReasonRecord, RouteRecord, StatusRecord, StoredManifest,
};

/// A recorded determination: the engine's result and any human override with its rationale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub engine: Determination,
    pub override_class: Option<DeterminationClass>,
    pub rationale: String,
    pub assessed_by: String,
    pub assessed_at: DateTime<Utc>,
}

/// What is kept beside an incident, in the engine's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    pub assessment: Option<Assessment>,
    /// Obligations as computed at the last change.
    pub obligations: Vec<Obligation>,
    /// Plain-language changes to the obligations made by the last change.
    pub changes: Vec<String>,
    pub changed_at: Option<DateTime<Utc>>,
    /// In an exercise database: the running exercise.
    pub exercise: Option<ExerciseState>,
}

pub fn class(c: ClassRecord) -> DeterminationClass {
    match c {
        ClassRecord::NotBreachSecured => DeterminationClass::NotBreachSecured,
        ClassRecord::NotBreachException => DeterminationClass::NotBreachException,
        ClassRecord::NotBreachLowProbability => DeterminationClass::NotBreachLowProbability,
        ClassRecord::Breach => DeterminationClass::Breach,
    }
}

pub fn class_record(c: DeterminationClass) -> ClassRecord {
    match c {
        DeterminationClass::NotBreachSecured => ClassRecord::NotBreachSecured,
        DeterminationClass::NotBreachException => ClassRecord::NotBreachException,
        DeterminationClass::NotBreachLowProbability => ClassRecord::NotBreachLowProbability,
        DeterminationClass::Breach => ClassRecord::Breach,
    }
}

fn reason(r: ReasonRecord) -> Reason {
    Reason {
        text: r.text,
        cite: r.cite,
    }
}

fn reason_record(r: &Reason) -> ReasonRecord {
    ReasonRecord {
        text: r.text.clone(),
        cite: r.cite.clone(),
    }
}

pub fn determination(d: DeterminationRecord) -> Determination {
    Determination {
        class: class(d.class),
        reasons: d.reasons.into_iter().map(reason).collect(),
        factors: d
            .factors
            .into_iter()
            .map(|f| FactorResult {
                factor: f.factor,
                name: f.name,
                rating: f.rating,
                rationale: f.rationale,
                cite: f.cite,
            })
            .collect(),
        route: d.route.map(|r| match r {
            RouteRecord::R1 => Route::R1,
            RouteRecord::R2 => Route::R2,
            RouteRecord::R3 => Route::R3,
        }),
        defeated: d.defeated.into_iter().map(reason).collect(),
    }
}

pub fn determination_record(d: &Determination) -> DeterminationRecord {
    DeterminationRecord {
        class: class_record(d.class),
        reasons: d.reasons.iter().map(reason_record).collect(),
        factors: d
            .factors
            .iter()
            .map(|f| FactorRecord {
                factor: f.factor.clone(),
                name: f.name.clone(),
                rating: f.rating,
                rationale: f.rationale.clone(),
                cite: f.cite.clone(),
            })
            .collect(),
        route: d.route.map(|r| match r {
            Route::R1 => RouteRecord::R1,
            Route::R2 => RouteRecord::R2,
            Route::R3 => RouteRecord::R3,
        }),
        defeated: d.defeated.iter().map(reason_record).collect(),
    }
}

pub fn obligation(o: ObligationRecord) -> Obligation {
    Obligation {
        kind: o.kind,
        jurisdiction: o.jurisdiction,
        due: o.due,
        original_due: o.original_due,
        window_end: o.window_end,
        cite: o.cite,
        policy: o.policy,
        status: match o.status {
            StatusRecord::Pending => ObligationStatus::Pending,
            StatusRecord::Met { on } => ObligationStatus::Met { on },
            StatusRecord::Late { days, sent } => ObligationStatus::Late { days, sent },
            StatusRecord::NotRequired { reason } => ObligationStatus::NotRequired { reason },
        },
        days_remaining: o.days_remaining,
        days_elapsed: o.days_elapsed,
        required_count: o.required_count,
        sent_count: o.sent_count,
        note: o.note,
        recipient: o.recipient,
        verified: o.verified,
        effective: o.effective,
        source: o.source,
    }
}

pub fn obligation_record(o: &Obligation) -> ObligationRecord {
    ObligationRecord {
        kind: o.kind,
        jurisdiction: o.jurisdiction.clone(),
        due: o.due,
        original_due: o.original_due,
        window_end: o.window_end,
        cite: o.cite.clone(),
        policy: o.policy.clone(),
        status: match &o.status {
            ObligationStatus::Pending => StatusRecord::Pending,
            ObligationStatus::Met { on } => StatusRecord::Met { on: *on },
            ObligationStatus::Late { days, sent } => StatusRecord::Late {
                days: *days,
                sent: *sent,
            },
            ObligationStatus::NotRequired { reason } => StatusRecord::NotRequired {
                reason: reason.clone(),
            },
        },
        days_remaining: o.days_remaining,
        days_elapsed: o.days_elapsed,
        required_count: o.required_count,
        sent_count: o.sent_count,
        note: o.note.clone(),
        recipient: o.recipient.clone(),
        verified: o.verified,
        effective: o.effective,
        source: o.source.clone(),
    }
}

pub fn exercise(e: ExerciseRecord) -> ExerciseState {
    ExerciseState {
        scenario_id: e.scenario_id,
        scenario_text: e.scenario_text,
        stage: e.stage,
        decisions: e
            .decisions
            .into_iter()
            .map(|d| Decision {
                stage: d.stage,
                determination: d.determination.map(class),
                notices: d
                    .notices
                    .into_iter()
                    .map(|n| DecidedNotice {
                        kind: n.kind,
                        jurisdiction: n.jurisdiction,
                        due: n.due,
                    })
                    .collect(),
                note: d.note,
            })
            .collect(),
        notes: e.notes,
    }
}

pub fn exercise_record(e: &ExerciseState) -> ExerciseRecord {
    ExerciseRecord {
        scenario_id: e.scenario_id.clone(),
        scenario_text: e.scenario_text.clone(),
        stage: e.stage,
        decisions: e
            .decisions
            .iter()
            .map(|d| DecisionRecord {
                stage: d.stage,
                determination: d.determination.map(class_record),
                notices: d
                    .notices
                    .iter()
                    .map(|n| DecidedNoticeRecord {
                        kind: n.kind,
                        jurisdiction: n.jurisdiction.clone(),
                        due: n.due,
                    })
                    .collect(),
                note: d.note.clone(),
            })
            .collect(),
        notes: e.notes.clone(),
    }
}

impl From<DerivedRecord> for Derived {
    fn from(r: DerivedRecord) -> Derived {
        Derived {
            assessment: r.assessment.map(|a| Assessment {
                engine: determination(a.engine),
                override_class: a.override_class.map(class),
                rationale: a.rationale,
                assessed_by: a.assessed_by,
                assessed_at: a.assessed_at,
            }),
            obligations: r.obligations.into_iter().map(obligation).collect(),
            changes: r.changes,
            changed_at: r.changed_at,
            exercise: r.exercise.map(exercise),
        }
    }
}

impl From<&Derived> for DerivedRecord {
    fn from(d: &Derived) -> DerivedRecord {
        DerivedRecord {
            assessment: d.assessment.as_ref().map(|a| AssessmentRecord {
                engine: determination_record(&a.engine),
                override_class: a.override_class.map(class_record),
                rationale: a.rationale.clone(),
                assessed_by: a.assessed_by.clone(),
                assessed_at: a.assessed_at,
            }),
            obligations: d.obligations.iter().map(obligation_record).collect(),
            changes: d.changes.clone(),
            changed_at: d.changed_at,
            exercise: d.exercise.as_ref().map(exercise_record),
        }
    }
}

pub fn manifest_record(m: &Manifest) -> ManifestRecord {
    ManifestRecord {
        format_version: m.format_version,
        incident: m.incident.clone(),
        kind: m.kind.clone(),
        format: m.format.clone(),
        exercise: m.exercise,
        notice_date: m.notice_date.clone(),
        count: m.count,
        template_sha256: m.template_sha256.clone(),
        data_sha256: m.data_sha256.clone(),
        files: m
            .files
            .iter()
            .map(|f| ManifestFileRecord {
                name: f.name.clone(),
                count: f.count,
                bytes: f.bytes,
                sha256: f.sha256.clone(),
            })
            .collect(),
    }
}

pub fn manifest(m: ManifestRecord) -> Manifest {
    Manifest {
        format_version: m.format_version,
        incident: m.incident,
        kind: m.kind,
        format: m.format,
        exercise: m.exercise,
        notice_date: m.notice_date,
        count: m.count,
        template_sha256: m.template_sha256,
        data_sha256: m.data_sha256,
        files: m
            .files
            .into_iter()
            .map(|f| ManifestFile {
                name: f.name,
                count: f.count,
                bytes: f.bytes,
                sha256: f.sha256,
            })
            .collect(),
        // Not kept in the store's record (the manifest file, whose hash is, has them).
        partials_sha256: None,
        channel: None,
        layout: None,
        pages_per_letter: None,
    }
}

/// A letters batch as recorded with its incident: its number (from 1), manifest and
/// manifest hash, and counsel's sign-off once given. A batch without one is a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub number: u32,
    pub manifest: Manifest,
    pub manifest_sha256: String,
    pub approval: Option<Approval>,
}

impl Batch {
    pub fn is_approved(&self) -> bool {
        self.approval.is_some()
    }
}

/// Counsel's sign-off: who, when, and the manifest hash approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub by: String,
    pub at: DateTime<Utc>,
    pub manifest_sha256: String,
}

pub fn batch(number: u32, m: StoredManifest) -> Batch {
    Batch {
        number,
        manifest: manifest(m.manifest),
        manifest_sha256: m.manifest_sha256,
        approval: m.approval.map(|a| Approval {
            by: a.by,
            at: a.at,
            manifest_sha256: a.manifest_sha256,
        }),
    }
}

pub fn approval_record(a: &Approval) -> ApprovalRecord {
    ApprovalRecord {
        by: a.by.clone(),
        at: a.at,
        manifest_sha256: a.manifest_sha256.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::{dump_table, release_0_1_fixture};

    /// Through the engine's types and back, release 0.1's records keep their bytes: the
    /// conversions lose nothing.
    #[test]
    fn release_0_1_records_survive_the_engine_types() {
        let exercise = release_0_1_fixture().with_file_name("release-0.1-exercise.redb");
        for path in [release_0_1_fixture(), exercise] {
            for (k, v) in dump_table(&path, "assessments_v1") {
                let r: DerivedRecord = serde_json::from_slice(&v).unwrap();
                let d = Derived::from(r);
                let back = DerivedRecord::from(&d);
                assert_eq!(serde_json::to_vec(&back).unwrap(), v, "{k}");
            }
            for (k, v) in dump_table(&path, "manifests_v1") {
                let r: crate::store::records::StoredManifest = serde_json::from_slice(&v).unwrap();
                let m = manifest(r.manifest.clone());
                assert_eq!(manifest_record(&m), r.manifest, "{k}");
            }
        }
    }
}
