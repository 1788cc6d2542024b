//! The cost of an incremental update ([`IndexStore::update`]): one 20-paragraph briefing
//! changed in a generated corpus of each size in `BRIEFBOT_BENCH_SIZES` (default `10000`),
//! from the update's start to its version published. Each corpus's index is built once
//! into `target/bench-corpora/` (shared with the `answer` bench), and updated in a copy
//! made of hard links, so the `answer` bench's index is never changed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use briefbot::config::Settings;
use briefbot::index::{Changes, IndexStore};
use briefbot::ingest::Briefing;
use criterion::{Criterion, criterion_group, criterion_main};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-corpora")
}

/// A store in `to` whose live version is a hard-linked copy of `from`'s.
fn linked_copy(from: &IndexStore, to: &Path, settings: &Settings) -> IndexStore {
    let _ = std::fs::remove_dir_all(to);
    let live = from.live_version().expect("a built index");
    let dest = to.join(&live);
    std::fs::create_dir_all(&dest).unwrap();
    for entry in std::fs::read_dir(from.root().join(&live)).unwrap() {
        let entry = entry.unwrap();
        std::fs::hard_link(entry.path(), dest.join(entry.file_name())).unwrap();
    }
    std::fs::write(to.join("CURRENT"), &live).unwrap();
    IndexStore::new(
        to,
        settings.index.title_in_body,
        settings.index.writer_memory_mb,
    )
}

fn bench(c: &mut Criterion) {
    let settings = Settings::defaults_in(Path::new(env!("CARGO_MANIFEST_DIR")));
    let sizes = std::env::var("BRIEFBOT_BENCH_SIZES").unwrap_or_else(|_| "10000".into());
    let mut group = c.benchmark_group("update");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for size in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let name = format!("generated-{size}");
        let built = IndexStore::new(
            root().join(&name),
            settings.index.title_in_body,
            settings.index.writer_memory_mb,
        );
        let corpus = briefbot::generate::corpus(size, 42);
        if built.open().is_err() {
            built.rebuild(&corpus).unwrap();
        }
        let store = linked_copy(&built, &root().join(format!("{name}-update")), &settings);
        let template: Briefing = corpus.briefings[corpus.briefings.len() / 2].clone();
        let mut round = 0usize;
        group.bench_function(format!("change one 20-paragraph briefing, {name}"), |b| {
            b.iter(|| {
                round += 1;
                let mut briefing = template.clone();
                briefing.paragraphs.truncate(20);
                briefing.paragraphs[0].text = format!("Round {round} of the update bench.");
                let base = store.open().unwrap();
                let changes = Changes {
                    read: vec![briefing],
                    skipped: base.manifest.skipped.clone(),
                    shaping: base.manifest.shaping.clone(),
                    ..Changes::default()
                };
                store.update(&base, &changes).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
