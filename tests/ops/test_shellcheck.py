"""Every provisioning script is shellcheck-clean and parses with bash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

SCRIPTS = sorted((REPO / "provisioning").glob("*.sh"))
# Scripts provisioning installs on the machines (POSIX sh), e.g. /opt/spa/kiosk/with-start-page.
INSTALLED = sorted((REPO / "provisioning/files").glob("*.sh"))


def test_there_are_scripts() -> None:
    assert {p.name for p in SCRIPTS} == {"provision.sh", "lib.sh", "appliance.sh", "server.sh"}
    assert {p.name for p in INSTALLED} == {"with-start-page.sh"}


def test_shellcheck_passes_on_every_script() -> None:
    # -x follows provision.sh into the files it sources, so variables and functions shared
    # between them are checked together.
    result = subprocess.run(
        ["shellcheck", "-x", *map(str, SCRIPTS)], capture_output=True, text=True, cwd=REPO, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", INSTALLED, ids=lambda p: p.name)
def test_installed_scripts_are_clean_posix_sh(script: Path) -> None:
    assert script.read_text().startswith("#!/bin/sh\n")
    assert script.stat().st_mode & 0o111
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    subprocess.run(["sh", "-n", str(script)], check=True, timeout=30)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_bash_parses(script: object) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)


def test_entry_point_is_executable_and_strict() -> None:
    entry = REPO / "provisioning/provision.sh"
    assert entry.stat().st_mode & 0o111
    text = entry.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
