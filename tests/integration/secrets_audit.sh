#!/bin/sh
# Secrets planted in command lines, URLs, headers, SQL and Redis values never
# leave the process: scripts/secrets-audit.sh searches every exported byte.
#
# usage: sh tests/integration/secrets_audit.sh BUILD-DIR
exec sh "$(dirname "$0")/../../scripts/secrets-audit.sh" "$1"
