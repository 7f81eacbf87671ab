//! The desk as a library (how the web server will use it): one office shared by threads,
//! a desk per caller, typed requests, exactly one audit entry per change.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::domain::incident::Disposition;
use crate::domain::vocab::EntityType;
use crate::domain::{IncidentId, NoticeMethod, ObligationKind, Role};
use crate::intake::facts::FactsPatch;
use crate::rules::DeterminationClass;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ctx(who: &str) -> Context {
    Context {
        who: Who::cli("tester", Some(1000), Some(who.into())),
        now: at("2026-11-22T15:00:00Z"),
        clock: ClockSource::Pinned,
    }
}

fn office(dir: &tempfile::TempDir) -> Arc<Office> {
    let org = new_organization(&NewOrg {
        legal_name: "Desk Test Hospital".into(),
        role: Role::CoveredEntity,
        entity_type: EntityType::HealthcareProvider,
        details: OrgDetails {
            toll_free: Some("1-800-555-0100".into()),
            time_zone: Some("America/Chicago".into()),
            ..OrgDetails::default()
        },
    })
    .unwrap();
    let path = dir.path().join("desk.redb");
    Arc::new(
        Office::create(
            &path,
            &org,
            NewEncryption::Passphrase("desk test passphrase".into()),
            ClockMarker::Pinned,
            &ctx("setup"),
            Box::new(Passphrase("desk test passphrase".into())),
        )
        .unwrap(),
    )
}

fn entries(o: &Office) -> usize {
    o.desk(ctx("auditor")).audit_log(None).unwrap().len()
}

fn new_incident(o: &Office) -> IncidentId {
    let edits = FactsPatch {
        title: Some("Stolen laptop".into()),
        discovered: NaiveDate::from_ymd_opt(2026, 10, 1),
        individuals: Some(700),
        states: vec![("IL".into(), 700)],
        narrative: Some("Laptop of a nurse, stolen from a car".into()),
        ..FactsPatch::default()
    };
    o.desk(ctx("pat"))
        .new_incident(NewIncident {
            facts: Default::default(),
            edits,
        })
        .unwrap()
        .id
}

#[test]
fn every_change_is_exactly_one_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    assert_eq!(entries(&o), 2, "init: the file's store.init, then org.init");
    let id = new_incident(&o);
    assert_eq!(entries(&o), 3);
    let d = o.desk(ctx("pat"));
    d.add_note(&NewNote {
        id: id.clone(),
        text: "police report filed".into(),
        at: None,
        author: None,
    })
    .unwrap();
    assert_eq!(entries(&o), 4);
    let mut answers = AssessmentAnswers::of(&d.incident_record(&id).unwrap().facts);
    answers.assessment.acquired.status = Some(crate::domain::AcquisitionStatus::Acquired);
    let a = d
        .assess(&AssessRequest {
            id: id.clone(),
            answers,
            r#override: None,
        })
        .unwrap();
    assert_eq!(a.evaluation.effective_class, DeterminationClass::Breach);
    assert_eq!(entries(&o), 5);
    d.record_notice(&NewNotice {
        id: id.clone(),
        kind: ObligationKind::Individual,
        jurisdiction: None,
        date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        method: NoticeMethod::Mail,
        count: 700,
        evidence_sha256: None,
    })
    .unwrap();
    assert_eq!(entries(&o), 6);
    // A refused change writes nothing.
    assert!(d.reopen_incident(&id).is_err());
    assert_eq!(entries(&o), 6);
    d.close_incident(&id, Disposition::BreachNotified, "done")
        .unwrap();
    assert_eq!(entries(&o), 7);
    let log = d.audit_log(Some(&id)).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "incident.new",
            "incident.note",
            "incident.assess",
            "notice.record",
            "incident.close"
        ]
    );
    assert!(
        log.iter()
            .all(|e| e.entry.recorded.on_behalf_of() == Some("pat"))
    );
    assert!(d.verify(None, None).unwrap().report.intact());
    // PHI reads back through the unlocked key.
    let v = d.incident_view(&id).unwrap();
    assert_eq!(
        v.incident.facts.breach.narrative,
        "Laptop of a nurse, stolen from a car"
    );
    assert_eq!(v.incident.timeline[0].text, "police report filed");
}

#[test]
fn many_callers_share_one_office() {
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    let id = new_incident(&o);
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (o, id) = (Arc::clone(&o), id.clone());
            std::thread::spawn(move || {
                for n in 0..5 {
                    o.desk(ctx(&format!("writer{w}")))
                        .add_note(&NewNote {
                            id: id.clone(),
                            text: format!("note {n} of writer {w}"),
                            at: None,
                            author: None,
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let (o, id) = (Arc::clone(&o), id.clone());
        std::thread::spawn(move || {
            for _ in 0..20 {
                let d = o.desk(ctx("reader"));
                d.incident_view(&id).unwrap();
                d.deadlines(&DeadlineQuery::default()).unwrap();
            }
        })
    };
    for t in writers {
        t.join().unwrap();
    }
    reader.join().unwrap();
    let d = o.desk(ctx("auditor"));
    assert_eq!(d.incident_view(&id).unwrap().incident.timeline.len(), 10);
    let v = d.verify(None, None).unwrap();
    assert!(v.report.intact(), "{:?}", v.report.findings);
    assert_eq!(v.report.entries, 2 + 1 + 10);
}
