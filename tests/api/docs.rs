//! The documentation against itself and the code: every relative link (and
//! anchor) resolves, every page is in `docs/SUMMARY.md` and reachable from the
//! README's map, the README stays a front door, and the reference pages that
//! restate the code — routes, configuration, template parameters and
//! outputs — say what the OpenAPI document, the code and template.yaml say.
//! (The problem codes page is checked in `openapi.rs`; the tutorial is run
//! against a dev gateway by `dev/tutorial-test.py`.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// The README may grow this long; past it, move the detail to `docs/`.
const README_MAX_LINES: usize = 250;

fn root() -> PathBuf {
    normalise(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every Markdown file under `dir`, sorted.
fn markdown_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(markdown_under(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// `path` without `.` and `..` segments (the files need not exist).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The lines of a Markdown text that are prose: fenced code blocks left out.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut in_fence = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
                return false;
            }
            !in_fence
        })
        .collect()
}

/// `text` without its inline code spans (a `[x](y)` inside one is no link).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        }
    }
    out
}

/// The targets of the inline links `[text](target)` of a Markdown text.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose_lines(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            found.push(target.to_owned());
            rest = &after[end..];
        }
    }
    found
}

/// The anchors a code host gives a page's headings: lower case, letters,
/// digits, `-` and `_` kept, spaces made `-`, the rest dropped; a repeated
/// heading gets `-1`, `-2`…
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut found = BTreeSet::new();
    for line in prose_lines(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .chars()
            .flat_map(char::to_lowercase)
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        found.insert(if *n == 0 { slug.clone() } else { format!("{slug}-{n}") });
        *n += 1;
    }
    found
}

fn is_external(target: &str) -> bool {
    ["http://", "https://", "mailto:"].iter().any(|p| target.starts_with(p))
}

/// The README and every page under `docs/`.
fn every_page() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    pages.extend(
        ["CONTRIBUTING.md", "SECURITY.md", "CHANGELOG.md"]
            .iter()
            .map(|p| root().join(p))
            .filter(|p| p.exists()),
    );
    pages.extend(markdown_under(&root().join("docs")));
    pages
}

#[test]
fn every_relative_link_of_the_docs_resolves_to_a_file_and_its_anchor() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in every_page() {
        let text = read(&page);
        for target in links(&text) {
            if target.is_empty() {
                broken.push(format!("{}: an empty link", page.display()));
                continue;
            }
            if is_external(&target) {
                continue;
            }
            checked += 1;
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                page.clone()
            } else {
                normalise(&page.parent().unwrap().join(file))
            };
            if !resolved.exists() {
                broken.push(format!("{}: {target} (no {})", page.display(), resolved.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                if resolved.extension().is_some_and(|e| e == "md") && !anchors(&read(&resolved)).contains(anchor) {
                    broken.push(format!("{}: {target} (no heading #{anchor})", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        checked > 50,
        "only {checked} relative links found: is the parser reading the pages?"
    );
}

/// The pages `docs/SUMMARY.md` lists, as paths under `docs/`.
fn summary_entries() -> Vec<PathBuf> {
    let docs = root().join("docs");
    let text = read(&docs.join("SUMMARY.md"));
    assert_eq!(
        text.lines().find(|l| !l.trim().is_empty()),
        Some("# Summary"),
        "mdBook's SUMMARY.md starts with '# Summary'"
    );
    let mut entries = Vec::new();
    for line in prose_lines(&text) {
        let item = line.trim_start();
        if item.is_empty() || item.starts_with('#') {
            continue;
        }
        assert!(
            item.starts_with("- [") && item.ends_with(".md)"),
            "SUMMARY.md entries are `- [Title](path.md)` list items, not: {line}"
        );
        let target = &links(item)[0];
        entries.push(normalise(&docs.join(target)));
    }
    entries
}

#[test]
fn every_page_under_docs_is_listed_once_in_the_summary() {
    let docs = root().join("docs");
    let entries = summary_entries();
    let listed: BTreeSet<&PathBuf> = entries.iter().collect();
    assert_eq!(listed.len(), entries.len(), "a page listed twice in SUMMARY.md");
    let pages: BTreeSet<PathBuf> = markdown_under(&docs)
        .into_iter()
        .filter(|p| *p != docs.join("SUMMARY.md"))
        .collect();
    let missing: Vec<_> = pages.iter().filter(|p| !listed.contains(p)).collect();
    assert!(missing.is_empty(), "pages not in docs/SUMMARY.md: {missing:?}");
    let absent: Vec<_> = listed.iter().filter(|p| !pages.contains(**p)).collect();
    assert!(
        absent.is_empty(),
        "SUMMARY.md lists pages that do not exist: {absent:?}"
    );
}

#[test]
fn the_readme_maps_the_summary_and_every_page_and_stays_short() {
    let text = read(&root().join("README.md"));
    let lines = text.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines (at most {README_MAX_LINES}): move the detail to docs/"
    );
    let linked: BTreeSet<PathBuf> = links(&text)
        .iter()
        .filter(|t| !is_external(t))
        .map(|t| normalise(&root().join(t.split('#').next().unwrap())))
        .collect();
    let docs = root().join("docs");
    for page in markdown_under(&docs) {
        assert!(
            linked.contains(&page),
            "README.md's documentation map does not link {}",
            page.strip_prefix(root()).unwrap_or(&page).display()
        );
    }
    for file in ["LICENSE", "SECURITY.md", "CONTRIBUTING.md", "CHANGELOG.md"] {
        assert!(linked.contains(&root().join(file)), "README.md links {file}");
    }
}

/// The cells of the Markdown table rows of `text` (the header's separator
/// row left out).
fn table_rows(text: &str) -> Vec<Vec<String>> {
    prose_lines(text)
        .into_iter()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            // A `\|` inside a cell is no separator.
            let l = l.replace("\\|", "\u{0}");
            l.trim()
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace('\u{0}', "|"))
                .collect()
        })
        .collect()
}

/// The code spans of a table cell: `` `PUT`, `PATCH /v1/x` `` gives `PUT`, `PATCH /v1/x`.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

#[test]
fn the_routes_page_lists_every_operation_of_the_document() {
    let text = read(&root().join("docs/reference/routes.md"));
    let mut documented = BTreeMap::new();
    for row in table_rows(&text) {
        let spans = code_spans(&row[0]);
        let Some((method, path)) = spans.last().and_then(|s| s.split_once(' ')) else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        let methods = spans[..spans.len() - 1].iter().copied().chain([method]);
        for m in methods {
            let previous = documented.insert(format!("{m} {path}"), row[1].clone());
            assert!(previous.is_none(), "{m} {path} is listed twice");
        }
    }
    let operations: BTreeSet<String> = crate::openapi::operations().into_keys().collect();
    let listed: BTreeSet<String> = documented.keys().cloned().collect();
    let missing: Vec<_> = operations.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&operations).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/reference/routes.md misses {missing:?} and lists {extra:?}, which api/openapi.json does not have"
    );
    for (route, function) in dev_gateway::routes::all() {
        assert_eq!(
            documented[route],
            function.name(),
            "the function docs/reference/routes.md names for {route}"
        );
    }
}

/// The environment variables the functions and the dev gateway read: the
/// names handed to the readers of `shared::config`, the cleanup's settings,
/// the notifier's bus and the dev gateway (`get`, `non_empty`, `number`,
/// `env_or`, `std::env::var`…).
fn variables_the_code_reads() -> BTreeMap<String, String> {
    const READERS: &[&str] = &[
        "get",
        "non_empty",
        "set",
        "inline",
        "number",
        "token",
        "env_or",
        "var",
        "var_os",
        "Missing",
    ];
    let mut dirs = vec![root().join("shared/src"), root().join("dev/gateway/src")];
    for entry in std::fs::read_dir(root().join("functions")).unwrap() {
        dirs.push(entry.unwrap().path().join("src"));
    }
    let mut found = BTreeMap::new();
    let mut stack = dirs;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = read(&path);
            let mut rest = source.as_str();
            while let Some(at) = rest.find("(\"") {
                let reader = rest[..at]
                    .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("");
                let literal = rest[at + 2..].split('"').next().unwrap_or("");
                let is_variable = literal.len() > 2
                    && literal.starts_with(|c: char| c.is_ascii_uppercase())
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if READERS.contains(&reader) && is_variable {
                    let file = path.strip_prefix(root()).unwrap().display().to_string();
                    found.entry(literal.to_owned()).or_insert(file);
                }
                rest = &rest[at + 2..];
            }
        }
    }
    found
}

/// The variables the configuration page documents: the code spans in
/// SCREAMING_CASE of its tables' first column.
fn documented_variables() -> BTreeSet<String> {
    let text = read(&root().join("docs/reference/configuration.md"));
    table_rows(&text)
        .iter()
        .flat_map(|row| code_spans(&row[0]).into_iter().map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| {
            s.len() > 2
                && s.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect()
}

#[test]
fn the_configuration_page_documents_every_variable_the_code_reads() {
    let read_by_code = variables_the_code_reads();
    // Read for the functions by Lambda's runtime (its tracing subscriber), not
    // by our code: documented all the same, as the template sets them.
    let read_by_the_runtime = ["AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_LOG_FORMAT", "RUST_LOG"];
    assert!(
        read_by_code.contains_key("TABLE_NAME") && read_by_code.contains_key("EVENT_BUS_NAME"),
        "the scan finds the variables it should: {read_by_code:?}"
    );
    let documented = documented_variables();
    let undocumented: Vec<String> = read_by_code
        .iter()
        .filter(|(name, _)| !documented.contains(*name))
        .map(|(name, file)| format!("{name} (read in {file})"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/reference/configuration.md misses: {undocumented:?}"
    );
    let stale: Vec<&String> = documented
        .iter()
        .filter(|name| !read_by_code.contains_key(*name) && !read_by_the_runtime.contains(&name.as_str()))
        .collect();
    assert!(stale.is_empty(), "documented but read by nothing: {stale:?}");
}

fn template() -> Yaml {
    YamlLoader::load_from_str(&read(&root().join("template.yaml")))
        .unwrap()
        .remove(0)
}

fn keys_of(section: &Yaml) -> BTreeSet<String> {
    section
        .as_hash()
        .map(|h| h.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The code spans of the first column of the table under `heading` (`##`).
fn first_column_under(text: &str, heading: &str) -> BTreeSet<String> {
    let section: String = text
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("no '## {heading}' section"))
        .to_owned();
    table_rows(&section)
        .iter()
        .flat_map(|row| code_spans(&row[0]).into_iter().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

#[test]
fn the_configuration_page_lists_every_template_parameter_and_output() {
    let text = read(&root().join("docs/reference/configuration.md"));
    let t = template();
    assert_eq!(
        first_column_under(&text, "Template parameters"),
        keys_of(&t["Parameters"]),
        "docs/reference/configuration.md's parameters and template.yaml's"
    );
    assert_eq!(
        first_column_under(&text, "Stack outputs"),
        keys_of(&t["Outputs"]),
        "docs/reference/configuration.md's outputs and template.yaml's"
    );
}

#[test]
fn the_link_and_anchor_readers_read_what_a_code_host_renders() {
    let page = "# Who may do what\n\nSee [the map](../README.md#documentation-map) and `[no](link)`.\n\
                ```sh\n[not](a-link)\n```\n## Who may do what\n## `make dev`, then curl\n";
    assert_eq!(links(page), ["../README.md#documentation-map"]);
    let found = anchors(page);
    assert!(found.contains("who-may-do-what") && found.contains("who-may-do-what-1"));
    assert!(found.contains("make-dev-then-curl"), "{found:?}");
    assert_eq!(
        normalise(Path::new("docs/guides/../reference/./routes.md")),
        Path::new("docs/reference/routes.md")
    );
    assert_eq!(code_spans("`PUT`, `PATCH /v1/x`"), ["PUT", "PATCH /v1/x"]);
}

/// The rows of the first table after the line `heading` in `text`
/// (its header row included).
fn table_after(text: &str, heading: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == heading)
        .unwrap_or_else(|| panic!("no line {heading:?}"));
    let table: Vec<&str> = lines[at + 1..]
        .iter()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .copied()
        .collect();
    table_rows(&table.join("\n"))
}

/// The access-pattern table of `keys.rs`'s module docs (the owner of every
/// key) and that of the architecture page say the same, and name only the
/// table and indexes `shared::store::table` declares, every one of them.
#[test]
fn the_architecture_page_lists_the_access_patterns_of_the_keys_module() {
    let source = read(&root().join("shared/src/store/keys.rs"));
    let module_docs: String = source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let in_code = table_after(&module_docs, "## Access patterns");
    let in_docs = table_after(&read(&root().join("docs/architecture.md")), "### Access patterns");
    assert!(in_code.len() > 30, "the keys module's table: {in_code:?}");
    assert_eq!(
        in_docs, in_code,
        "docs/architecture.md's access patterns differ from shared/src/store/keys.rs's module docs"
    );
    let declared: BTreeSet<&str> = shared::store::table::INDEXES.iter().map(|i| i.name).collect();
    let named: BTreeSet<&str> = in_code[1..]
        .iter()
        .flat_map(|row| row[1].split(", "))
        .filter(|n| *n != "table")
        .collect();
    assert_eq!(named, declared, "indexes the table names vs those declared");
    for row in &in_code {
        assert_eq!(row.len(), 4, "{row:?}");
    }
}
