#!/usr/bin/env bash
# `make run`: the server on SQLite with demo data, plus a simulated cashier till (the appliance
# daemon with a virtual ESC/POS printer and a virtual serial barcode scanner), so a newcomer can
# pay at /cashier and watch the receipt print as text below.
set -euo pipefail

PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
PRINTER_PORT=${PRINTER_PORT:-9100}
mkdir -p "${VAR:-var}"
VAR=$(realpath "${VAR:-var}")
export DATABASE_URL=${DATABASE_URL:-sqlite:///$VAR/spa.db}
export SPA_LOG_FORMAT=${SPA_LOG_FORMAT:-text}
export SPA_NAME=${SPA_NAME:-Serenity Spa}
export SPA_ADDRESS=${SPA_ADDRESS:-1 Example Street\\nSpringfield}

"$PY" -m server db upgrade
echo "== demo tokens (issued anew on every run; staff PINs: Anna 1111, Ben 2222, Carla 3333, Dana 999999)"
"$PY" -m server demo --tokens-file "$VAR/demo-tokens.json"

token_of() { "$PY" -c "import json,sys; print({r['name']: r['token'] for r in json.load(open(sys.argv[1]))}[sys.argv[2]])" "$VAR/demo-tokens.json" "$1"; }
base="http://$HOST:$PORT"
cat <<TXT

== open these pages (each carries its device token in the #fragment)
  kiosk      $base/kiosk#token=$(token_of kiosk-1)
  lobby      $base/lobby#token=$(token_of lobby-1)
  cashier    $base/cashier#token=$(token_of cashier-1)
  therapist  $base/therapist            (sign in as Anna, PIN 1111)
== the simulated till: receipts print below as [printer] lines; scan a code with
  echo A-001 > ${VAR#"$PWD/"}/scanner-input

TXT

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# The virtual printer logs each receipt as text.
"$PY" -m devices.virtual printer --host 127.0.0.1 --port "$PRINTER_PORT" 2>&1 | sed -u 's/^/[printer] /' &
pids+=($!)
# The virtual scanner turns each line written to the FIFO into a scan on a pseudo-terminal.
rm -f "$VAR/scanner-input" "$VAR/scanner"
mkfifo "$VAR/scanner-input"
exec 3<>"$VAR/scanner-input"  # keeps the FIFO open, so the scanner never sees end-of-file
"$PY" -m devices.virtual scanner --link "$VAR/scanner" <&3 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do [ -e "$VAR/scanner" ] && break; sleep 0.1; done

mkdir -p "$VAR/appliance-state"
cat > "$VAR/cashier-appliance.toml" <<TOML
# Written by scripts/run-demo.sh for the simulated till.
role = "cashier"
server_url = "$base"
token = "$(token_of cashier-1)"
state_dir = "$VAR/appliance-state"
heartbeat_s = 15

[cashier]
printer = "printer"
drawer = true

[daemon]
time_sync_flag = ""  # this machine's clock is trusted as it is (a Pi asks systemd-timesyncd)

[devices.scanner]
kind = "scanner_serial"
port = "$VAR/scanner"

[devices.printer]
kind = "printer_network"
host = "127.0.0.1"
port = $PRINTER_PORT
TOML
chmod 600 "$VAR/cashier-appliance.toml"
"$PY" -m appliance --config "$VAR/cashier-appliance.toml" 2>&1 | sed -u 's/^/[till] /' &
pids+=($!)

"$PY" -m server run --host "$HOST" --port "$PORT"
