"""Peer reference: a tenant-read Lambda as commonly written in Python with
AWS Lambda Powertools + boto3. Like-for-like with the Rust
`GET /v1/tenants/{id}` route: one consistent GetItem on the tenant item.

Env: TABLE_NAME (required), DYNAMODB_ENDPOINT (optional, e.g. DynamoDB Local),
AWS_REGION / credentials as usual.
"""

import base64
import json
import os
from decimal import Decimal

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from boto3.dynamodb.types import Binary, TypeDeserializer

logger = Logger(service="tenancy-peer")
app = APIGatewayHttpResolver()

# Created once per execution environment (cold start), reused by every invoke.
TABLE_NAME = os.environ["TABLE_NAME"]
_client_kwargs = {}
if os.environ.get("DYNAMODB_ENDPOINT"):
    _client_kwargs["endpoint_url"] = os.environ["DYNAMODB_ENDPOINT"]
dynamodb = boto3.client("dynamodb", **_client_kwargs)
_deserializer = TypeDeserializer()

# Same key format as shared/src/store/keys.rs `tenant()`.
TENANT_PK_PREFIX = "TENANT#"
TENANT_SK = "TENANT"
# Storage-only attributes, not part of the resource.
_HIDDEN = ("PK", "SK", "GSI")


def _plain(value):
    """DynamoDB-deserialized value -> JSON-serializable value."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode()
    return value


@app.get("/v1/tenants/<tenantId>")
def get_tenant(tenantId: str):
    resp = dynamodb.get_item(
        TableName=TABLE_NAME,
        Key={"PK": {"S": f"{TENANT_PK_PREFIX}{tenantId}"}, "SK": {"S": TENANT_SK}},
        ConsistentRead=True,
    )
    item = resp.get("Item")
    if item is None:
        return Response(
            status_code=404,
            content_type="application/problem+json",
            # Powertools serializes dict bodies only for application/json.
            body=json.dumps(
                {
                    "type": "https://tenancy.example.com/problems/not-found",
                    "title": "Not found",
                    "status": 404,
                    "detail": f"tenant '{tenantId}' was not found",
                }
            ),
        )
    tenant = {
        k: _plain(_deserializer.deserialize(v))
        for k, v in item.items()
        if not k.startswith(_HIDDEN)
    }
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=tenant)


@logger.inject_lambda_context
def handler(event, context):
    return app.resolve(event, context)
