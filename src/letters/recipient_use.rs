//! Which uses of recipient data a stencil reproduces exactly (see `stencil`): read from
//! the parsed templates and partials, so a template that transforms or compares recipient
//! data is rendered through handlebars, letter by letter.

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};

use super::Format;

/// True when `t` uses recipient data only in the forms a stencil reproduces exactly: a
/// plain `{{recipient.x}}` (escaped in HTML), the one parameter of `#if`/`#unless`, and
/// `{{#each recipient.address_lines}}` whose body prints `{{this}}` between literal text.
pub fn recipient_use_is_plain(t: &Template, format: Format) -> bool {
    t.elements.iter().all(|el| element_ok(el, format))
}

fn mentions_recipient(p: &Parameter) -> bool {
    match p {
        Parameter::Name(n) => n.contains("recipient"),
        Parameter::Path(path) => path_raw(path).contains("recipient"),
        Parameter::Literal(v) => v.to_string().contains("recipient"),
        // Sub-expressions, and whatever a later handlebars adds: assume the worst.
        _ => true,
    }
}

fn path_raw(p: &handlebars::Path) -> &str {
    match p {
        handlebars::Path::Relative((_, raw)) => raw,
        handlebars::Path::Local((_, _, raw)) => raw,
    }
}

/// A plain path to a recipient field: `recipient.x`.
fn recipient_field(p: &Parameter) -> Option<&str> {
    match p {
        Parameter::Path(path) => path_raw(path)
            .strip_prefix("recipient.")
            .filter(|f| !f.contains(['.', '/', '[', '@'])),
        _ => None,
    }
}

fn helper_mentions(h: &HelperTemplate) -> bool {
    mentions_recipient(&h.name)
        || h.params.iter().any(mentions_recipient)
        || h.hash.values().any(mentions_recipient)
}

fn element_ok(el: &TemplateElement, format: Format) -> bool {
    use TemplateElement::*;
    match el {
        RawString(_) | Comment(_) => true,
        Expression(h) | HtmlExpression(h) => {
            if !helper_mentions(h) {
                return true;
            }
            let plain = h.params.is_empty() && h.hash.is_empty() && !h.block;
            let raw_html = matches!(el, HtmlExpression(_)) && format == Format::Html;
            plain && !raw_html && recipient_field(&h.name).is_some()
        }
        HelperBlock(h) => {
            let inner_ok =
                |t: &Option<Template>| t.as_ref().is_none_or(|t| recipient_use_is_plain(t, format));
            if !helper_mentions(h) {
                return inner_ok(&h.template) && inner_ok(&h.inverse);
            }
            let name = match &h.name {
                Parameter::Name(n) => n.as_str(),
                _ => return false,
            };
            let single = h.params.len() == 1 && h.hash.is_empty() && h.block_param.is_none();
            match name {
                "if" | "unless" if single && recipient_field(&h.params[0]).is_some() => {
                    inner_ok(&h.template) && inner_ok(&h.inverse)
                }
                "each"
                    if single
                        && recipient_field(&h.params[0]) == Some("address_lines")
                        && h.template.as_ref().is_some_and(each_body_ok) =>
                {
                    inner_ok(&h.inverse)
                }
                _ => false,
            }
        }
        DecoratorExpression(d) | DecoratorBlock(d) | PartialExpression(d) | PartialBlock(d) => {
            let params = d.params.iter().chain(d.hash.values());
            !params.into_iter().any(mentions_recipient)
                && d.template
                    .as_ref()
                    .is_none_or(|t| recipient_use_is_plain(t, format))
        }
        // Whatever a later handlebars adds: not known to be plain.
        _ => false,
    }
}

/// The body of the address lines' `#each`: literal text and `{{this}}` only.
fn each_body_ok(t: &Template) -> bool {
    t.elements.iter().all(|el| match el {
        TemplateElement::RawString(_) | TemplateElement::Comment(_) => true,
        TemplateElement::Expression(h) => {
            h.params.is_empty()
                && h.hash.is_empty()
                && matches!(&h.name, Parameter::Path(p) if matches!(path_raw(p), "this" | "."))
        }
        _ => false,
    })
}
