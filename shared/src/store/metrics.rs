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
}

/// Shared by the client's interceptor and whoever reads the counts.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter(Arc<Mutex<Counts>>);

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
        self.0.lock().map(|c| c.requests.clone()).unwrap_or_default()
    }

    /// Capacity units consumed so far, by operation, as DynamoDB reported
    /// them on successful requests (DynamoDB Local reports them too).
    pub fn capacity(&self) -> BTreeMap<String, f64> {
        self.0.lock().map(|c| c.capacity.clone()).unwrap_or_default()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    pub fn reset(&self) {
        if let Ok(mut c) = self.0.lock() {
            *c = Counts::default();
        }
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
            if let Ok(mut c) = self.0.lock() {
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
        if let Ok(mut c) = self.0.lock() {
            *c.requests.entry(operation).or_default() += 1;
        }
        Ok(())
    }
}
