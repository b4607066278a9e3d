//! Counts the DynamoDB requests a client sends and the capacity they
//! consume, by operation: the cost of a route is measured, not estimated
//! (tests assert it; the bench reports it).
//!
//! Every item operation asks for `ReturnConsumedCapacity: TOTAL` (free, a
//! few bytes more in the answer) unless its caller chose otherwise.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::{
    batch_get_item, batch_write_item, delete_item, get_item, put_item, query, scan, transact_get_items,
    transact_write_items, update_item,
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

#[derive(Debug, Default)]
struct Counts {
    requests: BTreeMap<String, u64>,
    capacity: BTreeMap<String, f64>,
    /// The item writes sent since [`RequestCounter::record_writes`] (`None`:
    /// not recording, as in a deployed function, which never reads them).
    writes: Option<Vec<super::capacity::WriteAction>>,
}

/// Shared by the client's interceptor and whoever reads the counts. It
/// also records, per function, the IAM actions the requests need (see
/// [`super::iam`]), and refuses those the function's grants (once set) do not
/// allow.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<Counts>>,
    iam: Arc<Mutex<super::iam::Observed>>,
}

/// Asks for the total consumed capacity on an item operation's input,
/// unless the caller already chose what to ask for.
fn ask_for_capacity(context: &mut BeforeSerializationInterceptorContextMut<'_>) {
    let input = context.input_mut();
    macro_rules! ask {
        ($($input:ty),+) => {$(
            if let Some(input) = input.downcast_mut::<$input>() {
                input.return_consumed_capacity.get_or_insert(ReturnConsumedCapacity::Total);
                return;
            }
        )+};
    }
    ask!(
        get_item::GetItemInput,
        put_item::PutItemInput,
        update_item::UpdateItemInput,
        delete_item::DeleteItemInput,
        query::QueryInput,
        scan::ScanInput,
        batch_get_item::BatchGetItemInput,
        batch_write_item::BatchWriteItemInput,
        transact_get_items::TransactGetItemsInput,
        transact_write_items::TransactWriteItemsInput
    );
}

/// The operation an item operation's output answers, and the capacity units
/// it reports (all tables and indexes together).
fn consumed(context: &AfterDeserializationInterceptorContextRef<'_>) -> Option<(&'static str, f64)> {
    let output = context.output_or_error().ok()?;
    let units = |c: &ConsumedCapacity| c.capacity_units.unwrap_or(0.0);
    macro_rules! single {
        ($($op:literal: $output:ty),+) => {$(
            if let Some(output) = output.downcast_ref::<$output>() {
                return Some(($op, output.consumed_capacity.as_ref().map_or(0.0, units)));
            }
        )+};
    }
    macro_rules! several {
        ($($op:literal: $output:ty),+) => {$(
            if let Some(output) = output.downcast_ref::<$output>() {
                return Some(($op, output.consumed_capacity.iter().flatten().map(units).sum()));
            }
        )+};
    }
    single!(
        "GetItem": get_item::GetItemOutput,
        "PutItem": put_item::PutItemOutput,
        "UpdateItem": update_item::UpdateItemOutput,
        "DeleteItem": delete_item::DeleteItemOutput,
        "Query": query::QueryOutput,
        "Scan": scan::ScanOutput
    );
    several!(
        "BatchGetItem": batch_get_item::BatchGetItemOutput,
        "BatchWriteItem": batch_write_item::BatchWriteItemOutput,
        "TransactGetItems": transact_get_items::TransactGetItemsOutput,
        "TransactWriteItems": transact_write_items::TransactWriteItemsOutput
    );
    None
}

impl RequestCounter {
    /// Requests so far, by operation (`Query`, `TransactWriteItems`, …).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.requests.clone()).unwrap_or_default()
    }

    /// Capacity units consumed so far, by operation, as DynamoDB reported
    /// them on successful requests (DynamoDB Local reports them too).
    pub fn capacity(&self) -> BTreeMap<String, f64> {
        self.counts.lock().map(|c| c.capacity.clone()).unwrap_or_default()
    }

    /// From now until the next [`RequestCounter::reset`], records each
    /// request's item writes (for [`super::capacity::cost_of_writes`]).
    pub fn record_writes(&self) {
        if let Ok(mut c) = self.counts.lock() {
            c.writes = Some(Vec::new());
        }
    }

    /// The item writes sent (each attempt's) since
    /// [`RequestCounter::record_writes`].
    pub fn writes(&self) -> Vec<super::capacity::WriteAction> {
        self.counts
            .lock()
            .ok()
            .and_then(|c| c.writes.clone())
            .unwrap_or_default()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    /// Forgets the counts (not what functions used, nor their grants).
    pub fn reset(&self) {
        if let Ok(mut c) = self.counts.lock() {
            *c = Counts::default();
        }
    }

    /// From now on, a request sent as a function (see
    /// [`super::iam::as_function`]) fails unless `grants` allow all it needs,
    /// as IAM would refuse it.
    pub fn enforce(&self, grants: super::iam::Grants) {
        if let Ok(mut iam) = self.iam.lock() {
            iam.grants = Some(grants);
        }
    }

    /// What each function's requests needed so far (by function name).
    pub fn used(&self) -> BTreeMap<String, std::collections::BTreeSet<super::iam::Need>> {
        self.iam
            .lock()
            .map(|iam| {
                iam.used
                    .iter()
                    .map(|(f, needs)| (f.to_string(), needs.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        ask_for_capacity(context);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some((operation, units)) = consumed(context) {
            if let Ok(mut c) = self.counts.lock() {
                *c.capacity.entry(operation.to_owned()).or_default() += units;
            }
        }
        Ok(())
    }

    /// Once per attempt that goes on the wire (retries count).
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        // Only as a function (locally: the dev gateway, the tests) are the
        // permissions worked out: Lambda never pays for it.
        if let Some(function) = super::iam::current_function() {
            let needs = super::iam::needs(&operation, context.request().body().bytes().unwrap_or_default());
            let denied = self
                .iam
                .lock()
                .map(|mut iam| iam.record(function, needs))
                .unwrap_or_default();
            if !denied.is_empty() {
                let denied: Vec<String> = denied.iter().map(ToString::to_string).collect();
                let message = format!(
                    "AccessDeniedException (local IAM check): template.yaml does not grant the {function} function {}",
                    denied.join(", ")
                );
                tracing::error!(
                    function,
                    ?denied,
                    "template.yaml does not grant what this request needs"
                );
                // Where no subscriber prints logs (tests), say it all the same.
                eprintln!("{message}");
                return Err(message.into());
            }
        }
        if let Ok(mut c) = self.counts.lock() {
            if let Some(writes) = &mut c.writes {
                writes.extend(super::capacity::WriteAction::of_request(
                    &operation,
                    context.request().body().bytes(),
                ));
            }
            *c.requests.entry(operation).or_default() += 1;
        }
        Ok(())
    }
}
