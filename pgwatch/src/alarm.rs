//! The connection-utilization warning: said once when crossing the threshold
//! upwards, and once when falling back below, so a long high stretch does not
//! flood stderr.

use crate::snapshot::utilization;

#[derive(Clone, Debug)]
pub struct Alarm {
    threshold: f64,
    high: bool,
}

impl Alarm {
    /// `threshold` is a share of max_connections (0.75 for 75%).
    pub fn new(threshold: f64) -> Alarm {
        Alarm {
            threshold,
            high: false,
        }
    }

    /// The line to print on stderr, if this poll crossed the threshold.
    pub fn observe(&mut self, clients: u64, max_connections: u64) -> Option<String> {
        if max_connections == 0 {
            return None;
        }
        let share = utilization(clients, max_connections);
        let percent = (share * 100.0).round();
        if share >= self.threshold && !self.high {
            self.high = true;
            Some(format!(
                "pgwatch: warning: high connection count: {clients}/{max_connections} ({percent}%)"
            ))
        } else if share < self.threshold && self.high {
            self.high = false;
            Some(format!(
                "pgwatch: connection count back below {}%: {clients}/{max_connections} ({percent}%)",
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
        let mut alarm = Alarm::new(0.75);
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
}
