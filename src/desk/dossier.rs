//! `report ID --html`: the incident dossier, one self-contained HTML file for the file or a
//! regulator (164.414(b): the burden of proof).

use std::fmt::Write as _;

use handlebars::html_escape as esc;

use super::assess::Recorded;
use super::evaluate::status_text;
use super::office::{DbClock, Desk, NOT_EVIDENCE};
use crate::audit::entry::{ClockSource, Hash, hex};
use crate::domain::*;
use crate::error::Result;
use crate::letters::EXERCISE_WATERMARK;
use crate::rules::Evaluation;
use crate::rules::explain::{UNVERIFIED_FOOTNOTE, UNVERIFIED_MARK, short, unverified};

/// Prints on US Letter with nothing cut off: tables have fixed layouts and wrap long text,
/// and every hash is printed whole on a line of its own (64 hex digits in 8.5-point
/// monospace fit the text width), abbreviated where it appears inside other text. An
/// exercise's watermark sits in the top margin of every printed page, in space the page
/// keeps for it, never over the text.
const CSS: &str = "@page { size: 8.5in 11in; margin: 0.6in 0.6in 0.65in 0.6in; }
body { font-family: 'Times New Roman', 'Liberation Serif', Times, serif; font-size: 10.5pt; line-height: 1.3; color: #000; margin: 0 auto; max-width: 7.3in; }
h1 { font-size: 17pt; } h2 { font-size: 13pt; border-bottom: 1px solid #444; margin-top: 1.3em; break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0; table-layout: fixed; }
th, td { border: 1px solid #888; padding: 2pt 4pt; text-align: left; vertical-align: top; font-size: 9.5pt; overflow-wrap: anywhere; word-break: normal; }
tr { break-inside: avoid; page-break-inside: avoid; } th { background: #eee; }
thead { display: table-header-group; }
tr.hashes td { border-top: none; padding-top: 0; }
.mono, .hash { font-family: 'Courier New', 'Liberation Mono', monospace; font-size: 8.5pt; }
.hash { white-space: nowrap; }
.hashline { display: block; white-space: nowrap; font-family: 'Courier New', 'Liberation Mono', monospace; font-size: 8.5pt; }
.ok { font-weight: bold; } .bad { font-weight: bold; color: #a00; }
.watermark { border: 2pt solid #000; text-align: center; font-weight: bold; padding: 4pt; font-family: Arial, Helvetica, sans-serif; }
.small { font-size: 9.5pt; }
table.facts th { width: 28%; }
col.seq { width: 0.45in; } col.when { width: 1.3in; } col.actor { width: 0.85in; } col.action { width: 1.15in; }
@media print {
  body { max-width: none; }
  .watermark.screen { display: none; }
}
";

/// The exercise watermark in the top margin of every printed page: a page-margin box, so
/// the page keeps its space and it never covers text.
pub fn exercise_page_css() -> String {
    format!(
        "@page {{ margin-top: 0.95in; @top-center {{ content: \"{EXERCISE_WATERMARK}\"; font-family: Arial, Helvetica, sans-serif; font-size: 12pt; font-weight: bold; }} }}\n"
    )
}

/// Is `s` a SHA-256 in hex?
fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A detail text with each hash in it abbreviated (`1a2b3c4d5e6f…`), and the hashes in full,
/// each with what names it (`manifest_sha256`), for a line of their own.
fn split_hashes(detail: &str) -> (String, Vec<(String, String)>) {
    let mut short = String::with_capacity(detail.len());
    let mut full = Vec::new();
    for (i, token) in detail.split(' ').enumerate() {
        if i > 0 {
            short.push(' ');
        }
        let (key, value) = match token.split_once('=') {
            Some((k, v)) => (k, v),
            None => ("", token),
        };
        if is_hash(value) {
            if !key.is_empty() {
                short.push_str(key);
                short.push('=');
            }
            short.push_str(&value[..12]);
            short.push('…');
            full.push((
                if key.is_empty() { "sha256" } else { key }.to_string(),
                value.to_string(),
            ));
        } else {
            short.push_str(token);
        }
    }
    (short, full)
}

/// A row spanning the table with each hash whole on a line.
fn hash_row(out: &mut String, cols: usize, hashes: &[(String, String)]) {
    if hashes.is_empty() {
        return;
    }
    let _ = write!(out, "<tr class=\"hashes\"><td colspan=\"{cols}\">");
    for (k, v) in hashes {
        let _ = write!(out, "<span class=\"hashline\">{} {}</span>", esc(k), esc(v));
    }
    out.push_str("</td></tr>\n");
}

fn row(out: &mut String, k: &str, v: &str) {
    let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
}

fn d(x: Option<chrono::NaiveDate>) -> String {
    x.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "—".into())
}

fn labels<T: Copy>(v: &[T], f: impl Fn(T) -> &'static str) -> String {
    if v.is_empty() {
        "—".into()
    } else {
        v.iter().map(|x| f(*x)).collect::<Vec<_>>().join(", ")
    }
}

/// The dossier of one incident.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub incident: IncidentId,
    /// One self-contained HTML document that prints cleanly.
    pub html: String,
    /// The result of verifying the whole audit trail, included in the document.
    pub intact: bool,
    pub head_seq: u64,
    pub head_hash: Hash,
}

impl Desk<'_> {
    /// `report --html`: facts, timeline, determination with reasons, obligations, letters,
    /// notices, the last `audit_entries` entries about the incident and the verification
    /// result with the head hash.
    pub fn dossier(&self, id: &IncidentId, audit_entries: usize) -> Result<Dossier> {
        let view = self.incident_view(id)?;
        let org = self.org()?;
        let today = view.today;
        let (inc, dv, counts, ev) = (
            &view.incident,
            &view.derived,
            &view.counts,
            &view.evaluation,
        );
        let r = self.reader()?;
        let batches = r.manifests(id)?;
        let recorded: Vec<Recorded> = r.determinations(id)?.iter().map(Recorded::from).collect();
        let report = r.verify()?;
        drop(r);
        let (entries, all) = self.incident_audit(id, audit_entries)?;
        let skip = all - entries.len();
        let actor = self.ctx.who.describe();

        let f = &inc.facts;
        let mut h = String::with_capacity(64 * 1024);
        let title = format!("Breach dossier {} — {}", inc.id, view.label);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{CSS}{}</style>\n</head>\n<body>\n",
            esc(&title),
            if inc.exercise {
                exercise_page_css()
            } else {
                String::new()
            }
        );
        if inc.exercise {
            // On screen; in print the page margin carries it (exercise_page_css).
            let _ = writeln!(h, "<p class=\"watermark screen\">{EXERCISE_WATERMARK}</p>");
        }
        if self.office.clock() == DbClock::Pinned {
            let _ = writeln!(
                h,
                "<p class=\"watermark\">{} (this database was created with a pinned clock for tests or demos)</p>",
                esc(NOT_EVIDENCE)
            );
        }
        let _ = writeln!(h, "<h1>{}</h1>", esc(&title));
        let _ = writeln!(
            h,
            "<p class=\"small\">{} ({}). Prepared {} by {} with breachdesk {}. Decision support, not legal advice.</p>",
            esc(&org.legal_name),
            esc(org.entity_type.label()),
            today.format("%Y-%m-%d"),
            esc(&actor),
            env!("CARGO_PKG_VERSION")
        );

        h.push_str("<h2>Facts</h2>\n<table class=\"facts\">\n");
        row(
            &mut h,
            "Status",
            &format!(
                "{}{}",
                inc.status.key(),
                inc.disposition
                    .map(|x| format!(" ({})", x.key()))
                    .unwrap_or_default()
            ),
        );
        row(
            &mut h,
            "Breach",
            &format!("{} to {}", d(f.breach.start), d(f.breach.end)),
        );
        row(
            &mut h,
            "Discovered",
            &format!("{} {}", d(f.breach.discovered), f.breach.discovery_method),
        );
        row(&mut h, "Reported by", &f.breach.reported_by);
        row(
            &mut h,
            "Type of breach",
            &labels(&f.breach.types, |t| t.label()),
        );
        row(
            &mut h,
            "Location",
            &labels(&f.breach.locations, |t| t.label()),
        );
        row(
            &mut h,
            "PHI involved",
            &labels(&f.breach.phi, |t| t.label()),
        );
        row(
            &mut h,
            "Individuals",
            &format!(
                "{} ({})",
                counts.total,
                match counts.source {
                    CountSource::Roster => "from the imported roster",
                    CountSource::Estimate => "estimate",
                }
            ),
        );
        let states: Vec<String> = counts
            .by_state
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        row(&mut h, "By State", &states.join(", "));
        row(
            &mut h,
            "Unreachable / deceased with next of kin / without",
            &format!(
                "{} / {} / {}",
                counts.unreachable, counts.deceased_with_nok, counts.deceased_without_nok
            ),
        );
        if f.business_associate.involved {
            row(
                &mut h,
                "Business associate",
                &format!(
                    "{} ({}); discovered {}, notified us {}",
                    f.business_associate.name,
                    match f.business_associate.relationship {
                        Some(BaRelationship::Agent) => "agent",
                        Some(BaRelationship::IndependentContractor) => "independent contractor",
                        None => "relationship not recorded",
                    },
                    d(f.business_associate.discovered),
                    d(f.business_associate.notified_ce)
                ),
            );
        }
        row(&mut h, "Safeguards before", &f.breach.safeguards.join("; "));
        row(&mut h, "Actions taken", &f.breach.actions.join("; "));
        row(&mut h, "Narrative", &f.breach.narrative);
        h.push_str("</table>\n");

        if !inc.timeline.is_empty() {
            h.push_str(
            "<h2>Timeline</h2>\n<table>\n<tr><th>When (UTC)</th><th>Who</th><th>What</th></tr>\n",
        );
            for t in &inc.timeline {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    t.at.format("%Y-%m-%d %H:%M"),
                    esc(&t.author),
                    esc(&t.text)
                );
            }
            h.push_str("</table>\n");
        }

        h.push_str("<h2>Determination (45 CFR 164.402)</h2>\n");
        let _ = writeln!(
            h,
            "<p><b>{}</b> [{}]</p>",
            esc(ev.effective_class.label()),
            esc(ev.effective_class.cite())
        );
        match &dv.assessment {
        Some(asm) => {
            let _ = writeln!(h, "<p class=\"small\">Assessed by {} on {}.</p>", esc(&asm.assessed_by), asm.assessed_at.format("%Y-%m-%d"));
            if let Some(o) = asm.override_class {
                let _ = writeln!(
                    h,
                    "<p>Human override: <b>{}</b> over the engine's <b>{}</b>. Rationale: {}</p>",
                    o.key(),
                    asm.engine.class.key(),
                    esc(&asm.rationale)
                );
            }
        }
        None => h.push_str("<p>Not yet assessed: a breach is presumed until a low probability of compromise is demonstrated.</p>\n"),
    }
        h.push_str("<ol>\n");
        for r in &ev.engine.reasons {
            let _ = writeln!(
                h,
                "<li>{} <span class=\"small\">[{}]</span></li>",
                esc(&r.text),
                esc(&r.cite)
            );
        }
        h.push_str("</ol>\n");
        if !ev.engine.factors.is_empty() {
            h.push_str(
            "<table>\n<tr><th>Factor</th><th>Rating</th><th>Rationale</th><th>Basis</th></tr>\n",
        );
            for fr in &ev.engine.factors {
                let _ = writeln!(
                    h,
                    "<tr><td>({}) {}</td><td>{:?}</td><td>{}</td><td>{}</td></tr>",
                    esc(&fr.factor),
                    esc(&fr.name),
                    fr.rating,
                    esc(&fr.rationale),
                    esc(&fr.cite)
                );
            }
            h.push_str("</table>\n");
            for r in &ev.engine.defeated {
                let _ = writeln!(
                    h,
                    "<p class=\"small\">{} [{}]</p>",
                    esc(&r.text),
                    esc(&r.cite)
                );
            }
        }

        h.push_str("<h2>Obligations and deadlines</h2>\n");
        let _ = writeln!(
            h,
            "<p class=\"small\">Day 0: {} — {} [{}]. HIPAA: calendar days, no weekend or holiday roll-forward. {}. State deadlines in business days: {}.</p>",
            d(ev.clock.date),
            esc(&ev.clock.basis),
            esc(&ev.clock.cite),
            esc(ev.policy.describe()),
            esc(ev
                .laws
                .as_ref()
                .map(|l| l.business_days.describe())
                .unwrap_or(org.business_days.describe()))
        );
        if let Some(delay) = &ev.delay {
            let _ = writeln!(
                h,
                "<p>Law-enforcement delay {}:</p>\n<ul>",
                delay.describe_periods()
            );
            for r in &delay.basis {
                let _ = writeln!(
                    h,
                    "<li>{} <span class=\"small\">[{}]</span></li>",
                    esc(&r.text),
                    esc(&r.cite)
                );
            }
            h.push_str("</ul>\n");
        }
        for n in &ev.notes {
            let _ = writeln!(
                h,
                "<p class=\"small\">Note: {} [{}]</p>",
                esc(&n.text),
                esc(&n.cite)
            );
        }
        h.push_str("<table>\n<tr><th>Obligation</th><th>Where</th><th>Due</th><th>Status</th><th>Sent</th><th>Basis</th></tr>\n");
        for o in &ev.obligations {
            let mark = if unverified(o) {
                format!(" <b>{UNVERIFIED_MARK}</b>")
            } else if o.verified == Some(true) {
                " (verified)".to_string()
            } else {
                String::new()
            };
            let place = match (&o.jurisdiction, &o.recipient) {
                (Some(j), Some(r)) => format!("{j} ({r})"),
                (Some(j), None) => j.clone(),
                _ => String::new(),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}{mark}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}{}</td><td>{}{}</td></tr>",
                esc(o.kind.describe()),
                esc(&place),
                d(o.due),
                o.original_due
                    .map(|x| format!(" (was {})", x.format("%Y-%m-%d")))
                    .unwrap_or_default(),
                esc(&status_text(&o.status)),
                o.sent_count,
                o.required_count
                    .map(|r| format!(" of {r}"))
                    .unwrap_or_default(),
                esc(&o.cite),
                o.policy
                    .as_ref()
                    .map(|p| format!("; {}", esc(p)))
                    .unwrap_or_default()
            );
        }
        h.push_str("</table>\n");
        if ev.obligations.iter().any(unverified) {
            let _ = writeln!(h, "<p class=\"small\">{}</p>", esc(UNVERIFIED_FOOTNOTE));
        }
        state_section(&mut h, ev, &recorded);
        let _ = writeln!(
            h,
            "<p class=\"small\">Retain this documentation until {} [{}].</p>",
            ev.retention_until.format("%Y-%m-%d"),
            esc(&ev.retention_cite)
        );

        h.push_str("<h2>Notices sent</h2>\n");
        if inc.notices.is_empty() {
            h.push_str("<p>None recorded.</p>\n");
        } else {
            h.push_str("<table>\n<thead><tr><th>Date</th><th>Kind</th><th>Where</th><th>Method</th><th>Count</th></tr></thead>\n");
            for n in &inc.notices {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td></tr>",
                    n.date.format("%Y-%m-%d"),
                    n.kind.key(),
                    esc(n.jurisdiction.as_deref().unwrap_or("")),
                    n.method,
                    n.count,
                );
                if let Some(ev) = &n.evidence_sha256 {
                    hash_row(&mut h, 5, &[("evidence sha256".into(), ev.clone())]);
                }
            }
            h.push_str("</table>\n");
        }

        h.push_str("<h2>Letters produced</h2>\n");
        if batches.is_empty() {
            h.push_str("<p>None rendered.</p>\n");
        } else {
            h.push_str("<table>\n<thead><tr><th>Kind</th><th>Format</th><th>Notice date</th><th>Documents</th><th>Files</th></tr></thead>\n");
            for b in &batches {
                let m = &b.manifest;
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&m.kind),
                    esc(&m.format),
                    esc(&m.notice_date),
                    m.count,
                    m.files.len(),
                );
                hash_row(
                    &mut h,
                    5,
                    &[("manifest sha256".into(), b.manifest_sha256.clone())],
                );
            }
            h.push_str("</table>\n");
        }

        h.push_str("<h2>Audit trail</h2>\n");
        if skip > 0 {
            let _ = writeln!(
                h,
                "<p class=\"small\">The {} most recent of {} entries about this incident.</p>",
                entries.len(),
                all
            );
        }
        // Each entry: its facts, then its hash and any hash its detail names, whole, each on a
        // line of its own (abbreviated inside the detail).
        h.push_str("<table>\n<colgroup><col class=\"seq\"><col class=\"when\"><col class=\"actor\"><col class=\"actor\"><col class=\"action\"><col></colgroup>\n<thead><tr><th>Seq</th><th>Time (UTC)</th><th>Who</th><th>On behalf of</th><th>Action</th><th>Detail</th></tr></thead>\n");
        for s in entries.iter() {
            let e = &s.entry;
            let (detail, mut hashes) = split_hashes(&e.detail);
            hashes.insert(0, ("entry hash".into(), hex(&s.stored_hash)));
            let _ = writeln!(
                h,
                "<tbody class=\"entry\"><tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
                e.seq,
                e.at.format("%Y-%m-%d %H:%M:%S"),
                match e.recorded.clock() {
                    Some(ClockSource::System) | None => "",
                    Some(ClockSource::Pinned) => " (pinned clock)",
                    Some(ClockSource::Simulated) => " (simulated)",
                },
                esc(&e.recorded.accountable()),
                esc(e.recorded.on_behalf_of().unwrap_or("—")),
                esc(&e.action),
                esc(&detail),
            );
            hash_row(&mut h, 6, &hashes);
            h.push_str("</tbody>\n");
        }
        h.push_str("</table>\n");
        match report.first() {
            None => {
                let _ = writeln!(
                    h,
                    "<p class=\"ok\">Verification: the whole audit trail is intact ({} entries, every record matches its latest entry). Head: entry {}:<span class=\"hashline\">{}</span></p>",
                    report.entries,
                    report.head_seq,
                    hex(&report.head_hash)
                );
            }
            Some(first) => {
                let _ = writeln!(
                    h,
                    "<p class=\"bad\">Verification FAILED: {} — {} ({} finding(s)). Head: entry {}:<span class=\"hashline\">{}</span></p>",
                    esc(first.damage.label()),
                    esc(&first.message),
                    report.findings.len(),
                    report.head_seq,
                    hex(&report.head_hash)
                );
            }
        }
        if inc.exercise {
            let _ = writeln!(h, "<p class=\"watermark screen\">{EXERCISE_WATERMARK}</p>");
        }
        if self.office.clock() == DbClock::Pinned {
            let _ = writeln!(
                h,
                "<p class=\"watermark\">{} (this database was created with a pinned clock for tests or demos)</p>",
                esc(NOT_EVIDENCE)
            );
        }
        h.push_str("</body>\n</html>\n");

        Ok(Dossier {
            incident: inc.id.clone(),
            html: h,
            intact: report.intact(),
            head_seq: report.head_seq,
            head_hash: report.head_hash,
        })
    }
}

/// The State laws the evaluation considered, and the recorded determinations with what they
/// used (engine version, rules digests, inputs hash): what `assess --replay` re-runs.
fn state_section(h: &mut String, ev: &Evaluation, recorded: &[Recorded]) {
    h.push_str("<h2>State breach-notification laws</h2>\n");
    let Some(laws) = &ev.laws else {
        h.push_str("<p>Not evaluated.</p>\n");
        return;
    };
    let _ = writeln!(
        h,
        "<p class=\"small\">Rules data in force: <span class=\"mono\">{}</span> (built-in <span class=\"mono\">{}</span>{}). Decision support for counsel: each State rule names its citation and whether it was verified against statute text.</p>",
        esc(&laws.digest),
        esc(short(&laws.builtin_digest)),
        laws.counsel_digest
            .as_deref()
            .map(|c| format!(", counsel's <span class=\"mono\">{}</span>", esc(short(c))))
            .unwrap_or_default()
    );
    if laws.jurisdictions.is_empty() {
        h.push_str("<p>No residents of any State are recorded.</p>\n");
    } else {
        h.push_str("<table>\n<tr><th>State</th><th>Residents</th><th>Law (version)</th><th>Rules data</th><th>Verified rules</th><th>Applies</th></tr>\n");
        for j in &laws.jurisdictions {
            let mut applies = if j.applies {
                "yes: duties listed above".to_string()
            } else {
                format!("no: {}", j.reason)
            };
            for m in &j.monitoring {
                applies.push_str(&format!("; credit monitoring: {m}"));
            }
            if !j.content.is_empty() {
                applies.push_str(&format!("; notice content: {}", j.content.join("; ")));
            }
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{} of {}</td><td class=\"small\">{}</td></tr>",
                esc(&j.jurisdiction),
                j.residents,
                esc(&j.citation),
                j.effective
                    .map(|e| format!(" (from {e})"))
                    .unwrap_or_default(),
                esc(&j.origin),
                j.verified,
                j.rules,
                esc(&applies)
            );
        }
        h.push_str("</table>\n");
    }
    if recorded.is_empty() {
        h.push_str("<p class=\"small\">No replayable determination is recorded (`breachdesk assess` records one).</p>\n");
        return;
    }
    h.push_str("<p>Recorded determinations (each replayable with <code>breachdesk assess ID --replay N</code>):</p>\n<table>\n<tr><th>#</th><th>When (UTC), by</th><th>Engine</th><th>Rules data digest</th><th>Counsel's files</th><th>Inputs SHA-256</th></tr>\n");
    for r in recorded {
        let counsel: Vec<String> = r
            .counsel_files
            .iter()
            .map(|(j, s)| format!("{j} {}", short(s)))
            .collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            r.number,
            r.recorded_at.format("%Y-%m-%d %H:%M"),
            esc(&r.recorded_by),
            esc(&r.engine_version),
            esc(&r.laws_digest),
            esc(&if counsel.is_empty() {
                "none".to_string()
            } else {
                counsel.join(", ")
            }),
            esc(&r.inputs_sha256)
        );
    }
    h.push_str("</table>\n");
}
