//! How a new `resellerId` reaches the tenant's subtenants (Netaxis' groups).

use crate::domain::Tenant;
use crate::store::work::Work;

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

    /// The propagation a change from `current` to `next` asks for, if the
    /// tenant has subtenants: with `force`, always (every subtenant gets
    /// the reseller, changed or not); else when the reseller changes,
    /// unless told not to.
    pub(super) fn propagation(self, current: &Tenant, next: &Tenant) -> Option<Work> {
        (current.subtenant_count > 0
            && (self.force || (current.reseller_id != next.reseller_id && !self.no_propagation)))
            .then(|| Work::PropagateReseller {
                tenant_id: current.id.clone(),
                old: current.reseller_id.clone(),
                new: next.reseller_id.clone(),
                force: self.force,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::tenants::plan::tests::tenant;

    fn with_reseller(tenant: &Tenant, reseller: Option<&str>, subtenants: u32) -> Tenant {
        Tenant {
            reseller_id: reseller.map(str::to_owned),
            subtenant_count: subtenants,
            ..tenant.clone()
        }
    }

    #[test]
    fn no_wins_over_force() {
        let policy = ResellerPolicy::of_flags(true, true);
        assert!(policy.no_propagation && !policy.force);
        assert!(ResellerPolicy::of_flags(false, true).force);
    }

    #[test]
    fn a_new_reseller_reaches_the_subtenants_unless_told_not_to() {
        let acme = tenant("acme", None);
        let current = with_reseller(&acme, Some("r-1"), 3);
        let next = with_reseller(&acme, Some("r-2"), 3);
        assert_eq!(
            ResellerPolicy::default().propagation(&current, &next),
            Some(Work::PropagateReseller {
                tenant_id: acme.id.clone(),
                old: Some("r-1".into()),
                new: Some("r-2".into()),
                force: false,
            })
        );
        assert_eq!(ResellerPolicy::of_flags(true, false).propagation(&current, &next), None);
        let none = with_reseller(&acme, Some("r-1"), 0);
        assert_eq!(
            ResellerPolicy::default().propagation(&none, &next),
            None,
            "no subtenants"
        );
    }

    #[test]
    fn force_propagates_an_unchanged_reseller_too() {
        let current = with_reseller(&tenant("acme", None), Some("r-1"), 1);
        assert_eq!(ResellerPolicy::default().propagation(&current, &current), None);
        let forced = ResellerPolicy::of_flags(false, true).propagation(&current, &current);
        assert!(matches!(forced, Some(Work::PropagateReseller { force: true, .. })));
    }
}
