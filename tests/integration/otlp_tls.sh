#!/bin/sh
# The OTLP exporter against a real TLS server: OTEL_EXPORTER_OTLP_CERTIFICATE
# (a private CA), a missing CA, mTLS (OTEL_EXPORTER_OTLP_CLIENT_KEY and
# _CLIENT_CERTIFICATE), gRPC over TLS (ALPN h2, with and without mTLS, and
# through a CONNECT proxy), and the _TRACES_ variables winning over the
# generic ones. A throwaway CA and certificates are made with openssl;
# otlp_tls_server.js receives and records every request before answering
# it, so outcomes are read from its record, never from timing.
#
# usage: sh tests/integration/otlp_tls.sh BUILD_DIR   (exit 77: skipped)
set -u

here=$(cd "$(dirname "$0")" && pwd)
OTELC=$(cd "${1:-build}" 2>/dev/null && pwd)/otelc
[ -x "$OTELC" ] || { echo "otlp_tls: no otelc binary in ${1:-build}; skipped"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "otlp_tls: node not found; skipped"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "otlp_tls: openssl not found; skipped"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-otlp-tls.XXXXXX")
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    # KEEP=1 keeps the certificates, the record and the logs for a post-mortem.
    if [ -n "${KEEP:-}" ]; then echo "otlp_tls: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A clean slate: no configuration or context from the caller's environment.
for v in $(env | sed -n 's/^\(OTEL[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset TRACEPARENT TRACESTATE BAGGAGE SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE

failures=0
fail() {
    echo "otlp_tls: FAIL: $*" >&2
    failures=$((failures + 1))
}

# ---- a throwaway PKI: a CA, a server certificate for 127.0.0.1, a client one -----
pki() {
    cd "$tmp" || return 1
    cat >ca.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = otelc test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    cat >server.ext <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
authorityKeyIdentifier = keyid
EOF
    cat >client.ext <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    # CA NAME : a self-signed CA in NAME.pem / NAME.key
    ca() {
        key "$1.key" &&
            openssl req -x509 -new -key "$1.key" -config ca.cnf -days 2 -subj "/CN=$1" \
                -out "$1.pem" 2>/dev/null
    }
    # leaf NAME CN EXT : a certificate signed by ca
    leaf() {
        key "$1.key" &&
            openssl req -new -key "$1.key" -subj "/CN=$2" -config ca.cnf -out "$1.csr" 2>/dev/null &&
            openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
                -days 2 -extfile "$3" -out "$1.pem" 2>/dev/null
    }
    ca ca && ca otherca && leaf server 127.0.0.1 server.ext && leaf client otelc-test-client client.ext
}
(pki) || { fail "openssl could not make the test certificates"; exit 1; }
openssl verify -CAfile "$tmp/ca.pem" "$tmp/server.pem" "$tmp/client.pem" >/dev/null 2>&1 ||
    { fail "the test certificates do not verify"; exit 1; }

# ---- the server -------------------------------------------------------------------
: >"$tmp/record.jsonl"
node "$here/otlp_tls_server.js" "$tmp" "$tmp/record.jsonl" >"$tmp/ports.json" 2>"$tmp/server.err" &
server=$!
i=0
while [ ! -s "$tmp/ports.json" ] && [ $i -lt 200 ]; do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
    i=$((i + 1))
done
port() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$tmp/ports.json" "$1"; }
HTTPS=$(port https 2>/dev/null) MTLS=$(port mtls 2>/dev/null) GRPC=$(port grpc 2>/dev/null)
GRPC_MTLS=$(port grpc_mtls 2>/dev/null) PROXY=$(port proxy 2>/dev/null)
case "$HTTPS:$MTLS:$GRPC:$GRPC_MTLS:$PROXY" in
*[!0-9:]* | :* | *:: | *:)
    fail "the TLS server did not start"
    cat "$tmp/server.err" >&2
    exit 1
    ;;
esac

# Every case: one span named after the case, the OTLP exporter only, warnings
# on. A delivered export returns at once, so its bound is generous. A refused
# handshake is a transport error, which the exporter may retry until the
# export's bound; the refused cases get a shorter one, ONE_TRY, yet long
# enough for a first handshake on a loaded machine: the warning names the
# first attempt's error when a later one was cut short by the bound.
# A TLS handshake under a sanitizer on a busy machine can take longer than
# the default exit bound (1 s): these cases are about certificates, not exit.
export OTEL_TRACES_EXPORTER=otlp OTEL_LOG_LEVEL=warn OTELC_CLI_EXPORT_TIMEOUT=8000 OTELC_EXIT_TIMEOUT=8000
ONE_TRY=OTELC_CLI_EXPORT_TIMEOUT=5000
export OTEL_BSP_SCHEDULE_DELAY=50
# Each case stands alone. On a busy machine a refused case's last attempt
# can be cut at the exit bound, which opens the breaker shared between
# processes (an abandoned export reads as a hung endpoint): the next case
# on the same endpoint would then skip its export without a word.
export OTELC_BREAKER_INTERVAL=0

# run NAME [VAR=VALUE...] : otelc exec --name NAME -- sh -c 'exit 7' with that environment,
# stderr in $tmp/NAME.err; the exit status must stay the command's.
run() {
    name=$1
    shift
    env "$@" "$OTELC" exec --name "$name" -- sh -c 'exit 7' >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    [ "$rc" -eq 7 ] || fail "$name: otelc exited $rc, expected the command's 7"
    [ -s "$tmp/$name.out" ] && fail "$name: otelc wrote to stdout"
}

# delivered NAME LISTENER PATH CONTENT_TYPE [PEER] : the server recorded exactly one
# request carrying the span NAME, on that listener, a POST to PATH with a protobuf body.
delivered() {
    node - "$tmp/record.jsonl" "$@" <<'JS' || { fail "$1: not delivered as expected"; sed 's/^/  /' "$tmp/$1.err" >&2; }
const [file, name, listener, path, type, peer] = process.argv.slice(2);
const all = require('fs').readFileSync(file, 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const mine = all.filter(r => r.body && Buffer.from(r.body, 'base64').includes(Buffer.from(name)));
const problems = [];
if (mine.length !== 1) problems.push(`${mine.length} requests carry span ${name}, expected 1`);
for (const r of mine) {
  const body = Buffer.from(r.body, 'base64');
  if (r.listener !== listener) problems.push(`arrived at ${r.listener}, expected ${listener}`);
  if (r.method !== 'POST' || r.path !== path) problems.push(`${r.method} ${r.path}, expected POST ${path}`);
  if (r.contentType !== type) problems.push(`content-type ${r.contentType}, expected ${type}`);
  // protobuf: ExportTraceServiceRequest starts with field 1 (resource_spans), wire type 2
  let msg = body;
  if (type === 'application/grpc') {
    if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5)
      problems.push('not one uncompressed gRPC message');
    msg = body.subarray(5);
  }
  if (msg[0] !== 0x0a) problems.push(`body starts with 0x${(msg[0] || 0).toString(16)}, not a protobuf ExportTraceServiceRequest`);
  if (peer !== undefined && r.peer !== peer) problems.push(`client certificate ${r.peer}, expected ${peer}`);
}
if (problems.length) { console.error(`otlp_tls: ${name}: ${problems.join('; ')}`); process.exit(1); }
JS
}

# refused NAME PATTERN : nothing carrying span NAME reached the server, and the
# SDK said why on stderr (a "failed" warning whose text matches PATTERN).
refused() {
    n=$(node -e 'const [f, name] = process.argv.slice(1);
console.log(require("fs").readFileSync(f, "utf8").split("\n").filter(Boolean).map(JSON.parse)
  .filter(r => r.body && Buffer.from(r.body, "base64").includes(Buffer.from(name))).length)' \
        "$tmp/record.jsonl" "$1")
    [ "$n" = 0 ] || fail "$1: delivered ($n requests), but should have been refused"
    if ! grep -q "OTLP export to https://127.0.0.1:[0-9]*/[^ ]* failed: " "$tmp/$1.err" ||
        ! grep -qi "$2" "$tmp/$1.err"; then
        fail "$1: no export failure matching \"$2\" reported"
        sed 's/^/  /' "$tmp/$1.err" >&2
    fi
}

# quiet NAME : a delivered case logs nothing
quiet() {
    [ -s "$tmp/$1.err" ] && { fail "$1: unexpected diagnostics"; sed 's/^/  /' "$tmp/$1.err" >&2; }
    return 0
}

CA=$tmp/ca.pem OTHER=$tmp/otherca.pem
KEY=$tmp/client.key CERT=$tmp/client.pem
TRACES=/v1/traces PB=application/x-protobuf
GRPC_PATH=/opentelemetry.proto.collector.trace.v1.TraceService/Export

# ---- (1) https with the private CA delivers ------------------------------------------
run https_ca OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$HTTPS" OTEL_EXPORTER_OTLP_CERTIFICATE="$CA"
delivered https_ca https $TRACES $PB
quiet https_ca

# ---- (2) without the CA (the system store does not know it) nothing is delivered ------
run https_noca $ONE_TRY OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$HTTPS"
refused https_noca "certificate"
run https_wrongca $ONE_TRY OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$HTTPS" OTEL_EXPORTER_OTLP_CERTIFICATE="$OTHER"
refused https_wrongca "certificate"

# ---- (3) mTLS: accepted with the client key and certificate, refused without ----------
run mtls_client OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$MTLS" OTEL_EXPORTER_OTLP_CERTIFICATE="$CA" \
    OTEL_EXPORTER_OTLP_CLIENT_KEY="$KEY" OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$CERT"
delivered mtls_client mtls $TRACES $PB otelc-test-client
quiet mtls_client
run mtls_noclient $ONE_TRY OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$MTLS" OTEL_EXPORTER_OTLP_CERTIFICATE="$CA"
refused mtls_noclient "certificate required"

# ---- (4) gRPC over TLS (ALPN h2) delivers with the CA, not without --------------------
run grpc_ca OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$GRPC" \
    OTEL_EXPORTER_OTLP_CERTIFICATE="$CA"
delivered grpc_ca grpc $GRPC_PATH application/grpc
quiet grpc_ca
run grpc_noca $ONE_TRY OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$GRPC"
refused grpc_noca "certificate"

# A gRPC endpoint without a scheme means TLS unless OTEL_EXPORTER_OTLP_INSECURE is set;
# INSECURE never turns certificate verification off for an https endpoint.
run grpc_noscheme OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="127.0.0.1:$GRPC" \
    OTEL_EXPORTER_OTLP_CERTIFICATE="$CA"
delivered grpc_noscheme grpc $GRPC_PATH application/grpc
quiet grpc_noscheme
run grpc_insecure_https $ONE_TRY OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_INSECURE=true \
    OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$GRPC"
refused grpc_insecure_https "certificate"

# gRPC with mTLS: the client key and certificate are sent, and required.
run grpc_mtls_client OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$GRPC_MTLS" \
    OTEL_EXPORTER_OTLP_CERTIFICATE="$CA" OTEL_EXPORTER_OTLP_CLIENT_KEY="$KEY" OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$CERT"
delivered grpc_mtls_client grpc_mtls $GRPC_PATH application/grpc otelc-test-client
quiet grpc_mtls_client
run grpc_mtls_noclient $ONE_TRY OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
    OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$GRPC_MTLS" OTEL_EXPORTER_OTLP_CERTIFICATE="$CA"
refused grpc_mtls_noclient "certificate required"
# A client key that does not exist is a configuration error: reported, never retried in vain.
run grpc_mtls_nokey $ONE_TRY OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
    OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$GRPC_MTLS" OTEL_EXPORTER_OTLP_CERTIFICATE="$CA" \
    OTEL_EXPORTER_OTLP_CLIENT_KEY="$tmp/nonexistent.key" OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$CERT"
refused grpc_mtls_nokey "client key"

# gRPC through an HTTP proxy: a CONNECT tunnel to the endpoint, TLS inside it (https_proxy
# is the proxy of an https endpoint; http_proxy is not).
run grpc_proxy https_proxy="http://127.0.0.1:$PROXY" http_proxy="http://127.0.0.1:1" no_proxy= \
    OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$GRPC" \
    OTEL_EXPORTER_OTLP_CERTIFICATE="$CA"
delivered grpc_proxy grpc $GRPC_PATH application/grpc
quiet grpc_proxy
grep -q "\"connect\":\"127.0.0.1:$GRPC\"" "$tmp/record.jsonl" ||
    fail "grpc_proxy: the proxy saw no CONNECT to 127.0.0.1:$GRPC"

# ---- (5) the _TRACES_ variables win over the generic ones -----------------------------
run traces_ca_wins OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$HTTPS" \
    OTEL_EXPORTER_OTLP_CERTIFICATE="$OTHER" OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="$CA"
delivered traces_ca_wins https $TRACES $PB
run traces_ca_loses $ONE_TRY OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$HTTPS" \
    OTEL_EXPORTER_OTLP_CERTIFICATE="$CA" OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="$OTHER"
refused traces_ca_loses "certificate"
run traces_client_wins OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$MTLS" \
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="$CA" \
    OTEL_EXPORTER_OTLP_CLIENT_KEY="$tmp/nonexistent.key" OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$tmp/nonexistent.pem" \
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY="$KEY" OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE="$CERT"
delivered traces_client_wins mtls $TRACES $PB otelc-test-client
run traces_grpc_wins OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc \
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="https://127.0.0.1:$GRPC" OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$HTTPS" \
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="$CA"
delivered traces_grpc_wins grpc $GRPC_PATH application/grpc

kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=""
if [ "$failures" -ne 0 ]; then
    echo "otlp_tls: $failures failure(s)" >&2
    echo "otlp_tls: server record:" >&2
    sed 's/"body":"[^"]*"/"body":…/' "$tmp/record.jsonl" >&2
    exit 1
fi
echo "otlp_tls: all passed"
