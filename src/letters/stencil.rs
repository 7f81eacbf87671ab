//! A compiled "stencil" for bulk letters: the template partially evaluated against the
//! fixed organization and incident context, leaving slots for the recipient's fields.
//!
//! In a batch of a million letters only `recipient.*` changes from letter to letter, so
//! rendering the template a million times repeats the same work. The stencil is built by
//! rendering the template with sentinel values (private-use characters, which neither
//! escaping nor templates alter) in the recipient's fields, then splitting the output at
//! the sentinels. The address lines, a list of varying length, are found by rendering with
//! none, one and two lines.
//!
//! Correctness first: [`Stencil::build`] refuses a template whose output does not split
//! cleanly (a recipient field transformed by a helper, a condition on recipient data), and
//! the caller must [`Stencil::verify`] it against the real renderer on real recipients
//! before use; any difference means the full renderer is used for the whole batch.

use std::io::Write;

use handlebars::html_escape;

use super::context::{LetterContext, RecipientContext};
use super::error::LetterError;
use super::render::Renderer;
use super::{Format, LetterKind};

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Id,
    Name,
    City,
    State,
    Zip,
    Email,
    Deceased,
    /// The address lines, joined by the separator the template puts between them.
    Lines,
}

const SLOTS: &[(char, Slot)] = &[
    ('a', Slot::Id),
    ('b', Slot::Name),
    ('c', Slot::City),
    ('d', Slot::State),
    ('e', Slot::Zip),
    ('f', Slot::Email),
    ('g', Slot::Deceased),
    ('p', Slot::Lines),
];

fn sentinel(code: char) -> String {
    format!("{OPEN}{code}{CLOSE}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Slot(Slot),
}

/// A compiled letter: literal text and recipient slots.
#[derive(Debug, Clone)]
pub struct Stencil {
    /// For recipients with at least one address line.
    with_lines: Vec<Part>,
    /// For recipients with none.
    no_lines: Vec<Part>,
    /// What the template writes between two address lines.
    sep: String,
    html: bool,
}

fn probe(deceased: bool, lines: &[&str]) -> RecipientContext {
    RecipientContext {
        id: sentinel('a'),
        name: sentinel('b'),
        address_lines: lines.iter().map(|s| s.to_string()).collect(),
        city: sentinel('c'),
        state: sentinel('d'),
        zip: sentinel('e'),
        email: sentinel('f'),
        deceased_name: deceased.then(|| sentinel('g')),
    }
}

/// Splits rendered output at sentinels; `None` when a sentinel is malformed or unknown.
fn split(out: &str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = out;
    while let Some(i) = rest.find(OPEN) {
        if i > 0 {
            parts.push(Part::Lit(rest[..i].to_string()));
        }
        let after = &rest[i + OPEN.len_utf8()..];
        let mut chars = after.chars();
        let code = chars.next()?;
        if chars.next()? != CLOSE {
            return None;
        }
        let slot = SLOTS.iter().find(|(c, _)| *c == code)?.1;
        parts.push(Part::Slot(slot));
        rest = &after[code.len_utf8() + CLOSE.len_utf8()..];
    }
    if rest.contains(CLOSE) {
        return None;
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    Some(parts)
}

impl Stencil {
    /// Compiles the template of `kind`/`format` against `base` (everything but the
    /// recipient). `deceased` says whether recipients carry a deceased person's name (next of
    /// kin letters), since a template may test for it. `None` when the template cannot be
    /// compiled this way; use the renderer.
    pub fn build(
        renderer: &Renderer,
        kind: LetterKind,
        format: Format,
        base: &LetterContext,
        deceased: bool,
    ) -> Result<Option<Stencil>, LetterError> {
        let mut ctx = base.clone();
        let mut render = |lines: &[&str]| -> Result<String, LetterError> {
            ctx.recipient = Some(probe(deceased, lines));
            renderer.render(kind, format, &ctx)
        };
        let p = sentinel('p');
        let q = sentinel('q');
        let one = render(&[&p])?;
        let two = render(&[&p, &q])?;
        let none = render(&[])?;
        // The separator between lines: what stands between the two line sentinels.
        let (Some(pi), Some(qi)) = (two.find(&p), two.find(&q)) else {
            return Ok(None);
        };
        if qi < pi + p.len() {
            return Ok(None);
        }
        let sep = two[pi + p.len()..qi].to_string();
        if one.replacen(&p, &format!("{p}{sep}{q}"), 1) != two || one.matches(&p).count() != 1 {
            return Ok(None);
        }
        let (Some(with_lines), Some(no_lines)) = (split(&one), split(&none)) else {
            return Ok(None);
        };
        if no_lines.contains(&Part::Slot(Slot::Lines)) || sep.contains(OPEN) {
            return Ok(None);
        }
        Ok(Some(Stencil {
            with_lines,
            no_lines,
            sep,
            html: format == Format::Html,
        }))
    }

    fn put(&self, w: &mut impl Write, s: &str) -> std::io::Result<()> {
        if self.html {
            w.write_all(html_escape(s).as_bytes())
        } else {
            w.write_all(s.as_bytes())
        }
    }

    /// Writes one letter for `r`.
    pub fn render_to(&self, r: &RecipientContext, w: &mut impl Write) -> std::io::Result<()> {
        let parts = if r.address_lines.is_empty() {
            &self.no_lines
        } else {
            &self.with_lines
        };
        for part in parts {
            match part {
                Part::Lit(s) => w.write_all(s.as_bytes())?,
                Part::Slot(slot) => match slot {
                    Slot::Id => self.put(w, &r.id)?,
                    Slot::Name => self.put(w, &r.name)?,
                    Slot::City => self.put(w, &r.city)?,
                    Slot::State => self.put(w, &r.state)?,
                    Slot::Zip => self.put(w, &r.zip)?,
                    Slot::Email => self.put(w, &r.email)?,
                    Slot::Deceased => self.put(w, r.deceased_name.as_deref().unwrap_or(""))?,
                    Slot::Lines => {
                        for (i, l) in r.address_lines.iter().enumerate() {
                            if i > 0 {
                                w.write_all(self.sep.as_bytes())?;
                            }
                            self.put(w, l)?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    /// True when the stencil writes exactly what the renderer writes for every one of
    /// `recipients`. Callers verify on real recipients before trusting the stencil.
    pub fn verify<'a>(
        &self,
        renderer: &Renderer,
        kind: LetterKind,
        format: Format,
        base: &LetterContext,
        recipients: impl IntoIterator<Item = &'a RecipientContext>,
    ) -> bool {
        let mut ctx = base.clone();
        let mut a = Vec::new();
        let mut b = Vec::new();
        for r in recipients {
            a.clear();
            b.clear();
            ctx.recipient = Some(r.clone());
            if renderer.render_to(kind, format, &ctx, &mut a).is_err()
                || self.render_to(r, &mut b).is_err()
                || a != b
            {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letters::sample_context;

    fn recipients() -> Vec<RecipientContext> {
        let mut v = Vec::new();
        for (i, lines) in [
            vec![],
            vec!["1 Main St"],
            vec!["1 Main St", "Apt 2"],
            vec!["a", "b", "c"],
        ]
        .into_iter()
        .enumerate()
        {
            v.push(RecipientContext {
                id: format!("P{i}"),
                name: format!("Seán O'Brien <script>&\"{i}\""),
                address_lines: lines.into_iter().map(String::from).collect(),
                city: "Lake & Town".into(),
                state: "CA".into(),
                zip: "90000".into(),
                email: "x@example.org".into(),
                deceased_name: None,
            });
        }
        v
    }

    #[test]
    fn stencil_matches_the_renderer_for_every_letter_kind_and_format() {
        let r = Renderer::new().expect("templates");
        for (kind, deceased) in [
            (LetterKind::Individual, false),
            (LetterKind::NextOfKin, true),
        ] {
            for format in [Format::Text, Format::Html] {
                for exercise in [false, true] {
                    let base = sample_context(exercise);
                    let st = Stencil::build(&r, kind, format, &base, deceased)
                        .expect("renders")
                        .expect("the shipped templates compile");
                    let mut rs = recipients();
                    if deceased {
                        for x in &mut rs {
                            x.deceased_name = Some("Ana <Ruiz>".into());
                        }
                    }
                    assert!(
                        st.verify(&r, kind, format, &base, rs.iter()),
                        "{kind} {format}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_template_that_transforms_a_recipient_field_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = crate::letters::entry(LetterKind::Individual, Format::Text)
            .expect("registered")
            .source
            .replace(
                "Dear {{recipient.name}}:",
                "{{#if recipient.email}}Dear friend:{{/if}}",
            );
        std::fs::write(dir.path().join("individual.txt.hbs"), src).expect("write");
        let r = Renderer::with_override_dir(dir.path()).expect("templates");
        let base = sample_context(false);
        let st = Stencil::build(&r, LetterKind::Individual, Format::Text, &base, false)
            .expect("renders");
        // It compiles (the condition is true for the probe) but verification catches a
        // recipient without e-mail.
        let mut rs = recipients();
        rs[0].email.clear();
        if let Some(st) = st {
            assert!(!st.verify(&r, LetterKind::Individual, Format::Text, &base, rs.iter()));
        }
    }
}
