"""docs/OPERATIONS.md covers what the issue asks for and stays in step with the code: every
unit's logs, every health state the server reports and every device state."""

from __future__ import annotations

import re

import pytest

from devices.base import DeviceState

from .conftest import REPO, SYSTEMD_DIR

DOCS = (REPO / "docs/OPERATIONS.md").read_text()


@pytest.mark.parametrize(
    "heading",
    [
        "## From a blank SD card to a working spa",
        "## Updating the software",
        "## Backup and restore of the database",
        "## Reading the logs",
        "## Health states on the monitor",
        "## Hardening",
    ],
)
def test_sections(heading: str) -> None:
    assert re.search(rf"^{re.escape(heading)}$", DOCS, flags=re.M)


@pytest.mark.parametrize("unit", sorted(p.name.split(".")[0].rstrip("@") for p in SYSTEMD_DIR.glob("*.service")))
def test_every_units_logs_are_explained(unit: str) -> None:
    assert re.search(rf"journalctl -u '?{re.escape(unit)}", DOCS), unit


def test_every_appliance_health_state_is_explained() -> None:
    code = (REPO / "server/service/appliances.py").read_text()
    states = set(re.findall(r"\bstate = \"([a-z_]+)\"", code))
    assert states, "no states found in server/service/appliances.py"
    section = DOCS.split("## Health states on the monitor", 1)[1]
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    assert states <= rows


def test_every_device_state_is_explained() -> None:
    section = DOCS.split("## Health states on the monitor", 1)[1]
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    assert {s.value for s in DeviceState} <= rows


def test_provisioning_commands_in_the_docs_match_the_script() -> None:
    help_text = (REPO / "provisioning/appliance.sh").read_text()
    for option in set(re.findall(r"`(--[a-z-]+)", DOCS)):
        scripts = help_text + (REPO / "provisioning/server.sh").read_text() + (REPO / "provisioning/lib.sh").read_text()
        assert option in scripts, f"docs mention {option}, which provision.sh does not know"
