//! `briefbot serve`: run the Discord bot (the only async command).

use anyhow::Result;
use briefbot::config::Settings;

#[derive(clap::Args)]
pub struct Args {}

pub fn execute(settings: &Settings, _args: Args) -> Result<()> {
    briefbot::discord::serve(settings.clone())
}
