//! `init`, `org show`, `org update`.

use serde::Serialize;

use super::Ctx;
use super::args::{EntityTypeArg, InitArgs, LePolicyArg, OrgCommand, OrgDetails, RoleArg};
use super::output::print_json;
use crate::domain::vocab::EntityType;
use crate::domain::{LePolicy, Organization, Role};
use crate::error::{Error, Result};
use crate::store::tables::{META, META_ENCRYPTION, META_ORG, META_WRAPPED_KEY};
use crate::store::vault::Vault;
use crate::store::{Action, Change, Store, Subject};

fn role(r: RoleArg) -> Role {
    match r {
        RoleArg::CoveredEntity => Role::CoveredEntity,
        RoleArg::BusinessAssociate => Role::BusinessAssociate,
    }
}

fn entity_type(role: Role, e: EntityTypeArg) -> EntityType {
    match (role, e) {
        (Role::BusinessAssociate, _) => EntityType::BusinessAssociate,
        (_, EntityTypeArg::Provider) => EntityType::HealthcareProvider,
        (_, EntityTypeArg::HealthPlan) => EntityType::HealthPlan,
        (_, EntityTypeArg::Clearinghouse) => EntityType::HealthcareClearingHouse,
    }
}

fn le_policy(p: LePolicyArg) -> LePolicy {
    match p {
        LePolicyArg::LaterOf => LePolicy::LaterOf,
        LePolicyArg::ExtendByDelay => LePolicy::ExtendByDelay,
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
        org.le_policy = le_policy(p);
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

pub fn init(ctx: &Ctx, a: InitArgs) -> Result<i32> {
    let r = role(a.role);
    let mut org = Organization {
        legal_name: a.org.clone(),
        role: r,
        entity_type: entity_type(r, a.entity_type),
        serves: vec![],
        address: String::new(),
        privacy_officer: String::new(),
        toll_free: String::new(),
        email: String::new(),
        website: String::new(),
        postal_address: String::new(),
        time_zone: "UTC".into(),
        le_policy: LePolicy::default(),
    };
    apply_details(&mut org, &a.details)?;
    // Ask for the passphrase before creating anything, so a refusal leaves no file behind.
    let wrapped = if a.no_encryption {
        eprintln!(
            "warning: PHI in this database will NOT be encrypted at rest (--no-encryption); use it only for exercises and demos"
        );
        None
    } else {
        let p = ctx.passphrase("New database passphrase: ")?.ok_or_else(|| {
            Error::Key(
                "a new database encrypts PHI and needs a passphrase: set BREACHDESK_PASSPHRASE, use --key-file FILE, run on a terminal, or pass --no-encryption for a demo"
                    .into(),
            )
        })?;
        let (_, w) = Vault::create(p.as_bytes()).map_err(|e| Error::Key(e.to_string()))?;
        Some(w.to_bytes())
    };
    let json = serde_json::to_vec(&org).map_err(|e| Error::Storage(e.to_string()))?;
    let store = Store::create(&ctx.db_path)?;
    let written = store.init_write(&ctx.actor, |tx| {
        let mut meta = tx.open_table(META)?;
        match &wrapped {
            Some(w) => {
                meta.insert(META_ENCRYPTION, b"on".as_slice())?;
                meta.insert(META_WRAPPED_KEY, w.as_slice())?;
            }
            None => {
                meta.insert(META_ENCRYPTION, b"off".as_slice())?;
            }
        }
        meta.insert(META_ORG, json.as_slice())?;
        let detail = if wrapped.is_some() {
            "encryption=xchacha20poly1305+argon2id"
        } else {
            "encryption=off"
        };
        Ok((
            (),
            Change::new(Action::OrgInit, Subject::Org).detail(detail),
        ))
    });
    if let Err(e) = written {
        // Nothing was committed: remove the empty file so `init` can be run again.
        drop(store);
        let _ = std::fs::remove_file(&ctx.db_path);
        return Err(e);
    }
    if ctx.json {
        print_json(&OrgOut::new(&org))?;
    } else {
        println!(
            "initialised {} for {} ({}), PHI encryption {}",
            ctx.db_path.display(),
            org.legal_name,
            org.role.key(),
            if wrapped.is_some() { "on" } else { "OFF" }
        );
    }
    Ok(0)
}

fn write_org(store: &Store, ctx: &Ctx, org: &Organization, action: Action) -> Result<()> {
    let json = serde_json::to_vec(org).map_err(|e| Error::Storage(e.to_string()))?;
    store.write(&ctx.actor, |tx| {
        let mut meta = tx.open_table(META)?;
        meta.insert(META_ORG, json.as_slice())?;
        Ok(((), Change::new(action, Subject::Org)))
    })
}

/// Reads the organization; a database without one is not initialised.
pub fn load_org(store: &Store) -> Result<Organization> {
    let Some(bytes) = store.meta(META_ORG)? else {
        // An exercise database carries its scenario's organization.
        return super::cmd_exercise::exercise_org(store)?.ok_or_else(|| {
            Error::Database(
                "this database has no organization yet; run `breachdesk init --org NAME --role covered-entity`"
                    .into(),
            )
        });
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::Database(format!("the organization record is unreadable: {e}")))
}

#[derive(Serialize)]
struct OrgOut<'a> {
    legal_name: &'a str,
    role: &'a str,
    entity_type: &'a str,
    serves: &'a [String],
    address: &'a str,
    privacy_officer: &'a str,
    toll_free: &'a str,
    email: &'a str,
    website: &'a str,
    postal_address: &'a str,
    time_zone: &'a str,
    le_policy: &'a str,
}

impl<'a> OrgOut<'a> {
    fn new(o: &'a Organization) -> OrgOut<'a> {
        OrgOut {
            legal_name: &o.legal_name,
            role: o.role.key(),
            entity_type: o.entity_type.key(),
            serves: &o.serves,
            address: &o.address,
            privacy_officer: &o.privacy_officer,
            toll_free: &o.toll_free,
            email: &o.email,
            website: &o.website,
            postal_address: &o.postal_address,
            time_zone: &o.time_zone,
            le_policy: o.le_policy.key(),
        }
    }
}

pub fn run(ctx: &Ctx, c: OrgCommand) -> Result<i32> {
    let store = ctx.open()?;
    let mut org = load_org(&store)?;
    match c {
        OrgCommand::Show => {}
        OrgCommand::Update(u) => {
            if let Some(n) = u.org {
                org.legal_name = n;
            }
            if let Some(r) = u.role {
                org.role = role(r);
                if org.role == Role::BusinessAssociate {
                    org.entity_type = EntityType::BusinessAssociate;
                }
            }
            if let Some(e) = u.entity_type {
                org.entity_type = entity_type(org.role, e);
            }
            apply_details(&mut org, &u.details)?;
            write_org(&store, ctx, &org, Action::OrgUpdate)?;
        }
    }
    if ctx.json {
        return print_json(&OrgOut::new(&org)).map(|_| 0);
    }
    let o = OrgOut::new(&org);
    let rows = [
        ("Legal name", o.legal_name.to_string()),
        ("Role", o.role.to_string()),
        ("Entity type", org.entity_type.label().to_string()),
        ("Serves", o.serves.join("; ")),
        ("Address", o.address.to_string()),
        ("Privacy officer", o.privacy_officer.to_string()),
        ("Toll-free number", o.toll_free.to_string()),
        ("E-mail", o.email.to_string()),
        ("Web site", o.website.to_string()),
        ("Postal address", o.postal_address.to_string()),
        ("Time zone", o.time_zone.to_string()),
        (
            "Law-enforcement delay policy",
            org.le_policy.describe().to_string(),
        ),
    ];
    for (k, v) in rows {
        println!("{k:<30} {v}");
    }
    Ok(0)
}
