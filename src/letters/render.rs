//! The renderer: templates compiled once, rendered many times.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use handlebars::{Handlebars, RenderError, RenderErrorReason, Template};

use super::context::{EXERCISE_WATERMARK, LetterContext};
use super::error::LetterError;
use super::partials;
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

/// Reads counsel's template directory: every file whose name is in the registry (dot files
/// and sub-directories are skipped; any other name is an error, since a misspelt override
/// would silently leave the embedded template in use). Each file is read without following
/// a symbolic link out of the directory, up to [`crate::files::TEMPLATE`] bytes, as UTF-8.
pub fn read_template_dir(dir: &Path) -> Result<BTreeMap<String, String>, LetterError> {
    let read_err = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => LetterError::NoDirectory {
            path: dir.to_path_buf(),
        },
        _ => LetterError::ReadOverride {
            path: dir.to_path_buf(),
            source,
        },
    };
    let real_dir = std::fs::canonicalize(dir).map_err(read_err)?;
    let mut out = BTreeMap::new();
    let mut entries: Vec<_> = std::fs::read_dir(&real_dir)
        .map_err(read_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_err)?;
    entries.sort_by_key(|e| e.file_name());
    for item in entries {
        let name = item.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = item.path();
        let meta =
            std::fs::symlink_metadata(&path).map_err(|source| LetterError::ReadOverride {
                path: path.clone(),
                source,
            })?;
        let target = if meta.file_type().is_symlink() {
            // Only a link to a regular file inside the directory is followed.
            match std::fs::canonicalize(&path) {
                Ok(t) if t.starts_with(&real_dir) && t.is_file() => t,
                Ok(t) if t.is_dir() => continue,
                _ => return Err(LetterError::Symlink { file: name }),
            }
        } else if meta.is_dir() {
            continue;
        } else {
            path.clone()
        };
        if !REGISTRY.iter().any(|e| e.file == name) {
            let expected = REGISTRY.iter().map(|e| e.file).collect::<Vec<_>>();
            return Err(LetterError::UnknownOverride {
                file: name,
                expected: expected.join(", "),
            });
        }
        let limit = crate::files::TEMPLATE.bytes;
        let mut bytes = Vec::new();
        std::fs::File::open(&target)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
            .map_err(|source| LetterError::ReadOverride {
                path: path.clone(),
                source,
            })?;
        if bytes.len() as u64 > limit {
            return Err(LetterError::TooLarge { file: name, limit });
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let ok = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            LetterError::NotUtf8 {
                file: name.clone(),
                line: ok.iter().filter(|b| **b == b'\n').count() + 1,
            }
        })?;
        out.insert(name, text);
    }
    Ok(out)
}

/// Each registry entry with its source: the override file if the directory holds one,
/// otherwise the embedded text.
pub(crate) fn load_sources(
    dir: Option<&Path>,
) -> Result<Vec<(&'static TemplateEntry, String)>, LetterError> {
    match dir {
        None => Ok(REGISTRY.iter().map(|e| (e, e.source.to_string())).collect()),
        Some(dir) => override_sources(&read_template_dir(dir)?),
    }
}

/// Each registry entry with its source from `overrides` when present, else the embedded one.
pub(crate) fn override_sources(
    overrides: &BTreeMap<String, String>,
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
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Renderer, LetterError> {
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
    /// Templates nested too deep are refused before parsing; a registry (text or HTML) whose
    /// partials recurse, or are named by a computed expression, keeps none of its templates,
    /// so nothing can render into the recursion.
    pub(crate) fn compile_lenient(
        sources: Vec<(&'static TemplateEntry, String)>,
    ) -> (Renderer, Vec<(&'static TemplateEntry, LetterError)>) {
        let mut r = Renderer {
            text: new_registry(Format::Text),
            html: new_registry(Format::Html),
        };
        let mut failures = Vec::new();
        let mut parsed: Vec<(&'static TemplateEntry, Template)> = Vec::new();
        for (e, src) in sources {
            if partials::nesting_depth(&src) > partials::MAX_NESTING {
                failures.push((
                    e,
                    LetterError::TooDeep {
                        file: e.file.to_string(),
                        limit: partials::MAX_NESTING,
                    },
                ));
                continue;
            }
            let hb = match e.format {
                Format::Text => &mut r.text,
                Format::Html => &mut r.html,
            };
            match hb.register_template_string(e.file, &src) {
                Err(err) => {
                    let reason = template_error(&err);
                    failures.push((
                        e,
                        LetterError::Parse {
                            file: e.file.to_string(),
                            reason,
                        },
                    ));
                }
                Ok(()) => {
                    if let Ok(t) = Template::compile(&src) {
                        parsed.push((e, t));
                    }
                }
            }
        }
        for format in [Format::Text, Format::Html] {
            let set: Vec<(&str, &Template)> = parsed
                .iter()
                .filter(|(e, _)| e.format == format)
                .map(|(e, t)| (e.file, t))
                .collect();
            let Err(err) = partials::check_registry(&set) else {
                continue;
            };
            let named = match &err {
                LetterError::Partial { file, .. } => file.clone(),
                _ => String::new(),
            };
            let hb = match format {
                Format::Text => &mut r.text,
                Format::Html => &mut r.html,
            };
            let mut err = Some(err);
            for (e, _) in parsed.iter().filter(|(e, _)| e.format == format) {
                hb.unregister_template(e.file);
                let f = match (e.file == named).then(|| err.take()).flatten() {
                    Some(err) => err,
                    None => LetterError::Partial {
                        file: e.file.to_string(),
                        reason: format!(
                            "not used: a {} template of this set ({named}) has a recursive or computed partial",
                            format.key()
                        ),
                    },
                };
                failures.push((*e, f));
            }
        }
        // Report in registry order.
        failures.sort_by_key(|(e, err)| {
            let pos = REGISTRY
                .iter()
                .position(|x| std::ptr::eq(x, *e))
                .unwrap_or(usize::MAX);
            (!matches!(err, LetterError::Partial { reason, .. } if !reason.starts_with("not used")), pos)
        });
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
            reason: render_reason(other),
        },
    }
}

/// A template that does not parse: where, and what kind of mistake — never the template's
/// text around it (handlebars' own message quotes it, and the data it was given can show up
/// there too).
fn template_error(err: &handlebars::TemplateError) -> String {
    use handlebars::TemplateErrorReason as T;
    let what = match err.reason() {
        T::MismatchingClosedHelper(..) | T::MismatchingClosedDecorator(..) => {
            "a block is closed by another block's name ({{#x}} … {{/x}} must match)"
        }
        T::InvalidSyntax(_) => "invalid handlebars syntax",
        T::InvalidParam(_) => "an invalid helper parameter",
        T::NestedSubexpression => "a nested subexpression, which is not supported",
        _ => "the template cannot be parsed",
    };
    match err.pos() {
        Some((l, c)) => format!("line {l}, column {c}: {what}"),
        None => what.to_string(),
    }
}

/// Why a template could not be rendered, naming the template's own identifiers (helpers,
/// partials, paths) but never a value from the data (a serde or helper message can quote one).
fn render_reason(r: &RenderErrorReason) -> String {
    use RenderErrorReason as R;
    match r {
        R::TemplateNotFound(n) => format!("template {n} not found"),
        R::TemplateError(e) => template_error(e),
        R::PartialNotFound(n) => format!("partial {n} not found"),
        R::PartialBlockNotFound => "partial block not found".into(),
        R::HelperNotFound(n) => format!("helper {n} not found"),
        R::DecoratorNotFound(n) => format!("decorator {n} not found"),
        R::ParamNotFoundForIndex(h, i) => format!("helper {h}: parameter {i} is missing"),
        R::ParamNotFoundForName(h, n) => format!("helper {h}: parameter {n} is missing"),
        R::ParamTypeMismatchForName(h, n, t) | R::HashTypeMismatchForName(h, n, t) => {
            format!("helper {h}: parameter {n} must be {t}")
        }
        R::CannotIncludeSelf => "a template includes itself".into(),
        R::InvalidParamType(t) => format!("a parameter must be {t}"),
        R::BlockContentRequired => "a block needs content".into(),
        R::InvalidJsonPath(p) => format!("invalid path {p}"),
        R::InvalidJsonIndex(_) => "an array indexed by a name".into(),
        _ => "a value of the data does not fit the template (the value is not shown)".into(),
    }
}
