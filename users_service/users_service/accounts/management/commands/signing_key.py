"""``manage.py signing_key generate|public-jwk|jwks``: the helpers of a key rotation (see ``accounts.signing``)."""

import json
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from users_service.accounts import signing


class Command(BaseCommand):
    help = "Generate a signing key, or print the current public JWK / the published JWKS (for a key rotation)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="action", required=True)
        generate = subcommands.add_parser("generate", help="Write a new RSA private key (PEM, mode 600).")
        generate.add_argument("path", type=Path)
        subcommands.add_parser("public-jwk", help="The current key's public JWK, to keep in JWT_PREVIOUS_PUBLIC_JWKS.")
        subcommands.add_parser("jwks", help="What /.well-known/jwks.json publishes.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "generate":
            path: Path = options["path"]
            if path.exists():
                raise CommandError(f"{path} exists; refusing to overwrite a key")
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(signing.generate_private_key_pem())
            self.stdout.write(f"wrote {path}")
        elif action == "public-jwk":
            self.stdout.write(json.dumps(signing.current_public_jwk(), indent=2))
        else:
            self.stdout.write(json.dumps(signing.published_jwks(), indent=2))
