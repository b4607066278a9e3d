//! The table's shape: generic keys, the indexes, TTL and stream. Declared
//! once here; template.yaml declares the same (a test compares them).

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodb::Client;

use crate::error::{Error, Result};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
/// Items with this attribute (epoch seconds) expire: tombstones, idempotency records.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// A global secondary index over generic string keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
    /// What the index serves, for docs and the template's comments.
    pub purpose: &'static str,
    /// The attributes its entries carry besides the keys: what its reads
    /// can answer from, and what makes a write update it (see
    /// [`super::capacity`]).
    pub projection: Projection,
}

/// What an index's entries carry besides the table's and the index's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    /// These attributes too.
    Include(&'static [&'static str]),
}

impl Projection {
    /// As the SDK (and CloudFormation) spell it: the type, and the
    /// non-key attributes of an `INCLUDE`.
    pub fn as_sdk(&self) -> aws_sdk_dynamodb::types::Projection {
        let (kind, included) = match self {
            Self::All => (ProjectionType::All, None),
            Self::KeysOnly => (ProjectionType::KeysOnly, None),
            Self::Include(names) => (
                ProjectionType::Include,
                Some(names.iter().map(|n| (*n).to_owned()).collect()),
            ),
        };
        aws_sdk_dynamodb::types::Projection::builder()
            .projection_type(kind)
            .set_non_key_attributes(included)
            .build()
    }

    /// CloudFormation's `ProjectionType`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::All => "ALL",
            Self::KeysOnly => "KEYS_ONLY",
            Self::Include(_) => "INCLUDE",
        }
    }
}

/// Generic indexes, named by number: each serves several access patterns
/// over different item kinds (the table of them is in [`super::keys`]).
/// GSI1: tenant lists by name, a user's memberships, subtenants by name,
/// pending work and unfinished jobs; 1-character name prefixes on facets.
pub const GSI1: Index = Index {
    name: "GSI1",
    pk: "GSI1PK",
    sk: "GSI1SK",
    projection: Projection::All,
    purpose: "tenant lists by name; on facets, 1-character name prefixes by creation",
};
/// GSI2: tenant lists and subtrees by creation, subtenants by code.
pub const GSI2: Index = Index {
    name: "GSI2",
    pk: "GSI2PK",
    sk: "GSI2SK",
    projection: Projection::All,
    purpose: "tenant lists by creation time",
};

/// GSI3: children of a tenant by name; 2-character name prefixes on facets.
pub const GSI3: Index = Index {
    name: "GSI3",
    pk: "GSI3PK",
    sk: "GSI3SK",
    projection: Projection::All,
    purpose: "children of a tenant by name; on facets, 2-character name prefixes by creation",
};
/// GSI4: tenants of a reseller by name, every subtenant by creation;
/// 3-character name prefixes on facets.
pub const GSI4: Index = Index {
    name: "GSI4",
    pk: "GSI4PK",
    sk: "GSI4SK",
    projection: Projection::All,
    purpose: "tenants of a reseller by name; on facets, 3-character name prefixes by creation",
};
/// GSI5: every tenant of a tree, by id path: a subtree is one prefix.
pub const GSI5: Index = Index {
    name: "GSI5",
    pk: "GSI5PK",
    sk: "GSI5SK",
    projection: Projection::All,
    purpose: "subtrees by id path",
};
/// GSI6: facet items (tags, external ids, identity providers, subtrees) by
/// the tenant's name; retired tenants by retirement.
pub const GSI6: Index = Index {
    name: "GSI6",
    pk: "GSI6PK",
    sk: "GSI6SK",
    projection: Projection::All,
    purpose: "tenants by tag or external id",
};

/// The indexes of name prefixes of 1, 2 and 3 characters, by creation: on
/// facet items, which use none of them otherwise, `PREFIX#…` partitions
/// (`keys::name_prefix_list`, `keys::name_prefix_within`) sorted by
/// `<createdAt>#<id>`. A `createdAt` list with a longer `name` prefix reads
/// the partition of its first 3 characters and filters on the rest. No
/// index of their own: adding one to a deployed table is a backfill, and
/// CloudFormation adds only one index per stack update.
pub const PREFIX_INDEXES: [Index; 3] = [GSI1, GSI3, GSI4];

pub const INDEXES: &[Index] = &[GSI1, GSI2, GSI3, GSI4, GSI5, GSI6];

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("name and type are set")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

/// Every key attribute of the table and its indexes (all strings).
pub fn key_attributes() -> Vec<&'static str> {
    let mut names = vec![PK, SK];
    for index in INDEXES {
        names.extend([index.pk, index.sk]);
    }
    names
}

/// Whether a table created locally has its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// As deployed: what the stream consumers need.
    On,
    /// For bulk tests only: DynamoDB Local keeps every stream record of the
    /// process's shared database, and after some 100,000 of them each write
    /// slows down for every table (seen: 5 s per write after a purge of 40,000
    /// items), so tests that write in bulk and read no stream go without.
    Off,
}

/// Creates the table as template.yaml declares it (on-demand, stream of new
/// and old images unless `stream` is off), then turns TTL on. Used by
/// `make dev` and the tests.
pub async fn create(client: &Client, table: &str, stream: Stream) -> Result<()> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SK, KeyType::Range))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("enabled is set"),
        );
    if stream == Stream::Off {
        request = request.set_stream_specification(None);
    }
    for name in key_attributes() {
        request = request.attribute_definitions(string_attribute(name));
    }
    for index in INDEXES {
        request = request.global_secondary_indexes(index.definition());
    }
    match request.send().await {
        Ok(_) => {}
        // A retried call whose first attempt landed (DynamoDB Local under
        // load answers late, and the SDK retries): the table is there. The
        // callers create fresh names, so it is this call's table.
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(e) => return Err(Error::internal(e)),
    }
    let ttl = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .expect("name and flag are set"),
        )
        .send()
        .await;
    match ttl {
        // A retried call whose first attempt landed: TTL is on, as wanted.
        Err(e) if e.as_service_error().and_then(|e| e.message()) == Some("TimeToLive is already enabled") => Ok(()),
        other => other.map(drop).map_err(Error::internal),
    }
}

impl Index {
    fn definition(&self) -> GlobalSecondaryIndex {
        GlobalSecondaryIndex::builder()
            .index_name(self.name)
            .key_schema(key(self.pk, KeyType::Hash))
            .key_schema(key(self.sk, KeyType::Range))
            .projection(self.projection.as_sdk())
            .build()
            .expect("name and keys are set")
    }
}

/// Creates the table unless it exists already; adds the indexes an older
/// local table lacks (a dev table made before an index was added). Returns
/// whether it created the table.
pub async fn ensure(client: &Client, table: &str) -> Result<bool> {
    match client.describe_table().table_name(table).send().await {
        Ok(described) => {
            let existing: Vec<String> = described
                .table
                .and_then(|t| t.global_secondary_indexes)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| i.index_name)
                .collect();
            for index in INDEXES.iter().filter(|i| !existing.iter().any(|e| e == i.name)) {
                tracing::info!(index = index.name, "adding a missing index to the local table");
                let create = aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                    .index_name(index.name)
                    .key_schema(key(index.pk, KeyType::Hash))
                    .key_schema(key(index.sk, KeyType::Range))
                    .projection(index.projection.as_sdk())
                    .build()
                    .map_err(Error::internal)?;
                client
                    .update_table()
                    .table_name(table)
                    .set_attribute_definitions(Some(key_attributes().into_iter().map(string_attribute).collect()))
                    .global_secondary_index_updates(
                        aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                            .create(create)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(Error::internal)?;
                wait_until_active(client, table, index.name).await?;
            }
            Ok(false)
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            create(client, table, Stream::On).await.map(|()| true)
        }
        Err(err) => Err(Error::internal(err)),
    }
}

/// Waits (up to a minute) until an index is built: DynamoDB builds one at a time.
async fn wait_until_active(client: &Client, table: &str, index: &str) -> Result<()> {
    for _ in 0..600 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(Error::internal)?;
        let active = described
            .table
            .and_then(|t| t.global_secondary_indexes)
            .unwrap_or_default()
            .iter()
            .any(|i| {
                i.index_name() == Some(index) && i.index_status() == Some(&aws_sdk_dynamodb::types::IndexStatus::Active)
            });
        if active {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(Error::internal(format!(
        "index {index} of {table} did not become active"
    )))
}
