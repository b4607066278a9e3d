//! What routes cost in DynamoDB capacity units, priced by the published
//! rules (`shared::store::capacity`, which `make bench` prints): the model
//! agrees with DynamoDB Local where Local follows the rules (single-item
//! writes, indexes included), and each route stays within the units it
//! cost when this test was written: a change that makes a route dearer
//! fails here and must say why.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use serde_json::json;
use shared::domain::tenant::{InputMode, Stamp};
use shared::domain::{Tenant, TenantId, TenantInput, Timestamp};
use shared::store::capacity::{write_cost, WriteCost};
use shared::store::keys::Key;
use shared::store::records::{self, string_attr, Item};
use shared::store::table::{PK, SK};

use crate::helpers::{spawn_app, TestApi};

/// A tenant as a create of `body` makes it.
fn tenant(body: serde_json::Value, parent: Option<&Tenant>) -> Tenant {
    let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
    let id = TenantId::parse(body["tenantId"].as_str().unwrap()).unwrap();
    let stamp = Stamp {
        actor: "capacity".into(),
        at: Timestamp::now(),
    };
    Tenant::create(input, id, &stamp).placed(parent)
}

/// Puts `item` with a plain `PutItem` and returns the units DynamoDB Local
/// reports, by index (`""` for the table).
async fn reported_put(api: &TestApi, item: Item) -> HashMap<String, f64> {
    let store = &api.app().store;
    let answer = store
        .client()
        .put_item()
        .table_name(store.table())
        .set_item(Some(item))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let consumed = answer.consumed_capacity.unwrap();
    let mut units: HashMap<String, f64> = consumed
        .global_secondary_indexes
        .unwrap_or_default()
        .into_iter()
        .map(|(index, c)| (index, c.capacity_units.unwrap_or(0.0)))
        .collect();
    units.insert(String::new(), consumed.table.unwrap().capacity_units.unwrap());
    units
}

fn as_reported(cost: &WriteCost) -> HashMap<String, f64> {
    let mut units: HashMap<String, f64> = cost.indexes.iter().map(|(i, u)| ((*i).to_owned(), *u)).collect();
    units.insert(String::new(), cost.table);
    units
}

#[tokio::test]
async fn the_model_prices_plain_writes_as_dynamodb_local_reports_them() {
    let api = spawn_app().await;
    let parent = tenant(json!({"tenantId": "model-parent", "name": "Model Parent"}), None);
    let child = tenant(
        json!({"tenantId": "model-child", "name": "Model Child", "resellerId": "r1", "tags": ["a"],
               "description": "x".repeat(1_000), "metadata": {"note": "y".repeat(500)}}),
        Some(&parent),
    );
    // New items: the table and every index the item is in.
    for item in [
        records::tenant_item(&parent, 1).unwrap(),
        records::tenant_item(&child, 1).unwrap(),
    ]
    .into_iter()
    .chain(records::facet_items(&child, 1).into_iter().map(|(_, item)| item))
    {
        assert_eq!(
            reported_put(&api, item.clone()).await,
            as_reported(&write_cost(None, Some(&item), false)),
            "{item:?}"
        );
    }
    // A rename: the larger image, index keys moved (two writes each).
    let before = records::tenant_item(&child, 1).unwrap();
    let mut renamed = child.clone();
    renamed.name = shared::domain::TenantName::parse("Another Name").unwrap();
    let after = records::tenant_item(&renamed, 1).unwrap();
    assert_eq!(
        reported_put(&api, after.clone()).await,
        as_reported(&write_cost(Some(&before), Some(&after), false))
    );
    // Raw items, not a tenant the API made: gone again before the
    // invariant check.
    for item in api.app().store.scan_all().await.unwrap() {
        if string_attr(&item, PK).is_some_and(|pk| pk.starts_with("TENANT#model-")) {
            api.delete_item(&Key {
                pk: string_attr(&item, PK).unwrap().to_owned(),
                sk: string_attr(&item, SK).unwrap().to_owned(),
            })
            .await;
        }
    }
}

/// The write units of what `call` sends, by the model.
async fn priced<F: std::future::Future<Output = u16>>(api: &TestApi, call: F) -> f64 {
    let priced = api.app().store.price_writes(call).await.unwrap();
    assert!(
        (200..300).contains(&priced.answer),
        "the priced call answered {}",
        priced.answer
    );
    priced.writes.total()
}

#[tokio::test]
async fn routes_stay_within_the_write_units_they_cost() {
    let api = spawn_app().await;
    // (route, units when written: see `make bench`'s capacity table).
    let create = priced(&api, async {
        api.post(
            "/v1/tenants",
            &json!({"tenantId": "budget", "name": "Budget Co", "tags": ["t"]}),
        )
        .await
        .status
    })
    .await;
    assert!(create <= 27.0, "a small tenant's create costs {create} units");
    let patch = priced(&api, async {
        api.patch("/v1/tenants/budget", &json!({"description": "one field"}), &[])
            .await
            .status
    })
    .await;
    assert!(patch <= 7.0, "a one-field PATCH costs {patch} units");
    let member = priced(&api, async {
        api.send_json(
            "PUT",
            "/v1/tenants/budget/members/someone",
            &json!({"role": "viewer"}),
            &[],
        )
        .await
        .status
    })
    .await;
    assert!(member <= 5.0, "a member put costs {member} units");
    let subtenant = priced(&api, async {
        api.post("/v1/tenants/budget/subtenants", &json!({"name": "Group"}))
            .await
            .status
    })
    .await;
    assert!(subtenant <= 12.0, "a subtenant create costs {subtenant} units");
}
