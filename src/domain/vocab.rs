//! Controlled vocabularies: the HHS breach portal's categories (reference § 6), data
//! elements, device and recipient kinds, and the States of 45 CFR 160.103.

use serde::{Deserialize, Serialize};

/// Defines a snake_case enum with a human label (the portal's own spelling where there is
/// one), `ALL`, `label()`, `key()` and `from_label()` (case-insensitive on key or label).
macro_rules! vocab {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $key:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The snake_case key used in facts files and JSON.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key,)+ }
            }

            /// The human (portal) label.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Parses a key or a label, ignoring case and surrounding space.
            pub fn from_label(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| {
                    v.key().eq_ignore_ascii_case(s) || v.label().eq_ignore_ascii_case(s)
                })
            }

            /// The accepted keys, for error messages.
            pub fn accepted() -> String {
                $name::ALL.iter().map(|v| v.key()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

vocab!(
    /// OCR portal "Type of Breach".
    BreachType {
        HackingItIncident => "hacking_it_incident", "Hacking/IT Incident";
        ImproperDisposal => "improper_disposal", "Improper Disposal";
        Loss => "loss", "Loss";
        Theft => "theft", "Theft";
        UnauthorizedAccessDisclosure => "unauthorized_access_disclosure", "Unauthorized Access/Disclosure";
        Other => "other", "Other";
        Unknown => "unknown", "Unknown";
    }
);

vocab!(
    /// OCR portal "Location of Breached Information".
    Location {
        DesktopComputer => "desktop_computer", "Desktop Computer";
        ElectronicMedicalRecord => "electronic_medical_record", "Electronic Medical Record";
        Email => "email", "Email";
        Laptop => "laptop", "Laptop";
        NetworkServer => "network_server", "Network Server";
        OtherPortableElectronicDevice => "other_portable_electronic_device", "Other Portable Electronic Device";
        PaperFilms => "paper_films", "Paper/Films";
        Other => "other", "Other";
    }
);

vocab!(
    /// OCR portal "Covered Entity Type".
    EntityType {
        HealthcareProvider => "healthcare_provider", "Healthcare Provider";
        HealthPlan => "health_plan", "Health Plan";
        HealthcareClearingHouse => "healthcare_clearing_house", "Healthcare Clearing House";
        BusinessAssociate => "business_associate", "Business Associate";
    }
);

vocab!(
    /// Data elements of the PHI involved, grouped as the portal groups them.
    DataElement {
        Diagnosis => "diagnosis", "Diagnosis/conditions";
        LabResults => "lab_results", "Lab results";
        Medications => "medications", "Medications";
        OtherTreatment => "other_treatment", "Other treatment information";
        Name => "name", "Name";
        Address => "address", "Address/ZIP";
        DateOfBirth => "date_of_birth", "Date of birth";
        DriversLicense => "drivers_license", "Driver's license";
        Ssn => "ssn", "Social Security number";
        MedicalRecordNumber => "medical_record_number", "Medical record number";
        HealthPlanId => "health_plan_id", "Health plan member ID";
        OtherDemographic => "other_demographic", "Other demographic information";
        Claims => "claims", "Claims information";
        FinancialAccount => "financial_account", "Credit card/bank account number";
        OtherFinancial => "other_financial", "Other financial information";
        Other => "other", "Other";
    }
);

impl DataElement {
    /// The portal's group for this element.
    pub fn group(self) -> &'static str {
        use DataElement::*;
        match self {
            Diagnosis | LabResults | Medications | OtherTreatment => "clinical",
            Name | Address | DateOfBirth | DriversLicense | Ssn | MedicalRecordNumber
            | HealthPlanId | OtherDemographic => "demographic",
            Claims | FinancialAccount | OtherFinancial => "financial",
            Other => "other",
        }
    }

    /// A direct identifier of the individual.
    pub fn is_direct_identifier(self) -> bool {
        use DataElement::*;
        matches!(
            self,
            Name | Address
                | DriversLicense
                | Ssn
                | MedicalRecordNumber
                | HealthPlanId
                | FinancialAccount
        )
    }

    /// Enables identity theft or financial fraud (reference § 1, factor (i)).
    pub fn is_financial(self) -> bool {
        use DataElement::*;
        matches!(
            self,
            Ssn | DriversLicense | FinancialAccount | Claims | OtherFinancial
        )
    }

    pub fn is_clinical(self) -> bool {
        self.group() == "clinical"
    }
}

vocab!(
    /// Data elements that State breach laws name in their definitions of "personal
    /// information" (beyond, or more precisely than, the HIPAA portal's list). The State
    /// rules data (`src/laws/data/`) and the facts file (`[state_law] elements`) use these
    /// keys; [`crate::rules::state`] maps the portal's elements onto them.
    PiElement {
        Ssn => "ssn", "Social Security number";
        DriversLicense => "drivers_license", "Driver's license or State ID card number";
        GovernmentId => "government_id", "Other government-issued identification number";
        Passport => "passport", "Passport number";
        MilitaryId => "military_id", "Military identification number";
        TaxId => "tax_id", "Taxpayer identification number (ITIN, TIN)";
        FinancialAccount => "financial_account", "Financial account or card number (without access code)";
        AccountAccessCode => "account_access_code", "Security code, access code or password for a financial account";
        FinancialAccountWithCode => "financial_account_with_code", "Financial account or card number with its access code";
        Medical => "medical", "Medical information (history, condition, treatment, diagnosis)";
        HealthInsurance => "health_insurance", "Health insurance information (policy or subscriber number, claims)";
        Biometric => "biometric", "Biometric data";
        Genetic => "genetic", "Genetic information or DNA profile";
        OnlineCredentials => "online_credentials", "Username or e-mail address with password or security question and answer";
        DateOfBirth => "date_of_birth", "Full date of birth";
        MothersMaidenName => "mothers_maiden_name", "Mother's maiden name";
    }
);

vocab!(
    /// Especially sensitive categories of clinical information (factor (i)).
    SensitiveCategory {
        MentalHealth => "mental_health", "Mental health";
        SubstanceUse => "substance_use", "Substance use disorder";
        HivSti => "hiv_sti", "HIV/STI";
        Reproductive => "reproductive", "Reproductive health";
        Genetic => "genetic", "Genetic information";
    }
);

vocab!(
    /// State of a device when the incident happened.
    DeviceState {
        Off => "off", "Powered off";
        Locked => "locked", "Locked (encryption engaged)";
        LoggedIn => "logged_in", "Running and logged in";
        Unknown => "unknown", "Unknown";
        NotApplicable => "not_applicable", "Not a device";
    }
);

vocab!(
    /// How media or paper were destroyed (74 FR 19006 destruction safe harbor).
    DestructionMethod {
        PaperShredded => "paper_shredded", "Paper shredded or destroyed so it cannot be reconstructed";
        MediaSanitizedNist80088 => "media_sanitized_nist_800_88", "Electronic media cleared, purged or destroyed per NIST SP 800-88";
        Redacted => "redacted", "Redacted (does not qualify)";
        NotDestroyed => "not_destroyed", "Not destroyed";
    }
);

vocab!(
    /// Who used or received the PHI (factor (ii)).
    RecipientKind {
        HipaaEntity => "hipaa_entity", "Another HIPAA covered entity or business associate";
        ConfidentialityBound => "confidentiality_bound", "A person bound by federal confidentiality duties";
        OwnWorkforce => "own_workforce", "A member of the entity's own workforce";
        KnownIndividual => "known_individual", "A known individual not bound by confidentiality duties";
        UnknownPerson => "unknown_person", "An unknown person";
        Malicious => "malicious", "A malicious actor (thief, attacker)";
    }
);

/// The States of 45 CFR 160.103: the 50 States, DC, Puerto Rico, the U.S. Virgin Islands,
/// Guam, American Samoa and the Northern Mariana Islands, as (code, name).
pub const STATES: &[(&str, &str)] = &[
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("DC", "District of Columbia"),
    ("PR", "Puerto Rico"),
    ("VI", "U.S. Virgin Islands"),
    ("GU", "Guam"),
    ("AS", "American Samoa"),
    ("MP", "Northern Mariana Islands"),
];

/// Normalises a State given as a code or a name ("ca", "California", "Puerto Rico",
/// "Virgin Islands") to its two-letter code. `None` when it is not a State of 160.103.
pub fn normalize_state(s: &str) -> Option<&'static str> {
    let t = s.trim().trim_end_matches('.');
    if t.is_empty() {
        return None;
    }
    // Most rows give the two-letter code: compare codes only.
    if t.len() == 2 {
        return STATES
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(t))
            .map(|(code, _)| *code);
    }
    for (code, name) in STATES {
        if code.eq_ignore_ascii_case(t) || name.eq_ignore_ascii_case(t) {
            return Some(code);
        }
    }
    let alias = t.to_ascii_lowercase();
    let code = match alias.as_str() {
        "d.c" | "washington dc" | "washington, dc" | "washington d.c" => "DC",
        "virgin islands" | "us virgin islands" | "usvi" => "VI",
        "northern mariana islands" | "cnmi" | "commonwealth of the northern mariana islands" => {
            "MP"
        }
        _ => return None,
    };
    Some(code)
}

/// The name of a State code, or the code itself when unknown.
pub fn state_name(code: &str) -> &str {
    STATES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn territories_count_as_states_160_103() {
        for code in ["DC", "PR", "VI", "GU", "AS", "MP"] {
            assert_eq!(normalize_state(code), Some(code));
        }
        assert_eq!(normalize_state(" california "), Some("CA"));
        assert_eq!(normalize_state("Virgin Islands"), Some("VI"));
        assert_eq!(normalize_state("ZZ"), None);
        assert_eq!(normalize_state(""), None);
        assert_eq!(STATES.len(), 56);
    }

    #[test]
    fn portal_labels_round_trip() {
        for t in BreachType::ALL {
            assert_eq!(BreachType::from_label(t.label()), Some(*t));
            assert_eq!(BreachType::from_label(t.key()), Some(*t));
        }
        assert_eq!(
            Location::from_label("paper/films"),
            Some(Location::PaperFilms)
        );
        assert_eq!(
            EntityType::from_label("Healthcare Clearing House"),
            Some(EntityType::HealthcareClearingHouse)
        );
    }
}
