#!/usr/bin/env bash
# The ablation table of the README: each re-ranking technique switched off in turn
# (its weight set to 0 through the environment), on a question set.
#   scripts/ablation.sh [CONTENT_DIR] [QUESTIONS_FILE]
# Defaults to the public squad-a set beside the project (../shared/eval/squad-a).
set -euo pipefail
cd "$(dirname "$0")/.."
content=${1:-../shared/eval/squad-a/content}
questions=${2:-../shared/eval/squad-a/questions.jsonl}
cargo build --release --quiet
bin=target/release/briefbot

row() {
  local label=$1; shift
  env "$@" "$bin" eval --content "$content" --questions "$questions" --json ${RANKING:+--ranking $RANKING} |
    python3 -c "import json,sys; r=json.load(sys.stdin); print('| $label | %.3f | %.3f | %.3f | %.3f | %.0f |' % (r['recall_at_1'], r['recall_at_3'], r['mrr_at_10'], r['ndcg_at_10'], r['questions_per_second']))"
}

echo "| ranking | R@1 | R@3 | MRR@10 | nDCG@10 | questions/s |"
echo "|---|---|---|---|---|---|"
RANKING=bm25 row "plain BM25 (\`--ranking bm25\`)"
row "BM25, question and stop words dropped (\`search.rerank = false\`)" BRIEFBOT_SEARCH__RERANK=false
row "**full** (defaults)"
for feature in coverage sentence window pairs rarest answer_type briefing title phrase rank \
               bm25_per_term sentence_bm25 near exact names length; do
  upper=$(echo "$feature" | tr '[:lower:]' '[:upper:]')
  row "full without \`$feature\`" "BRIEFBOT_SEARCH__WEIGHTS__$upper=0"
done
row "full, stop words kept (\`search.drop_stop_words = false\`)" BRIEFBOT_SEARCH__DROP_STOP_WORDS=false
