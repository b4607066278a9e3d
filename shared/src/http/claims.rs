//! Who is calling, from the claims API Gateway's JWT authoriser verified.
//!
//! The HTTP API authoriser hands claims over in
//! `requestContext.authorizer.jwt.claims` with every value turned into a
//! string: an array claim `["admin","operator"]` arrives as `"[admin operator]"`,
//! and `scope` as a space-separated string. Other front doors (a Lambda
//! authoriser) pass native JSON values in `requestContext.authorizer.lambda`.
//! Both are read here.
//!
//! Roles decide who is a platform admin, so they are read strictly. A role
//! is one whole token: an element of a native array is kept whole and
//! refused (401 `invalid-claim`, naming the claim) if it holds whitespace,
//! a bracket or a quote; of the wire form only the one outer bracket pair
//! is unwrapped, so `[admin]` inside an element, a quoted `"admin"` or a
//! nested array never equals a role. The wire form cannot tell the role
//! `"not tenancy:admin"` from the two roles `not` and `tenancy:admin`; the
//! token in the `Authorization` header (the authoriser's identity source,
//! already verified) can, so when its claims render to exactly what the
//! authoriser passed, its native roles array is read instead.
//! The permissions claims (`PERMISSIONS_CLAIMS`: `scope` and `permissions`
//! by default, `scp` for Okta and Microsoft Entra ID) are read the same way:
//! a wire string is split on spaces (`scope` is a space-separated string by
//! definition; Entra's `scp` too), with the authoriser's brackets around an
//! array unwrapped (Okta's `scp`, Auth0's `permissions`); when the verified
//! token holds the claim as a native array, each element is one whole
//! permission, and one with a space is refused. `PERMISSION_PREFIX` is then
//! applied by [`Caller::new`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};

use super::Problem;
use crate::auth::{is_role_token, AuthConfig, Caller};
use crate::{Code, FieldError};

/// Reads the caller from the request context; no verified subject → 401.
/// Roles come from the claim `config.roles_claim`, permissions from each of
/// `config.permissions_claims` in turn.
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
        let subject = jwt.claims["sub"].clone();
        // The roles and the permissions are read strictly: an element of a
        // native array is one whole token; a string (`scope`, Entra's `scp`)
        // is split on spaces, as OAuth defines it.
        let strict = |name: &str| match jwt.claims.get(name) {
            None => Ok(Vec::new()),
            Some(wire) => match verified_token_claim(req, &subject, name, wire) {
                // A string in the token reads as its wire form would (never as
                // JSON text), so that a header that is not the verified token
                // can only ever refuse, never grant.
                None | Some(Value::String(_)) => Ok(wire_list(wire)),
                Some(native) => native_list(name, &native),
            },
        };
        let mut permissions = Vec::new();
        for claim in config.permissions_claims.names() {
            permissions.extend(strict(claim)?);
        }
        let roles = strict(&config.roles_claim)?;
        return Ok(Caller::new(subject, roles, permissions, config));
    }
    let fields = &authorizer.fields;
    let subject = fields
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(missing)?;
    let list = |name: &str| fields.get(name).map(|v| native_list(name, v)).unwrap_or(Ok(Vec::new()));
    let mut permissions = Vec::new();
    for claim in config.permissions_claims.names() {
        permissions.extend(list(claim)?);
    }
    Ok(Caller::new(
        subject.to_owned(),
        list(&config.roles_claim)?,
        permissions,
        config,
    ))
}

/// 401 naming the claim that is not a list of whole roles.
fn invalid_claim(claim: &str, why: &str) -> Problem {
    let message = format!("{why}: each must be one token without spaces, brackets or quotes");
    Problem {
        errors: vec![FieldError::new(claim, message.clone())],
        ..Problem::new(
            StatusCode::UNAUTHORIZED,
            Code::InvalidClaim,
            "Invalid claim",
            format!("the token's claim '{claim}' is not a list of roles or permissions: {message}"),
        )
    }
}

/// A list claim as the HTTP API authoriser renders it: `"[a b]"` for an
/// array (only that one outer pair is unwrapped; elements stay as they
/// are, brackets and quotes included), or a space-separated string
/// (`scope`, or a string claim).
pub fn wire_list(raw: &str) -> Vec<String> {
    let inner = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(raw);
    inner.split_whitespace().map(str::to_owned).collect()
}

/// A list claim from a native JSON value: an array whose every element is
/// a whole token; a string holding such an array as JSON text (the same
/// rules); any other string in the wire form.
pub fn native_list(claim: &str, value: &Value) -> Result<Vec<String>, Problem> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) if is_role_token(s) => Ok(s.clone()),
                Value::String(_) => Err(invalid_claim(claim, "an element holds a space, a bracket or a quote")),
                _ => Err(invalid_claim(claim, "an element is not a string")),
            })
            .collect(),
        Value::String(s) if s.starts_with('[') => match serde_json::from_str::<Value>(s) {
            Ok(array @ Value::Array(_)) => native_list(claim, &array),
            _ => Ok(wire_list(s)),
        },
        Value::String(s) => Ok(wire_list(s)),
        Value::Null => Ok(Vec::new()),
        _ => Err(invalid_claim(claim, "it is neither an array nor a string")),
    }
}

/// A claim's value as the HTTP API authoriser renders it: strings as they
/// are, arrays as `[a b]`, objects as `map[k:v]` (Go's formatting, keys in
/// order), numbers and booleans as their text, null as nothing.
pub fn rendered(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(rendered).collect::<Vec<_>>().join(" ")),
        Value::Object(members) => {
            let inner: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{}", rendered(v))).collect();
            format!("map[{}]", inner.join(" "))
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The native value of `claim` in the bearer token of the request, if that
/// token is the one the authoriser verified: same `sub`, and the claim
/// renders to exactly the `wire` string it passed. The signature is not
/// checked here (API Gateway did, on this header); the comparison keeps a
/// header that is not that token from being read at all.
fn verified_token_claim(req: &Request, subject: &str, claim: &str, wire: &str) -> Option<Value> {
    let header = req.headers().get(http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        Some(_) => return None,
        None => header,
    };
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let mut claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    if claims.get("sub").and_then(Value::as_str) != Some(subject) {
        return None;
    }
    let value = claims.remove(claim)?;
    (rendered(&value) == wire).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_list_form() {
        assert_eq!(wire_list("[admin operator]"), ["admin", "operator"]);
        assert_eq!(
            wire_list("tenants:read tenants:write"),
            ["tenants:read", "tenants:write"]
        );
        assert_eq!(wire_list("[]"), Vec::<String>::new());
        assert_eq!(wire_list(""), Vec::<String>::new());
        let native = |v: Value| native_list("roles", &v).unwrap();
        assert_eq!(native(json!(["a", "b"])), ["a", "b"]);
        assert_eq!(native(json!(r#"["admin","operator"]"#)), ["admin", "operator"]);
        assert_eq!(native(json!("[a b]")), ["a", "b"]);
        assert_eq!(
            native(json!("tenants:read tenants:write")),
            ["tenants:read", "tenants:write"]
        );
        assert_eq!(native(Value::Null), Vec::<String>::new());
    }

    fn request(authorizer: Value) -> Request {
        request_with(authorizer, None)
    }

    fn request_with(authorizer: Value, bearer: Option<&str>) -> Request {
        let headers = match bearer {
            Some(token) => json!({"authorization": format!("Bearer {token}")}),
            None => json!({}),
        };
        let event = json!({
            "version": "2.0", "routeKey": "GET /v1/tenants", "rawPath": "/v1/tenants", "rawQueryString": "",
            "headers": headers, "isBase64Encoded": false,
            "requestContext": {
                "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d", "requestId": "r",
                "routeKey": "GET /v1/tenants", "stage": "$default", "time": "", "timeEpoch": 0,
                "http": {"method": "GET", "path": "/v1/tenants", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
                "authorizer": authorizer
            }
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    /// A token whose payload is `claims` (the signature is API Gateway's
    /// business, not the function's).
    fn token(claims: &Value) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", part(&json!({"alg": "RS256"})), part(claims))
    }

    /// What the HTTP API authoriser hands over for a token with `roles`,
    /// with the token itself in the Authorization header or not.
    fn jwt_caller(roles: &Value, with_header: bool) -> Result<Caller, Problem> {
        let claims = json!({"sub": "mallory", "roles": roles, "scope": "tenants:list"});
        caller(&jwt_request(&claims, with_header), &AuthConfig::default())
    }

    /// The request the HTTP API authoriser makes of a token with `claims`.
    fn jwt_request(claims: &Value, with_header: bool) -> Request {
        let rendered: serde_json::Map<String, Value> = claims
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(rendered(v))))
            .collect();
        let bearer = with_header.then(|| token(claims));
        request_with(json!({"jwt": {"claims": rendered, "scopes": null}}), bearer.as_deref())
    }

    /// The `permissions` array is read as strictly as the roles: an element
    /// with a space is refused, never split into two permissions.
    #[test]
    fn a_permission_is_one_whole_token_too() {
        let claims = json!({"sub": "mallory", "permissions": ["x tenants:delete"], "scope": "tenants:list"});
        let problem = caller(&jwt_request(&claims, true), &AuthConfig::default()).unwrap_err();
        assert_eq!((problem.status.as_u16(), problem.code), (401, Code::InvalidClaim));
        assert_eq!(problem.errors[0].field, "permissions");
        let claims = json!({"sub": "mallory", "permissions": ["tenants:delete"], "scope": "tenants:list"});
        let c = caller(&jwt_request(&claims, true), &AuthConfig::default()).unwrap();
        assert_eq!(c.permissions, ["tenants:list", "tenants:delete"]);
    }

    fn config(permission_prefix: Option<&str>, permissions_claims: &str) -> AuthConfig {
        AuthConfig {
            permission_prefix: permission_prefix.map(|p| crate::auth::PermissionPrefix::parse(p).unwrap()),
            permissions_claims: crate::auth::PermissionsClaims::parse(permissions_claims).unwrap(),
            ..AuthConfig::default()
        }
    }

    /// Issue 24: the permissions claims are configurable (Okta's `scp`
    /// array, Entra's `scp` string), each read with the rules above; the
    /// claims not listed grant nothing.
    #[test]
    fn permissions_come_from_the_configured_claims() {
        let okta = json!({"sub": "00u1", "scp": ["tenants:read", "tenants:list"], "scope": "tenants:write"});
        let entra = json!({"sub": "x", "scp": "tenants:read tenants:list", "permissions": ["tenants:write"]});
        let scp = config(None, "scp");
        for claims in [&okta, &entra] {
            for with_header in [true, false] {
                let c = caller(&jwt_request(claims, with_header), &scp).unwrap();
                assert_eq!(
                    c.permissions,
                    ["tenants:read", "tenants:list"],
                    "{claims} {with_header}"
                );
            }
        }
        // The default list does not read `scp`.
        let c = caller(&jwt_request(&okta, true), &AuthConfig::default()).unwrap();
        assert_eq!(c.permissions, ["tenants:write"]);
        // Several claims, in the configured order.
        let c = caller(&jwt_request(&entra, true), &config(None, "permissions scp")).unwrap();
        assert_eq!(c.permissions, ["tenants:write", "tenants:read", "tenants:list"]);
        // Through a Lambda authoriser too.
        let lambda = request(json!({"lambda": {"sub": "x", "scp": ["tenants:read"], "scope": "tenants:write"}}));
        assert_eq!(caller(&lambda, &scp).unwrap().permissions, ["tenants:read"]);
    }

    /// A native array in the verified token is read strictly whichever
    /// permissions claim holds it (`scope` included): an element with a
    /// space is refused, naming the claim, never split into two permissions.
    #[test]
    fn every_permissions_claim_is_read_as_strictly_as_the_roles() {
        for (claims, list, claim) in [
            (
                json!({"sub": "m", "scp": ["tenants:read", "x tenants:delete"]}),
                "scp",
                "scp",
            ),
            (
                json!({"sub": "m", "scope": ["x tenants:delete"]}),
                "scope permissions",
                "scope",
            ),
            (json!({"sub": "m", "scp": [["tenants:delete"]]}), "scp", "scp"),
            (json!({"sub": "m", "scp": {"a": "tenants:delete"}}), "scp", "scp"),
        ] {
            let problem = caller(&jwt_request(&claims, true), &config(None, list)).unwrap_err();
            assert_eq!(
                (problem.status.as_u16(), problem.code),
                (401, Code::InvalidClaim),
                "{claims}"
            );
            assert_eq!(problem.errors[0].field, claim, "{claims}");
            assert!(problem.detail.contains(&format!("'{claim}'")), "{}", problem.detail);
        }
        // A string in the token is split, as the wire form is.
        let claims = json!({"sub": "m", "scope": "openid tenants:read"});
        let c = caller(&jwt_request(&claims, true), &AuthConfig::default()).unwrap();
        assert_eq!(c.permissions, ["openid", "tenants:read"]);
        // The wire form alone unwraps only the outer brackets: `[tenants:delete]`
        // inside an element stays whole and grants nothing.
        let claims = json!({"sub": "m", "scp": [["tenants:delete"]]});
        let c = caller(&jwt_request(&claims, false), &config(None, "scp")).unwrap();
        assert!(!c.has(crate::auth::Permission::TenantsDelete), "{:?}", c.permissions);
    }

    /// Amazon Cognito's scopes, as the authoriser passes them: the prefix is
    /// stripped; the bare name and another resource server's scope grant nothing.
    #[test]
    fn the_permission_prefix_applies_to_every_claim() {
        use crate::auth::Permission;
        let claims = json!({
            "sub": "c0ffee", "cognito:groups": ["tenancy:admin"], "token_use": "access",
            "scope": "openid https://tenancy.example.com/tenants:read https://other.example.com/tenants:write tenants:list",
            "permissions": ["https://tenancy.example.com/members:read", "members:write"],
        });
        let cognito = AuthConfig {
            roles_claim: "cognito:groups".into(),
            ..config(Some("https://tenancy.example.com/"), "scope permissions")
        };
        for with_header in [true, false] {
            let c = caller(&jwt_request(&claims, with_header), &cognito).unwrap();
            assert_eq!(c.permissions, ["tenants:read", "members:read"]);
            assert!(c.has(Permission::TenantsRead) && c.has(Permission::MembersRead));
            assert!(!c.has(Permission::TenantsWrite) && !c.has(Permission::TenantsList));
            assert!(!c.has(Permission::MembersWrite));
            assert!(c.platform_admin);
        }
    }

    fn lambda_caller(roles: Value) -> Result<Caller, Problem> {
        caller(
            &request(json!({"lambda": {"sub": "mallory", "roles": roles}})),
            &AuthConfig::default(),
        )
    }

    /// The claim is refused: 401, a stable code, the claim named.
    #[track_caller]
    fn refused(result: Result<Caller, Problem>, form: &str) {
        match result {
            Err(p) => {
                assert_eq!((p.status.as_u16(), p.code), (401, Code::InvalidClaim), "{form}");
                assert!(p.detail.contains("'roles'"), "{form}: {}", p.detail);
                assert_eq!(p.errors[0].field, "roles", "{form}");
            }
            Ok(c) => panic!("{form}: accepted as {:?}", c.roles),
        }
    }

    /// Issue 17, item 1: no spelling of a role claim makes a caller a
    /// platform admin (or a creator) unless one whole role is the role.
    #[test]
    fn only_a_whole_role_is_the_admin_role() {
        // (form, the roles claim as a JSON value in the token, admin?)
        let cases: &[(&str, Value, bool)] = &[
            ("one role", json!(["tenancy:admin"]), true),
            ("two roles", json!(["viewer", "tenancy:admin"]), true),
            ("a string claim", json!("tenancy:admin"), true),
            ("the old admin role", json!(["admin"]), false),
            ("a phrase", json!(["not admin"]), false),
            ("a phrase with the role", json!(["viewer admin"]), false),
            ("bracketed inside", json!(["[tenancy:admin]"]), false),
            ("quoted inside", json!(["\"tenancy:admin\""]), false),
            ("nested", json!([["tenancy:admin"]]), false),
            ("nested and quoted", json!([["\"tenancy:admin\""]]), false),
            ("a prefix", json!(["tenancy:admin2"]), false),
            ("another case", json!(["Tenancy:Admin"]), false),
        ];
        for (form, roles, admin) in cases {
            // The wire form alone (no token to read): only the outer pair is unwrapped.
            let c = jwt_caller(roles, false).unwrap_or_else(|p| panic!("{form}: {p:?}"));
            assert_eq!(
                c.platform_admin,
                *admin,
                "{form}: wire form {:?} read as {:?}",
                rendered(roles),
                c.roles
            );
            assert_eq!(c.may_create_top_level, *admin, "{form}");
            // Through a Lambda authoriser, as native JSON.
            match lambda_caller(roles.clone()) {
                Ok(c) => assert_eq!(c.platform_admin, *admin, "{form}: native {roles} read as {:?}", c.roles),
                Err(p) => assert!(!admin, "{form}: {p:?}"),
            }
        }
        // What no wire form can tell apart from two roles, the token itself can.
        let phrase = json!(["not tenancy:admin"]);
        assert_eq!(rendered(&phrase), "[not tenancy:admin]");
        refused(jwt_caller(&phrase, true), "a phrase, with the token");
        refused(lambda_caller(phrase), "a phrase, native");
        for roles in [
            json!(["viewer tenancy:admin"]),
            json!(["[tenancy:admin]"]),
            json!(["\"tenancy:admin\""]),
            json!([["tenancy:admin"]]),
            json!(["tenancy:admin\tx"]),
            json!([42]),
            json!({"admin": true}),
        ] {
            refused(jwt_caller(&roles, true), &format!("{roles} with the token"));
            refused(lambda_caller(roles.clone()), &format!("{roles} native"));
        }
        // JSON text in a string applies the same element rules.
        for text in [
            r#"["not tenancy:admin"]"#,
            r#"["[tenancy:admin]"]"#,
            r#"[["tenancy:admin"]]"#,
        ] {
            refused(lambda_caller(json!(text)), text);
        }
        assert!(
            lambda_caller(json!(r#"["viewer","tenancy:admin"]"#))
                .unwrap()
                .platform_admin
        );
        // The same through the token: a clean array is read whole.
        let ok = jwt_caller(&json!(["viewer", "tenancy:admin"]), true).unwrap();
        assert!(ok.platform_admin && ok.roles == ["viewer", "tenancy:admin"]);
    }

    #[test]
    fn a_token_that_is_not_the_verified_one_is_not_read() {
        // Another token in the header (the claims do not render to what the
        // authoriser verified): the verified wire form wins.
        let verified = json!({"sub": "mallory", "roles": "[viewer]"});
        let other = token(&json!({"sub": "mallory", "roles": ["tenancy:admin"]}));
        let c = caller(
            &request_with(json!({"jwt": {"claims": verified, "scopes": null}}), Some(&other)),
            &AuthConfig::default(),
        )
        .unwrap();
        assert_eq!(
            (c.roles.as_slice(), c.platform_admin),
            (&["viewer".to_string()][..], false)
        );
        // A string claim in the token that reads as JSON text is still read
        // as the wire form: a quoted element never becomes a role.
        let quoted = json!({"sub": "mallory", "roles": r#"["tenancy:admin"]"#});
        let wire = json!({"sub": "mallory", "roles": r#"["tenancy:admin"]"#});
        let c = caller(
            &request_with(json!({"jwt": {"claims": wire, "scopes": null}}), Some(&token(&quoted))),
            &AuthConfig::default(),
        )
        .unwrap();
        assert!(!c.platform_admin, "{:?}", c.roles);
        // Garbage in the header: the wire form.
        let c = caller(
            &request_with(
                json!({"jwt": {"claims": {"sub": "a", "roles": "[tenancy:admin]"}, "scopes": null}}),
                Some("not.a.token"),
            ),
            &AuthConfig::default(),
        )
        .unwrap();
        assert!(c.platform_admin);
    }

    #[test]
    fn renders_claims_like_the_http_api_authoriser() {
        let claims = json!({"roles": ["admin", "operator"], "nested": [["a"], "b"], "exp": 12, "flag": true, "o": {"k": "v"}, "n": null});
        let r = |k: &str| rendered(&claims[k]);
        assert_eq!(
            (r("roles"), r("nested"), r("exp"), r("flag"), r("o"), r("n")),
            (
                "[admin operator]".into(),
                "[[a] b]".into(),
                "12".into(),
                "true".into(),
                "map[k:v]".into(),
                String::new()
            )
        );
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
