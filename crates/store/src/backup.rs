//! Online backup of the embedded database.

use crate::{Db, Result, Store, StoreError};

impl Store {
    /// Writes a consistent copy of a SQLite database to `path` while Tend keeps running
    /// (`VACUUM INTO`). PostgreSQL has its own tools; this says so.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        match &self.db {
            Db::Sqlite(p) => {
                if path.exists() {
                    return Err(StoreError::invalid("file", format!("{} already exists; choose a new file name", path.display())));
                }
                let target = path.to_string_lossy().to_string();
                sqlx::query("VACUUM INTO $1").bind(target).execute(p).await.map(|r| r.rows_affected())?;
                Ok(())
            }
            Db::Pg(_) => Err(StoreError::Guarded(
                "this database is PostgreSQL: back it up with pg_dump (for example: pg_dump -Fc \"$TEND_DATABASE_URL\" > tend.dump)".into(),
            )),
        }
    }
}
