#!/bin/sh
# Start of spa-kiosk-browser.service, installed by provisioning/provision.sh as
# /opt/spa/kiosk/with-start-page:
#
#   ExecStart=/opt/spa/kiosk/with-start-page /usr/bin/cage -- /usr/bin/chromium ... \
#       file:///run/spa-kiosk/connecting.html
#
# Puts the browser's first page into the unit's private runtime directory (/run/spa-kiosk,
# mode 0700, owner spa-kiosk), then runs the command it was given:
#   connecting.html  a copy of the local "connecting..." page beside this script
#   kiosk-url.js     SPA_KIOSK_URL from /etc/spa/kiosk.env: the role's page with the screen's
#                    device token after "#"
# The address goes through a file because it holds a secret: a command line (Chromium's) is
# readable by every local user (ps, /proc/PID/cmdline); the runtime directory only by spa-kiosk.
set -eu

dir=${RUNTIME_DIRECTORY:?"not set: the unit needs RuntimeDirectory="}
umask 077
cp "$(dirname "$0")/connecting.html" "$dir/connecting.html"
# Base64, so that no character of the address can break out of the JavaScript string.
encoded=$(printf '%s' "${SPA_KIOSK_URL:-}" | base64 -w 0)
printf 'window.spaKioskUrlBase64 = "%s";\n' "$encoded" >"$dir/kiosk-url.js"
unset SPA_KIOSK_URL
exec "$@"
