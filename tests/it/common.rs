//! Helpers: a temporary database, running the binary, reading JSON output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const NOW: &str = "2026-11-22T15:00:00Z";
pub const PASS: &str = "correct horse battery staple";

pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub now: String,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout));
        assert_eq!(
            v["format_version"], 1,
            "format_version missing: {}",
            self.stdout
        );
        v
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_breachdesk")
}

impl Env {
    /// A fresh directory with no database yet.
    pub fn empty() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("test.redb");
        Env {
            dir,
            db,
            now: NOW.to_string(),
        }
    }

    /// A database initialised for a covered entity, encrypted with [`PASS`]. Created with
    /// `--pinned-clock`: the tests pin the clock, which a real register refuses.
    pub fn new() -> Env {
        let e = Env::empty();
        e.run(&[
            "init",
            "--pinned-clock",
            "--org",
            "Test Hospital",
            "--role",
            "covered-entity",
            "--toll-free",
            "1-800-555-0100",
            "--email",
            "privacy@test.example",
            "--time-zone",
            "America/New_York",
        ])
        .ok();
        e
    }

    /// A database without encryption (faster; for tests that do not concern PHI at rest).
    pub fn plain() -> Env {
        let e = Env::empty();
        e.run(&[
            "init",
            "--pinned-clock",
            "--org",
            "Test Hospital",
            "--role",
            "covered-entity",
            "--no-encryption",
        ])
        .ok();
        e
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BREACHDESK_DB", &self.db)
            .env("BREACHDESK_NOW", &self.now)
            .env("BREACHDESK_ACTOR", "tester")
            .env("BREACHDESK_PASSPHRASE", PASS)
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.cmd(), args)
    }

    /// A command on the system clock (no `BREACHDESK_NOW`): for real registers.
    pub fn real_cmd(&self) -> Command {
        let mut c = self.cmd();
        c.env_remove("BREACHDESK_NOW");
        c
    }

    /// Runs on the system clock (see [`Env::real_cmd`]).
    pub fn run_real(&self, args: &[&str]) -> Run {
        self.run_with(self.real_cmd(), args)
    }

    pub fn run_with(&self, mut c: Command, args: &[&str]) -> Run {
        let out: Output = c.args(args).output().expect("run breachdesk");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Writes a file in the test directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write file");
        p
    }

    /// Logs an incident and returns its ID.
    pub fn incident(&self, args: &[&str]) -> String {
        let mut a = vec!["incident", "new", "--no-interview"];
        a.extend_from_slice(args);
        self.run(&a).ok().stdout.trim().to_string()
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The file's tables by their documented names (ARCHITECTURE.md): tamper tests edit the
/// file with redb directly, as an outsider would, without breachdesk's own definitions.
pub mod tables {
    use redb::TableDefinition;

    pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta_v1");
    pub const INCIDENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("incidents_v1");
    pub const ASSESSMENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("assessments_v1");
    pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_v1");
    pub const ROSTER_ROWS: TableDefinition<&str, &[u8]> = TableDefinition::new("roster_rows_v1");
    pub const ROSTER_GROUPS: TableDefinition<&str, &[u8]> =
        TableDefinition::new("roster_groups_v2");
    pub const ROSTER_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("roster_keys_v2");
    pub const ROSTER_DEAD: TableDefinition<&str, &[u8]> = TableDefinition::new("roster_dead_v2");
    pub const ROSTER_ISSUES: TableDefinition<&str, &[u8]> =
        TableDefinition::new("roster_issues_v2");
    pub const ROSTER_BATCHES: TableDefinition<&str, &[u8]> =
        TableDefinition::new("roster_batches_v1");
}

/// A `breachdesk serve` process for a test: started on a free loopback port, stopped (as
/// Ctrl-C would, so it removes its note beside the database) when dropped.
pub struct Served {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT` (or https).
    pub url: String,
    /// What the server printed to standard error up to "listening".
    pub banner: String,
}

pub const USER_PASSWORD: &str = "violet tractor mirror quarry 42";

impl Env {
    /// Adds a user with [`USER_PASSWORD`].
    pub fn user(&self, name: &str, role: &str) {
        let mut c = self.cmd();
        c.env("BREACHDESK_USER_PASSWORD", USER_PASSWORD);
        self.run_with(c, &["user", "add", name, "--role", role])
            .ok();
    }

    /// Starts the server; `args` come after `serve --listen 127.0.0.1:0`.
    pub fn serve(&self, args: &[&str]) -> Served {
        use std::io::{BufRead, BufReader};
        let mut c = self.cmd();
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("start breachdesk serve");
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            let mut lines = BufReader::new(err).lines();
            let mut sent = false;
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                banner.push_str(&line);
                banner.push('\n');
                if !sent && line.contains("listening on ") {
                    let _ = tx.send(Ok(banner.clone()));
                    sent = true;
                }
            }
            if !sent {
                let _ = tx.send(Err(banner));
            }
        });
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(Ok(banner)) => {
                let url = banner
                    .split("listening on ")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
                    .expect("url")
                    .to_string();
                Served { child, url, banner }
            }
            Ok(Err(out)) => panic!("the server did not start:\n{out}"),
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start within 60 s");
            }
        }
    }
}

impl Served {
    /// `host:port`.
    pub fn addr(&self) -> &str {
        self.url.split("://").nth(1).expect("addr")
    }

    /// Stops the server as Ctrl-C or `kill` would (SIGTERM) and waits for it.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().expect("wait")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// A plain HTTP/1.1 request over TCP (no client library): the status line and headers as
/// text, and the body.
pub fn http(addr: &str, request: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(request.as_bytes()).expect("send");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}
