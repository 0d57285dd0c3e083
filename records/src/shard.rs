//! One run split over N processes or machines (`--shard I/N`): which share of
//! the users, VUs, arrivals and request counts shard I owns, decided in one
//! place for seed and hammer.
//!
//! Everything countable is split the same way: item `k` (a user number, a
//! VU index, an arrival, a request) belongs to shard `k mod N`. So shard
//! sizes differ by at most one, the shares add up to the whole exactly, a VU
//! index keeps its level in the stages (VU `j` is active while the target is
//! above `j`, on whichever shard it runs), and the arrivals of an open-model
//! run interleave: the merged schedule is the single run's, not N bursts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The environment variable an Indexed Job gives each pod its index in.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// Shard `index` of `count` (from 0); `0/1` is the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Shard {
        Shard::WHOLE
    }
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{text}` should read I/N, e.g. 0/4 (shards count from 0)"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{text}`: `{part}` is not a whole number"))
        };
        Shard::new(number(i)?, number(n)?).map_err(|e| format!("`{text}`: {e}"))
    }

    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err("the number of shards must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count} does not exist; shards count from 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard a command line names: `--shard I/N`, or `--shards N` with I
    /// from `JOB_COMPLETION_INDEX` (`env` reads a variable), or the whole run.
    pub fn from_flags(
        shard: Option<&str>,
        shards: Option<u64>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, String> {
        match (shard, shards) {
            (Some(_), Some(_)) => Err("give --shard I/N or --shards N, not both".into()),
            (Some(text), None) => Shard::parse(text).map_err(|e| format!("--shard {e}")),
            (None, Some(count)) => {
                let text = env(INDEX_ENV).ok_or_else(|| {
                    format!(
                        "--shards {count} takes the shard's index from {INDEX_ENV}, which is not set \
                         (a Kubernetes Indexed Job sets it; elsewhere use --shard I/{count})"
                    )
                })?;
                let index = text.trim().parse::<u64>().map_err(|_| {
                    format!("{INDEX_ENV}=`{text}` is not a shard index (a whole number from 0)")
                })?;
                Shard::new(index, count)
                    .map_err(|e| format!("--shards {count}, {INDEX_ENV}={index}: {e}"))
            }
            (None, None) => Ok(Shard::WHOLE),
        }
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// How many of the items `0..total` are this shard's.
    pub fn share(self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// Whether item `k` is this shard's.
    pub fn owns(self, k: u64) -> bool {
        k % self.count == self.index
    }

    /// The run-wide number of this shard's `local`-th item (from 0).
    pub fn global(self, local: u64) -> u64 {
        local.saturating_mul(self.count).saturating_add(self.index)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(text: String) -> Result<Shard, String> {
        Shard::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 0 / 1 "), Ok(Shard::WHOLE));
        for bad in ["4/4", "1/0", "x/2", "2", "-1/3", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert!(Shard::parse("4/4").unwrap_err().contains("from 0 to 3"));
        let s: Shard = serde_json::from_str("\"1/3\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"1/3\"");
        assert!(serde_json::from_str::<Shard>("\"3/3\"").is_err());
    }

    #[test]
    fn the_index_can_come_from_the_environment() {
        fn env(v: Option<&'static str>) -> impl Fn(&str) -> Option<String> {
            move |_| v.map(str::to_string)
        }
        assert_eq!(
            Shard::from_flags(None, Some(4), env(Some("3"))),
            Ok(Shard { index: 3, count: 4 })
        );
        let unset = Shard::from_flags(None, Some(4), env(None)).unwrap_err();
        assert!(unset.contains(INDEX_ENV), "{unset}");
        assert!(Shard::from_flags(None, Some(4), env(Some("4"))).is_err());
        assert!(Shard::from_flags(None, Some(4), env(Some("x"))).is_err());
        assert!(Shard::from_flags(Some("0/2"), Some(2), env(None)).is_err());
        assert_eq!(Shard::from_flags(None, None, env(None)), Ok(Shard::WHOLE));
    }

    #[test]
    fn shares_add_up_to_the_whole_and_differ_by_at_most_one() {
        let mut totals: Vec<u64> = (0..200).collect();
        totals.extend([997, 1000, 1001, 65_536, 1_000_003, u64::MAX / 3, u64::MAX]);
        for count in 1..=8 {
            for &total in &totals {
                let shares: Vec<u64> = (0..count)
                    .map(|index| Shard { index, count }.share(total))
                    .collect();
                let sum: u128 = shares.iter().map(|&s| s as u128).sum();
                assert_eq!(sum, total as u128, "{total} over {count}");
                let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
                assert!(hi - lo <= 1, "{total} over {count}: {shares:?}");
            }
        }
    }

    #[test]
    fn every_item_has_exactly_one_owner_and_local_numbers_map_back() {
        for count in 1..=8 {
            for total in 0..100u64 {
                let mut seen = vec![0u32; total as usize];
                for index in 0..count {
                    let s = Shard { index, count };
                    let mine: Vec<u64> = (0..s.share(total)).map(|l| s.global(l)).collect();
                    assert!(mine.iter().all(|&k| k < total && s.owns(k)));
                    assert_eq!(
                        mine.len() as u64,
                        (0..total).filter(|&k| s.owns(k)).count() as u64
                    );
                    for k in mine {
                        seen[k as usize] += 1;
                    }
                }
                assert!(seen.iter().all(|&n| n == 1), "{total} over {count}");
            }
        }
    }
}
