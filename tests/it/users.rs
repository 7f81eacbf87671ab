//! `user add|list|role|disable|enable|reset-password`, and counsel's sign-off from the
//! command line (`letters approve`, `letters batches`, `notice record --batch`).

use crate::common::{Env, USER_PASSWORD, s};

fn with_password(e: &Env, password: &str, args: &[&str]) -> crate::common::Run {
    let mut c = e.cmd();
    c.env("BREACHDESK_USER_PASSWORD", password);
    e.run_with(c, args)
}

#[test]
fn users_are_added_checked_and_audited() {
    let e = Env::plain();
    e.run(&["user", "list"]).ok();
    let r = with_password(
        &e,
        "password123",
        &["user", "add", "dana", "--role", "privacy-officer"],
    )
    .code(3);
    assert!(
        r.stderr.contains("too short") || r.stderr.contains("too easy"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("password123"),
        "the password is never echoed"
    );
    let r = with_password(
        &e,
        "dana-dana-dana",
        &["user", "add", "dana", "--role", "privacy-officer"],
    )
    .code(3);
    assert!(r.stderr.contains("too easy to guess"), "{}", r.stderr);
    // No password and no terminal: a clear error.
    e.run(&["user", "add", "dana", "--role", "privacy-officer"])
        .code(3);
    e.user("dana", "privacy-officer");
    e.user("lee", "analyst");
    with_password(
        &e,
        USER_PASSWORD,
        &["user", "add", "lee", "--role", "counsel"],
    )
    .code(3);
    e.run(&["user", "add", "Bad Name", "--role", "counsel"])
        .code(3);
    e.run(&["user", "add", "sam", "--role", "admin"]).code(2);
    e.run(&["user", "role", "lee", "--role", "counsel"]).ok();
    e.run(&["user", "disable", "lee"]).ok();
    e.run(&["user", "disable", "lee"]).code(3);
    e.run(&["user", "enable", "lee"]).ok();
    let r = e.run(&["user", "disable", "dana"]).code(3);
    assert!(
        r.stderr.contains("privacy officer must remain"),
        "{}",
        r.stderr
    );
    with_password(
        &e,
        "another violet tractor 99",
        &["user", "reset-password", "lee"],
    )
    .ok();
    e.run(&["user", "role", "nobody", "--role", "counsel"])
        .code(4);
    let list = e.run(&["user", "list", "--json"]).ok().json();
    let users = list["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[1]["role"], "counsel");
    assert!(
        !list.to_string().contains("argon2"),
        "no hash in the output"
    );
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let actions: Vec<String> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["subject"].as_str().unwrap().starts_with("user/"))
        .map(|x| {
            format!(
                "{} {}",
                x["action"].as_str().unwrap(),
                x["subject"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "user.add user/dana",
            "user.add user/lee",
            "user.role user/lee",
            "user.disable user/lee",
            "user.enable user/lee",
            "user.reset_password user/lee"
        ]
    );
    assert!(!log.to_string().contains(USER_PASSWORD));
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn counsel_signs_off_a_batch_before_notices_are_recorded() {
    let e = Env::plain();
    e.run(&[
        "org",
        "update",
        "--email",
        "privacy@test.example",
        "--toll-free",
        "1-800-555-0100",
    ])
    .ok();
    let id = e.incident(&[
        "--title",
        "Lost files",
        "--discovered",
        "2026-11-01",
        "--individuals",
        "900",
        "--state",
        "CA=900",
    ]);
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "media",
            "--out",
            s(&e.path("m")),
            "--force",
        ])
        .ok();
    assert!(r.stdout.contains("batch 1 is a draft"), "{}", r.stdout);
    let b = e.run(&["letters", "batches", &id, "--json"]).ok().json();
    let hash = b["batches"][0]["manifest_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let notice = |extra: &[&str]| {
        let mut a = vec![
            "notice",
            "record",
            &id,
            "--kind",
            "media",
            "--jurisdiction",
            "CA",
            "--date",
            "2026-11-20",
            "--method",
            "media",
        ];
        a.extend_from_slice(extra);
        e.run(&a)
    };
    let r = notice(&[]).code(3);
    assert!(r.stderr.contains("--approved-batch N"), "{}", r.stderr);
    let r = notice(&["--approved-batch", "1"]).code(3);
    assert!(r.stderr.contains("is a draft"), "{}", r.stderr);
    notice(&["--override-rationale", " "]).code(3);
    notice(&["--approved-batch", "1", "--override-rationale", "x"]).code(2);
    let r = e
        .run(&[
            "--actor",
            "Morgan Lee",
            "letters",
            "approve",
            &id,
            "1",
            "--manifest-sha256",
            &"0".repeat(64),
        ])
        .code(9);
    assert!(r.stderr.contains("not the one reviewed"), "{}", r.stderr);
    let r = e
        .run(&[
            "--actor",
            "Morgan Lee",
            "letters",
            "approve",
            &id,
            "1",
            "--manifest-sha256",
            &hash,
        ])
        .ok();
    assert!(r.stdout.contains("approved batch 1"), "{}", r.stdout);
    e.run(&["letters", "approve", &id, "1"]).code(3);
    e.run(&["letters", "approve", &id, "2"]).code(4);
    let r = notice(&["--approved-batch", "1", "--json"]).ok().json();
    assert_eq!(r["recorded"]["signoff"]["batch"]["number"], 1);
    assert_eq!(r["status"], "met 2026-11-20");
    let log = e
        .run(&["audit", "log", "--incident", &id, "--json"])
        .ok()
        .json();
    let entries = log["entries"].as_array().unwrap();
    let approve = entries
        .iter()
        .find(|x| x["action"] == "letters.approve")
        .unwrap();
    assert!(
        approve["actor"]
            .as_str()
            .unwrap()
            .ends_with(" for Morgan Lee"),
        "{approve}"
    );
    assert!(
        approve["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("manifest_sha256={hash}"))
    );
    let b = e.run(&["letters", "batches", &id, "--json"]).ok().json();
    assert_eq!(b["batches"][0]["approved_by"], "Morgan Lee");
    e.run(&["audit", "verify"]).ok();
}
