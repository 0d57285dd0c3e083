//! PgSamples from pgwatch, summed over databases per poll.

use records::{PgSample, Summary};

/// One poll of `pg_stat_activity`, all databases together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Poll {
    pub ts: u64,
    pub total: u64,
    pub active: u64,
    pub idle: u64,
    pub idle_in_transaction: u64,
    pub waiting: u64,
    pub max_connections: u64,
    /// The application's pool size (`pgwatch --pool-size`), 0 when unknown.
    pub pool_size: u64,
    /// Percent of the pool busy (active or idle in transaction) when its
    /// size is known, else of max_connections in use, server-wide.
    pub utilization_pct: f64,
}

/// What the polls' utilization is a percentage of, for axis labels.
pub fn utilization_of(polls: &[Poll]) -> String {
    match polls.iter().map(|p| p.pool_size).max().unwrap_or(0) {
        0 => "% of max_connections".into(),
        n => format!("% of the {n}-connection pool busy"),
    }
}

/// Reads `kind: pg` records from `path`; other kinds are skipped. Bad lines
/// name file and line (exit 2).
pub fn load(path: &str) -> anyhow::Result<Vec<Poll>> {
    let mut samples: Vec<PgSample> = Vec::new();
    for record in records::ndjson::open(path)?.records::<Summary>() {
        if let Summary::Pg(sample) = record? {
            samples.push(sample);
        }
    }
    if samples.is_empty() {
        return Err(records::bad_input(format!(
            "{path}: no pg samples (expected `pgwatch` output, records with \"kind\":\"pg\")"
        )));
    }
    Ok(polls(samples))
}

/// Groups samples taken at the same instant (one per database) into polls.
pub fn polls(mut samples: Vec<PgSample>) -> Vec<Poll> {
    samples.sort_by_key(|s| s.ts);
    let mut out: Vec<Poll> = Vec::new();
    for s in samples {
        let pool = s.pool_size.unwrap_or(0);
        let utilization = if s.utilization > 0.0 {
            s.utilization * 100.0
        } else if s.max_connections > 0 {
            s.total as f64 * 100.0 / s.max_connections as f64
        } else {
            0.0
        };
        match out.last_mut() {
            Some(p) if p.ts == s.ts => {
                p.total = p.total.saturating_add(s.total);
                p.active = p.active.saturating_add(s.active);
                p.idle = p.idle.saturating_add(s.idle);
                p.idle_in_transaction = p.idle_in_transaction.saturating_add(s.idle_in_transaction);
                p.waiting = p.waiting.saturating_add(s.waiting);
                p.max_connections = p.max_connections.max(s.max_connections);
                p.pool_size = p.pool_size.max(pool);
                p.utilization_pct = p.utilization_pct.max(utilization);
            }
            _ => out.push(Poll {
                ts: s.ts,
                total: s.total,
                active: s.active,
                idle: s.idle,
                idle_in_transaction: s.idle_in_transaction,
                waiting: s.waiting,
                max_connections: s.max_connections,
                pool_size: pool,
                utilization_pct: utilization,
            }),
        }
    }
    // The pool's use is the busy sessions of the whole poll (every database).
    for p in out.iter_mut().filter(|p| p.pool_size > 0) {
        let busy = p.active.saturating_add(p.idle_in_transaction);
        p.utilization_pct = busy as f64 * 100.0 / p.pool_size as f64;
    }
    out
}

/// Whether any poll falls within `[start, end]` (epoch ns).
pub fn overlaps(polls: &[Poll], start: u64, end: u64) -> bool {
    polls.iter().any(|p| p.ts >= start && p.ts <= end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_of_one_poll_add_up() {
        let s = |ts, db: &str, total, active| PgSample {
            ts,
            datname: db.into(),
            total,
            active,
            max_connections: 100,
            utilization: 0.0,
            ..PgSample::default()
        };
        let polls = polls(vec![s(2, "a", 5, 1), s(1, "a", 3, 1), s(1, "b", 4, 2)]);
        assert_eq!(polls.len(), 2);
        assert_eq!((polls[0].ts, polls[0].total, polls[0].active), (1, 7, 3));
        assert_eq!(polls[0].utilization_pct, 4.0);
        assert!(overlaps(&polls, 2, 10));
        assert!(!overlaps(&polls, 3, 10));
        assert_eq!(utilization_of(&polls), "% of max_connections");
    }

    #[test]
    fn with_a_pool_size_utilization_is_of_the_pool() {
        // 4 of 100 server connections, but all 4 of the app's pool busy.
        let s = PgSample {
            ts: 1,
            datname: "test".into(),
            total: 4,
            active: 3,
            idle_in_transaction: 1,
            max_connections: 100,
            utilization: 0.04,
            pool_size: Some(4),
            ..PgSample::default()
        };
        let polls = polls(vec![s]);
        assert_eq!(polls[0].utilization_pct, 100.0);
        assert_eq!(utilization_of(&polls), "% of the 4-connection pool busy");
    }
}
