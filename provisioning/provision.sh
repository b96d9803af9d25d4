#!/usr/bin/env bash
# One command per machine; idempotent (a second run with the same arguments changes nothing).
#
#   provisioning/provision.sh appliance --role cashier --server https://spa.example.lan --token dv_3_...
#   provisioning/provision.sh server --domain spa.example.lan
#
# --root DIR writes every file under DIR instead of / and runs no package manager,
# useradd or systemctl: those commands are printed as "would run: ...".
# See docs/OPERATIONS.md and `provision.sh appliance --help` / `provision.sh server --help`.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
umask 022
# `producer | put_file ...` must run put_file in this shell, so that it records its changes.
shopt -s lastpipe
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$HERE/.." && pwd)
SYSTEMD_DIR="$REPO_DIR/systemd"
FILES_DIR="$HERE/files"

# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=appliance.sh
. "$HERE/appliance.sh"
# shellcheck source=server.sh
. "$HERE/server.sh"

usage() {
    echo "usage: provision.sh appliance --role kiosk|cashier|room|lobby --server URL --token TOKEN [options]"
    echo "       provision.sh server [--domain NAME] [options]"
    echo "       provision.sh again [--root DIR]   (repeat this machine's last command, e.g. after an update)"
    echo "       provision.sh appliance --help | server --help"
}

# again [--root DIR]: repeat the command this machine was provisioned with (after an update).
again() {
    local root="" file stored=()
    while (($#)); do
        case "$1" in
            --root)
                (($# >= 2)) || die "--root needs a value"
                root=$2
                shift 2
                ;;
            *) die "again takes only --root DIR" ;;
        esac
    done
    file="$root/etc/spa/provision.args"
    [[ -f "$file" ]] || die "no $file: provision this machine once with its full command first"
    eval "stored=($(<"$file"))"
    echo "provision: again: ${stored[0]} (arguments from /etc/spa/provision.args)"
    exec bash "$HERE/provision.sh" "${stored[@]}" ${root:+--root "$root"}
}

main() {
    local command=${1:-}
    (($#)) && shift
    case "$command" in
        appliance) appliance_main "$@" ;;
        server) server_main "$@" ;;
        again) again "$@" ;;
        -h | --help) usage ;;
        "") usage >&2 && die "missing command: appliance or server" ;;
        *) usage >&2 && die "unknown command '$command': expected appliance or server" ;;
    esac
}

main "$@"
