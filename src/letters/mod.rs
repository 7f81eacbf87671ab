//! Letters: renders every document a breach requires from handlebars templates.
//!
//! Templates live in `templates/`, are embedded in the binary (`include_str!`) and are
//! listed once in [`REGISTRY`]. Counsel may override any of them with a same-named file in
//! a directory ([`Renderer::with_override_dir`]); [`check_templates`] then proves that the
//! edited templates still carry every required element of 164.404(c)(1)(A)–(E).
//!
//! Invariants:
//! - strict mode: a field a template names but the data lack is an error naming the field,
//!   never a blank;
//! - text output is never HTML-escaped; HTML output always is;
//! - output is a pure function of template + data (no clock, no randomness), so a batch
//!   can be hashed and the hash recorded in the audit trail;
//! - the exercise watermark is added by the renderer, not the templates, so no template
//!   edit can remove it;
//! - errors name templates and fields, never recipient data.

mod check;
mod context;
mod error;
mod export;
mod html;
pub mod manifest;
pub mod partials;
mod render;
mod sample;
pub mod stencil;

#[cfg(test)]
mod tests;

pub use check::{CheckFinding, check_only, check_overrides, check_templates};
pub use context::{
    BaToCeContext, EXERCISE_WATERMARK, HhsWorksheet, IncidentContext, LeDelayContext,
    LetterContext, MediaContext, ORAL_DELAY_DAYS, OrgContext, RecipientContext, ReportType,
    SUBSTITUTE_DAYS, SubstituteContext, default_steps, fmt_date,
};
pub use error::LetterError;
pub use export::{
    AnnualLogRecord, annual_log_json, hhs_worksheet_json, mail_merge_csv, neutralize_formula,
    write_annual_log_csv,
};
pub use html::{html_document, write_html_foot, write_html_head};
pub use render::{Renderer, read_template_dir};
pub use sample::sample_context;

use serde::Serialize;

/// A kind of document. The snake_case key is used in file names and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterKind {
    /// 164.404: letter to each affected individual.
    Individual,
    /// 164.404(d)(1)(ii): letter to the next of kin or personal representative.
    NextOfKin,
    /// 164.404(d)(2)(ii)(A): conspicuous web posting for 90 days.
    SubstituteWeb,
    /// 164.404(d)(2)(ii)(A): notice in major print or broadcast media.
    SubstituteMedia,
    /// 164.406: notice to prominent media outlets serving a State.
    Media,
    /// 164.408: worksheet for the HHS breach portal.
    HhsNotice,
    /// 164.410: business associate to covered entity.
    BaToCe,
    /// 164.412: memo documenting a law-enforcement delay.
    LeDelayMemo,
}

impl LetterKind {
    pub const ALL: &'static [LetterKind] = &[
        LetterKind::Individual,
        LetterKind::NextOfKin,
        LetterKind::SubstituteWeb,
        LetterKind::SubstituteMedia,
        LetterKind::Media,
        LetterKind::HhsNotice,
        LetterKind::BaToCe,
        LetterKind::LeDelayMemo,
    ];

    pub fn key(self) -> &'static str {
        match self {
            LetterKind::Individual => "individual",
            LetterKind::NextOfKin => "next_of_kin",
            LetterKind::SubstituteWeb => "substitute_web",
            LetterKind::SubstituteMedia => "substitute_media",
            LetterKind::Media => "media",
            LetterKind::HhsNotice => "hhs_notice",
            LetterKind::BaToCe => "ba_to_ce",
            LetterKind::LeDelayMemo => "le_delay_memo",
        }
    }

    pub fn from_key(s: &str) -> Option<LetterKind> {
        let s = s.trim().replace('-', "_");
        LetterKind::ALL
            .iter()
            .copied()
            .find(|k| k.key().eq_ignore_ascii_case(&s))
    }

    /// Kinds that use the California layout and must carry elements (A)–(E).
    pub fn is_notice_to_individuals(self) -> bool {
        matches!(
            self,
            LetterKind::Individual
                | LetterKind::NextOfKin
                | LetterKind::SubstituteWeb
                | LetterKind::SubstituteMedia
                | LetterKind::Media
        )
    }
}

impl std::fmt::Display for LetterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Plain text, never escaped.
    Text,
    /// A print-ready `<section class="letter">`, escaped; wrap with [`html_document`].
    Html,
}

impl Format {
    pub fn key(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Html => "html",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// One template: which kind and format it renders, its file name in `templates/` (and in
/// an override directory), and its embedded text.
#[derive(Debug, Clone, Copy)]
pub struct TemplateEntry {
    pub kind: LetterKind,
    pub format: Format,
    pub file: &'static str,
    pub source: &'static str,
}

macro_rules! entry {
    ($kind:ident, $format:ident, $file:literal) => {
        TemplateEntry {
            kind: LetterKind::$kind,
            format: Format::$format,
            file: $file,
            source: include_str!(concat!("../../templates/", $file)),
        }
    };
}

/// The one table of templates. A file in `templates/` that is not listed here fails a test.
pub const REGISTRY: &[TemplateEntry] = &[
    entry!(Individual, Text, "individual.txt.hbs"),
    entry!(Individual, Html, "individual.html.hbs"),
    entry!(NextOfKin, Text, "next_of_kin.txt.hbs"),
    entry!(NextOfKin, Html, "next_of_kin.html.hbs"),
    entry!(SubstituteWeb, Text, "substitute_web.txt.hbs"),
    entry!(SubstituteWeb, Html, "substitute_web.html.hbs"),
    entry!(SubstituteMedia, Text, "substitute_media.txt.hbs"),
    entry!(SubstituteMedia, Html, "substitute_media.html.hbs"),
    entry!(Media, Text, "media.txt.hbs"),
    entry!(Media, Html, "media.html.hbs"),
    entry!(HhsNotice, Text, "hhs_notice.txt.hbs"),
    entry!(BaToCe, Text, "ba_to_ce.txt.hbs"),
    entry!(BaToCe, Html, "ba_to_ce.html.hbs"),
    entry!(LeDelayMemo, Text, "le_delay_memo.txt.hbs"),
    entry!(LeDelayMemo, Html, "le_delay_memo.html.hbs"),
];

/// The registry entry for a kind and format, if that combination exists.
pub fn entry(kind: LetterKind, format: Format) -> Option<&'static TemplateEntry> {
    REGISTRY
        .iter()
        .find(|e| e.kind == kind && e.format == format)
}
