"""The page-size rule of every list (``common.pagination``), checked on each list of each service.

A service's ``tests/apis/test_pagination.py`` gives, for each list it serves,
a way to GET it with query parameters, after making more rows than a default
page holds; ``assert_the_page_size_rule`` then checks the rule, and
``paginated_operations`` lists the operations of the schema that take
``page_size``, so a new list that the test does not cover fails it.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.generators import SchemaGenerator

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def paginated_operations() -> set[str]:
    """``"GET /api/v1/products/"`` for every operation of the service's OpenAPI schema that takes ``page_size``."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if any(parameter["name"] == "page_size" for parameter in operation.get("parameters", []))
    }


def _refused(response: Any, *, parameter: str) -> None:
    assert response.status_code == 400, (parameter, response.status_code, response.content[:300])
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [parameter]


def assert_the_page_size_rule(get: Callable[[dict[str, str]], Any], *, rows: int) -> None:
    """``get(params)`` answers the list; it holds ``rows`` rows, more than one default page."""
    assert rows > DEFAULT_PAGE_SIZE

    first = get({})
    assert first.status_code == 200, first.content[:300]
    body = first.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (rows, DEFAULT_PAGE_SIZE, None)
    assert "page=2" in body["next"]

    one = get({"page_size": "1", "page": "2"}).json()
    assert (len(one["results"]), one["results"][0]) == (1, body["results"][1])
    assert len(get({"page_size": str(MAX_PAGE_SIZE)}).json()["results"]) == min(rows, MAX_PAGE_SIZE)
    assert get({"page": "last", "page_size": "1"}).status_code == 200

    for page_size in ["0", "-1", str(MAX_PAGE_SIZE + 1), "1000000", "x", "1.5", "", " 5", "\u0665"]:
        _refused(get({"page_size": page_size}), parameter="page_size")
    for page in ["0", "-3", "x", ""]:
        _refused(get({"page": page}), parameter="page")
    past_the_end = get({"page": "999999"})
    assert past_the_end.status_code == 404
    assert past_the_end.json()["type"] == "client_error"
