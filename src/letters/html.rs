//! The print-ready HTML document around a batch of letters, laid out as a mail house
//! prints them: US Letter, no external assets, at least 10-point type (California requires
//! 10-point), so a print-and-mail vendor or web team can take the file as-is.
//!
//! **One letter, one page** ([`Layout::Single`], the default): each letter is one US
//! Letter page. The sender's name and address sit where the return window of a #10
//! double-window envelope shows them and the recipient's block where its address window
//! does, when the page is folded in thirds (letter fold): the return block 0.55 in from the
//! top and left edges, 3.3 in wide and 0.8 in tall; the recipient block 2.05 in from the
//! top and 0.9 in from the left, 3.6 in wide and 1.0 in tall (four or five lines of 10-point
//! type). Nothing else prints in those areas. The date and title sit to the right of the
//! windows, so nothing above the fold shows through.
//!
//! **Duplex** ([`Layout::Duplex`]): when counsel's content does not fit one page, the part
//! of the letter the templates mark `<div class="back">` (by default: from "What You Can
//! Do." on) starts the back of the sheet; the manifest states two pages per letter.
//!
//! Exercise watermarks are bands in the top and bottom margins of every page, in space kept
//! free for them.

use std::io::Write;

use handlebars::html_escape;

use super::error::LetterError;

/// How letters are laid out on paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One US Letter page per letter.
    #[default]
    Single,
    /// Two pages (one sheet printed on both sides) per letter.
    Duplex,
}

impl Layout {
    /// Printed pages per letter.
    pub fn pages_per_letter(self) -> u32 {
        match self {
            Layout::Single => 1,
            Layout::Duplex => 2,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Layout::Single => "single",
            Layout::Duplex => "duplex",
        }
    }

    pub fn from_key(s: &str) -> Option<Layout> {
        match s.trim() {
            "single" => Some(Layout::Single),
            "duplex" => Some(Layout::Duplex),
            _ => None,
        }
    }
}

const CSS: &str = "@page { size: 8.5in 11in; margin: 0; }
html { font-family: 'Times New Roman', 'Liberation Serif', Times, serif; font-size: 10pt; line-height: 1.15; color: #000; background: #fff; }
body { margin: 0; }
section.letter { position: relative; box-sizing: border-box; width: 8.5in; min-height: 10.5in; padding: 0.55in 0.75in 0.4in 0.75in; break-after: page; page-break-after: always; break-inside: auto; }
section.letter:last-of-type { break-after: auto; page-break-after: auto; }
h1 { font-size: 14pt; margin: 0 0 0.35em 0; }
h2 { font-size: 11pt; margin: 0.5em 0 0.1em 0; break-after: avoid; page-break-after: avoid; }
p, li, td, th, address { font-size: 10pt; }
p { margin: 0 0 0.3em 0; }
ul { margin: 0 0 0.3em 0; padding-left: 1.2em; }
li { margin: 0 0 0.05em 0; }
ul.items { columns: 3; column-gap: 0.3in; }
small, .small { font-size: 10pt; }
address { font-style: normal; }
table.fields { border-collapse: collapse; width: 100%; }
table.fields th, table.fields td { border: 1px solid #444; padding: 3pt 5pt; text-align: left; vertical-align: top; }
/* #10 double-window envelope: the letterhead holds the two window blocks, and the body
   starts below the address window. */
header.letterhead { position: relative; height: 2.6in; margin: 0; }
header.letterhead .sender { position: absolute; top: 0; left: -0.2in; width: 3.3in; height: 0.8in; overflow: hidden; }
header.letterhead .recipient { position: absolute; top: 1.5in; left: 0.15in; width: 3.6in; height: 1.0in; overflow: hidden; line-height: 1.2; }
header.letterhead .date { position: absolute; top: 0; right: 0; width: 2.6in; text-align: right; }
header.letterhead h1 { position: absolute; top: 0.45in; right: 0; width: 2.6in; text-align: right; margin: 0; }
section.letter > .sender, section.letter > address.sender { margin: 0 0 0.6em 0; }
.closing { margin-top: 0.6em; }
.watermark { position: absolute; left: 0.75in; right: 0.75in; height: 0.3in; font-family: Arial, Helvetica, sans-serif; font-size: 11pt; font-weight: bold; text-align: center; line-height: 0.3in; border: 1.5pt solid #000; }
.watermark-top { top: 0.12in; }
.watermark-bottom { bottom: 0.05in; }
body.duplex section.letter .back { break-before: page; page-break-before: always; padding-top: 0.55in; }
body.duplex section.letter { min-height: 0; }
/* A State regulator notice's checklist for counsel: its own page, never part of the notice. */
.counsel-notes { break-before: page; page-break-before: always; padding-top: 0.2in; border-top: 2pt dashed #000; }
@media screen {
  body { background: #ddd; }
  section.letter { margin: 0.3in auto; background: #fff; box-shadow: 0 0 4px #888; }
}
";

/// The screen stylesheet of an e-mail's HTML part: no page geometry, no windows.
const EMAIL_CSS: &str = "body { font-family: Georgia, 'Times New Roman', serif; font-size: 11pt; line-height: 1.4; color: #000; background: #fff; margin: 0; }
section.letter { max-width: 40em; margin: 1em auto; padding: 0 1em; }
h1 { font-size: 16pt; } h2 { font-size: 12pt; margin: 1.1em 0 0.3em 0; }
address { font-style: normal; }
.watermark { border: 2pt solid #000; text-align: center; font-weight: bold; padding: 4pt; margin: 0.5em 0; font-family: Arial, Helvetica, sans-serif; }
";

/// Writes the head of a letters document: doctype and the print stylesheet for `layout`.
/// Follow with letters from [`super::Renderer::render_to`] and finish with
/// [`write_html_foot`].
pub fn write_html_head<W: Write>(
    w: &mut W,
    title: &str,
    exercise: bool,
    layout: Layout,
) -> Result<(), LetterError> {
    let mut classes = Vec::new();
    if exercise {
        classes.push("exercise");
    }
    if layout == Layout::Duplex {
        classes.push("duplex");
    }
    let body_class = if classes.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", classes.join(" "))
    };
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body{body_class}>\n",
        html_escape(title)
    )?;
    Ok(())
}

pub fn write_html_foot<W: Write>(w: &mut W) -> Result<(), LetterError> {
    w.write_all(b"</body>\n</html>\n")?;
    Ok(())
}

/// One HTML file holding many rendered letters (each a `<section class="letter">`).
pub fn html_document(
    title: &str,
    exercise: bool,
    layout: Layout,
    pages: impl IntoIterator<Item = String>,
) -> Result<String, LetterError> {
    let mut out = Vec::new();
    write_html_head(&mut out, title, exercise, layout)?;
    for p in pages {
        out.extend_from_slice(p.as_bytes());
    }
    write_html_foot(&mut out)?;
    String::from_utf8(out).map_err(|e| LetterError::Render {
        file: "html document".into(),
        reason: e.utf8_error().to_string(),
    })
}

/// The HTML part of an e-mail notice: one rendered letter in a small screen document.
pub fn email_html_document(title: &str, letter: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(letter.len() + 1024);
    out.extend_from_slice(
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{EMAIL_CSS}</style>\n</head>\n<body>\n",
            html_escape(title)
        )
        .as_bytes(),
    );
    out.extend_from_slice(letter);
    out.extend_from_slice(b"</body>\n</html>\n");
    out
}
