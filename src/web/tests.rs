//! The web front end driven through its router (no network): every route with every role,
//! without a session, without or with a wrong CSRF token; sessions (new ID at sign-in,
//! reuse after sign-out, inactivity), sign-in brute force and its audit trail; escaping of
//! hostile text everywhere; two editors of one incident; security headers.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::config::ServeConfig;
use super::pages::dashboard::BOARD_PAGE;
use super::routes::route_table;
use super::server::app;
use super::state::AppState;
use crate::desk::{
    NewEncryption, NewIncident, NewOrg, NewUser, Office, OrgDetails, Passphrase, new_organization,
};
use crate::domain::vocab::EntityType;
use crate::domain::{IncidentId, Permission, Role, StaffRole};
use crate::intake::facts::FactsPatch;

const PASSWORD: &str = "violet tractor mirror quarry 42";

pub struct Fx {
    /// Keeps the database's directory until the test ends.
    pub _dir: tempfile::TempDir,
    pub state: AppState,
    pub app: Router,
    pub id: IncidentId,
}

/// Today in the fixture organization's time zone (America/Chicago), as the desk reckons it:
/// UTC's date is a day ahead of it every evening.
fn office_today() -> chrono::NaiveDate {
    crate::desk::today_in(chrono::Utc::now(), "America/Chicago")
}

fn ctx(who: &str) -> crate::desk::Context {
    crate::desk::Context {
        who: crate::audit::entry::Who::cli("tester", None, Some(who.into())),
        now: chrono::Utc::now(),
        clock: crate::audit::entry::ClockSource::System,
    }
}

/// A database with one incident, one user per role (named after it) and `target`, served
/// with `config` changes applied.
pub fn fixture(tune: impl FnOnce(&mut ServeConfig)) -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let org = new_organization(&NewOrg {
        legal_name: "Web Test Hospital".into(),
        role: Role::CoveredEntity,
        entity_type: EntityType::HealthcareProvider,
        details: OrgDetails {
            toll_free: Some("1-800-555-0100".into()),
            email: Some("privacy@example.org".into()),
            time_zone: Some("America/Chicago".into()),
            ..OrgDetails::default()
        },
    })
    .unwrap();
    let path = dir.path().join("web.redb");
    let office = Office::create(
        &path,
        &org,
        NewEncryption::Passphrase {
            passphrase: "web test passphrase".to_string().into(),
            allow_weak: true,
        },
        crate::desk::ClockMarker::System,
        &ctx("setup"),
        Box::new(Passphrase("web test passphrase".to_string().into())),
    )
    .unwrap();
    office.ensure_unlocked().unwrap();
    let d = office.desk(ctx("setup"));
    for (name, role) in [
        ("po", StaffRole::PrivacyOfficer),
        ("counsel", StaffRole::Counsel),
        ("analyst", StaffRole::Analyst),
        ("auditor", StaffRole::Auditor),
        ("facilitator", StaffRole::Facilitator),
        ("target", StaffRole::Analyst),
    ] {
        d.add_user(&NewUser {
            name: name.into(),
            role,
            password: PASSWORD.into(),
        })
        .unwrap();
    }
    let today = office_today();
    let id = d
        .new_incident(NewIncident {
            facts: Default::default(),
            edits: FactsPatch {
                title: Some("Stolen laptop, billing".into()),
                discovered: Some(today - chrono::Days::new(20)),
                individuals: Some(700),
                states: vec![("IL".into(), 700)],
                narrative: Some("Laptop of a billing clerk, stolen from a car".into()),
                ..FactsPatch::default()
            },
        })
        .unwrap()
        .id;
    drop(d);
    let mut config = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        behind_proxy: false,
        idle_timeout: Duration::from_secs(900),
        lockout_after: 5,
        lockout_for: Duration::from_secs(900),
        throttle_after: 20,
        max_upload: 1024 * 1024,
        data_dir: dir.path().join("files"),
        exercise_db: dir.path().join("exercise.redb"),
        signing_key: dir.path().join("web.redb.signing-key"),
        access_log: false,
        pinned_now: None,
        os_account: "breachdesk".into(),
        os_uid: None,
    };
    tune(&mut config);
    let state = AppState::new(office, config);
    Fx {
        app: app(state.clone()),
        state,
        _dir: dir,
        id,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A browser without a network: one cookie jar (the session cookie).
pub struct Browser {
    app: Router,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(fx: &Fx) -> Browser {
        Browser {
            app: fx.app.clone(),
            cookie: None,
        }
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Resp {
        if let Some(c) = &self.cookie {
            req.headers_mut().insert(
                header::COOKIE,
                format!("breachdesk_session={c}").parse().unwrap(),
            );
        }
        let r = self.app.clone().oneshot(req).await.unwrap();
        for v in r.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            if let Some(rest) = v.strip_prefix("breachdesk_session=") {
                let value = rest.split(';').next().unwrap_or("");
                self.cookie =
                    (!value.is_empty() && !v.contains("Max-Age=0")).then(|| value.to_string());
            }
        }
        let status = r.status();
        let headers = r.headers().clone();
        let body = to_bytes(r.into_body(), 64 << 20).await.unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// The CSRF token of the last page with a form.
    pub async fn csrf(&mut self, page: &str) -> String {
        let r = self.get(page).await;
        csrf_in(&r.body).unwrap_or_else(|| panic!("no csrf field on {page}: {}", r.body))
    }

    pub async fn login(&mut self, name: &str, password: &str) -> Resp {
        let token = self.csrf("/login").await;
        self.post(
            "/login",
            &[("csrf", &token), ("name", name), ("password", password)],
        )
        .await
    }
}

pub fn csrf_in(body: &str) -> Option<String> {
    let i = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(body[i..].split('"').next()?.to_string())
}

async fn signed_in(fx: &Fx, name: &str) -> (Browser, String) {
    let mut b = Browser::new(fx);
    let r = b.login(name, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{name} signs in: {}",
        r.body
    );
    let token = b.csrf("/account").await;
    (b, token)
}

fn audit_len(fx: &Fx) -> usize {
    fx.state
        .office
        .desk(ctx("test"))
        .audit_log(None)
        .unwrap()
        .len()
}

fn concrete(path: &str, id: &IncidentId) -> String {
    path.replace("{id}", id.as_str())
        .replace("{batch}", "1")
        .replace("{job}", "0000")
        .replace("{name}", "target")
        .replace("{st}", "TX")
}

fn form_for(path: &str, token: &str) -> Vec<(&'static str, String)> {
    let mut f = vec![("csrf", token.to_string())];
    if path.ends_with("/notes") {
        f.push(("text", "A note".into()));
    }
    f
}

/// The incident version a page's form carries (its hidden `revision` field).
fn revision_in(body: &str) -> String {
    let at = "name=\"revision\" value=\"";
    let i = body.find(at).expect("a revision field") + at.len();
    body[i..].split('"').next().unwrap_or_default().to_string()
}

fn user_of(role: StaffRole) -> &'static str {
    match role {
        StaffRole::PrivacyOfficer => "po",
        r => r.key(),
    }
}

const REFUSED: &str = "does not allow this page";

/// The table: every route, every role. A role without the permission gets 403 from the
/// authorization layer; a role with it reaches the handler (whatever the handler then says).
#[tokio::test(flavor = "multi_thread")]
async fn every_route_with_every_role() {
    let fx = fixture(|_| {});
    let routes = route_table();
    for role in StaffRole::ALL {
        let (mut b, token) = signed_in(&fx, user_of(*role)).await;
        for r in routes.iter().filter(|r| r.path != "/logout") {
            let path = concrete(r.path, &fx.id);
            let resp = if r.method == "GET" {
                b.get(&path).await
            } else {
                let form = form_for(r.path, &token);
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                b.post(&path, &pairs).await
            };
            let allowed = role.may(r.permission);
            let refused = resp.status == StatusCode::FORBIDDEN && resp.body.contains(REFUSED);
            assert_eq!(
                !refused,
                allowed,
                "{} {} as {}: {} {}",
                r.method,
                r.path,
                role.key(),
                resp.status,
                &resp.body[..resp.body.len().min(300)]
            );
            assert!(
                !resp.location().starts_with("/login"),
                "{} {} as {} sent to sign in: the session must stay",
                r.method,
                r.path,
                role.key()
            );
        }
        let r = b.post("/logout", &[("csrf", &token)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
}

/// Facilitators never see a real incident: every route that shows or changes one refuses.
#[tokio::test(flavor = "multi_thread")]
async fn facilitators_never_see_real_incidents() {
    let fx = fixture(|_| {});
    let (mut b, _) = signed_in(&fx, "facilitator").await;
    for r in route_table()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/incidents"))
    {
        let resp = b.get(&concrete(r.path, &fx.id)).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{}", r.path);
        assert!(!resp.body.contains("Stolen laptop"), "{}", r.path);
    }
    let home = b.get("/").await;
    assert_eq!(home.location(), "/exercise");
}

/// Without a session nothing but the sign-in page answers, and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn every_route_without_a_session() {
    let fx = fixture(|_| {});
    let before = audit_len(&fx);
    for r in route_table() {
        if r.permission == Permission::Public {
            continue;
        }
        let path = concrete(r.path, &fx.id);
        // No cookie at all.
        let mut b = Browser::new(&fx);
        let resp = if r.method == "GET" {
            b.get(&path).await
        } else {
            b.post(&path, &[("csrf", "x")]).await
        };
        if r.method == "GET" {
            assert_eq!(
                (resp.status, resp.location()),
                (StatusCode::SEE_OTHER, "/login"),
                "{}",
                r.path
            );
        } else {
            assert_eq!(resp.status, StatusCode::FORBIDDEN, "{}", r.path);
        }
        // An anonymous session with a valid token (from the sign-in page) is still no sign-in.
        let mut b = Browser::new(&fx);
        let token = b.csrf("/login").await;
        let resp = if r.method == "GET" {
            b.get(&path).await
        } else {
            b.post(&path, &[("csrf", &token)]).await
        };
        assert_eq!(
            (resp.status, resp.location()),
            (StatusCode::SEE_OTHER, "/login"),
            "{} {}",
            r.method,
            r.path
        );
        assert!(!resp.body.contains("Stolen laptop"));
    }
    assert_eq!(audit_len(&fx), before, "nothing was written");
}

/// Every state-changing route refuses a request without the token or with a wrong one, and
/// writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn csrf_token_missing_or_wrong() {
    let fx = fixture(|_| {});
    let (mut b, token) = signed_in(&fx, "po").await;
    let (mut c, _) = signed_in(&fx, "counsel").await;
    let before = audit_len(&fx);
    for r in route_table().iter().filter(|r| r.method == "POST") {
        let path = concrete(r.path, &fx.id);
        let who = if r.permission == Permission::ApproveLetters {
            &mut c
        } else {
            &mut b
        };
        let missing = who
            .post(
                &path,
                &[("text", "x"), ("name", "po"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            missing.status,
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        let wrong = who
            .post(&path, &[("csrf", "0".repeat(64).as_str()), ("text", "x")])
            .await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
        // Another session's token is wrong too.
        if r.permission != Permission::ApproveLetters {
            let other = c.csrf("/account").await;
            let foreign = b.post(&path, &[("csrf", &other), ("text", "x")]).await;
            assert_eq!(
                foreign.status,
                StatusCode::FORBIDDEN,
                "{path} with another session's token"
            );
        }
    }
    // A multipart upload whose first part is not the token.
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\nid\r\n1\r\n--{boundary}--\r\n"
    );
    let resp = b
        .send(
            Request::post(format!("/incidents/{}/roster/upload", fx.id))
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    // A form posted from another site.
    let resp = b
        .send(
            Request::post(format!("/incidents/{}/notes", fx.id))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::HOST, "127.0.0.1:8080")
                .body(Body::from(format!("csrf={token}&text=x")))
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(audit_len(&fx), before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_session_id_at_sign_in_and_none_after_sign_out() {
    let fx = fixture(|_| {});
    let mut b = Browser::new(&fx);
    let token = b.csrf("/login").await;
    let anonymous = b.cookie.clone().unwrap();
    let r = b
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("name", "analyst"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let signed = b.cookie.clone().unwrap();
    assert_ne!(anonymous, signed, "sign-in must change the session ID");
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "no Secure flag on plain HTTP: {set}"
    );
    // The old (anonymous) ID is gone.
    let mut old = Browser::new(&fx);
    old.cookie = Some(anonymous);
    assert_eq!(
        old.get(&format!("/incidents/{}", fx.id)).await.location(),
        "/login?session=ended"
    );
    // Sign out; the cookie that was signed in is no use any more.
    let token = b.csrf("/account").await;
    let r = b.post("/logout", &[("csrf", &token)]).await;
    assert_eq!(r.location(), "/login?signed_out=1");
    let mut replay = Browser::new(&fx);
    replay.cookie = Some(signed);
    let r = replay.get(&format!("/incidents/{}", fx.id)).await;
    assert_eq!(r.location(), "/login?session=ended");
    let log = fx.state.office.desk(ctx("t")).audit_log(None).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    assert!(actions.contains(&"user.login") && actions.contains(&"user.logout"));
    // The sign-in names the person, as the server's channel; a failed one is the server's.
    let login = log.iter().find(|e| e.entry.action == "user.login").unwrap();
    match &login.entry.recorded {
        crate::audit::entry::Recorded::V2 { who, .. } => {
            assert_eq!(who.user.as_deref(), Some("analyst"));
            assert_eq!(who.via, crate::audit::entry::Via::Web);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secure_cookies_and_hsts_behind_tls() {
    let fx = fixture(|c| c.behind_proxy = true);
    let mut b = Browser::new(&fx);
    let r = b.get("/login").await;
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.contains("Secure"), "{set}");
    assert!(r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn security_headers_on_every_page() {
    let fx = fixture(|_| {});
    let (mut b, _) = signed_in(&fx, "po").await;
    for path in ["/login", "/", &format!("/incidents/{}", fx.id), "/nowhere"] {
        let r = b.get(path).await;
        let h = |n: &str| {
            r.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert!(
            h("content-security-policy").contains("default-src 'none'"),
            "{path}"
        );
        assert!(
            !h("content-security-policy").contains("script-src"),
            "no script is allowed: {path}"
        );
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("cache-control"), "no-store", "{path}");
        assert!(
            h("strict-transport-security").is_empty(),
            "no HSTS on plain HTTP"
        );
    }
}

/// Repeated failures lock the account (even the right password is refused meanwhile), every
/// attempt is audited, the password never is, and an unknown name is not stored.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_brute_force() {
    let fx = fixture(|c| c.throttle_after = 12);
    let mut b = Browser::new(&fx);
    for i in 0..5 {
        let r = b.login("analyst", &format!("guess number {i} wrong")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("Sign-in failed"));
    }
    let r = b.login("analyst", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "locked: the right password is refused"
    );
    let r = b.login("mallory.patient.name", "hunter2-password").await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "same answer for an unknown name"
    );
    let log = fx.state.office.desk(ctx("t")).audit_log(None).unwrap();
    let text: String = log
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}\n",
                e.entry.recorded.describe(),
                e.entry.action,
                e.entry.subject,
                e.entry.detail
            )
        })
        .collect();
    assert_eq!(
        text.matches("user.login_failed user/analyst").count(),
        4 + 1,
        "{text}"
    );
    assert_eq!(
        text.matches("user.lockout user/analyst").count(),
        1,
        "{text}"
    );
    assert!(text.contains("access.login_failed access"), "{text}");
    assert!(
        !text.contains("guess number"),
        "a password never reaches the audit trail"
    );
    assert!(!text.contains("mallory"), "an unknown name is not kept");
    assert!(!text.contains("hunter2"));
    // Many failures from one address: that address is refused for a while (across names).
    let mut c = Browser::new(&fx);
    let mut throttled = false;
    for i in 0..8 {
        let r = c.login("counsel", &format!("wrong {i}")).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            throttled = true;
            break;
        }
    }
    assert!(
        throttled,
        "the source is throttled after throttle_after failures"
    );
    let log = fx.state.office.desk(ctx("t")).audit_log(None).unwrap();
    assert!(log.iter().any(|e| e.entry.action == "access.throttled"));
    // The privacy officer resets the password, which clears the lockout.
    fx.state
        .office
        .desk(ctx("po"))
        .change_user(
            "analyst",
            &crate::desk::UserChange::ResetPassword("new violet tractor mirror 43".into()),
        )
        .unwrap();
    fx.state.throttle.lock().unwrap().clear();
    let r = Browser::new(&fx)
        .login("analyst", "new violet tractor mirror 43")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_a_user_ends_their_session() {
    let fx = fixture(|_| {});
    let (mut t, _) = signed_in(&fx, "target").await;
    assert_eq!(
        t.get(&format!("/incidents/{}", fx.id)).await.status,
        StatusCode::OK
    );
    let (mut po, token) = signed_in(&fx, "po").await;
    let r = po.post("/users/target/disable", &[("csrf", &token)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        t.get(&format!("/incidents/{}", fx.id)).await.location(),
        "/login?session=ended"
    );
    assert_eq!(
        Browser::new(&fx).login("target", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_session_ends() {
    let fx = fixture(|c| c.idle_timeout = Duration::from_secs(1));
    let (mut b, _) = signed_in(&fx, "po").await;
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = b.get("/").await;
    assert_eq!(r.location(), "/login?session=ended");
    let page = b.get(r.location()).await;
    assert!(page.body.contains("Your session has ended"));
    // The sweep records the automatic logoff.
    let ended = fx.state.sessions.sweep();
    assert_eq!(ended, vec!["po".to_string()]);
}

/// Two people open the same incident's edit form; the second to save gets a conflict and
/// the first one's change stays.
#[tokio::test(flavor = "multi_thread")]
async fn two_editors_never_lose_an_update() {
    let fx = fixture(|_| {});
    let (mut a, _) = signed_in(&fx, "analyst").await;
    let (mut c, _) = signed_in(&fx, "counsel").await;
    let edit = format!("/incidents/{}/edit", fx.id);
    let form_a = a.get(&edit).await.body;
    let form_c = c.get(&edit).await.body;
    let (ra, rc) = (revision_in(&form_a), revision_in(&form_c));
    assert_eq!(ra, rc);
    let fields = |token: &str, rev: &str, title: &str| {
        vec![
            ("csrf".to_string(), token.to_string()),
            ("revision".into(), rev.to_string()),
            ("title".into(), title.to_string()),
            (
                "discovered".into(),
                (office_today() - chrono::Days::new(20)).to_string(),
            ),
            ("individuals".into(), "700".into()),
            ("states".into(), "IL=700".into()),
            (
                "narrative".into(),
                "Laptop of a billing clerk, stolen from a car".into(),
            ),
        ]
    };
    let fa = fields(
        &csrf_in(&form_a).unwrap(),
        &ra,
        "Stolen laptop, billing (analyst)",
    );
    let fc = fields(
        &csrf_in(&form_c).unwrap(),
        &rc,
        "Stolen laptop, billing (counsel)",
    );
    let pa: Vec<(&str, &str)> = fa.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let pc: Vec<(&str, &str)> = fc.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = a.post(&edit, &pa).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c.post(&edit, &pc).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("changed by someone else"), "{}", r.body);
    let now = fx
        .state
        .office
        .desk(ctx("t"))
        .incident_record(&fx.id)
        .unwrap();
    assert_eq!(now.facts.title, "Stolen laptop, billing (analyst)");
}

/// Hostile text in every field a person types is shown escaped on every page.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_is_escaped_everywhere() {
    let fx = fixture(|_| {});
    let (mut b, token) = signed_in(&fx, "po").await;
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    let r = b
        .post(
            "/incidents",
            &[
                ("csrf", &token),
                ("title", evil),
                (
                    "discovered",
                    &(office_today() - chrono::Days::new(3)).to_string(),
                ),
                ("individuals", "12"),
                ("narrative", evil),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r.location().to_string();
    let id = page.rsplit('/').next().unwrap().to_string();
    let r = b
        .post(
            &format!("{page}/notes"),
            &[("csrf", &token), ("text", evil)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = b
        .post(
            &format!("{page}/edit"),
            &[
                ("csrf", &token),
                ("title", evil),
                ("discovered", "not a date"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for path in [
        page.clone(),
        "/".into(),
        "/incidents".into(),
        "/deadlines".into(),
        format!("{page}/edit"),
        format!("{page}/assess"),
        "/audit".into(),
    ] {
        let body = b.get(&path).await.body;
        assert!(!body.contains("<script>"), "{path} shows raw script");
        assert!(!body.contains("<img src=x"), "{path} shows a raw tag");
    }
    let shown = b.get(&page).await.body;
    assert!(
        shown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped on the incident page"
    );
    // The dossier (a document the desk builds) escapes too.
    let dossier = b.get(&format!("/incidents/{id}/dossier")).await.body;
    assert!(!dossier.contains("<script>") && dossier.contains("&lt;script&gt;"));
}

/// A roster whose header and every field carry markup: the mapping page and the report
/// show it escaped; the import rejects or keeps rows by the usual rules.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_roster_is_escaped() {
    let fx = fixture(|_| {});
    let (mut b, token) = signed_in(&fx, "po").await;
    let evil = "<script>alert(1)</script>";
    let csv = format!(
        "id,first_name,last_name,address1,city,state,zip,<b>{evil}</b>\r\n\
         P1,{evil},{evil},1 Main St {evil},Springfield,IL,62701,{evil}\r\n\
         P2,Ann,Lee,2 Elm St,Springfield,IL,62701,x\r\n"
    );
    let boundary = "BdBoundary7";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"roster.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let r = b
        .send(
            Request::post(format!("/incidents/{}/roster/upload", fx.id))
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = r.location().to_string();
    let mapping = b.get(&job).await.body;
    assert!(
        !mapping.contains("<script>") && mapping.contains("&lt;script&gt;"),
        "{mapping}"
    );
    // Two rows lower the incident's 700 (main's roster rule): committed only when the form
    // says so.
    let r = b
        .post(
            &format!("{job}/start"),
            &[("csrf", &token), ("accept_lower_counts", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut done = String::new();
    for _ in 0..100 {
        done = b.get(&job).await.body;
        if !done.contains("Working:") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done.contains("Imported as batch"), "{done}");
    assert!(!done.contains("<script>"));
    let incident = b.get(&format!("/incidents/{}", fx.id)).await.body;
    assert!(
        incident.contains("(roster)"),
        "the roster's counts are used"
    );
    assert!(!incident.contains("<script>"));
}

/// Counsel's sign-off through the pages: render, approve, then a notice against the batch.
#[tokio::test(flavor = "multi_thread")]
async fn sign_off_through_the_pages() {
    let fx = fixture(|_| {});
    let (mut a, ta) = signed_in(&fx, "analyst").await;
    let page = format!("/incidents/{}", fx.id);
    let r = a
        .post(
            &format!("{page}/letters"),
            &[
                ("csrf", &ta),
                ("kind", "media"),
                ("format", "text"),
                ("force", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = r.location().to_string();
    let mut done = String::new();
    for _ in 0..100 {
        done = a.get(&job).await.body;
        if done.contains("Rendered batch") || done.contains("Not rendered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done.contains("Rendered batch 1"), "{done}");
    // A notice from a draft batch is refused.
    let today = office_today().to_string();
    let r = a
        .post(
            &format!("{page}/notices"),
            &[
                ("csrf", &ta),
                ("kind", "media"),
                ("jurisdiction", "IL"),
                ("date", &today),
                ("method", "media"),
                ("count", "1"),
                ("batch", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is a draft"), "{}", r.body);
    // The analyst may not approve; counsel does.
    assert_eq!(
        a.post(
            &format!("{page}/letters/1/approve"),
            &[("csrf", &ta), ("reviewed", "yes")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let (mut c, tc) = signed_in(&fx, "counsel").await;
    let batch = c.get(&format!("{page}/letters/1")).await.body;
    assert!(batch.contains("awaiting counsel"), "{batch}");
    assert!(
        batch.contains("The first letter"),
        "a preview of one letter"
    );
    let at = "name=\"manifest_sha256\" value=\"";
    let i = batch.find(at).unwrap() + at.len();
    let hash = batch[i..].split('"').next().unwrap().to_string();
    let r = c
        .post(
            &format!("{page}/letters/1/approve"),
            &[
                ("csrf", &tc),
                ("manifest_sha256", &hash),
                ("reviewed", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = a
        .post(
            &format!("{page}/notices"),
            &[
                ("csrf", &ta),
                ("kind", "media"),
                ("jurisdiction", "IL"),
                ("date", &today),
                ("method", "media"),
                ("count", "1"),
                ("batch", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let log = fx
        .state
        .office
        .desk(ctx("t"))
        .audit_log(Some(&fx.id))
        .unwrap();
    let approve = log
        .iter()
        .find(|e| e.entry.action == "letters.approve")
        .unwrap();
    assert_eq!(approve.entry.recorded.describe(), "counsel (web)");
    assert!(
        approve
            .entry
            .detail
            .contains(&format!("manifest_sha256={hash}"))
    );
    assert!(log.iter().any(|e| e.entry.action == "notice.record"
        && e.entry.detail.contains("batch=1")
        && e.entry.recorded.describe() == "analyst (web)"));
    // A file of the batch downloads after its hash is checked.
    let body = c.get(&format!("{page}/letters/1")).await.body;
    let i = body.find("/files/").unwrap();
    let name = body[i + 7..].split('"').next().unwrap().to_string();
    let f = c.get(&format!("{page}/letters/1/files/{name}")).await;
    assert_eq!(f.status, StatusCode::OK);
    assert!(f.body.contains("Illinois") || f.body.contains("IL"));
}

#[test]
fn readme_lists_every_route() {
    let readme = include_str!("../../README.md");
    let table = super::routes::routes_markdown();
    assert!(
        readme.contains(&table),
        "README.md must contain the routes table as generated:\n{table}"
    );
}

#[test]
fn the_route_table_names_each_route_once() {
    let mut seen = std::collections::HashSet::new();
    for r in route_table() {
        assert!(seen.insert((r.method, r.path)), "{} {}", r.method, r.path);
    }
    assert!(
        route_table()
            .iter()
            .any(|r| r.permission == Permission::ApproveLetters)
    );
}

/// Closing as breach_notified while notices are unmet is refused unless the form gives a
/// rationale (main's closing rule, reached from the page); nothing is written when refused.
#[tokio::test]
async fn closing_with_notices_unmet_takes_a_rationale() {
    let fx = fixture(|_| {});
    let (mut b, token) = signed_in(&fx, "po").await;
    let path = format!("/incidents/{}/close", fx.id);
    let rev = revision_in(&b.get(&format!("/incidents/{}", fx.id)).await.body);
    let before = audit_len(&fx);
    let close = [
        ("csrf", token.as_str()),
        ("revision", rev.as_str()),
        ("disposition", "breach_notified"),
        ("note", ""),
    ];
    let r = b.post(&path, &close).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("unmet obligation"), "{}", r.body);
    assert_eq!(audit_len(&fx), before);
    let mut forced = close.to_vec();
    forced.push((
        "force_rationale",
        "mailed by the business associate; proof on file",
    ));
    let r = b.post(&path, &forced).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let log = fx
        .state
        .office
        .desk(ctx("test"))
        .audit_log(Some(&fx.id))
        .unwrap();
    assert!(log.iter().any(|e| e.entry.action == "incident.close"
        && e.entry.detail.contains("forced unmet=")));
}

/// The deadline board is served a page at a time (the start page shows its first rows and
/// links to it): every row once, in order, over the pages; a page past the end leads to
/// the last one, and an unreadable or absurd page number is the first page.
#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_board_is_paged() {
    let fx = fixture(|_| {});
    {
        let d = fx.state.office.desk(ctx("setup"));
        let today = office_today();
        for n in 0..40u64 {
            d.new_incident(NewIncident {
                facts: Default::default(),
                edits: FactsPatch {
                    title: Some(format!("Misdirected fax {n}")),
                    discovered: Some(today - chrono::Days::new(n % 50)),
                    individuals: Some(600 + n),
                    states: vec![("WI".into(), 600 + n)],
                    ..FactsPatch::default()
                },
            })
            .unwrap();
        }
    }
    let total = {
        let d = fx.state.office.desk(ctx("setup"));
        d.deadlines(&crate::desk::DeadlineQuery::default())
            .unwrap()
            .rows
            .len()
    };
    assert!(total > BOARD_PAGE, "{total} rows: more than one page");
    let (mut b, _) = signed_in(&fx, "po").await;
    let rows = |body: &str| body.matches("<td><a href=\"/incidents/").count();
    let start = b.get("/").await.body;
    assert_eq!(rows(&start), 25);
    assert!(
        start.contains(&format!("{} more on", total - 25)),
        "{start}"
    );
    let mut seen = 0;
    let pages = total.div_ceil(BOARD_PAGE);
    for p in 1..=pages {
        let body = b.get(&format!("/deadlines?page={p}")).await.body;
        assert!(body.contains(&format!("page {p} of {pages}")), "{body}");
        seen += rows(&body);
    }
    assert_eq!(seen, total);
    let past = b.get(&format!("/deadlines?page={}", pages + 5)).await;
    assert_eq!(past.status, StatusCode::SEE_OTHER);
    assert_eq!(past.location(), format!("/deadlines?page={pages}"));
    let huge = b.get("/deadlines?page=18446744073709551615").await;
    assert_eq!(huge.status, StatusCode::OK, "an absurd page is the first");
    let odd = b.get("/deadlines?page=first").await.body;
    assert!(odd.contains(&format!("page 1 of {pages}")));
    assert_eq!(rows(&odd), BOARD_PAGE);
}

/// Closing and overriding carry the version of the incident the form was filled in on: after
/// someone else's change (here a note), each is refused as a conflict and writes nothing; a
/// form without a version is refused too.
#[tokio::test(flavor = "multi_thread")]
async fn a_stale_close_or_override_is_a_conflict() {
    let fx = fixture(|_| {});
    let (mut c, token) = signed_in(&fx, "po").await;
    let (mut a, atoken) = signed_in(&fx, "analyst").await;
    let page = format!("/incidents/{}", fx.id);
    let close_rev = revision_in(&c.get(&page).await.body);
    let override_rev = revision_in(&c.get(&format!("{page}/assess")).await.body);
    assert_eq!(close_rev, override_rev);
    let r = a
        .post(
            &format!("{page}/notes"),
            &[("csrf", &atoken), ("text", "called IT")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let before = audit_len(&fx);
    let r = c
        .post(
            &format!("{page}/override"),
            &[
                ("csrf", token.as_str()),
                ("revision", override_rev.as_str()),
                ("class", "not_breach_low_probability"),
                ("rationale", "forensics show no access"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = c
        .post(
            &format!("{page}/close"),
            &[
                ("csrf", token.as_str()),
                ("revision", close_rev.as_str()),
                ("disposition", "no_phi"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = c
        .post(
            &format!("{page}/close"),
            &[
                ("csrf", token.as_str()),
                ("disposition", "no_phi"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(audit_len(&fx), before, "nothing written");
    // With the current version, the close goes through.
    let fresh = revision_in(&c.get(&page).await.body);
    let r = c
        .post(
            &format!("{page}/close"),
            &[
                ("csrf", token.as_str()),
                ("revision", fresh.as_str()),
                ("disposition", "no_phi"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// Counsel's rules from the browser: a template edit is checked before it is stored (a
/// letter without the "What Happened?" heading is refused, naming the element, and nothing is
/// written), stored and audited when it passes, and reverted; the State laws pages show
/// every jurisdiction, and counsel's file for one is checked, stored, audited and cleared.
#[tokio::test(flavor = "multi_thread")]
async fn counsel_manages_templates_and_state_laws_in_the_browser() {
    let fx = fixture(|_| {});
    let (mut c, token) = signed_in(&fx, "counsel").await;
    let list = c.get("/templates").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("individual.txt.hbs") && list.body.contains("_steps.txt.hbs"));
    assert!(list.body.contains("state_regulator.html.hbs"));
    let form = c.get("/templates/individual.txt.hbs").await.body;
    assert!(form.contains("What Happened?"), "{form}");
    let set_in = |body: &str| {
        let at = "name=\"set\" value=\"";
        let i = body.find(at).expect("a set version") + at.len();
        body[i..].split('"').next().unwrap().to_string()
    };
    let v0 = set_in(&form);
    let builtin = crate::letters::REGISTRY
        .iter()
        .find(|e| e.file == "individual.txt.hbs")
        .unwrap()
        .source;
    let before = audit_len(&fx);
    let broken = builtin.replace("What Happened?", "Details");
    assert_ne!(broken, builtin);
    let r = c
        .post(
            "/templates/individual.txt.hbs",
            &[
                ("csrf", token.as_str()),
                ("set", v0.as_str()),
                ("text", broken.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("element A"), "{}", r.body);
    assert_eq!(audit_len(&fx), before, "nothing stored");
    let edited = builtin.replace(
        "We are writing to tell you",
        "We are sorry to write to tell you",
    );
    assert_ne!(edited, builtin);
    let r = c
        .post(
            "/templates/individual.txt.hbs",
            &[
                ("csrf", token.as_str()),
                ("set", v0.as_str()),
                ("text", edited.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A second form filled in on the old set is refused: nothing is overwritten.
    let r = c
        .post(
            "/templates/_steps.txt.hbs",
            &[
                ("csrf", token.as_str()),
                ("set", v0.as_str()),
                ("text", "- Stay calm.\n"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let stored = fx
        .state
        .office
        .desk(ctx("t"))
        .stored_templates()
        .unwrap()
        .unwrap();
    assert_eq!(stored.get("individual.txt.hbs"), Some(&edited));
    assert_eq!(audit_len(&fx), before + 1);
    assert!(c.get("/templates").await.body.contains("<strong>counsel"));
    let v1 = set_in(&c.get("/templates/individual.txt.hbs").await.body);
    assert_ne!(v1, v0);
    let r = c
        .post(
            "/templates/individual.txt.hbs/revert",
            &[("csrf", token.as_str()), ("set", v1.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        fx.state
            .office
            .desk(ctx("t"))
            .stored_templates()
            .unwrap()
            .is_none_or(|m| m.is_empty())
    );
    assert_eq!(
        c.get("/templates/nonesuch.hbs").await.status,
        StatusCode::NOT_FOUND
    );

    // State laws: every jurisdiction listed; one law's rules with their sources.
    let (mut auditor, _) = signed_in(&fx, "auditor").await;
    let laws = auditor.get("/laws").await;
    assert_eq!(laws.status, StatusCode::OK);
    for code in ["AL", "CA", "TX", "WY", "DC", "PR", "VI", "GU"] {
        assert!(
            laws.body.contains(&format!("href=\"/laws/{code}\"")),
            "{code}"
        );
    }
    let tx = auditor.get("/laws/TX").await.body;
    assert!(tx.contains("Texas") && tx.contains("521.053"), "{tx}");
    assert!(
        !tx.contains("Check and store as counsel"),
        "auditors read only"
    );
    let page = c.get("/laws/TX").await.body;
    assert!(page.contains("Check and store as counsel"));
    let text = fx
        .state
        .office
        .desk(ctx("t"))
        .laws()
        .unwrap()
        .get("TX")
        .unwrap()
        .text
        .clone();
    let before = audit_len(&fx);
    let r = c
        .post(
            "/laws/TX",
            &[
                ("csrf", token.as_str()),
                ("text", "format = 1\njurisdiction = "),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let ca = fx
        .state
        .office
        .desk(ctx("t"))
        .laws()
        .unwrap()
        .get("CA")
        .unwrap()
        .text
        .clone();
    let r = c
        .post(
            "/laws/TX",
            &[("csrf", token.as_str()), ("text", ca.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("not TX"), "{}", r.body);
    assert_eq!(audit_len(&fx), before, "nothing written");
    let counsel_text = text.replacen("name = \"Texas\"", "name = \"Texas\"\n# counsel's copy", 1);
    assert_ne!(counsel_text, text);
    let r = c
        .post(
            "/laws/TX",
            &[("csrf", token.as_str()), ("text", counsel_text.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(audit_len(&fx), before + 1);
    let shown = c.get("/laws/TX").await.body;
    assert!(shown.contains("In force: counsel"), "{shown}");
    assert!(shown.contains("counsel&#x27;s copy") || shown.contains("counsel's copy"));
    let r = c.post("/laws/TX/clear", &[("csrf", token.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(c.get("/laws/TX").await.body.contains("In force: built-in"));

    // American Samoa and the Northern Mariana Islands have no built-in file: listed, each
    // with a page that says so, where counsel (and only counsel) can add one.
    let laws = auditor.get("/laws").await.body;
    assert!(
        laws.contains("href=\"/laws/AS\"") && laws.contains("href=\"/laws/MP\""),
        "{laws}"
    );
    let r = auditor.get("/laws/AS").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("American Samoa") && r.body.contains("No rules data in force"));
    assert!(
        !r.body.contains("Check and store as counsel"),
        "auditors read only"
    );
    let r = c.get("/laws/mp").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Northern Mariana Islands")
            && r.body.contains("Check and store as counsel")
    );
    let guam = fx
        .state
        .office
        .desk(ctx("t"))
        .laws()
        .unwrap()
        .get("GU")
        .unwrap()
        .text
        .clone();
    let samoa = guam.replacen("jurisdiction = \"GU\"", "jurisdiction = \"AS\"", 1);
    assert_ne!(samoa, guam);
    let before = audit_len(&fx);
    // A bad file is shown again with the error, on the same page, and writes nothing.
    let r = c
        .post(
            "/laws/AS",
            &[
                ("csrf", token.as_str()),
                ("text", "format = 1\njurisdiction = "),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("No rules data in force") && r.body.contains("Not saved"),
        "{}",
        r.body
    );
    assert_eq!(audit_len(&fx), before);
    let r = c
        .post(
            "/laws/AS",
            &[("csrf", token.as_str()), ("text", samoa.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(audit_len(&fx), before + 1);
    let shown = c.get("/laws/AS").await.body;
    assert!(shown.contains("In force: counsel"), "{shown}");
    assert!(
        !auditor
            .get("/laws")
            .await
            .body
            .contains("No rules data (counsel may add a file): American Samoa")
    );
    let r = c.post("/laws/AS/clear", &[("csrf", token.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = c.get("/laws/AS").await.body;
    assert!(
        shown.contains("No rules data in force") && shown.contains("cleared"),
        "{shown}"
    );
}
