#!/usr/bin/env bash
# Build a local stand-in for python:3.11-slim where no registry image can be pulled (`make image-base`):
# Debian bookworm (minbase) with python3 3.11 and its venv module, imported into Docker as $1.
# The build host's CA bundle is copied in and named by PIP_CERT, so pip inside `docker build` trusts the
# same TLS roots as the host (some networks intercept TLS with their own CA).
set -euo pipefail
name=${1:?usage: debootstrap-base.sh IMAGE_NAME [SUITE]}
suite=${2:-bookworm}
root=$(mktemp -d /var/tmp/orchestrator-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$suite" "$root" >/dev/null
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null
fi
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' - "$name"
