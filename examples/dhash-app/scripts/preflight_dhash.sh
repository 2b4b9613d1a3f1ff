#!/bin/sh
# Runbook shim: the logic lives in dhash-gha. DHASH_GHA may name another launcher, e.g. "python -m dhash_gha".
# shellcheck disable=SC2086
exec ${DHASH_GHA:-dhash-gha} --root "$(dirname -- "$0")/.." preflight "$@"
