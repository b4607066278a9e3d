#!/usr/bin/env bash
# What the bench harness spawns: the Python Runtime Interface Client serving
# app.handler against $AWS_LAMBDA_RUNTIME_API. Run install.sh first.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
exec "$here/../../.local/peer-venv/bin/python" -m awslambdaric app.handler
