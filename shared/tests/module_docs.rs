//! Every module says first what it owns: a `//!` comment opens each source
//! file of the common crate, the functions and the dev gateway.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_opens_with_what_it_owns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("shared/src"), &mut files);
    for function in std::fs::read_dir(root.join("functions")).unwrap() {
        rust_files(&function.unwrap().path().join("src"), &mut files);
    }
    rust_files(&root.join("dev/gateway/src"), &mut files);
    assert!(files.len() > 80, "found only {} files", files.len());
    let undocumented: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            !text.trim_start().starts_with("//!")
        })
        .map(|file| file.strip_prefix(&root).unwrap_or(file).display().to_string())
        .collect();
    assert!(
        undocumented.is_empty(),
        "open these with a //! comment saying what the module owns: {undocumented:?}"
    );
}
