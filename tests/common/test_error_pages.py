"""Issue 13 item 14: error pages in the user's language and the product's look (Django's bare
English "Not Found" / "Server Error (500)" before); the API keeps answering JSON."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.urls import path
from django.utils import translation

from portsign.urls import handler500
from portsign.urls import urlpatterns as product_urlpatterns


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered")


# A test-only URLconf: the product's, plus views that fail, and the product's handler500.
urlpatterns = [
    path("console/test-boom/", _boom),
    path("console/test-forbidden/", _forbidden),
    path("console/test-suspicious/", _suspicious),
    path("api/v1/test-boom/", _boom),  # a failure outside the API's own exception handler
    *product_urlpatterns,
]
__all__ = ["handler500", "urlpatterns"]

pytestmark = pytest.mark.usefixtures("_error_urls")


@pytest.fixture
def _error_urls():
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        yield


@pytest.fixture
def browser() -> Client:
    client = Client()
    client.raise_request_exception = False
    return client


def _english(client: Client) -> Client:
    client.cookies["portsign_language"] = "en"
    return client


def test_unknown_console_address_is_a_chinese_404_page(browser):
    response = browser.get("/console/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="zh-CN">' in page
    assert "<title>页面不存在 · " in page
    assert "地址可能有误，或页面已被移动或删除。" in page
    assert '<a class="button primary" href="/" data-testid="error-home">返回首页</a>' in page
    assert "Not Found" not in page


def test_the_404_page_is_english_when_chosen(browser):
    page = _english(browser).get("/console/no-such-page/").content.decode()
    assert '<html lang="en">' in page
    assert "<h1>Page not found</h1>" in page
    assert ">Back to the home page</a>" in page


def test_a_signed_in_user_keeps_the_console_navigation_on_a_404(browser, alice):
    browser.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    page = browser.get("/console/contracts/no/such/page/").content.decode()
    assert '<nav class="mainnav"' in page
    assert 'href="/console/contracts/"' in page
    assert "页面不存在" in page


def test_a_failing_view_is_a_chinese_500_page(browser):
    response = browser.get("/console/test-boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert '<html lang="zh-CN">' in page
    assert "<h1>服务器出错了</h1>" in page
    assert "错误已记录。请稍后重试；如果问题持续出现，请将发生时间告知管理员。" in page
    assert '<a class="button" href="/" data-testid="error-home">返回首页</a>' in page
    assert "a bug" not in page  # nothing of the exception reaches the person


def test_the_500_page_is_english_when_chosen(browser):
    page = _english(browser).get("/console/test-boom/").content.decode()
    assert "<h1>Something went wrong on our side</h1>" in page


def test_the_500_page_needs_no_request_and_no_database(django_assert_num_queries):
    with translation.override("zh-hans"), django_assert_num_queries(0):
        page = render_to_string("500.html")  # as Django's server_error renders it
    assert "<h1>服务器出错了</h1>" in page
    assert "{%" not in page
    assert "/static/" not in page  # styles inline: the page needs no static files


def test_a_forbidden_page_is_a_chinese_403(browser):
    response = browser.get("/console/test-forbidden/")
    assert response.status_code == 403
    assert "<h1>您无权打开此页面</h1>" in response.content.decode()


def test_a_tampered_request_is_a_chinese_400(browser):
    response = browser.get("/console/test-suspicious/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>无法识别此请求</h1>" in page
    assert "请返回并刷新页面后重试。" in page


def test_api_errors_stay_json(browser):
    missing = browser.get("/api/v1/no-such-endpoint", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    assert missing.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    failed = browser.get("/api/v1/test-boom/", headers={"Accept-Language": "en"})
    assert failed.status_code == 500
    assert failed["Content-Type"] == "application/json"
    assert failed.json() == {
        "error": {
            "code": "internal_error",
            "message": "Something went wrong on our side. Please try again.",
            "fields": {},
        }
    }
