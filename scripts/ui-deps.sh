#!/bin/sh
# Install the Node packages of the web UI's browser test (tests/ui:
# puppeteer-core, which drives Debian's chromium) from their committed
# package-lock.json, when missing or out of date (node-deps.sh).
exec sh "$(dirname "$0")/node-deps.sh" tests/ui
