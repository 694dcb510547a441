#!/usr/bin/env bash
# Benchmark: how many POST /v1/posts per second the Manch sandbox serves on one
# core. The sandbox runs with one worker pinned to CPU 0; wrk (one thread, 64
# connections) runs pinned to CPU 1, against 127.0.0.1 only, for a fixed time.
# Every request carries a new Idempotency-Key, so each creates a post.
#
#   benches/sandbox_posts.sh [seconds]     (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
port=18181
base="http://127.0.0.1:$port"

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet

taskset -c 0 target/release/prasaran sandbox manch --bind "127.0.0.1:$port" --workers 1 >/dev/null &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "$base/_sandbox/posts" >/dev/null && break; sleep 0.1; done

# One OAuth dance for a token: consent → code → token exchange with PKCE.
token=$(python3 - "$base" <<'PY'
import base64, hashlib, json, sys, urllib.parse, urllib.request
base = sys.argv[1]
verifier = "benchmark-verifier-0123456789-abcdefghijklmnopq"
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
redirect = "http://127.0.0.1:9/cb"
form = urllib.parse.urlencode({"response_type": "code", "client_id": "prasaran-dev", "redirect_uri": redirect,
    "scope": "posts:write", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256",
    "handle": "bench", "decision": "approve"}).encode()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args): return None
opener = urllib.request.build_opener(NoRedirect)
try:
    opener.open(base + "/oauth/authorize", form)
except urllib.error.HTTPError as e:
    location = e.headers["Location"]
code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
request = urllib.request.Request(base + "/oauth/token", urllib.parse.urlencode({"grant_type": "authorization_code",
    "code": code, "redirect_uri": redirect, "code_verifier": verifier}).encode())
request.add_header("Authorization", "Basic " + base64.b64encode(b"prasaran-dev:prasaran-dev-secret").decode())
print(json.load(urllib.request.urlopen(request))["access_token"])
PY
)
curl -sf -X POST "$base/_sandbox/faults" -H 'content-type: application/json' \
    -d '{"rate_limit_per_s": 1000000000}' >/dev/null

echo "== sandbox: 1 worker on CPU 0; wrk: 1 thread, 64 connections on CPU 1; ${seconds}s"
MANCH_TOKEN=$token taskset -c 1 wrk -t1 -c64 -d"${seconds}s" --latency -s benches/sandbox_posts.lua "$base" | tee /tmp/sandbox-bench.txt
rps=$(awk '/Requests\/sec/ {print int($2)}' /tmp/sandbox-bench.txt)
posts=$(curl -sf "$base/_sandbox/posts" | python3 -c 'import sys,json; print(len(json.load(sys.stdin)["posts"]))')
rss=$(awk '/VmRSS/ {print $2}' "/proc/$sandbox/status")
echo "== POST /v1/posts per second on one core: $rps (posts stored: $posts; sandbox RSS: $((rss / 1024)) MiB)"
if [ "$rps" -lt 20000 ]; then
    echo "== below the 20,000/s target" >&2
    exit 1
fi
