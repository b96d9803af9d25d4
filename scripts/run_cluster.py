"""`make run-cluster`: on one machine, three server processes sharing MariaDB, relaying through
Redis, behind nginx (bench/cluster.py), with the demo data; prints the address and stays until
Ctrl+C or until one of them ends (then stops the rest and fails).

Settings from the environment: PORT (nginx's, default 8080), PROCESSES (3), DATABASE_URL (default
the local MariaDB's `spa_cluster` database, made if missing), SPA_MESSAGE_QUEUE (default the local
Redis), VAR (var/cluster). MariaDB and Redis are the machine's (`make services` starts them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cluster import Cluster  # noqa: E402
from scripts.run_demo import free_or_exit, port_setting  # noqa: E402

PY = os.environ.get("PY") or sys.executable


def ensure_database(url: str) -> None:
    """The cluster's MariaDB database, made when missing (its tables come from the migrations)."""
    import pymysql
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    conn = pymysql.connect(
        host=parts.host or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS `{parts.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        conn.close()


def main() -> int:
    port = free_or_exit("PORT", "127.0.0.1", port_setting("PORT", 8080))
    processes = int(os.environ.get("PROCESSES", "3"))
    var = Path(os.environ.get("VAR", "var/cluster")).resolve()
    var.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306/spa_cluster?charset=utf8mb4")
    redis = os.environ.get("SPA_MESSAGE_QUEUE", "redis://127.0.0.1:6379/0")
    ensure_database(url)
    env = {**os.environ, "DATABASE_URL": url}
    log = var / "setup.log"
    tokens_file = var / "demo-tokens.json"
    with open(log, "wb") as out:
        for argv in (["db", "upgrade"], ["demo", "--tokens-file", str(tokens_file)]):
            if subprocess.run([PY, "-m", "server", *argv], env=env, stdout=out, stderr=subprocess.STDOUT).returncode:
                sys.exit(f"make run-cluster: server {' '.join(argv[:2])} failed; the log is {log}")
    people = {r["name"]: r for r in json.loads(tokens_file.read_text())}
    cluster = Cluster(url, redis, var, processes=processes, port=port, env={"SPA_LOG_FORMAT": "text"})
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    cluster.start()
    try:
        base = cluster.url
        print(
            f"""
== the cluster is at {base}/ : nginx in front of {processes} server processes
   ({", ".join(s.url for s in cluster.servers)}), MariaDB {url.split("@")[-1]}, Redis {redis}
  kiosk      {base}/kiosk#token={people["kiosk-1"]["token"]}
  lobby      {base}/lobby#token={people["lobby-1"]["token"]}
  cashier    {base}/cashier#token={people["cashier-1"]["token"]}
  therapist  {base}/therapist   (Anna 1111)     office  {base}/office   (Dana 999999)
== logs: {var}/server-*.log, {var}/nginx/error.log; Ctrl+C stops everything
""",
            flush=True,
        )
        while not stop.wait(0.5):
            ended = [s for s in cluster.servers if s.proc is not None and s.proc.poll() is not None]
            if ended or (cluster.nginx is not None and cluster.nginx.poll() is not None):
                print("make run-cluster: a process ended; stopping the others", file=sys.stderr)
                return 1
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
