#!/bin/sh
# Stands in for a pipec without the parallel-step engine.
echo "pipec: error: unknown command '$1'" >&2
exit 2
