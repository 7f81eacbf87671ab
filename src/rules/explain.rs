//! Plain-language output: the explanation of an evaluation, and what changed between two
//! sets of obligations ("incident show says what changed").

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::factors::rating_key;
use super::{Evaluation, Obligation, ObligationStatus};

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "no date".into())
}

/// `individual`, `media (CA)`, `state_regulator (NY ag_hhs)`.
pub fn ident(o: &Obligation) -> String {
    match (&o.jurisdiction, &o.recipient) {
        (Some(j), Some(r)) => format!("{} ({j} {r})", o.kind.key()),
        (Some(j), None) => format!("{} ({j})", o.kind.key()),
        (None, _) => o.kind.key().to_string(),
    }
}

/// The marker an obligation from a rule not verified against statute text carries in text
/// output; [`UNVERIFIED_FOOTNOTE`] explains it wherever it appears.
pub const UNVERIFIED_MARK: &str = "UNVERIFIED†";

/// The footnote of [`UNVERIFIED_MARK`].
pub const UNVERIFIED_FOOTNOTE: &str = "† UNVERIFIED: the State rule behind this duty was not checked against statute text; it is applied as written in breachdesk's rules data, whose source the note names. Counsel should confirm it (`breachdesk laws show ST`).";

/// Whether an obligation rests on an unverified State rule.
pub fn unverified(o: &Obligation) -> bool {
    o.verified == Some(false)
}

/// The closing line of every explanation.
pub const DISCLAIMER: &str = "Decision support, not legal advice: review with counsel. State duties come from breachdesk's cited, versioned rules data (`breachdesk laws list`), with counsel's overrides where set; a rule marked UNVERIFIED was not checked against statute text.";

/// One line describing a status.
pub fn status_text(s: &ObligationStatus) -> String {
    match s {
        ObligationStatus::Pending => "pending".into(),
        ObligationStatus::Met { on } => format!("met on {on}"),
        ObligationStatus::Late { days, sent: true } => format!("sent {days} day(s) late"),
        ObligationStatus::Late { days, sent: false } => {
            format!("LATE: not sent, {days} day(s) past due")
        }
        ObligationStatus::NotRequired { reason } => format!("not required: {reason}"),
    }
}

/// Human explanation of an evaluation, with a citation on every step.
pub fn explain(ev: &Evaluation) -> String {
    let mut s = String::new();
    let d = &ev.engine;
    let _ = writeln!(
        s,
        "Determination: {} [{}]",
        ev.effective_class.label(),
        ev.effective_class.key()
    );
    if ev.overridden {
        let _ = writeln!(
            s,
            "  Human override recorded. The engine's own result stays on record: {} [{}].",
            d.class.label(),
            d.class.key()
        );
    }
    let _ = writeln!(s, "Steps (45 CFR 164.402, in order; the last one decided):");
    for r in &d.reasons {
        let _ = writeln!(s, "  - {} ({})", r.text, r.cite);
    }
    if !d.factors.is_empty() {
        let _ = writeln!(s, "Risk assessment (45 CFR 164.402(2)):");
        for f in &d.factors {
            let _ = writeln!(
                s,
                "  - ({}) {}: {} — {} ({})",
                f.factor,
                f.name,
                rating_key(f.rating),
                f.rationale,
                f.cite
            );
        }
        match d.route {
            Some(r) => {
                let _ = writeln!(s, "  Route taken: {} — {}.", r.key(), r.describe());
            }
            None => {
                let _ = writeln!(s, "  No route to low probability:");
            }
        }
        for r in &d.defeated {
            let _ = writeln!(s, "  - {} ({})", r.text, r.cite);
        }
    }
    let _ = writeln!(
        s,
        "Clock: day 0 = {} — {} ({})",
        opt_date(ev.clock.date),
        ev.clock.basis,
        ev.clock.cite
    );
    if !ev.clock.events.is_empty() {
        let _ = writeln!(s, "Discovery events (45 CFR 164.404(a)(2)):");
        for r in &ev.clock.events {
            let _ = writeln!(s, "  - {} ({})", r.text, r.cite);
        }
    }
    let _ = writeln!(
        s,
        "Deadlines are calendar days from discovery (day 0), the last permitted day is day 60, no weekend or holiday roll-forward; the standard is \"without unreasonable delay\"."
    );
    if let Some(dl) = &ev.delay {
        let _ = writeln!(
            s,
            "Law-enforcement delay (45 CFR 164.412) {}; statements taken in turn against each deadline as it stands; {}:",
            dl.describe_periods(),
            ev.policy.describe()
        );
        for r in &dl.basis {
            let _ = writeln!(s, "  - {} ({})", r.text, r.cite);
        }
    }
    for n in &ev.notes {
        let _ = writeln!(s, "Note: {} ({})", n.text, n.cite);
    }
    let _ = writeln!(s, "Obligations:");
    for o in &ev.obligations {
        let mark = if unverified(o) {
            format!(" [{UNVERIFIED_MARK}]")
        } else {
            String::new()
        };
        let _ = write!(s, "  - {}{mark}: {}", ident(o), o.kind.describe());
        if !o.status.is_required() {
            // A notice that is not owed has no deadline worth printing.
            let _ = writeln!(s, "; {} ({})", status_text(&o.status), o.cite);
            continue;
        }
        if let Some(due) = o.due {
            let _ = write!(s, "; due {due}");
        }
        if let Some(orig) = o.original_due {
            let _ = write!(
                s,
                " (originally {orig}, moved by the law-enforcement delay)"
            );
        }
        if let Some(w) = o.window_end {
            let _ = write!(s, "; 90-day window ends {w}");
        }
        if let Some(n) = o.required_count {
            let _ = write!(s, "; {} of {n} sent", o.sent_count);
        }
        let _ = write!(s, "; {}", status_text(&o.status));
        // A late obligation already says how many days past due it is.
        if let Some(r) = o.days_remaining
            && !matches!(o.status, ObligationStatus::Late { .. })
        {
            let _ = write!(s, "; {r} day(s) remaining");
        }
        if let Some(e) = o.days_elapsed {
            let _ = write!(s, "; {e} day(s) since discovery");
        }
        if o.kind.is_state()
            && let Some(p) = &o.policy
        {
            let _ = write!(s, "; {p}");
        }
        let _ = writeln!(s, " ({})", o.cite);
        if !o.note.is_empty() {
            let _ = writeln!(s, "      {}", o.note);
        }
    }
    if let Some(laws) = &ev.laws {
        state_laws(&mut s, laws);
    }
    if ev.obligations.iter().any(unverified) {
        let _ = writeln!(s, "{UNVERIFIED_FOOTNOTE}");
    }
    let _ = writeln!(
        s,
        "Keep this documentation until {} ({}).",
        ev.retention_until, ev.retention_cite
    );
    let _ = write!(s, "{DISCLAIMER}");
    s
}

/// The State laws an evaluation considered, one paragraph per State with residents.
fn state_laws(s: &mut String, laws: &super::state::LawsUsed) {
    let _ = writeln!(
        s,
        "State laws (rules data {}: built-in {}{}; {}):",
        short(&laws.digest),
        short(&laws.builtin_digest),
        laws.counsel_digest
            .as_deref()
            .map(|c| format!(", counsel's {}", short(c)))
            .unwrap_or_default(),
        laws.business_days.describe()
    );
    if laws.jurisdictions.is_empty() {
        let _ = writeln!(
            s,
            "  - no residents of any State are recorded: record residents per State (or import the roster) to see the States' duties"
        );
    }
    for j in &laws.jurisdictions {
        let version = match j.effective {
            Some(e) => format!(
                "{}, version effective {e}, {} rules data, {} of {} rules verified against statute text",
                j.citation, j.origin, j.verified, j.rules
            ),
            None => "no rules data for the discovery date".to_string(),
        };
        let applies = if j.applies {
            "its duties are listed above".to_string()
        } else {
            format!("nothing owed: {}", j.reason)
        };
        let _ = writeln!(
            s,
            "  - {} ({} resident(s)): {version}; {applies}",
            j.jurisdiction, j.residents
        );
        for m in &j.monitoring {
            let _ = writeln!(s, "      credit monitoring: {m}");
        }
        if !j.content.is_empty() {
            let _ = writeln!(s, "      notice content required: {}", j.content.join("; "));
        }
    }
}

/// The first 12 hex digits of a digest, as printed beside rules data.
pub fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Plain-language changes from `old` to `new`, matched by kind and jurisdiction.
pub fn diff_obligations(old: &[Obligation], new: &[Obligation]) -> Vec<String> {
    // A State can owe two regulator notices (New York: the Attorney General, and the
    // Attorney General after notifying HHS): the recipient is part of what is owed.
    type Key = (
        crate::domain::ObligationKind,
        Option<String>,
        Option<String>,
    );
    let index = |v: &[Obligation]| -> BTreeMap<Key, Obligation> {
        v.iter()
            .map(|o| {
                (
                    (o.kind, o.jurisdiction.clone(), o.recipient.clone()),
                    o.clone(),
                )
            })
            .collect()
    };
    let (a, b) = (index(old), index(new));
    let mut out = Vec::new();

    for (k, n) in &b {
        let Some(o) = a.get(k) else {
            if n.status.is_required() {
                out.push(format!(
                    "new obligation: {}, due {} ({})",
                    ident(n),
                    opt_date(n.due),
                    n.cite
                ));
            } else {
                out.push(format!(
                    "now listed as {}: {}",
                    ident(n),
                    status_text(&n.status)
                ));
            }
            continue;
        };
        let name = ident(n);
        match (o.status.is_required(), n.status.is_required()) {
            (true, false) => out.push(format!(
                "{name} is no longer required: {}",
                status_text(&n.status).trim_start_matches("not required: ")
            )),
            (false, true) => out.push(format!(
                "{name} is now required, due {} ({})",
                opt_date(n.due),
                n.cite
            )),
            _ => {}
        }
        if o.due != n.due {
            let why = if n.policy.is_some() && n.original_due.is_some() {
                " (law-enforcement delay)"
            } else {
                ""
            };
            out.push(format!(
                "{name}: due date moved from {} to {}{why}",
                opt_date(o.due),
                opt_date(n.due)
            ));
        }
        if o.window_end != n.window_end && n.window_end.is_some() {
            out.push(format!(
                "{name}: 90-day window now ends {}",
                opt_date(n.window_end)
            ));
        }
        if o.required_count != n.required_count {
            out.push(format!(
                "{name}: recipients changed from {} to {}",
                o.required_count
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                n.required_count
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into())
            ));
        }
        if o.sent_count != n.sent_count {
            out.push(format!(
                "{name}: notices sent changed from {} to {}",
                o.sent_count, n.sent_count
            ));
        }
        if o.status.is_required() && n.status.is_required() && o.status.key() != n.status.key() {
            out.push(format!("{name}: now {}", status_text(&n.status)));
        }
    }
    for (k, o) in &a {
        if !b.contains_key(k) {
            out.push(format!(
                "no longer listed: {} (was {})",
                ident(o),
                status_text(&o.status)
            ));
        }
    }
    out
}
