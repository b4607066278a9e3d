//! The IAM actions each DynamoDB request needs, and what each function is
//! granted. A request sent while a function's handler runs (see
//! [`as_function`]) is recorded under that function's name, and checked
//! against its grants when some are set: the dev gateway sets template.yaml's
//! policies, so that locally, as in AWS, a request the template does not
//! allow fails (and a test that exercises it fails), and a test compares
//! what each function used with what it is granted, both ways.
//!
//! In Lambda nothing sets a function scope: nothing is recorded or checked.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use serde_json::Value;

tokio::task_local! {
    static FUNCTION: &'static str;
}

/// Runs `work` as the function `name` (its binary's name, as template.yaml's
/// `BuildProperties.Binary` gives it): its DynamoDB requests are its own.
pub async fn as_function<F: Future>(name: &'static str, work: F) -> F::Output {
    FUNCTION.scope(name, work).await
}

/// The function whose handler is running, if any.
pub fn current_function() -> Option<&'static str> {
    FUNCTION.try_with(|name| *name).ok()
}

/// What an action is granted on: the table itself, or its indexes
/// (`<table arn>/index/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum On {
    Table,
    Indexes,
}

/// One permission a request needs: an IAM action (`dynamodb:Query`) on a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Need {
    pub action: String,
    pub on: On,
}

impl Need {
    pub fn new(action: impl Into<String>, on: On) -> Self {
        Self {
            action: action.into(),
            on,
        }
    }
}

impl std::fmt::Display for Need {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = match self.on {
            On::Table => "the table",
            On::Indexes => "the table's indexes",
        };
        write!(f, "{} on {on}", self.action)
    }
}

/// The permissions a request needs, from its operation (`GetItem`, the last
/// part of `X-Amz-Target`) and its JSON body. IAM has no action for a
/// transaction: `TransactWriteItems` needs the action of each item it holds
/// (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`), and
/// `TransactGetItems` needs `GetItem`. A `Query` or `Scan` of an index needs
/// its action on the index.
pub fn needs(operation: &str, body: &[u8]) -> BTreeSet<Need> {
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let action = |name: &str| format!("dynamodb:{name}");
    match operation {
        "TransactWriteItems" => request["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item.as_object()?.keys().next().cloned())
            .map(|kind| {
                let name = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    other => other,
                };
                Need::new(action(name), On::Table)
            })
            .collect(),
        "TransactGetItems" => BTreeSet::from([Need::new(action("GetItem"), On::Table)]),
        other => {
            let on = if request.get("IndexName").is_some() {
                On::Indexes
            } else {
                On::Table
            };
            BTreeSet::from([Need::new(action(other), on)])
        }
    }
}

/// What each function (by its binary's name) is allowed: its policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(pub BTreeMap<String, BTreeSet<Need>>);

impl Grants {
    pub fn allows(&self, function: &str, need: &Need) -> bool {
        self.0.get(function).is_some_and(|granted| granted.contains(need))
    }
}

/// What functions were seen to need, and the grants that hold them.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    pub(crate) used: BTreeMap<&'static str, BTreeSet<Need>>,
    pub(crate) grants: Option<Grants>,
}

impl Observed {
    /// Records what `function` needs for one request; the needs its grants
    /// (if set) do not allow.
    pub(crate) fn record(&mut self, function: &'static str, needs: BTreeSet<Need>) -> Vec<Need> {
        let denied = match &self.grants {
            Some(grants) => needs.iter().filter(|n| !grants.allows(function, n)).cloned().collect(),
            None => Vec::new(),
        };
        self.used.entry(function).or_default().extend(needs);
        denied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(operation: &str, body: &str) -> Vec<String> {
        needs(operation, body.as_bytes())
            .into_iter()
            .map(|n| n.to_string())
            .collect()
    }

    #[test]
    fn a_transaction_needs_the_action_of_each_item_and_an_index_query_the_index() {
        let transaction =
            r#"{"TransactItems": [{"Put": {}}, {"ConditionCheck": {}}, {"Put": {}}, {"Delete": {}}, {"Update": {}}]}"#;
        assert_eq!(
            actions("TransactWriteItems", transaction),
            [
                "dynamodb:ConditionCheckItem on the table",
                "dynamodb:DeleteItem on the table",
                "dynamodb:PutItem on the table",
                "dynamodb:UpdateItem on the table"
            ]
        );
        assert_eq!(
            actions("Query", r#"{"TableName": "t", "IndexName": "GSI1"}"#),
            ["dynamodb:Query on the table's indexes"]
        );
        assert_eq!(
            actions("Query", r#"{"TableName": "t"}"#),
            ["dynamodb:Query on the table"]
        );
        assert_eq!(actions("TransactGetItems", "{}"), ["dynamodb:GetItem on the table"]);
        assert_eq!(
            actions("BatchWriteItem", "{}"),
            ["dynamodb:BatchWriteItem on the table"]
        );
    }

    #[tokio::test]
    async fn a_function_scope_names_who_sends_and_grants_deny_the_rest() {
        assert_eq!(current_function(), None);
        assert_eq!(
            as_function("notifier", async { current_function() }).await,
            Some("notifier")
        );
        let mut observed = Observed {
            grants: Some(Grants(BTreeMap::from([(
                "notifier".to_owned(),
                BTreeSet::from([Need::new("dynamodb:GetItem", On::Table)]),
            )]))),
            ..Observed::default()
        };
        let query = needs("Query", br#"{"TableName": "t"}"#);
        assert_eq!(observed.record("notifier", needs("GetItem", b"{}")), []);
        assert_eq!(
            observed.record("notifier", query.clone()),
            query.into_iter().collect::<Vec<_>>()
        );
        assert_eq!(observed.used["notifier"].len(), 2, "what was denied was still needed");
    }
}
