//! The tenant: its fields, how input becomes one (`parse`), its lifecycle
//! moves (`lifecycle`), and how the API shows it (`view`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::input::{self, reject, Parsed};
use super::values::{DomainName, EmailAddress, Tag, TenantId, TenantName};
use super::Timestamp;
use crate::{Code, Error, FieldError};

mod lifecycle;
mod parse;
mod view;

pub use parse::{parse_restore_reason, parse_retire_reason, server_owned, InputMode, Placement, TenantInput, WRITABLE};
pub use view::TenantView;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TenantType {
    Enterprise,
    ServiceProvider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Inactive,
    Retired,
    /// A clone's new tenant until its job succeeds: readable by id, in no
    /// list, and not changeable.
    Provisioning,
}

/// Parses one of a fixed set of names into a value, listing the choices on
/// failure: the one rule for a body's field and a query's parameter alike.
pub fn one_of<T: Copy>(raw: &str, choices: &[(&str, T)]) -> Result<T, String> {
    match choices.iter().find(|(name, _)| *name == raw) {
        Some((_, v)) => Ok(*v),
        None => {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            Err(format!("must be one of: {}", names.join(", ")))
        }
    }
}

/// [`one_of`] for a JSON value, which must be a string.
fn one_of_value<T: Copy>(value: &Value, choices: &[(&str, T)]) -> Parsed<T> {
    one_of(input::as_str(value)?, choices).or_else(reject)
}

impl TenantType {
    pub const CHOICES: &'static [(&'static str, Self)] = &[
        ("Enterprise", Self::Enterprise),
        ("ServiceProvider", Self::ServiceProvider),
    ];
}

impl Environment {
    pub const CHOICES: &'static [(&'static str, Self)] = &[("production", Self::Production), ("test", Self::Test)];
}

impl Status {
    pub const CHOICES: &'static [(&'static str, Self)] = &[
        ("active", Self::Active),
        ("inactive", Self::Inactive),
        ("retired", Self::Retired),
    ];
    /// What an update may set; `retired` has its own route.
    pub const SETTABLE: &'static [(&'static str, Self)] = &[("active", Self::Active), ("inactive", Self::Inactive)];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Retired => "retired",
            Self::Provisioning => "provisioning",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::CHOICES.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }
}

/// Who to talk to at the tenant (Netaxis APIO's contact block).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactInformation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// The tenant's postal address (Netaxis APIO's address block).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressInformation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_or_province: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip_or_postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// Tenant flags (Netaxis APIO). `useCustomRoutingProfile` is for
/// ServiceProvider tenants only and is fixed at create.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub use_tenant_languages: bool,
    pub use_custom_routing_profile: bool,
}

/// A tenant: the model the rules work on. The API shows it as a
/// [`TenantView`]; the table keeps it as the store's `TenantRecord`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    pub description: Option<String>,
    pub tenant_type: TenantType,
    pub environment: Environment,
    pub status: Status,
    pub parent_id: Option<TenantId>,
    pub parent_name: Option<String>,
    /// Ids from the root down to and including this tenant.
    pub path: Vec<TenantId>,
    /// 0 for a top-level tenant.
    pub depth: u32,
    /// Direct children (of any status).
    pub child_count: u32,
    /// Subtenants (the tenant's groups).
    pub subtenant_count: u32,
    /// The identity providers authorised for the tenant.
    pub identity_provider_ids: Vec<String>,
    pub tags: Vec<Tag>,
    pub business_account: Option<String>,
    pub default_domain: Option<DomainName>,
    pub support_email: Option<EmailAddress>,
    pub contact_information: Option<ContactInformation>,
    pub address_information: Option<AddressInformation>,
    pub reseller_id: Option<String>,
    pub external_ids: BTreeMap<String, String>,
    pub settings: Settings,
    pub metadata: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
    pub retired_at: Option<Timestamp>,
    pub retired_by: Option<String>,
    pub retire_reason: Option<String>,
    /// Set when the clean-up starts purging the tenant: from then on it can
    /// no longer be restored.
    pub purge_started_at: Option<Timestamp>,
    /// The latest deployed configuration version (0: none yet).
    pub configuration_version: u64,
    /// Its SHA-256: a deploy of the same bytes changes nothing.
    pub configuration_sha256: Option<String>,
    /// The tenant a clone copied (set on the clone's new tenant).
    pub cloned_from: Option<TenantId>,
    /// The clone job that made this tenant.
    pub clone_job_id: Option<String>,
    pub version: u64,
}

/// Limits of the profile fields, in one place for docs and messages.
pub mod limits {
    pub const DESCRIPTION: usize = 1024;
    pub const TAGS: usize = 50;
    pub const EXTERNAL_IDS: usize = 8;
    pub const EXTERNAL_ID_KEY: usize = 32;
    pub const EXTERNAL_ID_VALUE: usize = 256;
    pub const METADATA_KEYS: usize = 50;
    pub const METADATA_KEY: usize = 128;
    pub const METADATA_VALUE: usize = 1024;
    pub const SHORT_TEXT: usize = 128;
    pub const ADDRESS_LINE: usize = 256;
    pub const RETIRE_REASON: usize = 512;
    /// The deepest a tenant may sit: depth 0 to 9, ten levels in all.
    pub const MAX_DEPTH: u32 = 9;
}

/// Who changed something, and when.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub actor: String,
    pub at: Timestamp,
}

impl Tenant {
    /// A new top-level tenant from validated input (see [`Tenant::placed`]
    /// for one with a parent).
    pub fn create(input: TenantInput, id: TenantId, change: &Stamp) -> Self {
        let tenant_type = input.tenant_type.unwrap_or(TenantType::Enterprise);
        Self {
            path: vec![id.clone()],
            child_count: 0,
            subtenant_count: 0,
            identity_provider_ids: Vec::new(),
            id,
            name: input.name.clone(),
            description: None,
            tenant_type,
            environment: Environment::Production,
            status: Status::Active,
            parent_id: None,
            parent_name: None,
            depth: 0,
            tags: Vec::new(),
            business_account: None,
            default_domain: None,
            support_email: None,
            contact_information: None,
            address_information: None,
            reseller_id: None,
            external_ids: BTreeMap::new(),
            settings: Settings {
                use_tenant_languages: false,
                use_custom_routing_profile: input.use_custom_routing_profile.unwrap_or(false),
            },
            metadata: BTreeMap::new(),
            created_at: change.at,
            created_by: change.actor.clone(),
            updated_at: change.at,
            updated_by: change.actor.clone(),
            retired_at: None,
            retired_by: None,
            retire_reason: None,
            purge_started_at: None,
            configuration_version: 0,
            configuration_sha256: None,
            cloned_from: None,
            clone_job_id: None,
            version: 1,
        }
        .with_profile(input)
    }

    /// The tenant with the fields of `input` that PUT replaces; `status` and
    /// `environment` keep their value when `input` omits them.
    fn with_profile(self, input: TenantInput) -> Self {
        Self {
            name: input.name,
            description: input.description,
            environment: input.environment.unwrap_or(self.environment),
            status: input.status.unwrap_or(self.status),
            tags: input.tags,
            business_account: input.business_account,
            default_domain: input.default_domain,
            support_email: input.support_email,
            contact_information: input.contact_information,
            address_information: input.address_information,
            reseller_id: input.reseller_id,
            external_ids: input.external_ids,
            settings: Settings {
                use_tenant_languages: input.use_tenant_languages,
                ..self.settings
            },
            metadata: input.metadata,
            ..self
        }
    }

    /// The tenant with its writable fields replaced by `input` (PUT
    /// semantics: omitted optional fields are cleared; `status` and
    /// `environment` keep their value when omitted).
    pub fn replaced(&self, input: TenantInput, change: &Stamp) -> Result<Self, Error> {
        self.ensure_changeable()?;
        let mut errors = Vec::new();
        if input.tenant_type.is_some_and(|t| t != self.tenant_type) {
            errors.push(FieldError::new("type", "is set at create only and cannot be changed"));
        }
        if input
            .use_custom_routing_profile
            .is_some_and(|v| v != self.settings.use_custom_routing_profile)
        {
            errors.push(FieldError::new(
                "settings.useCustomRoutingProfile",
                "is set at create only and cannot be changed",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(self.touched(change).with_profile(input))
    }

    /// The tenant placed under `parent` (or at the top): parent fields, path
    /// and depth follow. The caller checks cycles and the depth limit.
    pub fn placed(&self, parent: Option<&Tenant>) -> Self {
        let mut path = parent.map(|p| p.path.clone()).unwrap_or_default();
        path.push(self.id.clone());
        Self {
            parent_id: parent.map(|p| p.id.clone()),
            parent_name: parent.map(|p| p.name.to_string()),
            depth: parent.map_or(0, |p| p.depth + 1),
            path,
            ..self.clone()
        }
    }

    /// The id path as one string, `root/child/grandchild`: the subtree index
    /// sorts by it, so a subtree is one prefix.
    pub fn path_string(&self) -> String {
        join_path_ids(&self.path)
    }

    /// A retired tenant is frozen until it is restored.
    pub fn ensure_changeable(&self) -> Result<(), Error> {
        match self.status {
            Status::Retired => Err(Error::Conflict(
                Code::TenantRetired,
                format!("tenant '{}' is retired; restore it before changing it", self.id),
            )),
            Status::Provisioning => Err(Error::Conflict(
                Code::TenantProvisioning,
                format!(
                    "tenant '{}' is being provisioned by clone job '{}'; it can be changed once the job has succeeded",
                    self.id,
                    self.clone_job_id.as_deref().unwrap_or_default()
                ),
            )),
            Status::Active | Status::Inactive => Ok(()),
        }
    }

    /// The tenant with identity provider `id` authorised (`true`) or no
    /// longer (`false`); `identityProviderIds` stays sorted.
    pub fn with_identity_provider(&self, id: &str, authorised: bool, change: &Stamp) -> Result<Self, Error> {
        self.ensure_changeable()?;
        let mut next = self.touched(change);
        next.identity_provider_ids.retain(|i| i != id);
        if authorised {
            next.identity_provider_ids.push(id.to_owned());
            next.identity_provider_ids.sort();
        }
        Ok(next)
    }

    /// A copy stamped with the change and the next version.
    /// The tenant with a newly deployed configuration version.
    pub fn deployed(&self, version: u64, sha256: &str, change: &Stamp) -> Self {
        Self {
            configuration_version: version,
            configuration_sha256: Some(sha256.to_owned()),
            ..self.touched(change)
        }
    }

    /// A clone's new tenant when its job succeeds: `active`, with the copied
    /// configuration (its SHA-256) as version 1, if the source had one.
    pub fn provisioned(&self, copied: Option<&str>, change: &Stamp) -> Self {
        Self {
            status: Status::Active,
            configuration_version: u64::from(copied.is_some()),
            configuration_sha256: copied.map(str::to_owned),
            ..self.touched(change)
        }
    }

    fn touched(&self, change: &Stamp) -> Self {
        Self {
            updated_at: change.at,
            updated_by: change.actor.clone(),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// Ids joined by `/`.
pub fn join_path_ids(path: &[TenantId]) -> String {
    path.iter().map(TenantId::as_str).collect::<Vec<_>>().join("/")
}

/// A tenant with every field set (none at its default): what a test of a
/// stored or rendered tenant's format starts from.
#[cfg(test)]
pub(crate) fn with_every_field() -> Tenant {
    let at = |s| Timestamp::parse(s).unwrap();
    let id = |s| TenantId::parse(s).unwrap();
    Tenant {
        id: id("acme-eu"),
        name: TenantName::parse("Acme EU").unwrap(),
        description: Some("first customer".into()),
        tenant_type: TenantType::ServiceProvider,
        environment: Environment::Test,
        status: Status::Retired,
        parent_id: Some(id("acme")),
        parent_name: Some("Acme".into()),
        path: vec![id("acme"), id("acme-eu")],
        depth: 1,
        child_count: 2,
        subtenant_count: 3,
        identity_provider_ids: vec!["okta".into(), "saml-1".into()],
        tags: vec![Tag::parse("gold").unwrap(), Tag::parse("eu").unwrap()],
        business_account: Some("BA-1".into()),
        default_domain: Some(DomainName::parse("acme.example").unwrap()),
        support_email: Some(EmailAddress::parse("help@acme.example").unwrap()),
        contact_information: Some(ContactInformation {
            name: Some("Ann".into()),
            email: Some(EmailAddress::parse("ann@acme.example").unwrap()),
            phone_number: Some("+32 2 555 01 01".into()),
        }),
        address_information: Some(AddressInformation {
            address_line1: Some("1 Main St".into()),
            address_line2: Some("Floor 2".into()),
            city: Some("Brussels".into()),
            state_or_province: Some("Brussels-Capital".into()),
            zip_or_postal_code: Some("1000".into()),
            country: Some("BE".into()),
        }),
        reseller_id: Some("r-1".into()),
        external_ids: BTreeMap::from([("1".into(), "x".into()), ("crm".into(), "42".into())]),
        settings: Settings {
            use_tenant_languages: true,
            use_custom_routing_profile: true,
        },
        metadata: BTreeMap::from([("k".into(), "v".into())]),
        created_at: at("2026-01-01T00:00:00Z"),
        created_by: "alice".into(),
        updated_at: at("2026-01-02T03:04:05.678Z"),
        updated_by: "bob".into(),
        retired_at: Some(at("2026-01-02T03:04:05.678Z")),
        retired_by: Some("bob".into()),
        retire_reason: Some("churned".into()),
        purge_started_at: Some(at("2026-02-03T00:00:00Z")),
        configuration_version: 4,
        configuration_sha256: Some("ab".repeat(32)),
        cloned_from: Some(id("acme-us")),
        clone_job_id: Some("job-1".into()),
        version: 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn parse(body: Value, mode: InputMode) -> Result<TenantInput, Vec<FieldError>> {
        TenantInput::parse(body.as_object().unwrap(), mode)
    }

    #[test]
    fn one_of_names_a_choice_or_lists_them_all() {
        assert_eq!(one_of("test", Environment::CHOICES), Ok(Environment::Test));
        assert_eq!(
            one_of("Test", Environment::CHOICES),
            Err("must be one of: production, test".to_owned())
        );
    }

    fn change() -> Stamp {
        Stamp {
            actor: "alice".into(),
            at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn full_profile_parses() {
        let input = parse(
            json!({
                "tenantId": "acme", "name": " Acme ", "description": "first\ncustomer", "type": "ServiceProvider",
                "environment": "test", "status": "inactive", "tags": ["gold", "eu", "gold"],
                "businessAccount": "BA-1", "defaultDomain": "Acme.example", "supportEmail": "help@acme.example",
                "contactInformation": {"name": "Ann", "email": "ann@acme.example", "phoneNumber": "+32 2 555 01 01"},
                "addressInformation": {"addressLine1": "1 Main St", "city": "Brussels", "country": "BE"},
                "resellerId": "r-1", "externalIds": {"1": "x", "crm": "42"},
                "settings": {"useTenantLanguages": true, "useCustomRoutingProfile": true},
                "metadata": {"k": "v"}
            }),
            InputMode::Create,
        )
        .unwrap();
        assert_eq!(input.name.as_str(), "Acme");
        assert_eq!(input.tags.len(), 2, "duplicates are dropped");
        assert_eq!(input.default_domain.unwrap().as_str(), "acme.example");
        assert_eq!(input.use_custom_routing_profile, Some(true));
    }

    #[test]
    fn every_error_is_listed() {
        let errors = parse(
            json!({
                "name": "", "type": "Other", "status": "retired", "tags": ["ok", " bad", 3],
                "supportEmail": "nope", "contactInformation": {"email": "x", "fax": "1"},
                "externalIds": {"1": "a", "2": "", "bad key": "c"}, "settings": {"useCustomRoutingProfile": true},
                "metadata": [], "version": 3, "surprise": 1
            }),
            InputMode::Create,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "version",
                "name",
                "type",
                "status",
                "tags[1]",
                "tags[2]",
                "supportEmail",
                "contactInformation.email",
                "contactInformation.fax",
                "externalIds.2",
                "externalIds.bad key",
                "metadata",
                "settings.useCustomRoutingProfile",
                "surprise",
            ]
        );
    }

    #[test]
    fn limits_are_enforced() {
        let tags: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
        let meta: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
        let ids: Map<String, Value> = (0..9).map(|i| (format!("{i}"), json!("v"))).collect();
        let errors = parse(
            json!({"name": "x".repeat(129), "tags": tags, "metadata": meta, "externalIds": ids, "description": "d".repeat(1025)}),
            InputMode::Create,
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["name", "description", "tags", "externalIds", "metadata"]
        );
    }

    #[test]
    fn replace_refuses_create_only_fields() {
        let errors = parse(
            json!({"name": "a", "tenantId": "abc", "createdAt": "x"}),
            InputMode::Replace,
        )
        .unwrap_err();
        assert_eq!(fields(&errors), ["tenantId", "createdAt"]);
        let tenant = Tenant::create(
            parse(json!({"name": "a"}), InputMode::Create).unwrap(),
            TenantId::parse("ab").unwrap(),
            &change(),
        );
        let input = parse(json!({"name": "b", "type": "ServiceProvider"}), InputMode::Replace).unwrap();
        assert!(matches!(tenant.replaced(input, &change()), Err(Error::Invalid(e)) if e[0].field == "type"));
    }

    #[test]
    fn replace_clears_omitted_fields_but_keeps_status_and_environment() {
        let created = parse(
            json!({"name": "a", "environment": "test", "status": "inactive", "tags": ["x"]}),
            InputMode::Create,
        )
        .unwrap();
        let tenant = Tenant::create(created, TenantId::parse("ab").unwrap(), &change());
        let replaced = tenant
            .replaced(parse(json!({"name": "b"}), InputMode::Replace).unwrap(), &change())
            .unwrap();
        assert_eq!(
            (replaced.environment, replaced.status),
            (Environment::Test, Status::Inactive)
        );
        assert!(replaced.tags.is_empty());
        assert_eq!(replaced.version, 2);
    }

    #[test]
    fn writable_document_round_trips_through_replace() {
        let created = parse(json!({"name": "a", "type": "ServiceProvider", "tags": ["x"], "settings": {"useCustomRoutingProfile": true}}), InputMode::Create).unwrap();
        let tenant = Tenant::create(created, TenantId::parse("ab").unwrap(), &change());
        let doc = tenant.writable_document();
        let input = TenantInput::parse(doc.as_object().unwrap(), InputMode::Replace).unwrap();
        let same = tenant.replaced(input, &change()).unwrap();
        assert_eq!(Tenant { version: 1, ..same }, tenant);
    }

    #[test]
    fn the_server_owns_exactly_the_fields_of_the_view_that_input_does_not_write() {
        let view = serde_json::to_value(with_every_field().view()).unwrap();
        for field in TenantView::FIELDS {
            let mut body = Map::new();
            body.insert("name".into(), json!("a"));
            body.insert((*field).into(), view[field].clone());
            let errors = TenantInput::parse(&body, InputMode::Replace).err().unwrap_or_default();
            let refused = errors.iter().any(|e| e.field == *field && e.message == "is read-only");
            assert_eq!(refused, server_owned().contains(field), "{field}: {errors:?}");
            assert!(
                errors.iter().all(|e| e.message != "is not a known field"),
                "{field}: {errors:?}"
            );
        }
        assert!(WRITABLE.iter().all(|field| TenantView::FIELDS.contains(field)));
    }

    #[test]
    fn lifecycle_moves() {
        let tenant = Tenant::create(
            parse(json!({"name": "a", "status": "inactive"}), InputMode::Create).unwrap(),
            TenantId::parse("ab").unwrap(),
            &change(),
        );
        let retired = tenant.retired(Some("churned".into()), &change()).unwrap();
        assert_eq!(retired.status, Status::Retired);
        assert!(matches!(
            retired.retired(None, &change()),
            Err(Error::Conflict(Code::AlreadyRetired, _))
        ));
        assert!(matches!(
            tenant.restored(&change()),
            Err(Error::Conflict(Code::NotRetired, _))
        ));
        let restored = retired.restored(&change()).unwrap();
        assert_eq!(
            (restored.status, restored.retired_at, restored.version),
            (Status::Active, None, 3)
        );
        let input = parse(json!({"name": "b"}), InputMode::Replace).unwrap();
        assert!(matches!(
            retired.replaced(input, &change()),
            Err(Error::Conflict(Code::TenantRetired, _))
        ));
    }
}
