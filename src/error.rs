//! One error type for the command layer, and the documented exit-code table.
//!
//! Messages start lowercase, say what was wrong and what to do, and never contain PHI:
//! they name fields, lines and accepted values, never the values of roster or narrative
//! fields.

use std::path::PathBuf;

/// Exit codes (README "Exit codes" mirrors this table).
pub mod exit {
    pub const OK: i32 = 0;
    /// Unexpected failure (I/O, storage).
    pub const FAILURE: i32 = 1;
    /// Command-line usage error (clap).
    pub const USAGE: i32 = 2;
    /// Invalid input: a fact, file, date or value failed validation. Nothing was written.
    pub const INVALID_INPUT: i32 = 3;
    /// The named incident (or other record) does not exist.
    pub const NOT_FOUND: i32 = 4;
    /// The database is held by another breachdesk process.
    pub const LOCKED: i32 = 5;
    /// The database is missing, not initialised, or newer than this binary.
    pub const DATABASE: i32 = 6;
    /// The passphrase or key is missing or wrong.
    pub const KEY: i32 = 7;
    /// A file could not be read or written: permissions, a device error, a full disk.
    /// Nothing was changed.
    pub const IO: i32 = 8;
    /// `audit verify`: a stored record no longer matches its latest audit entry.
    pub const AUDIT_EDITED_RECORD: i32 = 10;
    /// `audit verify`: an audit entry was altered.
    pub const AUDIT_EDITED_ENTRY: i32 = 11;
    /// `audit verify`: an audit entry is missing from the chain.
    pub const AUDIT_MISSING_ENTRY: i32 = 12;
    /// `audit verify`: audit entries are out of order.
    pub const AUDIT_REORDERED: i32 = 13;
    /// `audit verify`: a stored record has no audit entry.
    pub const AUDIT_ORPHAN_RECORD: i32 = 14;
    /// `audit verify --against`: the chain ends before the checkpoint (truncated or rolled back).
    pub const AUDIT_TRUNCATED: i32 = 15;
    /// `audit verify --against`: the chain differs from the checkpoint (forked history).
    pub const AUDIT_FORKED: i32 = 16;
    /// `audit verify --against`: the checkpoint's signature is invalid or the file is malformed.
    pub const AUDIT_BAD_CHECKPOINT: i32 = 17;
    /// `audit verify`: an entry's time goes backwards (beyond the tolerance) from an earlier one.
    pub const AUDIT_CLOCK_BACKWARDS: i32 = 18;
    /// `audit verify --against`: the signing key was replaced since the checkpoint was made.
    pub const AUDIT_KEY_REPLACED: i32 = 19;
    /// `deadlines --fail-on-overdue`: some obligation is overdue.
    pub const OVERDUE: i32 = 20;
    /// The incident changed since it was read (another person, another process): nothing
    /// was written.
    pub const CONFLICT: i32 = 9;
    /// The write reached the file but the disk did not confirm it: the change may or may not
    /// have been saved. Check before retrying.
    pub const UNCERTAIN: i32 = 21;
    /// Standard output was closed early (`| head`).
    pub const OUTPUT_CLOSED: i32 = 141;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(
        "the database {path} is in use by another breachdesk process; wait for it to finish and try again"
    )]
    Locked { path: PathBuf },
    #[error(
        "the database {path} is held by `breachdesk serve` ({by}); use the web app there, or stop the server before running commands on this file"
    )]
    Served { path: PathBuf, by: String },
    #[error("{0}")]
    Database(String),
    #[error("{0}")]
    Key(String),
    #[error("{message}")]
    Audit { code: i32, message: String },
    #[error("{0}")]
    Overdue(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("storage error: {0}")]
    Storage(String),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "the outcome is uncertain: the change was written to the database file but the disk did not confirm it ({cause}), so it may or may not have been saved. \
         Check before retrying: `breachdesk audit log` lists entry {seq} ({action} on {subject}) if it was saved, and `breachdesk audit verify` checks the file. \
         Retrying `notice record` with the same details never counts a notice twice"
    )]
    Uncertain {
        seq: u64,
        action: String,
        subject: String,
        cause: String,
    },
    /// Standard output could not be written (closed early, or full).
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) => exit::INVALID_INPUT,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Locked { .. } | Error::Served { .. } => exit::LOCKED,
            Error::Database(_) => exit::DATABASE,
            Error::Key(_) => exit::KEY,
            Error::Audit { code, .. } => *code,
            Error::Overdue(_) => exit::OVERDUE,
            Error::Io { .. } => exit::IO,
            Error::Storage(_) => exit::FAILURE,
            Error::Conflict(_) => exit::CONFLICT,
            Error::Uncertain { .. } => exit::UNCERTAIN,
            Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OUTPUT_CLOSED,
            Error::Output(_) => exit::FAILURE,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Error {
        Error::Invalid(msg.into())
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<redb::TransactionError> for Error {
    fn from(e: redb::TransactionError) -> Error {
        match e {
            redb::TransactionError::Storage(s) => s.into(),
            other => Error::Storage(other.to_string()),
        }
    }
}

impl From<redb::TableError> for Error {
    fn from(e: redb::TableError) -> Error {
        match e {
            redb::TableError::Storage(s) => s.into(),
            other => Error::Storage(other.to_string()),
        }
    }
}

impl From<redb::CommitError> for Error {
    fn from(e: redb::CommitError) -> Error {
        match e {
            redb::CommitError::Storage(s) => s.into(),
            other => Error::Storage(other.to_string()),
        }
    }
}

impl From<redb::StorageError> for Error {
    /// A failed read or write of the database file is an I/O error (exit 8), not damage.
    fn from(e: redb::StorageError) -> Error {
        match e {
            redb::StorageError::Io(source) => {
                Error::io("cannot read or write the database", source)
            }
            other => Error::Storage(other.to_string()),
        }
    }
}

impl From<redb::DatabaseError> for Error {
    fn from(e: redb::DatabaseError) -> Error {
        match e {
            redb::DatabaseError::Storage(s) => s.into(),
            other => Error::Database(format!("cannot open the database: {other}")),
        }
    }
}
