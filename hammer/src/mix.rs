//! The weighted request mix, each request prepared once for the hot path
//! (its name and method already JSON-encoded for the event writer).

use rand::Rng;
use records::scenario::Request;

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
        Ok(Prepared {
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

/// Requests picked at random in proportion to their weights.
#[derive(Debug)]
pub struct Mix {
    pub requests: Vec<Prepared>,
    /// Running sums of the weights.
    cumulative: Vec<u64>,
}

impl Mix {
    pub fn new(requests: Vec<Prepared>) -> Mix {
        let mut sum = 0;
        let cumulative = requests
            .iter()
            .map(|p| {
                sum += u64::from(p.request.weight);
                sum
            })
            .collect();
        Mix {
            requests,
            cumulative,
        }
    }

    fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// A request index, in proportion to the weights.
    pub fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        if self.requests.len() == 1 {
            return 0;
        }
        let x = rng.gen_range(0..self.total());
        self.cumulative.partition_point(|&c| c <= x)
    }

    /// A request index among those not `excluded` (a request whose template
    /// cannot be rendered for this user now), in proportion to the weights.
    pub fn pick_except<R: Rng>(&self, rng: &mut R, excluded: &[bool]) -> Option<usize> {
        let weight = |i: usize| {
            if excluded[i] {
                0
            } else {
                u64::from(self.requests[i].request.weight)
            }
        };
        let total: u64 = (0..self.requests.len()).map(weight).sum();
        if total == 0 {
            return None;
        }
        let mut x = rng.gen_range(0..total);
        for i in 0..self.requests.len() {
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
                .map(|r| Prepared::new(r).unwrap())
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
        assert_eq!(&*m.requests[0].name_json, br#""GET /a""#);
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
