"""One operator in one browser, logged into the three admins at once through the gateway (issue 16, item 6).

Headless Chromium, Debian's own (``/usr/bin/chromium``, installed by ``./manage_all.sh test``), driven by the
Python playwright package; no browser is downloaded. The browser trusts exactly the gateway's certificate of
this run (its public key's hash), nothing else.
"""

import base64
import hashlib
import re
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Page, expect, sync_playwright

from shopctl import tls
from shopctl.processes import SERVICES
from tests.admin_pages import superuser

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser-operator-password-5"
# What each admin shows: its products, orders and dead letters (the lists an operator opens most).
PAGES = {
    "users_service": ["messaging/deadletter/", "accounts/user/"],
    "catalog_service": ["catalog/product/", "messaging/deadletter/"],
    "orders_service": ["orders/order/", "messaging/deadletter/"],
}


@pytest.fixture(scope="module")
def operator(system) -> str:
    username = f"browser-operator-{uuid.uuid4().hex[:6]}"
    result = system.manage("users_service", "createsuperuser", "--no-input", environment=superuser(username, PASSWORD))
    assert result.returncode == 0, result.stderr[-3000:]
    return username


def certificate_pin(system) -> str:
    """The base64 SHA-256 of the gateway certificate's public key, as Chromium's SPKI allow-list takes it."""
    server = x509.load_pem_x509_certificates(tls.Paths(system.workdir / "tls").server.read_bytes())[0]
    spki = server.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def admin(service: str) -> str:
    return f"{next(each for each in SERVICES if each.name == service).url_prefix}admin/"


def assert_logged_in(page: Page, url: str, service: str) -> None:
    page.goto(url)
    expect(page).to_have_url(url)  # not sent to the login page
    expect(page.locator("#site-name")).to_contain_text(f"{service} administration")
    expect(page.locator("#logout-form")).to_be_attached()


def test_one_operator_stays_logged_into_all_three_admins_in_one_browser(system, operator):
    base = system.gateway_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                f"--ignore-certificate-errors-spki-list={certificate_pin(system)}",
            ],
        )
        try:
            context = browser.new_context()
            page = context.new_page()
            for service in PAGES:
                page.goto(f"{base}{admin(service)}login/?next={admin(service)}")
                expect(page.locator("#site-name")).to_contain_text(f"{service} administration")
                page.fill("#id_username", operator)
                page.fill("#id_password", PASSWORD)
                page.click("input[type=submit]")
                expect(page).to_have_url(f"{base}{admin(service)}")
                # The header links to the other two admins, through the gateway.
                others = page.locator("#shop-admins a")
                expect(others).to_have_count(2)
                assert {others.nth(index).get_attribute("href") for index in (0, 1)} == {
                    admin(other) for other in PAGES if other != service
                }

            for service, lists in PAGES.items():
                for path in lists:
                    url = f"{base}{admin(service)}{path}"
                    assert_logged_in(page, url, service)
                    expect(page.locator("#changelist")).to_be_visible()

            for service in PAGES:  # still logged into every one, in the same browser
                assert_logged_in(page, f"{base}{admin(service)}", service)
            cookies = {cookie["name"]: cookie["path"] for cookie in context.cookies()}
            for service in PAGES:
                assert cookies[f"{service}_session"] == admin(service).removesuffix("admin/")
                assert re.fullmatch(r"/\w+/", cookies[f"{service}_csrftoken"])
        finally:
            browser.close()
