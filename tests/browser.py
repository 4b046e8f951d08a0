"""Headless Chromium for the page tests: lay a page out at a width, measure it, screenshot it.

:func:`probe` loads a copy of the page with a small script appended that measures what a reader
would see (horizontal overflow, tables in scrolling boxes, chart widths, overlapping SVG text,
the smallest SVG text, anchors of the contents) and writes it into the DOM, which Chromium's
``--dump-dom`` prints. :func:`screenshot` saves a full-page PNG. Both need Debian's
``chromium`` (``.ci/run`` installs it); :func:`chromium` says where it is, or None.

Run ``python tests/browser.py PAGE.html OUT_DIR`` to screenshot a page at the three widths.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTHS = (1400, 1024, 420)

_PROBE = r"""
<script>
(() => {
  const doc = document.documentElement, vw = doc.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if (s === 'auto' || s === 'scroll') return true;
    }
    return false;
  };
  const out = {viewport: vw, scrollWidth: doc.scrollWidth,
    height: Math.ceil(document.body.getBoundingClientRect().bottom) + 32};
  out.overflowing = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1) && !scrolls(el))
      out.overflowing.push(el.tagName + (el.id ? '#' + el.id : ''));
  }
  out.tables = [...document.querySelectorAll('table')].map(t => ({
    boxed: t.parentElement.classList.contains('scroll'),
    box: t.parentElement.getBoundingClientRect().width,
    table: t.getBoundingClientRect().width,
    body: document.body.clientWidth}));
  out.figures = [...document.querySelectorAll('figure > svg')].map(s => ({
    svg: s.getBoundingClientRect().width,
    figure: s.parentElement.getBoundingClientRect().width}));
  out.overlaps = []; out.smallest = 1e9; out.texts = 0;
  document.querySelectorAll('svg').forEach((svg, i) => {
    const boxes = [...svg.querySelectorAll('text')]
      .map(t => [t.textContent, t.getBoundingClientRect()]).filter(b => b[1].width > 0);
    out.texts += boxes.length;
    for (const [, r] of boxes) out.smallest = Math.min(out.smallest, r.height);
    for (let a = 0; a < boxes.length; a++) for (let b = a + 1; b < boxes.length; b++) {
      const A = boxes[a][1], B = boxes[b][1];
      const w = Math.min(A.right, B.right) - Math.max(A.left, B.left);
      const h = Math.min(A.bottom, B.bottom) - Math.max(A.top, B.top);
      // Glyph boxes include line spacing: overlap counts past a quarter of the smaller height.
      if (w > 1 && h > 0.25 * Math.min(A.height, B.height))
        out.overlaps.push([i, boxes[a][0], boxes[b][0]]);
    }
  });
  out.anchors = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'));
  out.missing = out.anchors.filter(h => !document.getElementById(h.slice(1)));
  const host = window.parent.document;
  const pre = host.createElement('pre'); pre.id = 'roundtrip-probe';
  pre.textContent = JSON.stringify(out); host.body.appendChild(pre);
})();
</script>
"""


def chromium() -> str | None:
    """The Chromium executable, or None when no browser is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    browser = chromium()
    if browser is None:
        raise RuntimeError("no Chromium installed")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-extensions",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "disabled:"},
            check=False,
        )


#: Chromium's window is never narrower than this; narrower viewports are framed.
_MIN_WINDOW = 500


def _framed(text: str, width: int, height: int) -> str:
    """The page inside an iframe exactly ``width`` pixels wide: a viewport of that width even
    where Chromium's window cannot be that narrow (its minimum is 500 pixels)."""
    return (
        "<!DOCTYPE html><html><body style='margin:0'>"
        f"<iframe scrolling='no' style='border:0;display:block;width:{width}px;"
        f'height:{height}px\' srcdoc="{html.escape(text, quote=True)}"></iframe>'
        "</body></html>"
    )


def _load(page: Path, width: int, height: int, args: list[str], probe: bool) -> str:
    text = page.read_text(encoding="utf-8")
    if probe:
        text = text.replace("</body>", _PROBE + "</body>")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / page.name
        copy.write_text(_framed(text, width, height), encoding="utf-8")
        window = f"--window-size={max(width, _MIN_WINDOW)},{height}"
        return _run([window, "--virtual-time-budget=3000", *args, copy.as_uri()]).stdout


def probe(page: Path, width: int) -> dict[str, Any]:
    """What a reader sees of ``page`` in a viewport ``width`` pixels wide (see the module doc)."""
    stdout = _load(page, width, 20_000, ["--dump-dom"], probe=True)
    found = re.search(r'<pre id="roundtrip-probe">(.*?)</pre>', stdout, re.S)
    if not found:
        raise RuntimeError(f"no probe result for {page} at {width}px")
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, width: int, out: Path, height: int | None = None) -> Path:
    """A PNG of the whole page (or its first ``height`` pixels) in a ``width``-pixel viewport
    (a window of at least 500 pixels: what lies right of ``width`` is blank)."""
    if height is None:
        height = min(int(probe(page, width)["height"]) + 16, 16_000)
    out.parent.mkdir(parents=True, exist_ok=True)
    _load(page, width, height, [f"--screenshot={out}"], probe=False)
    if not out.is_file():
        raise RuntimeError(f"no screenshot of {page} at {width}px")
    return out


def screenshot_url(url: str, width: int, height: int, out: Path) -> Path:
    """A PNG of a live page (a local server's) in a ``width`` x ``height`` window."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--window-size={width},{height}", "--virtual-time-budget=5000",
          f"--screenshot={out}", url])  # fmt: skip
    if not out.is_file():
        raise RuntimeError(f"no screenshot of {url}")
    return out


def dump_dom_url(url: str) -> str:
    """The DOM of a live page (a local server's) once its scripts have run."""
    return _run(["--virtual-time-budget=5000", "--dump-dom", url]).stdout


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, from its header."""
    data = path.read_bytes()[:24]
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


if __name__ == "__main__":
    target = Path(sys.argv[2])
    for w in WIDTHS:
        page = Path(sys.argv[1]).resolve()
        print(screenshot(page, w, target / f"{page.stem}-{w}.png"), probe(page, w))
