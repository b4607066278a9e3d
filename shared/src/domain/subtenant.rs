//! Subtenants: the groups of a tenant (the Subtenants API's subtenants,
//! Netaxis' groups). Each has a code unique within its tenant.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::input::{self, reject, text, token, ObjectReader, Parsed, Presence};
use super::tenant::{limits, Change};
use super::values::{SubtenantCode, TenantName};
use super::{TenantId, Timestamp};
use crate::error::Error;
use crate::FieldError;

/// A subtenant as stored and as the API shows it (plus `tenantName`, read
/// from the tenant when answering).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subtenant {
    /// A UUID v7: sortable by creation.
    pub id: String,
    pub tenant_id: TenantId,
    pub name: TenantName,
    pub code: SubtenantCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reseller_id: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
    pub version: u64,
}

/// The writable fields of a subtenant, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SubtenantInput {
    pub name: TenantName,
    /// Absent: derived from the name (create) or kept (update).
    pub code: Option<SubtenantCode>,
    pub description: Option<String>,
    pub reseller_id: Option<String>,
}

const READ_ONLY: &[&str] = &[
    "id",
    "tenantId",
    "tenantName",
    "createdAt",
    "createdBy",
    "updatedAt",
    "updatedBy",
    "version",
];

fn parse_with<T>(parse: fn(&str) -> Result<T, String>) -> impl Fn(&Value) -> Parsed<T> {
    move |value| {
        let s = input::as_str(value)?;
        parse(s).or_else(reject)
    }
}

impl SubtenantInput {
    /// Parses a create, replace or merged-patch body, listing every violation.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut r = ObjectReader::new(body, "");
        r.read_only(READ_ONLY, "is read-only");
        let name = r.required("name", parse_with(TenantName::parse));
        let code = match r.nullable("code", parse_with(SubtenantCode::parse)) {
            Presence::Null => {
                r.error("code", "cannot be removed; every subtenant has a code");
                None
            }
            Presence::Value(code) => Some(code),
            Presence::Absent => None,
        };
        let description = r.optional("description", |v| text(v, 0, limits::DESCRIPTION, true));
        let identifier = |c: char| c.is_ascii_alphanumeric() || "_.:-".contains(c);
        let reseller_id = r.optional("resellerId", |v| {
            token(v, limits::SHORT_TEXT, identifier, "letters, digits and _ . : -")
        });
        let errors = r.finish();
        match name {
            Some(name) if errors.is_empty() => Ok(Self {
                name,
                code,
                description,
                reseller_id,
            }),
            _ => Err(errors),
        }
    }
}

impl Subtenant {
    pub fn create(tenant_id: TenantId, input: SubtenantInput, code: SubtenantCode, change: &Change) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id,
            name: input.name,
            code,
            description: input.description,
            reseller_id: input.reseller_id,
            created_at: change.at,
            created_by: change.actor.clone(),
            updated_at: change.at,
            updated_by: change.actor.clone(),
            version: 1,
        }
    }

    /// PUT semantics: omitted optional fields are cleared; an omitted code is kept.
    pub fn replaced(&self, input: SubtenantInput, change: &Change) -> Self {
        Self {
            name: input.name,
            code: input.code.unwrap_or_else(|| self.code.clone()),
            description: input.description,
            reseller_id: input.reseller_id,
            updated_at: change.at,
            updated_by: change.actor.clone(),
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The input a JSON Merge Patch of the writable fields makes, validated
    /// as a whole. The patch's `null` removes a member (RFC 7396): removing
    /// `code` is refused as a PUT with `"code": null` is (every subtenant has
    /// one), not read as "keep it"; removing `name` leaves it missing.
    pub fn patched_input(&self, patch: &Map<String, Value>) -> Result<SubtenantInput, Vec<FieldError>> {
        let mut document = self.writable_document();
        super::merge_patch::apply(&mut document, &Value::Object(patch.clone()));
        let Value::Object(mut fields) = document else {
            unreachable!("an object patched by an object stays an object")
        };
        if patch.get("code").is_some_and(Value::is_null) {
            fields.insert("code".into(), Value::Null);
        }
        SubtenantInput::parse(&fields)
    }

    /// The document a merge patch applies to.
    pub fn writable_document(&self) -> Value {
        let mut doc = serde_json::to_value(self).expect("a subtenant serialises to JSON");
        if let Value::Object(members) = &mut doc {
            members.retain(|k, _| !READ_ONLY.contains(&k.as_str()));
        }
        doc
    }

    /// Whether `next` differs from `self` in more than its change stamps.
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

/// A subtenant as answered: with its tenant's name.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubtenantView<'a> {
    #[serde(flatten)]
    pub subtenant: &'a Subtenant,
    pub tenant_name: &'a str,
}

/// How a path names a subtenant: by id (a UUID) or by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubtenantRef {
    Id(String),
    Code(SubtenantCode),
}

impl SubtenantRef {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        if let Ok(id) = uuid::Uuid::parse_str(raw) {
            return Ok(Self::Id(id.to_string()));
        }
        SubtenantCode::parse(raw)
            .map(Self::Code)
            .map_err(|_| Error::invalid("subtenantId", "must be a subtenant id (a UUID) or code"))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Id(id) => id,
            Self::Code(code) => code.as_str(),
        }
    }
}

/// A subtenant with every field set: what a test of a stored or rendered
/// subtenant's format starts from.
#[cfg(test)]
pub(crate) fn with_every_field() -> Subtenant {
    let at = |s| Timestamp::parse(s).unwrap();
    Subtenant {
        id: "0190a0e4-5b7c-7d2e-8f00-000000000001".into(),
        tenant_id: TenantId::parse("acme").unwrap(),
        name: TenantName::parse("Sales EU").unwrap(),
        code: SubtenantCode::parse("sales-eu").unwrap(),
        description: Some("the sales team".into()),
        reseller_id: Some("r-1".into()),
        created_at: at("2026-01-01T00:00:00Z"),
        created_by: "alice".into(),
        updated_at: at("2026-01-02T03:04:05.678Z"),
        updated_by: "bob".into(),
        version: 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<SubtenantInput, Vec<FieldError>> {
        SubtenantInput::parse(v.as_object().unwrap())
    }

    #[test]
    fn every_error_is_listed() {
        let errors =
            parse(json!({"name": "", "code": "Bad Code", "resellerId": "a b", "id": "x", "extra": 1})).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "name", "code", "resellerId", "extra"]);
        assert_eq!(parse(json!({"name": "a", "code": null})).unwrap_err()[0].field, "code");
    }

    #[test]
    fn a_patch_may_not_remove_the_code_or_the_name() {
        let change = Change {
            actor: "a".into(),
            at: Timestamp::now(),
        };
        let sub = Subtenant::create(
            TenantId::parse("ab").unwrap(),
            parse(json!({"name": "Sales"})).unwrap(),
            SubtenantCode::parse("sales").unwrap(),
            &change,
        );
        let patch = |v: Value| sub.patched_input(v.as_object().unwrap());
        let refused = patch(json!({"code": null, "name": null, "description": "d"})).unwrap_err();
        let fields: Vec<&str> = refused.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "code"]);
        assert_eq!(
            refused[1].message,
            parse(json!({"name": "a", "code": null})).unwrap_err()[0].message
        );
        let kept = patch(json!({"description": null})).unwrap();
        assert_eq!(
            (kept.code.as_ref().map(SubtenantCode::as_str), kept.description),
            (Some("sales"), None)
        );
    }

    #[test]
    fn replace_keeps_an_omitted_code_and_clears_the_rest() {
        let change = Change {
            actor: "a".into(),
            at: Timestamp::now(),
        };
        let input = parse(json!({"name": "Sales", "description": "d", "resellerId": "r"})).unwrap();
        let sub = Subtenant::create(
            TenantId::parse("ab").unwrap(),
            input,
            SubtenantCode::parse("sales").unwrap(),
            &change,
        );
        let next = sub.replaced(parse(json!({"name": "Sales EU"})).unwrap(), &change);
        assert_eq!(
            (next.code.as_str(), next.description.as_deref(), next.version),
            ("sales", None, 2)
        );
        assert!(sub.differs(&next));
        assert!(!sub.differs(&Subtenant {
            version: 9,
            ..sub.clone()
        }));
    }

    /// An answer's JSON (with its tenant's name) and a change event's (the
    /// subtenant alone).
    fn rendered(subtenant: &Subtenant) -> (String, String) {
        let answer = SubtenantView {
            subtenant,
            tenant_name: "Acme",
        };
        (
            serde_json::to_string(&answer).unwrap(),
            serde_json::to_string(subtenant).unwrap(),
        )
    }

    #[test]
    fn a_subtenant_renders_every_field_in_order() {
        let (answer, alone) = rendered(&with_every_field());
        assert_eq!(
            answer,
            concat!(
                r#"{"id":"0190a0e4-5b7c-7d2e-8f00-000000000001","tenantId":"acme","name":"Sales EU","#,
                r#""code":"sales-eu","description":"the sales team","resellerId":"r-1","#,
                r#""createdAt":"2026-01-01T00:00:00.000Z","createdBy":"alice","#,
                r#""updatedAt":"2026-01-02T03:04:05.678Z","updatedBy":"bob","version":3,"tenantName":"Acme"}"#
            )
        );
        assert_eq!(
            alone,
            concat!(
                r#"{"id":"0190a0e4-5b7c-7d2e-8f00-000000000001","tenantId":"acme","name":"Sales EU","#,
                r#""code":"sales-eu","description":"the sales team","resellerId":"r-1","#,
                r#""createdAt":"2026-01-01T00:00:00.000Z","createdBy":"alice","#,
                r#""updatedAt":"2026-01-02T03:04:05.678Z","updatedBy":"bob","version":3}"#
            )
        );
    }

    #[test]
    fn a_subtenant_renders_without_its_absent_fields() {
        let (answer, alone) = rendered(&Subtenant {
            description: None,
            reseller_id: None,
            ..with_every_field()
        });
        assert_eq!(
            answer,
            concat!(
                r#"{"id":"0190a0e4-5b7c-7d2e-8f00-000000000001","tenantId":"acme","name":"Sales EU","#,
                r#""code":"sales-eu","createdAt":"2026-01-01T00:00:00.000Z","createdBy":"alice","#,
                r#""updatedAt":"2026-01-02T03:04:05.678Z","updatedBy":"bob","version":3,"tenantName":"Acme"}"#
            )
        );
        assert_eq!(
            alone,
            concat!(
                r#"{"id":"0190a0e4-5b7c-7d2e-8f00-000000000001","tenantId":"acme","name":"Sales EU","#,
                r#""code":"sales-eu","createdAt":"2026-01-01T00:00:00.000Z","createdBy":"alice","#,
                r#""updatedAt":"2026-01-02T03:04:05.678Z","updatedBy":"bob","version":3}"#
            )
        );
    }
}
