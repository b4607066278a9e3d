//! The events feed as a caller may read it (`GET /v1/events`). What a change
//! event is lives in [`crate::domain::events`]; how the notifier records
//! them, in [`super::notify`].

use crate::domain::events::type_matches;
use crate::domain::Timestamp;

/// The feed's `type` filter, as the tenants function parses it.
pub use crate::domain::events::parse_type_filter;

/// A page of the events feed as `caller` may see it: a platform admin sees
/// every event; anyone else the events of the tenants it is a member of and
/// of their descendants (what it may read), among `types`.
///
/// Visibility follows the incarnation, not the id alone: an event shows
/// through a membership's tenant only if that tenant was on the event's path
/// when the path held, i.e. it was born no later than that. A tenant id
/// deleted and created again (by another customer, say) shows its new
/// members nothing of the earlier tenant's events, nor of its subtree's.
pub async fn feed(
    store: &crate::store::Store,
    caller: &crate::auth::Caller,
    from: Option<&crate::store::feed::FeedPosition>,
    limit: usize,
    types: &[String],
) -> crate::error::Result<crate::store::feed::FeedPage> {
    let roots = super::access::roots(store, caller).await?;
    let visible = |e: &crate::store::feed::FeedEvent| match &roots {
        None => true,
        Some(roots) => {
            let held_at = e.path_held_at();
            roots
                .iter()
                .any(|r| e.path.iter().any(|id| id == r.id.as_str()) && held_at.is_some_and(|at| at >= r.created_at))
        }
    };
    store
        .feed_page(from, Timestamp::now(), limit, |e| {
            type_matches(types, &e.kind) && visible(e)
        })
        .await
}
