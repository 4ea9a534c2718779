"""The runtime build of ``common`` (what the Dockerfile installs) holds no test code.

The test support (pytest contracts and fixtures, the test token signer, the messaging helpers) is the
separate distribution ``common/testing/`` (``common_testing``), which ``./manage_all.sh`` installs in the
development environment only. This builds ``common`` the way the image does, from a copy of the folder,
offline, and lists the wheel.
"""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _runtime_wheel(tmp_path: Path) -> zipfile.ZipFile:
    source = tmp_path / "common"  # what ``COPY common/ /tmp/build/common/`` gives the image
    shutil.copytree(
        ROOT / "common", source, ignore=shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("shop_common-*.whl")
    return zipfile.ZipFile(wheel)


def test_runtime_build_of_common_holds_the_package_and_no_test_code(tmp_path):
    with _runtime_wheel(tmp_path) as wheel:
        names = wheel.namelist()
        modules = {name: wheel.read(name).decode() for name in names if name.endswith(".py")}
        top_level = next(wheel.read(name).decode() for name in names if name.endswith(".dist-info/top_level.txt"))

    assert top_level.split() == ["common"]
    assert "common/messaging/outbox.py" in names
    assert "common/kombu_redis_patches.py" in names
    assert [name for name in names if not name.startswith(("common/", "shop_common-"))] == []
    test_code = [name for name in names if "testing" in name or "/tests/" in name or "conftest" in name]
    assert test_code == []
    test_imports = re.compile(r"^\s*(?:from|import)\s+(?:pytest|common_testing)\b", re.MULTILINE)
    assert [name for name, source in modules.items() if test_imports.search(source)] == []
