//! The query string of `GET /v1/tenants`, read strictly, and the cursor
//! scope that binds a cursor to the query it came from.

use lambda_http::Request;
use shared::domain::values::name_key;
use shared::domain::Status;
use shared::http::cursor::CursorKey;
use shared::http::query::{integer_in, QueryReader};
use shared::http::Problem;
use shared::store::{ListPosition, SortField, TenantListQuery};

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: u64 = 100;

pub struct ListParams {
    pub query: TenantListQuery,
    pub position: Option<ListPosition>,
    scope: String,
}

fn sort(raw: &str) -> Result<(SortField, bool), String> {
    let mut words = raw.split([' ', ',', ':']).filter(|w| !w.is_empty());
    let field = match words.next() {
        Some("name") => SortField::Name,
        Some("createdAt") => SortField::CreatedAt,
        _ => return Err("must be one of: name asc, name desc, createdAt asc, createdAt desc".into()),
    };
    let descending = match (words.next(), words.next()) {
        (None | Some("asc"), None) => false,
        (Some("desc"), None) => true,
        _ => return Err("must be one of: name asc, name desc, createdAt asc, createdAt desc".into()),
    };
    Ok((field, descending))
}

fn status(raw: &str) -> Result<Status, String> {
    Status::parse(raw).ok_or_else(|| "must be one of: active, inactive, retired".into())
}

fn prefix(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.chars().count() > 128 {
        return Err("must have 1 to 128 characters".into());
    }
    Ok(name_key(raw))
}

impl ListParams {
    pub fn read(req: &Request, cursors: &CursorKey) -> Result<Self, Problem> {
        let mut q = QueryReader::new(req);
        let limit = q
            .parsed("limit", integer_in(1, MAX_LIMIT))
            .map_or(DEFAULT_LIMIT, |n| n as usize);
        let (sort, descending) = q.parsed("sort", sort).unwrap_or((SortField::Name, false));
        let name_prefix = q.parsed("name", prefix);
        let status = q.parsed("status", status);
        let cursor = q.single("cursor");
        let query = TenantListQuery {
            sort,
            descending,
            name_prefix,
            status,
            limit,
        };
        // The page size may change between pages; the filters and order may not.
        let scope = format!(
            "tenants|sort={sort:?}|desc={descending}|name={}|status={}",
            query.name_prefix.as_deref().unwrap_or(""),
            query.status.map_or("", |s| s.as_str())
        );
        let position = match cursor {
            Some(raw) => match cursors.open::<ListPosition>(&scope, &raw) {
                Ok(position) => Some(position),
                Err(e) => {
                    q.error(&e.field, e.message);
                    None
                }
            },
            None => None,
        };
        q.finish()?;
        Ok(Self { query, position, scope })
    }

    pub fn seal(&self, cursors: &CursorKey, position: &ListPosition) -> String {
        cursors.seal(&self.scope, position)
    }
}
