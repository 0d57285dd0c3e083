//! Fault switches for reliability tests: random 500s, added delay, whole-server
//! stalls and connections dropped without an answer.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct FaultConfig {
    pub fail_rate: f64,
    pub drop_rate: f64,
    pub delay: Duration,
    /// `(every, for)`: stalls of `for` starting at every multiple of `every` after start.
    pub stall: Option<(Duration, Duration)>,
}

impl FaultConfig {
    pub fn any(&self) -> bool {
        self.fail_rate > 0.0
            || self.drop_rate > 0.0
            || !self.delay.is_zero()
            || self.stall.is_some()
    }
}

pub struct Faults {
    config: FaultConfig,
    start: Instant,
}

fn roll(rate: f64) -> bool {
    rate > 0.0 && (rate >= 1.0 || rand::thread_rng().gen::<f64>() < rate)
}

impl Faults {
    /// The stall clock starts now.
    pub fn new(config: FaultConfig) -> Arc<Faults> {
        Arc::new(Faults {
            config,
            start: Instant::now(),
        })
    }

    /// How long until the current stall window (if any) ends.
    pub fn stall_left(&self, elapsed: Duration) -> Duration {
        let Some((every, length)) = self.config.stall else {
            return Duration::ZERO;
        };
        let every_ns = every.as_nanos().max(1);
        let cycle = elapsed.as_nanos() / every_ns;
        let phase = elapsed.as_nanos() % every_ns;
        if cycle == 0 || phase >= length.as_nanos() {
            Duration::ZERO
        } else {
            Duration::from_nanos((length.as_nanos() - phase) as u64)
        }
    }

    /// Waits out a stall: nothing passes while the server is paused.
    pub async fn wait_stall(&self) {
        loop {
            let left = self.stall_left(self.start.elapsed());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left).await;
        }
    }

    /// Whether to close this request's connection without an answer.
    pub fn drop_now(&self) -> bool {
        roll(self.config.drop_rate)
    }
}

/// The middleware: stall, delay, maybe fail, handle, stall again before answering.
pub async fn layer(State(faults): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    faults.wait_stall().await;
    if !faults.config.delay.is_zero() {
        tokio::time::sleep(faults.config.delay).await;
        faults.wait_stall().await;
    }
    if roll(faults.config.fail_rate) {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "injected failure (--fail-rate)",
        )
        .into_response();
    }
    let response = next.run(req).await;
    faults.wait_stall().await;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_windows_start_after_the_first_period() {
        let f = Faults::new(FaultConfig {
            stall: Some((Duration::from_secs(1), Duration::from_millis(500))),
            ..FaultConfig::default()
        });
        let ms = Duration::from_millis;
        assert_eq!(f.stall_left(ms(0)), Duration::ZERO);
        assert_eq!(f.stall_left(ms(999)), Duration::ZERO);
        assert_eq!(f.stall_left(ms(1000)), ms(500));
        assert_eq!(f.stall_left(ms(1200)), ms(300));
        assert_eq!(f.stall_left(ms(1500)), Duration::ZERO);
        assert_eq!(f.stall_left(ms(2100)), ms(400));
    }

    #[test]
    fn rates_at_the_edges() {
        assert!(!roll(0.0));
        assert!(roll(1.0));
    }
}
