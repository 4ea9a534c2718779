"""The per-process cache of verified tokens saves the signature check, never a rule."""

import time

import pytest

from common.auth import tokens
from common.auth.tokens import InvalidToken, decode_token, decode_token_user


@pytest.fixture
def verifications(monkeypatch):
    calls = []
    real_verify = tokens._verify

    def counting_verify(token):
        calls.append(token)
        return real_verify(token)

    monkeypatch.setattr(tokens, "_verify", counting_verify)
    tokens.verified_tokens.clear()
    return calls


def test_a_token_is_verified_once_then_remembered(signer, verifications):
    token = signer.token(user_id=7)

    first = decode_token(token)
    second = decode_token(token)

    assert first == second
    assert first["user_id"] == 7
    assert len(verifications) == 1


def test_the_user_a_token_describes_is_built_once_and_still_type_checked(signer, verifications):
    token = signer.token(user_id=7, username="bob", roles=["order_operator"])

    claims, user = decode_token_user(token)
    again_claims, again = decode_token_user(token)

    assert again is user
    assert again_claims is claims
    assert (user.id, user.username, user.roles, user.claims) == (7, "bob", frozenset({"order_operator"}), claims)
    assert len(verifications) == 1
    refresh = signer.token(user_id=7, token_type="refresh")
    decode_token_user(refresh, expected_type=None)
    with pytest.raises(InvalidToken, match="not an access token"):
        decode_token_user(refresh)


def test_a_remembered_token_is_refused_once_it_expires(signer, verifications, settings):
    settings.JWT_LEEWAY_SECONDS = 0
    expires_at = int(time.time()) + 2
    token = signer.token(user_id=7, exp=expires_at)
    decode_token(token)

    time.sleep(expires_at - time.time() + 0.1)

    with pytest.raises(InvalidToken, match="expired"):
        decode_token(token)


def test_a_remembered_token_still_has_its_type_checked(signer, verifications):
    refresh = signer.token(user_id=7, token_type="refresh")
    decode_token(refresh, expected_type=None)

    with pytest.raises(InvalidToken, match="not an access token"):
        decode_token(refresh)


def test_a_token_that_differs_by_one_byte_is_verified_in_full(signer, verifications):
    token = signer.token(user_id=7)
    decode_token(token)
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"

    with pytest.raises(InvalidToken):
        decode_token(tampered)

    assert len(verifications) == 2


def test_the_cache_is_bounded(signer, verifications, monkeypatch):
    monkeypatch.setattr(tokens.verified_tokens, "size", 3)
    issued = [signer.token(user_id=user_id) for user_id in range(5)]

    for token in issued:
        decode_token(token)
    decode_token(issued[0])

    assert len(verifications) == 6  # the oldest was forgotten and verified again
