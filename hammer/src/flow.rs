//! Flows: a user journey run as one iteration — its steps in order, values
//! carried from one step to the next (`{flow:NAME}`), loops, think time —
//! and timed as one transaction: after its steps' Events, the iteration
//! writes one [`records::Iteration`] record.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use records::event::StreamRecord;
use records::scenario::OnFailure;
use records::template::FlowValues;
use records::{ErrorKind, Iteration};

use crate::mix::{PreparedFlow, PreparedStep};
use crate::sink;
use crate::transport::Transport;
use crate::vu::{Plan, Vu};

/// What one iteration has done so far.
#[derive(Debug, Default)]
pub struct Walk {
    pub values: FlowValues,
    pub requests: u32,
    /// The first failing step: its name and error kind.
    pub failed: Option<(String, ErrorKind)>,
    /// The run's end (or a signal) cut the iteration short.
    pub cut: bool,
    /// `scheduled` of the iteration, for its first request only.
    scheduled: Option<Instant>,
    /// The teardown after the run: the run's stop does not cut it.
    pub teardown: bool,
}

impl Walk {
    fn done(&self, on_failure: OnFailure) -> bool {
        self.cut || (self.failed.is_some() && on_failure == OnFailure::Stop)
    }
}

impl<T: Transport> Vu<T> {
    /// Runs the scenario's teardown steps for this VU's user, every step
    /// whatever the one before did (a logout goes out even when the run's
    /// last request failed).
    pub async fn run_teardown(&mut self, plan: &Plan<T>) {
        let mut walk = Walk {
            teardown: true,
            ..Walk::default()
        };
        self.walk(plan, &plan.teardown, OnFailure::Continue, &mut walk)
            .await;
    }

    /// Runs one iteration of `flow` and writes its record. `scheduled` is
    /// when an open-model arrival was due (the iteration's lag counts from it).
    pub async fn run_flow(
        &mut self,
        plan: &Plan<T>,
        flow: &PreparedFlow,
        scheduled: Option<Instant>,
    ) {
        let started = Instant::now();
        let lag_ns = scheduled.map_or(0, |s| {
            started.saturating_duration_since(s).as_nanos() as u64
        });
        let mut walk = Walk {
            scheduled,
            ..Walk::default()
        };
        let saved_i = self.i;
        self.walk(plan, &flow.steps, flow.on_failure, &mut walk)
            .await;
        self.i = saved_i;
        if walk.cut {
            plan.stats
                .flows_cut
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let (failed_step, error) = match walk.failed {
            Some((step, kind)) => (Some(step), Some(kind.as_str().to_string())),
            None => (None, None),
        };
        let record = StreamRecord::Iteration(Iteration {
            ts: plan.clock.epoch_ns(started),
            flow: flow.name.clone(),
            duration_ns: started.elapsed().as_nanos() as u64,
            lag_ns,
            requests: walk.requests,
            vu: self.id,
            error,
            failed_step,
        });
        sink::emit_line(&record.line());
    }

    /// Runs `steps` in order (a loop's body runs its count of times).
    /// Boxed: loops nest.
    pub fn walk<'a>(
        &'a mut self,
        plan: &'a Plan<T>,
        steps: &'a [PreparedStep],
        on_failure: OnFailure,
        walk: &'a mut Walk,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            for step in steps {
                if walk.done(on_failure) {
                    return;
                }
                if !walk.teardown && !plan.control.running() {
                    walk.cut = true;
                    return;
                }
                match step {
                    PreparedStep::Request(p) => {
                        let scheduled = walk.scheduled.take();
                        let result = self
                            .request_step(plan, p, Some(&mut walk.values), scheduled)
                            .await;
                        walk.requests += result.sent;
                        if let Some(kind) = result.error {
                            walk.failed
                                .get_or_insert_with(|| (p.request.name.clone(), kind));
                        }
                    }
                    PreparedStep::Think(think) => {
                        let pause = think.sample(&mut self.rng);
                        if walk.teardown {
                            tokio::time::sleep(pause).await;
                        } else if !pause.is_zero() && !self.sleep(pause).await {
                            walk.cut = true;
                        }
                    }
                    PreparedStep::Set(values) => {
                        for (name, template) in values {
                            match self.render_value(template, &walk.values) {
                                Ok(value) => {
                                    walk.values.insert(name.clone(), value);
                                }
                                Err(e) => {
                                    // Caught by --dry-run; at run time a failure of the flow.
                                    walk.failed.get_or_insert_with(|| {
                                        (format!("set {name}: {e}"), ErrorKind::Request)
                                    });
                                }
                            }
                        }
                    }
                    PreparedStep::Loop {
                        repeat,
                        counter,
                        steps,
                    } => {
                        let times = repeat.sample(&mut self.rng);
                        let outer = self.i;
                        for i in 1..=u64::from(times) {
                            if walk.done(on_failure) {
                                break;
                            }
                            self.i = i;
                            if let Some(counter) = counter {
                                walk.values.insert(counter.clone(), i.into());
                            }
                            self.walk(plan, steps, on_failure, walk).await;
                        }
                        self.i = outer;
                    }
                }
            }
        })
    }
}
