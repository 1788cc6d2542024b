//! State databases for the tests: a SQLite file always, and a fresh PostgreSQL database
//! when `BRIEFBOT_TEST_POSTGRES_URL` names a server (CI sets it; `BRIEFBOT_REQUIRE_POSTGRES=1`
//! makes its absence a failure instead of a skip). Each PostgreSQL database is created for
//! one test and dropped after it.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// One database a test runs against.
pub struct TestDb {
    /// The `state.url` to give briefbot.
    pub url: String,
    /// Which backend, for messages.
    pub name: &'static str,
    /// (server URL, database) to drop afterwards.
    drop: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, db)) = self.drop.take() {
            // A thread of its own: the test may be inside a runtime.
            let _ = std::thread::spawn(move || {
                block_on(async move {
                    let mut conn = connect(&server).await;
                    let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                })
            })
            .join();
        }
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("BRIEFBOT_TEST_POSTGRES_URL={url}: {e}"))
}

/// A SQLite state file in `dir`.
pub fn sqlite(dir: &Path) -> TestDb {
    TestDb {
        url: format!("sqlite://{}?mode=rwc", dir.join("state.db").display()),
        name: "sqlite",
        drop: None,
    }
}

/// A fresh PostgreSQL database, when the tests are given a server.
pub fn postgres() -> Option<TestDb> {
    let server = match std::env::var("BRIEFBOT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("BRIEFBOT_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "BRIEFBOT_REQUIRE_POSTGRES=1 but BRIEFBOT_TEST_POSTGRES_URL is not set"
            );
            eprintln!(
                "BRIEFBOT_TEST_POSTGRES_URL is not set: the PostgreSQL half of this test is skipped"
            );
            return None;
        }
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let db = format!(
        "briefbot_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let (s, d) = (server.clone(), db.clone());
    std::thread::spawn(move || {
        block_on(async move {
            let mut conn = connect(&s).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {d}")))
                .execute(&mut conn)
                .await
                .unwrap();
        })
    })
    .join()
    .unwrap();
    let base = server.split('?').next().unwrap();
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    Some(TestDb {
        url: format!("{root}/{db}"),
        name: "postgres",
        drop: Some((server, db)),
    })
}

/// SQLite in `dir`, then PostgreSQL when available.
pub fn every_backend(dir: &Path) -> Vec<TestDb> {
    std::iter::once(sqlite(dir)).chain(postgres()).collect()
}
