//! Counsel's templates may use handlebars partials (`{{> name}}`, `{{#> layout}}…{{/layout}}`,
//! `{{#*inline "name"}}…{{/inline}}`). handlebars guards only against a template including
//! itself by its registered name; a partial that reaches itself through another one, or an
//! inline partial that calls itself, recurses until the stack overflows and the process
//! aborts. So every template set is analysed before it is used:
//!
//! - partials must be named literally: a computed name (`{{> (lookup …)}}`) cannot be
//!   checked and is refused;
//! - a graph is built per registry (text and HTML templates are separate registries) whose
//!   nodes are the template files, each inline partial and each partial block's content;
//!   a reference to a name reaches the file of that name **and every inline partial of that
//!   name anywhere in the set** (inline partials are visible to the partials a template
//!   calls, so this over-approximation never misses a cycle); `@partial-block` reaches
//!   every partial block's content;
//! - any cycle is refused, naming the partials on it;
//! - nesting deeper than [`MAX_NESTING`] is refused before handlebars parses it: its parser
//!   and renderer recurse once per level.

use std::collections::{BTreeMap, BTreeSet};

use handlebars::template::{Parameter, Template, TemplateElement};

use super::error::LetterError;

/// Blocks and sub-expressions nested deeper than this are refused (letters need a handful).
pub const MAX_NESTING: usize = 48;

/// A node: a file, an inline partial of a file, or a partial block's content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    File(String),
    Inline(String, String),
    Block(String, usize),
}

impl Node {
    fn describe(&self) -> String {
        match self {
            Node::File(f) => format!("\"{f}\""),
            Node::Inline(f, n) => format!("inline partial \"{n}\" (in {f})"),
            Node::Block(f, i) => format!("partial block {} of {f}", i + 1),
        }
    }

    fn file(&self) -> &str {
        match self {
            Node::File(f) | Node::Inline(f, _) | Node::Block(f, _) => f,
        }
    }
}

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Name(String),
    PartialBlock,
}

#[derive(Default)]
struct Graph {
    /// References made from each node's own body.
    refs: BTreeMap<Node, BTreeSet<Target>>,
    /// Inline partials by name.
    inline: BTreeMap<String, Vec<Node>>,
    blocks: Vec<Node>,
}

/// Counts the deepest nesting of blocks (`{{#`…`{{/`) and of parentheses inside one
/// mustache. Lexical and conservative: it runs before handlebars' recursive parser sees
/// the text.
pub fn nesting_depth(src: &str) -> usize {
    let b = src.as_bytes();
    let (mut i, mut blocks, mut max) = (0usize, 0usize, 0usize);
    while i + 1 < b.len() {
        if b[i] == b'{' && b[i + 1] == b'{' {
            let mut j = i + 2;
            while j < b.len() && matches!(b[j], b'{' | b'~' | b' ') {
                j += 1;
            }
            match b.get(j) {
                Some(b'#') => blocks += 1,
                Some(b'/') => blocks = blocks.saturating_sub(1),
                _ => {}
            }
            // Parentheses up to the closing braces.
            let mut parens = 0usize;
            while j + 1 < b.len() && !(b[j] == b'}' && b[j + 1] == b'}') {
                match b[j] {
                    b'(' => {
                        parens += 1;
                        max = max.max(blocks + parens);
                    }
                    b')' => parens = parens.saturating_sub(1),
                    _ => {}
                }
                j += 1;
            }
            max = max.max(blocks);
            i = j;
        } else {
            i += 1;
        }
    }
    max
}

fn name_of(p: &Parameter) -> Option<String> {
    match p {
        Parameter::Name(n) => Some(n.clone()),
        Parameter::Path(handlebars::Path::Relative((_, raw)))
        | Parameter::Path(handlebars::Path::Local((_, _, raw))) => Some(raw.clone()),
        Parameter::Literal(serde_json::Value::String(s)) => Some(s.clone()),
        Parameter::Literal(v) => Some(v.to_string()),
        // Sub-expressions and anything a later handlebars adds: computed, not checkable.
        _ => None,
    }
}

fn walk(t: &Template, file: &str, node: &Node, g: &mut Graph, dynamic: &mut Option<String>) {
    for el in &t.elements {
        match el {
            TemplateElement::HelperBlock(h) => {
                for inner in [&h.template, &h.inverse].into_iter().flatten() {
                    walk(inner, file, node, g, dynamic);
                }
            }
            TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
                let is_block = matches!(el, TemplateElement::PartialBlock(_));
                match name_of(&d.name) {
                    None => {
                        dynamic.get_or_insert_with(|| file.to_string());
                    }
                    Some(n) if n == "@partial-block" => {
                        g.refs
                            .entry(node.clone())
                            .or_default()
                            .insert(Target::PartialBlock);
                        // A fallback body renders in this node's scope.
                        if let Some(inner) = &d.template {
                            walk(inner, file, node, g, dynamic);
                        }
                    }
                    Some(n) => {
                        g.refs
                            .entry(node.clone())
                            .or_default()
                            .insert(Target::Name(n));
                        if let (true, Some(inner)) = (is_block, &d.template) {
                            // The block's content is rendered by the partial: a node of its
                            // own, reached through `@partial-block` (or rendered as the
                            // fallback when the partial does not exist, from here).
                            let b = Node::Block(file.to_string(), g.blocks.len());
                            g.blocks.push(b.clone());
                            g.refs.entry(b.clone()).or_default();
                            walk(inner, file, &b, g, dynamic);
                        }
                    }
                }
            }
            TemplateElement::DecoratorBlock(d) => match name_of(&d.name).as_deref() {
                Some("inline") => {
                    let Some(name) = d.params.first().and_then(name_of) else {
                        dynamic.get_or_insert_with(|| file.to_string());
                        continue;
                    };
                    let n = Node::Inline(file.to_string(), name.clone());
                    g.inline.entry(name).or_default().push(n.clone());
                    g.refs.entry(n.clone()).or_default();
                    if let Some(inner) = &d.template {
                        walk(inner, file, &n, g, dynamic);
                    }
                }
                _ => {
                    if let Some(inner) = &d.template {
                        walk(inner, file, node, g, dynamic);
                    }
                }
            },
            _ => {}
        }
    }
}

/// Checks one registry's templates (file name → parsed template): literal partial names,
/// no cycle. Templates that do not parse are left to the caller's parse error.
pub fn check_registry(templates: &[(&str, &Template)]) -> Result<(), LetterError> {
    let mut g = Graph::default();
    let files: BTreeSet<String> = templates.iter().map(|(f, _)| f.to_string()).collect();
    for (file, t) in templates {
        let node = Node::File(file.to_string());
        g.refs.entry(node.clone()).or_default();
        let mut dynamic = None;
        walk(t, file, &node, &mut g, &mut dynamic);
        if let Some(f) = dynamic {
            return Err(LetterError::Partial {
                file: f,
                reason: "it names a partial with a computed expression, which cannot be checked for recursion; name partials literally, e.g. {{> signature}}".into(),
            });
        }
    }
    let edges = |n: &Node| -> Vec<Node> {
        let mut out = Vec::new();
        for t in g.refs.get(n).into_iter().flatten() {
            match t {
                Target::Name(name) => {
                    if files.contains(name) {
                        out.push(Node::File(name.clone()));
                    }
                    out.extend(g.inline.get(name).into_iter().flatten().cloned());
                }
                Target::PartialBlock => out.extend(g.blocks.iter().cloned()),
            }
        }
        out
    };
    // Depth-first search with an explicit stack (no recursion on outside input).
    let nodes: Vec<Node> = g.refs.keys().cloned().collect();
    let mut state: BTreeMap<Node, u8> = BTreeMap::new(); // 1 on the path, 2 done
    for start in &nodes {
        if state.contains_key(start) {
            continue;
        }
        let mut path: Vec<(Node, Vec<Node>)> = vec![(start.clone(), edges(start))];
        state.insert(start.clone(), 1);
        while let Some((_, next)) = path.last_mut() {
            match next.pop() {
                Some(n) => match state.get(&n) {
                    Some(1) => {
                        let from = path.iter().position(|(p, _)| *p == n).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path[from..].iter().map(|(p, _)| p.describe()).collect();
                        cycle.push(n.describe());
                        return Err(LetterError::Partial {
                            file: n.file().to_string(),
                            reason: format!(
                                "partial {} calls itself ({}); recursive partials never end, so they are refused",
                                n.describe(),
                                cycle.join(" → ")
                            ),
                        });
                    }
                    Some(_) => {}
                    None => {
                        state.insert(n.clone(), 1);
                        let e = edges(&n);
                        path.push((n, e));
                    }
                },
                None => {
                    if let Some((done, _)) = path.pop() {
                        state.insert(done, 2);
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(set: &[(&str, &str)]) -> Result<(), LetterError> {
        let parsed: Vec<(&str, Template)> = set
            .iter()
            .map(|(f, s)| (*f, Template::compile(s).expect("parses")))
            .collect();
        let refs: Vec<(&str, &Template)> = parsed.iter().map(|(f, t)| (*f, t)).collect();
        check_registry(&refs)
    }

    #[test]
    fn recursion_of_every_shape_is_refused_with_the_partial_named() {
        let self_ref = check(&[("a.txt.hbs", "x {{> a.txt.hbs}}")]).expect_err("self");
        assert!(self_ref.to_string().contains("\"a.txt.hbs\""), "{self_ref}");
        let mutual = check(&[
            ("a.txt.hbs", "{{> b.txt.hbs}}"),
            ("b.txt.hbs", "{{> a.txt.hbs}}"),
        ])
        .expect_err("mutual");
        assert!(mutual.to_string().contains("calls itself"), "{mutual}");
        let inline = check(&[(
            "a.txt.hbs",
            "{{#*inline \"loop\"}}again {{> loop}}{{/inline}}{{> loop}}",
        )])
        .expect_err("inline");
        assert!(
            inline.to_string().contains("inline partial \"loop\""),
            "{inline}"
        );
        let via_block = check(&[(
            "a.txt.hbs",
            "{{#*inline \"l\"}}[{{> @partial-block}}]{{/inline}}{{#> l}}{{> l}}{{/l}}",
        )])
        .expect_err("block");
        assert!(
            via_block.to_string().contains("calls itself"),
            "{via_block}"
        );
        let dynamic = check(&[("a.txt.hbs", "{{> (lookup this \"p\")}}")]).expect_err("dynamic");
        assert!(dynamic.to_string().contains("computed"), "{dynamic}");
    }

    #[test]
    fn ordinary_partials_pass() {
        check(&[
            (
                "a.txt.hbs",
                "{{#*inline \"sig\"}}Privacy Office{{/inline}}Dear,\n{{> sig}}\n{{> b.txt.hbs}}",
            ),
            ("b.txt.hbs", "{{#*inline \"sig\"}}x{{/inline}}{{> sig}}"),
            (
                "c.txt.hbs",
                "{{#*inline \"layout\"}}<{{> @partial-block}}>{{/inline}}{{#> layout}}body{{/layout}}",
            ),
        ])
        .expect("no recursion");
    }

    #[test]
    fn nesting_is_measured_before_parsing() {
        assert_eq!(nesting_depth("{{#if a}}{{#if b}}x{{/if}}{{/if}}"), 2);
        assert_eq!(nesting_depth("{{x (a (b (c d)))}}"), 3);
        let deep = "{{#if a}}".repeat(10_000);
        assert!(nesting_depth(&deep) > MAX_NESTING);
    }
}
