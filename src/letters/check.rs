//! `letters check`: judges what a reader would see, not how the template is spelt.
//!
//! Every template is rendered against sample data (everything known, little known, every
//! kind of recipient, by post and by e-mail). HTML output is parsed (html5ever, through
//! `scraper`) and reduced to its *visible* text: comments, `<script>`, `<style>`,
//! `<template>` and the head are dropped, and so is every element that is `hidden`,
//! `aria-hidden="true"`, or hidden by an inline style or a `<style>` rule (`display: none`,
//! `visibility: hidden`, `opacity: 0`, `font-size: 0`). The visible text is cut into
//! sections at the headings of the elements of 164.404(c)(1) — matched whatever the case
//! and trailing punctuation, or as counsel maps them in `headings.toml` — and each element
//! is judged by its content: (A) what happened with the breach and discovery dates and the
//! business associate involved; (B) every kind of PHI involved; (C) steps individuals
//! should take, with the credit-monitoring offer and the person's code; (D) counsel's
//! investigate / mitigate / prevent text; (E) the toll-free number and another contact
//! method. Where a kind has text and HTML templates, each element's section must say the
//! same in both.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use scraper::{Html, Selector};
use serde::{Deserialize, Serialize};

use super::context::LetterContext;
use super::error::LetterError;
use super::render::{FileRef, Renderer, Sources};
use super::sample::{SAMPLE_ACTIONS, SAMPLE_DOING, sample_recipients, sparse_context};
use super::{Format, HEADINGS_FILE, LetterKind};

/// One problem found in a template set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckFinding {
    /// The template, partial or headings file at fault.
    pub file: String,
    /// The document kind and format, when the finding is about one template.
    pub kind: Option<LetterKind>,
    pub format: Option<Format>,
    /// "A".."E" (164.404(c)(1)), "title" (California format), "render" (the template does
    /// not render some sample), "agree" (text and HTML versions disagree), or the section
    /// requiring a kind-specific element.
    pub element: &'static str,
    /// What is wrong, in words counsel can act on.
    pub what: String,
    /// A template that renders the full sample but not one where something is unknown: a
    /// set stored earlier is still used (strict rendering refuses the incidents concerned,
    /// naming the field); a new set is not stored.
    #[serde(skip)]
    pub caught_when_rendering: bool,
}

/// The elements of 164.404(c)(1) whose sections are found by heading.
pub const ELEMENTS: [&str; 5] = ["A", "B", "C", "D", "E"];

/// Headings recognised for each element, besides counsel's (`headings.toml`). Matching
/// ignores case, surrounding space and trailing punctuation.
pub const DEFAULT_HEADINGS: [(&str, &[&str]); 5] = [
    ("A", &["What Happened?"]),
    ("B", &["What Information Was Involved?"]),
    (
        "C",
        &[
            "What You Can Do.",
            "What Individuals Can Do.",
            "What Affected Individuals Can Do.",
        ],
    ),
    ("D", &["What We Are Doing."]),
    ("E", &["For More Information."]),
];

/// Which headings mark which element's section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadingMap {
    /// Normalised heading → element.
    map: BTreeMap<String, &'static str>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl HeadingMap {
    /// The default headings plus counsel's `headings.toml` (`A = ["What happened"]`, one
    /// key per element, a string or a list).
    pub fn new(counsel: Option<&str>) -> Result<HeadingMap, LetterError> {
        let mut m = HeadingMap::default();
        for (el, hs) in DEFAULT_HEADINGS {
            for h in hs {
                m.map.insert(normalize_heading(h), el);
            }
        }
        let Some(src) = counsel else { return Ok(m) };
        let bad = |reason: String| LetterError::Headings {
            file: HEADINGS_FILE.into(),
            reason,
        };
        let table: BTreeMap<String, OneOrMany> =
            toml::from_str(src).map_err(|e| bad(e.message().to_string()))?;
        for (key, v) in table {
            let el = ELEMENTS
                .iter()
                .find(|e| e.eq_ignore_ascii_case(key.trim()))
                .ok_or_else(|| bad(format!("unknown element `{key}`")))?;
            let list = match v {
                OneOrMany::One(s) => vec![s],
                OneOrMany::Many(v) => v,
            };
            for h in list {
                let n = normalize_heading(&h);
                if n.is_empty() {
                    return Err(bad(format!("an empty heading for element {el}")));
                }
                m.map.insert(n, el);
            }
        }
        Ok(m)
    }

    fn element(&self, line: &str) -> Option<&'static str> {
        self.map.get(&normalize_heading(line)).copied()
    }
}

/// Lowercase, single spaces, no trailing `.?:!`, straight apostrophes.
pub fn normalize_heading(s: &str) -> String {
    let s = s.replace(['\u{2019}', '\u{2018}'], "'").to_lowercase();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.trim_end_matches(['.', '?', ':', '!', ' ']).to_string()
}

// ---------------------------------------------------------------- visible text

fn hides(style: &str) -> bool {
    let s: String = style
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    s.split(';').any(|decl| {
        let decl = decl.trim_end_matches("!important");
        matches!(
            decl,
            "display:none"
                | "visibility:hidden"
                | "visibility:collapse"
                | "opacity:0"
                | "opacity:0.0"
                | "font-size:0"
                | "font-size:0px"
                | "font-size:0pt"
        )
    })
}

/// The selectors of `<style>` rules that hide what they match (rules inside `@media` and
/// other at-rules included: content must be visible on screen and in print).
fn hiding_selectors(css: &str, out: &mut Vec<String>) {
    // Strip comments.
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = rest[i + 2..]
            .find("*/")
            .map_or("", |j| &rest[i + 2 + j + 2..]);
    }
    text.push_str(rest);
    let b = text.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        if b[i] == b'{' {
            let selector = text[start..i].trim().to_string();
            // Find the matching close brace.
            let mut depth = 1;
            let mut j = i + 1;
            while j < b.len() && depth > 0 {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            let body = &text[i + 1..j.saturating_sub(1).max(i + 1)];
            if selector.starts_with('@') {
                hiding_selectors(body, out);
            } else if hides(body) {
                out.push(selector);
            }
            i = j;
            start = j;
        } else {
            i += 1;
        }
    }
}

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "address",
    "section",
    "header",
    "footer",
    "main",
    "article",
    "table",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "dt",
    "dd",
    "dl",
    "body",
    "html",
    "hr",
    "aside",
    "nav",
    "figure",
    "figcaption",
];

const INVISIBLE: &[&str] = &[
    "script", "style", "template", "head", "noscript", "title", "meta", "link", "iframe", "object",
    "embed", "svg", "canvas",
];

/// The visible text of an HTML document or fragment, one line per block.
pub fn visible_lines(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let mut hidden = HashSet::new();
    let mut selectors = Vec::new();
    if let Ok(style) = Selector::parse("style") {
        for s in doc.select(&style) {
            hiding_selectors(&s.text().collect::<String>(), &mut selectors);
        }
    }
    for sel in selectors {
        // A selector scraper cannot parse cannot be applied; it is ignored.
        if let Ok(sel) = Selector::parse(&sel) {
            for e in doc.select(&sel) {
                hidden.insert(e.id());
            }
        }
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    walk(doc.tree.root(), &hidden, &mut lines, &mut cur);
    flush(&mut lines, &mut cur);
    lines
}

fn flush(lines: &mut Vec<String>, cur: &mut String) {
    let t = cur.split_whitespace().collect::<Vec<_>>().join(" ");
    if !t.is_empty() {
        lines.push(t);
    }
    cur.clear();
}

fn walk(
    node: ego_tree::NodeRef<'_, scraper::Node>,
    hidden: &HashSet<ego_tree::NodeId>,
    lines: &mut Vec<String>,
    cur: &mut String,
) {
    match node.value() {
        scraper::Node::Text(t) => cur.push_str(t),
        scraper::Node::Element(e) => {
            let name = e.name();
            if INVISIBLE.contains(&name)
                || hidden.contains(&node.id())
                || e.attr("hidden").is_some()
                || e.attr("aria-hidden")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
                || e.attr("style").is_some_and(hides)
                || (name == "input" && e.attr("type") == Some("hidden"))
            {
                return;
            }
            if name == "br" {
                flush(lines, cur);
                return;
            }
            let block = BLOCKS.contains(&name);
            if block {
                flush(lines, cur);
            }
            for c in node.children() {
                walk(c, hidden, lines, cur);
            }
            if block {
                flush(lines, cur);
            }
        }
        // Comments, doctype, processing instructions: never visible.
        scraper::Node::Document | scraper::Node::Fragment => {
            for c in node.children() {
                walk(c, hidden, lines, cur);
            }
        }
        _ => {}
    }
}

/// The lines a reader sees in a rendered document of `format`.
pub fn visible(format: Format, out: &str) -> Vec<String> {
    match format {
        Format::Html => visible_lines(out),
        Format::Text => out
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect(),
    }
}

/// A rendered document cut at its element headings.
#[derive(Debug, Default)]
struct Sections {
    all: String,
    /// Element → the text under its (first) heading, up to the next element heading.
    by_element: BTreeMap<&'static str, Vec<String>>,
}

impl Sections {
    fn new(lines: &[String], headings: &HeadingMap) -> Sections {
        let mut s = Sections {
            all: lines.join("\n"),
            ..Sections::default()
        };
        let mut current: Option<&'static str> = None;
        for l in lines {
            if let Some(el) = headings.element(l) {
                current = (!s.by_element.contains_key(el)).then_some(el);
                if let Some(el) = current {
                    s.by_element.insert(el, Vec::new());
                }
                continue;
            }
            if let Some(el) = current {
                s.by_element.entry(el).or_default().push(l.clone());
            }
        }
        s
    }

    fn section(&self, el: &str) -> Option<String> {
        self.by_element.get(el).map(|v| v.join("\n"))
    }

    /// The section's text for comparing the text and HTML versions.
    fn comparable(&self, el: &str) -> Option<String> {
        self.by_element.get(el).map(|v| {
            v.iter()
                .map(|l| {
                    l.trim_start_matches(['-', '*', '•', ' '])
                        .to_lowercase()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

fn contains(hay: &str, needle: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    !needle.trim().is_empty() && norm(hay).contains(&norm(needle))
}

// ---------------------------------------------------------------- requirements

/// Findings of one rendered document.
struct Judge<'a> {
    kind: LetterKind,
    format: Format,
    file: &'static str,
    findings: &'a mut Vec<CheckFinding>,
}

impl Judge<'_> {
    fn push(&mut self, element: &'static str, what: String) {
        let f = CheckFinding {
            file: self.file.to_string(),
            kind: Some(self.kind),
            format: Some(self.format),
            element,
            what,
            caught_when_rendering: false,
        };
        if !self.findings.contains(&f) {
            self.findings.push(f);
        }
    }

    /// `needle` must be visible in the element's section (or, for `None`, anywhere).
    fn want(&mut self, s: &Sections, element: &'static str, what: &str, needle: &str) {
        let hay = match ELEMENTS.contains(&element) {
            true => s.section(element).unwrap_or_default(),
            false => s.all.clone(),
        };
        if !contains(&hay, needle) {
            let place = if ELEMENTS.contains(&element) {
                format!(" under the element {element} heading")
            } else {
                String::new()
            };
            self.push(element, format!("missing {what}{place} (visible text)"));
        }
    }

    fn heading(&mut self, s: &Sections, element: &'static str) {
        if !s.by_element.contains_key(element) {
            let names = DEFAULT_HEADINGS
                .iter()
                .find(|(e, _)| *e == element)
                .map(|(_, h)| h.join("\" or \""))
                .unwrap_or_default();
            self.push(
                element,
                format!(
                    "missing the heading of element {element} (\"{names}\", any case, or one mapped in {HEADINGS_FILE}) in the visible text"
                ),
            );
        }
    }
}

/// The (A)–(E) content of a notice, judged on the full sample.
fn judge_content(j: &mut Judge, s: &Sections, ctx: &LetterContext, with_steps: bool) {
    let i = &ctx.incident;
    let o = &ctx.org;
    j.want(
        s,
        "title",
        "the title \"Notice of Data Breach\"",
        "Notice of Data Breach",
    );
    j.heading(s, "A");
    if let Some(sum) = &i.public_summary {
        j.want(s, "A", "what happened (incident.public_summary)", sum);
    }
    if let Some(d) = &i.breach_start {
        j.want(s, "A", "the date of the breach (incident.breach_start)", d);
    }
    if let Some(d) = &i.discovered {
        j.want(s, "A", "the date of discovery (incident.discovered)", d);
    }
    if let Some(ba) = &i.business_associate {
        j.want(
            s,
            "A",
            "the business associate involved (incident.business_associate.name)",
            &ba.name,
        );
    }
    j.heading(s, "B");
    for label in &i.phi_involved {
        j.want(
            s,
            "B",
            &format!("the kind of information \"{label}\" (incident.phi_involved)"),
            label,
        );
    }
    if with_steps {
        j.heading(s, "C");
        let steps = s.section("C").unwrap_or_default();
        if steps.split_whitespace().count() < 12 {
            j.push(
                "C",
                "the steps individuals should take to protect themselves are missing or too short to be steps".into(),
            );
        }
        // The offer: in letters and postings to individuals with how to enroll (and the
        // person's own code in their letter); in media and covered-entity notices, who
        // provides it. A next-of-kin letter mentions it only with a code for the estate.
        if let Some(cm) = i
            .credit_monitoring
            .as_ref()
            .filter(|_| j.kind != LetterKind::NextOfKin)
        {
            j.want(
                s,
                "C",
                "the credit-monitoring provider (incident.credit_monitoring.provider)",
                &cm.provider,
            );
            if let (Some(url), false) = (
                &cm.enrollment_url,
                matches!(j.kind, LetterKind::Media | LetterKind::BaToCe),
            ) {
                j.want(
                    s,
                    "C",
                    "the enrollment address (incident.credit_monitoring.enrollment_url)",
                    url,
                );
            }
            if let Some(code) = ctx.recipient.as_ref().and_then(|r| r.credit_code.as_ref())
                && matches!(j.kind, LetterKind::Individual)
            {
                j.want(
                    s,
                    "C",
                    "the person's enrollment code (recipient.credit_code)",
                    code,
                );
            }
        }
    }
    j.heading(s, "D");
    if let Some(d) = &i.doing {
        for (field, t) in [
            ("investigate", &d.investigate),
            ("mitigate", &d.mitigate),
            ("prevent", &d.prevent),
        ] {
            if let Some(t) = t {
                j.want(
                    s,
                    "D",
                    &format!("counsel's text on how we {field} (incident.doing.{field})"),
                    t,
                );
            }
        }
    }
    j.heading(s, "E");
    if let Some(t) = &o.toll_free {
        j.want(s, "E", "the toll-free number (org.toll_free)", t);
    }
    let others = [&o.email, &o.website, &o.postal_address];
    let sec = s.section("E").unwrap_or_default();
    if !others
        .iter()
        .any(|x| x.as_ref().is_some_and(|x| contains(&sec, x)))
    {
        j.push(
            "E",
            "missing an e-mail address, web site or postal address (org.email, org.website or org.postal_address) under the element E heading (visible text)".into(),
        );
    }
}

/// Everything a document of `kind` must show, judged on the full sample `ctx`.
fn judge(j: &mut Judge, s: &Sections, ctx: &LetterContext) {
    match j.kind {
        LetterKind::Individual
        | LetterKind::NextOfKin
        | LetterKind::SubstituteWeb
        | LetterKind::SubstituteMedia
        | LetterKind::Media => judge_content(j, s, ctx, true),
        LetterKind::BaToCe => judge_content(j, s, ctx, true),
        LetterKind::HhsNotice | LetterKind::LeDelayMemo | LetterKind::StateRegulator => {}
    }
    if let (LetterKind::NextOfKin, Some(d)) = (
        j.kind,
        ctx.recipient.as_ref().and_then(|r| r.deceased_name.clone()),
    ) {
        j.want(
            s,
            "164.404(d)(1)(ii)",
            "the name of the deceased (recipient.deceased_name)",
            &d,
        );
    }
    if let (LetterKind::SubstituteWeb | LetterKind::SubstituteMedia, Some(sub)) =
        (j.kind, &ctx.substitute)
    {
        let e = "164.404(d)(2)(ii)";
        j.want(
            s,
            e,
            "the last day of the toll-free line (substitute.toll_free_end)",
            &sub.toll_free_end,
        );
        if j.kind == LetterKind::SubstituteWeb {
            j.want(
                s,
                e,
                "the last day of the posting (substitute.posting_end)",
                &sub.posting_end,
            );
        }
    }
    if let (LetterKind::Media, Some(m)) = (j.kind, &ctx.media) {
        j.want(s, "164.406", "the State (media.state_name)", &m.state_name);
        j.want(
            s,
            "164.406",
            "the residents affected in the State (media.count_in_state)",
            &m.count_in_state.to_string(),
        );
    }
    if let (LetterKind::BaToCe, Some(b)) = (j.kind, &ctx.ba_to_ce) {
        let e = "164.410(c)(1)";
        j.want(
            s,
            e,
            "the identification attachment (ba_to_ce.attachment_name)",
            &b.attachment_name,
        );
        j.want(
            s,
            e,
            "the number of individuals (ba_to_ce.individuals_count)",
            &b.individuals_count.to_string(),
        );
    }
    if let (LetterKind::HhsNotice, Some(h)) = (j.kind, &ctx.hhs) {
        let e = "164.408";
        for label in [
            "Report type",
            "Name of covered entity",
            "Type of covered entity",
            "Business associate involved",
            "Name of business associate",
            "Contact name",
            "Telephone",
            "Breach start date",
            "Breach end date",
            "Discovery start date",
            "Discovery end date",
            "Approximate number of individuals affected",
            "Type of breach",
            "Location of breached information",
            "Brief description",
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
            j.want(s, e, &format!("the portal field \"{label}\""), label);
        }
        j.want(
            s,
            e,
            "the number affected (hhs.individuals_affected)",
            &h.individuals_affected.to_string(),
        );
        for (what, v) in [
            (
                "covered entity (hhs.covered_entity.name)",
                &h.covered_entity.name,
            ),
            ("contact person (hhs.contact.name)", &h.contact.name),
            ("contact telephone (hhs.contact.phone)", &h.contact.phone),
            ("public description (hhs.description)", &h.description),
            (
                "business associate's discovery date (hhs.discovered_by_business_associate)",
                &h.discovered_by_business_associate,
            ),
            (
                "covered entity's discovery date (hhs.discovered_by_covered_entity)",
                &h.discovered_by_covered_entity,
            ),
        ] {
            if let Some(v) = v {
                j.want(s, e, &format!("the {what}"), v);
            }
        }
        if let Some(ba) = h.business_associate.as_ref().and_then(|b| b.name.as_ref()) {
            j.want(
                s,
                e,
                "the business associate (hhs.business_associate.name)",
                ba,
            );
        }
    }
    if let (LetterKind::StateRegulator, Some(r)) = (j.kind, &ctx.regulator) {
        let e = "State law";
        for (what, v) in [
            ("the regulator (regulator.name)", &r.name),
            ("the State (regulator.state_name)", &r.state_name),
            ("the statute (regulator.cite)", &r.cite),
            (
                "the residents affected in the State (regulator.residents)",
                &r.residents.to_string(),
            ),
            (
                "whether the rule was verified (regulator.provenance)",
                &r.provenance,
            ),
        ] {
            j.want(s, e, what, v);
        }
        if let Some(f) = &r.sample_copy {
            j.want(s, e, "the enclosed sample copy (regulator.sample_copy)", f);
        }
        if let Some(m) = &r.method {
            j.want(s, e, "how the regulator takes notice (regulator.method)", m);
        }
        for c in &r.content {
            j.want(
                s,
                e,
                "the content the statute asks for (regulator.content)",
                c,
            );
        }
        for p in &ctx.incident.phi_involved {
            j.want(s, e, "the information involved (incident.phi_involved)", p);
        }
    }
    if let (LetterKind::LeDelayMemo, Some(l)) = (j.kind, &ctx.le_delay) {
        let e = "164.412";
        j.want(s, e, "the agency (le_delay.agency)", &l.agency);
        if let Some(o) = &l.official {
            j.want(s, e, "the identity of the official (le_delay.official)", o);
        }
        j.want(
            s,
            e,
            "the date of the statement (le_delay.statement_date)",
            &l.statement_date,
        );
        if let Some(d) = &l.delay_end {
            j.want(s, e, "the end of the delay (le_delay.delay_end)", d);
        }
        j.want(
            s,
            e,
            "the deadline policy applied (le_delay.policy)",
            &l.policy,
        );
    }
}

fn sample_for(kind: LetterKind) -> LetterContext {
    super::sample::sample_for(kind, false)
}

/// `ctx` with release 0.1's fields filled by `renderer`'s partials.
fn legacy(renderer: &Renderer, mut ctx: LetterContext) -> LetterContext {
    renderer.fill_legacy(&mut ctx);
    ctx
}

/// Every sample a kind must render: the full one, the sparse one, each kind of recipient,
/// and the e-mail copy of a letter.
fn render_samples(kind: LetterKind) -> Vec<(String, LetterContext)> {
    let mut v = vec![
        ("the full sample".to_string(), sample_for(kind)),
        (
            "the sample with little known (no dates, no summary, no business associate, few contacts)".to_string(),
            {
                let mut c = sparse_context();
                if kind == LetterKind::NextOfKin {
                    c.recipient = sample_for(kind).recipient;
                }
                c
            },
        ),
    ];
    if matches!(kind, LetterKind::Individual | LetterKind::NextOfKin) {
        for r in sample_recipients() {
            if (kind == LetterKind::NextOfKin) != r.deceased_name.is_some() {
                continue;
            }
            let what = match (&r.minor_name, r.name.is_empty()) {
                (Some(_), false) => "a minor's letter to a named parent",
                (Some(_), true) => "a minor's letter to an unnamed parent or guardian",
                _ => "a recipient",
            };
            v.push((what.to_string(), sample_for(kind).with_recipient(r.clone())));
            let mut email = sample_for(kind).with_recipient(r);
            email.email = true;
            v.push((format!("the e-mail copy for {what}"), email));
        }
    }
    v
}

/// Renders each template (embedded, or overridden from `override_dir`) against the samples
/// and reports what it lacks. An empty list means every template renders every sample and
/// shows every required element. Errors only when the directory cannot be read or holds
/// an unknown file name.
pub fn check_templates(override_dir: Option<&Path>) -> Result<Vec<CheckFinding>, LetterError> {
    check_sources(Sources::load(override_dir)?)
}

/// [`check_templates`] for a template set held in memory (the organization's stored set).
pub fn check_overrides(
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<CheckFinding>, LetterError> {
    check_sources(Sources::with_overrides(overrides)?)
}

/// [`check_overrides`] for only the templates in `overrides` (and every partial), without
/// checking the embedded rest. For the fuzz target, which must run many times a second.
pub fn check_only(overrides: &BTreeMap<String, String>) -> Result<Vec<CheckFinding>, LetterError> {
    let mut sources = Sources::with_overrides(overrides)?;
    sources
        .templates
        .retain(|(e, _)| overrides.contains_key(e.file));
    check_sources(sources)
}

fn check_sources(sources: Sources) -> Result<Vec<CheckFinding>, LetterError> {
    let entries: Vec<&'static super::TemplateEntry> =
        sources.templates.iter().map(|(e, _)| *e).collect();
    let mut findings: Vec<CheckFinding> = Vec::new();
    let headings = match HeadingMap::new(sources.headings.as_deref()) {
        Ok(h) => h,
        Err(e) => {
            findings.push(CheckFinding {
                file: HEADINGS_FILE.into(),
                kind: None,
                format: None,
                element: "render",
                what: e.to_string(),
                caught_when_rendering: false,
            });
            HeadingMap::new(None)?
        }
    };
    let (renderer, failures) = Renderer::compile_lenient(sources);
    for (f, err) in failures {
        let (kind, format) = match f {
            FileRef::Template(e) => (Some(e.kind), Some(e.format)),
            FileRef::Partial(_) => (None, None),
        };
        findings.push(CheckFinding {
            file: f.file().to_string(),
            kind,
            format,
            element: "render",
            what: err.to_string(),
            caught_when_rendering: false,
        });
    }
    // Each kind's sections per format, for the text/HTML comparison.
    let mut sections: BTreeMap<(LetterKind, Format), Sections> = BTreeMap::new();
    for e in entries {
        if findings.iter().any(|f| f.file == e.file) {
            continue;
        }
        let mut j = Judge {
            kind: e.kind,
            format: e.format,
            file: e.file,
            findings: &mut findings,
        };
        let mut rendered_all = true;
        let mut full_renders = true;
        for (i, (what, ctx)) in render_samples(e.kind).into_iter().enumerate() {
            let ctx = legacy(&renderer, ctx);
            if let Err(err) = renderer.render(e.kind, e.format, &ctx) {
                j.push("render", format!("does not render {what}: {err}"));
                rendered_all = false;
                if i == 0 {
                    full_renders = false;
                } else if let Some(f) = j.findings.last_mut() {
                    f.caught_when_rendering = true;
                }
            }
        }
        if !full_renders {
            continue;
        }

        let ctx = legacy(&renderer, sample_for(e.kind));
        let out = renderer.render(e.kind, e.format, &ctx)?;
        let s = Sections::new(&visible(e.format, &out), &headings);
        judge(&mut j, &s, &ctx);
        // With no counsel-written (D), the internal actions list is the default.
        if rendered_all && (e.kind.is_notice_to_individuals() || e.kind == LetterKind::BaToCe) {
            let mut sparse = sparse_context();
            if e.kind == LetterKind::NextOfKin {
                sparse.recipient = ctx.recipient.clone();
            }
            let sparse = legacy(&renderer, sparse);
            let out = renderer.render(e.kind, e.format, &sparse)?;
            let sp = Sections::new(&visible(e.format, &out), &headings);
            for a in SAMPLE_ACTIONS {
                j.want(
                    &sp,
                    "D",
                    "each action taken (incident.actions) when counsel wrote no (D) text",
                    a,
                );
            }
            debug_assert!(!SAMPLE_DOING.is_empty());
        }
        sections.insert((e.kind, e.format), s);
    }
    for ((kind, format), text) in &sections {
        if *format != Format::Text {
            continue;
        }
        let Some(html) = sections.get(&(*kind, Format::Html)) else {
            continue;
        };
        // A missing heading is reported above; sections cut at different headings cannot
        // be compared.
        if text.by_element.keys().ne(html.by_element.keys()) {
            continue;
        }
        for el in ELEMENTS {
            let (a, b) = (text.comparable(el), html.comparable(el));
            if a.is_some() && b.is_some() && a != b {
                findings.push(CheckFinding {
                    file: format!(
                        "{} / {}",
                        super::entry(*kind, Format::Text).map_or("", |e| e.file),
                        super::entry(*kind, Format::Html).map_or("", |e| e.file)
                    ),
                    kind: Some(*kind),
                    format: None,
                    element: "agree",
                    caught_when_rendering: false,
                    what: format!(
                        "the text and HTML versions say different things under element {el}: {}",
                        first_difference(a.as_deref().unwrap_or(""), b.as_deref().unwrap_or(""))
                    ),
                });
            }
        }
    }
    Ok(findings)
}

/// Where two texts part, in a few words of each.
fn first_difference(a: &str, b: &str) -> String {
    let wa: Vec<&str> = a.split(' ').collect();
    let wb: Vec<&str> = b.split(' ').collect();
    let i = wa.iter().zip(&wb).take_while(|(x, y)| x == y).count();
    let take = |w: &[&str]| {
        let s = w[i.min(w.len())..]
            .iter()
            .take(8)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if s.is_empty() {
            "(nothing)".to_string()
        } else {
            format!("\"{s}…\"")
        }
    };
    format!("text has {}, HTML has {}", take(&wa), take(&wb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_html_is_not_visible() {
        let html = r#"<html><head><style>.gone { display: none } @media print { #p { visibility:hidden } }</style></head>
<body><h2>Shown</h2><!-- <p>commented</p> --><p class="gone">by class</p><p id="p">by id</p>
<p hidden>attr</p><p aria-hidden="true">aria</p><p style="DISPLAY : none">inline</p>
<script>document.write("script")</script><p>Line one<br>line two</p></body></html>"#;
        assert_eq!(visible_lines(html), ["Shown", "Line one", "line two"]);
    }

    #[test]
    fn headings_match_case_and_punctuation_and_counsel_maps() {
        let m = HeadingMap::new(Some("C = [\"Protecting yourself\"]\nA = \"Background\"\n"))
            .expect("valid");
        assert_eq!(m.element("WHAT HAPPENED"), Some("A"));
        assert_eq!(m.element("  what happened?  "), Some("A"));
        assert_eq!(m.element("Protecting Yourself:"), Some("C"));
        assert_eq!(m.element("Background"), Some("A"));
        assert_eq!(m.element("What happened next"), None);
        assert!(HeadingMap::new(Some("F = \"x\"")).is_err());
    }
}
