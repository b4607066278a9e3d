//! The docs page at `/docs`: Redoc rendering `/v1/openapi.json`. The viewer
//! is one script the Makefile installs from npm into `.local/redoc`; the
//! page loads it from here, never from a CDN. It is Redoc 2: Redoc 3's
//! standalone bundle is an ES module (`import.meta`, `export`) that, loaded
//! as a classic script, rendered nothing, and that shows each tag's
//! operations page by page. `dev/docs-browser-test.py` checks the page in
//! headless Chromium: every operation rendered, no script error, nothing
//! fetched from elsewhere.

use bytes::Bytes;
use http::{header, Response, StatusCode};

/// Nothing but this server: the viewer's logo (cdn.redoc.ly) is refused by
/// the browser itself. Redoc styles inline and runs its search in a blob
/// worker.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; \
object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <title>Tenancy API</title>
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/redoc.standalone.js"></script>
  <script src="/docs/docs.js"></script>
</body>
</html>
"#;

/// Points the viewer at the document (a file, so the policy needs no inline script).
const SCRIPT: &str = r#"Redoc.init("/v1/openapi.json", { expandResponses: "200,201" }, document.getElementById("docs"));
"#;

fn viewer() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.local/redoc/redoc.standalone.js")
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, POLICY)
        .body(body.into())
        .expect("status and headers are valid")
}

/// The docs page or its script, for a path under `/docs`; `None` otherwise.
pub fn answer(method: &str, path: &str) -> Option<Response<Bytes>> {
    if method != "GET" {
        return None;
    }
    match path {
        "/docs" | "/docs/" => Some(respond(StatusCode::OK, "text/html; charset=utf-8", PAGE)),
        "/docs/docs.js" => Some(respond(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT)),
        "/docs/redoc.standalone.js" => Some(match std::fs::read(viewer()) {
            Ok(script) => respond(StatusCode::OK, "text/javascript; charset=utf-8", script),
            Err(_) => respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                "The docs viewer is not installed: run `make docs-viewer` (make dev does it).\n",
            ),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_page_and_nothing_else() {
        let page = answer("GET", "/docs").unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = String::from_utf8(page.body().to_vec()).unwrap();
        assert!(
            html.contains(r#"<script src="/docs/redoc.standalone.js">"#)
                && html.contains(r#"<script src="/docs/docs.js">"#)
        );
        assert!(!html.contains("https://"), "nothing from a CDN");
        assert!(page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
        let script = answer("GET", "/docs/docs.js").unwrap();
        let script = String::from_utf8(script.body().to_vec()).unwrap();
        assert!(script.contains(r#"Redoc.init("/v1/openapi.json""#));
        assert!(answer("POST", "/docs").is_none());
        assert!(answer("GET", "/v1/tenants").is_none());
    }
}
