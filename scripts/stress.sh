#!/usr/bin/env bash
# Reruns the end-to-end suite to find tests that fail only now and then:
#   scripts/stress.sh [N] [RUN]
# runs `go test -count=1 -timeout 10m ./e2e/ -run RUN` N times (default 20;
# RUN empty runs every test), one after the other, each logged to its own file
# in a new temporary directory. Prints one line per run, then the pass and
# fail counts, the tests that failed and the log of every failed run. Exits 1
# if any run failed, 2 on a bad N.
set -euo pipefail

n=${1:-20}
run=${2:-}
case $n in
'' | *[!0-9]* | 0)
	printf 'stress: N must be a whole number above 0, not %q\n' "$n" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."
GO=${GO:-go}
logs=$(mktemp -d "${TMPDIR:-/tmp}/vigil-stress.XXXXXX")
passed=0
failed=0
failed_logs=()
declare -A fails=() # test name -> failed runs

# failed_tests prints the tests a log says failed, one a line: "--- FAIL"
# lines, for a run killed by -timeout the tests still running, and a build
# failure.
failed_tests() {
	awk '
		/^[ \t]*--- FAIL: / { print $3; found = 1; next }
		/^[ \t]*running tests:$/ { running = 1; next }
		running && /^\t+[A-Za-z]/ { print $1 " (timed out)"; found = 1; next }
		{ running = 0 }
		/\[(build|setup) failed\]/ { print "(build failed)"; found = 1 }
		END { if (!found) print "(no test named; see the log)" }
	' "$1"
}

for i in $(seq 1 "$n"); do
	log=$logs/run-$i.log
	start=$SECONDS
	if "$GO" test -count=1 -timeout 10m ./e2e/ -run "$run" >"$log" 2>&1; then
		passed=$((passed + 1))
		printf 'run %d/%d: ok (%ds)\n' "$i" "$n" $((SECONDS - start))
		continue
	fi
	failed=$((failed + 1))
	failed_logs+=("$log")
	printf 'run %d/%d: FAIL (%ds) %s\n' "$i" "$n" $((SECONDS - start)) "$log"
	while read -r name; do
		fails[$name]=$((${fails[$name]:-0} + 1))
	done < <(failed_tests "$log" | sort -u)
done

printf '\nstress: %d passed, %d failed of %d runs of ./e2e/%s\n' "$passed" "$failed" "$n" "${run:+ -run $run}"
if [ "$failed" -eq 0 ]; then
	printf 'logs: %s\n' "$logs"
	exit 0
fi
printf 'failing tests:\n'
for name in "${!fails[@]}"; do
	printf '  %s: failed in %d of %d runs\n' "$name" "${fails[$name]}" "$n"
done | sort -t: -k1,1
printf 'logs of failed runs:\n'
printf '  %s\n' "${failed_logs[@]}"
exit 1
