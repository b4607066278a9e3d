#!/usr/bin/env python3
"""Runs docs/tutorial.md top to bottom against a dev gateway.

    python3 dev/tutorial-test.py http://127.0.0.1:PORT [docs/tutorial.md]

The tutorial is documentation first, so this runs it as a reader would:
every ```sh block, in order, in one bash with `set -euo pipefail` (variables
set by one block are there for the next), with `API` preset to the gateway
given (the tutorial keeps an `API` already set). It runs in a fresh
temporary directory, so the files the tutorial writes (a zip, a download)
do not land in the repository; `make` there means the repository's Makefile.

Before running, every curl call is checked to be one whose failure the shell
sees: `curl -f…` (a status of 400 or more fails it) or
`curl … -w '%{http_code}\\n' … | grep -x NNN` (any other status fails it). A
call that could fail unnoticed fails the run, so the tutorial cannot rot into
a page whose errors nobody reads; nor may a block run `make dev`, `make test`
or another target that starts a server or a suite. Exits non-zero, with the output of the
failing block, on the first failure; called by dev/contract-test.sh.
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def blocks(markdown: str) -> list[tuple[int, str]]:
    """The ```sh blocks of the page, each with the line it starts on."""
    found, current, start = [], None, 0
    for number, line in enumerate(markdown.splitlines(), 1):
        if current is None and line.strip() == "```sh":
            current, start = [], number + 1
        elif current is not None and line.strip() == "```":
            found.append((start, "\n".join(current)))
            current = None
        elif current is not None:
            current.append(line)
    if current is not None:
        raise SystemExit(f"tutorial: the ```sh block from line {start} is never closed")
    return found


def commands(block: str) -> list[str]:
    """The block's commands, continuation lines joined."""
    joined, pending = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return joined


CHECKED_STATUS = re.compile(r"-w '%\{http_code\}\\n'.*\|\s*grep -x [0-9]{3}\b")


def unchecked_curls(block: str, start: int) -> list[str]:
    """Every curl of the block whose failure the shell would not see."""
    problems = []
    for command in commands(block):
        code = re.sub(r"(^|\s)#.*", "", command)
        for call in re.finditer(r"\bcurl\b([^|;)&]*)", code):
            options = call.group(1).split()
            fails = any(re.fullmatch(r"-[A-Za-z]*f[A-Za-z]*", o) or o == "--fail" for o in options)
            if not fails and not CHECKED_STATUS.search(code[call.start():]):
                problems.append(f"line ~{start}: {code.strip()[:100]}")
    return problems


# Targets that start servers, run suites or touch AWS: a tutorial block that
# runs one would hang the run or reach outside it.
LONG_RUNNING = re.compile(r"(^|[;&|(]\s*)make\s+(?:-\S+\s+)*(dev|test|contract|bench|watch|deploy)\b")


def long_running(block: str, start: int) -> list[str]:
    """Every command of the block that starts a server or a suite."""
    return [f"line ~{start}: {c.strip()[:100]}" for c in commands(block)
            if LONG_RUNNING.search(re.sub(r"(^|\s)#.*", "", c))]


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    api = sys.argv[1]
    page = Path(sys.argv[2]).resolve() if len(sys.argv) == 3 else ROOT / "docs" / "tutorial.md"
    found = blocks(page.read_text())
    if not found:
        print(f"tutorial: {page} has no ```sh block", file=sys.stderr)
        return 1
    problems = [p for start, block in found for p in unchecked_curls(block, start)]
    servers = [p for start, block in found for p in long_running(block, start)]
    if servers:
        print("tutorial: blocks must not start servers or suites (the runner brings the gateway):",
              *servers, sep="\n  ", file=sys.stderr)
        return 1
    if problems:
        print("tutorial: curl calls whose failure would go unseen (use -f, or -w '%{http_code}\\n' | grep -x NNN):",
              *problems, sep="\n  ", file=sys.stderr)
        return 1

    script = [
        "set -euo pipefail",
        # `make token` and the like, from wherever the tutorial runs.
        f"make() {{ command make --no-print-directory -C {str(ROOT)!r} \"$@\"; }}",
    ]
    for number, (start, block) in enumerate(found, 1):
        script += [f"echo '>>> block {number} of {len(found)} (line {start})' >&2", block]
    script.append("echo '>>> every block ran' >&2")

    with tempfile.TemporaryDirectory(prefix="tenancy-tutorial-") as work:
        run = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=work,
            env={**os.environ, "API": api},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
    log = ROOT / ".local" / "tutorial.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(run.stdout)
    if run.returncode != 0:
        marker = run.stdout.rfind(">>> block")
        print(run.stdout[max(marker, 0):][-6000:], file=sys.stderr)
        print(f"tutorial: failed (exit {run.returncode}) in the block above; whole output in {log}", file=sys.stderr)
        return 1
    print(f"tutorial: {len(found)} blocks of {page.relative_to(ROOT) if page.is_relative_to(ROOT) else page} ran against {api} (output in {log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
