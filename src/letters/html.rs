//! The print-ready HTML document around a batch of letters: one letter per printed page,
//! `@page` margins, at least 10-point type (California requires 10-point), no external
//! assets, so a print-and-mail vendor or web team can take the file as-is.

use std::io::Write;

use handlebars::html_escape;

use super::context::EXERCISE_WATERMARK;
use super::error::LetterError;

const CSS: &str = "@page { size: letter; margin: 0.75in 0.75in 0.9in 0.75in; }
html { font-family: Georgia, 'Times New Roman', serif; font-size: 11pt; line-height: 1.4; color: #000; background: #fff; }
body { margin: 0; }
section.letter { break-after: page; page-break-after: always; }
section.letter:last-of-type { break-after: auto; page-break-after: auto; }
h1 { font-size: 16pt; margin: 0 0 0.6em 0; }
h2 { font-size: 12pt; margin: 1.1em 0 0.3em 0; break-after: avoid; page-break-after: avoid; }
p, li, td, th, address { font-size: 11pt; }
small, .small { font-size: 10pt; }
address { font-style: normal; margin: 0 0 1em 0; }
.sender { margin-bottom: 1.5em; }
.recipient { margin: 1em 0 1.5em 0; min-height: 1in; }
table.fields { border-collapse: collapse; width: 100%; }
table.fields th, table.fields td { border: 1px solid #444; padding: 3pt 5pt; text-align: left; vertical-align: top; }
.watermark { font-family: Arial, Helvetica, sans-serif; font-size: 14pt; font-weight: bold; text-align: center; border: 2pt solid #000; padding: 4pt; margin: 0 0 1em 0; }
.watermark-bottom { margin: 1em 0 0 0; }
.exercise-banner { position: fixed; top: 0; left: 0; right: 0; font-family: Arial, Helvetica, sans-serif; font-size: 12pt; font-weight: bold; text-align: center; background: #fff; border-bottom: 2pt solid #000; }
body.exercise { padding-top: 2em; }
";

/// Writes the head of a letters document: doctype, inline CSS and, for an exercise, a
/// fixed banner repeated on every printed page. Follow with letters from
/// [`super::Renderer::render_to`] and finish with [`write_html_foot`].
pub fn write_html_head<W: Write>(
    w: &mut W,
    title: &str,
    exercise: bool,
) -> Result<(), LetterError> {
    let body_class = if exercise { " class=\"exercise\"" } else { "" };
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body{body_class}>\n",
        html_escape(title)
    )?;
    if exercise {
        writeln!(
            w,
            "<div class=\"exercise-banner\">{EXERCISE_WATERMARK}</div>"
        )?;
    }
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
    pages: impl IntoIterator<Item = String>,
) -> Result<String, LetterError> {
    let mut out = Vec::new();
    write_html_head(&mut out, title, exercise)?;
    for p in pages {
        out.extend_from_slice(p.as_bytes());
    }
    write_html_foot(&mut out)?;
    String::from_utf8(out).map_err(|e| LetterError::Render {
        file: "html document".into(),
        reason: e.utf8_error().to_string(),
    })
}
