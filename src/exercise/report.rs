//! The after-action report: one self-contained HTML file (no scripts, no external assets)
//! with the timeline, the decisions against the engine, missed deadlines, notes and the
//! score. Every value is HTML-escaped. A banner "EXERCISE — NOT A REAL NOTICE" sits at the
//! top of the screen view; on paper it is printed in the top margin of every page (a page
//! margin box), in space the page keeps for it, so it never covers text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::ObligationKind;

use super::error::ExerciseError;
use super::scenario::{Scenario, expected, stage_date};
use super::score::{ident, names, required, score};
use super::session::ExerciseState;

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An obligation the room never named, or named after its due date in simulated time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissedDeadline {
    pub kind: ObligationKind,
    pub jurisdiction: Option<String>,
    pub due: NaiveDate,
    /// The first stage (and its date) at which a decision named it; `None`: never named.
    pub named: Option<(usize, NaiveDate)>,
    pub cite: String,
}

/// Obligations required at any stage reached that the room never named, or first named at
/// a simulated date after their due date. Obligations already met by notices recorded in
/// the scenario are left out; the due date is the one in force at the last stage that
/// required it.
pub fn missed_deadlines(
    s: &Scenario,
    state: &ExerciseState,
) -> Result<Vec<MissedDeadline>, ExerciseError> {
    let reached = state.stage.min(s.last_stage());
    let mut latest: BTreeMap<(ObligationKind, Option<String>), (NaiveDate, String, bool)> =
        BTreeMap::new();
    let mut named_at: BTreeMap<(ObligationKind, Option<String>), (usize, NaiveDate)> =
        BTreeMap::new();
    for stage in 0..=reached {
        let ev = expected(s, stage)?;
        for o in required(&ev) {
            let Some(due) = o.due else { continue };
            let key = (o.kind, o.jurisdiction.clone());
            let met = matches!(o.status, crate::rules::ObligationStatus::Met { .. });
            latest.insert(key.clone(), (due, o.cite.clone(), met));
            let first = state
                .decisions
                .iter()
                .filter(|d| d.notices.iter().any(|n| names(n, o)))
                .map(|d| (d.stage, stage_date(s, d.stage)))
                .min();
            if let Some(f) = first {
                named_at
                    .entry(key)
                    .and_modify(|cur| {
                        if f < *cur {
                            *cur = f;
                        }
                    })
                    .or_insert(f);
            }
        }
    }
    let mut out = Vec::new();
    for (key, (due, cite, met)) in latest {
        if met {
            continue;
        }
        let named = named_at.get(&key).copied();
        let missed = match named {
            Some((_, on)) => on > due,
            None => true,
        };
        if missed {
            out.push(MissedDeadline {
                kind: key.0,
                jurisdiction: key.1,
                due,
                named,
                cite,
            });
        }
    }
    Ok(out)
}

/// Every discussion note once, in order: the notes as recorded (a decision's note is
/// recorded as a note too), then any decision note not among them, by stage.
pub fn discussion_notes(state: &ExerciseState) -> Vec<(usize, &str)> {
    let mut notes: Vec<(usize, &str)> = state
        .notes
        .iter()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(st, t)| (*st, t.as_str()))
        .collect();
    for d in &state.decisions {
        let n = d.note.as_str();
        if !n.trim().is_empty() && !notes.contains(&(d.stage, n)) {
            notes.push((d.stage, n));
        }
    }
    notes.sort_by_key(|(stage, _)| *stage);
    notes
}

const CSS: &str = r#"
body { font-family: Georgia, "Times New Roman", serif; font-size: 11pt; color: #111; margin: 0; }
main { margin: 0 auto; max-width: 60rem; padding: 3.5rem 1.5rem 2rem; }
.banner { position: fixed; top: 0; left: 0; right: 0; background: #b00020; color: #fff;
  text-align: center; font: bold 12pt Arial, Helvetica, sans-serif; letter-spacing: .08em;
  padding: .4rem; z-index: 10; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 18pt; margin: .5rem 0; } h2 { font-size: 14pt; border-bottom: 1px solid #999;
  margin-top: 1.6rem; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: 9.5pt; }
thead { display: table-header-group; }
th, td { border: 1px solid #999; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
tr { page-break-inside: avoid; }
.ok { color: #0a6b2d; font-weight: bold; } .bad { color: #b00020; font-weight: bold; }
.score { font-size: 16pt; font-weight: bold; }
.meta td:first-child { width: 12rem; font-weight: bold; }
.told { white-space: pre-wrap; }
@page { size: 8.5in 11in; margin: 0.95in 0.5in 0.6in;
  @top-center { content: "EXERCISE — NOT A REAL NOTICE"; font: bold 12pt Arial, Helvetica, sans-serif;
    letter-spacing: .08em; color: #b00020; } }
td, th { overflow-wrap: break-word; }
table.fixed { table-layout: fixed; }
@media print { main { padding: 0; max-width: none; } a { color: inherit; } .banner { display: none; } }
"#;

/// The after-action report for an exercise, as one HTML document.
pub fn after_action_html(s: &Scenario, state: &ExerciseState) -> Result<String, ExerciseError> {
    if state.scenario_id != s.id {
        return Err(ExerciseError::State(format!(
            "the exercise state is for scenario `{}`, not `{}`; pass the scenario the exercise was run on",
            state.scenario_id, s.id
        )));
    }
    let score = score(s, &state.decisions)?;
    let missed = missed_deadlines(s, state)?;
    let reached = state.stage.min(s.last_stage());
    let e = escape;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>After-action report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<div class=\"banner\">EXERCISE — NOT A REAL NOTICE</div>\n<main>\n",
        e(&s.title)
    );
    let _ = writeln!(h, "<h1>After-action report: {}</h1>", e(&s.title));
    let _ = writeln!(h, "<table class=\"meta\"><tbody>");
    for (k, v) in [
        ("Scenario", format!("{} [{}]", s.title, s.id)),
        ("Organization", s.organization.legal_name.clone()),
        ("Simulated start", s.start.to_string()),
        (
            "Stages played",
            format!(
                "0 to {reached} of {} (simulated date {})",
                s.last_stage(),
                stage_date(s, reached)
            ),
        ),
        (
            "Answer key",
            "computed by the breachdesk rules engine (45 CFR 164.400–414) on the facts in force at each stage".into(),
        ),
    ] {
        let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", e(k), e(&v));
    }
    let _ = writeln!(h, "</tbody></table>");

    let _ = writeln!(h, "<h2>Score</h2>");
    let _ = writeln!(
        h,
        "<p class=\"score\">{} of {} correct ({:.1}%)</p>",
        score.correct, score.total, score.percent
    );

    let _ = writeln!(h, "<h2>Timeline</h2>");
    let _ = writeln!(
        h,
        "<table class=\"fixed\"><colgroup><col style=\"width:1.1in\"><col style=\"width:0.55in\"><col style=\"width:1.6in\"><col></colgroup><thead><tr><th>Simulated date</th><th>Stage</th><th>Event</th><th>What the room was told</th></tr></thead><tbody>"
    );
    let _ = writeln!(
        h,
        "<tr><td>{}</td><td>0</td><td>Briefing</td><td class=\"told\">{}</td></tr>",
        e(&s.start.to_string()),
        e(s.briefing.trim())
    );
    for (i, inj) in s.injects.iter().enumerate().take(reached) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"told\">{}</td></tr>",
            e(&inj.at.to_string()),
            i + 1,
            e(&inj.title),
            e(inj.told.trim())
        );
    }
    let _ = writeln!(h, "</tbody></table>");

    let _ = writeln!(h, "<h2>Decisions against the engine</h2>");
    if score.items.is_empty() {
        let _ = writeln!(h, "<p>No decisions were recorded.</p>");
    } else {
        let _ = writeln!(
            h,
            "<table class=\"fixed\"><colgroup><col style=\"width:0.5in\"><col style=\"width:1.45in\"><col style=\"width:0.95in\"><col style=\"width:0.95in\"><col style=\"width:0.6in\"><col><col style=\"width:1.15in\"></colgroup><thead><tr><th>Stage</th><th>Question</th><th>Room</th><th>Engine</th><th>Result</th><th>Reason</th><th>Cite</th></tr></thead><tbody>"
        );
        for it in &score.items {
            let (class, mark) = if it.correct {
                ("ok", "correct")
            } else {
                ("bad", "wrong")
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{mark}</td><td>{}</td><td>{}</td></tr>",
                it.stage,
                e(&it.question),
                e(&it.answer_given),
                e(&it.expected),
                e(&it.reason),
                e(&it.cite)
            );
        }
        let _ = writeln!(h, "</tbody></table>");
    }

    let _ = writeln!(h, "<h2>Missed</h2>");
    let _ = writeln!(
        h,
        "<p>Obligations the room never named, or named after their due date in simulated time.</p>"
    );
    if missed.is_empty() {
        let _ = writeln!(
            h,
            "<p>None: every obligation was named on or before its due date in simulated time.</p>"
        );
    } else {
        let _ = writeln!(
            h,
            "<table class=\"fixed\"><colgroup><col style=\"width:2in\"><col style=\"width:1.1in\"><col><col style=\"width:1.6in\"></colgroup><thead><tr><th>Obligation</th><th>Due</th><th>First named</th><th>Cite</th></tr></thead><tbody>"
        );
        for m in &missed {
            let named = match m.named {
                Some((stage, on)) => format!(
                    "stage {stage}, {on} ({} day(s) after the due date)",
                    (on - m.due).num_days()
                ),
                None => "never".into(),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(&ident(m.kind, m.jurisdiction.as_deref())),
                e(&m.due.to_string()),
                e(&named),
                e(&m.cite)
            );
        }
        let _ = writeln!(h, "</tbody></table>");
    }

    let _ = writeln!(h, "<h2>Discussion notes</h2>");
    let notes = discussion_notes(state);
    if notes.is_empty() {
        let _ = writeln!(h, "<p>No notes were recorded.</p>");
    } else {
        let _ = writeln!(h, "<ul>");
        for (stage, text) in notes {
            let _ = writeln!(
                h,
                "<li><strong>Stage {stage} ({}):</strong> {}</li>",
                e(&stage_date(s, stage).to_string()),
                e(text)
            );
        }
        let _ = writeln!(h, "</ul>");
    }
    let _ = writeln!(
        h,
        "<p><em>Exercise material. Not a determination, not a notice, not legal advice.</em></p>\n</main>\n</body>\n</html>"
    );
    Ok(h)
}
