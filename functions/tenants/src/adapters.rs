//! One adapter per route: parse the request, call the service, shape the
//! response. No rules live here.

use http::StatusCode;
use lambda_http::Request;
use shared::domain::tenant::{parse_retire_reason, Change, InputMode};
use shared::domain::{TenantId, TenantInput, Timestamp};
use shared::http::body::{self, JSON, MERGE_PATCH};
use shared::http::claims::Caller;
use shared::http::{conditional, path_param, response, HttpResult, Problem};
use shared::service::{tenants, Expected};
use shared::{App, FieldError};

use crate::list_params::ListParams;

fn tenant_id(req: &Request) -> Result<TenantId, Problem> {
    let raw = path_param(req, "id").unwrap_or_default();
    TenantId::parse(&raw).map_err(|message| Problem::validation(vec![FieldError::new("id", message)]))
}

fn change(caller: &Caller) -> Change {
    Change {
        actor: caller.subject.clone(),
        at: Timestamp::now(),
    }
}

fn expected(req: &Request) -> Result<Option<Expected>, Problem> {
    Ok(conditional::if_match(req)?.map(|p| p.expected()))
}

fn location(id: &TenantId) -> String {
    format!("/v1/tenants/{id}")
}

pub async fn create(app: &App, req: &Request, caller: &Caller) -> HttpResult {
    let body = body::json_object(req, &[JSON])?;
    let input = TenantInput::parse(&body, InputMode::Create).map_err(Problem::validation)?;
    let tenant = tenants::create(&app.store, input, &change(caller)).await?;
    Ok(response::created(&tenant, tenant.version, &location(&tenant.id)))
}

pub async fn get(app: &App, req: &Request) -> HttpResult {
    let id = tenant_id(req)?;
    let if_none_match = conditional::if_none_match(req)?;
    let tenant = tenants::get(&app.store, &id).await?;
    if if_none_match.is_some_and(|p| p.matches_weakly(tenant.version)) {
        return Ok(response::not_modified(tenant.version));
    }
    Ok(response::resource(StatusCode::OK, &tenant, tenant.version))
}

pub async fn list(app: &App, req: &Request) -> HttpResult {
    let params = ListParams::read(req, &app.cursors)?;
    let page = tenants::list(&app.store, &params.query, params.position.as_ref()).await?;
    let next_cursor = page.next.as_ref().map(|position| params.seal(&app.cursors, position));
    Ok(response::list(&page.items, next_cursor, None))
}

pub async fn replace(app: &App, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    let expected = expected(req)?;
    let body = body::json_object(req, &[JSON])?;
    let input = TenantInput::parse(&body, InputMode::Replace).map_err(Problem::validation)?;
    let tenant = tenants::replace(&app.store, &id, input, expected.as_ref(), &change(caller)).await?;
    Ok(response::resource(StatusCode::OK, &tenant, tenant.version))
}

pub async fn patch(app: &App, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    let expected = expected(req)?;
    let patch = body::json_object(req, &[MERGE_PATCH, JSON])?;
    let tenant = tenants::patch(&app.store, &id, &patch, expected.as_ref(), &change(caller)).await?;
    Ok(response::resource(StatusCode::OK, &tenant, tenant.version))
}

pub async fn delete(app: &App, req: &Request) -> HttpResult {
    let id = tenant_id(req)?;
    let expected = expected(req)?;
    tenants::delete(&app.store, &id, expected.as_ref()).await?;
    Ok(response::no_content())
}

pub async fn retire(app: &App, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    let expected = expected(req)?;
    let body = body::optional_json_object(req, &[JSON])?;
    let reason = parse_retire_reason(body.as_ref()).map_err(Problem::validation)?;
    let tenant = tenants::retire(&app.store, &id, reason, expected.as_ref(), &change(caller)).await?;
    Ok(response::resource(StatusCode::OK, &tenant, tenant.version))
}

pub async fn restore(app: &App, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    let expected = expected(req)?;
    body::optional_json_object(req, &[JSON])?;
    let tenant = tenants::restore(&app.store, &id, expected.as_ref(), &change(caller)).await?;
    Ok(response::resource(StatusCode::OK, &tenant, tenant.version))
}
