//! The query string of subtenant lists, the Subtenants API's way: `sortBy`,
//! `orderBy`, `limit`, `offset`, plus our `cursor` and `includeTotal`.

use lambda_http::Request;
use shared::domain::TenantId;
use shared::http::cursor::Cursors;
use shared::http::query::{boolean, integer_in, QueryReader};
use shared::http::Problem;
use shared::store::subtenants::{SubtenantOrder, SubtenantPosition};

const MAX_OFFSET: u64 = 10_000;

pub struct ListParams {
    pub order: SubtenantOrder,
    pub descending: bool,
    pub limit: usize,
    pub offset: Option<usize>,
    pub from: Option<SubtenantPosition>,
    pub include_total: bool,
    /// `GET /v1/subtenants?tenantId=`.
    pub tenant_id: Option<TenantId>,
    scope: String,
}

fn sort_by(raw: &str) -> Result<SubtenantOrder, String> {
    match raw {
        "created" => Ok(SubtenantOrder::Created),
        "name" => Ok(SubtenantOrder::Name),
        "code" => Ok(SubtenantOrder::Code),
        _ => Err("must be one of: created, name, code".into()),
    }
}

fn order_by(raw: &str) -> Result<bool, String> {
    match raw {
        "asc" => Ok(false),
        "desc" => Ok(true),
        _ => Err("must be asc or desc".into()),
    }
}

impl ListParams {
    /// `global`: the `/v1/subtenants` route, which takes `tenantId`.
    pub fn read(req: &Request, cursors: &Cursors<'_>, path_tenant: Option<&TenantId>) -> Result<Self, Problem> {
        let mut q = QueryReader::new(req);
        let order = q.parsed("sortBy", sort_by).unwrap_or(SubtenantOrder::Created);
        let descending = q.parsed("orderBy", order_by).unwrap_or(false);
        let limit = q.limit();
        let offset = q.parsed("offset", integer_in(0, MAX_OFFSET)).map(|n| n as usize);
        let include_total = q.parsed("includeTotal", boolean).unwrap_or(false);
        let tenant_id = match path_tenant {
            Some(id) => Some(id.clone()),
            None => q.parsed("tenantId", TenantId::parse),
        };
        if tenant_id.is_none() && order != SubtenantOrder::Created {
            q.error(
                "sortBy",
                "name and code orders need a tenantId; all subtenants are listed by creation",
            );
        }
        if tenant_id.is_none() && include_total {
            q.error("includeTotal", "needs a tenantId");
        }
        let tenant = tenant_id.as_ref().map_or("", |t| t.as_str()).to_owned();
        let scope = format!("subtenants|tenant={tenant}|order={order:?}|desc={descending}");
        let from = match q.single("cursor") {
            Some(_) if offset.is_some() => {
                q.error("cursor", "cannot be combined with offset");
                None
            }
            Some(raw) => q.open_cursor("cursor", &raw, cursors, &scope),
            None => None,
        };
        q.finish()?;
        Ok(Self {
            order,
            descending,
            limit,
            offset,
            from,
            include_total,
            tenant_id,
            scope,
        })
    }

    pub fn seal(&self, cursors: &Cursors<'_>, position: &SubtenantPosition) -> String {
        cursors.seal(&self.scope, position)
    }
}
