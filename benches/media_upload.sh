#!/usr/bin/env bash
# Benchmark: media uploads into the release build on its embedded default
# (local media store, embedded PostgreSQL), 127.0.0.1 only, bounded.
#
#  1. Memory: one 500 MB video streamed to POST /api/v1/media; prints the app's
#     RSS before and its peak (VmHWM) after, and the growth.
#  2. Throughput: 1 MB JPEGs (noise, so they do not compress) uploaded by wrk
#     at concurrency 16 for a fixed time; prints uploads/s, MB/s and latency
#     percentiles. Every upload is decoded, re-encoded without metadata and
#     stored, as in production.
#
#   benches/media_upload.sh [seconds] [video_mb]     (defaults 10, 500)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/server.sh
seconds=${1:-10}
video_mb=${2:-500}

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
command -v ffmpeg >/dev/null || { echo "installing ffmpeg"; apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null; }
cargo build --release --quiet --bin prasaran

work=$(mktemp -d)
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
log="$work/app.log"
PRASARAN__SERVER__WORKERS=2 PRASARAN__MEDIA__MAX_VIDEO_BYTES=$(((video_mb + 10) * 1000000)) \
    RUST_LOG=warn target/release/prasaran serve --bind "127.0.0.1:$port" --ops-bind 127.0.0.1:0 --data-dir "$work/data" >"$log" 2>&1 </dev/null &
app=$!
trap 'stop_server "$app" "$work/data"; rm -rf "$work"' EXIT
wait_ready "$base/health/ready" "$app" "$log" 120

jar="$work/cookies"
bench_user='{"email":"bench@example.com","password":"correct horse battery staple"}'
curl -sf -o /dev/null -H 'content-type: application/json' -d "$bench_user" "$base/api/v1/auth/signup"
csrf=$(curl -sf -c "$jar" -b "$jar" -H 'content-type: application/json' -d "$bench_user" \
    "$base/api/v1/auth/login" | python3 -c 'import sys,json; print(json.load(sys.stdin)["csrf_token"])')
token=$(curl -sf -b "$jar" -H "X-CSRF-Token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"bench"}' "$base/api/v1/tokens" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')

rss_kib() { awk "/^$1:/ {print \$2}" "/proc/$app/status"; }

echo "== 1. one ${video_mb} MB video, streamed"
# A real MP4 (ffmpeg) grown to the size with a trailing `free` box, which
# MP4 readers skip.
ffmpeg -loglevel error -f lavfi -i testsrc=duration=2:size=320x240:rate=10 -pix_fmt yuv420p \
    -movflags +faststart "$work/clip.mp4" </dev/null
python3 - "$work/clip.mp4" "$video_mb" <<'PY'
import os, struct, sys
path, mb = sys.argv[1], int(sys.argv[2])
pad = mb * 1_000_000 - os.path.getsize(path)
with open(path, "ab") as f:
    f.write(struct.pack(">I", pad) + b"free")
    chunk = b"\0" * (1 << 20)
    left = pad - 8
    while left > 0:
        f.write(chunk[: min(left, len(chunk))])
        left -= len(chunk)
PY
before=$(rss_kib VmRSS)
# Peak from here on: reset the high-water mark where the kernel allows it.
echo 5 > "/proc/$app/clear_refs" 2>/dev/null || true
start=$(date +%s.%N)
status=$(curl -s -o "$work/video.json" -w '%{http_code}' -X POST -T "$work/clip.mp4" \
    -H "Authorization: Bearer $token" -H 'Content-Type: video/mp4' "$base/api/v1/media")
elapsed=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
peak=$(rss_kib VmHWM)
[ "$status" = 201 ] || { echo "upload answered $status: $(cat "$work/video.json")" >&2; exit 1; }
echo "   uploaded in ${elapsed}s: $(python3 -c 'import sys,json; v=json.load(open(sys.argv[1])); print(v["kind"], v["bytes"], "bytes", v["width"], "x", v["height"], v["duration_ms"], "ms")' "$work/video.json")"
echo "== app RSS before: $((before / 1024)) MiB; peak during the upload: $((peak / 1024)) MiB; growth: $(((peak - before) / 1024)) MiB"
rm -f "$work/clip.mp4"

echo "== 2. 1 MB JPEGs, wrk: 2 threads, 16 connections, ${seconds}s"
ffmpeg -loglevel error -f lavfi -i "nullsrc=s=960x960,geq=random(1)*255:random(1)*255:random(1)*255" \
    -frames:v 1 -q:v 2 "$work/noise.jpg" </dev/null
bytes=$(stat -c %s "$work/noise.jpg")
echo "   image: $bytes bytes"
cat > "$work/upload.lua" <<LUA
local f = io.open("$work/noise.jpg", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "image/jpeg"
done = function(summary, latency, requests)
  io.write(string.format("non2xx %d\n", summary.errors.status))
end
LUA
wrk -t2 -c16 -d"${seconds}s" --latency -s "$work/upload.lua" "$base/api/v1/media" | tee "$work/wrk.txt"
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
echo "== uploads/s: $rps; MB/s: $(python3 -c "print(f'{$rps * $bytes / 1e6:.1f}')"); p99: $(awk '/ 99%/ {print $2}' "$work/wrk.txt"); app peak RSS: $(($(rss_kib VmHWM) / 1024)) MiB"
