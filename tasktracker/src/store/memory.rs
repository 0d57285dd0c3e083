//! The in-memory backend: tasks sharded by user behind `RwLock`s, so reads of
//! different users never contend and a read is one lock plus one B-tree lookup.

use super::Page;
use crate::model::{Micros, Stats, Status, Task, TaskFields, User};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

const SHARDS: usize = 64;

/// Refresh-token count from which expired ones are swept (at each power of two).
const PRUNE_AT: usize = 4096;

type UserTasks = HashMap<i64, BTreeMap<i64, Task>>;

pub struct Memory {
    users: RwLock<Users>,
    tasks: Vec<RwLock<UserTasks>>,
    next_task: AtomicI64,
    refresh: Mutex<HashMap<String, Grant>>,
    sessions: RwLock<HashMap<String, Grant>>,
}

#[derive(Default)]
struct Users {
    next_id: i64,
    by_email: HashMap<String, i64>,
    by_id: HashMap<i64, (User, String)>,
}

struct Grant {
    user_id: i64,
    expires_at: Micros,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory {
            users: RwLock::default(),
            tasks: (0..SHARDS).map(|_| RwLock::default()).collect(),
            next_task: AtomicI64::new(1),
            refresh: Mutex::default(),
            sessions: RwLock::default(),
        }
    }
}

// A poisoned lock means a panic elsewhere already; the data is still consistent
// (no method leaves it half-written), so keep serving rather than panic too.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

impl Memory {
    fn shard(&self, user_id: i64) -> &RwLock<UserTasks> {
        &self.tasks[user_id.rem_euclid(SHARDS as i64) as usize]
    }

    pub fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        full_name: Option<&str>,
    ) -> Option<User> {
        let mut users = write(&self.users);
        if users.by_email.contains_key(email) {
            return None;
        }
        users.next_id += 1;
        let user = User {
            id: users.next_id,
            email: email.to_string(),
            full_name: full_name.map(str::to_string),
            created_at: Micros::now(),
        };
        users.by_email.insert(email.to_string(), user.id);
        users
            .by_id
            .insert(user.id, (user.clone(), password_hash.to_string()));
        Some(user)
    }

    pub fn credentials(&self, email: &str) -> Option<(User, String)> {
        let users = read(&self.users);
        let id = users.by_email.get(email)?;
        users.by_id.get(id).cloned()
    }

    pub fn user(&self, id: i64) -> Option<User> {
        read(&self.users).by_id.get(&id).map(|(u, _)| u.clone())
    }

    pub fn save_refresh(&self, jti: &str, user_id: i64, expires_at: Micros) {
        let mut refresh = lock(&self.refresh);
        // Logins that never refresh would otherwise pile up for a whole run.
        if refresh.len() >= PRUNE_AT && refresh.len().is_power_of_two() {
            let now = Micros::now();
            refresh.retain(|_, g| g.expires_at > now);
        }
        refresh.insert(
            jti.to_string(),
            Grant {
                user_id,
                expires_at,
            },
        );
    }

    pub fn take_refresh(&self, jti: &str) -> Option<i64> {
        let grant = lock(&self.refresh).remove(jti)?;
        (grant.expires_at > Micros::now()).then_some(grant.user_id)
    }

    pub fn save_session(&self, token: &str, user_id: i64, expires_at: Micros) {
        write(&self.sessions).insert(
            token.to_string(),
            Grant {
                user_id,
                expires_at,
            },
        );
    }

    pub fn session_user(&self, token: &str) -> Option<i64> {
        let sessions = read(&self.sessions);
        let grant = sessions.get(token)?;
        (grant.expires_at > Micros::now()).then_some(grant.user_id)
    }

    pub fn revoke_user(&self, user_id: i64) {
        lock(&self.refresh).retain(|_, g| g.user_id != user_id);
        write(&self.sessions).retain(|_, g| g.user_id != user_id);
    }

    pub fn create_task(&self, user_id: i64, fields: TaskFields) -> Task {
        let now = Micros::now();
        let task = Task {
            id: self.next_task.fetch_add(1, Ordering::Relaxed),
            title: fields.title,
            description: fields.description,
            status: fields.status,
            priority: fields.priority,
            created_at: now,
            updated_at: now,
        };
        write(self.shard(user_id))
            .entry(user_id)
            .or_default()
            .insert(task.id, task.clone());
        task
    }

    pub fn task(&self, user_id: i64, id: i64) -> Option<Task> {
        read(self.shard(user_id)).get(&user_id)?.get(&id).cloned()
    }

    pub fn tasks(&self, user_id: i64, page: Page) -> Vec<Task> {
        let shard = read(self.shard(user_id));
        let Some(tasks) = shard.get(&user_id) else {
            return Vec::new();
        };
        tasks
            .values()
            .filter(|t| page.status.is_none_or(|s| t.status == s))
            .skip(page.offset)
            .take(page.limit)
            .cloned()
            .collect()
    }

    fn modify(&self, user_id: i64, id: i64, change: impl FnOnce(&mut Task)) -> Option<Task> {
        let mut shard = write(self.shard(user_id));
        let task = shard.get_mut(&user_id)?.get_mut(&id)?;
        change(task);
        task.updated_at = Micros::now();
        Some(task.clone())
    }

    pub fn update_task(&self, user_id: i64, id: i64, fields: TaskFields) -> Option<Task> {
        self.modify(user_id, id, |t| {
            t.title = fields.title;
            t.description = fields.description;
            t.status = fields.status;
            t.priority = fields.priority;
        })
    }

    pub fn set_status(&self, user_id: i64, id: i64, status: Status) -> Option<Task> {
        self.modify(user_id, id, |t| t.status = status)
    }

    pub fn delete_task(&self, user_id: i64, id: i64) -> bool {
        write(self.shard(user_id))
            .get_mut(&user_id)
            .and_then(|tasks| tasks.remove(&id))
            .is_some()
    }

    pub fn stats(&self, user_id: i64) -> Stats {
        let mut stats = Stats::default();
        if let Some(tasks) = read(self.shard(user_id)).get(&user_id) {
            for task in tasks.values() {
                stats.add(task.status, 1);
            }
        }
        stats.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;

    fn fields(title: &str) -> TaskFields {
        TaskFields {
            title: title.into(),
            description: None,
            status: Status::Pending,
            priority: Priority::Low,
        }
    }

    #[test]
    fn tasks_are_per_user() {
        let m = Memory::default();
        let a = m.create_task(1, fields("a"));
        let _b = m.create_task(2, fields("b"));
        assert!(m.task(1, a.id).is_some());
        assert!(m.task(2, a.id).is_none());
        assert!(m.set_status(2, a.id, Status::Completed).is_none());
        assert!(!m.delete_task(2, a.id));
        assert_eq!(m.stats(1).total, 1);
        let page = Page {
            status: None,
            limit: 10,
            offset: 0,
        };
        assert_eq!(m.tasks(2, page).len(), 1);
        assert_eq!(m.tasks(65, page).len(), 0);
    }

    #[test]
    fn refresh_tokens_are_single_use() {
        let m = Memory::default();
        m.save_refresh(
            "j",
            1,
            Micros::now().after(std::time::Duration::from_secs(9)),
        );
        assert_eq!(m.take_refresh("j"), Some(1));
        assert_eq!(m.take_refresh("j"), None);
    }
}
