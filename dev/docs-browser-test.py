"""The docs page in a real browser: headless Chromium (Debian's package),
driven by Playwright, opens the dev gateway's /docs, waits until Redoc has
rendered, and checks that every operation of the OpenAPI document appears
in the page a person sees. A page that renders nothing fails here, however
right its HTML is. It also fails on a script error and on any request that
leaves the machine (the page must work offline, with no CDN).

    python dev/docs-browser-test.py http://127.0.0.1:3000 target/docs-page.png
"""

import json
import sys
import urllib.parse
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying Google's hosts,
# which this machine's closed network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


def operations(document):
    """(method, path, summary) for every operation the document holds."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                found.append((method.upper(), path, operation.get("summary") or operation["operationId"]))
    return found


def main(base, screenshot):
    with urllib.request.urlopen(f"{base}/v1/openapi.json") as answer:
        document = json.load(answer)
    expected = operations(document)
    host = urllib.parse.urlsplit(base).hostname

    problems, off_host, refused = [], [], []

    def on_console(message):
        if message.type != "error":
            return
        # The page's Content-Security-Policy refusing something off this host
        # (Redoc's logo on cdn.redoc.ly) is the policy working, not a fault.
        if "Content Security Policy" in message.text and host not in message.text.split("violates")[0]:
            refused.append(message.text.split("'")[1] if "'" in message.text else message.text)
        else:
            problems.append(f"console error: {message.text}")

    def only_this_host(route):
        if urllib.parse.urlsplit(route.request.url).hostname in (host, None):
            route.continue_()
        else:
            off_host.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", on_console)
        page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} for {r.url}"))
        page.route("**/*", only_this_host)
        page.goto(f"{base}/docs", wait_until="load")
        # Redoc renders every operation on the one page: its summary as a
        # heading, its method and path beside it. Wait for the last one.
        try:
            page.wait_for_function(
                "s => [...document.querySelectorAll('h2')].some(h => h.innerText.trim() === s)",
                arg=expected[-1][2],
                timeout=60_000,
            )
        except Exception as error:  # noqa: BLE001 - reported below with the rest
            problems.append(f"the operations never rendered: {error}")
        headings = set(page.evaluate("[...document.querySelectorAll('h2')].map(h => h.innerText.trim())"))
        text = " ".join(page.evaluate("document.body.textContent").split())
        page.screenshot(path=screenshot)
        missing = [
            f"{method} {path} ({summary})"
            for method, path, summary in expected
            if summary not in headings or path not in text
        ]
        # One operation as a reader scrolls to it: creating a tenant.
        summary = next((s for m, p, s in expected if (m, p) == ("POST", "/v1/tenants")), expected[0][2])
        heading = page.locator("h2", has_text=summary).first
        heading.scroll_into_view_if_needed()
        page.screenshot(path=screenshot.replace(".png", "-operation.png"))
        browser.close()

    problems += [f"not in the rendered page: {m}" for m in missing]
    problems += [f"a request left the machine: {url}" for url in off_host]
    if problems:
        print("docs page in Chromium: FAILED", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"docs page in Chromium: all {len(expected)} operations rendered"
          f"{f'; refused by its CSP: {sorted(set(refused))}' if refused else ''}; screenshots {screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2]))
