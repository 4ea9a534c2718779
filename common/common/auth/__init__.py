"""JWT trust: every service verifies users_service's RS256 tokens with public keys only.

- ``keys``: the public keys, configured (``JWT_PUBLIC_JWKS``) or fetched from
  users_service's JWKS (``JWT_JWKS_URL``) with a timeout and cached, stale
  keys kept while users_service is unreachable;
- ``tokens``: decoding and validating an access token (RS256 only, ``kid``,
  issuer, expiry, token type);
- ``authentication``: the DRF authentication class, stateless (no user table);
- ``permissions``: roles turned into rules;
- ``testing``: a throwaway key pair and token factory for tests.
"""
