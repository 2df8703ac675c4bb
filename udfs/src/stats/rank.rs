//! Average ranks with ties, shared by the rank-based tests.

/// 1-based ranks of `values`, ties given their mean rank, and the size of every tie block.
pub(crate) fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let v = values[order[start]];
        // NaN equals nothing, not even itself: tie it with its own kind so the walk advances.
        let same = |x: f64| x == v || (x.is_nan() && v.is_nan());
        let end = start + order[start..].partition_point(|&i| same(values[i]));
        // Ranks start+1 ..= end share their mean.
        let mean = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = mean);
        ties.push(end - start);
        start = end;
    }
    (ranks, ties)
}
