//! Embeds `api/openapi.json` without its indentation: the committed document
//! stays pretty-printed for review, the served one (and the tenants binary)
//! carries about a third fewer bytes. Only whitespace outside strings goes,
//! so member order and every value stay exactly as written.

use std::path::PathBuf;

fn main() {
    let source = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../api/openapi.json");
    println!("cargo:rerun-if-changed={}", source.display());
    let pretty = std::fs::read_to_string(&source).expect("api/openapi.json is readable");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("openapi.min.json");
    std::fs::write(out, minify(&pretty)).expect("OUT_DIR is writable");
}

/// Drops JSON whitespace outside string literals (escapes inside strings kept).
fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}
