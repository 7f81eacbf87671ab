//! What every request shares: the office (open store, unlocked key), the configuration,
//! background jobs, the cached dashboard, the sign-in throttle. Desk calls run on tokio's
//! blocking pool: a writer's fsync never stalls the threads that serve pages, and readers
//! (redb snapshots) never wait for a writer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;

use super::config::ServeConfig;
use super::jobs::Jobs;
use super::session::Sessions;
use crate::audit::entry::{ClockSource, Via, Who};
use crate::desk::{BoardCache, Context, Desk, Office};
use crate::domain::StaffRole;
use crate::error::{Error, Result};

/// The signed-in person making a request (put in the request by the authorization layer).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub name: String,
    pub role: StaffRole,
    /// The session's CSRF token, for the forms on the page.
    pub csrf: String,
    /// A message from the previous request (after a redirect).
    pub flash: Option<String>,
}

/// Failed sign-ins from one source address.
pub struct Throttle {
    pub since: Instant,
    pub failures: u32,
    pub recorded: bool,
}

pub struct Shared {
    pub office: Arc<Office>,
    /// The dashboard kept for this office, brought up to date on each look.
    pub board: BoardCache,
    pub config: ServeConfig,
    pub jobs: Jobs,
    pub throttle: Mutex<HashMap<String, Throttle>>,
    /// Exercise steps one at a time (the exercise database is opened per step).
    pub exercise: Mutex<()>,
    /// The session records (also held by the session layer).
    pub sessions: Sessions,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(office: Office, config: ServeConfig) -> AppState {
        let jobs = Jobs::new(config.data_dir.join("uploads"));
        AppState(Arc::new(Shared {
            office: Arc::new(office),
            board: BoardCache::default(),
            config,
            jobs,
            throttle: Mutex::new(HashMap::new()),
            exercise: Mutex::new(()),
            sessions: Sessions::default(),
        }))
    }

    /// Who and when for one call: the channel (web), the server's OS account, the person
    /// signed in (`None`: the server itself, for sign-in attempts and timeouts), and the
    /// system clock, read now.
    pub fn context(&self, user: Option<&str>) -> Context {
        Context {
            who: Who {
                os_account: self.config.os_account.clone(),
                os_uid: self.config.os_uid,
                via: Via::Web,
                user: user.map(str::to_string),
                on_behalf_of: None,
            },
            now: self.config.pinned_now.unwrap_or_else(Utc::now),
            clock: if self.config.pinned_now.is_some() {
                ClockSource::Pinned
            } else {
                ClockSource::System
            },
        }
    }

    /// Runs a use case for `user` (`None`: the server itself) on the blocking pool.
    pub async fn run<T, F>(&self, user: Option<String>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Desk<'_>) -> Result<T> + Send + 'static,
    {
        let office = self.office.clone();
        let ctx = self.context(user.as_deref());
        tokio::task::spawn_blocking(move || f(&office.desk(ctx)))
            .await
            .map_err(|e| Error::Storage(format!("a request task failed: {e}")))?
    }

    /// Runs a use case as the signed-in person.
    pub async fn desk<T, F>(&self, user: &CurrentUser, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Desk<'_>) -> Result<T> + Send + 'static,
    {
        self.run(Some(user.name.clone()), f).await
    }
}
