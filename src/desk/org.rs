//! The organization: create the database (`init`), show, update, change the passphrase.

use std::path::Path;

use super::office::{Context, Desk, KeySource, Office};
use super::secret::{Secret, check_strength};
use crate::domain::vocab::EntityType;
use crate::domain::{BusinessDays, LePolicy, Organization, Role};
use crate::error::{Error, Result};
use crate::store::phi::PhiCodec;
use crate::store::vault::Vault;
use crate::store::{Action, Change, ClockMarker, Encryption, Store, Subject};

/// Settings of the organization that `init` and `org update` both take; `None` and empty
/// leave a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgDetails {
    /// For a business associate: the covered entities it serves (replaces the list).
    pub serves: Vec<String>,
    pub address: Option<String>,
    pub privacy_officer: Option<String>,
    pub toll_free: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub postal_address: Option<String>,
    /// IANA time zone name; checked.
    pub time_zone: Option<String>,
    pub le_policy: Option<LePolicy>,
    /// How business days are counted for State deadlines (a policy choice).
    pub business_days: Option<BusinessDays>,
}

/// `init`: a new organization.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub legal_name: String,
    pub role: Role,
    /// For a covered entity: provider, health plan or clearinghouse (a business associate
    /// is always [`EntityType::BusinessAssociate`]).
    pub entity_type: EntityType,
    pub details: OrgDetails,
}

/// `org update`.
#[derive(Debug, Clone, Default)]
pub struct OrgUpdate {
    pub legal_name: Option<String>,
    pub role: Option<Role>,
    pub entity_type: Option<EntityType>,
    pub details: OrgDetails,
}

/// How a new database protects PHI at rest.
pub enum NewEncryption {
    /// Sealed under a data key wrapped by this passphrase (Argon2id). A weak passphrase is
    /// refused unless `allow_weak` (demos, tests), and then recorded in the organization.
    Passphrase {
        passphrase: Secret,
        allow_weak: bool,
    },
    /// Not encrypted: exercises and demos only.
    Off,
}

/// `rekey`.
pub struct Rekey {
    /// Accept a passphrase the estimator judges weak (recorded in the organization record).
    pub allow_weak: bool,
    /// New data keys and every value sealed again (see [`Desk::rekey`]).
    pub rotate: bool,
}

/// What `rekey` did.
#[derive(Debug, Clone)]
pub struct Rekeyed {
    pub rotated: bool,
    /// Incidents whose text was sealed again under new keys (rotation).
    pub incidents: usize,
    /// The new passphrase was judged weak and accepted (`--allow-weak-passphrase`).
    pub weak: bool,
}

/// Words a passphrase should not be built from: the organization's own names.
fn context_words(org: &Organization) -> Vec<&str> {
    let mut v: Vec<&str> = org.legal_name.split_whitespace().collect();
    v.push(&org.legal_name);
    v.push("breachdesk");
    v
}

fn entity_for(role: Role, e: EntityType) -> EntityType {
    if role == Role::BusinessAssociate {
        EntityType::BusinessAssociate
    } else {
        e
    }
}

fn check_tz(tz: &str) -> Result<()> {
    tz.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| {
        Error::invalid(
            "--time-zone is not an IANA time zone name; use e.g. America/New_York, America/Chicago, America/Los_Angeles, Pacific/Honolulu, UTC",
        )
    })
}

fn apply_details(org: &mut Organization, d: &OrgDetails) -> Result<()> {
    if !d.serves.is_empty() {
        org.serves = d.serves.clone();
    }
    let set = |field: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *field = v.clone();
        }
    };
    set(&mut org.address, &d.address);
    set(&mut org.privacy_officer, &d.privacy_officer);
    set(&mut org.toll_free, &d.toll_free);
    set(&mut org.email, &d.email);
    set(&mut org.website, &d.website);
    set(&mut org.postal_address, &d.postal_address);
    if let Some(tz) = &d.time_zone {
        check_tz(tz)?;
        org.time_zone = tz.clone();
    }
    if let Some(p) = d.le_policy {
        org.le_policy = p;
    }
    if let Some(b) = d.business_days {
        org.business_days = b;
    }
    if org.legal_name.trim().is_empty() {
        return Err(Error::invalid("--org (the legal name) cannot be empty"));
    }
    if org.role == Role::BusinessAssociate && org.serves.is_empty() {
        return Err(Error::invalid(
            "a business associate must name at least one covered entity it serves: add --serves NAME",
        ));
    }
    Ok(())
}

/// The organization a new database will record, validated (before any passphrase is asked
/// or file created).
pub fn new_organization(n: &NewOrg) -> Result<Organization> {
    let mut org = Organization {
        legal_name: n.legal_name.clone(),
        role: n.role,
        entity_type: entity_for(n.role, n.entity_type),
        serves: vec![],
        address: String::new(),
        privacy_officer: String::new(),
        toll_free: String::new(),
        email: String::new(),
        website: String::new(),
        postal_address: String::new(),
        time_zone: "UTC".into(),
        le_policy: LePolicy::default(),
        business_days: BusinessDays::default(),
        weak_passphrase: false,
    };
    apply_details(&mut org, &n.details)?;
    Ok(org)
}

impl Office {
    /// `init`: creates the database file (owner-only), its tables, the organization and
    /// the encryption settings, with one `org.init` entry. On any error the file is removed.
    pub fn create(
        path: &Path,
        org: &Organization,
        encryption: NewEncryption,
        clock: ClockMarker,
        ctx: &Context,
        keys: Box<dyn KeySource>,
    ) -> Result<Office> {
        if ctx.pinned() && clock == ClockMarker::System {
            return Err(Error::invalid(
                "BREACHDESK_NOW pins the clock, but this database is being created as a real register, whose records take the system clock only. \
                 Unset BREACHDESK_NOW, or pass --pinned-clock for a test or demo database (its outputs then say \"pinned clock — not evidence\")",
            ));
        }
        let mut org = org.clone();
        let (stored, codec) = match encryption {
            NewEncryption::Passphrase {
                passphrase,
                allow_weak,
            } => {
                org.weak_passphrase =
                    check_strength(&passphrase, &context_words(&org), allow_weak)?;
                let (vault, w) =
                    Vault::create(passphrase.as_bytes()).map_err(|e| Error::Key(e.to_string()))?;
                (
                    Encryption::On {
                        wrapped_key: w.to_bytes(),
                    },
                    PhiCodec::Sealed(vault),
                )
            }
            NewEncryption::Off => (Encryption::Off, PhiCodec::Plain),
        };
        Office::init_on(Store::create(path)?, &org, stored, &codec, clock, ctx, keys)
    }

    /// Writes a new database's first transaction on `store` (see [`Office::create`]).
    pub(super) fn init_on(
        store: Store,
        org: &Organization,
        stored: Encryption,
        codec: &PhiCodec,
        clock: ClockMarker,
        ctx: &Context,
        keys: Box<dyn KeySource>,
    ) -> Result<Office> {
        let path = store.path().to_path_buf();
        let written = store.init(&ctx.actor(), |w| {
            w.put_encryption(&stored)?;
            w.put_org(org, codec)?;
            w.put_clock_marker(clock)?;
            let detail = match stored {
                Encryption::On { .. } if org.weak_passphrase => {
                    "encryption=xchacha20poly1305+argon2id weak_passphrase=allowed"
                }
                Encryption::On { .. } => "encryption=xchacha20poly1305+argon2id",
                Encryption::Off => "encryption=off",
            };
            Ok((
                (),
                Change::new(Action::OrgInit, Subject::Org)
                    .detail(format!("{detail} clock={}", clock.key())),
            ))
        });
        match written {
            // Nothing was committed: remove the empty file so `init` can be run again.
            Err(e @ Error::Uncertain { .. }) => return Err(e),
            Err(e) => {
                drop(store);
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            Ok(()) => {}
        }
        Office::with_store(store, keys)
    }
}

impl Desk<'_> {
    /// Whether PHI in this database is encrypted at rest.
    pub fn encrypted(&self) -> Result<bool> {
        Ok(matches!(
            self.reader()?.encryption()?,
            Encryption::On { .. }
        ))
    }

    /// `org update`: returns the organization as stored.
    pub fn update_org(&self, u: &OrgUpdate) -> Result<Organization> {
        // The record's text (the privacy officer) is sealed: rewriting it needs the key.
        let codec = self.codec(true)?;
        let mut org = self.org_unlocked()?;
        if let Some(n) = &u.legal_name {
            org.legal_name = n.clone();
        }
        if let Some(r) = u.role {
            org.role = r;
            if org.role == Role::BusinessAssociate {
                org.entity_type = EntityType::BusinessAssociate;
            }
        }
        if let Some(e) = u.entity_type {
            org.entity_type = entity_for(org.role, e);
        }
        apply_details(&mut org, &u.details)?;
        // The policies decide dates: name them in the entry when they change.
        let before = self.org()?;
        let mut detail = Vec::new();
        if org.le_policy != before.le_policy {
            detail.push(format!("le_policy={}", org.le_policy.key()));
        }
        if org.business_days != before.business_days {
            detail.push(format!("business_days={}", org.business_days.key()));
        }
        self.store().write(&self.actor()?, |w| {
            w.put_org(&org, codec)?;
            Ok((
                (),
                Change::new(Action::OrgUpdate, Subject::Org).detail(detail.join(" ")),
            ))
        })?;
        Ok(org)
    }

    /// `rekey`: by default re-wraps the data key under a new passphrase, fast, leaving every
    /// sealed value as it is — so a backup taken before still opens with the old passphrase,
    /// and would open data written afterwards too (same keys). With `rotate`, new keys are
    /// made and everything sealed again (see `store::rotate`): afterwards neither the old
    /// passphrase nor an old backup opens anything written since. Needs the current key;
    /// `new_passphrase` is asked once it is unlocked.
    pub fn rekey(
        &self,
        req: &Rekey,
        new_passphrase: impl FnOnce() -> Result<Secret>,
    ) -> Result<Rekeyed> {
        if !self.encrypted()? {
            return Err(Error::invalid(
                "this database is not encrypted (it was created with --no-encryption); there is no passphrase to change",
            ));
        }
        let codec = self.codec(true)?;
        let mut org = self.org_unlocked()?;
        let PhiCodec::Sealed(vault) = codec else {
            return Err(crate::store::phi::locked_error());
        };
        let new = new_passphrase()?;
        if new.is_empty() {
            return Err(Error::Key(
                "the new passphrase is empty; choose a non-empty passphrase".into(),
            ));
        }
        let weak = check_strength(&new, &context_words(&org), req.allow_weak)?;
        let actor = self.actor()?;
        if req.rotate {
            let (new_vault, wrapped) =
                Vault::create(new.as_bytes()).map_err(|e| Error::Key(e.to_string()))?;
            org.weak_passphrase = weak;
            let n = self
                .store()
                .rotate(&actor, codec, new_vault, &wrapped.to_bytes(), &org)?;
            return Ok(Rekeyed {
                rotated: true,
                incidents: n,
                weak,
            });
        }
        let wrapped = vault
            .rewrap(new.as_bytes())
            .map_err(|e| Error::Key(e.to_string()))?
            .to_bytes();
        let changed_flag = org.weak_passphrase != weak;
        org.weak_passphrase = weak;
        self.store().write(&actor, |w| {
            w.put_wrapped_key(&wrapped)?;
            if changed_flag {
                w.put_org(&org, codec)?;
            }
            let mut detail = String::from(
                "passphrase changed; the data keys and the sealed data are unchanged (backups keep opening with the old passphrase)",
            );
            if weak {
                detail.push_str(" weak_passphrase=allowed");
            }
            Ok(((), Change::new(Action::OrgRekey, Subject::Org).detail(detail)))
        })?;
        Ok(Rekeyed {
            rotated: false,
            incidents: 0,
            weak,
        })
    }
}
