//! How long an incremental update takes to reach a reader, measured as the README's
//! Performance section reports it (`scripts/perf.sh --updates DIR` runs it):
//!
//!   cargo run --release --example update_latency -- DIR [TRIES] [UPDATES]
//!
//! DIR is a generated corpus with its `config.toml` and a built index (as `scripts/perf.sh`
//! leaves them). For each of add (a new 20-paragraph briefing), change (one paragraph of
//! it) and remove (it), TRIES times: the file is written, `briefbot index` started as its
//! own process, and a reader in this process, following `CURRENT` every `index.reload_ms`
//! as a reader bot does (checking the new version's checksums), asks a question only the
//! change answers until the answer shows it. Reports p50 and max from the command's
//! start to that answer, the writer's peak RSS and the bytes it wrote. Then UPDATES more
//! updates in a row, and search latency, index size and segments against a fresh full
//! rebuild.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use briefbot::app;
use briefbot::config::Settings;
use briefbot::index::Depth;
use briefbot::search::{Engine, Ranking, SearchOptions};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("a corpus folder"));
    let tries: usize = args.next().map_or(Ok(20), |a| a.parse())?;
    let updates: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let config = dir.join("config.toml");
    let settings = Settings::load_with_env(Some(&config), &Default::default())?;
    let bin = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("briefbot"))
        .expect("target/release/briefbot");
    let reader = Reader::start(settings.clone());
    // Its first version is opened whole (every checksum read once) before the tries.
    reader.wait_for("harbour", true, Duration::from_secs(600));

    let mut rows = Vec::new();
    for kind in ["add", "change", "remove"] {
        let (mut seconds, mut rss, mut written) = (Vec::new(), Vec::new(), Vec::new());
        for t in 0..tries {
            let marker = format!("zq{kind}{t}x");
            let file = dir.join("content").join(format!("zz-update-{t}.md"));
            let (expect_present, text) = match kind {
                "add" => (true, briefing(&marker, None)),
                "change" => {
                    let old = format!("zqadd{t}x");
                    (true, briefing(&old, Some(&marker)))
                }
                _ => (false, String::new()),
            };
            let question = match kind {
                "remove" => format!("zqchange{t}x"),
                _ => marker.clone(),
            };
            if kind == "remove" {
                std::fs::remove_file(&file)?;
            } else {
                std::fs::write(&file, text)?;
            }
            let started = Instant::now();
            // Under /usr/bin/time: the peak RSS of a child forked from this process (which
            // maps the whole index) would count this process's pages until its exec.
            let rss_file = dir.join(".update-rss");
            let child = Command::new("/usr/bin/time")
                .args(["-f", "%M", "-o"])
                .arg(&rss_file)
                .arg(&bin)
                .arg("--config")
                .arg(&config)
                .arg("index")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::inherit())
                .spawn()?;
            let out = wait_for_output(child)?;
            let peak_kb: u64 = std::fs::read_to_string(&rss_file)?.trim().parse()?;
            let seen = reader.wait_for(&question, expect_present, Duration::from_secs(30));
            let elapsed = seen.map(|at| at.duration_since(started).as_secs_f64());
            seconds.push(elapsed.unwrap_or(f64::INFINITY));
            rss.push(peak_kb / 1024);
            written.push(bytes_written(&out));
        }
        rows.push((kind, seconds, rss, written));
    }
    println!(
        "| change | visible to a reader p50 / max | writer peak RSS (max) | written per update (median) |"
    );
    println!("|---|---|---|---|");
    for (kind, mut s, rss, mut w) in rows {
        s.sort_by(f64::total_cmp);
        w.sort();
        println!(
            "| {kind} | {:.2} s / {:.2} s | {} MB | {} |",
            s[s.len() / 2],
            s[s.len() - 1],
            rss.iter().max().unwrap_or(&0),
            w[w.len() / 2]
        );
    }

    // Many updates in a row: one briefing changed each time.
    let started = Instant::now();
    for u in 0..updates {
        let file = dir.join("content").join("zz-many.md");
        std::fs::write(&file, briefing(&format!("zqmany{u}x"), None))?;
        let status = Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .arg("index")
            .stdout(std::process::Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "update {u} failed");
    }
    println!(
        "{updates} updates in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let after = measure(&settings, &dir)?;
    let status = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .args(["index", "--full"])
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "the full rebuild failed");
    let fresh = measure(&settings, &dir)?;
    println!("| index | segments | size | search p50 | search p99 |");
    println!("|---|---|---|---|---|");
    for (name, m) in [
        (format!("after {updates} updates"), after),
        ("fresh full rebuild".into(), fresh),
    ] {
        println!(
            "| {name} | {} | {} MB | {:.2} ms | {:.2} ms |",
            m.segments, m.mb, m.p50_ms, m.p99_ms
        );
    }
    Ok(())
}

/// A 20-paragraph briefing whose paragraphs carry `marker`; with `changed`, its first
/// paragraph carries that instead.
fn briefing(marker: &str, changed: Option<&str>) -> String {
    let mut text = String::from("# Update probe\n\n");
    for p in 0..20 {
        let word = match (p, changed) {
            (0, Some(c)) => c,
            _ => marker,
        };
        text.push_str(&format!(
            "Paragraph {p} of the probe briefing mentions {word} among harbour tariffs.\n\n"
        ));
    }
    text
}

fn bytes_written(out: &str) -> String {
    out.lines()
        .find_map(|l| {
            let (_, rest) = l.split_once("read, ")?;
            Some(rest.trim_end_matches(" written.").to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// Waits for `child`, returning its standard output.
fn wait_for_output(child: std::process::Child) -> anyhow::Result<String> {
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(out.status.success(), "briefbot index failed: {text}");
    Ok(text)
}

/// A reader following the live version as a reader bot does.
struct Reader {
    engine: Arc<Mutex<Option<(String, Engine)>>>,
}

impl Reader {
    fn start(settings: Settings) -> Reader {
        let engine: Arc<Mutex<Option<(String, Engine)>>> = Arc::default();
        let shared = engine.clone();
        std::thread::spawn(move || {
            let store = app::store(&settings).checking(Depth::Checksums);
            let every = Duration::from_millis(settings.index.reload_ms);
            loop {
                let live = store.live_version();
                let current = shared.lock().unwrap().as_ref().map(|(v, _)| v.clone());
                if live.is_some()
                    && live != current
                    && let Ok(open) = store.open()
                {
                    let name = format!("v-{}", open.manifest.version);
                    let options = SearchOptions::from_settings(&settings, Ranking::Full);
                    if let Ok(e) = Engine::new(open, options) {
                        *shared.lock().unwrap() = Some((name, e));
                    }
                }
                std::thread::sleep(every);
            }
        });
        Reader { engine }
    }

    /// When the reader's answer to `question` first shows (or, `present` false, no longer
    /// shows) the question's word in its first quote.
    fn wait_for(&self, question: &str, present: bool, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let engine = self.engine.lock().unwrap().as_ref().map(|(_, e)| e.clone());
            if let Some(engine) = engine {
                let hits = engine.search_lexical(question, 1, None).unwrap_or_default();
                let shows = hits
                    .first()
                    .is_some_and(|h| h.passage.text.contains(question));
                if shows == present {
                    return Some(Instant::now());
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

struct Measured {
    segments: usize,
    mb: u64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Segments, size on disk and search latency (the corpus's generated questions) of the
/// live version.
fn measure(settings: &Settings, dir: &Path) -> anyhow::Result<Measured> {
    let open = app::store(settings).open()?;
    let segments = open.index.searchable_segment_ids()?.len();
    let mb = std::fs::read_dir(&open.dir)?
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum::<u64>()
        / 1_000_000;
    let engine = Engine::new(open, SearchOptions::from_settings(settings, Ranking::Full))?;
    let questions: Vec<String> = std::fs::read_to_string(dir.join("questions.jsonl"))?
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["question"].as_str().map(str::to_string))
        .collect();
    for q in questions.iter().take(50) {
        engine.search(q, 5, None)?;
    }
    let mut times = Vec::new();
    for q in &questions {
        let t = Instant::now();
        engine.search(q, 5, None)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    Ok(Measured {
        segments,
        mb,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    })
}
