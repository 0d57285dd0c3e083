//! Where users, tokens and tasks live: in memory (default) or in PostgreSQL.
//!
//! An enum rather than a trait object: two backends, and async methods stay plain.

mod memory;
pub mod postgres;

pub use memory::Memory;
pub use postgres::{Postgres, PostgresConfig};

use crate::model::{Micros, Stats, Status, Task, TaskFields, User};
use anyhow::Result;
use std::sync::Arc;

#[derive(Clone)]
pub enum Store {
    Memory(Arc<Memory>),
    Postgres(Arc<Postgres>),
}

/// A page of a user's task list.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub status: Option<Status>,
    pub limit: usize,
    pub offset: usize,
}

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Memory(m) => Ok(m.$method($($arg),*)),
            Store::Postgres(p) => p.$method($($arg),*).await,
        }
    };
}

impl Store {
    pub fn memory() -> Store {
        Store::Memory(Arc::new(Memory::default()))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Creates a user; `None` when the email is taken.
    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        full_name: Option<&str>,
    ) -> Result<Option<User>> {
        dispatch!(self.create_user(email, password_hash, full_name))
    }

    /// A user and their password hash, by email.
    pub async fn credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        dispatch!(self.credentials(email))
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        dispatch!(self.user(id))
    }

    pub async fn save_refresh(&self, jti: &str, user_id: i64, expires_at: Micros) -> Result<()> {
        dispatch!(self.save_refresh(jti, user_id, expires_at))
    }

    /// Uses up a refresh token: its user if it was valid, and it is gone either way.
    pub async fn take_refresh(&self, jti: &str) -> Result<Option<i64>> {
        dispatch!(self.take_refresh(jti))
    }

    pub async fn save_session(&self, token: &str, user_id: i64, expires_at: Micros) -> Result<()> {
        dispatch!(self.save_session(token, user_id, expires_at))
    }

    pub async fn session_user(&self, token: &str) -> Result<Option<i64>> {
        dispatch!(self.session_user(token))
    }

    /// Logout: forgets every refresh token and session of the user.
    pub async fn revoke_user(&self, user_id: i64) -> Result<()> {
        dispatch!(self.revoke_user(user_id))
    }

    pub async fn create_task(&self, user_id: i64, fields: TaskFields) -> Result<Task> {
        dispatch!(self.create_task(user_id, fields))
    }

    pub async fn task(&self, user_id: i64, id: i64) -> Result<Option<Task>> {
        dispatch!(self.task(user_id, id))
    }

    pub async fn tasks(&self, user_id: i64, page: Page) -> Result<Vec<Task>> {
        dispatch!(self.tasks(user_id, page))
    }

    pub async fn update_task(
        &self,
        user_id: i64,
        id: i64,
        fields: TaskFields,
    ) -> Result<Option<Task>> {
        dispatch!(self.update_task(user_id, id, fields))
    }

    pub async fn set_status(&self, user_id: i64, id: i64, status: Status) -> Result<Option<Task>> {
        dispatch!(self.set_status(user_id, id, status))
    }

    pub async fn delete_task(&self, user_id: i64, id: i64) -> Result<bool> {
        dispatch!(self.delete_task(user_id, id))
    }

    pub async fn stats(&self, user_id: i64) -> Result<Stats> {
        dispatch!(self.stats(user_id))
    }
}
