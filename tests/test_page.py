"""The browser harness itself (conftest.py's `browser_page`), on small pages written here.

The page tests of fwdback's HTML report rest on two claims of the harness: that a page which
reaches for the network is caught (every request recorded, and blocked), and that a page which
raises an error is caught. Each claim is checked on a page built to break it, and a clean page
shows that neither list fills by itself.
"""

from __future__ import annotations

from pathlib import Path


def write_page(directory: Path, body: str, name: str = "page.html") -> Path:
    path = directory / name
    path.write_text(f"<!doctype html>\n<html><head><meta charset='utf-8'><title>test</title></head>\n<body>{body}</body></html>\n",
                    encoding="utf-8")
    return path


def outcome(page) -> str:
    """What the page's script wrote into <body data-outcome>, once it has written it."""
    page.wait_for_function("document.body.dataset.outcome !== undefined")
    return page.evaluate("document.body.dataset.outcome")


def test_a_fetch_to_a_server_is_recorded_and_blocked(browser_page, tmp_path):
    page = browser_page.open(write_page(tmp_path, """
        <script>
          fetch("http://example.com/data.json")
            .then(() => { document.body.dataset.outcome = "answered"; })
            .catch(error => { document.body.dataset.outcome = "failed: " + error.name; });
        </script>"""))
    assert outcome(page) == "failed: TypeError"
    assert browser_page.requests == ["http://example.com/data.json"]
    # refused by the harness (ERR_BLOCKED_BY_CLIENT), not merely unanswered by an offline network
    assert any("ERR_BLOCKED_BY_CLIENT" in error for error in browser_page.errors), browser_page.errors


def test_every_kind_of_request_is_recorded_and_blocked_a_file_beside_the_page_too(browser_page, tmp_path):
    """A stylesheet that exists beside the page (so only the harness can stop it), an image over
    https, and a WebSocket: each recorded, none delivered."""
    (tmp_path / "style.css").write_text("body { color: rgb(1, 2, 3); }")
    page = browser_page.open(write_page(tmp_path, """
        <link rel="stylesheet" href="style.css">
        <img src="https://example.org/picture.png">
        <script>
          const socket = new WebSocket("ws://example.net/live");
          socket.onopen = () => { document.body.dataset.outcome = "open"; };
          socket.onclose = () => { document.body.dataset.outcome = "closed"; };
        </script>"""))
    assert outcome(page) == "closed"
    assert sorted(browser_page.requests) == sorted(
        [(tmp_path / "style.css").as_uri(), "https://example.org/picture.png", "ws://example.net/live"]
    )
    assert page.evaluate("getComputedStyle(document.body).color") != "rgb(1, 2, 3)"


def test_a_script_error_and_a_console_error_are_recorded(browser_page, tmp_path):
    browser_page.open(write_page(tmp_path, """
        <script>console.error("the slider has no epochs");</script>
        <script>drawNetwork();</script>"""))
    assert len(browser_page.errors) == 2, browser_page.errors
    assert "the slider has no epochs" in browser_page.errors[0]
    assert "drawNetwork is not defined" in browser_page.errors[1]
    assert browser_page.requests == []


def test_an_error_raised_later_by_an_event_is_recorded_too(browser_page, tmp_path):
    page = browser_page.open(write_page(tmp_path, """
        <button onclick="document.body.dataset.outcome = 'clicked'; null.epoch">step</button>"""))
    assert browser_page.errors == []
    page.click("button")
    assert outcome(page) == "clicked"
    assert len(browser_page.errors) == 1 and "Cannot read properties of null" in browser_page.errors[0]


def test_a_self_contained_page_records_nothing(browser_page, tmp_path):
    """Inline script and style, a data: image and a blob: fetch stay inside the browser: allowed."""
    page = browser_page.open(write_page(tmp_path, """
        <style>p { color: rgb(4, 5, 6); }</style>
        <p>w1 = 0.15815</p>
        <img alt="dot" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">
        <script>
          const url = URL.createObjectURL(new Blob(["from a blob"], {type: "text/plain"}));
          fetch(url).then(answer => answer.text()).then(text => { document.body.dataset.outcome = text; });
        </script>"""))
    assert outcome(page) == "from a blob"
    assert page.evaluate("document.querySelector('img').naturalWidth") == 1
    assert page.evaluate("getComputedStyle(document.querySelector('p')).color") == "rgb(4, 5, 6)"
    assert browser_page.requests == []
    assert browser_page.errors == []
