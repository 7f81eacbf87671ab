//! Hostile and broken input never crashes and never misleads (issue 11): every case here
//! once panicked, overflowed the stack, read without bound, left a half-written file or
//! exited with the wrong code.

use std::path::Path;
use std::process::Stdio;

use crate::common::*;

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn templates_dir(e: &Env, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = e.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

fn embedded(file: &str) -> String {
    std::fs::read_to_string(format!("{}/templates/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A breach with contact details, ready for letters (media notice in CA).
fn breach() -> (Env, String) {
    let e = Env::plain();
    e.run(&[
        "org",
        "update",
        "--toll-free",
        "1-800-555-0100",
        "--email",
        "privacy@test.example",
    ])
    .ok();
    let f = example("phishing-with-law-enforcement-delay.toml");
    let id = e
        .run(&["incident", "new", "--from", &f])
        .ok()
        .stdout
        .trim()
        .to_string();
    (e, id)
}

/// Regression: a signature of 128 bytes with a multi-byte character across byte 64 made
/// `audit verify --against` panic (exit 101) instead of reporting a bad checkpoint.
#[test]
fn checkpoint_with_a_multibyte_signature_is_a_bad_checkpoint() {
    let e = Env::plain();
    e.run(&["audit", "keygen"]).ok();
    let cp = e.path("cp.json");
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    let sig = format!("{}é{}", "a".repeat(63), "b".repeat(63));
    assert_eq!(sig.len(), 128);
    v["signature"] = serde_json::Value::String(sig);
    let bad = e.write("bad.json", &serde_json::to_string(&v).unwrap());
    let r = e.run(&["audit", "verify", "--against", s(&bad)]).code(17);
    assert!(
        r.stderr.contains("bad checkpoint") || r.stderr.contains("signature"),
        "{}",
        r.stderr
    );
    // Binary garbage, or a file far too large, is a bad checkpoint too; a missing one is 4.
    let junk = e.path("junk.json");
    std::fs::write(&junk, [0u8, 159, 146, 150, 0, 1]).unwrap();
    e.run(&["audit", "verify", "--against", s(&junk)]).code(17);
    let big = e.write("big.json", &"x".repeat(200_000));
    e.run(&["audit", "verify", "--against", s(&big)]).code(17);
    e.run(&["audit", "verify", "--against", s(&e.path("none.json"))])
        .code(4);
    // A value from the file never appears in the message.
    v["seq"] = serde_json::Value::String("Zq9Canary".into());
    let typed = e.write("typed.json", &serde_json::to_string(&v).unwrap());
    let r = e.run(&["audit", "verify", "--against", s(&typed)]).code(17);
    assert!(!r.stderr.contains("Zq9Canary"), "{}", r.stderr);
}

/// Regression: a recursive partial — self, mutual or inline — overflowed the stack (exit
/// 134) in `letters check`, `templates set` and `render --templates`.
#[test]
fn recursive_partials_are_refused_naming_the_partial() {
    let (e, id) = breach();
    let good = embedded("media.txt.hbs");
    let cases = [
        (
            "self",
            vec![("media.txt.hbs", format!("{good}{{{{> media.txt.hbs}}}}"))],
            "\"media.txt.hbs\"",
        ),
        (
            "mutual",
            vec![
                (
                    "media.txt.hbs",
                    format!("{good}{{{{> individual.txt.hbs}}}}"),
                ),
                (
                    "individual.txt.hbs",
                    format!("{}{{{{> media.txt.hbs}}}}", embedded("individual.txt.hbs")),
                ),
            ],
            "calls itself",
        ),
        (
            "inline",
            vec![(
                "media.txt.hbs",
                format!(
                    "{{{{#*inline \"sig\"}}}}x {{{{> sig}}}}{{{{/inline}}}}{good}{{{{> sig}}}}"
                ),
            )],
            "inline partial \"sig\"",
        ),
    ];
    for (name, files, says) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
        let dir = templates_dir(&e, name, &files);
        let r = e.run(&["letters", "check", s(&dir)]).code(3);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        let r = e.run(&["letters", "templates", "set", s(&dir)]).code(3);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        let out = e.path(&format!("out-{name}"));
        let r = e
            .run(&[
                "letters",
                "render",
                &id,
                "--kind",
                "media",
                "--templates",
                s(&dir),
                "--out",
                s(&out),
            ])
            .code(3);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        assert!(!out.join("manifest.json").exists());
    }
}

/// Regression: `letters render --templates DIR` skipped the required-element check that
/// `letters templates set` enforces (letters went out without the toll-free number) and
/// followed a symbolic link out of the directory (a letter whose body was /etc/passwd).
#[test]
fn render_checks_the_template_set_and_reads_no_symlink_out_of_it() {
    let (e, id) = breach();
    let without_phone = embedded("media.txt.hbs").replace("{{org.toll_free}}", "");
    let dir = templates_dir(&e, "nophone", &[("media.txt.hbs", &without_phone)]);
    let out = e.path("o1");
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "media",
            "--templates",
            s(&dir),
            "--out",
            s(&out),
        ])
        .code(3);
    assert!(r.stderr.contains("toll-free"), "{}", r.stderr);
    assert!(!out.join("manifest.json").exists());

    let outside = e.write("secret.txt", "root:x:0:0:Zq9Canary\n");
    let dir = e.path("linked");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("media.txt.hbs")).unwrap();
    for args in [
        vec!["letters", "check", s(&dir)],
        vec!["letters", "templates", "set", s(&dir)],
    ] {
        let r = e.run(&args).code(3);
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
        assert!(!r.stderr.contains("Zq9Canary") && !r.stdout.contains("Zq9Canary"));
    }
    let out = e.path("o2");
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "media",
        "--templates",
        s(&dir),
        "--out",
        s(&out),
    ])
    .code(3);
    assert!(!out.join("manifest.json").exists());
    // A link to a file inside the directory is fine.
    let dir = templates_dir(&e, "inside", &[("real.txt", &embedded("media.txt.hbs"))]);
    std::fs::rename(dir.join("real.txt"), dir.join(".real.txt")).unwrap();
    std::os::unix::fs::symlink(dir.join(".real.txt"), dir.join("media.txt.hbs")).unwrap();
    e.run(&["letters", "check", s(&dir)]).ok();
}

/// Regression: inputs were read without bound (`evaluate /dev/zero` reached 10 GB), a
/// roster from /dev/zero never ended, and a piped roster read as "empty".
#[test]
fn endless_and_piped_inputs_are_refused_clearly() {
    let e = Env::empty();
    let r = e.run(&["evaluate", "/dev/zero"]).code(3);
    assert!(r.stderr.contains("larger than 1 MiB"), "{}", r.stderr);
    let e = Env::plain();
    let id = e.incident(&["--title", "t", "--discovered", "2026-11-01"]);
    let r = e.run(&["roster", "import", &id, "/dev/zero"]).code(3);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    let mut c = e.cmd();
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .args(["roster", "import", &id, "/dev/stdin"])
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(b"id,last_name\n1,A\n");
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("save it to a file first"), "{err}");
    assert!(!err.contains("empty"), "{err}");
    // An evidence file is hashed for the audit trail: a device is refused, not read forever.
    let r = e
        .run(&[
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
            "1",
            "--evidence",
            "/dev/zero",
        ])
        .code(3);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    // Facts on standard input are bounded as well.
    let mut c = e.cmd();
    c.stdin(std::fs::File::open("/dev/zero").unwrap());
    let r = e.run_with(c, &["evaluate", "-"]).code(3);
    assert!(
        r.stderr.contains("standard input is larger than"),
        "{}",
        r.stderr
    );
}

/// Regression: exit codes. A missing facts file exited 1 (documented: 4); invalid UTF-8 in
/// a scenario or a template set exited 1 (invalid input: 3); an I/O failure exited 3 or 6.
#[test]
fn every_failure_exits_with_its_documented_code() {
    let e = Env::plain();
    let r = e.run(&["evaluate", s(&e.path("missing.toml"))]).code(4);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    e.run(&["incident", "new", "--from", s(&e.path("missing.toml"))])
        .code(4);
    let latin1 = e.path("latin1.toml");
    std::fs::write(&latin1, b"title = \"Caf\xe9\"\n").unwrap();
    e.run(&["evaluate", s(&latin1)]).code(3);
    let scen = e.path("scenario.toml");
    std::fs::write(&scen, b"id = \"x\"\ntitle = \"Caf\xe9\"\n").unwrap();
    let r = e.run(&["exercise", "validate", s(&scen)]).code(3);
    assert!(r.stderr.contains("UTF-8"), "{}", r.stderr);
    let dir = e.path("tpl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("media.txt.hbs"), b"Notice \xff\xfe\n").unwrap();
    let r = e.run(&["letters", "templates", "set", s(&dir)]).code(3);
    assert!(r.stderr.contains("not UTF-8"), "{}", r.stderr);
    e.run(&["letters", "check", s(&dir)]).code(3);
    e.run(&["letters", "check", s(&e.path("no-such-dir"))])
        .code(4);
    // Writing where no file can be created is an I/O error (8), and leaves nothing behind.
    let r = e
        .run(&["audit", "checkpoint", "--out", "/nonexistent-dir/cp.json"])
        .code(8);
    assert!(
        r.stderr.contains("/nonexistent-dir/cp.json"),
        "{}",
        r.stderr
    );
    // A database path that is a directory cannot be opened: I/O, not "not a database".
    let mut c = e.cmd();
    c.env("BREACHDESK_DB", e.dir.path());
    let r = e.run_with(c, &["incident", "list"]);
    assert_eq!(r.code, 8, "{r:?}");
}

/// `audit verify` changes nothing, so a copy of the database it cannot write (read-only
/// media, a file without write permission, an immutable file) can still be verified.
#[test]
fn audit_verify_works_on_a_file_it_cannot_write() {
    let e = Env::plain();
    e.incident(&["--title", "t", "--discovered", "2026-11-01"]);
    let cp = e.path("cp.json");
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    // Root ignores permission bits; the immutable attribute stops it from writing too.
    let immutable = std::process::Command::new("chattr")
        .args(["+i", s(&e.db)])
        .status()
        .is_ok_and(|st| st.success());
    if !immutable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&e.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    }
    struct Undo<'a>(&'a Path, bool);
    impl Drop for Undo<'_> {
        fn drop(&mut self) {
            if self.1 {
                let _ = std::process::Command::new("chattr")
                    .args(["-i", s(self.0)])
                    .status();
            }
        }
    }
    let _undo = Undo(&e.db, immutable);
    let writable = std::fs::OpenOptions::new().write(true).open(&e.db).is_ok();
    if writable {
        eprintln!("note: this machine lets the test write a read-only file; nothing to check");
        return;
    }
    let r = e.run(&["audit", "verify"]).ok();
    assert!(r.stdout.contains("audit trail intact"), "{}", r.stdout);
    e.run(&["audit", "verify", "--against", s(&cp)]).ok();
    // Changing it is refused with an I/O error, not "not a breachdesk database".
    let r = e.run(&["incident", "new", "--no-interview", "--title", "x"]);
    assert_eq!(r.code, 8, "{r:?}");
}

/// Regression: a binary file was blamed on "classic Mac line endings", a large field on an
/// unclosed quotation mark with advice to raise a limit no option sets.
#[test]
fn roster_messages_say_what_is_wrong() {
    let e = Env::plain();
    let id = e.incident(&["--title", "t", "--discovered", "2026-11-01"]);
    let png = e.path("photo.csv");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10").unwrap();
    let r = e.run(&["roster", "import", &id, s(&png)]).code(3);
    assert!(r.stderr.contains("binary file"), "{}", r.stderr);
    assert!(!r.stderr.contains("Mac"), "{}", r.stderr);
    let big = format!("id,last_name\n1,{}\n", "a".repeat(9 * 1024 * 1024));
    let f = e.write("big.csv", &big);
    let r = e.run(&["roster", "import", &id, s(&f)]).code(3);
    assert!(r.stderr.contains("without a line break"), "{}", r.stderr);
    assert!(!r.stderr.contains("raise"), "{}", r.stderr);
    let f = e.write(
        "quote.csv",
        &format!("id,last_name\n1,\"{}\n", "a".repeat(9 * 1024 * 1024)),
    );
    let r = e.run(&["roster", "import", &id, s(&f)]).code(3);
    assert!(
        r.stderr.contains("quotation mark is probably not closed"),
        "{}",
        r.stderr
    );
}

/// Regression: NUL bytes were accepted in IDs and names.
#[test]
fn nul_and_control_characters_are_refused_in_ids_and_names() {
    let e = Env::plain();
    let id = e.incident(&["--title", "t", "--discovered", "2026-11-01"]);
    let f = e.path("nul.csv");
    std::fs::write(&f, b"id,last_name\n1\x00,A\n2,B\n").unwrap();
    let r = e.run(&["roster", "import", &id, s(&f)]).code(3);
    assert!(r.stderr.contains("NUL"), "{}", r.stderr);
    let f = e.path("ctl.csv");
    std::fs::write(&f, b"id,last_name\n1\x07,A\n2,B\x1b\n3,C\n").unwrap();
    let v = e
        .run(&["roster", "import", &id, s(&f), "--json"])
        .ok()
        .json();
    assert_eq!(v["accepted"], 1);
    assert_eq!(v["rejected"], 2);
    let facts = e.write(
        "nul.toml",
        "title = \"a\\u0000b\"\n[breach]\ndiscovered = 2026-11-01\n",
    );
    let r = e.run(&["incident", "new", "--from", s(&facts)]).code(3);
    assert!(r.stderr.contains("field `title`"), "{}", r.stderr);
    let r = e
        .run(&[
            "incident",
            "update",
            &id,
            "--set",
            "business_associate.name=\"x\\u0000\"",
        ])
        .code(3);
    assert!(r.stderr.contains("control character"), "{}", r.stderr);
}

/// Regression: a failed write left a 0-byte checkpoint, key file or report behind.
#[test]
fn failed_writes_leave_nothing_half_written() {
    let e = Env::plain();
    let ro = e.path("ro");
    std::fs::create_dir_all(&ro).unwrap();
    // The output is written under a temporary name in its directory and renamed into
    // place: a failure before the rename leaves nothing under the final name.
    for args in [
        vec!["audit", "checkpoint", "--out", "/nonexistent-dir/cp.json"],
        vec!["audit", "keygen", "--out", "/nonexistent-dir/key"],
    ] {
        e.run(&args).code(8);
    }
    let id = e.incident(&["--title", "t", "--discovered", "2026-11-01"]);
    e.run(&["report", &id, "--html", "--out", "/nonexistent-dir/r.html"])
        .code(8);
    e.run(&[
        "hhs",
        "annual-log",
        "2026",
        "--out",
        "/nonexistent-dir/log.csv",
    ])
    .code(8);
    assert!(!Path::new("/nonexistent-dir").exists());
    // A report replaces an older one whole, owner-only (it holds the narrative), and only
    // when asked to (issue 10: never over an existing file without --force).
    let report = e.path("r.html");
    std::fs::write(&report, "old").unwrap();
    let r = e
        .run(&["report", &id, "--html", "--out", s(&report)])
        .code(3);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "old");
    e.run(&["report", &id, "--html", "--out", s(&report), "--force"])
        .ok();
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .contains("</html>")
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A checkpoint replaces an older one whole.
    let cp = e.path("cp.json");
    std::fs::write(&cp, "old").unwrap();
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    let text = std::fs::read_to_string(&cp).unwrap();
    assert!(text.contains("head_hash"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .filter_map(|f| f.ok())
        .filter(|f| f.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Regression: a key file left by a crashed `audit keygen` blocked `audit checkpoint` until
/// removed by hand; keygen is now atomic and finishes an interrupted run.
#[test]
fn an_interrupted_keygen_blocks_nothing_and_is_finished_by_keygen() {
    let e = Env::plain();
    let key = {
        let mut p = e.db.as_os_str().to_owned();
        p.push(".signing-key");
        std::path::PathBuf::from(p)
    };
    // What an older keygen left when it crashed right after creating the file.
    std::fs::write(&key, "").unwrap();
    let cp = e.path("cp.json");
    let r = e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    assert!(
        r.stderr.contains("interrupted `audit keygen`"),
        "{}",
        r.stderr
    );
    e.run(&["audit", "verify", "--against", s(&cp)]).ok();
    // keygen replaces the empty file and records the key.
    let v = e.run(&["audit", "keygen", "--json"]).ok().json();
    let public = v["public_key"].as_str().unwrap().to_string();
    e.run(&["audit", "checkpoint", "--out", s(&cp)]).ok();
    let signed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(signed["public_key"], public.as_str());

    // A crash after the key file was complete but before its key was recorded: keygen
    // records that key instead of refusing, and the checkpoint is then signed with it.
    let e2 = Env::plain();
    let key2 = {
        let mut p = e2.db.as_os_str().to_owned();
        p.push(".signing-key");
        std::path::PathBuf::from(p)
    };
    std::fs::copy(&key, &key2).unwrap();
    let cp2 = e2.path("cp.json");
    let r = e2.run(&["audit", "checkpoint", "--out", s(&cp2)]).ok();
    assert!(r.stderr.contains("unsigned"), "{}", r.stderr);
    let v = e2.run(&["audit", "keygen", "--json"]).ok().json();
    assert_eq!(v["public_key"], public.as_str());
    e2.run(&["audit", "keygen"]).code(3);
    e2.run(&["audit", "checkpoint", "--out", s(&cp2)]).ok();
    e2.run(&["audit", "verify", "--against", s(&cp2)]).ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let e3 = Env::plain();
        e3.run(&["audit", "keygen"]).ok();
        let mut p = e3.db.as_os_str().to_owned();
        p.push(".signing-key");
        let mode = std::fs::metadata(std::path::PathBuf::from(p))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// Facts that cannot be true are refused: an empty file, and more unreachable and deceased
/// individuals than affected individuals.
#[test]
fn empty_and_impossible_facts_are_refused() {
    let e = Env::empty();
    let empty = e.write("empty.toml", "# nothing yet\n");
    let r = e.run(&["evaluate", s(&empty)]).code(3);
    assert!(r.stderr.contains("states no facts"), "{}", r.stderr);
    let over = e.write(
        "over.toml",
        "[breach]\ndiscovered = 2026-11-01\n[individuals]\nestimated_total = 10\nunreachable = 8\ndeceased_with_nok = 3\n",
    );
    let r = e.run(&["evaluate", s(&over)]).code(3);
    assert!(r.stderr.contains("more than the total"), "{}", r.stderr);
    let huge = e.write(
        "huge.toml",
        "[breach]\ndiscovered = 2026-11-01\n[individuals.by_state]\nCA = 9223372036854775807\nNY = 9223372036854775807\nTX = 9223372036854775807\n",
    );
    let r = e.run(&["evaluate", s(&huge)]).code(3);
    assert!(r.stderr.contains("add up to more than"), "{}", r.stderr);
}
