//! The one owner of key formats: nothing else formats or parses `PK`, `SK`
//! or `GSI*` values. Every key has a constructor here, and [`parse`] reads
//! any key back into what it identifies ([`ItemKey`]).
//!
//! The indexes are generic (`GSI1`…`GSI6`, see [`super::table`]), each
//! serving several access patterns over different item kinds:
//!
//! ## Access patterns
//!
//! | access pattern | table / index | PK | SK |
//! |---|---|---|---|
//! | a tenant, or the tombstone of a purged one | table | `TENANT#<id>` | `TENANT` |
//! | who holds a name, or held it before a purge | table | `TENANTNAME#<name key>` | `TENANTNAME`, then `PURGED#<purgedAt>` |
//! | a tenant's history, newest first | table | `TENANT#<id>` | begins with `EVENT#<createdAt of the tenant>#` |
//! | a tenant's members | table | `TENANT#<id>` | begins with `MEMBER#` |
//! | a tenant's subtenants by creation | table | `TENANT#<id>` | begins with `SUBTENANT#` |
//! | a subtenant code's guard | table | `TENANT#<id>` | `SUBCODE#<code>` |
//! | a tenant's identity providers | table | `TENANT#<id>` | begins with `IDP#` |
//! | a provider's group mappings | table | `TENANT#<id>` | begins with `IDPGROUP#<provider id>#` |
//! | a tenant's deployments, newest first | table | `TENANT#<id>` | `DEPLOY#<version, 10 digits>` |
//! | a deployment's bytes | table | `TENANT#<id>` | `DEPLOYBLOB#<version, 10 digits>` |
//! | everything a tenant owns (purge) | table | `TENANT#<id>` | any |
//! | a clone job | table | `JOB#<job id>` | `JOB` |
//! | an idempotency record | table | `IDEMPOTENCY#<sha256 of caller and key>` | `IDEMPOTENCY` |
//! | a login domain's claim | table | `DOMAIN#<domain>` | `DOMAIN` |
//! | the days that have change events | table | `FEEDDAYS` | `<yyyy-mm-dd>` |
//! | the change events of a day, one shard each (merged by SK) | table | `FEED#<yyyy-mm-dd>` (shard 0, and every event recorded before the feed was sharded), `FEED#<yyyy-mm-dd>#<feed shard 1–31>` | `<recorded at>#<event id>` |
//! | a change event recorded once | table | `CHANGEEVENT#<event id>` | `CHANGEEVENT` |
//! | the gone incarnations of a tenant id | table | `GONE#<id>` | `<createdAt of the incarnation>` |
//! | tenants by name | GSI1 | `TENANTS#<bucket>#<shard>` | name key |
//! | a user's memberships | GSI1 | `USER#<userId>` | `MEMBER#<tenantId>` |
//! | a tenant's subtenants by name | GSI1 | `SUBTENANTS#<tenant id>` | `<name key>\x01<id>` |
//! | unfinished background work | GSI1 | `PENDING` | `<at>#<id>` |
//! | unfinished clone jobs | GSI1 | `JOBS#active` | `<createdAt>#<job id>` |
//! | tenants by creation | GSI2 | `TENANTS#<bucket>#<shard>` | `<createdAt>#<id>` |
//! | a subtree by creation (non-admin lists) | GSI2 | `WITHIN#<root>#<bucket>` | `<createdAt>#<id>` |
//! | a tenant's subtenants by code | GSI2 | `SUBTENANTS#<tenant id>` | code |
//! | children of a tenant by name | GSI3 | `CHILDREN#<parent>#<bucket>` | name key |
//! | tenants of a reseller by name | GSI4 | `RESELLER#<reseller id>#<bucket>` | name key |
//! | every subtenant by creation | GSI4 | `SUBTENANTS` | `<createdAt>#<id>` |
//! | a name prefix of 1, 2, 3 characters by creation | GSI1, GSI3, GSI4 | `PREFIX#<bucket>#<shard>#<prefix>` | `<createdAt>#<id>` |
//! | a name prefix within a subtree by creation | GSI1, GSI3, GSI4 | `PREFIX#IN#<root>#<bucket>#<prefix>` | `<createdAt>#<id>` |
//! | a subtree by id path | GSI5 | `TREE#<root>` | begins with `<id path>` |
//! | tenants by tag | GSI6 | `FACET#TAG#<tag>#<bucket>` | name key |
//! | tenants by external id | GSI6 | `FACET#EXT#<key>=<value>#<bucket>` | name key |
//! | tenants by identity provider | GSI6 | `FACET#IDP#<provider id>#<bucket>` | name key |
//! | a subtree by name (non-admin lists) | GSI6 | `FACET#IN#<root>#<bucket>` | name key |
//! | retired tenants by retirement (clean-up) | GSI6 | `RETIRED` | `<retiredAt>#<id>` |
//!
//! `<bucket>` is `live`, `retired` or `provisioning` ([`ListBucket`]);
//! `<shard>` is [`shard_of`] the tenant id; `<feed shard>` is
//! [`feed_shard_of`] the event id (one of [`FEED_SHARDS`]). The same table
//! is in docs/architecture.md; a test (`tests/api/docs.rs`) keeps the two
//! equal.

use sha2::{Digest, Sha256};

use crate::domain::{Status, SubtenantCode, Tag, TenantId, Timestamp, UserId};

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

pub const TENANT_SK: &str = "TENANT";
pub const TENANT_NAME_SK: &str = "TENANTNAME";
pub const PENDING_SK: &str = "PENDING";
pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
/// The GSI1 partition that lists unfinished background work.
pub const PENDING_LIST: &str = "PENDING";
/// Prefix of every facet item's SK, under the tenant's PK.
pub const FACET_SK_PREFIX: &str = "FACET#";
/// Prefix of every audit event's SK, under the tenant's PK.
pub const EVENT_SK_PREFIX: &str = "EVENT#";
/// Prefix of every membership's SK, under the tenant's PK.
pub const MEMBER_SK_PREFIX: &str = "MEMBER#";
/// Prefix of every subtenant's SK, under its tenant's PK.
pub const SUBTENANT_SK_PREFIX: &str = "SUBTENANT#";
/// The GSI4 partition of every subtenant, by creation.
pub const ALL_SUBTENANTS: &str = "SUBTENANTS";
/// Prefix of every identity provider's SK, under its tenant's PK.
pub const IDP_SK_PREFIX: &str = "IDP#";
/// Prefix of every group mapping's SK, under its tenant's PK.
pub const IDP_GROUP_SK_PREFIX: &str = "IDPGROUP#";
/// The GSI6 partition of retired tenants, by `retiredAt`: what the clean-up reads.
pub const RETIRED_LIST: &str = "RETIRED";

pub fn tenant(id: &TenantId) -> Key {
    Key {
        pk: format!("TENANT#{id}"),
        sk: TENANT_SK.to_owned(),
    }
}

/// The guard item that makes a name key unique.
pub fn tenant_name(name_key: &str) -> Key {
    Key {
        pk: format!("TENANTNAME#{name_key}"),
        sk: TENANT_NAME_SK.to_owned(),
    }
}

/// Prefix of the SK of a purged tenant's mark under its name's guard
/// partition (the guard itself, `TENANTNAME`, sorts after every mark).
pub const PURGED_NAME_SK_PREFIX: &str = "PURGED#";

/// The mark a purge leaves under the name the purged tenant held, found by
/// a by-name lookup once the guard is gone: ordered by purge time.
pub fn purged_name(name_key: &str, purged_at: Timestamp) -> Key {
    Key {
        pk: tenant_name(name_key).pk,
        sk: format!("{PURGED_NAME_SK_PREFIX}{purged_at}"),
    }
}

/// An audit event: under the tenant, scoped to the tenant's incarnation (its
/// `createdAt`: an id deleted and created again starts a new history) and
/// ordered by the version it produced.
pub fn event(id: &TenantId, incarnation: Timestamp, version: u64) -> Key {
    Key {
        pk: tenant(id).pk,
        sk: format!("{}{version:020}", events_of(incarnation)),
    }
}

/// The SK prefix of one incarnation's events.
pub fn events_of(incarnation: Timestamp) -> String {
    format!("{EVENT_SK_PREFIX}{incarnation}#")
}

/// One of a tenant's facet items (tag or external id), by slot.
pub fn facet(id: &TenantId, kind: FacetKind, slot: usize) -> Key {
    Key {
        pk: tenant(id).pk,
        sk: format!("{}{slot:02}", facets_of_kind(kind)),
    }
}

/// A subtenant, under its tenant (ids are UUID v7: the SK sorts by creation).
pub fn subtenant(tenant_id: &TenantId, id: &str) -> Key {
    Key {
        pk: tenant(tenant_id).pk,
        sk: format!("{SUBTENANT_SK_PREFIX}{id}"),
    }
}

/// The guard that makes a subtenant code unique within its tenant.
pub fn subtenant_code(tenant_id: &TenantId, code: &SubtenantCode) -> Key {
    Key {
        pk: tenant(tenant_id).pk,
        sk: format!("SUBCODE#{code}"),
    }
}

/// The GSI1 (by name) and GSI2 (by code) partition of a tenant's subtenants.
pub fn subtenants_of(tenant_id: &TenantId) -> String {
    format!("SUBTENANTS#{tenant_id}")
}

/// Below every character a name may hold.
const SEPARATOR: char = '\u{1}';

/// The GSI1 sort key of a subtenant: its name key, then its id, joined by a
/// control character (below every character a name may hold, so a shorter
/// name sorts first).
pub fn subtenant_name_sort(name_key: &str, id: &str) -> String {
    format!("{name_key}{SEPARATOR}{id}")
}

/// A user's membership of a tenant.
pub fn member(tenant_id: &TenantId, user: &UserId) -> Key {
    Key {
        pk: tenant(tenant_id).pk,
        sk: format!("{MEMBER_SK_PREFIX}{user}"),
    }
}

/// The GSI1 partition of a user's memberships, sorted by tenant id.
pub fn memberships_of(user: &UserId) -> String {
    format!("USER#{user}")
}

/// The GSI1 sort key of a membership in its user's partition.
pub fn membership_sort(tenant_id: &TenantId) -> String {
    format!("{MEMBER_SK_PREFIX}{tenant_id}")
}

/// A unit of unfinished background work.
pub fn pending(id: &str) -> Key {
    Key {
        pk: format!("PENDING#{id}"),
        sk: PENDING_SK.to_owned(),
    }
}

/// An idempotency record: per caller and key, hashed so any characters fit.
pub fn idempotency(subject: &str, key: &str) -> Key {
    let mut hash = Sha256::new();
    hash.update(subject.as_bytes());
    hash.update([0]);
    hash.update(key.as_bytes());
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Key {
        pk: format!("IDEMPOTENCY#{hex}"),
        sk: IDEMPOTENCY_SK.to_owned(),
    }
}

/// Live tenants (active and inactive) and retired ones are listed from
/// separate partitions, so the default lists never read retired items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListBucket {
    Live,
    Retired,
    /// Clones being provisioned: listed nowhere until their job succeeds.
    Provisioning,
}

impl ListBucket {
    pub fn of(status: Status) -> Self {
        match status {
            Status::Retired => Self::Retired,
            Status::Provisioning => Self::Provisioning,
            Status::Active | Status::Inactive => Self::Live,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Retired => "retired",
            Self::Provisioning => "provisioning",
        }
    }
}

/// A main list partition: bucket and shard. Shards spread one big
/// platform's list writes and reads over several partitions.
pub fn tenant_list(bucket: ListBucket, shard: u16) -> String {
    format!("TENANTS#{}#{shard}", bucket.as_str())
}

/// The children of a tenant (GSI3).
pub fn children(parent: &TenantId, bucket: ListBucket) -> String {
    format!("CHILDREN#{parent}#{}", bucket.as_str())
}

/// The tenants of a reseller (GSI4).
pub fn reseller(reseller_id: &str, bucket: ListBucket) -> String {
    format!("RESELLER#{reseller_id}#{}", bucket.as_str())
}

/// A whole tree, sorted by id path (GSI5): a subtree is one key prefix.
pub fn tree(root: &TenantId) -> String {
    format!("TREE#{root}")
}

/// What a facet item indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacetKind {
    Tag,
    ExternalId,
    /// The tenant is within the subtree of an id of its path (itself included).
    Within,
    /// The tenant authorised an identity provider.
    IdentityProvider,
    /// The tenant's name prefixes among all tenants (one item per tenant).
    Name,
}

impl FacetKind {
    const ALL: [Self; 5] = [
        Self::Tag,
        Self::ExternalId,
        Self::Within,
        Self::IdentityProvider,
        Self::Name,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Tag => "TAG",
            Self::ExternalId => "EXT",
            Self::Within => "IN",
            Self::IdentityProvider => "IDP",
            Self::Name => "NAME",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The SK prefix of a tenant's facets of one kind.
pub fn facets_of_kind(kind: FacetKind) -> String {
    format!("{FACET_SK_PREFIX}{}#", kind.as_str())
}

/// The facet partition of a tag (GSI6).
pub fn tag_facet(tag: &Tag, bucket: ListBucket) -> String {
    format!("FACET#TAG#{tag}#{}", bucket.as_str())
}

/// The facet partition of an external id `key:value` (GSI6). Keys cannot
/// contain `=`, so the pair is unambiguous.
pub fn external_id_facet(key: &str, value: &str, bucket: ListBucket) -> String {
    format!("FACET#EXT#{key}={value}#{}", bucket.as_str())
}

/// The facet partition of a subtree: every tenant within `ancestor`'s
/// subtree, itself included (GSI6), for the lists of non-admins.
pub fn within_facet(ancestor: &TenantId, bucket: ListBucket) -> String {
    format!("FACET#IN#{ancestor}#{}", bucket.as_str())
}

/// The same subtree by creation (GSI2, on the same facet items): every
/// tenant within `ancestor`'s subtree, itself included, sorted by
/// [`created_sort`], for the `createdAt` lists of non-admins.
pub fn within_by_created(ancestor: &TenantId, bucket: ListBucket) -> String {
    format!("WITHIN#{ancestor}#{}", bucket.as_str())
}

/// Longest name prefix, in characters, with partitions of its own.
pub const INDEXED_PREFIX_CHARS: usize = 3;

/// The prefixes of a name key that have partitions: its first 1, 2, …
/// [`INDEXED_PREFIX_CHARS`] characters (fewer for a shorter key).
pub fn indexed_prefixes(name_key: &str) -> Vec<String> {
    let mut prefixes = Vec::with_capacity(INDEXED_PREFIX_CHARS);
    for (at, c) in name_key.char_indices().take(INDEXED_PREFIX_CHARS) {
        prefixes.push(name_key[..at + c.len_utf8()].to_owned());
    }
    prefixes
}

/// The by-creation partition of a name prefix among all tenants of a
/// bucket and list shard (on name facets; the index depends on the
/// prefix's length: `table::PREFIX_INDEXES`). The prefix comes last, so
/// whatever it holds, the key is unambiguous.
pub fn name_prefix_list(bucket: ListBucket, shard: u16, prefix: &str) -> String {
    format!("PREFIX#{}#{shard}#{prefix}", bucket.as_str())
}

/// The by-creation partition of a name prefix within `ancestor`'s subtree,
/// itself included (on subtree facets), for the lists of non-admins.
pub fn name_prefix_within(ancestor: &TenantId, bucket: ListBucket, prefix: &str) -> String {
    format!("PREFIX#IN#{ancestor}#{}#{prefix}", bucket.as_str())
}

/// The facet partition of an identity provider id (GSI6).
pub fn identity_provider_facet(idp_id: &str, bucket: ListBucket) -> String {
    format!("FACET#IDP#{idp_id}#{}", bucket.as_str())
}

/// An identity provider, under its tenant.
pub fn identity_provider(tenant_id: &TenantId, idp_id: &str) -> Key {
    Key {
        pk: tenant(tenant_id).pk,
        sk: format!("{IDP_SK_PREFIX}{idp_id}"),
    }
}

/// A group mapping of an identity provider, under its tenant.
pub fn group_mapping(tenant_id: &TenantId, idp_id: &str, from: &str) -> Key {
    Key {
        pk: tenant(tenant_id).pk,
        sk: format!("{}{from}", group_mappings_of(idp_id)),
    }
}

/// The SK prefix of an identity provider's group mappings.
pub fn group_mappings_of(idp_id: &str) -> String {
    format!("{IDP_GROUP_SK_PREFIX}{idp_id}#")
}

/// Prefix of every deployment's metadata SK, under its tenant's PK.
pub const DEPLOYMENT_SK_PREFIX: &str = "DEPLOY#";
/// Prefix of every deployment's content SK, under its tenant's PK.
pub const DEPLOYMENT_CONTENT_SK_PREFIX: &str = "DEPLOYBLOB#";
/// The prefix both deployment item kinds share (for deleting them together).
pub const DEPLOYMENT_ITEMS_PREFIX: &str = "DEPLOY";
pub const JOB_SK: &str = "JOB";
/// The GSI1 partition of unfinished jobs, by creation: what the clean-up
/// reads to finish jobs whose stream records were given up.
pub const ACTIVE_JOBS: &str = "JOBS#active";

/// A deployment's metadata, under its tenant, sorted by version (zero-padded).
pub fn deployment(tenant_id: &TenantId, version: u64) -> Key {
    Key {
        pk: tenant(tenant_id).pk,
        sk: format!("{DEPLOYMENT_SK_PREFIX}{version:010}"),
    }
}

/// A deployment's bytes, beside its metadata (lists never read them).
pub fn deployment_content(tenant_id: &TenantId, version: u64) -> Key {
    Key {
        pk: tenant(tenant_id).pk,
        sk: format!("{DEPLOYMENT_CONTENT_SK_PREFIX}{version:010}"),
    }
}

/// A clone job, in a partition of its own: `GET /v1/jobs/{id}` is one `GetItem`.
pub fn job(id: &str) -> Key {
    Key {
        pk: format!("JOB#{id}"),
        sk: JOB_SK.to_owned(),
    }
}

/// The guard that makes a login domain belong to one identity provider.
pub fn domain_claim(domain: &str) -> Key {
    Key {
        pk: format!("DOMAIN#{domain}"),
        sk: "DOMAIN".to_owned(),
    }
}

/// The shard of a tenant: a stable hash (FNV-1a) of its id. Raising the
/// shard count later keeps every item findable (lists query all shards below
/// the count); lowering it would hide the items of the dropped shards.
pub fn shard_of(id: &TenantId, shards: u16) -> u16 {
    (fnv1a(id.as_str()) % u64::from(shards.max(1))) as u16
}

/// FNV-1a of `text`'s bytes: stable across builds and platforms (std's
/// hasher is not), which a key that is stored must be.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A sort key by time, then id, so it is unique: `<at>#<id>` (a
/// timestamp holds no `#`).
fn time_then_id(at: Timestamp, id: &str) -> String {
    format!("{at}#{id}")
}

/// The time and id of a sort key made by [`created_sort`],
/// [`retired_sort`], [`subtenant_created_sort`], [`job_created_sort`] or
/// [`pending_sort`].
pub fn parse_time_sort(sort: &str) -> Option<(Timestamp, &str)> {
    let (at, id) = sort.split_once('#')?;
    Some((Timestamp::parse(at)?, id))
}

/// Sort key of the by-creation index: time, then id, so it is unique.
pub fn created_sort(created_at: Timestamp, id: &TenantId) -> String {
    time_then_id(created_at, id.as_str())
}

/// Sort key of a retired tenant in [`RETIRED_LIST`]: by `retiredAt`, then id.
pub fn retired_sort(retired_at: Timestamp, id: &TenantId) -> String {
    time_then_id(retired_at, id.as_str())
}

/// Sort key of a subtenant in [`ALL_SUBTENANTS`]: by creation, then id.
pub fn subtenant_created_sort(created_at: Timestamp, id: &str) -> String {
    time_then_id(created_at, id)
}

/// Sort key of an unfinished job in [`ACTIVE_JOBS`]: by creation, then id.
pub fn job_created_sort(created_at: Timestamp, id: &str) -> String {
    time_then_id(created_at, id)
}

/// Sort key of a unit of work in [`PENDING_LIST`]: by when it was queued, then id.
pub fn pending_sort(at: Timestamp, id: &str) -> String {
    time_then_id(at, id)
}

/// The tenant id inside a tenant-owned item's `PK`.
pub fn tenant_id_of(pk: &str) -> Option<&str> {
    pk.strip_prefix("TENANT#")
}

/// The guard that records a change event's id once.
pub fn change_event_guard(event_id: &str) -> Key {
    Key {
        pk: format!("CHANGEEVENT#{event_id}"),
        sk: "CHANGEEVENT".to_owned(),
    }
}

/// The day (`yyyy-mm-dd`, UTC) whose feed partition holds what is recorded at `at`.
pub fn feed_day(at: Timestamp) -> String {
    at.to_string()[..10].to_owned()
}

const FEED_PREFIX: &str = "FEED#";

/// How many partitions the feed spreads one day's events over, so that no
/// one of them is a hot partition (issue 23). DynamoDB caps a partition at
/// 1,000 WCU/s; the goal is at most half of that at the platform's target
/// load of 2,000 writes/s.
///
/// The arithmetic. Every mutating route makes exactly one change event
/// (`change_events::each_mutating_route_publishes_exactly_one_event_of_its_type`),
/// so 2,000 writes/s are 2,000 events/s. An event item is written in a
/// transaction (with its `CHANGEEVENT#<id>` guard, which lives elsewhere): 2
/// WCU per started KB on its feed partition. Measured
/// (`feed::a_feed_event_costs_what_the_shard_count_assumes`): the event item
/// of a PATCH of a tenant shaped like the load test's is 1,048 bytes (just
/// over 1 KB: already 2 KB of units), of a tenant with a full profile
/// (contact, address, 10 tags, 10 metadata keys) 1,966 bytes; assumed here:
/// at most 2 KB, i.e. 4 WCU per event (that test fails if the full-profile
/// event outgrows it; larger resources, up to EventBridge's 256 KB, are
/// rare). One partition per day took 2,000 × 4 = 8,000 WCU/s, 8 × its
/// limit. Over 32 shards:
/// 8,000 / 32 = 250 WCU/s per shard, 25 % of the limit (50 % would still
/// hold with events of 4 KB, or at 4,000 writes/s). 16 shards would be 50 %
/// exactly, with no margin for larger events or skew; 32 is the next power
/// of two.
///
/// The price is on the read side: a feed page reads every shard of each day
/// it reads, one `Query` each (concurrently): see `store::feed`.
///
/// Fixed for a deployed table: changing it moves the shard of every event
/// id (the invariant checker would report the events of the last 30 days
/// as misplaced) and, while a stack updates, readers and the notifier would
/// disagree on the shards. A change needs a count to read and a count to
/// write, rolled out one release apart (readers first).
pub const FEED_SHARDS: u16 = 32;

/// The feed shard of a change event: [`fnv1a`] of its id, as [`shard_of`]
/// for tenants; any id, whatever its shape, spreads evenly.
pub fn feed_shard_of(event_id: &str) -> u16 {
    (fnv1a(event_id) % u64::from(FEED_SHARDS)) as u16
}

/// The events feed's partition of one shard of one day (`yyyy-mm-dd`):
/// `FEED#<day>#<shard>`, except shard 0, which is `FEED#<day>`, the day's
/// partition from before the feed was sharded. So the events recorded
/// before (kept 30 days) are read with shard 0's, at no extra `Query`.
pub fn feed_partition(day: &str, shard: u16) -> String {
    match shard {
        0 => format!("{FEED_PREFIX}{day}"),
        _ => format!("{FEED_PREFIX}{day}#{shard}"),
    }
}

/// Every partition of a day, shard 0 first: what a reader reads.
pub fn feed_partitions(day: &str) -> impl Iterator<Item = String> + '_ {
    (0..FEED_SHARDS).map(move |shard| feed_partition(day, shard))
}

/// The day (`yyyy-mm-dd`) and shard of a feed partition's key.
pub fn feed_day_of(pk: &str) -> Option<(&str, u16)> {
    let rest = pk.strip_prefix(FEED_PREFIX)?;
    match rest.split_once('#') {
        None => Some((rest, 0)),
        Some((day, text)) => {
            let shard: u16 = text.parse().ok()?;
            // Only the keys built here: `FEED#<day>#0` or `#007` never are.
            (shard > 0 && shard.to_string() == text).then_some((day, shard))
        }
    }
}

/// The lowest feed SK after `sk` (every SK that sorts after it is at
/// least this): for a `BETWEEN` that starts past what was read.
pub fn feed_events_after(sk: &str) -> String {
    format!("{sk}{SEPARATOR}")
}

/// A feed SK above every event recorded before `at` and below every event
/// recorded at or after it.
pub fn feed_events_until(at: Timestamp) -> String {
    format!("{at}#")
}

/// The partition of the feed's day marks: one item per day that has events
/// (its SK the day), so readers skip the days without.
pub const FEED_DAYS: &str = "FEEDDAYS";

/// The mark of a day (`yyyy-mm-dd`) that has events in the feed.
pub fn feed_day_mark(day: &str) -> Key {
    Key {
        pk: FEED_DAYS.to_owned(),
        sk: day.to_owned(),
    }
}

/// A change event in the feed: its day's partition, sorted by when it was
/// recorded, then by id.
pub fn feed_event(recorded_at: Timestamp, event_id: &str) -> Key {
    Key {
        pk: feed_partition(&feed_day(recorded_at), feed_shard_of(event_id)),
        sk: format!("{recorded_at}#{event_id}"),
    }
}

/// The partition of the marks of a tenant id's gone incarnations.
pub fn tenant_gone_of(id: &TenantId) -> String {
    format!("GONE#{id}")
}

/// The mark of a gone incarnation (sorted by its `createdAt`).
pub fn tenant_gone(id: &TenantId, incarnation: Timestamp) -> Key {
    Key {
        pk: tenant_gone_of(id),
        sk: incarnation.to_string(),
    }
}

/// What an item's key identifies: every key [`parse`] reads back into the
/// values it was built from (the typed form a record decoder starts from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKey {
    /// A tenant, or the tombstone of a purged one (same key).
    Tenant(TenantId),
    TenantName {
        name_key: String,
    },
    PurgedName {
        name_key: String,
        purged_at: Timestamp,
    },
    Event {
        tenant: TenantId,
        incarnation: Timestamp,
        version: u64,
    },
    Facet {
        tenant: TenantId,
        kind: FacetKind,
        slot: usize,
    },
    Subtenant {
        tenant: TenantId,
        id: String,
    },
    SubtenantCode {
        tenant: TenantId,
        code: SubtenantCode,
    },
    Member {
        tenant: TenantId,
        user: UserId,
    },
    IdentityProvider {
        tenant: TenantId,
        idp: String,
    },
    GroupMapping {
        tenant: TenantId,
        idp: String,
        from: String,
    },
    Deployment {
        tenant: TenantId,
        version: u64,
    },
    DeploymentContent {
        tenant: TenantId,
        version: u64,
    },
    Pending {
        id: String,
    },
    /// Hashed: the hex SHA-256 of caller and key.
    Idempotency {
        hash: String,
    },
    Job {
        id: String,
    },
    DomainClaim {
        domain: String,
    },
    ChangeEventGuard {
        event_id: String,
    },
    FeedDay {
        day: String,
    },
    /// A change event in its day's shard (`shard` 0 also holds the events
    /// recorded before the feed was sharded, whatever their id's shard).
    FeedEvent {
        recorded_at: Timestamp,
        event_id: String,
        shard: u16,
    },
    TenantGone {
        tenant: TenantId,
        incarnation: Timestamp,
    },
}

/// What a key identifies; `None` for a key no constructor here builds.
pub fn parse(key: &Key) -> Option<ItemKey> {
    let (pk, sk) = (key.pk.as_str(), key.sk.as_str());
    if let Some(id) = tenant_id_of(pk) {
        return parse_under_tenant(TenantId::parse(id).ok()?, sk);
    }
    let (kind, rest) = pk.split_once('#').unwrap_or((pk, ""));
    let owned = || rest.to_owned();
    Some(match (kind, sk) {
        ("TENANTNAME", TENANT_NAME_SK) => ItemKey::TenantName { name_key: owned() },
        ("TENANTNAME", sk) => ItemKey::PurgedName {
            name_key: owned(),
            purged_at: Timestamp::parse(sk.strip_prefix(PURGED_NAME_SK_PREFIX)?)?,
        },
        ("PENDING", PENDING_SK) => ItemKey::Pending { id: owned() },
        ("IDEMPOTENCY", IDEMPOTENCY_SK) => ItemKey::Idempotency { hash: owned() },
        ("JOB", JOB_SK) => ItemKey::Job { id: owned() },
        ("DOMAIN", "DOMAIN") => ItemKey::DomainClaim { domain: owned() },
        ("CHANGEEVENT", "CHANGEEVENT") => ItemKey::ChangeEventGuard { event_id: owned() },
        (FEED_DAYS, day) if pk == FEED_DAYS => ItemKey::FeedDay { day: day.to_owned() },
        ("FEED", sk) => {
            let (at, id) = parse_time_sort(sk)?;
            let (day, shard) = feed_day_of(pk)?;
            if day != feed_day(at) {
                return None;
            }
            ItemKey::FeedEvent {
                recorded_at: at,
                event_id: id.to_owned(),
                shard,
            }
        }
        ("GONE", sk) => ItemKey::TenantGone {
            tenant: TenantId::parse(rest).ok()?,
            incarnation: Timestamp::parse(sk)?,
        },
        _ => return None,
    })
}

/// What an SK under a tenant's PK identifies.
fn parse_under_tenant(tenant: TenantId, sk: &str) -> Option<ItemKey> {
    if sk == TENANT_SK {
        return Some(ItemKey::Tenant(tenant));
    }
    let (kind, rest) = sk.split_once('#')?;
    Some(match kind {
        "EVENT" => {
            let (at, version) = rest.rsplit_once('#')?;
            ItemKey::Event {
                tenant,
                incarnation: Timestamp::parse(at)?,
                version: version.parse().ok()?,
            }
        }
        "FACET" => {
            let (kind, slot) = rest.split_once('#')?;
            ItemKey::Facet {
                tenant,
                kind: FacetKind::parse(kind)?,
                slot: slot.parse().ok()?,
            }
        }
        "SUBTENANT" => ItemKey::Subtenant {
            tenant,
            id: rest.to_owned(),
        },
        "SUBCODE" => ItemKey::SubtenantCode {
            tenant,
            code: SubtenantCode::parse(rest).ok()?,
        },
        "MEMBER" => ItemKey::Member {
            tenant,
            user: UserId::parse(rest).ok()?,
        },
        "IDP" => ItemKey::IdentityProvider {
            tenant,
            idp: rest.to_owned(),
        },
        "IDPGROUP" => {
            let (idp, from) = rest.split_once('#')?;
            ItemKey::GroupMapping {
                tenant,
                idp: idp.to_owned(),
                from: from.to_owned(),
            }
        }
        "DEPLOY" => ItemKey::Deployment {
            tenant,
            version: rest.parse().ok()?,
        },
        "DEPLOYBLOB" => ItemKey::DeploymentContent {
            tenant,
            version: rest.parse().ok()?,
        },
        _ => return None,
    })
}

/// The code a subtenant code guard's SK holds (as stored: not validated).
pub fn parse_subtenant_code_sk(sk: &str) -> Option<&str> {
    sk.strip_prefix("SUBCODE#")
}

/// The incarnation and version of an audit event's SK.
pub fn parse_event_sk(sk: &str) -> Option<(Timestamp, u64)> {
    let (at, version) = sk.strip_prefix(EVENT_SK_PREFIX)?.rsplit_once('#')?;
    Some((Timestamp::parse(at)?, version.parse().ok()?))
}

/// The user of a membership's SK (under its tenant).
pub fn parse_member_sk(sk: &str) -> Option<UserId> {
    UserId::parse(sk.strip_prefix(MEMBER_SK_PREFIX)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats() {
        let id = TenantId::parse("acme").unwrap();
        assert_eq!(
            tenant(&id),
            Key {
                pk: "TENANT#acme".into(),
                sk: "TENANT".into()
            }
        );
        assert_eq!(tenant_name("acme corp").pk, "TENANTNAME#acme corp");
        assert_eq!(tenant_list(ListBucket::Retired, 3), "TENANTS#retired#3");
        let at = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            event(&id, at, 7).sk,
            "EVENT#2026-01-01T00:00:00.000Z#00000000000000000007"
        );
        assert_eq!(facet(&id, FacetKind::Tag, 3).sk, "FACET#TAG#03");
        assert_eq!(
            external_id_facet("crm", "a=b", ListBucket::Live),
            "FACET#EXT#crm=a=b#live"
        );
        assert_eq!(within_by_created(&id, ListBucket::Live), "WITHIN#acme#live");
        assert_eq!(name_prefix_list(ListBucket::Live, 2, "ac#"), "PREFIX#live#2#ac#");
        assert_eq!(
            name_prefix_within(&id, ListBucket::Retired, "a"),
            "PREFIX#IN#acme#retired#a"
        );
        assert_eq!(indexed_prefixes("straße"), ["s", "st", "str"]);
        assert_eq!(indexed_prefixes("éa"), ["é", "éa"], "characters, not bytes");
        assert_eq!(shard_of(&id, 1), 0);
        assert_ne!(idempotency("a", "bc"), idempotency("ab", "c"));
    }

    /// The feed's shards: fixed keys, and event ids spread evenly over them
    /// (UUIDs v7 as the notifier's stream records carry, and plain
    /// sequences, whose ids differ in a character or two).
    #[test]
    fn feed_shards_are_stable_and_even() {
        assert_eq!(feed_partition("2026-12-07", 0), "FEED#2026-12-07");
        assert_eq!(feed_partition("2026-12-07", 5), "FEED#2026-12-07#5");
        assert_eq!(feed_day_of("FEED#2026-12-07"), Some(("2026-12-07", 0)));
        assert_eq!(feed_day_of("FEED#2026-12-07#31"), Some(("2026-12-07", 31)));
        for odd in [
            "FEED#2026-12-07#0",
            "FEED#2026-12-07#07",
            "FEED#2026-12-07#x",
            "FEEDDAYS",
        ] {
            assert_eq!(feed_day_of(odd), None, "{odd}");
        }
        // Stable: the hash of a stored key never changes with the build.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        let at = Timestamp::parse("2026-12-07T10:00:00.000Z").unwrap();
        let shard = (fnv1a("e1") % u64::from(FEED_SHARDS)) as u16;
        assert_eq!(feed_event(at, "e1").pk, feed_partition("2026-12-07", shard));
        let count = 64_000;
        let shards = usize::from(FEED_SHARDS);
        for ids in [
            (0..count)
                .map(|i| format!("0193a{i:07x}-7c3d-7e21-9f00-{:012x}", i * 7919))
                .collect::<Vec<_>>(),
            (0..count).map(|i| format!("record-{i}")).collect(),
        ] {
            let mut per_shard = vec![0usize; shards];
            for id in &ids {
                per_shard[usize::from(feed_shard_of(id))] += 1;
            }
            let mean = count / shards;
            let (least, most) = (per_shard.iter().min().unwrap(), per_shard.iter().max().unwrap());
            // 2,000 per shard on average: a fair hash stays within a few
            // standard deviations (about 44), far inside ±10 %.
            assert!(
                *least > mean * 9 / 10 && *most < mean * 11 / 10,
                "{per_shard:?} ({})",
                ids[0]
            );
        }
    }

    proptest! {
        #[test]
        fn feed_shards_are_in_range_and_stable(id in "\\PC{1,40}") {
            let shard = feed_shard_of(&id);
            prop_assert!(shard < FEED_SHARDS);
            prop_assert_eq!(shard, feed_shard_of(&id));
            let at = Timestamp::now();
            prop_assert_eq!(feed_event(at, &id).pk, feed_partition(&feed_day(at), shard));
        }

        #[test]
        fn tenant_key_round_trips(id in "[a-z0-9][a-z0-9-]{1,62}") {
            let id = TenantId::parse(&id).unwrap();
            let key = tenant(&id);
            prop_assert_eq!(tenant_id_of(&key.pk), Some(id.as_str()));
        }

        #[test]
        fn shards_are_in_range_and_stable(id in "[a-z0-9][a-z0-9-]{1,62}", shards in 1u16..64) {
            let id = TenantId::parse(&id).unwrap();
            let s = shard_of(&id, shards);
            prop_assert!(s < shards);
            prop_assert_eq!(s, shard_of(&id, shards));
        }

        /// The partition of a prefix's first characters holds every name
        /// the prefix begins; that of a prefix indexed whole, only those.
        #[test]
        fn indexed_prefixes_agree_with_begins_with(
            prefix in "\\PC{1,6}",
            rest in "\\PC{0,6}",
            other in "[a-c]{1,5}",
            short in "[a-c]{1,3}",
        ) {
            let name = format!("{prefix}{rest}");
            let (names, prefixes) = (indexed_prefixes(&name), indexed_prefixes(&prefix));
            prop_assert_eq!(names.len(), name.chars().count().min(INDEXED_PREFIX_CHARS));
            prop_assert_eq!(names.get(prefixes.len() - 1), prefixes.last());
            // A prefix indexed whole is in the partitions of exactly the names it begins.
            let (others, shorts) = (indexed_prefixes(&other), indexed_prefixes(&short));
            prop_assert_eq!(others.get(shorts.len() - 1) == shorts.last(), other.starts_with(&short));
        }

        /// Every key built here parses back into what it was built from.
        #[test]
        fn keys_parse_back_into_what_they_identify(
            id in "[a-z0-9][a-z0-9-]{1,62}",
            text in "\\PC{1,40}",
            code in "[a-z][a-z0-9-]{0,20}",
            idp in "[a-z0-9][a-z0-9._-]{0,20}",
            number in 0u64..u64::MAX,
            slot in 0usize..100,
            millis in 0i64..4_102_444_800_000,
        ) {
            let tenant_id = TenantId::parse(&id).unwrap();
            let at = Timestamp::from_unix_millis(millis).unwrap();
            let user = UserId::parse(&text).unwrap();
            let code = SubtenantCode::parse(&code).unwrap();
            let tenant = || tenant_id.clone();
            let cases = [
                (super::tenant(&tenant_id), ItemKey::Tenant(tenant())),
                (tenant_name(&text), ItemKey::TenantName { name_key: text.clone() }),
                (purged_name(&text, at), ItemKey::PurgedName { name_key: text.clone(), purged_at: at }),
                (event(&tenant_id, at, number), ItemKey::Event { tenant: tenant(), incarnation: at, version: number }),
                (subtenant(&tenant_id, &text), ItemKey::Subtenant { tenant: tenant(), id: text.clone() }),
                (subtenant_code(&tenant_id, &code), ItemKey::SubtenantCode { tenant: tenant(), code: code.clone() }),
                (member(&tenant_id, &user), ItemKey::Member { tenant: tenant(), user: user.clone() }),
                (identity_provider(&tenant_id, &idp), ItemKey::IdentityProvider { tenant: tenant(), idp: idp.clone() }),
                (
                    group_mapping(&tenant_id, &idp, &text),
                    ItemKey::GroupMapping { tenant: tenant(), idp: idp.clone(), from: text.clone() },
                ),
                (deployment(&tenant_id, number), ItemKey::Deployment { tenant: tenant(), version: number }),
                (
                    deployment_content(&tenant_id, number),
                    ItemKey::DeploymentContent { tenant: tenant(), version: number },
                ),
                (pending(&text), ItemKey::Pending { id: text.clone() }),
                (job(&text), ItemKey::Job { id: text.clone() }),
                (domain_claim(&text), ItemKey::DomainClaim { domain: text.clone() }),
                (change_event_guard(&text), ItemKey::ChangeEventGuard { event_id: text.clone() }),
                (feed_day_mark(&feed_day(at)), ItemKey::FeedDay { day: feed_day(at) }),
                (
                    feed_event(at, &text),
                    ItemKey::FeedEvent { recorded_at: at, event_id: text.clone(), shard: feed_shard_of(&text) },
                ),
                (tenant_gone(&tenant_id, at), ItemKey::TenantGone { tenant: tenant(), incarnation: at }),
            ];
            for (key, expected) in cases {
                prop_assert_eq!(parse(&key), Some(expected), "{:?}", key);
            }
            for kind in FacetKind::ALL {
                let key = facet(&tenant_id, kind, slot);
                prop_assert_eq!(parse(&key), Some(ItemKey::Facet { tenant: tenant(), kind, slot }));
                prop_assert!(key.sk.starts_with(&facets_of_kind(kind)));
            }
            let ItemKey::Idempotency { hash } = parse(&idempotency(&text, &id)).unwrap() else {
                panic!("an idempotency key parses as one");
            };
            prop_assert_eq!(hash.len(), 64);
            prop_assert_eq!(parse_event_sk(&event(&tenant_id, at, number).sk), Some((at, number)));
            prop_assert_eq!(parse_member_sk(&member(&tenant_id, &user).sk), Some(user));
            let (code_guard, feed) = (subtenant_code(&tenant_id, &code), feed_event(at, &text));
            prop_assert_eq!(parse_subtenant_code_sk(&code_guard.sk), Some(code.as_str()));
            let day = feed_day(at);
            prop_assert_eq!(feed_day_of(&feed.pk), Some((day.as_str(), feed_shard_of(&text))));
            // Every shard of the day, and the events recorded before the
            // feed was sharded (in shard 0's partition, whatever their id).
            for (shard, pk) in feed_partitions(&day).enumerate() {
                prop_assert_eq!(feed_day_of(&pk), Some((day.as_str(), shard as u16)));
                let key = Key { pk, sk: feed.sk.clone() };
                let expected = ItemKey::FeedEvent { recorded_at: at, event_id: text.clone(), shard: shard as u16 };
                prop_assert_eq!(parse(&key), Some(expected));
            }
            let legacy = Key { pk: format!("FEED#{day}"), sk: feed.sk.clone() };
            let legacy_shard = match parse(&legacy) {
                Some(ItemKey::FeedEvent { shard, .. }) => Some(shard),
                _ => None,
            };
            prop_assert_eq!(legacy_shard, Some(0));
        }

        /// Every time-then-id sort key parses back, and sorts by time first.
        #[test]
        fn time_sorts_round_trip(
            id in "[a-z0-9][a-z0-9-]{1,62}",
            other in "\\PC{1,40}",
            a in 0i64..4_102_444_800_000,
            b in 0i64..4_102_444_800_000,
        ) {
            let tenant_id = TenantId::parse(&id).unwrap();
            let (a, b) = (Timestamp::from_unix_millis(a).unwrap(), Timestamp::from_unix_millis(b).unwrap());
            for sort in [created_sort(a, &tenant_id), retired_sort(a, &tenant_id)] {
                prop_assert_eq!(parse_time_sort(&sort), Some((a, id.as_str())));
            }
            for sort in [
                subtenant_created_sort(a, &other),
                job_created_sort(a, &other),
                pending_sort(a, &other),
            ] {
                prop_assert_eq!(parse_time_sort(&sort), Some((a, other.as_str())));
            }
            if a != b {
                prop_assert_eq!(created_sort(a, &tenant_id).cmp(&created_sort(b, &tenant_id)), a.cmp(&b));
            }
            // The feed's bounds: `until(a)` is above the events recorded
            // before `a` only; `after(sk)` is past `sk` and nothing else.
            let sk = feed_event(a, &other).sk;
            prop_assert_eq!(feed_event(b, &other).sk < feed_events_until(a), b < a);
            prop_assert!(feed_events_after(&sk) > sk);
        }

        /// Event keys sort in version order, as strings.
        #[test]
        fn event_keys_sort_by_version(a in 0u64..u64::MAX, b in 0u64..u64::MAX) {
            let id = TenantId::parse("ab").unwrap();
            let at = Timestamp::now();
            prop_assert_eq!(event(&id, at, a).sk.cmp(&event(&id, at, b).sk), a.cmp(&b));
        }

        /// A provider's mapping prefix holds its mappings and no other
        /// provider's, whatever the group ids contain (`#` included); and
        /// no mapping is mistaken for a provider.
        #[test]
        fn group_mapping_keys_stay_under_their_provider(
            a in "[a-z0-9][a-z0-9._-]{0,20}",
            b in "[a-z0-9][a-z0-9._-]{0,20}",
            from in "\\PC{1,40}",
        ) {
            let id = TenantId::parse("ab").unwrap();
            let key = group_mapping(&id, &a, &from);
            prop_assert!(key.sk.starts_with(&group_mappings_of(&a)));
            prop_assert_eq!(key.sk.starts_with(&group_mappings_of(&b)), a == b);
            prop_assert!(!key.sk.starts_with(IDP_SK_PREFIX));
            prop_assert!(identity_provider(&id, &b).sk.starts_with(IDP_SK_PREFIX));
            prop_assert!(!identity_provider(&id, &b).sk.starts_with(IDP_GROUP_SK_PREFIX));
        }
    }
}
