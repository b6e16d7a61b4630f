#!/bin/sh
# LibreOffice (headless Writer and Calc, no GUI) to read legacy Word .doc, WPS Writer .wps and
# WPS spreadsheet .et files: ingest converts them to .docx / .xlsx in a child process (see
# ingest/legacy.py). Debian packages; idempotent: nothing to do when soffice is already there.
# Without LibreOffice the assistant still runs; those files are then refused with a reason.
set -e
if command -v soffice >/dev/null 2>&1 \
    && [ -e /usr/lib/libreoffice/program/libsclo.so ] \
    && [ -e /usr/lib/libreoffice/program/libswlo.so ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    libreoffice-writer-nogui libreoffice-calc-nogui >/dev/null
echo "installed: $(soffice --version 2>/dev/null)"
