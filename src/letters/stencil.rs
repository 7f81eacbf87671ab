//! A compiled "stencil" for bulk letters: the template partially evaluated against the
//! fixed organization and incident context, leaving slots for the recipient's fields.
//!
//! In a batch of a million letters only `recipient.*` changes from letter to letter, so
//! rendering the template a million times repeats the same work. The stencil is built by
//! rendering the template with sentinel values (private-use characters, which neither
//! escaping nor templates alter) in the recipient's fields, then splitting the output at
//! the sentinels. The address lines, a list of varying length, are found by rendering with
//! one and two lines.
//!
//! A template may test recipient data (`{{#if recipient.minor_name}}`: a minor's letter is
//! written to the parent), so one stencil is built per *shape*: which recipient fields are
//! present ([`RecipientContext::shape`]). Empty fields are absent from the data, so the
//! shape decides every `#if`/`#unless` on recipient data.
//!
//! Correctness first, in three layers:
//! - `recipient_use::recipient_use_is_plain` reads every template and partial: recipient data may appear
//!   only as a plain `{{recipient.x}}`, the single parameter of `#if`/`#unless`, or the
//!   address lines' `#each` printing `{{this}}`. Anything else (a helper applied to it, a
//!   comparison, `#with`, a partial given recipient data, `{{{raw}}}` in HTML) makes the
//!   whole format render through handlebars;
//! - [`Stencil::build`] refuses output that does not split cleanly;
//! - a [`Stencils`] cache verifies each shape's stencil against the renderer on the first
//!   recipient of that shape it meets, and renders that shape through handlebars when they
//!   differ.

use std::collections::HashMap;
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
    Minor,
    Code,
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
    ('h', Slot::Minor),
    ('i', Slot::Code),
    ('p', Slot::Lines),
];

fn sentinel(code: char) -> String {
    format!("{OPEN}{code}{CLOSE}")
}

/// Bits of [`RecipientContext::shape`].
const SHAPE_ID: u16 = 1;
const SHAPE_NAME: u16 = 1 << 1;
const SHAPE_LINES: u16 = 1 << 2;
const SHAPE_CITY: u16 = 1 << 3;
const SHAPE_STATE: u16 = 1 << 4;
const SHAPE_ZIP: u16 = 1 << 5;
const SHAPE_EMAIL: u16 = 1 << 6;
const SHAPE_DECEASED: u16 = 1 << 7;
const SHAPE_MINOR: u16 = 1 << 8;
const SHAPE_CODE: u16 = 1 << 9;

impl RecipientContext {
    /// Which fields are present: what every `#if`/`#unless` on recipient data sees.
    pub fn shape(&self) -> u16 {
        let mut s = 0;
        let mut set = |bit: u16, present: bool| {
            if present {
                s |= bit;
            }
        };
        set(SHAPE_ID, !self.id.is_empty());
        set(SHAPE_NAME, !self.name.is_empty());
        set(SHAPE_LINES, !self.address_lines.is_empty());
        set(SHAPE_CITY, !self.city.is_empty());
        set(SHAPE_STATE, !self.state.is_empty());
        set(SHAPE_ZIP, !self.zip.is_empty());
        set(SHAPE_EMAIL, !self.email.is_empty());
        set(SHAPE_DECEASED, self.deceased_name.is_some());
        set(SHAPE_MINOR, self.minor_name.is_some());
        set(SHAPE_CODE, self.credit_code.is_some());
        s
    }
}

/// A recipient of the given shape whose present fields are sentinels.
fn probe(shape: u16, lines: &[&str]) -> RecipientContext {
    let f = |bit: u16, code: char| {
        if shape & bit != 0 {
            sentinel(code)
        } else {
            String::new()
        }
    };
    let o = |bit: u16, code: char| (shape & bit != 0).then(|| sentinel(code));
    RecipientContext {
        id: f(SHAPE_ID, 'a'),
        name: f(SHAPE_NAME, 'b'),
        address_lines: if shape & SHAPE_LINES != 0 {
            lines.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
        city: f(SHAPE_CITY, 'c'),
        state: f(SHAPE_STATE, 'd'),
        zip: f(SHAPE_ZIP, 'e'),
        email: f(SHAPE_EMAIL, 'f'),
        deceased_name: o(SHAPE_DECEASED, 'g'),
        minor_name: o(SHAPE_MINOR, 'h'),
        credit_code: o(SHAPE_CODE, 'i'),
        first_name: String::new(),
        last_name: String::new(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Slot(Slot),
}

/// A compiled letter for recipients of one shape: literal text and recipient slots.
#[derive(Debug, Clone)]
pub struct Stencil {
    parts: Vec<Part>,
    /// What the template writes between two address lines.
    sep: String,
    html: bool,
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
    /// recipient) for recipients of `shape`. `Ok(None)` when the output cannot be
    /// compiled this way (use the renderer); `Err` when the template cannot render for
    /// this shape at all (e.g. it prints a recipient field this shape lacks).
    pub fn build(
        renderer: &Renderer,
        kind: LetterKind,
        format: Format,
        base: &LetterContext,
        shape: u16,
    ) -> Result<Option<Stencil>, LetterError> {
        let mut ctx = base.clone();
        let mut render = |lines: &[&str]| -> Result<String, LetterError> {
            ctx.recipient = Some(probe(shape, lines));
            renderer.render(kind, format, &ctx)
        };
        let p = sentinel('p');
        let q = sentinel('q');
        let one = render(&[&p])?;
        let mut sep = String::new();
        if shape & SHAPE_LINES != 0 {
            let two = render(&[&p, &q])?;
            // The separator between lines: what stands between the two line sentinels.
            let (Some(pi), Some(qi)) = (two.find(&p), two.find(&q)) else {
                // The template does not print the address lines: nothing varies with them.
                if one != two {
                    return Ok(None);
                }
                return Ok(split(&one).map(|parts| Stencil {
                    parts,
                    sep,
                    html: format == Format::Html,
                }));
            };
            if qi < pi + p.len() {
                return Ok(None);
            }
            sep = two[pi + p.len()..qi].to_string();
            if one.replacen(&p, &format!("{p}{sep}{q}"), 1) != two
                || one.matches(&p).count() != 1
                || sep.contains(OPEN)
            {
                return Ok(None);
            }
        }
        Ok(split(&one).map(|parts| Stencil {
            parts,
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

    /// Writes one letter for `r`, a recipient of the stencil's shape.
    pub fn render_to(&self, r: &RecipientContext, w: &mut impl Write) -> std::io::Result<()> {
        let opt = |o: &Option<String>| o.as_deref().unwrap_or("").to_string();
        for part in &self.parts {
            match part {
                Part::Lit(s) => w.write_all(s.as_bytes())?,
                Part::Slot(slot) => match slot {
                    Slot::Id => self.put(w, &r.id)?,
                    Slot::Name => self.put(w, &r.name)?,
                    Slot::City => self.put(w, &r.city)?,
                    Slot::State => self.put(w, &r.state)?,
                    Slot::Zip => self.put(w, &r.zip)?,
                    Slot::Email => self.put(w, &r.email)?,
                    Slot::Deceased => self.put(w, &opt(&r.deceased_name))?,
                    Slot::Minor => self.put(w, &opt(&r.minor_name))?,
                    Slot::Code => self.put(w, &opt(&r.credit_code))?,
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
}

/// What one shape renders with.
enum Way {
    /// The stencil, not yet checked against the renderer.
    Unverified(Stencil),
    Stencil(Stencil),
    Renderer,
    /// The template cannot render letters of this shape.
    Fails(LetterError),
}

/// The letters of one batch (a kind, a format, the fixed context), rendered through a
/// stencil per recipient shape where that is exact and through handlebars otherwise. Make
/// one per shard: each shape's stencil is checked against the renderer on the first
/// recipient of that shape.
pub struct Stencils<'a> {
    renderer: &'a Renderer,
    kind: LetterKind,
    format: Format,
    base: LetterContext,
    safe: bool,
    ways: HashMap<u16, Way>,
    /// Reused for letters rendered through handlebars.
    ctx: LetterContext,
    a: Vec<u8>,
    b: Vec<u8>,
}

impl<'a> Stencils<'a> {
    pub fn new(
        renderer: &'a Renderer,
        kind: LetterKind,
        format: Format,
        base: &LetterContext,
    ) -> Stencils<'a> {
        Stencils {
            renderer,
            kind,
            format,
            base: base.clone(),
            safe: renderer.stencil_safe(format),
            ways: HashMap::new(),
            ctx: base.clone(),
            a: Vec::new(),
            b: Vec::new(),
        }
    }

    /// How many recipient shapes used a verified stencil (for tests).
    pub fn stencil_shapes(&self) -> usize {
        self.ways
            .values()
            .filter(|w| matches!(w, Way::Stencil(_)))
            .count()
    }

    /// Writes `r`'s letter. An error is about this recipient (a field the template prints
    /// that the recipient lacks) or about writing.
    pub fn render_to(
        &mut self,
        r: &RecipientContext,
        w: &mut impl Write,
    ) -> Result<(), LetterError> {
        let shape = r.shape();
        if !self.ways.contains_key(&shape) {
            let way = if !self.safe {
                Way::Renderer
            } else {
                match Stencil::build(self.renderer, self.kind, self.format, &self.base, shape) {
                    Ok(Some(s)) => Way::Unverified(s),
                    Ok(None) => Way::Renderer,
                    Err(e) => Way::Fails(e),
                }
            };
            self.ways.insert(shape, way);
        }
        let way = self.ways.get_mut(&shape).expect("inserted above");
        if let Way::Unverified(st) = way {
            self.ctx.recipient = Some(r.clone());
            self.a.clear();
            self.b.clear();
            let full = self
                .renderer
                .render_to(self.kind, self.format, &self.ctx, &mut self.a);
            let ours = st.render_to(r, &mut self.b);
            *way = match (full, ours) {
                (Ok(()), Ok(())) if self.a == self.b => Way::Stencil(st.clone()),
                (Err(e), _) => Way::Fails(e),
                _ => Way::Renderer,
            };
            if let Way::Stencil(_) = way {
                w.write_all(&self.a)?;
                return Ok(());
            }
        }
        match way {
            Way::Stencil(st) => Ok(st.render_to(r, w)?),
            Way::Fails(e) => Err(e.duplicate()),
            Way::Renderer | Way::Unverified(_) => {
                self.ctx.recipient = Some(r.clone());
                self.renderer
                    .render_to(self.kind, self.format, &self.ctx, w)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letters::sample::{sample_context, sample_recipients};

    fn recipients() -> Vec<RecipientContext> {
        let mut v = sample_recipients();
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
                ..Default::default()
            });
        }
        v
    }

    #[test]
    fn stencils_match_the_renderer_for_every_shape_kind_and_format() {
        let r = Renderer::new().expect("templates");
        for kind in [LetterKind::Individual, LetterKind::NextOfKin] {
            for format in [Format::Text, Format::Html] {
                assert!(r.stencil_safe(format), "{format}");
                for exercise in [false, true] {
                    for email in [false, true] {
                        let mut base = sample_context(exercise);
                        base.email = email;
                        let mut st = Stencils::new(&r, kind, format, &base);
                        let mut ctx = base.clone();
                        for rc in recipients() {
                            if (kind == LetterKind::NextOfKin) != rc.deceased_name.is_some() {
                                continue;
                            }
                            let mut ours = Vec::new();
                            let a = st.render_to(&rc, &mut ours);
                            ctx.recipient = Some(rc.clone());
                            match (a, r.render(kind, format, &ctx)) {
                                (Ok(()), Ok(full)) => {
                                    assert_eq!(String::from_utf8(ours).expect("utf-8"), full)
                                }
                                // A letter by post to someone without an address line:
                                // both refuse it, naming the field.
                                (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
                                (a, b) => panic!("{kind} {format}: {a:?} vs {b:?}"),
                            }
                        }
                        assert!(st.stencil_shapes() > 0, "{kind} {format}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_helper_on_recipient_data_turns_the_stencil_off() {
        let src = crate::letters::entry(LetterKind::Individual, Format::Text)
            .expect("registered")
            .source
            .replace("{{> salutation_name}}", "{{lookup recipient \"name\"}}");
        let overrides = std::collections::BTreeMap::from([("individual.txt.hbs".into(), src)]);
        let r = Renderer::with_overrides(&overrides).expect("templates");
        assert!(!r.stencil_safe(Format::Text));
        assert!(r.stencil_safe(Format::Html));
        // Letters still render, through handlebars.
        let base = sample_context(false);
        let mut st = Stencils::new(&r, LetterKind::Individual, Format::Text, &base);
        let mut out = Vec::new();
        st.render_to(&recipients()[0], &mut out).expect("renders");
        assert_eq!(st.stencil_shapes(), 0);
    }

    #[test]
    fn a_missing_recipient_field_is_an_error_for_that_shape_only() {
        let r = Renderer::new().expect("templates");
        let base = sample_context(false);
        let mut st = Stencils::new(&r, LetterKind::Individual, Format::Text, &base);
        let mut nameless = recipients()[0].clone();
        nameless.name.clear();
        nameless.minor_name = None;
        let e = st
            .render_to(&nameless, &mut Vec::new())
            .expect_err("no name");
        assert!(e.to_string().contains("recipient.name"), "{e}");
        st.render_to(&recipients()[0], &mut Vec::new())
            .expect("a named recipient still renders");
    }
}
