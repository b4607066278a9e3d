//! The tenant as the API shows it: the JSON of every answer that carries a
//! tenant, and of the tenant in change events and in the audit history
//! (whose `changes` compare these fields). Serialise-only: input is read by
//! [`super::parse`], and the table keeps its own record of a tenant (the
//! store's `TenantRecord`).
//!
//! It lives in the domain, not at the HTTP edge, because the domain's change
//! events and audit history carry this same shape; the OpenAPI document,
//! the feed's subscribers and the tests all read it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{AddressInformation, ContactInformation, Environment, Settings, Status, Tenant, TenantType};
use crate::domain::values::{DomainName, EmailAddress, Tag, TenantId, TenantName};
use crate::domain::Timestamp;

/// A tenant as answered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantView<'a> {
    id: &'a TenantId,
    name: &'a TenantName,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a String>,
    #[serde(rename = "type")]
    tenant_type: TenantType,
    environment: Environment,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a TenantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_name: Option<&'a String>,
    path: &'a [TenantId],
    depth: u32,
    child_count: u32,
    subtenant_count: u32,
    identity_provider_ids: &'a [String],
    tags: &'a [Tag],
    #[serde(skip_serializing_if = "Option::is_none")]
    business_account: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_domain: Option<&'a DomainName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    support_email: Option<&'a EmailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_information: Option<&'a ContactInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_information: Option<&'a AddressInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller_id: Option<&'a String>,
    external_ids: &'a BTreeMap<String, String>,
    settings: Settings,
    metadata: &'a BTreeMap<String, String>,
    created_at: Timestamp,
    created_by: &'a str,
    updated_at: Timestamp,
    updated_by: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retired_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retired_by: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retire_reason: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purge_started_at: Option<Timestamp>,
    /// 0 (no configuration deployed yet) is left out.
    #[serde(skip_serializing_if = "is_zero")]
    configuration_version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration_sha256: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloned_from: Option<&'a TenantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clone_job_id: Option<&'a String>,
    version: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl TenantView<'_> {
    /// Every field of the view, in its order (a test holds this list to the
    /// view): what the input's writable fields are taken from to find the
    /// fields the server owns.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "type",
        "environment",
        "status",
        "parentId",
        "parentName",
        "path",
        "depth",
        "childCount",
        "subtenantCount",
        "identityProviderIds",
        "tags",
        "businessAccount",
        "defaultDomain",
        "supportEmail",
        "contactInformation",
        "addressInformation",
        "resellerId",
        "externalIds",
        "settings",
        "metadata",
        "createdAt",
        "createdBy",
        "updatedAt",
        "updatedBy",
        "retiredAt",
        "retiredBy",
        "retireReason",
        "purgeStartedAt",
        "configurationVersion",
        "configurationSha256",
        "clonedFrom",
        "cloneJobId",
        "version",
    ];
}

impl<'a> From<&'a Tenant> for TenantView<'a> {
    fn from(tenant: &'a Tenant) -> Self {
        Self {
            id: &tenant.id,
            name: &tenant.name,
            description: tenant.description.as_ref(),
            tenant_type: tenant.tenant_type,
            environment: tenant.environment,
            status: tenant.status,
            parent_id: tenant.parent_id.as_ref(),
            parent_name: tenant.parent_name.as_ref(),
            path: &tenant.path,
            depth: tenant.depth,
            child_count: tenant.child_count,
            subtenant_count: tenant.subtenant_count,
            identity_provider_ids: &tenant.identity_provider_ids,
            tags: &tenant.tags,
            business_account: tenant.business_account.as_ref(),
            default_domain: tenant.default_domain.as_ref(),
            support_email: tenant.support_email.as_ref(),
            contact_information: tenant.contact_information.as_ref(),
            address_information: tenant.address_information.as_ref(),
            reseller_id: tenant.reseller_id.as_ref(),
            external_ids: &tenant.external_ids,
            settings: tenant.settings,
            metadata: &tenant.metadata,
            created_at: tenant.created_at,
            created_by: &tenant.created_by,
            updated_at: tenant.updated_at,
            updated_by: &tenant.updated_by,
            retired_at: tenant.retired_at,
            retired_by: tenant.retired_by.as_ref(),
            retire_reason: tenant.retire_reason.as_ref(),
            purge_started_at: tenant.purge_started_at,
            configuration_version: tenant.configuration_version,
            configuration_sha256: tenant.configuration_sha256.as_ref(),
            cloned_from: tenant.cloned_from.as_ref(),
            clone_job_id: tenant.clone_job_id.as_ref(),
            version: tenant.version,
        }
    }
}

impl Tenant {
    /// The tenant as the API shows it.
    pub fn view(&self) -> TenantView<'_> {
        TenantView::from(self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::field_names::field_names;
    use crate::domain::tenant::{with_every_field, InputMode, Stamp, TenantInput};

    #[test]
    fn its_fields_are_the_ones_it_serialises_in_order() {
        assert_eq!(field_names(&with_every_field().view()), TenantView::FIELDS);
    }

    /// The API's JSON of a tenant: field names, order and omissions.
    fn rendered(tenant: &Tenant) -> String {
        serde_json::to_string(&tenant.view()).unwrap()
    }

    #[test]
    fn a_tenant_renders_every_field_in_order() {
        assert_eq!(
            rendered(&with_every_field()),
            concat!(
                r#"{"id":"acme-eu","name":"Acme EU","description":"first customer","type":"ServiceProvider","#,
                r#""environment":"test","status":"retired","parentId":"acme","parentName":"Acme","#,
                r#""path":["acme","acme-eu"],"depth":1,"childCount":2,"subtenantCount":3,"#,
                r#""identityProviderIds":["okta","saml-1"],"tags":["gold","eu"],"businessAccount":"BA-1","#,
                r#""defaultDomain":"acme.example","supportEmail":"help@acme.example","#,
                r#""contactInformation":{"name":"Ann","email":"ann@acme.example","#,
                r#""phoneNumber":"+32 2 555 01 01"},"addressInformation":{"addressLine1":"1 Main St","#,
                r#""addressLine2":"Floor 2","city":"Brussels","stateOrProvince":"Brussels-Capital","#,
                r#""zipOrPostalCode":"1000","country":"BE"},"resellerId":"r-1","externalIds":{"1":"x","#,
                r#""crm":"42"},"settings":{"useTenantLanguages":true,"useCustomRoutingProfile":true},"#,
                r#""metadata":{"k":"v"},"createdAt":"2026-01-01T00:00:00.000Z","createdBy":"alice","#,
                r#""updatedAt":"2026-01-02T03:04:05.678Z","updatedBy":"bob","#,
                r#""retiredAt":"2026-01-02T03:04:05.678Z","retiredBy":"bob","retireReason":"churned","#,
                r#""purgeStartedAt":"2026-02-03T00:00:00.000Z","configurationVersion":4,"#,
                r#""configurationSha256":"abababababababababababababababababababababababababababababababab","#,
                r#""clonedFrom":"acme-us","cloneJobId":"job-1","version":7}"#
            )
        );
    }

    #[test]
    fn a_new_tenant_renders_without_its_absent_fields() {
        let input = TenantInput::parse(json!({"name": "a"}).as_object().unwrap(), InputMode::Create).unwrap();
        let change = Stamp {
            actor: "alice".into(),
            at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        };
        let tenant = Tenant::create(input, TenantId::parse("ab").unwrap(), &change);
        assert_eq!(
            rendered(&tenant),
            concat!(
                r#"{"id":"ab","name":"a","type":"Enterprise","environment":"production","status":"active","#,
                r#""path":["ab"],"depth":0,"childCount":0,"subtenantCount":0,"identityProviderIds":[],"#,
                r#""tags":[],"externalIds":{},"settings":{"useTenantLanguages":false,"#,
                r#""useCustomRoutingProfile":false},"metadata":{},"createdAt":"2026-01-01T00:00:00.000Z","#,
                r#""createdBy":"alice","updatedAt":"2026-01-01T00:00:00.000Z","updatedBy":"alice","#,
                r#""version":1}"#
            )
        );
    }
}
