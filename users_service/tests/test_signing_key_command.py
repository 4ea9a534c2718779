import json
import stat

import pytest
from django.core.management import CommandError, call_command

from users_service.accounts import signing


def test_generate_writes_a_private_key_only_its_owner_reads(tmp_path, capsys):
    path = tmp_path / "new-key.pem"

    call_command("signing_key", "generate", str(path))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing._load_private_key(path.read_text()).key_size == 2048
    with pytest.raises(CommandError):
        call_command("signing_key", "generate", str(path))


def test_public_jwk_prints_the_current_public_key(capsys):
    call_command("signing_key", "public-jwk")

    jwk = json.loads(capsys.readouterr().out)
    assert jwk["kid"] == "users-test-key"
    assert "d" not in jwk


def test_jwks_prints_what_is_published(capsys):
    call_command("signing_key", "jwks")

    assert json.loads(capsys.readouterr().out) == signing.published_jwks()
