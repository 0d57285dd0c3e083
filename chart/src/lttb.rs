//! Largest-Triangle-Three-Buckets downsampling (Steinarsson, 2013).
//!
//! A one-hour run has 3,600 intervals but a chart is ~1,200 pixels wide:
//! drawing every point is slow and turns lines into smears. LTTB keeps the
//! points that carry the shape (spikes survive, flat stretches thin out),
//! unlike averaging, which would hide exactly the latency spikes people look for.

/// Downsamples `points` (sorted by x) to at most `threshold` points, keeping
/// the first and the last. Returns the input unchanged when it is short enough.
pub fn lttb(points: &[(f64, f64)], threshold: usize) -> Vec<(f64, f64)> {
    let n = points.len();
    if threshold >= n || threshold < 3 {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(threshold);
    out.push(points[0]);
    // The interior points split into threshold - 2 buckets.
    let every = (n - 2) as f64 / (threshold - 2) as f64;
    let mut a = 0usize;
    for bucket in 0..threshold - 2 {
        let start = (bucket as f64 * every) as usize + 1;
        let end = (((bucket + 1) as f64 * every) as usize + 1).min(n - 1);
        // The next bucket's average is the third corner of the triangle.
        let next_start = end;
        let next_end = (((bucket + 2) as f64 * every) as usize + 1).min(n);
        let next = &points[next_start..next_end.max(next_start + 1).min(n)];
        let (avg_x, avg_y) = mean(next);
        let (ax, ay) = points[a];
        let mut best = start;
        let mut best_area = -1.0;
        for (i, &(bx, by)) in points.iter().enumerate().take(end).skip(start) {
            let area = ((ax - avg_x) * (by - ay) - (ax - bx) * (avg_y - ay)).abs();
            if area > best_area {
                best_area = area;
                best = i;
            }
        }
        out.push(points[best]);
        a = best;
    }
    out.push(points[n - 1]);
    out
}

fn mean(points: &[(f64, f64)]) -> (f64, f64) {
    let len = points.len().max(1) as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x, sy + y));
    (sx / len, sy / len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_pass_through() {
        let pts: Vec<_> = (0..10).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(lttb(&pts, 10), pts);
        assert_eq!(lttb(&pts, 100), pts);
        assert_eq!(lttb(&pts, 2), pts);
        assert!(lttb(&[], 5).is_empty());
        assert_eq!(lttb(&[(1.0, 2.0)], 5), vec![(1.0, 2.0)]);
    }

    #[test]
    fn keeps_ends_count_and_order() {
        let pts: Vec<_> = (0..3600)
            .map(|i| (i as f64, (i as f64 / 50.0).sin()))
            .collect();
        let out = lttb(&pts, 600);
        assert_eq!(out.len(), 600);
        assert_eq!(out[0], pts[0]);
        assert_eq!(out[599], pts[3599]);
        assert!(
            out.windows(2).all(|w| w[0].0 < w[1].0),
            "x stays increasing"
        );
    }

    #[test]
    fn spikes_survive() {
        // A flat series with one spike: averaging would flatten it, LTTB must not.
        let mut pts: Vec<_> = (0..3600).map(|i| (i as f64, 5.0)).collect();
        pts[1234].1 = 900.0;
        pts[2000].1 = 0.0;
        let out = lttb(&pts, 100);
        assert!(out.contains(&(1234.0, 900.0)));
        assert!(out.contains(&(2000.0, 0.0)));
    }
}
