#!/bin/sh
# Compile every scenario in src/ and record it under strace on this machine.
# Usage: test/traces/record.sh [NAME...]   (needs root, strace, gcc; CONFIG_TIME_NS)
# Main recordings use exactly: strace -f -tt -yy -s 4096 -o <name>.strace -- CMD
# A few scenarios are recorded again with other option sets (see VARIANTS below).
# The cwd of every recording is this directory (test/traces), so paths in the traces are stable.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
mkdir -p bin

for c in src/*.c; do
  n=$(basename "$c" .c)
  gcc -static -O1 -Wall -Wno-unused-result -pthread -o "bin/$n" "$c" 2>/dev/null \
    || gcc -O1 -Wall -Wno-unused-result -pthread -o "bin/$n" "$c"
done

# No scenario may change host sysctls (max-time-ns only sets limits inside child user
# namespaces); check that the init user namespace's limit is the same afterwards.
SAVED=$(cat /proc/sys/user/max_time_namespaces)
check_sysctl() {
  now=$(cat /proc/sys/user/max_time_namespaces)
  if [ "$now" != "$SAVED" ]; then
    echo "max_time_namespaces changed ($SAVED -> $now): restoring" >&2
    echo "$SAVED" > /proc/sys/user/max_time_namespaces
  fi
}
trap check_sysctl EXIT
ulimit -c 0
# A fixed, small environment: no PATH search noise, same env on every machine.
ENV="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C"

STRACE_MAIN="-f -tt -yy -s 4096"

cmd_of() {
  if [ -f "src/$1.sh" ]; then echo "sh src/$1.sh"; else echo "./bin/$1"; fi
}

rec() { # rec NAME: the main recording
  name=$1
  # shellcheck disable=SC2046
  $ENV strace $STRACE_MAIN -o "$name.strace" -- $(cmd_of "$name") >/dev/null 2>&1 </dev/null || true
  echo "recorded $name.strace ($(wc -l < "$name.strace") lines)"
}

variant() { # variant NAME SUFFIX OPTIONS...: same scenario, other strace options, -o NAME.SUFFIX.strace
  name=$1; suffix=$2; shift 2
  $ENV strace "$@" -o "$name.$suffix.strace" -- $(cmd_of "$name") >/dev/null 2>&1 </dev/null || true
  echo "recorded $name.$suffix.strace ($(wc -l < "$name.$suffix.strace") lines)"
}

SCENARIOS=""
for c in src/*.c src/*.sh; do
  n=$(basename "$c"); n=${n%.c}; n=${n%.sh}
  case "$n" in probe|sleeper) continue ;; esac
  SCENARIOS="$SCENARIOS $n"
done
if [ $# -gt 0 ]; then SCENARIOS="$*"; fi

for n in $SCENARIOS; do
  rec "$n"
  case "$n" in
    unshare-fork)   variant unshare-fork ttt-T -f -ttt -T -yy -s 4096 ;;
    setns-nsfs)     variant setns-nsfs nots -f -yy -s 4096 ;;
    clone3-newtime) variant clone3-newtime y -f -tt -y -s 4096 ;;
    offsets-parse)  variant offsets-parse raw -f -tt -yy -s 4096 -X raw ;;
    nested)
      rm -rf nested-ff; mkdir -p nested-ff
      $ENV strace -ff -tt -yy -s 4096 -o nested-ff/trace -- ./bin/nested >/dev/null 2>&1 </dev/null || true
      echo "recorded nested-ff/ ($(ls nested-ff | wc -l) files)" ;;
    thread-unshare) # no -o: strace writes to stderr with [pid N] prefixes
      $ENV strace -f -tt -yy -s 4096 -- ./bin/thread-unshare >/dev/null 2>thread-unshare.stderr.strace </dev/null || true
      echo "recorded thread-unshare.stderr.strace" ;;
  esac
done

# Locate and check every expectation of expectations.mjs in the new recordings.
if [ $# -eq 0 ] && command -v node >/dev/null 2>&1; then node "$HERE/make-manifest.mjs"; fi
