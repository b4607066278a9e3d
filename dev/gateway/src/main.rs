//! `dev-gateway` (what `make dev` runs): starts DynamoDB Local (persisted in
//! `.local/dynamodb-data`), creates the table if absent, and serves the whole
//! API on http://127.0.0.1:3000 until Ctrl-C, which stops everything it started.
//!
//! `dev-gateway token [--sub S] [--roles a,b] [--scope "p q"] [--hours N]`
//! prints a dev token (what `make token` runs; roles default to `tenancy:admin`).
//!
//! `dev-gateway events` prints the change events published locally (what
//! `make events` runs).
//!
//! `dev-gateway check [--aws] [--migrate-names] [--migrate-prefixes] [--mark-feed-days]` scans
//! the table and lists every broken invariant (what `make check-table`
//! runs); with `--migrate-names` it first moves tenants written with the
//! old name key to today's (see `Store::migrate_name_keys`), with
//! `--migrate-prefixes` it first gives facets written before name prefixes
//! were indexed their prefix keys (see `Store::migrate_name_prefixes`),
//! with `--mark-feed-days` it first marks the feed's days recorded before
//! days were marked (see `Store::mark_feed_days`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use dev_gateway::dynamodb_local::{repo_root, DynamoDbLocal, Options};
use dev_gateway::jwt::{dev_token, Verifier, DEV_SECRET};
use dev_gateway::local_bus::LocalBus;
use dev_gateway::stream::Consumer;
use dev_gateway::{server, Gateway};
use shared::auth::DEFAULT_ADMIN_ROLE;
use shared::{store, App, Config, HttpApp};

/// Every permission group, for the admin token `make dev` prints.
const ALL_SCOPES: &str = "tenants:* subtenants:* identity-providers:* deployments:* members:* events:*";
const DEV_CURSOR_SECRET: &str = "tenancy-local-cursor-secret";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn secret() -> Vec<u8> {
    env_or("TENANCY_DEV_SECRET", DEV_SECRET).into_bytes()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => serve().await,
        Some("token") => token(&args[1..]),
        Some("cleanup") => cleanup(&args[1..]).await,
        Some("check") => check(&args[1..]).await,
        Some("events") => events().await,
        Some(_) => Err(
            "usage: dev-gateway [serve] | dev-gateway token [--sub S] [--roles a,b] [--scope \"p q\"] [--hours N] \
             | dev-gateway cleanup [--dry-run] [--tenant ID]... | dev-gateway check [--aws] [--migrate-names] [--migrate-prefixes] [--mark-feed-days] | dev-gateway events"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dev-gateway: {message}");
            ExitCode::FAILURE
        }
    }
}

fn token(args: &[String]) -> Result<(), String> {
    let (mut sub, mut roles, mut scope, mut hours) = (
        "dev-admin".to_owned(),
        DEFAULT_ADMIN_ROLE.to_owned(),
        ALL_SCOPES.to_owned(),
        24i64,
    );
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?.clone();
        match flag.as_str() {
            "--sub" => sub = value,
            "--roles" => roles = value,
            "--scope" => scope = value,
            "--hours" => hours = value.parse().map_err(|_| "--hours takes a whole number".to_owned())?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let roles: Vec<String> = roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    println!("{}", dev_token(&secret(), &sub, &roles, &scope, now(), hours * 3600));
    Ok(())
}

/// Runs the clean-up Lambda's handler once against the dev table (DynamoDB
/// Local from `make dev`), as the schedule would, and prints its summary.
async fn cleanup(args: &[String]) -> Result<(), String> {
    shared::telemetry::init();
    let mut event = serde_json::Map::new();
    let mut ids = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--dry-run" => {
                event.insert("dryRun".into(), true.into());
            }
            "--tenant" => ids.push(it.next().ok_or("--tenant needs an id")?.clone()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if !ids.is_empty() {
        event.insert("tenantIds".into(), ids.into());
    }
    let event = if event.is_empty() {
        serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})
    } else {
        serde_json::Value::Object(event)
    };
    let app = dev_table_app()?;
    let settings = cleanup::Settings::from_env().map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
    let summary = cleanup::handle(&app, &settings, &event, deadline).await?;
    println!("{}", serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?);
    Ok(())
}

/// Prints the change events `make dev` publishes, as they arrive on the
/// local bus's queue (one CloudEvent per line), until Ctrl-C.
async fn events() -> Result<(), String> {
    let port = env_or("EVENTBRIDGE_PORT", "4010");
    let endpoint = format!("http://127.0.0.1:{port}");
    let queue = env_or("EVENT_BUS_NAME", "tenancy");
    let sqs = dev_gateway::local_bus::sqs_at(&endpoint);
    let queue_url = sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .map_err(|_| format!("no queue '{queue}' at {endpoint}: is make dev running?"))?
        .queue_url
        .unwrap_or_default();
    eprintln!("waiting for change events on {queue_url} (Ctrl-C stops)");
    loop {
        for event in dev_gateway::local_bus::receive_from(&sqs, &queue_url, Duration::from_secs(10)).await? {
            println!("{event}");
        }
    }
}

/// The app over the dev table (`make dev`'s DynamoDB Local, or
/// `DYNAMODB_ENDPOINT`/`TABLE_NAME`).
fn dev_table_app() -> Result<App, String> {
    let endpoint = env_or(
        "DYNAMODB_ENDPOINT",
        &format!("http://127.0.0.1:{}", env_or("DYNAMODB_PORT", "8000")),
    );
    let table = env_or("TABLE_NAME", "tenancy");
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        "CURSOR_SECRET" => Some(env_or("CURSOR_SECRET", DEV_CURSOR_SECRET)),
        other => std::env::var(other).ok(),
    })
    .map_err(|e| e.to_string())?;
    Ok(App::new(config, store::local_client(&endpoint)))
}

/// The migrations `check` may run before it scans.
const MIGRATIONS: [&str; 3] = ["--migrate-names", "--migrate-prefixes", "--mark-feed-days"];

/// Scans a table and lists every broken invariant; fails if there is one.
/// `--aws` reads the table `TABLE_NAME` in AWS (the usual credential chain)
/// instead of the dev table.
async fn check(args: &[String]) -> Result<(), String> {
    let migrate = args.iter().any(|a| a == "--migrate-names");
    let migrate_prefixes = args.iter().any(|a| a == "--migrate-prefixes");
    let mark_feed_days = args.iter().any(|a| a == "--mark-feed-days");
    let args: Vec<&String> = args.iter().filter(|a| !MIGRATIONS.contains(&a.as_str())).collect();
    let (store, auth) = match args.first().map(|a| a.as_str()) {
        Some("--aws") => {
            let table = std::env::var("TABLE_NAME").map_err(|_| "--aws needs TABLE_NAME")?;
            let sdk_config = shared::app::load_sdk_config().await;
            let shards = env_or("LIST_SHARDS", "1")
                .parse()
                .map_err(|_| "LIST_SHARDS: a number")?;
            // The group rule as the stack's functions read it (ADMIN_ROLE, CREATOR_ROLE, GROUP_PREFIX).
            let auth =
                shared::auth::AuthConfig::from_lookup(|name| std::env::var(name).ok()).map_err(|e| e.to_string())?;
            (store::Store::new(store::client(&sdk_config, None), table, shards), auth)
        }
        None => {
            let app = dev_table_app()?;
            (app.store, app.config.auth)
        }
        Some(other) => return Err(format!("unknown flag {other}")),
    };
    if migrate {
        let moved = store.migrate_name_keys().await.map_err(|e| e.to_string())?;
        for id in &moved.migrated {
            println!("moved to the new name key: {id}");
        }
        for why in &moved.left {
            println!("not moved: {why}");
        }
        println!(
            "name keys: {} tenants moved, {} left",
            moved.migrated.len(),
            moved.left.len()
        );
    }
    if migrate_prefixes {
        let moved = store.migrate_name_prefixes().await.map_err(|e| e.to_string())?;
        for why in &moved.left {
            println!("not migrated: {why}");
        }
        println!(
            "name prefixes: {} tenants' facets written, {} left",
            moved.migrated.len(),
            moved.left.len()
        );
    }
    if mark_feed_days {
        let days = store.mark_feed_days().await.map_err(|e| e.to_string())?;
        println!("feed days: {} marked {days:?}", days.len());
    }
    let scanned = store.scan_all().await.map_err(|e| e.to_string())?;
    let violations = store::invariants::check(&scanned, store.list_shards());
    let items = store.requests().snapshot().get("Scan").copied().unwrap_or(0);
    for violation in &violations {
        println!("{violation}");
    }
    // Advice, not broken invariants: mappings written before the group rule.
    for finding in store::invariants::group_mapping_findings(&scanned, &auth) {
        println!("advice: {finding}");
    }
    match violations.len() {
        0 => {
            println!("table {}: every invariant holds ({items} Scan pages)", store.table());
            Ok(())
        }
        n => Err(format!("table {}: {n} broken invariants", store.table())),
    }
}

async fn serve() -> Result<(), String> {
    shared::telemetry::init();
    let port: u16 = env_or("TENANCY_PORT", "3000")
        .parse()
        .map_err(|_| "TENANCY_PORT must be a port number".to_owned())?;
    let table = env_or("TABLE_NAME", "tenancy");

    // DynamoDB Local, unless an endpoint is given.
    let (endpoint, mut local) = match std::env::var("DYNAMODB_ENDPOINT").ok().filter(|e| !e.is_empty()) {
        Some(endpoint) => (endpoint, None),
        // A throwaway database (the contract tests): in memory, on a free port.
        None if std::env::var("TENANCY_EPHEMERAL").is_ok_and(|v| v == "1") => {
            let local = tokio::task::spawn_blocking(|| {
                DynamoDbLocal::start(Options {
                    port: None,
                    data_dir: None,
                })
            })
            .await
            .map_err(|e| e.to_string())??;
            (local.endpoint.clone(), Some(local))
        }
        None => {
            let ddb_port: u16 = env_or("DYNAMODB_PORT", "8000")
                .parse()
                .map_err(|_| "DYNAMODB_PORT must be a port number".to_owned())?;
            if std::net::TcpStream::connect(("127.0.0.1", ddb_port)).is_ok() {
                return Err(format!(
                    "port {ddb_port} is in use; stop what runs there or set DYNAMODB_PORT"
                ));
            }
            let data_dir = repo_root().join(".local/dynamodb-data");
            let local = tokio::task::spawn_blocking(move || {
                DynamoDbLocal::start(Options {
                    port: Some(ddb_port),
                    data_dir: Some(data_dir),
                })
            })
            .await
            .map_err(|e| e.to_string())??;
            (local.endpoint.clone(), Some(local))
        }
    };

    // The local event bus: moto's EventBridge, with a queue that receives
    // every event (`make events` prints them).
    let ephemeral = std::env::var("TENANCY_EPHEMERAL").is_ok_and(|v| v == "1");
    let bus_port = if ephemeral {
        None
    } else {
        Some(
            env_or("EVENTBRIDGE_PORT", "4010")
                .parse()
                .map_err(|_| "EVENTBRIDGE_PORT must be a port number".to_owned())?,
        )
    };
    let local_bus = tokio::task::spawn_blocking(move || LocalBus::start(bus_port))
        .await
        .map_err(|e| e.to_string())??;
    let bus_name = env_or("EVENT_BUS_NAME", "tenancy");
    let events_queue = local_bus.bus_and_queue(&bus_name).await?;
    let bus = local_bus.notifier_bus(&bus_name);

    let connection = store::local_client(&endpoint);
    let poller = dev_gateway::stream::StreamPoller::new(&endpoint, connection.client.clone(), &table);
    let created = store::table::ensure(&connection.client, &table)
        .await
        .map_err(|e| format!("cannot create table {table} at {endpoint}: {e:?}"))?;
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        "CURSOR_SECRET" => Some(env_or("CURSOR_SECRET", DEV_CURSOR_SECRET)),
        other => std::env::var(other).ok(),
    })
    .map_err(|e| e.to_string())?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (set TENANCY_PORT to use another port)"))?;
    let base = format!("http://127.0.0.1:{port}");
    // The printed token carries the admin role the functions are configured with.
    let config_admin_role = config.auth.admin_role.clone();
    let gateway = Arc::new(Gateway::new(
        HttpApp::new(config, connection),
        Verifier::dev(&secret()),
        format!("127.0.0.1:{port}"),
    ));
    let admin = dev_token(
        &secret(),
        "dev-admin",
        &[config_admin_role],
        ALL_SCOPES,
        now(),
        24 * 3600,
    );

    println!();
    println!(
        "Tenancy is serving on {base}  (DynamoDB at {endpoint}, table '{table}'{})",
        if created { ", created" } else { "" }
    );
    println!();
    println!("Admin token (24 h):");
    println!("  export TOKEN={admin}");
    println!();
    println!("Try:");
    println!("  curl -s -X POST {base}/v1/tenants -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{\"name\": \"Acme\"}}'");
    println!("  curl -s {base}/v1/tenants -H \"Authorization: Bearer $TOKEN\"");
    println!();
    println!(
        "Change events go to the bus '{bus_name}' at {} and its queue {}: `make events` prints them.",
        local_bus.endpoint, events_queue.queue_url
    );
    println!("Ctrl-C stops the gateway, DynamoDB Local and the local bus.");

    // The stream functions' triggers, locally: clone jobs run and change
    // events are published as deployed.
    let stream_gateway = Arc::clone(&gateway);
    let notifier_bus: &'static notifier::Bus = Box::leak(Box::new(bus));
    tokio::spawn(async move {
        let consumers = [Consumer::Jobs, Consumer::Notifier(notifier_bus)];
        poller.run(stream_gateway.app(), &consumers).await
    });

    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        () = server::serve(listener, gateway) => {}
        _ = tokio::signal::ctrl_c() => println!("\nstopping"),
        _ = terminate.recv() => println!("stopping"),
    }
    if let Some(local) = local.as_mut() {
        local.stop();
    }
    Ok(())
}
