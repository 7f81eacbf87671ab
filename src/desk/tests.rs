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
            NewEncryption::Passphrase {
                passphrase: Secret::new("desk test passphrase".into()),
                allow_weak: false,
            },
            ClockMarker::Pinned,
            &ctx("setup"),
            Box::new(Passphrase::new("desk test passphrase")),
        )
        .unwrap(),
    )
}

fn entries(o: &Office) -> usize {
    o.desk(ctx("auditor")).audit_log(None).unwrap().len()
}

/// The text of a jurisdiction's rules file in force.
fn d_laws_text(o: &Office, code: &str) -> String {
    o.desk(ctx("reader"))
        .laws()
        .unwrap()
        .get(code)
        .unwrap()
        .text
        .clone()
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
        expected: None,
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
            expected: None,
            conclusion: None,
        })
        .unwrap();
    assert_eq!(a.evaluation.effective_class, DeterminationClass::Breach);
    assert_eq!(entries(&o), 5);
    d.record_notice(&NewNotice {
        id: id.clone(),
        kind: ObligationKind::Individual,
        jurisdiction: None,
        recipient: None,
        date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        method: NoticeMethod::Mail,
        count: 700,
        evidence_sha256: None,
        batch: None,
        expected: None,
        authority: Authority::Override("mailed by the vendor before sign-off existed".into()),
    })
    .unwrap();
    assert_eq!(entries(&o), 6);
    // A refused change writes nothing.
    assert!(d.reopen_incident(&id).is_err());
    assert_eq!(entries(&o), 6);
    // 700 in Illinois: HHS and the media are still owed, so "breach_notified" is refused...
    let close = CloseIncident {
        id: id.clone(),
        disposition: Disposition::BreachNotified,
        note: "done".into(),
        force: None,
        expected: None,
    };
    let e = d.close_incident(&close).unwrap_err();
    assert!(e.to_string().contains("hhs_immediate"), "{e}");
    assert_eq!(entries(&o), 6);
    // ... unless forced with a rationale, which is recorded.
    let closed = d
        .close_incident(&CloseIncident {
            force: Some("HHS and media notices are tracked by counsel".into()),
            ..close
        })
        .unwrap();
    assert_eq!(
        closed.close_rationale.as_deref(),
        Some("HHS and media notices are tracked by counsel")
    );
    assert_eq!(entries(&o), 7);
    // The board still lists what is unmet.
    let board = d.deadlines(&DeadlineQuery::default()).unwrap();
    assert!(
        board
            .rows
            .iter()
            .any(|r| r.obligation.kind == ObligationKind::HhsImmediate)
    );
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
                            expected: None,
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

/// Before: when the commit's flush failed (EIO) the command said "storage error" although the
/// change was saved, and a retried `notice record` counted the notice twice.
#[test]
fn a_failed_flush_is_an_uncertain_outcome_and_a_retry_counts_the_notice_once() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flaky.redb");
    let org = new_organization(&NewOrg {
        legal_name: "Flaky Disk Clinic".into(),
        role: Role::CoveredEntity,
        entity_type: EntityType::HealthcareProvider,
        details: OrgDetails::default(),
    })
    .unwrap();
    let (store, fail_next_sync) = crate::store::flaky::create(&path).unwrap();
    let office = Office::init_on(
        store,
        &org,
        crate::store::Encryption::Off,
        &crate::store::phi::PhiCodec::Plain,
        ClockMarker::Pinned,
        &ctx("setup"),
        Box::new(NoKey),
    )
    .unwrap();
    let id = new_incident(&office);
    let notice = NewNotice {
        id: id.clone(),
        kind: ObligationKind::Individual,
        jurisdiction: None,
        recipient: None,
        date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        method: NoticeMethod::Mail,
        count: 700,
        evidence_sha256: None,
        batch: None,
        expected: None,
        authority: Authority::Override("mailed by the vendor; signed off on paper".into()),
    };
    fail_next_sync.store(true, Ordering::SeqCst);
    let e = office
        .desk(ctx("pat"))
        .record_notice(&notice)
        .expect_err("the flush failed");
    assert!(matches!(e, crate::error::Error::Uncertain { .. }), "{e:?}");
    assert_eq!(e.exit_code(), crate::error::exit::UNCERTAIN);
    let msg = e.to_string();
    assert!(msg.contains("may or may not have been saved"), "{msg}");
    assert!(msg.contains("breachdesk audit log"), "{msg}");
    assert!(msg.contains("entry 4 (notice.record on incident/"), "{msg}");
    drop(office);

    // The user retries, as the message says is safe.
    let office = Office::open(&path, Box::new(NoKey), &ctx("pat")).unwrap();
    let d = office.desk(ctx("pat"));
    d.record_notice(&notice).unwrap();
    let done = d.record_notice(&notice).unwrap();
    assert!(done.already_recorded, "running it again counts nothing");
    let v = d.incident_view(&id).unwrap();
    assert_eq!(v.incident.notices.len(), 1, "one notice, counted once");
    let individual = v
        .evaluation
        .obligations
        .iter()
        .find(|o| o.kind == ObligationKind::Individual)
        .unwrap();
    assert_eq!(individual.sent_count, 700);
    let report = d.verify(None, None).unwrap().report;
    assert!(report.intact(), "{:?}", report.findings);
    // A second genuine batch with the same details is told apart by its label.
    let second = NewNotice {
        batch: Some("vendor job 2".into()),
        ..notice
    };
    assert!(!d.record_notice(&second).unwrap().already_recorded);
}

/// A change made from what a person saw is refused when someone else changed the incident
/// in between (the web's second editor, an interview answered with the database closed).
#[test]
fn a_change_from_a_stale_view_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    let id = new_incident(&o);
    let seen = o.desk(ctx("pat")).incident_view(&id).unwrap().revision;
    o.desk(ctx("lee"))
        .add_note(&NewNote {
            id: id.clone(),
            text: "lee was here first".into(),
            at: None,
            author: None,
            expected: Some(seen),
        })
        .unwrap();
    let before = entries(&o);
    let e = o
        .desk(ctx("pat"))
        .add_note(&NewNote {
            id: id.clone(),
            text: "pat, from the stale page".into(),
            at: None,
            author: None,
            expected: Some(seen),
        })
        .unwrap_err();
    assert_eq!(e.exit_code(), crate::error::exit::CONFLICT);
    assert!(e.to_string().contains("changed by someone else"), "{e}");
    assert_eq!(entries(&o), before, "nothing written");
    let now = o.desk(ctx("pat")).incident_view(&id).unwrap().revision;
    assert_ne!(now, seen);
    assert_eq!(Revision::parse(&now.to_string()), Some(now));
}

/// A roster's key rotated as `rekey --rotate` will do it (issue 10): begin, re-seal
/// (resumable), finish inside one audited change; afterwards neither the old database key
/// nor the old roster key opens the roster, and the chain verifies.
#[test]
fn a_roster_key_rotates_and_the_old_keys_open_nothing() {
    use crate::store::roster::{RosterSeal, read, rotate};
    use crate::store::vault::Vault;
    use crate::store::{Action, Change, Subject};
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    let id = new_incident(&o);
    let csv = dir.path().join("r.csv");
    let mut text = String::from("MRN,First,Last,Address,City,State,Zip\n");
    for i in 0..500 {
        text.push_str(&format!("{i},Ann{i},Lee{i},{i} Main St,Chicago,IL,60601\n"));
    }
    text.push_str("bad,Bo,Kim,1 Main St,Chicago,Narnia,60601\n");
    std::fs::write(&csv, text).unwrap();
    let desk = o.desk(ctx("pat"));
    desk.import_roster(
        &ImportRoster {
            id: id.clone(),
            file: csv,
            maps: vec![],
            delimiter: None,
            dry_run: false,
            restart: false,
            report_limit: 10,
            run_rows: RUN_ROWS,
            lower_counts: LowerCounts::Accept,
        },
        &Silent,
    )
    .unwrap();
    let store = o.store();
    let old = o.vault().unwrap();
    let codec = o.codec(true).unwrap();
    let Some(RosterSeal::Sealed(old_roster_key)) =
        store.reader().unwrap().roster_seal(&id, codec).unwrap()
    else {
        panic!("a sealed roster");
    };
    let count = |seal: &RosterSeal| {
        let r = store.reader().unwrap();
        let view = r.roster_view(&id).unwrap();
        let mut n = 0;
        read::for_each_live_row(&r, &id, &view, seal, &mut |_| {
            n += 1;
            Ok(true)
        })
        .map(|()| n)
    };
    assert!(rotate::begin(store, &id, old).unwrap());
    assert!(rotate::begin(store, &id, old).unwrap(), "idempotent");
    let groups = rotate::reseal(store, &id, old, &|_| {}).unwrap();
    // 500 rows of about 50 bytes fill several groups (at most 3,950 bytes each).
    assert!(groups >= 5, "{groups}");
    assert_eq!(
        rotate::reseal(store, &id, old, &|_| {}).unwrap(),
        0,
        "resumable: done"
    );
    // Readable throughout, with the database key in use.
    let during = store
        .reader()
        .unwrap()
        .roster_seal(&id, codec)
        .unwrap()
        .unwrap();
    assert!(during.rotating());
    assert_eq!(count(&during).unwrap(), 500);
    // Finish, with the database's new key, in one audited change.
    let (new, _) = Vault::create(b"the next passphrase").unwrap();
    let fp = store
        .write(&ctx("pat").actor(), |w| {
            let fp = w.finish_roster_rotation(&id, old, &new)?;
            Ok((
                fp,
                Change::new(Action::RosterMigrate, Subject::Roster(id.clone())),
            ))
        })
        .unwrap()
        .unwrap();
    assert_ne!(fp, crate::audit::entry::hex(&old_roster_key.fingerprint()));
    assert!(store.reader().unwrap().verify().unwrap().intact());
    // The old database key no longer unwraps the roster's key; the old roster key opens no
    // group; the new keys open all of them.
    assert!(store.reader().unwrap().roster_seal(&id, codec).is_err());
    assert!(count(&RosterSeal::Sealed(old_roster_key)).is_err());
    let new_codec = crate::store::phi::PhiCodec::Sealed(new);
    let seal = store
        .reader()
        .unwrap()
        .roster_seal(&id, &new_codec)
        .unwrap()
        .unwrap();
    assert_eq!(count(&seal).unwrap(), 500);
}

/// Readers never wait for a writer: while a write transaction is open (held here until the
/// readers are done), every read use case answers from the last committed state.
#[test]
fn readers_never_wait_for_a_writer() {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    let id = new_incident(&o);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let writer = {
        let o = Arc::clone(&o);
        std::thread::spawn(move || {
            o.desk(ctx("writer"))
                .store()
                .write(&ctx("writer").actor(), |_w| {
                    started_tx.send(()).unwrap();
                    // Hold the write transaction open until the readers are done.
                    release_rx.recv_timeout(Duration::from_secs(30)).unwrap();
                    Err::<((), crate::store::Change), _>(crate::error::Error::invalid(
                        "rolled back",
                    ))
                })
                .unwrap_err();
        })
    };
    started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let t = Instant::now();
    let d = o.desk(ctx("reader"));
    assert_eq!(d.incident_view(&id).unwrap().incident.id, id);
    d.deadlines(&DeadlineQuery::default()).unwrap();
    d.incidents(&IncidentFilter::default()).unwrap();
    d.users().unwrap();
    d.audit_tail(10).unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "reads waited for the writer"
    );
    release_tx.send(()).unwrap();
    writer.join().unwrap();
}

fn breach_with_batch(o: &Office) -> (IncidentId, Batch) {
    let id = new_incident(o);
    // Notices name a way to reach the organization (164.404(c)(1)(E)).
    o.desk(ctx("po"))
        .update_org(&OrgUpdate {
            details: OrgDetails {
                email: Some("privacy@example.org".into()),
                ..OrgDetails::default()
            },
            ..OrgUpdate::default()
        })
        .unwrap();
    let d = o.desk(ctx("analyst"));
    let out = tempfile::tempdir().unwrap();
    let r = d
        .render_letters(
            &letters::RenderLetters {
                id: id.clone(),
                kind: crate::letters::LetterKind::Media,
                format: letters::RenderFormat::Text,
                out: out.path().join("media"),
                templates: None,
                shard_size: 10,
                notice_date: None,
                addendum: false,
                covered_entity: None,
                jurisdiction: None,
                recipient: None,
                force: true,
                layout: crate::letters::Layout::default(),
                crash_at: None,
            },
            &Silent,
        )
        .unwrap();
    assert_eq!(r.batch, 1);
    let b = d.batches(&id).unwrap().remove(0);
    assert!(!b.is_approved());
    (id, b)
}

fn media_notice(id: &IncidentId, authority: Authority) -> NewNotice {
    NewNotice {
        id: id.clone(),
        kind: ObligationKind::Media,
        jurisdiction: Some("IL".into()),
        date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        method: NoticeMethod::Media,
        count: 1,
        evidence_sha256: None,
        recipient: None,
        batch: None,
        expected: None,
        authority,
    }
}

/// A batch is a draft until counsel approves it; notices need an approved batch of the
/// right kind, or an override with a rationale; kinds without letters need neither.
#[test]
fn sign_off_rules() {
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    let (id, b) = breach_with_batch(&o);
    let d = o.desk(ctx("analyst"));
    let e = d
        .record_notice(&media_notice(&id, Authority::None))
        .unwrap_err();
    assert!(e.to_string().contains("--approved-batch N"), "{e}");
    let e = d
        .record_notice(&media_notice(&id, Authority::Batch(1)))
        .unwrap_err();
    assert!(e.to_string().contains("is a draft"), "{e}");
    let e = d
        .record_notice(&media_notice(&id, Authority::Batch(7)))
        .unwrap_err();
    assert!(matches!(e, crate::error::Error::NotFound(_)), "{e}");
    let e = d
        .record_notice(&media_notice(&id, Authority::Override("  ".into())))
        .unwrap_err();
    assert!(e.to_string().contains("rationale"), "{e}");
    // The wrong kind of batch for the notice.
    let mut ind = media_notice(&id, Authority::Batch(1));
    ind.kind = ObligationKind::Individual;
    ind.jurisdiction = None;
    // Counsel approves, with the hash reviewed; a wrong hash is refused first.
    let c = o.desk(ctx("counsel"));
    let e = c
        .approve_batch(&ApproveBatch {
            id: id.clone(),
            batch: 1,
            manifest_sha256: Some("00".repeat(32)),
        })
        .unwrap_err();
    assert!(matches!(e, crate::error::Error::Conflict(_)), "{e}");
    let a = c
        .approve_batch(&ApproveBatch {
            id: id.clone(),
            batch: 1,
            manifest_sha256: Some(b.manifest_sha256.clone()),
        })
        .unwrap();
    assert_eq!(a.approval.as_ref().unwrap().by, "counsel");
    let e = c
        .approve_batch(&ApproveBatch {
            id: id.clone(),
            batch: 1,
            manifest_sha256: None,
        })
        .unwrap_err();
    assert!(e.to_string().contains("already approved by counsel"), "{e}");
    let e = d.record_notice(&ind).unwrap_err();
    assert!(e.to_string().contains("not individual letters"), "{e}");
    let done = d
        .record_notice(&media_notice(&id, Authority::Batch(1)))
        .unwrap();
    assert_eq!(
        done.record.signoff,
        Some(crate::domain::notice::Signoff::Batch {
            number: 1,
            manifest_sha256: b.manifest_sha256.clone()
        })
    );
    // An override is recorded with its rationale (a second press release, told apart from
    // the first by its label).
    let mut second = media_notice(&id, Authority::Override("counsel mailed it herself".into()));
    second.batch = Some("second release".into());
    let done = d.record_notice(&second).unwrap();
    assert!(matches!(
        done.record.signoff,
        Some(crate::domain::notice::Signoff::Override { .. })
    ));
    // The toll-free line needs no batch.
    let mut toll = media_notice(&id, Authority::None);
    toll.kind = ObligationKind::TollFreeLine;
    toll.jurisdiction = None;
    toll.method = NoticeMethod::Phone;
    d.record_notice(&toll).unwrap();
    let log = d.audit_log(Some(&id)).unwrap();
    let approve = log
        .iter()
        .find(|e| e.entry.action == "letters.approve")
        .unwrap();
    assert_eq!(approve.entry.recorded.describe(), "tester for counsel");
    assert!(approve.entry.detail.contains(&b.manifest_sha256));
    assert!(approve.entry.detail.contains("approver=counsel"));
    assert!(d.verify(None, None).unwrap().report.intact());
}

/// Users: added, refused twice, role changes and disabling audited, the last privacy
/// officer kept, sign-in outcomes recorded.
#[test]
fn users_and_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    let d = o.desk(ctx("setup"));
    let pw = "violet tractor mirror quarry 42";
    d.add_user(&NewUser {
        name: "pat".into(),
        role: crate::domain::StaffRole::PrivacyOfficer,
        password: pw.into(),
    })
    .unwrap();
    d.add_user(&NewUser {
        name: "lee".into(),
        role: crate::domain::StaffRole::Analyst,
        password: pw.into(),
    })
    .unwrap();
    assert!(
        d.add_user(&NewUser {
            name: "lee".into(),
            role: crate::domain::StaffRole::Analyst,
            password: pw.into()
        })
        .is_err()
    );
    assert!(
        d.add_user(&NewUser {
            name: "kim".into(),
            role: crate::domain::StaffRole::Analyst,
            password: "password".into()
        })
        .is_err()
    );
    let e = d.change_user("pat", &UserChange::Disable).unwrap_err();
    assert!(e.to_string().contains("privacy officer must remain"), "{e}");
    d.change_user("lee", &UserChange::Role(crate::domain::StaffRole::Counsel))
        .unwrap();
    let sign = |name: &str, password: &str| {
        d.sign_in(&SignIn {
            name: name.into(),
            password: password.into(),
            source: "127.0.0.1".into(),
            lockout_after: 3,
            lockout_for: chrono::Duration::minutes(15),
        })
        .unwrap()
    };
    assert!(
        matches!(sign("lee", pw), LoginOutcome::SignedIn(u) if u.role == crate::domain::StaffRole::Counsel)
    );
    assert_eq!(sign("lee", "wrong one"), LoginOutcome::Failed);
    assert_eq!(sign("lee", "wrong two"), LoginOutcome::Failed);
    assert!(matches!(
        sign("lee", "wrong three"),
        LoginOutcome::Locked { .. }
    ));
    assert!(matches!(sign("lee", pw), LoginOutcome::Locked { .. }));
    d.change_user("lee", &UserChange::Disable).unwrap();
    d.change_user(
        "lee",
        &UserChange::ResetPassword("new violet tractor 77 mirror".into()),
    )
    .unwrap();
    assert_eq!(
        sign("lee", "new violet tractor 77 mirror"),
        LoginOutcome::Failed,
        "disabled"
    );
    assert_eq!(sign("nobody", pw), LoginOutcome::Failed);
    let log = d.audit_log(None).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    for a in [
        "user.add",
        "user.role",
        "user.login",
        "user.login_failed",
        "user.lockout",
        "user.disable",
        "user.reset_password",
        "access.login_failed",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        !log.iter()
            .any(|e| e.entry.detail.contains("wrong") || e.entry.subject.contains("nobody"))
    );
    assert!(d.verify(None, None).unwrap().report.intact());
}

/// The office's dashboard, brought up to date from the audit trail, is always what
/// `deadlines` computes from scratch.
#[test]
fn the_dashboard_follows_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let o = office(&dir);
    let a = new_incident(&o);
    let b = new_incident(&o);
    let cache = BoardCache::default();
    let same = |why: &str| {
        let d = o.desk(ctx("reader"));
        let dash = d.dashboard(&cache).unwrap();
        let fresh = d.deadlines(&DeadlineQuery::default()).unwrap();
        let key = |rows: &[DeadlineRow]| {
            rows.iter()
                .map(|r| {
                    (
                        r.incident.to_string(),
                        r.obligation.kind,
                        r.obligation.jurisdiction.clone(),
                        r.obligation.due,
                        status_text(&r.obligation.status),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&dash.board.rows), key(&fresh.rows), "{why}");
        assert_eq!(dash.board.overdue, fresh.overdue, "{why}");
        dash
    };
    let first = same("start");
    assert!(!first.board.rows.is_empty());
    o.desk(ctx("pat"))
        .record_notice(&NewNotice {
            id: a.clone(),
            kind: ObligationKind::Individual,
            jurisdiction: None,
            date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            method: NoticeMethod::Mail,
            count: 700,
            evidence_sha256: None,
            recipient: None,
            batch: None,
            expected: None,
            authority: Authority::Override("mailed by counsel".into()),
        })
        .unwrap();
    let after = same("after a notice");
    assert!(after.board.rows.len() < first.board.rows.len());
    o.desk(ctx("pat"))
        .close_incident(&CloseIncident {
            id: b.clone(),
            disposition: Disposition::Other,
            note: String::new(),
            force: None,
            expected: None,
        })
        .unwrap();
    let closed = same("after closing");
    // Closing never hides a duty: the closed incident's unmet obligations stay listed.
    assert!(
        closed
            .board
            .rows
            .iter()
            .any(|r| r.incident == b && r.status == crate::domain::IncidentStatus::Closed)
    );
    assert_eq!(
        closed
            .by_status
            .iter()
            .find(|(s, _)| *s == crate::domain::IncidentStatus::Closed)
            .unwrap()
            .1,
        1
    );
    o.desk(ctx("pat"))
        .update_org(&OrgUpdate {
            details: OrgDetails {
                time_zone: Some("Pacific/Honolulu".into()),
                ..OrgDetails::default()
            },
            ..OrgUpdate::default()
        })
        .unwrap();
    same("after an organization change");
    // Counsel's State laws move State duties: the board follows (Illinois's time for the
    // Attorney General's copy of the HHS notice lengthened).
    let il = d_laws_text(&o, "IL").replace(
        "days = 5\nfrom = \"hhs_notice\"",
        "days = 50\nfrom = \"hhs_notice\"",
    );
    assert_ne!(il, d_laws_text(&o, "IL"));
    let state_rows = |dash: &Dashboard| {
        dash.board
            .rows
            .iter()
            .filter(|r| r.obligation.jurisdiction.as_deref() == Some("IL"))
            .map(|r| {
                (
                    r.incident.to_string(),
                    r.obligation.recipient.clone(),
                    r.obligation.due,
                )
            })
            .collect::<Vec<_>>()
    };
    let before_laws = state_rows(&o.desk(ctx("reader")).dashboard(&cache).unwrap());
    o.desk(ctx("pat"))
        .set_laws(&LawsFile {
            name: "il.toml".into(),
            text: il,
        })
        .unwrap();
    let after_laws = state_rows(&same("after counsel's State laws"));
    assert_ne!(after_laws, before_laws);
    // Nothing changed: nothing is evaluated again.
    let d = o.desk(ctx("reader"));
    let n = cache.evaluations();
    d.dashboard(&cache).unwrap();
    d.dashboard(&cache).unwrap();
    assert_eq!(cache.evaluations(), n);
    // One incident changed: only it is evaluated again.
    o.desk(ctx("pat"))
        .add_note(&NewNote {
            id: a.clone(),
            text: "called the forensic firm".into(),
            at: None,
            author: None,
            expected: None,
        })
        .unwrap();
    let after_note = same("after a note");
    assert_eq!(cache.evaluations(), n + 1);
    // Windows of the board, page by page, are the whole board in order.
    let all = after_note.board.rows;
    assert_eq!(after_note.total, all.len());
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let w = d
            .dashboard_window(&cache, Window { offset, limit: 3 })
            .unwrap();
        assert_eq!(w.total, all.len());
        assert_eq!(
            w.board.overdue, after_note.board.overdue,
            "counts the whole board"
        );
        if w.board.rows.is_empty() {
            break;
        }
        offset += w.board.rows.len();
        paged.extend(w.board.rows);
    }
    let ids = |rows: &[DeadlineRow]| {
        rows.iter()
            .map(|r| {
                (
                    r.incident.to_string(),
                    r.obligation.kind,
                    r.obligation.jurisdiction.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&paged), ids(&all));
    assert_eq!(cache.evaluations(), n + 1, "paging evaluates nothing");
}
