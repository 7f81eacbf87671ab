//! The people who sign in to `breachdesk serve`: add, list, change role, disable, enable,
//! reset a password; sign in and out. Every change and every sign-in attempt is an audited
//! step (164.312(b) audit controls) on the person's `user/<name>` subject.
//!
//! Passwords are strength-checked (zxcvbn score 3 of 4 and at least 12 characters) and kept
//! only as Argon2id hashes (PHC strings). A password is never written to the audit trail, a
//! log or an error. A failed sign-in under a name that matches no user is recorded without
//! the name (it may be a password typed into the wrong box), as a count on the `access`
//! subject with the source address; names of staff are not PHI, so sign-ins under known
//! names are recorded with the name.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};

use super::office::Desk;
use crate::audit::entry::Via;
use crate::domain::StaffRole;
use crate::domain::staff::check_user_name;
use crate::error::{Error, Result};
use crate::store::records::UserRecord;
use crate::store::{Action, Change, Subject};

/// A person who signs in, as shown (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: StaffRole,
    pub disabled: bool,
    pub created: DateTime<Utc>,
    pub created_by: String,
    pub password_changed: DateTime<Utc>,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login: Option<DateTime<Utc>>,
}

impl User {
    /// Locked out at `now` (too many failed sign-ins).
    pub fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

fn user(r: UserRecord) -> User {
    User {
        name: r.name,
        role: r.role,
        disabled: r.disabled,
        created: r.created,
        created_by: r.created_by,
        password_changed: r.password_changed,
        failed_logins: r.failed_logins,
        locked_until: r.locked_until,
        last_login: r.last_login,
    }
}

/// `user add`.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: StaffRole,
    pub password: String,
}

/// A change to a user.
#[derive(Debug, Clone)]
pub enum UserChange {
    Role(StaffRole),
    Disable,
    Enable,
    /// A new password set by someone else; clears failures and any lockout.
    ResetPassword(String),
}

/// What counts as a strong enough password.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// zxcvbn's score, 0 to 4 (3: "safely unguessable: moderate protection from offline
    /// slow-hash scenario").
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 12,
            min_score: 3,
        }
    }
}

/// The longest password accepted (hashing a megabyte would be a cheap denial of service).
const MAX_PASSWORD: usize = 1024;

/// Checks a new password for `name`: long enough and hard to guess (zxcvbn, with the user
/// name and "breachdesk" as words an attacker would try). The message never repeats it.
pub fn check_password(name: &str, password: &str) -> Result<()> {
    let p = PasswordPolicy::default();
    if password.chars().count() < p.min_length {
        return Err(Error::invalid(format!(
            "the password is too short: use at least {} characters (a passphrase of several unrelated words is easiest)",
            p.min_length
        )));
    }
    if password.len() > MAX_PASSWORD {
        return Err(Error::invalid(format!(
            "the password is longer than {MAX_PASSWORD} bytes"
        )));
    }
    let e = zxcvbn::zxcvbn(password, &[name, "breachdesk", "privacy", "hipaa"]);
    let score = u8::from(e.score());
    if score < p.min_score {
        let hint = e
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(Error::invalid(format!(
            "the password is too easy to guess{hint}: strength {score} of 4, {} needed; add words or use a longer passphrase",
            p.min_score
        )));
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    // OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| Error::Storage(format!("no randomness for a password salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Storage(e.to_string()))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Storage(format!("cannot hash the password: {e}")))?
        .to_string())
}

fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(h) => argon2().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the name is unknown or disabled, so that the answer takes
/// as long as for a real account (no user enumeration by timing).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").unwrap_or_default())
}

/// A sign-in attempt.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub name: String,
    pub password: String,
    /// Where it came from (an IP address; not PHI), for the audit trail.
    pub source: String,
    /// Consecutive failures that lock the account.
    pub lockout_after: u32,
    /// How long a lockout lasts.
    pub lockout_for: Duration,
}

/// What a sign-in attempt came to. The web page shows the same message for every failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    SignedIn(User),
    /// Wrong name or password, or a disabled account.
    Failed,
    /// Too many failures: refused until then (no password is checked meanwhile).
    Locked {
        until: DateTime<Utc>,
    },
}

impl Desk<'_> {
    /// Every user, in name order.
    pub fn users(&self) -> Result<Vec<User>> {
        Ok(self.reader()?.users()?.into_iter().map(user).collect())
    }

    /// One user by name (`None`: no such user).
    pub fn user(&self, name: &str) -> Result<Option<User>> {
        Ok(self.reader()?.user(name)?.map(user))
    }

    fn no_user(name: &str) -> Error {
        Error::NotFound(format!("no user {name}; `breachdesk user list` shows them"))
    }

    /// `user add`: a new person with a role and a checked password.
    pub fn add_user(&self, req: &NewUser) -> Result<User> {
        check_user_name(&req.name).map_err(Error::invalid)?;
        check_password(&req.name, &req.password)?;
        let hash = hash_password(&req.password)?;
        let now = self.ctx.now;
        let by = self.ctx.who.person().to_string();
        self.store().write(&self.actor()?, |w| {
            if w.user(&req.name)?.is_some() {
                return Err(Error::invalid(format!(
                    "a user named {} already exists; choose another name, or change that user with `breachdesk user role|disable|reset-password`",
                    req.name
                )));
            }
            let r = UserRecord {
                name: req.name.clone(),
                role: req.role,
                password: hash,
                disabled: false,
                created: now,
                created_by: by,
                password_changed: now,
                failed_logins: 0,
                locked_until: None,
                last_login: None,
            };
            w.put_user(&r)?;
            Ok((
                user(r),
                Change::new(Action::UserAdd, Subject::User(req.name.clone()))
                    .detail(format!("role={}", req.role.key())),
            ))
        })
    }

    /// A role change, disabling, enabling, or a password reset. At least one enabled privacy
    /// officer always remains (someone must be able to manage users).
    pub fn change_user(&self, name: &str, change: &UserChange) -> Result<User> {
        let hash = match change {
            UserChange::ResetPassword(p) => Some(hash_password_checked(name, p)?),
            _ => None,
        };
        let now = self.ctx.now;
        self.store().write(&self.actor()?, |w| {
            let mut r = w.user(name)?.ok_or_else(|| Self::no_user(name))?;
            let (action, detail) = match change {
                UserChange::Role(role) => {
                    if r.role == *role {
                        return Err(Error::invalid(format!(
                            "{name} already has the role {}",
                            role.key()
                        )));
                    }
                    let d = format!("role={} previous={}", role.key(), r.role.key());
                    r.role = *role;
                    (Action::UserRole, d)
                }
                UserChange::Disable => {
                    if r.disabled {
                        return Err(Error::invalid(format!("{name} is already disabled")));
                    }
                    r.disabled = true;
                    (Action::UserDisable, String::new())
                }
                UserChange::Enable => {
                    if !r.disabled {
                        return Err(Error::invalid(format!("{name} is not disabled")));
                    }
                    r.disabled = false;
                    (Action::UserEnable, String::new())
                }
                UserChange::ResetPassword(_) => {
                    r.password = hash.clone().unwrap_or_default();
                    r.password_changed = now;
                    r.failed_logins = 0;
                    r.locked_until = None;
                    (Action::UserResetPassword, String::new())
                }
            };
            let officers = w
                .users()?
                .into_iter()
                .map(|u| if u.name == r.name { r.clone() } else { u })
                .filter(|u| u.role == StaffRole::PrivacyOfficer && !u.disabled)
                .count();
            let had_officer = w.users()?.iter().any(|u| u.role == StaffRole::PrivacyOfficer && !u.disabled);
            if officers == 0 && had_officer {
                return Err(Error::invalid(
                    "at least one enabled privacy officer must remain (someone has to manage users): give another user that role first",
                ));
            }
            w.put_user(&r)?;
            Ok((
                user(r),
                Change::new(action, Subject::User(name.to_string())).detail(detail),
            ))
        })
    }

    /// A person changes their own password (the current one is checked).
    pub fn change_own_password(&self, name: &str, current: &str, new: &str) -> Result<()> {
        let stored = self
            .reader()?
            .user(name)?
            .ok_or_else(|| Self::no_user(name))?;
        if !verify_password(&stored.password, current) {
            return Err(Error::invalid(
                "the current password is not right; nothing was changed",
            ));
        }
        let hash = hash_password_checked(name, new)?;
        let now = self.ctx.now;
        self.store().write(&self.actor()?, |w| {
            let mut r = w.user(name)?.ok_or_else(|| Self::no_user(name))?;
            r.password = hash;
            r.password_changed = now;
            w.put_user(&r)?;
            Ok((
                (),
                Change::new(Action::UserPassword, Subject::User(name.to_string())),
            ))
        })
    }

    /// A sign-in attempt: the password is checked outside the write transaction (Argon2id
    /// takes tens of milliseconds; writers must not wait for it), then the outcome is
    /// recorded in one audited write.
    pub fn sign_in(&self, req: &SignIn) -> Result<LoginOutcome> {
        let now = self.ctx.now;
        let source = sanitize_source(&req.source);
        let known = if check_user_name(&req.name).is_ok() {
            self.reader()?.user(&req.name)?
        } else {
            None
        };
        let Some(stored) = known else {
            let _ = verify_password(decoy_hash(), &req.password);
            self.store().write(&self.actor()?, |w| {
                let mut a = w.access()?;
                a.unknown_name_failures += 1;
                w.put_access(&a)?;
                Ok((
                    (),
                    Change::new(Action::AccessLoginFailed, Subject::Access)
                        .detail(format!("reason=unknown_name source={source}")),
                ))
            })?;
            return Ok(LoginOutcome::Failed);
        };
        let locked = stored.locked_until.filter(|t| *t > now);
        let password_ok = match locked {
            Some(_) => false,
            None if stored.disabled => {
                let _ = verify_password(decoy_hash(), &req.password);
                false
            }
            None => verify_password(&stored.password, &req.password),
        };
        let name = stored.name.clone();
        // A sign-in that succeeds is the person's own act: its entry names them as the
        // user, like every entry they write after it. A failed one is the server's record.
        let mut actor = self.actor()?;
        if password_ok && !stored.disabled && actor.who.via == Via::Web {
            actor.who.user = Some(name.clone());
        }
        self.store().write(&actor, |w| {
            let mut r = w.user(&name)?.ok_or_else(|| Self::no_user(&name))?;
            let subject = Subject::User(name.clone());
            if let Some(until) = r.locked_until.filter(|t| *t > now) {
                let detail = format!(
                    "reason=locked until={} source={source}",
                    until.format("%Y-%m-%dT%H:%M:%SZ")
                );
                return Ok((
                    LoginOutcome::Locked { until },
                    Change::new(Action::UserLoginFailed, subject).detail(detail),
                ));
            }
            if password_ok && !r.disabled && r.password == stored.password {
                r.failed_logins = 0;
                r.locked_until = None;
                r.last_login = Some(now);
                w.put_user(&r)?;
                return Ok((
                    LoginOutcome::SignedIn(user(r)),
                    Change::new(Action::UserLogin, subject).detail(format!("source={source}")),
                ));
            }
            r.failed_logins += 1;
            let reason = if r.disabled { "disabled" } else { "password" };
            if !r.disabled && r.failed_logins >= req.lockout_after.max(1) {
                let until = now + req.lockout_for;
                r.locked_until = Some(until);
                let detail = format!(
                    "failures={} until={} source={source}",
                    r.failed_logins,
                    until.format("%Y-%m-%dT%H:%M:%SZ")
                );
                r.failed_logins = 0;
                w.put_user(&r)?;
                return Ok((
                    LoginOutcome::Locked { until },
                    Change::new(Action::UserLockout, subject).detail(detail),
                ));
            }
            let detail = format!(
                "reason={reason} failures={} source={source}",
                r.failed_logins
            );
            w.put_user(&r)?;
            Ok((
                LoginOutcome::Failed,
                Change::new(Action::UserLoginFailed, subject).detail(detail),
            ))
        })
    }

    /// Signing out (or a session ended by the server): recorded, nothing changes.
    pub fn sign_out(&self, name: &str, reason: &str) -> Result<()> {
        let reason = sanitize_source(reason);
        self.store().write(&self.actor()?, |w| {
            if w.user(name)?.is_none() {
                return Err(Self::no_user(name));
            }
            Ok((
                (),
                Change::new(Action::UserLogout, Subject::User(name.to_string()))
                    .detail(format!("reason={reason}")),
            ))
        })
    }

    /// A source address sent too many failed sign-ins: further attempts from it are
    /// refused for a while (recorded once per period).
    pub fn throttled(&self, source: &str) -> Result<()> {
        let source = sanitize_source(source);
        self.store().write(&self.actor()?, |w| {
            let mut a = w.access()?;
            a.throttled += 1;
            w.put_access(&a)?;
            Ok((
                (),
                Change::new(Action::AccessThrottled, Subject::Access)
                    .detail(format!("source={source}")),
            ))
        })
    }
}

fn hash_password_checked(name: &str, password: &str) -> Result<String> {
    check_password(name, password)?;
    hash_password(password)
}

/// A source address or reason as it goes into an audit detail: printable ASCII without
/// spaces, at most 64 characters.
fn sanitize_source(s: &str) -> String {
    let t: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect();
    if t.is_empty() { "-".into() } else { t }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_for_length_and_guessability() {
        assert!(check_password("jsmith", "short").is_err());
        let e = check_password("jsmith", "password1234").unwrap_err();
        assert!(e.to_string().contains("too easy to guess"), "{e}");
        assert!(!e.to_string().contains("password1234"));
        assert!(check_password("jsmith", "jsmith-jsmith-1").is_err());
        assert!(check_password("jsmith", "correct horse battery staple orbit").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_password("violet tractor mirror 42").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "violet tractor mirror 42"));
        assert!(!verify_password(&h, "violet tractor mirror 43"));
        assert!(!verify_password("not a hash", "x"));
    }
}
