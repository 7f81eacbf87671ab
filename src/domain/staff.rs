//! The people of the privacy office who use `breachdesk serve`: their roles and what each
//! role may do. The table here is the one authority: the web server authorizes every route
//! by it, README's permissions table is generated from it (test-checked), and one
//! table-driven test walks every route with every role.
//!
//! Names of staff are not PHI (45 CFR 160.103: PHI is information about an individual's
//! health or care); they go into the audit trail as who did what.

use serde::{Deserialize, Serialize};

/// A person's role in the privacy office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StaffRole {
    /// Runs the response: everything but counsel's sign-off, and manages users.
    PrivacyOfficer,
    /// Legal counsel: overrides determinations, templates, approves letter batches.
    Counsel,
    /// Compliance analyst: logs and updates incidents, imports rosters, renders drafts.
    Analyst,
    /// Reads, verifies the audit trail, downloads the dossier.
    Auditor,
    /// Runs tabletop exercises; never sees real incidents.
    Facilitator,
}

impl StaffRole {
    pub const ALL: &'static [StaffRole] = &[
        StaffRole::PrivacyOfficer,
        StaffRole::Counsel,
        StaffRole::Analyst,
        StaffRole::Auditor,
        StaffRole::Facilitator,
    ];

    /// `privacy-officer`, `counsel`, `analyst`, `auditor`, `facilitator`.
    pub fn key(self) -> &'static str {
        match self {
            StaffRole::PrivacyOfficer => "privacy-officer",
            StaffRole::Counsel => "counsel",
            StaffRole::Analyst => "analyst",
            StaffRole::Auditor => "auditor",
            StaffRole::Facilitator => "facilitator",
        }
    }

    pub fn from_key(s: &str) -> Option<StaffRole> {
        let s = s.trim().replace('_', "-");
        StaffRole::ALL
            .iter()
            .copied()
            .find(|r| r.key().eq_ignore_ascii_case(&s))
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::PrivacyOfficer => "Privacy officer",
            StaffRole::Counsel => "Counsel",
            StaffRole::Analyst => "Analyst",
            StaffRole::Auditor => "Auditor",
            StaffRole::Facilitator => "Facilitator",
        }
    }

    /// Whether this role may do `p`.
    pub fn may(self, p: Permission) -> bool {
        p.roles().contains(&self)
    }
}

/// What a route needs. Every route of the web server names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// No session needed: the sign-in page, the style sheet.
    Public,
    /// Any signed-in person: sign out, change one's own password, the start page.
    SignedIn,
    /// The register: dashboard, incident pages, the deadline board, batches (no PHI files).
    ReadRegister,
    /// Log a new incident.
    LogIncident,
    /// Update an incident's facts, add timeline notes.
    EditIncident,
    /// Record the 164.402 determination from the guided assessment.
    Assess,
    /// Override the engine's determination (with a rationale).
    OverrideDetermination,
    /// Close or reopen an incident.
    CloseIncident,
    /// Import a roster of affected individuals.
    ImportRoster,
    /// Render letter batches (drafts), preview and download them.
    RenderLetters,
    /// Sign off a letters batch: counsel's approval.
    ApproveLetters,
    /// Record notices sent against an approved batch.
    RecordNotice,
    /// Record notices sent without an approved batch (an override with a rationale).
    OverrideSignoff,
    /// Verify the audit trail, download checkpoints and dossiers.
    Audit,
    /// Add users, change roles, disable, reset passwords.
    ManageUsers,
    /// Run tabletop exercises (the exercise database only).
    RunExercise,
    /// Counsel's rules: the letter templates and the State laws data (check, store, clear).
    ManageRules,
}

use StaffRole::{Analyst, Auditor, Counsel, Facilitator, PrivacyOfficer};

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::Public,
        Permission::SignedIn,
        Permission::ReadRegister,
        Permission::LogIncident,
        Permission::EditIncident,
        Permission::Assess,
        Permission::OverrideDetermination,
        Permission::CloseIncident,
        Permission::ImportRoster,
        Permission::RenderLetters,
        Permission::ApproveLetters,
        Permission::RecordNotice,
        Permission::OverrideSignoff,
        Permission::Audit,
        Permission::ManageUsers,
        Permission::RunExercise,
        Permission::ManageRules,
    ];

    /// The roles that hold this permission: the permissions table.
    ///
    /// Policy choices: counsel's sign-off is counsel's alone (separation of duties: the
    /// person who runs the response does not also approve the legal notice); facilitators
    /// see the exercise database only, never the register.
    pub fn roles(self) -> &'static [StaffRole] {
        match self {
            Permission::Public | Permission::SignedIn => StaffRole::ALL,
            Permission::ReadRegister => &[PrivacyOfficer, Counsel, Analyst, Auditor],
            Permission::LogIncident | Permission::ImportRoster => &[PrivacyOfficer, Analyst],
            Permission::EditIncident
            | Permission::Assess
            | Permission::RenderLetters
            | Permission::RecordNotice => &[PrivacyOfficer, Counsel, Analyst],
            Permission::OverrideDetermination
            | Permission::OverrideSignoff
            | Permission::ManageRules => &[PrivacyOfficer, Counsel],
            Permission::CloseIncident | Permission::ManageUsers => &[PrivacyOfficer],
            Permission::ApproveLetters => &[Counsel],
            Permission::Audit => &[PrivacyOfficer, Counsel, Auditor],
            Permission::RunExercise => &[PrivacyOfficer, Facilitator],
        }
    }

    /// The permission's name in tables and messages.
    pub fn key(self) -> &'static str {
        match self {
            Permission::Public => "public",
            Permission::SignedIn => "signed-in",
            Permission::ReadRegister => "read-register",
            Permission::LogIncident => "log-incident",
            Permission::EditIncident => "edit-incident",
            Permission::Assess => "assess",
            Permission::OverrideDetermination => "override-determination",
            Permission::CloseIncident => "close-incident",
            Permission::ImportRoster => "import-roster",
            Permission::RenderLetters => "render-letters",
            Permission::ApproveLetters => "approve-letters",
            Permission::RecordNotice => "record-notice",
            Permission::OverrideSignoff => "override-signoff",
            Permission::Audit => "audit",
            Permission::ManageUsers => "manage-users",
            Permission::RunExercise => "run-exercise",
            Permission::ManageRules => "manage-rules",
        }
    }

    /// What the permission allows, in a few words (README's table).
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Public => "sign in",
            Permission::SignedIn => "the start page, one's own password, sign out",
            Permission::ReadRegister => {
                "dashboard, incidents, deadline board, batches and notices (read)"
            }
            Permission::LogIncident => "log an incident (guided intake)",
            Permission::EditIncident => "update facts, add timeline notes",
            Permission::Assess => "record the determination (guided assessment)",
            Permission::OverrideDetermination => "override the determination, with a rationale",
            Permission::CloseIncident => "close or reopen an incident",
            Permission::ImportRoster => "import a roster",
            Permission::RenderLetters => "render letter batches, preview, download",
            Permission::ApproveLetters => "approve (sign off) a letters batch",
            Permission::RecordNotice => "record notices sent against an approved batch",
            Permission::OverrideSignoff => {
                "record notices without an approved batch, with a rationale"
            }
            Permission::Audit => "verify the audit trail, checkpoint, dossier, audit log",
            Permission::ManageUsers => "add users, change roles, disable, reset passwords",
            Permission::RunExercise => "run tabletop exercises (exercise database only)",
            Permission::ManageRules => {
                "counsel's letter templates and State laws data: check, store, clear"
            }
        }
    }
}

/// Checks a sign-in name: 2–64 characters, lower-case letters, digits, `.`, `-`, `_`,
/// starting with a letter (so it is safe in a path and in the audit trail as is).
pub fn check_user_name(name: &str) -> Result<(), String> {
    let ok_len = (2..=64).contains(&name.len());
    let ok_first = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok_len && ok_first && ok_chars {
        Ok(())
    } else {
        Err("a user name is 2 to 64 characters: lower-case letters, digits, '.', '-' or '_', starting with a letter (e.g. jsmith)".into())
    }
}

/// The permissions table as Markdown (README "Team use"; a test keeps README in step).
pub fn permissions_markdown() -> String {
    let mut out = String::from("| may … |");
    for r in StaffRole::ALL {
        out.push_str(&format!(" {} |", r.key()));
    }
    out.push_str("\n|---|");
    for _ in StaffRole::ALL {
        out.push_str(":-:|");
    }
    out.push('\n');
    for p in Permission::ALL {
        if *p == Permission::Public {
            continue;
        }
        out.push_str(&format!("| `{}`: {} |", p.key(), p.describe()));
        for r in StaffRole::ALL {
            out.push_str(if r.may(*p) { " ✔ |" } else { " |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_keys_round_trip() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::from_key(r.key()), Some(*r));
        }
        assert_eq!(StaffRole::from_key("privacy_officer"), Some(PrivacyOfficer));
        assert_eq!(StaffRole::from_key("admin"), None);
    }

    #[test]
    fn user_names() {
        for ok in ["jsmith", "mary.o-neil", "a1"] {
            assert!(check_user_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "j",
            "J.Smith",
            "1abc",
            "a b",
            "a/b",
            "ab<script>",
            &"a".repeat(65),
        ] {
            assert!(check_user_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_lines() {
        // The examples, one line each.
        assert!(Analyst.may(Permission::LogIncident) && Analyst.may(Permission::ImportRoster));
        assert!(Analyst.may(Permission::RenderLetters));
        assert!(!Analyst.may(Permission::ApproveLetters));
        assert!(Counsel.may(Permission::OverrideDetermination));
        assert!(Counsel.may(Permission::ApproveLetters));
        assert!(PrivacyOfficer.may(Permission::ManageUsers));
        assert!(!Counsel.may(Permission::ManageUsers));
        assert!(Auditor.may(Permission::Audit) && Auditor.may(Permission::ReadRegister));
        assert!(!Auditor.may(Permission::EditIncident));
        for p in Permission::ALL {
            let reads_register = !matches!(
                p,
                Permission::Public | Permission::SignedIn | Permission::RunExercise
            );
            if reads_register {
                assert!(
                    !Facilitator.may(*p),
                    "facilitators never see incidents: {p:?}"
                );
            }
        }
        assert!(Facilitator.may(Permission::RunExercise));
    }

    #[test]
    fn readme_shows_the_table() {
        let readme = include_str!("../../README.md");
        let table = permissions_markdown();
        assert!(
            readme.contains(&table),
            "README.md must contain the permissions table as generated:\n{table}"
        );
    }
}
