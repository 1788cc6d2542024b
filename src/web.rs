//! Briefings by link: a web page or a PDF fetched from the address a moderator names
//! (`/briefing add url:`, `briefbot add URL`), turned into a file for `content/`.
//!
//! The bot fetches what a member names, so the fetch is where its own network could be
//! reached from outside. Every rule is enforced here, before a byte is sent:
//! - `https` and `http` only, no credentials in the link;
//! - the host's addresses are resolved once, by the resolver the connection then uses
//!   (no second look-up to race), and refused when private, loopback, link-local or
//!   otherwise not public ([`is_public`]), unless `content.fetch_allow_private` or the
//!   address is listed in `content.fetch_allow_addresses`; a link naming an address
//!   is checked the same way;
//! - at most 5 redirects, each checked like the first link;
//! - no proxy from the environment; the whole response within
//!   `content.fetch_timeout_seconds` and a byte cap; HTML, PDF or plain text only.
//!
//! A web page is reduced to its article with `dom_smoothie` (a port of Mozilla's
//! Readability, the reader view of Firefox): navigation, cookie banners, share buttons
//! and related links go. It is saved as a small, clean HTML file that keeps the page's
//! canonical address, title, author and date, so that the citation links to the
//! original. A PDF is kept as it came, its address in a `.yaml` file beside it (see
//! [`crate::ingest`]). Nothing here writes: the caller saves what it returns.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;

use crate::config::Settings;
use crate::ingest::collapse_whitespace;

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// What may be fetched, and how much.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    pub timeout: Duration,
    pub max_bytes: u64,
    pub allow_private: bool,
    pub allow_addresses: Vec<IpAddr>,
}

impl FetchPolicy {
    /// The settings' policy. What is saved is then held to the library's upload limit
    /// like any file (a web page's saved article is much smaller than the page).
    pub fn from_settings(settings: &Settings) -> FetchPolicy {
        let c = &settings.content;
        FetchPolicy {
            timeout: Duration::from_secs(c.fetch_timeout_seconds),
            max_bytes: c.fetch_max_bytes,
            allow_private: c.fetch_allow_private,
            allow_addresses: c.fetch_allow_addresses.clone(),
        }
    }

    fn admits(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip) || self.allow_addresses.contains(&canonical(ip))
    }
}

/// What was fetched, ready to be saved under `content/`.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// A file name for it (`.html` or `.pdf` or `.txt`), made from its title or address.
    pub name: String,
    pub bytes: Vec<u8>,
    /// Metadata to keep beside a file that cannot hold it (a PDF's address), as YAML.
    pub sidecar: Option<String>,
    /// The address it is cited by: the page's canonical address, else where it was found.
    pub url: String,
}

/// Why a link was not fetched. Nothing is written in any case.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    BadLink(String),
    #[error(
        "{host} is a private or local address ({ip}), which the bot does not fetch \
         (content.fetch_allow_private)"
    )]
    NotPublic { host: String, ip: IpAddr },
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("the page is larger than the {cap} bytes allowed")]
    TooLarge { cap: u64 },
    #[error("the page did not arrive within {} s (content.fetch_timeout_seconds)", .0.as_secs())]
    TimedOut(Duration),
    #[error("the page answered {0}")]
    Status(String),
    #[error("the page is {0}, not a briefing: HTML, PDF or plain text only")]
    Type(String),
    #[error("no article found on the page")]
    NoArticle,
    #[error("the page could not be fetched: {0}")]
    Failed(String),
}

/// Fetches `link` under `policy`.
pub async fn fetch(link: &str, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let url = check_link(link.trim(), policy)?;
    match tokio::time::timeout(policy.timeout, get(url, policy)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::TimedOut(policy.timeout)),
    }
}

/// A link as it may be fetched: parsed, http(s), without credentials, and naming no
/// address the policy refuses.
fn check_link(link: &str, policy: &FetchPolicy) -> Result<Url, FetchError> {
    let url = Url::parse(link)
        .map_err(|e| FetchError::BadLink(format!("{link:?} is not a link ({e})")))?;
    check_url(&url, policy)?;
    Ok(url)
}

fn check_url(url: &Url, policy: &FetchPolicy) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "https" | "http") {
        return Err(FetchError::BadLink(format!(
            "only https and http links are fetched, not {}:",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::BadLink(
            "a link with a user name or password is not fetched".into(),
        ));
    }
    let Some(host) = url.host() else {
        return Err(FetchError::BadLink("the link names no host".into()));
    };
    let ip = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = ip
        && !policy.admits(ip)
    {
        return Err(FetchError::NotPublic {
            host: host.to_string(),
            ip,
        });
    }
    Ok(())
}

async fn get(url: Url, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let refused: Arc<Mutex<Option<FetchError>>> = Arc::default();
    let resolver = Arc::new(PublicResolver {
        policy: policy.clone(),
        refused: refused.clone(),
    });
    let redirect_policy = policy.clone();
    let redirect_refused = refused.clone();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(policy.timeout)
        .user_agent(concat!("briefbot/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(resolver)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                *redirect_refused.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(FetchError::TooManyRedirects);
                return attempt.error("too many redirects");
            }
            match check_url(attempt.url(), &redirect_policy) {
                Ok(()) => attempt.follow(),
                Err(err) => {
                    let text = err.to_string();
                    *redirect_refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
                    attempt.error(text)
                }
            }
        }))
        .build()
        .map_err(|e| FetchError::Failed(e.to_string()))?;
    let failed = |e: reqwest::Error| {
        if let Some(why) = refused.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return why;
        }
        if e.is_timeout() {
            return FetchError::TimedOut(policy.timeout);
        }
        FetchError::Failed(crate::error_chain(&e.without_url()))
    };
    let mut response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if status.is_redirection() {
        // reqwest hands back a redirect it will not follow at all (to another scheme).
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("nowhere");
        return Err(FetchError::BadLink(format!(
            "the page redirects to {to:?}: only https and http links are fetched"
        )));
    }
    if !status.is_success() {
        return Err(FetchError::Status(status.to_string()));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let kind = kind_of(content_type.as_deref())?;
    let cap = policy.max_bytes;
    let body = body_capped(&mut response, cap)
        .await
        .map_err(failed)?
        .ok_or(FetchError::TooLarge { cap })?;
    let found_at = response.url().clone();
    match kind {
        Kind::Html => article(&decode(&body, content_type.as_deref()), &found_at),
        Kind::Pdf => Ok(document(body, &found_at, "pdf")),
        Kind::Text => Ok(document(body, &found_at, "txt")),
    }
}

/// A response's body, read chunk by chunk: `None` as soon as it is past `cap` bytes,
/// whatever length it declared (a server may send more than it says, or forever).
pub async fn body_capped(
    response: &mut reqwest::Response,
    cap: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|n| n > cap) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Pdf,
    Text,
}

fn kind_of(content_type: Option<&str>) -> Result<Kind, FetchError> {
    let Some(ct) = content_type else {
        return Err(FetchError::Type("of no declared type".into()));
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "text/html" | "application/xhtml+xml" => Ok(Kind::Html),
        "application/pdf" => Ok(Kind::Pdf),
        "text/plain" => Ok(Kind::Text),
        _ => Err(FetchError::Type(mime)),
    }
}

/// Resolves a host once for the connection, keeping only the addresses the policy
/// admits; a host with none is refused, and why is kept for the error.
struct PublicResolver {
    policy: FetchPolicy,
    refused: Arc<Mutex<Option<FetchError>>>,
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let refused = self.refused.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let admitted: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| policy.admits(a.ip()))
                .collect();
            if admitted.is_empty() {
                let Some(first) = addrs.first() else {
                    return Err(format!("{host} has no address").into());
                };
                let err = FetchError::NotPublic {
                    host: host.clone(),
                    ip: first.ip(),
                };
                let text = err.to_string();
                *refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
                return Err(text.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(admitted.into_iter());
            Ok(addrs)
        })
    }
}

/// An IPv4 address inside IPv6 (mapped `::ffff:a.b.c.d`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether an address is on the public internet: not private, loopback, link-local,
/// shared (carrier NAT), multicast, documentation, benchmarking or reserved. Written out
/// here because the standard library's `is_global` is not stable.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0) {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return is_public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        // ::a.b.c.d, the deprecated IPv4-compatible form.
        || s[..6].iter().all(|&x| x == 0))
}

/// A file name's stem from an address: its last path segment without extension, else
/// its host.
fn stem_of_url(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .map(|last| last.rsplit_once('.').map_or(last, |(stem, _)| stem))
        .map(file_stem)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| file_stem(url.host_str().unwrap_or("document")))
}

/// A PDF or text file as it came, named after its address, its address kept in YAML.
fn document(bytes: Vec<u8>, found_at: &Url, ext: &str) -> Fetched {
    let stem = stem_of_url(found_at);
    let url = found_at.to_string();
    Fetched {
        name: format!("{stem}.{ext}"),
        bytes,
        sidecar: Some(format!("url: {}\n", yaml_string(&url))),
        url,
    }
}

/// A web page reduced to its article, as a clean HTML file with the page's metadata.
/// A page's text in the encoding it declares (the `Content-Type` header, else a
/// `<meta charset>` near its top, else UTF-8; a byte-order mark wins over both).
fn decode(body: &[u8], content_type: Option<&str>) -> String {
    fn charset_in(text: &str) -> Option<&str> {
        let at = text.to_ascii_lowercase().find("charset=")? + "charset=".len();
        let rest = text[at..].trim_start_matches(['"', '\'']);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        Some(&rest[..end])
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]);
    let label = content_type
        .and_then(charset_in)
        .or_else(|| charset_in(&head))
        .unwrap_or("utf-8");
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    encoding.decode(body).0.into_owned()
}

fn article(html: &str, found_at: &Url) -> Result<Fetched, FetchError> {
    // What the page says of itself (canonical address, date, author), read as a
    // briefing's HTML is.
    let own = crate::ingest::html_meta(html);
    let mut readability = dom_smoothie::Readability::new(html, Some(found_at.as_str()), None)
        .map_err(|e| FetchError::Failed(format!("the page cannot be read: {e}")))?;
    let found = readability.parse().map_err(|_| FetchError::NoArticle)?;
    if found.text_content.trim().is_empty() {
        return Err(FetchError::NoArticle);
    }
    let url = own
        .url
        .as_deref()
        .and_then(|u| found_at.join(u).ok())
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .unwrap_or_else(|| found_at.clone())
        .to_string();
    let title = collapse_whitespace(&found.title);
    let title = if title.is_empty() {
        own.title.clone().unwrap_or_default()
    } else {
        title
    };
    let author = own
        .author
        .clone()
        .or_else(|| found.byline.as_deref().map(collapse_whitespace))
        .filter(|a| !a.is_empty());
    let date = own
        .date
        .clone()
        .or_else(|| found.published_time.clone())
        .filter(|d| !d.trim().is_empty());
    let mut out = String::from("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&title)));
    out.push_str(&format!(
        "<link rel=\"canonical\" href=\"{}\">\n",
        escape(&url)
    ));
    if let Some(author) = &author {
        out.push_str(&format!(
            "<meta name=\"author\" content=\"{}\">\n",
            escape(author)
        ));
    }
    if let Some(date) = &date {
        out.push_str(&format!(
            "<meta name=\"date\" content=\"{}\">\n",
            escape(date)
        ));
    }
    out.push_str("</head>\n<body>\n");
    if !title.is_empty() {
        out.push_str(&format!("<h1>{}</h1>\n", escape(&title)));
    }
    out.push_str(&found.content);
    out.push_str("\n</body>\n</html>\n");
    let stem = Some(file_stem(&title))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| stem_of_url(found_at));
    Ok(Fetched {
        name: format!("{stem}.html"),
        bytes: out.into_bytes(),
        sidecar: None,
        url,
    })
}

/// A file name's stem from a title or a path: lowercase letters and digits joined by
/// '-', at most 60 characters.
fn file_stem(text: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() + 1 > 60 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A YAML double-quoted string.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_non_public_addresses() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "151.101.1.69"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    fn policy() -> FetchPolicy {
        FetchPolicy {
            timeout: Duration::from_secs(5),
            max_bytes: 1000,
            allow_private: false,
            allow_addresses: vec!["10.0.0.12".parse().unwrap()],
        }
    }

    #[test]
    fn links_are_checked_before_anything_is_sent() {
        let refused = |link: &str| check_link(link, &policy()).unwrap_err().to_string();
        assert!(refused("ftp://example.org/a").contains("only https and http"));
        assert!(refused("file:///etc/passwd").contains("only https and http"));
        assert!(refused("https://user:pw@example.org/").contains("user name or password"));
        assert!(refused("not a link").contains("is not a link"));
        assert!(refused("http://127.0.0.1:8080/").contains("private or local"));
        assert!(refused("http://[::1]/").contains("private or local"));
        assert!(refused("http://169.254.169.254/latest/meta-data/").contains("private or local"));
        assert!(refused("http://2130706433/").contains("private or local"));
        assert!(check_link("https://example.org/brief", &policy()).is_ok());
        assert!(check_link("http://10.0.0.12/wiki", &policy()).is_ok());
        let open = FetchPolicy {
            allow_private: true,
            ..policy()
        };
        assert!(check_link("http://127.0.0.1:8080/", &open).is_ok());
    }

    #[test]
    fn content_types() {
        assert_eq!(
            kind_of(Some("text/html; charset=utf-8")).unwrap(),
            Kind::Html
        );
        assert_eq!(kind_of(Some("application/pdf")).unwrap(), Kind::Pdf);
        assert_eq!(kind_of(Some("text/plain")).unwrap(), Kind::Text);
        assert!(kind_of(Some("image/png")).is_err());
        assert!(kind_of(None).is_err());
    }

    #[test]
    fn pages_are_read_in_the_encoding_they_declare() {
        let latin1 = b"<p>caf\xe9 cr\xe8me</p>";
        assert_eq!(
            decode(latin1, Some("text/html; charset=ISO-8859-1")),
            "<p>café crème</p>"
        );
        let meta = b"<meta charset=\"windows-1252\"><p>\x93quoted\x94</p>";
        assert!(decode(meta, Some("text/html")).contains("\u{201c}quoted\u{201d}"));
        assert_eq!(decode("<p>déjà</p>".as_bytes(), None), "<p>déjà</p>");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_stem("Tidal Power: the Severn (2024)!"),
            "tidal-power-the-severn-2024"
        );
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert!(file_stem(&"word ".repeat(40)).len() <= 60);
    }
}
