#!/usr/bin/env bash
# Side-by-side benchmark: Prasaran's engine bench (A) against the Node + Fastify +
# PostgreSQL + Redis + BullMQ baseline (B), run alternately A B A B … in one
# sitting on the same workload, since only ratios taken side by side mean
# anything on a noisy machine.
#
#   benches/vs_bullmq.sh                        # 2 rounds, N 20000, K 64, 100 users × 3 connections
#   ROUNDS=3 N=5000 LATENCY_MS=20 benches/vs_bullmq.sh
#   benches/vs_bullmq.sh --self-test            # checks the parsers on built-in samples; runs nothing
#   DRY_RUN=1 PRASARAN_SAMPLE=a.md BULLMQ_SAMPLE=b.json benches/vs_bullmq.sh
#                                               # whole flow with saved outputs instead of the runs
#
# A: cargo bench --bench engine -- --publishes N --concurrency K --users USERS
#    --targets CONNECTIONS --latency-ms LATENCY_MS (built once before the first round).
# B: BASELINE_DIR/run.sh (default /work/bullmq-baseline; copied from BASELINE_SRC,
#    default /work/shared/baselines/bullmq, and npm-installed if it has no node_modules)
#    with N, K, SEED_USERS, SEED_CONNECTIONS, SINK_LATENCY_MS, PG_URL, REDIS_URL.
#
# Environment: ROUNDS (2) N (20000) K (64) USERS (100) CONNECTIONS (3) LATENCY_MS (0)
#   BASELINE_DIR BASELINE_SRC PG_URL (postgres://postgres@127.0.0.1:5432/postgres)
#   REDIS_URL (redis://127.0.0.1:6379/0) COOLDOWN_S (5, pause between runs)
#   OUT_DIR (target/vs-bullmq/<timestamp>)
#
# Prints a markdown table (one row per run, each side's median, then the ratios of
# the medians) and keeps every raw output, the baseline's logs, results.tsv and
# summary.md in OUT_DIR. Exits non-zero if any run failed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${ROUNDS:-2}" N="${N:-20000}" K="${K:-64}" USERS="${USERS:-100}"
CONNECTIONS="${CONNECTIONS:-3}" LATENCY_MS="${LATENCY_MS:-0}" COOLDOWN_S="${COOLDOWN_S:-5}"
BASELINE_DIR="${BASELINE_DIR:-/work/bullmq-baseline}"
BASELINE_SRC="${BASELINE_SRC:-/work/shared/baselines/bullmq}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
DRY_RUN="${DRY_RUN:-0}"

# Parsing and the summary, in one python3 program: `parse-prasaran FILE`,
# `parse-bullmq FILE` (print "accepted acc_p99 e2e comp_p99 dup"), `summary TSV`,
# `self-test`.
read -r -d '' PY <<'PYEOF' || true
import json, re, statistics, sys

FIELDS = ("accepted", "acc_p99", "e2e", "comp_p99", "dup")
NUM = r"(\d[\d,]*(?:\.\d+)?)\s*(ms|s)?\b"

def numbers(text):
    """Every number in text as (value, unit); thousands commas dropped, seconds in ms."""
    out = []
    for m in re.finditer(NUM, text):
        v = float(m.group(1).replace(",", ""))
        out.append(v * 1000 if m.group(2) == "s" else v)
    return out

def parse_prasaran(text):
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(cells) >= 2:
            rows.setdefault(cells[0].lower(), " | ".join(cells[1:]))
    def row(prefix, index):
        for label, value in rows.items():
            if label.startswith(prefix) and "(engine idle)" not in label:
                nums = numbers(value)
                if len(nums) > index:
                    return nums[index]
        raise ValueError(f"no '{prefix}…' row with {index + 1} number(s) in the Prasaran table")
    return (row("accepted publishes/s", 0), row("accept latency p50 / p99", 1),
            row("end-to-end tasks/s", 0), row("completion latency p50 / p99", 1),
            row("posts in the sandbox / duplicates", 1))

def parse_bullmq(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            j = json.loads(line)
            if j.get("all_terminal") is False:
                print("warning: baseline drain timed out (all_terminal false)", file=sys.stderr)
            return tuple(float(j[k]) for k in
                         ("accepted_rps", "accept_p99_ms", "e2e_tasks_per_s", "completion_p99_ms", "duplicates"))
    raise ValueError("no JSON line in the baseline output")

def fmt(v, digits=0):
    return "—" if v is None else f"{v:,.{digits}f}"

def summary(tsv):
    runs = []  # (label, impl, values or None)
    for line in open(tsv):
        label, impl, status, *vals = line.rstrip("\n").split("\t")
        runs.append((label, impl, [float(v) for v in vals] if status == "ok" else None))
    out = ["| run | accepted publishes/s | accept p99 ms | e2e tasks/s | completion p99 ms | duplicates |",
           "| --- | --- | --- | --- | --- | --- |"]
    for label, _, v in runs:
        if v is None:
            out.append(f"| {label} | failed | | | | |")
        else:
            out.append(f"| {label} | {fmt(v[0])} | {fmt(v[1], 1)} | {fmt(v[2])} | {fmt(v[3])} | {fmt(v[4])} |")
    med = {}
    for impl, name in (("prasaran", "Prasaran"), ("bullmq", "BullMQ")):
        ok = [v for _, i, v in runs if i == impl and v is not None]
        if ok:
            med[impl] = [statistics.median(col) for col in zip(*ok)]
            m = med[impl]
            out.append(f"| **{name} median** ({len(ok)} runs) | {fmt(m[0])} | {fmt(m[1], 1)} | {fmt(m[2])} | {fmt(m[3])} | {fmt(m[4])} |")
    if len(med) == 2:
        p, b = med["prasaran"], med["bullmq"]
        r = lambda x, y: "—" if not y else f"{x / y:.2f}×"
        out.append(f"| **ratio** (of medians) | {r(p[0], b[0])} Prasaran/BullMQ | {r(b[1], p[1])} BullMQ/Prasaran "
                   f"| {r(p[2], b[2])} Prasaran/BullMQ | {r(b[3], p[3])} BullMQ/Prasaran | |")
    return "\n".join(out)

SAMPLE_TABLE = """   Compiling prasaran v0.1.0
| figure | value |
| --- | --- |
| publishes × targets | 20000 × 3 = 60000 tasks (100 users, concurrency 64, platform latency 0 ms) |
| accepted publishes/s | 2905 (8716 tasks/s created) |
| accept latency p50 / p99 | 21.0 ms / 48.0 ms |
| end-to-end tasks/s (succeeded) | 5153 |
| completion latency p50 / p99 | 2400 ms / 4700 ms |
| CPU s per 1,000 tasks (app / PostgreSQL) | 0.21 / 0.35 |
| tasks succeeded / not | 60000 / 0 |
| posts in the sandbox / duplicates | 60000 / 0 |
| app peak RSS | 212 MiB |
"""
SAMPLE_JSON = ('[loadgen] something\n{"impl":"node-fastify-bullmq","n":2000,"accepted_rps":292.2,"accept_p99_ms":1084.09,'
               '"e2e_tasks_per_s":522.7,"completion_p99_ms":4799.68,"duplicates":0,"all_terminal":true,'
               '"cpu_cores":{"whole_run":{"other":0.77}}}\n')

def self_test():
    assert parse_prasaran(SAMPLE_TABLE) == (2905, 48.0, 5153, 4700, 0), parse_prasaran(SAMPLE_TABLE)
    # Reordered rows, thousands separators, seconds instead of ms, extra columns.
    alt = ("| completion latency p50 / p99 | 2.4 s / 4.7 s |\n| accepted publishes/s | 12,905 (38,716 tasks/s created) |\n"
           "| accept latency p50 / p99 | 21 ms / 48.5 ms | x |\n| end-to-end tasks/s (succeeded) | 5,153 |\n"
           "| posts in the sandbox / duplicates | 60000 / 2 |\n")
    assert parse_prasaran(alt) == (12905, 48.5, 5153, 4700, 2), parse_prasaran(alt)
    try:
        parse_prasaran("| accepted publishes/s (engine idle) | 3000 |\n| accept latency p50 / p99 | 1 ms / 2 ms |")
        raise AssertionError("an accept-only table must not parse")
    except ValueError:
        pass
    assert parse_bullmq(SAMPLE_JSON) == (292.2, 1084.09, 522.7, 4799.68, 0), parse_bullmq(SAMPLE_JSON)
    print("self-test: parsers ok", file=sys.stderr)

cmd = sys.argv[1]
if cmd == "parse-prasaran":
    print(*parse_prasaran(open(sys.argv[2]).read()))
elif cmd == "parse-bullmq":
    print(*parse_bullmq(open(sys.argv[2]).read()))
elif cmd == "summary":
    print(summary(sys.argv[2]))
elif cmd == "self-test":
    self_test()
elif cmd == "sample-table":
    sys.stdout.write(SAMPLE_TABLE)
elif cmd == "sample-json":
    sys.stdout.write(SAMPLE_JSON)
PYEOF
py() { python3 -c "$PY" "$@"; }

if [[ "${1:-}" == "--self-test" ]]; then
  py self-test
  exit 0
fi

OUT_DIR="${OUT_DIR:-$REPO/target/vs-bullmq/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.tsv"
: >"$RESULTS"
{
  echo "started $(date -Is) on $(hostname), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "ROUNDS=$ROUNDS N=$N K=$K USERS=$USERS CONNECTIONS=$CONNECTIONS LATENCY_MS=$LATENCY_MS DRY_RUN=$DRY_RUN"
  echo "BASELINE_DIR=$BASELINE_DIR PG_URL=$PG_URL REDIS_URL=$REDIS_URL"
  echo "prasaran $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
} >"$OUT_DIR/meta.txt"
echo "vs_bullmq: raw outputs in $OUT_DIR" >&2

if [[ "$DRY_RUN" == 1 ]]; then
  # Stand-ins for the two runs: saved outputs (or the built-in samples).
  if [[ -z "${PRASARAN_SAMPLE:-}" ]]; then PRASARAN_SAMPLE="$OUT_DIR/sample-prasaran.md"; py sample-table >"$PRASARAN_SAMPLE"; fi
  if [[ -z "${BULLMQ_SAMPLE:-}" ]]; then BULLMQ_SAMPLE="$OUT_DIR/sample-bullmq.json"; py sample-json >"$BULLMQ_SAMPLE"; fi
  COOLDOWN_S=0
else
  if [[ ! -d "$BASELINE_DIR/node_modules" ]]; then
    if [[ ! -x "$BASELINE_DIR/run.sh" ]]; then
      echo "vs_bullmq: copying $BASELINE_SRC to $BASELINE_DIR" >&2
      mkdir -p "$BASELINE_DIR"
      cp -r "$BASELINE_SRC/." "$BASELINE_DIR/"
      chmod -R u+w "$BASELINE_DIR"
    fi
    echo "vs_bullmq: npm install in $BASELINE_DIR" >&2
    (cd "$BASELINE_DIR" && npm install --no-audit --no-fund) >&2
  fi
  pg_isready -q -d "$PG_URL" || { echo "vs_bullmq: PostgreSQL at $PG_URL is not accepting connections" >&2; exit 1; }
  redis-cli -u "$REDIS_URL" ping >/dev/null || { echo "vs_bullmq: Redis at $REDIS_URL does not answer" >&2; exit 1; }
  echo "vs_bullmq: building the engine bench" >&2
  (cd "$REPO" && cargo bench --bench engine --no-run) 2>"$OUT_DIR/build.err" >&2 \
    || { tail -30 "$OUT_DIR/build.err" >&2; exit 1; }
fi

failed=0
# record LABEL IMPL PARSER OUTFILE EXIT_STATUS
record() {
  local values
  if [[ "$5" == 0 ]] && values="$(py "$3" "$4" 2>>"$OUT_DIR/parse.err")"; then
    printf '%s\t%s\tok\t%s\n' "$1" "$2" "${values// /$'\t'}" >>"$RESULTS"
    echo "vs_bullmq: $1: accepted/s, accept p99, e2e tasks/s, completion p99, dup = $values" >&2
  else
    printf '%s\t%s\tfailed\n' "$1" "$2" >>"$RESULTS"
    echo "vs_bullmq: $1 FAILED (exit $5); see $4 and ${4%.*}.err, $OUT_DIR/parse.err" >&2
    failed=1
  fi
}

run_prasaran() {  # ROUND
  local out="$OUT_DIR/prasaran-r$1.md" rc=0
  echo "vs_bullmq: round $1 A: Prasaran ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
  if [[ "$DRY_RUN" == 1 ]]; then
    cp "$PRASARAN_SAMPLE" "$out"; : >"${out%.md}.err"
  else
    (cd "$REPO" && cargo bench --bench engine -- --publishes "$N" --concurrency "$K" --users "$USERS" \
        --targets "$CONNECTIONS" --latency-ms "$LATENCY_MS") >"$out" 2>"${out%.md}.err" || rc=$?
    if [[ -d "$REPO/target/bench-logs" ]]; then cp -r "$REPO/target/bench-logs" "$OUT_DIR/prasaran-r$1-bench-logs"; fi
  fi
  record "A$1 Prasaran" prasaran parse-prasaran "$out" "$rc"
}

run_bullmq() {  # ROUND
  local out="$OUT_DIR/bullmq-r$1.json" rc=0
  echo "vs_bullmq: round $1 B: BullMQ baseline ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
  if [[ "$DRY_RUN" == 1 ]]; then
    cp "$BULLMQ_SAMPLE" "$out"; : >"${out%.json}.err"
  else
    (cd "$BASELINE_DIR" && N="$N" K="$K" SEED_USERS="$USERS" SEED_CONNECTIONS="$CONNECTIONS" \
        SINK_LATENCY_MS="$LATENCY_MS" PG_URL="$PG_URL" REDIS_URL="$REDIS_URL" \
        RUN_DIR="$OUT_DIR/bullmq-r$1-logs" ./run.sh) >"$out" 2>"${out%.json}.err" || rc=$?
  fi
  record "B$1 BullMQ" bullmq parse-bullmq "$out" "$rc"
}

for round in $(seq 1 "$ROUNDS"); do
  run_prasaran "$round"
  sleep "$COOLDOWN_S"
  run_bullmq "$round"
  [[ "$round" == "$ROUNDS" ]] || sleep "$COOLDOWN_S"
done

{
  echo "Workload: N $N publishes, K $K, $USERS users × $CONNECTIONS connections, platform latency $LATENCY_MS ms; $ROUNDS rounds A B … ($(date -Is))."
  echo
  py summary "$RESULTS"
} | tee "$OUT_DIR/summary.md"
exit "$failed"
