"""The local certificate authority and the gateway's certificate, made with ``cryptography`` (no download, no openssl).

``up`` creates ``.var/tls/ca.pem`` (the CA a client trusts: ``curl --cacert .var/tls/ca.pem``) and
``.var/tls/server.pem`` (the gateway's certificate for ``localhost`` and ``127.0.0.1``, signed by that CA,
followed by its key: the one file HAProxy reads). What exists is kept; a server certificate that expires
within 30 days, or that the CA did not sign, is made again.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 397  # what browsers accept for a server certificate
RENEW_BEFORE = datetime.timedelta(days=30)
HOSTS = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class Paths:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def server(self) -> Path:
        """Certificate, CA certificate and key, in the order HAProxy's ``crt`` takes them."""
        return self.directory / "server.pem"


def _private(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(partial, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _make_ca(paths: Paths) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"shop local CA ({paths.directory.parent.parent.name})")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _private(paths.ca_key, _key_pem(key))
    paths.ca.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _server_is_current(paths: Paths, ca: x509.Certificate) -> bool:
    if not paths.server.exists():
        return False
    server = x509.load_pem_x509_certificates(paths.server.read_bytes())[0]
    return server.issuer == ca.subject and server.not_valid_after_utc - _now() > RENEW_BEFORE


def _make_server(paths: Paths, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in HOSTS]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ADDRESSES]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = b"".join(
        [
            certificate.public_bytes(serialization.Encoding.PEM),
            ca.public_bytes(serialization.Encoding.PEM),
            _key_pem(key),
        ]
    )
    _private(paths.server, pem)


def ensure_certificates(directory: Path) -> Paths:
    """The CA and the gateway's certificate in ``directory``, made if missing or due."""
    paths = Paths(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if not (paths.ca.exists() and paths.ca_key.exists()):
        _make_ca(paths)
    ca = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    if not _server_is_current(paths, ca):
        key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # noqa: S101 - written by _make_ca
        _make_server(paths, ca, key)
    return paths


def trust_instructions(paths: Paths, url: str) -> list[str]:
    """How to trust the local CA: per request, and for the whole machine (Debian)."""
    return [
        f"curl --cacert {paths.ca} {url}/api/v1/products/",
        f"machine-wide (Debian): sudo cp {paths.ca} /usr/local/share/ca-certificates/shop-local-ca.crt"
        " && sudo update-ca-certificates",
    ]


if __name__ == "__main__":
    # compose's gateway-tls: ``python tls.py /etc/shop/tls`` (this file only needs the cryptography package).
    made = ensure_certificates(Path(sys.argv[1]))
    print(f"the gateway's certificate: {made.server}; its CA: {made.ca}")
