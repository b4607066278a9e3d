#!/usr/bin/env python3
"""Merges api/openapi/*.yaml (base.yaml first, then the others by name) into
api/openapi.json: the document GET /v1/openapi.json serves. Paths and
components merge; a name defined twice is an error.

Run it after editing the YAML: make openapi
"""
import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(HERE, "..", "api", "openapi")
OUT = os.path.join(HERE, "..", "api", "openapi.json")


def merge(into, extra, where):
    for key, value in extra.items():
        if key in into:
            sys.exit(f"openapi: {where}{key} is defined twice")
        into[key] = value


def main():
    files = sorted(f for f in os.listdir(SOURCES) if f.endswith(".yaml") and f != "base.yaml")
    with open(os.path.join(SOURCES, "base.yaml")) as f:
        document = yaml.safe_load(f)
    for name in files:
        with open(os.path.join(SOURCES, name)) as f:
            part = yaml.safe_load(f) or {}
        unknown = set(part) - {"paths", "components"}
        if unknown:
            sys.exit(f"openapi: {name} may hold only paths and components, not {sorted(unknown)}")
        merge(document.setdefault("paths", {}), part.get("paths", {}), f"{name}: paths.")
        for section, entries in part.get("components", {}).items():
            merge(document["components"].setdefault(section, {}), entries, f"{name}: components.{section}.")
    with open(OUT, "w") as f:
        json.dump(document, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
