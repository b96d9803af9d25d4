"""A spa server cluster on one machine: several `python -m server run` processes sharing one
MariaDB database, relaying their broadcasts through Redis (`SPA_MESSAGE_QUEUE`), behind nginx.

Used by `make run-cluster` (scripts/run_cluster.py), the cluster tests (tests/cluster/) and the
benchmarks. nginx is Debian's (`nginx-light`), run as the caller with its own prefix directory,
never the machine's own nginx.

Balancing: every client speaks Socket.IO over WebSocket only (the server refuses long-polling),
so a session never needs to reach the same process twice and no affinity is needed. `least_conn`
spreads the long-lived sockets evenly whatever address they come from; `ip_hash` would key on
the first three octets of an IPv4 address and put a whole spa behind one router on one process.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support import LiveServer, free_port

NGINX = "/usr/sbin/nginx"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_conf(prefix: Path, host: str, port: int, backends: list[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in backends)
    temp = "\n".join(f"    {kind}_temp_path {prefix / 'tmp' / kind};" for kind in TEMP_KINDS)
    return f"""# Written by bench/cluster.py: the spa cluster's load balancer.
worker_processes 1;
daemon off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;

events {{
    # Two per proxied socket (client side, server side): 2,000 screens and appliances.
    worker_connections 4096;
}}

http {{
    access_log off;
{temp}

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream spa_server {{
        # WebSocket only: no affinity needed; the fewest open sockets gets the next one.
        least_conn;
{servers}
    }}

    server {{
        listen {host}:{port};
        client_max_body_size 1m;
        proxy_http_version 1.1;
        # With its port: the server accepts only its own origin, which is this address.
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;

        location /socket.io/ {{
            proxy_pass http://spa_server;
            # A location that sets any header inherits none: all of them again.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
            # Long-lived WebSocket: well above the Socket.IO ping interval.
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}

        location / {{
            proxy_pass http://spa_server;
            proxy_next_upstream error timeout http_502;
        }}
    }}
}}
"""


@dataclass
class Cluster:
    """`processes` servers on `database_url`, relaying through `redis_url` on their own channel,
    behind nginx on `host:port` (0: any free port)."""

    database_url: str
    redis_url: str
    workdir: Path
    processes: int = 3
    host: str = "127.0.0.1"
    port: int = 0
    channel: str = "spa-cluster"
    env: dict[str, str] = field(default_factory=dict)
    servers: list[LiveServer] = field(default_factory=list)
    nginx: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def server_env(self) -> dict[str, str]:
        return {
            "SPA_MESSAGE_QUEUE": self.redis_url,
            "SPA_MESSAGE_QUEUE_CHANNEL": self.channel,
            # nginx on this machine forwards the client's address (per-address limits).
            "SPA_TRUSTED_PROXIES": "127.0.0.1",
            **self.env,
        }

    def start(self) -> Cluster:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        try:
            for _ in range(self.processes):
                self.servers.append(LiveServer(self.database_url, self.workdir, **self.server_env()).start())
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def start_nginx(self) -> None:
        prefix = self.workdir / "nginx"
        for kind in TEMP_KINDS:
            (prefix / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_conf(prefix, self.host, self.port, [s.port for s in self.servers]))
        log = open(prefix / "nginx.out", "ab")  # noqa: SIM115 - handed to the child process
        self.nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.nginx.returncode}: {(prefix / 'error.log').read_text()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx did not answer within 15 s")

    def kill(self, index: int) -> None:
        """SIGKILL one server process: no goodbye to its clients, as a crash."""
        proc = self.servers[index].proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def restart(self, index: int) -> None:
        """The same process again, on its port (as systemd's Restart= would)."""
        self.servers[index].start()

    def connections(self) -> list[int]:
        """Each process's open Socket.IO connections, asked of it directly (0 for one that is
        down: it holds none)."""
        counts = []
        for server in self.servers:
            try:
                counts.append(int(server.healthz().json()["connections"]))
            except requests.RequestException:
                counts.append(0)
        return counts

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        for server in self.servers:
            server.stop()


@dataclass
class OwnRedis:
    """A Redis of the caller's own (no persistence) on a loopback port, for outages the caller
    controls: never the machine's shared one."""

    workdir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        self.port = self.port or free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(argv, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
