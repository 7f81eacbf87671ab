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
mod recipient_use;
mod render;
pub mod sample;
pub mod stencil;

#[cfg(test)]
mod tests;

pub use check::{
    CheckFinding, DEFAULT_HEADINGS, ELEMENTS, HeadingMap, check_only, check_overrides,
    check_templates, visible, visible_lines,
};
pub use context::Addressee;
pub use context::{
    BaContext, BaToCeContext, Contact, CreditContext, DoingContext, EXERCISE_WATERMARK,
    HhsWorksheet, IncidentContext, LeDelayContext, LetterContext, MediaContext, ORAL_DELAY_DAYS,
    OrgContext, Party, RecipientContext, RegulatorContext, ReportType, SUBSTITUTE_DAYS, StateCount,
    SubstituteContext, iso_date, long_date, opt_date, text,
};
pub use error::LetterError;
pub use export::{
    AnnualLogRecord, EMAIL_LIST_HEADER, MAIL_MERGE_HEADER, annual_log_json, email_list_row,
    hhs_worksheet_json, mail_merge_csv, mail_merge_row, neutralize_formula, vendor_zip,
    write_annual_log_csv,
};
pub use html::{Layout, email_html_document, html_document, write_html_foot, write_html_head};
pub use render::{Renderer, Sources, read_template_dir};
pub use sample::{sample_context, sample_recipient, sample_recipients, sparse_context};

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
    /// A State breach law: notice to a State regulator (Attorney General, department of
    /// health, State police), with the sample copy of the notice a State asks for.
    StateRegulator,
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
        LetterKind::StateRegulator,
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
            LetterKind::StateRegulator => "state_regulator",
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
    entry!(StateRegulator, Text, "state_regulator.txt.hbs"),
    entry!(StateRegulator, Html, "state_regulator.html.hbs"),
];

/// A partial: wording shared by templates (`{{> name}}`), in its own file so counsel can
/// override it like a template. Files are named `_NAME.hbs` for a *phrase* (used inside a
/// line, in text and HTML alike; the file's final newline is not part of it) and
/// `_NAME.txt.hbs` / `_NAME.html.hbs` for a *block* of one format (used on a line of its
/// own; kept as written).
#[derive(Debug, Clone, Copy)]
pub struct PartialEntry {
    /// The name templates use: `{{> steps}}`.
    pub name: &'static str,
    /// `None`: a phrase, registered for both formats.
    pub format: Option<Format>,
    pub file: &'static str,
    pub source: &'static str,
}

impl PartialEntry {
    /// The partial's text as registered: a phrase loses its file's final newline.
    pub fn text(&self, source: &str) -> String {
        match self.format {
            None => source
                .strip_suffix("\r\n")
                .or_else(|| source.strip_suffix('\n'))
                .unwrap_or(source)
                .to_string(),
            Some(_) => source.to_string(),
        }
    }

    pub fn in_format(&self, f: Format) -> bool {
        self.format.is_none_or(|x| x == f)
    }
}

macro_rules! partial {
    ($name:literal, $format:expr, $file:literal) => {
        PartialEntry {
            name: $name,
            format: $format,
            file: $file,
            source: include_str!(concat!("../../templates/", $file)),
        }
    };
}

/// Every partial. A `_*.hbs` file in `templates/` that is not listed here fails a test.
pub const PARTIALS: &[PartialEntry] = &[
    partial!(
        "address_block",
        Some(Format::Html),
        "_address_block.html.hbs"
    ),
    partial!(
        "address_block",
        Some(Format::Text),
        "_address_block.txt.hbs"
    ),
    partial!("breach_dates", None, "_breach_dates.hbs"),
    partial!("business_associate", None, "_business_associate.hbs"),
    partial!("contact_methods", None, "_contact_methods.hbs"),
    partial!("credit_offer", None, "_credit_offer.hbs"),
    partial!("credit_offer_public", None, "_credit_offer_public.hbs"),
    partial!("discovered_date", None, "_discovered_date.hbs"),
    partial!("email_subject", None, "_email_subject.hbs"),
    partial!("incident_kind", None, "_incident_kind.hbs"),
    partial!("location", None, "_location.hbs"),
    partial!(
        "more_information",
        Some(Format::Html),
        "_more_information.html.hbs"
    ),
    partial!(
        "more_information",
        Some(Format::Text),
        "_more_information.txt.hbs"
    ),
    partial!("salutation_name", None, "_salutation_name.hbs"),
    partial!("signature", Some(Format::Html), "_signature.html.hbs"),
    partial!("signature", Some(Format::Text), "_signature.txt.hbs"),
    partial!("steps", Some(Format::Html), "_steps.html.hbs"),
    partial!("steps", Some(Format::Text), "_steps.txt.hbs"),
    partial!(
        "steps_next_of_kin",
        Some(Format::Html),
        "_steps_next_of_kin.html.hbs"
    ),
    partial!(
        "steps_next_of_kin",
        Some(Format::Text),
        "_steps_next_of_kin.txt.hbs"
    ),
    partial!("steps_public", Some(Format::Html), "_steps_public.html.hbs"),
    partial!("steps_public", Some(Format::Text), "_steps_public.txt.hbs"),
    partial!("unknown", None, "_unknown.hbs"),
    partial!(
        "what_happened",
        Some(Format::Html),
        "_what_happened.html.hbs"
    ),
    partial!(
        "what_happened",
        Some(Format::Text),
        "_what_happened.txt.hbs"
    ),
    partial!("what_happened_default", None, "_what_happened_default.hbs"),
    partial!(
        "what_we_are_doing",
        Some(Format::Html),
        "_what_we_are_doing.html.hbs"
    ),
    partial!(
        "what_we_are_doing",
        Some(Format::Text),
        "_what_we_are_doing.txt.hbs"
    ),
];

/// Counsel's mapping of section headings to the elements of 164.404(c)(1), read by
/// `letters check` from a template directory or stored set (see `check::HeadingMap`).
pub const HEADINGS_FILE: &str = "headings.toml";

/// Whether `name` is a file a template directory may hold: a template, a partial or the
/// headings map.
pub fn is_known_file(name: &str) -> bool {
    name == HEADINGS_FILE
        || REGISTRY.iter().any(|e| e.file == name)
        || PARTIALS.iter().any(|p| p.file == name)
}

/// Every file name a template directory may hold, for error messages.
pub fn known_files() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = REGISTRY.iter().map(|e| e.file).collect();
    v.extend(PARTIALS.iter().map(|p| p.file));
    v.push(HEADINGS_FILE);
    v
}

/// The registry entry for a kind and format, if that combination exists.
pub fn entry(kind: LetterKind, format: Format) -> Option<&'static TemplateEntry> {
    REGISTRY
        .iter()
        .find(|e| e.kind == kind && e.format == format)
}
