//! One adapter per tenant route: check the token's permission, parse the
//! request, call the use case, shape the response. No rules live here.
//!
//! A route about one tenant checks the permission after visibility
//! ([`access::permit`]): without it, a tenant the caller cannot see is 404,
//! one it sees 403.

use http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use shared::auth::{Caller, Permission};
use shared::domain::deployment::Configuration;
use shared::domain::tenant::{parse_restore_reason, parse_retire_reason, InputMode, TenantView};
use shared::domain::{Tenant, TenantId, TenantInput};
use shared::http::body::{self, JSON, MERGE_PATCH};
use shared::http::query::{boolean, page, QueryReader};
use shared::http::{conditional, expected, idempotency, path_param, response, stamp, tenant_id, HttpResult, Problem};
use shared::service::access;
use shared::service::tenants::{self, Created, CreatedWith, DeleteMode, ResellerPolicy, Updated};
use shared::{FieldError, HttpApp};

use crate::list_params::{ListParams, Start};

/// Routes that take no query parameters refuse any.
fn no_query(req: &Request) -> Result<(), Problem> {
    QueryReader::new(req).finish()
}

fn location(id: &TenantId) -> String {
    format!("/v1/tenants/{id}")
}

pub async fn create(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    caller.require(Permission::TenantsCreate)?;
    no_query(req)?;
    let mut body = body::json_object(req, &[JSON])?;
    let idempotency = idempotency::from_request(req, caller, &body)?;
    let configuration = body.remove("configuration").filter(|v| !v.is_null()).map(|v| match v {
        serde_json::Value::Object(object) => {
            Configuration::from_object(&object).map_err(|e| FieldError::new("configuration", e.message()))
        }
        other => Err(FieldError::new(
            "configuration",
            format!("must be an object, not {}", shared::domain::input::kind_of(&other)),
        )),
    });
    let input = TenantInput::parse(&body, InputMode::Create);
    let (input, configuration) = match (input, configuration.transpose()) {
        (Ok(input), Ok(configuration)) => (input, configuration),
        (input, configuration) => {
            let mut errors = input.err().unwrap_or_default();
            errors.extend(configuration.err());
            return Err(Problem::validation(errors));
        }
    };
    let with = CreatedWith {
        configuration,
        clone_of: None,
    };
    match tenants::create(&app.store, caller, input, &stamp(caller), idempotency.as_ref(), with).await? {
        Created::New(new) => Ok(response::created(&new, new.tenant.version, &location(&new.tenant.id))),
        Created::Replayed { status, body } => Ok(replayed(status, body)),
    }
}

/// The stored first answer of an idempotent create, with its headers.
fn replayed(status: u16, body: String) -> Response<Body> {
    let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotent-replayed", "true");
    if let Some(id) = parsed["id"].as_str() {
        builder = builder.header(header::LOCATION, format!("/v1/tenants/{id}"));
    }
    if let Some(version) = parsed["version"].as_u64() {
        builder = builder.header(header::ETAG, response::etag(version));
    }
    builder.body(Body::Text(body)).expect("status and headers are valid")
}

pub async fn get(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsRead)).await?;
    no_query(req)?;
    let if_none_match = conditional::if_none_match(req)?;
    let tenant = tenants::get(&app.store, caller, &id).await?;
    if if_none_match.is_some_and(|p| p.matches_weakly(tenant.version)) {
        return Ok(response::not_modified(tenant.version));
    }
    Ok(response::resource(StatusCode::OK, &tenant.view(), tenant.version))
}

pub async fn get_by_name(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    no_query(req)?;
    let name = path_param(req, "name").unwrap_or_default();
    if let Err(refused) = caller.require(Permission::TenantsRead) {
        // Visibility first: a name the caller cannot see is 404.
        tenants::get_by_name(&app.store, caller, &name).await?;
        return Err(refused.into());
    }
    let tenant = tenants::get_by_name(&app.store, caller, &name).await?;
    Ok(response::resource(StatusCode::OK, &tenant.view(), tenant.version))
}

pub async fn list(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    caller.require(Permission::TenantsList)?;
    let params = ListParams::read(req, &app.cursors.for_caller(caller), None)?;
    list_page(app, caller, params).await
}

pub async fn children(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsList)).await?;
    let params = ListParams::read(req, &app.cursors.for_caller(caller), Some(id.clone()))?;
    tenants::get(&app.store, caller, &id).await?;
    list_page(app, caller, params).await
}

/// A page of a list, narrowed to what the caller may see.
async fn list_page(app: &HttpApp, caller: &Caller, params: ListParams) -> HttpResult {
    let store = &app.store;
    let query = tenants::visible(store, caller, params.query.clone()).await?;
    let page = match &params.start {
        Start::Cursor(position) => tenants::list(store, &query, Some(position)).await?,
        Start::Offset(offset) => tenants::list_from_offset(store, &query, *offset).await?,
        Start::First => tenants::list(store, &query, None).await?,
    };
    let total = if params.include_total {
        Some(tenants::count(store, &query).await?)
    } else {
        None
    };
    let cursors = app.cursors.for_caller(caller);
    let next_cursor = page.next.as_ref().map(|position| params.seal(&cursors, position));
    let items: Vec<TenantView<'_>> = page.items.iter().map(Tenant::view).collect();
    Ok(response::list(&items, next_cursor, total))
}

pub async fn ancestors(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsRead)).await?;
    no_query(req)?;
    let ancestors = tenants::ancestors(&app.store, caller, &id).await?;
    let ancestors: Vec<TenantView<'_>> = ancestors.iter().map(Tenant::view).collect();
    Ok(response::list(&ancestors, None, None))
}

pub async fn history(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsRead)).await?;
    let scope = format!("events|{id}");
    let cursors = app.cursors.for_caller(caller);
    let (limit, before) = page::<u64>(req, &cursors, &scope)?;
    let (events, next) = tenants::history(&app.store, caller, &id, limit, before).await?;
    let next_cursor = next.map(|version| cursors.seal(&scope, &version));
    Ok(response::list(&events, next_cursor, None))
}

/// Netaxis' `noResellerIdToGroups` and `forceResellerIdToGroups`, as query
/// parameters or as body fields (taken out of the body: never stored);
/// either form sets a flag, and `no` wins over `force`.
fn reseller_policy(req: &Request, body: &mut Map<String, Value>) -> Result<ResellerPolicy, Problem> {
    let mut q = QueryReader::new(req);
    let mut flags = [false; 2];
    for (flag, name) in flags.iter_mut().zip(RESELLER_FLAGS) {
        *flag = q.parsed(name, boolean).unwrap_or(false);
        match body.remove(name) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(set)) => *flag |= set,
            Some(_) => q.error(name, "must be true or false"),
        }
    }
    q.finish()?;
    let [no_propagation, force] = flags;
    Ok(ResellerPolicy::of_flags(no_propagation, force))
}

const RESELLER_FLAGS: [&str; 2] = ["noResellerIdToGroups", "forceResellerIdToGroups"];

/// The updated tenant, with how many subtenants took its new reseller.
fn updated(updated: Updated) -> Response<Body> {
    let mut response = response::resource(StatusCode::OK, &updated.tenant.view(), updated.tenant.version);
    if let Some(count) = updated.subtenants_updated {
        response.headers_mut().insert(SUBTENANTS_UPDATED, count.into());
    }
    response
}

/// How many subtenants an update gave the tenant's new reseller (absent when
/// the propagation was cut off and left to the clean-up).
pub const SUBTENANTS_UPDATED: &str = "tenancy-subtenants-updated";

pub async fn replace(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsWrite)).await?;
    let expected = expected(req)?;
    let mut body = body::json_object(req, &[JSON])?;
    // Every invalid field at once: the flags' and the tenant's.
    let (policy, input) = match (
        reseller_policy(req, &mut body),
        TenantInput::parse(&body, InputMode::Replace),
    ) {
        (Ok(policy), Ok(input)) => (policy, input),
        (policy, input) => {
            let mut errors = policy.err().map(|p| p.errors).unwrap_or_default();
            errors.extend(input.err().unwrap_or_default());
            return Err(Problem::validation(errors));
        }
    };
    let result = tenants::replace(
        &app.store,
        caller,
        &id,
        input,
        expected.as_ref(),
        policy,
        &stamp(caller),
    )
    .await?;
    Ok(updated(result))
}

pub async fn patch(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsWrite)).await?;
    let expected = expected(req)?;
    let mut patch = body::json_object(req, &[MERGE_PATCH, JSON])?;
    let policy = reseller_policy(req, &mut patch)?;
    let result = tenants::patch(
        &app.store,
        caller,
        &id,
        &patch,
        expected.as_ref(),
        policy,
        &stamp(caller),
    )
    .await?;
    Ok(updated(result))
}

pub async fn delete(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsDelete)).await?;
    let expected = expected(req)?;
    let mut q = QueryReader::new(req);
    let force = q.parsed("force", boolean);
    let dry_run = q.parsed("dryRun", boolean);
    q.finish()?;
    let mode = DeleteMode {
        force: force.unwrap_or(false),
        dry_run: dry_run.unwrap_or(false),
    };
    let report = tenants::delete(&app.store, caller, &id, expected.as_ref(), mode).await?;
    // A plain delete answers 204; a forced one or a dry run, the report.
    if !mode.force && !mode.dry_run {
        return Ok(response::no_content());
    }
    Ok(response::json(StatusCode::OK, &report))
}

pub async fn retire(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsRetire)).await?;
    no_query(req)?;
    let expected = expected(req)?;
    let body = body::optional_json_object(req, &[JSON])?;
    let reason = parse_retire_reason(body.as_ref()).map_err(Problem::validation)?;
    let tenant = tenants::retire(&app.store, caller, &id, reason, expected.as_ref(), &stamp(caller)).await?;
    Ok(response::resource(StatusCode::OK, &tenant.view(), tenant.version))
}

pub async fn restore(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::TenantsRetire)).await?;
    no_query(req)?;
    let expected = expected(req)?;
    let body = body::optional_json_object(req, &[JSON])?;
    let reason = parse_restore_reason(body.as_ref()).map_err(Problem::validation)?;
    let tenant = tenants::restore(&app.store, caller, &id, reason, expected.as_ref(), &stamp(caller)).await?;
    Ok(response::resource(StatusCode::OK, &tenant.view(), tenant.version))
}

/// The OpenAPI document, cacheable for an hour.
pub fn openapi(req: &Request) -> HttpResult {
    no_query(req)?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(Body::Text(shared::openapi::DOCUMENT.to_owned()))
        .expect("status and headers are valid"))
}
