"""docs/OPERATIONS.md covers what the issue asks for and stays in step with the code: every
unit's logs, every health state the server reports and every device state."""

from __future__ import annotations

import ast
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


def state_rows() -> set[str]:
    section = DOCS.split("## Health states on the monitor", 1)[1]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_every_device_state_is_explained() -> None:
    assert {s.value for s in DeviceState} <= state_rows()


def literal_strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def appliance_heartbeat_states() -> dict[str, set[str]]:
    """The states the appliance daemon puts in a heartbeat beside DeviceState's values, as
    string literals in its code: the supervisor's notes on a device's thread
    (`self._note(slot, "stalled", ...)`, `WorkerNote(device, "restarting")`) and the reports it
    builds itself (`DeviceReport("backlog" if late else "ok", ...)` for the outbox)."""
    found: dict[str, set[str]] = {"note": set(), "report": set()}
    for path in (REPO / "appliance").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("_note", "WorkerNote") and len(node.args) >= 2:
                found["note"] |= literal_strings(node.args[1])
            elif name == "DeviceReport" and node.args:
                found["report"] |= literal_strings(node.args[0])
    return found


def test_every_appliance_heartbeat_state_is_explained() -> None:
    found = appliance_heartbeat_states()
    # The scan still finds what it looks for (both kinds), so this test cannot pass vacuously.
    assert found["note"] and found["report"], found
    assert found["note"] | found["report"] <= state_rows()


def test_pseudo_devices_are_explained() -> None:
    """Names a heartbeat uses for something other than a device (the outbox)."""
    from appliance.config import RESERVED_NAMES

    section = DOCS.split("## Health states on the monitor", 1)[1]
    for name in RESERVED_NAMES:
        assert f"`{name}`" in section, name


def test_what_makes_a_box_degraded_matches_the_server() -> None:
    """The docs name the device states that keep a box `ok`; the server's rule says the same."""
    code = (REPO / "server/service/appliances.py").read_text()
    (healthy,) = re.findall(r'v\.get\("state"\) not in \(([^)]*)\)', code)
    states = re.findall(r'"([a-z_]+)"', healthy)
    section = DOCS.split("## Health states on the monitor", 1)[1]
    sentence = "any device state other than " + " or ".join(f"`{s}`" for s in states)
    assert sentence in " ".join(section.split()), f"docs/OPERATIONS.md should say: {sentence}"


def test_restart_policy_of_the_appliance_is_explained() -> None:
    unit = (SYSTEMD_DIR / "spa-appliance.service").read_text()
    (status,) = re.findall(r"^RestartPreventExitStatus=(.+)$", unit, flags=re.M)
    assert f"RestartPreventExitStatus={status}" in DOCS
    assert f"status={status}/INVALIDARGUMENT" in DOCS  # how `systemctl status` shows it


def test_provisioning_commands_in_the_docs_match_the_script() -> None:
    help_text = (REPO / "provisioning/appliance.sh").read_text()
    for option in set(re.findall(r"`(--[a-z-]+)", DOCS)):
        scripts = help_text + (REPO / "provisioning/server.sh").read_text() + (REPO / "provisioning/lib.sh").read_text()
        assert option in scripts, f"docs mention {option}, which provision.sh does not know"
