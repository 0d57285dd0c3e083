//! Two histograms walked together, bucket by bucket, in ascending value order.
//!
//! A histogram keeps each value only to within its bucket (3 significant
//! digits: 0.1%), so every value-equivalent bucket is one group of ties: the
//! rank tests below treat all the requests in a bucket as equally fast,
//! which is exactly what the histogram can still tell.

use hdrhistogram::Histogram;

/// The requests of both runs that fell into one value-equivalent bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TieGroup {
    /// The bucket's highest equivalent value (what HdrHistogram reports).
    pub value: u64,
    /// Requests of the baseline run in this bucket.
    pub baseline: u64,
    /// Requests of the current run in this bucket.
    pub current: u64,
}

/// The tie groups of two histograms, ascending. Histograms of different
/// precision or range are first re-bucketed onto the coarser grid of the two,
/// so that a bucket means the same thing on both sides.
pub fn tie_groups(baseline: &Histogram<u64>, current: &Histogram<u64>) -> Vec<TieGroup> {
    if baseline.sigfig() == current.sigfig() && baseline.low() == current.low() {
        merge_sorted(recorded(baseline), recorded(current))
    } else {
        let low = baseline.low().max(current.low());
        let sigfig = baseline.sigfig().min(current.sigfig());
        let a = rebucket(baseline, low, sigfig);
        let b = rebucket(current, low, sigfig);
        merge_sorted(recorded(&a), recorded(&b))
    }
}

fn recorded(h: &Histogram<u64>) -> impl Iterator<Item = (u64, u64)> + '_ {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
}

fn rebucket(h: &Histogram<u64>, low: u64, sigfig: u8) -> Histogram<u64> {
    let high = (2 * low).max(h.max()).max(2);
    let mut out = Histogram::new_with_bounds(low, high, sigfig)
        .unwrap_or_else(|_| records::hist::new_histogram());
    out.auto(true);
    for (value, count) in recorded(h) {
        // Auto-resizing; values are below the decoder's bound, so this holds.
        let _ = out.record_n(value, count);
    }
    out
}

fn merge_sorted(
    a: impl Iterator<Item = (u64, u64)>,
    b: impl Iterator<Item = (u64, u64)>,
) -> Vec<TieGroup> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    let mut out = Vec::new();
    loop {
        let group = match (a.peek().copied(), b.peek().copied()) {
            (None, None) => break,
            (Some((va, ca)), None) => {
                a.next();
                TieGroup {
                    value: va,
                    baseline: ca,
                    current: 0,
                }
            }
            (None, Some((vb, cb))) => {
                b.next();
                TieGroup {
                    value: vb,
                    baseline: 0,
                    current: cb,
                }
            }
            (Some((va, ca)), Some((vb, cb))) => {
                if va < vb {
                    a.next();
                    TieGroup {
                        value: va,
                        baseline: ca,
                        current: 0,
                    }
                } else if vb < va {
                    b.next();
                    TieGroup {
                        value: vb,
                        baseline: 0,
                        current: cb,
                    }
                } else {
                    a.next();
                    b.next();
                    TieGroup {
                        value: va,
                        baseline: ca,
                        current: cb,
                    }
                }
            }
        };
        out.push(group);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::hist::{new_histogram, record};

    #[test]
    fn groups_merge_in_order_with_shared_buckets_as_ties() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in [5, 5, 100, 2000] {
            record(&mut a, v);
        }
        for v in [5, 50, 100, 100] {
            record(&mut b, v);
        }
        let groups = tie_groups(&a, &b);
        let flat: Vec<_> = groups
            .iter()
            .map(|g| (g.value, g.baseline, g.current))
            .collect();
        assert_eq!(flat, vec![(5, 2, 1), (50, 0, 1), (100, 1, 2), (2000, 1, 0)]);
    }

    #[test]
    fn different_precisions_share_the_coarser_grid() {
        let mut a = Histogram::<u64>::new_with_bounds(1, 1_000_000, 3).unwrap();
        let mut b = Histogram::<u64>::new_with_bounds(1, 1_000_000, 1).unwrap();
        a.record(100_000).unwrap();
        b.record(100_500).unwrap();
        let groups = tie_groups(&a, &b);
        // 1 significant digit cannot tell 100000 from 100500: one tie group.
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert_eq!((groups[0].baseline, groups[0].current), (1, 1));
    }
}
