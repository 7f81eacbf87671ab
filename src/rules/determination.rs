//! Is it a breach? The § 164.402 pipeline, in the order of reference § 1: the first step
//! that decides, decides.
//!
//! 1. Safe harbor: secured PHI (74 FR 19006) is not *unsecured* PHI.
//! 2. The exceptions of 164.402(1)(i), (ii), (iii).
//! 3. The entity chose to notify without an assessment (`assessment.skip`) → breach.
//! 4. The four-factor assessment of 164.402(2) ([`super::factors`]) → low probability by a
//!    route, or the presumption of breach stands.

use crate::domain::vocab::{DestructionMethod, DeviceState};
use crate::domain::{
    AuthorizedException, ExceptionFacts, Facts, RetainException, SecurityFacts, WorkforceException,
};

use super::{Determination, DeterminationClass, Reason, factors};

const SAFE_HARBOR: &str = "74 FR 19006; 45 CFR 164.402 (unsecured PHI)";
const RANSOMWARE: &str = "HHS ransomware fact sheet (2016)";
const EXC_I: &str = "45 CFR 164.402(1)(i)";
const EXC_II: &str = "45 CFR 164.402(1)(ii)";
const EXC_III: &str = "45 CFR 164.402(1)(iii)";
const PRESUMPTION: &str = "45 CFR 164.402(2)";

/// The pure § 164.402 pipeline.
pub fn determine(facts: &Facts) -> Determination {
    let mut reasons = Vec::new();

    // Step 1: safe harbor.
    match secured(&facts.security) {
        Ok(r) => {
            reasons.push(r);
            return Determination {
                class: DeterminationClass::NotBreachSecured,
                reasons,
                factors: Vec::new(),
                route: None,
                defeated: Vec::new(),
            };
        }
        Err(mut why) => reasons.append(&mut why),
    }

    // Step 2: exceptions.
    match exceptions(&facts.exceptions) {
        Ok(r) => {
            reasons.push(r);
            return Determination {
                class: DeterminationClass::NotBreachException,
                reasons,
                factors: Vec::new(),
                route: None,
                defeated: Vec::new(),
            };
        }
        Err(mut why) => reasons.append(&mut why),
    }

    // Step 3: the entity may skip the assessment and simply notify.
    if facts.assessment.skip {
        reasons.push(Reason::new(
            "the entity chose to notify without performing the risk assessment: breach presumed",
            PRESUMPTION,
        ));
        return Determination {
            class: DeterminationClass::Breach,
            reasons,
            factors: Vec::new(),
            route: None,
            defeated: Vec::new(),
        };
    }

    // Step 4: four factors.
    let hacking = facts
        .breach
        .types
        .contains(&crate::domain::vocab::BreachType::HackingItIncident);
    let rated = factors::rate(&facts.assessment, &facts.breach.phi, hacking);
    let (route, defeated) = factors::routes(&rated);
    let class = match route {
        Some(r) => {
            reasons.push(Reason::new(
                format!(
                    "low probability that the PHI has been compromised, by route {}: {}",
                    r.key(),
                    r.describe()
                ),
                PRESUMPTION,
            ));
            DeterminationClass::NotBreachLowProbability
        }
        None => {
            reasons.push(Reason::new(
                "an impermissible acquisition, access, use or disclosure is presumed a breach; low probability of compromise was not demonstrated",
                PRESUMPTION,
            ));
            DeterminationClass::Breach
        }
    };
    Determination {
        class,
        reasons,
        factors: rated,
        route,
        defeated,
    }
}

/// Safe harbor. `Ok`: the decisive reason the PHI was secured. `Err`: why it was not.
fn secured(s: &SecurityFacts) -> Result<Reason, Vec<Reason>> {
    let mut why_not = Vec::new();

    match s.destruction {
        Some(DestructionMethod::PaperShredded) => {
            return Ok(Reason::new(
                "paper was shredded or destroyed so it cannot be read or reconstructed: secured, no notice and no risk assessment",
                SAFE_HARBOR,
            ));
        }
        Some(DestructionMethod::MediaSanitizedNist80088) => {
            return Ok(Reason::new(
                "electronic media were cleared, purged or destroyed per NIST SP 800-88: secured, no notice and no risk assessment",
                SAFE_HARBOR,
            ));
        }
        Some(DestructionMethod::Redacted) => why_not.push(Reason::new(
            "redaction is not destruction: redacted PHI is not secured",
            SAFE_HARBOR,
        )),
        Some(DestructionMethod::NotDestroyed) | None => {}
    }

    if s.encrypted {
        if s.key_compromised {
            why_not.push(Reason::new(
                "encrypted, but the key or password was compromised (or kept with the data): not secured",
                SAFE_HARBOR,
            ));
        } else {
            match s.device_state {
                Some(DeviceState::LoggedIn) => why_not.push(Reason::new(
                    "encrypted, but the device was running and logged in: full-disk encryption does not protect data that are readable at the time, so not secured",
                    format!("{SAFE_HARBOR}; {RANSOMWARE}"),
                )),
                Some(DeviceState::Unknown) => why_not.push(Reason::new(
                    "encrypted, but the device state is unknown: it is not demonstrated that encryption was engaged (off or locked), so not secured",
                    format!("{SAFE_HARBOR}; {RANSOMWARE}; 45 CFR 164.414(b)"),
                )),
                Some(DeviceState::Off | DeviceState::Locked | DeviceState::NotApplicable)
                | None => {
                    let state = s.device_state.map(|d| d.label()).unwrap_or("not a device");
                    let method = if s.encryption_method.trim().is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", s.encryption_method.trim())
                    };
                    return Ok(Reason::new(
                        format!(
                            "encrypted per HHS guidance{method}, key not compromised, device state: {state}: secured, no notice and no risk assessment"
                        ),
                        SAFE_HARBOR,
                    ));
                }
            }
        }
    } else if why_not.is_empty() {
        why_not.push(Reason::new(
            "the PHI was neither encrypted nor destroyed per HHS guidance: unsecured",
            SAFE_HARBOR,
        ));
    }
    Err(why_not)
}

/// The exceptions, in order. `Ok`: the one that applies. `Err`: each claimed exception and
/// the element that fails (unclaimed exceptions are noted once).
fn exceptions(e: &ExceptionFacts) -> Result<Reason, Vec<Reason>> {
    let mut failed = Vec::new();
    let mut claimed = false;

    if let Some(w) = &e.workforce_good_faith {
        claimed = true;
        match workforce(w) {
            Ok(r) => return Ok(r),
            Err(r) => failed.push(r),
        }
    }
    if let Some(a) = &e.authorized_to_authorized {
        claimed = true;
        match authorized(a) {
            Ok(r) => return Ok(r),
            Err(r) => failed.push(r),
        }
    }
    if let Some(c) = &e.could_not_retain {
        claimed = true;
        match retain(c) {
            Ok(r) => return Ok(r),
            Err(r) => failed.push(r),
        }
    }
    if !claimed {
        failed.push(Reason::new(
            "no exception of 164.402(1) was claimed",
            "45 CFR 164.402(1)",
        ));
    }
    Err(failed)
}

fn rationale(r: &str) -> String {
    let r = r.trim();
    if r.is_empty() {
        String::new()
    } else {
        format!(" ({r})")
    }
}

/// 164.402(1)(i): every element must hold. Snooping (no job need) is not good faith.
fn workforce(w: &WorkforceException) -> Result<Reason, Reason> {
    let mut fails = Vec::new();
    if !w.under_authority {
        fails.push(
            "the person was not a workforce member or acting under the authority of the CE or BA",
        );
    }
    if !w.good_faith {
        fails.push("the access was not unintentional and in good faith (snooping without a job need is never good faith)");
    }
    if !w.within_scope {
        fails.push("the access was outside the scope of the person's authority");
    }
    if w.further_disclosure {
        fails.push("the PHI was further used or disclosed impermissibly");
    }
    if fails.is_empty() {
        Ok(Reason::new(
            format!(
                "exception (i) applies: unintentional acquisition, access or use in good faith by a person acting under the entity's authority, within scope, with no further impermissible use or disclosure{}",
                rationale(&w.rationale)
            ),
            EXC_I,
        ))
    } else {
        Err(Reason::new(
            format!("exception (i) fails: {}", fails.join("; ")),
            EXC_I,
        ))
    }
}

/// 164.402(1)(ii): authorized person to authorized person at the same CE/BA or OHCA.
fn authorized(a: &AuthorizedException) -> Result<Reason, Reason> {
    let mut fails = Vec::new();
    if !a.discloser_authorized {
        fails.push("the person who disclosed was not authorized to access PHI at the CE or BA");
    }
    if !a.recipient_authorized_same_entity {
        fails.push(
            "the recipient was not authorized at the same CE, BA or organized health care arrangement",
        );
    }
    if !a.inadvertent {
        fails.push("the disclosure was not inadvertent");
    }
    if a.further_disclosure {
        fails.push("the PHI was further used or disclosed impermissibly");
    }
    if fails.is_empty() {
        Ok(Reason::new(
            format!(
                "exception (ii) applies: inadvertent disclosure between persons authorized at the same CE, BA or OHCA, with no further impermissible use or disclosure{}",
                rationale(&a.rationale)
            ),
            EXC_II,
        ))
    } else {
        Err(Reason::new(
            format!("exception (ii) fails: {}", fails.join("; ")),
            EXC_II,
        ))
    }
}

/// 164.402(1)(iii): good-faith belief the recipient could not reasonably have retained it.
fn retain(c: &RetainException) -> Result<Reason, Reason> {
    if c.good_faith_belief {
        let basis = if c.basis.trim().is_empty() {
            "; no basis recorded: document what supports the belief (164.414(b))".to_string()
        } else {
            format!(" ({})", c.basis.trim())
        };
        Ok(Reason::new(
            format!(
                "exception (iii) applies: good-faith belief that the recipient could not reasonably have retained the information{basis}"
            ),
            EXC_III,
        ))
    } else {
        Err(Reason::new(
            "exception (iii) fails: no good-faith belief that the recipient could not reasonably have retained the information",
            EXC_III,
        ))
    }
}
