//! The renderer: templates compiled once, rendered many times.

use std::io::Write;
use std::path::Path;

use handlebars::{Handlebars, RenderError, RenderErrorReason};

use super::context::{EXERCISE_WATERMARK, LetterContext};
use super::error::LetterError;
use super::{Format, LetterKind, REGISTRY, TemplateEntry, entry};

/// Compiled templates. Build once per batch (`new` or `with_override_dir`) and call
/// [`Renderer::render_to`] per letter; compiling is the expensive part.
pub struct Renderer {
    /// Text templates: `no_escape`, so "O'Brien" and `<` stay literal.
    text: Handlebars<'static>,
    /// HTML templates: handlebars' default HTML escaping.
    html: Handlebars<'static>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

fn new_registry(format: Format) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    if format == Format::Text {
        hb.register_escape_fn(handlebars::no_escape);
    }
    hb
}

/// Each registry entry with its source: the override file if the directory holds one,
/// otherwise the embedded text.
pub(crate) fn load_sources(
    dir: Option<&Path>,
) -> Result<Vec<(&'static TemplateEntry, String)>, LetterError> {
    let Some(dir) = dir else {
        return Ok(REGISTRY.iter().map(|e| (e, e.source.to_string())).collect());
    };
    let read_err = |source| LetterError::ReadOverride {
        path: dir.to_path_buf(),
        source,
    };
    // A misspelt override would silently leave the embedded template in use.
    for item in std::fs::read_dir(dir).map_err(read_err)? {
        let item = item.map_err(read_err)?;
        let name = item.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !item.path().is_file() {
            continue;
        }
        if !REGISTRY.iter().any(|e| e.file == name) {
            let expected = REGISTRY.iter().map(|e| e.file).collect::<Vec<_>>();
            return Err(LetterError::UnknownOverride {
                file: name,
                expected: expected.join(", "),
            });
        }
    }
    REGISTRY
        .iter()
        .map(|e| {
            let path = dir.join(e.file);
            if path.is_file() {
                std::fs::read_to_string(&path)
                    .map(|s| (e, s))
                    .map_err(|source| LetterError::ReadOverride { path, source })
            } else {
                Ok((e, e.source.to_string()))
            }
        })
        .collect()
}

/// Each registry entry with its source from `overrides` when present, else the embedded one.
pub(crate) fn override_sources(
    overrides: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(&'static TemplateEntry, String)>, LetterError> {
    if let Some(name) = overrides
        .keys()
        .find(|n| !REGISTRY.iter().any(|e| e.file == n.as_str()))
    {
        let expected = REGISTRY.iter().map(|e| e.file).collect::<Vec<_>>();
        return Err(LetterError::UnknownOverride {
            file: name.clone(),
            expected: expected.join(", "),
        });
    }
    Ok(REGISTRY
        .iter()
        .map(|e| {
            (
                e,
                overrides
                    .get(e.file)
                    .cloned()
                    .unwrap_or_else(|| e.source.to_string()),
            )
        })
        .collect())
}

impl Renderer {
    /// The embedded templates.
    pub fn new() -> Result<Renderer, LetterError> {
        Renderer::from_sources(load_sources(None)?)
    }

    /// Embedded templates, each replaced by a same-named file in `dir` when there is one
    /// (counsel's edits). A file in `dir` with any other name is an error.
    pub fn with_override_dir(dir: &Path) -> Result<Renderer, LetterError> {
        Renderer::from_sources(load_sources(Some(dir))?)
    }

    /// Embedded templates, each replaced by the override of the same file name in
    /// `overrides` (a template set stored for the organization). An unknown name is an error.
    pub fn with_overrides(
        overrides: &std::collections::BTreeMap<String, String>,
    ) -> Result<Renderer, LetterError> {
        Renderer::from_sources(override_sources(overrides)?)
    }

    fn from_sources(sources: Vec<(&'static TemplateEntry, String)>) -> Result<Self, LetterError> {
        let (renderer, mut failures) = Renderer::compile_lenient(sources);
        match failures.is_empty() {
            true => Ok(renderer),
            false => Err(failures.remove(0).1),
        }
    }

    /// Compiles what compiles; returns the failures beside the renderer (for `check`).
    pub(crate) fn compile_lenient(
        sources: Vec<(&'static TemplateEntry, String)>,
    ) -> (Renderer, Vec<(&'static TemplateEntry, LetterError)>) {
        let mut r = Renderer {
            text: new_registry(Format::Text),
            html: new_registry(Format::Html),
        };
        let mut failures = Vec::new();
        for (e, src) in sources {
            let hb = match e.format {
                Format::Text => &mut r.text,
                Format::Html => &mut r.html,
            };
            if let Err(err) = hb.register_template_string(e.file, src) {
                let reason = err.to_string();
                failures.push((
                    e,
                    LetterError::Parse {
                        file: e.file.to_string(),
                        reason,
                    },
                ));
            }
        }
        (r, failures)
    }

    /// Renders one document. HTML output is one `<section class="letter">` (one printed
    /// page or more); wrap a batch with [`super::html_document`].
    pub fn render(
        &self,
        kind: LetterKind,
        format: Format,
        ctx: &LetterContext,
    ) -> Result<String, LetterError> {
        let mut out = Vec::with_capacity(4096);
        self.render_to(kind, format, ctx, &mut out)?;
        // Templates are UTF-8 strings and the data are Rust strings.
        String::from_utf8(out).map_err(|e| LetterError::Render {
            file: kind.key().to_string(),
            reason: e.utf8_error().to_string(),
        })
    }

    /// Renders one document into `w` (streaming: no per-letter `String`).
    pub fn render_to<W: Write>(
        &self,
        kind: LetterKind,
        format: Format,
        ctx: &LetterContext,
        w: &mut W,
    ) -> Result<(), LetterError> {
        let e = entry(kind, format).ok_or(LetterError::NoTemplate { kind, format })?;
        if kind.is_notice_to_individuals() {
            check_contact(ctx)?;
        }
        let hb = match format {
            Format::Text => &self.text,
            Format::Html => &self.html,
        };
        if !hb.has_template(e.file) {
            return Err(LetterError::NoTemplate { kind, format });
        }
        let mark = ctx.exercise;
        match format {
            Format::Text if mark => write!(w, "{EXERCISE_WATERMARK}\n\n")?,
            Format::Text => {}
            Format::Html => {
                w.write_all(b"<section class=\"letter\">\n")?;
                if mark {
                    writeln!(
                        w,
                        "<div class=\"watermark watermark-top\">{EXERCISE_WATERMARK}</div>"
                    )?;
                }
            }
        }
        hb.render_to_write(e.file, ctx, &mut *w)
            .map_err(|err| map_render_error(e.file, err))?;
        match format {
            Format::Text if mark => write!(w, "\n{EXERCISE_WATERMARK}\n")?,
            Format::Text => {}
            Format::Html => {
                if mark {
                    writeln!(
                        w,
                        "<div class=\"watermark watermark-bottom\">{EXERCISE_WATERMARK}</div>"
                    )?;
                }
                w.write_all(b"</section>\n")?;
            }
        }
        Ok(())
    }
}

/// 164.404(c)(1)(E): a toll-free number, and an e-mail address, web site or postal address.
fn check_contact(ctx: &LetterContext) -> Result<(), LetterError> {
    let o = &ctx.org;
    if o.toll_free.trim().is_empty() {
        return Err(LetterError::MissingContact {
            what: "toll-free number",
        });
    }
    if [&o.email, &o.website, &o.postal_address]
        .iter()
        .all(|s| s.trim().is_empty())
    {
        return Err(LetterError::MissingContact {
            what: "e-mail address, web site or postal address",
        });
    }
    Ok(())
}

fn map_render_error(file: &str, err: RenderError) -> LetterError {
    let at = match err.line_no {
        Some(line) => format!("{file} line {line}"),
        None => file.to_string(),
    };
    match err.reason() {
        RenderErrorReason::MissingVariable(field) => LetterError::MissingField {
            file: at,
            field: field
                .clone()
                .unwrap_or_else(|| "(a helper parameter)".into()),
        },
        RenderErrorReason::IOError(io) => {
            LetterError::Io(std::io::Error::new(io.kind(), io.to_string()))
        }
        other => LetterError::Render {
            file: at,
            reason: other.to_string(),
        },
    }
}
