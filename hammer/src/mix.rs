//! The weighted mix of single requests and flows, each prepared once for
//! the hot path (names and methods already JSON-encoded for the event writer).

use rand::Rng;
use records::scenario::{Flow, OnFailure, Repeat, Request, Step, Ws};
use records::template::JsonTemplate;
use records::workload::Think;

/// A scenario request with what the hot path needs precomputed.
#[derive(Debug)]
pub struct Prepared {
    pub request: Request,
    pub method: http::Method,
    /// `"GET /api/v1/tasks/{id}"` with its quotes, as it goes into an event.
    pub name_json: Box<[u8]>,
    pub method_json: Box<[u8]>,
    /// Whether judging the response needs its body (checks, captures, appends).
    pub needs_body: bool,
    /// The request rendered once, when no template of it has a placeholder
    /// ([`records::exchange::render_literal`]): what every user it adds no
    /// credentials for sends (ad-hoc mode, the `/health` of a mix), so the
    /// hot path renders and allocates nothing.
    pub literal: Option<records::exchange::Rendered>,
    /// This request's own number, never another's (even one prepared and
    /// dropped earlier): what a connection knows its literal bytes by
    /// ([`crate::h1::Outgoing::literal`]).
    pub id: u64,
}

impl Prepared {
    pub fn new(request: Request) -> Result<Prepared, String> {
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", request.method))?;
        let json = |s: &str| {
            serde_json::to_vec(s)
                .expect("strings serialize")
                .into_boxed_slice()
        };
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let literal = records::exchange::render_literal(&request);
        Ok(Prepared {
            literal,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            name_json: json(&request.name),
            method_json: json(&request.method),
            needs_body: !request.checks.is_empty()
                || !request.capture.is_empty()
                || !request.append.is_empty(),
            method,
            request,
        })
    }
}

/// A flow with its steps prepared.
#[derive(Debug)]
pub struct PreparedFlow {
    pub name: String,
    pub weight: u32,
    /// Run by VUs of its own ([`records::scenario::Flow::vus`]).
    pub vus: Option<u64>,
    pub on_failure: OnFailure,
    pub steps: Vec<PreparedStep>,
}

/// A flow step, its request prepared.
#[derive(Debug)]
pub enum PreparedStep {
    Request(Box<Prepared>),
    Think(Think),
    Set(Vec<(String, JsonTemplate)>),
    Loop {
        repeat: Repeat,
        counter: Option<String>,
        steps: Vec<PreparedStep>,
    },
    Ws(Box<PreparedWs>),
}

/// A WebSocket step with its event name JSON-encoded.
#[derive(Debug)]
pub struct PreparedWs {
    pub ws: Ws,
    pub name_json: Box<[u8]>,
}

impl PreparedStep {
    pub fn new(step: Step) -> Result<PreparedStep, String> {
        Ok(match step {
            Step::Request(r) => PreparedStep::Request(Box::new(Prepared::new(*r)?)),
            Step::Think(t) => PreparedStep::Think(t),
            Step::Set { values, .. } => PreparedStep::Set(values),
            Step::Loop(l) => PreparedStep::Loop {
                repeat: l.repeat,
                counter: l.counter,
                steps: PreparedStep::all(l.steps)?,
            },
            Step::Ws(ws) => PreparedStep::Ws(Box::new(PreparedWs {
                name_json: serde_json::to_vec(&ws.name)
                    .expect("strings serialize")
                    .into_boxed_slice(),
                ws: *ws,
            })),
        })
    }

    pub fn all(steps: Vec<Step>) -> Result<Vec<PreparedStep>, String> {
        steps.into_iter().map(PreparedStep::new).collect()
    }
}

impl PreparedFlow {
    pub fn new(flow: Flow) -> Result<PreparedFlow, String> {
        Ok(PreparedFlow {
            steps: PreparedStep::all(flow.steps)?,
            name: flow.name,
            weight: flow.weight,
            vus: flow.vus,
            on_failure: flow.on_failure,
        })
    }
}

/// What the mix draws: a single request or a whole flow.
#[derive(Debug)]
pub enum Entry {
    Request(Box<Prepared>),
    Flow(PreparedFlow),
}

impl Entry {
    fn weight(&self) -> u32 {
        match self {
            Entry::Request(p) => p.request.weight,
            Entry::Flow(f) => f.weight,
        }
    }
}

/// Requests and flows picked at random in proportion to their weights.
#[derive(Debug)]
pub struct Mix {
    pub entries: Vec<Entry>,
    /// Running sums of the weights.
    cumulative: Vec<u64>,
}

impl Mix {
    pub fn new(entries: Vec<Entry>) -> Mix {
        let mut sum = 0;
        let cumulative = entries
            .iter()
            .map(|e| {
                sum += u64::from(e.weight());
                sum
            })
            .collect();
        Mix {
            entries,
            cumulative,
        }
    }

    /// Whether every entry is a single request (no flows).
    pub fn single_requests(&self) -> bool {
        self.entries.iter().all(|e| matches!(e, Entry::Request(_)))
    }

    fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// An entry index, in proportion to the weights.
    pub fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        if self.entries.len() == 1 {
            return 0;
        }
        let x = rng.gen_range(0..self.total());
        self.cumulative.partition_point(|&c| c <= x)
    }

    /// An entry index among those not `excluded` (a request whose template
    /// cannot be rendered for this user now), in proportion to the weights.
    pub fn pick_except<R: Rng>(&self, rng: &mut R, excluded: &[bool]) -> Option<usize> {
        let weight = |i: usize| {
            if excluded[i] {
                0
            } else {
                u64::from(self.entries[i].weight())
            }
        };
        let total: u64 = (0..self.entries.len()).map(weight).sum();
        if total == 0 {
            return None;
        }
        let mut x = rng.gen_range(0..total);
        for i in 0..self.entries.len() {
            let w = weight(i);
            if x < w {
                return Some(i);
            }
            x -= w;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use records::Scenario;

    fn mix() -> Mix {
        let s = Scenario::parse(
            r#"
[hammer]
[[hammer.requests]]
path = "/a"
weight = 70
[[hammer.requests]]
path = "/b"
weight = 30
[[hammer.requests]]
path = "/never"
weight = 0
"#,
            "t.toml",
        )
        .unwrap();
        Mix::new(
            s.hammer
                .unwrap()
                .requests
                .into_iter()
                .map(|r| Entry::Request(Box::new(Prepared::new(r).unwrap())))
                .collect(),
        )
    }

    #[test]
    fn picks_in_proportion_to_weights() {
        let m = mix();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            counts[m.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[2], 0);
        let share = f64::from(counts[0]) / 100_000.0;
        assert!((share - 0.7).abs() < 0.01, "{counts:?}");
        let Entry::Request(first) = &m.entries[0] else {
            panic!("a request")
        };
        assert_eq!(&*first.name_json, br#""GET /a""#);
    }

    #[test]
    fn excluded_requests_are_skipped() {
        let m = mix();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..1000 {
            assert_eq!(m.pick_except(&mut rng, &[true, false, false]), Some(1));
        }
        assert_eq!(m.pick_except(&mut rng, &[true, true, false]), None);
    }
}
