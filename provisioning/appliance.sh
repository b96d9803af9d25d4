# shellcheck shell=bash
# Steps of `provision.sh appliance`: a Raspberry Pi (Raspberry Pi OS Lite, bookworm or
# newer) becomes a kiosk, cashier terminal, therapist-room box or lobby display.
# Sourced by provision.sh after lib.sh; the steps run in order at the bottom of
# appliance_main.

appliance_usage() {
    cat <<'EOF'
usage: provision.sh appliance --role ROLE --server URL --token TOKEN [options]

  --role kiosk|cashier|room|lobby
  --server URL             the spa server, e.g. https://spa.example.lan
  --token TOKEN            device token from `python -m server device add --role ROLE --name NAME`
  --server-ca FILE         trust this certificate (the server's self-signed one) in the
                           daemon and the browser
  --screen / --no-screen   run the kiosk browser on tty1 (default: on for kiosk, lobby,
                           cashier; off for room, where it shows /therapist)
  --heartbeat-s N          heartbeat interval in seconds (default 15)
  --timezone ZONE          the box's time zone (default: the spa's, as the server's /healthz says)
  kiosk:    --touch-usb VID:PID          only this touchscreen (default: any touchscreen)
  cashier:  --scanner-usb VID:PID        USB barcode scanner in keyboard mode (default 05e0:1200)
            --scanner-interface NN       the scanner's keyboard interface (default 00; lsusb -v)
            --scanner-serial VID:PID|DEV serial scanner instead: USB (CDC/USB-serial) by id, or a
                                         port such as /dev/serial0 (the Pi's UART)
            --scanner-baud N             (default 9600)   --scanner-layout XX (default us)
            --printer-usb VID:PID        USB ESC/POS receipt printer (default 04b8:0202)
            --printer-serial VID:PID|DEV serial receipt printer instead (USB-serial, or a port
                                         such as /dev/serial0)
            --printer-baud N             (default 19200)
            --printer-host HOST[:PORT]   network receipt printer instead (port 9100)
            --no-drawer                  no cash drawer on the printer
  room:     --room-number N              (required)   --therapist-token TOKEN
            --buttons-usb VID:PID        the room's key pad (default 1189:8890)
            --buttons-keymap K=A,...     (default KEY_F1=next,KEY_F2=start,KEY_F3=finish)
  lobby:    --announce                   spoken announcements on (default off)
  --source DIR             project source to install (default: this repository)
  --root DIR               write every file under DIR; run no package manager, useradd,
                           systemctl or udevadm (print them instead)
EOF
}

appliance_parse() {
    ROLE="" SERVER_URL="" TOKEN="" SERVER_CA="" SCREEN="" HEARTBEAT_S=15 TIMEZONE=""
    TOUCH_USB="" SCANNER_USB="" SCANNER_SERIAL="" SCANNER_BAUD=9600 SCANNER_LAYOUT=us SCANNER_IF=00
    PRINTER_USB="" PRINTER_SERIAL="" PRINTER_BAUD=19200 PRINTER_HOST="" DRAWER=true
    ROOM_NUMBER="" THERAPIST_TOKEN="" BUTTONS_USB="" ANNOUNCE=false
    BUTTONS_KEYMAP="KEY_F1=next,KEY_F2=start,KEY_F3=finish"
    # Set by appliance_validate (parse_usb_id) from the VID:PID options:
    TOUCH_VID="" TOUCH_PID="" SCANNER_VID="" SCANNER_PID="" PRINTER_VID="" PRINTER_PID=""
    BUTTONS_VID="" BUTTONS_PID="" SCANNER_KIND="" PRINTER_KIND="" PRINTER_PORT="" KEYMAP_TOML=""
    # A serial device on a port of the Pi's own (its UART) rather than on USB: the port's path.
    SCANNER_DEV="" PRINTER_DEV=""
    while (($#)); do
        case "$1" in
            --role | --server | --token | --server-ca | --heartbeat-s | --timezone | --touch-usb | \
                --scanner-usb | --scanner-serial | --scanner-baud | --scanner-layout | --scanner-interface | \
                --printer-usb | --printer-serial | --printer-baud | --printer-host | \
                --room-number | --therapist-token | --buttons-usb | --buttons-keymap | \
                --source | --root)
                (($# >= 2)) || die "$1 needs a value"
                case "$1" in
                    --role) ROLE=$2 ;;
                    --server) SERVER_URL=${2%/} ;;
                    --token) TOKEN=$2 ;;
                    --server-ca) SERVER_CA=$2 ;;
                    --heartbeat-s) HEARTBEAT_S=$2 ;;
                    --timezone) TIMEZONE=$2 ;;
                    --touch-usb) TOUCH_USB=$2 ;;
                    --scanner-usb) SCANNER_USB=$2 ;;
                    --scanner-serial) SCANNER_SERIAL=$2 ;;
                    --scanner-baud) SCANNER_BAUD=$2 ;;
                    --scanner-layout) SCANNER_LAYOUT=$2 ;;
                    --scanner-interface) SCANNER_IF=$2 ;;
                    --printer-usb) PRINTER_USB=$2 ;;
                    --printer-serial) PRINTER_SERIAL=$2 ;;
                    --printer-baud) PRINTER_BAUD=$2 ;;
                    --printer-host) PRINTER_HOST=$2 ;;
                    --room-number) ROOM_NUMBER=$2 ;;
                    --therapist-token) THERAPIST_TOKEN=$2 ;;
                    --buttons-usb) BUTTONS_USB=$2 ;;
                    --buttons-keymap) BUTTONS_KEYMAP=$2 ;;
                    --source) SOURCE=$2 ;;
                    --root) ROOT=$2 ;;
                esac
                shift 2
                ;;
            --screen) SCREEN=yes && shift ;;
            --no-screen) SCREEN=no && shift ;;
            --no-drawer) DRAWER=false && shift ;;
            --announce) ANNOUNCE=true && shift ;;
            -h | --help) appliance_usage && exit 0 ;;
            *) die "unknown option '$1' (see provision.sh appliance --help)" ;;
        esac
    done
}

appliance_validate() {
    # What the server issues (st_/dv_<id>_<base64url>). Nothing else: the device token also goes
    # into the screen's address, where '+', '&' or '%' would change its meaning.
    local token_re='^[A-Za-z0-9_-]+$' kv pair key action
    case "$ROLE" in
        kiosk | cashier | room | lobby) ;;
        "") die "--role is required: kiosk, cashier, room or lobby" ;;
        *) die "--role $ROLE: unknown role, expected kiosk, cashier, room or lobby" ;;
    esac
    check_server_url "$SERVER_URL"
    [[ -n "$TOKEN" ]] || die "--token is required (python -m server device add --role $ROLE --name NAME)"
    check_word --token "$TOKEN" "$token_re" "expected a token as printed by device add (letters, digits, _ and -)"
    check_word --heartbeat-s "$HEARTBEAT_S" '^[1-9][0-9]{0,3}$' "expected whole seconds, 1..9999"
    [[ -z "$SERVER_CA" || -f "$SERVER_CA" ]] || die "--server-ca $SERVER_CA: no such file"
    [[ -z "$TIMEZONE" ]] || check_zone --timezone "$TIMEZONE"
    if [[ -z "$SCREEN" ]]; then
        SCREEN=yes
        [[ "$ROLE" != room ]] || SCREEN=no
    fi

    # Hardware flags belong to one role each.
    [[ "$ROLE" == kiosk || -z "$TOUCH_USB" ]] || die "--touch-usb is for --role kiosk"
    if [[ "$ROLE" != cashier ]]; then
        [[ -z "$SCANNER_USB$SCANNER_SERIAL$PRINTER_USB$PRINTER_SERIAL$PRINTER_HOST" ]] ||
            die "scanner and printer options are for --role cashier"
    fi
    if [[ "$ROLE" != room ]]; then
        [[ -z "$ROOM_NUMBER$THERAPIST_TOKEN$BUTTONS_USB" ]] ||
            die "--room-number, --therapist-token and --buttons-usb are for --role room"
    fi

    [[ -z "$TOUCH_USB" ]] || parse_usb_id --touch-usb "$TOUCH_USB" TOUCH
    if [[ "$ROLE" == cashier ]]; then
        [[ -z "$SCANNER_USB" || -z "$SCANNER_SERIAL" ]] || die "give --scanner-usb or --scanner-serial, not both"
        if [[ -n "$SCANNER_SERIAL" ]]; then
            SCANNER_KIND=serial
            if [[ "$SCANNER_SERIAL" == /dev/* ]]; then
                check_port --scanner-serial "$SCANNER_SERIAL"
                SCANNER_DEV=$SCANNER_SERIAL
            else
                parse_usb_id --scanner-serial "$SCANNER_SERIAL" SCANNER
            fi
            check_baud --scanner-baud "$SCANNER_BAUD"
        else
            SCANNER_KIND=evdev
            parse_usb_id --scanner-usb "${SCANNER_USB:-05e0:1200}" SCANNER
            check_word --scanner-interface "$SCANNER_IF" '^[0-9a-fA-F]{2}$' "expected a two-digit interface number, e.g. 00"
        fi
        check_word --scanner-layout "$SCANNER_LAYOUT" '^[a-z]{2}$' "expected a two-letter keyboard layout, e.g. us or de"
        local printers=0
        [[ -z "$PRINTER_USB" ]] || printers=$((printers + 1))
        [[ -z "$PRINTER_SERIAL" ]] || printers=$((printers + 1))
        [[ -z "$PRINTER_HOST" ]] || printers=$((printers + 1))
        ((printers <= 1)) || die "give one of --printer-usb, --printer-serial, --printer-host"
        if [[ -n "$PRINTER_SERIAL" ]]; then
            PRINTER_KIND=serial
            if [[ "$PRINTER_SERIAL" == /dev/* ]]; then
                check_port --printer-serial "$PRINTER_SERIAL"
                PRINTER_DEV=$PRINTER_SERIAL
            else
                parse_usb_id --printer-serial "$PRINTER_SERIAL" PRINTER
            fi
            check_baud --printer-baud "$PRINTER_BAUD"
        elif [[ -n "$PRINTER_HOST" ]]; then
            PRINTER_KIND=network
            check_word --printer-host "$PRINTER_HOST" '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$' "expected HOST or HOST:PORT"
            PRINTER_PORT=9100
            if [[ "$PRINTER_HOST" == *:* ]]; then
                PRINTER_PORT=${PRINTER_HOST##*:}
                PRINTER_HOST=${PRINTER_HOST%:*}
            fi
        else
            PRINTER_KIND=usb
            parse_usb_id --printer-usb "${PRINTER_USB:-04b8:0202}" PRINTER
        fi
    fi
    if [[ "$ROLE" == room ]]; then
        [[ -n "$ROOM_NUMBER" ]] || die "--room-number is required for --role room"
        check_word --room-number "$ROOM_NUMBER" '^[A-Za-z0-9-]{1,16}$' "expected up to 16 letters, digits or '-'"
        [[ -z "$THERAPIST_TOKEN" ]] || check_word --therapist-token "$THERAPIST_TOKEN" "$token_re" \
            "expected a token as printed by staff add (letters, digits, _ and -)"
        parse_usb_id --buttons-usb "${BUTTONS_USB:-1189:8890}" BUTTONS
        KEYMAP_TOML=""
        IFS=, read -r -a kv <<<"$BUTTONS_KEYMAP"
        for pair in "${kv[@]}"; do
            key=${pair%%=*} action=${pair#*=}
            [[ "$key" =~ ^KEY_[A-Z0-9_]+$ && "$pair" == *=* ]] ||
                die "--buttons-keymap '$pair': expected KEY_NAME=action, e.g. KEY_F1=next"
            case "$action" in
                next | start | finish) ;;
                *) die "--buttons-keymap '$pair': action must be next, start or finish" ;;
            esac
            KEYMAP_TOML+="${KEYMAP_TOML:+, }$key = \"$action\""
        done
    fi
    SOURCE=${SOURCE:-$REPO_DIR}
    check_root_and_source
}

# What the role touches: device cgroup classes, supplementary groups, kernel modules. Serial
# devices: USB-serial adapters (ttyUSB), CDC-ACM (ttyACM) and the Pi's own UARTs (ttyAMA, the
# PL011; ttyS, the mini UART; /dev/serial0 points at one of them), names as in /proc/devices.
appliance_devices() {
    DEVICE_CLASSES=() DEVICE_GROUPS=() DEVICE_MODULES=()
    local serial=(char-ttyUSB char-ttyACM char-ttyAMA char-ttyS)
    case "$ROLE" in
        kiosk | room) DEVICE_CLASSES=(char-input) DEVICE_GROUPS=(input) DEVICE_MODULES=(evdev) ;;
        cashier)
            if [[ "$SCANNER_KIND" == evdev ]]; then
                DEVICE_CLASSES+=(char-input) DEVICE_GROUPS+=(input) DEVICE_MODULES+=(evdev)
            else
                DEVICE_CLASSES+=("${serial[@]}") DEVICE_GROUPS+=(dialout)
                DEVICE_MODULES+=(usbserial cdc_acm)
            fi
            case "$PRINTER_KIND" in
                usb) DEVICE_CLASSES+=(char-usb_device) DEVICE_GROUPS+=(lp) ;;
                serial)
                    DEVICE_CLASSES+=("${serial[@]}") DEVICE_GROUPS+=(dialout)
                    DEVICE_MODULES+=(usbserial cdc_acm)
                    ;;
                network) ;;
            esac
            ;;
        lobby) ;;
    esac
}

# Steps -----------------------------------------------------------------------------

step_packages() {
    step "Debian packages"
    local pkgs=(python3 python3-venv python3-dev gcc linux-libc-dev libusb-1.0-0 ca-certificates)
    # Customers' names come in every script: Noto CJK and colour emoji beside DejaVu, or
    # Chinese and emoji names show as empty boxes (the screens' CSS names these fonts).
    [[ "$SCREEN" == no ]] || pkgs+=(cage chromium fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji)
    # The lobby speaks its calls: Chromium's speechSynthesis goes through speech-dispatcher
    # (--enable-speech-dispatcher in spa-kiosk-browser.service) to espeak-ng; without a voice
    # the lobby only chimes, and says so on screen.
    [[ "$SCREEN" == no || "$ROLE" != lobby ]] || pkgs+=(speech-dispatcher speech-dispatcher-espeak-ng espeak-ng)
    [[ "$SCREEN" == no || -z "$SERVER_CA" ]] || pkgs+=(libnss3-tools)
    ensure_packages "${pkgs[@]}"
}

step_users() {
    step "system users"
    ensure_system_user spa-appliance /var/lib/spa-appliance
    [[ "$SCREEN" == no ]] || ensure_system_user spa-kiosk /var/lib/spa-kiosk
}

step_project() {
    step "project in $VENV"
    ensure_dir /opt/spa 0755 root:root
    install_project
    install_docs
}

step_config() {
    step "config /etc/spa/appliance.toml"
    ensure_dir /etc/spa 0755 root:root
    appliance_toml | put_file /etc/spa/appliance.toml 0640 root:spa-appliance
    if ! root_mode && changed /etc/spa/appliance.toml "$VENV/"; then
        run "$VENV/bin/python" -m appliance check --config /etc/spa/appliance.toml
    fi
}

appliance_toml() {
    echo "# Written by provisioning/provision.sh appliance; re-run it to change this file."
    echo "role = \"$ROLE\""
    echo "server_url = \"$SERVER_URL\""
    echo "token = \"$TOKEN\""
    echo "state_dir = \"/var/lib/spa-appliance\""
    echo "heartbeat_s = $HEARTBEAT_S"
    case "$ROLE" in
        kiosk)
            printf '\n[devices.touch]\nkind = "touch_evdev"\npath = "/dev/input/spa-touch"\n'
            ;;
        cashier)
            printf '\n[cashier]\nprinter = "printer"\ndrawer = %s\n' "$DRAWER"
            if [[ "$SCANNER_KIND" == evdev ]]; then
                printf '\n[devices.scanner]\nkind = "scanner_evdev"\npath = "/dev/input/spa-scanner"\nlayout = "%s"\n' \
                    "$SCANNER_LAYOUT"
            else
                printf '\n[devices.scanner]\nkind = "scanner_serial"\nport = "%s"\nbaudrate = %s\n' \
                    "${SCANNER_DEV:-/dev/spa-scanner}" "$SCANNER_BAUD"
            fi
            case "$PRINTER_KIND" in
                usb) printf '\n[devices.printer]\nkind = "printer_usb"\nvendor_id = "0x%s"\nproduct_id = "0x%s"\n' \
                    "$PRINTER_VID" "$PRINTER_PID" ;;
                serial) printf '\n[devices.printer]\nkind = "printer_serial"\nport = "%s"\nbaudrate = %s\n' \
                    "${PRINTER_DEV:-/dev/spa-printer}" "$PRINTER_BAUD" ;;
                network) printf '\n[devices.printer]\nkind = "printer_network"\nhost = "%s"\nport = %s\n' \
                    "$PRINTER_HOST" "$PRINTER_PORT" ;;
            esac
            ;;
        room)
            printf '\n[room]\nnumber = "%s"\n' "$ROOM_NUMBER"
            [[ -z "$THERAPIST_TOKEN" ]] || printf 'therapist_token = "%s"\n' "$THERAPIST_TOKEN"
            printf '\n[devices.buttons]\nkind = "buttons_evdev"\npath = "/dev/input/spa-buttons"\nkeymap = { %s }\n' \
                "$KEYMAP_TOML"
            ;;
        lobby)
            printf '\n[lobby]\nannounce = %s\n' "$ANNOUNCE"
            ;;
    esac
}

step_time() {
    step "time: the spa's zone, and the daemon after the clock is synchronised"
    local zone
    if [[ -n "$TIMEZONE" ]]; then
        zone=$TIMEZONE
    elif zone=$(spa_timezone) && [[ "$zone" =~ $ZONE_RE ]]; then
        info "the spa's time zone is $zone ($SERVER_URL/healthz)"
    elif root_mode; then
        info "cannot read the spa's time zone from $SERVER_URL/healthz (${zone:-no answer}); left as it is"
        zone=""
    else
        die "cannot read the spa's time zone from $SERVER_URL/healthz (${zone:-no answer}): give --timezone ZONE"
    fi
    [[ -z "$zone" ]] || set_timezone "$zone"
    # A Pi has no real-time clock: the daemon starts once the clock is synchronised (or after a
    # minute without a time server), and its receipt copies say whether the clock was set.
    ensure_time_sync
}

# spa_timezone: the server's SPA_TIMEZONE, from its /healthz (trusting --server-ca); prints the
# zone, or why not and fails.
spa_timezone() {
    python3 - "$SERVER_URL/healthz" "$SERVER_CA" <<'PY'
import json, ssl, sys, urllib.error, urllib.request

url, ca = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(cafile=ca or None)
try:
    with urllib.request.urlopen(url, timeout=10, context=context) as answer:
        body = json.load(answer)
except urllib.error.HTTPError as exc:  # 503 while the database is down: the body still says
    body = json.load(exc)
except (OSError, ValueError) as exc:
    print(exc)
    sys.exit(1)
zone = body.get("timezone") if isinstance(body, dict) else None
print(zone or "the server does not say")
sys.exit(0 if zone else 1)
PY
}

step_udev() {
    step "udev rules: stable device names"
    udev_rules | put_file /etc/udev/rules.d/70-spa-appliance.rules 0644 root:root
    if changed /etc/udev/rules.d/; then
        run udevadm control --reload
        run udevadm trigger --action=change --subsystem-match=input --subsystem-match=usb --subsystem-match=tty
    fi
    local modules
    modules=$(printf '%s\n' "${DEVICE_MODULES[@]}" | sort -u | sed '/^$/d')
    { echo "# Written by provisioning/provision.sh: drivers of the $ROLE role's devices, loaded at boot so"
      echo "# that their device classes exist when spa-appliance.service starts (DeviceAllow=)."
      [[ -z "$modules" ]] || echo "$modules"; } | put_file /etc/modules-load.d/spa-appliance.conf 0644 root:root
}

udev_rules() {
    local usb_match
    echo "# Written by provisioning/provision.sh for the $ROLE role: stable names and group access."
    echo "# Keyboard-like devices that only the appliance daemon reads are hidden from the compositor"
    echo "# (LIBINPUT_IGNORE_DEVICE), so a scan or a key press never types into the browser."
    case "$ROLE" in
        kiosk)
            usb_match=""
            [[ -z "$TOUCH_USB" ]] || usb_match="ATTRS{idVendor}==\"$TOUCH_VID\", ATTRS{idProduct}==\"$TOUCH_PID\", "
            echo "SUBSYSTEM==\"input\", KERNEL==\"event*\", ENV{ID_INPUT_TOUCHSCREEN}==\"1\", ${usb_match}SYMLINK+=\"input/spa-touch\", GROUP=\"input\", MODE=\"0660\""
            ;;
        cashier)
            if [[ "$SCANNER_KIND" == evdev ]]; then
                local scanner="ATTRS{idVendor}==\"$SCANNER_VID\", ATTRS{idProduct}==\"$SCANNER_PID\""
                echo "# Every event node of the scanner (keyboard, consumer control …) is the daemon's and the"
                echo "# compositor's never; the name goes to one node only: the keyboard of interface $SCANNER_IF"
                echo "# (a scanner may have several keyboard nodes), not a \"… Control\" node of the same interface."
                echo "SUBSYSTEM==\"input\", KERNEL==\"event*\", $scanner, GROUP=\"input\", MODE=\"0660\", ENV{LIBINPUT_IGNORE_DEVICE}=\"1\""
                echo "SUBSYSTEM==\"input\", KERNEL==\"event*\", ENV{ID_INPUT_KEYBOARD}==\"1\", $scanner, ATTRS{bInterfaceNumber}==\"$SCANNER_IF\", ATTRS{name}!=\"* Control\", SYMLINK+=\"input/spa-scanner\""
            elif [[ -n "$SCANNER_DEV" ]]; then
                echo "# scanner on $SCANNER_DEV (the Pi's UART): group dialout by default rules, no name needed"
            else
                echo "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"$SCANNER_VID\", ATTRS{idProduct}==\"$SCANNER_PID\", SYMLINK+=\"spa-scanner\", GROUP=\"dialout\", MODE=\"0660\""
            fi
            case "$PRINTER_KIND" in
                usb) echo "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"$PRINTER_VID\", ATTR{idProduct}==\"$PRINTER_PID\", SYMLINK+=\"spa-printer\", GROUP=\"lp\", MODE=\"0660\"" ;;
                serial)
                    if [[ -n "$PRINTER_DEV" ]]; then
                        echo "# receipt printer on $PRINTER_DEV (the Pi's UART): group dialout by default rules"
                    else
                        echo "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"$PRINTER_VID\", ATTRS{idProduct}==\"$PRINTER_PID\", SYMLINK+=\"spa-printer\", GROUP=\"dialout\", MODE=\"0660\""
                    fi
                    ;;
                network) echo "# receipt printer on the network at $PRINTER_HOST:$PRINTER_PORT: no device node" ;;
            esac
            ;;
        room)
            echo "SUBSYSTEM==\"input\", KERNEL==\"event*\", ENV{ID_INPUT_KEY}==\"1\", ATTRS{idVendor}==\"$BUTTONS_VID\", ATTRS{idProduct}==\"$BUTTONS_PID\", SYMLINK+=\"input/spa-buttons\", GROUP=\"input\", MODE=\"0660\", ENV{LIBINPUT_IGNORE_DEVICE}=\"1\""
            ;;
        lobby)
            echo "# the lobby display uses no devices"
            ;;
    esac
}

step_units() {
    step "systemd units"
    install_unit spa-appliance.service
    role_dropin | put_file /etc/systemd/system/spa-appliance.service.d/10-role.conf 0644 root:root
    if [[ "$SCREEN" == yes ]]; then
        install_unit spa-kiosk-browser.service
    else
        disable_unit spa-kiosk-browser.service
        remove_file /etc/systemd/system/spa-kiosk-browser.service
    fi
    daemon_reload_if_changed
}

role_dropin() {
    local class groups
    echo "# Written by provisioning/provision.sh: the devices of the $ROLE role, and nothing else."
    echo "[Service]"
    if ((${#DEVICE_CLASSES[@]} == 0)); then
        echo "PrivateDevices=yes"
        return 0
    fi
    echo "PrivateDevices=no"
    for class in $(printf '%s\n' "${DEVICE_CLASSES[@]}" | sort -u); do
        echo "DeviceAllow=$class rw"
    done
    groups=$(printf '%s\n' "${DEVICE_GROUPS[@]}" | sort -u | paste -sd' ')
    echo "SupplementaryGroups=$groups"
}

step_kiosk_browser() {
    if [[ "$SCREEN" != yes ]]; then
        # No screen (any more): its address holds the device token, so it does not stay behind.
        remove_file /etc/spa/kiosk.env
        return 0
    fi
    step "kiosk browser (cage + Chromium on tty1)"
    # The page keeps its device token in the browser's storage, which lives in /run and is
    # empty after every boot: the address gives it the token each time. It is the appliance's
    # own token (page and daemon of one box are one device: the server relays the till's scans,
    # print status and desk sign-in to every connection of that device). After "#", so the
    # browser never sends it to the server; the file is a secret, like appliance.toml.
    kiosk_env | put_file /etc/spa/kiosk.env 0640 root:spa-kiosk
    ensure_dir /opt/spa/kiosk 0755 root:root
    copy_file "$FILES_DIR/connecting.html" /opt/spa/kiosk/connecting.html 0644 root:root
    copy_file "$FILES_DIR/with-start-page.sh" /opt/spa/kiosk/with-start-page 0755 root:root
    copy_file "$FILES_DIR/pam-spa-kiosk" /etc/pam.d/spa-kiosk 0644 root:root
    # No blanking: the kiosk's attract mode is its screen saver, and the lobby display
    # must stay visible. cage itself never blanks; this keeps the console from blanking
    # before cage takes over the screen.
    printf '%s\n' "# Written by provisioning/provision.sh: never blank the console (kiosk screen)." \
        "w /sys/module/kernel/parameters/consoleblank - - - - 0" |
        put_file /etc/tmpfiles.d/spa-kiosk.conf 0644 root:root
    if changed /etc/tmpfiles.d/spa-kiosk.conf; then
        run systemd-tmpfiles --create /etc/tmpfiles.d/spa-kiosk.conf
    fi
    # tty1 belongs to the browser: no login prompt fighting over it.
    if root_mode; then
        run systemctl disable getty@tty1.service
    else
        disable_unit getty@tty1.service
    fi
}

# kiosk_env: /etc/spa/kiosk.env, the address the screen opens (SPA_KIOSK_URL), token included.
kiosk_env() {
    local page
    case "$ROLE" in
        kiosk) page=/kiosk ;;
        cashier) page=/cashier ;;
        room) page="/therapist?room=$ROOM_NUMBER" ;;
        lobby)
            page=/lobby
            [[ "$ANNOUNCE" != true ]] || page="/lobby?announce=1"
            ;;
    esac
    echo "# Written by provisioning/provision.sh: the page the $ROLE screen shows, with its device"
    echo "# token after \"#\" (never sent to the server). Secret: root and spa-kiosk only."
    echo "SPA_KIOSK_URL=$SERVER_URL$page#token=$TOKEN"
}

step_server_ca() {
    [[ -n "$SERVER_CA" ]] || return 0
    step "trust the server's certificate"
    copy_file "$SERVER_CA" /usr/local/share/ca-certificates/spa-server.crt 0644 root:root
    changed /usr/local/share/ca-certificates/ || return 0
    run update-ca-certificates
    if [[ "$SCREEN" == yes ]]; then
        # Chromium reads its trust anchors from the user's NSS database.
        ensure_dir /var/lib/spa-kiosk 0700 spa-kiosk:spa-kiosk
        ensure_dir /var/lib/spa-kiosk/.pki 0700 spa-kiosk:spa-kiosk
        ensure_dir /var/lib/spa-kiosk/.pki/nssdb 0700 spa-kiosk:spa-kiosk
        [[ -f "$ROOT/var/lib/spa-kiosk/.pki/nssdb/cert9.db" ]] ||
            run runuser -u spa-kiosk -- certutil -N --empty-password -d sql:/var/lib/spa-kiosk/.pki/nssdb
        run runuser -u spa-kiosk -- certutil -A -t C,, -n spa-server \
            -i /usr/local/share/ca-certificates/spa-server.crt -d sql:/var/lib/spa-kiosk/.pki/nssdb
    fi
}

# step_uart: a device on the Pi's UART needs the UART on and the serial console off it.
step_uart() {
    [[ -n "$SCANNER_DEV$PRINTER_DEV" ]] || return 0
    step "the Pi's UART for ${SCANNER_DEV:-$PRINTER_DEV}"
    if root_mode || command -v raspi-config >/dev/null; then
        run raspi-config nonint do_serial_cons 1 # no login console on it (it would answer the device)
        run raspi-config nonint do_serial_hw 0   # the UART itself on (enable_uart=1; takes a reboot)
    else
        info "no raspi-config here: enable the UART and take the serial console off it by hand"
    fi
}

step_system() {
    step "hardware watchdog and journald (spare the SD card)"
    copy_file "$FILES_DIR/system-watchdog.conf" /etc/systemd/system.conf.d/50-spa-watchdog.conf 0644 root:root
    copy_file "$FILES_DIR/journald-appliance.conf" /etc/systemd/journald.conf.d/50-spa.conf 0644 root:root
    if changed /etc/systemd/system.conf.d/; then
        run systemctl daemon-reexec
    fi
    if changed /etc/systemd/journald.conf.d/; then
        run systemctl restart systemd-journald.service
    fi
    if changed /etc/modules-load.d/; then
        run systemctl restart systemd-modules-load.service
    fi
}

step_enable() {
    step "enable and start"
    enable_unit spa-appliance.service
    start_unit spa-appliance.service /etc/systemd/system/spa-appliance.service /etc/spa/appliance.toml \
        /etc/udev/rules.d/ /usr/local/share/ca-certificates/ "$VENV/"
    if [[ "$SCREEN" == yes ]]; then
        enable_unit spa-kiosk-browser.service
        start_unit spa-kiosk-browser.service /etc/systemd/system/spa-kiosk-browser.service /etc/spa/kiosk.env \
            /opt/spa/kiosk/ /etc/pam.d/spa-kiosk /usr/local/share/ca-certificates/
    fi
}

appliance_main() {
    appliance_parse "$@"
    appliance_validate
    appliance_devices
    echo "provision: appliance, role $ROLE, server $SERVER_URL${ROOT:+, into $ROOT}"
    step_packages
    step_users
    step_project
    step_config
    record_args appliance "$@"
    step_time
    step_udev
    step_uart
    step_units
    step_kiosk_browser
    step_server_ca
    step_system
    step_enable
    echo "provision: done (${#CHANGED[@]} paths changed)"
}
