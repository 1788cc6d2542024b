#!/bin/bash
# How long `briefbot index --watch` (a writer's start, as a bot's) takes to watch, and to
# make the model's vectors, from an empty index and embedding cache:
#
#   scripts/watch_start.sh BRIEFBOT CONTENT MODEL_DIR
#
# e.g. scripts/watch_start.sh target/release/briefbot ../shared/eval/squad-a/content \
#      models/all-MiniLM-L6-v2
# Works in a scratch folder, removed at the end; prints the two times and the output.
set -eu
bin=$(realpath "$1"); content=$(realpath "$2"); model=$(realpath "$3")
config=$(realpath "$(dirname "$0")/../config.toml")
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cp -r "$content" "$w/content"
start=$(date +%s.%N)
BRIEFBOT_CONTENT__DIR=$w/content BRIEFBOT_INDEX__DIR=$w/index \
  BRIEFBOT_SEARCH__SEMANTIC__MODEL_DIR=$model \
  "$bin" --config "$config" index --watch >"$w/out" 2>"$w/err" &
pid=$!
since() { echo "$(date +%s.%N) - $start" | bc; }
until grep -q Watching "$w/out"; do
  kill -0 $pid 2>/dev/null || { tail -5 "$w/err"; exit 1; }
  sleep 0.1
done
echo "watching after $(since) s"
# A start that embedded everything first prints no "Made the model's vectors".
for _ in $(seq 1 6000); do
  grep -q "Made the model" "$w/out" && { echo "vectors made after $(since) s"; break; }
  grep -q "making them in the background" "$w/out" || break
  sleep 0.1
done
kill $pid
wait $pid 2>/dev/null || true
cat "$w/out"
