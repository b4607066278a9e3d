//! How input becomes a tenant: create and PUT bodies (and merge-patched
//! documents) parsed into a [`TenantInput`], every violation listed; the
//! document a merge patch applies to; the bodies of retire and restore.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::{
    limits, one_of_value, AddressInformation, ContactInformation, Environment, Status, Tenant, TenantType, TenantView,
};
use crate::domain::input::{
    self, as_array, as_bool, as_object, nest, object, reject, text, token, ObjectReader, Parsed, Presence,
};
use crate::domain::values::{DomainName, EmailAddress, Tag, TenantId, TenantName};
use crate::FieldError;

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

/// The fields of the tenant's representation ([`TenantView`]) that input
/// writes. (`tenantId`, create only, is not one: the view calls it `id`.)
pub const WRITABLE: &[&str] = &[
    "name",
    "description",
    "type",
    "environment",
    "status",
    "parentId",
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
];

/// The fields the server owns: every field of the representation that
/// input does not write. A client may read them but never write them; a
/// field added to the view is one of them until input learns to write it.
pub fn server_owned() -> &'static [&'static str] {
    static SERVER_OWNED: LazyLock<Vec<&str>> = LazyLock::new(|| {
        TenantView::FIELDS
            .iter()
            .copied()
            .filter(|field| !WRITABLE.contains(field))
            .collect()
    });
    &SERVER_OWNED
}

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
        r.read_only(server_owned(), "is read-only");
        let name = r.required("name", parse_with(TenantName::parse));
        let description = r.optional("description", |v| text(v, 0, limits::DESCRIPTION, true));
        let tenant_type = r.optional("type", |v| one_of_value(v, TenantType::CHOICES));
        let environment = r.optional("environment", |v| one_of_value(v, Environment::CHOICES));
        let status = r.optional("status", |v| match one_of_value(v, Status::CHOICES)? {
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

impl Tenant {
    /// The document a merge patch applies to: the tenant's writable fields
    /// (plus `type`, which a patch may repeat but not change).
    pub fn writable_document(&self) -> Value {
        let mut doc = serde_json::to_value(self.view()).expect("a tenant serialises to JSON");
        if let Value::Object(members) = &mut doc {
            let server_owned = server_owned();
            members.retain(|k, _| !server_owned.contains(&k.as_str()));
        }
        doc
    }
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
