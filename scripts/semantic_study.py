#!/usr/bin/env python3
"""Would sentence vectors help? The study behind the README's "Questions in other words".

Reads what `examples/probe_semantic.rs` wrote (passage, title+passage and sentence vectors
of all-MiniLM-L6-v2, question vectors, and each question's candidates with the
re-ranker's features) and prints:

1. dense retrieval alone over every passage, by the passage's vector (p), the
   title-prefixed passage's (t), the best sentence's (s), and sums of them;
2. the hybrid re-ranker as shipped, refitted on squad-a (listwise softmax, as
   `briefbot eval --fit`), refitted with five sentence-vector features added (the best
   sentence's cosine, its z-score and rank among the candidates, the z-score times the
   share of the question's words the best-covered candidate lacks, the briefing's best
   sentence cosine), and refitted with three neighbour features added (the better cosine
   of the paragraphs before and after in the same briefing, its z-score among the
   candidates, and the better of it and the paragraph's own: does the context a pronoun
   leaves out sit next door?), and refitted with six gates added (each of the engine's
   semantic features times the share of the question's words the best-covered candidate
   lacks: may meaning weigh more where the question's words are not the briefing's?),
   alone and with the sentence features: squad-a cross-validated by briefing (two folds),
   paraphrase-a with weights fitted on squad-a only (it is too small to fit on);
3. boosted trees (LambdaMART) learning what the shipped linear ranker misses, with and
   without the sentence features, by lightgbm and by hessboost (each skipped where it is
   not installed).

The sentence vectors are `s.f32` (each sentence embedded alone) unless a second argument
says `c` (`c.f32`: each sentence's vector pooled from its passage's run of the model).

    S=../shared/eval
    cargo run --release --example probe_semantic -- $S/squad-a/content \\
        models/all-MiniLM-L6-v2 target/probe $S/paraphrase-a/questions.jsonl \\
        $S/squad-a/questions.jsonl
    pip install numpy lightgbm hessboost && python3 scripts/semantic_study.py target/probe [s|c]

Needs numpy. Takes a few minutes (the fits are plain numpy).
"""

import json
import sys

import numpy as np

DIM = 384
# The engine's features come first (23, the last six of them semantic: five cosine
# features and `soft`), then the five sentence features, the three neighbour features and
# the six gates this study adds.
LEXICAL_AND_COSINE = 23
ENGINE_SEMANTIC = list(range(17, 23))
SENTENCES = list(range(23, 28))
NEIGHBOURS = list(range(28, 31))
GATES = list(range(31, 37))
WIDTH = 37


def load(out, sentences):
    passages = [json.loads(line) for line in open(f"{out}/passages.jsonl")]

    def matrix(name):
        return np.fromfile(f"{out}/{name}.f32", dtype="<f4").reshape(-1, DIM)

    starts = np.r_[0, np.cumsum([len(p["sentences"]) for p in passages])]
    return passages, matrix("p"), matrix("t"), matrix(sentences), starts, matrix


def best_sentence(cos_sentences, starts):
    """Per passage, the best of its sentences' cosines (columns: passages)."""
    cols = []
    for j in range(len(starts) - 1):
        a, b = starts[j], starts[j + 1]
        cols.append(cos_sentences[..., a:b].max(-1) if b > a else np.full(cos_sentences.shape[:-1], -1.0))
    return np.stack(cols, -1)


def recall(scores, gold):
    ranks = np.array([(scores[i] > scores[i, g]).sum() + 1 for i, g in enumerate(gold) if g is not None])
    return f"R@1 {np.mean(ranks <= 1):.3f}  R@3 {np.mean(ranks <= 3):.3f}  R@10 {np.mean(ranks <= 10):.3f}"


def neighbours(cos, passages):
    """Per passage, the better cosine of the passages before and after it in its briefing
    (-1 where there is none; columns: passages, in row order)."""
    slug = np.array([p["slug"] for p in passages])
    before = np.r_[False, slug[1:] == slug[:-1]]
    after = np.r_[slug[:-1] == slug[1:], False]
    return np.maximum(np.where(before, np.roll(cos, 1, -1), -1.0), np.where(after, np.roll(cos, -1, -1), -1.0))


def samples(out, name, passages, best, cos):
    """Each question's candidates: features (the engine's 23, five sentence ones, three
    neighbour ones, six gates), gold. `best`: each question's best-sentence cosine with every passage;
    `cos`: its cosine with every passage."""
    rows = []
    near = neighbours(cos, passages)
    for i, line in enumerate(open(f"{out}/{name}.jsonl")):
        q = json.loads(line)
        if q["gold"] is None or not q["cands"]:
            rows.append((np.zeros((0, WIDTH)), np.zeros(0, bool), q))
            continue
        # The engine's features before its own five sentence features (23-27 since they
        # were built in): the study makes those itself, from s.f32 or c.f32.
        feats = np.array([c["f"] for c in q["cands"]], dtype=np.float64)[:, :LEXICAL_AND_COSINE]
        idx = np.array([c["p"] for c in q["cands"]])
        sm = best[i][idx]
        z = (sm - sm.mean()) / max(sm.std(), 1e-3) / 3
        rank = 1 / (1 + np.argsort(np.argsort(-sm)))
        best_cov = max(c["coverage"] for c in q["cands"])
        by_briefing = {}
        for j, v in zip(idx, sm):
            s = passages[j]["slug"]
            by_briefing[s] = max(by_briefing.get(s, -1), v)
        briefing = np.array([by_briefing[passages[j]["slug"]] for j in idx])
        extra = np.stack([sm, z, rank, z * (1 - best_cov), briefing], 1)
        nb = near[i][idx]
        nb_z = (nb - nb.mean()) / max(nb.std(), 1e-3) / 3
        context = np.stack([nb, nb_z, np.maximum(nb, cos[i][idx])], 1)
        # Gates: each of the engine's semantic features times the share of the question's
        # words the best-covered candidate lacks, so that meaning can weigh more where
        # the words are not the briefing's (paraphrase-a) than where they are (squad-a).
        gates = feats[:, ENGINE_SEMANTIC] * (1 - best_cov)
        rows.append((np.concatenate([feats, extra, context, gates], 1), idx == q["gold"], q))
    return rows


def fit(rows, features, l2=1e-4, steps=400):
    """Listwise softmax regression with Adam, as src/tune.rs fits, over the columns
    `features`; BM25's weight scaled to 1."""
    w = np.zeros(WIDTH)
    w[0] = 1
    mask = np.zeros(WIDTH)
    mask[features] = 1
    m = np.zeros(WIDTH)
    v = np.zeros(WIDTH)
    lists = [(f, g) for f, g, _ in rows if g.any()]
    for t in range(1, steps + 1):
        grad = np.zeros(WIDTH)
        for f, g in lists:
            s = f @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += (p - g / g.sum()) @ f
        grad = (grad / len(lists) + l2 * w) * mask
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w / w[0] if w[0] > 1e-6 else w


def ranks(rows, w, score=None):
    """Each question's gold rank (999 without one) when its candidates are scored by the
    weights `w`, or by `score(features)` when given (ties: the earlier candidate first)."""
    out = []
    for f, g, _ in rows:
        if not g.any():
            out.append(999)
            continue
        s = f @ w if score is None else score(f)
        k = np.argmax(g)
        out.append(1 + ((s > s[k]) | ((s == s[k]) & (np.arange(len(s)) < k))).sum())
    return np.array(out)


def folds(rows, passages):
    """Each question's fold (0 or 1) for cross-validation by briefing."""
    groups = sorted({passages[q["gold"]]["slug"] for _, _, q in rows})
    return np.array([groups.index(passages[q["gold"]]["slug"]) % 2 for _, _, q in rows])


def quality(r):
    return f"R@1 {np.mean(r <= 1):.3f}  R@3 {np.mean(r <= 3):.3f}  MRR@10 {np.mean(np.where(r <= 10, 1 / r, 0)):.3f}"


def cross_validated(rows, passages, features):
    fold = folds(rows, passages)
    r = np.zeros(len(rows))
    for f in (0, 1):
        w = fit([x for x, k in zip(rows, fold) if k != f], features)
        held = np.where(fold == f)[0]
        r[held] = ranks([rows[i] for i in held], w)
    return r


def lists_of(rs, features, shipped):
    """The candidates of the questions with a gold paragraph, for a tree learner: the
    columns `features`, labels, list sizes and each candidate's linear score."""
    lists = [(f, g) for f, g, _ in rs if g.any()]
    return (
        np.concatenate([f[:, features] for f, _ in lists]),
        np.concatenate([g.astype(int) for _, g in lists]),
        [len(g) for _, g in lists],
        np.concatenate([f @ shipped for f, _ in lists]),
    )


def lightgbm_trees(rs, features, shipped, seed):
    """LambdaMART by lightgbm: 100 trees of 16 leaves."""
    import lightgbm as lgb

    x, y, sizes, start = lists_of(rs, features, shipped)
    params = dict(objective="lambdarank", num_leaves=16, learning_rate=0.05, min_data_in_leaf=50,
                  bagging_fraction=0.8, bagging_freq=1, feature_fraction=0.8, verbose=-1,
                  lambdarank_truncation_level=10, seed=seed)
    model = lgb.train(params, lgb.Dataset(x, y, group=sizes, init_score=start), num_boost_round=100)
    return model.predict


def hessboost_trees(rs, features, shipped, seed):
    """LambdaMART (`rank:ndcg`) by hessboost, the pure-Rust XGBoost whose crate briefbot
    would fit with: 100 trees of depth 4 (16 leaves), the same sampling."""
    import hessboost as hb

    x, y, sizes, start = lists_of(rs, features, shipped)
    params = {"objective": "rank:ndcg", "max_depth": 4, "eta": 0.05, "subsample": 0.8,
              "colsample_bytree": 0.8, "seed": seed, "lambdarank_pair_method": "topk",
              "lambdarank_num_pair_per_sample": 10}
    model = hb.train(params, hb.DMatrix(x, label=y.astype(np.float32), group=sizes, base_margin=start),
                     num_boost_round=100)
    return lambda f: model.predict(hb.DMatrix(f), output_margin=True)


def boosted(rows, passages, shipped):
    """Boosted trees (LambdaMART) on top of the shipped linear ranker: each candidate's
    linear score is the trees' starting point, and 100 trees of 16 leaves learn what it
    misses, from the engine's features alone and with the five sentence features. squad-a
    cross-validated by briefing (the trees trained on the other fold), paraphrase-a with
    trees trained on all of squad-a; five seeds (rows and features are sampled). By
    lightgbm and by hessboost, each where installed (`pip install lightgbm hessboost`)."""
    learners = []
    for name, module, train in (("lightgbm", "lightgbm", lightgbm_trees), ("hessboost", "hessboost", hessboost_trees)):
        try:
            __import__(module)
            learners.append((name, train))
        except ImportError:
            print(f"\nboosted trees by {name}: skipped (pip install {module})")
    squad = rows["squad-a"]
    fold = folds(squad, passages)
    engine = list(range(LEXICAL_AND_COSINE))
    for name, train in learners:
        print(f"\nboosted trees on top of the shipped weights ({name}, LambdaMART, 16 leaves, 100 trees):")

        def ranked(rs, predict, features):
            return ranks(rs, shipped, lambda f: predict(f[:, features]) + f @ shipped)

        for label, features in (("engine's features", engine), ("+ sentences", engine + SENTENCES)):
            for seed in range(5):
                r = np.zeros(len(squad))
                for f in (0, 1):
                    predict = train([x for x, k in zip(squad, fold) if k != f], features, shipped, seed)
                    held = np.where(fold == f)[0]
                    r[held] = ranked([squad[i] for i in held], predict, features)
                predict = train(squad, features, shipped, seed)
                print(f"  {label:18s} seed {seed}: squad-a (cross-validated) {quality(r)}   "
                      f"paraphrase-a {quality(ranked(rows['paraphrase-a'], predict, features))}")


def main(out, sentences):
    passages, pv, tv, sv, starts, matrix = load(out, sentences)
    print(f"{len(passages)} passages, {len(sv)} sentences\n\ndense retrieval alone, every passage:")
    rows = {}
    for name in ("paraphrase-a", "squad-a"):
        qv = matrix(name)
        gold = [json.loads(line)["gold"] for line in open(f"{out}/{name}.jsonl")]
        cp, ct, cs = qv @ pv.T, qv @ tv.T, best_sentence(qv @ sv.T, starts)
        for label, scores in (("p", cp), ("t (title. text)", ct), ("s (best sentence)", cs), ("p + s", cp + cs)):
            print(f"  {name:13s} {label:18s} {recall(scores, gold)}")
        rows[name] = samples(out, name, passages, cs, cp)

    print("\nhybrid re-ranker over the engine's candidates:")
    # The weights the probe's engine used ([search.semantic.weights]), then 0 for the
    # study's own features.
    used = json.load(open(f"{out}/weights.json"))
    shipped = np.r_[np.array([w for _, w in used]), np.zeros(WIDTH - LEXICAL_AND_COSINE)]
    print(f"  shipped weights      squad-a {quality(ranks(rows['squad-a'], shipped))}   "
          f"paraphrase-a {quality(ranks(rows['paraphrase-a'], shipped))}")
    engine = list(range(LEXICAL_AND_COSINE))
    # The engine's semantic features start at its cosine; the study's own come after them.
    first_semantic = [name for name, _ in used].index("cosine")
    for label, features in (
        ("refit, as today", engine),
        ("refit, + sentences", engine + SENTENCES),
        ("refit, + neighbours", engine + NEIGHBOURS),
        ("refit, + gates", engine + GATES),
        ("refit, + sent. + gates", engine + SENTENCES + GATES),
    ):
        w = fit(rows["squad-a"], features)
        cv = cross_validated(rows["squad-a"], passages, features)
        print(f"  {label:20s} squad-a (cross-validated) {quality(cv)}   "
              f"paraphrase-a {quality(ranks(rows['paraphrase-a'], w))}")
        for k in (1.5, 2.0, 3.0):
            scaled = w.copy()
            scaled[first_semantic:] *= k
            print(f"    semantic weights x{k}: squad-a (in-sample) {quality(ranks(rows['squad-a'], scaled))}   "
                  f"paraphrase-a {quality(ranks(rows['paraphrase-a'], scaled))}")
    boosted(rows, passages, shipped)


if __name__ == "__main__":
    # The sentence vectors: "s" (each sentence embedded alone) or "c" (pooled from its
    # passage's run of the model).
    main(sys.argv[1] if len(sys.argv) > 1 else "target/probe", sys.argv[2] if len(sys.argv) > 2 else "s")
