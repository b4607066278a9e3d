//! One adapter per route: check the permission, parse, call the use case,
//! shape the response.

use http::StatusCode;
use lambda_http::Request;
use shared::auth::{Caller, Permission};
use shared::domain::subtenant::{Subtenant, SubtenantInput, SubtenantRef, SubtenantView};
use shared::domain::{Tenant, TenantId};
use shared::http::body::{self, JSON, MERGE_PATCH};
use shared::http::query::QueryReader;
use shared::http::{conditional, expected, path_param, response, stamp, tenant_id, HttpResult, Problem};
use shared::service::{access, subtenants};
use shared::{FieldError, HttpApp};

use crate::params::ListParams;

fn subtenant_id(req: &Request) -> Result<SubtenantRef, Problem> {
    Ok(SubtenantRef::parse(
        &path_param(req, "subtenantId").unwrap_or_default(),
    )?)
}

fn view<'a>(subtenant: &'a Subtenant, tenant: &'a Tenant) -> SubtenantView<'a> {
    subtenant.view().with_tenant_name(tenant.name.as_str())
}

fn one(status: StatusCode, subtenant: &Subtenant, tenant: &Tenant) -> lambda_http::Response<lambda_http::Body> {
    response::resource(status, &view(subtenant, tenant), subtenant.version)
}

pub async fn create(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::SubtenantsWrite)).await?;
    QueryReader::new(req).finish()?;
    let body = body::json_object(req, &[JSON])?;
    let input = SubtenantInput::parse(&body).map_err(Problem::validation)?;
    let (subtenant, tenant) = subtenants::create(&app.store, caller, &id, input, &stamp(caller)).await?;
    let location = format!("/v1/tenants/{id}/subtenants/{}", subtenant.id);
    let mut response = one(StatusCode::CREATED, &subtenant, &tenant);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    Ok(response)
}

pub async fn get(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let (id, sub) = (tenant_id(req)?, subtenant_id(req)?);
    access::permit(&app.store, caller, &id, caller.require(Permission::SubtenantsRead)).await?;
    QueryReader::new(req).finish()?;
    let if_none_match = conditional::if_none_match(req)?;
    let (subtenant, tenant) = subtenants::get(&app.store, caller, &id, &sub).await?;
    if if_none_match.is_some_and(|p| p.matches_weakly(subtenant.version)) {
        return Ok(response::not_modified(subtenant.version));
    }
    Ok(one(StatusCode::OK, &subtenant, &tenant))
}

pub async fn list(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::SubtenantsList)).await?;
    let params = ListParams::read(req, &app.cursors.for_caller(caller), Some(&id))?;
    tenant_page(app, caller, &id, &params).await
}

/// Whether the query names a `tenantId` (whose visibility then goes first).
fn has_tenant_id(req: &Request) -> bool {
    use lambda_http::RequestExt;
    req.query_string_parameters_ref()
        .is_some_and(|q| q.first("tenantId").is_some())
}

/// A page of one tenant's subtenants.
async fn tenant_page(app: &HttpApp, caller: &Caller, id: &TenantId, params: &ListParams) -> HttpResult {
    let store = &app.store;
    let request = subtenants::ListRequest {
        order: params.order,
        descending: params.descending,
        limit: params.limit,
        from: params.from.as_ref(),
        offset: params.offset,
        include_total: params.include_total,
    };
    let ((items, next), total, tenant) = subtenants::list(store, caller, id, request).await?;
    let views: Vec<SubtenantView<'_>> = items.iter().map(|s| view(s, &tenant)).collect();
    Ok(response::list(
        &views,
        next.map(|p| params.seal(&app.cursors.for_caller(caller), &p)),
        total,
    ))
}

pub async fn list_all(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    // With a `tenantId`, its visibility goes first.
    let granted = match (caller.require(Permission::SubtenantsList), has_tenant_id(req)) {
        (Err(refused), false) => return Err(refused.into()),
        (granted, _) => granted,
    };
    let params = ListParams::read(req, &app.cursors.for_caller(caller), None)?;
    if let Some(id) = &params.tenant_id {
        access::permit(&app.store, caller, id, granted).await?;
        return tenant_page(app, caller, id, &params).await;
    }
    granted?;
    if params.offset.is_some() {
        return Err(Problem::validation(vec![FieldError::new(
            "offset",
            "needs a tenantId; follow nextCursor instead",
        )]));
    }
    let (items, next) = subtenants::list_all(
        &app.store,
        caller,
        params.descending,
        params.limit,
        params.from.as_ref(),
    )
    .await?;
    let views: Vec<SubtenantView<'_>> = items.iter().map(|(s, t)| view(s, t)).collect();
    Ok(response::list(
        &views,
        next.map(|p| params.seal(&app.cursors.for_caller(caller), &p)),
        None,
    ))
}

pub async fn replace(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let (id, sub) = (tenant_id(req)?, subtenant_id(req)?);
    access::permit(&app.store, caller, &id, caller.require(Permission::SubtenantsWrite)).await?;
    QueryReader::new(req).finish()?;
    let expected = expected(req)?;
    let body = body::json_object(req, &[JSON])?;
    let input = SubtenantInput::parse(&body).map_err(Problem::validation)?;
    let (subtenant, tenant) =
        subtenants::replace(&app.store, caller, &id, &sub, input, expected.as_ref(), &stamp(caller)).await?;
    Ok(one(StatusCode::OK, &subtenant, &tenant))
}

pub async fn patch(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let (id, sub) = (tenant_id(req)?, subtenant_id(req)?);
    access::permit(&app.store, caller, &id, caller.require(Permission::SubtenantsWrite)).await?;
    QueryReader::new(req).finish()?;
    let expected = expected(req)?;
    let patch = body::json_object(req, &[MERGE_PATCH, JSON])?;
    let (subtenant, tenant) =
        subtenants::patch(&app.store, caller, &id, &sub, &patch, expected.as_ref(), &stamp(caller)).await?;
    Ok(one(StatusCode::OK, &subtenant, &tenant))
}

pub async fn delete(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let (id, sub) = (tenant_id(req)?, subtenant_id(req)?);
    access::permit(&app.store, caller, &id, caller.require(Permission::SubtenantsDelete)).await?;
    QueryReader::new(req).finish()?;
    let expected = expected(req)?;
    subtenants::delete(&app.store, caller, &id, &sub, expected.as_ref()).await?;
    Ok(response::no_content())
}
