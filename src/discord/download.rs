//! Downloading a moderator's attachment (`/briefing add`) with a hard byte cap and a
//! timeout.
//!
//! Discord declares an attachment's size, and that is checked before anything is fetched;
//! but the bytes come from a URL, and whatever answers there may send more than it declared
//! or send it forever. serenity's `Attachment::download` reads the whole body with no limit,
//! so the body is read chunk by chunk ([`crate::web::body_capped`]): past `cap` bytes, or
//! past the timeout, the download stops, nothing is kept, and the caller writes nothing.

use std::time::Duration;

/// Why an attachment was not downloaded.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("the file is larger than the {cap} bytes allowed (content.max_upload_bytes)")]
    TooLarge { cap: u64 },
    #[error("the download took longer than {} s", .0.as_secs())]
    TimedOut(Duration),
    #[error("the download failed: {0}")]
    Failed(String),
}

/// The body at `url`, at most `cap` bytes, within `timeout` (the whole download).
pub async fn fetch_capped(
    url: &str,
    cap: u64,
    timeout: Duration,
) -> Result<Vec<u8>, DownloadError> {
    match tokio::time::timeout(timeout, fetch(url, cap)).await {
        Ok(result) => result,
        Err(_) => Err(DownloadError::TimedOut(timeout)),
    }
}

async fn fetch(url: &str, cap: u64) -> Result<Vec<u8>, DownloadError> {
    let failed = |e: reqwest::Error| DownloadError::Failed(e.without_url().to_string());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(failed)?;
    let mut response = client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?;
    crate::web::body_capped(&mut response, cap)
        .await
        .map_err(failed)?
        .ok_or(DownloadError::TooLarge { cap })
}
