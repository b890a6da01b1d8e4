#!/bin/sh
# util-linux: a process in a time namespace (unshare --time --fork), then nsenter -T -t PID
# and nsenter --time=FILE. The sleeper tells its pid through a fifo.
F=/tmp/tns-nsenter-fifo.$$
mkfifo "$F"
unshare --time --fork --boottime 5000 ./bin/sleeper > "$F" &
U=$!
read S < "$F"
rm -f "$F"
nsenter -T -t "$S" ./bin/probe
nsenter --time=/proc/$S/ns/time ./bin/probe
kill "$S"
wait "$U"
exit 0
