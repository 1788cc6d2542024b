//! The semantic signal's costs: a question's embedding with the real model (when it is
//! installed in `models/all-MiniLM-L6-v2` or `BRIEFBOT_BENCH_MODEL_DIR`), and the exact
//! nearest-vector scan over 100k and 1M passage vectors of 384 dimensions (random unit
//! vectors: the scan's cost does not depend on what they mean), and the checksum of those
//! vectors that every reader verifies when it opens an index version.
//!
//! `cargo bench --bench semantic`; for one core: `RAYON_NUM_THREADS=1 taskset -c 0 cargo bench --bench semantic`.

use std::path::PathBuf;

use briefbot::semantic::{Model, Quantized, Vectors, vectors};
use criterion::{Criterion, criterion_group, criterion_main};

use briefbot::semantic::vectors::random_unit as unit;

fn bench(c: &mut Criterion) {
    let dir = std::env::var_os("BRIEFBOT_BENCH_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2")
        });
    if dir.join("model.safetensors").is_file() {
        let model = Model::load(&dir, "").unwrap();
        c.bench_function("embed question", |b| {
            b.iter(|| model.embed_query("who paid for the moon project").unwrap())
        });
        let paragraph = "The Apollo program was funded by NASA, the United States' civilian \
            space agency, through annual appropriations by Congress; at its peak in 1966 it \
            took more than four percent of the federal budget, and about 400,000 people \
            worked on it at NASA and at the companies and universities it contracted.";
        c.bench_function("embed paragraph", |b| {
            b.iter(|| model.embed(paragraph).unwrap())
        });
    } else {
        eprintln!("no model in {}: embedding not measured", dir.display());
    }

    let dim = 384;
    let scratch = tempfile::tempdir().unwrap();
    for n in [100_000usize, 1_000_000] {
        let rows: Vec<Quantized> = (0..n as u64)
            .map(|i| Quantized::of(&unit(i + 1, dim)))
            .collect();
        let path = scratch.path().join(format!("{n}.bin"));
        // Five sentences a passage, as squad-a's paragraphs have (4.9 on average).
        let sentences: Vec<Vec<Quantized>> = rows.iter().map(|r| vec![r.clone(); 5]).collect();
        let crc32 = vectors::write(&path, "bench", dim, &rows, &sentences).unwrap();
        drop((rows, sentences));
        let v = Vectors::open(&path, None).unwrap();
        let q = unit(424_242, dim);
        c.bench_function(&format!("nearest 20 of {n} vectors"), |b| {
            b.iter(|| v.nearest(&q, 20, std::slice::from_ref(&(0..n))))
        });
        // What every reader pays once per version it opens (the file in the page cache):
        // opening it with its checksum checked (the head: passages' records and offsets).
        c.bench_function(&format!("checksum of {n} vectors"), |b| {
            b.iter(|| Vectors::open(&path, Some(crc32)).unwrap())
        });
        // What a long-running bot pays once per vectors file: every sentence record
        // checked against its own CRC32.
        c.bench_function(&format!("sentence checksums of {n} vectors"), |b| {
            b.iter(|| v.check_sentences(&path).unwrap())
        });
        eprintln!(
            "{n} vectors: {} bytes on disk ({:.1} MB per 100k passages)",
            std::fs::metadata(&path).unwrap().len(),
            std::fs::metadata(&path).unwrap().len() as f64 / n as f64 * 100_000.0 / 1e6
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
