"""The deploy rehearsal (make rehearsal, part of make test).

template.yaml goes through the SAM translator (the library `sam validate`
and `sam deploy` use) into plain CloudFormation, and that stack is created
on moto's server (a throw-away one on a free loopback port) with its
parameters. Then the created resources are read back through the services'
APIs and checked against what the template and the functions' code mean:
every reference and output resolves, each function's IAM policies grant
exactly the DynamoDB actions and table/index ARNs the template grants it,
and the table, queues, bus, event source mappings and alarms are what the
code uses.

moto's CloudFormation does not implement every resource type (it has no
API Gateway v2, CloudWatch alarm or Secrets Manager secret). Those are
taken out of the moto stack and listed as "validated only": cfn-lint
(`sam validate --lint`) and tests/api/template.rs cover them. Their
properties still go through moto's reference resolution (as outputs of the
stack, so a reference to nothing fails here), and where moto's service API
can create them (the HTTP API, the secret, the alarms) the rehearsal does,
so that what references them resolves to a real moto resource.

Exits non-zero on the first failed step or with the list of failed checks.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "rehearsal")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "rehearsal")

import boto3  # noqa: E402  (after the environment: the SAM translator reads the region)
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MOTO_VENV = ROOT / ".local" / "moto-venv"
# Another template (REHEARSAL_TEMPLATE=path) only to try the rehearsal out.
TEMPLATE = Path(os.environ.get("REHEARSAL_TEMPLATE", ROOT / "template.yaml"))
REGION = os.environ["AWS_DEFAULT_REGION"]
STACK = "tenancy-rehearsal"
ARTIFACTS_BUCKET = "tenancy-rehearsal-artifacts"
ARTIFACT_KEY = "functions.zip"
# Parameters of the rehearsal's stack (the others keep their defaults).
ISSUER = "https://issuer.rehearsal.example/"
AUDIENCE = "tenancy-rehearsal"
# Where each type that moto's CloudFormation lacks is created instead.
CREATED_THROUGH_THE_API = {"AWS::ApiGatewayV2::Api", "AWS::SecretsManager::Secret", "AWS::CloudWatch::Alarm"}
# Types whose Ref moto resolves wrongly (to the repr of its model object),
# with the attribute that holds what CloudFormation's Ref returns.
REF_IS_ATTRIBUTE = {"AWS::Events::EventBus": "Name"}
# Properties moto's CloudFormation ignores: checked in the translated
# template instead, and listed in the summary.
NOT_APPLIED_BY_MOTO = [
    "AWS::DynamoDB::Table TimeToLiveSpecification, PointInTimeRecoverySpecification",
    "AWS::IAM::Role ManagedPolicyArns",
    "AWS::Lambda::Function Architectures",
    "AWS::Lambda::Permission (no physical id: checked in each function's resource policy)",
]


class Failed(Exception):
    """A step the rehearsal cannot go on without."""


failures: list[str] = []


def check(ok: bool, what: str) -> bool:
    if not ok:
        failures.append(what)
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = MOTO_VENV / "bin" / "moto_server"
    if not server.exists():
        raise Failed(f"{server} is missing: make rehearsal installs it")
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failed(f"moto_server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            return process, endpoint
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise Failed("moto_server did not answer within 60 s")


def moto_types() -> set[str]:
    """The resource types moto's CloudFormation implements (its model map),
    asked of moto's own venv: the SAM translator this script runs is the SAM
    CLI's, which moto's pins would downgrade."""
    program = "import json; from moto.cloudformation.parsing import get_model_map; print(json.dumps(sorted(get_model_map())))"
    found = subprocess.run(
        [str(MOTO_VENV / "bin" / "python"), "-c", program], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise Failed(f"moto's model map: {found.stderr.strip()}")
    return set(json.loads(found.stdout))


# --- the template ----------------------------------------------------------


def sam_template() -> dict:
    template = yaml_parse(TEMPLATE.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `sam deploy` does after `sam build`: code from S3.
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACTS_BUCKET}/{ARTIFACT_KEY}"
    return template


class NoPolicies:
    """The translator's managed-policy loader: the template names none by name."""

    def load(self) -> dict:
        return {}


def walk(node, visit):
    """Rebuilds `node`, letting `visit` replace any dict or string (None: keep)."""
    replaced = visit(node)
    if replaced is not None:
        return replaced
    if isinstance(node, dict):
        return {k: walk(v, visit) for k, v in node.items()}
    if isinstance(node, list):
        return [walk(v, visit) for v in node]
    return node


def references(node) -> set[str]:
    """Every logical id or parameter that `node` refers to."""
    found: set[str] = set()

    def visit(n):
        if isinstance(n, dict):
            if "Ref" in n and isinstance(n["Ref"], str):
                found.add(n["Ref"])
            if "Fn::GetAtt" in n:
                target = n["Fn::GetAtt"]
                found.add(target[0] if isinstance(target, list) else target.split(".")[0])
            if "Fn::Sub" in n:
                text = n["Fn::Sub"] if isinstance(n["Fn::Sub"], str) else n["Fn::Sub"][0]
                for name in re.findall(r"\$\{([^}!][^}]*)\}", text):
                    found.add(name.split(".")[0])
        return None

    walk(node, visit)
    return found


def stand_in_parameter(name: str) -> str:
    return f"RehearsalStandIn{name}"


def moto_stack(cfn: dict, implemented: set[str]) -> tuple[dict, dict[str, dict]]:
    """The stack moto can create: `cfn` without the types moto lacks, whose
    references become parameters (values: the stand-ins created through the
    service API), and each taken-out resource's properties as an output (so
    moto resolves every reference in them). Returns it and what was taken out."""
    taken = {k: r for k, r in cfn["Resources"].items() if r["Type"] not in implemented}
    kept = {k: r for k, r in cfn["Resources"].items() if k not in taken}
    for name, resource in taken.items():
        referrers = [k for k, r in kept.items() if name in references(r)]
        referrers += [f"output {k}" for k, o in cfn.get("Outputs", {}).items() if name in references(o)]
        if referrers and resource["Type"] not in CREATED_THROUGH_THE_API:
            raise Failed(f"{name} ({resource['Type']}) is referenced by {referrers}, but has no stand-in")

    def rewrite(n):
        if isinstance(n, dict):
            if n.get("Ref") in taken:
                return {"Ref": stand_in_parameter(n["Ref"])}
            if "Fn::GetAtt" in n:
                target = n["Fn::GetAtt"]
                logical = target[0] if isinstance(target, list) else target.split(".")[0]
                if logical in taken:
                    raise Failed(f"Fn::GetAtt of {logical}, which moto cannot create: no stand-in")
            if "Fn::Sub" in n and isinstance(n["Fn::Sub"], str):
                text = n["Fn::Sub"]
                for name in taken:
                    text = text.replace("${" + name + "}", "${" + stand_in_parameter(name) + "}")
                    if "${" + name + "." in text:
                        raise Failed(f"a !Sub names an attribute of {name}, which moto cannot create")
                return {"Fn::Sub": text}
        return None

    mended = {k: REF_IS_ATTRIBUTE[r["Type"]] for k, r in kept.items() if r["Type"] in REF_IS_ATTRIBUTE}

    def mend(n):
        if isinstance(n, dict):
            if n.get("Ref") in mended:
                return {"Fn::GetAtt": [n["Ref"], mended[n["Ref"]]]}
            if "Fn::Sub" in n and isinstance(n["Fn::Sub"], str):
                text = n["Fn::Sub"]
                for name, attribute in mended.items():
                    text = text.replace("${" + name + "}", "${" + name + "." + attribute + "}")
                return {"Fn::Sub": text}
        return None

    template = json.loads(json.dumps(cfn))
    template["Resources"] = walk(walk(kept, rewrite), mend)
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str):
            depends = [depends]
        if depends:
            resource["DependsOn"] = [d for d in depends if d not in taken]
    template["Outputs"] = walk(walk(cfn.get("Outputs", {}), rewrite), mend)
    for name, attribute in mended.items():
        template["Outputs"][f"RehearsalRef{name}"] = {"Value": {"Fn::GetAtt": [name, attribute]}}
    for name, resource in taken.items():
        template["Outputs"][f"RehearsalResolved{name}"] = {
            "Value": {"Fn::ToJsonString": walk(walk(resource.get("Properties", {}), rewrite), mend)}
        }
        template["Parameters"][stand_in_parameter(name)] = {"Type": "String", "Default": "unused"}
    return template, taken


# --- what the code expects ---------------------------------------------------


def table_in_the_code() -> dict:
    """The table shared/src/store/table.rs creates (keys, indexes, TTL, stream)."""
    text = (ROOT / "shared/src/store/table.rs").read_text()

    def const(name: str) -> str:
        m = re.search(rf'pub const {name}: &str = "([^"]+)";', text)
        if not m:
            raise Failed(f"shared/src/store/table.rs: no const {name} (did its shape change?)")
        return m.group(1)

    indexes = {}
    for m in re.finditer(
        r'pub const (\w+): Index = Index \{\s*name: "([^"]+)",\s*pk: "([^"]+)",\s*sk: "([^"]+)"', text
    ):
        indexes[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    order = re.search(r"pub const INDEXES: &\[Index\] = &\[([^\]]+)\];", text)
    if not order or not indexes:
        raise Failed("shared/src/store/table.rs: no INDEXES (did its shape change?)")
    listed = [indexes[n.strip()] for n in order.group(1).split(",") if n.strip()]
    return {
        "keys": [(const("PK"), "HASH"), (const("SK"), "RANGE")],
        "indexes": {name: [(pk, "HASH"), (sk, "RANGE")] for name, pk, sk in listed},
        "ttl": const("TTL_ATTRIBUTE"),
        "stream": "NEW_AND_OLD_IMAGES" if "StreamViewType::NewAndOldImages" in text else None,
    }


def granted_in_the_template(template: dict, table_arn: str) -> dict[str, set[tuple[str, str]]]:
    """(action, resource) of every DynamoDB statement in each function's
    Policies, as template.yaml writes them (what security_limits.rs proves
    the code calls), with the table's ARN put in."""
    grants: dict[str, set[tuple[str, str]]] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        pairs: set[tuple[str, str]] = set()
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if not all(a.startswith("dynamodb:") for a in actions):
                    continue
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for target in targets:
                    if target == {"Fn::GetAtt": ["Table", "Arn"]}:
                        arn = table_arn
                    elif target == {"Fn::Sub": "${Table.Arn}/index/*"}:
                        arn = f"{table_arn}/index/*"
                    else:
                        raise Failed(f"{name}: a DynamoDB grant on {target}, which the rehearsal does not know")
                    pairs.update((a, arn) for a in actions)
        grants[name] = pairs
    return grants


# --- the rehearsal ---------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    source = sam_template()
    implemented = moto_types()
    process, endpoint = start_moto()
    try:
        return rehearse(source, implemented, endpoint, started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def rehearse(source: dict, implemented: set[str], endpoint: str, started: float) -> int:
    client = lambda service: boto3.client(service, endpoint_url=endpoint, region_name=REGION)  # noqa: E731
    s3, sns, cfn_client = client("s3"), client("sns"), client("cloudformation")

    # What `sam deploy` would upload, and the topic an operator would give.
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n# the rehearsal creates functions, it never runs them\n")
    s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=ARTIFACT_KEY, Body=archive.getvalue())
    topic = sns.create_topic(Name="tenancy-rehearsal-alarms")["TopicArn"]
    parameters = {"JwtIssuer": ISSUER, "JwtAudience": AUDIENCE, "AlarmTopicArn": topic}

    cfn = transform(source, dict(parameters), NoPolicies())
    template, taken = moto_stack(cfn, implemented)

    # Stand-ins, through the service API, for what moto's CloudFormation lacks.
    stand_ins: dict[str, str] = {}
    for name, resource in taken.items():
        if resource["Type"] == "AWS::ApiGatewayV2::Api":
            stand_ins[name] = client("apigatewayv2").create_api(Name=f"{STACK}-{name}", ProtocolType="HTTP")["ApiId"]
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            stand_ins[name] = client("secretsmanager").create_secret(
                Name=f"{STACK}-{name}", SecretString="rehearsal-cursor-secret-0123456789"
            )["ARN"]
    stack_parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    stack_parameters += [
        {"ParameterKey": stand_in_parameter(k), "ParameterValue": v} for k, v in stand_ins.items()
    ]

    cfn_client.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Parameters=stack_parameters,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.monotonic() + 60
    while True:
        stack = cfn_client.describe_stacks(StackName=STACK)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        events = cfn_client.describe_stack_events(StackName=STACK)["StackEvents"]
        reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events if "FAILED" in e["ResourceStatus"]]
        raise Failed(f"stack {stack['StackStatus']}: {reasons}")

    created = {
        r["LogicalResourceId"]: r
        for r in cfn_client.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resolved = {name: json.loads(outputs.pop(f"RehearsalResolved{name}")) for name in taken}

    # Every resource of the moto stack exists, with a physical id.
    for name, resource in template["Resources"].items():
        if check(name in created, f"{name} ({resource['Type']}) was not created"):
            r = created[name]
            check(r["ResourceStatus"] == "CREATE_COMPLETE", f"{name}: {r['ResourceStatus']}")
            if resource["Type"] not in REF_IS_ATTRIBUTE and resource["Type"] != "AWS::Lambda::Permission":
                check(bool(r.get("PhysicalResourceId")), f"{name}: no physical id")
    physical = {name: r.get("PhysicalResourceId") for name, r in created.items()}
    physical.update(stand_ins)
    for key in [k for k in outputs if k.startswith("RehearsalRef")]:
        physical[key.removeprefix("RehearsalRef")] = outputs.pop(key)

    # Nothing left unresolved anywhere moto resolved references.
    def unresolved(value) -> bool:
        text = json.dumps(value)
        return any(token in text for token in ('"Ref"', "Fn::", "${", "None", "null"))

    for name, value in resolved.items():
        check(not unresolved(value), f"{name}: references left unresolved: {json.dumps(value)[:300]}")

    table = check_table(client("dynamodb"), physical["Table"], source)
    check_outputs(cfn, outputs, physical, client, table)
    check_functions(client, source, cfn, physical, table, stand_ins)
    check_queues_and_mappings(client("sqs"), client("lambda"), cfn, physical, table)
    check_bus_and_schedule(client("events"), physical, source)
    alarms = create_and_check_alarms(client("cloudwatch"), taken, resolved, physical, topic)
    check_dashboard(client("cloudwatch"), physical)
    check_api(client("apigatewayv2"), taken, resolved, stand_ins, physical, source)

    # The summary.
    by_type = Counter(r["ResourceType"] for r in created.values())
    through_api = Counter(taken[n]["Type"] for n in taken if taken[n]["Type"] in CREATED_THROUGH_THE_API)
    through_api["AWS::CloudWatch::Alarm"] = len(alarms)
    print(f"Deploy rehearsal: stack {STACK} on moto ({endpoint}), {stack['StackStatus']}")
    print(f"  {len(created)} resources created by moto's CloudFormation:")
    for kind, count in sorted(by_type.items()):
        print(f"    {count:3}  {kind}")
    print("  validated only (moto's CloudFormation lacks the type; cfn-lint and tests/api/template.rs check them,")
    print("  their references resolved through moto, stand-ins created through the service API where it has one):")
    for kind, count in sorted(Counter(r["Type"] for r in taken.values()).items()):
        how = f"{through_api[kind]} created through the {kind.split('::')[1]} API" if kind in CREATED_THROUGH_THE_API else "properties resolved only"
        print(f"    {count:3}  {kind}  ({how})")
    print("  properties moto's CloudFormation does not apply (checked in the translated template):")
    for item in NOT_APPLIED_BY_MOTO:
        print(f"         {item}")
    print(f"  outputs ({len(outputs)}, each exported as {STACK}-<name>):")
    for key, value in sorted(outputs.items()):
        print(f"    {key} = {value}")
    print(f"  {len(failures)} failed checks, {time.monotonic() - started:.1f} s")
    for failure in failures:
        print(f"  FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def check_table(dynamodb, name: str, source: dict) -> dict:
    table = dynamodb.describe_table(TableName=name)["Table"]
    code = table_in_the_code()
    keys = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
    check(keys == code["keys"], f"table keys {keys}, the code uses {code['keys']}")
    indexes = {
        i["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]]
        for i in table.get("GlobalSecondaryIndexes", [])
    }
    check(indexes == code["indexes"], f"table indexes {indexes}, the code uses {code['indexes']}")
    for i in table.get("GlobalSecondaryIndexes", []):
        check(i["Projection"]["ProjectionType"] == "ALL", f"{i['IndexName']}: projects all attributes")
    stream = table.get("StreamSpecification", {})
    check(
        stream.get("StreamEnabled") is True and stream.get("StreamViewType") == code["stream"],
        f"table stream {stream}, the consumers need {code['stream']}",
    )
    check(bool(table.get("LatestStreamArn")), "the table has a stream ARN")
    check(table.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST", "on-demand billing")
    check(table.get("DeletionProtectionEnabled") is True, "the table is protected from deletion")
    # moto's CloudFormation does not apply these two: the template says them
    # (tests/api/template.rs checks them against the code).
    props = source["Resources"]["Table"]["Properties"]
    check(
        props["TimeToLiveSpecification"] == {"AttributeName": code["ttl"], "Enabled": True},
        f"TTL on {code['ttl']}",
    )
    check(props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, "point-in-time recovery")
    check(source["Resources"]["Table"].get("DeletionPolicy") == "Retain", "sam delete keeps the table")
    return table


def check_outputs(cfn: dict, outputs: dict, physical: dict, client, table: dict) -> None:
    check(set(outputs) == set(cfn["Outputs"]), f"outputs {sorted(outputs)}, the template declares {sorted(cfn['Outputs'])}")
    for key, value in outputs.items():
        check(bool(value) and "None" not in value and "${" not in value, f"output {key} = {value!r}")
    exports = {e["Name"]: e["Value"] for e in client("cloudformation").list_exports()["Exports"]}
    for key, value in outputs.items():
        check(exports.get(f"{STACK}-{key}") == value, f"output {key} is exported as {STACK}-{key}")
    check(outputs.get("TableName") == table["TableName"], "TableName is the table")
    sqs = client("sqs")
    for key, queue in [("JobsDeadLetterQueueUrl", "JobsDeadLetterQueue"), ("NotifierDeadLetterQueueUrl", "NotifierDeadLetterQueue")]:
        check(outputs.get(key) == physical[queue], f"{key} is {queue}'s URL")
        if outputs.get(key):
            sqs.get_queue_attributes(QueueUrl=outputs[key], AttributeNames=["QueueArn"])
    bus = client("events").describe_event_bus(Name=outputs.get("EventBusName", "-"))
    check(bus["Arn"] == outputs.get("EventBusArn"), "EventBusArn is the bus's ARN")
    check(
        outputs.get("ApiUrl") == f"https://{physical['Api']}.execute-api.{REGION}.amazonaws.com",
        f"ApiUrl {outputs.get('ApiUrl')} is the API's URL",
    )


def role_of(lambda_client, iam, function_name: str):
    function = lambda_client.get_function(FunctionName=function_name)["Configuration"]
    role_name = function["Role"].split("/")[-1]
    documents = [
        iam.get_role_policy(RoleName=role_name, PolicyName=p)["PolicyDocument"]
        for p in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    ]
    managed = {p["PolicyArn"].split("/")[-1] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]}
    return function, documents, managed


def statements(documents):
    for document in documents:
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except json.JSONDecodeError:
                # moto keeps the inline policies of roles its CloudFormation
                # creates as Python's repr of the document.
                document = ast.literal_eval(document)
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            yield statement["Effect"], actions, targets


def check_functions(client, source, cfn, physical, table, stand_ins) -> None:
    lambda_client, iam = client("lambda"), client("iam")
    queue_arns = {
        queue: client("sqs").get_queue_attributes(QueueUrl=physical[queue], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for queue in ("JobsDeadLetterQueue", "NotifierDeadLetterQueue")
    }
    bus_arn = client("events").describe_event_bus(Name=physical["EventBus"])["Arn"]
    expected = granted_in_the_template(source, table["TableArn"])
    stream_consumers = {
        name
        for name, r in source["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "DynamoDB" for e in r["Properties"].get("Events", {}).values())
    }
    http = {
        name
        for name, r in source["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "HttpApi" for e in r["Properties"].get("Events", {}).values())
    }
    check(len(expected) == 7, f"seven functions, the template has {sorted(expected)}")
    for name, grants in expected.items():
        function, documents, managed = role_of(lambda_client, iam, physical[name])
        granted = set()
        other = []
        for effect, actions, targets in statements(documents):
            check(effect == "Allow", f"{name}: only Allow statements")
            for action in actions:
                for target in targets:
                    if action.startswith("dynamodb:"):
                        granted.add((action, target))
                    else:
                        other.append((action, target))
        check(granted == grants, f"{name}: DynamoDB grants {sorted(granted ^ grants)} differ from the template's")
        check(
            all("*" not in a and t in (table["TableArn"], table["TableArn"] + "/index/*") for a, t in granted),
            f"{name}: DynamoDB grants only named actions on the table and its indexes",
        )
        wanted_other = set()
        if name in http:
            wanted_other.add(("secretsmanager:GetSecretValue", stand_ins["CursorSecret"]))
        queue = {"JobsFunction": "JobsDeadLetterQueue", "NotifierFunction": "NotifierDeadLetterQueue"}.get(name)
        if queue:
            wanted_other.add(("sqs:SendMessage", queue_arns[queue]))
        if name == "NotifierFunction":
            wanted_other.add(("events:PutEvents", bus_arn))
        check(set(other) == wanted_other, f"{name}: other grants {sorted(other)}, expected {sorted(wanted_other)}")
        wanted_managed = {"AWSLambdaBasicExecutionRole"} | ({"AWSLambdaDynamoDBExecutionRole"} if name in stream_consumers else set())
        # moto attaches none (NOT_APPLIED_BY_MOTO): what the translated role declares.
        declared = {a.split("/")[-1] for a in cfn["Resources"][f"{name}Role"]["Properties"]["ManagedPolicyArns"]}
        check((managed or declared) == wanted_managed, f"{name}: managed policies {sorted(managed or declared)}")
        permissions = [
            r["Properties"] for r in cfn["Resources"].values()
            if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["FunctionName"] == {"Ref": name}
        ]
        if permissions:
            policy = json.loads(lambda_client.get_policy(FunctionName=physical[name])["Policy"])
            principals = Counter(str(s["Principal"].get("Service")) for s in policy["Statement"])
            wanted = Counter(p["Principal"] for p in permissions)
            check(principals == wanted, f"{name}: invoke permissions {dict(principals)}, the template grants {dict(wanted)}")
            for statement in policy["Statement"]:
                source_arn = json.dumps(statement.get("Condition", {}))
                check("None" not in source_arn and "${" not in source_arn, f"{name}: permission condition {source_arn}")
        env = function.get("Environment", {}).get("Variables", {})
        check(env.get("TABLE_NAME") == table["TableName"], f"{name}: TABLE_NAME is the table")
        check(env.get("CURSOR_SECRET_ARN") == stand_ins["CursorSecret"], f"{name}: CURSOR_SECRET_ARN is the secret")
        if name == "NotifierFunction":
            check(env.get("EVENT_BUS_NAME") == physical["EventBus"], "the notifier publishes to the bus")
        check(function["Runtime"] == "provided.al2023" and function["Handler"] == "bootstrap", f"{name}: runtime")
        architectures = function.get("Architectures") if "arm64" in function.get("Architectures", []) else props_arch(cfn, name)
        check(architectures == ["arm64"], f"{name}: arm64 ({architectures})")
        props = cfn["Resources"][name]["Properties"]
        check(function["Timeout"] == props["Timeout"], f"{name}: timeout")


def props_arch(cfn: dict, name: str):
    """The architectures the translated function declares (moto ignores them)."""
    return cfn["Resources"][name]["Properties"].get("Architectures")


def check_queues_and_mappings(sqs, lambda_client, cfn, physical, table) -> None:
    queues = {}
    for name in ("JobsDeadLetterQueue", "NotifierDeadLetterQueue"):
        attributes = sqs.get_queue_attributes(QueueUrl=physical[name], AttributeNames=["All"])["Attributes"]
        queues[name] = attributes["QueueArn"]
        check(attributes.get("MessageRetentionPeriod") == "1209600", f"{name}: keeps messages 14 days")
        check(attributes.get("SqsManagedSseEnabled") in ("true", True), f"{name}: encrypted")
    mappings = lambda_client.list_event_source_mappings()["EventSourceMappings"]
    by_function = {m["FunctionArn"].split(":")[-1]: m for m in mappings}
    for function, queue in (("JobsFunction", "JobsDeadLetterQueue"), ("NotifierFunction", "NotifierDeadLetterQueue")):
        mapping = by_function.get(physical[function])
        if not check(mapping is not None, f"{function}: an event source mapping"):
            continue
        check(mapping["EventSourceArn"] == table["LatestStreamArn"], f"{function}: reads the table's stream")
        declared = next(
            r["Properties"] for r in cfn["Resources"].values()
            if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == {"Ref": function}
        )
        check(mapping.get("BatchSize") == declared["BatchSize"], f"{function}: batch size")
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        check(destination == queues[queue], f"{function}: failures go to {queue} ({destination})")
        patterns = [f["Pattern"] for f in mapping.get("FilterCriteria", {}).get("Filters", [])]
        check(patterns == [f["Pattern"] for f in declared["FilterCriteria"]["Filters"]], f"{function}: filters")
    check(len(mappings) == 2, f"two event source mappings, found {len(mappings)}")


def check_bus_and_schedule(events, physical, source) -> None:
    check(physical["EventBus"] == f"{STACK}-events", f"the bus is named {STACK}-events")
    rule = events.describe_rule(Name=physical["CleanupFunctionSchedule"])
    default = source["Parameters"]["ScheduleExpression"]["Default"]
    check(rule.get("ScheduleExpression") == default, f"the clean-up runs {rule.get('ScheduleExpression')}")
    targets = events.list_targets_by_rule(Rule=physical["CleanupFunctionSchedule"])["Targets"]
    check(
        [t["Arn"].split(":")[-1] for t in targets] == [physical["CleanupFunction"]],
        "the schedule invokes the clean-up",
    )


def create_and_check_alarms(cloudwatch, taken, resolved, physical, topic) -> list[str]:
    """Creates the alarms through CloudWatch's API (with their properties as
    moto resolved them) and checks what they watch exists and whom they tell."""
    names = []
    for name, resource in taken.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = {k: v for k, v in resolved[name].items() if v is not None}
        for number in ("Threshold",):
            props[number] = float(props[number])
        for number in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if number in props:
                props[number] = int(props[number])
        for metric in props.get("Metrics", []):
            if "MetricStat" in metric:
                metric["MetricStat"]["Period"] = int(metric["MetricStat"]["Period"])
        cloudwatch.put_metric_alarm(**props)
        names.append(props["AlarmName"])
    described = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    check(len(described) == len(names), f"{len(described)} of {len(names)} alarms created")
    known = {
        "FunctionName": {physical[n] for n in physical if n.endswith("Function")},
        "QueueName": {physical[n].rsplit("/", 1)[-1] for n in ("JobsDeadLetterQueue", "NotifierDeadLetterQueue")},
        "TableName": {physical["Table"]},
        "ApiId": {physical["Api"]},
        "GlobalSecondaryIndexName": {f"GSI{i}" for i in range(1, 7)},
    }
    for alarm_name, alarm in described.items():
        check(alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], f"{alarm_name}: notifies the topic")
        dims = list(alarm.get("Dimensions", []))
        for metric in alarm.get("Metrics", []):
            dims += metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
        check(bool(dims), f"{alarm_name}: watches something")
        for d in dims:
            check(d["Value"] in known.get(d["Name"], set()), f"{alarm_name}: {d['Name']}={d['Value']} names no resource")
    watched_functions = {
        d["Value"] for a in described.values() for d in a.get("Dimensions", []) if d["Name"] == "FunctionName"
    }
    check(watched_functions == known["FunctionName"], "every function is watched")
    return names


def check_dashboard(cloudwatch, physical) -> None:
    body = json.loads(cloudwatch.get_dashboard(DashboardName=physical["Dashboard"])["DashboardBody"])
    named = set()
    for widget in body["widgets"]:
        check(widget["properties"]["region"] == REGION, "the dashboard shows the stack's region")
        for metric in widget["properties"].get("metrics", []):
            strings = [v for v in metric if isinstance(v, str)]
            named.update(strings[3::2])
    resources = set(physical.values()) | {p.rsplit("/", 1)[-1] for p in physical.values() if p and p.startswith("http")}
    indexes = {f"GSI{i}" for i in range(1, 7)}
    check(named - indexes <= resources, f"the dashboard names {sorted(named - indexes - resources)}, not in the stack")
    check({physical[n] for n in physical if n.endswith("Function")} <= named, "the dashboard shows every function")


def check_api(apigateway, taken, resolved, stand_ins, physical, source) -> None:
    """The HTTP API moto's CloudFormation cannot create: its routes (from the
    translated OpenAPI body, its integrations resolved to the functions'
    ARNs by moto) imported into the stand-in."""
    api = next(n for n, r in taken.items() if r["Type"] == "AWS::ApiGatewayV2::Api")
    body = resolved[api]["Body"]
    apigateway.reimport_api(ApiId=stand_ins[api], Body=json.dumps(body))
    routes = {r["RouteKey"] for r in apigateway.get_routes(ApiId=stand_ins[api])["Items"]}
    declared = {
        f"{e['Properties']['Method'].upper()} {e['Properties']['Path']}"
        for r in source["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        for e in r["Properties"].get("Events", {}).values()
        if e["Type"] == "HttpApi"
    }
    check(routes == declared, f"API routes differ from the template's: {sorted(routes ^ declared)}")
    # What the code serves: the OpenAPI document (and the route serving it).
    document = json.loads((ROOT / "api/openapi.json").read_text())
    served = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
        if method in ("get", "put", "post", "patch", "delete")
    } | {"GET /v1/openapi.json"}
    check(routes == served, f"API routes differ from api/openapi.json's: {sorted(routes ^ served)}")
    functions = {physical[n] for n in physical if n.endswith("Function")}
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]
            check(any(f":function:{f}/" in uri for f in functions), f"{method} {path} integrates a function: {uri}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print(f"Deploy rehearsal FAILED: {e}", file=sys.stderr)
        sys.exit(1)
