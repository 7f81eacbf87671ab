//! The layers of ARCHITECTURE.md, checked on the source: which module may import which, and
//! no import circle between files. A plain scan of `crate::…` and `super::…` paths (comments
//! and string literals excluded) is enough: the crate names its modules in full.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as (module path like `desk/office`, text).
fn files() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src()).unwrap().with_extension("");
                out.insert(
                    rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read_to_string(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), &mut out);
    out
}

/// The code of a file without comments and string literals (so doc text and messages that
/// mention a module are not imports). Strings may span lines; `'"'` is a char, not a string.
fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut in_str, mut in_comment) = (0, false, false);
    while i < chars.len() {
        let c = chars[i];
        if in_comment {
            if c == '\n' {
                in_comment = false;
                out.push(c);
            }
        } else if in_str {
            if c == '\\' {
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            in_comment = true;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 2;
        } else if c == '"' {
            in_str = true;
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// The module a file is (`desk/mod` is `desk`, `lib` is the crate root ``).
fn module_of(file: &str) -> String {
    match file {
        "lib" | "main" => String::new(),
        f => f.strip_suffix("/mod").unwrap_or(f).to_string(),
    }
}

/// The file that defines a module path, if the path names a file module.
fn file_of(module: &str, files: &BTreeMap<String, String>) -> Option<String> {
    if module.is_empty() {
        return Some("lib".into());
    }
    [module.to_string(), format!("{module}/mod")]
        .into_iter()
        .find(|f| files.contains_key(f))
}

/// The files a file imports: each `crate::a::b::…` or `super::…` path resolved to the
/// longest prefix that is a file module.
fn imports(file: &str, files: &BTreeMap<String, String>) -> BTreeSet<String> {
    let text = code(&files[file]);
    let me = module_of(file);
    // `super` of a `mod.rs` (or of `x.rs`) is the parent of its module.
    let parent = me
        .rsplit_once('/')
        .map(|(p, _)| p.to_string())
        .unwrap_or_default();
    let mut out = BTreeSet::new();
    let bytes: Vec<char> = text.chars().collect();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for (start, base) in [("crate::", String::new()), ("super::", parent.clone())] {
        let mut from = 0;
        while let Some(i) = text[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 && bytes.get(at - 1).is_some_and(|c| ident(*c) || *c == ':') {
                continue;
            }
            let rest: String = text[from..]
                .chars()
                .take_while(|c| ident(*c) || *c == ':')
                .collect();
            let segs: Vec<&str> = rest.split("::").filter(|s| !s.is_empty()).collect();
            let mut found = None;
            for n in (0..=segs.len()).rev() {
                let path = std::iter::once(base.as_str())
                    .chain(segs[..n].iter().copied())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("/");
                if let Some(f) = file_of(&path, files) {
                    found = Some(f);
                    break;
                }
            }
            if let Some(f) = found
                && f != file
            {
                out.insert(f);
            }
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = files();
    files
        .keys()
        .map(|f| (f.clone(), imports(f, &files)))
        .collect()
}

#[track_caller]
fn never(from: &str, to: &[&str]) {
    let g = graph();
    let mut bad = Vec::new();
    for (f, deps) in &g {
        if !(f == from || f.starts_with(&format!("{from}/"))) {
            continue;
        }
        for d in deps {
            if to.iter().any(|t| d == t || d.starts_with(&format!("{t}/"))) {
                bad.push(format!("{f} imports {d}"));
            }
        }
    }
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
}

#[test]
fn the_store_imports_nothing_above_it() {
    never(
        "store",
        &[
            "rules", "exercise", "letters", "intake", "desk", "cli", "web",
        ],
    );
}

#[test]
fn the_pure_layers_import_no_store_desk_or_front_end() {
    for pure in [
        "domain", "laws", "rules", "audit", "intake", "letters", "exercise",
    ] {
        never(pure, &["store", "desk", "cli", "web"]);
    }
    never(
        "domain",
        &["rules", "audit", "intake", "letters", "exercise"],
    );
}

#[test]
fn the_edge_helpers_stay_at_the_edge() {
    never(
        "files",
        &[
            "domain", "laws", "rules", "audit", "intake", "letters", "exercise", "store", "desk",
            "cli", "ics",
        ],
    );
    never(
        "ics",
        &["store", "desk", "cli", "intake", "letters", "exercise"],
    );
}

#[test]
fn the_desk_does_not_know_its_front_ends() {
    never("desk", &["cli", "web"]);
    never("web", &["cli"]);
}

#[test]
fn the_web_server_goes_through_the_desk() {
    never("web", &["store"]);
    for (f, text) in files() {
        if f.starts_with("web/") {
            assert!(
                !code(&text).contains("redb"),
                "{f} uses redb: the web server never touches the database directly"
            );
        }
    }
}

#[test]
fn the_command_line_goes_through_the_desk() {
    never("cli", &["store"]);
    for (f, text) in files() {
        if f.starts_with("cli/") {
            assert!(
                !code(&text).contains("redb"),
                "{f} uses redb: the command line never touches the database directly"
            );
        }
    }
}

#[test]
fn no_import_circle_between_files() {
    let g = graph();
    // Depth-first search; a back edge is a circle.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let i = stack.iter().position(|s| s == d).unwrap_or(0);
                    let mut c = stack[i..].to_vec();
                    c.push(d.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(d, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, &g, &mut state, &mut stack) {
                panic!("import circle: {}", c.join(" → "));
            }
        }
    }
}

#[test]
fn the_scan_sees_imports() {
    // A check that cannot fail is no check: the scanner must find known edges.
    let g = graph();
    assert!(g["cli/cmd_incident"].contains("desk/mod"));
    assert!(g["desk/change"].contains("desk/office"));
    assert!(g["store/roster"].contains("store/mod"));
    assert!(g["desk/records"].contains("store/records"));
}
