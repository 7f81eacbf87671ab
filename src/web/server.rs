//! The application (routes, layers) and the server loop: TCP or TLS (rustls), the note that
//! says who holds the database, the session sweep, graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use super::config::ServeConfig;
use super::csrf::{self, MultipartRoutes};
use super::page::{PAGE_CSP, error_page};
use super::routes::{router, takes_multipart};
use super::session;
use super::state::AppState;
use crate::desk::Office;
use crate::desk::owner::{NoteGuard, ServerNote};
use crate::error::{Error, Result};

const STYLE: &str = include_str!("static/style.css");

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "there is no page at this address")
}

/// One line per request when asked: method, route pattern (never the concrete path's query
/// or a body), status, time. Paths carry incident IDs and user names only.
async fn access_log(State(on): State<bool>, req: Request, next: Next) -> Response {
    if !on {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let t = Instant::now();
    let r = next.run(req).await;
    eprintln!(
        "{} {} {} {} {:.1}ms",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        method,
        path,
        r.status().as_u16(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    r
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The whole application for an office and a configuration (tests call it directly).
pub fn app(state: AppState) -> Router {
    let secure = state.config.secure();
    let log = state.config.access_log;
    let sessions = state.sessions.clone();
    let mut app = router(&state)
        .route("/static/style.css", get(style))
        .fallback(not_found)
        .layer(from_fn_with_state(
            MultipartRoutes(takes_multipart),
            csrf::check,
        ))
        .layer(session::layer(sessions, &state.config))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(header::CACHE_CONTROL, "no-store"))
        .layer(header_layer(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(header_layer(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ));
    if secure {
        app = app.layer(header_layer(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ));
    }
    app.layer(from_fn_with_state(log, access_log))
        .with_state(state)
}

/// Ends sessions idle past the timeout and records each signed-in person's automatic logoff.
fn spawn_sweeper(state: AppState) {
    let every =
        (state.config.idle_timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            for name in state.sessions.sweep() {
                let st = state.clone();
                let _ = st
                    .run(None, move |d| d.sign_out(&name, "idle_timeout"))
                    .await;
            }
        }
    });
}

/// Registers the signals that stop the server (SIGTERM, SIGINT) now, so that one arriving
/// any time after the "listening" line is announced shuts the server down cleanly; the
/// returned future completes on the first of them.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn prepare_dirs(config: &ServeConfig) -> Result<()> {
    for d in [config.data_dir.clone(), config.data_dir.join("uploads")] {
        std::fs::create_dir_all(&d)
            .map_err(|e| Error::io(format!("cannot create {}", d.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io(format!("cannot restrict {}", d.display()), e))?;
        }
    }
    // Uploads left by a previous run (a crash mid-import) hold PHI: remove them.
    if let Ok(rd) = std::fs::read_dir(config.data_dir.join("uploads")) {
        for e in rd.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(())
}

/// Serves until interrupted. The office must be unlocked already (the passphrase is asked
/// once, by the caller). `ready` is called with the address actually bound.
pub fn serve(office: Office, config: ServeConfig, ready: impl FnOnce(SocketAddr)) -> Result<()> {
    for w in config.check()? {
        eprintln!("{w}");
    }
    prepare_dirs(&config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the server runtime", e))?;
    rt.block_on(async move {
        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(|e| Error::io(format!("cannot listen on {}", config.listen), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("cannot configure the listener", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the bound address", e))?;
        let mut config = config;
        config.listen = addr;
        let url = config.url();
        let tls = config.tls.clone();
        let db = office.path().to_path_buf();
        let _note = NoteGuard::write(
            &db,
            &ServerNote {
                pid: std::process::id(),
                url: url.clone(),
                since: chrono::Utc::now(),
            },
        )?;
        let state = AppState::new(office, config);
        spawn_sweeper(state.clone());
        let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
        let handle = axum_server::Handle::new();
        let h = handle.clone();
        let stop =
            shutdown_signal().map_err(|e| Error::io("cannot install the signal handlers", e))?;
        tokio::spawn(async move {
            stop.await;
            h.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        ready(addr);
        match tls {
            Some((cert, key)) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let cfg = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                    .await
                    .map_err(|e| {
                        Error::invalid(format!(
                            "cannot load the TLS certificate {} and key {}: {e}",
                            cert.display(),
                            key.display()
                        ))
                    })?;
                axum_server::from_tcp_rustls(listener, cfg)
                    .map_err(|e| Error::io("cannot serve TLS", e))?
                    .handle(handle)
                    .serve(app)
                    .await
                    .map_err(|e| Error::io("the server stopped", e))
            }
            None => axum_server::from_tcp(listener)
                .map_err(|e| Error::io("cannot serve", e))?
                .handle(handle)
                .serve(app)
                .await
                .map_err(|e| Error::io("the server stopped", e)),
        }
    })
}
