#!/usr/bin/env bash
# Installs and starts what Vigil's tests need on Debian 12:
#   - MariaDB server and client (pkg/sandbox starts its own servers from them),
#   - PostgreSQL answering on 127.0.0.1:5432 with trust auth for user postgres,
#   - etcd answering on 127.0.0.1:2379,
#   - iproute2 and nftables (network-partition tests).
# Idempotent: installs only packages whose binaries are missing and starts only
# servers that do not answer, so a run with everything in place takes well
# under a second. Prints one line per thing it did.
set -euo pipefail

ETCD_DATA=/tmp/vigil-etcd
ETCD_LOG=/tmp/vigil-etcd.log
ETCD_URL=http://127.0.0.1:2379
PG_DEADLINE=30   # seconds
ETCD_DEADLINE=20 # seconds

did=0
say() {
	printf 'deps: %s\n' "$*"
	did=1
}
die() {
	printf 'deps: error: %s\n' "$*" >&2
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root for: $*"
	fi
}

# have BINARY: found in PATH or in the sbin directories a non-root PATH lacks.
have() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

# waitfor SECONDS CMD...: polls CMD every 0.1 s until it succeeds or time is up.
waitfor() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# --- packages ---------------------------------------------------------------
install_missing() {
	local missing=()
	have mariadbd || missing+=(mariadb-server)
	have mariadb || missing+=(mariadb-client)
	have etcd || missing+=(etcd-server)
	have etcdctl || missing+=(etcd-client)
	compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && have pg_ctlcluster ||
		missing+=(postgresql)
	have ip || missing+=(iproute2)
	have nft || missing+=(nftables)
	[ "${#missing[@]}" -gt 0 ] || return 0

	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
	say "installed ${missing[*]}"
}

# --- PostgreSQL -------------------------------------------------------------
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
pg_trusted() { psql -h 127.0.0.1 -U postgres -w -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
	local version
	version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)
	if ! pg_up; then
		if [ -z "$version" ] || [ ! -d "/etc/postgresql/$version/main" ]; then
			version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
			as_root pg_createcluster "$version" main >/dev/null
			say "created PostgreSQL $version cluster main"
		fi
		as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
		waitfor "$PG_DEADLINE" pg_up || die "PostgreSQL $version did not answer on 127.0.0.1:5432 within ${PG_DEADLINE}s"
		say "started PostgreSQL $version on 127.0.0.1:5432"
	fi
	if ! pg_trusted; then
		[ -n "$version" ] || die "PostgreSQL on 127.0.0.1:5432 needs a password and is not a Debian cluster"
		local hba="/etc/postgresql/$version/main/pg_hba.conf"
		# First matching line wins: put ours on top.
		as_root sed -i '1i host all all 127.0.0.1/32 trust # added by vigil scripts/deps.sh' "$hba"
		as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
		waitfor 5 pg_trusted || die "user postgres still needs a password on 127.0.0.1 (see $hba)"
		say "set trust auth for 127.0.0.1/32 in $hba"
	fi
}

# --- etcd ---------------------------------------------------------------------
etcd_healthy() {
	if command -v curl >/dev/null; then
		curl -fsS --max-time 1 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'
	else
		ETCDCTL_API=3 etcdctl --endpoints="$ETCD_URL" --command-timeout=1s endpoint health >/dev/null 2>&1
	fi
}

ensure_etcd() {
	etcd_healthy && return 0
	if (exec 3<>/dev/tcp/127.0.0.1/2379) 2>/dev/null; then
		die "something listens on 127.0.0.1:2379 but is not a healthy etcd"
	fi
	# setsid + redirected stdio: etcd outlives this script and holds no pipe of its caller.
	setsid nohup etcd --name default --data-dir "$ETCD_DATA" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster default=http://127.0.0.1:2380 \
		</dev/null >>"$ETCD_LOG" 2>&1 &
	if ! waitfor "$ETCD_DEADLINE" etcd_healthy; then
		tail -n 20 "$ETCD_LOG" >&2 || true
		die "etcd not healthy on $ETCD_URL within ${ETCD_DEADLINE}s (log: $ETCD_LOG)"
	fi
	say "started etcd on $ETCD_URL (data $ETCD_DATA, log $ETCD_LOG)"
}

install_missing
ensure_postgres
ensure_etcd
[ "$did" -eq 1 ] || printf 'deps: everything already in place\n'
