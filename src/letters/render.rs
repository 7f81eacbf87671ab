//! The renderer: templates and partials compiled once, rendered many times.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use handlebars::{Handlebars, RenderError, RenderErrorReason, Template};

use super::context::{EXERCISE_WATERMARK, LetterContext};
use super::error::LetterError;
use super::partials;
use super::{
    Format, HEADINGS_FILE, LetterKind, PARTIALS, PartialEntry, REGISTRY, TemplateEntry, entry,
    is_known_file, known_files,
};

/// The sources a renderer compiles: every template and partial (counsel's file where there
/// is one, else the embedded text) and counsel's headings map, if any.
#[derive(Debug, Clone)]
pub struct Sources {
    pub templates: Vec<(&'static TemplateEntry, String)>,
    pub partials: Vec<(&'static PartialEntry, String)>,
    /// `headings.toml`: counsel's headings for the elements of 164.404(c)(1).
    pub headings: Option<String>,
}

impl Sources {
    /// The embedded templates and partials.
    pub fn embedded() -> Sources {
        Sources {
            templates: REGISTRY.iter().map(|e| (e, e.source.to_string())).collect(),
            partials: PARTIALS.iter().map(|p| (p, p.source.to_string())).collect(),
            headings: None,
        }
    }

    /// The embedded files, each replaced by the override of the same file name in
    /// `overrides` (a directory's files, or a template set stored for the organization). An
    /// unknown name is an error: a misspelt override would silently leave the embedded
    /// text in use.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Sources, LetterError> {
        if let Some(name) = overrides.keys().find(|n| !is_known_file(n)) {
            return Err(LetterError::UnknownOverride {
                file: name.clone(),
                expected: known_files().join(", "),
            });
        }
        let pick = |file: &str, embedded: &str| {
            overrides
                .get(file)
                .cloned()
                .unwrap_or_else(|| embedded.to_string())
        };
        Ok(Sources {
            templates: REGISTRY
                .iter()
                .map(|e| (e, pick(e.file, e.source)))
                .collect(),
            partials: PARTIALS
                .iter()
                .map(|p| (p, pick(p.file, p.source)))
                .collect(),
            headings: overrides.get(HEADINGS_FILE).cloned(),
        })
    }

    /// The embedded files with counsel's directory's files over them.
    pub fn from_dir(dir: &Path) -> Result<Sources, LetterError> {
        Sources::with_overrides(&read_template_dir(dir)?)
    }

    /// `dir`'s files over the embedded ones, or the embedded ones.
    pub fn load(dir: Option<&Path>) -> Result<Sources, LetterError> {
        match dir {
            None => Ok(Sources::embedded()),
            Some(d) => Sources::from_dir(d),
        }
    }
}

/// Reads counsel's template directory: every file whose name is a template, a partial or
/// the headings map (dot files and sub-directories are skipped; any other name is an
/// error: a misspelt override would silently leave the embedded text in use). A symbolic
/// link is followed only to a regular file inside the directory; each file is read up to
/// [`crate::files::TEMPLATE`] bytes, as UTF-8.
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
    let mut entries: Vec<_> = std::fs::read_dir(&real_dir)
        .map_err(read_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_err)?;
    entries.sort_by_key(|e| e.file_name());
    let mut out = BTreeMap::new();
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
        if !is_known_file(&name) {
            return Err(LetterError::UnknownOverride {
                file: name,
                expected: known_files().join(", "),
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

/// Compiled templates. Build once per batch and call [`Renderer::render_to`] per letter;
/// compiling is the expensive part.
pub struct Renderer {
    /// Text templates: `no_escape`, so "O'Brien" and `<` stay literal.
    text: Handlebars<'static>,
    /// HTML templates: handlebars' default HTML escaping.
    html: Handlebars<'static>,
    /// Per format: every template and partial uses recipient data only in the forms a
    /// stencil reproduces (see [`super::stencil`]).
    stencil_safe: [bool; 2],
    sources: Sources,
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

fn index(format: Format) -> usize {
    match format {
        Format::Text => 0,
        Format::Html => 1,
    }
}

/// Which file a compile failure belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FileRef {
    Template(&'static TemplateEntry),
    Partial(&'static PartialEntry),
}

impl FileRef {
    pub(crate) fn file(self) -> &'static str {
        match self {
            FileRef::Template(e) => e.file,
            FileRef::Partial(p) => p.file,
        }
    }
}

impl Renderer {
    /// The embedded templates.
    pub fn new() -> Result<Renderer, LetterError> {
        Renderer::from_sources(Sources::embedded())
    }

    /// Embedded templates, each replaced by a same-named file in `dir` when there is one
    /// (counsel's edits). A file in `dir` with any other name is an error.
    pub fn with_override_dir(dir: &Path) -> Result<Renderer, LetterError> {
        Renderer::from_sources(Sources::from_dir(dir)?)
    }

    /// Embedded templates, each replaced by the override of the same file name in
    /// `overrides` (a template set stored for the organization). An unknown name is an error.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Renderer, LetterError> {
        Renderer::from_sources(Sources::with_overrides(overrides)?)
    }

    pub fn from_sources(sources: Sources) -> Result<Self, LetterError> {
        let (renderer, mut failures) = Renderer::compile_lenient(sources);
        match failures.is_empty() {
            true => Ok(renderer),
            false => Err(failures.remove(0).1),
        }
    }

    /// The sources this renderer compiled.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Compiles what compiles; returns the failures beside the renderer (for `check`).
    /// Templates and partials nested too deep are refused before parsing; a registry (text
    /// or HTML) whose partials recurse, or are named by a computed expression, keeps none of
    /// its templates, so nothing can render into the recursion (see [`partials`]).
    pub(crate) fn compile_lenient(sources: Sources) -> (Renderer, Vec<(FileRef, LetterError)>) {
        let mut r = Renderer {
            text: new_registry(Format::Text),
            html: new_registry(Format::Html),
            stencil_safe: [true, true],
            sources: sources.clone(),
        };
        let mut failures = Vec::new();
        // (format, the name references reach it by, its file, parsed)
        let mut parsed: Vec<(Format, &'static str, FileRef, Template)> = Vec::new();
        let too_deep = |file: &str| LetterError::TooDeep {
            file: file.to_string(),
            limit: partials::MAX_NESTING,
        };
        for (p, src) in &sources.partials {
            let text = p.text(src);
            if partials::nesting_depth(&text) > partials::MAX_NESTING {
                failures.push((FileRef::Partial(p), too_deep(p.file)));
                continue;
            }
            match Template::compile(&text) {
                Err(err) => failures.push((
                    FileRef::Partial(p),
                    LetterError::Parse {
                        file: p.file.to_string(),
                        reason: template_error(&err),
                    },
                )),
                Ok(t) => {
                    for format in [Format::Text, Format::Html] {
                        if !p.in_format(format) {
                            continue;
                        }
                        let hb = match format {
                            Format::Text => &mut r.text,
                            Format::Html => &mut r.html,
                        };
                        if let Err(err) = hb.register_partial(p.name, &text) {
                            failures.push((
                                FileRef::Partial(p),
                                LetterError::Parse {
                                    file: p.file.to_string(),
                                    reason: template_error(&err),
                                },
                            ));
                            continue;
                        }
                        parsed.push((format, p.name, FileRef::Partial(p), t.clone()));
                    }
                }
            }
        }
        for (e, src) in sources.templates {
            if partials::nesting_depth(&src) > partials::MAX_NESTING {
                failures.push((FileRef::Template(e), too_deep(e.file)));
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
                        FileRef::Template(e),
                        LetterError::Parse {
                            file: e.file.to_string(),
                            reason,
                        },
                    ));
                }
                Ok(()) => {
                    if let Ok(t) = Template::compile(&src) {
                        parsed.push((e.format, e.file, FileRef::Template(e), t));
                    }
                }
            }
        }
        for format in [Format::Text, Format::Html] {
            let set: Vec<(&str, &Template)> = parsed
                .iter()
                .filter(|(f, ..)| *f == format)
                .map(|(_, name, _, t)| (*name, t))
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
            hb.clear_templates();
            let mut err = Some(err);
            for (_, name, f, _) in parsed.iter().filter(|(f, ..)| *f == format) {
                let e = match (*name == named).then(|| err.take()).flatten() {
                    Some(err) => err,
                    None => LetterError::Partial {
                        file: f.file().to_string(),
                        reason: format!(
                            "not used: a {} template or partial of this set ({named}) has a recursive or computed partial",
                            format.key()
                        ),
                    },
                };
                failures.push((*f, e));
            }
        }
        // The cause first, then in registry order.
        failures.sort_by_key(|(f, err)| {
            let pos = match f {
                FileRef::Template(e) => REGISTRY
                    .iter()
                    .position(|x| std::ptr::eq(x, *e))
                    .unwrap_or(usize::MAX),
                FileRef::Partial(p) => {
                    REGISTRY.len()
                        + PARTIALS
                            .iter()
                            .position(|x| std::ptr::eq(x, *p))
                            .unwrap_or(usize::MAX - REGISTRY.len())
                }
            };
            (
                matches!(err, LetterError::Partial { reason, .. } if reason.starts_with("not used")),
                pos,
            )
        });
        for (format, _, _, t) in &parsed {
            if !super::recipient_use::recipient_use_is_plain(t, *format) {
                r.stencil_safe[index(*format)] = false;
            }
        }
        (r, failures)
    }

    /// Whether bulk letters of `format` may be written from a stencil (every template and
    /// partial uses recipient data only as plain fields, `#if`/`#unless` tests and the
    /// address lines' `#each`).
    pub fn stencil_safe(&self, format: Format) -> bool {
        self.stencil_safe[index(format)]
    }

    /// Renders one document. HTML output is one `<section class="letter">`; wrap a batch
    /// with [`super::html_document`].
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

    /// Renders a partial on its own (e.g. the e-mail subject line), as text.
    pub fn render_partial(&self, name: &str, ctx: &LetterContext) -> Result<String, LetterError> {
        let template = format!("{{{{> {name}}}}}");
        self.text
            .render_template(&template, ctx)
            .map_err(|err| map_render_error(&format!("partial {name}"), err))
    }

    /// Fills release 0.1's template fields (`incident.what_happened`,
    /// `incident.what_we_are_doing`, `incident.what_you_can_do`, `org.other_contacts`) from
    /// the text partials that now hold that wording, so a template set stored by release
    /// 0.1 keeps rendering. A partial that fails leaves its field absent (a template that
    /// uses it then fails naming it).
    pub fn fill_legacy(&self, ctx: &mut LetterContext) {
        let list = |out: String| -> Vec<String> {
            out.lines()
                .map(|l| l.trim().trim_start_matches("- ").trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        };
        let probe = ctx.clone();
        if let Ok(t) = self.render_partial("what_happened", &probe) {
            ctx.incident.what_happened = t.lines().next().and_then(super::context::text);
        }
        if let Ok(t) = self.render_partial("what_we_are_doing", &probe) {
            ctx.incident.what_we_are_doing = list(t);
        }
        if let Ok(t) = self.render_partial("steps", &probe) {
            ctx.incident.what_you_can_do = list(t);
        }
        if let Ok(t) = self.render_partial("contact_methods", &probe) {
            ctx.org.other_contacts = super::context::text(&t);
        }
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
        if kind.is_notice_to_individuals() || kind == LetterKind::StateRegulator {
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
    if o.toll_free.is_none() {
        return Err(LetterError::MissingContact {
            what: "toll-free number",
        });
    }
    if o.email.is_none() && o.website.is_none() && o.postal_address.is_none() {
        return Err(LetterError::MissingContact {
            what: "e-mail address, web site or postal address",
        });
    }
    Ok(())
}

pub(crate) fn map_render_error(file: &str, err: RenderError) -> LetterError {
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
        RenderErrorReason::PartialNotFound(name) => LetterError::Render {
            file: at,
            reason: format!(
                "it uses the partial `{name}`, which does not exist (partials: {})",
                PARTIALS
                    .iter()
                    .map(|p| p.name)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
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
