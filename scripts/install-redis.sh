#!/bin/sh
# redis-server for the rate-limit tests (they start their own on a free loopback port and
# stop it after; nothing listens on 6379). Debian package; idempotent: nothing to do when
# redis-server is already installed.
set -e
if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
echo "installed: $(redis-server --version 2>/dev/null)"
