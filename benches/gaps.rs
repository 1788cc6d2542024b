//! The unanswered-questions report's grouping: average-linkage clustering of 250 and 1,000
//! questions (the most a report groups) by their content words. Questions are made from a
//! small vocabulary of topics, so groups form as they would on a real server.
//!
//! `cargo bench --bench gaps`.

use briefbot::gaps;
use criterion::{Criterion, criterion_group, criterion_main};

const TOPICS: [&[&str]; 8] = [
    &["tidal", "barrage", "lagoon", "electricity", "severn"],
    &["night", "train", "sleeper", "rail", "vienna"],
    &["cod", "quota", "fishing", "boats", "stocks"],
    &["rent", "tenants", "landlords", "flats", "cap"],
    &["vaccine", "measles", "jab", "immunity", "school"],
    &["plastic", "recycling", "bags", "waste", "bottle"],
    &["voting", "election", "turnout", "register", "age"],
    &["drought", "water", "reservoir", "hosepipe", "ban"],
];

/// `n` questions, each of two or three words of one topic in a question frame.
fn questions(n: usize) -> Vec<String> {
    let frames = [
        "Why is the {} so {}?",
        "Who pays for the {} and {}?",
        "When will {} {} change?",
    ];
    (0..n)
        .map(|i| {
            let words = TOPICS[i % TOPICS.len()];
            let (a, b) = (words[i % words.len()], words[(i / 8 + 1) % words.len()]);
            frames[i % frames.len()]
                .replacen("{}", a, 1)
                .replacen("{}", b, 1)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    for n in [250usize, gaps::MAX_GROUPED] {
        let qs = questions(n);
        let refs: Vec<&str> = qs.iter().map(String::as_str).collect();
        c.bench_function(&format!("group {n} questions"), |b| {
            b.iter(|| gaps::group(&refs, None))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
