# SPDX-License-Identifier: MIT
"""GET /problems/{code} and GET /problems: every problem `type` resolves to a
page made from the registry (server/problem.h), public, text/html unless the
Accept header prefers application/json; an unknown code is 404."""
import html
import html.parser
import os
import re

import pytest
import requests

from conftest import ROOT, assert_problem


def contract_codes():
    """The ProblemCode enum of openapi.yaml, read as text (no YAML library needed)."""
    with open(os.path.join(ROOT, "openapi.yaml"), encoding="utf-8") as f:
        text = f.read()
    block = text.split("\n    ProblemCode:\n", 1)[1].split("\n    FieldError:\n", 1)[0]
    enum = block.split("      enum:\n", 1)[1]
    return re.findall(r"^        - ([a-z_]+)$", enum, re.M)


CODES = contract_codes()
HTML = "text/html; charset=utf-8"
VOID = {"meta", "br", "hr", "img", "link", "input"}


class TagCheck(html.parser.HTMLParser):
    """Every element closed, in order; collects the hrefs and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.hrefs, self.text, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append("unbalanced </%s>" % tag)

    def handle_data(self, data):
        self.text.append(data)


def check_page(body):
    assert body.startswith("<!DOCTYPE html>\n<html lang=\"en\">"), body[:80]
    assert '<meta charset="utf-8">' in body
    p = TagCheck()
    p.feed(body)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack)
    # No external assets: no scripts, images or style sheets from anywhere.
    assert not re.search(r"<(script|img|link|iframe)\b|src=|https?://", body), body
    return p


def test_the_registry_has_the_contracts_codes():
    assert len(CODES) >= 20 and len(set(CODES)) == len(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_code_resolves_to_a_page(api, code):
    r = api.get("/problems/" + code)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == HTML
    assert r.headers["X-Request-Id"]
    j = api.get("/problems/" + code, headers={"Accept": "application/json"})
    assert j.status_code == 200 and j.headers["Content-Type"] == "application/json", j.text
    doc = j.json()
    assert set(doc) == {"type", "code", "title", "status", "when_it_happens", "what_to_do"}
    assert doc["type"] == "/problems/" + code and doc["code"] == code
    assert 400 <= doc["status"] <= 599
    assert doc["title"] and doc["when_it_happens"] and doc["what_to_do"]
    page = check_page(r.text)
    text = "".join(page.text)
    for member in ("title", "when_it_happens", "what_to_do"):
        assert doc[member] in text, member
        assert html.escape(doc[member], quote=True).replace("&#x27;", "&#39;") in r.text, member
    assert "<strong>%d</strong>" % doc["status"] in r.text
    assert "<title>%s</title>" % html.escape(doc["title"]).replace("&#x27;", "&#39;") in r.text
    assert "/problems" in page.hrefs


def test_a_pages_title_and_status_are_those_of_the_problem_itself(api, direct, tenant):
    """The page of a type that a real answer carries says what that answer says. (Straight to the
    service: Prism answers requests outside the contract itself.)"""
    answers = [
        direct.get("/v1/collection-cases/cc_00000000000000000000000000", tenant),   # not_found
        direct.get("/v1/collection-cases?status=bogus", tenant),                    # invalid_parameter
        direct.get("/v1/collection-cases"),                                         # unauthorized
        direct.delete("/healthz"),                                                  # method_not_allowed
        direct.post("/v1/collection-cases", tenant, data=b"{", headers={"Content-Type": "application/json"}),
    ]
    for r in answers:
        p = r.json()
        assert r.headers["Content-Type"].startswith("application/problem+json"), r.text
        page = api.get(p["type"], headers={"Accept": "application/json"})
        assert page.status_code == 200, (p["type"], page.text)
        assert (page.json()["title"], page.json()["status"], page.json()["code"]) == (p["title"], p["status"],
                                                                                       p["code"])


@pytest.mark.parametrize("code", ["nope", "NOT_FOUND", "not_found_", "not%20found", "%3Cscript%3E", "x" * 200])
def test_an_unknown_code_is_404(api, code):
    p = assert_problem(api.get("/problems/" + code), 404, "not_found")
    assert p["detail"] == "no such problem type"


def test_a_path_below_a_code_is_404(direct):
    assert_problem(direct.get("/problems/not_found/more"), 404, "not_found")


def test_no_token_needed_and_a_bad_one_ignored(service):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        r = requests.get(service.url + "/problems/unauthorized", headers=headers, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == HTML, r.text
        r = requests.get(service.url + "/problems", headers=headers, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == HTML, r.text


def test_other_methods_are_405(direct):
    r = direct.post("/problems/not_found", json={})
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"


@pytest.mark.parametrize("accept, json_wanted", [
    (None, False),
    ("*/*", False),
    ("text/html", False),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),  # a browser
    ("application/json", True),
    ("application/json, text/html;q=0.9", True),
    ("text/html;q=0.5, application/json;q=0.5", False),  # a tie: HTML
    ("application/*", True),
    ("application/json;q=0, */*", False),
    ("image/png", False),                                # neither: the default, HTML
])
def test_accept_picks_html_or_json(api, accept, json_wanted):
    headers = {"Accept": accept} if accept is not None else {}
    for path in ("/problems/invalid_state", "/problems"):
        r = api.get(path, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == ("application/json" if json_wanted else HTML), (path, accept)
        assert r.headers["Vary"] == "Accept", (path, accept)


def test_the_list_links_every_code(api):
    r = api.get("/problems")
    assert r.status_code == 200 and r.headers["Content-Type"] == HTML
    page = check_page(r.text)
    assert [h for h in page.hrefs if h.startswith("/problems/")] == ["/problems/" + c for c in CODES]
    for href in page.hrefs:
        assert api.get(href).status_code == 200, href
    j = api.get("/problems", headers={"Accept": "application/json"})
    assert j.status_code == 200 and j.headers["Content-Type"] == "application/json"
    data = j.json()["data"]
    assert [d["code"] for d in data] == CODES
    one = api.get("/problems/" + CODES[0], headers={"Accept": "application/json"}).json()
    assert data[0] == one


def codes_the_tests_expect():
    """Every problem code a test here or a proof expects from the service: assert_problem(r, 404,
    "not_found"). (A bare ["code"] == "..." may be a field error's code: not counted.)"""
    found = set()
    for d in ("tests/http", "tests/proof"):
        for name in sorted(os.listdir(os.path.join(ROOT, d))):
            if name.endswith(".py"):
                with open(os.path.join(ROOT, d, name), encoding="utf-8") as f:
                    text = f.read()
                found |= set(re.findall(r'assert_problem\([^\n]*?\b[45]\d\d, "([a-z_]+)"', text))
    return sorted(found)


def test_every_code_used_in_the_tests_resolves(api):
    used = codes_the_tests_expect()
    assert len(used) >= 10, used
    for code in used:
        assert code in CODES, code + " is expected by a test but is not in openapi.yaml's ProblemCode"
        r = api.get("/problems/" + code)
        assert r.status_code == 200 and r.headers["Content-Type"] == HTML, code
