//! One adapter per route: check the permission, parse, call the use case,
//! shape the response.

use http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::auth::{Caller, Permission};
use shared::domain::deployment::{
    parse_job_id, CloneInput, Configuration, ConfigurationError, Format, Job, JobStatus, MAX_CONFIGURATION_BYTES,
};
use shared::domain::tenant::TenantView;
use shared::domain::{Environment, TenantId};
use shared::http::body::{self, JSON};
use shared::http::query::{boolean, integer_in, page, QueryReader};
use shared::http::{path_param, response, stamp, tenant_id, HttpResult, Problem};
use shared::service::{access, deployments};
use shared::{FieldError, HttpApp};

const ZIP: &str = "application/zip";

fn location(tenant_id: &TenantId, version: u64) -> String {
    format!("/v1/tenants/{tenant_id}/deployments/{version}")
}

/// `application/json` (an object) or `application/zip`, ≤ 256 KiB.
pub async fn deploy(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::DeploymentsWrite)).await?;
    QueryReader::new(req).finish()?;
    let (media, bytes) = body::upload(req, &[JSON, ZIP], MAX_CONFIGURATION_BYTES)?;
    let parsed = match media.as_str() {
        ZIP => Configuration::zip(bytes.to_vec()),
        _ => match body::first_duplicate_key(bytes) {
            Some(path) => return Err(body::duplicate_key(path)),
            None => Configuration::json(bytes.to_vec()),
        },
    };
    let configuration = parsed.map_err(|e| match e {
        ConfigurationError::TooLarge(_) => Problem::payload_too_large(e.message()),
        ConfigurationError::Invalid(_) => Problem::malformed_body(e.message()),
        ConfigurationError::ExpandsTooMuch(reasons) => Problem {
            errors: reasons.into_iter().map(|r| FieldError::new("body", r)).collect(),
            ..Problem::new(
                StatusCode::BAD_REQUEST,
                shared::error::Code::ZipExpandsTooMuch,
                "Zip expands too much",
                format!(
                    "the zip declares more than it may unpack to: at most {} bytes in all, and {}:1 per entry and overall; see errors",
                    shared::domain::zip::MAX_UNCOMPRESSED_BYTES,
                    shared::domain::zip::MAX_RATIO
                ),
            )
        },
    })?;
    let deployed = deployments::deploy(&app.store, caller, &id, configuration, &stamp(caller)).await?;
    let version = deployed.deployment.version;
    Ok(if deployed.created {
        response::created(&deployed.deployment, version, &location(&id, version))
    } else {
        response::resource(StatusCode::OK, &deployed.deployment, version)
    })
}

/// Newest first; `limit` and `cursor` (the last version of the previous page, sealed).
pub async fn list(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    access::permit(&app.store, caller, &id, caller.require(Permission::DeploymentsRead)).await?;
    let scope = format!("deployments|{id}");
    let cursors = app.cursors.for_caller(caller);
    let (limit, before) = page::<u64>(req, &cursors, &scope)?;
    let (items, next) = deployments::list(&app.store, caller, &id, limit, before).await?;
    Ok(response::list(&items, next.map(|n| cursors.seal(&scope, &n)), None))
}

/// The metadata, or with `download=true` the original bytes.
pub async fn get(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = path_param(req, "id").unwrap_or_default();
    let raw_version = path_param(req, "version").unwrap_or_default();
    let mut errors = Vec::new();
    let id = TenantId::parse(&id)
        .map_err(|m| errors.push(FieldError::new("id", m)))
        .ok();
    let version = integer_in(1, 9_999_999_999)(&raw_version)
        .map_err(|m| errors.push(FieldError::new("version", m)))
        .ok();
    let (Some(id), Some(version)) = (id, version) else {
        return Err(Problem::validation(errors));
    };
    access::permit(&app.store, caller, &id, caller.require(Permission::DeploymentsRead)).await?;
    let mut q = QueryReader::new(req);
    let download = q.parsed("download", boolean).unwrap_or(false);
    q.finish()?;
    if !download {
        let deployment = deployments::get(&app.store, caller, &id, version).await?;
        return Ok(response::resource(StatusCode::OK, &deployment, version));
    }
    let (deployment, bytes) = deployments::download(&app.store, caller, &id, version).await?;
    let extension = match deployment.format {
        Format::Json => "json",
        Format::Zip => "zip",
    };
    let body = match deployment.format {
        Format::Json => Body::Text(
            String::from_utf8(bytes)
                .map_err(|_| Problem::from(shared::error::Error::internal("stored JSON is not UTF-8")))?,
        ),
        Format::Zip => Body::Binary(bytes),
    };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, deployment.format.content_type())
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{id}-v{version}.{extension}\""),
        )
        .header(header::ETAG, format!("\"{}\"", deployment.sha256))
        .body(body)
        .expect("status and headers are valid"))
}

/// The answer to a clone (Socotra's): the new tenant's id, the job, and
/// where to follow it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CloneStarted<'a> {
    tenant_id: &'a TenantId,
    job_id: &'a str,
    resource_clone_status: JobStatus,
    tenant: TenantView<'a>,
    job: &'a Job,
}

pub async fn clone(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let id = tenant_id(req)?;
    // Which of the two it needs depends on the body; without either, no body
    // helps (visibility first all the same).
    let either = match caller.has(Permission::DeploymentsCloneTest) {
        true => Ok(()),
        false => caller.require(Permission::DeploymentsCloneProduction),
    };
    access::permit(&app.store, caller, &id, either).await?;
    QueryReader::new(req).finish()?;
    let body = body::json_object(req, &[JSON])?;
    let input = CloneInput::parse(&body).map_err(Problem::validation)?;
    let granted = caller.require(match input.environment {
        Environment::Test => Permission::DeploymentsCloneTest,
        Environment::Production => Permission::DeploymentsCloneProduction,
    });
    access::permit(&app.store, caller, &id, granted).await?;
    let (tenant, job) = deployments::clone(&app.store, caller, &id, input, &stamp(caller)).await?;
    let started = CloneStarted {
        tenant_id: &tenant.id,
        job_id: &job.id,
        resource_clone_status: job.status,
        tenant: tenant.view(),
        job: &job,
    };
    let mut response = response::json(StatusCode::ACCEPTED, &started);
    if let Ok(value) = format!("/v1/jobs/{}", job.id).parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

pub async fn job(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    let raw = path_param(req, "jobId").unwrap_or_default();
    let id = parse_job_id(&raw).map_err(|m| Problem::validation(vec![FieldError::new("jobId", m)]))?;
    QueryReader::new(req).finish()?;
    if let Err(refused) = caller.require(Permission::DeploymentsRead) {
        // Visibility first: a job the caller cannot see is 404.
        deployments::job(&app.store, caller, &id).await?;
        return Err(refused.into());
    }
    let job = deployments::job(&app.store, caller, &id).await?;
    Ok(response::json(StatusCode::OK, &job))
}
