//! `make bench`: builds the release functions and runs each as Lambda runs
//! it, through a local Runtime API, over DynamoDB Local: init (spawn → first
//! `/next`) over several cold starts, then warm invocations of the sample
//! event of the function's most common route: latency percentiles, CPU per
//! invocation (the kernel's count, init subtracted) and peak RSS. Also the
//! DynamoDB requests of each seeded route (the store's counter) and the
//! binaries' sizes. Prints a markdown table; writes bench/results/latest.json.
//!
//! Side by side, the two references of design.md's targets: the floor (a
//! bare GetItem function, `bench/floor`) and the peer (Python, Powertools and
//! boto3, `bench/peer`). Then the scale runs (see [`scale`]).
//!
//! Last, the key-heat simulation (see [`heat`]): pure computation, no
//! DynamoDB, its table printed and kept under `keyHeat`.
//!
//! `bench [--invocations N] [--cold-starts N] [--no-build] [--no-arm64]
//!        [--no-references] [--scale N,N,…|none] [--samples N] [--purge N]
//!        [--extra NAME=EVENT=COMMAND...] [--capacity-only] [--heat-only] [--no-heat]
//!        [--heat-seconds N] [--heat-list-shards N]` (an extra is any
//! Runtime API client, measured the same way on the same events).
//! `--first-run` (`--first-run-test`) first times a fresh clone's `make dev`
//! to its first 200 (and its `make test`), see [`first_run`]; alone with
//! `--capacity-only`, it prints nothing else.
//! `--capacity-only` prints the capacity tables alone (seconds: no build, no
//! runs). `--heat-only` runs the key-heat simulation alone (seconds, no build, no
//! DynamoDB Local) and sets `keyHeat` in bench/results/latest.json, keeping
//! the rest of it; `--heat-list-shards` simulates a deployment with that
//! `ListShards` (default: the template's, 1).

mod capacity;
mod dynamodb_proxy;
mod first_run;
mod heat;
mod process;
mod runtime_api;
mod scale;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};

use capacity::Cost;
use dynamodb_proxy::DynamoDbProxy;
use runtime_api::Started;

/// (function, the sample event of its most common route).
const SCENARIOS: &[(&str, &str)] = &[
    ("tenants", "tenants-get"),
    ("subtenants", "subtenants-list"),
    ("identity-providers", "identity-providers-get"),
    ("deployments", "deployments-list"),
    ("jobs", "jobs-queued"),
];

/// Events that fill the table first (and whose DynamoDB requests are counted).
const SEED: &[&str] = &[
    "tenants-create",
    "tenants-create-child",
    "tenants-get",
    "tenants-list",
    "tenants-mine",
    "tenants-patch",
    "members-put",
    "subtenants-create",
    "subtenants-list",
    "identity-providers-put",
    "identity-providers-get",
    "identity-providers-by-domain",
    "deployments-create",
    "deployments-list",
];

struct Args {
    invocations: usize,
    cold_starts: usize,
    build: bool,
    /// Also build for Lambda's arm64 (cargo lambda) and report those sizes.
    arm64: bool,
    extras: Vec<(String, String, Vec<String>)>,
    /// Measure the floor and the peer side by side with the functions.
    references: bool,
    /// Table sizes (tenants) of the scale runs; none to skip them.
    scale: Vec<usize>,
    /// Calls of each kind measured on each size.
    samples: usize,
    /// Retired tenants the clean-up purges (0 to skip).
    purge: usize,
    /// Only the capacity tables (no build, no runs): seconds, not minutes.
    capacity_only: bool,
    /// Also time a first run on a fresh clone (`make dev` to its first
    /// 200; `make test` too with `first_run_test`).
    first_run: bool,
    first_run_test: bool,
    /// Run the key-heat simulation (and, with `heat_only`, nothing else).
    heat: bool,
    heat_only: bool,
    heat_seconds: u32,
    heat_list_shards: u16,
}

fn args() -> Args {
    let mut args = Args {
        invocations: 200,
        cold_starts: 10,
        build: true,
        arm64: true,
        extras: Vec::new(),
        references: true,
        scale: vec![1_000, 10_000, 100_000],
        samples: 100,
        purge: 2_000,
        capacity_only: false,
        first_run: false,
        first_run_test: false,
        heat: true,
        heat_only: false,
        heat_seconds: heat::SECONDS,
        heat_list_shards: heat::DEFAULT_LIST_SHARDS,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--invocations" => args.invocations = it.next().and_then(|v| v.parse().ok()).expect("--invocations N"),
            "--cold-starts" => args.cold_starts = it.next().and_then(|v| v.parse().ok()).expect("--cold-starts N"),
            "--no-build" => args.build = false,
            "--capacity-only" => args.capacity_only = true,
            "--first-run" => args.first_run = true,
            "--first-run-test" => (args.first_run, args.first_run_test) = (true, true),
            "--no-arm64" => args.arm64 = false,
            "--no-references" => args.references = false,
            "--scale" => {
                let sizes = it.next().expect("--scale N,N,… (or none)");
                args.scale = sizes.split(',').filter_map(|n| n.parse().ok()).collect();
            }
            "--samples" => args.samples = it.next().and_then(|v| v.parse().ok()).expect("--samples N"),
            "--purge" => args.purge = it.next().and_then(|v| v.parse().ok()).expect("--purge N"),
            "--heat-only" => args.heat_only = true,
            "--no-heat" => args.heat = false,
            "--heat-seconds" => {
                args.heat_seconds = it.next().and_then(|v| v.parse().ok()).expect("--heat-seconds N");
            }
            "--heat-list-shards" => {
                args.heat_list_shards = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| (1..=16).contains(n))
                    .expect("--heat-list-shards N (1 to 16)");
            }
            "--extra" => {
                let spec = it.next().expect("--extra NAME=EVENT=COMMAND");
                let mut parts = spec.splitn(3, '=');
                let (name, event, command) = (parts.next(), parts.next(), parts.next());
                let (Some(name), Some(event), Some(command)) = (name, event, command) else {
                    panic!("--extra NAME=EVENT=COMMAND");
                };
                let command = command.split_whitespace().map(str::to_owned).collect();
                args.extras.push((name.to_owned(), event.to_owned(), command));
            }
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn event(name: &str) -> Bytes {
    Bytes::from(std::fs::read(root().join("events").join(format!("{name}.json"))).expect("a sample event"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// One function measured: cold starts, then warm invocations.
struct Measured {
    name: String,
    event: String,
    init: Vec<Duration>,
    init_cpu: Duration,
    warm: Vec<Duration>,
    /// Per warm invocation: the time its DynamoDB requests took.
    dynamodb: Vec<Duration>,
    /// Per warm invocation: its duration minus its DynamoDB time.
    overhead: Vec<Duration>,
    cpu_per_invocation: Duration,
    max_rss_kib: u64,
    failures: usize,
}

async fn measure(
    name: &str,
    event_name: &str,
    command: &[String],
    env: &[(String, String)],
    proxy: &DynamoDbProxy,
    args: &Args,
) -> Measured {
    let payload = event(event_name);
    let limit = Duration::from_secs(20);
    let (mut init, mut init_cpu) = (Vec::new(), Duration::ZERO);
    for _ in 0..args.cold_starts {
        let cold = Started::start(command, env).await;
        init.push(cold.init);
        init_cpu += cold.stop().cpu;
    }
    let init_cpu = init_cpu / args.cold_starts.max(1) as u32;
    let function = Started::start(command, env).await;
    let (mut warm, mut dynamodb, mut overhead, mut failures) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for i in 0..args.invocations + 1 {
        proxy.take();
        let outcome = function.api.invoke(payload.clone(), limit).await;
        let in_dynamodb = proxy.take().time;
        match outcome {
            Some(o) if o.ok && !is_not_2xx(&o.body) => {
                // The first invocation opens the database connection: not a warm one.
                if i > 0 {
                    warm.push(o.duration);
                    dynamodb.push(in_dynamodb);
                    overhead.push(o.duration.saturating_sub(in_dynamodb));
                }
            }
            Some(o) => {
                failures += 1;
                if failures == 1 {
                    eprintln!("{name}: {}", String::from_utf8_lossy(&o.body));
                }
            }
            None => failures += 1,
        }
    }
    let usage = function.stop();
    warm.sort();
    dynamodb.sort();
    overhead.sort();
    Measured {
        name: name.to_owned(),
        event: event_name.to_owned(),
        init,
        init_cpu,
        cpu_per_invocation: usage.cpu.saturating_sub(init_cpu) / (args.invocations + 1) as u32,
        warm,
        dynamodb,
        overhead,
        max_rss_kib: usage.max_rss_kib,
        failures,
    }
}

/// Whether an HTTP function answered anything but 2xx (an answer of the
/// Runtime API is its response): a bench of a 404 measures nothing.
fn is_not_2xx(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["statusCode"].as_u64())
        .is_some_and(|s| !(200..300).contains(&s))
}

/// The app the seeding and the capacity table invoke in-process.
fn app(endpoint: &str, table: &str) -> shared::HttpApp {
    let config = shared::Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table.to_owned()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.to_owned()),
        "CURSOR_SECRET" => Some("bench-cursor-secret-0123456789".into()),
        _ => None,
    })
    .expect("a valid configuration");
    shared::HttpApp::new(config, shared::store::local_client(endpoint))
}

/// Seeds the table through the functions' handlers, in-process, pricing
/// each route's DynamoDB requests (see [`capacity`]).
async fn seed(endpoint: &str, table: &str) -> Vec<Cost> {
    let app = app(endpoint, table);
    let mut costs = Vec::new();
    for name in SEED {
        costs.push(capacity::measure(&app, name, event(name)).await);
    }
    let patch = capacity::one_field_patch(&event("tenants-patch"));
    costs.push(capacity::measure(&app, "tenant PATCH of one field", patch).await);
    costs
}

/// Runs the scenarios' reads many times in-process before anything is timed.
async fn warm_up(endpoint: &str, table: &str) {
    let app = app(endpoint, table);
    // DynamoDB Local is a JVM: its read paths run twice as slow until the
    // JIT has seen them a few thousand times, which would charge whichever
    // function is measured first (seen: GetItem 1.2 ms first, 0.67 ms later).
    for _ in 0..WARM_UP_ROUNDS {
        for name in SCENARIOS.iter().map(|(_, event)| event) {
            // Not an HTTP event (the stream's): nothing to warm.
            let _ = invoke(&app, &event(name)).await;
        }
    }
}

/// Invokes an API Gateway event in-process, through the function its
/// `routeKey` names (`None`: not an HTTP event of a declared route).
async fn invoke(app: &shared::HttpApp, event: &[u8]) -> Option<lambda_http::Response<lambda_http::Body>> {
    let route: Value = serde_json::from_slice(event).ok()?;
    let function = route["routeKey"]
        .as_str()
        .and_then(dev_gateway::routes::Function::of_route)?;
    let request = lambda_http::request::from_str(std::str::from_utf8(event).ok()?).ok()?;
    Some(function.invoke(app, request).await)
}

/// Rounds of the scenarios' reads that warm DynamoDB Local up before anything is timed.
const WARM_UP_ROUNDS: usize = 500;

fn binary_size(name: &str) -> u64 {
    std::fs::metadata(root().join("target/release").join(name)).map_or(0, |m| m.len())
}

/// The size of the function as deployed: `cargo lambda build --release --arm64`'s bootstrap.
fn arm64_size(name: &str) -> u64 {
    std::fs::metadata(root().join("target/lambda").join(name).join("bootstrap")).map_or(0, |m| m.len())
}

/// Builds every function for Lambda (arm64, release), as `make build` does.
fn build_arm64() {
    eprintln!("building the functions for arm64 (cargo lambda)…");
    let venv = root().join(".local/venv/bin");
    let path = format!("{}:{}", venv.display(), std::env::var("PATH").unwrap_or_default());
    let status = std::process::Command::new("cargo")
        .current_dir(root())
        .env("PATH", path)
        .args(["lambda", "build", "--release", "--arm64"])
        .args(["--bin", "tenants", "--bin", "subtenants", "--bin", "identity-providers"])
        .args(["--bin", "deployments", "--bin", "jobs", "--bin", "cleanup"])
        .status()
        .expect("cargo lambda runs (make bench installs it)");
    assert!(status.success(), "the arm64 build failed");
}

/// The DynamoDB requests and capacity units of each measured route.
fn print_costs(costs: &[Cost]) {
    println!("\n| route (sample event) | status | DynamoDB requests | read units | write units (table + indexes) |\n|---|---|---|---|---|");
    for cost in costs {
        let requests: Vec<String> = cost.requests.iter().map(|(op, n)| format!("{n} {op}")).collect();
        let indexes: Vec<String> = cost.writes.indexes.iter().map(|(i, u)| format!("{u} {i}")).collect();
        println!(
            "| {} | {} | {} | {} | {} ({} table{}{}) |",
            cost.event,
            cost.status,
            requests.join(" + "),
            cost.reads,
            cost.writes.total(),
            cost.writes.table,
            if indexes.is_empty() { "" } else { " + " },
            indexes.join(" + ")
        );
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    // Before anything else loads the machine: the times a new user waits.
    let first_run = args.first_run.then(|| first_run::run(&root(), args.first_run_test));
    if args.heat_only {
        let report = heat::run(args.heat_list_shards, args.heat_seconds);
        heat::print(&report);
        let out = root().join("bench/results/latest.json");
        let mut results: Value = std::fs::read(&out)
            .ok()
            .and_then(|text| serde_json::from_slice(&text).ok())
            .unwrap_or_else(|| json!({}));
        results["keyHeat"] = heat::to_json(&report);
        std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap() + "\n")
            .expect("bench/results is writable");
        eprintln!("wrote keyHeat in {}", out.display());
        return;
    }
    if args.build && !args.capacity_only {
        eprintln!("building the release functions (fat LTO: several minutes on 2 cores)…");
        let status = std::process::Command::new("cargo")
            .current_dir(root())
            .args(["build", "--release", "--locked", "-p", "tenants", "-p", "subtenants"])
            .args([
                "-p",
                "identity-providers",
                "-p",
                "deployments",
                "-p",
                "jobs",
                "-p",
                "cleanup",
            ])
            .args(["-p", "floor"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the release build failed");
        if args.arm64 {
            build_arm64();
        }
    }
    let mut local = dev_gateway::dynamodb_local::DynamoDbLocal::start(dev_gateway::dynamodb_local::Options {
        port: None,
        data_dir: None,
    })
    .expect("DynamoDB Local starts");
    let table = "bench";
    let client = shared::store::local_client(&local.endpoint).client;
    shared::store::table::create(&client, table, shared::store::table::Stream::On)
        .await
        .expect("the table is created");
    let mut costs = seed(&local.endpoint, table).await;
    costs.extend(capacity::list_pages(&client, &local.endpoint).await);
    if args.capacity_only {
        local.stop();
        print_costs(&costs);
        capacity::print_goals(&costs);
        if let Some(first_run) = &first_run {
            first_run.print();
        }
        return;
    }
    warm_up(&local.endpoint, table).await;
    let proxy = DynamoDbProxy::start(&local.endpoint)
        .await
        .expect("the timing proxy listens");
    let env: Vec<(String, String)> = [
        ("TABLE_NAME", table),
        ("DYNAMODB_ENDPOINT", proxy.endpoint.as_str()),
        ("CURSOR_SECRET", "bench-cursor-secret-0123456789"),
        ("RETENTION_DAYS", "30"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    let mut runs = Vec::new();
    for (function, event_name) in SCENARIOS {
        let binary = root().join("target/release").join(function).display().to_string();
        eprintln!("measuring {function} ({event_name})…");
        runs.push(measure(function, event_name, &[binary], &env, &proxy, &args).await);
    }
    if args.references {
        let floor = root().join("target/release/floor").display().to_string();
        let peer = root().join("bench/peer/run.sh").display().to_string();
        for (name, command) in [("floor (reference)", floor), ("peer: Python (reference)", peer)] {
            eprintln!("measuring {name}…");
            runs.push(measure(name, "tenants-get", &[command], &env, &proxy, &args).await);
        }
    }
    for (name, event_name, command) in &args.extras {
        eprintln!("measuring {name} ({event_name})…");
        runs.push(measure(name, event_name, command, &env, &proxy, &args).await);
    }
    let mut scale_rows = Vec::new();
    if !args.scale.is_empty() {
        eprintln!("scale runs on {:?} tenants…", args.scale);
        scale_rows = scale::run(&client, &proxy, &env, &args.scale, args.samples).await;
    }
    let purge = if args.purge > 0 {
        eprintln!("clean-up of {} retired tenants…", args.purge);
        Some(scale::purge(&client, &env, args.purge).await)
    } else {
        None
    };
    local.stop();

    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
    println!(
        "\n`make bench` on {machine}: {} cold starts, {} warm invocations each, DynamoDB Local\n",
        args.cold_starts, args.invocations
    );
    println!("| function | event | init p50 | init max | warm p50 | warm p90 | warm p99 | DynamoDB p50 | overhead p50 | overhead p99 | CPU/invocation | init CPU | peak RSS | binary x86_64 | binary arm64 (Lambda) | failures |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut results = Vec::new();
    for run in &mut runs {
        run.init.sort();
        let size = binary_size(&run.name);
        let arm64 = arm64_size(&run.name);
        let mb = |bytes: u64| {
            if bytes > 0 {
                format!("{:.2} MB", bytes as f64 / 1_000_000.0)
            } else {
                "–".into()
            }
        };
        println!(
            "| {} | {} | {} ms | {} ms | {} ms | {} ms | {} ms | {} ms | {} ms | {} ms | {} ms | {} ms | {:.1} MB | {} | {} | {} |",
            run.name,
            run.event,
            ms(percentile(&run.init, 0.5)),
            ms(*run.init.last().unwrap_or(&Duration::ZERO)),
            ms(percentile(&run.warm, 0.5)),
            ms(percentile(&run.warm, 0.9)),
            ms(percentile(&run.warm, 0.99)),
            ms(percentile(&run.dynamodb, 0.5)),
            ms(percentile(&run.overhead, 0.5)),
            ms(percentile(&run.overhead, 0.99)),
            ms(run.cpu_per_invocation),
            ms(run.init_cpu),
            run.max_rss_kib as f64 / 1024.0,
            mb(size),
            mb(arm64),
            run.failures
        );
        results.push(json!({
            "function": run.name, "event": run.event,
            "initMs": {"p50": ms(percentile(&run.init, 0.5)), "max": ms(*run.init.last().unwrap_or(&Duration::ZERO))},
            "warmMs": {"p50": ms(percentile(&run.warm, 0.5)), "p90": ms(percentile(&run.warm, 0.9)), "p99": ms(percentile(&run.warm, 0.99))},
            "dynamodbMs": {"p50": ms(percentile(&run.dynamodb, 0.5))},
            "overheadMs": {"p50": ms(percentile(&run.overhead, 0.5)), "p99": ms(percentile(&run.overhead, 0.99))},
            "cpuPerInvocationMs": ms(run.cpu_per_invocation), "initCpuMs": ms(run.init_cpu),
            "peakRssKiB": run.max_rss_kib, "binaryBytes": size, "arm64BinaryBytes": arm64, "failures": run.failures,
        }));
    }
    print_costs(&costs);
    let goals = capacity::print_goals(&costs);
    if !scale_rows.is_empty() {
        println!("\n| tenants in the table | call (release `tenants`) | p50 | p90 | p99 | DynamoDB requests per call | capacity units per call | failures |\n|---|---|---|---|---|---|---|---|");
        for row in &scale_rows {
            println!(
                "| {} | {} | {} ms | {} ms | {} ms | {} | {} | {} |",
                row.size,
                row.call,
                scale::latency_ms(row, 0.5),
                scale::latency_ms(row, 0.9),
                scale::latency_ms(row, 0.99),
                row.requests_per_call,
                (row.capacity_per_call * 100.0).round() / 100.0,
                row.failures
            );
        }
    }
    if let Some(purge) = &purge {
        println!(
            "\nClean-up (release `cleanup`): {} retired tenants, {} items purged in {} invocations, {:.1} s: {:.0} items/s.",
            purge.tenants,
            purge.items,
            purge.invocations,
            purge.took.as_secs_f64(),
            purge.items as f64 / purge.took.as_secs_f64()
        );
    }
    let key_heat = args.heat.then(|| {
        eprintln!("key-heat simulation…");
        let report = heat::run(args.heat_list_shards, args.heat_seconds);
        heat::print(&report);
        heat::to_json(&report)
    });
    if let Some(first_run) = &first_run {
        first_run.print();
    }
    let report = json!({
        "keyHeat": key_heat,
        "scale": scale_rows.iter().map(|r| json!({
            "tenants": r.size, "call": r.call,
            "latencyMs": {"p50": scale::latency_ms(r, 0.5), "p90": scale::latency_ms(r, 0.9), "p99": scale::latency_ms(r, 0.99)},
            "requestsPerCall": r.requests_per_call, "capacityUnitsPerCall": r.capacity_per_call, "failures": r.failures,
        })).collect::<Vec<_>>(),
        "cleanup": purge.as_ref().map(|p| json!({
            "tenants": p.tenants, "items": p.items, "invocations": p.invocations,
            "seconds": p.took.as_secs_f64(), "itemsPerSecond": p.items as f64 / p.took.as_secs_f64(),
        })),
        "machine": machine,
        "coldStarts": args.cold_starts,
        "invocations": args.invocations,
        "functions": results,
        "dynamodbRequests": costs.iter().map(Cost::json).collect::<Vec<_>>(),
        "capacityGoals": goals,
        "firstRun": first_run.as_ref().map(first_run::FirstRun::json),
    });
    let out = root().join("bench/results/latest.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap() + "\n").expect("bench/results is writable");
    eprintln!("wrote {}", out.display());
    let failed: usize =
        runs.iter().map(|r| r.failures).sum::<usize>() + scale_rows.iter().map(|r| r.failures).sum::<usize>();
    if failed > 0 {
        eprintln!("{failed} invocations failed");
        std::process::exit(1);
    }
}
