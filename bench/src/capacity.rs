//! The capacity table: what a route costs in DynamoDB capacity units, the
//! figure a platform pays for. Writes are priced by the published rules
//! from the items before and after ([`shared::store::capacity`]: DynamoDB
//! Local's own figure for a transaction is not the service's); reads are
//! what DynamoDB Local reports (it follows the rules for reads). Each row
//! beside the figure measured at the start of issue 23 (same rules, commit
//! 7232e36) and the goal.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{json, Value};
use shared::store::capacity::WriteCost;

/// What one route cost.
pub struct Cost {
    pub event: String,
    pub status: u16,
    pub requests: BTreeMap<String, u64>,
    /// Read units, as DynamoDB Local reports them.
    pub reads: f64,
    /// Write units by the published rules, table and indexes.
    pub writes: WriteCost,
}

impl Cost {
    pub fn json(&self) -> Value {
        json!({
            "event": self.event, "status": self.status, "requests": self.requests,
            "readUnits": self.reads, "writeUnits": self.writes.total(),
            "writeUnitsTable": self.writes.table, "writeUnitsByIndex": self.writes.indexes,
        })
    }
}

const READS: &[&str] = &["GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems"];

/// A call's cost: its requests, the read units DynamoDB Local reported,
/// the write units priced.
fn cost(
    event: &str,
    status: u16,
    requests: BTreeMap<String, u64>,
    reported: &BTreeMap<String, f64>,
    writes: WriteCost,
) -> Cost {
    Cost {
        event: event.to_owned(),
        status,
        requests,
        reads: reported
            .iter()
            .filter(|(op, _)| READS.contains(&op.as_str()))
            .map(|(_, units)| units)
            .sum::<f64>()
            + 0.0, // an empty sum is -0
        writes,
    }
}

/// Invokes `request` in-process and prices what it did: the table is read
/// whole before and after (a bench table of a few hundred items at most).
pub async fn measure(app: &shared::HttpApp, event: &str, request: Bytes) -> Cost {
    let priced = app
        .store
        .price_writes(crate::invoke(app, &request))
        .await
        .expect("the table reads");
    let response = priced.answer.expect("an HTTP event of a declared route");
    cost(
        event,
        response.status().as_u16(),
        priced.requests,
        &priced.reported,
        priced.writes,
    )
}

/// A PATCH of one field (the description) of the sample tenant: the
/// sample `tenants-patch` event with that body.
pub fn one_field_patch(sample: &[u8]) -> Bytes {
    let mut event: Value = serde_json::from_slice(sample).expect("the sample event is JSON");
    event["body"] = Value::String(json!({"description": "One field changed"}).to_string());
    Bytes::from(event.to_string())
}

/// The list pages of the goals, on a table of the scale data set's first
/// 1,000 tenants (two tags each, 20 tag values: 50 tenants a tag).
pub async fn list_pages(client: &aws_sdk_dynamodb::Client, endpoint: &str) -> Vec<Cost> {
    let table = "bench-capacity";
    shared::store::table::create(client, table, shared::store::table::Stream::Off)
        .await
        .expect("the capacity table is created");
    let items = dev_gateway::dataset::scale_items(0..1_000, 9, 1);
    dev_gateway::dataset::put_items(client, table, &items)
        .await
        .expect("the capacity table is seeded");
    let app = crate::app(endpoint, table);
    let claims = crate::scale::admin_claims();
    let mut costs = Vec::new();
    for (name, path) in [
        ("list page of 25 by tag", "/v1/tenants?limit=25&tags=tag-3"),
        ("list page of 25, no filter", "/v1/tenants?limit=25"),
    ] {
        let event = crate::scale::get_event(path, &claims);
        app.store.requests().reset();
        let response = crate::invoke(&app, &event).await.expect("a declared route");
        let counter = app.store.requests();
        costs.push(cost(
            name,
            response.status().as_u16(),
            counter.snapshot(),
            &counter.capacity(),
            WriteCost::default(),
        ));
    }
    costs
}

/// A goal of issue 23: the route, what it cost at its start, the goal.
struct Goal {
    route: &'static str,
    /// The cost's name in [`Cost::event`].
    measured_by: &'static str,
    write: bool,
    /// Capacity units at 7232e36 by the same rules, measured by the first
    /// version of this table (4d09847: the measurement alone); the issue's
    /// own figures were DynamoDB Local's: 32, 36, 40, 44, 12, 1, 13.5, 2.
    before: f64,
    goal: f64,
}

const GOALS: &[Goal] = &[
    Goal {
        route: "tenant create (with name guard, audit, membership)",
        measured_by: "tenants-create",
        write: true,
        before: 39.0,
        goal: 12.0,
    },
    Goal {
        route: "tenant PATCH of one field",
        measured_by: "tenant PATCH of one field",
        write: true,
        before: 14.0,
        goal: 10.0,
    },
    Goal {
        route: "subtenant create",
        measured_by: "subtenants-create",
        write: true,
        before: 13.0,
        goal: 12.0,
    },
    Goal {
        route: "deployment create",
        measured_by: "deployments-create",
        write: true,
        before: 18.0,
        goal: 14.0,
    },
    Goal {
        route: "member put",
        measured_by: "members-put",
        write: true,
        before: 5.0,
        goal: 6.0,
    },
    Goal {
        route: "tenant get",
        measured_by: "tenants-get",
        write: false,
        before: 1.0,
        goal: 1.0,
    },
    Goal {
        route: "list page of 25 by tag",
        measured_by: "list page of 25 by tag",
        write: false,
        before: 13.5,
        goal: 4.0,
    },
    Goal {
        route: "list page of 25, no filter",
        measured_by: "list page of 25, no filter",
        write: false,
        before: 2.0,
        goal: 2.0,
    },
];

fn figure(units: f64) -> String {
    format!("{}", (units * 100.0).round() / 100.0)
}

/// Prints the goals table; its rows, for the JSON.
pub fn print_goals(costs: &[Cost]) -> Vec<Value> {
    println!("\n| route | unit | at 7232e36 | now | goal | met |\n|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for goal in GOALS {
        let Some(cost) = costs.iter().find(|c| c.event == goal.measured_by) else {
            continue;
        };
        let now = if goal.write { cost.writes.total() } else { cost.reads };
        let unit = if goal.write { "WCU" } else { "RCU" };
        let met = now <= goal.goal;
        println!(
            "| {} | {unit} | {} | {} | ≤ {} | {} |",
            goal.route,
            figure(goal.before),
            figure(now),
            goal.goal,
            if met { "yes" } else { "no" }
        );
        rows.push(json!({"route": goal.route, "unit": unit, "before": goal.before, "now": now, "goal": goal.goal, "met": met}));
    }
    rows
}
