#!/usr/bin/env bash
# Fails when a module of the workspace requires a different version of a
# library that every module must share.
set -euo pipefail
cd "$(dirname "$0")/.."

shared=(google.golang.org/grpc google.golang.org/protobuf go.etcd.io/etcd/client/v3 github.com/jackc/pgx/v5 github.com/grpc-ecosystem/grpc-gateway/v2)
status=0
for lib in "${shared[@]}"; do
	versions=$(for mod in $(go list -m -f '{{.Dir}}'); do
		GOWORK=off go -C "$mod" list -m -f '{{.Version}}' "$lib" 2>/dev/null || true
	done | sort -u)
	count=$(grep -c . <<<"$versions" || true)
	if [ "$count" -gt 1 ]; then
		echo "check-versions: $lib has several versions: $(tr '\n' ' ' <<<"$versions")"
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "check-versions: shared libraries agree across modules"
exit "$status"
