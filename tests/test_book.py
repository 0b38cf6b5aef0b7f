"""The book as a reader sees it: every page opened in headless Chromium (`make check-book`).

Checks each page of the built book (`make book`; $BOOK_DIR or build/book/html): every image
loads, every formula is typeset by the local MathJax, no cell shows an error, stderr shows only
what a learner may see (helpers.ALLOWED_STDERR), and every link inside the book leads to a page
that exists. Saves a screenshot of each page under build/book/screenshots/.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from helpers import ALLOWED_STDERR, REPO

pytestmark = pytest.mark.book

HTML = Path(os.environ.get("BOOK_DIR", REPO / "build" / "book" / "html")).absolute()
SHOTS = HTML.parent / "screenshots"
PAGES = sorted(p for p in HTML.rglob("*.html") if p.parent.name != "_static"
               and p.name not in ("genindex.html", "search.html")) if HTML.is_dir() else []
CHROMIUM = (os.environ.get("CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))

# What the page reports once MathJax has typeset it (window.MathJax.startup.promise).
REPORT = """async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const images = [...document.images].map(
    i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]);
  const math = document.querySelectorAll('.math').length;
  const typeset = document.querySelectorAll('.math mjx-container').length;
  const mathErrors = document.querySelectorAll('mjx-merror').length;
  const errors = [...document.querySelectorAll('.output.traceback, .output.error')].map(
    e => e.innerText.slice(0, 200));
  const stderr = [...document.querySelectorAll('.output.stderr')].map(e => e.innerText);
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  return {images, math, typeset, mathErrors, errors, stderr, links};
}"""


@pytest.fixture(scope="module")
def browser():
    if not PAGES:
        pytest.fail(f"no book in {HTML}: run `make book` (or `make book EXECUTED=build/smoke`)")
    if not CHROMIUM:
        pytest.fail("no Chromium: install Debian's `chromium` (`.ci/run` does) or set $CHROMIUM")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium.new_page(viewport={"width": 1280, "height": 1000})
        chromium.close()


def _missing_target(url: str) -> str | None:
    """The book file a file:// link points to, if it does not exist."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    path = Path(unquote(parsed.path))
    return None if path.exists() else str(path.relative_to(HTML) if path.is_relative_to(HTML)
                                          else path)


def test_the_book_has_every_notebook_and_doc():
    names = {p.relative_to(HTML).as_posix() for p in PAGES}
    parts = {f"notebooks/{p.stem}.html" for p in (REPO / "notebooks").glob("[0-9A][0-9]_*.ipynb")}
    docs = {f"docs/{p.stem}.html" for p in (REPO / "docs").glob("*.md")}
    assert parts | docs | {"index.html"} <= names, sorted(parts | docs - names)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(HTML).as_posix())
def test_a_page_reads_as_it_should(browser, page):
    browser.goto(page.as_uri(), wait_until="load")
    report = browser.evaluate(REPORT)
    shot = SHOTS / (page.relative_to(HTML).as_posix().replace("/", "__") + ".png")
    browser.screenshot(path=str(shot))
    assert [src for src, loaded in report["images"] if not loaded] == []
    assert report["typeset"] == report["math"] and report["mathErrors"] == 0, report
    assert report["errors"] == []
    lines = [line for text in report["stderr"] for line in text.replace("\r", "\n").splitlines()]
    assert [line for line in lines if not any(p.search(line) for p in ALLOWED_STDERR)] == []
    broken = {target for url in report["links"] if (target := _missing_target(url))}
    assert broken == set()
