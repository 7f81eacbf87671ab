//! How the server runs: where it listens, TLS, session and lockout settings, where it keeps
//! files. Built by the command line from `breachdesk serve` flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Certificate chain and private key (PEM): serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A reverse proxy in front terminates TLS.
    pub behind_proxy: bool,
    /// Inactivity after which a session ends (164.312(a)(2)(iii) automatic logoff).
    pub idle_timeout: Duration,
    /// Failed sign-ins in a row that lock an account, and for how long.
    pub lockout_after: u32,
    pub lockout_for: Duration,
    /// Failed sign-ins from one address within `lockout_for` after which that address is
    /// refused for the rest of the period (across names).
    pub throttle_after: u32,
    /// Largest roster upload, in bytes.
    pub max_upload: u64,
    /// Rendered batches (`letters/`) and uploads in progress (`uploads/`), mode 0700.
    pub data_dir: PathBuf,
    /// The exercise database facilitators run.
    pub exercise_db: PathBuf,
    /// The checkpoint signing key (`audit keygen`), used when present.
    pub signing_key: PathBuf,
    pub access_log: bool,
    /// The clock pinned by BREACHDESK_NOW (tests, demos); else the system clock per request.
    pub pinned_now: Option<DateTime<Utc>>,
    /// The OS account running the server (from its user id): in every audit entry beside the
    /// person signed in.
    pub os_account: String,
    pub os_uid: Option<u32>,
}

impl ServeConfig {
    /// Cookies are `Secure` and HSTS is sent when the browser reaches us over TLS.
    pub fn secure(&self) -> bool {
        self.tls.is_some() || self.behind_proxy
    }

    /// Checks the combination; returns warnings to print at start-up.
    pub fn check(&self) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        let loopback = self.listen.ip().is_loopback();
        if !loopback && self.tls.is_none() {
            if !self.behind_proxy {
                return Err(Error::invalid(format!(
                    "--listen {} is reachable beyond this machine: serve HTTPS with --tls-cert FILE --tls-key FILE, or put a TLS-terminating reverse proxy in front and pass --behind-proxy",
                    self.listen
                )));
            }
            warnings.push(format!(
                "warning: plain HTTP on {} (--behind-proxy): only the TLS-terminating proxy may reach this address; PHI crosses it unencrypted otherwise",
                self.listen
            ));
        }
        if self.idle_timeout > Duration::from_secs(15 * 60) {
            warnings.push(format!(
                "warning: sessions end after {} minutes of inactivity; 15 minutes or less is the usual automatic-logoff setting (164.312(a)(2)(iii))",
                self.idle_timeout.as_secs() / 60
            ));
        }
        Ok(warnings)
    }

    /// The address people open.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.listen)
    }
}
