#!/usr/bin/env python3
"""Checks that every status the OpenAPI document lists for an operation, and
every problem `code` it lists, was answered by some test: the integration
tests (target/tmp/observed-statuses, written by tests/api/helpers.rs: route,
status, code) or the contract run (schemathesis' HAR report). Prints what is
missing and exits 1 if anything is.

usage: status-coverage.py OPENAPI_JSON OBSERVED_DIR [HAR ...]
"""
import json
import os
import re
import sys
from urllib.parse import urlparse

METHODS = ("get", "put", "post", "patch", "delete")


def route_matcher(document):
    routes = []
    for path in document["paths"]:
        for method in document["paths"][path]:
            if method in METHODS:
                segments = path.strip("/").split("/")
                literal = tuple(not s.startswith("{") for s in segments)
                pattern = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
                routes.append((method.upper(), re.compile(f"^/{pattern}$"), literal, f"{method.upper()} {path}"))

    def find(method, path):
        matches = [(lit, key) for m, rx, lit, key in routes if m == method and rx.match(path)]
        return max(matches)[1] if matches else None

    return find


def main():
    document_path, observed_dir, *hars = sys.argv[1:]
    with open(document_path) as f:
        document = json.load(f)
    documented = {
        (f"{method.upper()} {path}", status)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status in operation["responses"]
    }
    observed, codes = set(), set()
    for name in os.listdir(observed_dir) if os.path.isdir(observed_dir) else []:
        with open(os.path.join(observed_dir, name)) as f:
            for line in f:
                route, status, code = (line.rstrip("\n").split("\t") + ["", ""])[:3]
                observed.add((route, status))
                codes.add(code)
    by_tests = len(observed)
    find = route_matcher(document)
    for har in hars:
        with open(har) as f:
            entries = json.load(f)["log"]["entries"]
        for entry in entries:
            route = find(entry["request"]["method"], urlparse(entry["request"]["url"]).path)
            if route and entry["response"]["status"]:
                observed.add((route, str(entry["response"]["status"])))
            codes.add(problem_code(entry["response"]))
    waived = {
        (f"{method.upper()} {path}", status): why
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status, why in operation.get("x-untested-statuses", {}).items()
    }
    missing = sorted(documented - observed - set(waived))
    print(f"documented statuses: {len(documented)} (operation, status) pairs; "
          f"answered by a test: {len(documented) - len(missing) - len(waived)} "
          f"({by_tests} pairs seen by the integration tests, the rest by the contract run)")
    for (route, status), why in sorted(waived.items()):
        print(f"  waived in the document: {route} -> {status}: {why}")
    for route, status in missing:
        print(f"  never answered by a test: {route} -> {status}")
    code_schema = document["components"]["schemas"]["Problem"]["properties"]["code"]
    code_waived = code_schema.get("x-untested-codes", {})
    missing_codes = [c for c in code_schema["enum"] if c not in codes and c not in code_waived]
    print(f"documented problem codes: {len(code_schema['enum'])}; "
          f"answered by a test: {len(code_schema['enum']) - len(missing_codes) - len(code_waived)}")
    for code, why in sorted(code_waived.items()):
        print(f"  waived in the document: code {code}: {why}")
    for code in missing_codes:
        print(f"  never answered by a test: code {code}")
    sys.exit(1 if missing or missing_codes else 0)


def problem_code(response):
    """The `code` of a problem+json answer in a HAR entry, else None."""
    content = response.get("content", {})
    if not content.get("mimeType", "").startswith("application/problem+json"):
        return None
    try:
        return json.loads(content.get("text") or "{}").get("code")
    except ValueError:
        return None


if __name__ == "__main__":
    main()
