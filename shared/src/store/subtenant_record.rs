//! The stored subtenant: the format of its item, as deployed tables hold it.

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
