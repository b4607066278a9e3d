//! What a tenant list asks for, and the rule that decides whether a tenant
//! belongs in it. The store picks an index from it; whatever the index does
//! not answer is checked by [`TenantQuery::matches`] on each tenant read.

use super::values::{name_key, Tag};
use super::{Environment, Status, Tenant, TenantId, TenantType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Name,
    CreatedAt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantQuery {
    pub sort: SortField,
    pub descending: bool,
    /// A name prefix, compared case-insensitively.
    pub name_prefix: Option<String>,
    /// All of these tags.
    pub tags: Vec<Tag>,
    /// `None`: active and inactive (retired tenants only when asked for).
    pub status: Option<Status>,
    pub environment: Option<Environment>,
    pub tenant_type: Option<TenantType>,
    pub parent_id: Option<TenantId>,
    pub reseller_id: Option<String>,
    /// `key:value` of `externalIds`.
    pub external_id: Option<(String, String)>,
    /// Tenants that authorised an identity provider with this id.
    pub identity_provider_id: Option<String>,
    /// Only tenants within these subtrees (what a non-admin may see).
    pub within: Option<Vec<TenantId>>,
    /// Only tenants none of whose [gatekeepers](Self::gatekeepers) is
    /// inactive or retired (what `service::access` lets a non-admin see).
    pub active_ancestors: bool,
    /// Of `within`, the roots the caller is admin of: an inactive or retired
    /// one of them does not hide its subtree from the caller.
    pub see_through: Vec<TenantId>,
    pub limit: usize,
}

impl Default for TenantQuery {
    fn default() -> Self {
        Self {
            sort: SortField::Name,
            descending: false,
            name_prefix: None,
            tags: Vec::new(),
            status: None,
            environment: None,
            tenant_type: None,
            parent_id: None,
            reseller_id: None,
            external_id: None,
            identity_provider_id: None,
            within: None,
            active_ancestors: false,
            see_through: Vec::new(),
            limit: 25,
        }
    }
}

impl TenantQuery {
    /// Whether `tenant` belongs in the list (every filter at once).
    pub fn matches(&self, tenant: &Tenant) -> bool {
        let status_ok = match self.status {
            None => tenant.status != Status::Retired,
            Some(status) => tenant.status == status,
        };
        status_ok
            && self.environment.is_none_or(|e| tenant.environment == e)
            && self.tenant_type.is_none_or(|t| tenant.tenant_type == t)
            && self
                .parent_id
                .as_ref()
                .is_none_or(|p| tenant.parent_id.as_ref() == Some(p))
            && self
                .reseller_id
                .as_ref()
                .is_none_or(|r| tenant.reseller_id.as_ref() == Some(r))
            && self
                .external_id
                .as_ref()
                .is_none_or(|(k, v)| tenant.external_ids.get(k) == Some(v))
            && self
                .identity_provider_id
                .as_ref()
                .is_none_or(|i| tenant.identity_provider_ids.contains(i))
            && self.tags.iter().all(|t| tenant.tags.contains(t))
            && self
                .name_prefix
                .as_ref()
                .is_none_or(|p| name_key(tenant.name.as_str()).starts_with(p.as_str()))
            && self
                .within
                .as_ref()
                .is_none_or(|roots| tenant.path.iter().any(|a| roots.contains(a)))
    }

    /// The proper ancestors of `tenant` that must be active for a non-admin
    /// to see it (`service::access`): those above its root in `within` (the
    /// caller's topmost membership on its path), and that root itself unless
    /// it is in `see_through`. An inactive tenant further down does not hide
    /// its subtree from members above it.
    pub fn gatekeepers(&self, tenant: &Tenant) -> Vec<TenantId> {
        let proper = &tenant.path[..tenant.path.len().saturating_sub(1)];
        let root = self
            .within
            .as_ref()
            .and_then(|roots| proper.iter().position(|id| roots.contains(id)));
        match root {
            Some(at) if self.see_through.contains(&proper[at]) => proper[..at].to_vec(),
            Some(at) => proper[..=at].to_vec(),
            None => proper.to_vec(),
        }
    }

    /// Whether retired tenants are the ones asked for.
    pub fn wants_retired(&self) -> bool {
        self.status == Some(Status::Retired)
    }
}
