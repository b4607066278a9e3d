//! What a tenant change must write, decided without I/O: pure functions of
//! the current and next state, unit-tested here.

use super::hierarchy::Destination;
use super::reseller::ResellerPolicy;
use crate::domain::tenant::limits::MAX_DEPTH;
use crate::domain::tenant::Placement;
use crate::domain::Tenant;
use crate::error::{Code, Error, Result};
use crate::store::tenants::ParentDelta;
use crate::store::work::Work;

/// What an update writes besides the tenant (and its name guard, facets
/// and audit event, which the store derives from the two states).
pub(super) struct UpdatePlan<'a> {
    /// A move's old parent loses a child, its new one gains it.
    pub parents: Vec<ParentDelta<'a>>,
    /// Work on the descendants, recorded with the change and done right
    /// after: a moved subtree's paths, a renamed parent's children.
    pub descendant_work: Vec<Work>,
    /// The subtenants that take the new reseller (done after the others).
    pub propagation: Option<Work>,
}

/// The plan of an update from `current` to `next` (already placed at
/// `destination`).
pub(super) fn update<'a>(
    current: &'a Tenant,
    next: &Tenant,
    destination: &'a Destination,
    reseller: ResellerPolicy,
) -> UpdatePlan<'a> {
    let mut parents = Vec::new();
    let mut descendant_work = Vec::new();
    if let Some(parent) = new_parent(destination) {
        parents.extend(current.parent_id.iter().map(ParentDelta::Loses));
        parents.extend(parent.map(ParentDelta::Gains));
        if current.child_count > 0 {
            let old_root = current.path.first().unwrap_or(&current.id).clone();
            descendant_work.push(Work::MoveSubtree {
                tenant_id: current.id.clone(),
                old_root,
                old_path: current.path_string(),
            });
        }
    }
    if current.child_count > 0 && current.name != next.name {
        descendant_work.push(Work::RenameChildren {
            tenant_id: current.id.clone(),
        });
    }
    UpdatePlan {
        parents,
        descendant_work,
        propagation: reseller.propagation(current, next),
    }
}

/// The new parent of a move (`Some(None)`: the top), or `None`: no move.
pub(super) fn new_parent(destination: &Destination) -> Option<Option<&Tenant>> {
    match destination {
        Placement::Keep => None,
        Placement::TopLevel => Some(None),
        Placement::Under(parent) => Some(Some(parent)),
    }
}

/// The depth of a tenant under `parent` (0 at the top).
pub(super) fn depth_under(parent: Option<&Tenant>) -> u32 {
    parent.map_or(0, |p| p.depth + 1)
}

/// A tenant may sit at most [`MAX_DEPTH`] levels down.
pub(super) fn check_depth(depth: u32) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Conflict(
            Code::TooDeep,
            format!(
                "the hierarchy is at most {} levels deep; this would put a tenant at depth {depth}",
                MAX_DEPTH + 1
            ),
        ));
    }
    Ok(())
}

/// A change that changes nothing is not written: no new version, no write.
pub(super) fn same_fields(current: &Tenant, next: &Tenant) -> bool {
    let unstamped = Tenant {
        version: current.version,
        updated_at: current.updated_at,
        updated_by: current.updated_by.clone(),
        ..next.clone()
    };
    unstamped == *current
}

#[cfg(test)]
pub(super) mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::tenant::{InputMode, Stamp};
    use crate::domain::{TenantId, TenantInput, TenantName, Timestamp};

    pub(crate) fn change() -> Stamp {
        Stamp {
            actor: "alice".into(),
            at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        }
    }

    /// A tenant `id` named after it, under `parent` (or at the top).
    pub(crate) fn tenant(id: &str, parent: Option<&Tenant>) -> Tenant {
        let input = TenantInput::parse(json!({ "name": id }).as_object().unwrap(), InputMode::Create).unwrap();
        Tenant::create(input, TenantId::parse(id).unwrap(), &change()).placed(parent)
    }

    fn renamed(tenant: &Tenant, name: &str) -> Tenant {
        Tenant {
            name: TenantName::parse(name).unwrap(),
            version: tenant.version + 1,
            ..tenant.clone()
        }
    }

    fn ids(parents: &[ParentDelta<'_>]) -> Vec<String> {
        parents
            .iter()
            .map(|p| match p {
                ParentDelta::Gains(t) => format!("+{}", t.id),
                ParentDelta::Loses(id) => format!("-{id}"),
            })
            .collect()
    }

    #[test]
    fn depth_stops_at_the_tenth_level() {
        assert!(check_depth(MAX_DEPTH).is_ok());
        assert!(matches!(
            check_depth(MAX_DEPTH + 1),
            Err(Error::Conflict(Code::TooDeep, _))
        ));
        let root = tenant("root", None);
        assert_eq!((depth_under(None), depth_under(Some(&root))), (0, 1));
    }

    #[test]
    fn a_change_of_stamps_alone_is_no_change() {
        let current = tenant("acme", None);
        let stamped = Tenant {
            version: current.version + 1,
            updated_by: "bob".into(),
            ..current.clone()
        };
        assert!(same_fields(&current, &stamped));
        assert!(!same_fields(&current, &renamed(&current, "Acme 2")));
    }

    #[test]
    fn an_edit_in_place_writes_nothing_else() {
        let root = tenant("root", None);
        let mut current = tenant("mid", Some(&root));
        current.child_count = 2;
        let next = Tenant {
            description: Some("new".into()),
            ..current.clone()
        };
        let plan = update(&current, &next, &Placement::Keep, ResellerPolicy::default());
        assert!(plan.parents.is_empty());
        assert!(plan.descendant_work.is_empty());
        assert!(plan.propagation.is_none());
    }

    #[test]
    fn a_move_changes_both_parents_and_repaths_the_subtree() {
        let root = tenant("root", None);
        let other = tenant("other", None);
        let mut current = tenant("mid", Some(&root));
        current.child_count = 1;
        let destination: Destination = Placement::Under(Box::new(other.clone()));
        let next = renamed(&current, "Mid 2").placed(Some(&other));
        let plan = update(&current, &next, &destination, ResellerPolicy::default());
        assert_eq!(ids(&plan.parents), ["-root", "+other"]);
        assert_eq!(
            plan.descendant_work,
            [
                Work::MoveSubtree {
                    tenant_id: current.id.clone(),
                    old_root: root.id.clone(),
                    old_path: "root/mid".into(),
                },
                Work::RenameChildren {
                    tenant_id: current.id.clone(),
                },
            ]
        );
    }

    #[test]
    fn a_leaf_moved_to_the_top_only_leaves_its_parent() {
        let root = tenant("root", None);
        let current = tenant("leaf", Some(&root));
        let next = renamed(&current, "Leaf 2").placed(None);
        let plan = update(&current, &next, &Placement::TopLevel, ResellerPolicy::default());
        assert_eq!(ids(&plan.parents), ["-root"]);
        assert!(
            plan.descendant_work.is_empty(),
            "no children: nothing to repath or rename"
        );
    }
}
