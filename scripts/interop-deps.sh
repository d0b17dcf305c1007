#!/bin/sh
# Install the Node packages of the interop tests (tests/interop) from their
# committed package-lock.json, when missing or out of date (node-deps.sh).
exec sh "$(dirname "$0")/node-deps.sh" tests/interop
