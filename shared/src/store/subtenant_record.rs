//! The stored subtenant: the attributes of its item, as deployed tables
//! hold them, kept apart from the model ([`Subtenant`]) and from the API's
//! view of it. [`records::subtenant_item`](super::records::subtenant_item)
//! adds the item's key and index attributes.

use serde::{Deserialize, Serialize};

use super::entity::EntityType;
use crate::domain::subtenant::Subtenant;
use crate::domain::{SubtenantCode, TenantId, TenantName, Timestamp};
use crate::error::Error;

/// The `entityType` of a subtenant item.
const ENTITY_TYPE: &str = EntityType::Subtenant.as_str();

/// A subtenant item's own attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubtenantRecord {
    /// Always `subtenant`.
    entity_type: String,
    id: String,
    tenant_id: TenantId,
    name: TenantName,
    code: SubtenantCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller_id: Option<String>,
    created_at: Timestamp,
    created_by: String,
    updated_at: Timestamp,
    updated_by: String,
    version: u64,
}

impl From<&Subtenant> for SubtenantRecord {
    fn from(subtenant: &Subtenant) -> Self {
        let Subtenant {
            id,
            tenant_id,
            name,
            code,
            description,
            reseller_id,
            created_at,
            created_by,
            updated_at,
            updated_by,
            version,
        } = subtenant.clone();
        Self {
            entity_type: ENTITY_TYPE.to_owned(),
            id,
            tenant_id,
            name,
            code,
            description,
            reseller_id,
            created_at,
            created_by,
            updated_at,
            updated_by,
            version,
        }
    }
}

impl TryFrom<SubtenantRecord> for Subtenant {
    type Error = Error;

    /// The subtenant an item holds; an item of another entity is refused.
    fn try_from(record: SubtenantRecord) -> Result<Self, Error> {
        let SubtenantRecord {
            entity_type,
            id,
            tenant_id,
            name,
            code,
            description,
            reseller_id,
            created_at,
            created_by,
            updated_at,
            updated_by,
            version,
        } = record;
        if entity_type != ENTITY_TYPE {
            return Err(Error::internal(format!(
                "item of subtenant '{id}' is a {entity_type:?}, not a subtenant"
            )));
        }
        Ok(Self {
            id,
            tenant_id,
            name,
            code,
            description,
            reseller_id,
            created_at,
            created_by,
            updated_at,
            updated_by,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::subtenant::{with_every_field, Subtenant};
    use crate::store::records::{subtenant_from_item, subtenant_item};
    use crate::store::tenant_record::tests::{expected, item_json};

    #[test]
    fn a_subtenant_item_holds_every_field_as_deployed_tables_do() {
        let subtenant = with_every_field();
        let item = subtenant_item(&subtenant).unwrap();
        assert_eq!(
            item_json(&item),
            expected(
                r#"{
                "GSI1PK": {"S": "SUBTENANTS#acme"},
                "GSI1SK": {"S": "sales eu\u00010190a0e4-5b7c-7d2e-8f00-000000000001"},
                "GSI2PK": {"S": "SUBTENANTS#acme"},
                "GSI2SK": {"S": "sales-eu"},
                "GSI4PK": {"S": "SUBTENANTS"},
                "GSI4SK": {"S": "2026-01-01T00:00:00.000Z#0190a0e4-5b7c-7d2e-8f00-000000000001"},
                "PK": {"S": "TENANT#acme"},
                "SK": {"S": "SUBTENANT#0190a0e4-5b7c-7d2e-8f00-000000000001"},
                "code": {"S": "sales-eu"},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                "createdBy": {"S": "alice"},
                "description": {"S": "the sales team"},
                "entityType": {"S": "subtenant"},
                "id": {"S": "0190a0e4-5b7c-7d2e-8f00-000000000001"},
                "name": {"S": "Sales EU"},
                "resellerId": {"S": "r-1"},
                "tenantId": {"S": "acme"},
                "updatedAt": {"S": "2026-01-02T03:04:05.678Z"},
                "updatedBy": {"S": "bob"},
                "version": {"N": "3"}
            }"#
            )
        );
        assert_eq!(subtenant_from_item(item).unwrap(), subtenant);
    }

    #[test]
    fn a_subtenant_item_leaves_out_its_absent_fields() {
        let subtenant = Subtenant {
            description: None,
            reseller_id: None,
            ..with_every_field()
        };
        let item = subtenant_item(&subtenant).unwrap();
        assert_eq!(
            item_json(&item),
            expected(
                r#"{
                "GSI1PK": {"S": "SUBTENANTS#acme"},
                "GSI1SK": {"S": "sales eu\u00010190a0e4-5b7c-7d2e-8f00-000000000001"},
                "GSI2PK": {"S": "SUBTENANTS#acme"},
                "GSI2SK": {"S": "sales-eu"},
                "GSI4PK": {"S": "SUBTENANTS"},
                "GSI4SK": {"S": "2026-01-01T00:00:00.000Z#0190a0e4-5b7c-7d2e-8f00-000000000001"},
                "PK": {"S": "TENANT#acme"},
                "SK": {"S": "SUBTENANT#0190a0e4-5b7c-7d2e-8f00-000000000001"},
                "code": {"S": "sales-eu"},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                "createdBy": {"S": "alice"},
                "entityType": {"S": "subtenant"},
                "id": {"S": "0190a0e4-5b7c-7d2e-8f00-000000000001"},
                "name": {"S": "Sales EU"},
                "tenantId": {"S": "acme"},
                "updatedAt": {"S": "2026-01-02T03:04:05.678Z"},
                "updatedBy": {"S": "bob"},
                "version": {"N": "3"}
            }"#
            )
        );
        assert_eq!(subtenant_from_item(item).unwrap(), subtenant);
    }
}
