//! The workspace declares each dependency once: every member names its
//! crates with `workspace = true`, so a version is chosen in one place.

use std::path::Path;

fn member_manifests() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("the workspace manifest");
    let members = workspace
        .lines()
        .find_map(|line| line.strip_prefix("members = "))
        .expect("a members line in Cargo.toml");
    members
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|member| root.join(member.trim().trim_matches('"')).join("Cargo.toml"))
        .collect()
}

#[test]
fn every_member_takes_its_dependencies_from_the_workspace() {
    let mut outside = Vec::new();
    let manifests = member_manifests();
    assert!(manifests.len() >= 10, "members found: {manifests:?}");
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let mut in_dependencies = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_dependencies = line.ends_with("dependencies]");
                continue;
            }
            if in_dependencies && !line.is_empty() && !line.starts_with('#') && !line.contains("workspace = true") {
                outside.push(format!("{}: {line}", manifest.display()));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "declare these in [workspace.dependencies]:\n{}",
        outside.join("\n")
    );
}
