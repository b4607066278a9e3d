//! Who is calling, from the claims API Gateway's JWT authoriser verified.
//!
//! The HTTP API authoriser hands claims over in
//! `requestContext.authorizer.jwt.claims` with every value turned into a
//! string: an array claim `["admin","operator"]` arrives as `"[admin operator]"`,
//! and `scope` as a space-separated string. Other front doors (a Lambda
//! authoriser) pass native JSON values in `requestContext.authorizer.lambda`.
//! Both are read here.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use super::Problem;
use crate::auth::{AuthConfig, Caller};

/// Reads the caller from the request context; no verified subject → 401.
/// Roles come from the claim `config.roles_claim`, permissions from `scope`
/// and `permissions`.
pub fn caller(req: &Request, config: &AuthConfig) -> Result<Caller, Problem> {
    let missing = || Problem::unauthorized("no verified caller: send a bearer token");
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return Err(missing());
    };
    let authorizer = ctx.authorizer.as_ref().ok_or_else(missing)?;
    if let Some(jwt) = authorizer
        .jwt
        .as_ref()
        .filter(|jwt| jwt.claims.get("sub").is_some_and(|s| !s.is_empty()))
    {
        let claim = |name: &str| jwt.claims.get(name).map(|v| string_list(v)).unwrap_or_default();
        let mut permissions = claim("scope");
        permissions.extend(claim("permissions"));
        return Ok(Caller::new(
            jwt.claims["sub"].clone(),
            claim(&config.roles_claim),
            permissions,
            config,
        ));
    }
    let fields = &authorizer.fields;
    let subject = fields
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(missing)?;
    let list = |name: &str| fields.get(name).map(value_list).unwrap_or_default();
    let mut permissions = list("scope");
    permissions.extend(list("permissions"));
    Ok(Caller::new(
        subject.to_owned(),
        list(&config.roles_claim),
        permissions,
        config,
    ))
}

/// A list claim in any of the forms it arrives in: `"[a b]"` (the HTTP API
/// authoriser's rendering of an array), `"[\"a\",\"b\"]"` (JSON text), or
/// `"a b"` (a space-separated scope).
pub fn string_list(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    if raw.starts_with('[') {
        if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(raw) {
            return value_list(&Value::Array(items));
        }
        let inner = raw.trim_start_matches('[').trim_end_matches(']');
        return inner.split_whitespace().map(str::to_owned).collect();
    }
    raw.split_whitespace().map(str::to_owned).collect()
}

/// A list from a native JSON value: an array of strings, or a string.
pub fn value_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Value::String(s) => string_list(s),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_list_form() {
        assert_eq!(string_list("[admin operator]"), ["admin", "operator"]);
        assert_eq!(string_list(r#"["admin","operator"]"#), ["admin", "operator"]);
        assert_eq!(
            string_list("tenants:read tenants:write"),
            ["tenants:read", "tenants:write"]
        );
        assert_eq!(string_list("[]"), Vec::<String>::new());
        assert_eq!(string_list(""), Vec::<String>::new());
        assert_eq!(value_list(&json!(["a", "b"])), ["a", "b"]);
    }

    fn request(authorizer: Value) -> Request {
        let event = json!({
            "version": "2.0", "routeKey": "GET /v1/tenants", "rawPath": "/v1/tenants", "rawQueryString": "",
            "headers": {}, "isBase64Encoded": false,
            "requestContext": {
                "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d", "requestId": "r",
                "routeKey": "GET /v1/tenants", "stage": "$default", "time": "", "timeEpoch": 0,
                "http": {"method": "GET", "path": "/v1/tenants", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
                "authorizer": authorizer
            }
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn reads_the_jwt_authoriser_string_form() {
        let req = request(
            json!({"jwt": {"claims": {"sub": "alice", "roles": "[admin operator]", "scope": "tenants:read tenants:write"}, "scopes": null}}),
        );
        let c = caller(&req, &AuthConfig::default()).unwrap();
        assert_eq!(c.subject, "alice");
        assert_eq!(c.roles, ["admin", "operator"]);
        assert_eq!(c.permissions, ["tenants:read", "tenants:write"]);
    }

    #[test]
    fn reads_native_json_arrays_from_a_lambda_authoriser() {
        let req = request(json!({"lambda": {"sub": "bob", "roles": ["viewer"], "permissions": ["tenants:read"]}}));
        let c = caller(&req, &AuthConfig::default()).unwrap();
        assert_eq!(
            (c.subject.as_str(), c.roles.as_slice(), c.permissions.as_slice()),
            ("bob", &["viewer".to_string()][..], &["tenants:read".to_string()][..])
        );
    }

    #[test]
    fn no_subject_is_unauthorised() {
        assert_eq!(
            caller(
                &request(json!({"jwt": {"claims": {}, "scopes": null}})),
                &AuthConfig::default()
            )
            .unwrap_err()
            .status
            .as_u16(),
            401
        );
        let no_authorizer = http::Request::builder().body(lambda_http::Body::Empty).unwrap();
        assert_eq!(
            caller(&no_authorizer, &AuthConfig::default())
                .unwrap_err()
                .status
                .as_u16(),
            401
        );
    }
}
