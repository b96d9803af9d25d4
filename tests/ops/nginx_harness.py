"""A real nginx running the site that provisioning writes, on loopback ports, in front of
small fake backends: enough to check TLS, the WebSocket upgrade, stickiness and the
offline page without touching the machine's own nginx."""

from __future__ import annotations

import json
import re
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEADLINE_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class _Handler(socketserver.BaseRequestHandler):
    """HTTP/1.1 backend: answers JSON describing the request, or accepts a WebSocket
    upgrade on /socket.io/ and then echoes whatever arrives."""

    def handle(self) -> None:
        head = read_head(self.request).decode("latin-1")
        if not head:
            return
        request_line, *header_lines = head.split("\r\n\r\n")[0].split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        path = request_line.split()[1]
        port = self.server.server_address[1]
        if (
            path.startswith("/socket.io/")
            and headers.get("upgrade", "").lower() == "websocket"
            and "upgrade" in headers.get("connection", "").lower()
        ):
            self.request.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            )
            while chunk := self.request.recv(4096):
                self.request.sendall(chunk)
            return
        body = json.dumps({"port": port, "path": path, "headers": headers}).encode()
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def backends(count: int) -> Iterator[list[int]]:
    servers = [_Server(("127.0.0.1", 0), _Handler) for _ in range(count)]
    threads = [
        threading.Thread(target=s.serve_forever, name=f"backend.{i}", daemon=True) for i, s in enumerate(servers)
    ]
    for t in threads:
        t.start()
    try:
        yield [s.server_address[1] for s in servers]
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def localise(site: str, root: Path, http_port: int, https_port: int, backend_ports: list[int]) -> str:
    """The provisioned site with its paths inside `root` and loopback test ports."""
    site = site.replace("/etc/spa/", f"{root}/etc/spa/").replace("/opt/spa/", f"{root}/opt/spa/")
    site = re.sub(r"^\s*listen \[::\]:\d+.*\n", "", site, flags=re.M)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl default_server;", f"listen 127.0.0.1:{https_port} ssl default_server;")
    upstreams = iter(backend_ports)
    return re.sub(r"server 127\.0\.0\.1:\d+", lambda m: f"server 127.0.0.1:{next(upstreams)}", site)


def write_nginx_conf(prefix: Path, site: str) -> Path:
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "site.conf").write_text(site)
    conf = prefix / "nginx.conf"
    conf.write_text(
        "user root;\ndaemon off;\npid nginx.pid;\nerror_log stderr;\nevents {}\n"
        f"http {{\n    access_log off;\n    include {prefix}/site.conf;\n}}\n"
    )
    return conf


def nginx_check(prefix: Path, site: str) -> subprocess.CompletedProcess[str]:
    conf = write_nginx_conf(prefix, site)
    return subprocess.run(
        ["nginx", "-t", "-p", str(prefix), "-e", "stderr", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@contextmanager
def running_nginx(prefix: Path, site: str, port: int) -> Iterator[None]:
    conf = write_nginx_conf(prefix, site)
    proc = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-e", "stderr", "-c", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not start: {proc.communicate()[1]}") from None
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.communicate(timeout=DEADLINE_S)


def tls_connect(port: int, cafile: Path, server_name: str) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(cafile))
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
    return context.wrap_socket(sock, server_hostname=server_name)


def request(conn: socket.socket, path: str, host: str, extra: str = "") -> tuple[int, str]:
    """One HTTP/1.1 request; returns (status, whole response after the status line)."""
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n".encode())
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    text = data.decode("latin-1")
    return int(text.split()[1]), text
