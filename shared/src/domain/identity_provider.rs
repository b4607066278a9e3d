//! Identity providers authorised for a tenant (the ABB-style Tenants API's),
//! the login domains they claim, and the mappings of their groups to the
//! platform's groups.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::input::{self, as_array, as_bool, reject, text, ObjectReader, Parsed};
use super::tenant::Stamp;
use super::values::DomainName;
use super::{TenantId, Timestamp};
use crate::error::Error;
use crate::FieldError;

/// An identity provider id, chosen by the client: 1–64 letters, digits and
/// `- _ .`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdpId(String);

impl IdpId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be 1 to 64 letters, digits and - _ ., starting with a letter or digit".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdpKind {
    Oidc,
    Saml,
}

/// Largest inline SAML metadata document.
pub const MAX_METADATA_XML: usize = 100 * 1024;
/// Most login domains one identity provider claims.
pub const MAX_DOMAINS: usize = 20;
const MAX_SCOPES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProvider {
    pub id: IdpId,
    pub tenant_id: TenantId,
    #[serde(rename = "type")]
    pub kind: IdpKind,
    /// OIDC: the issuer (https).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// SAML: where the metadata is (https), or the metadata itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_xml: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    pub enabled: bool,
    /// Login domains, unique across every tenant's identity providers.
    #[serde(default)]
    pub domains: Vec<DomainName>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
    pub version: u64,
}

/// A validated PUT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpInput {
    pub kind: IdpKind,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub metadata_url: Option<String>,
    pub metadata_xml: Option<String>,
    pub entity_id: Option<String>,
    pub enabled: bool,
    pub domains: Vec<DomainName>,
}

/// An https URL with a valid host (and optional port and path).
fn https_url(value: &Value) -> Parsed<String> {
    let s = input::as_str(value)?;
    let Some(rest) = s.strip_prefix("https://") else {
        return reject("must be an https:// URL");
    };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host_port.rsplit_once(':').map_or(
        host_port,
        |(h, port)| if port.parse::<u16>().is_ok() { h } else { host_port },
    );
    if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()) || DomainName::parse(host).is_err() {
        return reject("must be an https:// URL with a valid host name");
    }
    Ok(s.to_owned())
}

fn scopes(value: &Value) -> Parsed<Vec<String>> {
    let items = as_array(value)?;
    if items.len() > MAX_SCOPES {
        return reject(format!("must have at most {MAX_SCOPES} scopes"));
    }
    let mut errors = Vec::new();
    let mut scopes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match input::token(item, 128, |c| c.is_ascii_graphic(), "visible characters without spaces") {
            Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Ok(_) => {}
            Err(e) => errors.extend(input::nest(&format!("[{i}]"), e)),
        }
    }
    if errors.is_empty() {
        Ok(scopes)
    } else {
        Err(errors)
    }
}

fn domains(value: &Value) -> Parsed<Vec<DomainName>> {
    let items = as_array(value)?;
    if items.len() > MAX_DOMAINS {
        return reject(format!("must have at most {MAX_DOMAINS} domains"));
    }
    let mut errors = Vec::new();
    let mut domains = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match input::as_str(item).and_then(|s| DomainName::parse(s).or_else(reject)) {
            Ok(domain) if !domains.contains(&domain) => domains.push(domain),
            Ok(_) => {}
            Err(e) => errors.extend(input::nest(&format!("[{i}]"), e)),
        }
    }
    if errors.is_empty() {
        Ok(domains)
    } else {
        Err(errors)
    }
}

impl IdpInput {
    /// Parses a PUT body; which fields are required depends on `type`.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut r = ObjectReader::new(body, "");
        r.read_only(
            &[
                "id",
                "tenantId",
                "createdAt",
                "createdBy",
                "updatedAt",
                "updatedBy",
                "version",
            ],
            "is read-only",
        );
        let kind = r.required("type", |v| match input::as_str(v)? {
            "oidc" => Ok(IdpKind::Oidc),
            "saml" => Ok(IdpKind::Saml),
            _ => reject("must be one of: oidc, saml"),
        });
        let issuer = r.optional("issuer", https_url);
        let client_id = r.optional("clientId", |v| text(v, 1, 256, false));
        let scopes = r.optional("scopes", scopes).unwrap_or_default();
        let metadata_url = r.optional("metadataUrl", https_url);
        let metadata_xml = r.optional("metadataXml", |v| {
            let xml = input::as_str(v)?;
            if xml.len() > MAX_METADATA_XML {
                return reject(format!(
                    "must be at most {MAX_METADATA_XML} bytes (100 KiB); it has {}",
                    xml.len()
                ));
            }
            if !xml.trim_start().starts_with('<') {
                return reject("must be an XML document");
            }
            Ok(xml.to_owned())
        });
        let entity_id = r.optional("entityId", |v| text(v, 1, 1024, false));
        let enabled = r.optional("enabled", as_bool).unwrap_or(true);
        let domains = r.optional("domains", domains).unwrap_or_default();
        match kind {
            Some(IdpKind::Oidc) => {
                for (field, present) in [("issuer", issuer.is_some()), ("clientId", client_id.is_some())] {
                    if !present && body.get(field).is_none_or(Value::is_null) {
                        r.error(field, "is required for an oidc identity provider");
                    }
                }
                for field in ["metadataUrl", "metadataXml", "entityId"] {
                    if body.get(field).is_some_and(|v| !v.is_null()) {
                        r.error(field, "is for saml identity providers");
                    }
                }
            }
            Some(IdpKind::Saml) => {
                if entity_id.is_none() && body.get("entityId").is_none_or(Value::is_null) {
                    r.error("entityId", "is required for a saml identity provider");
                }
                let given = |f: &str| body.get(f).is_some_and(|v| !v.is_null());
                match (given("metadataUrl"), given("metadataXml")) {
                    (true, true) => r.error("metadataXml", "give metadataUrl or metadataXml, not both"),
                    (false, false) => r.error(
                        "metadataUrl",
                        "metadataUrl or metadataXml is required for a saml identity provider",
                    ),
                    _ => {}
                }
                for field in ["issuer", "clientId", "scopes"] {
                    if given(field) {
                        r.error(field, "is for oidc identity providers");
                    }
                }
            }
            None => {}
        }
        let errors = r.finish();
        match kind {
            Some(kind) if errors.is_empty() => Ok(Self {
                kind,
                issuer,
                client_id,
                scopes,
                metadata_url,
                metadata_xml,
                entity_id,
                enabled,
                domains,
            }),
            _ => Err(errors),
        }
    }
}

impl IdentityProvider {
    /// The provider `input` describes: new, or replacing `current`.
    pub fn from_input(
        id: IdpId,
        tenant_id: TenantId,
        input: IdpInput,
        current: Option<&IdentityProvider>,
        change: &Stamp,
    ) -> Self {
        Self {
            id,
            tenant_id,
            kind: input.kind,
            issuer: input.issuer,
            client_id: input.client_id,
            scopes: input.scopes,
            metadata_url: input.metadata_url,
            metadata_xml: input.metadata_xml,
            entity_id: input.entity_id,
            enabled: input.enabled,
            domains: input.domains,
            created_at: current.map_or(change.at, |c| c.created_at),
            created_by: current.map_or_else(|| change.actor.clone(), |c| c.created_by.clone()),
            updated_at: change.at,
            updated_by: change.actor.clone(),
            version: current.map_or(1, |c| c.version + 1),
        }
    }

    /// Whether `next` changes more than the stamps.
    pub fn differs(&self, next: &Self) -> bool {
        let unstamped = Self {
            version: self.version,
            updated_at: self.updated_at,
            updated_by: self.updated_by.clone(),
            ..next.clone()
        };
        unstamped != *self
    }
}

/// A group of an identity provider mapped to a platform group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMapping {
    pub tenant_id: TenantId,
    pub identity_provider_id: IdpId,
    pub from: String,
    pub to: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// Longest group id, in UTF-8 bytes (it is part of a sort key).
pub const MAX_GROUP_BYTES: usize = 256;

/// A group id from a path (already percent-decoded): 1–256 bytes of UTF-8
/// without control characters.
pub fn parse_group(field: &str, raw: &str) -> Result<String, Error> {
    if raw.is_empty() || raw.len() > MAX_GROUP_BYTES || raw.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be a group id of 1 to 256 bytes (UTF-8) without control characters",
        ));
    }
    Ok(raw.to_owned())
}

/// A mapping's target: one of the platform's groups, which is
/// `auth.group_prefix` (`GROUP_PREFIX`, default `group:`) followed by
/// letters, digits and `. _ : -`, at most 256 bytes in all; never the
/// platform admin or creator role, in any case. So no mapping mints a
/// privilege, and no target holds what a claims parser would split.
///
/// Mappings stored before this rule are read as they are (a tightened rule
/// never makes old data unreadable); only new targets are checked.
pub fn parse_group_target(raw: &str, auth: &crate::auth::AuthConfig) -> Result<String, String> {
    let is_role = |role: &str| raw.eq_ignore_ascii_case(role);
    if is_role(&auth.admin_role) || auth.creator_role.as_deref().is_some_and(is_role) {
        return Err("must be one of the platform's groups, not a role".into());
    }
    let name = raw.strip_prefix(auth.group_prefix.as_str()).unwrap_or_default();
    let ok = !name.is_empty()
        && raw.len() <= MAX_GROUP_BYTES
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "must be one of the platform's groups: '{}' followed by 1 or more letters, digits and . _ : - \
             (at most {MAX_GROUP_BYTES} bytes in all)",
            auth.group_prefix
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthConfig;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// Ids are accepted exactly when they match the documented pattern.
        #[test]
        fn idp_ids_follow_their_pattern(raw in "[a-zA-Z0-9._/# -]{0,70}") {
            let pattern = (1..=64).contains(&raw.len())
                && raw.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            prop_assert_eq!(IdpId::parse(&raw).is_ok(), pattern);
        }

        /// Group ids: any text of 1 to 256 bytes without control characters.
        #[test]
        fn group_ids_are_bounded_text(raw in "\\PC{0,100}|[a-z]{250,260}|.{0,5}\\p{Cc}.{0,5}") {
            let valid = !raw.is_empty() && raw.len() <= MAX_GROUP_BYTES && !raw.chars().any(char::is_control);
            prop_assert_eq!(parse_group("from", &raw).is_ok(), valid);
        }

        /// Every listed domain error names its index; valid ones come back lowercase.
        #[test]
        fn domains_are_lowercased_or_listed(labels in proptest::collection::vec("[A-Za-z0-9]{1,10}|[a-z ]{1,5}", 1..6)) {
            let domains: Vec<String> = labels.iter().map(|l| format!("{l}.example")).collect();
            let body = json!({"type": "oidc", "issuer": "https://i.example", "clientId": "c", "domains": domains});
            match IdpInput::parse(body.as_object().unwrap()) {
                Ok(input) => prop_assert!(input.domains.iter().all(|d| d.as_str() == d.as_str().to_lowercase())),
                Err(errors) => {
                    let bad: Vec<String> = labels.iter().enumerate().filter(|(_, l)| l.contains(' ')).map(|(i, _)| format!("domains[{i}]")).collect();
                    let fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                    prop_assert_eq!(fields, bad);
                }
            }
        }
    }

    /// Issue 17, item 2: a mapping target is one of the platform's groups,
    /// never a role and never something a claims parser would split.
    #[test]
    fn group_targets_are_platform_groups_never_roles() {
        let auth = AuthConfig::default();
        for ok in ["group:tenant-admins", "group:ops.eu_west:1", "group:A-Z"] {
            assert_eq!(parse_group_target(ok, &auth).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "tenancy:admin",
            "tenancy:creator",
            "admin",
            "a b",
            "[x]",
            "\"group:x\"",
            "group:",
            "group:a b",
            "group:[x]",
            "group:x\"",
            "group:x\u{200b}",
            "Group:x",
            "groupx",
            "",
        ] {
            assert!(parse_group_target(bad, &auth).is_err(), "{bad:?}");
        }
        assert!(parse_group_target(&format!("group:{}", "a".repeat(MAX_GROUP_BYTES)), &auth).is_err());
        // A prefix that roles share: the roles themselves stay out.
        let shared_prefix = AuthConfig {
            group_prefix: "tenancy:".into(),
            ..AuthConfig::default()
        };
        assert!(parse_group_target("tenancy:ops", &shared_prefix).is_ok());
        for role in ["tenancy:admin", "tenancy:creator", "TENANCY:ADMIN"] {
            let err = parse_group_target(role, &shared_prefix).unwrap_err();
            assert!(err.contains("role"), "{role}: {err}");
        }
    }

    proptest! {
        /// Whatever is accepted starts with the prefix, is one whole token and is no role.
        #[test]
        fn accepted_targets_are_whole_tokens(raw in "(group:)?[a-z:. \\[\\]\"'_-]{0,20}") {
            let auth = AuthConfig::default();
            if let Ok(target) = parse_group_target(&raw, &auth) {
                prop_assert!(target.starts_with("group:") && target.len() > "group:".len());
                prop_assert!(crate::auth::is_role_token(&target));
                prop_assert!(target != auth.admin_role && Some(&target) != auth.creator_role.as_ref());
            }
        }
    }

    fn parse(v: Value) -> Result<IdpInput, Vec<FieldError>> {
        IdpInput::parse(v.as_object().unwrap())
    }

    fn fields(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn oidc_and_saml_need_their_own_fields() {
        let oidc = parse(json!({"type": "oidc", "issuer": "https://login.example.com/tenant", "clientId": "abc", "domains": ["Acme.example", "acme.example"]})).unwrap();
        assert_eq!((oidc.enabled, oidc.domains.len()), (true, 1));
        let saml = parse(
            json!({"type": "saml", "entityId": "urn:acme", "metadataUrl": "https://idp.example.com:8443/metadata"}),
        )
        .unwrap();
        assert_eq!(saml.kind, IdpKind::Saml);
        let errors = parse(json!({"type": "oidc", "issuer": "http://insecure.example", "entityId": "x"})).unwrap_err();
        assert_eq!(fields(&errors), ["issuer", "clientId", "entityId"]);
        let errors = parse(
            json!({"type": "saml", "metadataUrl": "https://a.example/m", "metadataXml": "<x/>", "clientId": "c"}),
        )
        .unwrap_err();
        assert_eq!(fields(&errors), ["entityId", "metadataXml", "clientId"]);
        let errors = parse(json!({"type": "saml", "entityId": "e"})).unwrap_err();
        assert_eq!(fields(&errors), ["metadataUrl"]);
    }

    #[test]
    fn limits_and_every_error() {
        let big = format!("<x>{}</x>", "a".repeat(MAX_METADATA_XML));
        let errors = parse(json!({"type": "saml", "entityId": "e", "metadataXml": big, "domains": ["ok.example", "not a domain", "x"], "extra": 1})).unwrap_err();
        assert_eq!(fields(&errors), ["metadataXml", "domains[1]", "domains[2]", "extra"]);
        assert!(errors[0].message.contains("100 KiB"));
        assert!(parse(json!({"type": "ldap"})).is_err());
        assert!(IdpId::parse("azure-ad.prod_1").is_ok() && IdpId::parse("-x").is_err() && IdpId::parse("a/b").is_err());
        assert!(parse_group("from", "CN=Admins,OU=Groups").is_ok() && parse_group("from", "").is_err());
    }
}
