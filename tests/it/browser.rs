//! End to end in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`) against `breachdesk serve` started from the binary.
//! One walk through the office's day: sign in; log an incident through the form, by
//! keyboard only; assess it; import a roster; render letters; counsel approves; record a
//! notice; the deadline board changes; verify the audit trail; sign out; a session expires.
//! Every step leaves a screenshot in `target/tmp/browser/` (not committed); pages are also
//! printed to PDF to check they print.
//!
//! Without Chromium or ChromeDriver the test says so and passes, unless
//! `BREACHDESK_BROWSER_TESTS=require` (CI sets it, after installing both).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};

use crate::common::{Env, USER_PASSWORD, s};

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver(path: &Path) -> Driver {
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver { child, port }
}

async fn browser(port: u16, profile: &Path, chromium: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session")
}

struct Shots {
    dir: PathBuf,
    n: usize,
}

impl Shots {
    async fn take(&mut self, c: &Client, name: &str) {
        self.n += 1;
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(self.dir.join(format!("{:02}-{name}.png", self.n)), png).unwrap();
    }
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn go(c: &Client, base: &str, path: &str) {
    c.goto(&format!("{base}{path}")).await.unwrap();
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn sign_in(c: &Client, base: &str, name: &str) {
    go(c, base, "/login").await;
    fill(c, "name", name).await;
    fill(c, "password", USER_PASSWORD).await;
    click(c, "form.stack button[type=submit]").await;
    wait_text(c, "Sign out").await;
}

async fn sign_out(c: &Client) {
    click(c, "form[action='/logout'] button").await;
    wait_text(c, "You are signed out").await;
}

/// Waits until the page shows `want` (job pages reload themselves: a Refresh header).
async fn wait_text(c: &Client, want: &str) -> String {
    let t = Instant::now();
    loop {
        let body = match c.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if body.contains(want) {
            return body;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "waited for {want:?}; page:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The id (or value) of the focused element.
async fn focused(c: &Client) -> String {
    let e = c.active_element().await.unwrap();
    let id = e.attr("id").await.unwrap().unwrap_or_default();
    if id.is_empty() {
        e.attr("value").await.unwrap().unwrap_or_default()
    } else {
        id
    }
}

async fn tab_to(c: &Client, want: &str) {
    for _ in 0..40 {
        if focused(c).await == want {
            return;
        }
        c.active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
    }
    panic!("Tab never reached {want}");
}

fn roster_csv(dir: &Path) -> PathBuf {
    let mut csv = String::from("Patient ID,First Name,Last Name,Street,City,State,Zip\n");
    for i in 0..1210 {
        csv.push_str(&format!(
            "W{i:05},Pat,Person{i},{i} Lake Rd,Madison,WI,53703\n"
        ));
    }
    for i in 0..240 {
        csv.push_str(&format!(
            "I{i:05},Lee,Person{i},{i} Elm St,Chicago,IL,60601\n"
        ));
    }
    let p = dir.join("roster.csv");
    std::fs::write(&p, csv).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_in_a_browser() {
    let require = std::env::var("BREACHDESK_BROWSER_TESTS").is_ok_and(|v| v == "require");
    let (Some(chromedriver), Some(chromium)) = (
        which("chromedriver"),
        which("chromium").or_else(|| which("chromium-browser")),
    ) else {
        assert!(
            !require,
            "chromium and chromedriver are required (BREACHDESK_BROWSER_TESTS=require)"
        );
        eprintln!(
            "SKIPPED: the browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let t0 = Instant::now();
    let shots_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let _ = std::fs::remove_dir_all(&shots_dir);
    std::fs::create_dir_all(&shots_dir).unwrap();
    let mut shots = Shots {
        dir: shots_dir.clone(),
        n: 0,
    };

    let e = Env::new();
    e.run(&[
        "org",
        "update",
        "--postal-address",
        "100 Shore Dr, Madison, WI 53703",
    ])
    .ok();
    e.user("dana", "privacy-officer");
    e.user("morgan", "counsel");
    e.user("fran", "facilitator");
    let roster = roster_csv(e.dir.path());
    let mut srv = e.serve(&["--idle-timeout", "6s"]);
    let base = srv.url.clone();
    let driver = start_driver(&chromedriver);
    let profile = e.path("chrome-profile");
    let c = browser(driver.port, &profile, &chromium).await;

    // Sign in.
    go(&c, &base, "/login").await;
    shots.take(&c, "sign-in").await;
    sign_in(&c, &base, "dana").await;
    shots.take(&c, "dashboard-empty").await;

    // Log an incident by keyboard only: Tab from the top of the page to each field.
    go(&c, &base, "/incidents/new").await;
    tab_to(&c, "title").await;
    let key = |t: &str| t.to_string();
    let active = || async { c.active_element().await.unwrap() };
    active()
        .await
        .send_keys(&key("Stolen laptop, cardiology"))
        .await
        .unwrap();
    active()
        .await
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    assert_eq!(focused(&c).await, "discovered");
    active().await.send_keys("2026-11-02").await.unwrap();
    tab_to(&c, "theft").await;
    active().await.send_keys(" ").await.unwrap();
    tab_to(&c, "laptop").await;
    active().await.send_keys(" ").await.unwrap();
    tab_to(&c, "individuals").await;
    active().await.send_keys("1450").await.unwrap();
    active()
        .await
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    assert_eq!(focused(&c).await, "states");
    active().await.send_keys("WI=1210, IL=240").await.unwrap();
    active()
        .await
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    assert_eq!(focused(&c).await, "narrative");
    active()
        .await
        .send_keys("Laptop of a cardiology nurse, stolen from a car.")
        .await
        .unwrap();
    shots.take(&c, "intake-by-keyboard").await;
    active()
        .await
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    active()
        .await
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    let body = wait_text(&c, "Logged 2026-0001").await;
    assert!(
        body.contains("Stolen laptop, cardiology") && body.contains("1450 (estimate)"),
        "{body}"
    );
    let incident = "/incidents/2026-0001".to_string();
    shots.take(&c, "incident-logged").await;

    // Assess: the laptop was on and logged in, not encrypted: a breach.
    go(&c, &base, &format!("{incident}/assess")).await;
    click(&c, "input[name=encrypted][value=no]").await;
    click(&c, "input[name=disposal][value=no]").await;
    click(&c, "input[name=direct_identifiers][value=yes]").await;
    click(&c, "input[name=acquired][value=unknown]").await;
    click(&c, "input[name=mitigation][value=none]").await;
    shots.take(&c, "assessment-form").await;
    click(&c, "form[action$='/assess'] button[type=submit]").await;
    let body = wait_text(&c, "Recorded: Breach of unsecured PHI").await;
    assert!(body.contains("Determination"), "{body}");

    // Import the roster: upload, check the columns, import, the report.
    go(&c, &base, &format!("{incident}/roster")).await;
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(s(&roster))
        .await
        .unwrap();
    click(&c, "form[enctype='multipart/form-data'] button").await;
    let body = wait_text(&c, "Check the columns").await;
    assert!(body.contains("Patient ID"), "{body}");
    shots.take(&c, "roster-columns").await;
    click(&c, "form[action$='/start'] button").await;
    let body = wait_text(&c, "Imported as batch 1").await;
    assert!(body.contains("1450"), "{body}");
    shots.take(&c, "roster-imported").await;

    // The board before any notice: the individual notice is owed.
    go(&c, &base, "/").await;
    let board_before = text(&c).await;
    assert!(board_before.contains("individual"), "{board_before}");
    shots.take(&c, "dashboard-before").await;

    // Render the individual letters; the batch waits for counsel.
    go(&c, &base, &format!("{incident}/letters")).await;
    c.find(Locator::Id("kind"))
        .await
        .unwrap()
        .select_by_value("individual")
        .await
        .unwrap();
    c.find(Locator::Id("format"))
        .await
        .unwrap()
        .select_by_value("text")
        .await
        .unwrap();
    click(&c, "form[action$='/letters'] button").await;
    wait_text(&c, "Rendered batch 1").await;
    click(&c, "main a[href$='/letters/1']").await;
    let body = wait_text(&c, "The first letter").await;
    assert!(
        body.contains("draft") && body.contains("Notice of Data Breach"),
        "{body}"
    );
    shots.take(&c, "batch-draft").await;
    go(&c, &base, "/").await;
    assert!(
        text(&c).await.contains("Letters awaiting counsel"),
        "the dashboard lists the draft"
    );
    sign_out(&c).await;

    // Counsel approves.
    sign_in(&c, &base, "morgan").await;
    go(&c, &base, &format!("{incident}/letters/1")).await;
    click(&c, "input[name=reviewed]").await;
    shots.take(&c, "batch-approve").await;
    click(&c, "form[action$='/approve'] button").await;
    let body = wait_text(&c, "Approved batch 1").await;
    assert!(body.contains("approved by morgan"), "{body}");
    shots.take(&c, "batch-approved").await;
    sign_out(&c).await;

    // The privacy officer records the mailing against the approved batch.
    sign_in(&c, &base, "dana").await;
    go(&c, &base, &format!("{incident}/notices/new")).await;
    c.find(Locator::Id("kind"))
        .await
        .unwrap()
        .select_by_value("individual")
        .await
        .unwrap();
    fill(&c, "date", "2026-11-20").await;
    c.find(Locator::Id("method"))
        .await
        .unwrap()
        .select_by_value("mail")
        .await
        .unwrap();
    fill(&c, "count", "1450").await;
    c.find(Locator::Id("batch"))
        .await
        .unwrap()
        .select_by_value("1")
        .await
        .unwrap();
    shots.take(&c, "notice-form").await;
    click(&c, "form[action$='/notices'] button").await;
    let body = wait_text(&c, "Recorded individual notice").await;
    assert!(body.contains("met 2026-11-20"), "{body}");
    shots.take(&c, "incident-notified").await;

    // The deadline board changed: the individual notice is no longer owed.
    go(&c, &base, "/deadlines").await;
    let board = text(&c).await;
    let owed = |b: &str| {
        b.lines()
            .filter(|l| l.contains("2026-0001") && l.contains(" individual "))
            .count()
    };
    assert!(owed(&board_before) >= 1 || board_before.contains("individual"));
    assert_eq!(owed(&board), 0, "{board}");
    shots.take(&c, "deadlines-after").await;

    // Verify the audit trail.
    go(&c, &base, "/audit/verify").await;
    let body = text(&c).await;
    assert!(body.contains("Intact:"), "{body}");
    shots.take(&c, "audit-verified").await;

    // Counsel's rules: the State laws and the templates pages.
    go(&c, &base, "/laws").await;
    let body = text(&c).await;
    assert!(
        body.contains("State breach laws") && body.contains("Tex. Bus. & Com. Code"),
        "{body}"
    );
    shots.take(&c, "laws").await;
    go(&c, &base, "/laws/CA").await;
    let body = text(&c).await;
    assert!(body.contains("California Attorney General"), "{body}");
    shots.take(&c, "law-ca").await;
    go(&c, &base, "/laws/AS").await;
    let body = text(&c).await;
    assert!(
        body.contains("American Samoa") && body.contains("No rules data in force"),
        "{body}"
    );
    shots.take(&c, "law-as").await;
    go(&c, &base, "/templates").await;
    let body = text(&c).await;
    assert!(body.contains("state_regulator.txt.hbs"), "{body}");
    shots.take(&c, "templates").await;

    // The incident page and the dossier print.
    go(&c, &base, &incident).await;
    let pdf = c.print(Default::default()).await.unwrap();
    std::fs::write(shots_dir.join("incident.pdf"), &pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    go(&c, &base, &format!("{incident}/dossier")).await;
    let pdf = c.print(Default::default()).await.unwrap();
    std::fs::write(shots_dir.join("dossier.pdf"), &pdf).unwrap();

    // The other pages of the register, as the privacy officer sees them.
    for (path, name) in [
        ("/incidents", "incidents"),
        ("/incidents/2026-0001/edit", "edit-form"),
        ("/audit", "audit-trail"),
        ("/users", "users"),
    ] {
        go(&c, &base, path).await;
        assert!(!text(&c).await.contains("Forbidden"), "{path}");
        shots.take(&c, name).await;
    }
    // A not-a-breach answer asks for a rationale and a confirmation before anything is kept.
    go(&c, &base, &format!("{incident}/assess")).await;
    click(&c, "input[name=encrypted][value=yes]").await;
    click(&c, "input[name=key_compromised][value=no]").await;
    c.find(Locator::Id("device_state"))
        .await
        .unwrap()
        .select_by_value("off")
        .await
        .unwrap();
    click(&c, "form[action$='/assess'] button[type=submit]").await;
    let body = wait_text(&c, "Confirm a not-a-breach result").await;
    assert!(body.contains("Not a breach: the PHI was secured"), "{body}");
    shots.take(&c, "assessment-confirm").await;

    // Sign out: the session is gone, pages send you to sign in.
    go(&c, &base, "/").await;
    sign_out(&c).await;
    assert!(text(&c).await.contains("You are signed out"));
    shots.take(&c, "signed-out").await;
    go(&c, &base, &incident).await;
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));

    // A session left alone ends after the idle timeout (6 s here).
    sign_in(&c, &base, "dana").await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    go(&c, &base, &incident).await;
    assert!(
        c.current_url().await.unwrap().path().ends_with("/login"),
        "the idle session ended"
    );
    shots.take(&c, "session-expired").await;

    // The facilitator runs a tabletop exercise: never the register.
    sign_in(&c, &base, "fran").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/exercise"));
    c.find(Locator::Id("scenario"))
        .await
        .unwrap()
        .select_by_value("state-500-vs-501")
        .await
        .unwrap();
    click(&c, "form[action='/exercise/start'] button").await;
    wait_text(&c, "Exercise started").await;
    c.find(Locator::Id("determination"))
        .await
        .unwrap()
        .select_by_value("breach")
        .await
        .unwrap();
    click(&c, "form[action='/exercise/decide'] button").await;
    wait_text(&c, "Decision recorded").await;
    shots.take(&c, "exercise-room").await;
    click(&c, "form[action='/exercise/next'] button").await;
    wait_text(&c, "is in play").await;
    go(&c, &base, "/exercise/brief").await;
    assert!(text(&c).await.contains("EXERCISE"));
    shots.take(&c, "exercise-projector").await;
    go(&c, &base, "/exercise/score").await;
    assert!(text(&c).await.contains("right ("));
    shots.take(&c, "exercise-score").await;
    go(&c, &base, "/exercise/report").await;
    shots.take(&c, "exercise-report").await;
    go(&c, &base, &incident).await;
    assert!(
        text(&c).await.contains("does not allow this page"),
        "facilitators never see incidents"
    );
    c.close().await.unwrap();
    drop(driver);

    // The audit trail names each person, and the sign-outs (by hand and by timeout).
    srv.stop();
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let entries = log["entries"].as_array().unwrap();
    let has = |action: &str, actor: &str, detail: &str| {
        entries.iter().any(|x| {
            x["action"] == action
                && x["actor"].as_str().unwrap().contains(actor)
                && x["detail"].as_str().unwrap().contains(detail)
        })
    };
    assert!(has("incident.new", "dana (web)", ""));
    assert!(has("incident.assess", "dana (web)", "engine=breach"));
    assert!(has("roster.import", "dana (web)", ""));
    assert!(has("letters.approve", "morgan (web)", "approver=morgan"));
    assert!(has("notice.record", "dana (web)", "approved_batch=1"));
    assert!(has("user.logout", "", "reason=signed_out"));
    assert!(has("user.logout", "", "reason=idle_timeout"));
    e.run(&["audit", "verify"]).ok();
    eprintln!(
        "browser test: {:.1} s; screenshots in {}",
        t0.elapsed().as_secs_f64(),
        shots_dir.display()
    );
    assert!(
        t0.elapsed() < Duration::from_secs(300),
        "bounded: {:?}",
        t0.elapsed()
    );
}
