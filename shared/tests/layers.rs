//! The layer order of the shared crate, read from its sources: no module
//! imports from a layer above its own, and no two top-level modules import
//! from each other (directly or round about).
//!
//! | layer | modules | what they are |
//! |---|---|---|
//! | 0 domain | `domain`, `error`, `auth` | the model, its rules, the domain error, who a caller is and what it may do |
//! | 1 store | `store` | the table: keys, records, conditions, the stream's decoding |
//! | 2 service | `service` | the use cases, over the store |
//! | 3 edge | `http`, `openapi`, `stream_filter` | what the triggers hand over: HTTP requests and responses, the OpenAPI document served, the stream triggers' filter criteria |
//! | 4 init | `config`, `telemetry`, `app` | what a function builds once at init |
//!
//! A reference is a `use crate::…` (groups included), an inline
//! `crate::x::…` path, a root re-export (`crate::App`) or a `super::` chain
//! that climbs to the crate root; comments and literals do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of `shared/src` and its layer.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("error", 0),
    ("auth", 0),
    ("store", 1),
    ("service", 2),
    ("http", 3),
    ("openapi", 3),
    ("stream_filter", 3),
    ("config", 4),
    ("telemetry", 4),
    ("app", 4),
];

const LAYER_NAMES: [&str; 5] = ["domain", "store", "service", "edge", "init"];

/// Upward references known today, each with who removes it:
/// (file, module it reaches, why it is still here).
const KNOWN_EXCEPTIONS: &[(&str, &str, &str)] = &[];
/// One reference from a file to a top-level module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reference {
    /// The file, relative to `src/`.
    file: String,
    line: usize,
    /// The top-level module the file belongs to.
    from: String,
    /// The top-level module it reaches.
    to: String,
}

/// The source with comments and the contents of string and char literals
/// blanked out (line breaks kept, so line numbers hold).
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev_is_ident = i > 0 && is_ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if !prev_is_ident && (c == 'r' || (c == 'b' && next == Some('r'))) && {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = chars[start.min(chars.len())..]
                .iter()
                .take_while(|&&h| h == '#')
                .count();
            chars.get(start + hashes) == Some(&'"')
        } {
            // A raw string: r"…", r#"…"#, br"…".
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = chars[start..].iter().take_while(|&&h| h == '#').count();
            let body = start + hashes + 1;
            out.extend(std::iter::repeat_n(' ', body - i));
            i = body;
            let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                out.push(blank(chars[i]));
                i += 1;
            }
            out.extend(std::iter::repeat_n(' ', closing.len().min(chars.len() - i)));
            i += closing.len();
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && next == Some('\\') {
            // An escaped char literal: '\'', '\u{1}'.
            out.push_str("  ");
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            out.push_str("   ");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The module path of a file under `src/`: `store/feed.rs` is
/// `store::feed`, `store/mod.rs` is `store`.
fn module_path(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// For each line (0-based), the inline modules (`mod tests { … }`) it is in.
/// The sources are rustfmt'ed: an inline module closes at the first `}` of
/// its own indentation.
fn inline_modules(stripped: &str) -> Vec<Vec<String>> {
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut per_line = Vec::new();
    for line in stripped.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some((at, _)) = open.last() {
            if line.trim_end() == format!("{}}}", " ".repeat(*at)) {
                open.pop();
            }
        }
        per_line.push(open.iter().map(|(_, name)| name.clone()).collect());
        let words: Vec<&str> = line.split_whitespace().collect();
        let at_mod = words.iter().position(|w| *w == "mod");
        if let Some(m) = at_mod {
            if words.get(m + 2) == Some(&"{") && words[..m].iter().all(|w| w.starts_with("pub")) {
                open.push((indent, words[m + 1].to_owned()));
            }
        }
    }
    per_line
}

fn ident_at(text: &[u8], mut i: usize) -> (String, usize) {
    while i < text.len() && text[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
        i += 1;
    }
    (String::from_utf8_lossy(&text[start..i]).into_owned(), i)
}

/// The first name of each item of a `{…}` group starting at `open`.
fn group_heads(text: &[u8], open: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    let mut i = open;
    while i < text.len() {
        match text[i] {
            b'{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
                i += 1;
            }
            b'}' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => {
                expecting = true;
                i += 1;
            }
            c if depth == 1 && expecting && !c.is_ascii_whitespace() => {
                let (name, end) = ident_at(text, i);
                if !name.is_empty() {
                    heads.push(name);
                }
                expecting = false;
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    heads
}

/// Every reference of `file` (relative to `src/`) to a top-level module
/// other than its own; names that are none are returned apart.
fn references(
    file: &str,
    source: &str,
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> (Vec<Reference>, Vec<String>) {
    let stripped = strip(source);
    let inline = inline_modules(&stripped);
    let text = stripped.as_bytes();
    let own = module_path(file);
    let line_of = |at: usize| stripped[..at].matches('\n').count();
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    let mut reach = |name: &str, at: usize| {
        let to = if modules.contains(name) {
            Some(name.to_owned())
        } else {
            reexports.get(name).cloned()
        };
        match to {
            Some(to) if to != own[0] => found.push(Reference {
                file: file.to_owned(),
                line: line_of(at) + 1,
                from: own[0].clone(),
                to,
            }),
            Some(_) => {}
            None if name == "self" || name == "*" => {}
            None => unknown.push(format!("{file}:{}: crate::{name}", line_of(at) + 1)),
        }
    };
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let boundary = i == 0 || !(is_ident(text[i - 1]) || text[i - 1] == b':');
        let (root, after) = if boundary && rest.starts_with(b"crate::") {
            (true, i + "crate::".len())
        } else if boundary && rest.starts_with(b"super::") {
            // Climb: the file's module, then the inline modules the line is in.
            let mut base = own.clone();
            base.extend(inline[line_of(i)].iter().cloned());
            let mut j = i;
            while text[j..].starts_with(b"super::") {
                base.pop();
                j += "super::".len();
            }
            (base.is_empty(), j)
        } else {
            i += 1;
            continue;
        };
        if root {
            let mut j = after;
            while j < text.len() && text[j].is_ascii_whitespace() {
                j += 1;
            }
            if text.get(j) == Some(&b'{') {
                for head in group_heads(text, j) {
                    reach(&head, i);
                }
            } else {
                let (name, _) = ident_at(text, j);
                reach(&name, i);
            }
        }
        i = after;
    }
    (found, unknown)
}

/// The top-level modules `lib.rs` declares, and its root re-exports (name
/// -> module): `pub use app::App;`, `pub use error::{Code, Error};`.
fn crate_root(lib: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let stripped = strip(lib);
    let mut modules = BTreeSet::new();
    let mut reexports = BTreeMap::new();
    for statement in stripped.split(';') {
        let words: Vec<&str> = statement.split_whitespace().collect();
        match words.as_slice() {
            ["pub", "mod", name] | ["mod", name] => {
                modules.insert((*name).to_owned());
            }
            ["pub", "use", ..] => {
                let path = words[2..].join(" ");
                if let Some((module, names)) = path.split_once("::") {
                    let names = names.trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace());
                    for name in names.split(',') {
                        let name = name.split(" as ").last().unwrap_or(name).trim();
                        if !name.is_empty() {
                            reexports.insert(name.to_owned(), module.trim().to_owned());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    (modules, reexports)
}

/// Every `.rs` file under `dir`, relative to it, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// What is wrong with the crate made of `files` (paths relative to `src/`,
/// `lib.rs` among them), as messages; and the known exceptions it still has.
fn check(files: &[(String, String)]) -> (Vec<String>, BTreeSet<(String, String)>) {
    let lib = &files.iter().find(|(f, _)| f == "lib.rs").expect("lib.rs").1;
    let (modules, mut reexports) = crate_root(lib);
    // A `#[macro_export]` macro is named at the crate root but belongs to
    // the module of the file that defines it.
    for (file, source) in files {
        let stripped = strip(source);
        for (_, rest) in stripped
            .match_indices("#[macro_export]")
            .map(|(at, m)| (at, &stripped[at + m.len()..]))
        {
            let name = rest.trim_start().strip_prefix("macro_rules!").map(|r| {
                r.trim_start()
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
            });
            if let (Some(name), Some(module)) = (name.filter(|n| !n.is_empty()), file.split(['/', '.']).next()) {
                reexports.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut problems = Vec::new();
    for module in &modules {
        if !layer.contains_key(module.as_str()) {
            problems.push(format!("module `{module}` is in no layer: add it to LAYERS"));
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut excepted = BTreeSet::new();
    for (file, source) in files.iter().filter(|(f, _)| f != "lib.rs") {
        let (found, unknown) = references(file, source, &modules, &reexports);
        problems.extend(unknown.into_iter().map(|u| format!("{u}: no module of the crate")));
        for r in found {
            if KNOWN_EXCEPTIONS.iter().any(|(f, m, _)| *f == r.file && *m == r.to) {
                excepted.insert((r.file.clone(), r.to.clone()));
                continue;
            }
            edges.entry(r.from.clone()).or_default().insert(r.to.clone());
            let (Some(&from), Some(&to)) = (layer.get(r.from.as_str()), layer.get(r.to.as_str())) else {
                continue;
            };
            if to <= from {
                continue;
            }
            problems.push(format!(
                "{}:{}: `{}` ({}) reaches up to `{}` ({})",
                r.file, r.line, r.from, LAYER_NAMES[from as usize], r.to, LAYER_NAMES[to as usize]
            ));
        }
    }
    problems.extend(cycles(&edges));
    (problems, excepted)
}

/// The import cycles between top-level modules, one message each.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn reaches(
        edges: &BTreeMap<String, BTreeSet<String>>,
        from: &str,
        target: &str,
        seen: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        for next in edges.get(from).into_iter().flatten() {
            if next == target {
                return Some(vec![next.clone()]);
            }
            if seen.insert(next.clone()) {
                if let Some(mut path) = reaches(edges, next, target, seen) {
                    path.insert(0, next.clone());
                    return Some(path);
                }
            }
        }
        None
    }
    let mut found = BTreeSet::new();
    for module in edges.keys() {
        if let Some(mut members) = reaches(edges, module, module, &mut BTreeSet::new()) {
            members.sort();
            found.insert(members);
        }
    }
    found
        .into_iter()
        .map(|members| format!("import cycle between {}", members.join(", ")))
        .collect()
}

#[test]
fn no_module_imports_from_a_layer_above_it_nor_round_in_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (problems, excepted) = check(&sources(&src));
    assert!(problems.is_empty(), "layer order broken:\n{}", problems.join("\n"));
    let stale: Vec<_> = KNOWN_EXCEPTIONS
        .iter()
        .filter(|(f, m, _)| !excepted.contains(&((*f).to_owned(), (*m).to_owned())))
        .map(|(f, m, why)| format!("{f} -> {m} ({why})"))
        .collect();
    assert!(
        stale.is_empty(),
        "known exceptions that no longer occur, remove them from KNOWN_EXCEPTIONS: {stale:?}"
    );
}

/// The checker itself, on sources shaped like the ones it must catch.
#[test]
fn the_check_finds_upward_references_in_each_form() {
    let lib = "pub mod app;\npub mod domain;\npub mod error;\npub mod http;\npub mod service;\npub mod store;\n\
               pub use app::App;\npub use error::{Code, Error};\n";
    let files = |extra: &[(&str, &str)]| {
        let mut files = vec![("lib.rs".to_owned(), lib.to_owned())];
        files.extend(extra.iter().map(|(f, s)| ((*f).to_owned(), (*s).to_owned())));
        files
    };
    let problems = |extra: &[(&str, &str)]| check(&files(extra)).0;

    // A `use` line, a group, an inline path, a root re-export, `super::` climbing.
    let found = problems(&[
        ("store/feed.rs", "use crate::service::change_events::ChangeEvent;\n"),
        (
            "store/list.rs",
            "use crate::{domain::Tenant,\n    service::Expected};\n",
        ),
        ("domain/tenant.rs", "fn f(s: &crate::store::Store) {}\n"),
        ("http/mod.rs", "pub fn begin(app: &crate::App) {}\n"),
        ("domain/query.rs", "use super::super::store::Page;\n"),
    ]);
    assert_eq!(found.len(), 6, "{found:#?}");
    assert!(found[0].starts_with("store/feed.rs:1: `store` (store) reaches up to `service` (service)"));
    assert!(found[1].starts_with("store/list.rs:1: `store` (store) reaches up to `service`"));
    assert!(found[2].starts_with("domain/tenant.rs:1: `domain` (domain) reaches up to `store`"));
    assert!(found[3].starts_with("http/mod.rs:1: `http` (edge) reaches up to `app` (init)"));
    assert!(found[4].starts_with("domain/query.rs:1: `domain` (domain) reaches up to `store`"));
    assert_eq!(found[5], "import cycle between domain, store");

    // Comments, strings, downward paths, `super::` within a module and a
    // macro exported at the root by a module of the same layer are no problem.
    let clean = problems(&[
        (
            "http/serve.rs",
            "#[macro_export]\nmacro_rules! route { () => {} }\nstatic R: () = crate::route!();\n",
        ),
        (
            "store/feed.rs",
            "//! see [`crate::service::change_events`]\nuse super::records;\nuse crate::domain::Tenant;\n\
             const S: &str = \"crate::service::x\";\nconst R: &str = r#\"crate::http\"#;\nconst C: char = '\"';\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::error::Error;\n}\n",
        ),
        (
            "service/tenants.rs",
            "use crate::store::Store;\nuse crate::Error;\nfn f(_: &crate::domain::Tenant) {}\n",
        ),
        (
            "app.rs",
            "use crate::http::cursor::CursorKeys;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
    ]);
    assert_eq!(clean, Vec::<String>::new());

    // A module in no layer, and a name the crate root does not have.
    let found = problems(&[("service/x.rs", "use crate::nowhere::Thing;\n")]);
    assert_eq!(found, ["service/x.rs:1: crate::nowhere: no module of the crate"]);
    let unplaced = check(&files(&[])).0;
    assert!(unplaced.is_empty(), "{unplaced:?}");
    let lib_with_new = format!("{lib}pub mod newcomer;\n");
    let found = check(&[("lib.rs".to_owned(), lib_with_new)]).0;
    assert_eq!(found, ["module `newcomer` is in no layer: add it to LAYERS"]);
}
