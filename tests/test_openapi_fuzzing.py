"""schemathesis against each running service: no 5xx, and every response matches the schema."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SERVICES

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.parametrize("service", list(SERVICES))
def test_api_conforms_to_its_schema_and_never_fails_with_5xx(system, service):
    schemathesis = Path(sys.executable).parent / "st"

    result = subprocess.run(  # noqa: S603
        [
            str(schemathesis),
            "run",
            f"{system.urls[service]}/api/schema/?format=json",
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--request-timeout",
            "10",
            "--generation-deterministic",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=system.workdir,  # schemathesis keeps its example cache in the working folder
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
