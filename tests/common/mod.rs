//! Helpers shared by the integration tests: a scratch workspace with its own content,
//! index and settings, and the `briefbot` binary pointed at it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use briefbot::config::Settings;

pub mod e2e;
pub mod fake_discord;
pub mod pdf;
pub mod state;
pub mod tiny_bert;

/// A moderator, as the bot's commands name who asked.
pub fn moderator() -> briefbot::moderate::Actor {
    briefbot::moderate::Actor {
        id: 77,
        name: "mod".into(),
        guild: Some(5),
    }
}

/// The workspace's audit trail, oldest first, as `briefbot audit --json` prints it (the
/// fields of the old audit file: time, actor {id, name, guild}, action, target, outcome).
pub fn audit(ws: &Workspace) -> Vec<serde_json::Value> {
    json_lines(ws, &["audit", "--json"])
}

/// The votes in the workspace's state database, oldest first (`briefbot feedback --json`).
pub fn feedback(ws: &Workspace) -> Vec<serde_json::Value> {
    json_lines(ws, &["feedback", "--json"])
}

/// The JSON Lines `briefbot ARGS` prints in the workspace.
fn json_lines(ws: &Workspace, args: &[&str]) -> Vec<serde_json::Value> {
    let out = ws.cmd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The questions and topics of `tests/fixtures/gaps/NAME` (JSON Lines: question, topic).
pub fn gaps_fixture(name: &str) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(fixtures().join("gaps").join(name)).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["question"].as_str().unwrap().to_string(),
                v["topic"].as_str().unwrap().to_string(),
            )
        })
        .unzip()
}

/// The `briefbot` binary as a child process with no settings from the environment: every
/// `BRIEFBOT_*` variable and `DISCORD_TOKEN` removed (a test sets what it needs after).
/// A developer's own, such as the `BRIEFBOT_SEARCH__SEMANTIC__MODEL_DIR` that `briefbot
/// model fetch` suggests exporting, must not change what a test runs: with it, a bot
/// under test embedded with the developer's model instead of the test's.
pub fn briefbot() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("briefbot"));
    without_settings_from_env(&mut cmd);
    cmd
}

/// Removes every `BRIEFBOT_*` variable and `DISCORD_TOKEN` from `cmd`'s environment (for a
/// wrapper, such as a shell, that runs briefbot).
pub fn without_settings_from_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("BRIEFBOT_") || key == "DISCORD_TOKEN" {
            cmd.env_remove(key);
        }
    }
    cmd
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A folder with `content/`, `index/` and `config.toml`, deleted when dropped.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// A workspace whose content is a copy of `tests/fixtures/content`.
    pub fn with_fixtures() -> Workspace {
        let ws = Workspace::empty();
        copy_dir(&fixtures().join("content"), &ws.content());
        ws
    }

    /// A workspace whose content is a copy of the bundled `content/` folder.
    pub fn with_bundled_briefing() -> Workspace {
        let ws = Workspace::empty();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
            &ws.content(),
        );
        ws
    }

    pub fn empty() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("content")).unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        Workspace { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn content(&self) -> PathBuf {
        self.path().join("content")
    }

    pub fn index(&self) -> PathBuf {
        self.path().join("index")
    }

    pub fn config(&self) -> PathBuf {
        self.path().join("config.toml")
    }

    pub fn settings(&self) -> Settings {
        Settings::load_with_env(Some(&self.config()), &Default::default()).unwrap()
    }

    /// Copies one file of `tests/fixtures/bad` into the content folder.
    pub fn add_bad(&self, name: &str) {
        std::fs::copy(fixtures().join("bad").join(name), self.content().join(name)).unwrap();
    }

    /// `briefbot --config <workspace>/config.toml`, with no settings from the environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::from_std(briefbot());
        cmd.current_dir(self.path())
            .arg("--config")
            .arg(self.config())
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs `briefbot ask --json` and returns the parsed answer.
    pub fn ask_json(&self, question: &str) -> serde_json::Value {
        self.json(&["ask", "--json", "--", question])
    }

    /// Runs `briefbot <args>`, checks that it succeeded, and parses its output as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs `briefbot eval` on the fixture briefings and questions with `extra` flags,
    /// checks that it succeeded, and returns its standard output.
    pub fn eval_fixtures(&self, extra: &[&str]) -> String {
        let out = self
            .cmd()
            .arg("eval")
            .args(extra)
            .arg("--content")
            .arg(fixtures().join("content"))
            .arg("--questions")
            .arg(fixtures().join("questions.jsonl"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "eval failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The live index version named by `index/CURRENT`.
    pub fn current_version(&self) -> Option<String> {
        std::fs::read_to_string(self.index().join("CURRENT"))
            .ok()
            .map(|s| s.trim().to_string())
    }
}

/// The words in bold in a hit of `ask --json`: its text at each of its highlights.
pub fn highlighted(hit: &serde_json::Value) -> Vec<String> {
    let text = hit["text"].as_str().unwrap();
    hit["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize].to_string())
        .collect()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Opens the live index version and searches it, as `briefbot ask` does: what a reader
/// sees at this moment.
#[allow(dead_code)]
pub fn search_live(
    settings: &Settings,
    question: &str,
    k: usize,
) -> Result<Vec<briefbot::search::Hit>, String> {
    use briefbot::search::{Engine, Ranking, SearchOptions};
    let open = briefbot::app::store(settings)
        .open()
        .map_err(|e| e.to_string())?;
    let engine = Engine::new(open, SearchOptions::from_settings(settings, Ranking::Full))
        .map_err(|e| e.to_string())?;
    engine.search(question, k, None).map_err(|e| e.to_string())
}

/// Sets its flag when dropped: readers stop however the writer's loop ends (a failed
/// build must fail the test, not leave it waiting for the readers).
#[allow(dead_code)]
pub struct StopOnDrop<'a>(pub &'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `briefbot index --watch` on a workspace, its output read line by line; stopped when
/// dropped, and after two minutes should a test wait for a line that never comes.
pub struct Watcher {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Watcher {
    /// Starts the watcher with `env` set (e.g. a short `BRIEFBOT_CONTENT__WATCH_DELAY_MS`).
    pub fn start(ws: &Workspace, env: &[(&str, &str)]) -> Watcher {
        use std::io::BufRead;
        let mut child = briefbot()
            .arg("--config")
            .arg(ws.config())
            .args(["index", "--watch"])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(120));
            let _ = std::process::Command::new("kill").arg(pid).status();
        });
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        Watcher { child, lines }
    }

    /// The lines it prints up to the first that starts with `prefix`, that one included;
    /// panics, naming them, when its output ends first.
    pub fn until(&mut self, prefix: &str) -> Vec<String> {
        let mut seen = Vec::new();
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            let done = line.starts_with(prefix);
            seen.push(line);
            if done {
                return seen;
            }
        }
        panic!("the watcher never printed {prefix:?}: {seen:?}");
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The live version's first segment file of kind `ext`.
pub fn segment_file(live: &std::path::Path, ext: &str) -> std::path::PathBuf {
    std::fs::read_dir(live)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap_or_else(|| panic!("no .{ext} file in {}", live.display()))
}

/// Zeroes the first half of a stored-text file in place (a process that has it mapped sees
/// it), keeping its footer: tantivy then fails to decompress the block, an I/O error. The
/// file keeps its modification time, as with bit rot: a process that checked it before
/// knows it by the same identity.
pub fn zero_stored_text(path: &std::path::Path) {
    use std::io::Write;
    let meta = std::fs::metadata(path).unwrap();
    let half = meta.len() as usize / 2;
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all(&vec![0u8; half]).unwrap();
    file.set_modified(meta.modified().unwrap()).unwrap();
}

/// Changes one byte of the live version's columns file (`.fast`; its footer is whole, so a
/// one-shot command's opening sees nothing) so that tantivy panics when it reads the
/// passages' columns — it trusts its sstable's block lengths: each byte in turn is
/// changed, the passage `id` looked up in this process from the version opened as `ask`
/// opens it, and the byte put back unless that panicked. The file keeps its modification
/// time, as with bit rot.
pub fn damage_the_columns_so_that_tantivy_panics(ws: &Workspace, id: &str) {
    use std::os::unix::fs::FileExt;
    let settings = ws.settings();
    let path = segment_file(&ws.index().join(ws.current_version().unwrap()), "fast");
    let meta = std::fs::metadata(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    let look_up = || {
        let open = briefbot::app::store(&settings).open().ok()?;
        let options = briefbot::search::SearchOptions::from_settings(
            &settings,
            briefbot::search::Ranking::Full,
        );
        let engine = briefbot::search::Engine::new(open, options).ok()?;
        engine.passage(id).ok()
    };
    for (at, byte) in bytes.iter().enumerate() {
        file.write_at(&[byte ^ 0xff], at as u64).unwrap();
        if std::panic::catch_unwind(look_up).is_err() {
            file.set_modified(meta.modified().unwrap()).unwrap();
            return;
        }
        file.write_at(&[*byte], at as u64).unwrap();
    }
    panic!("no changed byte of {} makes tantivy panic", path.display());
}

/// Changes one letter of `word` where it first stands in a stored-text file, in place
/// and keeping the file's modification time, as bit rot would: among a compressed block's
/// literals, so that the block still decompresses — to other words than the briefing's.
pub fn change_a_stored_letter(path: &std::path::Path, word: &str) {
    use std::os::unix::fs::FileExt;
    let meta = std::fs::metadata(path).unwrap();
    let bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(word.len())
        .position(|w| w == word.as_bytes())
        .unwrap_or_else(|| panic!("{word:?} is not stored as it is in {}", path.display()));
    // Its first letter's case: a process that has the file mapped sees the change.
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.write_at(&[bytes[at] ^ 0x20], at as u64).unwrap();
    file.set_modified(meta.modified().unwrap()).unwrap();
}

/// An index built by a writer that answers nothing (the core of `index --watch`) and a
/// reader bot answering from it.
pub fn a_writer_and_a_reader_bot() -> (Workspace, briefbot::live::Live, briefbot::discord::bot::Bot)
{
    let ws = Workspace::with_fixtures();
    let writer = briefbot::live::Live::open_as(&ws.settings(), "test").unwrap();
    let mut reader = ws.settings();
    reader.index.role = briefbot::config::Role::Reader;
    let bot = briefbot::discord::bot::Bot::new(reader).unwrap();
    (ws, writer, bot)
}

/// Zeroes the live version's stored text ([`zero_stored_text`]); the id of a passage it
/// held that `bot` has not read.
pub fn damage_the_first_stored_passage(
    ws: &Workspace,
    bot: &briefbot::discord::bot::Bot,
) -> String {
    let id = first_stored_passage(bot);
    zero_stored_text(&segment_file(
        &ws.index().join(ws.current_version().unwrap()),
        "store",
    ));
    id
}

/// The id of the passage stored first (row 0), by the manifest alone.
pub fn first_stored_passage(bot: &briefbot::discord::bot::Bot) -> String {
    let engine = bot.engine();
    let first = engine
        .manifest()
        .briefings
        .iter()
        .find(|b| b.first_row == 0)
        .unwrap();
    format!("{}:1", first.slug)
}

/// `briefbot ask --json QUESTION` on `ws` (with `env` set) over an index whose stored text
/// is damaged: it must rebuild, saying so and naming the `.store` file, and answer. The
/// answer.
pub fn ask_over_damaged_stored_text(
    ws: &Workspace,
    env: &[(&str, &str)],
    question: &str,
) -> serde_json::Value {
    let out = ws
        .cmd()
        .envs(env.iter().copied())
        .args(["ask", "--json", question])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(".store"), "{stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}
