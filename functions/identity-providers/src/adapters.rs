//! One adapter per route: check the permission, parse, call the use case,
//! shape the response.

use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use shared::auth::AuthConfig;
use shared::auth::{Caller, Permission};
use shared::domain::identity_provider::{parse_group, parse_group_target, IdentityProvider, IdpId, IdpInput};
use shared::domain::{DomainName, Status, TenantId};
use shared::error::Error;
use shared::http::body::{self, JSON};
use shared::http::query::{page, QueryReader};
use shared::http::{conditional, expected, path_param, response, stamp, tenant_id, HttpResult, Problem};
use shared::service::access;
use shared::service::identity_providers as providers;
use shared::{FieldError, HttpApp};

/// The path's segments, each validated; every bad one is listed.
struct PathIds {
    tenant: TenantId,
    provider: IdpId,
    from: Option<String>,
    to: Option<String>,
}

/// `{to}`, where a route has it, must be one of the platform's groups (see
/// [`parse_group_target`]): `auth` says which.
fn path_ids(req: &Request, auth: &AuthConfig) -> Result<PathIds, Problem> {
    let mut errors = Vec::new();
    let raw = |name: &str| path_param(req, name).unwrap_or_default();
    let tenant = TenantId::parse(&raw("id"))
        .map_err(|m| errors.push(FieldError::new("id", m)))
        .ok();
    let provider = IdpId::parse(&raw("ipId"))
        .map_err(|m| errors.push(FieldError::new("ipId", m)))
        .ok();
    let mut group = |name: &str| {
        let value = path_param(req, name)?;
        match parse_group(name, &value) {
            Ok(group) => Some(group),
            Err(Error::Invalid(e)) => {
                errors.extend(e);
                None
            }
            Err(_) => None,
        }
    };
    let from = group("from");
    let to = group("to").and_then(|to| {
        parse_group_target(&to, auth)
            .map_err(|m| errors.push(FieldError::new("to", m)))
            .ok()
    });
    match (tenant, provider) {
        (Some(tenant), Some(provider)) if errors.is_empty() => Ok(PathIds {
            tenant,
            provider,
            from,
            to,
        }),
        _ => Err(Problem::validation(errors)),
    }
}

fn location(ids: &PathIds) -> String {
    format!("/v1/tenants/{}/identity-providers/{}", ids.tenant, ids.provider)
}

pub async fn put(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let ids = path_ids(req, &app.config.auth)?;
    access::permit(
        &app.store,
        caller,
        &ids.tenant,
        caller.require(Permission::IdentityProvidersWrite),
    )
    .await?;
    QueryReader::new(req).finish()?;
    let expected = expected(req)?;
    let body = body::json_object(req, &[JSON])?;
    let input = IdpInput::parse(&body).map_err(Problem::validation)?;
    let saved = providers::put(
        &app.store,
        caller,
        &ids.tenant,
        &ids.provider,
        input,
        expected.as_ref(),
        &stamp(caller),
    )
    .await?;
    let version = saved.provider.version;
    Ok(if saved.created {
        response::created(&saved.provider, version, &location(&ids))
    } else {
        response::resource(StatusCode::OK, &saved.provider, version)
    })
}

pub async fn get(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let ids = path_ids(req, &app.config.auth)?;
    access::permit(
        &app.store,
        caller,
        &ids.tenant,
        caller.require(Permission::IdentityProvidersRead),
    )
    .await?;
    QueryReader::new(req).finish()?;
    let if_none_match = conditional::if_none_match(req)?;
    let provider = providers::get(&app.store, caller, &ids.tenant, &ids.provider).await?;
    if if_none_match.is_some_and(|p| p.matches_weakly(provider.version)) {
        return Ok(response::not_modified(provider.version));
    }
    Ok(response::resource(StatusCode::OK, &provider, provider.version))
}

/// `limit` and `cursor` (the last provider id of the previous page, sealed).
pub async fn list(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let tenant = tenant_id(req)?;
    access::permit(
        &app.store,
        caller,
        &tenant,
        caller.require(Permission::IdentityProvidersRead),
    )
    .await?;
    let scope = format!("identity-providers|{tenant}");
    let cursors = app.cursors.for_caller(caller);
    let (limit, after) = page::<IdpId>(req, &cursors, &scope)?;
    let (items, next) = providers::list(&app.store, caller, &tenant, limit, after.as_ref()).await?;
    Ok(response::list(&items, next.map(|n| cursors.seal(&scope, &n)), None))
}

pub async fn delete(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let ids = path_ids(req, &app.config.auth)?;
    access::permit(
        &app.store,
        caller,
        &ids.tenant,
        caller.require(Permission::IdentityProvidersWrite),
    )
    .await?;
    QueryReader::new(req).finish()?;
    let expected = expected(req)?;
    providers::delete(
        &app.store,
        caller,
        &ids.tenant,
        &ids.provider,
        expected.as_ref(),
        &stamp(caller),
    )
    .await?;
    Ok(response::no_content())
}

pub async fn put_mapping(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let ids = path_ids(req, &app.config.auth)?;
    access::permit(
        &app.store,
        caller,
        &ids.tenant,
        caller.require(Permission::IdentityProvidersWrite),
    )
    .await?;
    QueryReader::new(req).finish()?;
    let (Some(from), Some(to)) = (ids.from.clone(), ids.to.clone()) else {
        return Err(Problem::unknown_route("the path names no group"));
    };
    let (mapping, created) =
        providers::put_mapping(&app.store, caller, &ids.tenant, &ids.provider, from, to, &stamp(caller)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(response::json(status, &mapping))
}

pub async fn get_mapping(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let ids = path_ids(req, &app.config.auth)?;
    access::permit(
        &app.store,
        caller,
        &ids.tenant,
        caller.require(Permission::IdentityProvidersRead),
    )
    .await?;
    QueryReader::new(req).finish()?;
    let from = ids.from.as_deref().unwrap_or_default();
    let mapping = providers::get_mapping(&app.store, caller, &ids.tenant, &ids.provider, from).await?;
    Ok(response::json(StatusCode::OK, &mapping))
}

pub async fn delete_mapping(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let ids = path_ids(req, &app.config.auth)?;
    access::permit(
        &app.store,
        caller,
        &ids.tenant,
        caller.require(Permission::IdentityProvidersWrite),
    )
    .await?;
    QueryReader::new(req).finish()?;
    let from = ids.from.as_deref().unwrap_or_default();
    providers::delete_mapping(&app.store, caller, &ids.tenant, &ids.provider, from).await?;
    Ok(response::no_content())
}

/// `limit` and `cursor` (the last group id of the previous page, sealed).
pub async fn list_mappings(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let ids = path_ids(req, &app.config.auth)?;
    access::permit(
        &app.store,
        caller,
        &ids.tenant,
        caller.require(Permission::IdentityProvidersRead),
    )
    .await?;
    let scope = format!("groups|{}|{}", ids.tenant, ids.provider);
    let cursors = app.cursors.for_caller(caller);
    let (limit, after) = page::<String>(req, &cursors, &scope)?;
    let (items, next) =
        providers::list_mappings(&app.store, caller, &ids.tenant, &ids.provider, limit, after.as_deref()).await?;
    Ok(response::list(&items, next.map(|n| cursors.seal(&scope, &n)), None))
}

/// What a login page needs to send a user to their identity provider.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DomainOwner<'a> {
    domain: &'a DomainName,
    tenant_id: &'a TenantId,
    tenant_name: &'a str,
    tenant_status: Status,
    identity_provider: &'a IdentityProvider,
}

pub async fn by_domain(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let raw = path_param(req, "domain").unwrap_or_default();
    let domain = DomainName::parse(&raw).map_err(|m| Problem::validation(vec![FieldError::new("domain", m)]))?;
    QueryReader::new(req).finish()?;
    if let Err(refused) = caller.require(Permission::IdentityProvidersRead) {
        // Visibility first: a domain of a tenant the caller cannot see is 404.
        providers::by_domain(&app.store, caller, &domain).await?;
        return Err(refused.into());
    }
    let (tenant, provider) = providers::by_domain(&app.store, caller, &domain).await?;
    let owner = DomainOwner {
        domain: &domain,
        tenant_id: &tenant.id,
        tenant_name: tenant.name.as_str(),
        tenant_status: tenant.status,
        identity_provider: &provider,
    };
    Ok(response::json(StatusCode::OK, &owner))
}
