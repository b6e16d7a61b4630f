#!/bin/sh
# Headless Chromium and a Chinese font for the widget's end-to-end tests (Debian).
# Idempotent: does nothing when both are already installed.
set -e
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei >/dev/null
echo "installed: $(/usr/bin/chromium --version 2>/dev/null)"
