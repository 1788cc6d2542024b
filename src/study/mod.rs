//! Reading briefings together: paged reading, quizzes and citations. Free of Discord; the
//! CLI (`briefbot read | quiz | cite`) and the bot (`/read`, `/quiz`, `/cite`) share it.

pub mod facts;
pub mod quiz;
pub mod reading;

use crate::index::BriefingInfo;

/// Why a briefing named by a user was not found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("no briefing is called {0:?}; `briefbot sources` (or /sources) lists them")]
    None(String),
    #[error("{query:?} could be any of: {candidates}; give more of the title, or the slug")]
    Ambiguous { query: String, candidates: String },
}

/// The briefing named by `query` among `all` (a scope's briefings:
/// [`Engine::find_briefing`](crate::search::Engine::find_briefing)): its slug, its title
/// (any case), or the one briefing whose slug or title contains it.
pub fn find_briefing<'m>(
    all: &[&'m BriefingInfo],
    query: &str,
) -> Result<&'m BriefingInfo, FindError> {
    let q = query.trim();
    let lower = q.to_lowercase();
    if let Some(b) = all.iter().find(|b| b.slug == q) {
        return Ok(b);
    }
    if let Some(b) = all.iter().find(|b| b.title.to_lowercase() == lower) {
        return Ok(b);
    }
    let matching: Vec<&BriefingInfo> = all
        .iter()
        .copied()
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

/// A date as a member types it (`YYYY-MM-DD`, midnight UTC) in seconds since the epoch;
/// `none` (or nothing) clears it.
pub fn parse_date(text: &str) -> Result<Option<i64>, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let well_formed = t.len() == 10
        && t.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    let parsed = well_formed
        .then(|| humantime::parse_rfc3339_weak(&format!("{t} 00:00:00")).ok())
        .flatten()
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok());
    match parsed {
        Some(d) => Ok(Some(d.as_secs() as i64)),
        None => Err(format!(
            "{:?} is not a date: write it as YYYY-MM-DD, such as 2026-09-01.",
            crate::render::discord::cut(t, 40)
        )),
    }
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn dates_are_read_as_members_type_them() {
        assert_eq!(super::parse_date("2026-09-01"), Ok(Some(1_788_220_800)));
        assert_eq!(super::parse_date(" none "), Ok(None));
        assert!(super::parse_date("1 Sept").is_err());
        assert!(super::parse_date("2026-13-01").is_err());
    }
}
