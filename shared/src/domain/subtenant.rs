//! Subtenants: the groups of a tenant (the Subtenants API's subtenants,
//! Netaxis' groups). Each has a code unique within its tenant.

use serde::Serialize;
use serde_json::{Map, Value};

use super::input::{self, reject, text, token, ObjectReader, Parsed, Presence};
use super::tenant::{limits, Stamp};
use super::values::{SubtenantCode, TenantName};
use super::{TenantId, Timestamp};
use crate::error::Error;
use crate::FieldError;

/// A subtenant: the model the rules work on. The API shows it as a
/// [`SubtenantView`]; the table keeps it as the store's `SubtenantRecord`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtenant {
    /// A UUID v7: sortable by creation.
    pub id: String,
    pub tenant_id: TenantId,
    pub name: TenantName,
    pub code: SubtenantCode,
    pub description: Option<String>,
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

/// The fields of the subtenant's representation ([`SubtenantView`]) that
/// input writes.
pub const WRITABLE: &[&str] = &["name", "code", "description", "resellerId"];

/// The fields the server owns: those of the representation that input does
/// not write (a test holds the two lists to that), in the order their
/// errors have always been listed in.
pub const SERVER_OWNED: &[&str] = &[
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
        r.read_only(SERVER_OWNED, "is read-only");
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
    pub fn create(tenant_id: TenantId, input: SubtenantInput, code: SubtenantCode, change: &Stamp) -> Self {
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
    pub fn replaced(&self, input: SubtenantInput, change: &Stamp) -> Self {
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
        let mut doc = serde_json::to_value(self.view()).expect("a subtenant serialises to JSON");
        if let Value::Object(members) = &mut doc {
            members.retain(|k, _| !SERVER_OWNED.contains(&k.as_str()));
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

/// A subtenant as the API shows it: as answered, with its tenant's name
/// (read from the tenant); in change events, alone. Serialise-only.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubtenantView<'a> {
    id: &'a str,
    tenant_id: &'a TenantId,
    name: &'a TenantName,
    code: &'a SubtenantCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller_id: Option<&'a String>,
    created_at: Timestamp,
    created_by: &'a str,
    updated_at: Timestamp,
    updated_by: &'a str,
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_name: Option<&'a str>,
}

impl<'a> SubtenantView<'a> {
    /// Every field of the view, in its order (a test holds this list to the
    /// view).
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "tenantId",
        "name",
        "code",
        "description",
        "resellerId",
        "createdAt",
        "createdBy",
        "updatedAt",
        "updatedBy",
        "version",
        "tenantName",
    ];

    /// The view as answered: with the name of the subtenant's tenant.
    pub fn with_tenant_name(self, tenant_name: &'a str) -> Self {
        Self {
            tenant_name: Some(tenant_name),
            ..self
        }
    }
}

impl<'a> From<&'a Subtenant> for SubtenantView<'a> {
    fn from(subtenant: &'a Subtenant) -> Self {
        Self {
            id: &subtenant.id,
            tenant_id: &subtenant.tenant_id,
            name: &subtenant.name,
            code: &subtenant.code,
            description: subtenant.description.as_ref(),
            reseller_id: subtenant.reseller_id.as_ref(),
            created_at: subtenant.created_at,
            created_by: &subtenant.created_by,
            updated_at: subtenant.updated_at,
            updated_by: &subtenant.updated_by,
            version: subtenant.version,
            tenant_name: None,
        }
    }
}

impl Subtenant {
    /// The subtenant as the API shows it, without its tenant's name (see
    /// [`SubtenantView::with_tenant_name`]).
    pub fn view(&self) -> SubtenantView<'_> {
        SubtenantView::from(self)
    }
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
    use crate::domain::field_names::field_names;
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
        let change = Stamp {
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
        let change = Stamp {
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
        let answer = subtenant.view().with_tenant_name("Acme");
        (
            serde_json::to_string(&answer).unwrap(),
            serde_json::to_string(&subtenant.view()).unwrap(),
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

    #[test]
    fn its_fields_are_the_ones_it_serialises_in_order() {
        let subtenant = with_every_field();
        assert_eq!(
            field_names(&subtenant.view().with_tenant_name("Acme")),
            SubtenantView::FIELDS
        );
    }

    #[test]
    fn the_server_owns_exactly_the_fields_of_the_view_that_input_does_not_write() {
        let mut owned: Vec<&str> = SERVER_OWNED.to_vec();
        let mut not_written: Vec<&str> = SubtenantView::FIELDS
            .iter()
            .copied()
            .filter(|field| !WRITABLE.contains(field))
            .collect();
        owned.sort_unstable();
        not_written.sort_unstable();
        assert_eq!(owned, not_written);
        assert!(WRITABLE.iter().all(|field| SubtenantView::FIELDS.contains(field)));
        let view = serde_json::to_value(with_every_field().view().with_tenant_name("Acme")).unwrap();
        for field in SubtenantView::FIELDS {
            let mut body = Map::new();
            body.insert("name".into(), json!("a"));
            body.insert((*field).into(), view[field].clone());
            let errors = SubtenantInput::parse(&body).err().unwrap_or_default();
            let refused = errors.iter().any(|e| e.field == *field && e.message == "is read-only");
            assert_eq!(refused, SERVER_OWNED.contains(field), "{field}: {errors:?}");
            assert!(errors.is_empty() || refused, "{field}: {errors:?}");
        }
    }
}
