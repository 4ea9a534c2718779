"""Logging into a service's admin as a browser does: its login page (for the CSRF token and cookie), then the form."""

import re

import requests

from shopctl.processes import SERVICES_BY_NAME


def admin_path(service: str) -> str:
    """A service's admin: ``/catalog/admin/``."""
    return f"{SERVICES_BY_NAME[service].url_prefix}admin/"


def admin_login(
    base_url: str, service: str, username: str, password: str, *, session: requests.Session | None = None
) -> tuple[requests.Session, requests.Response]:
    """POST the admin's login form of ``service`` at ``base_url``; the session keeps its cookies (not redirected)."""
    session = session or requests.Session()
    admin = admin_path(service)
    page = session.get(f"{base_url}{admin}login/?next={admin}", timeout=10)
    assert page.status_code == 200, page.text[-1000:]
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base_url}{admin}login/?next={admin}",
        data={"csrfmiddlewaretoken": csrf, "username": username, "password": password, "next": admin},
        headers={"Referer": f"{base_url}{admin}login/"},
        allow_redirects=False,
        timeout=15,
    )
    return session, response


def superuser(username: str, password: str) -> dict[str, str]:
    """The environment of ``manage.py createsuperuser --no-input`` for this operator."""
    return {
        "DJANGO_SUPERUSER_USERNAME": username,
        "DJANGO_SUPERUSER_EMAIL": f"{username}@example.com",
        "DJANGO_SUPERUSER_PASSWORD": password,
    }
