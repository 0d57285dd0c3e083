use serde::{Deserialize, Serialize};

/// One `pg_stat_activity` snapshot for one database (`kind: pg`), as pgwatch prints it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PgSample {
    /// Unix epoch nanoseconds.
    pub ts: u64,
    pub datname: String,
    pub total: u64,
    pub active: u64,
    pub idle: u64,
    pub idle_in_transaction: u64,
    pub waiting: u64,
    pub blocked: u64,
    pub max_connections: u64,
    /// All client backends on the server / max_connections.
    #[serde(default)]
    pub utilization: f64,
    /// The application's connection pool size (`pgwatch --pool-size`), when
    /// known: then the pool's use is `active + idle_in_transaction` (summed
    /// over the samples of one poll) out of this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_size: Option<u64>,
    pub longest_query_ns: u64,
    pub longest_xact_ns: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<PgQuery>,
}

/// One of the longest-running queries (`pgwatch --top N`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PgQuery {
    pub pid: i32,
    pub state: String,
    pub duration_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_event: Option<String>,
    pub query: String,
}
