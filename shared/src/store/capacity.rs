//! What a write or read costs in DynamoDB capacity units, by AWS's rules:
//! the item's size (attribute names and values), rounded up to 1 KB per
//! write unit and 4 KB per read unit; a transaction's writes count twice;
//! each index an item is in takes its own write of the item.
//!
//! A minimal version for the bench's key-heat simulation (issue 23); the
//! capacity work of the same issue replaces it with the full one, same
//! signatures.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::records::Item;
use super::table::INDEXES;

/// The write units of one item write: on the table, and on each index it
/// touches (by index name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteCost {
    pub table: f64,
    pub indexes: BTreeMap<&'static str, f64>,
}

/// The size of an item as DynamoDB counts it: every attribute's name and
/// value (strings in UTF-8 bytes; numbers about one byte per two digits,
/// plus one; lists and maps 3 bytes plus one per element, plus their elements).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
        _ => 0,
    }
}

fn number_size(n: &str) -> usize {
    let digits = n.trim_start_matches('-').chars().filter(char::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

fn units(bytes: usize, per: usize) -> f64 {
    bytes.div_ceil(per).max(1) as f64
}

/// The write units of changing an item from `before` to `after` (`None`:
/// absent): the table's (the larger image, per 1 KB; twice in a
/// transaction) and each index's: the item's 1 KB units where it is (after),
/// twice where its key there changed (the old entry deleted, the new put),
/// and once where it left.
pub fn write_cost(before: Option<&Item>, after: Option<&Item>, transactional: bool) -> WriteCost {
    let size = before.map_or(0, item_size).max(after.map_or(0, item_size));
    let mut cost = WriteCost {
        table: units(size, 1024) * if transactional { 2.0 } else { 1.0 },
        indexes: BTreeMap::new(),
    };
    if before.is_some() && before == after {
        return cost; // nothing changed: no index is written
    }
    for index in INDEXES {
        let key = |item: Option<&Item>| {
            let item = item?;
            Some((item.get(index.pk)?.clone(), item.get(index.sk)?.clone()))
        };
        let units = match (key(before), key(after)) {
            (None, None) => continue,
            (Some(_), None) => units(before.map_or(0, item_size), 1024),
            (None, Some(_)) => units(after.map_or(0, item_size), 1024),
            (Some(old), Some(new)) if old == new => units(after.map_or(0, item_size), 1024),
            (Some(_), Some(_)) => units(before.map_or(0, item_size), 1024) + units(after.map_or(0, item_size), 1024),
        };
        cost.indexes.insert(index.name, units);
    }
    cost
}

/// The read units of reading `items_bytes` (one item, or a query's items
/// together): per 4 KB, 1 if strongly consistent, 0.5 if not.
pub fn read_units(items_bytes: usize, consistent: bool) -> f64 {
    items_bytes.div_ceil(4096) as f64 * if consistent { 1.0 } else { 0.5 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::string_value;

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), string_value(*v))).collect()
    }

    #[test]
    fn sizes_count_names_and_values() {
        assert_eq!(item_size(&item(&[("PK", "abc"), ("SK", "d")])), 2 + 3 + 2 + 1);
        let list: Item = [("L".to_owned(), AttributeValue::L(vec![string_value("ab")]))].into();
        assert_eq!(item_size(&list), 1 + 3 + 1 + 2);
    }

    #[test]
    fn a_transactional_write_counts_twice_and_each_index_once() {
        let before = item(&[("PK", "a"), ("SK", "b"), ("GSI1PK", "x"), ("GSI1SK", "y"), ("d", "1")]);
        let after = item(&[("PK", "a"), ("SK", "b"), ("GSI1PK", "x"), ("GSI1SK", "y"), ("d", "2")]);
        let cost = write_cost(Some(&before), Some(&after), true);
        assert_eq!(cost.table, 2.0);
        assert_eq!(cost.indexes, BTreeMap::from([("GSI1", 1.0)]));
        let moved = item(&[("PK", "a"), ("SK", "b"), ("GSI1PK", "z"), ("GSI1SK", "y")]);
        assert_eq!(write_cost(Some(&before), Some(&moved), false).indexes["GSI1"], 2.0);
        assert_eq!(write_cost(Some(&before), None, false).indexes["GSI1"], 1.0);
        assert!(write_cost(Some(&before), Some(&before), false).indexes.is_empty());
    }

    #[test]
    fn reads_round_to_four_kilobytes() {
        assert_eq!(read_units(1, true), 1.0);
        assert_eq!(read_units(4097, false), 1.0);
    }
}
