//! The use-case layer under both front ends (the CLI today, the web server next).
//!
//! An [`Office`] owns what one process holds for one database: the open store and the
//! unlocked key (`Send + Sync`; a server keeps it in an `Arc`). A [`Desk`] is one caller's
//! view of it, built cheaply from an office and a [`Context`] (who acts, and when): it
//! computes the organization and "today" once and offers one method per use case, taking a
//! typed request and returning a typed result, never printing. Every change of an incident
//! goes through one private path (`change.rs`); every evaluation through one function
//! (`evaluate.rs`). Front ends turn their input (arguments, interviews, forms) into requests
//! and render the results.
//!
//! This file only declares and re-exports: the modules below import `office` and each
//! other's leaves, never this file, so the layer has no import circle.

mod assess;
mod audit;
mod board;
mod bulk;
mod change;
mod dossier;
mod evaluate;
pub mod exercise;
mod incidents;
mod laws;
pub mod letters;
mod maintenance;
mod notices;
mod office;
mod org;
pub mod owner;
mod progress;
pub mod records;
mod replay;
mod roster;
pub mod secret;
mod users;

/// A roster's counts and import batches, as stored (no PHI); the file's space.
pub use crate::store::compact::{Compacted, Space};
pub use crate::store::roster::{
    Batch as RosterBatch, IssueKind as RosterIssueKind, RUN_ROWS, RosterTotals, RowRef,
};
/// What a sealed string reads as without the passphrase.
pub use crate::store::sealing::SEALED;
/// Who acts and by which clock (written into every audit entry).
pub use crate::store::{ClockMarker, ClockSource, Via, Who};
pub use assess::{
    AssessRequest, Assessed, AssessmentAnswers, DeadlineBoard, DeadlineQuery, DeadlineRow,
    KeepUntil, Override, Recorded, WhatIf, what_if,
};
pub use audit::{CheckpointFile, Verified};
pub use board::{BoardCache, Dashboard, Window};
pub use bulk::RosterSource;
pub use change::Revision;
pub use dossier::Dossier;
pub use evaluate::Policies;
pub use evaluate::status_text;
pub use incidents::{
    CloseIncident, IncidentFilter, IncidentView, Listed, NewIncident, NewNote, UpdateIncident,
    Updated, label, unmet,
};
pub use laws::{
    CounselVersion, LawDiff, LawShow, LawsChanged, LawsFile, LawsList, VersionView,
    check as check_laws_file, check as check_laws, diff as laws_diff, law_set, list as laws_list,
    show as laws_show,
};
pub use notices::{ApproveBatch, Authority, NewNotice, NoticeRecorded, letter_kinds};
pub use office::{
    Context, DbClock, Desk, KeySource, NOT_EVIDENCE, NoKey, Office, Passphrase, counts_or_estimate,
    default_signing_key, today_in,
};
pub use org::{NewEncryption, NewOrg, OrgDetails, OrgUpdate, Rekey, Rekeyed, new_organization};
pub use progress::{Progress, Silent};
pub use records::{Approval, Batch};
pub use replay::{FileReplay, Replay, ReplayRequest};
pub use roster::Listed as ListedRows;
pub use roster::{
    DuplicateRow, FixRow, ImportOutcome, ImportReport, ImportRoster, IssueSummary, LowerCounts,
    LoweredCounts, PurgeReport, RelatedRow, RosterIssue, RosterStats, roster_columns,
};
pub use secret::{Secret, check_strength};
pub use users::{LoginOutcome, NewUser, PasswordPolicy, SignIn, User, UserChange, check_password};

#[cfg(test)]
mod tests;
