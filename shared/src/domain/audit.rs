//! Audit history: one append-only event per change of a tenant, written in
//! the same transaction as the change, listing the fields it changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Tenant, TenantId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Updated,
    Moved,
    Retired,
    Restored,
}

impl Action {
    /// The action a change from `before` to `after` is.
    pub fn of(before: Option<&Tenant>, after: &Tenant) -> Self {
        match before {
            None => Self::Created,
            Some(b) if b.status != after.status && after.retired_at.is_some() => Self::Retired,
            Some(b) if b.retired_at.is_some() && after.retired_at.is_none() => Self::Restored,
            Some(b) if b.parent_id != after.parent_id => Self::Moved,
            Some(_) => Self::Updated,
        }
    }
}

/// A field's value before and after (`null`: absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub before: Value,
    pub after: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub tenant_id: TenantId,
    /// The tenant version the change produced.
    pub version: u64,
    pub at: Timestamp,
    pub actor: String,
    pub action: Action,
    pub changes: BTreeMap<String, FieldChange>,
    /// Why, as the caller said: the `reason` of a retire (also its
    /// `retireReason`) or of a restore (kept nowhere else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Bookkeeping fields every change touches; they are the event's own fields.
const NOT_CHANGES: &[&str] = &["version", "updatedAt", "updatedBy", "childCount", "subtenantCount"];

impl AuditEvent {
    pub fn of(before: Option<&Tenant>, after: &Tenant) -> Self {
        let action = Action::of(before, after);
        Self {
            tenant_id: after.id.clone(),
            version: after.version,
            at: after.updated_at,
            actor: after.updated_by.clone(),
            action,
            changes: bounded(field_changes(
                before.map(Tenant::view).as_ref(),
                &after.view(),
                NOT_CHANGES,
            )),
            reason: match action {
                Action::Retired => after.retire_reason.clone(),
                _ => None,
            },
        }
    }

    /// The event with the reason the caller gave for the change (if any;
    /// none given keeps what [`AuditEvent::of`] found).
    pub fn with_reason(self, reason: Option<&str>) -> Self {
        match reason {
            Some(reason) => Self {
                reason: Some(reason.to_owned()),
                ..self
            },
            None => self,
        }
    }
}

/// The largest JSON one side of a recorded change keeps. A tenant item may
/// be near DynamoDB's 400 KB (50 metadata entries in 4-byte characters),
/// and a change records a field twice: kept whole, the history item of such
/// a change would pass the limit and the change could never be written.
pub const MAX_CHANGE_SIDE_BYTES: usize = 32 * 1024;

/// What stands for a value left out of a record: its size and SHA-256 (of a
/// string's UTF-8 bytes, or of the value's compact JSON), so a reader still
/// sees that, and how much, it changed.
pub fn omitted(value: &Value) -> Value {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    serde_json::json!({
        "omitted": true,
        "bytes": text.len(),
        "sha256": super::deployment::sha256_hex(text.as_bytes()),
    })
}

/// `changes` with every side over [`MAX_CHANGE_SIDE_BYTES`] replaced by a
/// reference ([`omitted`]).
fn bounded(mut changes: BTreeMap<String, FieldChange>) -> BTreeMap<String, FieldChange> {
    for change in changes.values_mut() {
        for side in [&mut change.before, &mut change.after] {
            if side.to_string().len() > MAX_CHANGE_SIDE_BYTES {
                *side = omitted(side);
            }
        }
    }
    changes
}

/// The public (serialised) fields of `after` that differ from `before`
/// (everything, if there is no `before`), but for those in `skip`.
pub fn field_changes<T: Serialize>(before: Option<&T>, after: &T, skip: &[&str]) -> BTreeMap<String, FieldChange> {
    let as_map = |v: &T| match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let old = before.map(as_map).unwrap_or_default();
    let new = as_map(after);
    let mut changes = BTreeMap::new();
    for key in old.keys().chain(new.keys()) {
        if skip.contains(&key.as_str()) || changes.contains_key(key) {
            continue;
        }
        let (b, a) = (
            old.get(key).cloned().unwrap_or(Value::Null),
            new.get(key).cloned().unwrap_or(Value::Null),
        );
        if b != a {
            changes.insert(key.clone(), FieldChange { before: b, after: a });
        }
    }
    changes
}
