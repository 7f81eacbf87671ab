//! Tests of the letters layer: golden files, registry completeness, escaping, strict mode,
//! the required-elements check, reproducibility and the exercise watermark.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::*;
use crate::domain::vocab::DataElement;
use crate::domain::{LawEnforcementStatement, LePolicy, StatementKind};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden_path(name: &str) -> PathBuf {
    manifest_dir().join("tests/golden/letters").join(name)
}

/// Compares each (name, actual) with its golden file; `UPDATE_GOLDEN=1` rewrites them.
/// Reports every mismatch at once so one review covers them all.
fn goldens(cases: &[(String, String)]) {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut bad = Vec::new();
    for (name, actual) in cases {
        let path = golden_path(name);
        if update {
            std::fs::write(&path, actual).expect("write golden file");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if &expected == actual => {}
            Ok(_) => bad.push(format!("{name}: differs")),
            Err(_) => bad.push(format!("{name}: missing")),
        }
    }
    assert!(
        bad.is_empty(),
        "golden files out of date (review, then rerun with UPDATE_GOLDEN=1): {bad:?}"
    );
}

/// Golden file name for a template: its file name without `.hbs`.
fn golden_name(e: &TemplateEntry) -> String {
    e.file.trim_end_matches(".hbs").to_string()
}

fn renderer() -> Renderer {
    Renderer::new().expect("embedded templates compile")
}

fn sha256(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn golden_every_template_and_format() {
    let r = renderer();
    let ctx = sample_context(false);
    let cases: Vec<(String, String)> = REGISTRY
        .iter()
        .map(|e| {
            let out = r.render(e.kind, e.format, &ctx).expect("sample renders");
            (golden_name(e), out)
        })
        .collect();
    goldens(&cases);
}

fn structured_outputs(exercise: bool) -> Vec<(String, String)> {
    let ctx = sample_context(exercise);
    let ws = ctx.hhs.clone().expect("sample has a worksheet");
    let suffix = if exercise { ".exercise" } else { "" };
    let rec = AnnualLogRecord::from_worksheet(&ctx.incident.id, &ws, exercise);
    let mut csv_out = Vec::new();
    write_annual_log_csv(&mut csv_out, std::slice::from_ref(&rec)).expect("annual csv");
    let mut merge = Vec::new();
    let mut other = ctx.recipient.clone().expect("sample recipient");
    other.id = "R-000002".into();
    other.name = "Sam O'Brien".into();
    other.deceased_name = None;
    other.address_lines = vec![
        "1 A St".into(),
        "Unit 2".into(),
        "Bldg 3".into(),
        "Rear".into(),
    ];
    let recips = [ctx.recipient.clone().expect("sample recipient"), other];
    mail_merge_csv(&mut merge, LetterKind::Individual, exercise, &recips).expect("merge csv");
    let r = renderer();
    let pages = recips.iter().map(|rc| {
        let c = ctx.clone().with_recipient(rc.clone());
        r.render(LetterKind::Individual, Format::Html, &c)
            .expect("renders")
    });
    let doc = html_document("Notice of Data Breach", exercise, pages).expect("document");
    vec![
        (
            format!("hhs_notice{suffix}.json"),
            hhs_worksheet_json(&ws, exercise).expect("json"),
        ),
        (
            format!("annual_log{suffix}.json"),
            annual_log_json(std::slice::from_ref(&rec)).expect("json"),
        ),
        (
            format!("annual_log{suffix}.csv"),
            String::from_utf8(csv_out).expect("utf8"),
        ),
        (
            format!("mail_merge{suffix}.csv"),
            String::from_utf8(merge).expect("utf8"),
        ),
        (format!("individual_batch{suffix}.html"), doc),
    ]
}

#[test]
fn golden_structured_outputs() {
    let mut cases = structured_outputs(false);
    cases.extend(structured_outputs(true));
    goldens(&cases);
}

#[test]
fn golden_json_outputs_parse_back() {
    for (name, out) in structured_outputs(false) {
        if name.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_str(&out).expect("valid json");
            assert_eq!(v["format_version"], 1, "{name}");
        }
    }
}

#[test]
fn every_template_file_is_registered() {
    let dir = manifest_dir().join("templates");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("templates directory")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let registered: BTreeSet<String> = REGISTRY.iter().map(|e| e.file.to_string()).collect();
    let unregistered: Vec<_> = on_disk.difference(&registered).collect();
    assert!(
        unregistered.is_empty(),
        "templates/ holds files no REGISTRY entry names: {unregistered:?}"
    );
    assert_eq!(
        registered.len(),
        REGISTRY.len(),
        "a file is registered twice"
    );
}

#[test]
fn registry_covers_every_kind_and_letter_format() {
    for k in LetterKind::ALL {
        assert!(
            entry(*k, Format::Text).is_some(),
            "{k} has no text template"
        );
        if *k != LetterKind::HhsNotice {
            assert!(
                entry(*k, Format::Html).is_some(),
                "{k} has no html template"
            );
        }
        assert_eq!(LetterKind::from_key(k.key()), Some(*k));
    }
    let pairs: BTreeSet<_> = REGISTRY.iter().map(|e| (e.kind, e.format)).collect();
    assert_eq!(
        pairs.len(),
        REGISTRY.len(),
        "a (kind, format) is registered twice"
    );
}

#[test]
fn html_escapes_names_and_text_leaves_them_literal() {
    let r = renderer();
    let mut ctx = sample_context(false);
    let nasty = "Pat O'Brien <script>alert(\"x\")</script> & Co";
    if let Some(rc) = ctx.recipient.as_mut() {
        rc.name = nasty.into();
    }
    let text = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect("text");
    assert!(text.contains(&format!("Dear {nasty}:")), "{text}");
    let html = r
        .render(LetterKind::Individual, Format::Html, &ctx)
        .expect("html");
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains(
            "Pat O&#x27;Brien &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"
        )
    );
}

#[test]
fn strict_mode_missing_field_is_an_error_naming_it() {
    let r = renderer();
    // No recipient at all.
    let mut ctx = sample_context(false);
    ctx.recipient = None;
    let err = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect_err("recipient is required");
    match &err {
        LetterError::MissingField { field, file } => {
            assert!(field.starts_with("recipient"), "{field}");
            assert!(file.starts_with("individual.txt.hbs"), "{file}");
        }
        other => panic!("expected MissingField, got {other:?}"),
    }
    // A next-of-kin letter without the deceased's name: named exactly, not blank.
    let mut ctx = sample_context(false);
    if let Some(rc) = ctx.recipient.as_mut() {
        rc.deceased_name = None;
    }
    for format in [Format::Text, Format::Html] {
        let err = r
            .render(LetterKind::NextOfKin, format, &ctx)
            .expect_err("deceased_name is required");
        let msg = err.to_string();
        assert!(msg.contains("`recipient.deceased_name`"), "{msg}");
        assert!(
            !msg.contains("Jordan Sample"),
            "error leaks recipient data: {msg}"
        );
    }
    // Each per-kind part is required by its kind.
    let full = sample_context(false);
    type Strip = fn(&mut LetterContext);
    let cases: [(LetterKind, Strip, &str); 5] = [
        (LetterKind::Media, |c| c.media = None, "media"),
        (
            LetterKind::SubstituteWeb,
            |c| c.substitute = None,
            "substitute",
        ),
        (LetterKind::HhsNotice, |c| c.hhs = None, "hhs"),
        (LetterKind::BaToCe, |c| c.ba_to_ce = None, "ba_to_ce"),
        (LetterKind::LeDelayMemo, |c| c.le_delay = None, "le_delay"),
    ];
    for (kind, strip, part) in cases {
        let mut c = full.clone();
        strip(&mut c);
        match r.render(kind, Format::Text, &c) {
            Err(LetterError::MissingField { field, .. }) => {
                assert!(field.starts_with(part), "{kind}: {field}")
            }
            other => panic!("{kind}: expected MissingField, got {other:?}"),
        }
    }
}

#[test]
fn text_template_strict_error_from_an_override_names_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("individual.txt.hbs"),
        "Dear {{recipient.nickname}}\n",
    )
    .expect("write");
    let r = Renderer::with_override_dir(dir.path()).expect("compiles");
    let err = r
        .render(LetterKind::Individual, Format::Text, &sample_context(false))
        .expect_err("unknown field");
    assert!(err.to_string().contains("`recipient.nickname`"), "{err}");
}

#[test]
fn override_dir_replaces_same_named_template_and_rejects_unknown_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("media.txt.hbs"),
        "EDITED {{media.state_name}}\n",
    )
    .expect("write");
    let r = Renderer::with_override_dir(dir.path()).expect("compiles");
    let ctx = sample_context(false);
    assert_eq!(
        r.render(LetterKind::Media, Format::Text, &ctx)
            .expect("renders"),
        "EDITED California\n"
    );
    // The others are still the embedded ones.
    let embedded = renderer();
    assert_eq!(
        r.render(LetterKind::Individual, Format::Text, &ctx)
            .expect("renders"),
        embedded
            .render(LetterKind::Individual, Format::Text, &ctx)
            .expect("renders")
    );
    std::fs::write(dir.path().join("individual.text.hbs"), "typo\n").expect("write");
    match Renderer::with_override_dir(dir.path()) {
        Err(LetterError::UnknownOverride { file, .. }) => assert_eq!(file, "individual.text.hbs"),
        other => panic!("expected UnknownOverride, got {other:?}"),
    }
}

#[test]
fn parse_error_names_the_template() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("individual.html.hbs"), "{{#each x}}oops\n").expect("write");
    let err = Renderer::with_override_dir(dir.path()).expect_err("does not parse");
    assert!(err.to_string().contains("individual.html.hbs"), "{err}");
    let findings = check_templates(Some(dir.path())).expect("check runs");
    assert!(findings.iter().any(|f| f.kind == LetterKind::Individual
        && f.format == Format::Html
        && f.element == "render"));
}

#[test]
fn check_passes_the_embedded_templates() {
    let findings = check_templates(None).expect("check runs");
    assert!(findings.is_empty(), "{findings:#?}");
}

/// For each element (A)–(E) in turn, a copy of a template without its heading is caught
/// and the element named; nothing else is reported.
#[test]
fn check_catches_each_element_missing_in_turn() {
    let headings = [
        ("A", "What Happened?"),
        ("B", "What Information Was Involved?"),
        ("C", "What You Can Do."),
        ("D", "What We Are Doing."),
        ("E", "For More Information."),
    ];
    for kind in [
        LetterKind::Individual,
        LetterKind::NextOfKin,
        LetterKind::Media,
    ] {
        for format in [Format::Text, Format::Html] {
            let e = entry(kind, format).expect("registered");
            for (element, heading) in headings {
                assert!(e.source.contains(heading), "{} lacks {heading}", e.file);
                let dir = tempfile::tempdir().expect("tempdir");
                let edited = e.source.replace(heading, "Details");
                std::fs::write(dir.path().join(e.file), edited).expect("write");
                let findings = check_templates(Some(dir.path())).expect("check runs");
                assert_eq!(findings.len(), 1, "{}: {findings:#?}", e.file);
                let f = &findings[0];
                assert_eq!((f.kind, f.format, f.element), (kind, format, element));
                assert!(f.what.contains(heading), "{}", f.what);
            }
        }
    }
}

#[test]
fn check_catches_dropped_content_not_only_headings() {
    let e = entry(LetterKind::Individual, Format::Text).expect("registered");
    let cases = [
        ("{{org.toll_free}}", "E", "toll-free"),
        ("{{incident.discovered}}", "A", "date of discovery"),
        ("{{#each incident.phi_involved}}", "B", "phi_involved"),
    ];
    for (cut, element, what) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let edited = match cut {
            "{{#each incident.phi_involved}}" => e.source.replace(
                "{{#each incident.phi_involved}}\n  - {{this}}\n{{/each}}\n",
                "",
            ),
            _ => e.source.replace(cut, "(see enclosure)"),
        };
        assert_ne!(edited, e.source);
        std::fs::write(dir.path().join(e.file), edited).expect("write");
        let findings = check_templates(Some(dir.path())).expect("check runs");
        assert!(
            findings.iter().all(|f| f.element == element) && !findings.is_empty(),
            "{cut}: {findings:#?}"
        );
        assert!(
            findings.iter().any(|f| f.what.contains(what)),
            "{findings:#?}"
        );
    }
    // E also needs one of e-mail, web site or postal address.
    let dir = tempfile::tempdir().expect("tempdir");
    let edited = e
        .source
        .replace(" You can also {{org.other_contacts}}.", "");
    std::fs::write(dir.path().join(e.file), edited).expect("write");
    let findings = check_templates(Some(dir.path())).expect("check runs");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].element, "E");
}

#[test]
fn reproducible_same_inputs_same_sha256() {
    let ctx = sample_context(false);
    let (a, b) = (renderer(), renderer());
    for e in REGISTRY {
        let x = a.render(e.kind, e.format, &ctx).expect("renders");
        let y = b.render(e.kind, e.format, &ctx).expect("renders");
        assert_eq!(sha256(&x), sha256(&y), "{}", e.file);
    }
    let x: Vec<_> = structured_outputs(true)
        .into_iter()
        .map(|(_, s)| sha256(&s))
        .collect();
    let y: Vec<_> = structured_outputs(true)
        .into_iter()
        .map(|(_, s)| sha256(&s))
        .collect();
    assert_eq!(x, y);
}

#[test]
fn render_to_writes_what_render_returns() {
    let r = renderer();
    let ctx = sample_context(true);
    for e in REGISTRY {
        let mut out = Vec::new();
        r.render_to(e.kind, e.format, &ctx, &mut out)
            .expect("renders");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            r.render(e.kind, e.format, &ctx).expect("renders")
        );
    }
}

#[test]
fn exercise_watermark_in_every_kind_and_format() {
    let r = renderer();
    let ctx = sample_context(true);
    let plain = sample_context(false);
    for e in REGISTRY {
        let out = r.render(e.kind, e.format, &ctx).expect("renders");
        match e.format {
            Format::Text => {
                assert!(out.starts_with(EXERCISE_WATERMARK), "{} top", e.file);
                assert!(
                    out.trim_end().ends_with(EXERCISE_WATERMARK),
                    "{} bottom",
                    e.file
                );
            }
            Format::Html => {
                assert!(out.starts_with("<section class=\"letter\">"), "{}", e.file);
                assert_eq!(out.matches(EXERCISE_WATERMARK).count(), 2, "{}", e.file);
                let doc = html_document("x", true, [out]).expect("document");
                assert!(doc.contains(&format!(
                    "<div class=\"exercise-banner\">{EXERCISE_WATERMARK}</div>"
                )));
            }
        }
        let real = r.render(e.kind, e.format, &plain).expect("renders");
        assert!(!real.contains(EXERCISE_WATERMARK), "{} unmarked", e.file);
    }
    for (name, out) in structured_outputs(true) {
        assert!(out.contains(EXERCISE_WATERMARK), "{name}");
    }
    for (name, out) in structured_outputs(false) {
        assert!(!out.contains(EXERCISE_WATERMARK), "{name}");
    }
}

#[test]
fn html_is_print_ready_and_self_contained() {
    let doc = html_document("t", false, Vec::<String>::new()).expect("document");
    for needle in [
        "@page",
        "margin",
        "break-after: page",
        "page-break-after: always",
    ] {
        assert!(doc.contains(needle), "{needle}");
    }
    // No external assets.
    for needle in ["<link", "src=", "url(", "@import", "http"] {
        assert!(!doc.contains(needle), "{needle}");
    }
    // Every font size is at least 10pt (Cal. Civ. Code 1798.82).
    for part in doc.split("font-size:").skip(1) {
        let n: f64 = part
            .trim_start()
            .split("pt")
            .next()
            .and_then(|s| s.parse().ok())
            .expect("font sizes are in pt");
        assert!(n >= 10.0, "font-size {n}pt");
    }
}

#[test]
fn mail_merge_neutralises_formulas() {
    let cells = ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"];
    let recips: Vec<RecipientContext> = cells
        .iter()
        .map(|c| RecipientContext {
            id: "R".into(),
            name: (*c).into(),
            address_lines: vec![(*c).into()],
            city: (*c).into(),
            ..Default::default()
        })
        .collect();
    let mut out = Vec::new();
    mail_merge_csv(&mut out, LetterKind::Individual, false, &recips).expect("csv");
    let mut rd = csv::Reader::from_reader(out.as_slice());
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), cells.len());
    for (row, cell) in rows.iter().zip(cells) {
        let want = format!("'{cell}");
        assert_eq!(&row[1], want.as_str(), "name");
        assert_eq!(&row[2], want.as_str(), "address_line1");
        assert_eq!(&row[5], want.as_str(), "city");
    }
    assert_eq!(neutralize_formula("Smith"), "Smith");
    assert_eq!(neutralize_formula(""), "");
}

#[test]
fn empty_annual_log_csv_still_has_its_header() {
    let mut out = Vec::new();
    write_annual_log_csv(&mut out, &[]).expect("csv");
    let s = String::from_utf8(out).expect("utf8");
    assert!(s.starts_with("incident_id,report_type,"), "{s}");
    assert_eq!(s.lines().count(), 1);
}

#[test]
fn annual_log_csv_neutralises_formulas() {
    let ctx = sample_context(false);
    let mut ws = ctx.hhs.expect("worksheet");
    ws.description = "=cmd|' /C calc'!A0".into();
    let rec = AnnualLogRecord::from_worksheet("2025-0007", &ws, false);
    let mut out = Vec::new();
    write_annual_log_csv(&mut out, &[rec]).expect("csv");
    let s = String::from_utf8(out).expect("utf8");
    assert!(s.contains("'=cmd"), "{s}");
}

#[test]
fn missing_contact_procedures_are_refused_164_404_c_1_e() {
    let r = renderer();
    let mut ctx = sample_context(false);
    ctx.org.toll_free.clear();
    let err = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect_err("no toll-free number");
    assert!(err.to_string().contains("toll-free"), "{err}");
    let mut ctx = sample_context(false);
    ctx.org.email.clear();
    ctx.org.website.clear();
    ctx.org.postal_address.clear();
    assert!(matches!(
        r.render(LetterKind::Media, Format::Html, &ctx),
        Err(LetterError::MissingContact { .. })
    ));
}

#[test]
fn no_html_template_for_the_hhs_worksheet() {
    let err = renderer()
        .render(LetterKind::HhsNotice, Format::Html, &sample_context(false))
        .expect_err("text and json only");
    assert!(matches!(err, LetterError::NoTemplate { .. }));
}

#[test]
fn default_steps_follow_the_data_elements() {
    let ssn = default_steps(&[DataElement::Ssn]);
    assert!(ssn.iter().any(|s| s.contains("freeze")));
    assert!(ssn.iter().any(|s| s.contains("identitytheft.gov")));
    assert!(!ssn.iter().any(|s| s.contains("Explanation of Benefits")));
    let plan = default_steps(&[DataElement::HealthPlanId]);
    assert!(plan.iter().any(|s| s.contains("Explanation of Benefits")));
    assert!(plan.iter().any(|s| s.contains("member ID")));
    assert!(!plan.iter().any(|s| s.contains("freeze")));
    let bank = default_steps(&[DataElement::FinancialAccount]);
    assert!(bank.iter().any(|s| s.contains("bank or card issuer")));
    assert!(!default_steps(&[]).is_empty());
    // Order does not depend on the input order.
    assert_eq!(
        default_steps(&[DataElement::Ssn, DataElement::Claims]),
        default_steps(&[DataElement::Claims, DataElement::Ssn])
    );
}

#[test]
fn substitute_and_oral_delay_periods() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    // 164.404(d)(2)(ii): posting and toll-free line for at least 90 days.
    let s = SubstituteContext::new(d("2025-02-20"), d("2025-02-21"), 12);
    assert_eq!(s.posting_end, "2025-05-21");
    assert_eq!(s.toll_free_end, "2025-05-22");
    // 164.412(b): an oral statement delays at most 30 days.
    let oral = LawEnforcementStatement {
        kind: StatementKind::Oral,
        date: d("2025-01-20"),
        until: None,
        agency: "FBI".into(),
        official: "SA Lee".into(),
    };
    let m = LeDelayContext::from_statement(&oral, LePolicy::LaterOf);
    assert_eq!(
        (m.statement_kind.as_str(), m.delay_end.as_str()),
        ("oral", "2025-02-19")
    );
    assert!(m.policy.contains("later_of"));
    let written = LawEnforcementStatement {
        kind: StatementKind::Written,
        until: Some(d("2025-04-01")),
        ..oral
    };
    let m = LeDelayContext::from_statement(&written, LePolicy::ExtendByDelay);
    assert_eq!(
        (m.statement_kind.as_str(), m.delay_end.as_str()),
        ("written", "2025-04-01")
    );
    assert_eq!(fmt_date(None), "unknown");
}

#[test]
fn golden_dir_has_no_stale_files() {
    let mut expected: BTreeSet<String> = REGISTRY.iter().map(golden_name).collect();
    expected.extend(structured_outputs(false).into_iter().map(|(n, _)| n));
    expected.extend(structured_outputs(true).into_iter().map(|(n, _)| n));
    let dir: &Path = &manifest_dir().join("tests/golden/letters");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("golden dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let stale: Vec<_> = on_disk.difference(&expected).collect();
    assert!(stale.is_empty(), "golden files nothing produces: {stale:?}");
}

/// Throughput check for large batches (1,000,000 letters must be practical): run with
/// `cargo test --lib letters -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput_individual_letters() {
    let r = renderer();
    let base = sample_context(false);
    let n = 50_000u32;
    let start = std::time::Instant::now();
    let mut sink = std::io::sink();
    for i in 0..n {
        let mut ctx = base.clone();
        if let Some(rc) = ctx.recipient.as_mut() {
            rc.id = format!("R-{i:07}");
        }
        r.render_to(LetterKind::Individual, Format::Html, &ctx, &mut sink)
            .expect("renders");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} letters in {secs:.2}s = {:.0} letters/s",
        f64::from(n) / secs
    );
}

#[test]
fn renderer_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Renderer>();
}

/// Issue 11: a full disk while writing letters is an I/O error (exit 8), not "invalid
/// input" (3).
#[test]
fn a_full_disk_is_an_io_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let ctx = sample_context(false);
    let e = renderer()
        .render_to(LetterKind::Individual, Format::Text, &ctx, &mut Full)
        .expect_err("ENOSPC");
    assert!(matches!(e, LetterError::Io(_)), "{e:?}");
    let cli: crate::error::Error = e.into();
    assert_eq!(cli.exit_code(), crate::error::exit::IO);
    let e = super::write_annual_log_csv(Full, &[]).expect_err("ENOSPC");
    let cli: crate::error::Error = e.into();
    assert_eq!(cli.exit_code(), crate::error::exit::IO);
    let e = super::write_annual_log_csv(Full, &[super::AnnualLogRecord::default()])
        .expect_err("ENOSPC");
    let cli: crate::error::Error = e.into();
    assert_eq!(cli.exit_code(), crate::error::exit::IO);
}
