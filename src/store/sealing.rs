//! What stays readable without the passphrase, chosen on purpose: a record (an incident, what
//! is kept beside it, the organization) is serialised to JSON and every string whose path is
//! not on the record's allowlist is moved into its *text*, a list of `(path, string)` sealed as
//! one value. The clear record keeps [`SEALED`] in its place (or `""` when it was empty), so
//! the rules engine, run on a locked record, sees the same emptiness and computes the same
//! dates and statuses; only the wording that quotes typed text differs.
//!
//! An allowlist, not a blocklist: a string field added later is sealed unless someone decides
//! it may be read without the key (IDs, dates, statuses, kinds, codes, citations), and the
//! tests below list what each record seals, field by field.
//!
//! Paths are JSON arrays of segments (object keys as strings, array indices as numbers), so
//! no key spelling is ambiguous; an allowlist pattern is written `a.b.[].c`, where `[]`
//! matches any array index and `*` any object key.
//!
//! Text encoding (before sealing): JSON `[[path, string], …]` in the record's own order.

use serde_json::Value;

use crate::error::{Error, Result};

/// What a sealed string reads as in the clear record, and so in every view without the key.
pub const SEALED: &str = super::phi::LOCKED_TEXT;

/// Strings of an incident record (`incidents_v1`) readable without the key.
pub const INCIDENT_CLEAR: &[&str] = &[
    "id",
    "created",
    "updated",
    "status",
    "disposition",
    "facts.breach.start",
    "facts.breach.end",
    "facts.breach.discovered",
    "facts.breach.types.[]",
    "facts.breach.locations.[]",
    "facts.breach.phi.[]",
    "facts.business_associate.relationship",
    "facts.business_associate.discovered",
    "facts.business_associate.notified_ce",
    "facts.security.device_state",
    "facts.security.destruction",
    "facts.assessment.nature.sensitive.[]",
    "facts.assessment.recipient.kind",
    "facts.assessment.acquired.status",
    "facts.assessment.mitigation.status",
    "facts.assessment.extra.[].rating",
    "facts.law_enforcement.[].kind",
    "facts.law_enforcement.[].date",
    "facts.law_enforcement.[].until",
    "facts.state_law.determined",
    "facts.state_law.elements.[]",
    "facts.state_law.harm.outcome",
    "facts.state_law.harm.date",
    "facts.state_law.harm.states.[]",
    "facts.discovery_events.[].date",
    "facts.discovery_events.[].who",
    "facts.discovery_events.[].kind",
    "facts.organization.role",
    "facts.notice.credit_monitoring.enroll_by",
    "timeline.[].at",
    "notices.[].kind",
    "notices.[].jurisdiction",
    "notices.[].recipient",
    "notices.[].date",
    "notices.[].method",
    "notices.[].evidence_sha256",
];

/// Strings of what is kept beside an incident (`assessments_v1`) readable without the key:
/// the determination's class, ratings, route and citations, and the obligations' kinds,
/// jurisdictions, dates and statuses (their notes and reasons can quote typed text).
pub const DERIVED_CLEAR: &[&str] = &[
    "assessment.engine.class",
    "assessment.engine.reasons.[].cite",
    "assessment.engine.factors.[].rating",
    "assessment.engine.factors.[].cite",
    "assessment.engine.route",
    "assessment.engine.defeated.[].cite",
    "assessment.override_class",
    "assessment.assessed_at",
    "obligations.[].kind",
    "obligations.[].jurisdiction",
    "obligations.[].due",
    "obligations.[].original_due",
    "obligations.[].window_end",
    "obligations.[].cite",
    "obligations.[].status.key",
    "obligations.[].status.on",
    "obligations.[].recipient",
    "obligations.[].effective",
    "obligations.[].source",
    "changed_at",
    "exercise.scenario_id",
    "exercise.decisions.[].determination",
    "exercise.decisions.[].notices.[].kind",
    "exercise.decisions.[].notices.[].jurisdiction",
    "exercise.decisions.[].notices.[].due",
];

/// Strings of the organization record (`meta_v1.org`) readable without the key: everything
/// printed on a public notice or needed for deadlines. The privacy officer is a person's name.
pub const ORG_CLEAR: &[&str] = &[
    "legal_name",
    "role",
    "entity_type",
    "serves.[]",
    "address",
    "toll_free",
    "email",
    "website",
    "postal_address",
    "time_zone",
    "le_policy",
    "business_days",
];

/// A record's sealed strings, by path.
pub type Text = Vec<(Vec<Value>, String)>;

fn allowed(path: &[Value], allow: &[&str]) -> bool {
    allow.iter().any(|p| {
        let mut segs = p.split('.');
        let mut n = 0;
        let all = path.iter().all(|seg| {
            n += 1;
            match (segs.next(), seg) {
                (Some("[]"), Value::Number(_)) => true,
                (Some("*"), Value::String(_)) => true,
                (Some(s), Value::String(k)) => s == k,
                _ => false,
            }
        });
        all && segs.next().is_none() && n == path.len()
    })
}

fn walk(v: &mut Value, path: &mut Vec<Value>, allow: &[&str], out: &mut Text) {
    match v {
        Value::String(s) if !allowed(path, allow) && !s.is_empty() => {
            out.push((path.clone(), std::mem::replace(s, SEALED.to_string())));
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                path.push(Value::from(i));
                walk(x, path, allow, out);
                path.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                path.push(Value::String(k.clone()));
                walk(x, path, allow, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Splits a record into its clear part (sealed strings replaced by [`SEALED`]) and its text.
pub fn split(mut v: Value, allow: &[&str]) -> (Value, Text) {
    let mut out = Vec::new();
    walk(&mut v, &mut Vec::new(), allow, &mut out);
    (v, out)
}

/// An incident's facts with every typed string masked as it is stored in the clear part
/// ([`SEALED`]; empty strings stay empty): what a recorded determination keeps as its inputs
/// (`determinations_v1` is not sealed), so the same with the key or without it. `None` only
/// if the masked facts no longer decode (the allowlist tests rule that out).
pub fn masked_facts(f: &crate::domain::Facts) -> Option<crate::domain::Facts> {
    let mut m = serde_json::Map::new();
    m.insert("facts".into(), serde_json::to_value(f).ok()?);
    let (clear, _) = split(Value::Object(m), INCIDENT_CLEAR);
    serde_json::from_value(clear.get("facts")?.clone()).ok()
}

/// Puts a record's text back into its clear part.
pub fn join(v: &mut Value, text: Text) -> Result<()> {
    for (path, s) in text {
        let mut at = &mut *v;
        for seg in &path {
            let next = match (at, seg) {
                (Value::Object(m), Value::String(k)) => m.get_mut(k),
                (Value::Array(a), Value::Number(i)) => {
                    i.as_u64().and_then(|i| a.get_mut(usize::try_from(i).ok()?))
                }
                _ => None,
            };
            at = next.ok_or_else(misfit)?;
        }
        match at {
            Value::String(slot) => *slot = s,
            _ => return Err(misfit()),
        }
    }
    Ok(())
}

fn misfit() -> Error {
    Error::Database(
        "a record's sealed text does not fit the record: run `breachdesk audit verify`".into(),
    )
}

/// The strings of a stored clear record that should be sealed and are not (neither empty nor
/// [`SEALED`]): a record written by an older release, or a value put there from outside.
pub fn unsealed_paths(v: &Value, allow: &[&str]) -> Vec<String> {
    let (_, text) = split(v.clone(), allow);
    text.into_iter()
        .filter(|(_, s)| s != SEALED)
        .map(|(p, _)| describe(&p))
        .collect()
}

/// `facts.breach.safeguards[0]`: a path for people (field names only, never values).
pub fn describe(path: &[Value]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Value::Number(n) => s.push_str(&format!("[{n}]")),
            Value::String(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            _ => {}
        }
    }
    s
}

/// The text as the bytes that are sealed.
pub fn encode(text: &Text) -> Result<Vec<u8>> {
    let v: Vec<Value> = text
        .iter()
        .map(|(p, s)| Value::Array(vec![Value::Array(p.clone()), Value::String(s.clone())]))
        .collect();
    serde_json::to_vec(&v).map_err(|e| Error::Storage(format!("cannot encode sealed text: {e}")))
}

pub fn decode(bytes: &[u8]) -> Result<Text> {
    let v: Vec<(Vec<Value>, String)> = serde_json::from_slice(bytes).map_err(|_| {
        Error::Database(
            "a record's sealed text cannot be decoded: run `breachdesk audit verify`".into(),
        )
    })?;
    Ok(v)
}

/// A record's clear part with every sealed string replaced (for a record written by an older
/// release, shown without the key).
pub fn mask(v: Value, allow: &[&str]) -> Value {
    split(v, allow).0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::vocab::*;
    use crate::domain::*;
    use crate::store::records::*;

    fn full_incident() -> Incident {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let c = |n: &str| format!("CANARY-{n}");
        let mut f = Facts {
            title: c("title"),
            ..Facts::default()
        };
        f.breach = BreachFacts {
            start: Some(d("2026-01-01")),
            end: Some(d("2026-01-02")),
            discovered: Some(d("2026-01-03")),
            discovery_method: c("method"),
            reported_by: c("reporter"),
            types: vec![BreachType::Theft],
            locations: vec![Location::Laptop],
            phi: vec![DataElement::Name],
            safeguards: vec![c("safeguard")],
            actions: vec![c("action")],
            narrative: c("narrative"),
            public_summary: c("summary"),
        };
        f.individuals.by_state.insert("CA".into(), 3);
        f.notice = NoticeFacts {
            investigate: c("investigate"),
            mitigate: c("mitigate"),
            prevent: c("prevent"),
            credit_monitoring: Some(CreditMonitoring {
                provider: c("cm-provider"),
                enrollment_url: c("cm-url"),
                enroll_by: Some(d("2026-03-01")),
                months: Some(24),
            }),
        };
        f.business_associate = BaFacts {
            involved: true,
            name: c("ba"),
            address: c("ba-address"),
            relationship: Some(BaRelationship::Agent),
            discovered: Some(d("2026-01-03")),
            notified_ce: Some(d("2026-01-04")),
        };
        f.security = SecurityFacts {
            encrypted: true,
            encryption_method: c("encryption"),
            key_compromised: false,
            device_state: Some(DeviceState::Off),
            destruction: Some(DestructionMethod::PaperShredded),
        };
        f.exceptions = ExceptionFacts {
            workforce_good_faith: Some(WorkforceException {
                rationale: c("wf"),
                ..Default::default()
            }),
            authorized_to_authorized: Some(AuthorizedException {
                rationale: c("auth"),
                ..Default::default()
            }),
            could_not_retain: Some(RetainException {
                good_faith_belief: true,
                basis: c("retain"),
            }),
        };
        f.assessment.nature.sensitive = vec![SensitiveCategory::MentalHealth];
        f.assessment.nature.rationale = c("nature");
        f.assessment.recipient = RecipientFactor {
            kind: Some(RecipientKind::UnknownPerson),
            rationale: c("recipient"),
        };
        f.assessment.acquired = AcquiredFactor {
            status: Some(AcquisitionStatus::Viewed),
            rationale: c("acquired"),
        };
        f.assessment.mitigation = MitigationFactor {
            status: Some(MitigationStatus::Partial),
            rationale: c("mitigation"),
        };
        f.assessment.extra = vec![ExtraFactor {
            name: c("extra-name"),
            rating: Rating::High,
            rationale: c("extra"),
        }];
        f.law_enforcement = vec![LawEnforcementStatement {
            kind: StatementKind::Oral,
            date: d("2026-01-05"),
            until: Some(d("2026-01-20")),
            agency: c("agency"),
            official: c("official"),
        }];
        f.state_law = StateLawFacts {
            determined: Some(d("2026-01-06")),
            elements: vec![PiElement::Biometric],
            harm: Some(HarmDetermination {
                outcome: HarmOutcome::Likely,
                date: d("2026-01-06"),
                states: vec!["CA".into()],
                basis: c("harm"),
            }),
        };
        f.discovery_events = vec![DiscoveryEvent {
            date: d("2026-01-03"),
            who: DiscoveryWho::Agent,
            kind: DiscoveryKind::Learned,
            description: c("event"),
        }];
        f.organization.role = Some(Role::CoveredEntity);
        Incident {
            id: IncidentId::new(2026, 1),
            created: t("2026-01-03T10:00:00Z"),
            updated: t("2026-01-03T10:00:00Z"),
            status: IncidentStatus::Closed,
            disposition: Some(incident::Disposition::Other),
            disposition_note: c("close-note"),
            close_rationale: Some(c("close-rationale")),
            exercise: false,
            facts: f,
            timeline: vec![TimelineEntry {
                at: t("2026-01-04T10:00:00Z"),
                author: c("author"),
                text: c("note"),
            }],
            notices: vec![NoticeRecord {
                kind: ObligationKind::Media,
                jurisdiction: Some("CA".into()),
                recipient: Some("ag".into()),
                signoff: Some(crate::domain::notice::Signoff::Override {
                    rationale: c("signoff-rationale"),
                }),
                date: d("2026-01-07"),
                method: NoticeMethod::Mail,
                count: 1,
                evidence_sha256: Some("ab".into()),
                batch: Some(c("batch")),
            }],
        }
    }

    fn sealed_paths(text: &Text) -> Vec<String> {
        text.iter().map(|(p, _)| describe(p)).collect()
    }

    /// Every free-text field of an incident is sealed, and the clear part still decodes (every
    /// enumeration, date and code is on the allowlist): the list is the documentation.
    #[test]
    fn an_incident_seals_every_free_text_field() {
        let inc = full_incident();
        let (clear, text) = split(serde_json::to_value(&inc).unwrap(), INCIDENT_CLEAR);
        // The order of a JSON object's keys depends on serde_json's features: compare sets.
        let mut paths = sealed_paths(&text);
        paths.sort();
        let mut expected = vec![
            "disposition_note",
            "close_rationale",
            "facts.title",
            "facts.breach.discovery_method",
            "facts.breach.reported_by",
            "facts.breach.safeguards[0]",
            "facts.breach.actions[0]",
            "facts.breach.narrative",
            "facts.breach.public_summary",
            "facts.business_associate.name",
            "facts.business_associate.address",
            "facts.notice.investigate",
            "facts.notice.mitigate",
            "facts.notice.prevent",
            "facts.notice.credit_monitoring.provider",
            "facts.notice.credit_monitoring.enrollment_url",
            "facts.security.encryption_method",
            "facts.exceptions.workforce_good_faith.rationale",
            "facts.exceptions.authorized_to_authorized.rationale",
            "facts.exceptions.could_not_retain.basis",
            "facts.assessment.nature.rationale",
            "facts.assessment.recipient.rationale",
            "facts.assessment.acquired.rationale",
            "facts.assessment.mitigation.rationale",
            "facts.assessment.extra[0].name",
            "facts.assessment.extra[0].rationale",
            "facts.law_enforcement[0].agency",
            "facts.law_enforcement[0].official",
            "facts.state_law.harm.basis",
            "facts.discovery_events[0].description",
            "timeline[0].author",
            "timeline[0].text",
            "notices[0].batch",
            "notices[0].signoff.override.rationale",
        ];
        expected.sort();
        assert_eq!(paths, expected);
        let s = serde_json::to_string(&clear).unwrap();
        assert!(!s.contains("CANARY"), "{s}");
        let locked: Incident = serde_json::from_value(clear.clone()).unwrap();
        assert_eq!(locked.facts.title, SEALED);
        assert_eq!(locked.facts.breach.types, inc.facts.breach.types);
        let mut back = clear;
        join(&mut back, decode(&encode(&text).unwrap()).unwrap()).unwrap();
        assert_eq!(serde_json::from_value::<Incident>(back).unwrap(), inc);
    }

    #[test]
    fn empty_strings_stay_empty_so_the_engine_sees_the_same_facts() {
        let mut inc = full_incident();
        inc.facts.law_enforcement[0].official.clear();
        let (clear, text) = split(serde_json::to_value(&inc).unwrap(), INCIDENT_CLEAR);
        let locked: Incident = serde_json::from_value(clear).unwrap();
        assert_eq!(locked.facts.law_enforcement[0].official, "");
        assert_eq!(locked.facts.law_enforcement[0].agency, SEALED);
        assert!(!sealed_paths(&text).contains(&"facts.law_enforcement[0].official".into()));
    }

    #[test]
    fn derived_records_seal_every_text_that_can_quote_typed_text() {
        let r = DerivedRecord {
            assessment: Some(AssessmentRecord {
                engine: DeterminationRecord {
                    class: ClassRecord::Breach,
                    reasons: vec![ReasonRecord {
                        text: "CANARY".into(),
                        cite: "c".into(),
                    }],
                    factors: vec![FactorRecord {
                        factor: "CANARY".into(),
                        name: "CANARY".into(),
                        rating: Rating::Low,
                        rationale: "CANARY".into(),
                        cite: "c".into(),
                    }],
                    route: Some(RouteRecord::R1),
                    defeated: vec![ReasonRecord {
                        text: "CANARY".into(),
                        cite: "c".into(),
                    }],
                },
                override_class: Some(ClassRecord::Breach),
                rationale: "CANARY".into(),
                assessed_by: "CANARY".into(),
                assessed_at: chrono::Utc::now(),
            }),
            obligations: vec![ObligationRecord {
                kind: ObligationKind::Media,
                jurisdiction: Some("CA".into()),
                due: None,
                original_due: None,
                window_end: None,
                cite: "c".into(),
                policy: Some("CANARY".into()),
                status: StatusRecord::NotRequired {
                    reason: "CANARY".into(),
                },
                days_remaining: None,
                days_elapsed: None,
                required_count: None,
                sent_count: 0,
                note: "CANARY".into(),
                recipient: Some("ag".into()),
                verified: Some(true),
                effective: Some(chrono::NaiveDate::MIN),
                source: Some("s".into()),
            }],
            changes: vec!["CANARY".into()],
            changed_at: Some(chrono::Utc::now()),
            exercise: Some(ExerciseRecord {
                scenario_id: "s".into(),
                scenario_text: "CANARY".into(),
                stage: 0,
                decisions: vec![DecisionRecord {
                    stage: 0,
                    determination: Some(ClassRecord::Breach),
                    notices: vec![DecidedNoticeRecord {
                        kind: ObligationKind::Media,
                        jurisdiction: Some("CA".into()),
                        due: Some(chrono::NaiveDate::MIN),
                    }],
                    note: "CANARY".into(),
                }],
                notes: vec![(0, "CANARY".into())],
            }),
        };
        let canaries = serde_json::to_string(&r).unwrap().matches("CANARY").count();
        let (clear, text) = split(serde_json::to_value(&r).unwrap(), DERIVED_CLEAR);
        assert!(!serde_json::to_string(&clear).unwrap().contains("CANARY"));
        assert!(text.iter().all(|(_, s)| s == "CANARY"));
        assert_eq!(text.len(), canaries);
        assert_eq!(canaries, 14);
        let locked: DerivedRecord = serde_json::from_value(clear.clone()).unwrap();
        assert_eq!(locked.obligations[0].kind, ObligationKind::Media);
        let mut back = clear;
        join(&mut back, text).unwrap();
        assert_eq!(serde_json::from_value::<DerivedRecord>(back).unwrap(), r);
    }

    #[test]
    fn the_organization_seals_its_privacy_officer() {
        let o = Organization {
            legal_name: "L".into(),
            role: Role::CoveredEntity,
            entity_type: EntityType::HealthPlan,
            serves: vec!["x".into()],
            address: "a".into(),
            privacy_officer: "CANARY".into(),
            toll_free: "t".into(),
            email: "e".into(),
            website: "w".into(),
            postal_address: "p".into(),
            time_zone: "UTC".into(),
            le_policy: LePolicy::LaterOf,
            business_days: crate::domain::BusinessDays::FederalHolidays,
            weak_passphrase: false,
        };
        let (clear, text) = split(serde_json::to_value(&o).unwrap(), ORG_CLEAR);
        assert_eq!(sealed_paths(&text), ["privacy_officer"]);
        let locked: Organization = serde_json::from_value(clear).unwrap();
        assert_eq!(locked.legal_name, "L");
    }

    #[test]
    fn a_misfit_text_is_an_error_never_a_panic() {
        let mut v = serde_json::json!({"a": [1]});
        for path in [
            vec![Value::from("b")],
            vec![Value::from("a"), Value::from(5)],
            vec![Value::from("a"), Value::from(0)],
        ] {
            assert!(join(&mut v, vec![(path, "x".into())]).is_err());
        }
        assert!(decode(b"[1]").is_err());
    }
}
