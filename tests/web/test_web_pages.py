"""Every page in-process: rendered for a logged-in user, a redirect to /login without a
session, the role gates, the language switch, plotly.js from the installed package."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from segmint.web._i18n import ui_words

#: path -> the lowest role that sees it
PAGES = {
    "/": "viewer",
    "/segments": "viewer",
    "/segments/new": "viewer",
    "/segments/vip": "viewer",
    "/segments/vip/edit": "viewer",
    "/customers": "analyst",
    "/models": "viewer",
    "/exports": "analyst",
}
RANK = {"viewer": 0, "analyst": 1, "admin": 2}


@pytest.fixture(scope="module")
def app_root(web_demo_root: Path, web_tokens: dict[str, str]) -> Path:
    return web_demo_root


@pytest.fixture
def client(app_root: Path) -> Iterator[TestClient]:
    from segmint.api import create_app

    with TestClient(create_app(app_root)) as c:
        yield c


def login(client: TestClient, token: str) -> None:
    r = client.post("/api/v1/session", json={"token": token})
    assert r.status_code in (200, 201), r.text
    assert client.cookies.get("segmint_session")


def customer_id(root: Path) -> str:
    import duckdb

    from segmint.serving import current_replica

    replica = current_replica(root)
    assert replica is not None
    con = duckdb.connect(str(replica), read_only=True)
    try:
        row = con.execute("select min(customer_id) from customer_traits").fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("path", [*PAGES, "/customers/X1"])
def test_without_a_session_every_page_redirects_to_login(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    # the same with a cookie the server does not know
    client.cookies.set("segmint_session", "not-a-session")
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=" + path.replace("/", "%2F")


def test_login_page_has_both_forms_with_labels(client: TestClient) -> None:
    r = client.get("/login")
    assert r.status_code == 200
    html = r.text
    for field in ("token", "username", "password"):
        assert f'<label for="{field}">' in html
        assert f'id="{field}"' in html
    assert "<h1>Log in</h1>" in html


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_every_page_renders_for_each_role(
    client: TestClient, app_root: Path, web_tokens: dict[str, str], role: str
) -> None:
    login(client, web_tokens[role])
    w = ui_words("en")
    for path, needs in {**PAGES, f"/customers/{customer_id(app_root)}": "analyst"}.items():
        r = client.get(path, follow_redirects=False)
        html = r.text
        assert f"Signed in as web-{role} ({role})" in html, path
        if RANK[role] >= RANK[needs]:
            assert r.status_code == 200, (path, role)
            assert 'id="forbidden"' not in html
        else:  # the page says so instead of failing
            assert r.status_code == 403, (path, role)
            assert w.fmt("role_too_low", role=role, needed=needs) in html
        # headings in order: exactly one h1, and no h3 before the first h2
        levels = [int(x) for x in re.findall(r"<h([1-6])[\s>]", html)]
        assert levels.count(1) == 1, path
        assert levels[0] == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (path, levels)
        # every input has a label
        for input_id in re.findall(r'<(?:input|select)[^>]*\sid="([^"]+)"', html):
            assert f'for="{input_id}"' in html, (path, input_id)


def test_parts_of_pages_follow_the_role(client: TestClient, web_tokens: dict[str, str]) -> None:
    login(client, web_tokens["viewer"])
    html = client.get("/segments/vip").text
    assert 'id="members-forbidden"' in html
    assert 'id="download-csv"' not in html
    assert "Customer" not in re.search(r"<nav aria-label=\"Main menu\">.*?</nav>", html, re.S)[0]
    login(client, web_tokens["analyst"])
    html = client.get("/segments/vip").text
    assert 'id="download-csv"' in html
    assert 'href="/api/v1/segments/vip/members.csv"' in html
    assert 'id="audit-forbidden"' in client.get("/exports").text
    assert 'id="edit-link"' not in html
    assert 'id="delete"' not in client.get("/segments/vip/edit").text
    login(client, web_tokens["admin"])
    assert 'id="audit"' in client.get("/exports").text
    html = client.get("/segments/vip").text
    assert 'href="/segments/vip/edit"' in html
    html = client.get("/segments/vip/edit").text
    assert "<h1>Edit segment: vip</h1>" in html
    assert 'id="delete"' in html
    assert 'value="vip" readonly' in html


def test_language_switch_changes_labels_and_is_remembered(
    client: TestClient, web_tokens: dict[str, str]
) -> None:
    login(client, web_tokens["viewer"])
    assert "<h1>Segments</h1>" in client.get("/segments").text
    r = client.get("/lang/da?next=/segments", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/segments"
    assert "segmint_lang=da" in r.headers["set-cookie"]
    html = client.get("/segments").text
    assert '<html lang="da">' in html
    assert "<h1>Segmenter</h1>" in html
    assert "Log ud" in html
    # the scripts get the same language's words
    assert '"lang": "da"' in html
    assert "Overblik" in client.get("/").text
    for lang, heading in (
        ("sv", "Segmentbyggare"),
        ("nb", "Segmentbygger"),
        ("en", "Segment builder"),
    ):
        client.get(f"/lang/{lang}?next=/")
        assert f"<h1>{heading}</h1>" in client.get("/segments/new").text
    # an unknown language changes nothing; a next outside the site is not followed
    client.get("/lang/xx")
    assert '<html lang="en">' in client.get("/").text
    assert (
        client.get("/lang/da?next=//evil.example", follow_redirects=False).headers["location"]
        == "/"
    )


def test_browser_language_is_the_default(client: TestClient, web_tokens: dict[str, str]) -> None:
    login(client, web_tokens["viewer"])
    html = client.get("/models", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.8"}).text
    assert "<h1>Modeller</h1>" in html
    assert '<html lang="sv">' in html


def test_plotly_js_comes_from_the_installed_package(
    client: TestClient, web_tokens: dict[str, str]
) -> None:
    from plotly.offline import get_plotlyjs

    login(client, web_tokens["viewer"])
    html = client.get("/").text
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/static/vendor/plotly.min.js" in [s.split("?")[0] for s in scripts]
    assert all(s.startswith("/") and not s.startswith("//") for s in scripts), scripts
    r = client.get("/static/vendor/plotly.min.js")
    assert r.status_code == 200
    assert r.text == get_plotlyjs()
    again = client.get("/static/vendor/plotly.min.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    for name in ("app.js", "builder.js", "app.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_data_in_pages_is_escaped(client: TestClient, web_tokens: dict[str, str]) -> None:
    login(client, web_tokens["analyst"])
    r = client.get("/segments/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%3C")
    assert r.status_code == 200
    assert "<img src=x onerror=alert(1)>" not in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
    # in the page's JSON the name cannot close the script element
    r = client.get("/segments/a%3C%2Fscript%3E")
    assert r.status_code in (200, 404)
    assert "a</script>" not in r.text
