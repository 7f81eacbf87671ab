//! `breachdesk serve` from the binary: start-up rules (users first, loopback unless TLS or
//! a proxy), the note that tells other commands who holds the database, HTTPS with rustls,
//! headers and cookies on the wire, a clean stop.

use crate::common::{Env, http, s};

fn get(addr: &str, path: &str) -> (String, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

#[test]
fn serve_needs_a_user_and_refuses_plain_http_beyond_loopback() {
    let e = Env::plain();
    let r = e.run(&["serve", "--listen", "127.0.0.1:0"]).code(3);
    assert!(r.stderr.contains("user add"), "{}", r.stderr);
    e.user("dana", "privacy-officer");
    let r = e.run(&["serve", "--listen", "0.0.0.0:0"]).code(3);
    assert!(
        r.stderr.contains("--tls-cert") && r.stderr.contains("--behind-proxy"),
        "{}",
        r.stderr
    );
    e.run(&["serve", "--tls-cert", "x.pem"]).code(2);
}

#[test]
fn the_server_owns_the_database_while_it_runs() {
    let e = Env::new();
    e.user("dana", "privacy-officer");
    let mut srv = e.serve(&["--idle-timeout", "10m"]);
    let note = std::fs::read_to_string(format!("{}.serving", e.db.display())).unwrap();
    assert!(note.contains(&srv.url), "{note}");
    assert!(
        srv.banner
            .contains("is held by this process until it stops"),
        "{}",
        srv.banner
    );
    // Any other command on the file says who holds it, and where.
    let r = e.run(&["incident", "list"]).code(5);
    assert!(
        r.stderr.contains("held by `breachdesk serve`") && r.stderr.contains(&srv.url),
        "{}",
        r.stderr
    );
    // Pages answer with the security headers and a strict session cookie.
    let (head, body) = get(srv.addr(), "/login");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let h = head.to_ascii_lowercase();
    for want in [
        "content-security-policy: default-src 'none'",
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "cache-control: no-store",
        "set-cookie: breachdesk_session=",
        "httponly",
        "samesite=strict",
    ] {
        assert!(h.contains(want), "{want} in\n{head}");
    }
    assert!(
        !h.contains("strict-transport-security"),
        "no HSTS on plain HTTP"
    );
    assert!(body.contains("Sign in"));
    let (head, _) = get(srv.addr(), "/incidents");
    assert!(
        head.starts_with("HTTP/1.1 303") && head.contains("location: /login"),
        "{head}"
    );
    // A clean stop removes the note; the file is free again.
    assert!(srv.stop().success());
    assert!(!std::path::Path::new(&format!("{}.serving", e.db.display())).exists());
    e.run(&["incident", "list"]).ok();
}

#[test]
fn https_with_rustls() {
    use std::io::{Read, Write};
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    let e = Env::plain();
    e.user("dana", "privacy-officer");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let srv = e.serve(&["--tls-cert", s(&cert), "--tls-key", s(&key)]);
    assert!(srv.url.starts_with("https://"), "{}", srv.url);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&cert).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let tcp = std::net::TcpStream::connect(srv.addr()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(
        text.contains("strict-transport-security: max-age="),
        "{text}"
    );
    assert!(
        text.contains("; secure"),
        "the session cookie is Secure under TLS: {text}"
    );
    // Plain HTTP to the TLS port is not served.
    let (head, _) = get(srv.addr(), "/login");
    assert!(!head.starts_with("HTTP/1.1 200"), "{head}");
}

#[test]
fn behind_a_proxy_any_address_with_a_warning() {
    let e = Env::plain();
    e.user("dana", "privacy-officer");
    let mut c = e.cmd();
    c.args(["serve", "--listen", "0.0.0.0:0", "--behind-proxy"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    // Started directly (not through Env::serve, which binds loopback).
    let mut child = c.spawn().unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut buf = [0u8; 4096];
    let mut text = String::new();
    use std::io::Read;
    while !text.contains("listening on") {
        let n = err.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(text.contains("warning: plain HTTP on 0.0.0.0"), "{text}");
    assert!(status.success(), "{text}");
}
