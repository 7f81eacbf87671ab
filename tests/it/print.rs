//! Printed documents, in a real browser: letters, the dossier and the after-action report
//! are printed to PDF by headless Chromium and read back with poppler (`pdfinfo`,
//! `pdftotext`). `.ci/run` installs both (Debian's `chromium` and `poppler-utils`) and sets
//! `BREACHDESK_BROWSER_TESTS=require` (as for `browser.rs`), so CI fails rather than skips when they are missing; a
//! developer's `cargo test` without them says so and skips these tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// US Letter in PDF points.
const PAGE_W: f64 = 612.0;
const PAGE_H: f64 = 792.0;
const INCH: f64 = 72.0;

struct Tools {
    chromium: PathBuf,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The browser and poppler, or `None` (with a note) when this machine lacks them and CI did
/// not ask for them.
fn tools() -> Option<Tools> {
    let chromium = find(&["chromium", "chromium-browser", "google-chrome"]);
    let poppler = find(&["pdftotext"]).is_some() && find(&["pdfinfo"]).is_some();
    match (chromium, poppler) {
        (Some(chromium), true) => Some(Tools { chromium }),
        _ if std::env::var("BREACHDESK_BROWSER_TESTS").is_ok_and(|v| v == "require") => {
            panic!(
                "headless Chromium and poppler-utils are required (BREACHDESK_BROWSER_TESTS=require): apt-get install chromium poppler-utils"
            )
        }
        _ => {
            eprintln!(
                "skipped: headless Chromium or poppler-utils not installed (`.ci/run` installs them)"
            );
            None
        }
    }
}

impl Tools {
    /// Prints `html` to a PDF beside it, as a browser's "Save as PDF" would, without the
    /// browser's own header and footer.
    fn print(&self, html: &Path) -> PathBuf {
        let pdf = html.with_extension("pdf");
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(&self.chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--no-pdf-header-footer",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(format!("file://{}", html.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() > Duration::from_secs(180) {
                let _ = child.kill();
                panic!("chromium did not print {} in 180 s", html.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            pdf.is_file(),
            "chromium wrote no PDF for {}",
            html.display()
        );
        pdf
    }
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number of pages, each checked to be US Letter.
fn pages(pdf: &Path) -> usize {
    let info = run("pdfinfo", &[s(pdf)]);
    let n: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sizes = run("pdfinfo", &["-f", "1", "-l", &n.to_string(), s(pdf)]);
    for l in sizes
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size:"))
    {
        assert!(l.contains("612 x 792 pts"), "not US Letter: {l}");
    }
    n
}

fn text(pdf: &Path, page: Option<usize>) -> String {
    match page {
        Some(p) => run(
            "pdftotext",
            &[
                "-f",
                &p.to_string(),
                "-l",
                &p.to_string(),
                "-layout",
                s(pdf),
                "-",
            ],
        ),
        None => run("pdftotext", &["-layout", s(pdf), "-"]),
    }
}

/// A word on a page and its box, in points from the top left.
#[derive(Debug, Clone)]
struct Word {
    text: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

fn attr(tag: &str, name: &str) -> f64 {
    let k = format!("{name}=\"");
    let i = tag.find(&k).unwrap() + k.len();
    tag[i..].split('"').next().unwrap().parse().unwrap()
}

/// Every word of one page, with its box (`pdftotext -bbox`).
fn words(pdf: &Path, page: usize) -> Vec<Word> {
    let x = run(
        "pdftotext",
        &[
            "-bbox",
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
            s(pdf),
            "-",
        ],
    );
    x.split("<word ")
        .skip(1)
        .map(|w| {
            let (tag, rest) = w.split_once('>').unwrap();
            let text = rest.split("</word>").next().unwrap();
            Word {
                text: text
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'"),
                x0: attr(tag, "xMin"),
                y0: attr(tag, "yMin"),
                x1: attr(tag, "xMax"),
                y1: attr(tag, "yMax"),
            }
        })
        .collect()
}

/// A rectangle in inches from the top left of the page.
struct Area {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Area {
    fn inches(x0: f64, y0: f64, x1: f64, y1: f64) -> Area {
        Area {
            x0: x0 * INCH,
            y0: y0 * INCH,
            x1: x1 * INCH,
            y1: y1 * INCH,
        }
    }

    fn holds(&self, w: &Word) -> bool {
        w.x0 >= self.x0 - 1.0
            && w.x1 <= self.x1 + 1.0
            && w.y0 >= self.y0 - 1.0
            && w.y1 <= self.y1 + 1.0
    }

    fn touches(&self, w: &Word) -> bool {
        w.x0 < self.x1 && w.x1 > self.x0 && w.y0 < self.y1 && w.y1 > self.y0
    }
}

/// An organization with every contact channel, and a breach with every kind of data, a
/// business associate, counsel's (D) and a credit-monitoring offer: the longest letter the
/// built-in templates write.
fn longest_letters() -> (Env, String) {
    let e = Env::plain();
    e.run(&[
        "org",
        "update",
        "--address",
        "100 Harbor Road, Lakeside, CA 90000",
        "--privacy-officer",
        "Dana Privacy, Privacy Officer",
        "--toll-free",
        "1-800-555-0100",
        "--email",
        "privacy@lakeside.example",
        "--website",
        "https://www.lakeside.example/notice",
        "--postal-address",
        "Privacy Office, 100 Harbor Road, Lakeside, CA 90000",
    ])
    .ok();
    let facts = e.write(
        "facts.toml",
        r#"title = "Stolen laptop, cardiology"
[breach]
start = 2026-10-01
end = 2026-10-02
discovered = 2026-10-05
types = ["theft"]
locations = ["laptop"]
phi = ["name", "date_of_birth", "ssn", "medical_record_number", "health_plan_id", "diagnosis", "financial_account"]
actions = ["Reported the theft to the police."]
public_summary = "A laptop used by our cardiology clinic was stolen from a staff car on October 1. The laptop held clinic schedules and billing worksheets."
[business_associate]
involved = true
name = "Harbor IT Services"
relationship = "agent"
discovered = 2026-10-04
[notice]
investigate = "We reported the theft to the police and are working with a forensic firm to learn exactly which records the laptop held."
mitigate = "We have disabled the laptop's access to our systems and reset the passwords it stored."
prevent = "We are encrypting every laptop and retraining staff on keeping devices secure."
[notice.credit_monitoring]
provider = "Example Credit Watch"
enrollment_url = "https://enroll.example.com/lakeside"
enroll_by = 2027-03-31
months = 24
"#,
    );
    let id = e
        .run(&["incident", "new", "--from", s(&facts), "--no-interview"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let roster = e.write(
        "roster.csv",
        "MRN,First Name,Last Name,Address,Address2,City,State,Zip,Credit Monitoring Code,Minor,Guardian,Deceased,NOK Name,NOK Address,NOK City,NOK State,NOK Zip\n\
         1,Jordan,Sample,12 Elm Street,Apt 3,Lakeside,CA,900011234,LKS-4F7Q-93KD,,,,,,,,\n\
         2,Casey,Sample,40 Lake Drive,,Lakeside,CA,90002,LKS-7H2M-11XA,yes,Pat Sample,,,,,,\n\
         3,Riley,Example,41 Lake Drive,,Lakeside,CA,90002,,yes,,,,,,,\n\
         4,Maximilian-Alexander,Oberhausen-Worthington,1234 North Longstreet Boulevard,Building 7 Suite 1200,Rancho Santa Margarita,CA,92688,LKS-XXXX-YYYY,,,,,,,,\n\
         5,Avery,Sample,3 Oak Avenue,,Reno,NV,89501,,,,2026-01-02,Morgan Kin,3 Oak Avenue,Reno,NV,89501\n",
    );
    e.run(&["roster", "import", &id, s(&roster)]).ok();
    (e, id)
}

fn render_html(e: &Env, id: &str, kind: &str, layout: &str, dir: &str) -> (PathBuf, u64, u64) {
    let v = e
        .run(&[
            "letters",
            "render",
            id,
            "--kind",
            kind,
            "--format",
            "html",
            "--layout",
            layout,
            "--out",
            s(&e.path(dir)),
            "--notice-date",
            "2026-11-20",
            "--force",
            "--json",
        ])
        .ok()
        .json();
    let m = &v["manifest"];
    let file = e.path(dir).join(m["files"][0]["name"].as_str().unwrap());
    (
        file,
        m["count"].as_u64().unwrap(),
        m["pages_per_letter"].as_u64().unwrap(),
    )
}

/// Issue 13: every individual letter printed on two US Letter pages (the second mostly
/// empty). The default layout is one page per letter, addresses placed for a #10
/// double-window envelope; duplex is two pages, as the manifest says.
#[test]
fn letters_print_one_page_each_with_windows_for_a_10_envelope() {
    let Some(t) = tools() else { return };
    let (e, id) = longest_letters();
    let sender = Area::inches(0.55, 0.55, 3.85, 1.35);
    let window = Area::inches(0.9, 2.05, 4.5, 3.05);
    for (kind, dir) in [("individual", "ind"), ("next_of_kin", "nok")] {
        let (html, count, per) = render_html(&e, &id, kind, "single", dir);
        assert_eq!(per, 1);
        let pdf = t.print(&html);
        let n = pages(&pdf);
        eprintln!("print: {count} {kind} letter(s), single layout → {n} page(s)");
        assert_eq!(n as u64, count * per, "{kind}: one page per letter");
        for p in 1..=n {
            let page = text(&pdf, Some(p));
            assert_eq!(
                page.matches("Notice of Data Breach").count(),
                1,
                "page {p}: {page}"
            );
            assert!(
                page.trim_end().ends_with("Test Hospital"),
                "page {p} ends with the signature: {page}"
            );
            let w = words(&pdf, p);
            // The sender's block shows in the return window, the addressee's in the address
            // window, and nothing else prints in either.
            let first = |needle: &str| w.iter().position(|x| x.text == needle).unwrap();
            let s0 = first("Test");
            assert!(sender.holds(&w[s0]), "page {p}: sender {:?}", w[s0]);
            let inside: Vec<&Word> = w.iter().filter(|x| window.touches(x)).collect();
            assert!(
                !inside.is_empty(),
                "page {p}: nothing in the address window"
            );
            assert!(
                inside.iter().all(|x| window.holds(x)),
                "page {p}: {inside:?}"
            );
            let zip_line = inside
                .iter()
                .any(|x| x.text.starts_with("9") || x.text.starts_with("8"));
            assert!(
                zip_line,
                "page {p}: the ZIP line shows in the window: {inside:?}"
            );
            // Nothing but the letterhead sits above the address window's bottom edge.
            for x in w.iter().filter(|x| x.y1 < window.y1) {
                assert!(
                    sender.touches(x) || window.touches(x) || x.x0 > 4.6 * INCH,
                    "page {p}: {x:?} would show through or crowd the windows"
                );
            }
            // Nothing runs off the page or into its last quarter inch.
            for x in &w {
                assert!(x.x0 >= 0.25 * INCH && x.x1 <= PAGE_W - 0.25 * INCH, "{x:?}");
                assert!(x.y1 <= PAGE_H - 0.25 * INCH, "page {p}: {x:?}");
            }
        }
    }
    let (html, count, per) = render_html(&e, &id, "individual", "duplex", "duplex");
    assert_eq!(per, 2);
    let pdf = t.print(&html);
    let n = pages(&pdf);
    eprintln!("print: {count} individual letter(s), duplex layout → {n} page(s)");
    assert_eq!(n as u64, count * 2, "two pages per letter");
    for p in (1..=n).step_by(2) {
        assert!(
            text(&pdf, Some(p)).contains("Notice of Data Breach"),
            "front {p}"
        );
        let back = text(&pdf, Some(p + 1));
        assert!(
            back.contains("What You Can Do.") && !back.contains("Notice of Data Breach"),
            "back {}: {back}",
            p + 1
        );
    }
}

/// Issue 13: the dossier's audit table ran off the printed page and the entry hashes
/// disappeared. Every hash the dossier holds is in the PDF's text, whole.
#[test]
fn dossier_prints_every_audit_hash_on_us_letter() {
    let Some(t) = tools() else { return };
    let (e, id) = longest_letters();
    for i in 0..25 {
        e.run(&[
            "incident",
            "note",
            &id,
            &format!("Call {i} with the forensic firm about the laptop's contents"),
        ])
        .ok();
    }
    let evidence = e.write("affidavit.pdf", "mail house affidavit");
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "individual",
        "--date",
        "2026-11-20",
        "--method",
        "mail",
        "--count",
        "3",
        "--evidence",
        s(&evidence),
        "--override-rationale",
        "printed for the test before counsel's sign-off",
    ])
    .ok();
    render_html(&e, &id, "individual", "single", "batch");
    let out = e.path("dossier.html");
    e.run(&[
        "report",
        &id,
        "--html",
        "--out",
        s(&out),
        "--audit-entries",
        "1000",
    ])
    .ok();
    let html = std::fs::read_to_string(&out).unwrap();
    let hashes: std::collections::BTreeSet<String> = html
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 64)
        .map(str::to_string)
        .collect();
    let log = e
        .run(&["audit", "log", "--incident", &id, "--json"])
        .ok()
        .json();
    let entries = log["entries"].as_array().unwrap();
    assert!(entries.len() >= 29, "{}", entries.len());
    for x in entries {
        let h = x["hash"].as_str().unwrap_or_else(|| panic!("{x}"));
        assert!(
            hashes.contains(h),
            "entry {} hash not in the dossier",
            x["seq"]
        );
    }
    let pdf = t.print(&out);
    let n = pages(&pdf);
    let printed = text(&pdf, None);
    eprintln!("print: dossier with {} hashes → {n} page(s)", hashes.len());
    for h in &hashes {
        assert!(
            printed.contains(h.as_str()),
            "hash {h} is not whole in the printed dossier"
        );
    }
    for p in 1..=n {
        for x in words(&pdf, p) {
            assert!(
                x.x0 >= 0.0 && x.x1 <= PAGE_W && x.y1 <= PAGE_H,
                "page {p}: {x:?}"
            );
        }
    }
}

fn ex(e: &Env, args: &[&str]) -> Run {
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_NOW");
    e.run_with(c, args)
}

/// Checks that the watermark is on every page, in its own band: no other word shares its
/// lines.
fn watermark_on_every_page(pdf: &Path, what: &str) -> usize {
    let n = pages(pdf);
    for p in 1..=n {
        let w = words(pdf, p);
        let marks: Vec<&Word> = w
            .iter()
            .filter(|x| matches!(x.text.as_str(), "EXERCISE" | "NOT" | "REAL" | "NOTICE"))
            .filter(|x| x.y1 < 1.0 * INCH)
            .collect();
        assert!(
            marks.len() >= 4,
            "{what} page {p}: no watermark at the top: {:?}",
            &w[..w.len().min(8)]
        );
        let (top, bottom) = (
            marks.iter().map(|m| m.y0).fold(f64::MAX, f64::min),
            marks.iter().map(|m| m.y1).fold(0.0, f64::max),
        );
        for x in &w {
            let is_mark = marks.iter().any(|m| m.x0 == x.x0 && m.y0 == x.y0)
                || x.text == "—"
                || x.text == "A";
            if !is_mark {
                assert!(
                    x.y0 >= bottom || x.y1 <= top,
                    "{what} page {p}: {x:?} overlaps the watermark band {top}..{bottom}"
                );
            }
        }
    }
    n
}

/// Issue 13: the exercise banner covered text on printed pages. It is printed in a band of
/// its own at the top of every page of the after-action report and the exercise dossier.
#[test]
fn exercise_watermark_keeps_its_own_space_on_every_printed_page() {
    let Some(t) = tools() else { return };
    let e = Env::empty();
    ex(&e, &["exercise", "start", "ba-agent-vs-contractor"]).ok();
    for stage in 0..3 {
        if stage > 0 {
            ex(&e, &["exercise", "next"]).ok();
        }
        for i in 0..8 {
            ex(
                &e,
                &[
                    "exercise",
                    "note",
                    &format!("Stage {stage}, point {i}: the room discussed whether the vendor acted as our agent and when our own clock started, at some length so that the notes fill the page."),
                ],
            )
            .ok();
        }
        ex(
            &e,
            &[
                "exercise",
                "decide",
                "--no-interview",
                "--determination",
                "breach",
                "--notice",
                "individual",
                "--note",
                "Decided after discussion",
            ],
        )
        .ok();
    }
    let out = e.path("aar.html");
    ex(&e, &["exercise", "report", "--html", "--out", s(&out)]).ok();
    let pdf = t.print(&out);
    let n = watermark_on_every_page(&pdf, "after-action report");
    eprintln!("print: after-action report → {n} page(s), watermark on each");
    assert!(n >= 2, "the test needs more than one page: {n}");
    let db = e.path("breachdesk-exercise.redb");
    let list = ex(&e, &["--db", s(&db), "incident", "list", "--json"])
        .ok()
        .json();
    let id = list["incidents"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{list}"))
        .to_string();
    let dossier = e.path("exercise-dossier.html");
    ex(
        &e,
        &[
            "--db",
            s(&db),
            "report",
            &id,
            "--html",
            "--out",
            s(&dossier),
        ],
    )
    .ok();
    let pdf = t.print(&dossier);
    let n = watermark_on_every_page(&pdf, "exercise dossier");
    eprintln!("print: exercise dossier → {n} page(s), watermark on each");
}

/// Issue 15: a State regulator notice prints on US Letter with the counsel checklist on a
/// page of its own (never on a page of the notice), and the Attorney General's sample copy
/// prints as the one-page notice residents get, placeholders in the address window.
#[test]
fn state_regulator_notice_prints_with_counsel_notes_on_their_own_page() {
    let Some(t) = tools() else { return };
    let e = Env::new();
    let id = crate::states::two_states(&e);
    let dir = e.path("reg");
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "state_regulator",
            "--jurisdiction",
            "CA",
            "--recipient",
            "ag",
            "--format",
            "html",
            "--out",
            s(&dir),
            "--json",
        ])
        .ok()
        .json();
    let names: Vec<&str> = v["manifest"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "state_regulator-CA-ag-sample-copy-00001.html",
            "state_regulator-CA-ag-00001.html"
        ]
    );
    let pdf = t.print(&dir.join(names[1]));
    let n = pages(&pdf);
    eprintln!("print: California Attorney General notice → {n} page(s)");
    assert!(n >= 2, "the notice, then the counsel page");
    let last = text(&pdf, Some(n));
    assert!(
        last.trim_start().starts_with("FOR COUNSEL BEFORE SENDING"),
        "{last}"
    );
    for p in 1..n {
        let page = text(&pdf, Some(p));
        assert!(!page.contains("FOR COUNSEL"), "page {p}: {page}");
    }
    assert!(text(&pdf, Some(1)).contains("California Attorney General"));

    let pdf = t.print(&dir.join(names[0]));
    assert_eq!(pages(&pdf), 1, "the sample copy is the one-page notice");
    let page = text(&pdf, Some(1));
    assert!(page.contains("Notice of Data Breach"), "{page}");
    assert!(page.contains("[Resident's name]"), "{page}");
    assert!(!page.contains("Quintessa"), "{page}");
}
