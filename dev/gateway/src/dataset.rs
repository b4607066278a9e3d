//! Synthetic tables for the load tests and `make bench`: tenants written as
//! the store writes them (item, name guard, facets), in bulk with
//! BatchWriteItem. One definition, so the tests' and the bench's figures
//! are about the same data.

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures_util::StreamExt;
use shared::auth::TenantRole;
use shared::domain::audit::{Action, AuditEvent};
use shared::domain::member::Member;
use shared::domain::tenant::{InputMode, Stamp};
use shared::domain::{Tenant, TenantId, TenantInput, Timestamp, UserId};
use shared::store::records;

pub type Item = std::collections::HashMap<String, AttributeValue>;

/// Tenants in the scale data set that are parents (the rest are their children).
pub const PARENTS: usize = 100;

fn change(at: Timestamp) -> Stamp {
    Stamp {
        actor: "seed".into(),
        at,
    }
}

/// The tenant `i` of the scale data set: `t00000`…, 100 parents, the rest
/// their children; every 10th inactive, every 4th a test tenant, every 7th a
/// service provider, two tags each (`tag-<i%20>`, `group-<i%3>`), 50
/// resellers (`r<i%50>`), external id `crm:<i>`, one identity provider each
/// (`idp-<i%40>`).
pub fn scale_tenant(i: usize) -> Tenant {
    let body = serde_json::json!({
        "tenantId": format!("t{i:05}"),
        "name": format!("Tenant {i:05}"),
        "status": if i.is_multiple_of(10) { "inactive" } else { "active" },
        "environment": if i.is_multiple_of(4) { "test" } else { "production" },
        "type": if i.is_multiple_of(7) { "ServiceProvider" } else { "Enterprise" },
        "tags": [format!("tag-{}", i % 20), format!("group-{}", i % 3)],
        "resellerId": format!("r{}", i % 50),
        "externalIds": {"crm": format!("{i}")},
    });
    let input = TenantInput::parse(body.as_object().expect("an object"), InputMode::Create).expect("valid input");
    let id = TenantId::parse(&format!("t{i:05}")).expect("a valid id");
    let mut tenant = Tenant::create(input, id, &change(Timestamp::now()));
    if i >= PARENTS {
        tenant = tenant.placed(Some(&scale_tenant(i % PARENTS)));
    }
    tenant.identity_provider_ids = vec![format!("idp-{}", i % 40)];
    tenant
}

/// The items of tenants `range` of the scale data set, with `children` given
/// to each parent (the size the whole data set will have, minus parents).
pub fn scale_items(range: std::ops::Range<usize>, children_per_parent: u32, list_shards: u16) -> Vec<Item> {
    let mut items = Vec::new();
    for i in range {
        let mut tenant = scale_tenant(i);
        if i < PARENTS {
            tenant.child_count = children_per_parent;
        }
        items.push(records::tenant_item(&tenant, list_shards).expect("a storable tenant"));
        items.push(records::name_guard_item(&tenant.name.key(), &tenant.id));
        items.extend(
            records::facet_items(&tenant, list_shards)
                .into_iter()
                .map(|(_, item)| item),
        );
    }
    items
}

/// Items per retired tenant of [`retired_items`].
pub const RETIRED_TENANT_ITEMS: usize = 20;

/// A retired tenant `old-<i>` and its 19 other items: name guard, 11 facets
/// (5 tags, 4 external ids, its subtree, its name), 3 members, 4 history events.
pub fn retired_items(i: usize, retired_at: Timestamp) -> Vec<Item> {
    let body = serde_json::json!({
        "tenantId": format!("old-{i:05}"), "name": format!("Old {i:05}"),
        "tags": ["a", "b", "c", "d", "e"], "externalIds": {"1": format!("x{i}"), "2": "y", "3": "z", "4": "w"},
    });
    let input = TenantInput::parse(body.as_object().expect("an object"), InputMode::Create).expect("valid input");
    let id = TenantId::parse(&format!("old-{i:05}")).expect("a valid id");
    let tenant = Tenant::create(input, id, &change(retired_at));
    let tenant = tenant
        .retired(Some("seed".into()), &change(retired_at))
        .expect("an active tenant retires");
    let mut items = vec![
        records::tenant_item(&tenant, 1).expect("a storable tenant"),
        records::name_guard_item(&tenant.name.key(), &tenant.id),
    ];
    items.extend(records::facet_items(&tenant, 1).into_iter().map(|(_, item)| item));
    for user in ["u1", "u2", "u3"] {
        let member = Member {
            tenant_id: tenant.id.clone(),
            user_id: UserId::parse(user).expect("a valid user id"),
            role: TenantRole::Viewer,
            added_at: retired_at,
            added_by: "seed".into(),
        };
        items.push(records::member_item(&member, tenant.created_at).expect("a storable member"));
    }
    for version in 1..=4 {
        let event = AuditEvent {
            version,
            action: Action::Updated,
            ..AuditEvent::of(None, &tenant)
        };
        items.push(records::event_item(&event, tenant.created_at).expect("a storable event"));
    }
    debug_assert_eq!(items.len(), RETIRED_TENANT_ITEMS);
    items
}

/// Writes `items` with BatchWriteItem, 8 batches of 25 at a time, retrying
/// unprocessed items: bulk seeding, with a client given room to wait
/// (unlike the API's 5 s budget).
pub async fn put_items(client: &aws_sdk_dynamodb::Client, table: &str, items: &[Item]) -> Result<(), String> {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(60))
        .operation_attempt_timeout(Duration::from_secs(30))
        .build();
    let seeder = aws_sdk_dynamodb::Client::from_conf(client.config().to_builder().timeout_config(timeouts).build());
    let seeder = &seeder;
    let results: Vec<Result<(), String>> = futures_util::stream::iter(items.chunks(25).map(|chunk| async move {
        let mut pending: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item.clone())).build();
                WriteRequest::builder().put_request(put.expect("an item")).build()
            })
            .collect();
        while !pending.is_empty() {
            let out = seeder
                .batch_write_item()
                .request_items(table, pending)
                .send()
                .await
                .map_err(|e| format!("BatchWriteItem: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(table))
                .unwrap_or_default();
        }
        Ok(())
    }))
    .buffer_unordered(8)
    .collect()
    .await;
    results.into_iter().collect()
}
