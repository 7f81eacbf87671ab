//! Counsel's rules, from the browser: the letter templates (what `letters templates
//! show|set|clear` and `letters check` do, one file at a time) and the State laws data
//! (`laws list|show|diff|set|clear`). Reading the laws is for everyone who reads the
//! register; changing templates or laws is counsel's (and the privacy officer's). Every
//! change goes through the same desk call as the CLI's: checked, stored, audited.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use crate::audit::entry::hex;
use crate::desk::letters::{TemplateSet, check_templates, template_files};
use crate::desk::{LawsFile, check_laws_file};
use crate::domain::Permission;
use crate::error::Error;
use crate::letters::CheckFinding;
use crate::web::auth::flash;
use crate::web::forms::Fields;
use crate::web::page::{WebError, csrf_field, error_box, instant, page, see_other};
use crate::web::state::{AppState, CurrentUser};

type Page = Result<Response, WebError>;

// ---------------------------------------------------------------- templates

fn builtin(name: &str) -> Option<&'static str> {
    template_files()
        .into_iter()
        .find(|(f, _)| *f == name)
        .map(|(_, s)| s)
}

/// A fingerprint of counsel's stored set (every file name and text): a form carries the one
/// it was filled in on, and saving refuses a set changed since by someone else.
fn set_version(set: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in set {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v.as_bytes());
    }
    hex(&h.finalize())
}

/// The stored set, refused as a conflict when it is not the version the form was filled
/// in on.
async fn current_set(
    state: &AppState,
    user: &CurrentUser,
    form_version: &str,
) -> Result<BTreeMap<String, String>, WebError> {
    let set = state
        .desk(user, |d| d.stored_templates())
        .await?
        .unwrap_or_default();
    if set_version(&set) != form_version.trim() {
        return Err(Error::Conflict(
            "the templates were changed by someone else since this form was opened; nothing was stored. Open the template again to see the current text".into(),
        )
        .into());
    }
    Ok(set)
}

fn findings_list(findings: &[CheckFinding]) -> Markup {
    html! {
        div.error role="alert" {
            p { "Not stored: " (findings.len()) " finding(s) from the template check (164.404(c) and the letters' own elements)." }
            ul {
                @for f in findings {
                    li { code { (f.file) } " — element " (f.element) ": " (f.what) }
                }
            }
        }
    }
}

pub async fn templates(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Page {
    let stored = state.desk(&user, |d| d.stored_templates()).await?;
    let stored = stored.unwrap_or_default();
    let hashes: BTreeMap<String, String> = stored
        .iter()
        .map(|(k, v)| (k.clone(), crate::laws::sha256_hex(v)))
        .collect();
    let body = html! {
        h1 { "Letter templates" }
        p { "The wording of every letter is in these files (handlebars templates and their partials). Counsel may override any of them; a set is stored only when "
            code { "letters check" } " passes on it, and every change is in the audit trail. The same as "
            code { "breachdesk letters templates show|set|clear" } "." }
        p.sub { @if stored.is_empty() { "No stored set: the built-in templates apply." } @else { (stored.len()) " file(s) overridden." } }
        table {
            thead { tr { th { "File" } th { "In use" } th { "SHA-256 of counsel's text" } } }
            tbody {
                @for (name, _) in template_files() {
                    tr {
                        td { a href={"/templates/" (name)} { code { (name) } } }
                        td { @if hashes.contains_key(name) { strong { "counsel's" } } @else { "built-in" } }
                        td.small { code { (hashes.get(name).map(String::as_str).unwrap_or("")) } }
                    }
                }
            }
        }
        @if !stored.is_empty() {
            form.inline method="post" action="/templates/clear" {
                (csrf_field(&user))
                button type="submit" { "Clear counsel's set (the built-in templates apply again)" }
            }
        }
    };
    Ok(page("Templates", &user, body).into_response())
}

fn template_form(
    user: &CurrentUser,
    name: &str,
    text: &str,
    overridden: bool,
    version: &str,
    error: Option<Markup>,
) -> Markup {
    html! {
        h1 { "Template " code { (name) } }
        p.sub { @if overridden { "Counsel's text is in use." } @else { "The built-in text is in use." } " "
            a href="/templates" { "All templates" } }
        @if let Some(e) = error { (e) }
        form.stack method="post" action={"/templates/" (name)} {
            (csrf_field(user))
            input type="hidden" name="set" value=(version);
            label for="text" { "Text (handlebars; strict: a field that is not known fails the check instead of printing a blank)" }
            textarea id="text" name="text" rows="30" spellcheck="false" { (text) }
            button type="submit" { "Check and store" }
        }
        @if overridden {
            form.inline method="post" action={"/templates/" (name) "/revert"} {
                (csrf_field(user))
                input type="hidden" name="set" value=(version);
                button type="submit" { "Use the built-in text again" }
            }
        }
    }
}

pub async fn template(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Page {
    let Some(text) = builtin(&name) else {
        return Err(Error::NotFound(format!("there is no template file {name}")).into());
    };
    let stored = state
        .desk(&user, |d| d.stored_templates())
        .await?
        .unwrap_or_default();
    let over = stored.get(&name).cloned();
    let body = template_form(
        &user,
        &name,
        over.as_deref().unwrap_or(text),
        over.is_some(),
        &set_version(&stored),
        None,
    );
    Ok(page("Template", &user, body).into_response())
}

/// Stores `set` after the check, or shows the form again with the findings.
#[allow(clippy::too_many_arguments)]
async fn store_set(
    state: &AppState,
    user: &CurrentUser,
    session: Session,
    name: &str,
    text: &str,
    version: &str,
    set: BTreeMap<String, String>,
    done: String,
) -> Page {
    if set.is_empty() {
        let u = user.clone();
        state
            .desk(&u, |d| match d.clear_templates() {
                Err(Error::Invalid(_)) => Ok(()),
                other => other,
            })
            .await?;
        flash(&session, done).await;
        return Ok(see_other("/templates"));
    }
    let check = set.clone();
    let findings = state
        .desk(user, move |_| check_templates(&TemplateSet::Stored(check)))
        .await?;
    if !findings.is_empty() {
        let body = template_form(
            user,
            name,
            text,
            true,
            version,
            Some(findings_list(&findings)),
        );
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Template", user, body),
        )
            .into_response());
    }
    state
        .desk(user, move |d| d.store_templates(&set, "the web form"))
        .await?;
    flash(&session, done).await;
    Ok(see_other("/templates"))
}

pub async fn save_template(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
    f: Fields,
) -> Page {
    let Some(built_in) = builtin(&name) else {
        return Err(Error::NotFound(format!("there is no template file {name}")).into());
    };
    let text = f.text("text");
    let version = f.get("set").to_string();
    let mut set = current_set(&state, &user, &version).await?;
    if text == built_in {
        set.remove(&name);
    } else {
        set.insert(name.clone(), text.clone());
    }
    let done = format!("Stored {name}; the set passed the template check.");
    store_set(&state, &user, session, &name, &text, &version, set, done).await
}

pub async fn revert_template(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(name): Path<String>,
    f: Fields,
) -> Page {
    let Some(built_in) = builtin(&name) else {
        return Err(Error::NotFound(format!("there is no template file {name}")).into());
    };
    let version = f.get("set").to_string();
    let mut set = current_set(&state, &user, &version).await?;
    if set.remove(&name).is_none() {
        return Err(Error::invalid(format!("{name} is not overridden")).into());
    }
    let done = format!("{name}: the built-in text applies again.");
    store_set(&state, &user, session, &name, built_in, &version, set, done).await
}

pub async fn clear_templates(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
) -> Page {
    state.desk(&user, |d| d.clear_templates()).await?;
    flash(
        &session,
        "Cleared: the built-in templates apply again.".to_string(),
    )
    .await;
    Ok(see_other("/templates"))
}

// ---------------------------------------------------------------- State laws

pub async fn laws(State(state): State<AppState>, Extension(user): Extension<CurrentUser>) -> Page {
    let list = state.desk(&user, |d| d.laws_list()).await?;
    let body = html! {
        h1 { "State breach laws" }
        p { "The rules data the engine applies beside HIPAA, one file per jurisdiction, each rule verified against statute text or marked UNVERIFIED with its source. Decision support for counsel, not legal advice. The same as "
            code { "breachdesk laws list" } "." }
        p.sub.small { "Rules digest " code { (list.digest) } @if let Some(c) = &list.counsel_digest { " · counsel's files " code { (c) } } }
        @let missing: Vec<&str> = crate::laws::COUNSEL_ONLY
            .iter()
            .copied()
            .filter(|c| !list.rows.iter().any(|r| r.jurisdiction == *c))
            .collect();
        @if !missing.is_empty() {
            p { "No rules data (counsel may add a file): "
                @for (i, c) in missing.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={"/laws/" (c)} { (crate::domain::vocab::state_name(c)) " (" (c) ")" }
                }
                "." }
        }
        table.laws {
            thead { tr { th { "" } th { "Law (current version, from)" } th { "Notice to residents" } th { "Regulators" } th { "CRA notice" } th { "HIPAA entities" } th { "Rules verified" } } }
            tbody {
                @for r in &list.rows {
                    tr {
                        td { a href={"/laws/" (r.jurisdiction)} { (r.jurisdiction) } @if r.origin != "built-in" { " " span.small { "(" (r.origin) ")" } } }
                        td { (r.citation) " (from " (r.effective) ")" }
                        td { (r.individual) }
                        td { (r.regulators) }
                        td { (r.cra) }
                        td { (r.hipaa) }
                        td.num { (r.verified) " of " (r.rules) }
                    }
                }
            }
        }
    };
    Ok(page("State laws", &user, body).into_response())
}

fn law_page(
    user: &CurrentUser,
    show: &crate::desk::LawShow,
    text: &str,
    diff: Option<&crate::desk::LawDiff>,
    error: Option<&str>,
) -> Markup {
    let counsel = show.origin.key() == "counsel";
    html! {
        h1 { (show.name) " (" (show.jurisdiction) ")" }
        p.sub { "In force: " (show.origin.key()) " file, SHA-256 " code { (show.sha256) } " · " a href="/laws" { "All jurisdictions" } }
        (error_box(error))
        @for v in &show.versions {
            section {
                h2 { "From " (v.effective.format("%Y-%m-%d")) ": " (v.citation) }
                @if !v.change.is_empty() { p.small { (v.change) } }
                table {
                    thead { tr { th { "Rule" } th { "What it says" } th { "Citation" } th { "Source" } } }
                    tbody {
                        @for r in &v.rules {
                            tr {
                                td { (r.rule) @if !r.id.is_empty() { " " code { (r.id) } } }
                                td { (r.summary) @if !r.note.is_empty() { br; span.small { (r.note) } } }
                                td { (r.cite) }
                                td.small { @if r.verified { (r.provenance) } @else { strong { "UNVERIFIED" } " " (r.provenance.trim_start_matches("UNVERIFIED against statute text ")) } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(d) = diff {
            section {
                h2 { "Counsel's file against the built-in one" }
                pre.diff { (d.text) }
            }
        }
        (counsel_versions(&show.history))
        @if user.role.may(Permission::ManageRules) {
            section.noprint {
                h2 { "Counsel's rules for " (show.jurisdiction) }
                p.small { "Edit the file in force and store it as counsel's (checked against the same schema as " code { "breachdesk laws set" } "; audited; hashed into every determination that uses it). Mark a rule "
                    code { "verified" } " only with where the statute text was read." }
                (rules_form(user, &show.jurisdiction, text))
                @if counsel {
                    form.inline method="post" action={"/laws/" (show.jurisdiction) "/clear"} {
                        (csrf_field(user))
                        button type="submit" { "Clear counsel's file (the built-in one applies again)" }
                    }
                }
            }
        }
    }
}

/// Counsel's stored versions of one jurisdiction's file, oldest first (nothing when none).
fn counsel_versions(history: &[crate::desk::CounselVersion]) -> Markup {
    html! {
        @if !history.is_empty() {
            section {
                h2 { "Counsel's versions" }
                ul { @for h in history { li { "#" (h.seq) " " (if h.set { "set" } else { "cleared" }) " " (instant(h.at)) " by " (h.by) @if h.set { " — " code { (h.sha256) } } } } }
            }
        }
    }
}

/// The editor counsel stores a jurisdiction's file with.
fn rules_form(user: &CurrentUser, code: &str, text: &str) -> Markup {
    html! {
        form.stack method="post" action={"/laws/" (code)} {
            (csrf_field(user))
            label for="text" { (code.to_ascii_lowercase()) ".toml" }
            textarea id="text" name="text" rows="30" spellcheck="false" { (text) }
            button type="submit" { "Check and store as counsel's" }
        }
    }
}

/// A jurisdiction of 45 CFR 160.103 without built-in rules data (American Samoa, the Northern
/// Mariana Islands) and no counsel's file: what that means, counsel's past versions, and for
/// counsel an empty editor to add one.
fn no_law_page(
    user: &CurrentUser,
    code: &str,
    history: &[crate::desk::CounselVersion],
    text: &str,
    error: Option<&str>,
) -> Markup {
    let name = crate::domain::vocab::state_name(code);
    html! {
        h1 { (name) " (" (code) ")" }
        p.sub { "No rules data in force · " a href="/laws" { "All jurisdictions" } }
        (error_box(error))
        p { "breachdesk has no built-in rules file for " (name) ". Until counsel stores one, the engine applies no State rules for its residents: every determination that counts them says so and asks counsel to check the territory's law." }
        (counsel_versions(history))
        @if user.role.may(Permission::ManageRules) {
            section.noprint {
                h2 { "Counsel's rules for " (code) }
                p.small { "Write the file with " code { "jurisdiction = \"" (code) "\"" } ", in the schema of every other jurisdiction's file (open one, e.g. " a href="/laws/GU" { "Guam" } ", to see it). It is checked against that schema, audited, and hashed into every determination that uses it. Mark a rule "
                    code { "verified" } " only with where the statute text was read." }
                (rules_form(user, code, text))
            }
        }
    }
}

async fn law_view(
    state: &AppState,
    user: &CurrentUser,
    code: String,
    text: Option<String>,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let c = code.to_ascii_uppercase();
    let found = state
        .desk(user, move |d| {
            if crate::laws::COUNSEL_ONLY.contains(&c.as_str()) && d.laws()?.get(&c).is_none() {
                let history: Vec<_> = d
                    .laws_history()?
                    .into_iter()
                    .filter(|h| h.jurisdiction == c)
                    .collect();
                return Ok(Err((c, history)));
            }
            let show = d.laws_show(&c)?;
            let text = d.laws()?.get(&show.jurisdiction).map(|l| l.text.clone());
            let diff = if show.origin.key() == "counsel" {
                d.laws_diff(Some(&show.jurisdiction))?.into_iter().next()
            } else {
                None
            };
            Ok(Ok((show, text, diff)))
        })
        .await?;
    let (show, in_force, diff) = match found {
        Ok(f) => f,
        Err((code, history)) => {
            let body = no_law_page(user, &code, &history, text.as_deref().unwrap_or(""), error);
            return Ok((status, page("State laws", user, body)).into_response());
        }
    };
    let text = text.or(in_force).unwrap_or_default();
    Ok((
        status,
        page(
            "State laws",
            user,
            law_page(user, &show, &text, diff.as_ref(), error),
        ),
    )
        .into_response())
}

pub async fn law(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(code): Path<String>,
) -> Page {
    law_view(&state, &user, code, None, StatusCode::OK, None).await
}

pub async fn set_law(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(code): Path<String>,
    f: Fields,
) -> Page {
    let text = f.text("text");
    let file = LawsFile {
        name: format!("{}.toml", code.to_ascii_lowercase()),
        text: text.clone(),
    };
    let want = code.to_ascii_uppercase();
    let r = state
        .desk(&user, move |d| {
            let checked = check_laws_file(&file)?;
            if checked.jurisdiction != want {
                return Err(Error::invalid(format!(
                    "the file is for {}, not {want}: open that jurisdiction's page to change its rules",
                    checked.jurisdiction
                )));
            }
            d.set_laws(&file)
        })
        .await;
    match r {
        Ok(c) => {
            let msg = match c.seq {
                Some(n) => format!(
                    "Stored counsel's rules for {} (version {n}); {} open incident(s) affected.",
                    c.jurisdiction,
                    c.effects.len()
                ),
                None => format!(
                    "No change: this file is already in force for {}.",
                    c.jurisdiction
                ),
            };
            flash(&session, msg).await;
            Ok(see_other(&format!("/laws/{}", c.jurisdiction)))
        }
        Err(Error::Invalid(m)) => {
            law_view(
                &state,
                &user,
                code,
                Some(text),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&m),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn clear_law(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path(code): Path<String>,
) -> Page {
    let c = code.to_ascii_uppercase();
    let done = state.desk(&user, move |d| d.clear_laws(&c)).await?;
    flash(
        &session,
        format!(
            "Cleared counsel's rules for {}: the built-in file applies again.",
            done.jurisdiction
        ),
    )
    .await;
    Ok(see_other(&format!("/laws/{}", done.jurisdiction)))
}
