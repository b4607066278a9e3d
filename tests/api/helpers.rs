//! The test harness: one DynamoDB Local per test binary (started on a free
//! port, stopped by its process id when the binary exits), one fresh table
//! per test, and the dev gateway's request path in-process.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use bytes::Bytes;
use dev_gateway::dynamodb_local::{DynamoDbLocal, Options};
use dev_gateway::jwt::{dev_token, Verifier};
use dev_gateway::Gateway;
use http::HeaderMap;
use serde_json::Value;
use shared::store::keys::Key;
use shared::store::table::Stream;
use shared::{store, Config, HttpApp};

pub type Item = std::collections::HashMap<String, AttributeValue>;

pub const SECRET: &[u8] = b"test-secret";
/// The job id the sample events carry (events/jobs-get.json, jobs-queued.json)
/// in place of the one a clone makes.
pub const SAMPLE_JOB_ID: &str = "019ab000-0000-7000-8000-000000000001";
pub const ADMIN_SCOPE: &str = "tenants:* subtenants:* identity-providers:* deployments:* members:* events:*";

static DYNAMODB: OnceLock<Vec<DynamoDbLocal>> = OnceLock::new();
static TABLES: AtomicU32 = AtomicU32::new(0);
static NEXT_INSTANCE: AtomicU32 = AtomicU32::new(0);

/// How many DynamoDB Locals a test binary runs: one per core. Each one
/// serialises its requests (its JVM stays near one core however many
/// tests call it), so one instance left a 2-core machine half idle.
fn instance_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

/// The DynamoDB Local for the next table: the binary's instances (started
/// together on first use) taken in turn.
pub fn dynamodb() -> &'static DynamoDbLocal {
    let instances = DYNAMODB.get_or_init(|| {
        let starting: Vec<_> = (0..instance_count())
            .map(|_| {
                std::thread::spawn(|| {
                    DynamoDbLocal::start(Options {
                        port: None,
                        data_dir: None,
                    })
                })
            })
            .collect();
        starting
            .into_iter()
            .map(|start| {
                start
                    .join()
                    .expect("the start thread ends")
                    .expect("DynamoDB Local starts (needs Java 17 and npm)")
            })
            .collect()
    });
    let next = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed) as usize;
    &instances[next % instances.len()]
}

static LOCAL_BUS: OnceLock<dev_gateway::local_bus::LocalBus> = OnceLock::new();

/// The local event bus (moto) for this test binary, started on first use.
#[allow(dead_code)] // the api binary's
pub fn local_bus() -> &'static dev_gateway::local_bus::LocalBus {
    LOCAL_BUS.get_or_init(|| dev_gateway::local_bus::LocalBus::start(None).expect("the local event bus starts"))
}

/// The stable `code` of a problem+json answer, if it is one.
pub fn problem_code(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    if content_type? != "application/problem+json" {
        return None;
    }
    let body: Value = serde_json::from_slice(body).ok()?;
    Some(body["code"].as_str()?.to_owned())
}

/// Records that a route answered a status (and, for a problem, its code),
/// for the check (in `make test`, after the tests) that every status the
/// OpenAPI document lists, and every problem code, is answered by some
/// test: one file per test process under target/tmp.
pub fn observe(route_key: &str, status: u16, code: Option<&str>) {
    use std::io::Write;
    static FILE: OnceLock<std::sync::Mutex<std::fs::File>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("observed-statuses");
        std::fs::create_dir_all(&dir).expect("target/tmp is writable");
        let path = dir.join(format!("{}.txt", std::process::id()));
        std::sync::Mutex::new(std::fs::File::create(path).expect("target/tmp is writable"))
    });
    if let Ok(mut file) = file.lock() {
        let _ = writeln!(file, "{route_key}\t{status}\t{}", code.unwrap_or_default());
    }
}

/// Every item of a table at one moment ([`TestApi::snapshot`]).
#[derive(Clone)]
pub struct Snapshot(Vec<Item>);

pub struct TestApi {
    pub gateway: Gateway,
    pub client: Client,
    pub table: String,
    /// The DynamoDB Local it runs on.
    pub endpoint: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApi {
    spawn_app_with(1, Stream::On).await
}

pub async fn spawn_app_with_shards(shards: u16) -> TestApi {
    spawn_app_with(shards, Stream::On).await
}

/// For the bulk tests, which read no stream: see [`Stream::Off`].
#[allow(dead_code)] // the load binary's
pub async fn spawn_app_without_stream() -> TestApi {
    spawn_app_with(1, Stream::Off).await
}

/// A gateway over a fresh table with `shards` list shards.
pub async fn spawn_app_with(shards: u16, stream: Stream) -> TestApi {
    spawn(shards, stream, None).await
}

/// A gateway whose DynamoDB client fails the calls `faults` is armed for.
#[allow(dead_code)] // the api binary's
pub async fn spawn_app_with_faults(faults: &Faults) -> TestApi {
    spawn(1, Stream::On, Some(faults)).await
}

/// A gateway over a fresh table on another DynamoDB Local (one a test stops
/// and starts).
#[allow(dead_code)] // the load binary's
pub async fn spawn_app_on(endpoint: &str) -> TestApi {
    spawn_at(endpoint.to_owned(), 1, Stream::Off, None).await
}

async fn spawn(shards: u16, stream: Stream, faults: Option<&Faults>) -> TestApi {
    spawn_at(dynamodb().endpoint.clone(), shards, stream, faults).await
}

/// A client of the tests' DynamoDB Local that waits longer than the
/// functions' own (2 s an attempt, 5 s in all: there to answer 503 well
/// inside a Lambda's timeout): on 2 cores loaded by the whole suite, the
/// JVM behind DynamoDB Local sometimes pauses past them, which is no fault
/// of the code under test. The 503 path has tests of its own (faults.rs),
/// over clients with the functions' timeouts.
fn patient_client(endpoint: &str) -> store::Connection {
    let mut connection = store::local_client(endpoint);
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .operation_attempt_timeout(std::time::Duration::from_secs(10))
        .operation_timeout(std::time::Duration::from_secs(25))
        .build();
    let config = connection.client.config().to_builder().timeout_config(timeouts).build();
    connection.client = Client::from_conf(config);
    connection
}

async fn spawn_at(endpoint: String, shards: u16, stream: Stream, faults: Option<&Faults>) -> TestApi {
    let mut connection = patient_client(&endpoint);
    if let Some(faults) = faults {
        let config = connection
            .client
            .config()
            .to_builder()
            .interceptor(faults.clone())
            .build();
        connection.client = Client::from_conf(config);
    }
    let client = connection.client.clone();
    let table = format!("t{}-{}", std::process::id(), TABLES.fetch_add(1, Ordering::Relaxed));
    store::table::create(&client, &table, stream)
        .await
        .expect("table created");
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        "CURSOR_SECRET" => Some("test-cursor-secret-0123456789".into()),
        "LIST_SHARDS" => Some(shards.to_string()),
        _ => None,
    })
    .unwrap();
    let gateway = Gateway::new(
        HttpApp::new(config, connection),
        Verifier::dev(SECRET),
        "127.0.0.1:3000",
    );
    TestApi {
        gateway,
        client,
        table,
        endpoint,
        token: token_for("test-admin", &["tenancy:admin"], ADMIN_SCOPE),
    }
}

pub fn token_for(sub: &str, roles: &[&str], scope: &str) -> String {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    dev_token(
        SECRET,
        sub,
        &roles,
        scope,
        time::OffsetDateTime::now_utc().unix_timestamp(),
        3600,
    )
}

/// A response as a client sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with `status`; returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
        let code = body["code"]
            .as_str()
            .unwrap_or_else(|| panic!("a problem has a code: {body}"));
        let known = shared::Code::ALL
            .iter()
            .find(|c| c.as_str() == code)
            .unwrap_or_else(|| panic!("'{code}' is not a documented code"));
        assert_eq!(body["type"], format!("/problems/{}", known.kind()), "{body}");
        body
    }

    /// The problem's stable `code`, checked as [`Reply::problem`] does.
    pub fn code(&self, status: u16) -> String {
        self.problem(status)["code"].as_str().unwrap().to_owned()
    }

    /// The `field` of every listed error.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl TestApi {
    pub fn app(&self) -> &HttpApp {
        self.gateway.app()
    }

    /// Sends a request through the gateway (authoriser, routing, event, handler).
    pub async fn call(&self, method: &str, path: &str, body: Option<(&str, &[u8])>, headers: &[(&str, &str)]) -> Reply {
        let mut builder = http::Request::builder().method(method).uri(path);
        let has_auth = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if !has_auth {
            builder = builder.header("authorization", format!("Bearer {}", self.token));
        }
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let bytes = match body {
            Some((content_type, bytes)) => {
                builder = builder.header("content-type", content_type);
                Bytes::copy_from_slice(bytes)
            }
            None => Bytes::new(),
        };
        let response = self
            .gateway
            .handle(builder.body(bytes).unwrap(), "127.0.0.1".into())
            .await;
        let (parts, body) = response.into_parts();
        let route_path = path.split('?').next().unwrap_or(path);
        if let Some(matched) = dev_gateway::routes::find(method, route_path) {
            let content_type = parts.headers.get("content-type").and_then(|v| v.to_str().ok());
            let code = problem_code(content_type, &body);
            observe(matched.route_key, parts.status.as_u16(), code.as_deref());
        }
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, &[]).await
    }

    pub async fn send_json(&self, method: &str, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let text = body.to_string();
        self.call(method, path, Some(("application/json", text.as_bytes())), headers)
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send_json("POST", path, body, &[]).await
    }

    /// Sends a JSON write as a client told to does: a 503 `contended` (the
    /// server's retries all lost, nothing was written) must carry
    /// `Retry-After`, and is sent again after it, up to 3 times. The last
    /// answer, and how many `contended` came first (on a machine loaded by
    /// the whole suite, writers of one item can outlast the server's budget).
    #[allow(dead_code)] // the api binary's
    pub async fn send_json_retrying_contention(&self, method: &str, path: &str, body: &Value) -> (Reply, u32) {
        let mut contended = 0;
        loop {
            let reply = self.send_json(method, path, body, &[]).await;
            if reply.status != 503 || contended == 3 {
                return (reply, contended);
            }
            assert_eq!(reply.code(503), "contended", "{}", String::from_utf8_lossy(&reply.body));
            assert_eq!(reply.header("retry-after"), Some("1"));
            contended += 1;
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    pub async fn patch(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let text = body.to_string();
        self.call(
            "PATCH",
            path,
            Some(("application/merge-patch+json", text.as_bytes())),
            headers,
        )
        .await
    }

    pub async fn delete(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.call("DELETE", path, None, headers).await
    }

    /// Creates a tenant and returns its JSON; fails the test on anything but 201.
    pub async fn create_tenant(&self, body: Value) -> Value {
        let reply = self.post("/v1/tenants", &body).await;
        assert_eq!(
            reply.status,
            201,
            "create failed: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    /// Every item of the table (a Scan, to check what is really stored).
    pub async fn scan(&self) -> Vec<Item> {
        self.app().store.scan_all().await.unwrap()
    }

    /// The `PK`s of every tenant and name guard, sorted.
    pub async fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .scan()
            .await
            .iter()
            .filter(|i| matches!(i["entityType"].as_s().unwrap().as_str(), "tenant" | "tenantName"))
            .map(|i| i["PK"].as_s().unwrap().clone())
            .collect();
        keys.sort();
        keys
    }

    /// How many items of each `entityType` the table holds.
    pub async fn entity_counts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for item in self.scan().await {
            *counts.entry(item["entityType"].as_s().unwrap().clone()).or_default() += 1;
        }
        counts
    }
}

/// Raw item edits behind the API's back, to stage old data or damage: keys
/// come from `shared::store::keys`, as the store's own do.
impl TestApi {
    /// The key of a stored item (from a [`TestApi::scan`], say).
    pub fn key_of(item: &Item) -> Key {
        let text = |name: &str| item[name].as_s().unwrap().clone();
        Key {
            pk: text("PK"),
            sk: text("SK"),
        }
    }

    /// Deletes the item at `key`.
    pub async fn delete_item(&self, key: &Key) {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(store::records::key_item(key)))
            .send()
            .await
            .unwrap();
    }

    /// Writes `item` whole (its key is in it).
    pub async fn put_item(&self, item: Item) {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }

    /// The table as it stands, for [`TestApi::restore`] into other tests'
    /// tables.
    #[allow(dead_code)] // the api binary's
    pub async fn snapshot(&self) -> Snapshot {
        Snapshot(self.scan().await)
    }

    /// Writes a snapshot's items into this (empty) table, 25 to a batch:
    /// the same state the snapshot's world built through the API, for a
    /// fraction of DynamoDB Local's work (a tenant create's transaction
    /// costs its JVM about as much as a batch of 25 plain puts).
    #[allow(dead_code)] // the api binary's
    pub async fn restore(&self, snapshot: &Snapshot) {
        dev_gateway::dataset::put_items(&self.client, &self.table, &snapshot.0)
            .await
            .unwrap();
    }

    /// Sets one attribute of the item at `key`.
    pub async fn set_attribute(&self, key: &Key, name: &str, value: AttributeValue) {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(store::records::key_item(key)))
            .update_expression("SET #a = :v")
            .expression_attribute_names("#a", name)
            .expression_attribute_values(":v", value)
            .send()
            .await
            .unwrap();
    }

    /// Removes attributes of the item at `key`.
    pub async fn remove_attributes(&self, key: &Key, names: &[&str]) {
        let placeholders: Vec<String> = (0..names.len()).map(|i| format!("#a{i}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(store::records::key_item(key)))
            .update_expression(format!("REMOVE {}", placeholders.join(", ")));
        for (placeholder, name) in placeholders.iter().zip(names) {
            update = update.expression_attribute_names(placeholder, *name);
        }
        update.send().await.unwrap();
    }
}

impl TestApi {
    /// DynamoDB requests sent since the last call, by operation.
    pub fn take_requests(&self) -> std::collections::BTreeMap<String, u64> {
        let requests = self.app().store.requests();
        let snapshot = requests.snapshot();
        requests.reset();
        snapshot
    }
}

/// The `name` of every item of a list page.
pub fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

impl TestApi {
    /// Every page of `GET /v1/tenants?{query}`, following `nextCursor`;
    /// fails the test on anything but 200 or on paging that does not end.
    pub async fn pages(&self, query: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..2_000 {
            let path = match &cursor {
                Some(c) => format!("/v1/tenants?{query}&cursor={c}"),
                None => format!("/v1/tenants?{query}"),
            };
            let reply = self.get(&path).await;
            assert_eq!(reply.status, 200, "{query}: {}", String::from_utf8_lossy(&reply.body));
            let page = reply.json();
            assert_eq!(
                page["count"].as_u64().unwrap() as usize,
                page["items"].as_array().unwrap().len()
            );
            cursor = page["nextCursor"].as_str().map(str::to_owned);
            pages.push(page);
            if cursor.is_none() {
                return pages;
            }
        }
        panic!("{query}: paging does not end");
    }

    /// Every name of a list, in order.
    pub async fn all_names(&self, query: &str) -> Vec<String> {
        self.pages(query).await.iter().flat_map(names).collect()
    }
}

/// Every test ends with the table's invariants checked (see
/// `shared::store::invariants`): whatever a test did, through whatever
/// faults, it must leave no half-done write behind. Then its table goes:
/// DynamoDB Local slows down as tables pile up. Both run on their own thread
/// and runtime (the test's runtime is ending), with their own client.
impl Drop for TestApi {
    fn drop(&mut self) {
        let table = std::mem::take(&mut self.table);
        let endpoint = self.endpoint.clone();
        let shards = self.gateway.app().store.list_shards();
        let check = !std::thread::panicking();
        let checked = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            let connection = patient_client(&endpoint);
            let client = connection.client.clone();
            let violations = check.then(|| {
                let store = store::Store::new(connection, table.clone(), shards);
                runtime.block_on(store.check_invariants())
            });
            let _ = runtime.block_on(client.delete_table().table_name(table).send());
            violations
        });
        match checked.join().ok().flatten() {
            None | Some(Ok(_)) if !check => {}
            Some(Ok(violations)) if violations.is_empty() => {}
            Some(Ok(violations)) => {
                let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
                panic!("the test left the table's invariants broken:\n{}", list.join("\n"));
            }
            Some(Err(e)) => panic!("the invariant check could not scan the table: {e}"),
            None => panic!("the invariant check did not run"),
        }
    }
}

/// When an injected fault strikes a DynamoDB call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // the api binary's
pub enum Strike {
    /// The request never leaves: nothing happened.
    BeforeSending,
    /// The request was carried out, but its answer is lost on the way back.
    AnswerLost,
}

#[derive(Debug, Default)]
struct FaultPlan {
    calls: u64,
    armed: Option<(u64, Strike)>,
    struck: bool,
    /// Every transaction's first condition is made to fail, as if another
    /// writer always won the race ([`Faults::lose_every_race`]).
    lose_races: bool,
    /// Every `PutItem` waits this long before it is sent ([`Faults::slow_puts`]).
    slow_puts: Option<std::time::Duration>,
}

/// A fault-injecting layer on a test app's DynamoDB client (an SDK
/// interceptor): counts the calls since it was last reset and fails the
/// N-th, before it is sent or after DynamoDB carried it out. The SDK does not
/// retry these failures, so the code above sees exactly one.
#[derive(Clone, Debug, Default)]
pub struct Faults(std::sync::Arc<std::sync::Mutex<FaultPlan>>);

#[allow(dead_code)] // the api binary's
impl Faults {
    /// Counts calls from zero, failing none.
    pub fn reset(&self) {
        *self.0.lock().unwrap() = FaultPlan::default();
    }

    /// Counts calls from zero and fails the `call`-th (1-based).
    pub fn arm(&self, call: u64, strike: Strike) {
        *self.0.lock().unwrap() = FaultPlan {
            armed: Some((call, strike)),
            ..FaultPlan::default()
        };
    }

    pub fn calls(&self) -> u64 {
        self.0.lock().unwrap().calls
    }

    /// From now on (until [`Faults::reset`]) every `TransactWriteItems`
    /// loses its race: its first condition is made one that cannot hold.
    pub fn lose_every_race(&self) {
        self.0.lock().unwrap().lose_races = true;
    }

    /// From now on (until [`Faults::reset`]) every `PutItem` waits `delay`
    /// before it is sent, as on a slow or throttled table.
    pub fn slow_puts(&self, delay: std::time::Duration) {
        self.0.lock().unwrap().slow_puts = Some(delay);
    }

    /// Whether the armed fault has struck.
    pub fn struck(&self) -> bool {
        self.0.lock().unwrap().struck
    }

    fn strike(&self, at: Strike, count: bool) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let mut plan = self.0.lock().unwrap();
        if count {
            plan.calls += 1;
        }
        if plan.armed == Some((plan.calls, at)) && !plan.struck {
            plan.struck = true;
            return Err(format!("injected fault ({at:?}) on call {}", plan.calls).into());
        }
        Ok(())
    }
}

impl aws_sdk_dynamodb::config::Intercept for Faults {
    fn name(&self) -> &'static str {
        "Faults"
    }

    fn modify_before_serialization(
        &self,
        context: &mut aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let (lose_races, slow_puts) = {
            let plan = self.0.lock().unwrap();
            (plan.lose_races, plan.slow_puts)
        };
        let input = context.input_mut();
        if let Some(delay) = slow_puts {
            if input
                .downcast_ref::<aws_sdk_dynamodb::operation::put_item::PutItemInput>()
                .is_some()
            {
                std::thread::sleep(delay);
            }
        }
        if !lose_races {
            return Ok(());
        }
        let Some(transaction) =
            input.downcast_mut::<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput>()
        else {
            return Ok(());
        };
        // The condition stays as written (its names and values stay used),
        // and can no longer hold.
        let first = transaction.transact_items.iter_mut().flatten().find_map(|item| {
            item.update
                .as_mut()
                .and_then(|u| u.condition_expression.as_mut())
                .or(item.put.as_mut().and_then(|p| p.condition_expression.as_mut()))
                .or(item.delete.as_mut().and_then(|d| d.condition_expression.as_mut()))
                .or(item.condition_check.as_mut().map(|c| &mut c.condition_expression))
        });
        if let Some(condition) = first {
            *condition = format!("({condition}) AND attribute_exists(PK) AND attribute_not_exists(PK)");
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.strike(Strike::BeforeSending, true)
    }

    fn read_before_deserialization(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.strike(Strike::AnswerLost, false)
    }
}
