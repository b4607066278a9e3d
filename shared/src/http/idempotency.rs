//! The `Idempotency-Key` header: a retried create returns the first answer.

use lambda_http::Request;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::Problem;
use crate::auth::Caller;
use crate::service::tenants::Idempotency;
use crate::store::keys;

pub const HEADER: &str = "idempotency-key";

/// The request's idempotency key, scoped to the caller, with the body's
/// fingerprint; `None` without the header.
pub fn from_request(req: &Request, caller: &Caller, body: &Map<String, Value>) -> Result<Option<Idempotency>, Problem> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| Problem::malformed_header("Idempotency-Key must be 1 to 255 visible ASCII characters"))?;
    // serde_json's maps are sorted, so equal bodies serialise equally.
    let canonical = serde_json::to_string(body).expect("a JSON map serialises");
    let fingerprint: String = Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Some(Idempotency {
        key: keys::idempotency(&caller.subject, key),
        fingerprint,
    }))
}
