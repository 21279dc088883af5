#!/usr/bin/env bash
# `buf breaking` against the contract as it stood before this change: the newest release tag (v*)
# if there is one; otherwise HEAD when protos/ has uncommitted changes, else the previous commit.
set -euo pipefail
cd "$(dirname "$0")/.."

if tag=$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null); then
  base="$tag"
elif ! git diff --quiet HEAD -- protos buf.yaml 2>/dev/null; then
  base=HEAD
else
  base=HEAD~1
fi
if ! commit=$(git rev-parse --verify --quiet "$base^{commit}"); then
  echo "buf breaking: no earlier commit to compare with; skipped"
  exit 0
fi
if ! git cat-file -e "$commit:protos/orchestrator/v1" 2>/dev/null; then
  echo "buf breaking: the contract did not exist at $base; nothing to break"
  exit 0
fi
echo "buf breaking: against $base ($commit)"
buf breaking --against ".git#ref=$commit"
