//! One poll: a single statement over pg_stat_activity, turned into PgSamples.
//!
//! pg_stat_activity is a snapshot frozen for the rest of a transaction, so
//! every poll is one statement in autocommit: each sees fresh data, and all of
//! its numbers (counts, ages, blocking) come from the same instant. Ages are
//! computed on the server with clock_timestamp(), so client clock skew and
//! network delay do not enter them.

use records::PgSample;
use serde::Deserialize;
use tokio_postgres::{Client, Row, Statement};

use crate::redact;

/// Per database (every connectable one, or the `$1` names), the client
/// backends by state, with `$2` longest-running queries as JSON.
pub const SNAPSHOT_SQL: &str = r#"
WITH clients AS (
    SELECT a.datname::text AS datname, a.pid, a.state,
           a.wait_event_type, a.wait_event, left(a.query, 8192) AS query,
           a.query_start, a.xact_start,
           -- only a session waiting on a heavyweight lock can be blocked by one
           CASE WHEN a.wait_event_type = 'Lock'
                THEN cardinality(pg_blocking_pids(a.pid)) > 0
                ELSE false END AS blocked,
           CASE WHEN a.state IN ('active', 'fastpath function call')
                THEN clock_timestamp() - a.query_start END AS query_age,
           clock_timestamp() - a.xact_start AS xact_age,
           -- an aborted transaction has no xact_start any more: how long it has sat there
           CASE WHEN a.state LIKE 'idle in transaction%'
                THEN clock_timestamp() - coalesce(a.xact_start, a.state_change) END AS idle_xact_age
      FROM pg_stat_activity a
     WHERE a.backend_type = 'client backend'
       AND a.pid <> pg_backend_pid()
),
ranked AS (
    SELECT c.*,
           -- a session idle in a transaction is ranked by how long the transaction has been open
           coalesce(c.query_age, c.idle_xact_age) AS top_age,
           row_number() OVER (
               PARTITION BY c.datname
               ORDER BY coalesce(c.query_age, c.idle_xact_age) DESC NULLS LAST) AS rank
      FROM clients c
),
dbs AS (
    SELECT name AS datname FROM unnest($1::text[]) AS name
    UNION
    SELECT d.datname::text FROM pg_database d
     WHERE cardinality($1::text[]) = 0 AND d.datallowconn AND NOT d.datistemplate
)
SELECT dbs.datname,
       count(r.pid) AS total,
       count(*) FILTER (WHERE r.state = 'active') AS active,
       count(*) FILTER (WHERE r.state = 'idle') AS idle,
       count(*) FILTER (WHERE r.state LIKE 'idle in transaction%') AS idle_in_transaction,
       count(*) FILTER (WHERE r.wait_event_type IN ('Lock', 'LWLock', 'BufferPin')) AS waiting,
       count(*) FILTER (WHERE r.blocked) AS blocked,
       greatest(coalesce((extract(epoch FROM max(r.query_age)) * 1e9)::bigint, 0), 0)
           AS longest_query_ns,
       greatest(coalesce((extract(epoch FROM max(r.xact_age)) * 1e9)::bigint, 0), 0)
           AS longest_xact_ns,
       (SELECT count(*) FROM clients) AS server_total,
       current_setting('max_connections')::bigint AS max_connections,
       coalesce(json_agg(json_build_object(
                    'pid', r.pid,
                    'state', coalesce(r.state, ''),
                    'duration_ns', greatest((extract(epoch FROM r.top_age) * 1e9)::bigint, 0),
                    'wait_event', r.wait_event_type || ':' || r.wait_event,
                    'query', coalesce(r.query, ''))
                ORDER BY r.rank)
                FILTER (WHERE r.rank <= $2 AND r.top_age IS NOT NULL),
                '[]')::text AS top
  FROM dbs
  LEFT JOIN ranked r ON r.datname = dbs.datname
 GROUP BY dbs.datname
 ORDER BY dbs.datname
"#;

/// Whether the role sees other roles' sessions in full (superuser, or
/// pg_read_all_stats, which pg_monitor grants).
pub const VISIBILITY_SQL: &str = "
SELECT current_user::text,
       r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')
  FROM pg_roles r
 WHERE r.rolname = current_user";

/// Which of the `$1` names are not databases on this server.
pub const MISSING_DATABASES_SQL: &str = "
SELECT name FROM unnest($1::text[]) AS name
 WHERE name NOT IN (SELECT datname::text FROM pg_database)";

/// What to put in a sample beyond the counts.
#[derive(Clone, Debug)]
pub struct Shape {
    pub datnames: Vec<String>,
    pub top: u32,
    pub query_chars: usize,
    pub redact: bool,
}

/// One poll's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub samples: Vec<PgSample>,
    /// Client backends on the whole server (pgwatch's own left out).
    pub server_total: u64,
    pub max_connections: u64,
}

#[derive(Deserialize)]
struct TopRow {
    pid: i32,
    state: String,
    duration_ns: i64,
    wait_event: Option<String>,
    query: String,
}

/// Runs the snapshot statement; `ts` stamps every sample of this poll.
pub async fn take(
    client: &Client,
    statement: &Statement,
    shape: &Shape,
    ts: u64,
) -> Result<Snapshot, tokio_postgres::Error> {
    let top = i64::from(shape.top);
    let rows = client.query(statement, &[&shape.datnames, &top]).await?;
    Ok(from_rows(&rows, shape, ts))
}

fn from_rows(rows: &[Row], shape: &Shape, ts: u64) -> Snapshot {
    let mut snapshot = Snapshot::default();
    for row in rows {
        let count = |name: &str| row.get::<_, i64>(name).max(0) as u64;
        snapshot.server_total = count("server_total");
        snapshot.max_connections = count("max_connections");
        let top_json: String = row.get("top");
        let top = serde_json::from_str::<Vec<TopRow>>(&top_json)
            .unwrap_or_default()
            .into_iter()
            .map(|t| records::PgQuery {
                pid: t.pid,
                state: t.state,
                duration_ns: t.duration_ns.max(0) as u64,
                wait_event: t.wait_event,
                query: present_query(&t.query, shape),
            })
            .collect();
        snapshot.samples.push(PgSample {
            ts,
            datname: row.get("datname"),
            total: count("total"),
            active: count("active"),
            idle: count("idle"),
            idle_in_transaction: count("idle_in_transaction"),
            waiting: count("waiting"),
            blocked: count("blocked"),
            max_connections: count("max_connections"),
            utilization: 0.0,
            pool_size: None,
            longest_query_ns: count("longest_query_ns"),
            longest_xact_ns: count("longest_xact_ns"),
            top,
        });
    }
    let utilization = utilization(snapshot.server_total, snapshot.max_connections);
    for sample in &mut snapshot.samples {
        sample.utilization = utilization;
    }
    snapshot
}

impl Snapshot {
    /// Sessions in the watched databases that hold their connection:
    /// active or idle in a transaction (what a pool counts as checked out).
    pub fn busy(&self) -> u64 {
        self.samples
            .iter()
            .map(|s| s.active.saturating_add(s.idle_in_transaction))
            .fold(0, u64::saturating_add)
    }
}

/// All client connections as a share of max_connections (0 when unknown).
pub fn utilization(clients: u64, max_connections: u64) -> f64 {
    if max_connections == 0 {
        0.0
    } else {
        clients as f64 / max_connections as f64
    }
}

/// A query text as it goes out: one line, literals redacted if asked, cut short.
pub fn present_query(query: &str, shape: &Shape) -> String {
    let text = if shape.redact {
        redact::redact(query)
    } else {
        query.to_string()
    };
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    redact::truncate(&one_line, shape.query_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(redact: bool, chars: usize) -> Shape {
        Shape {
            datnames: vec![],
            top: 3,
            query_chars: chars,
            redact,
        }
    }

    #[test]
    fn queries_come_out_on_one_line_redacted_and_cut() {
        let q = "SELECT *\n  FROM users\n WHERE email = 'x@y.z'";
        assert_eq!(
            present_query(q, &shape(true, 200)),
            "SELECT * FROM users WHERE email = ?"
        );
        assert_eq!(
            present_query(q, &shape(false, 200)),
            "SELECT * FROM users WHERE email = 'x@y.z'"
        );
        assert_eq!(present_query(q, &shape(false, 10)), "SELECT * …");
    }

    #[test]
    fn utilization_is_a_share() {
        assert_eq!(utilization(61, 80), 0.7625);
        assert_eq!(utilization(3, 0), 0.0);
    }
}
