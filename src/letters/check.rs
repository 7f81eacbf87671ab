//! The required-elements check: renders every template against the built-in sample and
//! looks for the markers of each required element, so an edit by counsel cannot silently
//! drop one. Elements "A".."E" are those of 164.404(c)(1); the others are named after the
//! section that requires them.

use std::path::Path;

use handlebars::html_escape;
use serde::Serialize;

use super::context::LetterContext;
use super::error::LetterError;
use super::render::{Renderer, load_sources};
use super::sample::sample_context;
use super::{Format, LetterKind};

/// One required element missing from one template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckFinding {
    pub kind: LetterKind,
    pub format: Format,
    /// "A".."E" (164.404(c)(1)), "title" (California format), "render" (the template
    /// does not render), or the section requiring a kind-specific element.
    pub element: &'static str,
    /// What is missing, in words counsel can act on.
    pub what: String,
}

/// A required element, present when any one of `any_of` appears in the output.
struct Req {
    element: &'static str,
    what: String,
    any_of: Vec<String>,
}

fn req(element: &'static str, what: impl Into<String>, marker: &str) -> Req {
    Req {
        element,
        what: what.into(),
        any_of: vec![marker.to_string()],
    }
}

fn heading(element: &'static str, h: &str) -> Req {
    req(element, format!("heading \"{h}\""), h)
}

fn each(element: &'static str, field: &str, items: &[String]) -> Vec<Req> {
    items
        .iter()
        .map(|i| req(element, format!("each item of {field} (\"{i}\")"), i))
        .collect()
}

/// The (A)–(E) content shared by notices to individuals and the BA's notice.
fn content(ctx: &LetterContext, with_steps: bool) -> Vec<Req> {
    let i = &ctx.incident;
    let o = &ctx.org;
    let mut r = vec![
        heading("A", "What Happened?"),
        req(
            "A",
            "what happened (incident.what_happened)",
            &i.what_happened,
        ),
        req(
            "A",
            "date of the breach (incident.breach_start)",
            &i.breach_start,
        ),
        req(
            "A",
            "date of discovery (incident.discovered)",
            &i.discovered,
        ),
        heading("B", "What Information Was Involved?"),
    ];
    r.extend(each("B", "incident.phi_involved", &i.phi_involved));
    if with_steps {
        r.push(heading("C", "What You Can Do."));
        r.extend(each("C", "incident.what_you_can_do", &i.what_you_can_do));
    }
    r.push(heading("D", "What We Are Doing."));
    r.extend(each(
        "D",
        "incident.what_we_are_doing",
        &i.what_we_are_doing,
    ));
    r.push(heading("E", "For More Information."));
    r.push(req("E", "toll-free number (org.toll_free)", &o.toll_free));
    r.push(Req {
        element: "E",
        what: "an e-mail address, web site or postal address (org.email, org.website or org.postal_address)".into(),
        any_of: vec![o.email.clone(), o.website.clone(), o.postal_address.clone()],
    });
    r
}

fn requirements(kind: LetterKind, ctx: &LetterContext) -> Vec<Req> {
    let title = req(
        "title",
        "title \"Notice of Data Breach\"",
        "Notice of Data Breach",
    );
    let mut r = Vec::new();
    match kind {
        LetterKind::Individual
        | LetterKind::NextOfKin
        | LetterKind::SubstituteWeb
        | LetterKind::SubstituteMedia
        | LetterKind::Media => {
            r.push(title);
            r.extend(content(ctx, true));
        }
        LetterKind::BaToCe => {
            r.push(title);
            r.extend(content(ctx, false));
        }
        LetterKind::HhsNotice | LetterKind::LeDelayMemo => {}
    }
    if let (LetterKind::NextOfKin, Some(rc)) = (kind, &ctx.recipient) {
        let d = rc.deceased_name.as_deref().unwrap_or_default();
        r.push(req(
            "164.404(d)(1)(ii)",
            "name of the deceased (recipient.deceased_name)",
            d,
        ));
    }
    if let (LetterKind::SubstituteWeb | LetterKind::SubstituteMedia, Some(s)) =
        (kind, &ctx.substitute)
    {
        let e = "164.404(d)(2)(ii)";
        r.push(req(
            e,
            "last day of the toll-free line (substitute.toll_free_end)",
            &s.toll_free_end,
        ));
        if kind == LetterKind::SubstituteWeb {
            r.push(req(
                e,
                "last day of the posting (substitute.posting_end)",
                &s.posting_end,
            ));
        }
    }
    if let (LetterKind::Media, Some(m)) = (kind, &ctx.media) {
        r.push(req("164.406", "State (media.state_name)", &m.state_name));
        r.push(req(
            "164.406",
            "residents affected in the State (media.count_in_state)",
            &m.count_in_state.to_string(),
        ));
    }
    if let (LetterKind::BaToCe, Some(b)) = (kind, &ctx.ba_to_ce) {
        let e = "164.410(c)(1)";
        r.push(req(
            e,
            "identification attachment (ba_to_ce.attachment_name)",
            &b.attachment_name,
        ));
        r.push(req(
            e,
            "number of individuals (ba_to_ce.individuals_count)",
            &b.individuals_count.to_string(),
        ));
    }
    if let (LetterKind::HhsNotice, Some(h)) = (kind, &ctx.hhs) {
        let e = "164.408";
        for label in [
            "Report type",
            "Type of covered entity",
            "Business associate involved",
            "Breach start date",
            "Breach end date",
            "Discovery start date",
            "Discovery end date",
            "Approximate number of individuals affected",
            "Type of breach",
            "Location of breached information",
            "Clinical",
            "Demographic",
            "Financial",
            "Other",
            "Safeguards in place prior to breach",
            "Actions taken in response to breach",
            "Substitute notice required",
            "Media notice required",
            "Date individual notice provided",
        ] {
            r.push(req(e, format!("portal field \"{label}\""), label));
        }
        r.push(req(
            e,
            "number affected (hhs.individuals_affected)",
            &h.individuals_affected.to_string(),
        ));
    }
    if let (LetterKind::LeDelayMemo, Some(l)) = (kind, &ctx.le_delay) {
        let e = "164.412";
        r.push(req(e, "agency (le_delay.agency)", &l.agency));
        r.push(req(
            e,
            "identity of the official (le_delay.official)",
            &l.official,
        ));
        r.push(req(
            e,
            "oral or written (le_delay.statement_kind)",
            &l.statement_kind,
        ));
        r.push(req(
            e,
            "date of the statement (le_delay.statement_date)",
            &l.statement_date,
        ));
        r.push(req(
            e,
            "end of the delay (le_delay.delay_end)",
            &l.delay_end,
        ));
        r.push(req(
            e,
            "deadline policy applied (le_delay.policy)",
            &l.policy,
        ));
    }
    r
}

/// Renders each template (embedded, or overridden from `override_dir`) against
/// [`sample_context`] and reports every required element it lacks. An empty list means
/// every template carries every element. Errors only when the override directory cannot
/// be read or holds an unknown file name.
pub fn check_templates(override_dir: Option<&Path>) -> Result<Vec<CheckFinding>, LetterError> {
    check_sources(load_sources(override_dir)?)
}

/// [`check_templates`] for a template set held in memory (the organization's stored set).
pub fn check_overrides(
    overrides: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<CheckFinding>, LetterError> {
    check_sources(super::render::override_sources(overrides)?)
}

/// [`check_overrides`] for only the templates in `overrides`, without compiling the
/// embedded rest (partials naming an embedded template do not resolve). For the fuzz
/// target, which must run thousands of times a second.
pub fn check_only(
    overrides: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<CheckFinding>, LetterError> {
    let sources = super::render::override_sources(overrides)?
        .into_iter()
        .filter(|(e, _)| overrides.contains_key(e.file))
        .collect();
    check_sources(sources)
}

fn check_sources(
    sources: Vec<(&'static super::TemplateEntry, String)>,
) -> Result<Vec<CheckFinding>, LetterError> {
    let entries: Vec<&'static super::TemplateEntry> = sources.iter().map(|(e, _)| *e).collect();
    let (renderer, failures) = Renderer::compile_lenient(sources);
    let ctx = sample_context(false);
    let mut findings: Vec<CheckFinding> = failures
        .into_iter()
        .map(|(e, err)| CheckFinding {
            kind: e.kind,
            format: e.format,
            element: "render",
            what: err.to_string(),
        })
        .collect();
    for e in entries {
        if findings
            .iter()
            .any(|f| f.kind == e.kind && f.format == e.format)
        {
            continue;
        }
        let out = match renderer.render(e.kind, e.format, &ctx) {
            Ok(out) => out,
            Err(err) => {
                findings.push(CheckFinding {
                    kind: e.kind,
                    format: e.format,
                    element: "render",
                    what: err.to_string(),
                });
                continue;
            }
        };
        for r in requirements(e.kind, &ctx) {
            let found = r.any_of.iter().any(|m| {
                let m = match e.format {
                    Format::Html => html_escape(m),
                    Format::Text => m.clone(),
                };
                !m.is_empty() && out.contains(&m)
            });
            if !found {
                findings.push(CheckFinding {
                    kind: e.kind,
                    format: e.format,
                    element: r.element,
                    what: format!("missing {}", r.what),
                });
            }
        }
    }
    Ok(findings)
}
