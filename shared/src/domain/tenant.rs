//! The tenant: its fields, how input becomes one, and its lifecycle moves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::input::{
    self, as_array, as_bool, as_object, nest, object, reject, text, token, ObjectReader, Parsed, Presence,
};
use super::values::{DomainName, EmailAddress, Tag, TenantId, TenantName};
use super::Timestamp;
use crate::{Code, Error, FieldError};

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

/// Parses one of a fixed set of names into a value, listing the choices on failure.
fn one_of<T: Copy>(value: &Value, choices: &[(&str, T)]) -> Parsed<T> {
    let s = input::as_str(value)?;
    match choices.iter().find(|(name, _)| *name == s) {
        Some((_, v)) => Ok(*v),
        None => {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            reject(format!("must be one of: {}", names.join(", ")))
        }
    }
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

/// A tenant as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub tenant_type: TenantType,
    pub environment: Environment,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<TenantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_name: Option<String>,
    /// Ids from the root down to and including this tenant.
    pub path: Vec<TenantId>,
    /// 0 for a top-level tenant.
    pub depth: u32,
    /// Direct children (of any status).
    #[serde(default)]
    pub child_count: u32,
    /// Subtenants (the tenant's groups).
    #[serde(default)]
    pub subtenant_count: u32,
    /// The identity providers authorised for the tenant.
    #[serde(default)]
    pub identity_provider_ids: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_domain: Option<DomainName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_email: Option<EmailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_information: Option<ContactInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_information: Option<AddressInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reseller_id: Option<String>,
    #[serde(default)]
    pub external_ids: BTreeMap<String, String>,
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_reason: Option<String>,
    /// Set when the clean-up starts purging the tenant: from then on it can
    /// no longer be restored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge_started_at: Option<Timestamp>,
    /// The latest deployed configuration version (0: none yet).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub configuration_version: u64,
    /// Its SHA-256: a deploy of the same bytes changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_sha256: Option<String>,
    /// The tenant a clone copied (set on the clone's new tenant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloned_from: Option<TenantId>,
    /// The clone job that made this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_job_id: Option<String>,
    pub version: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

/// What the input is: a create body, a PUT body, or the document a merge
/// patch produced (where a removed `parentId` means "move to the top").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    Create,
    Replace,
    Patched,
}

/// Where the input puts the tenant in the hierarchy. `P` is the parent: as
/// the input names it (its id), or, once a move is judged, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement<P = TenantId> {
    /// Leave it where it is (PUT without `parentId`).
    Keep,
    TopLevel,
    Under(P),
}

/// The writable fields of a tenant, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantInput {
    /// Create only: the client's own id instead of a generated UUID v7.
    pub tenant_id: Option<TenantId>,
    pub name: TenantName,
    pub description: Option<String>,
    /// Create: defaults to Enterprise. Replace: must equal the current type if given.
    pub tenant_type: Option<TenantType>,
    /// Absent keeps the current value (create: `production`).
    pub environment: Option<Environment>,
    /// `active` or `inactive`; absent keeps the current value (create: `active`).
    pub status: Option<Status>,
    pub placement: Placement,
    pub tags: Vec<Tag>,
    pub business_account: Option<String>,
    pub default_domain: Option<DomainName>,
    pub support_email: Option<EmailAddress>,
    pub contact_information: Option<ContactInformation>,
    pub address_information: Option<AddressInformation>,
    pub reseller_id: Option<String>,
    pub external_ids: BTreeMap<String, String>,
    pub use_tenant_languages: bool,
    /// Create only; on replace it must equal the current value if given.
    pub use_custom_routing_profile: Option<bool>,
    pub metadata: BTreeMap<String, String>,
}

/// Fields the server owns; a client may read but never write them.
const READ_ONLY: &[&str] = &[
    "id",
    "parentName",
    "path",
    "depth",
    "childCount",
    "subtenantCount",
    "identityProviderIds",
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

fn short_text(value: &Value) -> Parsed<String> {
    text(value, 1, limits::SHORT_TEXT, false)
}

fn parse_with<T>(parse: fn(&str) -> Result<T, String>) -> impl Fn(&Value) -> Parsed<T> {
    move |value| {
        let s = input::as_str(value)?;
        parse(s).or_else(reject)
    }
}

fn identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.:-".contains(c)
}

fn parse_tags(value: &Value) -> Parsed<Vec<Tag>> {
    let items = as_array(value)?;
    let mut errors = Vec::new();
    let mut tags: Vec<Tag> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match parse_with(Tag::parse)(item) {
            Ok(tag) if !tags.contains(&tag) => tags.push(tag),
            Ok(_) => {}
            Err(e) => errors.extend(nest(&format!("[{i}]"), e)),
        }
    }
    if tags.len() > limits::TAGS {
        errors.push(FieldError::new(
            "",
            format!("must have at most {} distinct tags", limits::TAGS),
        ));
    }
    if errors.is_empty() {
        Ok(tags)
    } else {
        Err(errors)
    }
}

/// A string-to-string map with bounded size, key rule and value length.
fn string_map(
    value: &Value,
    max_entries: usize,
    key_ok: impl Fn(&str) -> bool,
    key_rule: &str,
    value_len: (usize, usize),
) -> Parsed<BTreeMap<String, String>> {
    let members = as_object(value)?;
    let mut errors = Vec::new();
    let mut map = BTreeMap::new();
    if members.len() > max_entries {
        errors.push(FieldError::new(
            "",
            format!("must have at most {max_entries} entries (has {})", members.len()),
        ));
    }
    for (key, item) in members {
        if !key_ok(key) {
            errors.push(FieldError::new(key.clone(), format!("key must be {key_rule}")));
            continue;
        }
        match text(item, value_len.0, value_len.1, true) {
            Ok(v) => {
                map.insert(key.clone(), v);
            }
            Err(e) => errors.extend(nest(key, e)),
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

fn parse_external_ids(value: &Value) -> Parsed<BTreeMap<String, String>> {
    let key_ok = |k: &str| (1..=limits::EXTERNAL_ID_KEY).contains(&k.len()) && k.chars().all(identifier_char);
    let rule = "1 to 32 letters, digits or _ . : -";
    string_map(
        value,
        limits::EXTERNAL_IDS,
        key_ok,
        rule,
        (1, limits::EXTERNAL_ID_VALUE),
    )
}

fn parse_metadata(value: &Value) -> Parsed<BTreeMap<String, String>> {
    let key_ok = |k: &str| {
        let n = k.chars().count();
        (1..=limits::METADATA_KEY).contains(&n) && !k.chars().any(char::is_control)
    };
    string_map(
        value,
        limits::METADATA_KEYS,
        key_ok,
        "1 to 128 characters without control characters",
        (0, limits::METADATA_VALUE),
    )
}

fn parse_contact(value: &Value) -> Parsed<ContactInformation> {
    object(value, |o| {
        let contact = ContactInformation {
            name: o.optional("name", short_text),
            email: o.optional("email", parse_with(EmailAddress::parse)),
            phone_number: o.optional("phoneNumber", parse_with(parse_phone)),
        };
        Some(contact)
    })
}

fn parse_phone(s: &str) -> Result<String, String> {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let ok =
        s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) && (3..=20).contains(&digits) && s.len() <= 32;
    if ok {
        Ok(s.to_owned())
    } else {
        Err("must be a phone number of 3 to 20 digits, optionally with + - ( ) . and spaces".into())
    }
}

fn parse_address(value: &Value) -> Parsed<AddressInformation> {
    let line = |v: &Value| text(v, 1, limits::ADDRESS_LINE, false);
    object(value, |o| {
        Some(AddressInformation {
            address_line1: o.optional("addressLine1", line),
            address_line2: o.optional("addressLine2", line),
            city: o.optional("city", short_text),
            state_or_province: o.optional("stateOrProvince", short_text),
            zip_or_postal_code: o.optional("zipOrPostalCode", |v| text(v, 1, 32, false)),
            country: o.optional("country", short_text),
        })
    })
}

/// `settings`: both flags optional; absent flags are `None`.
fn parse_settings(value: &Value) -> Parsed<(Option<bool>, Option<bool>)> {
    object(value, |o| {
        let languages = o.optional("useTenantLanguages", as_bool);
        let routing = o.optional("useCustomRoutingProfile", as_bool);
        Some((languages, routing))
    })
}

impl TenantInput {
    /// Parses a create or replace body, listing every violation.
    pub fn parse(body: &Map<String, Value>, mode: InputMode) -> Result<Self, Vec<FieldError>> {
        let mut r = ObjectReader::new(body, "");
        let tenant_id = match mode {
            InputMode::Create => r.optional("tenantId", parse_with(TenantId::parse_new)),
            InputMode::Replace | InputMode::Patched => {
                r.read_only(&["tenantId"], "is set at create only");
                None
            }
        };
        let placement = match (r.nullable("parentId", parse_with(TenantId::parse)), mode) {
            (Presence::Value(parent), _) => Placement::Under(parent),
            (Presence::Absent, InputMode::Replace) => Placement::Keep,
            _ => Placement::TopLevel,
        };
        r.read_only(READ_ONLY, "is read-only");
        let name = r.required("name", parse_with(TenantName::parse));
        let description = r.optional("description", |v| text(v, 0, limits::DESCRIPTION, true));
        let tenant_type = r.optional("type", |v| one_of(v, TenantType::CHOICES));
        let environment = r.optional("environment", |v| one_of(v, Environment::CHOICES));
        let status = r.optional("status", |v| match one_of(v, Status::CHOICES)? {
            Status::Retired => reject("cannot be set to retired here: use POST /v1/tenants/{id}/retire"),
            settable => Ok(settable),
        });
        let tags = r.optional("tags", parse_tags).unwrap_or_default();
        let business_account = r.optional("businessAccount", short_text);
        let default_domain = r.optional("defaultDomain", parse_with(DomainName::parse));
        let support_email = r.optional("supportEmail", parse_with(EmailAddress::parse));
        let contact_information = r
            .optional("contactInformation", parse_contact)
            .filter(|c| *c != Default::default());
        let address_information = r
            .optional("addressInformation", parse_address)
            .filter(|a| *a != Default::default());
        let reseller_id = r.optional("resellerId", |v| {
            token(v, limits::SHORT_TEXT, identifier_char, "letters, digits and _ . : -")
        });
        let external_ids = r.optional("externalIds", parse_external_ids).unwrap_or_default();
        let (use_tenant_languages, use_custom_routing_profile) =
            r.optional("settings", parse_settings).unwrap_or_default();
        let metadata = r.optional("metadata", parse_metadata).unwrap_or_default();

        if mode == InputMode::Create
            && use_custom_routing_profile == Some(true)
            && tenant_type.unwrap_or(TenantType::Enterprise) != TenantType::ServiceProvider
        {
            r.error(
                "settings.useCustomRoutingProfile",
                "is only for ServiceProvider tenants",
            );
        }
        let errors = r.finish();
        match name {
            Some(name) if errors.is_empty() => Ok(Self {
                tenant_id,
                name,
                description,
                tenant_type,
                environment,
                status,
                placement,
                tags,
                business_account,
                default_domain,
                support_email,
                contact_information,
                address_information,
                reseller_id,
                external_ids,
                use_tenant_languages: use_tenant_languages.unwrap_or(false),
                use_custom_routing_profile,
                metadata,
            }),
            _ => Err(errors),
        }
    }
}

/// Who changed something, and when.
#[derive(Debug, Clone)]
pub struct Change {
    pub actor: String,
    pub at: Timestamp,
}

impl Tenant {
    /// A new top-level tenant from validated input (see [`Tenant::placed`]
    /// for one with a parent).
    pub fn create(input: TenantInput, id: TenantId, change: &Change) -> Self {
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
    pub fn replaced(&self, input: TenantInput, change: &Change) -> Result<Self, Error> {
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

    /// The document a merge patch applies to: the tenant's writable fields
    /// (plus `type`, which a patch may repeat but not change).
    pub fn writable_document(&self) -> Value {
        let mut doc = serde_json::to_value(self).expect("a tenant serialises to JSON");
        if let Value::Object(members) = &mut doc {
            members.retain(|k, _| !READ_ONLY.contains(&k.as_str()));
        }
        doc
    }

    /// Retires the tenant: hidden from default lists, kept until purge.
    pub fn retired(&self, reason: Option<String>, change: &Change) -> Result<Self, Error> {
        if self.status == Status::Provisioning {
            self.ensure_changeable()?;
        }
        if self.status == Status::Retired {
            return Err(Error::Conflict(
                Code::AlreadyRetired,
                format!("tenant '{}' is already retired", self.id),
            ));
        }
        Ok(Self {
            status: Status::Retired,
            retired_at: Some(change.at),
            retired_by: Some(change.actor.clone()),
            retire_reason: reason,
            ..self.touched(change)
        })
    }

    /// Brings a retired tenant back as `active`.
    pub fn restored(&self, change: &Change) -> Result<Self, Error> {
        if self.status != Status::Retired {
            return Err(Error::Conflict(
                Code::NotRetired,
                format!("tenant '{}' is not retired", self.id),
            ));
        }
        if self.purge_started_at.is_some() {
            return Err(Error::Conflict(
                Code::BeingPurged,
                format!("tenant '{}' is being purged and cannot be restored", self.id),
            ));
        }
        Ok(Self {
            status: Status::Active,
            retired_at: None,
            retired_by: None,
            retire_reason: None,
            ..self.touched(change)
        })
    }

    /// The tenant with identity provider `id` authorised (`true`) or no
    /// longer (`false`); `identityProviderIds` stays sorted.
    pub fn with_identity_provider(&self, id: &str, authorised: bool, change: &Change) -> Result<Self, Error> {
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
    pub fn deployed(&self, version: u64, sha256: &str, change: &Change) -> Self {
        Self {
            configuration_version: version,
            configuration_sha256: Some(sha256.to_owned()),
            ..self.touched(change)
        }
    }

    /// A clone's new tenant when its job succeeds: `active`, with the copied
    /// configuration (its SHA-256) as version 1, if the source had one.
    pub fn provisioned(&self, copied: Option<&str>, change: &Change) -> Self {
        Self {
            status: Status::Active,
            configuration_version: u64::from(copied.is_some()),
            configuration_sha256: copied.map(str::to_owned),
            ..self.touched(change)
        }
    }

    fn touched(&self, change: &Change) -> Self {
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

/// Parses the optional body of `POST /restore`: `{"reason": "..."}`, by
/// the same rule as retire's (unknown members refused).
pub fn parse_restore_reason(body: Option<&Map<String, Value>>) -> Result<Option<String>, Vec<FieldError>> {
    parse_retire_reason(body)
}

/// Parses the optional body of `POST /retire`: `{"reason": "..."}`.
pub fn parse_retire_reason(body: Option<&Map<String, Value>>) -> Result<Option<String>, Vec<FieldError>> {
    let Some(body) = body else { return Ok(None) };
    let mut r = ObjectReader::new(body, "");
    let reason = r.optional("reason", |v| text(v, 1, limits::RETIRE_REASON, true));
    let errors = r.finish();
    if errors.is_empty() {
        Ok(reason)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value, mode: InputMode) -> Result<TenantInput, Vec<FieldError>> {
        TenantInput::parse(body.as_object().unwrap(), mode)
    }

    fn change() -> Change {
        Change {
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
