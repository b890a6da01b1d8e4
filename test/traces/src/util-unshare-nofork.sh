#!/bin/sh
# util-linux: unshare --time without --fork: the exec of probe switches into the namespace.
exec unshare --time --monotonic 3000 --boottime 4000 ./bin/probe
