#!/bin/sh
# PostgreSQL for the records tests (issue #14): they start their own throw-away cluster
# (initdb in a temp dir, a free loopback port) and stop and delete it after; no cluster of the
# package is used, nothing listens on 5432 for them. Debian package; idempotent: nothing to do
# when the server binaries are already installed.
set -e
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "installed: $(ls -d /usr/lib/postgresql/*/bin | tail -1)/postgres $(/usr/lib/postgresql/*/bin/postgres --version 2>/dev/null | tail -1)"
