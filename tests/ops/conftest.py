"""Fixtures for the operations tests: provisioning into temporary roots, unit parsing,
and test roots in which `systemd-analyze` can check the units offline."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROVISION = REPO / "provisioning" / "provision.sh"
SYSTEMD_DIR = REPO / "systemd"
SERVER_URL = "https://spa.example.lan"
TOKEN = "dv_3_0123456789abcdef"

APPLIANCE_ARGS: dict[str, list[str]] = {
    "kiosk": ["appliance", "--role", "kiosk", "--server", SERVER_URL, "--token", TOKEN],
    "cashier": ["appliance", "--role", "cashier", "--server", SERVER_URL, "--token", TOKEN],
    "room": ["appliance", "--role", "room", "--server", SERVER_URL, "--token", TOKEN, "--room-number", "3"],
    "lobby": ["appliance", "--role", "lobby", "--server", SERVER_URL, "--token", TOKEN],
}
SERVER_ARGS = ["server", "--domain", "spa.example.lan", "--timezone", "Europe/Berlin", "--spa-name", "Day Spa"]
ROLE_ARGS: dict[str, list[str]] = {**APPLIANCE_ARGS, "server": SERVER_ARGS}


def provision(
    *args: str | os.PathLike[str], root: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run provisioning/provision.sh (with --root ROOT when given) and return its result."""
    cmd = ["bash", str(PROVISION), *map(str, args)]
    if root is not None:
        cmd += ["--root", str(root)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def kiosk_url(root: Path) -> str:
    """SPA_KIOSK_URL as systemd's EnvironmentFile= reads it: the value after "=", verbatim when it
    holds no quotes, backslashes or blanks ("#" inside a value is no comment for systemd)."""
    lines = [line for line in (root / "etc/spa/kiosk.env").read_text().splitlines() if not line.startswith("#")]
    assert len(lines) == 1 and lines[0].startswith("SPA_KIOSK_URL="), lines
    url = lines[0].split("=", 1)[1]
    assert not set(url) & set("\"'\\ \t$`"), url
    return url


Entry = tuple[str, int, int, int, int, str]


def snapshot(root: Path) -> dict[str, Entry]:
    """Everything about a tree that a second run must not change: type, mode, owner, mtime, content."""
    entries: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                kind, content = "link", os.readlink(path)
            elif stat.S_ISDIR(st.st_mode):
                kind, content = "dir", ""
            else:
                kind, content = "file", hashlib.sha256(path.read_bytes()).hexdigest()
            entries[str(path.relative_to(root))] = (
                kind,
                stat.S_IMODE(st.st_mode),
                st.st_uid,
                st.st_gid,
                st.st_mtime_ns,
                content,
            )
    return entries


@dataclass(frozen=True)
class Provisioned:
    name: str
    root: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    before: dict[str, Entry]
    after: dict[str, Entry]

    def read(self, path: str) -> str:
        return (self.root / path.lstrip("/")).read_text()

    def mode(self, path: str) -> int:
        return stat.S_IMODE((self.root / path.lstrip("/")).lstat().st_mode)

    def would_run(self) -> list[str]:
        prefix = "would run: "
        return [
            line.strip()[len(prefix) :] for line in self.first.stdout.splitlines() if line.strip().startswith(prefix)
        ]


@pytest.fixture(scope="session")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Provisioned]:
    """Every role (and the server) provisioned twice into its own temporary root."""
    result: dict[str, Provisioned] = {}
    for name, args in ROLE_ARGS.items():
        root = tmp_path_factory.mktemp(f"root-{name}")
        first = provision(*args, root=root)
        before = snapshot(root)
        second = provision(*args, root=root)
        result[name] = Provisioned(name, root, first, second, before, snapshot(root))
    return result


# Unit files ----------------------------------------------------------------------

Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """Sections of a systemd unit or drop-in as ordered (key, value) lists (keys may repeat)."""
    sections: Unit = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1].strip() + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"key outside a section: {line}"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit: Unit, section: str, key: str) -> str:
    found = values(unit, section, key)
    assert found, f"[{section}] {key}= not set"
    return found[-1]


def merged(*parts: Unit) -> Unit:
    """A unit with its drop-ins applied (settings appended in order, as systemd reads them)."""
    out: Unit = {}
    for part in parts:
        for section, items in part.items():
            out.setdefault(section, []).extend(items)
    return out


# systemd-analyze test roots -------------------------------------------------------

STUB_UNITS = ("mariadb.service", "redis-server.service", "nginx.service")
STUB_EXECUTABLES = ("opt/spa/venv/bin/python", "usr/bin/cage", "usr/bin/chromium", "usr/bin/true")


def make_analyze_root(source: Path | None, dest: Path) -> Path:
    """A root for `systemd-analyze --root`: a copy of `source` (a provisioned tree) plus the
    host's unit directory, stubs of the Debian units ours depend on, and the programs the
    units start, so that `verify` can resolve every path they name."""
    if source is not None:
        shutil.copytree(source, dest, symlinks=True)
    lib = dest / "usr/lib/systemd/system"
    shutil.copytree("/usr/lib/systemd/system", lib, symlinks=True, dirs_exist_ok=True)
    for name in STUB_UNITS:
        target = lib / name
        if target.is_symlink() or target.exists():
            target.unlink()
        target.write_text(f"[Unit]\nDescription=stub of Debian's {name}\n[Service]\nExecStart=/usr/bin/true\n")
    for rel in STUB_EXECUTABLES:
        exe = dest / rel
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    return dest


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60, check=False)


def exposure(root: Path, unit: str) -> float:
    """Overall exposure of `unit` from `systemd-analyze security --offline=true --root=ROOT`."""
    result = analyze("security", "--offline=true", f"--root={root}", "--no-pager", unit)
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        if "Overall exposure level for" in line:
            return float(line.split(":")[1].split()[0])
    raise AssertionError(f"no exposure figure in:\n{result.stdout}")
