"""A person's browser (requests against the live server) for the OAuth consent flow."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import requests

from tests.helpers import last_code


class _Inputs(HTMLParser):
    """The inputs of the page's forms: hidden fields, with their values, and testids."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.testids: dict[str, str] = {}
        self._testid = ""
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.hidden[found["name"]] = found.get("value", "")
        self._testid = found.get("data-testid", "")

    def handle_data(self, data: str) -> None:
        if self._testid and data.strip():
            self.text[self._testid] = self.text.get(self._testid, "") + data.strip()


def page_facts(html: str) -> tuple[dict[str, str], dict[str, str]]:
    """(hidden fields, text by data-testid) of an HTML page."""
    parser = _Inputs()
    parser.feed(html)
    return parser.hidden, parser.text


@dataclass
class Browser:
    base: str
    session: requests.Session

    def get(self, url: str) -> requests.Response:
        return self.session.get(url, allow_redirects=False, timeout=30)

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        data = {"csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""), **data}
        return self.session.post(url, data=data, allow_redirects=False, timeout=30)

    def sign_in(self, login_url: str, account: str) -> requests.Response:
        """Sign in with a one-time code on the login page *login_url* (keeps its next=)."""
        assert self.get(login_url).status_code == 200
        sent = self.session.post(
            self.base + "/api/v1/auth/codes", json={"to": account, "purpose": "login"}, timeout=30
        )
        assert sent.status_code == 202, sent.text
        next_url = requests.utils.unquote(login_url.split("next=", 1)[1])
        return self.post(
            self.base + "/account/login/",
            {"method": "code", "account": account, "code": last_code(account), "next": next_url},
        )
