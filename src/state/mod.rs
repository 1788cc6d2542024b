//! The bot's state in a database: quiz answers and scores, per-server settings, the audit
//! trail of content changes and the 👍 / 👎 votes. SQLite by default (one file, WAL, so
//! several processes on one machine share it), PostgreSQL for a fleet on several machines;
//! one code path for both through sqlx's `Any` driver, with the schema in `migrations/`
//! (one folder per database: only the automatic ids are written differently).
//!
//! Answers never need this module: a database that is down or locked makes scoring, votes
//! and settings say they are unavailable, never a question go unanswered. Free of Discord.

pub mod audit;
pub mod gaps;
pub mod guilds;
pub mod import;
pub mod quiz;
pub mod servers;
pub mod votes;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{MigrateError, Migrator};

use crate::config::Settings;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Why the state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The database cannot be reached, or is locked, or failed a query: answers go on, and
    /// the command that needed it says so.
    #[error("the state database {url} is unavailable: {reason}")]
    Unavailable { url: String, reason: String },
    /// The database was migrated by a newer briefbot: this one must not write into it.
    #[error(
        "the state database {url} has a schema newer than this briefbot knows (migration \
         {version} is not among its own): upgrade briefbot, or point state.url at another \
         database"
    )]
    SchemaTooNew { url: String, version: i64 },
    /// Its schema could not be brought up to date.
    #[error("the state database {url} could not be migrated: {reason}")]
    Migration { url: String, reason: String },
}

impl StateError {
    /// Whether trying again later may work (the database is down or locked), as opposed
    /// to a schema this binary must not touch.
    pub fn is_transient(&self) -> bool {
        matches!(self, StateError::Unavailable { .. })
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Backend {
        if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

/// An open, migrated state database. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    url: String,
    backend: Backend,
}

/// `url` without its password, for messages and logs.
pub fn shown_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((user, host)) => {
                let user = user.split(':').next().unwrap_or(user);
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
    .split('?')
    .next()
    .unwrap_or_default()
    .to_string()
}

impl Store {
    /// Connects to `settings.state.url` and applies the migrations the database lacks.
    pub async fn open(settings: &Settings) -> Result<Store, StateError> {
        Store::open_url(
            &settings.state.url,
            Duration::from_secs(settings.state.timeout_seconds),
        )
        .await
    }

    /// [`Store::open`] on a given URL (`sqlite://…?mode=rwc` or `postgres://…`).
    pub async fn open_url(url: &str, timeout: Duration) -> Result<Store, StateError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url);
        let shown = shown_url(url);
        let unavailable = |e: sqlx::Error| StateError::Unavailable {
            url: shown.clone(),
            reason: e.to_string(),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time in SQLite anyway; a few readers beside it.
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(timeout);
        if backend == Backend::Sqlite {
            // The pool retries a connection that fails until the timeout, logging each
            // failure, and then says only "pool timed out": a damaged file, or one that
            // is not SQLite's, took the whole timeout to be told so, in other words. One
            // connection first, outside the pool, says it at once, in SQLite's.
            use sqlx::Connection;
            let probe = async {
                let mut conn = sqlx::AnyConnection::connect(url).await?;
                sqlite_pragmas(&mut conn).await?;
                conn.close().await
            };
            tokio::time::timeout(timeout, probe)
                .await
                .map_err(|_| StateError::Unavailable {
                    url: shown.clone(),
                    reason: format!("no connection within {} s", timeout.as_secs()),
                })?
                .map_err(|e| StateError::Unavailable {
                    url: shown.clone(),
                    reason: sqlite_failure(&e),
                })?;
            options = options.after_connect(|conn, _| Box::pin(sqlite_pragmas(conn)));
        }
        let pool = tokio::time::timeout(timeout, options.connect(url))
            .await
            .map_err(|_| StateError::Unavailable {
                url: shown.clone(),
                reason: format!("no connection within {} s", timeout.as_secs()),
            })?
            .map_err(unavailable)?;
        let store = Store {
            pool,
            url: shown,
            backend,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations the database lacks. Several processes starting at once on
    /// one SQLite file may race (SQLite has no migration lock); the loser tries again and
    /// finds the work done.
    async fn migrate(&self) -> Result<(), StateError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let mut tries = 0;
        loop {
            tries += 1;
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(MigrateError::VersionMissing(version)) => {
                    return Err(StateError::SchemaTooNew {
                        url: self.url.clone(),
                        version,
                    });
                }
                Err(MigrateError::Execute(e)) if is_connection_error(&e) => {
                    return Err(StateError::Unavailable {
                        url: self.url.clone(),
                        reason: e.to_string(),
                    });
                }
                Err(e) if tries < 5 => {
                    tracing::debug!(error = %crate::error_chain(&e), "migrating the state database; trying again");
                    tokio::time::sleep(Duration::from_millis(50 * tries)).await;
                }
                Err(e) => {
                    return Err(StateError::Migration {
                        url: self.url.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database's URL without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A query's failure as a [`StateError`].
    pub(crate) fn failed(&self, e: sqlx::Error) -> StateError {
        StateError::Unavailable {
            url: self.url.clone(),
            reason: e.to_string(),
        }
    }

    /// Closes the pool (waits for queries in flight).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// What every SQLite connection is set to: WAL lets readers and one writer in several
/// processes work at once; a writer waits for another's transaction instead of failing.
async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    for pragma in [
        "PRAGMA busy_timeout = 10000",
        "PRAGMA journal_mode = WAL",
        "PRAGMA foreign_keys = ON",
    ] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A failure to open a SQLite database, said for the operator: SQLite's words, and what
/// to do when the file is damaged (SQLITE_CORRUPT, 11) or not a database (SQLITE_NOTADB,
/// 26; extended codes keep the primary one in their low byte).
fn sqlite_failure(e: &sqlx::Error) -> String {
    let code = match e {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i32>().ok()),
        _ => None,
    };
    match code.map(|c| c & 0xff) {
        Some(11 | 26) => format!(
            "{e}: the file is damaged or not a SQLite database; move it aside (briefbot \
             makes a new one) or restore a backup"
        ),
        _ => e.to_string(),
    }
}

fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
    )
}

/// Seconds since the Unix epoch: how every time is stored.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A stored time as RFC 3339 (UTC, seconds).
pub fn rfc3339(at: i64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(at.max(0) as u64))
        .to_string()
}

/// A Discord id (a snowflake, below 2⁶³) as the database keeps it.
pub(crate) fn id(v: u64) -> i64 {
    v as i64
}

/// How long a failed connection is not retried: commands in the meantime are told at once
/// that the state is unavailable instead of each waiting out the timeout.
const RETRY_AFTER: Duration = Duration::from_secs(10);

/// The state as a long-running process holds it: connected on first use, and again after
/// a failure (at most every [`RETRY_AFTER`]), so that a database that comes back is used
/// again without a restart and one that is down costs a command nothing but the reply.
pub struct State {
    settings: Arc<Settings>,
    inner: Arc<tokio::sync::Mutex<Slot>>,
}

enum Slot {
    Empty,
    Open(Store),
    Failed(Instant, Arc<StateError>),
}

impl State {
    /// A state that connects to `settings.state.url` when first used.
    pub fn new(settings: &Settings) -> State {
        State {
            settings: Arc::new(settings.clone()),
            inner: Arc::new(tokio::sync::Mutex::new(Slot::Empty)),
        }
    }

    /// The open store, connecting (and migrating, and importing the files of an older
    /// briefbot) if it is not yet open.
    pub async fn get(&self) -> Result<Store, Arc<StateError>> {
        connect(&self.inner, &self.settings).await
    }

    /// The store if it is open now, without waiting for anything; when it is not, a
    /// connection is tried in the background (for the next caller). For the answering
    /// path, which must never wait for the database.
    pub fn ready(&self) -> Option<Store> {
        let slot = self.inner.try_lock().ok()?;
        match &*slot {
            Slot::Open(store) => Some(store.clone()),
            Slot::Failed(at, err) if at.elapsed() < RETRY_AFTER || !err.is_transient() => None,
            _ => {
                drop(slot);
                let (inner, settings) = (self.inner.clone(), self.settings.clone());
                tokio::spawn(async move {
                    let _ = connect(&inner, &settings).await;
                });
                None
            }
        }
    }

    /// Closes the open store, if any (at shutdown: SQLite checkpoints its WAL).
    pub async fn close(&self) {
        let slot = std::mem::replace(&mut *self.inner.lock().await, Slot::Empty);
        if let Slot::Open(store) = slot {
            store.close().await;
        }
    }

    /// Forgets an open store after a query failed on it, so that the next use connects
    /// afresh.
    pub async fn reset(&self) {
        *self.inner.lock().await = Slot::Empty;
    }
}

async fn connect(
    inner: &tokio::sync::Mutex<Slot>,
    settings: &Settings,
) -> Result<Store, Arc<StateError>> {
    let mut slot = inner.lock().await;
    match &*slot {
        Slot::Open(store) => return Ok(store.clone()),
        Slot::Failed(at, err) if at.elapsed() < RETRY_AFTER || !err.is_transient() => {
            return Err(err.clone());
        }
        _ => {}
    }
    match open_and_import(settings).await {
        Ok(store) => {
            tracing::info!(url = %store.url(), "state database open");
            *slot = Slot::Open(store.clone());
            Ok(store)
        }
        Err(err) => {
            tracing::warn!(error = %crate::error_chain(&err), "state database unavailable");
            let err = Arc::new(err);
            *slot = Slot::Failed(Instant::now(), err.clone());
            Err(err)
        }
    }
}

/// Opens the store and reads in the audit and feedback files of an older briefbot.
pub async fn open_and_import(settings: &Settings) -> Result<Store, StateError> {
    let store = Store::open(settings).await?;
    import::import_files(&store, settings).await?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            shown_url("postgres://bot:s3cret@db.example:5432/briefbot?sslmode=require"),
            "postgres://bot@db.example:5432/briefbot"
        );
        assert_eq!(
            shown_url("sqlite:///srv/bot/state.db?mode=rwc"),
            "sqlite:///srv/bot/state.db"
        );
    }

    #[test]
    fn both_schemas_have_the_same_migrations() {
        let versions = |m: &Migrator| m.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(&SQLITE_MIGRATIONS), versions(&POSTGRES_MIGRATIONS));
        for (a, b) in SQLITE_MIGRATIONS.iter().zip(POSTGRES_MIGRATIONS.iter()) {
            // The same statements but for the automatic ids.
            let norm = |sql: &str| {
                sql.lines()
                    .filter(|l| {
                        !l.contains("(SQLite)")
                            && !l.contains("(PostgreSQL)")
                            && !l.starts_with("-- columns")
                    })
                    .map(|l| {
                        l.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "ID")
                            .replace("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "ID")
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                norm(a.sql.as_str()),
                norm(b.sql.as_str()),
                "migration {}",
                a.version
            );
        }
    }
}
