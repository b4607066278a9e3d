//! The audit history of a tenant: events under its key, newest first.

use super::keys;
use super::records::{event_from_item, key_item};
use super::sdk::classify;
use super::Store;
use crate::domain::audit::AuditEvent;
use crate::domain::Tenant;
use crate::error::Result;

impl Store {
    /// Up to `limit` events of the tenant's current incarnation, newest
    /// first, older than version `before` if given; and the version to
    /// continue before, if there are more. One `Query`.
    pub async fn list_events(
        &self,
        tenant: &Tenant,
        limit: usize,
        before: Option<u64>,
    ) -> Result<(Vec<AuditEvent>, Option<u64>)> {
        let start = before.map(|version| key_item(&keys::event(&tenant.id, tenant.created_at, version)));
        let output = self
            .query_prefix(&keys::tenant(&tenant.id).pk, &keys::events_of(tenant.created_at))
            .scan_index_forward(false)
            .set_exclusive_start_key(start)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(classify)?;
        let mut events = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(event_from_item)
            .collect::<Result<Vec<_>>>()?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| e.version)
        } else {
            None
        };
        Ok((events, next))
    }
}
