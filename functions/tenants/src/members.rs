//! Adapters of the membership routes and of `/v1/tenants/mine`.

use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use shared::auth::{Caller, Permission, TenantRole};
use shared::domain::member::parse_role;
use shared::domain::tenant::TenantView;
use shared::domain::{TenantId, UserId};
use shared::http::body::{self, JSON};
use shared::http::query::{page, QueryReader};
use shared::http::{path_param, response, stamp, tenant_id, HttpResult, Problem};
use shared::service::{access, members};
use shared::{FieldError, HttpApp};

fn user_id(req: &Request) -> Result<UserId, Problem> {
    let raw = path_param(req, "userId").unwrap_or_default();
    UserId::parse(&raw).map_err(|m| Problem::validation(vec![FieldError::new("userId", m)]))
}

pub async fn put(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let (id, user) = (tenant_id(req)?, user_id(req)?);
    access::permit(&app.store, caller, &id, caller.require(Permission::MembersWrite)).await?;
    QueryReader::new(req).finish()?;
    let body = body::json_object(req, &[JSON])?;
    let role = parse_role(&body).map_err(Problem::validation)?;
    let (member, created) = members::put(&app.store, caller, &id, &user, role, &stamp(caller)).await?;
    if created {
        let location = format!("/v1/tenants/{id}/members/{}", encode(user.as_str()));
        let mut response = response::json(StatusCode::CREATED, &member);
        if let Ok(value) = location.parse() {
            response.headers_mut().insert(http::header::LOCATION, value);
        }
        return Ok(response);
    }
    Ok(response::json(StatusCode::OK, &member))
}

pub async fn get(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let (id, user) = (tenant_id(req)?, user_id(req)?);
    access::permit(&app.store, caller, &id, caller.require(Permission::MembersRead)).await?;
    QueryReader::new(req).finish()?;
    let member = members::get(&app.store, caller, &id, &user).await?;
    Ok(response::json(StatusCode::OK, &member))
}

pub async fn delete(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let (id, user) = (tenant_id(req)?, user_id(req)?);
    access::permit(&app.store, caller, &id, caller.require(Permission::MembersWrite)).await?;
    QueryReader::new(req).finish()?;
    members::delete(&app.store, caller, &id, &user).await?;
    Ok(response::no_content())
}

pub async fn list(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::MembersRead)).await?;
    let scope = format!("members|{id}");
    let cursors = app.cursors.for_caller(caller);
    let (limit, after) = page::<UserId>(req, &cursors, &scope)?;
    let (items, next) = members::list(&app.store, caller, &id, limit, after.as_ref()).await?;
    Ok(response::list(
        &items,
        next.map(|user| cursors.seal(&scope, &user)),
        None,
    ))
}

/// A tenant with the caller's role on it.
#[derive(Serialize)]
struct MyTenant<'a> {
    #[serde(flatten)]
    tenant: TenantView<'a>,
    role: TenantRole,
}

pub async fn mine(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    caller.require(Permission::TenantsList)?;
    let scope = format!("mine|{}", caller.subject);
    let cursors = app.cursors.for_caller(caller);
    let (limit, after) = page::<TenantId>(req, &cursors, &scope)?;
    let (items, next) = members::mine(&app.store, caller, limit, after.as_ref()).await?;
    let items: Vec<MyTenant<'_>> = items
        .iter()
        .map(|(tenant, role)| MyTenant {
            tenant: tenant.view(),
            role: *role,
        })
        .collect();
    Ok(response::list(&items, next.map(|id| cursors.seal(&scope, &id)), None))
}

/// Percent-encodes a path segment.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
