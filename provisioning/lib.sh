# shellcheck shell=bash
# Helpers shared by the appliance and server steps of provision.sh.
#
# Every file goes through put_file, which writes only when the content differs and
# fixes mode and owner only when they differ, so a second run with the same arguments
# changes nothing. With --root DIR every path is prefixed with DIR and no command that
# changes the system (apt-get, useradd, systemctl, udevadm, ...) runs: it is printed as
# "would run: ..." instead, so tests can check exactly what would happen.

ROOT=""                 # --root DIR; empty means the real system
SOURCE=""               # project source directory (pyproject.toml at its top)
VENV=/opt/spa/venv
CHANGED=()              # paths (without ROOT) written or removed by this run
ZONE_RE='^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$'  # an IANA time zone name: Europe/Berlin, UTC
PORT_RE='^/dev(/[A-Za-z0-9][A-Za-z0-9_.:-]*)+$'   # a serial port: /dev/serial0, /dev/serial/by-id/…

die() { echo "provision: error: $*" >&2; exit 2; }
step() { echo "==> $*"; }
info() { echo "    $*"; }
root_mode() { [[ -n "$ROOT" ]]; }

# run CMD...: run a command on the real system; in --root mode only print it.
run() {
    if root_mode; then
        echo "    would run: $*"
    else
        echo "    + $*"
        "$@"
    fi
}

# changed PATH_PREFIX...: did this run write or remove a path starting with one of them?
changed() {
    local path prefix
    for path in "${CHANGED[@]}"; do
        for prefix in "$@"; do
            [[ "$path" == "$prefix"* ]] && return 0
        done
    done
    return 1
}

# set_owner PATH USER:GROUP: chown when it differs; printed in --root mode.
set_owner() {
    local path=$1 owner=$2
    if root_mode; then
        [[ "$owner" == root:root ]] || echo "    would run: chown $owner $path"
    elif [[ "$(stat -c %U:%G "$path")" != "$owner" ]]; then
        run chown "$owner" "$path"
    fi
}

# ensure_dir PATH MODE USER:GROUP
ensure_dir() {
    local path=$1 mode=$2 owner=$3 target="$ROOT$1"
    if [[ ! -d "$target" ]]; then
        mkdir -p "$target"
        CHANGED+=("$path")
        info "created $path/"
    fi
    [[ "$(stat -c %a "$target")" == "${mode#0}" ]] || chmod "$mode" "$target"
    set_owner "$path" "$owner"
}

# put_file PATH MODE USER:GROUP < CONTENT: install CONTENT atomically when it differs.
put_file() {
    local path=$1 mode=$2 owner=$3 target="$ROOT$1" new tmp
    new=$(mktemp)
    cat >"$new"
    if [[ -f "$target" && ! -L "$target" ]] && cmp -s "$new" "$target"; then
        rm -f "$new"
    else
        mkdir -p "$(dirname "$target")"
        tmp=$(mktemp "$target.new.XXXXXX")
        cat "$new" >"$tmp"
        rm -f "$new"
        chmod "$mode" "$tmp"
        root_mode || chown "$owner" "$tmp"
        mv -f "$tmp" "$target"
        CHANGED+=("$path")
        info "wrote $path"
    fi
    [[ "$(stat -c %a "$target")" == "${mode#0}" ]] || chmod "$mode" "$target"
    set_owner "$path" "$owner"
}

# copy_file SRC PATH MODE USER:GROUP
copy_file() {
    [[ -f "$1" ]] || die "missing file $1"
    put_file "$2" "$3" "$4" <"$1"
}

# remove_file PATH: remove a file this script wrote earlier and no longer wants.
remove_file() {
    if [[ -e "$ROOT$1" || -L "$ROOT$1" ]]; then
        rm -f "$ROOT$1"
        CHANGED+=("$1")
        info "removed $1"
    fi
}

# ensure_symlink TARGET LINK
ensure_symlink() {
    local target=$1 link=$2
    if [[ -L "$ROOT$link" && "$(readlink "$ROOT$link")" == "$target" ]]; then
        return 0
    fi
    mkdir -p "$(dirname "$ROOT$link")"
    ln -sfn "$target" "$ROOT$link"
    CHANGED+=("$link")
    info "linked $link -> $target"
}

# ensure_packages PKG...: apt-get install the Debian packages that are missing.
ensure_packages() {
    local missing=() pkg
    if root_mode; then
        run apt-get install -y --no-install-recommends "$@"
        return 0
    fi
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        info "all packages present"
        return 0
    fi
    run apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ensure_system_user NAME HOME: a system user with its own group, no login shell.
ensure_system_user() {
    local name=$1 home=$2
    if ! root_mode && getent passwd "$name" >/dev/null; then
        return 0
    fi
    run useradd --system --user-group --home-dir "$home" --no-create-home --shell /usr/sbin/nologin "$name"
}

# enable_unit UNIT: enable at boot unless already enabled.
enable_unit() {
    if ! root_mode && systemctl is-enabled --quiet "$1" 2>/dev/null; then
        return 0
    fi
    run systemctl enable "$1"
}

# disable_unit UNIT: stop and disable when enabled (nothing to do in --root mode).
disable_unit() {
    root_mode && return 0
    if systemctl is-enabled --quiet "$1" 2>/dev/null; then
        run systemctl disable --now "$1"
    fi
}

# start_unit UNIT PATH_PREFIX...: restart when one of its files changed in this run,
# otherwise just make sure it runs (a no-op when it already does).
start_unit() {
    local unit=$1
    shift
    if changed "$@"; then
        run systemctl restart "$unit"
    elif ! root_mode && ! systemctl is-active --quiet "$unit"; then
        run systemctl start "$unit"
    fi
}

daemon_reload_if_changed() {
    if changed /etc/systemd/system/; then
        run systemctl daemon-reload
    fi
}

# ensure_time_sync: the spa's units start after the clock is synchronised (time-sync.target,
# reached through systemd-time-wait-sync, bounded to a minute by our drop-in).
ensure_time_sync() {
    copy_file "$FILES_DIR/time-wait-sync.conf" \
        /etc/systemd/system/systemd-time-wait-sync.service.d/50-spa.conf 0644 root:root
    enable_unit systemd-time-wait-sync.service
}

# set_timezone ZONE: the machine's time zone (timedatectl), when it differs.
set_timezone() {
    if root_mode || [[ "$(timedatectl show -p Timezone --value 2>/dev/null)" != "$1" ]]; then
        run timedatectl set-timezone "$1"
    else
        info "time zone $1"
    fi
}

# install_unit NAME: copy systemd/NAME into /etc/systemd/system/.
install_unit() {
    copy_file "$SYSTEMD_DIR/$1" "/etc/systemd/system/$1" 0644 root:root
}

# source_hash DIR: fingerprint of the project source, to reinstall only when it changed.
source_hash() {
    local dir=$1 parts=() part
    for part in pyproject.toml server appliance devices; do
        [[ -e "$dir/$part" ]] && parts+=("$part")
    done
    (cd "$dir" && find "${parts[@]}" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# install_project: the project from SOURCE into a virtual environment at VENV.
install_project() {
    local stamp="$VENV/.spa-source-sha256" hash
    hash=$(source_hash "$SOURCE")
    if [[ -f "$ROOT$stamp" && "$(cat "$ROOT$stamp")" == "$hash" ]]; then
        info "project up to date in $VENV"
        return 0
    fi
    [[ -x "$ROOT$VENV/bin/python" ]] || run python3 -m venv "$VENV"
    run "$VENV/bin/pip" install --quiet --upgrade "$SOURCE"
    # Only a real install records the stamp and counts as a change (restarting the
    # services): in --root mode nothing was installed.
    if ! root_mode; then
        printf '%s\n' "$hash" | put_file "$stamp" 0644 root:root
        CHANGED+=("$VENV/")
    fi
}

# record_args COMMAND ARG...: keep the command line (without --root) in /etc/spa/provision.args
# so that `provision.sh again` repeats it after an update. Root only: it holds the token.
record_args() {
    local args=() skip=0 arg
    for arg in "$@"; do
        if ((skip)); then
            skip=0
        elif [[ "$arg" == --root ]]; then
            skip=1
        else
            args+=("$arg")
        fi
    done
    ensure_dir /etc/spa 0755 root:root
    printf '%q ' "${args[@]}" | sed 's/ $//' | put_file /etc/spa/provision.args 0600 root:root
}

install_docs() {
    copy_file "$SOURCE/docs/OPERATIONS.md" /opt/spa/doc/OPERATIONS.md 0644 root:root
}

# Argument checks -----------------------------------------------------------------

# parse_usb_id FLAG VID:PID NAME: sets NAME_VID and NAME_PID (4 lower-case hex digits).
parse_usb_id() {
    local flag=$1 id=$2 re='^(0x)?([0-9a-fA-F]{4}):(0x)?([0-9a-fA-F]{4})$'
    [[ "$id" =~ $re ]] || die "$flag $id: expected VID:PID as 4 hex digits each, e.g. 04b8:0202"
    printf -v "${3}_VID" '%s' "${BASH_REMATCH[2],,}"
    printf -v "${3}_PID" '%s' "${BASH_REMATCH[4],,}"
}

check_server_url() {
    local re='^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$'
    [[ -n "$1" ]] || die "--server URL is required (e.g. --server https://spa.example.lan)"
    [[ "$1" =~ $re ]] || die "--server $1: expected http(s)://HOST[:PORT] without a path"
}

check_baud() {
    case "$2" in
        9600 | 19200 | 38400 | 115200) ;;
        *) die "$1 $2: must be one of 9600, 19200, 38400, 115200" ;;
    esac
}

# check_word FLAG VALUE REGEX HINT
check_word() {
    [[ "$2" =~ $3 ]] || die "$1 '$2': $4"
}

# check_port OPTION VALUE: a device path.
check_port() {
    check_word "$1" "$2" "$PORT_RE" "expected a port such as /dev/serial0"
}

# check_zone OPTION VALUE: an IANA time zone name.
check_zone() {
    check_word "$1" "$2" "$ZONE_RE" "expected an IANA name, e.g. Europe/Berlin"
}

check_root_and_source() {
    if root_mode; then
        mkdir -p "$ROOT"
        ROOT=$(cd "$ROOT" && pwd)
        [[ "$ROOT" != / ]] || ROOT=""
    fi
    if ! root_mode; then
        [[ $EUID -eq 0 ]] || die "run as root (or use --root DIR to write into a folder)"
        command -v apt-get >/dev/null || die "apt-get not found: this script provisions Debian / Raspberry Pi OS"
    fi
    [[ -f "$SOURCE/pyproject.toml" ]] || die "--source $SOURCE: no pyproject.toml there"
    SOURCE=$(cd "$SOURCE" && pwd)
}
