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
