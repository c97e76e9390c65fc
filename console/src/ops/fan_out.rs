//! Many AWS calls at once, a bounded number in flight: the reads of verify and the per-device
//! calls of a rotation stage.

use std::future::Future;
use std::sync::Arc;

/// Runs `work` on every item, at most `concurrency` at a time; the results come back in the
/// items' order. A task that panicked leaves `R::default()` in its place.
pub async fn fan_out<T, R, F, Fut>(items: Vec<T>, concurrency: usize, work: F) -> Vec<R>
where
    T: Send + 'static,
    R: Default + Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let count = items.len();
    for (i, item) in items.into_iter().enumerate() {
        let slots = Arc::clone(&slots);
        let job = work(item);
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            (i, job.await)
        });
    }
    let mut results: Vec<R> = std::iter::repeat_with(R::default).take(count).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, result)) = joined {
            results[i] = result;
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn results_keep_the_order_and_the_bound_holds() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let results = fan_out((0..40u64).collect(), 4, |i| {
            let (in_flight, most) = (Arc::clone(&in_flight), Arc::clone(&most));
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(40 - i)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                i * 2
            }
        })
        .await;
        assert_eq!(results, (0..40).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 4);
    }
}
