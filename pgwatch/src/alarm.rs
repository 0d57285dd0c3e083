//! The connection-utilization warning: said once when crossing the threshold
//! upwards, and once when falling back below, so a long high stretch does not
//! flood stderr.

use crate::snapshot::utilization;

#[derive(Clone, Debug)]
pub struct Alarm {
    threshold: f64,
    high: bool,
    /// `--pool-size` given: the counts are busy connections of the pool.
    pool: bool,
}

impl Alarm {
    /// `threshold` is a share (0.75 for 75%) of max_connections, or with
    /// `pool` of the application's pool.
    pub fn new(threshold: f64, pool: bool) -> Alarm {
        Alarm {
            threshold,
            high: false,
            pool,
        }
    }

    /// The line to print on stderr, if this poll crossed the threshold:
    /// `clients` of `max_connections` (or busy connections of the pool).
    pub fn observe(&mut self, clients: u64, max_connections: u64) -> Option<String> {
        let what = if self.pool {
            "busy pool connections"
        } else {
            "connection count"
        };
        if max_connections == 0 {
            return None;
        }
        let share = utilization(clients, max_connections);
        let percent = (share * 100.0).round();
        if share >= self.threshold && !self.high {
            self.high = true;
            Some(format!(
                "pgwatch: warning: high {what}: {clients}/{max_connections} ({percent}%)"
            ))
        } else if share < self.threshold && self.high {
            self.high = false;
            Some(format!(
                "pgwatch: {what} back below {}%: {clients}/{max_connections} ({percent}%)",
                (self.threshold * 100.0).round()
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_on_the_way_up_and_once_on_the_way_down() {
        let mut alarm = Alarm::new(0.75, false);
        assert_eq!(alarm.observe(40, 80), None);
        assert_eq!(
            alarm.observe(61, 80).as_deref(),
            Some("pgwatch: warning: high connection count: 61/80 (76%)")
        );
        assert_eq!(alarm.observe(70, 80), None);
        assert_eq!(
            alarm.observe(30, 80).as_deref(),
            Some("pgwatch: connection count back below 75%: 30/80 (38%)")
        );
        assert_eq!(alarm.observe(30, 80), None);
        assert!(
            alarm.observe(60, 80).is_some(),
            "exactly at the threshold counts"
        );
        assert_eq!(alarm.observe(1, 0), None);
    }

    #[test]
    fn a_full_pool_warns() {
        let mut alarm = Alarm::new(1.0, true);
        assert_eq!(alarm.observe(3, 4), None);
        assert_eq!(
            alarm.observe(4, 4).as_deref(),
            Some("pgwatch: warning: high busy pool connections: 4/4 (100%)")
        );
    }
}
