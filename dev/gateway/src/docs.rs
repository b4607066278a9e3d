//! The docs page at `/docs`: Redoc rendering `/v1/openapi.json`. The viewer
//! is one script the Makefile installs from npm into `.local/redoc`; the
//! page loads it from here, never from a CDN.

use bytes::Bytes;
use http::{header, Response, StatusCode};

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tenancy API</title>
</head>
<body>
  <redoc spec-url="/v1/openapi.json"></redoc>
  <script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"#;

fn viewer() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.local/redoc/redoc.standalone.js")
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
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
        assert!(html.contains("spec-url=\"/v1/openapi.json\"") && html.contains("src=\"/docs/redoc.standalone.js\""));
        assert!(!html.contains("https://"), "nothing from a CDN");
        assert!(answer("POST", "/docs").is_none());
        assert!(answer("GET", "/v1/tenants").is_none());
    }
}
