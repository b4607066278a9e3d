//! Memberships: a user's role on a tenant, which covers its descendants too.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::input::{self, reject, ObjectReader};
use super::values::UserId;
use super::{TenantId, Timestamp};
use crate::auth::TenantRole;
use crate::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: TenantRole,
    pub added_at: Timestamp,
    pub added_by: String,
}

/// Parses `{"role": "admin" | "operator" | "viewer"}`.
pub fn parse_role(body: &Map<String, Value>) -> Result<TenantRole, Vec<FieldError>> {
    let mut r = ObjectReader::new(body, "");
    let role = r.required("role", |v| {
        let s = input::as_str(v)?;
        match TenantRole::CHOICES.iter().find(|(n, _)| *n == s) {
            Some((_, role)) => Ok(*role),
            None => reject("must be one of: admin, operator, viewer"),
        }
    });
    let errors = r.finish();
    match role {
        Some(role) if errors.is_empty() => Ok(role),
        _ => Err(errors),
    }
}
