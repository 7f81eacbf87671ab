//! What an audit entry is about ([`Subject`]) and what was done ([`Action`]), typed.
//!
//! The entry encoding stores both as strings (ARCHITECTURE.md, "Audit encoding"); these
//! enums are the only place those strings are written, so every entry a mutation appends
//! uses one of them. Entries read back keep their strings: a chain written by a newer
//! release, or altered, may hold strings this binary does not know, and verification must
//! still walk it.

use std::fmt;

use crate::domain::IncidentId;
use crate::domain::staff::check_user_name;

/// The kind of a [`Subject`], without its ID: what the subject → records mapping
/// (`store::subjects`) is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// The file itself: its schema version.
    Store,
    Org,
    SigningKey,
    Incident,
    Roster,
    Laws,
    User,
    Access,
}

impl SubjectKind {
    pub const ALL: &'static [SubjectKind] = &[
        SubjectKind::Store,
        SubjectKind::Org,
        SubjectKind::SigningKey,
        SubjectKind::Incident,
        SubjectKind::Roster,
        SubjectKind::Laws,
        SubjectKind::User,
        SubjectKind::Access,
    ];

    /// The subject string's pattern, for documentation: `org`, `incident/<id>`.
    pub fn pattern(self) -> &'static str {
        match self {
            SubjectKind::Store => "store",
            SubjectKind::Org => "org",
            SubjectKind::SigningKey => "keys/signing",
            SubjectKind::Incident => "incident/<id>",
            SubjectKind::Roster => "roster/<id>",
            SubjectKind::Laws => "laws",
            SubjectKind::User => "user/<name>",
            SubjectKind::Access => "access",
        }
    }
}

/// An audited subject: a set of stored records whose digest each entry carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// The file itself: its schema version (`store.init`, `store.migrate`).
    Store,
    /// The organization: its record, encryption settings, wrapped key, template set, clock
    /// marker.
    Org,
    /// The checkpoint signing key's public half.
    SigningKey,
    /// An incident: record, sealed values, determination and obligations, manifests.
    Incident(IncidentId),
    /// An incident's roster: committed rows, batches and counts.
    Roster(IncidentId),
    /// Counsel's State-law rules files, every version set or cleared.
    Laws,
    /// A person who signs in to the server: role, password hash, state (schema 2).
    User(String),
    /// Sign-in attempts under names that match no user (a count; schema 2).
    Access,
}

impl Subject {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Store => SubjectKind::Store,
            Subject::Org => SubjectKind::Org,
            Subject::SigningKey => SubjectKind::SigningKey,
            Subject::Incident(_) => SubjectKind::Incident,
            Subject::Roster(_) => SubjectKind::Roster,
            Subject::Laws => SubjectKind::Laws,
            Subject::User(_) => SubjectKind::User,
            Subject::Access => SubjectKind::Access,
        }
    }

    /// The incident a subject belongs to, if any.
    pub fn incident(&self) -> Option<&IncidentId> {
        match self {
            Subject::Incident(id) | Subject::Roster(id) => Some(id),
            Subject::Store
            | Subject::Org
            | Subject::SigningKey
            | Subject::Laws
            | Subject::User(_)
            | Subject::Access => None,
        }
    }

    /// The part of the subject string after its kind: an incident ID or a user name
    /// (empty for the singletons).
    pub fn key_part(&self) -> &str {
        match self {
            Subject::Incident(id) | Subject::Roster(id) => id.as_str(),
            Subject::User(name) => name,
            Subject::Store
            | Subject::Org
            | Subject::SigningKey
            | Subject::Laws
            | Subject::Access => "",
        }
    }

    /// The string stored in audit entries: `org`, `keys/signing`, `incident/2026-0001`,
    /// `roster/2026-0001`.
    pub fn encode(&self) -> String {
        self.to_string()
    }

    /// Parses a stored subject string; `None` for one this binary does not know.
    pub fn parse(s: &str) -> Option<Subject> {
        match s.split_once('/') {
            None if s == "org" => Some(Subject::Org),
            None if s == "store" => Some(Subject::Store),
            None if s == "laws" => Some(Subject::Laws),
            None if s == "access" => Some(Subject::Access),
            Some(("user", name)) if check_user_name(name).is_ok() => {
                Some(Subject::User(name.to_string()))
            }
            Some(("keys", "signing")) => Some(Subject::SigningKey),
            // IDs are stored exactly as written: a parse that trims would map a damaged
            // string onto a real subject.
            Some(("incident", id)) => IncidentId::parse(id)
                .filter(|p| p.as_str() == id)
                .map(Subject::Incident),
            Some(("roster", id)) => IncidentId::parse(id)
                .filter(|p| p.as_str() == id)
                .map(Subject::Roster),
            _ => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Store => f.write_str("store"),
            Subject::Org => f.write_str("org"),
            Subject::SigningKey => f.write_str("keys/signing"),
            Subject::Incident(id) => write!(f, "incident/{id}"),
            Subject::Roster(id) => write!(f, "roster/{id}"),
            Subject::Laws => f.write_str("laws"),
            Subject::User(name) => write!(f, "user/{name}"),
            Subject::Access => f.write_str("access"),
        }
    }
}

macro_rules! actions {
    ($($(#[$doc:meta])* $v:ident = $key:literal on $kind:ident,)*) => {
        /// What a mutation did. Each action belongs to one kind of subject.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$doc])* $v,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$v,)*];

            /// The string stored in audit entries (a contract: never change one).
            pub fn key(self) -> &'static str {
                match self {
                    $(Action::$v => $key,)*
                }
            }

            /// The kind of subject this action changes.
            pub fn subject_kind(self) -> SubjectKind {
                match self {
                    $(Action::$v => SubjectKind::$kind,)*
                }
            }
        }
    };
}

actions! {
    /// `init`: the database and the organization.
    OrgInit = "org.init" on Org,
    OrgUpdate = "org.update" on Org,
    /// `rekey`: the data key re-wrapped under a new passphrase.
    OrgRekey = "org.rekey" on Org,
    OrgTemplates = "org.templates" on Org,
    OrgTemplatesClear = "org.templates.clear" on Org,
    AuditKeygen = "audit.keygen" on SigningKey,
    IncidentNew = "incident.new" on Incident,
    IncidentUpdate = "incident.update" on Incident,
    IncidentNote = "incident.note" on Incident,
    IncidentAssess = "incident.assess" on Incident,
    IncidentClose = "incident.close" on Incident,
    IncidentReopen = "incident.reopen" on Incident,
    NoticeRecord = "notice.record" on Incident,
    LettersRender = "letters.render" on Incident,
    RosterImport = "roster.import" on Roster,
    RosterPurge = "roster.purge" on Roster,
    ExerciseStart = "exercise.start" on Incident,
    ExerciseNext = "exercise.next" on Incident,
    ExerciseDecide = "exercise.decide" on Incident,
    ExerciseNote = "exercise.note" on Incident,
    /// A new file's first entry: its schema version.
    StoreInit = "store.init" on Store,
    /// A migration step of an older file (its name in the detail).
    StoreMigrate = "store.migrate" on Store,
    /// `laws set`: counsel's rules file for a jurisdiction (a new version).
    LawsSet = "laws.set" on Laws,
    /// `laws clear`: counsel's file removed, the built-in one applies again.
    LawsClear = "laws.clear" on Laws,
    /// A roster written by release 0.1 moved to the sealed-group format under its own key.
    RosterMigrate = "roster.migrate" on Roster,
    /// Text an older release stored in the clear, sealed (step `sealed-text`).
    OrgMigrate = "org.migrate" on Org,
    /// Text an older release stored in the clear, sealed under the incident's own key.
    IncidentMigrate = "incident.migrate" on Incident,
    /// Counsel's sign-off of a letters batch (names the approver and the manifest hash).
    LettersApprove = "letters.approve" on Incident,
    UserAdd = "user.add" on User,
    /// A role change.
    UserRole = "user.role" on User,
    UserDisable = "user.disable" on User,
    UserEnable = "user.enable" on User,
    /// A password set by someone else (`user reset-password`, the users page).
    UserResetPassword = "user.reset_password" on User,
    /// A person changed their own password.
    UserPassword = "user.password" on User,
    /// A successful sign-in (164.312(b) audit controls).
    UserLogin = "user.login" on User,
    /// A failed sign-in under a known name (the attempted password is never kept).
    UserLoginFailed = "user.login_failed" on User,
    /// Too many failed sign-ins: the account is locked for a while.
    UserLockout = "user.lockout" on User,
    UserLogout = "user.logout" on User,
    /// A failed sign-in under a name that matches no user (the name is not kept).
    AccessLoginFailed = "access.login_failed" on Access,
    /// Too many failed sign-ins from one address: further attempts are refused for a while.
    AccessThrottled = "access.throttled" on Access,
}

impl Action {
    pub fn from_key(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.key() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn subjects_encode_to_the_stored_strings_and_back() {
        let id = IncidentId::parse("2026-0001").unwrap();
        let cases = [
            (Subject::Store, "store"),
            (Subject::Org, "org"),
            (Subject::SigningKey, "keys/signing"),
            (Subject::Incident(id.clone()), "incident/2026-0001"),
            (Subject::Roster(id), "roster/2026-0001"),
            (Subject::Laws, "laws"),
            (Subject::User("jsmith".into()), "user/jsmith"),
            (Subject::Access, "access"),
        ];
        for (s, text) in cases {
            assert_eq!(s.encode(), text);
            assert_eq!(Subject::parse(text), Some(s));
        }
        for bad in [
            "",
            "orgs",
            "incident/",
            "incident/ 2026-0001",
            "roster/x",
            "keys/other",
            "laws/TX",
            "user/",
            "user/J Smith",
            "access/x",
        ] {
            assert_eq!(Subject::parse(bad), None, "{bad}");
        }
    }

    /// The action strings of release 0.1 (entries already written carry them), then those
    /// added since, each a contract once written.
    #[test]
    fn action_strings_are_those_release_0_1_wrote() {
        let keys: Vec<&str> = Action::ALL.iter().map(|a| a.key()).collect();
        assert_eq!(
            keys,
            [
                "org.init",
                "org.update",
                "org.rekey",
                "org.templates",
                "org.templates.clear",
                "audit.keygen",
                "incident.new",
                "incident.update",
                "incident.note",
                "incident.assess",
                "incident.close",
                "incident.reopen",
                "notice.record",
                "letters.render",
                "roster.import",
                "roster.purge",
                "exercise.start",
                "exercise.next",
                "exercise.decide",
                "exercise.note",
                "store.init",
                "store.migrate",
                "laws.set",
                "laws.clear",
                "roster.migrate",
                "org.migrate",
                "incident.migrate",
                "letters.approve",
                "user.add",
                "user.role",
                "user.disable",
                "user.enable",
                "user.reset_password",
                "user.password",
                "user.login",
                "user.login_failed",
                "user.lockout",
                "user.logout",
                "access.login_failed",
                "access.throttled",
            ]
        );
        for a in Action::ALL {
            assert_eq!(Action::from_key(a.key()), Some(*a));
            let prefix = a.key().split('.').next().unwrap();
            let kind = a.subject_kind();
            match prefix {
                "org" => assert_eq!(kind, SubjectKind::Org),
                "user" => assert_eq!(kind, SubjectKind::User),
                "access" => assert_eq!(kind, SubjectKind::Access),
                "audit" => assert_eq!(kind, SubjectKind::SigningKey),
                "roster" => assert_eq!(kind, SubjectKind::Roster),
                "store" => assert_eq!(kind, SubjectKind::Store),
                "laws" => assert_eq!(kind, SubjectKind::Laws),
                _ => assert_eq!(kind, SubjectKind::Incident),
            }
        }
    }
}
