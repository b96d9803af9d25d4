"""provision.sh server into temporary roots: files, modes, settings, the nginx site checked
by a real nginx (TLS, WebSocket upgrade, spread over processes, offline page) and the MariaDB
statements run against the real MariaDB."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from .conftest import REPO, SERVER_ARGS, Provisioned, parse_unit, provision, snapshot, value
from .nginx_harness import (
    backends,
    free_port,
    localise,
    nginx_check,
    read_head,
    request,
    running_nginx,
    tls_connect,
)

DOMAIN = "spa.example.lan"
SERVER_FILES = {
    "/etc/spa/server.env": 0o640,
    "/etc/spa/provision.args": 0o600,
    "/etc/spa/mariadb-setup.sql": 0o600,
    "/etc/spa/tls/server.crt": 0o644,
    "/etc/spa/tls/server.key": 0o600,
    "/etc/mysql/mariadb.conf.d/60-spa.cnf": 0o644,
    "/etc/nginx/sites-available/spa": 0o644,
    "/etc/nginx/sites-enabled/spa": 0o777,  # the symlink
    "/opt/spa/nginx/spa-offline.html": 0o644,
    "/opt/spa/doc/OPERATIONS.md": 0o644,
    "/etc/systemd/system/spa-server.service": 0o644,
    "/etc/systemd/system/spa-server@.service": 0o644,
    "/etc/systemd/system/spa-server.service.d/10-local-services.conf": 0o644,
    "/etc/systemd/system/systemd-time-wait-sync.service.d/50-spa.conf": 0o644,
    "/etc/systemd/system/spa-server@.service.d/10-local-services.conf": 0o644,
    "/etc/systemd/journald.conf.d/50-spa.conf": 0o644,
}


def env_of(root: Path) -> dict[str, str]:
    lines = (root / "etc/spa/server.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_server_files_and_modes(provisioned: dict[str, Provisioned]) -> None:
    p = provisioned["server"]
    files = {"/" + str(f.relative_to(p.root)) for f in p.root.rglob("*") if f.is_symlink() or not f.is_dir()}
    assert files == set(SERVER_FILES)
    for path, mode in SERVER_FILES.items():
        assert p.mode(path) == mode, path
    assert (p.root / "etc/nginx/sites-enabled/spa").readlink() == Path("/etc/nginx/sites-available/spa")
    assert "chown root:spa /etc/spa/server.env" in p.would_run()


def test_server_settings(provisioned: dict[str, Provisioned]) -> None:
    p = provisioned["server"]
    env = env_of(p.root)
    match = re.fullmatch(
        r"mysql\+pymysql://spa:([0-9a-f]{48})@127\.0\.0\.1:3306/spa\?charset=utf8mb4", env["DATABASE_URL"]
    )
    assert match, env["DATABASE_URL"]
    assert re.fullmatch(r"[0-9a-f]{48}", env["SPA_SECRET_KEY"])
    assert env["SPA_HOST"] == "127.0.0.1" and env["SPA_PORT"] == "5000"
    assert env["SPA_TIMEZONE"] == "Europe/Berlin"
    assert env["SPA_NAME"] == '"Day Spa"'
    assert env["SPA_LOG_FORMAT"] == "json"
    assert env["SPA_MAX_CONNECTIONS"] == "1000" and env["SPA_CURRENCY"] == "€" and env["SPA_CLAIM_GRACE_S"] == "120"
    assert "SPA_MESSAGE_QUEUE" not in env
    sql = p.read("/etc/spa/mariadb-setup.sql")
    assert f"IDENTIFIED BY '{match.group(1)}'" in sql
    dropin = parse_unit(p.read("/etc/systemd/system/spa-server.service.d/10-local-services.conf"))
    assert [v for k, v in dropin["Unit"] if k == "Wants"] == ["mariadb.service"]
    journal = parse_unit(p.read("/etc/systemd/journald.conf.d/50-spa.conf"))
    assert value(journal, "Journal", "SystemMaxUse") == "1G"


def test_server_would_run(provisioned: dict[str, Provisioned]) -> None:
    cmds = provisioned["server"].would_run()
    apt = next(c for c in cmds if c.startswith("apt-get install")).split()
    assert {"nginx", "mariadb-server", "python3-venv", "openssl"} <= set(apt)
    assert "redis-server" not in apt
    assert any(c.startswith("useradd --system") and c.endswith(" spa") for c in cmds)
    assert f"/opt/spa/venv/bin/pip install --quiet --upgrade {REPO}" in cmds
    assert "mariadb --user=root --execute=source /etc/spa/mariadb-setup.sql" in cmds
    assert (
        "systemd-run --quiet --wait --pipe --collect --uid=spa --gid=spa "
        "--property=EnvironmentFile=/etc/spa/server.env /opt/spa/venv/bin/python -m server db upgrade"
    ) in cmds
    assert cmds.index("mariadb --user=root --execute=source /etc/spa/mariadb-setup.sql") < next(
        i for i, c in enumerate(cmds) if "server db upgrade" in c
    )
    assert {
        "systemctl enable spa-server.service",
        "systemctl enable nginx.service",
        "nginx -t -q",
        "systemctl restart spa-server.service",
    } <= set(cmds)


def test_self_signed_certificate_names_the_domain(provisioned: dict[str, Provisioned]) -> None:
    tls = provisioned["server"].root / "etc/spa/tls"
    text = subprocess.run(
        ["openssl", "x509", "-in", tls / "server.crt", "-noout", "-subject", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"CN = {DOMAIN}" in text and f"DNS:{DOMAIN}" in text

    def pubkey(*args: str | Path) -> str:
        return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=True).stdout

    assert pubkey("x509", "-in", tls / "server.crt", "-noout", "-pubkey") == pubkey(
        "pkey", "-in", tls / "server.key", "-pubout"
    )


def test_given_certificate_is_installed_instead(tmp_path: Path, provisioned: dict[str, Provisioned]) -> None:
    tls = provisioned["server"].root / "etc/spa/tls"
    root = tmp_path / "root"
    provision(*SERVER_ARGS, "--tls-cert", tls / "server.crt", "--tls-key", tls / "server.key", root=root)
    assert (root / "etc/spa/tls/server.crt").read_bytes() == (tls / "server.crt").read_bytes()
    assert (root / "etc/spa/tls/server.key").stat().st_mode & 0o777 == 0o600


def test_secrets_are_kept_when_settings_change(tmp_path: Path) -> None:
    provision(*SERVER_ARGS, root=tmp_path)
    before = env_of(tmp_path)
    result = provision(*SERVER_ARGS, "--max-connections", "32", root=tmp_path)
    after = env_of(tmp_path)
    assert after["SPA_MAX_CONNECTIONS"] == "32"
    assert (after["SPA_SECRET_KEY"], after["DATABASE_URL"]) == (before["SPA_SECRET_KEY"], before["DATABASE_URL"])
    assert "wrote /etc/spa/server.env" in result.stdout
    assert "systemctl restart spa-server.service" in result.stdout
    assert "nginx -t" not in result.stdout  # nginx did not change


def test_scaled_out_server(tmp_path: Path) -> None:
    result = provision(*SERVER_ARGS, "--processes", "3", root=tmp_path)
    env = env_of(tmp_path)
    assert env["SPA_MESSAGE_QUEUE"] == "redis://127.0.0.1:6379/0"
    assert "SPA_PORT" not in env  # each spa-server@PORT sets its own
    for port in (5001, 5002, 5003):
        assert f"would run: systemctl enable spa-server@{port}.service" in result.stdout
    assert "systemctl enable spa-server.service" not in result.stdout
    assert "redis-server" in next(line for line in result.stdout.splitlines() if "apt-get install" in line)
    assert "would run: systemctl enable redis-server.service" in result.stdout
    site = (tmp_path / "etc/nginx/sites-available/spa").read_text()
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", site) == ["5001", "5002", "5003"]
    assert "least_conn;" in site and "ip_hash;" not in site  # one router's clients spread (issue 14)
    dropin = parse_unit((tmp_path / "etc/systemd/system/spa-server@.service.d/10-local-services.conf").read_text())
    assert [v for k, v in dropin["Unit"] if k == "Wants"] == ["mariadb.service", "redis-server.service"]
    # Back to one process: spa-server.service again, no message queue.
    provision(*SERVER_ARGS, root=tmp_path)
    assert "SPA_MESSAGE_QUEUE" not in env_of(tmp_path)


def test_external_database_needs_no_mariadb(tmp_path: Path) -> None:
    url = "mysql+pymysql://spa:secretsecret@db.example.lan:3306/spa"
    result = provision(*SERVER_ARGS, "--database-url", url, root=tmp_path)
    assert env_of(tmp_path)["DATABASE_URL"] == url
    assert not (tmp_path / "etc/spa/mariadb-setup.sql").exists()
    assert "mariadb-server" not in result.stdout
    dropin = parse_unit((tmp_path / "etc/systemd/system/spa-server.service.d/10-local-services.conf").read_text())
    assert "Wants" not in dict(dropin["Unit"])
    before = snapshot(tmp_path)
    provision(*SERVER_ARGS, "--database-url", url, root=tmp_path)
    assert snapshot(tmp_path) == before


# nginx -------------------------------------------------------------------------------


def test_nginx_accepts_the_site(provisioned: dict[str, Provisioned], tmp_path: Path) -> None:
    root = provisioned["server"].root
    site = localise((root / "etc/nginx/sites-available/spa").read_text(), root, free_port(), free_port(), [free_port()])
    result = nginx_check(tmp_path / "nginx", site)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_terminates_tls_upgrades_websockets_and_spreads(
    tmp_path: Path, provisioned: dict[str, Provisioned]
) -> None:
    root = tmp_path / "root"
    provision(*SERVER_ARGS, "--processes", "3", root=root)
    cert = root / "etc/spa/tls/server.crt"
    http_port, https_port = free_port(), free_port()
    with backends(3) as ports:
        site = localise((root / "etc/nginx/sites-available/spa").read_text(), root, http_port, https_port, ports)
        with running_nginx(tmp_path / "nginx", site, https_port):
            # Plain HTTP is redirected to HTTPS.
            with socket.create_connection(("127.0.0.1", http_port), timeout=10) as plain:
                status, text = request(plain, "/kiosk", DOMAIN)
            assert status == 301 and f"Location: https://{DOMAIN}/kiosk" in text

            # HTTPS with the provisioned certificate, forwarded headers; requests from one
            # address spread over the three processes (no affinity: WebSocket only).
            seen = set()
            for _ in range(6):
                with tls_connect(https_port, cert, DOMAIN) as conn:
                    status, text = request(conn, "/healthz", DOMAIN)
                assert status == 200
                answer = json.loads(text.split("\r\n\r\n", 1)[1])
                assert answer["headers"]["x-forwarded-proto"] == "https"
                assert answer["headers"]["host"] == DOMAIN
                seen.add(answer["port"])
            assert seen == set(ports)

            # Socket.IO's WebSocket upgrade passes through and the tunnel carries data.
            with tls_connect(https_port, cert, DOMAIN) as conn:
                conn.sendall(
                    f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {DOMAIN}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
                )
                head = read_head(conn).decode()
                assert head.startswith("HTTP/1.1 101"), head
                conn.sendall(b"ping-through-the-tunnel")
                echoed = b""
                while len(echoed) < len(b"ping-through-the-tunnel"):
                    echoed += conn.recv(100)
                assert echoed == b"ping-through-the-tunnel"


def test_nginx_serves_the_offline_page_while_the_server_is_down(
    tmp_path: Path, provisioned: dict[str, Provisioned]
) -> None:
    root = provisioned["server"].root
    https_port = free_port()
    site = localise((root / "etc/nginx/sites-available/spa").read_text(), root, free_port(), https_port, [free_port()])
    with running_nginx(tmp_path / "nginx", site, https_port):
        with tls_connect(https_port, root / "etc/spa/tls/server.crt", DOMAIN) as conn:
            status, text = request(conn, "/kiosk", DOMAIN)
    assert status == 502
    # Reloads itself by script (a <meta> refresh keeps a "#token=..." address from reloading:
    # see test_connecting_page.py), by <meta> without script.
    assert "<script>setTimeout(() => location.reload(), 5000);</script>" in text
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in text
    assert "The spa server is starting" in text


# MariaDB -----------------------------------------------------------------------------


@pytest.mark.mysql
def test_mariadb_statements_create_a_working_database_and_user_idempotently(tmp_path: Path) -> None:
    import pymysql

    name = "spa_ops_" + uuid.uuid4().hex[:10]
    password = "pw_" + uuid.uuid4().hex
    provision(*SERVER_ARGS, "--db-name", name, "--db-user", name, "--db-password", password, root=tmp_path)
    sql = tmp_path / "etc/spa/mariadb-setup.sql"
    try:
        for _ in range(2):  # running the statements again changes nothing and does not fail
            subprocess.run(
                ["mariadb", "-h", "127.0.0.1", "--user=root", f"--execute=source {sql}"],
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            )
        url = env_of(tmp_path)["DATABASE_URL"]
        assert url == f"mysql+pymysql://{name}:{password}@127.0.0.1:3306/{name}?charset=utf8mb4"
        conn = pymysql.connect(host="127.0.0.1", port=3306, user=name, password=password, database=name)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE t (v VARCHAR(10))")
                cur.execute("SELECT @@character_set_database")
                assert cur.fetchone() == ("utf8mb4",)
        finally:
            conn.close()
    finally:
        subprocess.run(
            [
                "mariadb",
                "-h",
                "127.0.0.1",
                "--user=root",
                "--execute",
                f"DROP DATABASE IF EXISTS `{name}`; DROP USER IF EXISTS '{name}'@'localhost';"
                f" DROP USER IF EXISTS '{name}'@'127.0.0.1';",
            ],
            check=True,
            timeout=60,
        )
