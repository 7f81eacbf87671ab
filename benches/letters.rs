//! Renders every individual letter of a synthetic 1,000,000-row roster with `breachdesk
//! letters render` three ways — as text, as print-ready HTML, and as one e-mail message
//! (`.eml`, text and HTML parts) per person — and in the same run, for each: a Python
//! Jinja2 mail merge of an equivalent template over the same CSV (for e-mail, Jinja2 and
//! Python's `email` package writing one file per person), and a raw write of the same
//! number of bytes (for e-mail, into as many files). Prints the times, the ratios, and MB/s
//! beside the raw write's.
//!
//! Run: `cargo bench --bench letters`. Text and HTML: two runs each of breachdesk and of the
//! raw write, both printed (the Jinja2 ratio uses the better); e-mail and every Jinja2 merge:
//! one run (`BENCH_FORMATS=email`, or a comma-separated list, runs only those formats).
//! Python's `email` package needs several milliseconds a message, so the e-mail
//! merge runs on the first 20,000 rows only (`BENCH_EMAIL_PEER_ROWS`) and the e-mail ratio
//! compares letters per second (printed as such). Every timed phase starts after `sync`. Targets: at least 10x the Jinja2 merge,
//! and at least half the raw write speed. Without python3 or jinja2 it says so and still
//! times breachdesk. Needs about 15 GB of free disk at its peak (each output is deleted
//! before the next phase).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Rows in the synthetic roster: 1,000,000 (`BENCH_ROWS` for a quick trial run).
fn rows() -> usize {
    std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Rows the e-mail peer merges: 20,000 (`BENCH_EMAIL_PEER_ROWS`).
fn email_peer_rows() -> usize {
    std::env::var("BENCH_EMAIL_PEER_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// The Jinja2 equivalent of `templates/individual.txt.hbs` for an adult's letter by mail,
/// line for line (the partials' wording comes in the context's release-0.1 fields, as
/// breachdesk fills them once per batch).
const JINJA: &str = r#"{{org.legal_name}}
{% if org.get('address') %}{{org.address}}
{% endif %}
{{incident.notice_date}}

{% if not email %}{{recipient.name}}
{% for l in recipient.address_lines %}{{l}}
{% endfor %}{{recipient.city}}, {{recipient.state}} {{recipient.zip}}

{% endif %}Notice of Data Breach

Dear {{recipient.name}}:

We are writing to tell you about an incident that may have involved some of your health information. This letter explains what happened, what we are doing about it, and steps you can take.

What Happened?

{{incident.what_happened}}

Date of the breach: {% if incident.get('breach_start') %}{{incident.breach_start}}{% else %}not yet known{% endif %}
Date we discovered it: {% if incident.get('discovered') %}{{incident.discovered}}{% else %}not yet known{% endif %}

What Information Was Involved?

The information involved may have included:
{% for x in incident.phi_involved %}  - {{x}}
{% endfor %}
What We Are Doing.

{% for x in incident.what_we_are_doing %}  - {{x}}
{% endfor %}
What You Can Do.

{% for x in incident.what_you_can_do %}  - {{x}}
{% endfor %}
For More Information.

If you have questions, please call us toll-free at {{org.toll_free}}. You can also {{org.other_contacts}}.

Sincerely,

{% if org.get('privacy_officer') %}{{org.privacy_officer}}
{% endif %}{{org.legal_name}}
"#;

/// The Jinja2 equivalent of `templates/individual.html.hbs` (autoescaped).
const JINJA_HTML: &str = r#"<section class="letter">
<header class="letterhead">
<address class="sender">{{org.legal_name}}{% if org.get('address') %}<br>{{org.address}}{% endif %}</address>
<p class="date">{{incident.notice_date}}</p>
{% if not email %}<address class="recipient">{{recipient.name}}<br>
{% for l in recipient.address_lines %}{{l}}<br>
{% endfor %}{{recipient.city}}, {{recipient.state}} {{recipient.zip}}</address>
{% endif %}<h1>Notice of Data Breach</h1>
</header>
<div class="front">
<p>Dear {{recipient.name}}:</p>
<p>We are writing to tell you about an incident that may have involved some of your health information. This letter explains what happened, what we are doing about it, and steps you can take.</p>
<h2>What Happened?</h2>
<p>{{incident.what_happened}}</p>
<p>Date of the breach: {% if incident.get('breach_start') %}{{incident.breach_start}}{% else %}not yet known{% endif %}<br>
Date we discovered it: {% if incident.get('discovered') %}{{incident.discovered}}{% else %}not yet known{% endif %}</p>
<h2>What Information Was Involved?</h2>
<p>The information involved may have included:</p>
<ul class="items">
{% for x in incident.phi_involved %}<li>{{x}}</li>
{% endfor %}</ul>
<h2>What We Are Doing.</h2>
<ul>
{% for x in incident.what_we_are_doing %}<li>{{x}}</li>
{% endfor %}</ul>
</div>
<div class="back">
<h2>What You Can Do.</h2>
<ul>
{% for x in incident.what_you_can_do %}<li>{{x}}</li>
{% endfor %}</ul>
<h2>For More Information.</h2>
<p>If you have questions, please call us toll-free at {{org.toll_free}}. You can also {{org.other_contacts}}.</p>
<p class="closing">Sincerely,</p>
<p class="signature">{% if org.get('privacy_officer') %}{{org.privacy_officer}}<br>{% endif %}{{org.legal_name}}</p>
</div>
</section>
"#;

/// The merge: text or HTML files of 10,000 letters, or one `.eml` per person (Python's
/// `email` package, text and HTML parts) in directories of 10,000 with a list.
const MERGE: &str = r#"
import csv, json, os, sys
import jinja2
from email.message import EmailMessage
from email import policy
ctx = json.load(open(sys.argv[1]))
mode = sys.argv[5]
limit = int(os.environ.get('MERGE_LIMIT', '-1'))
env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=(mode == 'html'), keep_trailing_newline=True)
tpl = env.from_string(open(sys.argv[2]).read())
out_dir = sys.argv[4]
if mode == 'email':
    henv = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True, keep_trailing_newline=True)
    htpl = henv.from_string(open(sys.argv[6]).read())
    head = open(sys.argv[7]).read()
    lst = csv.writer(open(os.path.join(out_dir, 'recipients.csv'), 'w', newline=''))
n = 0
out = None
with open(sys.argv[3], newline='') as f:
    for row in csv.DictReader(f):
        if n == limit:
            break
        lines = [row['address1']] + ([row['address2']] if row['address2'] else [])
        recipient = {'name': row['first_name'] + ' ' + row['last_name'], 'address_lines': lines,
                     'city': row['city'], 'state': row['state'], 'zip': row['zip']}
        if mode == 'email':
            d = os.path.join(out_dir, 'shard-%05d' % (n // 10000 + 1))
            if n % 10000 == 0:
                os.mkdir(d)
            text = tpl.render(org=ctx['org'], incident=ctx['incident'], recipient=recipient, email=True)
            html = head + htpl.render(org=ctx['org'], incident=ctx['incident'], recipient=recipient, email=True) + '</body>\n</html>\n'
            m = EmailMessage(policy=policy.SMTP)
            m['From'] = 'Lakeside Community Hospital <privacy@lakeside.example>'
            m['To'] = '%s <%s>' % (recipient['name'], row['email'])
            m['Subject'] = 'Notice of Data Breach from Lakeside Community Hospital'
            m['Date'] = 'Sun, 22 Nov 2026 12:00:00 +0000'
            m['Message-ID'] = '<2026-0002.%d@lakeside.example>' % n
            m.set_content(text)
            m.add_alternative(html, subtype='html')
            name = '%05d.eml' % (n % 10000 + 1)
            with open(os.path.join(d, name), 'wb') as e:
                e.write(m.as_bytes())
            lst.writerow([row['patient_id'], row['first_name'], row['last_name'], row['email'], name])
        else:
            if n % 10000 == 0:
                if out:
                    if mode == 'html': out.write('</body>\n</html>\n')
                    out.close()
                out = open(os.path.join(out_dir, 'jinja-%05d.%s' % (n // 10000 + 1, 'txt' if mode == 'text' else 'html')), 'w')
                if mode == 'html': out.write(open(sys.argv[6]).read())
            elif mode == 'text':
                out.write('\f\n')
            out.write(tpl.render(org=ctx['org'], incident=ctx['incident'], recipient=recipient, email=False))
        n += 1
if out:
    if mode == 'html': out.write('</body>\n</html>\n')
    out.close()
print(n)
"#;

const STATES: &[&str] = &[
    "CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "PR", "DC",
];
const FIRST: &[&str] = &[
    "Maria", "James", "Aiyana", "Wei", "Olu", "Sean", "Priya", "Dmitri", "Lucía", "Noor",
];
const LAST: &[&str] = &[
    "Garcia", "O'Brien", "Nguyen", "Okafor", "Smith", "Kowalski", "Haddad", "Tanaka", "Silva",
    "Johnson",
];

fn generate(path: &Path, email: bool) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(w, "patient_id,first_name,last_name,address1,address2,city,state,zip,email,email_consent,deceased").expect("write");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..rows() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = FIRST[(x % 10) as usize];
        let l = LAST[((x >> 8) % 10) as usize];
        let st = STATES[((x >> 16) % STATES.len() as u64) as usize];
        let apt = if x.is_multiple_of(3) {
            format!("Apt {}", x % 90 + 1)
        } else {
            String::new()
        };
        writeln!(
            w,
            "MRN{i:08},{f},\"{l}\",\"{} Harbor Rd\",{apt},Lakeside,{st},{:05},{},{},no",
            x % 9999 + 1,
            x % 99_999,
            if email {
                format!("p{i}@mail.example")
            } else {
                String::new()
            },
            if email { "yes" } else { "no" }
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

/// Bytes and count of the files with extension `ext` under `d`, recursively.
fn dir_bytes(d: &Path, ext: &str) -> (u64, u64) {
    let (mut bytes, mut n) = (0, 0);
    for e in std::fs::read_dir(d)
        .expect("read dir")
        .filter_map(|e| e.ok())
    {
        let p = e.path();
        if p.is_dir() {
            let (b, c) = dir_bytes(&p, ext);
            bytes += b;
            n += c;
        } else if p.extension().is_some_and(|x| x == ext) {
            bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            n += 1;
        }
    }
    (bytes, n)
}

fn settle() {
    let _ = Command::new("sync").status();
}

/// A raw write of `bytes` bytes: one sequential file, or `files` files of equal size in
/// directories of 10,000 (the floor for "one file per person").
fn raw_write(dir: &Path, bytes: u64, files: u64) -> Duration {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("mkdir");
    settle();
    let buf = vec![b'x'; 1 << 20];
    let t = Instant::now();
    if files <= 1 {
        let mut f = std::fs::File::create(dir.join("raw.bin")).expect("create");
        let mut left = bytes;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            f.write_all(&buf[..n]).expect("write");
            left -= n as u64;
        }
        // No fsync: `letters render` does not fsync shards either, so both go to the
        // page cache.
    } else {
        let each = (bytes / files) as usize;
        for i in 0..files {
            if i % 10_000 == 0 {
                std::fs::create_dir(dir.join(format!("s{}", i / 10_000))).expect("mkdir");
            }
            let mut f = std::fs::File::create(dir.join(format!("s{}/{i}.eml", i / 10_000)))
                .expect("create");
            f.write_all(&buf[..each.min(buf.len())]).expect("write");
        }
    }
    let d = t.elapsed();
    let _ = std::fs::remove_dir_all(dir);
    d
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mail_csv = dir.path().join("roster.csv");
    let email_csv = dir.path().join("roster-email.csv");
    let db = dir.path().join("bench.redb");
    generate(&mail_csv, false);
    generate(&email_csv, true);
    let bd = |args: &[&str]| {
        let st = Command::new(common::bin())
            .env("BREACHDESK_NOW", "2026-11-22")
            .env("BREACHDESK_PASSPHRASE", "bench passphrase")
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run");
        assert!(st.success(), "{args:?} failed");
    };
    bd(&[
        "init",
        "--pinned-clock",
        "--allow-weak-passphrase",
        "--org",
        "Lakeside Community Hospital",
        "--role",
        "covered-entity",
        "--toll-free",
        "1-800-555-0134",
        "--email",
        "privacy@lakeside.example",
        "--privacy-officer",
        "Dana Reyes",
        "--address",
        "100 Shore Dr, Lakeside",
    ]);
    // 2026-0001: everyone by mail; 2026-0002: everyone agreed to e-mail.
    for (title, roster) in [
        ("Bench breach", &mail_csv),
        ("Bench breach, e-mail", &email_csv),
    ] {
        bd(&[
            "incident",
            "new",
            "--no-interview",
            "--title",
            title,
            "--discovered",
            "2026-11-01",
            "--type",
            "hacking_it_incident",
            "--location",
            "network_server",
            "--phi",
            "name,address,date_of_birth,diagnosis",
        ]);
        let id = if roster == &mail_csv {
            "2026-0001"
        } else {
            "2026-0002"
        };
        bd(&[
            "assess",
            id,
            "--set",
            "assessment.acquired.status=exfiltrated",
            "--no-interview",
        ]);
        let t = Instant::now();
        bd(&["roster", "import", id, roster.to_str().expect("utf-8")]);
        println!(
            "setup: imported {} rows for {id} in {:.1?} (not part of the comparison)",
            rows(),
            t.elapsed()
        );
    }

    // The context Jinja2 gets: exactly what the letters get.
    let ctx_json = dir.path().join("ctx.json");
    {
        let ctx = common::context();
        let office = breachdesk::desk::Office::open(
            &db,
            Box::new(breachdesk::desk::Passphrase::new("bench passphrase")),
            &ctx,
        )
        .expect("open");
        let desk = office.desk(ctx);
        let id = breachdesk::domain::IncidentId::parse("2026-0001").expect("id");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let base = desk.letter_context(&id, date).expect("context");
        std::fs::write(&ctx_json, serde_json::to_vec(&base).expect("json")).expect("write");
    }
    let have_jinja = Command::new("python3")
        .args(["-c", "import jinja2"])
        .status()
        .is_ok_and(|s| s.success());
    if !have_jinja {
        println!("  python3 with jinja2 not found: the Jinja2 merges are not timed");
    }
    let text_tpl = dir.path().join("letter.j2");
    std::fs::write(&text_tpl, JINJA).expect("write");
    let html_tpl = dir.path().join("letter.html.j2");
    std::fs::write(&html_tpl, JINJA_HTML).expect("write");
    // The head breachdesk writes (print stylesheet) for the HTML merge; the e-mail part's.
    let head = dir.path().join("head.html");
    let mut h = Vec::new();
    breachdesk::letters::write_html_head(
        &mut h,
        "Lakeside Community Hospital — individual notices",
        false,
        breachdesk::letters::Layout::Single,
    )
    .expect("head");
    std::fs::write(&head, &h).expect("write");
    let email_head = dir.path().join("email-head.html");
    let eh = breachdesk::letters::email_html_document(
        "Notice of Data Breach from Lakeside Community Hospital",
        b"",
    );
    let eh = String::from_utf8(eh).expect("utf-8");
    std::fs::write(&email_head, eh.trim_end_matches("</body>\n</html>\n")).expect("write");
    let script = dir.path().join("merge.py");
    std::fs::write(&script, MERGE).expect("write");

    let out = dir.path().join("letters");
    for (format, ext, id, roster) in [
        ("text", "txt", "2026-0001", &mail_csv),
        ("html", "html", "2026-0001", &mail_csv),
        ("email", "eml", "2026-0002", &email_csv),
    ] {
        // BENCH_FORMATS=email (or text,html) runs only those formats.
        if let Ok(only) = std::env::var("BENCH_FORMATS")
            && !only.split(',').any(|f| f.trim() == format)
        {
            continue;
        }
        let runs = if format == "email" { 1 } else { 2 };
        let mut ours_runs = Vec::new();
        let mut raw_runs = Vec::new();
        let (mut bytes, mut files) = (0, 0);
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&out);
            settle();
            let t = Instant::now();
            bd(&[
                "letters",
                "render",
                id,
                "--kind",
                "individual",
                "--format",
                format,
                "--out",
                out.to_str().expect("utf-8"),
                "--notice-date",
                "2026-11-22",
            ]);
            ours_runs.push(t.elapsed());
            (bytes, files) = dir_bytes(&out, ext);
            let _ = std::fs::remove_dir_all(&out);
            // One file per person for e-mail; shard files otherwise.
            let raw_files = if format == "email" { files } else { 1 };
            raw_runs.push(raw_write(&dir.path().join("raw"), bytes, raw_files));
        }
        let ours = *ours_runs.iter().min().expect("a run");
        let mb = bytes as f64 / 1e6;
        println!(
            "letters: {} individual letters as {format}, {mb:.0} MB in {files} file(s)",
            rows()
        );
        // The first run writes into fresh page-cache pages; the second reuses the pages the
        // deleted first output freed, which makes a raw write several times faster. Both are
        // shown, each against the raw write of the same run.
        for (i, (o, r)) in ours_runs.iter().zip(&raw_runs).enumerate() {
            println!(
                "  run {}: breachdesk {:>6.2} s {:>6.0} MB/s {:>7.0} letters/s | raw write {:>6.2} s {:>6.0} MB/s | breachdesk/raw speed {:.2} (target >= 0.5)",
                i + 1,
                o.as_secs_f64(),
                mb / o.as_secs_f64(),
                rows() as f64 / o.as_secs_f64(),
                r.as_secs_f64(),
                mb / r.as_secs_f64(),
                r.as_secs_f64() / o.as_secs_f64()
            );
        }
        if !have_jinja {
            continue;
        }
        let jout = dir.path().join("jinja");
        let _ = std::fs::remove_dir_all(&jout);
        std::fs::create_dir_all(&jout).expect("mkdir");
        settle();
        let mut cmd = Command::new("python3");
        cmd.arg(&script).arg(&ctx_json);
        cmd.arg(if format == "html" {
            &html_tpl
        } else {
            &text_tpl
        });
        cmd.arg(roster).arg(&jout).arg(format);
        match format {
            "html" => {
                cmd.arg(&head);
            }
            "email" => {
                cmd.arg(&html_tpl).arg(&email_head);
            }
            _ => {}
        }
        // The e-mail merge on a prefix of the roster (see the header); the others on all of it.
        let peer_rows = if format == "email" {
            email_peer_rows().min(rows())
        } else {
            rows()
        };
        cmd.env("MERGE_LIMIT", peer_rows.to_string());
        let t = Instant::now();
        let o = cmd.output().expect("python");
        let jinja = t.elapsed();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (jbytes, jfiles) = dir_bytes(&jout, ext);
        let _ = std::fs::remove_dir_all(&jout);
        println!(
            "  Jinja2 merge (python{}): {:>8.2} s  {:>7.0} MB/s  ({jbytes} bytes in {jfiles} file(s); breachdesk {bytes} bytes)",
            if format == "email" {
                ", email package"
            } else {
                ""
            },
            jinja.as_secs_f64(),
            jbytes as f64 / 1e6 / jinja.as_secs_f64(),
        );
        if peer_rows == rows() {
            println!(
                "  ratio Jinja2 / breachdesk ({format}): {:>8.1}x (target >= 10x)",
                jinja.as_secs_f64() / ours.as_secs_f64()
            );
        } else {
            let theirs = peer_rows as f64 / jinja.as_secs_f64();
            let mine = rows() as f64 / ours.as_secs_f64();
            println!(
                "  Jinja2 merge on the first {peer_rows} rows: {theirs:.0} letters/s; breachdesk on all {}: {mine:.0} letters/s",
                rows()
            );
            println!(
                "  ratio breachdesk / Jinja2 letters per second ({format}): {:>8.1}x (target >= 10x)",
                mine / theirs
            );
        }
    }
}
