//! Load benchmark of `breachdesk serve`: `cargo bench --bench serve`.
//!
//! Builds an encrypted database of 10,000 incidents, one of them with a 1,000,000-row
//! roster (imported with `roster import`), and 50 privacy officers; starts the release
//! binary's server on loopback; then 50 concurrent sessions (each signed in, with its
//! cookie and CSRF token) run a realistic mix for 60 s: the dashboard, an incident's page,
//! the deadline board, a timeline note, a notice record. It prints requests per second,
//! p50/p99/max latency per kind and errors; then stops the server and counts every note
//! and notice in the database against the writes the server confirmed (lost writes).
//!
//! Target on the 2-core machine: p99 ≤ 100 ms for pages, 0 errors, 0 lost writes. The
//! client runs in this process on the same two cores as the server. Tune with
//! SERVE_BENCH_SESSIONS, SERVE_BENCH_SECONDS, SERVE_BENCH_ROWS, SERVE_BENCH_INCIDENTS.

mod common;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use breachdesk::desk::{NewEncryption, NewIncident, NewUser, Office, Passphrase};
use breachdesk::domain::{Facts, IncidentId, StaffRole};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const PASS: &str = "serve bench passphrase";
const USER_PASSWORD: &str = "violet tractor mirror quarry 42";
const NOW: &str = "2026-11-22";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn build(dir: &std::path::Path, incidents: u32, rows: u64, sessions: usize) -> std::path::PathBuf {
    let db = dir.join("serve.redb");
    let org = breachdesk::domain::Organization {
        legal_name: "Bench Health".into(),
        role: breachdesk::domain::Role::CoveredEntity,
        entity_type: breachdesk::domain::vocab::EntityType::HealthcareProvider,
        serves: vec![],
        address: String::new(),
        privacy_officer: String::new(),
        toll_free: "1-800-555-0100".into(),
        email: "privacy@bench.example".into(),
        website: String::new(),
        postal_address: String::new(),
        time_zone: "UTC".into(),
        le_policy: Default::default(),
        business_days: Default::default(),
        weak_passphrase: false,
    };
    let ctx = common::context();
    let office = Office::create(
        &db,
        &org,
        NewEncryption::Passphrase {
            passphrase: PASS.to_string().into(),
            allow_weak: true,
        },
        breachdesk::desk::ClockMarker::Pinned,
        &ctx,
        Box::new(Passphrase(PASS.to_string().into())),
    )
    .expect("init");
    office.ensure_unlocked().expect("unlock");
    // 10,000 incidents: counts across the 500 line, several States, discovered over 170 days.
    // Logged through the desk, one audited transaction each, so every typed field is sealed
    // with the incident's own key as in a real register (a bulk load of clear records into
    // an encrypted database reads back as tampering).
    let base = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    let t = Instant::now();
    {
        let d = office.desk(common::context());
        for i in 1..=incidents {
            let mut f = Facts {
                title: format!("Bench incident {i}"),
                ..Facts::default()
            };
            f.breach.discovered = Some(base + chrono::Days::new((i % 170) as u64));
            f.individuals.estimated_total = Some((i as u64 * 37) % 2_000);
            f.individuals
                .by_state
                .insert("CA".into(), (i as u64 * 13) % 900);
            f.individuals
                .by_state
                .insert("NV".into(), (i as u64 * 7) % 700);
            f.individuals.unreachable = (i as u64) % 15;
            let id = d
                .new_incident(NewIncident {
                    facts: f,
                    edits: Default::default(),
                })
                .expect("incident")
                .id;
            assert_eq!(id, IncidentId::new(2026, i), "incident numbers");
        }
    }
    drop(office);
    eprintln!(
        "  {incidents} incidents logged in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // The roster: a CSV imported by the binary (encrypted, audited).
    let csv = dir.join("roster.csv");
    {
        let mut w = BufWriter::new(std::fs::File::create(&csv).expect("csv"));
        writeln!(w, "id,first_name,last_name,address1,city,state,zip").expect("w");
        let states = ["CA", "NV", "OR", "WA", "AZ"];
        for n in 0..rows {
            writeln!(
                w,
                "P{n:08},Pat,Person{n},{} Main St,Springfield,{},9{:04}",
                n % 9999 + 1,
                states[(n % 5) as usize],
                n % 10_000
            )
            .expect("w");
        }
    }
    let t = Instant::now();
    let st = Command::new(common::bin())
        .env("BREACHDESK_DB", &db)
        .env("BREACHDESK_PASSPHRASE", PASS)
        .env("BREACHDESK_NOW", NOW)
        // The synthetic roster reaches everyone: fewer unreachable than the estimate.
        .args(["roster", "import", "2026-0001", "--accept-lower-counts"])
        .arg(&csv)
        .stdout(Stdio::null())
        .status()
        .expect("roster import");
    assert!(st.success(), "roster import failed");
    eprintln!(
        "  roster of {rows} rows imported in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&csv);
    let office =
        Office::open(&db, Box::new(Passphrase(PASS.to_string().into())), &ctx).expect("open");
    office.ensure_unlocked().expect("unlock");
    let d = office.desk(ctx);
    for s in 0..sessions {
        d.add_user(&NewUser {
            name: format!("officer{s:02}"),
            role: StaffRole::PrivacyOfficer,
            password: USER_PASSWORD.into(),
        })
        .expect("user");
    }
    db
}

type Http = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone)]
struct Session {
    http: Http,
    base: String,
    cookie: String,
    csrf: String,
}

struct Resp {
    status: StatusCode,
    location: String,
    body: String,
    cookie: Option<String>,
}

async fn send(http: &Http, req: Request<Full<Bytes>>) -> Result<Resp, String> {
    let r = http.request(req).await.map_err(|e| e.to_string())?;
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("breachdesk_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string());
    let body = r
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Resp {
        status,
        location,
        body: String::from_utf8_lossy(&body).into_owned(),
        cookie,
    })
}

fn csrf_in(body: &str) -> String {
    let at = "name=\"csrf\" value=\"";
    body.find(at)
        .map(|i| {
            body[i + at.len()..]
                .split('"')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}

impl Session {
    fn get(&self, path: &str) -> Request<Full<Bytes>> {
        Request::get(format!("{}{path}", self.base))
            .header("cookie", format!("breachdesk_session={}", self.cookie))
            .body(Full::new(Bytes::new()))
            .expect("request")
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Request<Full<Bytes>> {
        let body = serde_urlencoded::to_string(form).expect("form");
        Request::post(format!("{}{path}", self.base))
            .header("cookie", format!("breachdesk_session={}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .expect("request")
    }

    async fn sign_in(http: Http, base: &str, name: &str) -> Session {
        let mut s = Session {
            http,
            base: base.to_string(),
            cookie: String::new(),
            csrf: String::new(),
        };
        let r = send(&s.http, s.get("/login")).await.expect("login page");
        s.cookie = r.cookie.expect("session cookie");
        let token = csrf_in(&r.body);
        let r = send(
            &s.http,
            s.post(
                "/login",
                &[
                    ("csrf", &token),
                    ("name", name),
                    ("password", USER_PASSWORD),
                ],
            ),
        )
        .await
        .expect("login");
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name} signs in");
        s.cookie = r.cookie.expect("new session id");
        let r = send(&s.http, s.get("/account")).await.expect("account");
        s.csrf = csrf_in(&r.body);
        s
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// The peer: the style sheet, through the same server and sessions (no database).
    Static,
    Dashboard,
    Incident,
    Board,
    Note,
    Notice,
}

const KINDS: [Kind; 5] = [
    Kind::Dashboard,
    Kind::Incident,
    Kind::Board,
    Kind::Note,
    Kind::Notice,
];

fn name(k: Kind) -> &'static str {
    match k {
        Kind::Static => "style sheet    GET /static/style.css",
        Kind::Dashboard => "dashboard      GET /",
        Kind::Incident => "incident page  GET /incidents/ID",
        Kind::Board => "deadline board GET /deadlines",
        Kind::Note => "note           POST /incidents/ID/notes",
        Kind::Notice => "notice record  POST /incidents/ID/notices/override",
    }
}

/// 25 % dashboard, 30 % incident page, 15 % board, 20 % note, 10 % notice.
fn pick(rng: &mut Rng) -> Kind {
    match rng.below(100) {
        0..25 => Kind::Dashboard,
        25..55 => Kind::Incident,
        55..70 => Kind::Board,
        70..90 => Kind::Note,
        _ => Kind::Notice,
    }
}

struct Outcome {
    kind: Kind,
    micros: u64,
    ok: bool,
    id: u32,
}

/// Runs the sessions for `seconds`: the office's mix, or only the style sheet (`floor`).
async fn load(
    signed: &[Session],
    seconds: u64,
    incidents: u32,
    floor: bool,
) -> (Vec<Outcome>, Duration) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (n, s) in signed.iter().cloned().enumerate() {
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1));
            let mut out = Vec::new();
            let mut k = 0u64;
            while Instant::now() < deadline {
                let kind = if floor { Kind::Static } else { pick(&mut rng) };
                // One request in 20 concerns the incident with the 1 M-row roster.
                let id = if rng.below(20) == 0 {
                    1
                } else {
                    rng.below(incidents as u64) as u32 + 1
                };
                let iid = IncidentId::new(2026, id).to_string();
                let req = match kind {
                    Kind::Static => s.get("/static/style.css"),
                    Kind::Dashboard => s.get("/"),
                    Kind::Incident => s.get(&format!("/incidents/{iid}")),
                    Kind::Board => s.get("/deadlines"),
                    Kind::Note => s.post(
                        &format!("/incidents/{iid}/notes"),
                        &[("csrf", &s.csrf), ("text", &format!("bench note {n}-{k}"))],
                    ),
                    Kind::Notice => s.post(
                        &format!("/incidents/{iid}/notices/override"),
                        &[
                            ("csrf", &s.csrf),
                            ("kind", "individual"),
                            ("date", NOW),
                            ("method", "mail"),
                            ("count", "1"),
                            ("label", &format!("bench job {n}-{k}")),
                            ("rationale", "bench: mailed in parts by the vendor"),
                        ],
                    ),
                };
                k += 1;
                let t = Instant::now();
                let r = send(&s.http, req).await;
                let micros = t.elapsed().as_micros() as u64;
                let ok = match (&r, kind) {
                    (Ok(r), Kind::Note | Kind::Notice) => {
                        r.status == StatusCode::SEE_OTHER
                            && r.location == format!("/incidents/{iid}")
                    }
                    (Ok(r), _) => r.status == StatusCode::OK,
                    (Err(_), _) => false,
                };
                if !ok && out.iter().filter(|o: &&Outcome| !o.ok).count() < 3 {
                    match &r {
                        Ok(r) => eprintln!(
                            "  error: {kind:?} {iid}: {} {}",
                            r.status,
                            &r.body[..r.body.len().min(300)]
                        ),
                        Err(e) => eprintln!("  error: {kind:?} {iid}: {e}"),
                    }
                }
                counter.fetch_add(1, Ordering::Relaxed);
                out.push(Outcome {
                    kind,
                    micros,
                    ok,
                    id,
                });
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("session task"));
    }
    (all, start.elapsed())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let sessions = env_num("SERVE_BENCH_SESSIONS", 50) as usize;
    let seconds = env_num("SERVE_BENCH_SECONDS", 60);
    let rows = env_num("SERVE_BENCH_ROWS", 1_000_000);
    let incidents = env_num("SERVE_BENCH_INCIDENTS", 10_000) as u32;
    let dir = tempfile::tempdir().expect("tempdir");
    println!(
        "breachdesk serve under load: {sessions} sessions for {seconds} s over {incidents} incidents, a {rows}-row roster"
    );
    println!("  load average before building: {}", loadavg());
    let t = Instant::now();
    let db = build(dir.path(), incidents, rows, sessions);
    eprintln!("  database built in {:.1} s", t.elapsed().as_secs_f64());

    let mut child = Command::new(common::bin())
        .env("BREACHDESK_DB", &db)
        .env("BREACHDESK_PASSPHRASE", PASS)
        .env("BREACHDESK_NOW", NOW)
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--idle-timeout", "15m"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let base = loop {
        let line = lines.next().expect("server output").expect("line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (outcomes, elapsed, floor, floor_took) = rt.block_on(async {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let client: Http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(sessions)
            .build(http);
        let mut signed = Vec::new();
        for s in 0..sessions {
            signed.push(Session::sign_in(client.clone(), &base, &format!("officer{s:02}")).await);
        }
        // Warm the dashboard once (the office builds it on first use), as a running office has.
        let _ = send(&signed[0].http, signed[0].get("/")).await;
        println!("  load average at start of the run: {}", loadavg());
        let (main, took) = load(&signed, seconds, incidents, false).await;
        println!("  load average at end of the run: {}", loadavg());
        let (floor, floor_took) = load(&signed, 10, incidents, true).await;
        (main, took, floor, floor_took)
    });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    let mut fl: Vec<u64> = floor.iter().map(|o| o.micros).collect();
    fl.sort_unstable();
    let total = outcomes.len();
    let errors = outcomes.iter().filter(|o| !o.ok).count();
    println!(
        "requests: {total} in {:.1} s = {:.0} requests/s; errors: {errors}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<54} {:>7} {:>9} {:>9} {:>9}",
        "latency (ms)", "count", "p50", "p99", "max"
    );
    let mut pages: Vec<u64> = Vec::new();
    let mut writes: Vec<u64> = Vec::new();
    for k in KINDS {
        let mut v: Vec<u64> = outcomes
            .iter()
            .filter(|o| o.kind == k)
            .map(|o| o.micros)
            .collect();
        v.sort_unstable();
        if matches!(k, Kind::Note | Kind::Notice) {
            writes.extend(&v);
        } else {
            pages.extend(&v);
        }
        println!(
            "  {:<52} {:>7} {:>9.1} {:>9.1} {:>9.1}",
            name(k),
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.99),
            v.last().copied().unwrap_or(0) as f64 / 1000.0
        );
    }
    pages.sort_unstable();
    writes.sort_unstable();
    println!(
        "  {:<52} {:>7} {:>9.1} {:>9.1} {:>9.1}",
        "all pages (GET)",
        pages.len(),
        percentile(&pages, 0.5),
        percentile(&pages, 0.99),
        pages.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "  {:<52} {:>7} {:>9.1} {:>9.1} {:>9.1}",
        "all writes (POST)",
        writes.len(),
        percentile(&writes, 0.5),
        percentile(&writes, 0.99),
        writes.last().copied().unwrap_or(0) as f64 / 1000.0
    );

    let floor_errors = floor.iter().filter(|o| !o.ok).count();
    println!(
        "peer, same server and sessions, 10 s of the style sheet only (no database): {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, errors {floor_errors}",
        fl.len() as f64 / floor_took.as_secs_f64(),
        percentile(&fl, 0.5),
        percentile(&fl, 0.99)
    );
    println!(
        "ratio: pages p99 / style-sheet p99 = {:.1}x; style-sheet requests/s / office mix requests/s = {:.1}x",
        percentile(&pages, 0.99) / percentile(&fl, 0.99).max(0.001),
        (fl.len() as f64 / floor_took.as_secs_f64())
            / (total as f64 / elapsed.as_secs_f64()).max(0.001)
    );
    // Every confirmed write is in the database.
    let notes_ok = outcomes
        .iter()
        .filter(|o| o.ok && o.kind == Kind::Note)
        .count() as u64;
    let notices_ok = outcomes
        .iter()
        .filter(|o| o.ok && o.kind == Kind::Notice)
        .count() as u64;
    let office = Office::open(
        &db,
        Box::new(Passphrase(PASS.to_string().into())),
        &common::context(),
    )
    .expect("reopen");
    let d = office.desk(common::context());
    let touched: std::collections::BTreeSet<u32> = outcomes
        .iter()
        .filter(|o| matches!(o.kind, Kind::Note | Kind::Notice))
        .map(|o| o.id)
        .collect();
    let (mut notes, mut notices) = (0u64, 0u64);
    for id in touched {
        let inc = d
            .incident_record(&IncidentId::new(2026, id))
            .expect("incident");
        notes += inc.timeline.len() as u64;
        notices += inc.notices.len() as u64;
    }
    println!(
        "writes confirmed: {notes_ok} notes, {notices_ok} notices; found in the database: {notes} notes, {notices} notices; lost: {}",
        (notes_ok + notices_ok).saturating_sub(notes + notices)
    );
    let v = d.verify(None, None).expect("verify");
    println!(
        "audit trail after the run: {} entries, {}",
        v.report.entries,
        if v.report.intact() {
            "intact"
        } else {
            "DAMAGED"
        }
    );
}
