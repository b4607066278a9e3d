//! Background work that finishes a change too big for one transaction.
//!
//! The transaction that makes the change also writes a pending item naming
//! the work left (repath a moved subtree, rename children, delete a deleted
//! tenant's history). The request then does the work and deletes the item.
//! If it is cut off, the item stays, listed in GSI1's `PENDING` partition;
//! the next move and the scheduled clean-up finish it. Every step of the
//! work is conditional, so running it twice is harmless.

use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use serde::{Deserialize, Serialize};

use super::keys;
use super::records::{self, key_item, string_value, Item};
use super::sdk::classify;
use super::table::GSI1;
use super::Store;
use crate::domain::identity_provider::IdpId;
use crate::domain::{TenantId, Timestamp};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Work {
    /// Descendants still under `old_path` in the tree of `old_root` get the
    /// moved tenant's current path.
    MoveSubtree {
        tenant_id: TenantId,
        old_root: TenantId,
        old_path: String,
    },
    /// Direct children get the tenant's current name as `parentName`.
    RenameChildren { tenant_id: TenantId },
    /// The tenant's subtenants that had reseller `old` get `new` (with
    /// `force`, all of them): Netaxis' propagation to a tenant's groups.
    PropagateReseller {
        tenant_id: TenantId,
        old: Option<String>,
        new: Option<String>,
        force: bool,
    },
    /// The audit events, memberships and identity providers (with their
    /// mappings and domain claims) of a deleted tenant incarnation are removed.
    DeleteOwned {
        tenant_id: TenantId,
        incarnation: Timestamp,
        /// Whether it had identity providers (then their domain claims are released).
        #[serde(default = "yes")]
        identity_providers: bool,
        /// Whether it had deployments (metadata and bytes).
        #[serde(default = "yes")]
        deployments: bool,
    },
    /// The group mappings of a deleted identity provider incarnation are removed.
    DeleteGroupMappings {
        tenant_id: TenantId,
        identity_provider_id: IdpId,
        provider_created_at: Timestamp,
    },
}

fn yes() -> bool {
    true
}

/// A stored unit of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub id: String,
    pub at: Timestamp,
    #[serde(flatten)]
    pub work: Work,
}

impl Pending {
    pub fn new(work: Work) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            at: Timestamp::now(),
            work,
        }
    }

    /// The item that records it, for a [`WrittenWith`](super::tenants::WrittenWith).
    pub fn item(&self) -> Result<Item> {
        records::pending_item(&self.id, self.at, self)
    }
}

impl Store {
    /// Unfinished work, oldest first (one `Query`; normally empty).
    pub async fn pending(&self, limit: usize) -> Result<Vec<Pending>> {
        let output = self
            .query_partition(Some(&GSI1), keys::PENDING_LIST)
            .limit(limit as i32)
            .send()
            .await
            .map_err(classify)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable pending item: {e}")))
            })
            .collect()
    }

    /// Marks work done.
    pub async fn finish(&self, pending: &Pending) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::pending(&pending.id))))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Deletes every item under `pk` whose SK starts with `prefix` (and, if
    /// given, whose `tenantCreatedAt` is `incarnation`), in batches of 25
    /// with unprocessed items retried. Returns how many it deleted.
    pub async fn delete_prefix(&self, pk: &str, prefix: &str, incarnation: Option<Timestamp>) -> Result<usize> {
        self.delete_prefix_where(pk, prefix, incarnation.map(|i| (super::attributes::INCARNATION, i)))
            .await
    }

    /// Deletes the items under `pk` whose SK starts with `prefix` and, with a
    /// filter, whose timestamp attribute has the given value.
    pub async fn delete_prefix_where(
        &self,
        pk: &str,
        prefix: &str,
        filter: Option<(&str, Timestamp)>,
    ) -> Result<usize> {
        let mut deleted = 0;
        let mut start = None;
        loop {
            let mut request = self
                .query_prefix(pk, prefix)
                .projection_expression("#pk, #sk")
                .set_exclusive_start_key(start);
            if let Some((attribute, value)) = filter {
                request = request
                    .filter_expression("#filter = :filter")
                    .expression_attribute_names("#filter", attribute)
                    .expression_attribute_values(":filter", string_value(value.to_string()));
            }
            let output = request.limit(100).send().await.map_err(classify)?;
            for chunk in output.items.unwrap_or_default().chunks(25) {
                self.batch_delete(chunk.to_vec()).await?;
                deleted += chunk.len();
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(deleted),
            }
        }
    }

    pub(crate) async fn batch_delete(&self, keys: Vec<Item>) -> Result<()> {
        let mut requests: Vec<WriteRequest> = keys
            .into_iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map_err(Error::internal)?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<_>>()?;
        for attempt in 0..8u32 {
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(classify)?;
            requests = output
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(super::sdk::backoff(attempt + 1)).await;
        }
        Err(Error::Throttled)
    }
}
