#!/usr/bin/env python3
"""Writes events/*.json: one API Gateway v2 (HTTP API, payload 2.0) sample
event per route, as the JWT authoriser delivers them, forming a walk-through
(see WALK_THROUGH in tests/api/events.rs for the order and statuses).

Run it after adding a route: python3 dev/sample-events.py
"""
import base64
import io
import json
import os
import zipfile
from urllib.parse import unquote_plus

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "events")

CLAIMS = {
    "sub": "platform-admin", "iss": "https://auth.example.com/", "aud": "tenancy",
    "roles": "[tenancy:admin]",
    "scope": "tenants:* subtenants:* identity-providers:* deployments:* members:* events:*",
    "iat": "1795440000", "exp": "1795526400",
}


def event(name, method, template, path, params=None, query="", body=None,
          content_type="application/json", headers=None, binary=None, public=False):
    all_headers = {
        "accept": "application/json",
        "authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.redacted.signature",
        "host": "abc123.execute-api.eu-west-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-forwarded-for": "198.51.100.7", "x-forwarded-port": "443", "x-forwarded-proto": "https",
    }
    text = json.dumps(body) if body is not None else None
    if binary is not None:
        text = base64.b64encode(binary).decode()
    if text is not None:
        all_headers["content-type"] = content_type
        all_headers["content-length"] = str(len(binary) if binary is not None else len(text.encode()))
    all_headers.update(headers or {})
    if public:
        del all_headers["authorization"]
    ev = {"version": "2.0", "routeKey": f"{method} {template}", "rawPath": path,
          "rawQueryString": query, "headers": all_headers}
    if query:
        qs = {}
        for pair in query.split("&"):
            k, v = (unquote_plus(x) for x in pair.split("=", 1))
            qs[k] = qs[k] + "," + v if k in qs else v
        ev["queryStringParameters"] = qs
    ev["requestContext"] = {
        "accountId": "123456789012", "apiId": "abc123",
        "domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "domainPrefix": "abc123",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                 "sourceIp": "198.51.100.7", "userAgent": "curl/8.5.0"},
        "requestId": f"sample-{name}", "routeKey": f"{method} {template}", "stage": "$default",
        "time": "23/Nov/2026:09:00:00 +0000", "timeEpoch": 1795424400000,
    }
    if not public:
        ev["requestContext"]["authorizer"] = {"jwt": {"claims": CLAIMS, "scopes": None}}
    if params:
        ev["pathParameters"] = params
    if text is not None:
        ev["body"] = text
    ev["isBase64Encoded"] = binary is not None
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(ev, f, indent=2)
        f.write("\n")


ACME = {"id": "acme-corp"}
EMEA = {"id": "acme-emea"}

event("tenants-create", "POST", "/v1/tenants", "/v1/tenants", body={
    "tenantId": "acme-corp", "name": "Acme Corp", "description": "Our first enterprise customer",
    "type": "Enterprise", "environment": "production", "tags": ["gold", "eu-west"],
    "businessAccount": "BA-1001", "defaultDomain": "acme.example", "supportEmail": "support@acme.example",
    "contactInformation": {"name": "Ada Lovelace", "email": "ada@acme.example", "phoneNumber": "+44 20 7946 0000"},
    "addressInformation": {"addressLine1": "1 Analytical Row", "city": "London",
                           "zipOrPostalCode": "EC1A 1AA", "country": "GB"},
    "resellerId": "reseller-7", "externalIds": {"1": "CRM-88", "billing": "cus_42"},
    "settings": {"useTenantLanguages": True}, "metadata": {"plan": "enterprise"}})
event("tenants-create-child", "POST", "/v1/tenants", "/v1/tenants", body={
    "tenantId": "acme-emea", "name": "Acme EMEA", "parentId": "acme-corp", "environment": "test",
    "tags": ["gold"], "configuration": {"rating": {"currency": "EUR", "rounding": "half-even"}}},
    headers={"idempotency-key": "create-acme-emea-1"})
event("tenants-get", "GET", "/v1/tenants/{id}", "/v1/tenants/acme-corp", params=ACME)
event("openapi-get", "GET", "/v1/openapi.json", "/v1/openapi.json", public=True)
event("tenants-mine", "GET", "/v1/tenants/mine", "/v1/tenants/mine", query="limit=25")
event("members-put", "PUT", "/v1/tenants/{id}/members/{userId}", "/v1/tenants/acme-corp/members/alice@example.com",
      params={"id": "acme-corp", "userId": "alice@example.com"}, body={"role": "operator"})
event("members-get", "GET", "/v1/tenants/{id}/members/{userId}", "/v1/tenants/acme-corp/members/alice@example.com",
      params={"id": "acme-corp", "userId": "alice@example.com"})
event("members-list", "GET", "/v1/tenants/{id}/members", "/v1/tenants/acme-corp/members", params=ACME,
      query="limit=25")
event("members-delete", "DELETE", "/v1/tenants/{id}/members/{userId}",
      "/v1/tenants/acme-corp/members/alice@example.com", params={"id": "acme-corp", "userId": "alice@example.com"})
event("tenants-get-by-name", "GET", "/v1/tenants/by-name/{name}", "/v1/tenants/by-name/acme corp",
      params={"name": "acme corp"})
event("tenants-list", "GET", "/v1/tenants", "/v1/tenants", query="limit=10&sort=name+asc&name=ac&tags=gold")
event("tenants-children", "GET", "/v1/tenants/{id}/children", "/v1/tenants/acme-corp/children",
      params=ACME, query="limit=25")
event("tenants-ancestors", "GET", "/v1/tenants/{id}/ancestors", "/v1/tenants/acme-emea/ancestors", params=EMEA)
event("tenants-replace", "PUT", "/v1/tenants/{id}", "/v1/tenants/acme-corp", params=ACME, body={
    "name": "Acme Corporation", "description": "Renamed after the merger", "environment": "production",
    "status": "active", "tags": ["gold"], "supportEmail": "help@acme.example",
    "externalIds": {"1": "CRM-88"}, "settings": {"useTenantLanguages": False}},
    headers={"if-match": "\"2\""})
event("tenants-patch", "PATCH", "/v1/tenants/{id}", "/v1/tenants/acme-corp", params=ACME,
      body={"status": "inactive", "tags": ["gold", "paused"], "metadata": {"pausedBy": "billing"}},
      content_type="application/merge-patch+json")
SUB = {"id": "acme-corp", "subtenantId": "sales-emea"}
event("subtenants-create", "POST", "/v1/tenants/{id}/subtenants", "/v1/tenants/acme-corp/subtenants", params=ACME,
      body={"name": "Sales EMEA", "code": "sales-emea", "description": "The EMEA sales team", "resellerId": "reseller-7"})
event("subtenants-list", "GET", "/v1/tenants/{id}/subtenants", "/v1/tenants/acme-corp/subtenants", params=ACME,
      query="sortBy=name&orderBy=asc&limit=25&includeTotal=true")
event("subtenants-list-all", "GET", "/v1/subtenants", "/v1/subtenants", query="tenantId=acme-corp&sortBy=code")
event("subtenants-get", "GET", "/v1/tenants/{id}/subtenants/{subtenantId}",
      "/v1/tenants/acme-corp/subtenants/sales-emea", params=SUB)
event("subtenants-replace", "PUT", "/v1/tenants/{id}/subtenants/{subtenantId}",
      "/v1/tenants/acme-corp/subtenants/sales-emea", params=SUB,
      body={"name": "Sales Europe", "code": "sales-emea", "resellerId": "reseller-7"})
event("subtenants-patch", "PATCH", "/v1/tenants/{id}/subtenants/{subtenantId}",
      "/v1/tenants/acme-corp/subtenants/sales-emea", params=SUB,
      body={"description": "Europe, the Middle East and Africa"}, content_type="application/merge-patch+json")
event("subtenants-delete", "DELETE", "/v1/tenants/{id}/subtenants/{subtenantId}",
      "/v1/tenants/acme-corp/subtenants/sales-emea", params=SUB)
IDP = {"id": "acme-corp", "ipId": "azure-ad"}
IDP_BASE = "/v1/tenants/acme-corp/identity-providers/azure-ad"
IDP_TEMPLATE = "/v1/tenants/{id}/identity-providers/{ipId}"
# A directory group id needs encoding in the path; pathParameters hold it decoded.
GROUP = {**IDP, "from": "CN=Admins,OU=Groups", "to": "group:tenant-admins"}
GROUP_PATH = IDP_BASE + "/groups/CN%3DAdmins%2COU%3DGroups"
event("identity-providers-put", "PUT", IDP_TEMPLATE, IDP_BASE, params=IDP, body={
    "type": "oidc", "issuer": "https://login.microsoftonline.com/acme-tenant/v2.0", "clientId": "6f1c2a3b-acme",
    "scopes": ["openid", "profile", "email"], "enabled": True, "domains": ["acme.example", "acme-corp.example"]})
event("identity-providers-get", "GET", IDP_TEMPLATE, IDP_BASE, params=IDP)
event("identity-providers-list", "GET", "/v1/tenants/{id}/identity-providers",
      "/v1/tenants/acme-corp/identity-providers", params=ACME)
event("identity-providers-by-domain", "GET", "/v1/identity-providers/by-domain/{domain}",
      "/v1/identity-providers/by-domain/acme.example", params={"domain": "acme.example"})
event("tenants-list-by-identity-provider", "GET", "/v1/tenants", "/v1/tenants", query="identityProviderId=azure-ad")
event("identity-providers-groups-put", "PUT", IDP_TEMPLATE + "/groups/{from}/{to}",
      GROUP_PATH + "/group:tenant-admins", params=GROUP)
event("identity-providers-groups-get", "GET", IDP_TEMPLATE + "/groups/{from}", GROUP_PATH,
      params={k: v for k, v in GROUP.items() if k != "to"})
event("identity-providers-groups-list", "GET", IDP_TEMPLATE + "/groups", IDP_BASE + "/groups", params=IDP,
      query="limit=25")
event("identity-providers-groups-delete", "DELETE", IDP_TEMPLATE + "/groups/{from}", GROUP_PATH,
      params={k: v for k, v in GROUP.items() if k != "to"})
event("identity-providers-delete", "DELETE", IDP_TEMPLATE, IDP_BASE, params=IDP)

DEPLOYMENTS = "/v1/tenants/acme-corp/deployments"
event("deployments-create", "POST", "/v1/tenants/{id}/deployments", DEPLOYMENTS, params=ACME, body={
    "products": {"auto": {"coverages": ["liability", "collision"]}}, "rating": {"currency": "GBP"}})


def config_zip():
    """A small configuration archive; one entry tries to leave it and is rejected."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in [("config/products/auto.json", '{"coverages": ["liability", "collision", "theft"]}'),
                           ("config/rating.json", '{"currency": "GBP"}'),
                           ("../escape.txt", "outside the archive")]:
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 23, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return out.getvalue()


event("deployments-create-zip", "POST", "/v1/tenants/{id}/deployments", DEPLOYMENTS, params=ACME,
      content_type="application/zip", binary=config_zip())
event("deployments-list", "GET", "/v1/tenants/{id}/deployments", DEPLOYMENTS, params=ACME, query="limit=10")
event("deployments-get", "GET", "/v1/tenants/{id}/deployments/{version}", DEPLOYMENTS + "/1",
      params={**ACME, "version": "1"})
event("deployments-download", "GET", "/v1/tenants/{id}/deployments/{version}", DEPLOYMENTS + "/2",
      params={**ACME, "version": "2"}, query="download=true")
event("tenants-clone", "POST", "/v1/tenants/{id}/clone", "/v1/tenants/acme-corp/clone", params=ACME, body={
    "environment": "test", "name": "Acme Corp Sandbox", "tenantId": "acme-corp-sandbox",
    "description": "A test copy of Acme Corp's configuration"})
# The clone's answer names its job; put that id here (and in jobs-queued) to replay them.
JOB_ID = "019ab000-0000-7000-8000-000000000001"
event("jobs-get", "GET", "/v1/jobs/{jobId}", f"/v1/jobs/{JOB_ID}", params={"jobId": JOB_ID})


def stream_insert(name, event_id, sequence, size, image):
    """Writes events/<name>.json: a DynamoDB Streams event with one INSERT of `image`."""
    record = {
        "eventID": event_id, "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
        "dynamodb": {"ApproximateCreationDateTime": 1795424400, "Keys": {"PK": image["PK"], "SK": image["SK"]},
                     "NewImage": image, "SequenceNumber": sequence, "SizeBytes": size,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/tenancy/stream/2026-11-23T09:00:00.000",
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump({"Records": [record]}, f, indent=2)
        f.write("\n")


def stream_event():
    """What the jobs function receives: the INSERT of a queued job item."""
    stream_insert("jobs-queued", "c4ca4238a0b923820dcc509a6f75849b", "111100000000000000000001", 412, {
        "PK": {"S": f"JOB#{JOB_ID}"}, "SK": {"S": "JOB"}, "entityType": {"S": "job"}, "id": {"S": JOB_ID},
        "kind": {"S": "cloneTest"}, "sourceTenantId": {"S": "acme-corp"},
        "targetTenantId": {"S": "acme-corp-sandbox"}, "status": {"S": "queued"},
        "createdAt": {"S": "2026-11-23T09:00:00Z"}, "createdBy": {"S": "platform-admin"},
        "updatedAt": {"S": "2026-11-23T09:00:00Z"},
    })


def notifier_event():
    """What the notifier receives: a tenant's INSERT (one tenant.created event)."""
    stream_insert("notifier-tenant-created", "a87ff679a2f3e71d9181a67b7542122c", "111100000000000000000002", 512, {
        "PK": {"S": "TENANT#globex"}, "SK": {"S": "TENANT"}, "entityType": {"S": "tenant"},
        "id": {"S": "globex"}, "name": {"S": "Globex"}, "type": {"S": "Enterprise"},
        "environment": {"S": "production"}, "status": {"S": "active"}, "path": {"L": [{"S": "globex"}]},
        "depth": {"N": "0"}, "childCount": {"N": "0"}, "subtenantCount": {"N": "0"}, "tags": {"L": []},
        "externalIds": {"M": {}}, "metadata": {"M": {}}, "identityProviderIds": {"L": []},
        "settings": {"M": {"useTenantLanguages": {"BOOL": False}, "useCustomRoutingProfile": {"BOOL": False}}},
        "createdAt": {"S": "2026-11-23T09:00:00.000Z"}, "createdBy": {"S": "platform-admin"},
        "updatedAt": {"S": "2026-11-23T09:00:00.000Z"}, "updatedBy": {"S": "platform-admin"},
        "version": {"N": "1"}, "nameKey": {"S": "globex"},
    })


stream_event()
notifier_event()
event("tenants-retire", "POST", "/v1/tenants/{id}/retire", "/v1/tenants/acme-corp/retire", params=ACME,
      body={"reason": "Contract ended"})
event("tenants-restore", "POST", "/v1/tenants/{id}/restore", "/v1/tenants/acme-corp/restore", params=ACME)
event("tenants-events", "GET", "/v1/tenants/{id}/events", "/v1/tenants/acme-corp/events",
      params=ACME, query="limit=10")
event("events-feed", "GET", "/v1/events", "/v1/events", query="types=tenant.*,member.added&limit=50")
event("tenants-delete", "DELETE", "/v1/tenants/{id}", "/v1/tenants/acme-corp", params=ACME, query="force=true")
event("tenants-delete-clone", "DELETE", "/v1/tenants/{id}", "/v1/tenants/acme-corp-sandbox",
      params={"id": "acme-corp-sandbox"})
