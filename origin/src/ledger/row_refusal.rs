//! Telling a row the database refuses (a constraint, a trigger, a value its column cannot hold)
//! from a database that is failing. Only the first may be counted against the row and, after a
//! few tries, set aside as a dead letter; the second (a full disk, a read-only database after a
//! failover, a lock held too long, an I/O error) leaves every entry pending, uncounted, until
//! the database is back. Both arrive as `sqlx::Error::Database`, so the error's kind and code
//! decide.

use sqlx::error::ErrorKind;

/// Whether `error` is the database refusing this one row: a constraint it breaks, or a value its
/// column cannot hold.
pub fn refuses_the_row(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = error else {
        return false;
    };
    if matches!(
        e.kind(),
        ErrorKind::UniqueViolation
            | ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation
    ) {
        return true;
    }
    match e.code().as_deref() {
        // PostgreSQL's SQLSTATE: class 22, data exceptions; 23, integrity violations; P0, an
        // exception a trigger raised (PL/pgSQL's RAISE).
        Some(state) if state.len() == 5 => ["22", "23", "P0"].iter().any(|c| state.starts_with(c)),
        // SQLite's (extended) result code, whose low byte is the primary code: a value too big
        // (18), a constraint (19, also raised by a trigger), a datatype mismatch (20).
        Some(code) => code
            .parse::<i32>()
            .is_ok_and(|code| matches!(code & 0xff, 18..=20)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Executor, SqliteConnection};

    use super::refuses_the_row;

    async fn sqlite(url: &str) -> SqliteConnection {
        SqliteConnection::connect(url).await.expect("sqlite opens")
    }

    #[tokio::test]
    async fn constraints_refuse_the_row_and_a_failing_database_does_not() {
        let dir = std::env::temp_dir().join(format!("flashgate-refusal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("orders.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut con = sqlite(&url).await;
        con.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, quantity INTEGER NOT NULL CHECK (quantity > 0))")
            .await
            .unwrap();
        con.execute("INSERT INTO orders VALUES ('a', 1)")
            .await
            .unwrap();
        for refused in [
            "INSERT INTO orders VALUES ('a', 1)",
            "INSERT INTO orders VALUES ('b', NULL)",
            "INSERT INTO orders VALUES ('c', 0)",
        ] {
            let e = con.execute(refused).await.unwrap_err();
            assert!(refuses_the_row(&e), "{refused}: {e}");
        }

        // A read-only database refuses every row alike: not the row's fault.
        let mut read_only = sqlite(&format!("sqlite://{}?mode=ro", path.display())).await;
        let e = read_only
            .execute("INSERT INTO orders VALUES ('d', 1)")
            .await
            .unwrap_err();
        assert!(!refuses_the_row(&e), "{e}");

        // Nor is a lock another writer holds past the wait.
        con.execute("BEGIN EXCLUSIVE").await.unwrap();
        let mut blocked = sqlite(&url).await;
        blocked.execute("PRAGMA busy_timeout = 0").await.unwrap();
        let e = blocked
            .execute("INSERT INTO orders VALUES ('e', 1)")
            .await
            .unwrap_err();
        assert!(!refuses_the_row(&e), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
