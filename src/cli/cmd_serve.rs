//! `serve`: opens the database once (asking for the passphrase once, or reading it from
//! `--key-file` / `BREACHDESK_PASSPHRASE`), then hands it to the web server until stopped.

use super::args::ServeArgs;
use super::context::Ctx;
use crate::desk::default_signing_key;
use crate::error::{Error, Result};
use crate::web::{ServeConfig, serve as run_server};

pub fn serve(ctx: &Ctx, a: ServeArgs) -> Result<i32> {
    let https = a.tls_cert.is_some();
    let mut data_dir = ctx.db_path.as_os_str().to_owned();
    data_dir.push(".files");
    let config = ServeConfig {
        listen: a.listen,
        tls: a.tls_cert.zip(a.tls_key),
        behind_proxy: a.behind_proxy,
        idle_timeout: a.idle_timeout,
        lockout_after: a.lockout_after.max(1),
        lockout_for: a.lockout_for,
        throttle_after: 20,
        max_upload: a.max_upload_mib.saturating_mul(1024 * 1024),
        data_dir: a.data_dir.unwrap_or_else(|| data_dir.into()),
        exercise_db: ctx.exercise_db(a.exercise_db.as_deref()),
        signing_key: default_signing_key(&ctx.db_path),
        access_log: a.access_log,
        pinned_now: ctx.env.now_pinned.then_some(ctx.env.now),
        os_account: ctx.env.os_account.clone(),
        os_uid: ctx.env.os_uid,
    };
    // Refuse a bad combination before asking for anything.
    config.check()?;
    let office = ctx.open()?;
    office.ensure_unlocked()?;
    if office.desk(ctx.context()).users()?.is_empty() {
        return Err(Error::invalid(
            "no one can sign in yet: add the first person with `breachdesk user add NAME --role privacy-officer`, then start the server",
        ));
    }
    run_server(office, config, |addr| {
        // The one line a script (or a test) waits for.
        eprintln!(
            "breachdesk serve: listening on {}://{addr} — {} is held by this process until it stops (Ctrl-C)",
            if https { "https" } else { "http" },
            ctx.db_path.display()
        );
    })?;
    eprintln!("breachdesk serve: stopped");
    Ok(0)
}
