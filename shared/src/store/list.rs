//! Paged tenant lists. A query is planned onto one index (which filter the
//! index answers depends on the query); every other filter is checked on the
//! tenants read ([`TenantQuery::matches`]).
//!
//! A platform admin's list:
//!
//! | query | index | partition(s) |
//! |---|---|---|
//! | sort by name, `externalId` | GSI6 facets | `FACET#EXT#k=v#<bucket>` |
//! | sort by name, `identityProviderId` | GSI6 facets | `FACET#IDP#<id>#<bucket>` |
//! | sort by name, `parentId` | GSI3 children | `CHILDREN#<parent>#<bucket>` |
//! | sort by name, `resellerId` | GSI4 resellers | `RESELLER#<id>#<bucket>` |
//! | sort by name, `tags` | GSI6 facets | `FACET#TAG#<first tag>#<bucket>` |
//! | sort by name, otherwise | GSI1 | `TENANTS#<bucket>#<shard>`, every shard |
//! | sort by `createdAt`, `name` | GSI1/3/4 name facets | `PREFIX#<bucket>#<shard>#<first 1–3 characters>`, every shard |
//! | sort by `createdAt`, otherwise | GSI2 | `TENANTS#<bucket>#<shard>`, every shard |
//!
//! Everyone else's list (`within` set: the roots of the subtrees the caller
//! may see) reads those subtrees and nothing else, before any other index:
//! no item of a tenant the caller cannot see is read, so neither a page nor
//! a cursor's position can ever stand on one.
//!
//! | query | index | partition(s) |
//! |---|---|---|
//! | `parentId` not visible | — | none: the caller's roots that are its children (one `BatchGetItem`) |
//! | sort by name, `parentId` | GSI3 children | `CHILDREN#<parent>#<bucket>` |
//! | sort by `createdAt`, `parentId` | GSI2 on subtree facets | `WITHIN#<parent>#<bucket>` |
//! | sort by `createdAt`, `parentId`, `name` | GSI1/3/4 on subtree facets | `PREFIX#IN#<parent>#<bucket>#<first 1–3 characters>` |
//! | sort by name, otherwise | GSI6 subtree facets | `FACET#IN#<root>#<bucket>`, each root |
//! | sort by `createdAt`, `name` | GSI1/3/4 on subtree facets | `PREFIX#IN#<root>#<bucket>#<first 1–3 characters>`, each root |
//! | sort by `createdAt`, otherwise | GSI2 on subtree facets | `WITHIN#<root>#<bucket>`, each root |
//!
//! So `externalId`, `identityProviderId`, `tags` and `resellerId` are, for a
//! non-admin, filters on its subtrees' facets rather than their own global
//! index (an intersection with the global facet would read other tenants'
//! items first). A parent is visible when it is one of the roots (no read)
//! or has one on its path (one `GetItem`); all its children are then
//! visible. Of a parent the caller cannot see, only the caller's roots can
//! be children it may see (a sibling admin sees its own tenant under a
//! parent it cannot see): those, and no other child, are read. A page costs, per root, one
//! `Query` and one `BatchGetItem` of the tenants it points at (up to
//! [`MAX_CALLS_PER_PARTITION`] of each when filters drop most of a subtree),
//! plus one `BatchGetItem` of ancestors' statuses: the same on any table
//! size, and independent of how many tenants the caller cannot see.
//!
//! A subtree's facet items are in GSI6 by name and in GSI2 by creation
//! (see [`super::records::facet_items`]); the invariant checker reports one
//! written before the GSI2 keys were (rewriting the tenant's facets, as any
//! update of the tenant's tags does, adds them).
//!
//! On every name-sorted index the sort key is the name key, so a `name`
//! prefix is part of the key condition. Sorted by creation, a `name` prefix
//! is the partition: facets list each tenant under the first 1, 2 and 3
//! characters of its name key ([`super::table::PREFIX_INDEXES`]), so a
//! prefix of up to 3 characters reads its matches and nothing else; a
//! longer one reads the partition of its first 3 and filters on the name
//! key there (`FilterExpression`, before any tenant is fetched). A page reads at most
//! [`MAX_CALLS_PER_PARTITION`] × (`limit` + 1) items per partition; when
//! filters drop more than that, the page comes back short with a cursor.
//! Partitions are read in parallel and merged in order; the cursor carries
//! each partition's position, so a page costs the same on any table size
//! and paging never skips or repeats a tenant.

use std::cmp::Ordering;

use futures_util::future::try_join_all;
use serde::{Deserialize, Serialize};

use super::attributes::{NAME_KEY, TENANT_ID};
use super::keys::{self, ListBucket};
use super::records::{string_attr, string_value, tenant_from_item, Item};
use super::sdk::classify;
use super::table::{Index, GSI1, GSI2, GSI3, GSI4, GSI6, PK, PREFIX_INDEXES, SK};
use super::Store;
use crate::domain::query::{SortField, TenantQuery};
use crate::domain::{Status, Tenant, TenantId};
use crate::error::{Error, Result};

/// One page of items and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<ListPosition>,
}

/// Where each partition of a list stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPosition {
    pub parts: Vec<PartPosition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartPosition {
    Start,
    /// After the item with this index sort key, tenant id and table sort key.
    After(String, String, String),
    Done,
}

/// Most `Query` calls one partition makes for one page.
pub const MAX_CALLS_PER_PARTITION: usize = 4;
/// Most `Query` calls a total may take (about 1 MB of items each).
const MAX_CALLS_FOR_TOTAL: usize = 200;

/// Where a query's tenants are read from.
struct Plan {
    index: Index,
    partitions: Vec<String>,
    /// Facet items point at tenants; the tenants are fetched by id.
    facet: bool,
    key_prefix: Option<String>,
    /// A name prefix longer than the partitions' own, checked on the name
    /// key of each item read (a `FilterExpression`).
    name_filter: Option<String>,
}

/// The partition key part of a `createdAt` list's name prefix: the index
/// of its length (up to 3 characters), its first characters, and the whole
/// prefix again when it is longer, to filter on.
fn prefix_partition(prefix: &str) -> Option<(Index, String, Option<String>)> {
    let indexed = keys::indexed_prefixes(prefix);
    let first = indexed.last()?.clone();
    let index = PREFIX_INDEXES[indexed.len() - 1];
    let filter = (first.len() < prefix.len()).then(|| prefix.to_owned());
    Some((index, first, filter))
}

fn plan(query: &TenantQuery, shards: u16) -> Plan {
    let bucket = if query.wants_retired() {
        ListBucket::Retired
    } else {
        ListBucket::Live
    };
    let mut plan = match &query.within {
        Some(roots) => subtree_plan(query, roots, bucket),
        None => admin_plan(query, shards, bucket),
    };
    if query.sort == SortField::Name {
        plan.key_prefix = query.name_prefix.clone();
    }
    plan
}

/// A non-admin's list: only the subtrees of `roots` (or, with a visible
/// `parentId`, of the parent), whatever the other filters.
fn subtree_plan(query: &TenantQuery, roots: &[TenantId], bucket: ListBucket) -> Plan {
    let roots = match &query.parent_id {
        Some(parent) if query.sort == SortField::Name => {
            return Plan {
                index: GSI3,
                partitions: vec![keys::children(parent, bucket)],
                facet: false,
                key_prefix: None,
                name_filter: None,
            }
        }
        Some(parent) => std::slice::from_ref(parent),
        None => roots,
    };
    if query.sort == SortField::CreatedAt {
        if let Some((index, first, name_filter)) = query.name_prefix.as_deref().and_then(prefix_partition) {
            return Plan {
                index,
                partitions: roots
                    .iter()
                    .map(|root| keys::name_prefix_within(root, bucket, &first))
                    .collect(),
                facet: true,
                key_prefix: None,
                name_filter,
            };
        }
    }
    let (index, partition): (Index, fn(&TenantId, ListBucket) -> String) = match query.sort {
        SortField::Name => (GSI6, keys::within_facet),
        SortField::CreatedAt => (GSI2, keys::within_by_created),
    };
    Plan {
        index,
        partitions: roots.iter().map(|root| partition(root, bucket)).collect(),
        facet: true,
        key_prefix: None,
        name_filter: None,
    }
}

/// A platform admin's list: the most selective index the query names.
fn admin_plan(query: &TenantQuery, shards: u16, bucket: ListBucket) -> Plan {
    let main = |index| Plan {
        index,
        partitions: (0..shards.max(1))
            .map(|shard| keys::tenant_list(bucket, shard))
            .collect(),
        facet: false,
        key_prefix: None,
        name_filter: None,
    };
    let one = |index, partition, facet| Plan {
        index,
        partitions: vec![partition],
        facet,
        key_prefix: None,
        name_filter: None,
    };
    if query.sort == SortField::CreatedAt {
        return match query.name_prefix.as_deref().and_then(prefix_partition) {
            Some((index, first, name_filter)) => Plan {
                index,
                partitions: (0..shards.max(1))
                    .map(|shard| keys::name_prefix_list(bucket, shard, &first))
                    .collect(),
                facet: true,
                key_prefix: None,
                name_filter,
            },
            None => main(GSI2),
        };
    }
    if let Some((k, v)) = &query.external_id {
        one(GSI6, keys::external_id_facet(k, v, bucket), true)
    } else if let Some(idp) = &query.identity_provider_id {
        one(GSI6, keys::identity_provider_facet(idp, bucket), true)
    } else if let Some(parent) = &query.parent_id {
        one(GSI3, keys::children(parent, bucket), false)
    } else if let Some(reseller) = &query.reseller_id {
        one(GSI4, keys::reseller(reseller, bucket), false)
    } else if let Some(tag) = query.tags.first() {
        one(GSI6, keys::tag_facet(tag, bucket), true)
    } else {
        main(GSI1)
    }
}

/// An item's place in an index: (sort key, tenant id, table sort key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Pos(String, String, String);

fn position_of(item: &Item, index: Index) -> Result<Pos> {
    let sort = string_attr(item, index.sk);
    let id = string_attr(item, PK).and_then(keys::tenant_id_of);
    let sk = string_attr(item, SK);
    match (sort, id, sk) {
        (Some(sort), Some(id), Some(sk)) => Ok(Pos(sort.to_owned(), id.to_owned(), sk.to_owned())),
        _ => Err(Error::internal(format!("list item without {}, PK or SK", index.sk))),
    }
}

/// The `ExclusiveStartKey` of an index query after `pos`.
fn start_key(index: Index, partition: &str, pos: &Pos) -> Result<Item> {
    let id = TenantId::parse(&pos.1).map_err(|_| Error::invalid("cursor", "is not valid"))?;
    Ok(Item::from([
        (PK.to_owned(), string_value(keys::tenant(&id).pk)),
        (SK.to_owned(), string_value(&pos.2)),
        (index.pk.to_owned(), string_value(partition)),
        (index.sk.to_owned(), string_value(&pos.0)),
    ]))
}

struct Entry {
    at: Pos,
    tenant: Tenant,
}

/// What one partition returned for a page.
struct PartRead {
    entries: Vec<Entry>,
    /// The last item the partition evaluated, if it has more.
    frontier: Option<Pos>,
    previous: PartPosition,
}

/// Ancestor statuses already read during one list call (active or not).
#[derive(Default)]
struct Statuses(std::sync::Mutex<std::collections::HashMap<TenantId, bool>>);

/// One raw `Query` page of a partition.
struct RawPage {
    items: Vec<Item>,
    last: Option<Item>,
}

impl Store {
    /// One page of `query`, from `from` (the previous page's `next`).
    #[tracing::instrument(skip(self, from))]
    pub async fn list_tenants(&self, query: &TenantQuery, from: Option<&ListPosition>) -> Result<Page<Tenant>> {
        if !self.parent_visible(query).await? {
            return self.roots_under_hidden_parent(query, from).await;
        }
        let plan = plan(query, self.list_shards);
        let start = match from {
            Some(position) if position.parts.len() == plan.partitions.len() => position.parts.clone(),
            Some(_) => {
                return Err(Error::invalid(
                    "cursor",
                    "is no longer valid (the list layout changed); start again",
                ))
            }
            None => vec![PartPosition::Start; plan.partitions.len()],
        };
        let statuses = Statuses::default();
        let reads = plan
            .partitions
            .iter()
            .zip(start)
            .map(|(partition, at)| self.read_part(query, &plan, partition, at, &statuses));
        let reads = try_join_all(reads).await?;
        Ok(merge(reads, query.limit, query.descending))
    }

    /// How many tenants match `query` (reads every match; bounded).
    pub async fn count_tenants(&self, query: &TenantQuery) -> Result<u64> {
        if !self.parent_visible(query).await? {
            let all = TenantQuery {
                limit: usize::MAX - 1,
                ..query.clone()
            };
            return Ok(self.roots_under_hidden_parent(&all, None).await?.items.len() as u64);
        }
        let plan = plan(query, self.list_shards);
        let statuses = Statuses::default();
        let mut total = 0;
        let mut calls = 0;
        for partition in &plan.partitions {
            let mut start = None;
            loop {
                calls += 1;
                if calls > MAX_CALLS_FOR_TOTAL {
                    return Err(Error::invalid(
                        "includeTotal",
                        "too many tenants match to count them; narrow the filters",
                    ));
                }
                let page = self.query_part(&plan, partition, start, None, query.descending).await?;
                total += self.matching(query, &plan, page.items, &statuses).await?.len() as u64;
                match page.last {
                    Some(last) => start = Some(last),
                    None => break,
                }
            }
        }
        Ok(total)
    }

    /// Whether a non-admin may see the parent its query names (true when the
    /// query names none, or is a platform admin's): the parent is one of the
    /// roots, or one is on its path (one `GetItem`).
    async fn parent_visible(&self, query: &TenantQuery) -> Result<bool> {
        let (Some(roots), Some(parent)) = (&query.within, &query.parent_id) else {
            return Ok(true);
        };
        if roots.contains(parent) {
            return Ok(true);
        }
        Ok(self
            .get_tenant(parent)
            .await?
            .is_some_and(|t| t.path.iter().any(|a| roots.contains(a))))
    }

    /// A non-admin's page of the children of a parent it cannot see: only
    /// its roots can be among them (any other visible tenant has a visible
    /// parent), so they are read (one `BatchGetItem`), kept if that parent
    /// is theirs, and paged in the query's order. The parent's other
    /// children are never read.
    async fn roots_under_hidden_parent(
        &self,
        query: &TenantQuery,
        from: Option<&ListPosition>,
    ) -> Result<Page<Tenant>> {
        let (Some(roots), Some(parent)) = (&query.within, &query.parent_id) else {
            return Err(Error::internal("a hidden parent without roots or parent"));
        };
        let after = match from.map(|p| p.parts.as_slice()) {
            None => None,
            Some([PartPosition::After(sort, id, sk)]) => Some(Pos(sort.clone(), id.clone(), sk.clone())),
            Some(_) => return Err(Error::invalid("cursor", "is no longer valid; start again")),
        };
        let order = |a: &Pos, b: &Pos| if query.descending { b.cmp(a) } else { a.cmp(b) };
        let mut entries: Vec<Entry> = self
            .get_tenants(roots)
            .await?
            .into_values()
            .filter(|t| t.parent_id.as_ref() == Some(parent) && query.matches(t))
            .map(|tenant| {
                let sort = match query.sort {
                    SortField::Name => tenant.name.key(),
                    SortField::CreatedAt => keys::created_sort(tenant.created_at, &tenant.id),
                };
                let at = Pos(sort, tenant.id.to_string(), keys::TENANT_SK.to_owned());
                Entry { at, tenant }
            })
            .filter(|e| after.as_ref().is_none_or(|a| order(&e.at, a) == Ordering::Greater))
            .collect();
        if query.active_ancestors {
            let active = self.ancestors_active(query, &entries, &Statuses::default()).await?;
            entries.retain(|e| active(&e.tenant));
        }
        entries.sort_by(|a, b| order(&a.at, &b.at));
        let more = entries.len() > query.limit;
        entries.truncate(query.limit);
        let next = match entries.last() {
            Some(last) if more => Some(ListPosition {
                parts: vec![PartPosition::After(
                    last.at.0.clone(),
                    last.at.1.clone(),
                    last.at.2.clone(),
                )],
            }),
            _ => None,
        };
        Ok(Page {
            items: entries.into_iter().map(|e| e.tenant).collect(),
            next,
        })
    }

    async fn read_part(
        &self,
        query: &TenantQuery,
        plan: &Plan,
        partition: &str,
        at: PartPosition,
        statuses: &Statuses,
    ) -> Result<PartRead> {
        let mut read = PartRead {
            entries: Vec::new(),
            frontier: None,
            previous: at.clone(),
        };
        let mut start = match at {
            PartPosition::Done => return Ok(read),
            PartPosition::Start => None,
            PartPosition::After(sort, id, sk) => Some(start_key(plan.index, partition, &Pos(sort, id, sk))?),
        };
        for _ in 0..MAX_CALLS_PER_PARTITION {
            let wanted = query.limit + 1 - read.entries.len();
            let page = self
                .query_part(plan, partition, start, Some(wanted), query.descending)
                .await?;
            read.entries
                .extend(self.matching(query, plan, page.items, statuses).await?);
            match page.last {
                None => {
                    read.frontier = None;
                    return Ok(read);
                }
                Some(last) => {
                    read.frontier = Some(position_of(&last, plan.index)?);
                    start = Some(last);
                }
            }
            if read.entries.len() > query.limit {
                break;
            }
        }
        Ok(read)
    }

    /// The tenants of raw index items that match the query, in index order.
    async fn matching(
        &self,
        query: &TenantQuery,
        plan: &Plan,
        items: Vec<Item>,
        statuses: &Statuses,
    ) -> Result<Vec<Entry>> {
        let mut entries = Vec::with_capacity(items.len());
        if plan.facet {
            let mut positions = Vec::with_capacity(items.len());
            for item in &items {
                let id = string_attr(item, TENANT_ID).and_then(|id| TenantId::parse(id).ok());
                positions.push((position_of(item, plan.index)?, id));
            }
            let ids: Vec<TenantId> = positions.iter().filter_map(|(_, id)| id.clone()).collect();
            let mut tenants = self.get_tenants(&ids).await?;
            for (at, id) in positions {
                // A facet written for a name or status the tenant no longer has
                // is not trusted: the tenant itself decides.
                let Some(tenant) = id.and_then(|id| tenants.remove(&id)) else {
                    continue;
                };
                let sort = match query.sort {
                    SortField::CreatedAt => keys::created_sort(tenant.created_at, &tenant.id),
                    SortField::Name => tenant.name.key(),
                };
                if sort == at.0 && query.matches(&tenant) {
                    entries.push(Entry { at, tenant });
                }
            }
        } else {
            for item in items {
                let at = position_of(&item, plan.index)?;
                let tenant = tenant_from_item(item)?;
                if query.matches(&tenant) {
                    entries.push(Entry { at, tenant });
                }
            }
        }
        if query.active_ancestors {
            let active = self.ancestors_active(query, &entries, statuses).await?;
            entries.retain(|e| active(&e.tenant));
        }
        Ok(entries)
    }

    /// A test of "every gatekeeper ([`TenantQuery::gatekeepers`]) is active"
    /// for these entries' tenants, reading the statuses it does not know yet
    /// in one `BatchGetItem`.
    async fn ancestors_active(
        &self,
        query: &TenantQuery,
        entries: &[Entry],
        statuses: &Statuses,
    ) -> Result<impl Fn(&Tenant) -> bool + use<>> {
        let proper = {
            let query = query.clone();
            move |t: &Tenant| query.gatekeepers(t)
        };
        let unknown: Vec<TenantId> = {
            let known = statuses
                .0
                .lock()
                .map_err(|_| Error::internal("status cache poisoned"))?;
            let mut ids: Vec<TenantId> = entries
                .iter()
                .flat_map(|e| proper(&e.tenant))
                .filter(|id| !known.contains_key(id))
                .collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let fetched = self.get_tenants(&unknown).await?;
        let mut known = statuses
            .0
            .lock()
            .map_err(|_| Error::internal("status cache poisoned"))?;
        for id in unknown {
            let active = fetched.get(&id).is_some_and(|t| t.status == Status::Active);
            known.insert(id, active);
        }
        let snapshot = known.clone();
        Ok(move |t: &Tenant| proper(t).iter().all(|id| snapshot.get(id).copied().unwrap_or(false)))
    }

    async fn query_part(
        &self,
        plan: &Plan,
        partition: &str,
        start: Option<Item>,
        limit: Option<usize>,
        descending: bool,
    ) -> Result<RawPage> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(plan.index.name)
            .expression_attribute_names("#pk", plan.index.pk)
            .expression_attribute_values(":pk", string_value(partition))
            .scan_index_forward(!descending)
            .set_exclusive_start_key(start)
            .set_limit(limit.map(|l| l as i32));
        request = match &plan.key_prefix {
            Some(prefix) => request
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", plan.index.sk)
                .expression_attribute_values(":prefix", string_value(prefix)),
            None => request.key_condition_expression("#pk = :pk"),
        };
        if let Some(prefix) = &plan.name_filter {
            request = request
                .filter_expression("begins_with(#name, :name)")
                .expression_attribute_names("#name", NAME_KEY)
                .expression_attribute_values(":name", string_value(prefix));
        }
        let output = request.send().await.map_err(classify)?;
        Ok(RawPage {
            items: output.items.unwrap_or_default(),
            last: output.last_evaluated_key,
        })
    }
}

/// Merges the partitions' reads into one ordered page. An item is only
/// taken if it sorts before every unfinished partition's frontier (what
/// such a partition has not evaluated yet could come first).
fn merge(mut reads: Vec<PartRead>, limit: usize, descending: bool) -> Page<Tenant> {
    let order = |a: &Pos, b: &Pos| if descending { b.cmp(a) } else { a.cmp(b) };
    let cutoff = reads
        .iter()
        .filter_map(|r| r.frontier.clone())
        .min_by(|a, b| order(a, b));
    let fetched: Vec<usize> = reads.iter().map(|r| r.entries.len()).collect();
    let mut candidates: Vec<(usize, Entry)> = reads
        .iter_mut()
        .enumerate()
        .flat_map(|(part, read)| std::mem::take(&mut read.entries).into_iter().map(move |e| (part, e)))
        .collect();
    candidates.sort_by(|(_, a), (_, b)| order(&a.at, &b.at));

    let mut taken = vec![0usize; reads.len()];
    let mut last_taken: Vec<Option<Pos>> = vec![None; reads.len()];
    let mut items = Vec::new();
    for (part, entry) in candidates {
        if items.len() == limit
            || cutoff
                .as_ref()
                .is_some_and(|c| order(&entry.at, c) == Ordering::Greater)
        {
            break;
        }
        taken[part] += 1;
        last_taken[part] = Some(entry.at);
        items.push(entry.tenant);
    }

    let parts: Vec<PartPosition> = reads
        .iter()
        .enumerate()
        .map(|(i, read)| {
            let all_taken = taken[i] == fetched[i];
            let after = |p: &Pos| PartPosition::After(p.0.clone(), p.1.clone(), p.2.clone());
            match (&read.frontier, &last_taken[i]) {
                (None, _) if all_taken => PartPosition::Done,
                (Some(frontier), _) if all_taken => after(frontier),
                (_, Some(last)) => after(last),
                (_, None) => read.previous.clone(),
            }
        })
        .collect();
    let next = if parts.iter().all(|p| *p == PartPosition::Done) {
        None
    } else {
        Some(ListPosition { parts })
    };
    Page { items, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tenant::{InputMode, Stamp};
    use crate::domain::{Tag, TenantInput, Timestamp};
    use crate::store::records;

    fn id(raw: &str) -> TenantId {
        TenantId::parse(raw).unwrap()
    }

    fn non_admin(query: TenantQuery) -> TenantQuery {
        TenantQuery {
            within: Some(vec![id("home"), id("work")]),
            active_ancestors: true,
            ..query
        }
    }

    fn read(plan: &Plan) -> (&'static str, Vec<&str>, bool) {
        (
            plan.index.name,
            plan.partitions.iter().map(String::as_str).collect(),
            plan.facet,
        )
    }

    /// Issue 17, item 3: whatever a non-admin filters or sorts by, its list
    /// reads the subtrees it may see and nothing else (an admin's keeps the
    /// most selective index).
    #[test]
    fn a_non_admins_plan_reads_only_its_subtrees() {
        let by_name = ("GSI6", vec!["FACET#IN#home#live", "FACET#IN#work#live"], true);
        let by_created = ("GSI2", vec!["WITHIN#home#live", "WITHIN#work#live"], true);
        let created = |q: TenantQuery| TenantQuery {
            sort: SortField::CreatedAt,
            ..q
        };
        let filters = [
            TenantQuery::default(),
            TenantQuery {
                external_id: Some(("1".into(), "CRM-1".into())),
                ..TenantQuery::default()
            },
            TenantQuery {
                identity_provider_id: Some("okta".into()),
                ..TenantQuery::default()
            },
            TenantQuery {
                reseller_id: Some("r1".into()),
                ..TenantQuery::default()
            },
            TenantQuery {
                tags: vec![Tag::parse("gold").unwrap()],
                ..TenantQuery::default()
            },
        ];
        for query in filters {
            assert_eq!(read(&plan(&non_admin(query.clone()), 4)), by_name, "{query:?}");
            assert_eq!(
                read(&plan(&non_admin(created(query.clone())), 4)),
                by_created,
                "{query:?}"
            );
            assert_ne!(read(&plan(&created(query.clone()), 4)).0, "GSI6", "an admin's");
        }
        // A (visible) parent: its children by name, its subtree by creation.
        let under = TenantQuery {
            parent_id: Some(id("deep")),
            ..TenantQuery::default()
        };
        assert_eq!(
            read(&plan(&non_admin(under.clone()), 4)),
            ("GSI3", vec!["CHILDREN#deep#live"], false)
        );
        assert_eq!(
            read(&plan(&non_admin(created(under)), 4)),
            ("GSI2", vec!["WITHIN#deep#live"], true)
        );
        // A name prefix is a key condition on name-sorted indexes only.
        let prefixed = TenantQuery {
            name_prefix: Some("acme".into()),
            ..TenantQuery::default()
        };
        assert_eq!(
            plan(&non_admin(prefixed.clone()), 1).key_prefix.as_deref(),
            Some("acme")
        );
        assert_eq!(plan(&non_admin(created(prefixed.clone())), 1).key_prefix, None);
        assert_eq!(plan(&created(prefixed), 1).key_prefix, None);
    }

    /// Issue 18, item 5: sorted by creation, a name prefix is the partition
    /// (its first 3 characters at most, the rest a filter), for an admin
    /// among all tenants, for anyone else within its subtrees only.
    #[test]
    fn a_name_prefix_sorted_by_creation_is_a_partition() {
        let by = |prefix: &str, within: bool, parent: Option<&str>| {
            let query = TenantQuery {
                sort: SortField::CreatedAt,
                name_prefix: Some(prefix.into()),
                parent_id: parent.map(id),
                ..TenantQuery::default()
            };
            let query = if within { non_admin(query) } else { query };
            let plan = plan(&query, 2);
            let (index, parts, facet) = read(&plan);
            let parts: Vec<String> = parts.into_iter().map(str::to_owned).collect();
            ((index, parts, facet), plan.name_filter, plan.key_prefix)
        };
        let parts = |parts: &[&str]| -> Vec<String> { parts.iter().map(|p| p.to_string()).collect() };
        assert_eq!(
            by("a", false, None),
            (
                ("GSI1", parts(&["PREFIX#live#0#a", "PREFIX#live#1#a"]), true),
                None,
                None
            )
        );
        assert_eq!(
            by("ac", false, None),
            (
                ("GSI3", parts(&["PREFIX#live#0#ac", "PREFIX#live#1#ac"]), true),
                None,
                None
            )
        );
        assert_eq!(
            by("acme ", false, None),
            (
                ("GSI4", parts(&["PREFIX#live#0#acm", "PREFIX#live#1#acm"]), true),
                Some("acme ".to_owned()),
                None
            )
        );
        assert_eq!(
            by("straße", true, None),
            (
                (
                    "GSI4",
                    parts(&["PREFIX#IN#home#live#str", "PREFIX#IN#work#live#str"]),
                    true
                ),
                Some("straße".to_owned()),
                None
            )
        );
        assert_eq!(
            by("ab", true, Some("deep")),
            (("GSI3", parts(&["PREFIX#IN#deep#live#ab"]), true), None, None)
        );
        // Sorted by name, the prefix stays a key condition on the name index.
        let named = plan(
            &non_admin(TenantQuery {
                name_prefix: Some("acme".into()),
                ..TenantQuery::default()
            }),
            2,
        );
        assert_eq!((named.index, named.name_filter), (GSI6, None));
    }

    /// What a tenant's facets hold for its name prefixes: three partitions
    /// per subtree facet and one more facet for the platform's lists.
    #[test]
    fn facets_list_a_tenant_under_its_name_prefixes() {
        let change = Stamp {
            actor: "test".into(),
            at: Timestamp::now(),
        };
        let body = serde_json::json!({"tenantId": "kid", "name": "ＡＣＭＥ  Kid"});
        let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
        let kid = Tenant::create(input, id("kid"), &change);
        let created = keys::created_sort(kid.created_at, &kid.id);
        let shard = keys::shard_of(&kid.id, 4);
        let prefixes: Vec<Vec<Option<String>>> = records::facet_items(&kid, 4)
            .into_iter()
            .map(|(_, item)| {
                PREFIX_INDEXES
                    .iter()
                    .flat_map(|i| [i.pk, i.sk])
                    .chain([NAME_KEY])
                    .map(|a| string_attr(&item, a).map(str::to_owned))
                    .collect()
            })
            .collect();
        let expect = |partition: &dyn Fn(&str) -> String| -> Vec<Option<String>> {
            ["a", "ac", "acm"]
                .iter()
                .flat_map(|p| [Some(partition(p)), Some(created.clone())])
                .chain([Some("acme kid".to_owned())])
                .collect()
        };
        assert_eq!(
            prefixes,
            [
                expect(&|p| format!("PREFIX#IN#kid#live#{p}")),
                expect(&|p| format!("PREFIX#live#{shard}#{p}")),
            ]
        );
    }

    /// A subtree's facet is in the by-creation index too, so the createdAt
    /// plan above finds every tenant of the subtree.
    #[test]
    fn subtree_facets_are_listed_by_name_and_by_creation() {
        let change = Stamp {
            actor: "test".into(),
            at: Timestamp::now(),
        };
        let input = |tenant: &str| {
            let body = serde_json::json!({"tenantId": tenant, "name": format!("Name {tenant}")});
            TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap()
        };
        let parent = Tenant::create(input("home"), id("home"), &change).placed(None);
        let child = Tenant::create(input("kid"), id("kid"), &change).placed(Some(&parent));
        let within: Vec<Item> = records::facet_items(&child, 1)
            .into_iter()
            .map(|(_, item)| item)
            .filter(|item| string_attr(item, GSI6.pk).is_some_and(|pk| pk.starts_with("FACET#IN#")))
            .collect();
        let keys: Vec<[Option<&str>; 4]> = within
            .iter()
            .map(|i| [GSI6.pk, GSI6.sk, GSI2.pk, GSI2.sk].map(|a| string_attr(i, a)))
            .collect();
        let created = keys::created_sort(child.created_at, &child.id);
        assert_eq!(
            keys,
            [
                [
                    Some("FACET#IN#home#live"),
                    Some("name kid"),
                    Some("WITHIN#home#live"),
                    Some(created.as_str())
                ],
                [
                    Some("FACET#IN#kid#live"),
                    Some("name kid"),
                    Some("WITHIN#kid#live"),
                    Some(created.as_str())
                ],
            ]
        );
    }
}
