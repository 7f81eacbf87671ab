//! Roster data quality (issue 14 § 3, issue 13 § 1, issue 9 § 5): separators, warnings by
//! column, rows that need fixing and their replacement, possible duplicates across
//! identifiers, `roster issues`, the covered-entity split of BA → covered entity notices,
//! empty imports and imports that lower counts.

use crate::common::*;

const ID: &str = "2026-0001";

fn with_incident(e: Env) -> Env {
    e.incident(&["--title", "Roster test", "--discovered", "2026-10-01"]);
    e
}

fn import(e: &Env, file: &std::path::Path, extra: &[&str]) -> Run {
    let mut a = vec!["roster", "import", ID, s(file), "--accept-lower-counts"];
    a.extend_from_slice(extra);
    e.run(&a)
}

fn stats(e: &Env) -> serde_json::Value {
    e.run(&["roster", "stats", ID, "--json"]).ok().json()
}

fn issues(e: &Env) -> Vec<serde_json::Value> {
    let v = e.run(&["roster", "issues", ID, "--json"]).ok().json();
    v["issues"].as_array().unwrap().clone()
}

fn kinds(list: &[serde_json::Value]) -> Vec<(String, u64)> {
    list.iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn semicolon_and_tab_separated_files_are_recognised_or_named() {
    let e = with_incident(Env::plain());
    let semi = e.write(
        "semi.csv",
        "MRN;First Name;Last Name;Address;City;State;Zip\n\
         1;Ann;Lee;1 Main St;Austin;TX;78701\n\
         2;\"Bo; Jr\";Kim;2 Main St;Austin;TX;78701\n",
    );
    let v = import(&e, &semi, &["--json"]).ok().json();
    assert_eq!(v["delimiter"], "semicolon");
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["rejected"], 0);
    let tab = e.write(
        "tab.tsv",
        "MRN\tFirst Name\tLast Name\tAddress\tCity\tState\tZip\n\
         3\tCy\tDoe\t3 Main St\tReno\tNV\t89501\n",
    );
    let v = import(&e, &tab, &["--json"]).ok().json();
    assert_eq!(v["delimiter"], "tab");
    assert_eq!(v["accepted"], 1);
    assert_eq!(stats(&e)["by_state"]["NV"], 1);
    // Forcing the wrong separator is refused, naming the one the header uses.
    let semi2 = e.write("semi2.csv", "MRN;Last;State\n9;Ng;TX\n");
    let r = e
        .run(&["roster", "import", ID, s(&semi2), "--delimiter", "comma"])
        .code(3);
    assert!(
        r.stderr.contains("semicolon") && r.stderr.contains("--delimiter"),
        "{}",
        r.stderr
    );
}

#[test]
fn warnings_name_the_column_and_rows_needing_fixing_count_as_unreachable() {
    let e = with_incident(Env::plain());
    const CANARY: &str = "Quxworthy";
    let csv = format!(
        "Patient ID,Given Name,Surname,Street,Town,ST,Postal Code,E-mail Address,Email Opt In,DOB,Is Minor\n\
         1,Ann,Lee,1 Main St,Austin,TX,78701,ann@example.org,yes,1990-02-03,no\n\
         2,Bo,{CANARY},2 Main St,Austin,TX,787,,,02/30/1990,\n\
         3,Cy,Doe,3 Main St,Austin,TX,78701,not-an-{CANARY},yes,,\n\
         4,Di,Ray,4 Main St,Austin,TX,78701,,yes,07/04/2012,yes\n\
         5,N/A,unknown,5 Main St,Austin,TX,78701,,,,\n\
         6,Ed,Fox,,,,,,,,\n\
         7,Flo,Ng,,,,,flo@example.org,yes,,\n"
    );
    let f = e.write("q.csv", &csv);
    let v = import(&e, &f, &["--dry-run", "--json"]).ok().json();
    assert_eq!(v["needs_fixing"], 3, "{v}");
    let fix: Vec<u64> = v["needs_fixing_rows"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["line"].as_u64().unwrap())
        .collect();
    // No usable name (6), no address as a postal recipient (3: bad ZIP; 7: none).
    assert_eq!(fix, [3, 6, 7]);
    let r = import(&e, &f, &[]).ok();
    // Columns named by their header; values never echoed.
    assert!(
        r.stdout
            .contains("line 3: zip (column \"Postal Code\"): not a ZIP code"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("line 3: date_of_birth (column \"DOB\"): date of birth not recognised"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("line 4: email (column \"E-mail Address\"): not a usable e-mail address"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("line 5: email_consent"), "{}", r.stdout);
    assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY));
    let st = stats(&e);
    assert_eq!(st["total"], 7);
    assert_eq!(st["needs_fixing"], 3);
    assert_eq!(
        st["unreachable"], 3,
        "rows that need fixing are unreachable"
    );
    assert_eq!(st["email"], 2, "Ann and Flo by e-mail");
    assert_eq!(st["email_only"], 1);
    // The issues report: every kind, with line and reason, never a value.
    let list = issues(&e);
    let k = kinds(&list);
    for want in [
        ("warning", 3),
        ("needs_fixing", 3),
        ("warning", 4),
        ("warning", 5),
        ("needs_fixing", 6),
        ("needs_fixing", 7),
    ] {
        assert!(
            k.contains(&(want.0.to_string(), want.1)),
            "{want:?} in {k:?}"
        );
    }
    assert!(!serde_json::to_string(&list).unwrap().contains(CANARY));
    // --out FILE: CSV with a kind column.
    let out = e.path("issues.csv");
    e.run(&["roster", "issues", ID, "--out", s(&out)]).ok();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("kind,batch,line,field,column,reason"),
        "{text}"
    );
    assert!(text.contains("needs_fixing,1,6,last_name"), "{text}");
    assert!(!text.contains(CANARY));
    // Without the passphrase too (issues hold no values).
    let e2 = with_incident(Env::new());
    let f2 = e2.write("q.csv", &csv);
    import(&e2, &f2, &[]).ok();
    let mut c = e2.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    e2.run_with(c, &["roster", "issues", ID]).ok();
}

#[test]
fn a_fixed_row_replaces_the_entry_that_needed_fixing_and_resolves_a_rejected_row() {
    let e = with_incident(Env::new());
    let first = e.write(
        "a.csv",
        "MRN,First,Last,Address,City,State,Zip\n\
         1,Ann,Lee,1 Main St,Austin,TX,78701\n\
         2,Bo,Kim,,,,\n\
         3,Cy,Doe,3 Main St,Austin,Atlantis,78701\n",
    );
    let v = import(&e, &first, &["--json"]).ok().json();
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    let st = stats(&e);
    assert_eq!(
        (st["total"].as_u64(), st["unreachable"].as_u64()),
        (Some(2), Some(1))
    );
    let k = kinds(&issues(&e));
    assert!(k.contains(&("needs_fixing".into(), 3)), "{k:?}");
    assert!(k.contains(&("rejected".into(), 4)), "{k:?}");
    // Staff fix both rows and import them again.
    let fixed = e.write(
        "fixed.csv",
        "MRN,First,Last,Address,City,State,Zip\n\
         2,Bo,Kim,2 Elm St,Austin,TX,78702\n\
         3,Cy,Doe,3 Main St,Austin,TX,78701\n\
         1,Ann,Lee,1 Main St,Austin,TX,78701\n",
    );
    let v = import(&e, &fixed, &["--json"]).ok().json();
    assert_eq!(v["replaced"], 1, "{v}");
    assert_eq!(v["replaced_rows"]["items"][0]["line"], 2);
    assert_eq!(v["replaced_rows"]["items"][0]["other_line"], 3);
    assert_eq!(
        v["accepted"], 2,
        "the replacement and the fixed rejected row"
    );
    assert_eq!(v["duplicates"], 1, "Ann was already there");
    let st = stats(&e);
    assert_eq!(st["total"], 3);
    assert_eq!(st["unreachable"], 0);
    assert_eq!(st["needs_fixing"], 0);
    assert_eq!(st["by_state"]["TX"], 3);
    // Both old issues are closed; the duplicate note remains.
    let k = kinds(&issues(&e));
    assert!(
        !k.iter()
            .any(|(kind, _)| kind == "needs_fixing" || kind == "rejected"),
        "{k:?}"
    );
    assert!(k.contains(&("duplicate".into(), 4)), "{k:?}");
    e.run(&["audit", "verify"]).ok();
    // The letters go to the fixed address, once each.
    e.run(&[
        "letters",
        "render",
        ID,
        "--kind",
        "individual",
        "--out",
        s(&e.path("l")),
        "--force",
    ])
    .ok();
    let mut text = String::new();
    for f in std::fs::read_dir(e.path("l")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            text.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    assert!(text.contains("2 Elm St"), "{text}");
    assert_eq!(text.matches("Notice of Data Breach").count(), 3);
}

#[test]
fn possible_duplicates_across_identifiers_are_reported_for_review() {
    let e = with_incident(Env::plain());
    let f = e.write(
        "p.csv",
        "MRN,First,Last,Address,Address 2,City,State,Zip,Date of Birth\n\
         1,Mary-Ann,O'Brien,12 Elm Street,Apt 3,Springfield,IL,62701,1950-02-28\n\
         2,Mary Ann,OBrien,99 Oak Rd,,Peoria,IL,61602,02/28/1950\n\
         3,Tom,Ray,5 Pine Avenue,,Peoria,IL,61602,\n\
         4,tom,RAY,5 pine ave.,,PEORIA,IL,61602-1234,1970-01-01\n\
         5,Zed,Alone,7 Birch Ln,,Peoria,IL,61602,1980-05-05\n",
    );
    let v = import(&e, &f, &["--json"]).ok().json();
    assert_eq!(v["accepted"], 5);
    assert_eq!(v["possible_duplicates"], 2, "{v}");
    let items = v["possible_duplicate_rows"]["items"].as_array().unwrap();
    let got: Vec<(u64, u64, &str)> = items
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap(),
                x["other_line"].as_u64().unwrap(),
                x["basis"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(3, 2, "name_and_date_of_birth"), (5, 4, "name_and_address")]
    );
    // Across imports, against rows already stored.
    let g = e.write(
        "q.csv",
        "MRN,First,Last,Address,City,State,Zip,DOB\n\
         9,Zed,Alone,1 Other St,Chicago,IL,60601,05/05/1980\n",
    );
    let v = import(&e, &g, &["--json"]).ok().json();
    assert_eq!(v["possible_duplicate_rows"]["items"][0]["line"], 2);
    assert_eq!(v["possible_duplicate_rows"]["items"][0]["other_batch"], 1);
    assert_eq!(v["possible_duplicate_rows"]["items"][0]["other_line"], 6);
    assert_eq!(stats(&e)["possible_duplicates"], 3);
    let k = kinds(&issues(&e));
    assert_eq!(
        k.iter()
            .filter(|(kind, _)| kind == "possible_duplicate")
            .count(),
        3
    );
}

#[test]
fn an_import_that_accepts_no_row_changes_nothing_and_exits_3() {
    let e = with_incident(Env::plain());
    let before = e.run(&["audit", "log", "--json"]).ok().json()["entries"]
        .as_array()
        .unwrap()
        .len();
    let header_only = e.write("h.csv", "MRN,First,Last,State\n");
    let r = e
        .run(&["roster", "import", ID, s(&header_only), "--json"])
        .code(3);
    let v = r.json();
    assert_eq!(v["outcome"], "nothing_accepted");
    assert!(r.stderr.contains("nothing was imported"), "{}", r.stderr);
    let bad = e.write("b.csv", "MRN,First,Last,State\n1,A,B,Narnia\n,C,D,TX\n");
    let r = e.run(&["roster", "import", ID, s(&bad)]).code(3);
    assert!(r.stdout.contains("line 2: state"), "{}", r.stdout);
    assert!(r.stdout.contains("line 3: id"), "{}", r.stdout);
    e.run(&["roster", "stats", ID]).code(4);
    let after = e.run(&["audit", "log", "--json"]).ok().json()["entries"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "no audit entry, no counts");
    // The facts' estimates still drive the obligations.
    let v = e.run(&["incident", "show", ID, "--json"]).ok().json();
    assert_eq!(v["counts"]["source"], "estimate");
}

#[test]
fn an_import_that_lowers_counts_needs_confirmation() {
    let e = Env::plain();
    e.incident(&[
        "--title",
        "Counts",
        "--discovered",
        "2026-10-01",
        "--individuals",
        "1450",
        "--state",
        "TX=1450",
    ]);
    let f = e.write(
        "r.csv",
        "MRN,First,Last,Address,City,State,Zip\n\
         1,Ann,Lee,1 Main St,Austin,TX,78701\n\
         2,Bo,Kim,2 Main St,Austin,TX,78701\n",
    );
    // A script without the flag: exit 3, the counts stay, the report says what would drop.
    let r = e.run(&["roster", "import", ID, s(&f), "--json"]).code(3);
    let v = r.json();
    assert_eq!(v["outcome"], "lower_counts_not_confirmed");
    assert_eq!(v["committed"], false);
    let lowered: Vec<&str> = v["lowered_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["count"].as_str().unwrap())
        .collect();
    assert_eq!(lowered, ["total", "State TX"]);
    let dropped = v["obligations_dropped"].to_string();
    assert!(
        dropped.contains("media") && dropped.contains("hhs_immediate"),
        "{dropped}"
    );
    assert!(r.stderr.contains("--accept-lower-counts"), "{}", r.stderr);
    e.run(&["roster", "stats", ID]).code(4);
    let show = e.run(&["incident", "show", ID, "--json"]).ok().json();
    assert_eq!(show["counts"]["total"], 1450);
    // Confirmed: it resumes the staged rows and commits.
    let v = e
        .run(&[
            "roster",
            "import",
            ID,
            s(&f),
            "--accept-lower-counts",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["committed"], true);
    assert_eq!(v["resumed"], true);
    assert_eq!(stats(&e)["total"], 2);
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn date_of_birth_minor_and_covered_entity_are_roster_fields() {
    let e = Env::empty();
    e.run(&[
        "init",
        "--org",
        "Billing Co",
        "--role",
        "business-associate",
        "--serves",
        "Lakeside Hospital",
        "--serves",
        "Hilltop Clinic",
        "--toll-free",
        "1-800-555-0100",
        "--email",
        "p@billing.example",
        "--no-encryption",
        "--pinned-clock",
    ])
    .ok();
    let id = e.incident(&["--title", "Vendor breach", "--discovered", "2026-11-01"]);
    let csv = "MRN,First,Last,Address,City,State,Zip,Birth Date,Minor,Covered Entity\n\
         L1,Ann,Lee,1 Main St,Austin,TX,78701,1990-02-03,no,Lakeside Hospital\n\
         H1,Bo,Kim,2 Main St,Austin,TX,78701,07/04/2012,yes,Hilltop Clinic\n\
         L2,Cy,Doe,3 Main St,Reno,NV,89501,,,lakeside hospital\n\
         H2,Di,Ray,4 Main St,Reno,NV,89501,,,Hilltop Clinic\n\
         H3,Ed,Fox,5 Main St,Reno,NV,89501,,,Hilltop Clinic\n";
    let f = e.write("r.csv", csv);
    e.run(&["roster", "import", &id, s(&f), "--accept-lower-counts"])
        .ok();
    let st = e.run(&["roster", "stats", &id, "--json"]).ok().json();
    assert_eq!(
        st["by_entity"]["Lakeside Hospital"], 2,
        "matched without regard to case"
    );
    assert_eq!(st["by_entity"]["Hilltop Clinic"], 3);
    assert_eq!(st["by_entity"].as_object().unwrap().len(), 2);
    // Each covered entity's letter and file hold only its individuals.
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "ba_to_ce",
            "--covered-entity",
            "Hilltop Clinic",
            "--out",
            s(&e.path("h")),
            "--json",
        ])
        .ok()
        .json();
    let files: Vec<String> = v["manifest"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        files.contains(&"ba_to_ce-individuals-hilltop-clinic.csv".to_string()),
        "{files:?}"
    );
    let text = std::fs::read_to_string(e.path("h").join("ba_to_ce-individuals-hilltop-clinic.csv"))
        .unwrap();
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["H1", "H2", "H3"]);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("date_of_birth,covered_entity")
    );
    assert!(text.contains("2012-07-04"), "{text}");
    // Without --covered-entity: one letter and one file per covered entity.
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "ba_to_ce",
            "--out",
            s(&e.path("all")),
            "--json",
        ])
        .ok()
        .json();
    let names: Vec<String> = v["manifest"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let mut seen = Vec::new();
    for n in &names {
        let text = std::fs::read_to_string(e.path("all").join(n)).unwrap();
        for l in text.lines().skip(1) {
            let entity = l.rsplit(',').next().unwrap().to_string();
            let id = l.split(',').next().unwrap().to_string();
            seen.push((n.clone(), id, entity));
        }
    }
    assert_eq!(seen.len(), 5);
    for (file, _, entity) in &seen {
        let want = format!(
            "ba_to_ce-individuals-{}",
            entity.to_lowercase().replace(' ', "-")
        );
        assert!(file.starts_with(&want), "{file} holds {entity}");
        assert!(!file.contains("--"));
    }
    // A name not in the roster is refused, listing the roster's entities.
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "ba_to_ce",
            "--covered-entity",
            "Elsewhere",
            "--out",
            s(&e.path("x")),
        ])
        .code(3);
    assert!(r.stderr.contains("Hilltop Clinic"), "{}", r.stderr);
    // A roster without the column cannot be split between two covered entities.
    let id2 = e.incident(&["--title", "Second", "--discovered", "2026-11-01"]);
    let g = e.write("g.csv", "MRN,Last,State\n1,Lee,TX\n");
    e.run(&["roster", "import", &id2, s(&g), "--accept-lower-counts"])
        .ok();
    let r = e
        .run(&[
            "letters",
            "render",
            &id2,
            "--kind",
            "ba_to_ce",
            "--out",
            s(&e.path("y")),
        ])
        .code(3);
    assert!(r.stderr.contains("covered_entity column"), "{}", r.stderr);
}
