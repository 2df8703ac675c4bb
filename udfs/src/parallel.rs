//! Order-keeping parallel map over the available cores.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Applies `f` to every item on all cores and returns the results in the items' order. A
/// panic in `f` is re-raised here, never turned into a missing result.
///
/// Hand-written over std's scoped threads: mask meshing, header reading and sample writing
/// need nothing more, and rayon would be a new dependency.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            parallel_map(&items, |x| x * 2),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
        assert!(parallel_map(&[] as &[u32], |x| *x).is_empty());
    }

    #[test]
    #[should_panic(expected = "boom")]
    fn a_panic_is_not_a_missing_result() {
        let items: Vec<u32> = (0..100).collect();
        parallel_map(&items, |x| if *x == 57 { panic!("boom") } else { *x });
    }
}
