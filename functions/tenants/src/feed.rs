//! `GET /v1/events`: the events feed, for consumers that missed a push or
//! poll instead (WorkOS's Events API). `cursor` (or its alias `after`) is
//! the `nextCursor` of the last page (absent: from the start of the 30 days
//! kept), as on every list; the answer always carries
//! the cursor to go on from, and `hasMore` when more events are ready now.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::Value;
use shared::auth::{Caller, Permission};
use shared::http::query::QueryReader;
use shared::http::{response, HttpResult};
use shared::service::feed as events_feed;
use shared::store::feed::FeedPosition;
use shared::HttpApp;

/// The cursors' scope: a feed cursor opens nowhere else.
const SCOPE: &str = "feed";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FeedBody<'a> {
    items: Vec<&'a Value>,
    count: usize,
    next_cursor: String,
    has_more: bool,
}

pub async fn feed(app: &HttpApp, req: &Request, caller: &Caller) -> HttpResult {
    caller.require(Permission::EventsRead)?;
    let cursors = app.cursors.for_caller(caller);
    let mut q = QueryReader::new(req);
    let limit = q.limit();
    // `cursor`, as every list names it; `after`, the name it had first.
    let from = match (q.single("cursor"), q.single("after")) {
        (Some(_), Some(_)) => {
            q.error("after", "is another name for cursor: give one of them");
            None
        }
        (Some(raw), None) => q.open_cursor::<FeedPosition>("cursor", &raw, &cursors, SCOPE),
        (None, Some(raw)) => q.open_cursor::<FeedPosition>("after", &raw, &cursors, SCOPE),
        (None, None) => None,
    };
    let mut types = Vec::new();
    for raw in q.all_or_empty("types").iter().flat_map(|v| v.split(',')) {
        match events_feed::parse_type_filter(raw) {
            Ok(kind) => types.push(kind),
            Err(message) => q.error("types", message),
        }
    }
    q.finish()?;
    let page = events_feed::feed(&app.store, caller, from.as_ref(), limit, &types).await?;
    Ok(page_response(&page, cursors.seal(SCOPE, &page.position)))
}

fn page_response(page: &shared::store::feed::FeedPage, next_cursor: String) -> Response<Body> {
    let items: Vec<&Value> = page.events.iter().map(|e| &e.event).collect();
    response::json(
        http::StatusCode::OK,
        &FeedBody {
            count: items.len(),
            items,
            next_cursor,
            has_more: page.more,
        },
    )
}
