//! The events feed (`GET /v1/events`): every change event the notifier
//! published, kept 30 days, in the order it was recorded.
//!
//! - each day's events spread over [`keys::FEED_SHARDS`] partitions by a
//!   stable hash of the event id (`FEED#<yyyy-mm-dd>#<shard>`), each sorted
//!   by `<recorded at>#<event id>`: one partition per day took every write
//!   of the platform, 8× what DynamoDB allows one partition at the target
//!   load (the arithmetic is at [`keys::FEED_SHARDS`]);
//! - a page merges the shards of the day it reads by that SK, which is
//!   global: the cursor stays `(day, SK read up to)`, and every shard's
//!   unread events sort after it. Each shard is read (one `Query` each, sent
//!   together) for twice its fair share of what the page needs, plus one;
//!   the merge serves the least SK while every shard not read to its end
//!   has one read, and reads again only the shard that ran dry. So order,
//!   settling, no gap and no repeat across pages are what they were with
//!   one partition; what changes is the cost of reading: a page reads every
//!   shard of each day it reads, 32 `Query`s where it was 1 (a poll with
//!   nothing new included), each rounded up to a read unit of its own: a
//!   page of 25 cost 3–4 read units, now 35 (measured on DynamoDB Local;
//!   printed by `feed::events_over_every_shard_come_back_in_one_order_across_pages`).
//!   Writing costs what it did: one transaction per event;
//! - shard 0 is `FEED#<yyyy-mm-dd>`, the day's one partition from before
//!   the feed was sharded: the events recorded then (kept 30 days, and a
//!   deployed table has them) are read with shard 0's at no extra `Query`
//!   and with no date to switch at, merged in order with the rest
//!   (`feed::an_event_recorded_before_the_feed_was_sharded_is_served`). No
//!   migration: they expire where they are;
//! - recorded once per event id: a guard item `CHANGEEVENT#<id>` is written in
//!   the same transaction, so a redelivered stream record adds nothing;
//! - each event keeps the path that decides who sees it and the moment that
//!   path held (`pathAt`): a tenant id deleted and created again names
//!   another tenant, and the new one's members must not read the old one's
//!   events (see `service::feed::feed`);
//! - the feed serves an event only once it is [`SETTLE`] old: notifiers on
//!   other stream shards may still be recording events of the same instant,
//!   and a reader following its cursor must never step over one. So the
//!   notifier reads an event's time once its day is marked, right before a
//!   write it gives up on after [`WRITE_WITHIN`]
//!   ([`Store::record_change_event_landing`]);
//! - each day that has events is marked (`FEEDDAYS`, SK the day), before its
//!   events are written: a reader starting without a cursor, or going on
//!   past the end of a day, reads the marks (one small `Query`) and then
//!   only the days that have events, not the empty ones between. Days
//!   before the first mark (events recorded before marks were kept) are
//!   walked one by one, as they always were.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::attributes::{EVENT, PATH, PATH_AT, SUBJECT, TYPE};
use super::records::{self, string_attr, string_value, Item};
use super::sdk::{classify, transact, transact_within, TransactError};
use super::table::{PK, SK};
use super::{keys, Store};
use crate::domain::events::ChangeEvent;
use crate::domain::{TenantId, Timestamp};
use crate::error::{Error, Result};

/// How long the feed keeps an event.
pub const RETENTION_DAYS: i64 = 30;
/// How old a recorded event must be before the feed serves it.
pub const SETTLE: Duration = Duration::from_secs(5);
/// When the notifier gives up on its write of an event, counted from reading
/// the event's time: less than [`SETTLE`]
/// ([`Store::record_change_event_landing`]).
pub const WRITE_WITHIN: Duration = Duration::from_secs(4);
/// Shard queries one page may make (the marks' `Query` aside): every shard
/// of four days, each read once. A day read costs one `Query` per shard
/// (sent together), and a shard read dry is read again only if the page
/// still needs its events; a reader further behind (walking days recorded
/// before marks were kept, or filtering out most of what it reads) gets a
/// short page, `more`, and a cursor to go on from.
const MAX_QUERIES: usize = 4 * keys::FEED_SHARDS as usize;

/// Shard queries a page keeps out at once.
const SHARD_READS_AT_ONCE: usize = 8;

/// How long a process trusts its own mark of a day before writing it again
/// (a mark is written at most this often per process and day, not once per
/// event; and a table emptied under a running process is marked again soon).
const MARK_AGAIN_AFTER: Duration = Duration::from_secs(60);

/// The day a process marked last, and when (see [`MARK_AGAIN_AFTER`]).
#[derive(Debug, Clone, Default)]
pub struct MarkedDay(std::sync::Arc<std::sync::Mutex<Option<(String, std::time::Instant)>>>);

impl MarkedDay {
    fn is_fresh(&self, day: &str) -> bool {
        let marked = self.0.lock().unwrap_or_else(|e| e.into_inner());
        marked
            .as_ref()
            .is_some_and(|(d, at)| d == day && at.elapsed() < MARK_AGAIN_AFTER)
    }

    fn set(&self, day: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((day.to_owned(), std::time::Instant::now()));
    }
}

/// Where a reader is: the day partition and the sort key it has read up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPosition {
    pub day: String,
    pub after: String,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    /// Where to go on from.
    pub position: FeedPosition,
    /// More settled events may follow right away (the page is full, or it
    /// stopped at its query budget).
    pub more: bool,
}

/// An event as the feed holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    /// `tenant.created`, …
    pub kind: String,
    pub subject: String,
    /// The subject's path (root first): who may see it.
    pub path: Vec<String>,
    /// When `path` held: each tenant on it was, then, the incarnation of
    /// its id that was born no later (`None` on events recorded before it
    /// was kept: the event's own `time` stands in).
    pub path_at: Option<Timestamp>,
    /// The CloudEvent, as published.
    pub event: Value,
}

impl FeedEvent {
    /// When `path` held ([`FeedEvent::path_at`], else the event's time).
    pub fn path_held_at(&self) -> Option<Timestamp> {
        self.path_at
            .or_else(|| self.event["time"].as_str().and_then(Timestamp::parse))
    }
}

/// Whether an event's write recorded it (`false`: its guard says an event
/// of that id was recorded before).
fn recorded(outcome: std::result::Result<(), TransactError>) -> Result<bool> {
    match outcome {
        Ok(()) => Ok(true),
        Err(TransactError::ConditionFailed(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// Records `event` (with the path that decides who sees it, as it was at
    /// the event's time) unless an event of that id was recorded before;
    /// whether it was new. One `TransactWriteItems`.
    pub async fn record_change_event(&self, event: &ChangeEvent, path: &[TenantId], now: Timestamp) -> Result<bool> {
        self.record_change_event_seen(event, path, event.time, now).await
    }

    /// [`Store::record_change_event`], with the moment `path_at` the path
    /// held (when it was read, or the change it comes with was made).
    pub async fn record_change_event_seen(
        &self,
        event: &ChangeEvent,
        path: &[TenantId],
        path_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        // The day's mark first: a reader that finds the event finds its day.
        self.mark_feed_day(&keys::feed_day(now)).await?;
        recorded(transact(&self.client, self.feed_event_writes(event, path, path_at, now)?).await)
    }

    /// [`Store::record_change_event_seen`] at the moment it lands: the
    /// event's time is read once its day is marked, right before one
    /// transaction the client gives up on after [`WRITE_WITHIN`] (less than
    /// [`SETTLE`]), so no reader, which serves only events `SETTLE` old,
    /// has passed it when it lands. A conflict or a time-out is an error:
    /// the stream's retry reads the moment again. The bound is the
    /// client's: a write DynamoDB carries out after the client gave up on
    /// it (its answer lost) keeps its time, and the retry finds it
    /// recorded. What the notifier writes.
    pub async fn record_change_event_landing(
        &self,
        event: &ChangeEvent,
        path: &[TenantId],
        path_at: Timestamp,
    ) -> Result<bool> {
        let now = loop {
            let now = Timestamp::now();
            let day = keys::feed_day(now);
            if self.feed_marked.is_fresh(&day) {
                break now;
            }
            self.mark_feed_day(&day).await?;
        };
        let writes = self.feed_event_writes(event, path, path_at, now)?;
        recorded(transact_within(&self.client, writes, WRITE_WITHIN).await)
    }

    /// The event's guard and its item in the feed at `now`.
    fn feed_event_writes(
        &self,
        event: &ChangeEvent,
        path: &[TenantId],
        path_at: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<aws_sdk_dynamodb::types::TransactWriteItem>> {
        let expires = now.plus(time::Duration::days(RETENTION_DAYS));
        let key = keys::feed_event(now, &event.id);
        let mut item = records::feed_event_item(
            &key,
            event.kind.as_str(),
            &event.subject,
            path,
            &event.cloud_event(),
            expires,
        );
        item.insert(PATH_AT.into(), string_value(path_at.to_string()));
        Ok(vec![
            self.put_new(records::change_event_guard_item(&event.id, expires))?,
            self.put_action(item)?,
        ])
    }

    /// Marks `day` as one with events (a plain `PutItem`, unless this
    /// process marked it moments ago). Kept a day longer than the day's
    /// last events are served.
    async fn mark_feed_day(&self, day: &str) -> Result<()> {
        if self.feed_marked.is_fresh(day) {
            return Ok(());
        }
        self.put_feed_day_mark(day).await?;
        self.feed_marked.set(day);
        Ok(())
    }

    /// Writes the mark of `day` (also the migration's write, see
    /// `Store::mark_feed_days`).
    pub(super) async fn put_feed_day_mark(&self, day: &str) -> Result<()> {
        let start = day_start(day).unwrap_or_else(Timestamp::now);
        let expires = start.plus(time::Duration::days(RETENTION_DAYS + 2));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(records::feed_day_item(day, expires)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The marked days from `first` to `last` (both included), in order:
    /// one strongly consistent `Query` of at most a few dozen small items.
    async fn feed_days(&self, first: &str, last: &str) -> Result<Vec<String>> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :first AND :last")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", string_value(keys::FEED_DAYS))
            .expression_attribute_values(":first", string_value(first))
            .expression_attribute_values(":last", string_value(last))
            .consistent_read(true);
        let items = self.query_all(request).await?;
        Ok(items
            .iter()
            .filter_map(|item| string_attr(item, SK).map(str::to_owned))
            .collect())
    }

    /// Notes that the incarnation `incarnation` of tenant `id` went (deleted
    /// or purged): what later records of its items' removal belong to.
    pub async fn record_tenant_gone(&self, id: &TenantId, incarnation: Timestamp, now: Timestamp) -> Result<()> {
        let expires = now.plus(time::Duration::days(RETENTION_DAYS));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(records::tenant_gone_item(id, incarnation, expires)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The latest incarnation of tenant `id` born no later than `at` that is
    /// known to have gone. One `Query`.
    pub async fn tenant_gone_incarnation(&self, id: &TenantId, at: Timestamp) -> Result<Option<Timestamp>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk <= :at")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", string_value(keys::tenant_gone_of(id)))
            .expression_attribute_values(":at", string_value(at.to_string()))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output
            .items
            .unwrap_or_default()
            .first()
            .and_then(|item| string_attr(item, SK))
            .and_then(Timestamp::parse))
    }

    /// Up to `limit` settled events after `from` (from the start of the
    /// retention window if `None`) that `keep` keeps, oldest first; the
    /// position to go on from (always: a reader polls it for newer events);
    /// and whether more settled events may follow at once.
    ///
    /// Without `from`, the page starts at the first marked day: one `Query`
    /// of the marks, then one per shard of each day with events it reads
    /// (and again for a shard whose share ran out first). Following a
    /// cursor, a page reads its day and, when it runs past its end, the
    /// next day (if that is the last) or the marks, to go to the next day
    /// with events.
    pub async fn feed_page(
        &self,
        from: Option<&FeedPosition>,
        now: Timestamp,
        limit: usize,
        keep: impl Fn(&FeedEvent) -> bool,
    ) -> Result<FeedPage> {
        let settled = now.plus(-time::Duration::try_from(SETTLE).unwrap_or_default());
        let oldest = keys::feed_day(now.plus(time::Duration::days(-RETENTION_DAYS)));
        let last_day = keys::feed_day(settled);
        // The marked days of the window, read once, when first needed.
        let mut marked: Option<Vec<String>> = None;
        let mut position = match from {
            Some(p) if p.day >= oldest => p.clone(),
            _ => {
                let days = self.feed_days(&oldest, &last_day).await?;
                let first = days.first().cloned();
                marked = Some(days);
                match first {
                    Some(day) => FeedPosition {
                        day,
                        after: String::new(),
                    },
                    // No day has events: nothing to read; a reader polls
                    // from the start of the last day.
                    None => {
                        return Ok(FeedPage {
                            events: Vec::new(),
                            position: FeedPosition {
                                day: last_day,
                                after: String::new(),
                            },
                            more: false,
                        })
                    }
                }
            }
        };
        let upper = keys::feed_events_until(settled);
        let mut found = Vec::new();
        let mut more = true;
        let mut queries = 0;
        'days: loop {
            // Every shard of the day, from where the reader is: its SK is
            // global, so every shard's unread events sort after it.
            let mut shards: Vec<ShardRead> = keys::feed_partitions(&position.day)
                .map(|pk| ShardRead {
                    pk,
                    unserved: VecDeque::new(),
                    read_to: position.after.clone(),
                    done: false,
                    asked: 0,
                })
                .collect();
            loop {
                // Shards with nothing read and unserved, but more to read:
                // until each has, the next event in order is unknown.
                let dry: Vec<usize> = (0..shards.len())
                    .filter(|&i| !shards[i].done && shards[i].unserved.is_empty())
                    .collect();
                if !dry.is_empty() {
                    if queries + dry.len() > MAX_QUERIES {
                        break 'days;
                    }
                    queries += dry.len();
                    // Twice a fair share (over the shards not read to
                    // their end) of what the page still needs, and one:
                    // events spread evenly over the shards, so the merge
                    // seldom runs one dry before the page is full, and a
                    // page of 25 reads a few items per shard, within the
                    // 4 KB that one read unit pays for, not 25 from each. A
                    // shard read again asks for twice as many as before: it
                    // holds more than its share (a day recorded before the
                    // feed was sharded is all in shard 0), or the reader's
                    // filter keeps few events.
                    let open = shards.iter().filter(|s| !s.done).count().max(1);
                    let fair = (2 * (limit - found.len())).div_ceil(open) + 1;
                    for &i in &dry {
                        let asked = shards[i].asked;
                        shards[i].asked = if asked == 0 { fair } else { fair.max(2 * asked) }.clamp(1, 1000);
                    }
                    let reads: Vec<_> = dry
                        .iter()
                        .map(|&i| {
                            let shard = &shards[i];
                            self.read_feed_shard(&shard.pk, &shard.read_to, &upper, shard.asked as i32)
                        })
                        .collect();
                    // At most SHARD_READS_AT_ONCE out at a time: a cold
                    // function would otherwise open a connection (a TLS
                    // handshake) per shard at once.
                    let pages: Vec<_> = futures_util::stream::iter(reads)
                        .buffered(SHARD_READS_AT_ONCE)
                        .try_collect()
                        .await?;
                    for (i, (items, done)) in dry.into_iter().zip(pages) {
                        let shard = &mut shards[i];
                        for item in items {
                            let sk = string_attr(&item, SK).unwrap_or_default().to_owned();
                            shard.read_to.clone_from(&sk);
                            shard.unserved.push_back((sk, item));
                        }
                        shard.done = done;
                    }
                    continue;
                }
                // Every shard has its next event read, or has none: the
                // least of those is the next of the whole day.
                let next = shards
                    .iter_mut()
                    .filter(|s| !s.unserved.is_empty())
                    .min_by(|a, b| a.unserved[0].0.cmp(&b.unserved[0].0));
                let Some((sk, item)) = next.and_then(|s| s.unserved.pop_front()) else {
                    break;
                };
                let event = feed_event(&item)?;
                position.after = sk;
                if keep(&event) {
                    found.push(event);
                }
                if found.len() >= limit {
                    break 'days;
                }
            }
            // The day is read to its end (or to what is settled).
            if position.day >= last_day {
                more = false;
                break;
            }
            let next = next_day(&position.day);
            let day = if next == last_day {
                Some(next)
            } else {
                if marked.is_none() {
                    marked = Some(self.feed_days(&oldest, &last_day).await?);
                }
                let days = marked.as_deref().unwrap_or_default();
                match days.first() {
                    // Before the first mark, a day may hold events
                    // recorded before marks were kept.
                    Some(first) if position.day < *first => Some(next),
                    None => Some(next),
                    Some(_) => days.iter().find(|d| **d > position.day).cloned(),
                }
            };
            match day {
                Some(day) => {
                    position = FeedPosition {
                        day,
                        after: String::new(),
                    }
                }
                // No later day has events: nothing more to read; a reader
                // polls from the last day's start.
                None => {
                    position = FeedPosition {
                        day: last_day,
                        after: String::new(),
                    };
                    more = false;
                    break;
                }
            }
        }
        Ok(FeedPage {
            events: found,
            position,
            more,
        })
    }

    /// Up to `limit` events of the feed partition `pk` after the SK `after`
    /// and below `upper`, in order; and whether that is all there is. No
    /// `ExclusiveStartKey`: the next read starts after the last SK read.
    async fn read_feed_shard(&self, pk: &str, after: &str, upper: &str, limit: i32) -> Result<(Vec<Item>, bool)> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", string_value(pk))
            .expression_attribute_values(":from", string_value(keys::feed_events_after(after)))
            .expression_attribute_values(":to", string_value(upper))
            .consistent_read(true)
            .limit(limit)
            .send()
            .await
            .map_err(classify)?;
        let done = output.last_evaluated_key.is_none();
        Ok((output.items.unwrap_or_default(), done))
    }
}

/// One shard of the day a page reads.
struct ShardRead {
    pk: String,
    /// Read and not yet served, in SK order.
    unserved: VecDeque<(String, Item)>,
    /// The last SK read: every event of the shard not yet read sorts after.
    read_to: String,
    /// Read up to the page's upper bound.
    done: bool,
    /// How many events its last query asked for (0: not read yet).
    asked: usize,
}

/// The first moment of `day` (`yyyy-mm-dd`).
fn day_start(day: &str) -> Option<Timestamp> {
    Timestamp::parse(&format!("{day}T00:00:00.000Z"))
}

fn next_day(day: &str) -> String {
    day_start(day)
        .map(|t| keys::feed_day(t.plus(time::Duration::days(1))))
        .unwrap_or_else(|| day.to_owned())
}

fn feed_event(item: &Item) -> Result<FeedEvent> {
    let text = string_attr(item, EVENT).unwrap_or_default();
    let event = serde_json::from_str(text).map_err(|e| Error::internal(format!("unreadable feed event: {e}")))?;
    let path = match item.get(PATH) {
        Some(aws_sdk_dynamodb::types::AttributeValue::L(ids)) => {
            ids.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
        }
        _ => Vec::new(),
    };
    Ok(FeedEvent {
        kind: string_attr(item, TYPE).unwrap_or_default().to_owned(),
        subject: string_attr(item, SUBJECT).unwrap_or_default().to_owned(),
        path,
        path_at: string_attr(item, PATH_AT).and_then(Timestamp::parse),
        event,
    })
}
