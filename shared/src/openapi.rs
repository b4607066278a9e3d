//! The OpenAPI 3.1 document of the whole API: written as YAML in
//! `api/openapi/`, merged into `api/openapi.json` by `make openapi`, and
//! served as is by `GET /v1/openapi.json`. Tests keep it equal to the YAML
//! and to the code (routes, permissions, statuses, schemas).

/// The document, as served: `api/openapi.json` minified by `build.rs`.
pub const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// The route that serves it, without a token.
pub const ROUTE: &str = "GET /v1/openapi.json";

#[cfg(test)]
mod tests {
    use super::DOCUMENT;

    const COMMITTED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../api/openapi.json"));

    #[test]
    fn the_served_document_is_the_committed_one_minified() {
        let served: serde_json::Value = serde_json::from_str(DOCUMENT).expect("the served document is JSON");
        let committed: serde_json::Value = serde_json::from_str(COMMITTED).expect("api/openapi.json is JSON");
        assert_eq!(served, committed);
        assert!(!DOCUMENT.contains('\n'), "no line breaks left");
        assert!(
            DOCUMENT.len() * 10 < COMMITTED.len() * 8,
            "{} bytes of {}",
            DOCUMENT.len(),
            COMMITTED.len()
        );
        // Value equality ignores member order; the text without any whitespace does not.
        let bare = |text: &str| text.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert!(bare(DOCUMENT) == bare(COMMITTED), "members keep their order");
    }
}
