#!/bin/sh
# nginx for the deployment tests (tests/nginx.py starts its own, as a non-daemon, on a free
# loopback port with a temp prefix, and stops it after; the Debian service is left alone:
# nothing listens on 80). Debian package; idempotent: nothing to do when nginx is installed.
set -e
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d 101: the package's own service is not started (no daemon on port 80)
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
    trap '$SUDO rm -f "$POLICY"' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null
echo "installed: $(/usr/sbin/nginx -v 2>&1)"
