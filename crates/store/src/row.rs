//! Reading columns the same way from either engine's rows, so each aggregate writes
//! its row mapping once.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

pub(crate) trait RowExt {
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
}

macro_rules! row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn text(&self, column: &str) -> Result<String, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(column)
            }
            fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(column)
            }
        }
    };
}

row_ext!(SqliteRow);
row_ext!(PgRow);

/// A column that holds one of a domain enum's names; a value the code does not know
/// means the database was written by something else, reported as a decode error.
pub(crate) fn parsed<T, E: std::fmt::Display>(
    column: &str,
    value: Result<T, E>,
) -> Result<T, sqlx::Error> {
    value.map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: e.to_string().into(),
    })
}
