#!/usr/bin/env bash
# The Performance table of the README, for generated corpora of the given sizes:
#   scripts/perf.sh [SIZES]        (default: 10000 100000; add 1000000 for the largest)
#   UPDATES=1 scripts/perf.sh 1000000   also the "update" rows (examples/update_latency.rs)
# Writes corpora under target/perf/, builds each index with the release binary, and prints
# build rate, index size, peak RSS of `ask`, start-to-first-answer and throughput with 1
# and 2 threads; with UPDATES=1, then how fast an added, changed and removed briefing
# reaches a reader process (20 tries each), the writer's peak RSS and bytes written, and
# segments, size and search latency after 200 updates against a fresh full rebuild.
# Latency figures of raw tantivy vs briefbot come from `cargo bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-10000 100000}
cargo build --release --quiet
[ -z "${UPDATES:-}" ] || cargo build --release --quiet --example update_latency
bin=$PWD/target/release/briefbot
for n in $sizes; do
  dir=target/perf/$n
  [ -f "$dir/questions.jsonl" ] || "$bin" generate --paragraphs "$n" --out "$dir" >/dev/null
  printf '[content]\ndir = "content"\n[index]\ndir = "index"\n' > "$dir/config.toml"
  rm -rf "$dir/index"
  sync
  mb=$(du -sm "$dir/content" | cut -f1)
  /usr/bin/time -f "%e %M" -o "$dir/build.time" "$bin" --config "$dir/config.toml" index >/dev/null
  read -r secs build_kb < "$dir/build.time"
  idx_mb=$(du -sm "$dir/index" | cut -f1)
  q=$(head -1 "$dir/questions.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["question"])')
  "$bin" --config "$dir/config.toml" ask "$q" >/dev/null   # warm the page cache
  /usr/bin/time -f "%M" -o "$dir/ask.time" "$bin" --config "$dir/config.toml" ask "$q" >/dev/null
  ask_kb=$(cat "$dir/ask.time")
  starts=()
  for _ in 1 2 3 4 5 6 7 8 9; do
    t0=$EPOCHREALTIME
    "$bin" --config "$dir/config.toml" ask "$q" >/dev/null
    t1=$EPOCHREALTIME
    starts+=("$(python3 -c "print($t1 - $t0)")")
  done
  start_s=$(printf '%s\n' "${starts[@]}" | sort -g | sed -n 5p)
  threads=$("$bin" --config "$dir/config.toml" eval --content "$dir/content" --questions "$dir/questions.jsonl" --threads 2 | grep 'thread(s)' | awk '{print $3}' | paste -sd/)
  python3 - "$n" "$secs" "$mb" "$build_kb" "$idx_mb" "$start_s" "$ask_kb" "$threads" <<'PY'
import sys
n, secs, mb, build_kb, idx_mb, start_s, ask_kb, threads = sys.argv[1:]
n, secs = int(n), float(secs)
one, two = (float(x) for x in threads.split('/'))
print(f"| {n:,} | {n/secs:,.0f} /s ({float(mb)/secs:.1f} MB/s, {int(build_kb)//1024} MB RSS) | {idx_mb} MB "
      f"| {int(ask_kb)//1024} MB | {float(start_s)*1000:.0f} ms | {one:,.0f} / {two:,.0f} ({two/one:.2f}×) |")
PY
done
if [ -n "${UPDATES:-}" ]; then
  for n in $sizes; do
    echo "updates at $n paragraphs:"
    target/release/examples/update_latency "target/perf/$n" 20 200
  done
fi
