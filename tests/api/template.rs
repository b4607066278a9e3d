//! template.yaml says what the code does: the same routes, the same table,
//! and settings cfn-lint cannot judge (runtime, build method, references).

use std::collections::{BTreeMap, BTreeSet};

use dev_gateway::routes::{self, Function};
use shared::store::table;
use yaml_rust2::{Yaml, YamlLoader};

fn template() -> Yaml {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn resources(t: &Yaml) -> BTreeMap<String, Yaml> {
    t["Resources"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
        .collect()
}

fn s(y: &Yaml) -> &str {
    y.as_str().unwrap_or_else(|| panic!("expected a string, got {y:?}"))
}

fn functions(t: &Yaml) -> BTreeMap<String, Yaml> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| s(&r["Type"]) == "AWS::Serverless::Function")
        .collect()
}

#[test]
fn routes_in_the_template_are_the_routes_the_code_serves() {
    let t = template();
    let mut declared: BTreeSet<(String, String)> = BTreeSet::new();
    for (name, function) in functions(&t) {
        let binary = s(&function["Metadata"]["BuildProperties"]["Binary"]).to_owned();
        for (_, event) in function["Properties"]["Events"].as_hash().into_iter().flatten() {
            if s(&event["Type"]) == "HttpApi" {
                let p = &event["Properties"];
                assert_eq!(s(&p["ApiId"]), "Api", "{name}: every route is on the one HttpApi");
                declared.insert((binary.clone(), format!("{} {}", s(&p["Method"]), s(&p["Path"]))));
            }
        }
    }
    let served: BTreeSet<(String, String)> = routes::all()
        .map(|(r, f)| (f.name().to_owned(), r.to_owned()))
        .collect();
    assert_eq!(declared, served);
}

#[test]
fn functions_are_built_and_run_as_lambda_expects() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(s(&globals["Runtime"]), "provided.al2023");
    assert_eq!(s(&globals["Handler"]), "bootstrap");
    assert_eq!(
        globals["Architectures"]
            .as_vec()
            .unwrap()
            .iter()
            .map(s)
            .collect::<Vec<_>>(),
        ["arm64"]
    );
    assert_eq!(s(&globals["LoggingConfig"]["LogFormat"]), "JSON");
    let timeout = globals["Timeout"].as_i64().unwrap();
    assert!(
        timeout > 5,
        "the SDK's 5 s operation timeout must end before the Lambda's"
    );
    let functions = functions(&t);
    let names: BTreeSet<&str> = Function::ALL.iter().map(|f| f.name()).collect();
    let binaries: BTreeSet<&str> = functions
        .values()
        .map(|f| s(&f["Metadata"]["BuildProperties"]["Binary"]))
        .collect();
    assert!(names.is_subset(&binaries), "every HTTP function is in the template");
    for (name, function) in &functions {
        assert_eq!(s(&function["Metadata"]["BuildMethod"]), "rust-cargolambda", "{name}");
        assert_eq!(
            s(&function["Properties"]["CodeUri"]),
            ".",
            "{name}: built from the workspace root"
        );
        let binary = s(&function["Metadata"]["BuildProperties"]["Binary"]);
        let manifest = std::fs::read_to_string(format!(
            "{}/../functions/{binary}/Cargo.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert!(
            manifest.contains(&format!("name = \"{binary}\"")),
            "{name}: binary {binary} exists"
        );
    }
}

#[test]
fn every_reference_names_a_resource_or_parameter() {
    let t = template();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    let mut known: BTreeSet<String> = resources(&t).keys().cloned().collect();
    known.extend(t["Parameters"].as_hash().unwrap().keys().map(|k| s(k).to_owned()));
    known.extend(
        [
            "AWS::Region",
            "AWS::URLSuffix",
            "AWS::AccountId",
            "AWS::StackName",
            "AWS::NoValue",
        ]
        .map(String::from),
    );
    let mut referenced = BTreeSet::new();
    for (i, _) in text.match_indices("!Ref ") {
        let name: String = text[i + 5..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == ':')
            .collect();
        referenced.insert(name);
    }
    for (i, _) in text.match_indices("!GetAtt ") {
        referenced.insert(text[i + 8..].split('.').next().unwrap().to_owned());
    }
    for (i, _) in text.match_indices("${") {
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == ':')
            .collect();
        if !name.is_empty() {
            referenced.insert(name);
        }
    }
    let unknown: Vec<_> = referenced.difference(&known).collect();
    assert!(unknown.is_empty(), "references to nothing: {unknown:?}");
}

/// An index as (name, key schema, projection).
type IndexShape = (String, Vec<(String, String)>, String, Vec<String>);

#[test]
fn the_table_in_the_template_is_the_table_the_code_creates() {
    let t = template();
    let props = &resources(&t)["Table"]["Properties"];
    assert_eq!(s(&props["BillingMode"]), "PAY_PER_REQUEST");
    assert_eq!(
        s(&props["TimeToLiveSpecification"]["AttributeName"]),
        table::TTL_ATTRIBUTE
    );
    assert_eq!(s(&props["StreamSpecification"]["StreamViewType"]), "NEW_AND_OLD_IMAGES");
    assert!(props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        .as_bool()
        .unwrap());

    let attributes: BTreeSet<(String, String)> = props["AttributeDefinitions"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|a| (s(&a["AttributeName"]).to_owned(), s(&a["AttributeType"]).to_owned()))
        .collect();
    let expected: BTreeSet<(String, String)> = table::key_attributes()
        .into_iter()
        .map(|a| (a.to_owned(), "S".to_owned()))
        .collect();
    assert_eq!(attributes, expected);

    let keys = |schema: &Yaml| -> Vec<(String, String)> {
        schema
            .as_vec()
            .unwrap()
            .iter()
            .map(|k| (s(&k["AttributeName"]).to_owned(), s(&k["KeyType"]).to_owned()))
            .collect()
    };
    let pair = |pk: &str, sk: &str| vec![(pk.to_owned(), "HASH".to_owned()), (sk.to_owned(), "RANGE".to_owned())];
    assert_eq!(keys(&props["KeySchema"]), pair(table::PK, table::SK));
    let indexes: Vec<IndexShape> = props["GlobalSecondaryIndexes"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|i| {
            (
                s(&i["IndexName"]).to_owned(),
                keys(&i["KeySchema"]),
                s(&i["Projection"]["ProjectionType"]).to_owned(),
                i["Projection"]["NonKeyAttributes"]
                    .as_vec()
                    .map(|names| names.iter().map(|n| s(n).to_owned()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<IndexShape> = table::INDEXES
        .iter()
        .map(|i| {
            let included = match i.projection {
                table::Projection::Include(names) => names.iter().map(|n| (*n).to_owned()).collect(),
                _ => Vec::new(),
            };
            (
                i.name.to_owned(),
                pair(i.pk, i.sk),
                i.projection.type_name().to_owned(),
                included,
            )
        })
        .collect();
    assert_eq!(indexes, expected);
}

#[test]
fn policies_grant_the_table_only_and_the_notifier_its_bus() {
    let t = template();
    for (name, function) in functions(&t) {
        for policy in function["Properties"]["Policies"].as_vec().unwrap() {
            if !policy["EventBridgePutEventsPolicy"].is_badvalue() {
                // SAM's template: events:PutEvents on this bus, nothing else.
                assert_eq!(name, "NotifierFunction");
                assert_eq!(s(&policy["EventBridgePutEventsPolicy"]["EventBusName"]), "EventBus");
                continue;
            }
            for statement in policy["Statement"].as_vec().unwrap() {
                let actions: Vec<&str> = statement["Action"].as_vec().unwrap().iter().map(s).collect();
                // The cursor secret, read at init (see security_cursors.rs).
                if actions == ["secretsmanager:GetSecretValue"] {
                    assert_eq!(s(&statement["Resource"]), "CursorSecret", "{name}");
                    continue;
                }
                assert!(
                    actions.iter().all(|a| a.starts_with("dynamodb:") && !a.contains('*')),
                    "{name}: {actions:?}"
                );
                assert!(!actions.contains(&"dynamodb:Scan"), "{name}: no Scan on a request path");
            }
        }
    }
}

#[test]
fn the_cleanup_runs_on_a_valid_schedule_within_lambdas_limits() {
    let t = template();
    let cleanup = &functions(&t)["CleanupFunction"];
    assert_eq!(s(&cleanup["Metadata"]["BuildProperties"]["Binary"]), "cleanup");
    let timeout = cleanup["Properties"]["Timeout"].as_i64().unwrap();
    assert!((60..=900).contains(&timeout), "Lambda allows at most 900 s: {timeout}");
    let margin: i64 = s(&cleanup["Properties"]["Environment"]["Variables"]["CLEANUP_MARGIN_SECONDS"])
        .parse()
        .unwrap();
    assert!(margin < timeout / 2, "the margin leaves the run time to work");
    let event = &cleanup["Properties"]["Events"]["Schedule"];
    assert_eq!(s(&event["Type"]), "Schedule");
    assert_eq!(
        s(&event["Properties"]["Schedule"]),
        "ScheduleExpression",
        "the schedule is the template parameter"
    );
    let parameters = &t["Parameters"];
    let expression = s(&parameters["ScheduleExpression"]["Default"]);
    assert!(is_schedule_expression(expression), "{expression}");
    for good in ["rate(1 day)", "rate(6 hours)", "rate(30 minutes)", "cron(0 3 * * ? *)"] {
        assert!(is_schedule_expression(good), "{good}");
    }
    for bad in [
        "rate(1 days)",
        "rate(2 day)",
        "rate(0 hours)",
        "daily",
        "cron(0 3 * * *)",
        "rate(1 week)",
    ] {
        assert!(!is_schedule_expression(bad), "{bad}");
    }
    assert_eq!(parameters["RetentionDays"]["Default"].as_i64(), Some(30));
    assert_eq!(
        s(&cleanup["Properties"]["Environment"]["Variables"]["RETENTION_DAYS"]),
        "RetentionDays"
    );
}

/// EventBridge's schedule expressions: `rate(1 unit)` / `rate(n units)`, or a
/// six-field `cron(...)`.
fn is_schedule_expression(e: &str) -> bool {
    if let Some(inner) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = inner.split(' ');
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Ok(n) = n.parse::<u32>() else { return false };
        return match (n, unit) {
            (0, _) => false,
            (1, "minute" | "hour" | "day") => true,
            (n, "minutes" | "hours" | "days") => n > 1,
            _ => false,
        };
    }
    e.strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
        .is_some_and(|inner| inner.split(' ').count() == 6)
}

#[test]
fn make_build_builds_every_function_of_the_template() {
    let makefile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Makefile")).unwrap();
    let build = makefile
        .lines()
        .find(|l| l.contains("cargo lambda build"))
        .expect("a build line");
    let built: BTreeSet<&str> = build
        .split("--bin ")
        .skip(1)
        .filter_map(|b| b.split_whitespace().next())
        .collect();
    let t = template();
    let declared: BTreeSet<String> = functions(&t)
        .values()
        .map(|f| s(&f["Metadata"]["BuildProperties"]["Binary"]).to_owned())
        .collect();
    assert_eq!(built, declared.iter().map(String::as_str).collect());
}

#[test]
fn the_jobs_function_reads_queued_jobs_from_the_tables_stream() {
    let t = template();
    let table = &resources(&t)["Table"];
    assert_eq!(
        s(&table["Properties"]["StreamSpecification"]["StreamViewType"]),
        "NEW_AND_OLD_IMAGES"
    );
    check_stream_function(&t, "JobsFunction", "jobs", &[jobs::FILTER_PATTERN]);
    check_stream_function(&t, "NotifierFunction", "notifier", notifier::FILTER_PATTERNS);
}

/// A function the table's stream triggers: its only trigger, batches like the
/// local poller's, failed records reported alone and sent to a queue in the
/// end, and exactly the filters the code (and the local poller) applies.
fn check_stream_function(t: &Yaml, name: &str, binary: &str, patterns: &[&str]) {
    let function = &functions(t)[name];
    assert_eq!(s(&function["Metadata"]["BuildProperties"]["Binary"]), binary);
    let events = function["Properties"]["Events"].as_hash().unwrap();
    assert_eq!(events.len(), 1, "{name}: the stream is its only trigger");
    let (_, event) = events.iter().next().unwrap();
    assert_eq!(s(&event["Type"]), "DynamoDB");
    let p = &event["Properties"];
    assert_eq!(
        s(&p["Stream"]),
        "Table.StreamArn",
        "the table's own stream: {:?}",
        p["Stream"]
    );
    assert!(["TRIM_HORIZON", "LATEST"].contains(&s(&p["StartingPosition"])));
    let batch = p["BatchSize"].as_i64().unwrap();
    assert_eq!(
        batch as usize,
        dev_gateway::stream::BATCH_SIZE,
        "the local poller's batches are the same"
    );
    assert_eq!(p["BisectBatchOnFunctionError"].as_bool(), Some(true));
    let retries = p["MaximumRetryAttempts"].as_i64().unwrap();
    assert!((0..=10_000).contains(&retries));
    let types: Vec<&str> = p["FunctionResponseTypes"].as_vec().unwrap().iter().map(s).collect();
    assert_eq!(types, ["ReportBatchItemFailures"], "a failed record is reported alone");
    let declared: Vec<serde_json::Value> = p["FilterCriteria"]["Filters"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_str(s(&f["Pattern"])).unwrap())
        .collect();
    let code: Vec<serde_json::Value> = patterns.iter().map(|p| serde_json::from_str(p).unwrap()).collect();
    assert_eq!(
        declared, code,
        "{name}: the template filters what the code (and the local poller) expects"
    );
    let failure = &p["DestinationConfig"]["OnFailure"];
    assert_eq!(s(&failure["Type"]), "SQS");
    let queue = s(&failure["Destination"]).split('.').next().unwrap().to_owned();
    assert_eq!(s(&resources(t)[&queue]["Type"]), "AWS::SQS::Queue");
    let timeout = function["Properties"]["Timeout"].as_i64().unwrap();
    assert!((10..=900).contains(&timeout));
}

#[test]
fn only_the_public_routes_go_without_the_authoriser() {
    let t = template();
    let mut public = BTreeSet::new();
    for (_, function) in functions(&t) {
        for (_, event) in function["Properties"]["Events"].as_hash().into_iter().flatten() {
            let p = &event["Properties"];
            if s(&event["Type"]) == "HttpApi" && !p["Auth"].is_badvalue() {
                assert_eq!(s(&p["Auth"]["Authorizer"]), "NONE", "{:?}", p["Path"]);
                public.insert(format!("{} {}", s(&p["Method"]), s(&p["Path"])));
            }
        }
    }
    let expected: BTreeSet<String> = routes::PUBLIC.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        public, expected,
        "the gateway skips the token exactly where API Gateway does"
    );
    assert_eq!(
        s(&t["Resources"]["Api"]["Properties"]["Auth"]["DefaultAuthorizer"]),
        "Jwt"
    );
}

/// A parameter's default, as a number.
fn number_default(t: &Yaml, name: &str) -> i64 {
    let parameter = &t["Parameters"][name];
    assert_eq!(s(&parameter["Type"]), "Number", "{name}");
    parameter["Default"]
        .as_i64()
        .unwrap_or_else(|| panic!("{name} has a numeric default"))
}

/// Issue 17, item 12: every route is throttled (stage default route
/// settings, from parameters), and the routes that do the most work per
/// call (forced delete, clone, deployment upload) tighter still.
#[test]
fn the_api_throttles_every_route_and_the_expensive_ones_tighter() {
    let t = template();
    let settings = &t["Resources"]["Api"]["Properties"]["DefaultRouteSettings"];
    assert_eq!(s(&settings["ThrottlingRateLimit"]), "ApiThrottlingRateLimit");
    assert_eq!(s(&settings["ThrottlingBurstLimit"]), "ApiThrottlingBurstLimit");
    let (rate, burst) = (
        number_default(&t, "ApiThrottlingRateLimit"),
        number_default(&t, "ApiThrottlingBurstLimit"),
    );
    assert!(rate >= 1 && burst >= rate, "{rate}/s, burst {burst}");
    for name in [
        "ApiThrottlingRateLimit",
        "ApiThrottlingBurstLimit",
        "ExpensiveRoutesRateLimit",
        "ExpensiveRoutesBurstLimit",
    ] {
        assert!(
            t["Parameters"][name]["MinValue"].as_i64() >= Some(1),
            "{name}: 0 would refuse every request"
        );
    }
    let (tight_rate, tight_burst) = (
        number_default(&t, "ExpensiveRoutesRateLimit"),
        number_default(&t, "ExpensiveRoutesBurstLimit"),
    );
    assert!(tight_rate < rate && tight_burst < burst && tight_burst >= tight_rate);
    let mut tightened = BTreeSet::new();
    for (name, function) in functions(&t) {
        for (_, event) in function["Properties"]["Events"].as_hash().into_iter().flatten() {
            let p = &event["Properties"];
            if s(&event["Type"]) != "HttpApi" || p["RouteSettings"].is_badvalue() {
                continue;
            }
            assert_eq!(
                s(&p["RouteSettings"]["ThrottlingRateLimit"]),
                "ExpensiveRoutesRateLimit",
                "{name}"
            );
            assert_eq!(
                s(&p["RouteSettings"]["ThrottlingBurstLimit"]),
                "ExpensiveRoutesBurstLimit",
                "{name}"
            );
            tightened.insert(format!("{} {}", s(&p["Method"]), s(&p["Path"])));
        }
    }
    let expensive: BTreeSet<String> = [
        "DELETE /v1/tenants/{id}",
        "POST /v1/tenants/{id}/clone",
        "POST /v1/tenants/{id}/deployments",
    ]
    .map(String::from)
    .into();
    assert_eq!(tightened, expensive);
}

/// Issue 17, item 12: each function's concurrency is reserved (a flood on
/// one route cannot take the account's concurrency from the others, nor
/// run up the table's bill), from a parameter per function whose 0 means
/// "unreserved" (accounts with a low concurrency quota cannot reserve any).
#[test]
fn every_function_reserves_its_concurrency_unless_its_parameter_is_0() {
    let t = template();
    let mut total = 0;
    for (name, function) in functions(&t) {
        let stem = name.trim_end_matches("Function");
        let parameter = format!("{stem}ReservedConcurrency");
        let condition = format!("{stem}HasReservedConcurrency");
        let reserved = function["Properties"]["ReservedConcurrentExecutions"]
            .as_vec()
            .unwrap_or_else(|| panic!("{name}: ReservedConcurrentExecutions is !If [{condition}, ...]"));
        let reserved: Vec<&str> = reserved.iter().map(s).collect();
        assert_eq!(
            reserved,
            [condition.as_str(), parameter.as_str(), "AWS::NoValue"],
            "{name}"
        );
        // !Not [!Equals [!Ref <parameter>, 0]]
        let test = &t["Conditions"][condition.as_str()];
        let equals = &test.as_vec().unwrap_or_else(|| panic!("{condition}"))[0];
        let operands = equals.as_vec().unwrap();
        assert_eq!(s(&operands[0]), parameter, "{condition}");
        assert_eq!(
            operands[1].as_i64().or_else(|| operands[1].as_str()?.parse().ok()),
            Some(0)
        );
        let default = number_default(&t, &parameter);
        assert!(default >= 1, "{parameter}: reserved by default");
        assert_eq!(
            t["Parameters"][parameter.as_str()]["MinValue"].as_i64(),
            Some(0),
            "{parameter}"
        );
        total += default;
    }
    assert!(
        total <= 200,
        "the defaults ({total}) leave an account with the default quota (1000) most of it"
    );
    assert_eq!(
        number_default(&t, "CleanupReservedConcurrency"),
        1,
        "one clean-up at a time"
    );
}

// Issue 24: alarms, a dashboard and exported outputs.

fn alarms(t: &Yaml) -> BTreeMap<String, Yaml> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| s(&r["Type"]) == "AWS::CloudWatch::Alarm")
        .collect()
}

/// A metric as (namespace, name, dimensions), each dimension value as the
/// template names it: a resource reference (`TenantsFunction`,
/// `JobsDeadLetterQueue.QueueName`) or a literal (`GSI1`).
type MetricKey = (String, String, BTreeSet<(String, String)>);

fn dimensions(list: &Yaml) -> BTreeSet<(String, String)> {
    list.as_vec()
        .unwrap()
        .iter()
        .map(|d| (s(&d["Name"]).to_owned(), s(&d["Value"]).to_owned()))
        .collect()
}

/// The metrics an alarm watches: its own, or each of its metric-math inputs.
fn alarmed_metrics(alarm: &Yaml) -> Vec<MetricKey> {
    let p = &alarm["Properties"];
    if let Some(metrics) = p["Metrics"].as_vec() {
        let returned: Vec<&Yaml> = metrics
            .iter()
            .filter(|m| m["ReturnData"].as_bool() != Some(false))
            .collect();
        assert_eq!(returned.len(), 1, "a metric-math alarm returns one series");
        return metrics
            .iter()
            .filter(|m| !m["MetricStat"].is_badvalue())
            .map(|m| {
                let metric = &m["MetricStat"]["Metric"];
                (
                    s(&metric["Namespace"]).to_owned(),
                    s(&metric["MetricName"]).to_owned(),
                    dimensions(&metric["Dimensions"]),
                )
            })
            .collect();
    }
    vec![(
        s(&p["Namespace"]).to_owned(),
        s(&p["MetricName"]).to_owned(),
        dimensions(&p["Dimensions"]),
    )]
}

/// The alarms watching `metric` of `namespace` with exactly `dims`.
fn alarms_on(t: &Yaml, namespace: &str, metric: &str, dims: &[(&str, &str)]) -> Vec<String> {
    let wanted: MetricKey = (
        namespace.to_owned(),
        metric.to_owned(),
        dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    );
    alarms(t)
        .into_iter()
        .filter(|(_, a)| alarmed_metrics(a).contains(&wanted))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn every_function_has_its_errors_and_throttles_alarms() {
    let t = template();
    for name in functions(&t).keys() {
        for metric in ["Errors", "Throttles"] {
            let found = alarms_on(&t, "AWS/Lambda", metric, &[("FunctionName", name)]);
            assert_eq!(found.len(), 1, "{name}: one {metric} alarm, found {found:?}");
            let alarm = &resources(&t)[&found[0]]["Properties"];
            assert_eq!(s(&alarm["Statistic"]), "Sum");
            assert_eq!(s(&alarm["Threshold"]), format!("Function{metric}Threshold"));
        }
    }
}

#[test]
fn every_dead_letter_queue_and_stream_consumer_has_its_alarm() {
    let t = template();
    let mut consumers = 0;
    for (name, function) in functions(&t) {
        for (_, event) in function["Properties"]["Events"].as_hash().into_iter().flatten() {
            if s(&event["Type"]) != "DynamoDB" {
                continue;
            }
            consumers += 1;
            let found = alarms_on(&t, "AWS/Lambda", "IteratorAge", &[("FunctionName", &name)]);
            assert_eq!(found.len(), 1, "{name}: an iterator-age alarm");
            let alarm = &resources(&t)[&found[0]]["Properties"];
            assert_eq!(s(&alarm["Statistic"]), "Maximum");
            assert_eq!(s(&alarm["Threshold"]), "StreamIteratorAgeThresholdMs");
            let queue = s(&event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
                .trim_end_matches(".Arn")
                .to_owned();
            let found = alarms_on(
                &t,
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                &[("QueueName", &format!("{queue}.QueueName"))],
            );
            assert_eq!(found.len(), 1, "{queue}: a depth alarm");
            let alarm = &resources(&t)[&found[0]]["Properties"];
            assert_eq!(
                alarm["Threshold"].as_i64(),
                Some(0),
                "{queue}: one message is one too many"
            );
            assert_eq!(s(&alarm["ComparisonOperator"]), "GreaterThanThreshold");
            assert_eq!(
                s(&alarm["TreatMissingData"]),
                "ignore",
                "{queue}: an idle queue stops reporting; the alarm keeps its state"
            );
        }
    }
    assert_eq!(consumers, 2, "the jobs and the notifier read the stream");
    let queues = resources(&t)
        .values()
        .filter(|r| s(&r["Type"]) == "AWS::SQS::Queue")
        .count();
    assert_eq!(queues, 2, "every queue is a stream consumer's dead-letter queue");
}

#[test]
fn the_api_and_the_table_and_each_index_have_their_alarms() {
    let t = template();
    let api = [("ApiId", "Api")];
    let rate = alarms_on(&t, "AWS/ApiGateway", "5xx", &api);
    assert_eq!(
        rate,
        alarms_on(&t, "AWS/ApiGateway", "Count", &api),
        "5xx over requests"
    );
    assert_eq!(rate.len(), 1);
    let rate = &resources(&t)[&rate[0]]["Properties"];
    assert_eq!(s(&rate["Threshold"]), "Api5xxRateThresholdPercent");
    let latency = alarms_on(&t, "AWS/ApiGateway", "Latency", &api);
    assert_eq!(latency.len(), 1);
    let latency = &resources(&t)[&latency[0]]["Properties"];
    assert_eq!(s(&latency["ExtendedStatistic"]), "p99");
    assert_eq!(s(&latency["Threshold"]), "ApiLatencyP99ThresholdMs");
    let mut targets: Vec<Vec<(&str, &str)>> = vec![vec![("TableName", "Table")]];
    targets.extend(
        table::INDEXES
            .iter()
            .map(|i| vec![("TableName", "Table"), ("GlobalSecondaryIndexName", i.name)]),
    );
    for dims in targets {
        let reads = alarms_on(&t, "AWS/DynamoDB", "ReadThrottleEvents", &dims);
        let writes = alarms_on(&t, "AWS/DynamoDB", "WriteThrottleEvents", &dims);
        assert_eq!(reads.len(), 1, "{dims:?}: a throttle alarm");
        assert_eq!(reads, writes, "{dims:?}: reads and writes in one alarm");
    }
}

#[test]
fn every_alarm_notifies_the_topic_parameter_and_says_where_its_runbook_is() {
    let t = template();
    assert_eq!(
        s(&t["Parameters"]["AlarmTopicArn"]["Default"]),
        "",
        "alarms without a topic by default"
    );
    let test = &t["Conditions"]["HasAlarmTopic"].as_vec().unwrap()[0];
    let operands: Vec<&str> = test.as_vec().unwrap().iter().map(s).collect();
    assert_eq!(
        operands,
        ["AlarmTopicArn", ""],
        "!Not [!Equals [!Ref AlarmTopicArn, \"\"]]"
    );
    let all = alarms(&t);
    assert!(all.len() >= 20, "{} alarms", all.len());
    let mut names = BTreeSet::new();
    for (name, alarm) in &all {
        let p = &alarm["Properties"];
        for actions in ["AlarmActions", "OKActions"] {
            let chosen = p[actions]
                .as_vec()
                .unwrap_or_else(|| panic!("{name}: {actions} is !If"));
            assert_eq!(s(&chosen[0]), "HasAlarmTopic", "{name}");
            assert_eq!(
                chosen[1].as_vec().unwrap().iter().map(s).collect::<Vec<_>>(),
                ["AlarmTopicArn"]
            );
            assert_eq!(s(&chosen[2]), "AWS::NoValue", "{name}");
        }
        assert!(
            ["notBreaching", "ignore"].contains(&s(&p["TreatMissingData"])),
            "{name}"
        );
        assert!(
            s(&p["AlarmDescription"]).contains("docs/operations/alarms.md"),
            "{name}"
        );
        let alarm_name = s(&p["AlarmName"]);
        assert!(alarm_name.starts_with("${AWS::StackName}-"), "{name}: {alarm_name}");
        assert!(names.insert(alarm_name.to_owned()), "{name}: names are unique");
        match &p["Threshold"] {
            Yaml::Integer(_) | Yaml::Real(_) => {}
            Yaml::String(parameter) => assert_eq!(s(&t["Parameters"][parameter.as_str()]["Type"]), "Number", "{name}"),
            other => panic!("{name}: threshold {other:?}"),
        }
        let runbook =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/operations/alarms.md")).unwrap();
        assert!(
            runbook.contains(name.as_str()),
            "{name}: docs/operations/alarms.md has its runbook"
        );
    }
}

#[test]
fn every_output_is_exported_under_the_stack_name() {
    let t = template();
    let outputs = t["Outputs"].as_hash().unwrap();
    assert!(outputs.len() >= 6);
    for (name, output) in outputs {
        assert_eq!(
            s(&output["Export"]["Name"]),
            format!("${{AWS::StackName}}-{}", s(name)),
            "{name:?}"
        );
    }
}

/// The `${...}` names in a `!Sub` string.
fn substitutions(text: &str) -> Vec<String> {
    text.match_indices("${")
        .map(|(i, _)| text[i + 2..].split('}').next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_dashboard_names_only_resources_of_the_template_and_every_alarmed_metric() {
    let t = template();
    let resources = resources(&t);
    let dashboards: Vec<&Yaml> = resources
        .values()
        .filter(|r| s(&r["Type"]) == "AWS::CloudWatch::Dashboard")
        .collect();
    assert_eq!(dashboards.len(), 1);
    let body = s(&dashboards[0]["Properties"]["DashboardBody"]);
    for name in substitutions(body) {
        let resource = name.split('.').next().unwrap();
        assert!(
            name == "AWS::Region" || resources.contains_key(resource),
            "the dashboard names {name}, not a resource of the template"
        );
    }
    // The body is JSON once substituted; metrics are
    // [namespace, name, dimension, value, ..., {options}?].
    let json: serde_json::Value = serde_json::from_str(&body.replace("${AWS::Region}", "eu-west-1")).unwrap();
    let mut shown: BTreeSet<MetricKey> = BTreeSet::new();
    for widget in json["widgets"].as_array().unwrap() {
        assert_eq!(widget["properties"]["region"], "eu-west-1");
        for metric in widget["properties"]["metrics"].as_array().unwrap() {
            let parts: Vec<&str> = metric.as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
            let dims = parts[2..]
                .chunks(2)
                .map(|pair| {
                    let value = pair[1].trim_start_matches("${").trim_end_matches('}');
                    (pair[0].to_owned(), value.to_owned())
                })
                .collect();
            shown.insert((parts[0].to_owned(), parts[1].to_owned(), dims));
        }
    }
    for (name, alarm) in alarms(&t) {
        for metric in alarmed_metrics(&alarm) {
            assert!(shown.contains(&metric), "{name}: {metric:?} is on the dashboard");
        }
    }
}
