//! HS256 JSON Web Tokens for local development: what `make dev` prints and
//! what the dev gateway verifies in place of API Gateway's JWT authoriser
//! (which checks signature, `iss`, `aud`, `exp` and `nbf` the same way).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The dev issuer and audience, which template.yaml takes as parameters in AWS.
pub const DEV_ISSUER: &str = "tenancy-dev";
pub const DEV_AUDIENCE: &str = "tenancy";
/// The default dev secret; `TENANCY_DEV_SECRET` overrides it.
pub const DEV_SECRET: &str = "tenancy-local-development-secret";

#[derive(Debug, Clone)]
pub struct Verifier {
    pub secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("bad signature")]
    Signature,
    #[error("wrong issuer or audience")]
    Claims,
    #[error("token expired or not yet valid")]
    Expired,
}

fn mac(secret: &[u8], signing_input: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(signing_input.as_bytes());
    mac
}

/// Signs `claims` with HS256.
pub fn sign(claims: &Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &signing_input).finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// A dev token for `sub` with roles and a space-separated scope, valid for `ttl_seconds`.
pub fn dev_token(secret: &[u8], sub: &str, roles: &[String], scope: &str, now: i64, ttl_seconds: i64) -> String {
    let claims = json!({
        "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": sub, "roles": roles, "scope": scope,
        "iat": now, "nbf": now - 5, "exp": now + ttl_seconds,
    });
    sign(&claims, secret)
}

impl Verifier {
    pub fn dev(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
        }
    }

    /// Verifies signature, issuer, audience and validity window at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Map<String, Value>, JwtError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let decode = |part: &str| -> Result<Value, JwtError> {
            let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed)?;
            serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
        };
        if decode(header)?.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(JwtError::Algorithm);
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwtError::Malformed)?;
        mac(&self.secret, &format!("{header}.{payload}"))
            .verify_slice(&signature)
            .map_err(|_| JwtError::Signature)?;
        let Value::Object(claims) = decode(payload)? else {
            return Err(JwtError::Malformed);
        };
        // As API Gateway: `client_id` stands for a missing `aud` (Amazon
        // Cognito's access tokens carry no `aud`), and is not read when `aud` is there.
        let audience_ok = match claims.get("aud").or_else(|| claims.get("client_id")) {
            Some(Value::String(a)) => *a == self.audience,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(&self.audience)),
            _ => false,
        };
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) || !audience_ok {
            return Err(JwtError::Claims);
        }
        let expired = claims.get("exp").and_then(Value::as_i64).is_none_or(|exp| exp <= now);
        let early = claims.get("nbf").and_then(Value::as_i64).is_some_and(|nbf| nbf > now);
        if expired || early {
            return Err(JwtError::Expired);
        }
        Ok(claims)
    }
}

/// Renders claims as the HTTP API JWT authoriser passes them to Lambda:
/// every value a string; arrays as `[a b]`, objects as `map[k:v]` (its Go
/// formatting), numbers and booleans as their text. The functions' claims
/// parser compares a bearer token with this rendering, so both use one
/// definition ([`shared::http::claims::rendered`]).
pub fn authoriser_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(shared::http::claims::rendered(v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn signs_and_verifies() {
        let token = dev_token(b"secret", "alice", &["tenancy:admin".into()], "tenants:read", NOW, 60);
        let claims = Verifier::dev(b"secret").verify(&token, NOW).unwrap();
        assert_eq!(claims["sub"], "alice");
    }

    #[test]
    fn refuses_bad_tokens() {
        let token = dev_token(b"secret", "alice", &[], "", NOW, 60);
        let v = Verifier::dev(b"secret");
        assert_eq!(Verifier::dev(b"other").verify(&token, NOW), Err(JwtError::Signature));
        assert_eq!(v.verify(&token, NOW + 61), Err(JwtError::Expired));
        assert_eq!(v.verify("a.b", NOW), Err(JwtError::Malformed));
        let wrong_aud = sign(
            &json!({"iss": DEV_ISSUER, "aud": "x", "sub": "a", "exp": NOW + 9}),
            b"secret",
        );
        assert_eq!(v.verify(&wrong_aud, NOW), Err(JwtError::Claims));
        // `client_id` stands for a missing `aud` only.
        let client_id = |claims: Value| sign(&claims, b"secret");
        let cognito = json!({"iss": DEV_ISSUER, "client_id": DEV_AUDIENCE, "sub": "a", "exp": NOW + 9});
        assert!(v.verify(&client_id(cognito), NOW).is_ok());
        let both = json!({"iss": DEV_ISSUER, "aud": "x", "client_id": DEV_AUDIENCE, "sub": "a", "exp": NOW + 9});
        assert_eq!(v.verify(&client_id(both), NOW), Err(JwtError::Claims));
        let no_exp = sign(&json!({"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "a"}), b"secret");
        assert_eq!(v.verify(&no_exp, NOW), Err(JwtError::Expired));
        let mut tampered = token.clone();
        tampered.insert(tampered.find('.').unwrap() + 2, 'x');
        assert!(v.verify(&tampered, NOW).is_err());
    }

    #[test]
    fn renders_claims_like_the_http_api_authoriser() {
        let claims = json!({"sub": "a", "roles": ["tenancy:admin", "operator"], "nested": [["x"]], "exp": 12, "flag": true, "o": {"k": "v"}});
        let rendered = authoriser_claims(claims.as_object().unwrap());
        assert_eq!(rendered["roles"], "[tenancy:admin operator]");
        assert_eq!(rendered["nested"], "[[x]]");
        assert_eq!(rendered["exp"], "12");
        assert_eq!(rendered["flag"], "true");
        assert_eq!(rendered["o"], "map[k:v]");
    }
}
