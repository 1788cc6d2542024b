//! Settings: built-in defaults, then `config.toml`, then `config.local.toml`, then the
//! environment, validated into typed values before any work starts.
//!
//! Every other module receives a ready [`Settings`]; nothing past this point reads a raw
//! configuration value. An unknown key or a bad value is an error that names the key. The
//! Discord token is wrapped in [`Secret`] so that it can never be printed by accident.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;

/// Environment variables that start with the prefix but are not settings.
const NON_SETTING_VARS: &[&str] = &[
    "BRIEFBOT_LOG",
    "BRIEFBOT_FAILPOINT",
    // Read by the tests and benchmarks, which run briefbot with them set (.ci/run).
    "BRIEFBOT_TEST_MODEL_DIR",
    "BRIEFBOT_REQUIRE_MODEL",
    "BRIEFBOT_TEST_POSTGRES_URL",
    "BRIEFBOT_REQUIRE_POSTGRES",
    "BRIEFBOT_BENCH_MODEL_DIR",
    "BRIEFBOT_BENCH_SIZES",
    "BRIEFBOT_WRITE_STEMS",
];

/// Why settings could not be loaded; the message always names the file or the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

/// `Ok` when `value` lies in `range`, else an error naming the key and the range.
fn in_range<T: PartialOrd + fmt::Display>(
    key: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), ConfigError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!(
                "must be between {} and {}, got {value}",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// A value that must never be printed: its `Debug` and `Display` show a placeholder.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The whole configuration, as read; see `config.toml` for every key and its default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    pub content: ContentSettings,
    pub index: IndexSettings,
    pub search: SearchSettings,
    pub discord: DiscordSettings,
    pub state: StateSettings,
    pub gaps: GapsSettings,
    pub libraries: LibrariesSettings,
}

/// `[libraries]`: what one server's own library may hold (the shared library, the
/// operator's, has no such limits).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LibrariesSettings {
    /// Briefings in one server's library.
    pub max_briefings: usize,
    /// Paragraphs in one server's library, all its briefings together.
    pub max_paragraphs: u64,
    /// Largest file a server's moderators may `/briefing add`, in bytes.
    pub max_upload_bytes: u64,
}

impl Default for LibrariesSettings {
    fn default() -> Self {
        LibrariesSettings {
            max_briefings: 100,
            max_paragraphs: 10_000,
            max_upload_bytes: 1024 * 1024,
        }
    }
}

/// `[gaps]`: the unanswered-questions report.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GapsSettings {
    /// Recorded questions older than this many days are deleted by the bot.
    pub keep_days: u32,
}

impl Default for GapsSettings {
    fn default() -> Self {
        GapsSettings { keep_days: 90 }
    }
}

/// `[state]`: the database of the bot's state (quiz scores, per-server settings, the audit
/// trail, votes). Answers never need it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSettings {
    /// `sqlite://PATH` (relative to the settings file's folder; created if missing) or
    /// `postgres://user@host/database` for a fleet on several machines.
    pub url: String,
    /// Longest wait for a connection before a command says the state is unavailable.
    pub timeout_seconds: u64,
}

impl Default for StateSettings {
    fn default() -> Self {
        StateSettings {
            url: "sqlite://state.db".into(),
            timeout_seconds: 5,
        }
    }
}

/// `[content]`: where the briefings are and how they are read.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentSettings {
    /// Folder of briefings, read recursively.
    pub dir: PathBuf,
    /// Lines of page furniture dropped from `.txt` briefings (case-insensitive regexes,
    /// matched against the whole trimmed line).
    pub furniture: Vec<String>,
    /// Files larger than this are skipped with a reason.
    pub max_file_bytes: u64,
    /// A `.txt` line of at most this many words, not ending like a sentence, is a heading.
    pub heading_max_words: usize,
    /// Reindex on its own when files under `dir` change (writer only).
    pub watch: bool,
    /// Quiet period after the last change before a watched change is reindexed.
    pub watch_delay_ms: u64,
    /// Where `/briefing remove` moves a briefing's file (never deleted).
    pub holding_dir: PathBuf,
    /// Largest file `/briefing add` accepts, in bytes.
    pub max_upload_bytes: u64,
    /// Audit lines of an older briefbot, read into the state database once; also where
    /// changes are appended while the database is unreachable (read in at the next start).
    pub audit_file: PathBuf,
    /// PDFs with more pages are skipped with a reason.
    pub pdf_max_pages: usize,
    /// Reading one PDF stops, and the file is skipped, after this many seconds.
    pub pdf_timeout_seconds: f64,
    /// The most memory (address space, MB) the process reading one PDF may take.
    pub pdf_max_memory_mb: u64,
    /// A page fetched by link (`/briefing add url:`, `briefbot add URL`) must arrive
    /// whole within this many seconds.
    pub fetch_timeout_seconds: u64,
    /// Largest page fetched by link, in bytes.
    pub fetch_max_bytes: u64,
    /// Fetch links whose host is a private, loopback, link-local or otherwise non-public
    /// address. Off: the bot cannot be pointed at its own network.
    pub fetch_allow_private: bool,
    /// Non-public addresses that may be fetched all the same (an intranet wiki), while
    /// `fetch_allow_private` stays off.
    pub fetch_allow_addresses: Vec<std::net::IpAddr>,
}

impl Default for ContentSettings {
    fn default() -> Self {
        ContentSettings {
            dir: PathBuf::from("content"),
            furniture: default_furniture(),
            max_file_bytes: 10 * 1024 * 1024,
            heading_max_words: 12,
            watch: false,
            watch_delay_ms: 2000,
            holding_dir: PathBuf::from("removed"),
            max_upload_bytes: 1024 * 1024,
            audit_file: PathBuf::from("audit.jsonl"),
            pdf_max_pages: 500,
            pdf_timeout_seconds: 30.0,
            pdf_max_memory_mb: 1024,
            fetch_timeout_seconds: 20,
            fetch_max_bytes: 10 * 1024 * 1024,
            fetch_allow_private: false,
            fetch_allow_addresses: Vec::new(),
        }
    }
}

/// The page furniture dropped by default: lines a "save page as text" leaves behind.
pub fn default_furniture() -> Vec<String> {
    [
        r"close this search box\.?",
        r"skip to (main )?content",
        r"search( for)?:?",
        r"(main )?menu",
        r"(toggle|open|close) (navigation|menu)",
        r"share( this( article| page)?)?:?",
        r"(print|email|tweet|facebook|linkedin|twitter|x|whatsapp|telegram|reddit)",
        r"(accept|reject)( all)?( cookies)?",
        r"this (web)?site uses cookies.*",
        r"subscribe( to our newsletter)?\.?",
        r"advertisement",
        r"back to top",
        r"read more\.?",
        r"loading\.*",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// `[index]`: where the built index lives and how it is built.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexSettings {
    /// Folder of the built index (a cache, rebuilt from `content.dir` when needed).
    pub dir: PathBuf,
    /// Index the briefing title and section inside each paragraph's searchable text
    /// (`true`) or as fields of their own (`false`).
    pub title_in_body: bool,
    /// Memory budget of tantivy's index writer, in megabytes.
    pub writer_memory_mb: usize,
    /// `writer` builds the index (one per index folder); `reader` only follows it.
    pub role: Role,
    /// How often a running bot checks for a newly published index version.
    pub reload_ms: u64,
}

/// What a process may do to the index folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Builds and publishes versions; at most one per index folder.
    Writer,
    /// Opens the live version read-only and follows every new one.
    Reader,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            dir: PathBuf::from("index"),
            title_in_body: true,
            writer_memory_mb: 100,
            role: Role::Writer,
            reload_ms: 100,
        }
    }
}

/// `[search]`: how a question becomes ranked quotes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSettings {
    /// How many quotes an answer shows.
    pub top_k: usize,
    /// Drop question words and common stop words from the query (the full question is
    /// used when nothing else is left).
    pub drop_stop_words: bool,
    /// Least evidence (0–1) that the best paragraph answers the question for it to be
    /// quoted: the mean share of the question's words, weighted by how informative they
    /// are in English, in the paragraph (with its title and section) and in its best
    /// sentence. Below it the answer says the briefings do not cover the question.
    pub min_coverage: f32,
    /// Weight (0–1) of a question's word that no paragraph holds, relative to its
    /// informativeness.
    pub unseen_weight: f32,
    /// With `title_in_body = false`: boost of the title and section fields.
    pub title_boost: f32,
    /// Re-rank BM25's best `candidates` passages with the weighted features below.
    pub rerank: bool,
    /// How many BM25 candidates the re-ranker sees.
    pub candidates: usize,
    /// Weights of the re-ranking features by name (0 switches one off); a feature left
    /// out keeps its default weight.
    pub weights: BTreeMap<String, f32>,
    /// `[search.semantic]`: the sentence-embedding model, when one is installed.
    pub semantic: SemanticSettings,
}

/// `[search.semantic]`: a local sentence-embedding model beside BM25.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticSettings {
    /// A sentence-transformers BERT-family model folder (`config.json`, `tokenizer.json`,
    /// `model.safetensors`, `1_Pooling/config.json`); unset: lexical search only.
    pub model_dir: Option<PathBuf>,
    /// Put before every question (never before a passage), for models that expect one
    /// (bge: "Represent this sentence for searching relevant passages: ", e5: "query: ").
    pub query_prefix: String,
    /// How many passages nearest to the question's vector join BM25's candidates.
    pub candidates: usize,
    /// Least cosine between the question and the best paragraph for it to be quoted on
    /// the strength of meaning alone, when too few of the question's words are there.
    pub min_cosine: f32,
    /// The same for the cosine of the question with the best paragraph's best sentence.
    pub min_sentence_cosine: f32,
    /// A best paragraph whose evidence is under `unrelated_below` is refused all the same
    /// when its cosine with the question is under `unrelated_cosine`: the few words it
    /// shares with the question are shared by chance.
    pub unrelated_cosine: f32,
    pub unrelated_below: f32,
    /// Terminal commands (`ask`, `read`, `sources`…) that find the index without the
    /// model's paragraph vectors embed the missing ones first when there are at most this
    /// many; past it they answer by words and say so (`briefbot index` makes the vectors).
    pub embed_before_answering: usize,
    /// Re-ranking weights used when the model is in use (every feature; a feature left
    /// out keeps its default for the model).
    pub weights: BTreeMap<String, f32>,
}

impl Default for SemanticSettings {
    fn default() -> Self {
        SemanticSettings {
            model_dir: None,
            query_prefix: String::new(),
            candidates: 20,
            min_cosine: 0.4,
            min_sentence_cosine: 0.5,
            unrelated_cosine: 0.25,
            unrelated_below: 0.45,
            embed_before_answering: 400,
            weights: crate::search::DEFAULT_SEMANTIC_WEIGHTS
                .iter()
                .map(|(name, w)| (name.to_string(), *w))
                .collect(),
        }
    }
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            top_k: 3,
            drop_stop_words: true,
            min_coverage: 0.37,
            unseen_weight: 1.0,
            title_boost: 1.0,
            rerank: true,
            candidates: 20,
            weights: crate::search::DEFAULT_WEIGHTS
                .iter()
                .map(|(name, w)| (name.to_string(), *w))
                .collect(),
            semantic: SemanticSettings::default(),
        }
    }
}

/// `[discord]`: the bot's connection and its rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordSettings {
    /// Bot token; `DISCORD_TOKEN` overrides it. Keep it out of committed files.
    pub token: Option<Secret>,
    /// Guilds whose commands are registered at start (instant); empty registers globally.
    #[serde(deserialize_with = "one_or_many")]
    pub guild_ids: Vec<u64>,
    /// Guilds the bot serves; it leaves any other. Empty serves every guild.
    #[serde(deserialize_with = "one_or_many")]
    pub allowed_guilds: Vec<u64>,
    /// Roles whose members may reindex and add or remove briefings, besides members with
    /// Manage Server.
    #[serde(deserialize_with = "one_or_many")]
    pub moderator_roles: Vec<u64>,
    /// The bot's operators (user ids): they alone change the shared library from
    /// Discord (`/briefing add library:shared`, `/briefing remove`, `/reindex` of
    /// everything), in any server.
    #[serde(deserialize_with = "one_or_many")]
    pub owners: Vec<u64>,
    /// Longest question accepted, in characters.
    pub max_question_chars: usize,
    /// Questions a user may ask per `cooldown_seconds`.
    pub cooldown_questions: u32,
    pub cooldown_seconds: u64,
    /// Other interactions that do work or write (buttons, `/read`, `/quiz`, `/cite`,
    /// `/passage`, `/sources`) a user may make per `cooldown_seconds`.
    pub cooldown_actions: u32,
    /// Autocomplete requests (one per keystroke) a user may make per `cooldown_seconds`.
    pub cooldown_autocomplete: u32,
    /// Longest time an attachment's download (`/briefing add`) may take, in seconds.
    pub download_timeout_seconds: u64,
    /// A votes file of an older briefbot, read into the state database once.
    pub feedback_file: PathBuf,
    /// Base URL of a Discord REST proxy; when set, serenity's own rate limiter is off.
    pub http_proxy: Option<String>,
    /// Gateway shards this process runs: `"auto"` or `{ total, range = [first, last] }`.
    pub shards: ShardsSetting,
}

/// `discord.shards` as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ShardsSetting {
    Named(String),
    Explicit(ShardRange),
}

/// `discord.shards = { total = N, range = [first, last] }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRange {
    pub total: u32,
    /// `[first, last]`.
    #[serde(deserialize_with = "one_or_many")]
    pub range: Vec<u64>,
}

/// The gateway shards this process runs, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    /// As many as Discord recommends (`GET /gateway/bot`), all in this process.
    Auto,
    /// Shards `first..=last` of `total`.
    Range { total: u32, first: u32, last: u32 },
}

impl ShardsSetting {
    fn validate(&self) -> Result<Shards, ConfigError> {
        match self {
            ShardsSetting::Named(name) if name == "auto" => Ok(Shards::Auto),
            ShardsSetting::Named(other) => Err(invalid(
                "discord.shards",
                format!(
                    "must be \"auto\" or {{ total = N, range = [first, last] }}, got {other:?}"
                ),
            )),
            ShardsSetting::Explicit(ShardRange { total, range }) => {
                let &[first, last] = range.as_slice() else {
                    return Err(invalid(
                        "discord.shards.range",
                        format!("must be two shard numbers [first, last], got {range:?}"),
                    ));
                };
                let (Ok(first), Ok(last)) = (u32::try_from(first), u32::try_from(last)) else {
                    return Err(invalid(
                        "discord.shards.range",
                        "shard numbers are too large",
                    ));
                };
                if *total == 0 {
                    return Err(invalid("discord.shards.total", "must be at least 1"));
                }
                if first > last || last >= *total {
                    return Err(invalid(
                        "discord.shards.range",
                        format!(
                            "must be [first, last] with first ≤ last < total ({total}), got [{first}, {last}]"
                        ),
                    ));
                }
                Ok(Shards::Range {
                    total: *total,
                    first,
                    last,
                })
            }
        }
    }
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            token: None,
            guild_ids: Vec::new(),
            allowed_guilds: Vec::new(),
            moderator_roles: Vec::new(),
            owners: Vec::new(),
            max_question_chars: 300,
            cooldown_questions: 5,
            cooldown_seconds: 30,
            cooldown_actions: 20,
            cooldown_autocomplete: 60,
            download_timeout_seconds: 30,
            feedback_file: PathBuf::from("feedback.jsonl"),
            http_proxy: None,
            shards: ShardsSetting::Named("auto".into()),
        }
    }
}

/// A list of ids, or one id alone (as the environment gives a single value).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Id),
        Many(Vec<Id>),
    }
    let ids = match OneOrMany::deserialize(d)? {
        OneOrMany::One(id) => vec![id],
        OneOrMany::Many(ids) => ids,
    };
    ids.into_iter()
        .map(|id| match id {
            Id::Number(n) => Ok(n),
            Id::Text(t) => t.trim().parse().map_err(|_| {
                serde::de::Error::custom(format!("{t:?} is not a Discord id (a number)"))
            }),
        })
        .collect()
}

/// Settings that hold lists, so that the environment can give them comma-separated.
const LIST_KEYS: &[&str] = &[
    "discord.guild_ids",
    "discord.allowed_guilds",
    "discord.moderator_roles",
    "discord.owners",
    "content.furniture",
    "discord.shards.range",
];

/// Validated settings: paths resolved, patterns compiled, limits checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub content: ContentSettings,
    pub index: IndexSettings,
    pub search: SearchSettings,
    pub discord: DiscordSettings,
    /// `[state]`, with a relative SQLite path resolved against the settings' folder.
    pub state: StateSettings,
    pub gaps: GapsSettings,
    pub libraries: LibrariesSettings,
    /// `content.furniture`, compiled.
    pub furniture: Vec<Regex>,
    /// `search.weights`, in the order of [`crate::search::FEATURE_NAMES`].
    pub weights: [f32; crate::search::FEATURES],
    /// `search.semantic.weights`, likewise.
    pub semantic_weights: [f32; crate::search::FEATURES],
    /// `discord.shards`, checked.
    pub shards: Shards,
}

impl Settings {
    /// Loads settings the way the binary does. `explicit` is the `--config` file; without it
    /// `config.toml` in the current directory is used if present. `config.local.toml` beside
    /// the chosen file is layered on top, then the environment.
    pub fn load(explicit: Option<&Path>) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Settings::load_with_env(explicit, &env)
    }

    /// [`Settings::load`] with the environment given, so that tests need not change the
    /// process's own.
    pub fn load_with_env(
        explicit: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        let main = match explicit {
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError::Load(format!(
                        "config file {} does not exist",
                        path.display()
                    )));
                }
                path.to_path_buf()
            }
            None => PathBuf::from("config.toml"),
        };
        let base = match main.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let local = base.join("config.local.toml");

        let settings_env: config::Map<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("BRIEFBOT_") && !NON_SETTING_VARS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut builder = Config::builder()
            .add_source(
                File::from(main.as_path())
                    .format(FileFormat::Toml)
                    .required(explicit.is_some()),
            )
            .add_source(
                File::from(local.as_path())
                    .format(FileFormat::Toml)
                    .required(false),
            )
            .add_source(
                LIST_KEYS
                    .iter()
                    .fold(
                        Environment::with_prefix("BRIEFBOT")
                            .prefix_separator("_")
                            .separator("__")
                            .try_parsing(true)
                            .list_separator(","),
                        |env, key| env.with_list_parse_key(key),
                    )
                    .source(Some(settings_env)),
            );
        if let Some(token) = env.get("DISCORD_TOKEN").filter(|t| !t.is_empty()) {
            builder = builder
                .set_override("discord.token", token.as_str())
                .map_err(|e| ConfigError::Load(e.to_string()))?;
        }
        let raw: RawSettings = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        raw.validate(&base)
    }

    /// Defaults only, with relative paths resolved against `base`: for tests and tools.
    pub fn defaults_in(base: &Path) -> Settings {
        RawSettings::default()
            .validate(base)
            .expect("the built-in defaults are valid")
    }
}

impl RawSettings {
    /// Checks every value and resolves relative paths against `base` (the folder of the
    /// configuration file).
    pub fn validate(self, base: &Path) -> Result<Settings, ConfigError> {
        let RawSettings {
            mut content,
            mut index,
            mut search,
            mut discord,
            mut state,
            gaps,
            libraries,
        } = self;
        if content.max_file_bytes == 0 {
            return Err(invalid("content.max_file_bytes", "must be greater than 0"));
        }
        if content.heading_max_words == 0 {
            return Err(invalid(
                "content.heading_max_words",
                "must be greater than 0",
            ));
        }
        in_range(
            "content.pdf_max_pages",
            content.pdf_max_pages,
            1..=1_000_000,
        )?;
        if !(content.pdf_timeout_seconds.is_finite() && content.pdf_timeout_seconds > 0.0) {
            return Err(invalid(
                "content.pdf_timeout_seconds",
                "must be a number of seconds greater than 0",
            ));
        }
        in_range(
            "content.pdf_max_memory_mb",
            content.pdf_max_memory_mb,
            256..=1_048_576,
        )?;
        in_range(
            "content.fetch_timeout_seconds",
            content.fetch_timeout_seconds,
            1..=3_600,
        )?;
        in_range(
            "content.fetch_max_bytes",
            content.fetch_max_bytes,
            1..=u64::MAX,
        )?;
        let furniture = content
            .furniture
            .iter()
            .enumerate()
            .map(|(i, pattern)| {
                RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| invalid(&format!("content.furniture[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        in_range("search.top_k", search.top_k, 1..=25)?;
        in_range("search.min_coverage", search.min_coverage, 0.0..=1.0)?;
        in_range("search.unseen_weight", search.unseen_weight, 0.0..=1.0)?;
        if !(search.title_boost.is_finite() && search.title_boost >= 0.0) {
            return Err(invalid("search.title_boost", "must be a number ≥ 0"));
        }
        in_range("search.candidates", search.candidates, 1..=1000)?;
        let weights = weights_of(
            "search.weights",
            &search.weights,
            &crate::search::DEFAULT_WEIGHTS,
        )?;
        let semantic_weights = weights_of(
            "search.semantic.weights",
            &search.semantic.weights,
            &crate::search::DEFAULT_SEMANTIC_WEIGHTS,
        )?;
        in_range(
            "search.semantic.candidates",
            search.semantic.candidates,
            0..=1000,
        )?;
        in_range(
            "search.semantic.min_cosine",
            search.semantic.min_cosine,
            -1.0..=1.0,
        )?;
        in_range(
            "search.semantic.min_sentence_cosine",
            search.semantic.min_sentence_cosine,
            -1.0..=1.0,
        )?;
        in_range(
            "search.semantic.unrelated_cosine",
            search.semantic.unrelated_cosine,
            -1.0..=1.0,
        )?;
        in_range(
            "search.semantic.unrelated_below",
            search.semantic.unrelated_below,
            0.0..=1.0,
        )?;
        if let Some(dir) = &search.semantic.model_dir {
            search.semantic.model_dir = Some(resolve(base, dir));
        }
        in_range("index.writer_memory_mb", index.writer_memory_mb, 15..=4096)?;
        in_range("index.reload_ms", index.reload_ms, 50..=3_600_000)?;
        in_range(
            "content.watch_delay_ms",
            content.watch_delay_ms,
            50..=3_600_000,
        )?;
        if content.max_upload_bytes == 0 {
            return Err(invalid(
                "content.max_upload_bytes",
                "must be greater than 0",
            ));
        }
        let shards = discord.shards.validate()?;
        in_range(
            "discord.max_question_chars",
            discord.max_question_chars,
            1..=4000,
        )?;
        for (key, value) in [
            ("discord.cooldown_questions", discord.cooldown_questions),
            ("discord.cooldown_actions", discord.cooldown_actions),
            (
                "discord.cooldown_autocomplete",
                discord.cooldown_autocomplete,
            ),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        in_range(
            "discord.download_timeout_seconds",
            discord.download_timeout_seconds,
            1..=3600,
        )?;
        if discord.cooldown_seconds == 0 {
            return Err(invalid("discord.cooldown_seconds", "must be at least 1"));
        }
        if let Some(proxy) = &discord.http_proxy
            && !(proxy.starts_with("http://") || proxy.starts_with("https://"))
        {
            return Err(invalid(
                "discord.http_proxy",
                format!("must be an http:// or https:// URL, got {proxy:?}"),
            ));
        }
        if let Some(token) = &discord.token {
            let t = token.expose();
            if t.trim().is_empty() || t.chars().any(char::is_whitespace) {
                return Err(invalid("discord.token", "is empty or contains white space"));
            }
        }
        in_range("state.timeout_seconds", state.timeout_seconds, 1..=300)?;
        in_range("gaps.keep_days", gaps.keep_days, 1..=3650)?;
        for (key, value) in [
            ("libraries.max_briefings", libraries.max_briefings as u64),
            ("libraries.max_paragraphs", libraries.max_paragraphs),
            ("libraries.max_upload_bytes", libraries.max_upload_bytes),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        state.url = state_url(base, &state.url)?;
        content.dir = resolve(base, &content.dir);
        discord.feedback_file = resolve(base, &discord.feedback_file);
        content.holding_dir = resolve(base, &content.holding_dir);
        content.audit_file = resolve(base, &content.audit_file);
        index.dir = resolve(base, &index.dir);
        Ok(Settings {
            content,
            index,
            search,
            discord,
            state,
            gaps,
            libraries,
            furniture,
            weights,
            semantic_weights,
            shards,
        })
    }
}

/// The re-ranking weights in feature order: the defaults, overridden by the given ones.
fn weights_of(
    table: &str,
    given: &BTreeMap<String, f32>,
    defaults: &[(&str, f32); crate::search::FEATURES],
) -> Result<[f32; crate::search::FEATURES], ConfigError> {
    let mut out = defaults.map(|(_, w)| w);
    for (name, &w) in given {
        let key = format!("{table}.{name}");
        let Some(i) = crate::search::FEATURE_NAMES.iter().position(|n| n == name) else {
            let known = crate::search::FEATURE_NAMES.join(", ");
            return Err(invalid(&key, format!("no such feature (known: {known})")));
        };
        if !w.is_finite() {
            return Err(invalid(&key, "must be a finite number"));
        }
        out[i] = w;
    }
    Ok(out)
}

/// `state.url`, checked: a SQLite path made absolute against `base` (and created when
/// missing), or a PostgreSQL URL as given.
fn state_url(base: &Path, url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(invalid(
            "state.url",
            "must start with sqlite:// (a file) or postgres:// (a server)",
        ));
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(invalid(
            "state.url",
            "needs a file (sqlite://state.db): an in-memory database would forget everything",
        ));
    }
    let path = resolve(base, Path::new(path));
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{}?{query}", path.display()))
}

fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() || base == Path::new(".") {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, toml).unwrap();
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load_with_env(Some(&path), &env)
    }

    #[test]
    fn defaults_apply_when_the_file_is_empty() {
        let s = load("", &[]).unwrap();
        assert_eq!(s.search.top_k, 3);
        assert!(s.content.dir.ends_with("content"));
        assert!(s.discord.token.is_none());
    }

    #[test]
    fn environment_overrides_the_file() {
        let s = load(
            "[search]\ntop_k = 4\n",
            &[("BRIEFBOT_SEARCH__TOP_K", "7"), ("BRIEFBOT_LOG", "debug")],
        )
        .unwrap();
        assert_eq!(s.search.top_k, 7);
    }

    #[test]
    fn discord_token_comes_from_the_environment_and_is_never_printed() {
        let s = load("", &[("DISCORD_TOKEN", "abc.def.ghi")]).unwrap();
        assert_eq!(s.discord.token.as_ref().unwrap().expose(), "abc.def.ghi");
        assert!(!format!("{s:?}").contains("abc.def.ghi"));
    }

    #[test]
    fn lists_come_from_the_environment_comma_separated() {
        let s = load(
            "",
            &[
                ("BRIEFBOT_DISCORD__GUILD_IDS", "1,22"),
                ("BRIEFBOT_DISCORD__MODERATOR_ROLES", "7"),
            ],
        )
        .unwrap();
        assert_eq!(s.discord.guild_ids, [1, 22]);
        assert_eq!(s.discord.moderator_roles, [7]);
        let err = load("[discord]\nguild_ids = [\"abc\"]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("guild_ids") && err.contains("abc"), "{err}");
    }

    #[test]
    fn shard_settings_are_checked_and_named() {
        assert_eq!(load("", &[]).unwrap().shards, Shards::Auto);
        let s = load("[discord]\nshards = { total = 4, range = [2, 3] }\n", &[]).unwrap();
        assert_eq!(
            s.shards,
            Shards::Range {
                total: 4,
                first: 2,
                last: 3
            }
        );
        let s = load(
            "",
            &[
                ("BRIEFBOT_DISCORD__SHARDS__TOTAL", "2"),
                ("BRIEFBOT_DISCORD__SHARDS__RANGE", "1,1"),
            ],
        )
        .unwrap();
        assert_eq!(
            s.shards,
            Shards::Range {
                total: 2,
                first: 1,
                last: 1
            }
        );
        for (toml, key) in [
            (
                "shards = { total = 2, range = [1, 2] }",
                "discord.shards.range",
            ),
            (
                "shards = { total = 4, range = [3, 1] }",
                "discord.shards.range",
            ),
            (
                "shards = { total = 0, range = [0, 0] }",
                "discord.shards.total",
            ),
            ("shards = \"many\"", "discord.shards"),
        ] {
            let err = load(&format!("[discord]\n{toml}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
    }

    #[test]
    fn index_role_is_writer_or_reader() {
        assert_eq!(load("", &[]).unwrap().index.role, Role::Writer);
        let s = load("", &[("BRIEFBOT_INDEX__ROLE", "reader")]).unwrap();
        assert_eq!(s.index.role, Role::Reader);
        let err = load("[index]\nrole = \"boss\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("role") && err.contains("boss"), "{err}");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = load("[search]\ntop_kk = 4\n", &[]).unwrap_err().to_string();
        assert!(err.contains("top_kk"), "{err}");
    }

    #[test]
    fn the_test_and_benchmark_variables_are_not_settings() {
        let s = load(
            "",
            &[
                ("BRIEFBOT_TEST_MODEL_DIR", "/models/m"),
                ("BRIEFBOT_REQUIRE_MODEL", "1"),
                ("BRIEFBOT_SEARCH__SEMANTIC__MIN_COSINE", "0.3"),
            ],
        )
        .unwrap();
        assert_eq!(s.search.semantic.min_cosine, 0.3);
        assert!(load("", &[("BRIEFBOT_SEARCH_TOP_K", "4")]).is_err());
    }

    #[test]
    fn bad_value_is_named() {
        let err = load("[search]\ntop_k = 0\n", &[]).unwrap_err().to_string();
        assert!(err.contains("search.top_k"), "{err}");
        let err = load("[search]\ntop_k = \"many\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("top_k"), "{err}");
        let err = load("[content]\nfurniture = [\"(\"]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("content.furniture[0]"), "{err}");
    }

    #[test]
    fn relative_paths_resolve_against_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[content]\ndir = \"briefings\"\n").unwrap();
        let s = Settings::load_with_env(Some(&path), &HashMap::new()).unwrap();
        assert_eq!(s.content.dir, dir.path().join("briefings"));
    }

    #[test]
    fn the_committed_config_toml_states_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
        let raw: RawSettings = Config::builder()
            .add_source(File::from(path.as_path()).format(FileFormat::Toml))
            .build()
            .and_then(Config::try_deserialize)
            .unwrap();
        assert_eq!(format!("{raw:?}"), format!("{:?}", RawSettings::default()));
    }

    #[test]
    fn local_file_is_layered_over_the_main_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[search]\ntop_k = 4\n").unwrap();
        std::fs::write(
            dir.path().join("config.local.toml"),
            "[search]\ntop_k = 6\n",
        )
        .unwrap();
        let s = Settings::load_with_env(Some(&path), &HashMap::new()).unwrap();
        assert_eq!(s.search.top_k, 6);
    }
}
