//! The API's nouns: users, tasks, their statuses and priorities, and how
//! they look on the wire.

use serde::{Deserialize, Serialize, Serializer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, microseconds since the Unix epoch (PostgreSQL's precision).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Micros(pub i64);

impl Micros {
    pub fn now() -> Micros {
        Micros::from(SystemTime::now())
    }

    pub fn after(self, d: Duration) -> Micros {
        Micros(
            self.0
                .saturating_add(d.as_micros().min(i64::MAX as u128) as i64),
        )
    }

    pub fn to_system_time(self) -> SystemTime {
        if self.0 >= 0 {
            UNIX_EPOCH + Duration::from_micros(self.0 as u64)
        } else {
            UNIX_EPOCH - Duration::from_micros(self.0.unsigned_abs())
        }
    }

    /// RFC 3339 in UTC with microseconds: `2025-01-02T03:04:05.123456Z`.
    pub fn rfc3339(self) -> String {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let of_day = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        )
    }
}

impl From<SystemTime> for Micros {
    fn from(t: SystemTime) -> Micros {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Micros(d.as_micros() as i64),
            Err(e) => Micros(-(e.duration().as_micros() as i64)),
        }
    }
}

impl Serialize for Micros {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A registered user as the API shows it (never with the password hash).
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub full_name: Option<String>,
    pub created_at: Micros,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    InProgress,
    Completed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pending" => Some(Status::Pending),
            "in_progress" => Some(Status::InProgress),
            "completed" => Some(Status::Completed),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Priority> {
        match text {
            "low" => Some(Priority::Low),
            "medium" => Some(Priority::Medium),
            "high" => Some(Priority::High),
            _ => None,
        }
    }
}

/// A task as stored and as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// What a client may set on a task (create and full update).
#[derive(Clone, Debug)]
pub struct TaskFields {
    pub title: String,
    pub description: Option<String>,
    pub status: Status,
    pub priority: Priority,
}

/// The request body of create and update, before validation.
#[derive(Debug, Deserialize)]
pub struct TaskInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
}

impl TaskInput {
    pub fn validate(self) -> Result<TaskFields, String> {
        let title = match self.title {
            Some(t) if !t.trim().is_empty() => t,
            Some(_) => return Err("title: must not be empty".into()),
            None => return Err("title: field required".into()),
        };
        Ok(TaskFields {
            title,
            description: self.description,
            status: self.status.unwrap_or(Status::Pending),
            priority: self.priority.unwrap_or(Priority::Medium),
        })
    }
}

/// Per-user task counts, the answer of `GET /api/v1/stats/`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub total: u64,
    pub completed: u64,
    pub pending: u64,
    pub in_progress: u64,
    /// Percent of tasks completed, 0–100, two decimals.
    pub completion_rate: f64,
}

impl Stats {
    pub fn add(&mut self, status: Status, n: u64) {
        self.total += n;
        match status {
            Status::Pending => self.pending += n,
            Status::InProgress => self.in_progress += n,
            Status::Completed => self.completed += n,
        }
    }

    pub fn finish(mut self) -> Stats {
        self.completion_rate = if self.total == 0 {
            0.0
        } else {
            (self.completed as f64 * 10_000.0 / self.total as f64).round() / 100.0
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_with_micros() {
        assert_eq!(Micros(0).rfc3339(), "1970-01-01T00:00:00.000000Z");
        // 2024-02-29T12:34:56.789012Z
        assert_eq!(
            Micros(1_709_210_096_789_012).rfc3339(),
            "2024-02-29T12:34:56.789012Z"
        );
        assert_eq!(Micros(-1).rfc3339(), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn system_time_round_trips() {
        let m = Micros(1_700_000_000_123_456);
        assert_eq!(Micros::from(m.to_system_time()), m);
    }

    #[test]
    fn task_input_defaults_and_rejects() {
        let input: TaskInput = serde_json::from_str(r#"{"title":"x"}"#).unwrap();
        let fields = input.validate().unwrap();
        assert_eq!(fields.status, Status::Pending);
        assert_eq!(fields.priority, Priority::Medium);
        let input: TaskInput = serde_json::from_str(r#"{"title":"  "}"#).unwrap();
        assert!(input.validate().is_err());
        assert!(serde_json::from_str::<TaskInput>(r#"{"title":"x","status":"done"}"#).is_err());
        assert!(serde_json::from_str::<TaskInput>(r#"{"title":5}"#).is_err());
    }

    #[test]
    fn stats_rate_is_a_percentage() {
        let mut s = Stats::default();
        s.add(Status::Completed, 1);
        s.add(Status::Pending, 2);
        let s = s.finish();
        assert_eq!((s.total, s.completed, s.pending), (3, 1, 2));
        assert_eq!(s.completion_rate, 33.33);
        assert_eq!(Stats::default().finish().completion_rate, 0.0);
    }
}
