//! What DynamoDB charges, by its published rules: the capacity units a
//! write or read consumes, worked out from the items themselves. The bench
//! (`make bench`) and the tests measure routes with it.
//!
//! Why not the `ConsumedCapacity` DynamoDB Local answers: for reads and
//! single-item writes it follows the rules, but for `TransactWriteItems` it
//! adds up the *distinct* per-item figures (ten 1-unit items in one
//! transaction report 4 units, a 1-unit and a 2-unit item 12), so a
//! transaction's figure says little. The rules applied here, from the
//! DynamoDB developer guide:
//!
//! - **Item size** (*Item sizes and formats*): the lengths of the attribute
//!   names plus the sizes of the values: strings their UTF-8 bytes, numbers
//!   1 byte per 2 significant digits plus 1, binary its bytes, booleans and
//!   nulls 1 byte, lists and maps 3 bytes plus 1 byte per element plus the
//!   elements (and, in maps, their names), sets their elements.
//! - **Writes** (*Read/write capacity mode*): 1 unit per KB (rounded up) of
//!   the larger of the item before and after; a delete, of the item deleted.
//!   In a transaction (*Transactions: capacity management*) every item is
//!   written twice (prepare and commit): 2 units per KB, and a
//!   `ConditionCheck` counts as a write of the item it checks.
//! - **Indexes** (*Global secondary indexes: provisioned throughput
//!   considerations*): an item entering an index costs one index write, one
//!   leaving it one, a change of its index key two (delete and put); a
//!   change of projected attributes under the same key one; nothing when
//!   neither its key nor a projected attribute changed. Each index write is
//!   1 unit per KB of the index entry (the table's key, the index's key, the
//!   projected attributes). Indexes are updated after the transaction
//!   commits, so their writes are not doubled.
//! - **Reads**: 1 unit per 4 KB strongly consistent, half eventually; a
//!   `Query` rounds the sum of the items it reads, `GetItem` and each item of
//!   a `BatchGetItem` its own size. Index queries are eventually consistent.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::keys::Key;
use super::records::{string_attr, Item};
use super::table::{Index, Projection, INDEXES, PK, SK};
use super::Store;
use crate::error::Result;

const WRITE_UNIT: usize = 1024;
const READ_UNIT: usize = 4096;

/// The size DynamoDB reckons an item at (see the module's rules).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// 1 byte per 2 significant digits, plus 1.
fn number_size(number: &str) -> usize {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn units(bytes: usize, unit: usize) -> f64 {
    bytes.div_ceil(unit).max(1) as f64
}

/// The write units one item write consumes, on the table and on each index
/// it touches (by index name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteCost {
    pub table: f64,
    pub indexes: BTreeMap<&'static str, f64>,
}

impl WriteCost {
    pub fn total(&self) -> f64 {
        self.table + self.indexes.values().sum::<f64>()
    }

    pub fn add(&mut self, other: &WriteCost) {
        self.table += other.table;
        for (index, units) in &other.indexes {
            *self.indexes.entry(index).or_default() += units;
        }
    }
}

/// What writing `after` over `before` costs (`None`: no item). A put of a
/// new item has no `before`, a delete no `after`; a condition check is
/// [`condition_check_cost`].
pub fn write_cost(before: Option<&Item>, after: Option<&Item>, transactional: bool) -> WriteCost {
    let larger = before.map_or(0, item_size).max(after.map_or(0, item_size));
    let mut cost = WriteCost {
        table: units(larger, WRITE_UNIT) * if transactional { 2.0 } else { 1.0 },
        indexes: BTreeMap::new(),
    };
    for index in INDEXES {
        let units = index_write_units(index, before, after);
        if units > 0.0 {
            cost.indexes.insert(index.name, units);
        }
    }
    cost
}

/// A `ConditionCheck` in a transaction: a transactional write of the item.
pub fn condition_check_cost(item: Option<&Item>) -> WriteCost {
    WriteCost {
        table: units(item.map_or(0, item_size), WRITE_UNIT) * 2.0,
        indexes: BTreeMap::new(),
    }
}

/// The entry `item` has in `index`, if it is in it: the table's key, the
/// index's key and the projected attributes.
pub fn index_entry(index: &Index, item: &Item) -> Option<Item> {
    if !(item.contains_key(index.pk) && item.contains_key(index.sk)) {
        return None;
    }
    let keys = [PK, SK, index.pk, index.sk];
    let projected = |name: &str| match index.projection {
        Projection::All => true,
        Projection::KeysOnly => keys.contains(&name),
        Projection::Include(extra) => keys.contains(&name) || extra.contains(&name),
    };
    Some(
        item.iter()
            .filter(|(name, _)| projected(name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
    )
}

fn index_write_units(index: &Index, before: Option<&Item>, after: Option<&Item>) -> f64 {
    let old = before.and_then(|item| index_entry(index, item));
    let new = after.and_then(|item| index_entry(index, item));
    let size = |entry: &Item| units(item_size(entry), WRITE_UNIT);
    let key = |entry: &Item| (entry.get(index.pk).cloned(), entry.get(index.sk).cloned());
    match (&old, &new) {
        (None, None) => 0.0,
        (None, Some(new)) => size(new),
        (Some(old), None) => size(old),
        (Some(old), Some(new)) if key(old) != key(new) => size(old) + size(new),
        (Some(old), Some(new)) if old != new => size(old).max(size(new)),
        _ => 0.0,
    }
}

/// What a write request does to one item, as sent on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Put,
    Update,
    Delete,
    ConditionCheck,
}

/// One item write of a request: recorded by the store's request counter
/// when asked to (see [`Store::price_writes`]) and priced by
/// [`cost_of_writes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteAction {
    pub kind: WriteKind,
    pub key: Key,
    pub transactional: bool,
}

impl WriteAction {
    /// The item writes of a request body of `operation` (`PutItem`,
    /// `TransactWriteItems`, …); none for reads.
    pub fn of_request(operation: &str, body: Option<&[u8]>) -> Vec<WriteAction> {
        let Some(body) = body.and_then(|b| serde_json::from_slice::<Value>(b).ok()) else {
            return Vec::new();
        };
        let action = |kind, transactional, key: &Value| {
            Some(WriteAction {
                kind,
                key: Key {
                    pk: key[PK]["S"].as_str()?.to_owned(),
                    sk: key[SK]["S"].as_str()?.to_owned(),
                },
                transactional,
            })
        };
        let mut actions = Vec::new();
        match operation {
            "PutItem" => actions.push(action(WriteKind::Put, false, &body["Item"])),
            "UpdateItem" => actions.push(action(WriteKind::Update, false, &body["Key"])),
            "DeleteItem" => actions.push(action(WriteKind::Delete, false, &body["Key"])),
            "BatchWriteItem" => {
                for request in body["RequestItems"].as_object().into_iter().flat_map(|t| t.values()) {
                    for one in request.as_array().into_iter().flatten() {
                        actions.push(match (&one["PutRequest"], &one["DeleteRequest"]) {
                            (Value::Null, delete) => action(WriteKind::Delete, false, &delete["Key"]),
                            (put, _) => action(WriteKind::Put, false, &put["Item"]),
                        });
                    }
                }
            }
            "TransactWriteItems" => {
                for one in body["TransactItems"].as_array().into_iter().flatten() {
                    actions.push(if !one["Put"].is_null() {
                        action(WriteKind::Put, true, &one["Put"]["Item"])
                    } else if !one["Update"].is_null() {
                        action(WriteKind::Update, true, &one["Update"]["Key"])
                    } else if !one["Delete"].is_null() {
                        action(WriteKind::Delete, true, &one["Delete"]["Key"])
                    } else {
                        action(WriteKind::ConditionCheck, true, &one["ConditionCheck"]["Key"])
                    });
                }
            }
            _ => {}
        }
        actions.into_iter().flatten().collect()
    }
}

/// What `writes` cost, given the table before and after them (items by
/// key): each write is priced with its item's image before and after the
/// whole run, which is exact when no item is written twice.
pub fn cost_of_writes(writes: &[WriteAction], before: &HashMap<Key, Item>, after: &HashMap<Key, Item>) -> WriteCost {
    let mut total = WriteCost::default();
    for write in writes {
        let (old, new) = (before.get(&write.key), after.get(&write.key));
        total.add(&match write.kind {
            WriteKind::ConditionCheck => condition_check_cost(old),
            _ => write_cost(old, new, write.transactional),
        });
    }
    total
}

/// Items by their key.
fn by_key(items: Vec<Item>) -> HashMap<Key, Item> {
    items
        .into_iter()
        .filter_map(|item| {
            let key = Key {
                pk: string_attr(&item, PK)?.to_owned(),
                sk: string_attr(&item, SK)?.to_owned(),
            };
            Some((key, item))
        })
        .collect()
}

/// What [`Store::price_writes`] saw of a call.
#[derive(Debug)]
pub struct Priced<T> {
    pub answer: T,
    /// The call's requests and the capacity DynamoDB reported, by operation
    /// (the counter's, without the scans around the call).
    pub requests: BTreeMap<String, u64>,
    pub reported: BTreeMap<String, f64>,
    /// Its item writes, priced.
    pub writes: WriteCost,
}

impl Store {
    /// Runs `call` and prices the item writes it sends ([`cost_of_writes`]).
    /// For measuring only (the bench, the tests): the table is scanned
    /// whole before and after, and the request counter is reset (and left
    /// recording item writes until its next reset).
    pub async fn price_writes<T>(&self, call: impl std::future::Future<Output = T>) -> Result<Priced<T>> {
        let before = by_key(self.scan_all().await?);
        self.requests.reset();
        self.requests.record_writes();
        let answer = call.await;
        let (requests, reported, writes) = (
            self.requests.snapshot(),
            self.requests.capacity(),
            self.requests.writes(),
        );
        let after = by_key(self.scan_all().await?);
        Ok(Priced {
            answer,
            requests,
            reported,
            writes: cost_of_writes(&writes, &before, &after),
        })
    }
}

/// The read units of reading `bytes` (one item, or a query's items
/// together).
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    units(bytes, READ_UNIT) * if consistent { 1.0 } else { 0.5 }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::store::records::{number_value, string_value};
    use crate::store::table::{GSI1, GSI2};

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    fn keyed(pk: &str, extra: &[(&str, AttributeValue)]) -> Item {
        let mut item = item(&[(PK, string_value(pk)), (SK, string_value("S"))]);
        item.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        item
    }

    #[test]
    fn sizes_follow_the_published_rules() {
        assert_eq!(item_size(&item(&[("name", string_value("abc"))])), 7);
        assert_eq!(item_size(&item(&[("n", number_value(12345))])), 1 + 4);
        assert_eq!(item_size(&item(&[("n", number_value("1000"))])), 1 + 2);
        assert_eq!(item_size(&item(&[("b", AttributeValue::Bool(true))])), 2);
        let list = AttributeValue::L(vec![string_value("ab"), string_value("c")]);
        assert_eq!(item_size(&item(&[("l", list)])), 1 + 3 + (1 + 2) + (1 + 1));
        let map = AttributeValue::M(HashMap::from([("key".to_owned(), string_value("v"))]));
        assert_eq!(item_size(&item(&[("m", map)])), 1 + 3 + (1 + 3 + 1));
    }

    #[test]
    fn a_small_put_costs_one_unit_and_a_transaction_doubles_it() {
        let new = keyed("A", &[]);
        assert_eq!(write_cost(None, Some(&new), false).total(), 1.0);
        assert_eq!(write_cost(None, Some(&new), true).total(), 2.0);
        let big = keyed("A", &[("x", string_value("x".repeat(2_500)))]);
        assert_eq!(
            write_cost(Some(&big), Some(&new), false).table,
            3.0,
            "the larger image counts"
        );
        assert_eq!(write_cost(Some(&big), None, true).table, 6.0);
    }

    #[test]
    fn index_writes_follow_the_key_and_the_projection() {
        let in_index = |sk: &str, extra: &str| {
            keyed(
                "A",
                &[
                    (GSI1.pk, string_value("P")),
                    (GSI1.sk, string_value(sk)),
                    ("extra", string_value(extra)),
                ],
            )
        };
        let (a, b) = (in_index("1", "x"), in_index("2", "x"));
        assert_eq!(write_cost(None, Some(&a), false).indexes[GSI1.name], 1.0, "entering");
        assert_eq!(write_cost(Some(&a), None, false).indexes[GSI1.name], 1.0, "leaving");
        assert_eq!(
            write_cost(Some(&a), Some(&b), false).indexes[GSI1.name],
            2.0,
            "key changed"
        );
        assert!(!write_cost(Some(&a), Some(&a), false).indexes.contains_key(GSI1.name));
        let changed = in_index("1", "y");
        let projected = match GSI1.projection {
            Projection::All => true,
            Projection::KeysOnly => false,
            Projection::Include(names) => names.contains(&"extra"),
        };
        assert_eq!(
            write_cost(Some(&a), Some(&changed), false)
                .indexes
                .contains_key(GSI1.name),
            projected,
            "an unprojected attribute's change writes no index entry"
        );
        assert!(
            !write_cost(None, Some(&a), false).indexes.contains_key(GSI2.name),
            "an item without an index's key is not in it"
        );
    }

    #[test]
    fn reads_round_up_to_four_kilobytes_and_eventual_reads_cost_half() {
        assert_eq!(read_units(10, true), 1.0);
        assert_eq!(read_units(4_097, true), 2.0);
        assert_eq!(read_units(10, false), 0.5);
    }
}
