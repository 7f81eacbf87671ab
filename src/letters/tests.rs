//! Tests of the letters layer: golden files, registry completeness, escaping, strict mode,
//! the required-elements check, reproducibility and the exercise watermark.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::sample::{SAMPLE_ACTIONS, SAMPLE_DOING};
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

/// Every template on the full sample and on the sparse one, and the individual and
/// next-of-kin letters for each kind of recipient and as e-mail.
fn template_outputs() -> Vec<(String, String)> {
    let r = renderer();
    let full = sample_context(false);
    let sparse = sparse_context();
    let nok = full.clone().with_recipient(
        sample_recipients()
            .into_iter()
            .find(|x| x.deceased_name.is_some())
            .expect("a next-of-kin sample"),
    );
    let mut cases = Vec::new();
    for e in REGISTRY {
        let base = if e.kind == LetterKind::NextOfKin {
            &nok
        } else {
            &full
        };
        let out = r.render(e.kind, e.format, base).expect("sample renders");
        cases.push((golden_name(e), out));
        let mut sp = sparse.clone();
        if e.kind == LetterKind::NextOfKin {
            sp.recipient = nok.recipient.clone();
        }
        let out = r
            .render(e.kind, e.format, &sp)
            .expect("sparse sample renders");
        cases.push((format!("{}.sparse", golden_name(e)), out));
    }
    let ext = |f: Format| if f == Format::Text { "txt" } else { "html" };
    for (i, rc) in sample_recipients().into_iter().enumerate().skip(1) {
        if rc.deceased_name.is_some() {
            continue;
        }
        for f in [Format::Text, Format::Html] {
            let ctx = full.clone().with_recipient(rc.clone());
            let out = r.render(LetterKind::Individual, f, &ctx).expect("renders");
            cases.push((format!("individual.minor{i}.{}", ext(f)), out));
        }
    }
    for f in [Format::Text, Format::Html] {
        let mut ctx = full.clone();
        ctx.email = true;
        let out = r.render(LetterKind::Individual, f, &ctx).expect("renders");
        cases.push((format!("individual.email.{}", ext(f)), out));
    }
    cases
}

#[test]
fn golden_every_template_and_format() {
    goldens(&template_outputs());
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
    other.id = "R-000009".into();
    other.name = "Sam O'Brien".into();
    other.first_name = "Sam".into();
    other.last_name = "O'Brien".into();
    other.zip = "900021234".into();
    other.address_lines = vec![
        "1 A St".into(),
        "Unit 2".into(),
        "Bldg 3".into(),
        "Rear".into(),
    ];
    let mut recips = vec![ctx.recipient.clone().expect("sample recipient"), other];
    recips.extend(sample_recipients().into_iter().skip(1));
    mail_merge_csv(&mut merge, LetterKind::Individual, exercise, &recips).expect("merge csv");
    let r = renderer();
    let pages = recips
        .iter()
        .filter(|rc| rc.deceased_name.is_none())
        .map(|rc| {
            let c = ctx.clone().with_recipient(rc.clone());
            r.render(LetterKind::Individual, Format::Html, &c)
                .expect("renders")
        });
    let doc =
        html_document("Notice of Data Breach", exercise, Layout::Single, pages).expect("document");
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
    let mut registered: BTreeSet<String> = REGISTRY.iter().map(|e| e.file.to_string()).collect();
    registered.extend(PARTIALS.iter().map(|p| p.file.to_string()));
    let unregistered: Vec<_> = on_disk.difference(&registered).collect();
    assert!(
        unregistered.is_empty(),
        "templates/ holds files no REGISTRY or PARTIALS entry names: {unregistered:?}"
    );
    assert_eq!(
        registered.len(),
        REGISTRY.len() + PARTIALS.len(),
        "a file is registered twice"
    );
    // Every partial a template names exists for that template's format.
    for e in REGISTRY {
        for name in e.source.split("{{> ").skip(1) {
            let name = name.split(['}', ' ']).next().unwrap_or("");
            assert!(
                PARTIALS
                    .iter()
                    .any(|p| p.name == name && p.in_format(e.format)),
                "{} names the partial {name}, which has no {} file",
                e.file,
                e.format
            );
        }
    }
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
    let cases: [(LetterKind, Strip, &str); 6] = [
        (LetterKind::Media, |c| c.media = None, "media"),
        (
            LetterKind::SubstituteWeb,
            |c| c.substitute = None,
            "substitute",
        ),
        (LetterKind::HhsNotice, |c| c.hhs = None, "hhs"),
        (LetterKind::BaToCe, |c| c.ba_to_ce = None, "ba_to_ce"),
        (LetterKind::LeDelayMemo, |c| c.le_delay = None, "le_delay"),
        (
            LetterKind::StateRegulator,
            |c| c.regulator = None,
            "regulator",
        ),
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
    assert!(
        findings
            .iter()
            .any(|f| f.kind == Some(LetterKind::Individual)
                && f.format == Some(Format::Html)
                && f.element == "render")
    );
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
    for kind in [
        LetterKind::Individual,
        LetterKind::NextOfKin,
        LetterKind::Media,
        LetterKind::BaToCe,
    ] {
        for format in [Format::Text, Format::Html] {
            let e = entry(kind, format).expect("registered");
            for (element, hs) in DEFAULT_HEADINGS {
                let heading = hs
                    .iter()
                    .find(|h| e.source.contains(*h))
                    .unwrap_or_else(|| panic!("{} lacks a heading for {element}", e.file));
                let dir = tempfile::tempdir().expect("tempdir");
                let edited = e.source.replace(heading, "Details");
                std::fs::write(dir.path().join(e.file), edited).expect("write");
                let findings = check_templates(Some(dir.path())).expect("check runs");
                assert!(!findings.is_empty(), "{}: nothing found", e.file);
                for f in &findings {
                    assert_eq!(
                        (f.kind, f.format, f.element),
                        (Some(kind), Some(format), element),
                        "{findings:#?}"
                    );
                }
                assert!(
                    findings.iter().any(|f| f.what.contains(heading)),
                    "{findings:#?}"
                );
            }
        }
    }
}

/// Content is judged, not headings alone: dropping what an element says is caught, in the
/// templates and in the partials they use (edited in both formats alike, so only the
/// dropped element is reported).
#[test]
fn check_catches_dropped_content_not_only_headings() {
    let part = |name: &str, f: Format| {
        PARTIALS
            .iter()
            .find(|p| p.name == name && p.in_format(f))
            .expect("a partial")
    };
    type Edit = (&'static str, &'static str, &'static str, &'static str);
    let cases: [Edit; 4] = [
        ("more_information", "{{org.toll_free}}", "E", "toll-free"),
        (
            "what_happened",
            "{{> discovered_date}}",
            "A",
            "date of discovery",
        ),
        (
            "what_we_are_doing",
            "{{incident.doing.mitigate}}",
            "D",
            "mitigate",
        ),
        ("steps", "{{> credit_offer}}", "C", "enrollment"),
    ];
    for (name, cut, element, what) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [Format::Text, Format::Html] {
            let p = part(name, f);
            let edited = p.source.replace(cut, "(see enclosure)");
            assert_ne!(edited, p.source, "{}", p.file);
            std::fs::write(dir.path().join(p.file), edited).expect("write");
        }
        let findings = check_templates(Some(dir.path())).expect("check runs");
        assert!(!findings.is_empty(), "{cut}: nothing found");
        assert!(
            findings.iter().all(|f| f.element == element),
            "{cut}: {findings:#?}"
        );
        assert!(
            findings.iter().any(|f| f.what.contains(what)),
            "{cut}: {findings:#?}"
        );
    }
    // Each kind of PHI must be listed under (B).
    let e = entry(LetterKind::Individual, Format::Text).expect("registered");
    let dir = tempfile::tempdir().expect("tempdir");
    let edited = e.source.replace(
        "{{#each incident.phi_involved}}\n  - {{this}}\n{{/each}}\n",
        "",
    );
    assert_ne!(edited, e.source);
    std::fs::write(dir.path().join(e.file), edited).expect("write");
    let findings = check_templates(Some(dir.path())).expect("check runs");
    assert!(
        findings
            .iter()
            .any(|f| f.element == "B" && f.what.contains("Social Security number")),
        "{findings:#?}"
    );
    // E also needs one of e-mail, web site or postal address.
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [Format::Text, Format::Html] {
        let p = part("more_information", f);
        let edited = p.source.replace(" You can also {{> contact_methods}}.", "");
        assert_ne!(edited, p.source);
        std::fs::write(dir.path().join(p.file), edited).expect("write");
    }
    let findings = check_templates(Some(dir.path())).expect("check runs");
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f.element == "E"), "{findings:#?}");
}

/// Regression (issue 13): a letter whose "What You Can Do." sat inside an HTML comment or
/// a `display:none` block passed the check, while counsel's complete letter with headings
/// in capitals was refused.
#[test]
fn check_judges_what_is_visible_whatever_the_case() {
    let e = entry(LetterKind::Individual, Format::Html).expect("registered");
    let hidden_ways = [
        ("<!--", "-->"),
        ("<div style=\"display:none\">", "</div>"),
        ("<div hidden>", "</div>"),
        (
            "<div class=\"fine-print\">",
            "</div><style>.fine-print { display: none }</style>",
        ),
    ];
    for (open, close) in hidden_ways {
        let edited = e.source.replace(
            "<h2>What You Can Do.</h2>\n{{> steps}}",
            &format!("{open}<h2>What You Can Do.</h2>\n{{{{> steps}}}}{close}"),
        );
        assert_ne!(edited, e.source);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(e.file), edited).expect("write");
        let findings = check_templates(Some(dir.path())).expect("check runs");
        assert!(
            findings
                .iter()
                .any(|f| f.element == "C" && f.kind == Some(LetterKind::Individual)),
            "{open}: {findings:#?}"
        );
    }
    // Capitals, and a heading mapped by counsel, pass.
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [Format::Text, Format::Html] {
        let e = entry(LetterKind::Individual, f).expect("registered");
        let edited = e
            .source
            .replace("What Happened?", "WHAT HAPPENED")
            .replace("What You Can Do.", "Protecting Yourself");
        std::fs::write(dir.path().join(e.file), edited).expect("write");
    }
    let findings = check_templates(Some(dir.path())).expect("check runs");
    assert!(
        findings.iter().all(|f| f.element == "C") && !findings.is_empty(),
        "{findings:#?}"
    );
    std::fs::write(
        dir.path().join(HEADINGS_FILE),
        "C = [\"Protecting yourself\"]\n",
    )
    .expect("write");
    let findings = check_templates(Some(dir.path())).expect("check runs");
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn check_reports_text_and_html_that_disagree() {
    let e = entry(LetterKind::Media, Format::Html).expect("registered");
    let edited = e.source.replace(
        "{{> what_we_are_doing}}",
        "{{> what_we_are_doing}}\n<p>We will also offer a support line for six months.</p>",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(e.file), edited).expect("write");
    let findings = check_templates(Some(dir.path())).expect("check runs");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!((f.kind, f.element), (Some(LetterKind::Media), "agree"));
    assert!(f.what.contains("element D"), "{}", f.what);
    assert!(f.what.contains("support line"), "{}", f.what);
}

#[test]
fn reproducible_same_inputs_same_sha256() {
    let (a, b) = (renderer(), renderer());
    for e in REGISTRY {
        let ctx = sample::sample_for(e.kind, false);
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
    for e in REGISTRY {
        let ctx = sample::sample_for(e.kind, true);
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
    for e in REGISTRY {
        let ctx = sample::sample_for(e.kind, true);
        let plain = sample::sample_for(e.kind, false);
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
                // A band at the top and at the bottom of the letter's page(s).
                assert_eq!(out.matches(EXERCISE_WATERMARK).count(), 2, "{}", e.file);
                assert!(out.contains("watermark-top") && out.contains("watermark-bottom"));
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
    let doc = html_document("t", false, Layout::Single, Vec::<String>::new()).expect("document");
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
            first_name: (*c).into(),
            address_lines: vec![(*c).into()],
            city: (*c).into(),
            zip: "12345".into(),
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
        assert_eq!(&row[2], want.as_str(), "first_name");
        assert_eq!(&row[6], want.as_str(), "address_line1");
        assert_eq!(&row[9], want.as_str(), "city");
    }
    // A ZIP that is neither 5 digits nor ZIP+4 never reaches a vendor.
    let bad = RecipientContext {
        zip: "1234".into(),
        ..recips[0].clone()
    };
    assert!(mail_merge_csv(&mut Vec::new(), LetterKind::Individual, false, [&bad]).is_err());
    assert_eq!(vendor_zip("123456789").as_deref(), Some("12345-6789"));
    assert_eq!(vendor_zip("12345-6789").as_deref(), Some("12345-6789"));
    assert_eq!(vendor_zip("12345").as_deref(), Some("12345"));
    assert_eq!(vendor_zip("1234-56789"), None);
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
    ws.description = Some("=cmd|' /C calc'!A0".into());
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
    ctx.org.toll_free = None;
    let err = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect_err("no toll-free number");
    assert!(err.to_string().contains("toll-free"), "{err}");
    let mut ctx = sample_context(false);
    ctx.org.email = None;
    ctx.org.website = None;
    ctx.org.postal_address = None;
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

/// The steps of (C) follow the kinds of data involved; the wording is the `steps` partial's.
#[test]
fn steps_follow_the_data_elements() {
    let r = renderer();
    let steps = |elements: &[DataElement]| {
        let mut ctx = sample_context(false);
        let facts = crate::domain::Facts {
            breach: crate::domain::BreachFacts {
                phi: elements.to_vec(),
                ..Default::default()
            },
            ..Default::default()
        };
        ctx.incident.involves = IncidentContext::from_facts(
            "x",
            &facts,
            crate::domain::Role::CoveredEntity,
            d("2025-01-01"),
        )
        .involves;
        ctx.incident.credit_monitoring = None;
        let out = r
            .render(LetterKind::Individual, Format::Text, &ctx)
            .expect("renders");
        let from = out.find("What You Can Do.").expect("C");
        let to = out.find("For More Information.").expect("E");
        out[from..to].to_string()
    };
    let ssn = steps(&[DataElement::Ssn]);
    assert!(
        ssn.contains("freeze") && ssn.contains("identitytheft.gov"),
        "{ssn}"
    );
    assert!(!ssn.contains("Explanation of Benefits"), "{ssn}");
    let plan = steps(&[DataElement::HealthPlanId]);
    assert!(plan.contains("Explanation of Benefits") && plan.contains("member ID"));
    assert!(!plan.contains("freeze"), "{plan}");
    let bank = steps(&[DataElement::FinancialAccount]);
    assert!(bank.contains("bank or card issuer") && bank.contains("freeze"));
    assert!(steps(&[]).contains("Be careful"));
    assert_eq!(
        steps(&[DataElement::Ssn, DataElement::Claims]),
        steps(&[DataElement::Claims, DataElement::Ssn])
    );
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Regression (issue 13): "Dear :", "Media contact: , Org", "unknown to unknown" and ISO
/// dates reached letters. Whatever is unknown, no template prints a blank.
#[test]
fn nothing_blank_whatever_is_unknown() {
    let r = renderer();
    for e in REGISTRY {
        let mut ctx = sparse_context();
        if e.kind == LetterKind::NextOfKin {
            ctx.recipient = sample_recipients()
                .into_iter()
                .find(|x| x.deceased_name.is_some());
        }
        let out = r.render(e.kind, e.format, &ctx).expect("renders");
        let text = visible(e.format, &out).join("\n");
        for bad in [
            "Dear :",
            ": ,",
            " , ",
            ",,",
            "()",
            "unknown to unknown",
            "Media contact",
            "Prepared by: \n",
            "  \n",
        ] {
            assert!(!text.contains(bad), "{}: {bad:?} in\n{text}", e.file);
        }
        if e.kind.is_notice_to_individuals() {
            assert!(text.contains("not yet known"), "{}: {text}", e.file);
        }
    }
    // A letter without a name for its recipient is refused, naming the field.
    let mut ctx = sample_context(false);
    if let Some(rc) = ctx.recipient.as_mut() {
        rc.name.clear();
    }
    let e = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect_err("no name");
    assert!(e.to_string().contains("recipient.name"), "{e}");
}

#[test]
fn dates_read_as_words() {
    assert_eq!(long_date(d("2025-03-03")), "March 3, 2025");
    assert_eq!(opt_date(None), None);
    let facts = crate::domain::Facts {
        breach: crate::domain::BreachFacts {
            start: Some(d("2025-03-03")),
            end: Some(d("2025-03-03")),
            discovered: Some(d("2025-03-10")),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut ctx = sample_context(false);
    ctx.incident = IncidentContext::from_facts(
        "x",
        &facts,
        crate::domain::Role::CoveredEntity,
        d("2025-04-01"),
    );
    let out = renderer()
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect("renders");
    assert!(out.contains("Date of the breach: March 3, 2025\n"), "{out}");
    assert!(
        out.contains("Date we discovered it: March 10, 2025"),
        "{out}"
    );
    assert!(out.contains("April 1, 2025"), "{out}");
    assert!(!out.contains("2025-03"), "{out}");
}

/// A minor's letter is addressed and written to the parent or guardian; a next-of-kin
/// letter to the next of kin about the deceased, never to "you" the deceased.
#[test]
fn letters_are_written_to_who_receives_them() {
    let r = renderer();
    let recips = sample_recipients();
    let base = sample_context(false);
    let minor = base.clone().with_recipient(recips[1].clone());
    let out = r
        .render(LetterKind::Individual, Format::Text, &minor)
        .expect("renders");
    assert!(
        out.contains("Pat Sample, Parent or Guardian of Casey Sample\n12 Elm Street"),
        "{out}"
    );
    assert!(out.contains("Dear Pat Sample:"), "{out}");
    assert!(out.contains("parent or guardian of Casey Sample"), "{out}");
    assert!(
        out.contains("credit file exists in Casey Sample's name"),
        "{out}"
    );
    assert!(!out.contains("Dear Casey"), "{out}");
    let unnamed = base.clone().with_recipient(recips[2].clone());
    let out = r
        .render(LetterKind::Individual, Format::Html, &unnamed)
        .expect("renders");
    assert!(
        out.contains("Parent or Guardian of Riley Example<br>"),
        "{out}"
    );
    assert!(out.contains("Dear Parent or Guardian:"), "{out}");
    let nok = base.clone().with_recipient(recips[3].clone());
    let out = r
        .render(LetterKind::NextOfKin, Format::Text, &nok)
        .expect("renders");
    assert!(out.contains("Dear Morgan Kin:"), "{out}");
    assert!(out.contains("credit file of Avery Sample"), "{out}");
    let steps = &out[out.find("What You Can Do.").expect("C")..];
    for own in [
        "your credit file",
        "your identity",
        "your bank",
        "your health plan",
    ] {
        assert!(!steps.contains(own), "{own}: {steps}");
    }
}

/// Media, HHS and covered-entity letters speak of individuals in the third person and name
/// the business associate involved.
#[test]
fn third_person_where_the_reader_is_not_the_individual() {
    let r = renderer();
    let ctx = sample_context(false);
    for kind in [LetterKind::Media, LetterKind::BaToCe] {
        for f in [Format::Text, Format::Html] {
            let out = r.render(kind, f, &ctx).expect("renders");
            for you in [" you ", " your ", "You can", "Your "] {
                assert!(!out.contains(you), "{kind} {f}: {you:?}");
            }
        }
    }
    for kind in [
        LetterKind::Individual,
        LetterKind::Media,
        LetterKind::SubstituteWeb,
    ] {
        let out = r.render(kind, Format::Text, &ctx).expect("renders");
        assert!(out.contains("Harbor IT Services"), "{kind}: BA named");
    }
    let mut no_ba = ctx.clone();
    no_ba.incident.business_associate = None;
    let out = r
        .render(LetterKind::Individual, Format::Text, &no_ba)
        .expect("renders");
    assert!(!out.contains("Harbor IT"), "{out}");
}

/// "What We Are Doing." is counsel's text when written, else the actions taken, else the
/// partial's default; the offer of credit monitoring shows with the person's own code.
#[test]
fn what_we_are_doing_and_credit_monitoring() {
    let r = renderer();
    let mut ctx = sample_context(false);
    let out = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect("renders");
    for t in SAMPLE_DOING {
        assert!(out.contains(t), "{t}");
    }
    assert!(!out.contains(SAMPLE_ACTIONS[0]), "{out}");
    assert!(out.contains("24 months of free credit monitoring through Example Credit Watch"));
    assert!(out.contains("https://enroll.example.com/lakeside and enter the enrollment code LKS-4F7Q-93KD by May 31, 2025"), "{out}");
    ctx.incident.doing = None;
    let out = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect("renders");
    assert!(out.contains(SAMPLE_ACTIONS[0]), "{out}");
    ctx.incident.actions.clear();
    ctx.incident.credit_monitoring = None;
    let out = r
        .render(LetterKind::Individual, Format::Text, &ctx)
        .expect("renders");
    assert!(out.contains("We are investigating what happened"), "{out}");
    assert!(!out.contains("credit monitoring"), "{out}");
}

#[test]
fn substitute_and_oral_delay_periods() {
    // 164.404(d)(2)(ii): posting and toll-free line for at least 90 days.
    let s = SubstituteContext::new(d("2025-02-20"), d("2025-02-21"), 12);
    assert_eq!(s.posting_end, "May 21, 2025");
    assert_eq!(s.toll_free_end, "May 22, 2025");
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
        (m.oral, m.delay_end.as_deref()),
        (true, Some("February 19, 2025"))
    );
    assert!(m.policy.contains("later_of"));
    let written = LawEnforcementStatement {
        kind: StatementKind::Written,
        until: Some(d("2025-04-01")),
        ..oral
    };
    let m = LeDelayContext::from_statement(&written, LePolicy::ExtendByDelay);
    assert_eq!(
        (m.oral, m.delay_end.as_deref()),
        (false, Some("April 1, 2025"))
    );
}

#[test]
fn golden_dir_has_no_stale_files() {
    let mut expected: BTreeSet<String> = template_outputs().into_iter().map(|(n, _)| n).collect();
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
