#!/usr/bin/env bash
# dev.sh - the two quick-start commands of dmlog (see README.md).
#
#   ./dev.sh run    install what is missing, build, start a standalone dmlogd with dev
#                   certificates (made on first run) and run a short demo against it
#   ./dev.sh test   install what is missing (with test tools), build, run the whole test suite
#   ./dev.sh test --asan   the same in an AddressSanitizer+UndefinedBehaviorSanitizer build
#
# Environment: BUILD_DIR (default build, or build-asan with --asan), DMLOG_STATE (default .state),
# JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")"

cmd=${1:-}
shift || true
asan=0
for a in "$@"; do
	case $a in
	--asan) asan=1 ;;
	*) echo "dev.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
jobs=${JOBS:-$(nproc)}

build() {
	local dir=$1; shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
}

case $cmd in
run)
	deploy/install-deps.sh
	build "${BUILD_DIR:-build}"
	exec deploy/run-standalone.sh "${BUILD_DIR:-build}" "${DMLOG_STATE:-.state}"
	;;
test)
	deploy/install-deps.sh --test
	if [ "$asan" = 1 ]; then
		dir=${BUILD_DIR:-build-asan}
		build "$dir" -DDMLOG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		export DMLOG_SANITIZED=1
		# The real-kernel (QEMU) tests run in the plain pass; under emulation an ASan guest
		# run only repeats them slower.
		ctest_args=(-LE kernel)
	else
		dir=${BUILD_DIR:-build}
		build "$dir"
		ctest_args=()
	fi
	ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900 "${ctest_args[@]}"
	;;
*)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
