//! The rules data and its loader: every built-in file loads and says where it came from;
//! bad files are refused with the file, field and reason; digests follow the bytes.

use chrono::NaiveDate;

use super::schema::{Provenance, Rule};
use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("test dates are valid")
}

const MINIMAL: &str = r#"
format = 1
jurisdiction = "TX"
name = "Texas"

[[version]]
effective = 2020-01-01
citation = "Tex. Bus. & Com. Code 521.053"

[version.trigger]
with_name = ["ssn"]
cite = "521.002"
unverified = { source = "test" }

[[version.individual]]
days = 60
from = "determination"
standard = "not later than the 60th day"
cite = "521.053(b)"
unverified = { source = "test" }

[[version.regulator]]
id = "ag"
name = "Attorney General"
at_least = 250
days = 30
from = "determination"
standard = "not later than the 30th day"
cite = "521.053(i)"
verified = { source = "https://example.org/tx", section = "521.053(i)", read = 2026-11-30 }

[version.hipaa]
treatment = "none"
cite = "ch. 521"
unverified = { source = "test" }
"#;

fn err_of(text: &str) -> LawError {
    load(text, "counsel.toml").expect_err("must be refused")
}

#[test]
fn every_builtin_file_loads_and_covers_the_54_jurisdictions() {
    let set = LawSet::builtin();
    assert_eq!(JURISDICTIONS.len(), 54);
    for code in JURISDICTIONS {
        let law = set
            .get(code)
            .unwrap_or_else(|| panic!("no built-in file for {code}"));
        assert_eq!(&law.file.jurisdiction, code);
        assert_eq!(law.origin, Origin::BuiltIn);
    }
    assert_eq!(set.iter().count(), 54);
    assert!(set.counsel_digest.is_none());
    assert_eq!(set.digest, set.builtin_digest);
}

#[test]
fn every_file_in_the_data_folder_is_embedded() {
    // Regression guard: a data file added without a line in builtin.rs would never load.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/laws/data");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("data folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = builtin::FILES
        .iter()
        .map(|(c, _)| format!("{}.toml", c.to_ascii_lowercase()))
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    for (code, text) in builtin::FILES {
        let on_disk =
            std::fs::read_to_string(dir.join(format!("{}.toml", code.to_ascii_lowercase())))
                .expect("readable");
        assert_eq!(&on_disk, text, "{code}");
    }
}

#[test]
fn every_verified_rule_names_a_statute_source_and_section() {
    let mut verified = 0;
    for law in LawSet::builtin().iter() {
        for v in &law.file.version {
            for p in table::provenances(v) {
                match p {
                    Provenance::Verified(x) => {
                        verified += 1;
                        assert!(x.source.starts_with("http") || x.source.starts_with("github:"));
                        assert!(!x.section.is_empty());
                    }
                    Provenance::Unverified(u) => assert!(!u.source.trim().is_empty()),
                }
            }
        }
    }
    // What the research could read in statute or enacted-bill text (README lists them).
    assert!(verified >= 10, "{verified}");
}

#[test]
fn the_priority_rules_read_as_the_statutes_do() {
    let set = LawSet::builtin();
    // Tex. Bus. & Com. Code 521.053(i) as amended by S.B. 768: 250 or more residents,
    // 30 days after determination, from 2023-09-01; 60 days before.
    let tx = set.get("TX").expect("TX");
    let Pick::Version(now) = tx.version_for(Some(d("2023-09-01"))) else {
        panic!("TX version")
    };
    let ag = &now.regulator[0];
    assert_eq!((ag.at_least, ag.days), (Some(250), Some(30)));
    assert!(ag.provenance().is_verified());
    let Pick::Version(before) = tx.version_for(Some(d("2023-08-31"))) else {
        panic!("TX version")
    };
    assert_eq!(before.regulator[0].days, Some(60));
    // DC: 50 or more residents.
    let dc = set.get("DC").expect("DC").file.version.last().expect("v");
    assert_eq!(dc.regulator[0].at_least, Some(50));
    // CA: 30 days from 2026-01-01, most expedient time before.
    let ca = set.get("CA").expect("CA");
    let Pick::Version(v26) = ca.version_for(Some(d("2026-01-01"))) else {
        panic!()
    };
    assert_eq!(v26.individual[0].days, Some(30));
    let Pick::Version(v25) = ca.version_for(Some(d("2025-12-31"))) else {
        panic!()
    };
    assert_eq!(v25.individual[0].days, None);
    // IL: HIPAA entities notify the AG within 5 business days of notifying HHS.
    let il = set.get("IL").expect("IL").file.version.last().expect("v");
    let hhs = il
        .regulator
        .iter()
        .find(|r| r.id == "ag_hhs")
        .expect("ag_hhs");
    assert_eq!((hhs.days, hhs.unit), (Some(5), schema::DayUnit::Business));
}

#[test]
fn version_for_picks_by_discovery_date_and_says_when_the_data_starts() {
    let set = LawSet::builtin();
    let tx = set.get("TX").expect("TX");
    assert!(
        matches!(tx.version_for(Some(d("2019-12-31"))), Pick::BeforeData(x) if x == d("2020-01-01"))
    );
    let Pick::Version(v) = tx.version_for(None) else {
        panic!()
    };
    assert_eq!(v.effective, d("2023-09-01"));
}

#[test]
fn a_minimal_file_loads() {
    let f = load(MINIMAL, "counsel.toml").expect("loads");
    assert_eq!(f.jurisdiction, "TX");
    assert!(f.version[0].regulator[0].provenance().is_verified());
    assert!(!f.version[0].individual[0].provenance().is_verified());
}

#[test]
fn bad_files_name_the_file_field_and_reason() {
    // (broken text, field named, words of the reason)
    let cases: &[(&str, &str, &str)] = &[
        (
            "treatment = \"none\"\ncite = \"ch. 521\"\nunverified = { source = \"test\" }",
            "version[0].hipaa.verified",
            "not both",
        ),
        (
            "at_least = 250",
            "version[0].regulator[0].at_least",
            "not both",
        ),
        ("format = 1", "format", ""),
        (
            "jurisdiction = \"TX\"",
            "jurisdiction",
            "covered jurisdiction",
        ),
        ("effective = 2020-01-01", "version[1].effective", "in order"),
        (
            "days = 30\nfrom = \"determination\"",
            "version[0].regulator[0].days",
            "0 days",
        ),
        (
            "id = \"ag\"\nname = \"Attorney General\"",
            "version[0].regulator[0].id",
            "lower-case",
        ),
        (
            "unit = \"calendar\"",
            "version[0].regulator[0].unit",
            "needs `days`",
        ),
    ];
    let edits: Vec<String> = vec![
        MINIMAL.replace(
            "treatment = \"none\"\ncite = \"ch. 521\"\nunverified = { source = \"test\" }",
            "treatment = \"none\"\ncite = \"ch. 521\"\nunverified = { source = \"test\" }\nverified = { source = \"https://x\", section = \"s\", read = 2026-01-01 }",
        ),
        MINIMAL.replace("at_least = 250", "at_least = 250\nmore_than = 500"),
        MINIMAL.replace("format = 1", "format = 2"),
        MINIMAL.replace("jurisdiction = \"TX\"", "jurisdiction = \"ZZ\""),
        format!(
            "{MINIMAL}\n{}",
            MINIMAL
                .split("[[version]]")
                .nth(1)
                .map(|v| format!("[[version]]{v}"))
                .unwrap_or_default()
                .replace("effective = 2020-01-01", "effective = 2019-01-01")
        ),
        MINIMAL.replace("days = 30\nfrom = \"determination\"", "days = 0\nfrom = \"determination\""),
        MINIMAL.replace("id = \"ag\"\nname = \"Attorney General\"", "id = \"AG!\"\nname = \"Attorney General\""),
        MINIMAL.replace("days = 30\nfrom = \"determination\"", "unit = \"business\"\nfrom = \"determination\""),
    ];
    for ((_, field, words), text) in cases.iter().zip(edits) {
        let e = err_of(&text);
        assert_eq!(e.file, "counsel.toml");
        assert_eq!(&e.field, field, "{e}");
        assert!(e.reason.contains(words), "{e}");
        assert!(e.to_string().starts_with("counsel.toml"), "{e}");
        if field.starts_with("version[0].regulator[0].") {
            assert!(e.line.is_some(), "a rule field has a line: {e}");
        }
    }
}

#[test]
fn a_rule_without_provenance_is_refused() {
    let text = MINIMAL.replace(
        "cite = \"ch. 521\"\nunverified = { source = \"test\" }",
        "cite = \"ch. 521\"",
    );
    let e = err_of(&text);
    assert_eq!(e.field, "version[0].hipaa.unverified");
    assert!(e.reason.contains("where it came from"), "{e}");
    let text = MINIMAL.replace("https://example.org/tx", "my notes");
    let e = err_of(&text);
    assert_eq!(e.field, "version[0].regulator[0].verified.source");
}

#[test]
fn type_errors_and_unknown_keys_give_the_line() {
    let text = MINIMAL.replace("at_least = 250", "at_least = \"many\"");
    let e = err_of(&text);
    assert_eq!(e.field, "version[0].regulator[0].at_least");
    assert_eq!(
        e.line,
        Some(
            MINIMAL
                .lines()
                .position(|l| l.starts_with("at_least"))
                .map(|i| i + 1)
                .expect("line")
        ),
        "{e}"
    );
    assert!(e.line.is_some(), "{e}");
    let text = MINIMAL.replace("at_least = 250", "at_lest = 250");
    let e = err_of(&text);
    assert!(e.reason.contains("at_lest"), "{e}");
    assert!(e.reason.contains("at_least"), "accepted keys listed: {e}");
    let e = err_of("format = \n");
    assert_eq!(e.field, "(syntax)");
    assert_eq!(e.line, Some(1));
}

#[test]
fn counsel_files_replace_builtin_ones_and_change_the_digest() {
    let builtin = builtin::sources();
    let counsel = vec![LawSource {
        origin: Origin::Counsel,
        name: "tx.toml".into(),
        text: MINIMAL.to_string(),
    }];
    let set = LawSet::build(&builtin, &counsel).expect("builds");
    assert_eq!(set.get("TX").expect("TX").origin, Origin::Counsel);
    assert_eq!(set.get("CA").expect("CA").origin, Origin::BuiltIn);
    assert_eq!(set.builtin_digest, LawSet::builtin().builtin_digest);
    assert_ne!(set.digest, LawSet::builtin().digest);
    assert!(set.counsel_digest.is_some());
    assert_eq!(set.counsel().count(), 1);
    // One byte more changes every digest that covers the file.
    let mut counsel2 = counsel.clone();
    counsel2[0].text.push('\n');
    let set2 = LawSet::build(&builtin, &counsel2).expect("builds");
    assert_ne!(set2.counsel_digest, set.counsel_digest);
    assert_ne!(set2.digest, set.digest);
    // Two files for one jurisdiction are refused.
    let twice = [counsel.clone(), counsel].concat();
    let e = LawSet::build(&builtin, &twice).expect_err("duplicate");
    assert!(e.reason.contains("one file per jurisdiction"), "{e}");
}

#[test]
fn digest_encoding_is_pinned() {
    // The documented encoding of src/laws/mod.rs over one file, computed by hand:
    // "BDLAWS1\n" ‖ u32(2) "TX" ‖ 0x01 ‖ u32(len) text.
    use sha2::{Digest, Sha256};
    let text = MINIMAL;
    let mut bytes = b"BDLAWS1\n".to_vec();
    bytes.extend(2u32.to_be_bytes());
    bytes.extend(b"TX");
    bytes.push(1);
    bytes.extend((text.len() as u32).to_be_bytes());
    bytes.extend(text.as_bytes());
    let want: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let set = LawSet::build(
        &[],
        &[LawSource {
            origin: Origin::Counsel,
            name: "tx.toml".into(),
            text: text.to_string(),
        }],
    )
    .expect("builds");
    assert_eq!(set.counsel_digest.as_deref(), Some(want.as_str()));
    assert_eq!(set.digest, want);
}

#[test]
fn the_table_has_a_row_per_jurisdiction_with_its_verification_count() {
    let md = table::markdown(LawSet::builtin());
    assert_eq!(md.lines().count(), 2 + 54);
    let tx = md.lines().find(|l| l.starts_with("| TX")).expect("TX row");
    assert!(
        tx.contains("250 or more residents; 30 calendar days from the determination"),
        "{tx}"
    );
    let rows = table::rows(LawSet::builtin());
    let tx = rows.iter().find(|r| r.jurisdiction == "TX").expect("TX");
    assert!(tx.verified >= 3 && tx.verified < tx.rules, "{tx:?}");
}

/// The text between `<!-- {begin} -->` and `<!-- {end} -->` of a document.
fn between<'a>(doc: &'a str, begin: &str, end: &str) -> &'a str {
    let b = format!("<!-- {begin} -->\n");
    let e = format!("<!-- {end} -->");
    let start = doc.find(&b).map(|i| i + b.len()).expect("begin marker");
    let stop = doc[start..]
        .find(&e)
        .map(|i| start + i)
        .expect("end marker");
    &doc[start..stop]
}

/// README.md's table of jurisdictions is the data's (`breachdesk laws list --markdown`):
/// regenerate it with that command when the data change.
#[test]
fn readme_table_is_generated_from_the_data() {
    let doc = include_str!("../../README.md");
    let want = table::markdown(LawSet::builtin());
    assert_eq!(
        between(doc, "laws list --markdown", "end laws list"),
        want,
        "README.md's State-law table differs from `breachdesk laws list --markdown`:\n{want}"
    );
}

/// src/laws/README.md's table of verified rules is the data's (`breachdesk laws list
/// --verified --markdown`).
#[test]
fn laws_readme_verified_table_is_generated_from_the_data() {
    let doc = include_str!("README.md");
    let want = table::verified_markdown(LawSet::builtin());
    assert_eq!(
        between(
            doc,
            "laws list --verified --markdown",
            "end laws list --verified"
        ),
        want,
        "src/laws/README.md's verified table differs from `breachdesk laws list --verified --markdown`:\n{want}"
    );
    // Every jurisdiction with a verified rule is listed (the first six were, once).
    let rows = table::rows(LawSet::builtin());
    let verified = rows.iter().filter(|r| r.verified > 0).count();
    assert_eq!(want.lines().count(), 2 + verified);
    assert!(verified > 6, "{verified}");
}

#[test]
fn counsel_may_add_american_samoa_and_replace_a_builtin_file() {
    let text = MINIMAL
        .replace("jurisdiction = \"TX\"", "jurisdiction = \"AS\"")
        .replace("name = \"Texas\"", "name = \"American Samoa\"");
    let set = LawSet::in_force(&[LawSource {
        origin: Origin::Counsel,
        name: "as.toml".into(),
        text,
    }])
    .expect("loads");
    assert_eq!(set.get("AS").map(|l| l.origin), Some(Origin::Counsel));
    assert_eq!(set.builtin_digest, LawSet::builtin().builtin_digest);
    assert_ne!(set.digest, LawSet::builtin().digest);
    // No counsel files: the built-in set itself.
    let same = LawSet::in_force(&[]).expect("built-in");
    assert_eq!(same.digest, LawSet::builtin().digest);
    // The same counsel file through `build` and `in_force` gives the same digests.
    let tx = LawSource {
        origin: Origin::Counsel,
        name: "tx.toml".into(),
        text: MINIMAL.to_string(),
    };
    let a = LawSet::build(&builtin::sources(), std::slice::from_ref(&tx)).expect("build");
    let b = LawSet::in_force(&[tx]).expect("in force");
    assert_eq!(
        (a.digest, a.counsel_digest),
        (b.digest.clone(), b.counsel_digest.clone())
    );
}

#[test]
fn every_rule_of_every_version_is_listed_once_with_its_provenance() {
    for law in LawSet::builtin().iter() {
        for v in &law.file.version {
            let lines = table::rules_of(v);
            let provs = table::provenances(v);
            assert_eq!(lines.len(), provs.len(), "{}", law.file.jurisdiction);
            for (l, p) in lines.iter().zip(&provs) {
                assert_eq!(l.verified, p.is_verified());
                assert_eq!(l.provenance, p.describe());
            }
        }
    }
}
