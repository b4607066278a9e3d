//! What every adapter reads from a request besides its body and query: the
//! path's parameters, the caller's change stamp and the `If-Match` guard.

use lambda_http::Request;

use super::{conditional, Problem};
use crate::auth::Caller;
use crate::domain::tenant::Stamp;
use crate::domain::{TenantId, Timestamp};
use crate::service::Expected;
use crate::FieldError;

/// A path parameter as API Gateway decoded it.
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    use lambda_http::RequestExt;
    req.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned)
}

/// The path's `{id}`: the tenant the route is about.
pub fn tenant_id(req: &Request) -> Result<TenantId, Problem> {
    let raw = path_param(req, "id").unwrap_or_default();
    TenantId::parse(&raw).map_err(|message| Problem::validation(vec![FieldError::new("id", message)]))
}

/// Who changes something, and when: the caller, now.
pub fn stamp(caller: &Caller) -> Stamp {
    Stamp {
        actor: caller.subject.clone(),
        at: Timestamp::now(),
    }
}

/// The versions a write guarded by `If-Match` may find (`None`: no guard).
pub fn expected(req: &Request) -> Result<Option<Expected>, Problem> {
    Ok(conditional::if_match(req)?.map(|p| p.expected()))
}
