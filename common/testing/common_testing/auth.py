"""A throwaway RSA key pair and token factory for tests (never used outside tests)."""

import time
import uuid
from dataclasses import dataclass
from functools import cached_property

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ACCESS = "access"


@dataclass
class TestSigner:
    """Signs tokens as users_service would; ``jwks`` is what verifiers must be given."""

    __test__ = False  # not a pytest test class

    kid: str = "test-key"
    issuer: str = "shop-users"

    @cached_property
    def private_key(self) -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @cached_property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @cached_property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def jwks(self) -> dict:
        public_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {"keys": [{**public_jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(
        self, *, user_id: int = 1, username: str = "alice", roles=(), token_type: str = ACCESS, **overrides
    ) -> str:
        now = int(time.time())
        claims = {
            "user_id": user_id,
            "username": username,
            "is_staff": False,
            "roles": list(roles),
            "token_type": token_type,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + 300,
            "iss": self.issuer,
            **overrides,
        }
        headers = {"kid": self.kid}
        # The key object, not its PEM: loading a PEM checks the RSA key again each time (about 60 ms).
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)

    def bearer(self, **claims) -> dict:
        """Headers for Django's test client: ``client.get(url, **signer.bearer(roles=[...]))``."""
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token(**claims)}"}
