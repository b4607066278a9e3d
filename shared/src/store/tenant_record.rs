//! The stored tenant: the attributes of its item, as deployed tables hold
//! them (and the tests read), kept apart from the model ([`Tenant`]) and
//! from the API's view of it, so storage can change without touching
//! either. [`records::tenant_item`](super::records::tenant_item) adds the
//! item's key and index attributes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::entity::EntityType;
use crate::domain::tenant::{AddressInformation, ContactInformation, Environment, Settings, Status, TenantType};
use crate::domain::{DomainName, EmailAddress, Tag, Tenant, TenantId, TenantName, Timestamp};
use crate::error::Error;

/// The `entityType` of a tenant item.
const ENTITY_TYPE: &str = EntityType::Tenant.as_str();

/// A tenant item's own attributes. Attributes added after the first
/// release default when an older item lacks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantRecord {
    /// Always `tenant`.
    entity_type: String,
    id: TenantId,
    name: TenantName,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(rename = "type")]
    tenant_type: TenantType,
    environment: Environment,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<TenantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_name: Option<String>,
    path: Vec<TenantId>,
    depth: u32,
    /// Kept up by the store as children come and go.
    #[serde(default)]
    child_count: u32,
    /// Kept up by the store as subtenants come and go.
    #[serde(default)]
    subtenant_count: u32,
    #[serde(default)]
    identity_provider_ids: Vec<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    business_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_domain: Option<DomainName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    support_email: Option<EmailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_information: Option<ContactInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_information: Option<AddressInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller_id: Option<String>,
    #[serde(default)]
    external_ids: BTreeMap<String, String>,
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    created_at: Timestamp,
    created_by: String,
    updated_at: Timestamp,
    updated_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retired_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retired_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retire_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purge_started_at: Option<Timestamp>,
    /// 0 (nothing deployed yet) is not written.
    #[serde(default, skip_serializing_if = "is_zero")]
    configuration_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    configuration_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cloned_from: Option<TenantId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clone_job_id: Option<String>,
    version: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<&Tenant> for TenantRecord {
    fn from(tenant: &Tenant) -> Self {
        let Tenant {
            id,
            name,
            description,
            tenant_type,
            environment,
            status,
            parent_id,
            parent_name,
            path,
            depth,
            child_count,
            subtenant_count,
            identity_provider_ids,
            tags,
            business_account,
            default_domain,
            support_email,
            contact_information,
            address_information,
            reseller_id,
            external_ids,
            settings,
            metadata,
            created_at,
            created_by,
            updated_at,
            updated_by,
            retired_at,
            retired_by,
            retire_reason,
            purge_started_at,
            configuration_version,
            configuration_sha256,
            cloned_from,
            clone_job_id,
            version,
        } = tenant.clone();
        Self {
            entity_type: ENTITY_TYPE.to_owned(),
            id,
            name,
            description,
            tenant_type,
            environment,
            status,
            parent_id,
            parent_name,
            path,
            depth,
            child_count,
            subtenant_count,
            identity_provider_ids,
            tags,
            business_account,
            default_domain,
            support_email,
            contact_information,
            address_information,
            reseller_id,
            external_ids,
            settings,
            metadata,
            created_at,
            created_by,
            updated_at,
            updated_by,
            retired_at,
            retired_by,
            retire_reason,
            purge_started_at,
            configuration_version,
            configuration_sha256,
            cloned_from,
            clone_job_id,
            version,
        }
    }
}

impl TryFrom<TenantRecord> for Tenant {
    type Error = Error;

    /// The tenant an item holds; an item of another entity is refused.
    fn try_from(record: TenantRecord) -> Result<Self, Error> {
        let TenantRecord {
            entity_type,
            id,
            name,
            description,
            tenant_type,
            environment,
            status,
            parent_id,
            parent_name,
            path,
            depth,
            child_count,
            subtenant_count,
            identity_provider_ids,
            tags,
            business_account,
            default_domain,
            support_email,
            contact_information,
            address_information,
            reseller_id,
            external_ids,
            settings,
            metadata,
            created_at,
            created_by,
            updated_at,
            updated_by,
            retired_at,
            retired_by,
            retire_reason,
            purge_started_at,
            configuration_version,
            configuration_sha256,
            cloned_from,
            clone_job_id,
            version,
        } = record;
        if entity_type != ENTITY_TYPE {
            return Err(Error::internal(format!(
                "item of tenant '{id}' is a {entity_type:?}, not a tenant"
            )));
        }
        Ok(Self {
            id,
            name,
            description,
            tenant_type,
            environment,
            status,
            parent_id,
            parent_name,
            path,
            depth,
            child_count,
            subtenant_count,
            identity_provider_ids,
            tags,
            business_account,
            default_domain,
            support_email,
            contact_information,
            address_information,
            reseller_id,
            external_ids,
            settings,
            metadata,
            created_at,
            created_by,
            updated_at,
            updated_by,
            retired_at,
            retired_by,
            retire_reason,
            purge_started_at,
            configuration_version,
            configuration_sha256,
            cloned_from,
            clone_job_id,
            version,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_dynamodb::types::AttributeValue;
    use serde_json::{json, Value};

    use crate::domain::tenant::{with_every_field, InputMode, Stamp};
    use crate::domain::{Tenant, TenantId, TenantInput, Timestamp};
    use crate::store::records::{tenant_from_item, tenant_item, Item};

    /// An attribute as DynamoDB's JSON writes it.
    pub(crate) fn dynamo_json(value: &AttributeValue) -> Value {
        match value {
            AttributeValue::S(s) => json!({ "S": s }),
            AttributeValue::N(n) => json!({ "N": n }),
            AttributeValue::Bool(b) => json!({ "BOOL": b }),
            AttributeValue::L(l) => json!({ "L": l.iter().map(dynamo_json).collect::<Vec<_>>() }),
            AttributeValue::M(m) => json!({ "M": item_json(m) }),
            other => panic!("a tenant item holds no {other:?}"),
        }
    }

    pub(crate) fn item_json(item: &Item) -> Value {
        let sorted: BTreeMap<&String, Value> = item.iter().map(|(k, v)| (k, dynamo_json(v))).collect();
        json!(sorted)
    }

    /// An item as written in DynamoDB's JSON.
    pub(crate) fn expected(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn new_tenant() -> Tenant {
        let input = TenantInput::parse(json!({"name": "a"}).as_object().unwrap(), InputMode::Create).unwrap();
        let change = Stamp {
            actor: "alice".into(),
            at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        };
        Tenant::create(input, TenantId::parse("ab").unwrap(), &change)
    }

    #[test]
    fn a_tenant_item_holds_every_field_as_deployed_tables_do() {
        let tenant = with_every_field();
        let item = tenant_item(&tenant, 4).unwrap();
        assert_eq!(
            item_json(&item),
            expected(
                r#"{
                "GSI1PK": {"S": "TENANTS#retired#0"},
                "GSI1SK": {"S": "acme eu"},
                "GSI2PK": {"S": "TENANTS#retired#0"},
                "GSI2SK": {"S": "2026-01-01T00:00:00.000Z#acme-eu"},
                "GSI3PK": {"S": "CHILDREN#acme#retired"},
                "GSI3SK": {"S": "acme eu"},
                "GSI4PK": {"S": "RESELLER#r-1#retired"},
                "GSI4SK": {"S": "acme eu"},
                "GSI5PK": {"S": "TREE#acme"},
                "GSI5SK": {"S": "acme/acme-eu"},
                "GSI6PK": {"S": "RETIRED"},
                "GSI6SK": {"S": "2026-01-02T03:04:05.678Z#acme-eu"},
                "PK": {"S": "TENANT#acme-eu"},
                "SK": {"S": "TENANT"},
                "addressInformation": {"M": {"addressLine1": {"S": "1 Main St"}, "addressLine2": {"S": "Floor 2"}, "city": {"S": "Brussels"}, "country": {"S": "BE"}, "stateOrProvince": {"S": "Brussels-Capital"}, "zipOrPostalCode": {"S": "1000"}}},
                "businessAccount": {"S": "BA-1"},
                "childCount": {"N": "2"},
                "cloneJobId": {"S": "job-1"},
                "clonedFrom": {"S": "acme-us"},
                "configurationSha256": {"S": "abababababababababababababababababababababababababababababababab"},
                "configurationVersion": {"N": "4"},
                "contactInformation": {"M": {"email": {"S": "ann@acme.example"}, "name": {"S": "Ann"}, "phoneNumber": {"S": "+32 2 555 01 01"}}},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                "createdBy": {"S": "alice"},
                "defaultDomain": {"S": "acme.example"},
                "depth": {"N": "1"},
                "description": {"S": "first customer"},
                "entityType": {"S": "tenant"},
                "environment": {"S": "test"},
                "externalIds": {"M": {"1": {"S": "x"}, "crm": {"S": "42"}}},
                "id": {"S": "acme-eu"},
                "identityProviderIds": {"L": [{"S": "okta"}, {"S": "saml-1"}]},
                "metadata": {"M": {"k": {"S": "v"}}},
                "name": {"S": "Acme EU"},
                "nameKey": {"S": "acme eu"},
                "parentId": {"S": "acme"},
                "parentName": {"S": "Acme"},
                "path": {"L": [{"S": "acme"}, {"S": "acme-eu"}]},
                "purgeStartedAt": {"S": "2026-02-03T00:00:00.000Z"},
                "resellerId": {"S": "r-1"},
                "retireReason": {"S": "churned"},
                "retiredAt": {"S": "2026-01-02T03:04:05.678Z"},
                "retiredBy": {"S": "bob"},
                "settings": {"M": {"useCustomRoutingProfile": {"BOOL": true}, "useTenantLanguages": {"BOOL": true}}},
                "status": {"S": "retired"},
                "subtenantCount": {"N": "3"},
                "supportEmail": {"S": "help@acme.example"},
                "tags": {"L": [{"S": "gold"}, {"S": "eu"}]},
                "type": {"S": "ServiceProvider"},
                "updatedAt": {"S": "2026-01-02T03:04:05.678Z"},
                "updatedBy": {"S": "bob"},
                "version": {"N": "7"}
            }"#
            )
        );
        assert_eq!(tenant_from_item(item).unwrap(), tenant);
    }

    #[test]
    fn a_new_tenant_item_leaves_out_its_absent_fields() {
        let tenant = new_tenant();
        let item = tenant_item(&tenant, 4).unwrap();
        assert_eq!(
            item_json(&item),
            expected(
                r#"{
                "GSI1PK": {"S": "TENANTS#live#2"},
                "GSI1SK": {"S": "a"},
                "GSI2PK": {"S": "TENANTS#live#2"},
                "GSI2SK": {"S": "2026-01-01T00:00:00.000Z#ab"},
                "GSI5PK": {"S": "TREE#ab"},
                "GSI5SK": {"S": "ab"},
                "PK": {"S": "TENANT#ab"},
                "SK": {"S": "TENANT"},
                "childCount": {"N": "0"},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                "createdBy": {"S": "alice"},
                "depth": {"N": "0"},
                "entityType": {"S": "tenant"},
                "environment": {"S": "production"},
                "externalIds": {"M": {}},
                "id": {"S": "ab"},
                "identityProviderIds": {"L": []},
                "metadata": {"M": {}},
                "name": {"S": "a"},
                "nameKey": {"S": "a"},
                "path": {"L": [{"S": "ab"}]},
                "settings": {"M": {"useCustomRoutingProfile": {"BOOL": false}, "useTenantLanguages": {"BOOL": false}}},
                "status": {"S": "active"},
                "subtenantCount": {"N": "0"},
                "tags": {"L": []},
                "type": {"S": "Enterprise"},
                "updatedAt": {"S": "2026-01-01T00:00:00.000Z"},
                "updatedBy": {"S": "alice"},
                "version": {"N": "1"}
            }"#
            )
        );
        assert_eq!(tenant_from_item(item).unwrap(), tenant);
    }

    #[test]
    fn an_item_written_before_the_later_fields_reads_with_their_defaults() {
        let tenant = new_tenant();
        let mut item = tenant_item(&tenant, 4).unwrap();
        for later in [
            "childCount",
            "subtenantCount",
            "identityProviderIds",
            "tags",
            "externalIds",
            "settings",
            "metadata",
        ] {
            item.remove(later);
        }
        assert_eq!(tenant_from_item(item).unwrap(), tenant);
    }
}
