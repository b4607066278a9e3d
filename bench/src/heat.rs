//! Key heat (issue 23, "no hot partition"): a pure computation, no DynamoDB.
//! A synthetic platform of 10 million tenants takes 2,000 writes/s and
//! 20,000 reads/s for [`SECONDS`] simulated seconds; every request builds the
//! items its route really writes or reads with the store's own builders
//! (`shared::store::records`, `keys`), costs them with
//! `shared::store::capacity`, and charges the units to the partitions they
//! land on: the table's (`PK`) and, for each index of `table::INDEXES` whose
//! key attributes the item carries, the index's (its PK attribute). Per
//! partition, the busiest second is compared with DynamoDB's per-partition
//! limits (1,000 WCU/s, 3,000 RCU/s).
//!
//! ## The workload
//!
//! The route mix is the load test's (tests/load/mixed.rs): per 10 requests,
//! 4 gets, 1 list page by tag, 3 read-then-PATCH, 1 child create, 1
//! subtenant create. Write requests are the PATCHes and creates (3 : 1 : 1),
//! read requests the gets, the read of each read-then-PATCH and the list
//! pages. So, per second:
//!
//! | route | requests/s | counted as |
//! |---|---|---|
//! | PATCH of one field (description) | 1,200 | writes (3/5 of 2,000) |
//! | child tenant create under a parent | 400 | writes (1/5) |
//! | subtenant create | 400 | writes (1/5) |
//! | the GET before each PATCH | 1,200 | reads (one per PATCH) |
//! | tenant get | 15,040 | reads: the other 18,800 as 4 : 1 |
//! | list page of 25 by tag | 3,760 | reads |
//!
//! Besides what the client asks, a route reads what its service reads (all
//! strongly consistent `GetItem`s unless said): a PATCH reads the tenant
//! again; a child create reads the parent and batch-gets its ancestors; a
//! subtenant create reads its tenant and queries its tenant's codes (GSI2,
//! eventually consistent). And the notifier records one feed event per
//! change event (`tenant.created`, `tenant.updated`, `subtenant.created`: a
//! count change is none): the feed event and its guard, one transaction, a
//! `GetItem` of the tenant for a subtenant's event (which carries no path).
//! The feed's day mark (one `PutItem` a minute per notifier) is left out.
//!
//! Requests pick their tenant by Zipf (s = 1.1) over the tenants' ranks; tags
//! are Zipf over a vocabulary of [`TAGS`]. Each tenant is generated from its
//! rank (a seeded generator), so none is held but those touched: a name, 0–3
//! tags, maybe a description, a reseller, an external id; a parent for most
//! (a lower rank: popular tenants head big trees), depth ≤ 4. A list page
//! reads its tag's first page, as the load test does: 26 facet items (the
//! page and the one that tells whether more follow) and the 26 tenants they
//! name, eventually consistent. Which 26 tenants come first by name is not
//! computed over 10 M names: the page is the first 26 holders of the tag in
//! a fixed pseudo-random order of ranks (so as popular as any), a rare tag's
//! page shorter when fewer holders are found within [`PAGE_PROBES`] ranks.
//!
//! Costs follow AWS's rules (`capacity`): a transaction's writes count twice,
//! an index write once per 1 KB; a `ConditionCheck` counts as a write of its
//! item on the table. Index units go to the partition the item is in after
//! the write (before it, for an item leaving the index).
//!
//! Deterministic: a fixed seed, a fixed clock.

use std::collections::HashMap;
use std::rc::Rc;

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};
use rand_xorshift::XorShiftRng;
use serde_json::{json, Value};
use shared::domain::audit::AuditEvent;
use shared::domain::events::{RecordedChange, ResourceChange};
use shared::domain::subtenant::{Subtenant, SubtenantInput};
use shared::domain::tenant::{InputMode, Stamp};
use shared::domain::{merge_patch, SubtenantCode, Tenant, TenantId, TenantInput, Timestamp};
use shared::store::attributes::PATH_AT;
use shared::store::capacity::{self, condition_check_cost, item_size, read_units, write_cost};
use shared::store::records::{self, string_attr, string_value, Item};
use shared::store::table::{INDEXES, PK};
use shared::store::{feed, keys};

pub const TENANTS: u64 = 10_000_000;
pub const WRITES_PER_SECOND: u32 = 2_000;
pub const READS_PER_SECOND: u32 = 20_000;
pub const ZIPF_S: f64 = 1.1;
/// Simulated seconds: what an unoptimised build (`make bench` runs the
/// bench as `cargo run`, dev profile) gets through in under 30 s on a
/// shared 2-core machine; each write builds its items anew, ~3 ms there.
pub const SECONDS: u32 = 3;
/// Tags in the vocabulary.
pub const TAGS: u64 = 1_000;
/// DynamoDB's per-partition limits.
pub const PARTITION_WCU: f64 = 1_000.0;
pub const PARTITION_RCU: f64 = 3_000.0;
/// The deepest a generated tenant sits (0: top level).
const MAX_DEPTH: usize = 4;
/// Share of generated tenants with no parent.
const TOP_LEVEL_SHARE: f64 = 0.15;
/// What a generated tenant's item stays under (before any PATCH grows it):
/// one 4 KB read unit.
const GENERATED_ITEM_MAX: usize = 4_096;
/// Ranks looked at to find a tag's first page.
const PAGE_PROBES: u64 = 200_000;
/// A list page's query reads `limit + 1` items (list.rs).
const PAGE_ITEMS: usize = 26;
const SEED: u64 = 0x2023_0023;
/// The list shards of the deployed template's default (`ListShards`).
pub const DEFAULT_LIST_SHARDS: u16 = 1;
/// The table's own partitions, beside the indexes'.
pub const TABLE: &str = "table";

/// Requests per second of each route (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub patches: u32,
    pub child_creates: u32,
    pub subtenant_creates: u32,
    pub gets: u32,
    pub list_pages: u32,
}

impl Split {
    /// The load test's mix (per 10: 4 gets, 1 list page, 3 read-then-PATCH,
    /// 1 child create, 1 subtenant create) scaled to these rates.
    pub fn of(writes: u32, reads: u32) -> Self {
        let patches = writes * 3 / 5;
        let child_creates = writes / 5;
        let other_reads = reads - patches;
        Self {
            patches,
            child_creates,
            subtenant_creates: writes - patches - child_creates,
            gets: other_reads * 4 / 5,
            list_pages: other_reads - other_reads * 4 / 5,
        }
    }
}

/// A partition: the table (or index) name and its partition key value.
pub type Partition = (&'static str, String);

/// The units one partition took in one second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Load {
    wcu: f64,
    rcu: f64,
}

/// A partition's busiest second, for writes and for reads apart.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Peak {
    pub wcu: f64,
    pub wcu_second: u32,
    pub rcu: f64,
    pub rcu_second: u32,
}

impl Peak {
    /// The larger share of a limit it takes (1.0 = at the limit).
    pub fn share(&self) -> f64 {
        (self.wcu / PARTITION_WCU).max(self.rcu / PARTITION_RCU)
    }
}

/// Units per partition per second, folded into each partition's peaks at
/// the end of every second.
#[derive(Default)]
pub struct Heat {
    second: HashMap<Partition, Load>,
    pub peaks: HashMap<Partition, Peak>,
}

impl Heat {
    pub fn write(&mut self, on: &'static str, pk: &str, units: f64) {
        self.load(on, pk).wcu += units;
    }

    pub fn read(&mut self, on: &'static str, pk: &str, units: f64) {
        self.load(on, pk).rcu += units;
    }

    fn load(&mut self, on: &'static str, pk: &str) -> &mut Load {
        self.second.entry((on, pk.to_owned())).or_default()
    }

    /// Ends second `s`: each partition's load of it is a candidate peak.
    pub fn end_second(&mut self, s: u32) {
        for (partition, load) in self.second.drain() {
            let peak = self.peaks.entry(partition).or_default();
            if load.wcu > peak.wcu {
                peak.wcu = load.wcu;
                peak.wcu_second = s;
            }
            if load.rcu > peak.rcu {
                peak.rcu = load.rcu;
                peak.rcu_second = s;
            }
        }
    }

    /// Charges an item write to the table's partition and each index's.
    fn item_write(&mut self, before: Option<&Item>, after: Option<&Item>, transactional: bool) {
        let cost = write_cost(before, after, transactional);
        let Some(item) = after.or(before) else { return };
        self.write(TABLE, string_attr(item, PK).unwrap_or("?"), cost.table);
        self.index_writes(before, after, &cost);
    }

    fn index_writes(&mut self, before: Option<&Item>, after: Option<&Item>, cost: &capacity::WriteCost) {
        for (name, units) in &cost.indexes {
            let Some(index) = INDEXES.iter().find(|i| i.name == *name) else {
                continue;
            };
            let pk = after
                .and_then(|i| string_attr(i, index.pk))
                .or_else(|| before.and_then(|i| string_attr(i, index.pk)));
            if let Some(pk) = pk {
                self.write(index.name, pk, *units);
            }
        }
    }

    /// A transaction's `ConditionCheck` on an item: a write on the table.
    fn condition_check(&mut self, item: &Item) {
        let cost = condition_check_cost(Some(item));
        self.write(TABLE, string_attr(item, PK).unwrap_or("?"), cost.table);
    }

    /// A `GetItem` (or one item of a `BatchGetItem`).
    fn item_read(&mut self, item: &Item, consistent: bool) {
        let units = read_units(item_size(item), consistent);
        self.read(TABLE, string_attr(item, PK).unwrap_or("?"), units);
    }
}

/// A Zipf sampler over ranks `1..=n`.
pub struct Ranks(Zipf<f64>);

impl Ranks {
    pub fn new(n: u64, s: f64) -> Self {
        Self(Zipf::new(n as f64, s).expect("n ≥ 1 and s > 0"))
    }

    pub fn sample(&self, rng: &mut XorShiftRng) -> u64 {
        self.0.sample(rng) as u64
    }
}

/// The generalised harmonic number H(n, s): the top rank's share is 1 / H.
pub fn harmonic(n: u64, s: f64) -> f64 {
    // Exact for the first million terms, the integral for the tail.
    let exact = n.min(1_000_000);
    let head: f64 = (1..=exact).map(|k| (k as f64).powf(-s)).sum();
    let tail = if n > exact {
        ((exact as f64 + 0.5).powf(1.0 - s) - (n as f64 + 0.5).powf(1.0 - s)) / (s - 1.0)
    } else {
        0.0
    };
    head + tail
}

/// A hash of a number (SplitMix64's finaliser): ids and per-rank seeds.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A UUID-shaped tenant id (as generated ids are) from a number.
fn uuid_like(n: u64) -> TenantId {
    let (a, b) = (mix(n), mix(n ^ 0x5555_5555));
    let text = format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    );
    TenantId::parse(&text).expect("a UUID is a valid tenant id")
}

const WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Soylent",
    "Aperture",
    "Black Mesa",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Nakatomi",
    "Massive",
    "Dynamic",
];
const KINDS: &[&str] = &[
    "Labs",
    "Retail",
    "Health",
    "Bank",
    "Cloud",
    "Media",
    "Energy",
    "Logistics",
];

fn tag_name(tag: u64) -> String {
    format!("tag-{tag:04}")
}

/// The generated population: its tenants, touched ones kept as they are now.
pub struct Population {
    list_shards: u16,
    epoch: Timestamp,
    tags: Ranks,
    /// Tenants materialised (touched, or an ancestor of one), by rank,
    /// with their item's `PK` and size (what a read costs).
    tenants: HashMap<u64, Stored>,
    /// Each tag's first list page: its ranks.
    pages: HashMap<u64, Vec<u64>>,
    /// The size of a page's facet items in its tag's partition, once read
    /// (a tenant's facets do not change in this mix: no PATCH changes a
    /// name or tags).
    page_bytes: HashMap<u64, usize>,
}

/// A materialised tenant and its item's key and size.
#[derive(Clone)]
struct Stored {
    tenant: Rc<Tenant>,
    item: Rc<Item>,
    pk: Rc<str>,
    size: usize,
}

impl Population {
    pub fn new(list_shards: u16, epoch: Timestamp) -> Self {
        Self {
            list_shards,
            epoch,
            tags: Ranks::new(TAGS, ZIPF_S),
            tenants: HashMap::new(),
            pages: HashMap::new(),
            page_bytes: HashMap::new(),
        }
    }

    fn rng(rank: u64, stream: u64) -> XorShiftRng {
        XorShiftRng::seed_from_u64(mix(SEED ^ mix(rank) ^ stream))
    }

    pub fn id(rank: u64) -> TenantId {
        uuid_like(rank)
    }

    /// The parent's rank, if any (a lower rank; depth capped by [`path_ranks`]).
    fn parent_rank(rank: u64) -> Option<u64> {
        let mut rng = Self::rng(rank, 1);
        if rank == 1 || rng.random::<f64>() < TOP_LEVEL_SHARE {
            return None;
        }
        Some(1 + ((rank - 1) as f64 * rng.random::<f64>()) as u64)
    }

    /// Ranks from the root down to `rank`; a parent at the deepest level
    /// hands its would-be children to its own parent.
    fn path_ranks(rank: u64) -> Vec<u64> {
        let mut path = match Self::parent_rank(rank) {
            None => Vec::new(),
            Some(parent) => Self::path_ranks(parent),
        };
        path.truncate(MAX_DEPTH);
        path.push(rank);
        path
    }

    /// The tag indexes of a tenant (0 to 3, distinct).
    fn tags_of(&self, rank: u64) -> Vec<u64> {
        let mut rng = Self::rng(rank, 2);
        let n = rng.random_range(0..4usize);
        let mut tags: Vec<u64> = (0..n).map(|_| self.tags.sample(&mut rng)).collect();
        tags.sort_unstable();
        tags.dedup();
        tags
    }

    /// The create body of a tenant: what a platform would send.
    fn body(&self, rank: u64, id: &TenantId, tags: &[u64]) -> Value {
        let mut rng = Self::rng(rank, 3);
        let name = format!(
            "{} {} {rank}",
            WORDS[rng.random_range(0..WORDS.len())],
            KINDS[rng.random_range(0..KINDS.len())]
        );
        let mut body = json!({
            "tenantId": id.as_str(),
            "name": name,
            "type": if rng.random::<f64>() < 0.2 { "ServiceProvider" } else { "Enterprise" },
            "tags": tags.iter().map(|t| tag_name(*t)).collect::<Vec<_>>(),
        });
        if rng.random::<f64>() < 0.6 {
            body["description"] = json!(format!(
                "{name}: production workloads of the {} team",
                KINDS[rank as usize % KINDS.len()]
            ));
        }
        if rng.random::<f64>() < 0.3 {
            body["resellerId"] = json!(format!("reseller-{}", rng.random_range(0..5_000u32)));
        }
        if rng.random::<f64>() < 0.5 {
            body["externalIds"] = json!({"1": format!("crm-{rank}")});
        }
        body
    }

    /// A generated tenant as stored at the start (placed under its parent).
    fn generate(&mut self, rank: u64) -> Rc<Tenant> {
        let path = Self::path_ranks(rank);
        let parent = match path.len() {
            1 => None,
            n => Some(self.tenant(path[n - 2])),
        };
        Rc::new(self.unplaced(rank).placed(parent.as_deref()))
    }

    /// A generated tenant before it is placed under its parent.
    fn unplaced(&self, rank: u64) -> Tenant {
        let id = Self::id(rank);
        let body = self.body(rank, &id, &self.tags_of(rank));
        let input = TenantInput::parse(body.as_object().expect("an object"), InputMode::Create)
            .expect("a generated tenant is valid");
        // Older ranks are older tenants, all before the simulated day.
        let created = self
            .epoch
            .plus(time::Duration::seconds(-(3_600 + (mix(rank) % 86_400_000) as i64)));
        let stamp = Stamp {
            actor: "platform-admin".into(),
            at: created,
        };
        Tenant::create(input, id, &stamp)
    }

    /// The tenant of a rank as it is now.
    pub fn tenant(&mut self, rank: u64) -> Rc<Tenant> {
        self.stored(rank).tenant
    }

    /// A read of a tenant's item: its `PK`, and its size if materialised;
    /// else [`GENERATED_ITEM_MAX`], since any generated item's read costs
    /// the same one 4 KB unit (a test holds them under it).
    fn read_size(&self, rank: u64) -> (Rc<str>, usize) {
        match self.tenants.get(&rank) {
            Some(stored) => (stored.pk.clone(), stored.size),
            None => (keys::tenant(&Self::id(rank)).pk.into(), GENERATED_ITEM_MAX),
        }
    }

    fn stored(&mut self, rank: u64) -> Stored {
        if let Some(stored) = self.tenants.get(&rank) {
            return stored.clone();
        }
        let tenant = self.generate(rank);
        self.replace(rank, tenant)
    }

    fn replace(&mut self, rank: u64, tenant: Rc<Tenant>) -> Stored {
        let item = records::tenant_item(&tenant, self.list_shards).expect("a tenant item");
        let stored = Stored {
            tenant,
            pk: string_attr(&item, PK).unwrap_or("?").into(),
            size: item_size(&item),
            item: Rc::new(item),
        };
        self.tenants.insert(rank, stored.clone());
        stored
    }

    /// The ranks of a tag's first list page (see the module doc) and the
    /// size of their facet items in `partition`, the tag's.
    fn page(&mut self, tag: u64, partition: &str) -> (Vec<u64>, usize) {
        if self.pages.is_empty() {
            self.find_pages();
        }
        let page = self.pages.get(&tag).cloned().unwrap_or_default();
        if let Some(bytes) = self.page_bytes.get(&tag) {
            return (page, *bytes);
        }
        // A tag's facet item does not depend on where its tenant is placed.
        let mut facet_bytes = 0;
        for rank in &page {
            let tenant = match self.tenants.get(rank) {
                Some(stored) => stored.tenant.clone(),
                None => Rc::new(self.unplaced(*rank)),
            };
            for (_, facet) in records::facet_items(&tenant, self.list_shards) {
                if string_attr(&facet, shared::store::table::GSI6.pk) == Some(partition) {
                    facet_bytes += item_size(&facet);
                }
            }
        }
        self.page_bytes.insert(tag, facet_bytes);
        (page, facet_bytes)
    }

    /// Every tag's first page at once: [`PAGE_PROBES`] ranks in a fixed
    /// pseudo-random order, each tag's first [`PAGE_ITEMS`] holders among them.
    fn find_pages(&mut self) {
        // A stride prime to 10 visits every rank of 10^7 once.
        let stride = 7_919_u64 * 3;
        let start = mix(SEED) % TENANTS;
        for k in 0..PAGE_PROBES {
            let rank = 1 + (start + k * stride) % TENANTS;
            for tag in self.tags_of(rank) {
                let page = self.pages.entry(tag).or_default();
                if page.len() < PAGE_ITEMS {
                    page.push(rank);
                }
            }
        }
    }
}

/// The simulation: the population, the clock, the partitions' loads.
pub struct Simulation {
    pub population: Population,
    pub heat: Heat,
    ranks: Ranks,
    rng: XorShiftRng,
    epoch: Timestamp,
    /// Numbers new ids, stream records and subtenant names.
    serial: u64,
}

impl Simulation {
    pub fn new(list_shards: u16) -> Self {
        let epoch = Timestamp::parse("2026-03-02T12:00:00Z").expect("a valid time");
        Self {
            population: Population::new(list_shards, epoch),
            heat: Heat::default(),
            ranks: Ranks::new(TENANTS, ZIPF_S),
            rng: XorShiftRng::seed_from_u64(SEED),
            epoch,
            serial: 0,
        }
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn stamp(&self, at: Timestamp) -> Stamp {
        Stamp {
            actor: "platform-admin".into(),
            at,
        }
    }

    fn tenant_item(&self, tenant: &Tenant) -> Item {
        records::tenant_item(tenant, self.population.list_shards).expect("a tenant item")
    }

    /// Runs `seconds` seconds of the split's traffic.
    pub fn run(&mut self, split: Split, seconds: u32) {
        let mut routes: Vec<u8> = Vec::new();
        for (route, n) in [
            (0u8, split.patches),
            (1, split.child_creates),
            (2, split.subtenant_creates),
            (3, split.gets),
            (4, split.list_pages),
        ] {
            routes.extend(std::iter::repeat_n(route, n as usize));
        }
        for s in 0..seconds {
            let n = routes.len() as i64;
            for (i, route) in routes.iter().enumerate() {
                let at = self
                    .epoch
                    .plus(time::Duration::milliseconds(s as i64 * 1_000 + i as i64 * 1_000 / n));
                match route {
                    0 => {
                        let rank = self.ranks.sample(&mut self.rng);
                        self.patch(rank, at);
                    }
                    1 => {
                        let rank = self.ranks.sample(&mut self.rng);
                        self.child_create(rank, at);
                    }
                    2 => {
                        let rank = self.ranks.sample(&mut self.rng);
                        self.subtenant_create(rank, at);
                    }
                    3 => {
                        let rank = self.ranks.sample(&mut self.rng);
                        self.get(rank);
                    }
                    _ => {
                        let tag = self.population.tags.sample(&mut self.rng);
                        self.list_page(tag);
                    }
                }
            }
            self.heat.end_second(s);
        }
    }

    /// `GET /v1/tenants/{id}`: one strongly consistent `GetItem`.
    pub fn get(&mut self, rank: u64) {
        let (pk, size) = self.population.read_size(rank);
        self.heat.read(TABLE, &pk, read_units(size, true));
    }

    /// `GET /v1/tenants?limit=25&tags=<tag>`: the tag's facet partition
    /// (GSI6, eventually consistent), then the tenants it names (one
    /// `BatchGetItem`, each item its own 4 KB units, eventually consistent).
    pub fn list_page(&mut self, tag: u64) {
        let partition = keys::tag_facet(
            &shared::domain::Tag::parse(&tag_name(tag)).expect("a valid tag"),
            keys::ListBucket::Live,
        );
        let (page, facet_bytes) = self.population.page(tag, &partition);
        for rank in page {
            let (pk, size) = self.population.read_size(rank);
            self.heat.read(TABLE, &pk, read_units(size, false));
        }
        // A query costs at least one read, even an empty one.
        self.heat.read(
            shared::store::table::GSI6.name,
            &partition,
            read_units(facet_bytes.max(1), false),
        );
    }

    /// The read, then `PATCH {"description": …}` with `If-Match`: the
    /// client's GET, the service's read, one transaction (the tenant, its
    /// facets that changed, the audit event), and the notifier's feed event.
    pub fn patch(&mut self, rank: u64, at: Timestamp) {
        let Stored {
            tenant: current,
            item: before,
            ..
        } = self.population.stored(rank);
        self.heat.item_read(&before, true); // the client's GET
        self.heat.item_read(&before, true); // the service's read
        let serial = self.next_serial();
        let mut document = current.writable_document();
        merge_patch::apply(
            &mut document,
            &json!({"description": format!("client change {serial}")}),
        );
        let Value::Object(fields) = document else {
            unreachable!("an object patched by an object")
        };
        let input = TenantInput::parse(&fields, InputMode::Patched).expect("a valid patch");
        let next = current.replaced(input, &self.stamp(at)).expect("a changeable tenant");
        let after = self.tenant_item(&next);
        self.heat.item_write(Some(&before), Some(&after), true);
        self.facet_writes(Some(&current), &next);
        let event = AuditEvent::of(Some(&current), &next);
        let event_item = records::event_item(&event, next.created_at).expect("an event item");
        self.heat.item_write(None, Some(&event_item), true);
        self.feed(
            ResourceChange::Tenant {
                before: Some(Box::new((*current).clone())),
                after: Some(Box::new(next.clone())),
                purged: false,
            },
            None,
            at,
        );
        self.population.replace(rank, Rc::new(next));
    }

    /// The facet items a tenant write puts (new or changed) and deletes,
    /// as the store's transaction does ([`records::facet_changes`]).
    fn facet_writes(&mut self, before: Option<&Tenant>, after: &Tenant) {
        for change in records::facet_changes(before, Some(after), self.population.list_shards) {
            self.heat
                .item_write(change.before.as_ref(), change.after.as_ref(), true);
        }
    }

    /// `POST /v1/tenants` with a `parentId`: the service reads the parent
    /// and batch-gets its ancestors; one transaction puts the tenant, its
    /// name guard, its facets and audit event, counts it on the parent and
    /// checks the ancestors' paths; the notifier records `tenant.created`.
    pub fn child_create(&mut self, parent_rank: u64, at: Timestamp) {
        let Stored {
            tenant: parent,
            item: parent_before,
            ..
        } = self.population.stored(parent_rank);
        self.heat.item_read(&parent_before, true);
        let path = Population::path_ranks(parent_rank);
        let ancestor_items: Vec<Rc<Item>> = path[..path.len() - 1]
            .iter()
            .map(|r| self.population.stored(*r).item)
            .collect();
        for item in &ancestor_items {
            self.heat.item_read(item, true);
        }
        let serial = self.next_serial();
        let id = uuid_like(u64::MAX - serial);
        let tags = {
            let mut rng = Population::rng(u64::MAX - serial, 4);
            let n = rng.random_range(0..3usize);
            (0..n)
                .map(|_| self.population.tags.sample(&mut rng))
                .collect::<std::collections::BTreeSet<_>>()
        };
        let body = json!({
            "tenantId": id.as_str(),
            "name": format!("Child {serial} of {}", parent.name),
            "tags": tags.iter().map(|t| tag_name(*t)).collect::<Vec<_>>(),
            "parentId": parent.id.as_str(),
        });
        let input = TenantInput::parse(body.as_object().expect("an object"), InputMode::Create).expect("a valid child");
        let tenant = Tenant::create(input, id.clone(), &self.stamp(at)).placed(Some(&parent));
        let item = self.tenant_item(&tenant);
        self.heat.item_write(None, Some(&item), true);
        let guard = records::name_guard_item(&tenant.name.key(), &id);
        self.heat.item_write(None, Some(&guard), true);
        self.facet_writes(None, &tenant);
        let event = AuditEvent::of(None, &tenant);
        let event_item = records::event_item(&event, tenant.created_at).expect("an event item");
        self.heat.item_write(None, Some(&event_item), true);
        // ADD childCount :1, version :1 on the parent.
        let mut counted = (*parent).clone();
        counted.child_count += 1;
        counted.version += 1;
        let parent_after = self.tenant_item(&counted);
        self.heat.item_write(Some(&parent_before), Some(&parent_after), true);
        for item in &ancestor_items {
            self.heat.condition_check(item);
        }
        self.feed(
            ResourceChange::Tenant {
                before: None,
                after: Some(Box::new(tenant)),
                purged: false,
            },
            None,
            at,
        );
        self.population.replace(parent_rank, Rc::new(counted));
    }

    /// `POST /v1/tenants/{id}/subtenants`: the service reads the tenant and
    /// its codes with the name's slug (GSI2); one transaction puts the
    /// subtenant and its code guard and counts it on the tenant; the
    /// notifier reads the tenant (for the path) and records `subtenant.created`.
    pub fn subtenant_create(&mut self, rank: u64, at: Timestamp) {
        let Stored {
            tenant, item: before, ..
        } = self.population.stored(rank);
        self.heat.item_read(&before, true);
        self.heat.read(
            shared::store::table::GSI2.name,
            &keys::subtenants_of(&tenant.id),
            read_units(1, false),
        );
        let serial = self.next_serial();
        let body = json!({"name": format!("Group {serial}")});
        let input = SubtenantInput::parse(body.as_object().expect("an object")).expect("a valid subtenant");
        let code = SubtenantCode::slug(input.name.as_str());
        let subtenant = Subtenant::create(tenant.id.clone(), input, code.clone(), &self.stamp(at));
        let item = records::subtenant_item(&subtenant).expect("a subtenant item");
        self.heat.item_write(None, Some(&item), true);
        let guard = records::subtenant_code_item(&tenant.id, &code, &subtenant.id);
        self.heat.item_write(None, Some(&guard), true);
        let mut counted = (*tenant).clone();
        counted.subtenant_count += 1;
        counted.version += 1;
        let after = self.tenant_item(&counted);
        self.heat.item_write(Some(&before), Some(&after), true);
        self.heat.item_read(&after, true); // the notifier's look-up of the path
        self.feed(
            ResourceChange::Subtenant {
                before: None,
                after: Some(subtenant),
            },
            Some(counted.path.clone()),
            at,
        );
        self.population.replace(rank, Rc::new(counted));
    }

    /// The notifier's record of a change event in the feed: the event and
    /// its guard, one transaction (`Store::record_change_event_seen`).
    fn feed(&mut self, change: ResourceChange, looked_up_path: Option<Vec<TenantId>>, at: Timestamp) {
        let serial = self.next_serial();
        let recorded = RecordedChange {
            id: format!("{:032x}", u128::from(mix(serial)) << 64 | u128::from(mix(!serial))),
            at,
            change,
            incarnation: None,
        };
        let Some(event) = recorded.event() else { return };
        let path = event
            .path
            .clone()
            .or(looked_up_path)
            .unwrap_or_else(|| vec![event.subject.clone()]);
        let expires = at.plus(time::Duration::days(feed::RETENTION_DAYS));
        let key = keys::feed_event(at, &event.id);
        let mut item = records::feed_event_item(
            &key,
            event.kind.as_str(),
            &event.subject,
            &path,
            &event.cloud_event(),
            expires,
        );
        item.insert(PATH_AT.into(), string_value(at.to_string()));
        let guard = records::change_event_guard_item(&event.id, expires);
        self.heat.item_write(None, Some(&guard), true);
        self.heat.item_write(None, Some(&item), true);
    }
}

/// A row of the key-heat table.
#[derive(Debug, Clone)]
pub struct Row {
    pub on: &'static str,
    pub partition: String,
    pub peak: Peak,
}

/// What a run found.
pub struct Report {
    pub split: Split,
    pub seconds: u32,
    pub list_shards: u16,
    pub partitions: usize,
    pub took: std::time::Duration,
    /// The top partitions of the table and of each index, busiest first.
    pub top: Vec<(&'static str, Vec<Row>)>,
    /// Every partition above half a limit, busiest first.
    pub over_half: Vec<Row>,
    /// The hottest partition of all.
    pub hottest: Option<Row>,
}

impl Report {
    /// The load (× today's) at which the hottest partition reaches its limit.
    pub fn load_multiplier(&self) -> f64 {
        self.hottest.as_ref().map_or(f64::INFINITY, |r| 1.0 / r.peak.share())
    }
}

/// Runs the simulation.
pub fn run(list_shards: u16, seconds: u32) -> Report {
    let started = std::time::Instant::now();
    let split = Split::of(WRITES_PER_SECOND, READS_PER_SECOND);
    let mut sim = Simulation::new(list_shards);
    sim.run(split, seconds);
    let peaks = sim.heat.peaks;
    let partitions = peaks.len();
    let mut rows: Vec<Row> = peaks
        .into_iter()
        .map(|((on, partition), peak)| Row { on, partition, peak })
        .collect();
    rows.sort_by(|a, b| {
        b.peak
            .share()
            .total_cmp(&a.peak.share())
            .then_with(|| a.partition.cmp(&b.partition))
    });
    let top = std::iter::once(TABLE)
        .chain(INDEXES.iter().map(|i| i.name))
        .map(|on| (on, rows.iter().filter(|r| r.on == on).take(5).cloned().collect()))
        .collect();
    let over_half = rows.iter().take_while(|r| r.peak.share() > 0.5).cloned().collect();
    let hottest = rows.first().cloned();
    Report {
        split,
        seconds,
        list_shards,
        partitions,
        took: started.elapsed(),
        top,
        over_half,
        hottest,
    }
}

/// A key value, shortened for the table.
fn short(key: &str) -> String {
    const MAX: usize = 60;
    if key.chars().count() <= MAX {
        key.to_owned()
    } else {
        format!("{}…", key.chars().take(MAX - 1).collect::<String>())
    }
}

fn percent(units: f64, limit: f64) -> f64 {
    (units / limit * 1_000.0).round() / 10.0
}

/// Prints the key-heat table (markdown).
pub fn print(report: &Report) {
    let s = report.split;
    println!(
        "\nKey heat: {} tenants, {} writes/s ({} PATCH, {} child creates, {} subtenant creates) and {} reads/s \
         ({} gets, {} before a PATCH, {} list pages by tag), Zipf s = {ZIPF_S}, {} s simulated, list shards {}, \
         {} partitions touched; the top tenant takes {:.1} % of the requests; computed in {:.1} s.\n",
        TENANTS,
        WRITES_PER_SECOND,
        s.patches,
        s.child_creates,
        s.subtenant_creates,
        READS_PER_SECOND,
        s.gets,
        s.patches,
        s.list_pages,
        report.seconds,
        report.list_shards,
        report.partitions,
        100.0 / harmonic(TENANTS, ZIPF_S),
        report.took.as_secs_f64()
    );
    println!(
        "| table / index | partition | peak WCU/s | % of 1,000 | peak RCU/s | % of 3,000 |\n|---|---|---|---|---|---|"
    );
    for (on, rows) in &report.top {
        for row in rows {
            println!(
                "| {on} | `{}` | {:.1} | {:.1} % | {:.1} | {:.1} % |",
                short(&row.partition),
                row.peak.wcu,
                percent(row.peak.wcu, PARTITION_WCU),
                row.peak.rcu,
                percent(row.peak.rcu, PARTITION_RCU)
            );
        }
    }
    match &report.hottest {
        Some(hottest) => println!(
            "\nThe first partition to reach 100 %: {} `{}`, at {:.2} × this load. Above 50 % of a limit: {}.",
            hottest.on,
            short(&hottest.partition),
            report.load_multiplier(),
            if report.over_half.is_empty() {
                "none".to_owned()
            } else {
                report
                    .over_half
                    .iter()
                    .map(|r| format!("{} `{}` ({:.0} %)", r.on, short(&r.partition), r.peak.share() * 100.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        None => println!("\nNo partition was touched."),
    }
}

fn row_json(row: &Row) -> Value {
    json!({
        "partition": row.partition,
        "peakWcu": row.peak.wcu, "wcuPercent": percent(row.peak.wcu, PARTITION_WCU), "peakWcuSecond": row.peak.wcu_second,
        "peakRcu": row.peak.rcu, "rcuPercent": percent(row.peak.rcu, PARTITION_RCU), "peakRcuSecond": row.peak.rcu_second,
    })
}

/// The report as latest.json's `keyHeat`.
pub fn to_json(report: &Report) -> Value {
    let s = report.split;
    json!({
        "tenants": TENANTS,
        "writesPerSecond": WRITES_PER_SECOND,
        "readsPerSecond": READS_PER_SECOND,
        "zipfS": ZIPF_S,
        "topTenantShare": 1.0 / harmonic(TENANTS, ZIPF_S),
        "split": {
            "patch": s.patches, "childCreate": s.child_creates, "subtenantCreate": s.subtenant_creates,
            "get": s.gets, "getBeforePatch": s.patches, "listPageByTag": s.list_pages,
        },
        "secondsSimulated": report.seconds,
        "listShards": report.list_shards,
        "partitionsTouched": report.partitions,
        "computeSeconds": report.took.as_secs_f64(),
        "limits": {"wcuPerSecond": PARTITION_WCU, "rcuPerSecond": PARTITION_RCU},
        "top": report.top.iter().map(|(on, rows)| json!({"on": on, "partitions": rows.iter().map(row_json).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "overHalf": report.over_half.iter().map(|r| json!({"on": r.on, "partition": r.partition, "share": r.peak.share()})).collect::<Vec<_>>(),
        "firstToLimit": report.hottest.as_ref().map(|r| json!({"on": r.on, "partition": r.partition, "loadMultiplier": report.load_multiplier()})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_follows_the_load_tests_mix() {
        let split = Split::of(2_000, 20_000);
        assert_eq!(
            split,
            Split {
                patches: 1_200,
                child_creates: 400,
                subtenant_creates: 400,
                gets: 15_040,
                list_pages: 3_760,
            }
        );
    }

    #[test]
    fn the_top_rank_takes_its_zipf_share() {
        let (n, s) = (TENANTS, ZIPF_S);
        let ranks = Ranks::new(n, s);
        let mut rng = XorShiftRng::seed_from_u64(1);
        let draws = 200_000;
        let top = (0..draws).filter(|_| ranks.sample(&mut rng) == 1).count() as f64 / draws as f64;
        let expected = 1.0 / harmonic(n, s);
        assert!(
            (top - expected).abs() < expected * 0.05,
            "top share {top}, expected {expected}"
        );
        let second = 1.0 / harmonic(n, s) / 2f64.powf(s);
        assert!(
            top > 1.8 * second,
            "the top rank is about 2^s times as read as the second"
        );
    }

    #[test]
    fn a_patch_of_the_top_tenant_lands_on_its_partition() {
        let mut sim = Simulation::new(DEFAULT_LIST_SHARDS);
        let at = Timestamp::parse("2026-03-02T12:00:00Z").unwrap();
        sim.patch(1, at);
        sim.heat.end_second(0);
        let id = Population::id(1);
        let own = (TABLE, keys::tenant(&id).pk);
        let peak = sim.heat.peaks[&own];
        assert!(
            peak.wcu >= 4.0,
            "the tenant item and its audit event, transactional: {peak:?}"
        );
        assert!(peak.rcu >= 2.0, "the client's and the service's reads: {peak:?}");
        // Its index entries are rewritten too (ALL projection), in its list partition.
        let list = (
            "GSI1",
            keys::tenant_list(keys::ListBucket::Live, keys::shard_of(&id, DEFAULT_LIST_SHARDS)),
        );
        assert!(sim.heat.peaks[&list].wcu >= 1.0);
    }

    #[test]
    fn per_second_aggregation_keeps_the_busiest_second() {
        let mut heat = Heat::default();
        for (s, units) in [(0, 3.0), (1, 7.0), (2, 5.0)] {
            heat.write(TABLE, "TENANT#a", units / 2.0);
            heat.write(TABLE, "TENANT#a", units / 2.0);
            heat.read(TABLE, "TENANT#a", 10.0 - units);
            heat.end_second(s);
        }
        let peak = heat.peaks[&(TABLE, "TENANT#a".to_owned())];
        assert_eq!((peak.wcu, peak.wcu_second), (7.0, 1));
        assert_eq!((peak.rcu, peak.rcu_second), (7.0, 0));
    }

    #[test]
    fn generated_tenant_items_are_under_one_read_unit() {
        let mut population = Population::new(1, Timestamp::parse("2026-03-02T12:00:00Z").unwrap());
        let largest = (1..=300)
            .chain((1..=300).map(|k| k * 33_331))
            .map(|rank| population.stored(rank).size)
            .max()
            .unwrap();
        assert!(
            largest < GENERATED_ITEM_MAX * 3 / 4,
            "largest generated tenant item: {largest} bytes"
        );
    }

    #[test]
    fn generated_tenants_are_deterministic_and_at_most_four_deep() {
        let mut a = Population::new(1, Timestamp::parse("2026-03-02T12:00:00Z").unwrap());
        let mut b = Population::new(1, Timestamp::parse("2026-03-02T12:00:00Z").unwrap());
        for rank in [1, 2, 17, 999, 123_456, TENANTS] {
            let (x, y) = (a.tenant(rank), b.tenant(rank));
            assert_eq!(x, y);
            assert!(x.depth as usize <= MAX_DEPTH);
        }
        let with_parent = (1..=2_000).filter(|r| Population::parent_rank(*r).is_some()).count();
        assert!(with_parent > 1_500, "most tenants have a parent: {with_parent}");
    }
}
