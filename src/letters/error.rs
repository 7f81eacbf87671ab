//! Errors of the letters layer. Messages name templates, fields and files, never the
//! letter data (which is PHI).

use std::path::PathBuf;

use super::{Format, LetterKind};

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error(
        "template {file} uses field `{field}`, which the letter data lack; supply it or remove it from the template"
    )]
    MissingField { file: String, field: String },

    #[error("template {file} failed to render: {reason}; fix the template")]
    Render { file: String, reason: String },

    #[error("template {file} does not parse: {reason}; fix its handlebars syntax")]
    Parse { file: String, reason: String },

    #[error("there is no {format} template for {kind}; use one of the formats in the registry")]
    NoTemplate { kind: LetterKind, format: Format },

    #[error(
        "override directory holds {file}, which is not a known template name; rename it to one of: {expected}"
    )]
    UnknownOverride { file: String, expected: String },

    #[error("cannot read template override {path}: {source}; check the directory and permissions")]
    ReadOverride {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the template directory {path} does not exist; check the path")]
    NoDirectory { path: PathBuf },

    #[error("template {file} is not UTF-8 text (line {line}); save it as UTF-8")]
    NotUtf8 { file: String, line: usize },

    #[error(
        "template {file} is larger than {limit} bytes, the limit for one template; check that it is the right file"
    )]
    TooLarge { file: String, limit: u64 },

    #[error(
        "template {file} is a symbolic link to a file outside the template directory (or to something that is not a file); templates are read only from inside their directory: copy the file in"
    )]
    Symlink { file: String },

    #[error("template {file} nests blocks or sub-expressions more than {limit} deep; simplify it")]
    TooDeep { file: String, limit: usize },

    #[error("template {file}: {reason}")]
    Partial { file: String, reason: String },

    #[error(
        "{file} is not a valid headings map: {reason}; write it as TOML, e.g. A = [\"What happened\"] (elements A to E of 164.404(c)(1))"
    )]
    Headings { file: String, reason: String },

    #[error(
        "the organization has no {what}; 164.404(c)(1)(E) requires it in every notice: set it in the organization settings"
    )]
    MissingContact { what: &'static str },

    #[error("writing letter output failed: {0}; check the output path and free disk space")]
    Io(#[from] std::io::Error),

    #[error("writing CSV failed: {0}; check the output path and free disk space")]
    Csv(String),

    #[error("encoding JSON failed: {0}")]
    Json(String),
}

impl From<LetterError> for crate::error::Error {
    /// Template and data problems are invalid input (3); a missing template directory is
    /// "not found" (4); failing to read or write a file is an I/O error (8).
    fn from(e: LetterError) -> crate::error::Error {
        use crate::error::Error;
        match e {
            LetterError::NoDirectory { .. } => Error::NotFound(e.to_string()),
            LetterError::Io(source) => Error::io(
                "writing letter output failed (check the output path and free disk space)",
                source,
            ),
            LetterError::ReadOverride { path, source } => Error::io(
                format!("cannot read template override {}", path.display()),
                source,
            ),
            other => Error::invalid(other.to_string()),
        }
    }
}

impl LetterError {
    /// The same error again (for a failure that applies to many letters).
    pub fn duplicate(&self) -> LetterError {
        use LetterError::*;
        let io = |e: &std::io::Error| std::io::Error::new(e.kind(), e.to_string());
        match self {
            MissingField { file, field } => MissingField {
                file: file.clone(),
                field: field.clone(),
            },
            Render { file, reason } => Render {
                file: file.clone(),
                reason: reason.clone(),
            },
            Parse { file, reason } => Parse {
                file: file.clone(),
                reason: reason.clone(),
            },
            NoTemplate { kind, format } => NoTemplate {
                kind: *kind,
                format: *format,
            },
            UnknownOverride { file, expected } => UnknownOverride {
                file: file.clone(),
                expected: expected.clone(),
            },
            ReadOverride { path, source } => ReadOverride {
                path: path.clone(),
                source: io(source),
            },
            TooLarge { file, limit } => TooLarge {
                file: file.clone(),
                limit: *limit,
            },
            NotUtf8 { file, line } => NotUtf8 {
                file: file.clone(),
                line: *line,
            },
            Symlink { file } => Symlink { file: file.clone() },
            Headings { file, reason } => Headings {
                file: file.clone(),
                reason: reason.clone(),
            },
            NoDirectory { path } => NoDirectory { path: path.clone() },
            TooDeep { file, limit } => TooDeep {
                file: file.clone(),
                limit: *limit,
            },
            Partial { file, reason } => Partial {
                file: file.clone(),
                reason: reason.clone(),
            },
            MissingContact { what } => MissingContact { what },
            Io(e) => Io(io(e)),
            Csv(s) => Csv(s.clone()),
            Json(s) => Json(s.clone()),
        }
    }

    /// The recipient field a template needed and a recipient lacked (`recipient.name`):
    /// a problem of that roster row, not of the template.
    pub fn missing_recipient_field(&self) -> Option<&str> {
        match self {
            LetterError::MissingField { field, .. } if field.starts_with("recipient.") => {
                Some(field)
            }
            _ => None,
        }
    }
}
