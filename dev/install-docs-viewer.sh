#!/usr/bin/env bash
# Installs the docs page's viewer (Redoc 2's standalone bundle, one classic
# script; Redoc 3's is an ES module that lists operations page by page) from
# npm, without a full npm install: npm pack + untar. The dev gateway serves it
# at /docs; nothing is fetched from a CDN at run time. Idempotent.
set -euo pipefail
PACKAGE="redoc@2.5.4"
dest="${1:-$(cd "$(dirname "$0")/.." && pwd)/.local/redoc}"
# The version is recorded beside the script: another version is replaced.
[ -f "$dest/redoc.standalone.js" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$PACKAGE" ] && exit 0
rm -rf "$dest"

command -v npm >/dev/null || { echo "Installing the docs viewer needs npm: sudo apt-get install -y npm" >&2; exit 1; }

parent="$(dirname "$dest")"
mkdir -p "$parent"
work="$(mktemp -d "$parent/.redoc.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "Installing the docs viewer from npm ($PACKAGE) into $dest" >&2
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null 2>&1)
tar -xzf "$work"/*.tgz -C "$work"
[ -f "$work/package/bundles/redoc.standalone.js" ] || { echo "the package has no bundles/redoc.standalone.js" >&2; exit 1; }
mkdir -p "$work/out"
cp "$work/package/bundles/redoc.standalone.js" "$work/package/LICENSE" "$work/out/"
echo "$PACKAGE" >"$work/out/VERSION"
mv -T "$work/out" "$dest" 2>/dev/null || [ -f "$dest/redoc.standalone.js" ]
