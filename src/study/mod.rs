//! Reading briefings together: paged reading, quizzes and citations. Free of Discord; the
//! CLI (`briefbot read | quiz | cite`) and the bot (`/read`, `/quiz`, `/cite`) share it.

pub mod facts;
pub mod quiz;
pub mod reading;

use crate::index::{BriefingInfo, Manifest};

/// Why a briefing named by a user was not found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("no briefing is called {0:?}; `briefbot sources` (or /sources) lists them")]
    None(String),
    #[error("{query:?} could be any of: {candidates}; give more of the title, or the slug")]
    Ambiguous { query: String, candidates: String },
}

/// The briefing named by `query`: its slug, its title (any case), or the one briefing
/// whose slug or title contains it.
pub fn find_briefing<'m>(
    manifest: &'m Manifest,
    query: &str,
) -> Result<&'m BriefingInfo, FindError> {
    let q = query.trim();
    let lower = q.to_lowercase();
    let all = &manifest.briefings;
    if let Some(b) = all.iter().find(|b| b.slug == q) {
        return Ok(b);
    }
    if let Some(b) = all.iter().find(|b| b.title.to_lowercase() == lower) {
        return Ok(b);
    }
    let matching: Vec<&BriefingInfo> = all
        .iter()
        .filter(|b| {
            !lower.is_empty()
                && (b.slug.to_lowercase().contains(&lower)
                    || b.title.to_lowercase().contains(&lower))
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(FindError::None(q.to_string())),
        many => Err(FindError::Ambiguous {
            query: q.to_string(),
            candidates: many
                .iter()
                .take(5)
                .map(|b| b.slug.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
