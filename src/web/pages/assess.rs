//! The guided assessment: the terminal interview's six screens (safe harbor, the three
//! exceptions, the four factors of 164.402(2)) as one form. Every question can be answered
//! "unknown"; an unknown answer never helps a not-a-breach result (it counts as the answer
//! that keeps the presumption of breach, and an unknown factor rates unknown). Before a
//! not-a-breach result is recorded the form shows it and asks for a rationale and a
//! confirmation. Counsel's override is its own form and route.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tower_sessions::Session;

use super::incidents::{parse_id, tri};
use super::widgets::incident_header;
use crate::desk::{AssessRequest, AssessmentAnswers, Override};
use crate::domain::vocab::{DestructionMethod, DeviceState, RecipientKind, SensitiveCategory};
use crate::domain::{
    AcquisitionStatus, AuthorizedException, Incident, MitigationStatus, Permission,
    RetainException, WorkforceException,
};
use crate::error::Error;
use crate::rules::{Determination, DeterminationClass};
use crate::web::auth::flash;
use crate::web::forms::{Fields, expected_revision};
use crate::web::page::{WebError, csrf_field, error_box, page, see_other};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

const ACQ: &[(AcquisitionStatus, &str, &str)] = &[
    (
        AcquisitionStatus::NotAcquiredEvidence,
        "not_acquired_evidence",
        "Not acquired or viewed, and evidence shows it (e.g. forensics on a recovered device)",
    ),
    (
        AcquisitionStatus::NotAcquiredNoEvidence,
        "not_acquired_no_evidence",
        "Believed not acquired or viewed, without evidence",
    ),
    (
        AcquisitionStatus::Acquired,
        "acquired",
        "Acquired (e.g. ransomware took control), not shown to be viewed",
    ),
    (
        AcquisitionStatus::Viewed,
        "viewed",
        "Viewed (e.g. mail opened by the wrong person)",
    ),
    (
        AcquisitionStatus::Exfiltrated,
        "exfiltrated",
        "Copied out (exfiltrated)",
    ),
    (AcquisitionStatus::Unknown, "unknown", "Unknown"),
];

const MIT: &[(MitigationStatus, &str, &str)] = &[
    (
        MitigationStatus::AttestedDestruction,
        "attested_destruction",
        "Signed attestation of destruction or non-use from a trustworthy recipient",
    ),
    (
        MitigationStatus::Returned,
        "returned",
        "Recovered or returned intact",
    ),
    (
        MitigationStatus::RemoteWiped,
        "remote_wiped",
        "Device remotely wiped before access could occur",
    ),
    (
        MitigationStatus::Partial,
        "partial",
        "Some mitigation, not complete",
    ),
    (
        MitigationStatus::None,
        "none",
        "No mitigation possible or done",
    ),
    (MitigationStatus::Unknown, "unknown", "Unknown"),
];

fn radios<T: Copy + PartialEq>(
    name: &str,
    legend: &str,
    options: &[(T, &str, &str)],
    chosen: Option<T>,
) -> Markup {
    html! {
        fieldset.choices {
            legend { (legend) }
            @for (v, key, label) in options {
                label { input type="radio" name=(name) value=(key) checked[chosen == Some(*v)]; " " (label) }
            }
        }
    }
}

fn select<T: Copy + PartialEq>(
    name: &str,
    label: &str,
    all: &[T],
    chosen: Option<T>,
    key: impl Fn(T) -> &'static str,
    text: impl Fn(T) -> &'static str,
) -> Markup {
    html! {
        label for=(name) { (label) }
        select id=(name) name=(name) {
            option value="unknown" selected[chosen.is_none()] { "Unknown / not answered" }
            @for v in all {
                option value=(key(*v)) selected[chosen == Some(*v)] { (text(*v)) }
            }
        }
    }
}

fn rationale(name: &str, label: &str, value: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        textarea id=(name) name=(name) rows="2" { (value) }
    }
}

/// The six screens, prefilled from the answers on record.
fn questions(a: &AssessmentAnswers) -> Markup {
    let s = &a.security;
    let ex = &a.exceptions;
    let n = &a.assessment.nature;
    let w = ex.workforce_good_faith.clone().unwrap_or_default();
    let x = ex.authorized_to_authorized.clone().unwrap_or_default();
    let r = ex.could_not_retain.clone().unwrap_or_default();
    let ans = |set: bool, v: bool| if set { Some(v) } else { None };
    html! {
        fieldset.screen {
            legend { "1/6  Was the PHI secured? " span.cite { "(74 FR 19006; safe harbor)" } }
            (tri("encrypted", "Was the data encrypted consistent with HHS guidance (NIST SP 800-111 at rest, FIPS 140-2 in motion)?", Some(s.encrypted).filter(|e| *e)))
            (tri("key_compromised", "If encrypted: was the key or password compromised, or kept with the data?", s.encrypted.then_some(s.key_compromised)))
            (select("device_state", "If encrypted: what state was the device in when it happened?", DeviceState::ALL, s.device_state, |d| d.key(), |d| d.label()))
            (tri("disposal", "Does the incident concern disposal of paper or media?", s.destruction.map(|_| true)))
            (select("destruction", "If disposal: how were they destroyed?", DestructionMethod::ALL, s.destruction, |d| d.key(), |d| d.label()))
        }
        fieldset.screen {
            legend { "2/6  Does a statutory exception apply? " span.cite { "(164.402(1))" } }
            (tri("ex1", "(i) Was it an unintentional access or use by a workforce member or person acting under your authority?", ex.workforce_good_faith.as_ref().map(|_| true)))
            (tri("ex1_good_faith", "  Was it made in good faith? (Looking without a job need is never good faith.)", ans(ex.workforce_good_faith.is_some(), w.good_faith)))
            (tri("ex1_scope", "  Was it within the scope of the person's authority?", ans(ex.workforce_good_faith.is_some(), w.within_scope)))
            (tri("ex1_further", "  Was the PHI further used or disclosed in a way the Privacy Rule does not permit?", ans(ex.workforce_good_faith.is_some(), w.further_disclosure)))
            (rationale("ex1_rationale", "  Rationale", &w.rationale))
            (tri("ex2", "(ii) Was it an inadvertent disclosure between two people authorized at your organization (or its OHCA)?", ex.authorized_to_authorized.as_ref().map(|_| true)))
            (tri("ex2_same", "  Is the recipient authorized to access PHI at the same entity or OHCA?", ans(ex.authorized_to_authorized.is_some(), x.recipient_authorized_same_entity)))
            (tri("ex2_further", "  Was the PHI further used or disclosed impermissibly?", ans(ex.authorized_to_authorized.is_some(), x.further_disclosure)))
            (rationale("ex2_rationale", "  Rationale", &x.rationale))
            (tri("ex3", "(iii) Do you believe in good faith that the recipient could not reasonably have retained the PHI?", ex.could_not_retain.as_ref().map(|_| true)))
            (rationale("ex3_basis", "  What supports that belief (e.g. mail returned unopened)?", &r.basis))
        }
        fieldset.screen {
            legend { "3/6  Factor (i): nature and extent of the PHI " span.cite { "(164.402(2)(i))" } }
            (tri("direct_identifiers", "Were direct identifiers involved (name, address, SSN, MRN, member ID)?", ans(n.answered, n.direct_identifiers)))
            (tri("financial", "Were SSN, driver's licence, or financial/account data involved?", ans(n.answered, n.financial)))
            (tri("clinical", "Was clinical detail involved (diagnoses, medications, results)?", ans(n.answered, n.clinical)))
            (select("sensitive", "Especially sensitive categories involved (the most sensitive)", SensitiveCategory::ALL, n.sensitive.first().copied(), |c| c.key(), |c| c.label()))
            (tri("no_sensitive", "Can you rule out every especially sensitive category?", (n.answered && n.sensitive.is_empty()).then_some(true)))
            (tri("reidentifiable", "Without direct identifiers: could the data plausibly be re-identified?", ans(n.answered, n.reidentifiable)))
            (rationale("nature_rationale", "Rationale", &n.rationale))
        }
        fieldset.screen {
            legend { "4/6  Factor (ii): the unauthorized person " span.cite { "(164.402(2)(ii))" } }
            (select("recipient", "Who used or received the PHI?", RecipientKind::ALL, a.assessment.recipient.kind, |k| k.key(), |k| k.label()))
            (rationale("recipient_rationale", "Rationale", &a.assessment.recipient.rationale))
        }
        fieldset.screen {
            legend { "5/6  Factor (iii): was the PHI actually acquired or viewed? " span.cite { "(164.402(2)(iii))" } }
            (radios("acquired", "What do you know?", ACQ, a.assessment.acquired.status))
            (rationale("acquired_rationale", "Rationale (e.g. forensic report reference)", &a.assessment.acquired.rationale))
        }
        fieldset.screen {
            legend { "6/6  Factor (iv): how far has the risk been mitigated? " span.cite { "(164.402(2)(iv))" } }
            (radios("mitigation", "What mitigation is in place?", MIT, a.assessment.mitigation.status))
            (rationale("mitigation_rationale", "Rationale", &a.assessment.mitigation.rationale))
        }
    }
}

/// The form's answers. An unknown answer is recorded as the one that does not help a
/// not-a-breach result: not encrypted; key compromised; an exception's element not met;
/// factor (i) left unanswered (so rated unknown, which rules out a low probability) while
/// any of its questions is unknown.
pub fn answers(f: &Fields, base: &AssessmentAnswers) -> Result<AssessmentAnswers, Error> {
    let mut a = base.clone();
    let s = &mut a.security;
    s.encrypted = f.tri("encrypted") == Some(true);
    s.key_compromised = s.encrypted && f.tri("key_compromised") != Some(false);
    s.device_state = if s.encrypted {
        Some(
            f.pick("device_state", "Device state", DeviceState::ALL, |d| {
                d.key()
            })?
            .unwrap_or(DeviceState::Unknown),
        )
    } else {
        None
    };
    s.destruction = if f.tri("disposal") == Some(true) {
        Some(
            f.pick(
                "destruction",
                "How they were destroyed",
                DestructionMethod::ALL,
                |d| d.key(),
            )?
            .unwrap_or(DestructionMethod::NotDestroyed),
        )
    } else {
        None
    };
    let ex = &mut a.exceptions;
    ex.workforce_good_faith = (f.tri("ex1") == Some(true)).then(|| WorkforceException {
        under_authority: true,
        good_faith: f.tri("ex1_good_faith") == Some(true),
        within_scope: f.tri("ex1_scope") == Some(true),
        further_disclosure: f.tri("ex1_further") != Some(false),
        rationale: f.text("ex1_rationale").trim().to_string(),
    });
    ex.authorized_to_authorized = (f.tri("ex2") == Some(true)).then(|| AuthorizedException {
        discloser_authorized: true,
        inadvertent: true,
        recipient_authorized_same_entity: f.tri("ex2_same") == Some(true),
        further_disclosure: f.tri("ex2_further") != Some(false),
        rationale: f.text("ex2_rationale").trim().to_string(),
    });
    ex.could_not_retain = (f.tri("ex3") == Some(true)).then(|| RetainException {
        good_faith_belief: true,
        basis: f.text("ex3_basis").trim().to_string(),
    });
    let asm = &mut a.assessment;
    let nature_answers = [
        f.tri("direct_identifiers"),
        f.tri("financial"),
        f.tri("clinical"),
        f.tri("reidentifiable"),
    ];
    let sensitive = f.pick(
        "sensitive",
        "Sensitive category",
        SensitiveCategory::ALL,
        |c| c.key(),
    )?;
    let sensitive_ruled_out = f.tri("no_sensitive") == Some(true);
    let n = &mut asm.nature;
    // Re-identification is asked only without direct identifiers (as in the interview).
    let needed = if nature_answers[0] == Some(false) {
        4
    } else {
        3
    };
    n.answered = nature_answers[..needed].iter().all(Option::is_some)
        && (sensitive.is_some() || sensitive_ruled_out);
    n.direct_identifiers = nature_answers[0] != Some(false);
    n.financial = nature_answers[1] != Some(false);
    n.clinical = nature_answers[2] != Some(false);
    n.reidentifiable = nature_answers[3] != Some(false);
    n.sensitive = sensitive.into_iter().collect();
    n.rationale = f.text("nature_rationale").trim().to_string();
    asm.recipient.kind = f.pick(
        "recipient",
        "Who received the PHI",
        RecipientKind::ALL,
        |k| k.key(),
    )?;
    asm.recipient.rationale = f.text("recipient_rationale").trim().to_string();
    asm.acquired.status = match f.opt("acquired") {
        None => None,
        Some(k) => Some(
            ACQ.iter()
                .find(|(_, key, _)| *key == k)
                .map(|(v, _, _)| *v)
                .ok_or_else(|| Error::invalid("Factor (iii): choose one of the listed answers"))?,
        ),
    };
    asm.acquired.rationale = f.text("acquired_rationale").trim().to_string();
    asm.mitigation.status = match f.opt("mitigation") {
        None => None,
        Some(k) => Some(
            MIT.iter()
                .find(|(_, key, _)| *key == k)
                .map(|(v, _, _)| *v)
                .ok_or_else(|| Error::invalid("Factor (iv): choose one of the listed answers"))?,
        ),
    };
    asm.mitigation.rationale = f.text("mitigation_rationale").trim().to_string();
    Ok(a)
}

fn assess_form(
    user: &CurrentUser,
    inc: &Incident,
    revision: &str,
    a: &AssessmentAnswers,
    preview: Option<&Determination>,
    error: Option<&str>,
) -> Markup {
    let id = inc.id.as_str();
    let not_breach = preview.is_some_and(|d| d.class != DeterminationClass::Breach);
    html! {
        (incident_header(inc, user))
        h2 { "Breach determination (164.402)" }
        p { "The same questions as " code { "breachdesk assess" } ". Evaluated in order; the first step that decides, decides. “Unknown” is always an answer; it never counts toward “not a breach”." }
        (error_box(error))
        @if let Some(d) = preview {
            div class=(if not_breach { "confirm" } else { "flash" }) role="status" {
                p { "With these answers the engine finds: " strong { (d.class.label()) } " [" (d.class.cite()) "]" }
                @if let Some(r) = d.decisive() { p.small { (r.text) " [" (r.cite) "]" } }
            }
        }
        form.stack method="post" action={"/incidents/" (id) "/assess"} {
            (csrf_field(user))
            input type="hidden" name="revision" value=(revision);
            (questions(a))
            @if not_breach {
                fieldset.screen {
                    legend { "Confirm a not-a-breach result" }
                    label for="conclusion" { "Rationale: why the facts support this result (kept on record, no PHI)" }
                    textarea id="conclusion" name="conclusion" rows="3" required {}
                    label { input type="checkbox" name="confirm" value="yes"; " I confirm this determination; it will be recorded in the audit trail (164.414(b): we carry the burden of proof)." }
                }
            }
            button type="submit" { (if not_breach { "Record this determination" } else { "Check and record" }) }
        }
        @if user.role.may(Permission::OverrideDetermination) {
            section.override {
                h2 { "Override the engine (counsel)" }
                p.small { "Both results stay on record; the rationale is required." }
                form.stack method="post" action={"/incidents/" (id) "/override"} {
                    (csrf_field(user))
                    input type="hidden" name="revision" value=(revision);
                    label for="class" { "Determination" }
                    select id="class" name="class" {
                        @for c in DeterminationClass::ALL { option value=(c.key()) { (c.label()) } }
                    }
                    label for="override_rationale" { "Rationale (no PHI)" }
                    textarea id="override_rationale" name="rationale" rows="3" required {}
                    button type="submit" { "Record override" }
                }
            }
        }
    }
}

pub async fn form(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let (inc, revision) = state.desk(&user, move |d| d.incident_for_form(&id)).await?;
    let a = AssessmentAnswers::of(&inc.facts);
    let revision = revision.to_string();
    Ok(page(
        "Assess",
        &user,
        assess_form(&user, &inc, &revision, &a, None, None),
    )
    .into_response())
}

pub async fn record(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    let rid = id.clone();
    let inc = state.desk(&user, move |d| d.incident_record(&rid)).await?;
    // The version of the incident the form was filled in on: a change since is a conflict.
    let revision = f.get("revision").to_string();
    let expected = Some(expected_revision(&revision)?);
    let base = AssessmentAnswers::of(&inc.facts);
    let a = match answers(&f, &base) {
        Ok(a) => a,
        Err(e) => {
            let body = assess_form(&user, &inc, &revision, &base, None, Some(&e.to_string()));
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page("Assess", &user, body),
            )
                .into_response());
        }
    };
    let (pid, pa) = (id.clone(), a.clone());
    let preview = match state
        .desk(&user, move |d| d.preview_assessment(&pid, &pa))
        .await
    {
        Ok(p) => p,
        Err(Error::Invalid(m)) => {
            let body = assess_form(&user, &inc, &revision, &a, None, Some(&m));
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page("Assess", &user, body),
            )
                .into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let conclusion = f.text("conclusion").trim().to_string();
    if preview.class != DeterminationClass::Breach
        && (f.get("confirm") != "yes" || conclusion.is_empty())
    {
        let msg = (f.has("conclusion") || f.has("confirm"))
            .then_some("a not-a-breach result needs a rationale and your confirmation");
        let body = assess_form(&user, &inc, &revision, &a, Some(&preview), msg);
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Confirm the determination", &user, body),
        )
            .into_response());
    }
    let req = AssessRequest {
        id: id.clone(),
        answers: a,
        r#override: None,
        conclusion: (!conclusion.is_empty()).then_some(conclusion),
        expected,
    };
    let done = state.desk(&user, move |d| d.assess(&req)).await?;
    flash(
        &session,
        format!("Recorded: {}", done.evaluation.effective_class.label()),
    )
    .await;
    Ok(see_other(&format!("/incidents/{id}")))
}

pub async fn override_determination(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(id): Path<String>,
    f: Fields,
) -> Page {
    let id = parse_id(&id)?;
    let class = DeterminationClass::from_key(f.get("class"))
        .ok_or_else(|| Error::invalid("choose a determination"))?;
    let o = Override::new(class, f.text("rationale").trim())?;
    let expected = Some(expected_revision(f.get("revision"))?);
    let rid = id.clone();
    let done = state
        .desk(&user, move |d| {
            let facts = d.incident_record(&rid)?.facts;
            d.assess(&AssessRequest {
                id: rid.clone(),
                answers: AssessmentAnswers::of(&facts),
                r#override: Some(o),
                conclusion: None,
                expected,
            })
        })
        .await?;
    flash(
        &session,
        format!(
            "Override recorded: {}",
            done.evaluation.effective_class.label()
        ),
    )
    .await;
    Ok(see_other(&format!("/incidents/{id}")))
}
