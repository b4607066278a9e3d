//! The query string of tenant lists (`GET /v1/tenants` and `/children`),
//! read strictly, and the cursor scope that binds a cursor to its query.

use lambda_http::Request;
use shared::domain::identity_provider::IdpId;
use shared::domain::query::{SortField, TenantQuery};
use shared::domain::tenant::one_of;
use shared::domain::values::name_prefix_key;
use shared::domain::{Environment, Status, Tag, TenantId, TenantType};
use shared::http::cursor::Cursors;
use shared::http::query::{boolean, integer_in, QueryReader};
use shared::http::Problem;
use shared::store::ListPosition;

/// Deepest `offset` (or `page` × `limit`) served; cursors go further.
pub const MAX_OFFSET: u64 = 10_000;

/// Where a page starts.
pub enum Start {
    Cursor(ListPosition),
    Offset(usize),
    First,
}

pub struct ListParams {
    pub query: TenantQuery,
    pub start: Start,
    pub include_total: bool,
    scope: String,
}

fn sort(raw: &str) -> Result<(SortField, bool), String> {
    let rule = || "must be one of: name asc, name desc, createdAt asc, createdAt desc".to_owned();
    let mut words = raw.split([' ', ',', ':']).filter(|w| !w.is_empty());
    let field = match words.next() {
        Some("name") => SortField::Name,
        Some("createdAt") => SortField::CreatedAt,
        _ => return Err(rule()),
    };
    match (words.next(), words.next()) {
        (None | Some("asc"), None) => Ok((field, false)),
        (Some("desc"), None) => Ok((field, true)),
        _ => Err(rule()),
    }
}

/// `type`: the tenant type, or Socotra's `test`/`production`/`retired`.
enum TypeFilter {
    Type(TenantType),
    Environment(Environment),
    Retired,
}

fn type_filter(raw: &str) -> Result<TypeFilter, String> {
    match raw {
        "test" => Ok(TypeFilter::Environment(Environment::Test)),
        "production" => Ok(TypeFilter::Environment(Environment::Production)),
        "retired" => Ok(TypeFilter::Retired),
        other => one_of(other, TenantType::CHOICES)
            .map(TypeFilter::Type)
            .map_err(|_| "must be one of: Enterprise, ServiceProvider (or Socotra's test, production, retired)".into()),
    }
}

fn prefix(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.chars().count() > 128 {
        return Err("must have 1 to 128 characters".into());
    }
    // Compared with the names' keys: the prefix's own normal form.
    let key = name_prefix_key(raw);
    if key.is_empty() {
        return Err("must have a character that is not a space or invisible".into());
    }
    Ok(key)
}

fn external_id(raw: &str) -> Result<(String, String), String> {
    match raw.split_once(':') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err("must be key:value, e.g. externalId=1:CRM-88".into()),
    }
}

fn tenant_id(raw: &str) -> Result<TenantId, String> {
    TenantId::parse(raw)
}

impl ListParams {
    /// Reads the list parameters; `parent` fixes `parentId` (the children route).
    pub fn read(req: &Request, cursors: &Cursors<'_>, parent: Option<TenantId>) -> Result<Self, Problem> {
        let mut q = QueryReader::new(req);
        let limit = q.limit();
        let (sort, descending) = q.parsed("sort", sort).unwrap_or((SortField::Name, false));
        let name_prefix = q.parsed("name", prefix);
        let mut status = q.parsed("status", |r| {
            Status::parse(r).ok_or_else(|| "must be one of: active, inactive, retired".into())
        });
        let mut environment = q.parsed("environment", |r| one_of(r, Environment::CHOICES));
        let mut tenant_type = None;
        match q.parsed("type", type_filter) {
            Some(TypeFilter::Type(t)) => tenant_type = Some(t),
            Some(TypeFilter::Environment(e)) if environment.is_some_and(|x| x != e) => {
                q.error("type", "contradicts environment")
            }
            Some(TypeFilter::Environment(e)) => environment = Some(e),
            Some(TypeFilter::Retired) if status.is_some_and(|s| s != Status::Retired) => {
                q.error("type", "contradicts status")
            }
            Some(TypeFilter::Retired) => status = Some(Status::Retired),
            None => {}
        }
        let parent_id = match parent {
            Some(parent) => Some(parent),
            None => q.parsed("parentId", tenant_id),
        };
        let reseller_id = q.single("resellerId").filter(|r| !r.is_empty());
        let external_id = q.parsed("externalId", external_id);
        let identity_provider_id = q.parsed("identityProviderId", |raw| IdpId::parse(raw).map(|_| raw.to_owned()));
        let mut tags = Vec::new();
        for raw in q
            .all("tags")
            .into_iter()
            .flat_map(|v| v.split(',').map(str::trim).map(str::to_owned).collect::<Vec<_>>())
        {
            match Tag::parse(&raw) {
                Ok(tag) if !tags.contains(&tag) => tags.push(tag),
                Ok(_) => {}
                Err(message) => q.error("tags", format!("'{raw}' {message}")),
            }
        }
        let include_total = q.parsed("includeTotal", boolean).unwrap_or(false);
        let page = q.parsed("page", integer_in(1, MAX_OFFSET));
        let offset = q.parsed("offset", integer_in(0, MAX_OFFSET));
        let cursor = q.single("cursor");

        let query = TenantQuery {
            sort,
            descending,
            name_prefix,
            tags,
            status,
            environment,
            tenant_type,
            parent_id,
            reseller_id,
            external_id,
            identity_provider_id,
            limit,
            ..TenantQuery::default()
        };
        let scope = scope(&query);
        let skip = match (page, offset) {
            (Some(_), Some(_)) => {
                q.error("page", "cannot be combined with offset");
                None
            }
            (Some(page), None) => Some((page - 1) * limit as u64),
            (None, offset) => offset,
        };
        if skip.is_some_and(|s| s > MAX_OFFSET) {
            q.error(
                "page",
                format!("reaches past {MAX_OFFSET} items; follow nextCursor instead"),
            );
        }
        let start = match (cursor, skip) {
            (Some(_), Some(_)) => {
                q.error("cursor", "cannot be combined with page or offset");
                Start::First
            }
            (Some(raw), None) => q
                .open_cursor("cursor", &raw, cursors, &scope)
                .map_or(Start::First, Start::Cursor),
            (None, Some(skip)) => Start::Offset(skip as usize),
            (None, None) => Start::First,
        };
        q.finish()?;
        Ok(Self {
            query,
            start,
            include_total,
            scope,
        })
    }

    pub fn seal(&self, cursors: &Cursors<'_>, position: &ListPosition) -> String {
        cursors.seal(&self.scope, position)
    }
}

/// Everything but the page size: a cursor is valid for the same filters and order.
fn scope(q: &TenantQuery) -> String {
    let tags: Vec<&str> = q.tags.iter().map(Tag::as_str).collect();
    format!(
        "tenants|sort={:?}|desc={}|name={}|tags={}|status={:?}|env={:?}|type={:?}|parent={}|reseller={}|ext={:?}|idp={}",
        q.sort,
        q.descending,
        q.name_prefix.as_deref().unwrap_or(""),
        tags.join(","),
        q.status,
        q.environment,
        q.tenant_type,
        q.parent_id.as_ref().map_or("", |p| p.as_str()),
        q.reseller_id.as_deref().unwrap_or(""),
        q.external_id,
        q.identity_provider_id.as_deref().unwrap_or(""),
    )
}
