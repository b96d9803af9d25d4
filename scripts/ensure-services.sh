#!/usr/bin/env bash
# Start MariaDB and Redis on loopback when they are not answering (CI runs on a machine as it was left).
set -uo pipefail

wait_for() {  # name, command...
    local name=$1; shift
    for _ in $(seq 1 60); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "ensure-services: $name did not come up" >&2
    return 1
}

if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
    echo "ensure-services: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB mariadb-admin -h 127.0.0.1 -u root ping || exit 1
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "ensure-services: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping || exit 1
fi
exit 0
