//! The PostgreSQL backend: a deadpool pool of `--pool-size` connections, every
//! table in one schema (`--db-schema`) so tests can use a scratch schema.

use super::Page;
use crate::model::{Micros, Priority, Stats, Status, Task, TaskFields, User};
use anyhow::{Context, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use tokio_postgres::{NoTls, Row};

pub struct PostgresConfig {
    pub url: String,
    pub schema: String,
    pub pool_size: usize,
}

pub struct Postgres {
    pool: Pool,
    sql: Sql,
}

/// Statements with the schema name filled in once.
struct Sql {
    insert_user: String,
    credentials: String,
    user: String,
    save_refresh: String,
    take_refresh: String,
    save_session: String,
    session_user: String,
    revoke_refresh: String,
    revoke_sessions: String,
    insert_task: String,
    task: String,
    tasks: String,
    update_task: String,
    set_status: String,
    delete_task: String,
    stats: String,
}

const TASK_COLUMNS: &str = "id, title, description, status, priority, created_at, updated_at";

impl Sql {
    fn new(s: &str) -> Sql {
        Sql {
            insert_user: format!(
                "INSERT INTO {s}.users (email, password_hash, full_name, created_at) \
                 VALUES ($1, $2, $3, now()) ON CONFLICT (email) DO NOTHING \
                 RETURNING id, email, full_name, created_at"
            ),
            credentials: format!(
                "SELECT id, email, full_name, created_at, password_hash FROM {s}.users WHERE email = $1"
            ),
            user: format!("SELECT id, email, full_name, created_at FROM {s}.users WHERE id = $1"),
            save_refresh: format!(
                "INSERT INTO {s}.refresh_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3)"
            ),
            take_refresh: format!(
                "DELETE FROM {s}.refresh_tokens WHERE jti = $1 RETURNING user_id, expires_at > now()"
            ),
            save_session: format!(
                "INSERT INTO {s}.sessions (token, user_id, expires_at) VALUES ($1, $2, $3)"
            ),
            session_user: format!(
                "SELECT user_id FROM {s}.sessions WHERE token = $1 AND expires_at > now()"
            ),
            revoke_refresh: format!("DELETE FROM {s}.refresh_tokens WHERE user_id = $1"),
            revoke_sessions: format!("DELETE FROM {s}.sessions WHERE user_id = $1"),
            insert_task: format!(
                "INSERT INTO {s}.tasks (user_id, title, description, status, priority, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, now(), now()) RETURNING {TASK_COLUMNS}"
            ),
            task: format!("SELECT {TASK_COLUMNS} FROM {s}.tasks WHERE user_id = $1 AND id = $2"),
            tasks: format!(
                "SELECT {TASK_COLUMNS} FROM {s}.tasks WHERE user_id = $1 \
                 AND ($2::text IS NULL OR status = $2) ORDER BY id LIMIT $3 OFFSET $4"
            ),
            update_task: format!(
                "UPDATE {s}.tasks SET title = $3, description = $4, status = $5, priority = $6, \
                 updated_at = now() WHERE user_id = $1 AND id = $2 RETURNING {TASK_COLUMNS}"
            ),
            set_status: format!(
                "UPDATE {s}.tasks SET status = $3, updated_at = now() \
                 WHERE user_id = $1 AND id = $2 RETURNING {TASK_COLUMNS}"
            ),
            delete_task: format!("DELETE FROM {s}.tasks WHERE user_id = $1 AND id = $2"),
            stats: format!(
                "SELECT status, count(*) FROM {s}.tasks WHERE user_id = $1 GROUP BY status"
            ),
        }
    }
}

fn schema_ddl(s: &str) -> String {
    // The advisory lock serializes concurrent starts on one database: two
    // `CREATE ... IF NOT EXISTS` racing each other can still collide.
    format!(
        "BEGIN;
         SELECT pg_advisory_xact_lock(7406116);
         CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TABLE IF NOT EXISTS {s}.users (
             id BIGSERIAL PRIMARY KEY,
             email TEXT NOT NULL UNIQUE,
             password_hash TEXT NOT NULL,
             full_name TEXT,
             created_at TIMESTAMPTZ NOT NULL);
         CREATE TABLE IF NOT EXISTS {s}.tasks (
             id BIGSERIAL PRIMARY KEY,
             user_id BIGINT NOT NULL,
             title TEXT NOT NULL,
             description TEXT,
             status TEXT NOT NULL,
             priority TEXT NOT NULL,
             created_at TIMESTAMPTZ NOT NULL,
             updated_at TIMESTAMPTZ NOT NULL);
         CREATE INDEX IF NOT EXISTS tasks_user_id_id ON {s}.tasks (user_id, id);
         CREATE TABLE IF NOT EXISTS {s}.refresh_tokens (
             jti TEXT PRIMARY KEY,
             user_id BIGINT NOT NULL,
             expires_at TIMESTAMPTZ NOT NULL);
         CREATE INDEX IF NOT EXISTS refresh_tokens_user_id ON {s}.refresh_tokens (user_id);
         CREATE TABLE IF NOT EXISTS {s}.sessions (
             token TEXT PRIMARY KEY,
             user_id BIGINT NOT NULL,
             expires_at TIMESTAMPTZ NOT NULL);
         CREATE INDEX IF NOT EXISTS sessions_user_id ON {s}.sessions (user_id);
         COMMIT;"
    )
}

/// A schema name safe to paste into SQL: a lowercase identifier.
pub fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// `host:port` of a connection string, for messages (never the password).
pub fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// An error and its sources on one line (deadpool's own Display stops at the top).
fn causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

fn micros(row: &Row, idx: usize) -> Micros {
    Micros::from(row.get::<_, SystemTime>(idx))
}

fn user_of(row: &Row) -> User {
    User {
        id: row.get(0),
        email: row.get(1),
        full_name: row.get(2),
        created_at: micros(row, 3),
    }
}

fn task_of(row: &Row) -> Result<Task> {
    let status: &str = row.get(3);
    let priority: &str = row.get(4);
    Ok(Task {
        id: row.get(0),
        title: row.get(1),
        description: row.get(2),
        status: Status::parse(status)
            .with_context(|| format!("bad status {status:?} in database"))?,
        priority: Priority::parse(priority)
            .with_context(|| format!("bad priority {priority:?} in database"))?,
        created_at: micros(row, 5),
        updated_at: micros(row, 6),
    })
}

impl Postgres {
    /// Connects (exit 3 when unreachable), creates the schema, returns the pool.
    pub async fn connect(config: &PostgresConfig) -> Result<Postgres> {
        let mut pg = tokio_postgres::Config::from_str(&config.url).map_err(|e| {
            records::bad_input(format!("--database-url is not a PostgreSQL URL: {e}"))
        })?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        if pg.get_application_name().is_none() {
            pg.application_name("tasktracker");
        }
        let place = describe(&pg);
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .context("building the PostgreSQL pool")?;
        let client = pool.get().await.map_err(|e| {
            records::unreachable(format!(
                "cannot reach PostgreSQL at {place}: {}",
                causes(&e)
            ))
        })?;
        client
            .batch_execute(&schema_ddl(&config.schema))
            .await
            .with_context(|| format!("creating schema {} at {place}", config.schema))?;
        drop(client);
        Ok(Postgres {
            pool,
            sql: Sql::new(&config.schema),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }

    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query_opt(&stmt, params).await?)
    }

    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query(&stmt, params).await?)
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.execute(&stmt, params).await?)
    }

    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        full_name: Option<&str>,
    ) -> Result<Option<User>> {
        let row = self
            .query_opt(&self.sql.insert_user, &[&email, &password_hash, &full_name])
            .await?;
        Ok(row.as_ref().map(user_of))
    }

    pub async fn credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = self.query_opt(&self.sql.credentials, &[&email]).await?;
        Ok(row.map(|r| (user_of(&r), r.get(4))))
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        Ok(self
            .query_opt(&self.sql.user, &[&id])
            .await?
            .as_ref()
            .map(user_of))
    }

    pub async fn save_refresh(&self, jti: &str, user_id: i64, expires_at: Micros) -> Result<()> {
        let at = expires_at.to_system_time();
        self.execute(&self.sql.save_refresh, &[&jti, &user_id, &at])
            .await?;
        Ok(())
    }

    pub async fn take_refresh(&self, jti: &str) -> Result<Option<i64>> {
        let row = self.query_opt(&self.sql.take_refresh, &[&jti]).await?;
        Ok(row.and_then(|r| r.get::<_, bool>(1).then(|| r.get(0))))
    }

    pub async fn save_session(&self, token: &str, user_id: i64, expires_at: Micros) -> Result<()> {
        let at = expires_at.to_system_time();
        self.execute(&self.sql.save_session, &[&token, &user_id, &at])
            .await?;
        Ok(())
    }

    pub async fn session_user(&self, token: &str) -> Result<Option<i64>> {
        let row = self.query_opt(&self.sql.session_user, &[&token]).await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn revoke_user(&self, user_id: i64) -> Result<()> {
        self.execute(&self.sql.revoke_refresh, &[&user_id]).await?;
        self.execute(&self.sql.revoke_sessions, &[&user_id]).await?;
        Ok(())
    }

    pub async fn create_task(&self, user_id: i64, f: TaskFields) -> Result<Task> {
        let row = self
            .query_opt(
                &self.sql.insert_task,
                &[
                    &user_id,
                    &f.title,
                    &f.description,
                    &f.status.as_str(),
                    &f.priority.as_str(),
                ],
            )
            .await?
            .context("INSERT ... RETURNING gave no row")?;
        task_of(&row)
    }

    pub async fn task(&self, user_id: i64, id: i64) -> Result<Option<Task>> {
        self.query_opt(&self.sql.task, &[&user_id, &id])
            .await?
            .as_ref()
            .map(task_of)
            .transpose()
    }

    pub async fn tasks(&self, user_id: i64, page: Page) -> Result<Vec<Task>> {
        let status = page.status.map(Status::as_str);
        let limit = page.limit as i64;
        let offset = page.offset as i64;
        self.query(&self.sql.tasks, &[&user_id, &status, &limit, &offset])
            .await?
            .iter()
            .map(task_of)
            .collect()
    }

    pub async fn update_task(&self, user_id: i64, id: i64, f: TaskFields) -> Result<Option<Task>> {
        self.query_opt(
            &self.sql.update_task,
            &[
                &user_id,
                &id,
                &f.title,
                &f.description,
                &f.status.as_str(),
                &f.priority.as_str(),
            ],
        )
        .await?
        .as_ref()
        .map(task_of)
        .transpose()
    }

    pub async fn set_status(&self, user_id: i64, id: i64, status: Status) -> Result<Option<Task>> {
        self.query_opt(&self.sql.set_status, &[&user_id, &id, &status.as_str()])
            .await?
            .as_ref()
            .map(task_of)
            .transpose()
    }

    pub async fn delete_task(&self, user_id: i64, id: i64) -> Result<bool> {
        Ok(self
            .execute(&self.sql.delete_task, &[&user_id, &id])
            .await?
            > 0)
    }

    pub async fn stats(&self, user_id: i64) -> Result<Stats> {
        let mut stats = Stats::default();
        for row in self.query(&self.sql.stats, &[&user_id]).await? {
            let status: &str = row.get(0);
            let n: i64 = row.get(1);
            if let Some(status) = Status::parse(status) {
                stats.add(status, n as u64);
            }
        }
        Ok(stats.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("tasktracker"));
        assert!(valid_schema("tt_test_123"));
        assert!(!valid_schema("Bad"));
        assert!(!valid_schema("x; DROP TABLE y"));
        assert!(!valid_schema("1abc"));
        assert!(!valid_schema(""));
    }

    #[test]
    fn describe_names_host_and_port_but_not_the_password() {
        let c = tokio_postgres::Config::from_str("postgres://u:hunter2@127.0.0.1:5999/db").unwrap();
        let text = describe(&c);
        assert_eq!(text, "127.0.0.1:5999");
    }
}
