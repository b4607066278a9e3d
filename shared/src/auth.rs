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
    /// `PERMISSION_PREFIX`: what the identity provider puts before our
    /// permission names (Amazon Cognito: the resource server identifier and
    /// `/`); none by default.
    pub permission_prefix: Option<PermissionPrefix>,
    /// `PERMISSIONS_CLAIMS`: the claims permissions are read from (default
    /// `scope permissions`; Okta and Microsoft Entra ID: `scp`).
    pub permissions_claims: PermissionsClaims,
}

/// What an identity provider puts before each of our permission names in
/// its tokens: Amazon Cognito issues a resource server's custom scope as
/// `<identifier>/<scope>` (`https://tenancy.example.com/tenants:read`).
///
/// With a prefix, a permission counts only in its prefixed form, stripped of
/// it; an unprefixed `tenants:read` is then ignored. A token may carry the
/// scopes of several resource servers (APIs) of the same issuer, and
/// another resource server's scope must never grant ours: only the one
/// identifier configured here names this API, so nothing short of it
/// (another identifier, no identifier, any text up to a `/`) is stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionPrefix(String);

impl PermissionPrefix {
    /// One token (no spaces, brackets or quotes: a permission is one whole
    /// token, so a prefix with them would never match) that ends with a
    /// separator, not a letter or digit: `https://tenancy.example.com`
    /// without its `/` would leave `/tenants:read`, which grants nothing,
    /// and is refused at init rather than silently granting nothing.
    pub fn parse(prefix: &str) -> Result<Self, String> {
        if !is_role_token(prefix) {
            return Err(format!(
                "must be one token without spaces, brackets or quotes, not '{prefix}'"
            ));
        }
        match prefix.chars().last() {
            Some(last) if last.is_alphanumeric() => Err(format!(
                "must end with the separator the identity provider puts before each permission, \
                 not with '{last}' (for Amazon Cognito: the resource server identifier and '/', '{prefix}/')"
            )),
            _ => Ok(Self(prefix.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The permission name in `granted`, if it is in our prefixed form.
    pub fn strip<'a>(&self, granted: &'a str) -> Option<&'a str> {
        granted.strip_prefix(self.0.as_str())
    }
}

/// The claims permissions are read from, in order, each at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionsClaims(Vec<String>);

/// The default permissions claims: OAuth's `scope` and Auth0's RBAC `permissions`.
pub const DEFAULT_PERMISSIONS_CLAIMS: &[&str] = &["scope", "permissions"];

impl PermissionsClaims {
    /// Claim names separated by spaces or commas (a CloudFormation list
    /// parameter joins with commas): at least one, each one token without
    /// brackets or quotes, none twice.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut names: Vec<String> = Vec::new();
        for name in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|n| !n.is_empty())
        {
            if !is_role_token(name) {
                return Err(format!("'{name}' cannot be a claim name (no brackets or quotes)"));
            }
            if names.iter().any(|n| n == name) {
                return Err(format!("names the claim '{name}' twice"));
            }
            names.push(name.to_owned());
        }
        if names.is_empty() {
            return Err("must name at least one claim, such as scope".into());
        }
        Ok(Self(names))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl Default for PermissionsClaims {
    fn default() -> Self {
        Self(DEFAULT_PERMISSIONS_CLAIMS.iter().map(|n| n.to_string()).collect())
    }
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
            permission_prefix: None,
            permissions_claims: PermissionsClaims::default(),
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
    /// The permission names the token grants, from the permissions claims
    /// (`PERMISSIONS_CLAIMS`), with `PERMISSION_PREFIX` stripped (and,
    /// when it is set, only those that carried it).
    pub permissions: Vec<String>,
    /// Holds the platform admin role: sees every tenant, has every tenant role.
    pub platform_admin: bool,
    /// May create top-level tenants (platform admin or the creator role).
    pub may_create_top_level: bool,
}

impl Caller {
    /// The caller with `roles` and the permissions `granted` (as the
    /// token's claims list them, before `PERMISSION_PREFIX` is stripped).
    pub fn new(subject: String, roles: Vec<String>, granted: Vec<String>, config: &AuthConfig) -> Self {
        let platform_admin = roles.contains(&config.admin_role);
        let creator = config.creator_role.as_ref().is_some_and(|r| roles.contains(r));
        let permissions = match &config.permission_prefix {
            None => granted,
            Some(prefix) => granted
                .iter()
                .filter_map(|g| prefix.strip(g))
                .map(str::to_owned)
                .collect(),
        };
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

    const COGNITO: &str = "https://tenancy.example.com/";

    fn prefixed(prefix: &str, granted: &[&str]) -> Caller {
        let config = AuthConfig {
            permission_prefix: Some(PermissionPrefix::parse(prefix).unwrap()),
            ..Default::default()
        };
        Caller::new(
            "u".into(),
            vec![],
            granted.iter().map(|g| g.to_string()).collect(),
            &config,
        )
    }

    /// Issue 24: Amazon Cognito's `<identifier>/<scope>` form grants the
    /// scope; the bare name, another resource server's scope and the
    /// provider's own scopes grant nothing once a prefix is set.
    #[test]
    fn a_prefix_is_stripped_and_only_the_prefixed_form_counts() {
        let c = prefixed(
            COGNITO,
            &[
                "openid",
                "aws.cognito.signin.user.admin",
                "https://tenancy.example.com/tenants:read",
                "https://tenancy.example.com/members:*",
                "tenants:write",
                "https://billing.example.com/tenants:delete",
                "https://tenancy.example.com.evil/tenants:retire",
                "https://TENANCY.example.com/tenants:list",
            ],
        );
        assert_eq!(c.permissions, ["tenants:read", "members:*"]);
        assert!(c.has(Permission::TenantsRead) && c.has(Permission::MembersWrite));
        for not_granted in [
            Permission::TenantsWrite,
            Permission::TenantsDelete,
            Permission::TenantsRetire,
            Permission::TenantsList,
        ] {
            assert!(!c.has(not_granted), "{}", not_granted.name());
        }
        // Without a prefix, names match exactly, as before.
        let plain = caller(&[], &["https://tenancy.example.com/tenants:read", "tenants:list"]);
        assert!(!plain.has(Permission::TenantsRead) && plain.has(Permission::TenantsList));
    }

    #[test]
    fn a_prefix_that_could_never_match_is_refused() {
        for good in [COGNITO, "api://tenancy/", "tenancy:", "urn:acme:tenancy#", "tenancy."] {
            assert_eq!(PermissionPrefix::parse(good).unwrap().as_str(), good);
        }
        for (bad, why) in [
            ("https://tenancy.example.com", "'https://tenancy.example.com/'"),
            ("tenancy", "separator"),
            ("a b/", "one token"),
            ("[x]/", "one token"),
            ("\"x\"/", "one token"),
            ("", "one token"),
        ] {
            let err = PermissionPrefix::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_permissions_claims_are_a_list_of_claim_names() {
        let names =
            |list: &str| PermissionsClaims::parse(list).map(|c| c.names().map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(names("scp").unwrap(), ["scp"]);
        assert_eq!(names(" scope  permissions ").unwrap(), ["scope", "permissions"]);
        assert_eq!(names("scp,roles").unwrap(), ["scp", "roles"]);
        assert_eq!(
            names("https://tenancy.example.com/permissions").unwrap(),
            ["https://tenancy.example.com/permissions"]
        );
        assert_eq!(
            PermissionsClaims::default().names().collect::<Vec<_>>(),
            DEFAULT_PERMISSIONS_CLAIMS
        );
        for (bad, why) in [
            ("", "at least one"),
            (" , ", "at least one"),
            ("scp scp", "twice"),
            ("[scp]", "claim name"),
            ("\"scp\"", "claim name"),
        ] {
            let err = PermissionsClaims::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    proptest::proptest! {
        /// Whatever the prefix: its form grants exactly the permission (or
        /// its group's wildcard); the bare name, and the name behind any
        /// other text, never do.
        #[test]
        fn only_the_configured_prefix_grants(
            prefix in "[a-z][a-z0-9.:/_-]{0,30}[/:#.]",
            other in "[a-zA-Z0-9.:/_#-]{1,30}",
            index in 0..Permission::ALL.len(),
        ) {
            let permission = Permission::ALL[index];
            let name = permission.name();
            let ours = format!("{prefix}{name}");
            proptest::prop_assert!(prefixed(&prefix, &[&ours]).has(permission), "{}", ours);
            let wildcard = format!("{prefix}{}:*", permission.group());
            proptest::prop_assert!(prefixed(&prefix, &[&wildcard]).has(permission), "{}", wildcard);
            proptest::prop_assert!(!prefixed(&prefix, &[name]).has(permission), "{}", name);
            if other != prefix {
                let elsewhere = format!("{other}{name}");
                proptest::prop_assert!(!prefixed(&prefix, &[&elsewhere]).has(permission), "{}", elsewhere);
            }
        }
    }
}
