//! The four-factor risk assessment of 164.402(2) and the default low-probability rule.
//!
//! # Rating table (default policy, reference § 1 step 3)
//!
//! | Factor | low | moderate | high | unknown |
//! |---|---|---|---|---|
//! | (i) nature and extent | no direct identifiers, nothing financial, no sensitive category, not re-identifiable | anything else | financial / identity-theft data, or any especially sensitive category | not answered |
//! | (ii) recipient | another HIPAA CE/BA, or bound by federal confidentiality duties | own workforce, known individual | unknown person, malicious actor | not answered |
//! | (iii) acquired or viewed | evidence shows not acquired or viewed | believed not viewed, no evidence | acquired (ransomware: HHS presumes acquisition), viewed, exfiltrated | unknown / not answered |
//! | (iv) mitigation | attested destruction / non-use, returned, remote-wiped | partial | none | unknown / not answered |
//! | additional | its own rating | | | |
//!
//! Factor (i) is cross-checked against the PHI data elements recorded for the breach
//! (`breach.phi`): a financial or identity-theft element (SSN, driver's licence, account,
//! claims) makes the data financial, and a direct identifier makes the data identified,
//! even if the structured answer says otherwise. Policy choice: the conservative reading
//! wins, so a factor (i) can never be rated low while the record lists an SSN.
//!
//! # Routes to "low probability" (default policy)
//!
//! - **R1**: factor (iii) low — the PHI was not actually acquired or viewed, shown by
//!   evidence (HHS: stolen laptop recovered, forensics show files never opened);
//! - **R2**: factors (ii) **and** (iv) low — a HIPAA-bound or confidentiality-bound
//!   recipient gave credible assurance (HHS: misdirected fax to another practice that
//!   confirms destruction);
//! - **R3**: factor (i) low **and** factor (ii) not high — low re-identification risk and a
//!   recipient who is not hostile.
//!
//! No route may be taken while **any** factor, including an additional one, is unknown: the
//! entity must *demonstrate* low probability (164.402(2), 164.414(b)). An additional factor
//! rated **high** defeats every route: the entity itself has identified a specific reason
//! the PHI is at risk, so the combination cannot be called low (HHS asks for the factors to
//! be weighed in combination, 78 FR 5566, 5643).

use crate::domain::vocab::{DataElement, RecipientKind};
use crate::domain::{AcquisitionStatus, AssessmentFacts, MitigationStatus, Rating};

use super::{FactorResult, Reason, Route};

const CITE_I: &str = "45 CFR 164.402(2)(i)";
const CITE_II: &str = "45 CFR 164.402(2)(ii)";
const CITE_III: &str = "45 CFR 164.402(2)(iii)";
const CITE_IV: &str = "45 CFR 164.402(2)(iv)";
const CITE_EXTRA: &str = "45 CFR 164.402(2) (\"at least\" these factors)";
const CITE_ROUTES: &str = "45 CFR 164.402(2); 78 FR 5566, 5643";
const RANSOMWARE: &str = "HHS ransomware fact sheet (2016)";

/// Plain word for a rating.
pub fn rating_key(r: Rating) -> &'static str {
    match r {
        Rating::Low => "low",
        Rating::Moderate => "moderate",
        Rating::High => "high",
        Rating::Unknown => "unknown",
    }
}

fn with_user_rationale(engine: String, user: &str) -> String {
    let user = user.trim();
    if user.is_empty() {
        engine
    } else {
        format!("{engine}. Assessor: {user}")
    }
}

/// Rates every factor: (i)–(iv) in order, then the additional ones. `hacking` says whether
/// the breach is a hacking/IT incident, the only kind where HHS's ransomware guidance is
/// cited for an acquisition.
pub fn rate(a: &AssessmentFacts, phi: &[DataElement], hacking: bool) -> Vec<FactorResult> {
    let mut out = vec![
        nature(a, phi),
        recipient(a),
        acquired(a, hacking),
        mitigation(a),
    ];
    for x in &a.extra {
        out.push(FactorResult {
            factor: x.name.clone(),
            name: x.name.clone(),
            rating: x.rating,
            rationale: with_user_rationale(
                "additional factor, rated by the assessor".into(),
                &x.rationale,
            ),
            cite: CITE_EXTRA.into(),
        });
    }
    out
}

fn nature(a: &AssessmentFacts, phi: &[DataElement]) -> FactorResult {
    let n = &a.nature;
    let (rating, why) = if !n.answered {
        (Rating::Unknown, "not answered".to_string())
    } else {
        let phi_financial: Vec<&str> = phi
            .iter()
            .filter(|e| e.is_financial())
            .map(|e| e.label())
            .collect();
        let phi_direct = phi.iter().any(|e| e.is_direct_identifier());
        let financial = n.financial || !phi_financial.is_empty();
        let direct = n.direct_identifiers || phi_direct;
        if financial || !n.sensitive.is_empty() {
            let mut parts = Vec::new();
            if n.financial {
                parts.push("financial or identity-theft data".to_string());
            } else if !phi_financial.is_empty() {
                parts.push(format!(
                    "the recorded PHI includes identity-theft data ({})",
                    phi_financial.join(", ")
                ));
            }
            if !n.sensitive.is_empty() {
                let cats: Vec<&str> = n.sensitive.iter().map(|c| c.label()).collect();
                parts.push(format!(
                    "especially sensitive categories ({})",
                    cats.join(", ")
                ));
            }
            (Rating::High, parts.join("; "))
        } else if !direct && !n.reidentifiable {
            (
                Rating::Low,
                "no direct identifiers, nothing financial or especially sensitive, low likelihood of re-identification".to_string(),
            )
        } else if direct {
            (
                Rating::Moderate,
                if n.direct_identifiers {
                    "direct identifiers involved".to_string()
                } else {
                    "the recorded PHI includes direct identifiers".to_string()
                },
            )
        } else {
            (
                Rating::Moderate,
                "no direct identifiers, but the data could be re-identified".to_string(),
            )
        }
    };
    FactorResult {
        factor: "i".into(),
        name: "Nature and extent of the PHI".into(),
        rating,
        rationale: with_user_rationale(why, &n.rationale),
        cite: CITE_I.into(),
    }
}

fn recipient(a: &AssessmentFacts) -> FactorResult {
    let (rating, why) = match a.recipient.kind {
        None => (Rating::Unknown, "not answered".to_string()),
        Some(k @ (RecipientKind::HipaaEntity | RecipientKind::ConfidentialityBound)) => (
            Rating::Low,
            format!("{}: obligated to protect the information", k.label()),
        ),
        Some(k @ (RecipientKind::OwnWorkforce | RecipientKind::KnownIndividual)) => {
            (Rating::Moderate, k.label().to_string())
        }
        Some(k @ (RecipientKind::UnknownPerson | RecipientKind::Malicious)) => {
            (Rating::High, format!("{}: raises the risk", k.label()))
        }
    };
    FactorResult {
        factor: "ii".into(),
        name: "The unauthorized person who used or received the PHI".into(),
        rating,
        rationale: with_user_rationale(why, &a.recipient.rationale),
        cite: CITE_II.into(),
    }
}

fn acquired(a: &AssessmentFacts, hacking: bool) -> FactorResult {
    let (rating, why, cite) = match a.acquired.status {
        None | Some(AcquisitionStatus::Unknown) => (
            Rating::Unknown,
            "not known whether the PHI was acquired or viewed",
            CITE_III.to_string(),
        ),
        Some(AcquisitionStatus::NotAcquiredEvidence) => (
            Rating::Low,
            "evidence (e.g. forensics) shows the PHI was not acquired or viewed",
            CITE_III.to_string(),
        ),
        Some(AcquisitionStatus::NotAcquiredNoEvidence) => (
            Rating::Moderate,
            "believed not acquired or viewed, but without evidence",
            CITE_III.to_string(),
        ),
        Some(AcquisitionStatus::Acquired) if hacking => (
            Rating::High,
            "acquired: the unauthorized person took control of the data (HHS: ransomware encryption is an acquisition, so a breach is presumed)",
            format!("{CITE_III}; {RANSOMWARE}"),
        ),
        Some(AcquisitionStatus::Acquired) => (
            Rating::High,
            "acquired: the unauthorized person took control of the data",
            CITE_III.to_string(),
        ),
        Some(AcquisitionStatus::Viewed) => {
            (Rating::High, "the PHI was viewed", CITE_III.to_string())
        }
        Some(AcquisitionStatus::Exfiltrated) => (
            Rating::High,
            "the PHI was exfiltrated",
            CITE_III.to_string(),
        ),
    };
    FactorResult {
        factor: "iii".into(),
        name: "Whether the PHI was actually acquired or viewed".into(),
        rating,
        rationale: with_user_rationale(why.to_string(), &a.acquired.rationale),
        cite,
    }
}

fn mitigation(a: &AssessmentFacts) -> FactorResult {
    let (rating, why) = match a.mitigation.status {
        None | Some(MitigationStatus::Unknown) => (Rating::Unknown, "mitigation not known"),
        Some(MitigationStatus::AttestedDestruction) => (
            Rating::Low,
            "signed attestation of destruction or non-use from the recipient",
        ),
        Some(MitigationStatus::Returned) => (Rating::Low, "the PHI was recovered or returned"),
        Some(MitigationStatus::RemoteWiped) => (
            Rating::Low,
            "the device was remotely wiped before access could occur",
        ),
        Some(MitigationStatus::Partial) => (Rating::Moderate, "partly mitigated"),
        Some(MitigationStatus::None) => (Rating::High, "not mitigated"),
    };
    FactorResult {
        factor: "iv".into(),
        name: "Extent to which the risk has been mitigated".into(),
        rating,
        rationale: with_user_rationale(why.to_string(), &a.mitigation.rationale),
        cite: CITE_IV.into(),
    }
}

fn rating_of(factors: &[FactorResult], key: &str) -> Rating {
    factors
        .iter()
        .find(|f| f.factor == key)
        .map(|f| f.rating)
        .unwrap_or(Rating::Unknown)
}

fn label(f: &FactorResult) -> String {
    if matches!(f.factor.as_str(), "i" | "ii" | "iii" | "iv") {
        format!("factor ({})", f.factor)
    } else {
        format!("additional factor \"{}\"", f.factor)
    }
}

/// Applies the default route rule. Returns the route taken (the first of R1, R2, R3 that
/// holds) and, for every route not taken, what defeated it.
pub fn routes(factors: &[FactorResult]) -> (Option<Route>, Vec<Reason>) {
    const ROUTES: [Route; 3] = [Route::R1, Route::R2, Route::R3];

    let unknown: Vec<String> = factors
        .iter()
        .filter(|f| f.rating == Rating::Unknown)
        .map(label)
        .collect();
    if !unknown.is_empty() {
        let defeated = ROUTES
            .iter()
            .map(|r| {
                Reason::new(
                    format!(
                        "{} blocked: {} unknown; low probability cannot be demonstrated while any factor is unknown",
                        r.key(),
                        unknown.join(", ")
                    ),
                    CITE_ROUTES,
                )
            })
            .collect();
        return (None, defeated);
    }

    let extra_high: Vec<String> = factors
        .iter()
        .skip(4)
        .filter(|f| f.rating == Rating::High)
        .map(label)
        .collect();
    if !extra_high.is_empty() {
        let defeated = ROUTES
            .iter()
            .map(|r| {
                Reason::new(
                    format!(
                        "{} blocked: {} rated high; the factors weighed in combination cannot show low probability",
                        r.key(),
                        extra_high.join(", ")
                    ),
                    CITE_ROUTES,
                )
            })
            .collect();
        return (None, defeated);
    }

    let (i, ii, iii, iv) = (
        rating_of(factors, "i"),
        rating_of(factors, "ii"),
        rating_of(factors, "iii"),
        rating_of(factors, "iv"),
    );
    let mut taken = None;
    let mut defeated = Vec::new();
    for r in ROUTES {
        let failures: Vec<String> = match r {
            Route::R1 => not_low(&[("iii", iii)]),
            Route::R2 => not_low(&[("ii", ii), ("iv", iv)]),
            Route::R3 => {
                let mut f = not_low(&[("i", i)]);
                if ii == Rating::High {
                    f.push("factor (ii) is high (hostile or unknown recipient)".into());
                }
                f
            }
        };
        if failures.is_empty() {
            if taken.is_none() {
                taken = Some(r);
            }
        } else {
            defeated.push(Reason::new(
                format!(
                    "{} ({}) defeated: {}",
                    r.key(),
                    r.describe(),
                    failures.join("; ")
                ),
                CITE_ROUTES,
            ));
        }
    }
    (taken, defeated)
}

fn not_low(items: &[(&str, Rating)]) -> Vec<String> {
    items
        .iter()
        .filter(|(_, r)| *r != Rating::Low)
        .map(|(k, r)| format!("factor ({k}) is {}", rating_key(*r)))
        .collect()
}
