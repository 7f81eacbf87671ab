//! `user add|list|role|disable|enable|reset-password`: the people who sign in to
//! `breachdesk serve`. Every change is an audited record; the actor is who made it.

use super::args::UserCommand;
use super::context::Ctx;
use super::output::{print_json, table};
use crate::desk::{NewUser, User, UserChange, check_password};
use crate::error::{Error, Result};

/// The password from BREACHDESK_USER_PASSWORD, else asked twice on a terminal.
fn password(ctx: &Ctx, name: &str) -> Result<String> {
    if let Some(p) = &ctx.env.user_password {
        return Ok(p.clone());
    }
    if !(ctx.env.stdin_tty && ctx.env.stderr_tty) {
        return Err(Error::invalid(
            "no password: set BREACHDESK_USER_PASSWORD, or run on a terminal to be asked",
        ));
    }
    let first = rpassword::prompt_password(format!("Password for {name}: "))
        .map_err(|e| Error::io("cannot read the password", e))?;
    check_password(name, &first)?;
    let again = rpassword::prompt_password("The same password again: ")
        .map_err(|e| Error::io("cannot read the password", e))?;
    if first != again {
        return Err(Error::invalid(
            "the two passwords differ; nothing was changed",
        ));
    }
    Ok(first)
}

fn ts(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

fn user_json(u: &User) -> serde_json::Value {
    serde_json::json!({
        "name": u.name,
        "role": u.role.key(),
        "disabled": u.disabled,
        "created": u.created.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "created_by": u.created_by,
        "password_changed": u.password_changed.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "locked_until": u.locked_until.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        "last_login": u.last_login.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    })
}

pub fn run(ctx: &Ctx, c: UserCommand) -> Result<i32> {
    match c {
        UserCommand::Add { name, role } => {
            let password = password(ctx, &name)?;
            let office = ctx.open()?;
            let u = ctx.desk(&office).add_user(&NewUser {
                name,
                role: role.role(),
                password,
            })?;
            if ctx.json {
                print_json(&user_json(&u))?;
            } else {
                println!(
                    "added {} as {}; they sign in at the address `breachdesk serve` prints",
                    u.name,
                    u.role.key()
                );
            }
        }
        UserCommand::List => {
            let office = ctx.open()?;
            let users = ctx.desk(&office).users()?;
            if ctx.json {
                let list: Vec<_> = users.iter().map(user_json).collect();
                print_json(&serde_json::json!({"format_version": 1, "users": list}))?;
            } else if users.is_empty() {
                println!(
                    "no users yet: `breachdesk user add NAME --role privacy-officer` adds the first"
                );
            } else {
                let now = ctx.env.now;
                let mut t = table(&["User", "Role", "State", "Last sign-in", "Added by"]);
                for u in &users {
                    let state = if u.disabled {
                        "disabled".to_string()
                    } else if u.locked_at(now) {
                        format!("locked until {}", ts(u.locked_until))
                    } else {
                        "active".into()
                    };
                    t.add_row(vec![
                        u.name.clone(),
                        u.role.key().to_string(),
                        state,
                        ts(u.last_login),
                        u.created_by.clone(),
                    ]);
                }
                println!("{t}");
            }
        }
        UserCommand::Role { name, role } => change(ctx, &name, UserChange::Role(role.role()))?,
        UserCommand::Disable { name } => change(ctx, &name, UserChange::Disable)?,
        UserCommand::Enable { name } => change(ctx, &name, UserChange::Enable)?,
        UserCommand::ResetPassword { name } => {
            let p = password(ctx, &name)?;
            change(ctx, &name, UserChange::ResetPassword(p))?
        }
    }
    Ok(0)
}

fn change(ctx: &Ctx, name: &str, c: UserChange) -> Result<()> {
    let office = ctx.open()?;
    let u = ctx.desk(&office).change_user(name, &c)?;
    if ctx.json {
        return print_json(&user_json(&u));
    }
    match c {
        UserChange::Role(r) => println!("{} is now {}", u.name, r.key()),
        UserChange::Disable => println!("{} is disabled", u.name),
        UserChange::Enable => println!("{} may sign in again", u.name),
        UserChange::ResetPassword(_) => println!("{}'s password was reset", u.name),
    }
    Ok(())
}
