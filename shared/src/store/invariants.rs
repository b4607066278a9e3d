//! The table's invariants, checked over a whole scan: what every write keeps
//! true, so a fault test (or an operator after an incident) can prove that
//! nothing was left half-done.
//!
//! - every tenant has its name guard, and every guard its tenant;
//! - a tenant's index keys and facet items are exactly those the store
//!   writes for it (no stale list entry, no missing facet);
//! - a tenant's parent exists, its path is its parent's path plus itself,
//!   no chain of parents loops, and `childCount` counts its children;
//! - whatever lives under a tenant (subtenants, members, identity providers,
//!   group mappings, deployments, history) has a live tenant of the same
//!   incarnation, and so has a login domain's claim;
//! - every subtenant holds its code guard, and every code guard a subtenant;
//! - idempotency records are whole (fingerprint, status, answer, expiry).
//!
//! A scan, never on a request path: `make check-table` and the tests.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::attributes::{
    CODE, DOMAIN, DOMAINS, ID, IDENTITY_PROVIDER_ID, INCARNATION, NAME_KEY, SUBTENANT_ID, TENANT_ID, TO, VERSION,
};
use super::entity::{DecodeError, EntityType, Record};
use super::records::{self, string_attr, Item};
use super::table::{INDEXES, PK, SK};
use super::{keys, Store};
use crate::domain::values::legacy_name_key;
use crate::domain::{SubtenantCode, Tenant, TenantId};
use crate::error::Result;
use crate::store::sdk::classify;
use aws_sdk_dynamodb::types::TransactWriteItem;

/// One broken invariant: the item it was found on, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// `PK / SK` of the item.
    pub item: String,
    pub problem: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.item, self.problem)
    }
}

impl Store {
    /// Every item of the table, by a paged, strongly consistent `Scan`.
    pub async fn scan_all(&self) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }

    /// Scans the table and lists every broken invariant (none: all is well).
    pub async fn check_invariants(&self) -> Result<Vec<Violation>> {
        Ok(check(&self.scan_all().await?, self.list_shards))
    }
}

/// What a migration ([`Store::migrate_name_keys`],
/// [`Store::migrate_name_prefixes`]) did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NameMigration {
    /// Tenants whose guard, index keys and facets now use their name's key
    /// (whose facets now hold their name prefixes).
    pub migrated: Vec<String>,
    /// Tenants left as they were, each with why.
    pub left: Vec<String>,
}

/// One tenant's migration: its writes, and which of them is the new guard.
struct NameMove {
    tenant: TenantId,
    writes: Vec<TransactWriteItem>,
    guard_at: Option<usize>,
}

impl Store {
    /// Moves every tenant written with the old name key (lower case only)
    /// to the key of today (NFKC, case folding, collapsed whitespace): its
    /// name guard, the name-derived index keys of its item and its facets,
    /// and the old-form guards it leaves. One transaction per tenant,
    /// conditioned on the tenant's version, so it is safe beside live
    /// traffic and can simply run again; a scan, never on a request path
    /// (`make check-table ARGS=--migrate-names`). A tenant whose key
    /// another tenant already holds (two names that were distinct and now
    /// look alike) is left and listed: rename one of them, then run again.
    pub async fn migrate_name_keys(&self) -> Result<NameMigration> {
        let items = self.scan_all().await?;
        let (moves, left) = plan_name_moves(&items, &self.table, self.list_shards)?;
        self.run_moves(moves, left).await
    }

    /// Runs each tenant's planned transaction, listing what could not be.
    async fn run_moves(&self, moves: Vec<NameMove>, mut left: Vec<String>) -> Result<NameMigration> {
        let mut migrated = Vec::new();
        for mv in moves {
            match super::sdk::transact(&self.client, mv.writes).await {
                Ok(()) => migrated.push(mv.tenant.to_string()),
                Err(super::sdk::TransactError::ConditionFailed(failed))
                    if mv.guard_at.is_some_and(|g| failed.contains(&g)) =>
                {
                    left.push(format!(
                        "{}: another tenant took its name's key meanwhile; rename one of the two",
                        mv.tenant
                    ))
                }
                Err(super::sdk::TransactError::ConditionFailed(_) | super::sdk::TransactError::Contended) => {
                    left.push(format!("{}: it changed meanwhile; run the migration again", mv.tenant))
                }
                Err(super::sdk::TransactError::Other(e)) => return Err(e),
            }
        }
        Ok(NameMigration { migrated, left })
    }
}

impl Store {
    /// Brings every tenant's facets written before name prefixes were
    /// indexed up to what the store writes now: the subtree facets gain
    /// their name prefix keys, and the tenant its facet among all tenants'
    /// name prefixes (what `sort=createdAt` with a `name` filter reads).
    /// One transaction per tenant, conditioned on the version the facets
    /// were computed from, so it is safe beside live traffic and can simply
    /// run again; a scan, never on a request path (`make check-table
    /// ARGS=--migrate-prefixes`). Nothing else about a facet is changed.
    pub async fn migrate_name_prefixes(&self) -> Result<NameMigration> {
        let items = self.scan_all().await?;
        let (moves, left) = plan_prefix_writes(&items, &self.table, self.list_shards)?;
        self.run_moves(moves, left).await
    }
}

/// A check that the tenant item at `key` still has the version `item` was
/// read with: what makes a migration's writes safe beside live traffic.
fn version_check(table: &str, key: Item, item: &Item) -> Result<TransactWriteItem> {
    let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key))
        .condition_expression("#version = :version")
        .expression_attribute_names("#version", VERSION)
        .expression_attribute_values(
            ":version",
            item.get(VERSION).cloned().unwrap_or(records::number_value(0)),
        )
        .build()
        .map_err(crate::error::Error::internal)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// The facet writes that give each tenant of `items` its name prefix keys,
/// each tenant's behind a check of the version they were computed from.
fn plan_prefix_writes(items: &[Item], table: &str, list_shards: u16) -> Result<(Vec<NameMove>, Vec<String>)> {
    use aws_sdk_dynamodb::types::Put;
    let by_key: HashMap<(&str, &str), &Item> = items
        .iter()
        .filter_map(|i| Some(((string_attr(i, PK)?, string_attr(i, SK)?), i)))
        .collect();
    let internal = crate::error::Error::internal;
    let (mut moves, mut left) = (Vec::new(), Vec::new());
    for item in items {
        let Ok(Record::Tenant(tenant)) = Record::decode(item) else {
            continue;
        };
        let pk = keys::tenant(&tenant.id).pk;
        let mut writes = Vec::new();
        for (key, facet) in records::facet_items(&tenant, list_shards) {
            let wanted = match by_key.get(&(pk.as_str(), key.sk.as_str())) {
                None => key.sk.starts_with(&keys::facets_of_kind(keys::FacetKind::Name)),
                Some(stored) => lacks_name_prefixes(stored, &facet),
            };
            if wanted {
                let put = Put::builder()
                    .table_name(table)
                    .set_item(Some(facet))
                    .build()
                    .map_err(internal)?;
                writes.push(TransactWriteItem::builder().put(put).build());
            }
        }
        if writes.is_empty() {
            continue;
        }
        let check = version_check(table, records::key_item(&keys::tenant(&tenant.id)), item)?;
        writes.insert(0, check);
        if writes.len() > 100 {
            left.push(format!(
                "{}: more than 100 facets to write in one transaction",
                tenant.id
            ));
            continue;
        }
        moves.push(NameMove {
            tenant: tenant.id.clone(),
            writes,
            guard_at: None,
        });
    }
    Ok((moves, left))
}

/// The writes that move each tenant of `items` to today's name key, and
/// the tenants that cannot move (a look-alike holds the key).
fn plan_name_moves(items: &[Item], table: &str, list_shards: u16) -> Result<(Vec<NameMove>, Vec<String>)> {
    use aws_sdk_dynamodb::types::{Delete, Put, Update};
    let by_key: HashMap<(&str, &str), &Item> = items
        .iter()
        .filter_map(|i| Some(((string_attr(i, PK)?, string_attr(i, SK)?), i)))
        .collect();
    let key_of = |item: &Item| {
        [PK, SK]
            .into_iter()
            .filter_map(|a| Some((a.to_owned(), item.get(a)?.clone())))
            .collect::<Item>()
    };
    let internal = crate::error::Error::internal;
    let (mut moves, mut left) = (Vec::new(), Vec::new());
    for item in items {
        let Ok(Record::Tenant(tenant)) = Record::decode(item) else {
            continue;
        };
        let (key, legacy) = (tenant.name.key(), legacy_name_key(tenant.name.as_str()));
        let id = records::string_value(tenant.id.as_str());
        let mut writes = Vec::new();
        // The name-derived attributes of the item: set to what the store writes now.
        let expected = records::tenant_item(&tenant, list_shards)?;
        // Exactly what the store writes now, but with the old key in it.
        let old_form = |stored: Option<&str>, now: Option<&str>| {
            stored != now && stored.map(|v| v.replacen(&legacy, &key, 1)).as_deref() == now
        };
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(key_of(item)))
            .condition_expression("#version = :version")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(
                ":version",
                item.get(VERSION).cloned().unwrap_or(records::number_value(0)),
            );
        let mut sets = Vec::new();
        let attributes = std::iter::once(NAME_KEY).chain(INDEXES.iter().flat_map(|i| [i.pk, i.sk]));
        for (i, attribute) in attributes.enumerate() {
            if old_form(string_attr(item, attribute), string_attr(&expected, attribute)) {
                sets.push(format!("#a{i} = :a{i}"));
                update = update
                    .expression_attribute_names(format!("#a{i}"), attribute)
                    .expression_attribute_values(format!(":a{i}"), expected[attribute].clone());
            }
        }
        // The guard of today's key, unless the tenant holds it already.
        let guard = keys::tenant_name(&key);
        let mut guard_at = None;
        match by_key.get(&(guard.pk.as_str(), guard.sk.as_str())) {
            Some(g) if string_attr(g, TENANT_ID) == Some(tenant.id.as_str()) => {}
            Some(g) => {
                left.push(format!(
                    "{}: its name's key {key:?} is held by tenant {}; rename one of the two",
                    tenant.id,
                    string_attr(g, TENANT_ID).unwrap_or("?")
                ));
                continue;
            }
            None => {
                let put = Put::builder()
                    .table_name(table)
                    .set_item(Some(records::name_guard_item(&key, &tenant.id)))
                    .condition_expression("attribute_not_exists(PK)")
                    .build()
                    .map_err(internal)?;
                guard_at = Some(writes.len() + 1);
                writes.push(TransactWriteItem::builder().put(put).build());
            }
        }
        // Guards it holds under any other key (the old form, or a name it left).
        for stale in items.iter().filter(|i| {
            EntityType::of(i).ok() == Some(EntityType::TenantName)
                && string_attr(i, TENANT_ID) == Some(tenant.id.as_str())
                && string_attr(i, PK) != Some(guard.pk.as_str())
        }) {
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key_of(stale)))
                .condition_expression("#tenantId = :id")
                .expression_attribute_names("#tenantId", TENANT_ID)
                .expression_attribute_values(":id", id.clone())
                .build()
                .map_err(internal)?;
            writes.push(TransactWriteItem::builder().delete(delete).build());
        }
        // Facets listed under the old key.
        let pk = keys::tenant(&tenant.id).pk;
        for (facet_key, facet) in records::facet_items(&tenant, list_shards) {
            let Some(stored) = by_key.get(&(pk.as_str(), facet_key.sk.as_str())) else {
                continue;
            };
            // The name key too: name prefix facets carry it, to filter on.
            let moved = INDEXES
                .iter()
                .flat_map(|i| [i.pk, i.sk])
                .chain([NAME_KEY])
                .any(|a| old_form(string_attr(stored, a), string_attr(&facet, a)));
            if moved {
                let put = Put::builder()
                    .table_name(table)
                    .set_item(Some(facet))
                    .build()
                    .map_err(internal)?;
                writes.push(TransactWriteItem::builder().put(put).build());
            }
        }
        if writes.is_empty() && sets.is_empty() {
            continue;
        }
        // The tenant's own write goes first, conditioned on its version.
        let first = if sets.is_empty() {
            version_check(table, key_of(item), item)?
        } else {
            let update = update
                .update_expression(format!("SET {}", sets.join(", ")))
                .build()
                .map_err(internal)?;
            TransactWriteItem::builder().update(update).build()
        };
        writes.insert(0, first);
        if writes.len() > 100 {
            left.push(format!("{}: more than 100 items to move in one transaction", tenant.id));
            continue;
        }
        moves.push(NameMove {
            tenant: tenant.id.clone(),
            writes,
            guard_at,
        });
    }
    Ok((moves, left))
}

fn id_of(item: &Item) -> String {
    format!(
        "{} / {}",
        string_attr(item, PK).unwrap_or("?"),
        string_attr(item, SK).unwrap_or("?")
    )
}

/// Collects violations, one per (item, problem).
#[derive(Default)]
struct Report(BTreeSet<Violation>);

impl Report {
    fn add(&mut self, item: &Item, problem: impl Into<String>) {
        self.0.insert(Violation {
            item: id_of(item),
            problem: problem.into(),
        });
    }
}

/// The invariants over `items` (a whole table), for a table of `list_shards`.
pub fn check(items: &[Item], list_shards: u16) -> Vec<Violation> {
    let mut report = Report::default();
    let by_key: HashMap<(&str, &str), &Item> = items
        .iter()
        .filter_map(|i| Some(((string_attr(i, PK)?, string_attr(i, SK)?), i)))
        .collect();
    let mut tenants: HashMap<String, Tenant> = HashMap::new();
    for item in items {
        match Record::decode(item) {
            Ok(Record::Tenant(tenant)) => {
                tenants.insert(tenant.id.as_str().to_owned(), *tenant);
            }
            Err(DecodeError::Unreadable(EntityType::Tenant, e)) => {
                report.add(item, format!("tenant item does not decode: {e}"))
            }
            _ => {}
        }
    }
    // Per tenant, read once (the checks below would otherwise go over the
    // whole table for each tenant: hours on a table of 100,000).
    let mut around = Around::default();
    for tenant in tenants.values() {
        if let Some(parent) = &tenant.parent_id {
            *around.children.entry(parent.as_str()).or_default() += 1;
        }
    }
    for (&(pk, sk), item) in &by_key {
        if sk.starts_with(keys::FACET_SK_PREFIX) {
            around.facets.entry(pk).or_default().push((sk, item));
        }
    }
    for item in items {
        let kind = match EntityType::of(item) {
            Ok(kind) => kind,
            Err(DecodeError::Untyped) => {
                report.add(item, "item without entityType");
                continue;
            }
            // A kind of a later build: its own invariants are not known here.
            Err(_) => continue,
        };
        match kind {
            EntityType::Tenant => {
                if let Some(tenant) = string_attr(item, ID).and_then(|id| tenants.get(id)) {
                    check_tenant(&mut report, item, tenant, &tenants, &by_key, &around, list_shards);
                }
            }
            EntityType::TenantName => check_name_guard(&mut report, item, &tenants),
            EntityType::Facet => {
                if tenant_under(item, &tenants).is_none() {
                    report.add(item, "facet of a tenant that does not exist");
                }
            }
            EntityType::SubtenantCode => check_code_guard(&mut report, item, &by_key),
            EntityType::DomainClaim => check_domain_claim(&mut report, item, &tenants, &by_key),
            EntityType::Idempotency => {
                if !matches!(Record::decode(item), Ok(Record::Idempotency { whole: true })) {
                    report.add(item, "idempotency record without fingerprint, status, answer or expiry");
                }
            }
            EntityType::ChangeEvent => check_feed_day(&mut report, item, &by_key),
            EntityType::Subtenant
            | EntityType::Member
            | EntityType::IdentityProvider
            | EntityType::GroupMapping
            | EntityType::Deployment
            | EntityType::DeploymentContent
            | EntityType::Event => check_owned(&mut report, item, kind, &tenants, &by_key),
            EntityType::Tombstone
            | EntityType::PurgedName
            | EntityType::Job
            | EntityType::Pending
            | EntityType::ChangeEventId
            | EntityType::FeedDay
            | EntityType::TenantGone => {}
        }
    }
    report.0.into_iter().collect()
}

/// Group mappings whose target breaks today's group rule (`auth`: the
/// platform's group prefix, the admin and creator roles). Not broken
/// invariants: such mappings were valid when written and still read as
/// they are (a tightened rule never makes old data unreadable); they are
/// advice to whoever administers the table, to remap or delete them.
pub fn group_mapping_findings(items: &[Item], auth: &crate::auth::AuthConfig) -> Vec<Violation> {
    let mut report = Report::default();
    for item in items
        .iter()
        .filter(|i| EntityType::of(i).ok() == Some(EntityType::GroupMapping))
    {
        let to = string_attr(item, TO).unwrap_or("");
        if let Err(why) = crate::domain::identity_provider::parse_group_target(to, auth) {
            report.add(item, format!("group mapping to '{to}' breaks the group rule: it {why}"));
        }
    }
    report.0.into_iter().collect()
}

/// The tenant whose partition `item` is in, if it is a live tenant.
fn tenant_under<'a>(item: &Item, tenants: &'a HashMap<String, Tenant>) -> Option<&'a Tenant> {
    string_attr(item, PK)
        .and_then(keys::tenant_id_of)
        .and_then(|id| tenants.get(id))
}

/// How the migration of feed day marks is run.
const MARK_FEED_DAYS: &str = "make check-table ARGS=--mark-feed-days";

/// A feed event is in the partition of its day and of its id's shard
/// (readers read exactly those), or, recorded before the feed was sharded,
/// in the day's own partition, which is shard 0's; and its day is marked:
/// readers go from mark to mark, so the events of an unmarked day are never
/// served to a reader starting afresh.
fn check_feed_day(report: &mut Report, item: &Item, by_key: &HashMap<(&str, &str), &Item>) {
    let key = keys::Key {
        pk: string_attr(item, PK).unwrap_or_default().to_owned(),
        sk: string_attr(item, SK).unwrap_or_default().to_owned(),
    };
    let Some(keys::ItemKey::FeedEvent {
        recorded_at,
        event_id,
        shard,
    }) = keys::parse(&key)
    else {
        return report.add(item, "change event outside its day's partition");
    };
    if shard >= keys::FEED_SHARDS {
        report.add(
            item,
            format!(
                "change event in feed shard {shard}: readers read shards 0 to {} only",
                keys::FEED_SHARDS - 1
            ),
        );
    } else if shard != 0 && shard != keys::feed_shard_of(&event_id) {
        report.add(
            item,
            format!(
                "change event in feed shard {shard}, not its id's ({}): readers find it, but it is not where it was written",
                keys::feed_shard_of(&event_id)
            ),
        );
    }
    let day = keys::feed_day(recorded_at);
    let day = day.as_str();
    if !by_key.contains_key(&(keys::FEED_DAYS, day)) {
        report.add(
            item,
            format!("feed day {day} has events but no mark (recorded before days were marked: {MARK_FEED_DAYS})"),
        );
    }
}

impl Store {
    /// Marks every day of the feed that has events but no mark (events
    /// recorded before days were marked): a scan, then one `PutItem` per
    /// day, which is what the notifier itself writes, so it is safe beside
    /// live traffic and can run again. The days marked, in order.
    pub async fn mark_feed_days(&self) -> Result<Vec<String>> {
        let items = self.scan_all().await?;
        let marked: HashSet<&str> = items
            .iter()
            .filter(|i| string_attr(i, PK) == Some(keys::FEED_DAYS))
            .filter_map(|i| string_attr(i, SK))
            .collect();
        let unmarked: BTreeSet<&str> = items
            .iter()
            .filter(|i| EntityType::of(i).ok() == Some(EntityType::ChangeEvent))
            .filter_map(|i| string_attr(i, PK).and_then(keys::feed_day_of))
            .map(|(day, _shard)| day)
            .filter(|day| !marked.contains(day))
            .collect();
        for day in &unmarked {
            self.put_feed_day_mark(day).await?;
        }
        Ok(unmarked.into_iter().map(str::to_owned).collect())
    }
}

/// How the migration of name prefixes is run.
const MIGRATE_PREFIXES: &str = "make check-table ARGS=--migrate-prefixes";

/// What places a facet in an index: every index key, and the name key the
/// name prefix partitions are filtered on.
fn listed_as(item: &Item) -> Vec<Option<&str>> {
    INDEXES
        .iter()
        .flat_map(|i| [i.pk, i.sk])
        .chain([NAME_KEY])
        .map(|a| string_attr(item, a))
        .collect()
}

/// Whether `stored` is `expected` as written before name prefixes were
/// indexed: none of their attributes, all else the same.
fn lacks_name_prefixes(stored: &Item, expected: &Item) -> bool {
    let without = |item: &Item| {
        let mut item = item.clone();
        for attribute in records::name_prefix_attributes() {
            item.remove(attribute);
        }
        item
    };
    records::name_prefix_attributes().any(|a| expected.contains_key(a))
        && records::name_prefix_attributes().all(|a| !stored.contains_key(a))
        && without(stored) == without(expected)
}

/// What surrounds each tenant in the table, gathered in one pass.
#[derive(Default)]
struct Around<'a> {
    /// How many tenants name each id as their parent.
    children: HashMap<&'a str, usize>,
    /// The facet items under each `PK`, with their `SK`s.
    facets: HashMap<&'a str, Vec<(&'a str, &'a Item)>>,
}

fn check_tenant(
    report: &mut Report,
    item: &Item,
    tenant: &Tenant,
    tenants: &HashMap<String, Tenant>,
    by_key: &HashMap<(&str, &str), &Item>,
    around: &Around<'_>,
    list_shards: u16,
) {
    // Index keys: exactly what the store writes for this value.
    if let Ok(expected) = records::tenant_item(tenant, list_shards) {
        for index in INDEXES {
            for attribute in [index.pk, index.sk] {
                if string_attr(item, attribute) != string_attr(&expected, attribute) {
                    report.add(
                        item,
                        format!(
                            "{attribute} is {:?}, the store writes {:?}",
                            string_attr(item, attribute),
                            string_attr(&expected, attribute)
                        ),
                    );
                }
            }
        }
        if string_attr(item, NAME_KEY) != string_attr(&expected, NAME_KEY) {
            report.add(item, "nameKey does not match the name");
        }
    }
    // Name guard.
    let guard = keys::tenant_name(&tenant.name.key());
    let old_form = keys::tenant_name(&legacy_name_key(tenant.name.as_str()));
    let holds = |key: &keys::Key| {
        by_key
            .get(&(key.pk.as_str(), key.sk.as_str()))
            .map(|g| string_attr(g, TENANT_ID) == Some(tenant.id.as_str()))
    };
    match holds(&guard) {
        Some(true) => {}
        Some(false) => report.add(item, "its name guard holds the name for another tenant"),
        None if holds(&old_form) == Some(true) => report.add(
            item,
            format!(
                "its name guard is an old-form one ({}); the name's key is now {:?}",
                old_form.pk,
                tenant.name.key()
            ),
        ),
        None => report.add(item, "no name guard holds its name"),
    }
    // Facets: the set the store writes, no more and no less.
    let expected: HashMap<String, Item> = records::facet_items(tenant, list_shards)
        .into_iter()
        .map(|(key, facet)| (key.sk, facet))
        .collect();
    let pk = keys::tenant(&tenant.id).pk;
    for (sk, facet) in &expected {
        match by_key.get(&(pk.as_str(), sk.as_str())) {
            None if sk.starts_with(&keys::facets_of_kind(keys::FacetKind::Name)) => report.add(
                item,
                format!("facet {sk} is missing (written before name prefixes were indexed: {MIGRATE_PREFIXES})"),
            ),
            None => report.add(item, format!("facet {sk} is missing")),
            Some(stored) if listed_as(stored) == listed_as(facet) => {}
            Some(stored) if lacks_name_prefixes(stored, facet) => report.add(
                stored,
                format!("facet without its name prefix keys (written before they were: {MIGRATE_PREFIXES})"),
            ),
            // A subtree's facet is in the by-creation index too (one
            // written before it was lacks GSI2 and is reported here).
            Some(stored) => report.add(stored, "facet is listed under a stale value or name"),
        }
    }
    for (sk, stored) in around.facets.get(pk.as_str()).into_iter().flatten() {
        if !expected.contains_key(*sk) {
            report.add(stored, "facet the tenant no longer has");
        }
    }
    // Hierarchy: parent, path, cycles, child count.
    let mut expected_path = Vec::new();
    if let Some(parent_id) = &tenant.parent_id {
        match tenants.get(parent_id.as_str()) {
            Some(parent) => expected_path.extend(parent.path.iter().cloned()),
            None => report.add(item, format!("its parent {parent_id} does not exist")),
        }
    }
    expected_path.push(tenant.id.clone());
    if tenant
        .parent_id
        .as_ref()
        .is_none_or(|p| tenants.contains_key(p.as_str()))
        && tenant.path != expected_path
    {
        report.add(
            item,
            format!("path {} disagrees with its parent's", tenant.path_string()),
        );
    }
    if in_a_cycle(&tenant.id, tenants) {
        report.add(item, "its chain of parents loops");
    }
    let children = around.children.get(tenant.id.as_str()).copied().unwrap_or(0);
    if children != tenant.child_count as usize {
        report.add(
            item,
            format!("childCount is {}, it has {children} children", tenant.child_count),
        );
    }
}

fn in_a_cycle(start: &TenantId, tenants: &HashMap<String, Tenant>) -> bool {
    let mut seen = HashSet::new();
    let mut at = tenants.get(start.as_str());
    while let Some(tenant) = at {
        if !seen.insert(tenant.id.as_str()) {
            return true;
        }
        at = tenant.parent_id.as_ref().and_then(|p| tenants.get(p.as_str()));
    }
    false
}

fn check_name_guard(report: &mut Report, item: &Item, tenants: &HashMap<String, Tenant>) {
    let Some(tenant) = string_attr(item, TENANT_ID).and_then(|id| tenants.get(id)) else {
        report.add(item, "name guard of a tenant that does not exist");
        return;
    };
    let held = string_attr(item, PK).unwrap_or("");
    if keys::tenant_name(&tenant.name.key()).pk == held {
        return;
    }
    // Written with the key names had before NFKC, case folding and
    // whitespace collapsing: it guards nothing a new name's key can hit.
    if keys::tenant_name(&legacy_name_key(tenant.name.as_str())).pk == held {
        report.add(
            item,
            format!(
                "old-form name guard of {}: the name's key is now {:?} (make check-table ARGS=--migrate-names)",
                tenant.id,
                tenant.name.key()
            ),
        );
    } else {
        report.add(
            item,
            format!("name guard of {} holds a name it no longer has", tenant.id),
        );
    }
}

/// Items owned by a tenant: a live tenant of the same incarnation.
fn check_owned(
    report: &mut Report,
    item: &Item,
    kind: EntityType,
    tenants: &HashMap<String, Tenant>,
    by_key: &HashMap<(&str, &str), &Item>,
) {
    let Some(tenant) = tenant_under(item, tenants) else {
        report.add(item, format!("{kind} of a tenant that does not exist"));
        return;
    };
    let incarnation = tenant.created_at.to_string();
    // History records its incarnation in its key.
    let recorded = if kind == EntityType::Event {
        string_attr(item, SK).map(|sk| keys::parse_event_sk(sk).map(|(at, _)| at.to_string()))
    } else {
        string_attr(item, INCARNATION).map(|at| Some(at.to_owned()))
    };
    // An event key that does not parse names no incarnation: not this one.
    if recorded.is_some_and(|at| at.as_deref() != Some(incarnation.as_str())) {
        report.add(item, format!("{kind} of an earlier tenant with the id {}", tenant.id));
    }
    if kind == EntityType::Subtenant {
        let guard = string_attr(item, CODE)
            .and_then(|code| SubtenantCode::parse(code).ok())
            .map(|code| keys::subtenant_code(&tenant.id, &code));
        let held = guard.and_then(|key| by_key.get(&(key.pk.as_str(), key.sk.as_str())).copied());
        match held {
            Some(g) if string_attr(g, SUBTENANT_ID) == string_attr(item, ID) => {}
            Some(_) => report.add(item, "its code guard holds the code for another subtenant"),
            None => report.add(item, "no code guard holds its code"),
        }
    }
}

fn check_code_guard(report: &mut Report, item: &Item, by_key: &HashMap<(&str, &str), &Item>) {
    let tenant_id = string_attr(item, PK)
        .and_then(keys::tenant_id_of)
        .and_then(|id| TenantId::parse(id).ok());
    let id = string_attr(item, SUBTENANT_ID).unwrap_or("");
    let subtenant = tenant_id.map(|tenant_id| keys::subtenant(&tenant_id, id));
    match subtenant.and_then(|key| by_key.get(&(key.pk.as_str(), key.sk.as_str())).copied()) {
        Some(subtenant) => {
            let code = string_attr(subtenant, CODE).unwrap_or("");
            let held = string_attr(item, SK).and_then(keys::parse_subtenant_code_sk);
            if !held.is_some_and(|c| c.eq_ignore_ascii_case(code)) {
                report.add(item, "code guard of a subtenant that has another code");
            }
        }
        None => report.add(item, "code guard of a subtenant that does not exist"),
    }
}

fn check_domain_claim(
    report: &mut Report,
    item: &Item,
    tenants: &HashMap<String, Tenant>,
    by_key: &HashMap<(&str, &str), &Item>,
) {
    let tenant = string_attr(item, TENANT_ID).and_then(|id| tenants.get(id));
    let Some(tenant) = tenant else {
        report.add(item, "domain claim of a tenant that does not exist");
        return;
    };
    let idp = string_attr(item, IDENTITY_PROVIDER_ID).unwrap_or("");
    let key = keys::identity_provider(&tenant.id, idp);
    match by_key.get(&(key.pk.as_str(), key.sk.as_str())) {
        None => report.add(item, "domain claim of an identity provider that does not exist"),
        Some(provider) => {
            let domain = string_attr(item, DOMAIN).unwrap_or("");
            let claimed = provider
                .get(DOMAINS)
                .and_then(|d| d.as_l().ok())
                .is_some_and(|l| l.iter().any(|v| v.as_s().is_ok_and(|s| s == domain)));
            if !claimed {
                report.add(item, "domain claim its identity provider does not list");
            }
        }
    }
    if string_attr(item, INCARNATION).is_some_and(|at| at != tenant.created_at.to_string()) {
        report.add(item, "domain claim of an earlier tenant with the same id");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tenant::{InputMode, Stamp};
    use crate::domain::{TenantInput, Timestamp};
    use crate::store::attributes::ENTITY_TYPE;
    use crate::store::records::string_value;

    fn tenant(id: &str, parent: Option<&Tenant>, tags: &[&str]) -> Tenant {
        let body = serde_json::json!({"tenantId": id, "name": format!("Name {id}"), "tags": tags});
        let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
        let change = Stamp {
            actor: "test".into(),
            at: Timestamp::now(),
        };
        Tenant::create(input, TenantId::parse(id).unwrap(), &change).placed(parent)
    }

    /// What the store writes for `tenants`: items, guards, facets.
    fn table(tenants: &[&Tenant]) -> Vec<Item> {
        let mut items = Vec::new();
        for t in tenants {
            items.push(records::tenant_item(t, 1).unwrap());
            items.push(records::name_guard_item(&t.name.key(), &t.id));
            items.extend(records::facet_items(t, 1).into_iter().map(|(_, item)| item));
        }
        items
    }

    fn problems(items: &[Item]) -> Vec<String> {
        check(items, 1).into_iter().map(|v| v.to_string()).collect()
    }

    fn family() -> (Tenant, Tenant) {
        let mut parent = tenant("parent", None, &["gold"]);
        parent.child_count = 1;
        let child = tenant("child", Some(&parent), &["silver"]);
        (parent, child)
    }

    #[test]
    fn what_the_store_writes_keeps_every_invariant() {
        let (parent, child) = family();
        assert_eq!(problems(&table(&[&parent, &child])), Vec::<String>::new());
    }

    #[test]
    fn a_missing_guard_a_stray_facet_and_a_stale_index_are_found() {
        let (parent, child) = family();
        let mut items = table(&[&parent, &child]);
        items.retain(|i| string_attr(i, PK) != Some("TENANTNAME#name child"));
        let mut stray = records::facet_items(&tenant("parent", None, &["gold", "extra"]), 1)
            .pop()
            .unwrap()
            .1;
        stray.insert(SK.into(), string_value("FACET#tag#07"));
        items.push(stray);
        let parent_item = items
            .iter_mut()
            .find(|i| string_attr(i, PK) == Some("TENANT#parent"))
            .unwrap();
        parent_item.insert("GSI1PK".into(), string_value("TENANTS#inactive#0"));
        let found = problems(&items);
        assert!(
            found.iter().any(|p| p.contains("TENANT#child / TENANT: no name guard")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("FACET#tag#07: facet the tenant no longer has")),
            "{found:?}"
        );
        assert!(found.iter().any(|p| p.contains("GSI1PK is")), "{found:?}");
    }

    /// Issue 17, item 8: a guard written with the key names had before
    /// NFKC, case folding and whitespace collapsing is an old-form guard,
    /// and is reported as such (on the guard and on its tenant).
    #[test]
    fn old_form_name_guards_are_found() {
        let mut straße = tenant("strasse", None, &[]);
        straße.name = crate::domain::TenantName::parse("Straße  Nord").unwrap();
        let mut items = table(&[&straße]);
        assert_eq!(problems(&items), Vec::<String>::new());
        let legacy = crate::domain::values::legacy_name_key(straße.name.as_str());
        assert_ne!(legacy, straße.name.key());
        items.retain(|i| EntityType::of(i).ok() != Some(EntityType::TenantName));
        items.push(records::name_guard_item(&legacy, &straße.id));
        let found = problems(&items);
        assert!(
            found
                .iter()
                .any(|p| p.contains("TENANTNAME#straße  nord / TENANTNAME: old-form name guard")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("TENANT#strasse / TENANT: its name guard is an old-form one")),
            "{found:?}"
        );
        // An ASCII name's key is what it was: no guard of one is old-form.
        let acme = tenant("acme", None, &[]);
        let ascii = table(&[&acme]);
        assert_eq!(
            crate::domain::values::legacy_name_key(acme.name.as_str()),
            acme.name.key()
        );
        assert_eq!(problems(&ascii), Vec::<String>::new());
    }

    /// Issue 18, item 5: facets written before name prefixes were indexed
    /// (no name facet, subtree facets without their prefix keys) are
    /// reported as such, and the migration writes exactly those.
    #[test]
    fn facets_without_name_prefixes_are_found_and_planned() {
        let (parent, child) = family();
        let mut items = table(&[&parent, &child]);
        assert_eq!(plan_prefix_writes(&items, "t", 1).unwrap().0.len(), 0);
        let sk_starts = |i: &Item, prefix: &str| string_attr(i, SK).is_some_and(|sk| sk.starts_with(prefix));
        items.retain(|i| !sk_starts(i, &keys::facets_of_kind(keys::FacetKind::Name)));
        for item in items.iter_mut().filter(|i| sk_starts(i, "FACET#IN#")) {
            for attribute in records::name_prefix_attributes() {
                item.remove(attribute);
            }
        }
        // One subtree facet stale for another reason: reported, not migrated.
        let stale = items
            .iter_mut()
            .find(|i| string_attr(i, PK) == Some("TENANT#child") && sk_starts(i, "FACET#IN#01"))
            .unwrap();
        stale.insert("GSI6SK".into(), string_value("name someone else"));
        let found = problems(&items);
        let with = |text: &str| found.iter().filter(|p| p.contains(text)).count();
        assert_eq!(
            with("FACET#NAME#00 is missing (written before name prefixes"),
            2,
            "{found:?}"
        );
        assert_eq!(with("facet without its name prefix keys"), 2, "{found:?}");
        assert_eq!(with("FACET#IN#01: facet is listed under a stale value"), 1, "{found:?}");
        assert_eq!(found.len(), 5, "{found:?}");
        let (moves, left) = plan_prefix_writes(&items, "t", 1).unwrap();
        assert_eq!(left, Vec::<String>::new());
        let mut planned: Vec<(String, usize)> = moves.iter().map(|m| (m.tenant.to_string(), m.writes.len())).collect();
        planned.sort();
        // A version check, then: the parent's subtree facet and name facet;
        // the child's first subtree facet and name facet (not the stale one).
        assert_eq!(planned, [("child".to_owned(), 3), ("parent".to_owned(), 3)]);
        for mv in &moves {
            assert!(mv.writes[0].condition_check.is_some());
            assert!(mv.writes[1..].iter().all(|w| w.put.is_some()));
        }
    }

    /// Issue 18, item 7: a day of the feed with events has its mark (what
    /// readers go by); one without is reported, with the migration to run.
    #[test]
    fn a_feed_day_without_its_mark_is_found() {
        let at = Timestamp::parse("2026-11-30T10:00:00Z").unwrap();
        let subject = TenantId::parse("acme").unwrap();
        let event = |id: &str| {
            let key = keys::feed_event(at, id);
            records::feed_event_item(
                &key,
                "tenant.updated",
                &subject,
                std::slice::from_ref(&subject),
                &serde_json::json!({}),
                at,
            )
        };
        let mut items = vec![event("e1"), event("e2")];
        let found = problems(&items);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .all(|p| p.contains("feed day 2026-11-30 has events but no mark")),
            "{found:?}"
        );
        items.push(records::feed_day_item("2026-11-30", at));
        assert_eq!(problems(&items), Vec::<String>::new());
    }

    /// Issue 23: a feed event is in its id's shard of its day, or in the
    /// day's own partition (shard 0, where events were recorded before the
    /// feed was sharded); anywhere else it is reported.
    #[test]
    fn a_feed_event_outside_its_shard_is_found() {
        let at = Timestamp::parse("2026-11-30T10:00:00Z").unwrap();
        let subject = TenantId::parse("acme").unwrap();
        let event = |key: &keys::Key| {
            records::feed_event_item(
                key,
                "tenant.updated",
                &subject,
                std::slice::from_ref(&subject),
                &serde_json::json!({}),
                at,
            )
        };
        let id = (0..)
            .map(|i| format!("e{i}"))
            .find(|id| keys::feed_shard_of(id) > 1)
            .unwrap();
        let sharded = keys::feed_event(at, &id);
        let legacy = keys::Key {
            pk: "FEED#2026-11-30".into(),
            ..sharded.clone()
        };
        let elsewhere = keys::Key {
            pk: keys::feed_partition("2026-11-30", 1),
            ..sharded.clone()
        };
        let other_day = keys::Key {
            pk: keys::feed_partition("2026-11-29", keys::feed_shard_of(&id)),
            ..sharded.clone()
        };
        let mark = records::feed_day_item("2026-11-30", at);
        assert_eq!(
            problems(&[event(&sharded), event(&legacy), mark.clone()]),
            Vec::<String>::new()
        );
        let found = problems(&[event(&elsewhere), mark.clone()]);
        assert!(
            found.len() == 1 && found[0].contains("in feed shard 1, not its id's"),
            "{found:?}"
        );
        let found = problems(&[event(&other_day), mark]);
        assert!(
            found.len() == 1 && found[0].contains("outside its day's partition"),
            "{found:?}"
        );
    }

    /// Issue 17, item 2: mappings stored before the group rule are listed
    /// (as advice: they still read), those that keep it are not.
    #[test]
    fn group_mappings_outside_the_group_rule_are_listed() {
        let mapping = |sk: &str, to: &str| {
            let mut item = Item::new();
            item.insert(PK.into(), string_value("TENANT#acme"));
            item.insert(SK.into(), string_value(sk));
            item.insert(ENTITY_TYPE.into(), string_value(EntityType::GroupMapping.as_str()));
            item.insert("to".into(), string_value(to));
            item
        };
        let items = [
            mapping("IDPGROUP#okta#a", "group:ok"),
            mapping("IDPGROUP#okta#b", "tenancy:admin"),
            mapping("IDPGROUP#okta#c", "platform admins"),
        ];
        let found: Vec<String> = group_mapping_findings(&items, &crate::auth::AuthConfig::default())
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("TENANT#acme / IDPGROUP#okta#b: group mapping to 'tenancy:admin'"));
        assert!(found[1].starts_with("TENANT#acme / IDPGROUP#okta#c: group mapping to 'platform admins'"));
    }

    #[test]
    fn hierarchy_faults_are_found() {
        let (mut parent, child) = family();
        parent.child_count = 3;
        let mut moved = child.clone();
        moved.path = vec![TenantId::parse("elsewhere").unwrap(), child.id.clone()];
        let found = problems(&table(&[&parent, &moved]));
        assert!(
            found.iter().any(|p| p.contains("childCount is 3, it has 1 children")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("disagrees with its parent's")),
            "{found:?}"
        );

        let mut a = tenant("alpha", None, &[]);
        let mut b = tenant("beta", Some(&a), &[]);
        a.parent_id = Some(b.id.clone());
        (a.child_count, b.child_count) = (1, 1);
        let found = problems(&table(&[&a, &b]));
        assert!(found.iter().any(|p| p.contains("loops")), "{found:?}");
    }

    #[test]
    fn items_of_a_missing_tenant_or_an_earlier_incarnation_are_found() {
        let (parent, child) = family();
        let mut items = table(&[&parent, &child]);
        let orphan = records::facet_items(&tenant("gone", None, &["x"]), 1)
            .into_iter()
            .find(|(key, _)| key.sk.starts_with("FACET#TAG#"))
            .unwrap()
            .1;
        items.push(orphan);
        items.push(records::name_guard_item("name gone", &TenantId::parse("gone").unwrap()));
        let member = crate::domain::member::Member {
            tenant_id: parent.id.clone(),
            user_id: crate::domain::UserId::parse("u1").unwrap(),
            role: crate::auth::TenantRole::Viewer,
            added_at: parent.created_at,
            added_by: "test".into(),
        };
        let earlier = parent.created_at.plus(time::Duration::days(-1));
        items.push(records::member_item(&member, earlier).unwrap());
        let found = problems(&items);
        assert!(
            found
                .iter()
                .any(|p| p.contains("facet of a tenant that does not exist")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("name guard of a tenant that does not exist")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("member of an earlier tenant")),
            "{found:?}"
        );
    }

    #[test]
    fn a_subtenant_and_its_code_guard_answer_for_each_other() {
        let (parent, child) = family();
        let mut items = table(&[&parent, &child]);
        let input = crate::domain::subtenant::SubtenantInput {
            name: crate::domain::TenantName::parse("Sales").unwrap(),
            code: None,
            description: None,
            reseller_id: None,
        };
        let code = SubtenantCode::parse("sales").unwrap();
        let change = Stamp {
            actor: "test".into(),
            at: Timestamp::now(),
        };
        let sales = crate::domain::subtenant::Subtenant::create(parent.id.clone(), input, code.clone(), &change);
        items.push(records::subtenant_item(&sales).unwrap());
        assert_eq!(
            problems(&items),
            vec!["TENANT#parent / ".to_owned() + &format!("SUBTENANT#{}: no code guard holds its code", sales.id)]
        );
        items.push(records::subtenant_code_item(&parent.id, &code, &sales.id));
        assert_eq!(problems(&items), Vec::<String>::new());
        items.push(records::subtenant_code_item(
            &parent.id,
            &SubtenantCode::parse("stale").unwrap(),
            &sales.id,
        ));
        let found = problems(&items);
        assert!(
            found
                .iter()
                .any(|p| p.contains("SUBCODE#stale: code guard of a subtenant that has another code")),
            "{found:?}"
        );
    }
}
