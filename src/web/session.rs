//! Sessions (tower-sessions): an opaque random ID in an `HttpOnly`, `SameSite=Strict`
//! cookie (`Secure` under TLS), server-side records in memory that end after the configured
//! inactivity (every request renews them). Our store is tower-sessions' memory store plus a
//! sweep: expired records are removed, and a signed-in person's automatic logoff is
//! recorded in the audit trail (164.312(a)(2)(iii), (b)).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::{Duration as CookieDuration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};

use super::config::ServeConfig;

/// The session cookie's name.
pub const COOKIE: &str = "breachdesk_session";
/// Session keys.
pub const USER: &str = "user";
pub const CSRF: &str = "csrf";
pub const FLASH: &str = "flash";

/// In-memory session records.
#[derive(Clone, Debug, Default)]
pub struct Sessions(Arc<Mutex<HashMap<Id, Record>>>);

fn active(r: &Record) -> bool {
    r.expiry_date > OffsetDateTime::now_utc()
}

fn poisoned() -> session_store::Error {
    session_store::Error::Backend("session table poisoned".into())
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut m = self.0.lock().map_err(|_| poisoned())?;
        while m.contains_key(&record.id) {
            record.id = Id::default();
        }
        m.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0
            .lock()
            .map_err(|_| poisoned())?
            .insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .0
            .lock()
            .map_err(|_| poisoned())?
            .get(id)
            .filter(|r| active(r))
            .cloned())
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.lock().map_err(|_| poisoned())?.remove(id);
        Ok(())
    }
}

impl Sessions {
    /// Removes expired records; returns the names of the people whose sessions ended so.
    pub fn sweep(&self) -> Vec<String> {
        let Ok(mut m) = self.0.lock() else {
            return vec![];
        };
        let mut ended = Vec::new();
        m.retain(|_, r| {
            if active(r) {
                return true;
            }
            if let Some(name) = r.data.get(USER).and_then(|v| v.as_str()) {
                ended.push(name.to_string());
            }
            false
        });
        ended
    }

    /// Ends every session of one person (disabled, or their role changed).
    pub fn end_for(&self, name: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.retain(|_, r| r.data.get(USER).and_then(|v| v.as_str()) != Some(name));
        }
    }

    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// The session layer with the cookie settings the configuration calls for.
pub fn layer(sessions: Sessions, config: &ServeConfig) -> SessionManagerLayer<Sessions> {
    let idle = CookieDuration::seconds(config.idle_timeout.as_secs().max(1) as i64);
    SessionManagerLayer::new(sessions)
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(config.secure())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        .with_always_save(true)
}

/// A new random token (256 bits, hex): CSRF tokens, job IDs.
pub fn token() -> crate::error::Result<String> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b)
        .map_err(|e| crate::error::Error::Storage(format!("no OS randomness: {e}")))?;
    Ok(crate::audit::entry::hex(&b))
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
