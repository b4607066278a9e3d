//! Who may do what: permissions from the token's scope, roles from its
//! claims, and roles on tenants from memberships.
//!
//! Two questions are asked on every request. Does the token carry the
//! permission the route needs (Socotra's permission names, `group:*` for a
//! whole group)? If not: 403, naming it. Then, for a tenant: is the caller a
//! platform admin (sees and may do everything), or a member of the tenant or
//! one of its ancestors with a role high enough? A tenant the caller cannot
//! see answers 404, never 403, so ids do not leak.

use serde::{Deserialize, Serialize};

use crate::error::{Code, Error};

/// A permission a route needs, by its name in the token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    TenantsRead,
    TenantsList,
    TenantsWrite,
    TenantsRetire,
    TenantsDelete,
    TenantsCreate,
    MembersRead,
    MembersWrite,
    SubtenantsRead,
    SubtenantsList,
    SubtenantsWrite,
    SubtenantsDelete,
    IdentityProvidersRead,
    IdentityProvidersWrite,
    DeploymentsRead,
    DeploymentsWrite,
    DeploymentsCloneTest,
    DeploymentsCloneProduction,
    EventsRead,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Self::TenantsRead,
        Self::TenantsList,
        Self::TenantsWrite,
        Self::TenantsRetire,
        Self::TenantsDelete,
        Self::TenantsCreate,
        Self::MembersRead,
        Self::MembersWrite,
        Self::SubtenantsRead,
        Self::SubtenantsList,
        Self::SubtenantsWrite,
        Self::SubtenantsDelete,
        Self::IdentityProvidersRead,
        Self::IdentityProvidersWrite,
        Self::DeploymentsRead,
        Self::DeploymentsWrite,
        Self::DeploymentsCloneTest,
        Self::DeploymentsCloneProduction,
        Self::EventsRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::TenantsRead => "tenants:read",
            Self::TenantsList => "tenants:list",
            Self::TenantsWrite => "tenants:write",
            Self::TenantsRetire => "tenants:retire",
            Self::TenantsDelete => "tenants:delete",
            Self::TenantsCreate => "tenants:create-tenant",
            Self::MembersRead => "members:read",
            Self::MembersWrite => "members:write",
            Self::SubtenantsRead => "subtenants:read",
            Self::SubtenantsList => "subtenants:list",
            Self::SubtenantsWrite => "subtenants:write",
            Self::SubtenantsDelete => "subtenants:delete",
            Self::IdentityProvidersRead => "identity-providers:read",
            Self::IdentityProvidersWrite => "identity-providers:write",
            Self::DeploymentsRead => "deployments:read",
            Self::DeploymentsWrite => "deployments:write",
            Self::DeploymentsCloneTest => "deployments:cloneTest",
            Self::DeploymentsCloneProduction => "deployments:cloneProduction",
            Self::EventsRead => "events:read",
        }
    }

    /// The group of the permission (`tenants` of `tenants:read`).
    fn group(self) -> &'static str {
        self.name().split(':').next().unwrap_or_default()
    }
}

/// A caller's role on a tenant (and, by inheritance, on its descendants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantRole {
    /// Reads.
    Viewer,
    /// Reads and writes; no delete, retire or members.
    Operator,
    /// Everything on the subtree, members included.
    Admin,
}

impl TenantRole {
    pub const CHOICES: &'static [(&'static str, Self)] = &[
        ("admin", Self::Admin),
        ("operator", Self::Operator),
        ("viewer", Self::Viewer),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }
}

/// How roles are read from the token and what they mean.
///
/// The admin and creator roles are namespaced tokens (`tenancy:admin`,
/// `tenancy:creator`) and are matched only as whole roles: no split of an
/// ordinary role name ("not admin", "viewer admin") produces one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// `ROLES_CLAIM`: the claim that lists the caller's roles (default `roles`).
    pub roles_claim: String,
    /// `ADMIN_ROLE`: the platform admin role (default `tenancy:admin`).
    pub admin_role: String,
    /// `CREATOR_ROLE`: a role that may also create top-level tenants
    /// (default `tenancy:creator`; set it empty for none).
    pub creator_role: Option<String>,
    /// `GROUP_PREFIX`: what every identity-provider group mapping target
    /// starts with (default `group:`), so that a mapping names one of the
    /// platform's groups and never a role.
    pub group_prefix: String,
}

/// The default platform admin role.
pub const DEFAULT_ADMIN_ROLE: &str = "tenancy:admin";
/// The default creator role.
pub const DEFAULT_CREATOR_ROLE: &str = "tenancy:creator";
/// The default prefix of the platform's groups.
pub const DEFAULT_GROUP_PREFIX: &str = "group:";

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            roles_claim: "roles".into(),
            admin_role: DEFAULT_ADMIN_ROLE.into(),
            creator_role: Some(DEFAULT_CREATOR_ROLE.into()),
            group_prefix: DEFAULT_GROUP_PREFIX.into(),
        }
    }
}

/// Whether `role` can be a role at all: one token of visible characters,
/// without brackets or quotes (what the claims parser keeps whole).
pub fn is_role_token(role: &str) -> bool {
    !role.is_empty()
        && !role
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "[]\"'".contains(c))
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The `sub` claim: who the audit fields and memberships name.
    pub subject: String,
    pub roles: Vec<String>,
    /// Permissions from `scope` (space-separated) or a `permissions` array.
    pub permissions: Vec<String>,
    /// Holds the platform admin role: sees every tenant, has every tenant role.
    pub platform_admin: bool,
    /// May create top-level tenants (platform admin or the creator role).
    pub may_create_top_level: bool,
}

impl Caller {
    pub fn new(subject: String, roles: Vec<String>, permissions: Vec<String>, config: &AuthConfig) -> Self {
        let platform_admin = roles.contains(&config.admin_role);
        let creator = config.creator_role.as_ref().is_some_and(|r| roles.contains(r));
        Self {
            subject,
            roles,
            permissions,
            platform_admin,
            may_create_top_level: platform_admin || creator,
        }
    }

    /// Whether the token grants `permission` (by name, or `group:*`).
    pub fn has(&self, permission: Permission) -> bool {
        let wildcard = format!("{}:*", permission.group());
        self.permissions
            .iter()
            .any(|p| p == permission.name() || *p == wildcard)
    }

    /// 403 naming the permission, unless the token grants it.
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(
                Code::PermissionMissing,
                format!(
                    "this needs the permission '{}', which the token does not grant",
                    permission.name()
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: &[&str], permissions: &[&str]) -> Caller {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        Caller::new("u".into(), s(roles), s(permissions), &AuthConfig::default())
    }

    #[test]
    fn permissions_by_name_or_group_wildcard() {
        let c = caller(&[], &["tenants:read", "members:*"]);
        assert!(c.has(Permission::TenantsRead) && !c.has(Permission::TenantsWrite));
        assert!(c.has(Permission::MembersWrite) && c.has(Permission::MembersRead));
        let err = c.require(Permission::TenantsCreate).unwrap_err();
        assert!(err.to_string().contains("tenants:create-tenant"));
        assert!(!caller(&[], &["tenants:readx", "tenant:*"]).has(Permission::TenantsRead));
    }

    #[test]
    fn roles_make_platform_admins_and_creators() {
        assert!(caller(&["tenancy:admin"], &[]).platform_admin);
        for not_admin in [
            "admin",
            "operator",
            "tenancy:creator",
            "Tenancy:Admin",
            "tenancy:admin ",
        ] {
            assert!(!caller(&[not_admin], &[]).platform_admin, "{not_admin}");
        }
        let creator = caller(&["tenancy:creator"], &[]);
        assert!(creator.may_create_top_level && !creator.platform_admin);
        assert!(!caller(&["creator"], &[]).may_create_top_level);
        let config = AuthConfig {
            creator_role: Some("onboarding".into()),
            ..Default::default()
        };
        let c = Caller::new("u".into(), vec!["onboarding".into()], vec![], &config);
        assert!(c.may_create_top_level && !c.platform_admin);
        let none = AuthConfig {
            creator_role: None,
            ..Default::default()
        };
        assert!(!Caller::new("u".into(), vec!["tenancy:creator".into()], vec![], &none).may_create_top_level);
        assert!(TenantRole::Admin > TenantRole::Operator && TenantRole::Operator > TenantRole::Viewer);
    }
}
