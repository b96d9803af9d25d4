# shellcheck shell=bash
# Steps of `provision.sh server`: MariaDB with the database and its user, migrations,
# Redis when several server processes run, the server unit(s) and nginx terminating TLS
# in front of them (WebSocket upgrade, spread over the processes). Sourced by provision.sh after
# lib.sh; the steps run in order at the bottom of server_main.

server_usage() {
    cat <<'EOF'
usage: provision.sh server [options]

  --domain NAME            name the appliances use for the server (default: hostname -f)
  --processes N            server processes behind nginx (default 1; 2..16 adds Redis as
                           the message queue and one spa-server@PORT unit per process)
  --max-connections N      screens and appliances per process (SPA_MAX_CONNECTIONS, default 1000)
  --database-url URL       use this database instead of a local MariaDB
  --db-name NAME           local MariaDB database (default spa)
  --db-user NAME           local MariaDB user (default spa)
  --db-password PW         (default: generated on the first run, then kept)
  --tls-cert FILE --tls-key FILE
                           certificate for nginx (default: a self-signed one, generated
                           once and kept; give it to the appliances with --server-ca)
  --timezone TZ            SPA_TIMEZONE (default: the machine's, else UTC)
  --spa-name NAME          SPA_NAME (default "Spa")
  --currency SYMBOL        SPA_CURRENCY (default €)
  --claim-grace-s N        SPA_CLAIM_GRACE_S (default 120)
  --source DIR             project source to install (default: this repository)
  --root DIR               write every file under DIR; run no package manager, useradd,
                           systemctl, mariadb or nginx (print them instead)
EOF
}

server_parse() {
    DOMAIN="" PROCESSES=1 MAX_CONNECTIONS=1000 DATABASE_URL_ARG="" DB_NAME=spa DB_USER=spa DB_PASSWORD=""
    TLS_CERT="" TLS_KEY="" TIMEZONE="" SPA_NAME_ARG="Spa" CURRENCY="€" CLAIM_GRACE_S=120
    while (($#)); do
        case "$1" in
            -h | --help) server_usage && exit 0 ;;
            --domain | --processes | --max-connections | --database-url | --db-name | --db-user | \
                --db-password | --tls-cert | --tls-key | --timezone | --spa-name | --currency | \
                --claim-grace-s | --source | --root)
                (($# >= 2)) || die "$1 needs a value"
                case "$1" in
                    --domain) DOMAIN=$2 ;;
                    --processes) PROCESSES=$2 ;;
                    --max-connections) MAX_CONNECTIONS=$2 ;;
                    --database-url) DATABASE_URL_ARG=$2 ;;
                    --db-name) DB_NAME=$2 ;;
                    --db-user) DB_USER=$2 ;;
                    --db-password) DB_PASSWORD=$2 ;;
                    --tls-cert) TLS_CERT=$2 ;;
                    --tls-key) TLS_KEY=$2 ;;
                    --timezone) TIMEZONE=$2 ;;
                    --spa-name) SPA_NAME_ARG=$2 ;;
                    --currency) CURRENCY=$2 ;;
                    --claim-grace-s) CLAIM_GRACE_S=$2 ;;
                    --source) SOURCE=$2 ;;
                    --root) ROOT=$2 ;;
                esac
                shift 2
                ;;
            *) die "unknown option '$1' (see provision.sh server --help)" ;;
        esac
    done
}

server_validate() {
    SOURCE=${SOURCE:-$REPO_DIR}
    check_root_and_source
    [[ -n "$DOMAIN" ]] || DOMAIN=$(hostname -f 2>/dev/null || hostname)
    check_word --domain "$DOMAIN" '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' "expected a host name or IPv4 address"
    check_word --processes "$PROCESSES" '^([1-9]|1[0-6])$' "expected 1..16"
    check_word --max-connections "$MAX_CONNECTIONS" '^[1-9][0-9]{0,4}$' "expected 1..99999"
    check_word --db-name "$DB_NAME" '^[A-Za-z_][A-Za-z0-9_]{0,63}$' "expected letters, digits and _"
    check_word --db-user "$DB_USER" '^[A-Za-z_][A-Za-z0-9_]{0,31}$' "expected letters, digits and _"
    [[ -z "$DB_PASSWORD" ]] || check_word --db-password "$DB_PASSWORD" '^[A-Za-z0-9_.~-]{12,}$' \
        "expected at least 12 letters, digits or _.~-"
    [[ -z "$DATABASE_URL_ARG" ]] || check_word --database-url "$DATABASE_URL_ARG" '^[a-z0-9+]+://[^[:space:]]+$' \
        "expected a SQLAlchemy URL, e.g. mysql+pymysql://spa:PW@db.lan:3306/spa"
    [[ -z "$TLS_CERT$TLS_KEY" || (-n "$TLS_CERT" && -n "$TLS_KEY") ]] || die "give both --tls-cert and --tls-key"
    [[ -z "$TLS_CERT" || -f "$TLS_CERT" ]] || die "--tls-cert $TLS_CERT: no such file"
    [[ -z "$TLS_KEY" || -f "$TLS_KEY" ]] || die "--tls-key $TLS_KEY: no such file"
    [[ -n "$TIMEZONE" ]] || TIMEZONE=$(cat "$ROOT/etc/timezone" 2>/dev/null || echo UTC)
    check_zone --timezone "$TIMEZONE"
    check_word --spa-name "$SPA_NAME_ARG" '^[^"\\$`]{1,80}$' "1..80 characters without quotes, \\, \$ or \`"
    check_word --currency "$CURRENCY" '^[^"\\$`[:space:]]{1,12}$' "a short symbol or code such as € or EUR"
    check_word --claim-grace-s "$CLAIM_GRACE_S" '^[0-9]{1,5}$' "expected whole seconds"
    if ((PROCESSES == 1)); then
        PORTS=(5000)
    else
        mapfile -t PORTS < <(seq 5001 $((5000 + PROCESSES)))
    fi
    LOCAL_DB=yes
    [[ -z "$DATABASE_URL_ARG" ]] || LOCAL_DB=no
}

# env_value KEY: a value from the existing /etc/spa/server.env (to keep secrets stable).
env_value() {
    [[ -f "$ROOT/etc/spa/server.env" ]] || return 0
    sed -n "s/^$1=//p" "$ROOT/etc/spa/server.env" | tail -n 1
}

new_secret() {
    od -An -N24 -tx1 /dev/urandom | tr -d ' \n'
}

# Steps -----------------------------------------------------------------------------

step_server_packages() {
    step "Debian packages"
    # gcc and headers: the project's evdev dependency builds from source.
    local pkgs=(python3 python3-venv python3-dev gcc linux-libc-dev nginx openssl ca-certificates)
    [[ "$LOCAL_DB" == no ]] || pkgs+=(mariadb-server)
    ((PROCESSES == 1)) || pkgs+=(redis-server)
    ensure_packages "${pkgs[@]}"
}

step_server_user() {
    step "system user"
    ensure_system_user spa /var/lib/spa-server
}

step_server_project() {
    step "project in $VENV"
    ensure_dir /opt/spa 0755 root:root
    install_project
    install_docs
}

step_server_env() {
    step "settings /etc/spa/server.env"
    local secret url password
    secret=$(env_value SPA_SECRET_KEY)
    [[ -n "$secret" ]] || secret=$(new_secret)
    if [[ "$LOCAL_DB" == yes ]]; then
        password=$DB_PASSWORD
        if [[ -z "$password" ]]; then
            url=$(env_value DATABASE_URL)
            [[ "$url" =~ ^mysql\+pymysql://$DB_USER:([^@]+)@127\.0\.0\.1:3306/ ]] && password=${BASH_REMATCH[1]}
        fi
        [[ -n "$password" ]] || password=$(new_secret)
        DB_PASSWORD=$password
        url="mysql+pymysql://$DB_USER:$password@127.0.0.1:3306/$DB_NAME?charset=utf8mb4"
    else
        url=$DATABASE_URL_ARG
    fi
    ensure_dir /etc/spa 0755 root:root
    {
        echo "# Written by provisioning/provision.sh server; re-run it to change a setting."
        echo "# Secrets (SPA_SECRET_KEY, the database password) are generated once and kept."
        echo "DATABASE_URL=$url"
        echo "SPA_HOST=127.0.0.1"
        # One process: its port is here; several: each spa-server@PORT unit sets its own.
        ((PROCESSES > 1)) || echo "SPA_PORT=${PORTS[0]}"
        echo "SPA_MAX_CONNECTIONS=$MAX_CONNECTIONS"
        echo "SPA_CORS_ORIGINS="
        echo "SPA_SECRET_KEY=$secret"
        echo "SPA_TIMEZONE=$TIMEZONE"
        echo "SPA_NAME=\"$SPA_NAME_ARG\""
        echo "SPA_CURRENCY=$CURRENCY"
        echo "SPA_LOG_FORMAT=json"
        echo "SPA_CLAIM_GRACE_S=$CLAIM_GRACE_S"
        ((PROCESSES == 1)) || echo "SPA_MESSAGE_QUEUE=redis://127.0.0.1:6379/0"
    } | put_file /etc/spa/server.env 0640 root:spa
}

step_mariadb() {
    [[ "$LOCAL_DB" == yes ]] || return 0
    step "MariaDB: database $DB_NAME, user $DB_USER"
    copy_file "$FILES_DIR/mariadb-spa.cnf" /etc/mysql/mariadb.conf.d/60-spa.cnf 0644 root:root
    mariadb_sql | put_file /etc/spa/mariadb-setup.sql 0600 root:root
    enable_unit mariadb.service
    start_unit mariadb.service /etc/mysql/
    # The statements are idempotent; running them again changes nothing.
    run mariadb --user=root --execute="source /etc/spa/mariadb-setup.sql"
}

mariadb_sql() {
    local host
    echo "-- Written by provisioning/provision.sh server; idempotent: safe to run again."
    echo "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    for host in localhost 127.0.0.1; do
        echo "CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASSWORD';"
        echo "ALTER USER '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASSWORD';"
        echo "GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'$host';"
    done
}

step_redis() {
    ((PROCESSES > 1)) || return 0
    step "Redis (message queue between the $PROCESSES server processes)"
    # Debian's redis-server listens on 127.0.0.1 and ::1 only, which is what we want.
    enable_unit redis-server.service
    start_unit redis-server.service /etc/redis/
}

step_migrations() {
    step "database migrations"
    # Same user and settings as the service itself.
    run systemd-run --quiet --wait --pipe --collect --uid=spa --gid=spa \
        --property=EnvironmentFile=/etc/spa/server.env \
        "$VENV/bin/python" -m server db upgrade
}

step_server_units() {
    step "systemd units"
    local dropin
    install_unit spa-server.service
    install_unit spa-server@.service
    dropin=$(
        echo "# Written by provisioning/provision.sh server: the services this machine runs for the server."
        echo "[Unit]"
        [[ "$LOCAL_DB" == no ]] || echo "Wants=mariadb.service"
        ((PROCESSES == 1)) || echo "Wants=redis-server.service"
    )
    put_file /etc/systemd/system/spa-server.service.d/10-local-services.conf 0644 root:root <<<"$dropin"
    put_file /etc/systemd/system/spa-server@.service.d/10-local-services.conf 0644 root:root <<<"$dropin"
    # Payment times are the server's clock: it starts once that is synchronised (a Pi as the
    # server has no real-time clock either), in the spa's zone.
    ensure_time_sync
    set_timezone "$TIMEZONE"
    daemon_reload_if_changed
}

step_tls() {
    step "TLS certificate for nginx"
    ensure_dir /etc/spa/tls 0755 root:root
    if [[ -n "$TLS_CERT" ]]; then
        copy_file "$TLS_CERT" /etc/spa/tls/server.crt 0644 root:root
        copy_file "$TLS_KEY" /etc/spa/tls/server.key 0600 root:root
    elif [[ -f "$ROOT/etc/spa/tls/server.crt" && -f "$ROOT/etc/spa/tls/server.key" ]]; then
        info "keeping /etc/spa/tls/server.crt"
    else
        # Self-signed, generated once and kept (delete both files to get a new one).
        local san="DNS:$DOMAIN"
        [[ ! "$DOMAIN" =~ ^[0-9.]+$ ]] || san="IP:$DOMAIN"
        (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -days 3650 -subj "/CN=$DOMAIN" -addext "subjectAltName=$san" \
            -keyout "$ROOT/etc/spa/tls/server.key" -out "$ROOT/etc/spa/tls/server.crt" 2>/dev/null)
        chmod 0644 "$ROOT/etc/spa/tls/server.crt"
        chmod 0600 "$ROOT/etc/spa/tls/server.key"
        CHANGED+=(/etc/spa/tls/server.crt /etc/spa/tls/server.key)
        info "generated a self-signed certificate for $DOMAIN (10 years)"
    fi
}

step_nginx() {
    step "nginx: TLS, WebSocket upgrade, spread across processes"
    nginx_site | put_file /etc/nginx/sites-available/spa 0644 root:root
    ensure_symlink /etc/nginx/sites-available/spa /etc/nginx/sites-enabled/spa
    remove_file /etc/nginx/sites-enabled/default
    ensure_dir /opt/spa/nginx 0755 root:root
    copy_file "$FILES_DIR/spa-offline.html" /opt/spa/nginx/spa-offline.html 0644 root:root
    enable_unit nginx.service
    if changed /etc/nginx/ /etc/spa/tls/ /opt/spa/nginx/; then
        run nginx -t -q
        run systemctl reload-or-restart nginx.service
    elif ! root_mode && ! systemctl is-active --quiet nginx.service; then
        run systemctl start nginx.service
    fi
}

nginx_site() {
    local port
    cat <<EOF
# Written by provisioning/provision.sh server; re-run it to change this file.
# TLS for the spa server; Socket.IO over WebSocket, spread across processes.
map \$http_upgrade \$spa_connection_upgrade {
    default upgrade;
    ''      close;
}

upstream spa_server {
    # Every client speaks Socket.IO over WebSocket only (the server refuses long-polling),
    # so a session never needs the same process twice: no affinity. ip_hash would key on an
    # address's first three octets and put a whole spa behind one router on one process;
    # least_conn spreads the long-lived sockets. Redis relays events between the processes.
    least_conn;
EOF
    for port in "${PORTS[@]}"; do
        echo "    server 127.0.0.1:$port max_fails=0;"
    done
    cat <<EOF
}

server {
    listen 80;
    listen [::]:80;
    server_name $DOMAIN;
    return 301 https://\$host\$request_uri;
}

server {
    listen 443 ssl default_server;
    listen [::]:443 ssl default_server;
    server_name $DOMAIN;

    ssl_certificate /etc/spa/tls/server.crt;
    ssl_certificate_key /etc/spa/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:spa_tls:10m;
    ssl_session_timeout 1d;

    client_max_body_size 1m;
    proxy_http_version 1.1;
    proxy_set_header Host \$host;
    proxy_set_header X-Real-IP \$remote_addr;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    proxy_set_header X-Forwarded-Host \$host;

    location /socket.io/ {
        proxy_pass http://spa_server;
        proxy_set_header Upgrade \$http_upgrade;
        proxy_set_header Connection \$spa_connection_upgrade;
        proxy_set_header Host \$host;
        proxy_set_header X-Real-IP \$remote_addr;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_set_header X-Forwarded-Host \$host;
        proxy_buffering off;
        # Long-lived WebSocket: well above the Socket.IO ping interval.
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
    }

    location / {
        proxy_pass http://spa_server;
    }

    # While the server processes are down (update, restart), browsers get a page that
    # retries by itself instead of a bare 502.
    error_page 502 503 504 /spa-offline.html;
    location = /spa-offline.html {
        root /opt/spa/nginx;
        internal;
    }
}
EOF
}

step_server_system() {
    step "journald"
    copy_file "$FILES_DIR/journald-server.conf" /etc/systemd/journald.conf.d/50-spa.conf 0644 root:root
    if changed /etc/systemd/journald.conf.d/; then
        run systemctl restart systemd-journald.service
    fi
}

step_server_enable() {
    step "enable and start"
    local port restart_on=(/etc/systemd/system/spa-server /etc/spa/server.env "$VENV/")
    if ((PROCESSES == 1)); then
        enable_unit spa-server.service
        start_unit spa-server.service "${restart_on[@]}"
        if ! root_mode; then
            systemctl list-units --all --plain --no-legend 'spa-server@*.service' | awk '{print $1}' |
                while read -r unit; do disable_unit "$unit"; done
        fi
    else
        disable_unit spa-server.service
        for port in "${PORTS[@]}"; do
            enable_unit "spa-server@$port.service"
            start_unit "spa-server@$port.service" "${restart_on[@]}"
        done
        if ! root_mode; then
            systemctl list-units --all --plain --no-legend 'spa-server@*.service' | awk '{print $1}' |
                while read -r unit; do
                    port=${unit#spa-server@} port=${port%.service}
                    ((port <= 5000 + PROCESSES)) || disable_unit "$unit"
                done
        fi
    fi
}

server_main() {
    server_parse "$@"
    server_validate
    echo "provision: server $DOMAIN, ${PROCESSES} process(es)${ROOT:+, into $ROOT}"
    step_server_packages
    step_server_user
    step_server_project
    step_server_env
    record_args server "$@"
    step_mariadb
    step_redis
    step_server_units
    step_migrations
    step_tls
    step_nginx
    step_server_system
    step_server_enable
    echo "provision: done (${#CHANGED[@]} paths changed)"
}
