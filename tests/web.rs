//! Briefings by link, against a web server the test runs on 127.0.0.1 (reached only
//! because the test's policy lists that address, as `content.fetch_allow_addresses`
//! does): an article page with its furniture becomes clean paragraphs with its canonical
//! address and date; a PDF keeps its address beside it; and every refusal (a private
//! address, directly, by name or by redirect; too many redirects; a 50 MB page; a slow
//! page; an image; a missing page) names its reason, with nothing written.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use briefbot::config::Settings;
use briefbot::ingest::{self, IngestOptions};
use briefbot::web::{self, FetchError, FetchPolicy};
use common::Workspace;
use common::pdf;

const ARTICLE: &str = r#"<!DOCTYPE html>
<html><head>
<title>Severn barrage back on the table | Coastal News</title>
<link rel="canonical" href="https://news.example.org/2024/severn-barrage">
<meta property="article:published_time" content="2024-03-01">
<meta name="author" content="Ann Tide">
</head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. <button>Accept all</button> <button>Reject</button></div>
<header><nav><a href="/">Home</a> <a href="/politics">Politics</a> <a href="/energy">Energy</a> <a href="/subscribe">Subscribe</a></nav></header>
<main>
<article>
<h1>Severn barrage back on the table</h1>
<div class="share-buttons"><a href="https://twitter.com/share">Share on Twitter</a> <a href="https://facebook.com/share">Share on Facebook</a></div>
<p>Ministers have asked engineers to look again at a tidal barrage across the Severn estuary, fourteen years after the last proposal was rejected as too expensive for private investors.</p>
<p>The estuary has the second highest tidal range in the world, about fourteen metres at spring tides, and a barrage could supply around five per cent of the country's electricity for more than a century.</p>
<p>Conservation groups warn that the mudflats behind any barrage feed tens of thousands of wading birds every winter, and say the government has not answered their objections from 2010.</p>
<p>A decision on whether to fund a full study is expected before the summer, the energy department said on Friday, adding that smaller lagoon schemes would be assessed at the same time.</p>
</article>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/a">Wind farm approved off the Norfolk coast</a></li><li><a href="/b">Nuclear plant delayed again</a></li></ul></aside>
</main>
<footer><p>Copyright 2024 Coastal News. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"#;

/// The test server: every case the fetcher must handle, one path each.
async fn server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let pdf_bytes = pdf::write(
        &[pdf::Page::of(pdf::lines(
            72.0,
            720.0,
            11.0,
            13.2,
            &[
                "The lagoon scheme at Swansea would hold back the tide behind a wall",
                "nine kilometres long and generate power for a hundred and twenty years.",
            ],
        ))],
        Some("Swansea Lagoon Briefing"),
    );
    let app =
        Router::new()
            .route(
                "/article",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        ARTICLE,
                    )
                }),
            )
            .route(
                "/moved",
                get(move || async move {
                    Redirect::temporary(&format!("http://127.0.0.1:{port}/article"))
                }),
            )
            .route(
                "/to-private",
                get(move || async move {
                    Redirect::temporary(&format!("http://127.0.0.2:{port}/article"))
                }),
            )
            .route(
                "/to-metadata",
                get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
            )
            .route(
                "/to-file",
                get(|| async { Redirect::temporary("file:///etc/passwd") }),
            )
            .route(
                "/loop/{n}",
                get(
                    move |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                        Redirect::temporary(&format!("http://127.0.0.1:{port}/loop/{}", n + 1))
                    },
                ),
            )
            .route("/huge", get(huge))
            .route(
                "/image",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "image/png")],
                        vec![0x89u8, b'P', b'N', b'G'],
                    )
                }),
            )
            .route(
                "/report.pdf",
                get(move || {
                    let bytes = pdf_bytes.clone();
                    async move { ([(header::CONTENT_TYPE, "application/pdf")], bytes) }
                }),
            );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// 50 MB, declared.
async fn huge() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html")],
        vec![b'a'; 50 * 1024 * 1024],
    )
        .into_response()
}

/// A server speaking raw HTTP/1.1 for what axum makes awkward: a body without a
/// declared length (50 MB, ended by closing), and headers followed by a body that
/// never comes.
async fn raw_server() -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut request = vec![0u8; 4096];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..n]).to_string();
                let head =
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                if request.starts_with("GET /huge-undeclared") {
                    let chunk = vec![b'a'; 1024 * 1024];
                    for _ in 0..50 {
                        if socket.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                } else {
                    // /slow: the body never comes (the connection is held a while).
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            });
        }
    });
    addr
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The test server's address may be fetched; every other non-public one may not.
fn policy() -> FetchPolicy {
    FetchPolicy {
        timeout: Duration::from_secs(5),
        max_bytes: 5 * 1024 * 1024,
        allow_private: false,
        allow_addresses: vec!["127.0.0.1".parse().unwrap()],
    }
}

fn options() -> IngestOptions {
    IngestOptions::from_settings(&Settings::defaults_in(Path::new(".")))
}

const ARTICLE_PARAGRAPHS: [&str; 4] = [
    "Ministers have asked engineers to look again at a tidal barrage across the Severn estuary, fourteen years after the last proposal was rejected as too expensive for private investors.",
    "The estuary has the second highest tidal range in the world, about fourteen metres at spring tides, and a barrage could supply around five per cent of the country's electricity for more than a century.",
    "Conservation groups warn that the mudflats behind any barrage feed tens of thousands of wading birds every winter, and say the government has not answered their objections from 2010.",
    "A decision on whether to fund a full study is expected before the summer, the energy department said on Friday, adding that smaller lagoon schemes would be assessed at the same time.",
];

#[test]
fn an_article_page_becomes_clean_paragraphs_with_its_canonical_address_date_and_author() {
    let rt = runtime();
    let addr = rt.block_on(server());
    // Through a redirect, as shortened and moved links come.
    let fetched = rt
        .block_on(web::fetch(&format!("http://{addr}/moved"), &policy()))
        .unwrap();
    assert_eq!(fetched.url, "https://news.example.org/2024/severn-barrage");
    assert!(
        fetched.name.ends_with(".html") && fetched.name.starts_with("severn-barrage"),
        "{}",
        fetched.name
    );
    assert!(fetched.sidecar.is_none());
    let b = ingest::parse_briefing(Path::new(&fetched.name), &fetched.bytes, &options()).unwrap();
    let texts: Vec<&str> = b.paragraphs.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        ARTICLE_PARAGRAPHS,
        "{}",
        String::from_utf8_lossy(&fetched.bytes)
    );
    assert_eq!(b.title, "Severn barrage back on the table");
    assert_eq!(
        b.url.as_deref(),
        Some("https://news.example.org/2024/severn-barrage")
    );
    assert_eq!(b.date.as_deref(), Some("2024-03-01"));
    assert_eq!(b.author.as_deref(), Some("Ann Tide"));
}

#[test]
fn a_pdf_by_link_keeps_its_address_beside_it() {
    let rt = runtime();
    let addr = rt.block_on(server());
    let link = format!("http://{addr}/report.pdf");
    let fetched = rt.block_on(web::fetch(&link, &policy())).unwrap();
    assert_eq!(fetched.name, "report.pdf");
    assert_eq!(fetched.url, link);
    let sidecar = fetched.sidecar.as_deref().unwrap();
    let b = ingest::parse_briefing_with(
        Path::new("report.pdf"),
        &fetched.bytes,
        Some(sidecar),
        &options(),
    )
    .unwrap();
    assert_eq!(b.title, "Swansea Lagoon Briefing");
    assert_eq!(b.url.as_deref(), Some(link.as_str()));
    assert_eq!(b.paragraphs[0].page, Some(1));
    assert!(
        b.paragraphs[0]
            .text
            .starts_with("The lagoon scheme at Swansea")
    );
}

fn refusal(rt: &tokio::runtime::Runtime, link: &str, policy: &FetchPolicy) -> FetchError {
    rt.block_on(web::fetch(link, policy)).unwrap_err()
}

#[test]
fn private_addresses_are_refused_directly_by_name_and_after_a_redirect() {
    let rt = runtime();
    let addr = rt.block_on(server());
    let port = addr.port();
    let closed = FetchPolicy {
        allow_addresses: Vec::new(),
        ..policy()
    };
    for link in [
        format!("http://127.0.0.1:{port}/article"),
        format!("http://localhost:{port}/article"),
        format!("http://[::ffff:127.0.0.1]:{port}/article"),
    ] {
        let err = refusal(&rt, &link, &closed);
        assert!(matches!(err, FetchError::NotPublic { .. }), "{link}: {err}");
        assert!(
            err.to_string().contains("content.fetch_allow_private"),
            "{err}"
        );
    }
    // The first address is allowed; where it sends the fetcher is checked again.
    for (path, ip) in [
        ("/to-private", "127.0.0.2"),
        ("/to-metadata", "169.254.169.254"),
    ] {
        match refusal(&rt, &format!("http://{addr}{path}"), &policy()) {
            FetchError::NotPublic { ip: got, .. } => assert_eq!(got.to_string(), ip),
            other => panic!("{path}: {other}"),
        }
    }
    let err = refusal(&rt, &format!("http://{addr}/to-file"), &policy());
    assert!(err.to_string().contains("only https and http"), "{err}");
    let err = refusal(&rt, &format!("http://{addr}/loop/0"), &policy());
    assert!(matches!(err, FetchError::TooManyRedirects), "{err}");
    // With every private address allowed, the same redirect goes through.
    let open = FetchPolicy {
        allow_private: true,
        ..policy()
    };
    let err = refusal(&rt, &format!("http://127.0.0.1:{port}/to-private"), &open);
    assert!(!matches!(err, FetchError::NotPublic { .. }), "{err}");
}

#[test]
fn too_large_slow_wrong_type_and_missing_pages_are_refused() {
    let rt = runtime();
    let addr = rt.block_on(server());
    let raw = rt.block_on(raw_server());
    let err = refusal(&rt, &format!("http://{addr}/huge"), &policy());
    assert!(
        matches!(err, FetchError::TooLarge { cap } if cap == 5 * 1024 * 1024),
        "{err}"
    );
    let err = refusal(&rt, &format!("http://{raw}/huge-undeclared"), &policy());
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err}");
    let quick = FetchPolicy {
        timeout: Duration::from_secs(1),
        ..policy()
    };
    let err = refusal(&rt, &format!("http://{raw}/slow"), &quick);
    assert!(matches!(err, FetchError::TimedOut(_)), "{err}");
    assert!(
        err.to_string().contains("content.fetch_timeout_seconds"),
        "{err}"
    );
    let err = refusal(&rt, &format!("http://{addr}/image"), &policy());
    assert_eq!(
        err.to_string(),
        "the page is image/png, not a briefing: HTML, PDF or plain text only"
    );
    let err = refusal(&rt, &format!("http://{addr}/missing"), &policy());
    assert_eq!(err.to_string(), "the page answered 404 Not Found");
}

/// The names of the files under `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn briefbot_add_fetches_saves_indexes_and_audits_and_writes_nothing_when_refused() {
    let rt = runtime();
    let addr = rt.block_on(server());
    let raw = rt.block_on(raw_server());
    let ws = Workspace::with_fixtures();
    std::fs::write(
        ws.config(),
        "[content]\nfetch_allow_addresses = [\"127.0.0.1\"]\nfetch_timeout_seconds = 2\n",
    )
    .unwrap();
    ws.cmd().arg("index").assert().success();
    let before = files(&ws.content());
    for (link, reason) in [
        (
            format!("http://{addr}/to-private"),
            "private or local address",
        ),
        (format!("http://{addr}/image"), "not a briefing"),
        (format!("http://{addr}/missing"), "404"),
        (format!("http://{addr}/huge"), "larger than"),
        (format!("http://{raw}/slow"), "did not arrive within 2 s"),
    ] {
        let out = ws.cmd().args(["add", &link]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(reason),
            "{link}: {stderr}"
        );
        assert_eq!(files(&ws.content()), before, "{link} wrote something");
    }
    let out = ws
        .cmd()
        .args(["add", &format!("http://{addr}/article")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("“Severn barrage back on the table”"),
        "{stdout}"
    );
    assert!(
        stdout.contains("https://news.example.org/2024/severn-barrage"),
        "{stdout}"
    );
    let answer = ws.ask_json("How high is the tidal range in the Severn estuary?");
    let passage = &answer["hits"][0];
    assert_eq!(
        passage["url"], "https://news.example.org/2024/severn-barrage",
        "{answer}"
    );
    assert_eq!(passage["text"], ARTICLE_PARAGRAPHS[1]);
    // The same page again is refused by its title, and nothing is written.
    let again = files(&ws.content());
    let out = ws
        .cmd()
        .args(["add", &format!("http://{addr}/article")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(files(&ws.content()), again);
    let audit = common::audit(&ws);
    let outcomes: Vec<&str> = audit
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 7, "{audit:?}");
    assert!(outcomes[0].starts_with("refused:") && outcomes[0].contains("127.0.0.2"));
    assert!(
        outcomes[5].starts_with("added to the shared library as severn-barrage"),
        "{}",
        outcomes[5]
    );
    assert!(outcomes[6].starts_with("refused:"));
    assert_eq!(audit[5]["target"], format!("http://{addr}/article"));
}
