//! Paged tenant lists over sharded list partitions.
//!
//! A list is one `Query` per shard, run in parallel and merged in order.
//! With one shard (the default) a page is exactly one `Query`. The position
//! of every shard travels in the cursor, so a page costs the same whatever
//! the table's size, and paging never skips or repeats an item.

use std::cmp::Ordering;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::try_join_all;
use serde::{Deserialize, Serialize};

use super::keys::{self, ListBucket};
use super::records::{s, string_attr, tenant_from_item, Item};
use super::sdk::classify;
use super::table::{Index, BY_CREATED, BY_NAME, PK, SK};
use super::Store;
use crate::domain::{Status, Tenant, TenantId};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortField {
    Name,
    CreatedAt,
}

/// What a tenant list asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantListQuery {
    pub sort: SortField,
    pub descending: bool,
    /// Already in name-key form (lowercase).
    pub name_prefix: Option<String>,
    /// `None`: active and inactive tenants.
    pub status: Option<Status>,
    pub limit: usize,
}

/// One page of items and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<ListPosition>,
}

/// Where each shard of a list stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPosition {
    pub shards: Vec<ShardPosition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardPosition {
    Start,
    /// After the item with this index sort key and tenant id.
    After(String, String),
    Done,
}

/// Most `Query` calls one shard makes for one page when a filter drops
/// items; past it the page is returned short, with a cursor to go on.
const MAX_CALLS_PER_SHARD: usize = 4;

/// An item as the merge sees it: its place in the order, and the tenant.
struct Entry {
    at: (String, String),
    tenant: Tenant,
}

/// What one shard returned for a page.
struct ShardRead {
    entries: Vec<Entry>,
    /// The last item the shard evaluated, if it has more.
    frontier: Option<(String, String)>,
    previous: ShardPosition,
}

impl Store {
    #[tracing::instrument(skip(self, from))]
    pub async fn list_tenants(&self, query: &TenantListQuery, from: Option<&ListPosition>) -> Result<Page<Tenant>> {
        let start = match from {
            Some(position) if position.shards.len() == usize::from(self.list_shards) => position.clone(),
            Some(_) => {
                return Err(Error::invalid(
                    "cursor",
                    "is no longer valid: the list layout changed; start again",
                ))
            }
            None => ListPosition {
                shards: vec![ShardPosition::Start; usize::from(self.list_shards)],
            },
        };
        let reads = start
            .shards
            .into_iter()
            .enumerate()
            .map(|(shard, at)| self.read_shard(query, shard as u16, at));
        let reads = try_join_all(reads).await?;
        Ok(merge(reads, query.limit, query.descending))
    }

    async fn read_shard(&self, query: &TenantListQuery, shard: u16, at: ShardPosition) -> Result<ShardRead> {
        let mut read = ShardRead {
            entries: Vec::new(),
            frontier: None,
            previous: at.clone(),
        };
        let index = match query.sort {
            SortField::Name => BY_NAME,
            SortField::CreatedAt => BY_CREATED,
        };
        let bucket = if query.status == Some(Status::Retired) {
            ListBucket::Retired
        } else {
            ListBucket::Live
        };
        let partition = keys::tenant_list(bucket, shard);
        let mut start_key = match at {
            ShardPosition::Done => return Ok(read),
            ShardPosition::Start => None,
            ShardPosition::After(sort, id) => Some(start_key(index, &partition, &sort, &id)?),
        };
        for _ in 0..MAX_CALLS_PER_SHARD {
            let wanted = query.limit + 1 - read.entries.len();
            let output = self.query_page(query, index, &partition, start_key, wanted).await?;
            for item in output.items.unwrap_or_default() {
                let at = position_of(&item, index)?;
                read.entries.push(Entry {
                    at,
                    tenant: tenant_from_item(item)?,
                });
            }
            match output.last_evaluated_key {
                None => {
                    read.frontier = None;
                    return Ok(read);
                }
                Some(last) => {
                    read.frontier = Some(position_of(&last, index)?);
                    start_key = Some(last);
                }
            }
            if read.entries.len() > query.limit {
                break;
            }
        }
        Ok(read)
    }

    async fn query_page(
        &self,
        query: &TenantListQuery,
        index: Index,
        partition: &str,
        start_key: Option<Item>,
        limit: usize,
    ) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .expression_attribute_names("#pk", index.pk)
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(!query.descending)
            .set_exclusive_start_key(start_key)
            .limit(limit as i32);
        let mut key_condition = "#pk = :pk".to_owned();
        let mut filters = Vec::new();
        if let Some(prefix) = &query.name_prefix {
            request = request.expression_attribute_values(":prefix", s(prefix));
            if index == BY_NAME {
                request = request.expression_attribute_names("#sk", index.sk);
                key_condition.push_str(" AND begins_with(#sk, :prefix)");
            } else {
                request = request.expression_attribute_names("#nameKey", super::records::NAME_KEY);
                filters.push("begins_with(#nameKey, :prefix)");
            }
        }
        if let Some(status @ (Status::Active | Status::Inactive)) = query.status {
            request = request
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
            filters.push("#status = :status");
        }
        if !filters.is_empty() {
            request = request.filter_expression(filters.join(" AND "));
        }
        request
            .key_condition_expression(key_condition)
            .send()
            .await
            .map_err(classify)
    }
}

/// The `ExclusiveStartKey` of an index query after (sort, id).
fn start_key(index: Index, partition: &str, sort: &str, id: &str) -> Result<Item> {
    let id = TenantId::parse(id).map_err(|_| Error::invalid("cursor", "is not valid"))?;
    let key = keys::tenant(&id);
    Ok(Item::from([
        (PK.to_owned(), s(key.pk)),
        (SK.to_owned(), s(key.sk)),
        (index.pk.to_owned(), s(partition)),
        (index.sk.to_owned(), s(sort)),
    ]))
}

/// (index sort key, tenant id) of an item or of a `LastEvaluatedKey`.
fn position_of(item: &std::collections::HashMap<String, AttributeValue>, index: Index) -> Result<(String, String)> {
    let sort = string_attr(item, index.sk);
    let id = string_attr(item, PK).and_then(keys::tenant_id_of);
    match (sort, id) {
        (Some(sort), Some(id)) => Ok((sort.to_owned(), id.to_owned())),
        _ => Err(Error::internal(format!("list item without {} or tenant key", index.sk))),
    }
}

/// Merges the shards' reads into one ordered page. An item is only taken if
/// it sorts before every unfinished shard's frontier (what such a shard has
/// not evaluated yet could come first).
fn merge(mut reads: Vec<ShardRead>, limit: usize, descending: bool) -> Page<Tenant> {
    let order = |a: &(String, String), b: &(String, String)| if descending { b.cmp(a) } else { a.cmp(b) };
    let cutoff = reads
        .iter()
        .filter_map(|r| r.frontier.clone())
        .min_by(|a, b| order(a, b));

    let fetched: Vec<usize> = reads.iter().map(|r| r.entries.len()).collect();
    let mut candidates: Vec<(usize, Entry)> = reads
        .iter_mut()
        .enumerate()
        .flat_map(|(shard, read)| std::mem::take(&mut read.entries).into_iter().map(move |e| (shard, e)))
        .collect();
    candidates.sort_by(|(_, a), (_, b)| order(&a.at, &b.at));
    let mut taken_per_shard = vec![0usize; reads.len()];
    let mut last_taken: Vec<Option<(String, String)>> = vec![None; reads.len()];
    let mut items = Vec::new();
    for (shard, entry) in candidates {
        if items.len() == limit
            || cutoff
                .as_ref()
                .is_some_and(|c| order(&entry.at, c) == Ordering::Greater)
        {
            break;
        }
        taken_per_shard[shard] += 1;
        last_taken[shard] = Some(entry.at);
        items.push(entry.tenant);
    }

    let shards: Vec<ShardPosition> = reads
        .iter()
        .enumerate()
        .map(|(i, read)| {
            let all_taken = taken_per_shard[i] == fetched[i];
            match (&read.frontier, &last_taken[i]) {
                (None, _) if all_taken => ShardPosition::Done,
                (Some((sort, id)), _) if all_taken => ShardPosition::After(sort.clone(), id.clone()),
                (_, Some((sort, id))) => ShardPosition::After(sort.clone(), id.clone()),
                (_, None) => read.previous.clone(),
            }
        })
        .collect();
    let next = if shards.iter().all(|s| *s == ShardPosition::Done) {
        None
    } else {
        Some(ListPosition { shards })
    };
    Page { items, next }
}
