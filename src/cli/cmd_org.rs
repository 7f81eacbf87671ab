//! `init`, `org show`, `org update`.

use serde::Serialize;

use super::args::{
    BusinessDaysArg, EntityTypeArg, InitArgs, LePolicyArg, OrgCommand, OrgDetails, RoleArg,
};
use super::context::Ctx;
use super::output::print_json;
use crate::desk::{self, NewEncryption, NewOrg, Office, OrgUpdate};
use crate::domain::vocab::EntityType;
use crate::domain::{BusinessDays, LePolicy, Organization, Role};
use crate::error::{Error, Result};

fn role(r: RoleArg) -> Role {
    match r {
        RoleArg::CoveredEntity => Role::CoveredEntity,
        RoleArg::BusinessAssociate => Role::BusinessAssociate,
    }
}

fn entity_type(e: EntityTypeArg) -> EntityType {
    match e {
        EntityTypeArg::Provider => EntityType::HealthcareProvider,
        EntityTypeArg::HealthPlan => EntityType::HealthPlan,
        EntityTypeArg::Clearinghouse => EntityType::HealthcareClearingHouse,
    }
}

pub fn le_policy(p: LePolicyArg) -> LePolicy {
    match p {
        LePolicyArg::LaterOf => LePolicy::LaterOf,
        LePolicyArg::ExtendByDelay => LePolicy::ExtendByDelay,
    }
}

pub fn business_days(b: BusinessDaysArg) -> BusinessDays {
    match b {
        BusinessDaysArg::WeekendsOnly => BusinessDays::WeekendsOnly,
        BusinessDaysArg::FederalHolidays => BusinessDays::FederalHolidays,
    }
}

fn details(d: &OrgDetails) -> desk::OrgDetails {
    desk::OrgDetails {
        serves: d.serves.clone(),
        address: d.address.clone(),
        privacy_officer: d.privacy_officer.clone(),
        toll_free: d.toll_free.clone(),
        email: d.email.clone(),
        website: d.website.clone(),
        postal_address: d.postal_address.clone(),
        time_zone: d.time_zone.clone(),
        le_policy: d.le_policy.map(le_policy),
        business_days: d.business_days.map(business_days),
    }
}

pub fn init(ctx: &Ctx, a: InitArgs) -> Result<i32> {
    let org = desk::new_organization(&NewOrg {
        legal_name: a.org.clone(),
        role: role(a.role),
        entity_type: entity_type(a.entity_type),
        details: details(&a.details),
    })?;
    // Ask for the passphrase before creating anything, so a refusal leaves no file behind.
    let encryption = if a.no_encryption {
        eprintln!(
            "warning: PHI in this database will NOT be encrypted at rest (--no-encryption); use it only for exercises and demos"
        );
        NewEncryption::Off
    } else {
        let p = ctx
            .keys("New database passphrase: ")
            .new_passphrase()?
            .ok_or_else(|| {
                Error::Key(
                    "a new database encrypts PHI and needs a passphrase: set BREACHDESK_PASSPHRASE, use --key-file FILE, run on a terminal, or pass --no-encryption for a demo"
                        .into(),
                )
            })?;
        NewEncryption::Passphrase {
            passphrase: p,
            allow_weak: a.allow_weak_passphrase,
        }
    };
    let encrypted = matches!(encryption, NewEncryption::Passphrase { .. });
    let clock = if a.pinned_clock {
        desk::ClockMarker::Pinned
    } else {
        desk::ClockMarker::System
    };
    Office::create(
        &ctx.db_path,
        &org,
        encryption,
        clock,
        &ctx.context(),
        Box::new(desk::NoKey),
    )?;
    if a.pinned_clock {
        let _ = super::output::mark_not_evidence();
        eprintln!(
            "note: this database accepts a pinned clock (BREACHDESK_NOW): {}",
            desk::NOT_EVIDENCE
        );
    }
    if ctx.json {
        print_json(&OrgOut::new(&org))?;
    } else {
        println!(
            "initialised {} for {} ({}), PHI encryption {}",
            ctx.db_path.display(),
            org.legal_name,
            org.role.key(),
            if encrypted { "on" } else { "OFF" }
        );
    }
    Ok(0)
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
    business_days: &'a str,
    /// The passphrase was judged weak and accepted with `--allow-weak-passphrase`.
    weak_passphrase: bool,
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
            business_days: o.business_days.key(),
            weak_passphrase: o.weak_passphrase,
        }
    }
}

pub fn run(ctx: &Ctx, c: OrgCommand) -> Result<i32> {
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    let org = match c {
        OrgCommand::Show => desk.org_view()?,
        OrgCommand::Update(u) => desk.update_org(&OrgUpdate {
            legal_name: u.org,
            role: u.role.map(role),
            entity_type: u.entity_type.map(entity_type),
            details: details(&u.details),
        })?,
    };
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
        (
            "Business days (State laws)",
            org.business_days.describe().to_string(),
        ),
    ];
    for (k, v) in rows {
        println!("{k:<30} {v}");
    }
    if o.weak_passphrase {
        println!(
            "{:<30} weak, accepted with --allow-weak-passphrase (demos and tests only; `rekey` to a strong one)",
            "Passphrase"
        );
    }
    Ok(0)
}
