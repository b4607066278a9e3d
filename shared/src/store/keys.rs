//! The one owner of key formats. Nothing else formats `PK`, `SK` or `GSI*`.

use crate::domain::{Status, TenantId, Timestamp};

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

pub const TENANT_SK: &str = "TENANT";
pub const TENANT_NAME_SK: &str = "TENANTNAME";

pub fn tenant(id: &TenantId) -> Key {
    Key {
        pk: format!("TENANT#{id}"),
        sk: TENANT_SK.to_owned(),
    }
}

/// The guard item that makes a name key unique.
pub fn tenant_name(name_key: &str) -> Key {
    Key {
        pk: format!("TENANTNAME#{name_key}"),
        sk: TENANT_NAME_SK.to_owned(),
    }
}

/// Live tenants (active and inactive) and retired ones are listed from
/// separate partitions, so the default list never reads retired items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListBucket {
    Live,
    Retired,
}

impl ListBucket {
    pub fn of(status: Status) -> Self {
        match status {
            Status::Retired => Self::Retired,
            Status::Active | Status::Inactive => Self::Live,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Retired => "retired",
        }
    }
}

/// A list partition: bucket and shard. Shards spread one big platform's
/// list writes and reads over several partitions.
pub fn tenant_list(bucket: ListBucket, shard: u16) -> String {
    format!("TENANTS#{}#{shard}", bucket.as_str())
}

/// The shard of a tenant: a stable hash (FNV-1a) of its id. Raising the
/// shard count later keeps every item findable (lists query all shards below
/// the count); lowering it would hide the items of the dropped shards.
pub fn shard_of(id: &TenantId, shards: u16) -> u16 {
    let hash = id.as_str().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(shards.max(1))) as u16
}

/// Sort key of the by-creation index: time, then id, so it is unique.
pub fn created_sort(created_at: Timestamp, id: &TenantId) -> String {
    format!("{created_at}#{id}")
}

/// The tenant id inside a tenant's `PK`.
pub fn tenant_id_of(pk: &str) -> Option<&str> {
    pk.strip_prefix("TENANT#")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats() {
        let id = TenantId::parse("acme").unwrap();
        assert_eq!(
            tenant(&id),
            Key {
                pk: "TENANT#acme".into(),
                sk: "TENANT".into()
            }
        );
        assert_eq!(tenant_name("acme corp").pk, "TENANTNAME#acme corp");
        assert_eq!(tenant_list(ListBucket::Retired, 3), "TENANTS#retired#3");
        assert_eq!(shard_of(&id, 1), 0);
    }

    proptest! {
        #[test]
        fn tenant_key_round_trips(id in "[a-z0-9][a-z0-9-]{1,62}") {
            let id = TenantId::parse(&id).unwrap();
            let key = tenant(&id);
            prop_assert_eq!(tenant_id_of(&key.pk), Some(id.as_str()));
        }

        #[test]
        fn shards_are_in_range_and_stable(id in "[a-z0-9][a-z0-9-]{1,62}", shards in 1u16..64) {
            let id = TenantId::parse(&id).unwrap();
            let s = shard_of(&id, shards);
            prop_assert!(s < shards);
            prop_assert_eq!(s, shard_of(&id, shards));
        }
    }
}
