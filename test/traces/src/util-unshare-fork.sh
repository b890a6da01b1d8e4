#!/bin/sh
# util-linux: unshare --time --fork with offsets; the forked child runs probe.
exec unshare --time --fork --monotonic 1000 --boottime 2000 ./bin/probe
