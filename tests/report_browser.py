"""Open an HTML report in a real headless browser (Debian's chromium through Playwright) and
say what a reader would meet: console errors, requests, what the page shows at a size."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("no chromium to open the HTML report in: `make test` installs Debian's chromium")
    return path


@dataclass
class Seen:
    """What one page load showed."""
    problems: list[str] = field(default_factory=list)   # console errors and warnings, page errors
    requests: list[str] = field(default_factory=list)   # every URL asked for besides the page
    facts: dict = field(default_factory=dict)            # answers of FACTS_JS
    screenshot: Path | None = None


# What the page shows, measured in the browser itself.
FACTS_JS = """() => {
  const q = (s) => document.querySelector(s);
  const rows = document.querySelectorAll('#threads tbody tr');
  const cell = q('#threads tbody td');
  const svgBox = (id) => { const s = q(id + ' svg'); if (!s) return null;
    const r = s.getBoundingClientRect(); return [r.width, r.height]; };
  return {
    rows: rows.length,
    visibleRows: Array.from(rows).filter(r => !r.hidden && r.checkVisibility()).length,
    groupRows: document.querySelectorAll('#groups tbody tr').length,
    svgText: (() => { const t = q('#waits-for svg text') || q('#creation svg text');
      return t ? t.getBoundingClientRect().height : 0; })(),
    cellFont: cell ? parseFloat(getComputedStyle(cell).fontSize) : 0,
    bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
    pageWidth: document.documentElement.scrollWidth,
    viewWidth: window.innerWidth,
    waitsSvg: svgBox('#waits-for'), treeSvg: svgBox('#creation'),
    redStrokes: document.querySelectorAll('#waits-for svg [stroke="#d62728"]').length,
    redFills: document.querySelectorAll('#waits-for svg [fill="#d62728"]').length,
    filterShown: !!q('#filter') && !q('#filter').hidden,
    groups: document.querySelectorAll('details.group').length,
    scripts: document.querySelectorAll('script').length,
    hostile: document.querySelectorAll('script').length !== 1 || !!q('[onerror]'),
  };
}"""


def open_report(path: Path, size: str, shots: Path, javascript: bool = True,
                actions=None) -> Seen:  # type: ignore[no-untyped-def]
    """Load the page at one of SIZES, take a full-page screenshot, run `actions(page)`."""
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("no playwright to drive chromium: `make test` installs it into .venv")
    width, height = SIZES[size]
    seen = Seen()
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height},
                                          java_script_enabled=javascript)
            page = context.new_page()
            url = path.resolve().as_uri()
            page.on("console", lambda m: seen.problems.append("%s: %s" % (m.type, m.text))
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: seen.problems.append("page error: %s" % e))
            page.on("request", lambda r: seen.requests.append(r.url) if r.url != url else None)
            page.goto(url)
            page.wait_for_load_state("load")
            if actions is not None:
                actions(page)
            seen.facts = page.evaluate(FACTS_JS) if javascript else {}
            seen.screenshot = shots / ("%s-%s%s.png" % (path.stem, size, "" if javascript else "-nojs"))
            page.screenshot(path=str(seen.screenshot), full_page=True)
        finally:
            browser.close()
    return seen
