//! The SQL side of backups: an online, consistent copy of a live SQLite database
//! (`VACUUM INTO`), and opening such a copy without changing a byte of it.
//! PostgreSQL is backed up with its own tools (`pg_basebackup`, `pg_dump`); see
//! `docs/operations.md`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::{Db, DbError, DbResult};

/// Writes a transactionally consistent copy of the SQLite database to `target` with
/// `VACUUM INTO`, while other connections (a running server) keep reading and writing: the
/// copy is the database as of one committed state. `target` must not exist. The path is
/// passed as a bound parameter, never spliced into the SQL.
pub async fn sqlite_vacuum_into(db: &Db, target: &Path) -> DbResult<()> {
    let Db::Sqlite(pool, _) = db else {
        return Err(DbError::Other(
            "VACUUM INTO is a SQLite backup; back up PostgreSQL with pg_basebackup or pg_dump"
                .into(),
        ));
    };
    let target = target.to_str().ok_or_else(|| {
        DbError::Other(format!(
            "backup path is not valid UTF-8: {}",
            target.display()
        ))
    })?;
    if target.is_empty() || target.starts_with(':') || target.starts_with("file:") {
        // Neither ":memory:" nor a URI filename: only a plain file path is meant here.
        return Err(DbError::Other(format!(
            "backup path must be a plain file path, got {target:?}"
        )));
    }
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(pool)
        .await?;
    Ok(())
}

/// Opens a SQLite database file read-only and immutable (no locks, no `-wal`/`-shm` files,
/// nothing written), e.g. a backup copy whose hash must not change by being read.
pub async fn open_sqlite_snapshot(path: &Path) -> DbResult<Db> {
    if !path.is_file() {
        return Err(DbError::Other(format!(
            "no SQLite database at {}",
            path.display()
        )));
    }
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    Ok(Db::Sqlite(pool, crate::pool::WriteQueue::new()))
}

/// The database file a `sqlite:` URL names (percent-decoding and query parameters handled as
/// the driver does). An in-memory database has no file and is an error.
pub fn sqlite_file(url: &str) -> DbResult<PathBuf> {
    if !url.starts_with("sqlite:") {
        return Err(DbError::Other(format!("not a SQLite URL: {url}")));
    }
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbError::Other(format!("bad SQLite URL: {e}")))?;
    let file = opts.get_filename();
    let name = file.to_string_lossy();
    if name.is_empty() || url.contains(":memory:") || url.contains("mode=memory") {
        return Err(DbError::Other(format!(
            "an in-memory SQLite database has no file to back up or restore: {url}"
        )));
    }
    Ok(file.to_path_buf())
}
