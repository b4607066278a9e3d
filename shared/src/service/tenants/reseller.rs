//! How a new `resellerId` reaches the tenant's subtenants (Netaxis' groups).

/// What a tenant update does with the tenant's subtenants when its
/// `resellerId` changes (Netaxis' `noResellerIdToGroups` and
/// `forceResellerIdToGroups`): by default, subtenants that had the old
/// reseller get the new one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResellerPolicy {
    /// Leave the subtenants as they are.
    pub no_propagation: bool,
    /// Give every subtenant the tenant's reseller.
    pub force: bool,
}

impl ResellerPolicy {
    /// The policy the two flags ask for: `no` wins over `force` (Netaxis:
    /// force "is ignored if noResellerIdToGroups is present and true").
    pub fn of_flags(no_propagation: bool, force: bool) -> Self {
        Self {
            no_propagation,
            force: force && !no_propagation,
        }
    }
}
