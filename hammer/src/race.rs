//! The race every request runs twice (its response against its timeout,
//! then that against the run's abort): what `tokio::select! { biased; … }`
//! does with two branches, without the macro's per-poll bookkeeping (a mask
//! of finished branches, an output enum, a closure around both). Unlike
//! `select!` it does not first check the task's coop budget: the socket
//! reads and writes inside the request do, so a busy VU still yields.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// `Ok` with `first`'s output when it is ready (it is polled first), `Err`
/// with `second`'s when that one is ready before it. Both are pinned where
/// they are made, so neither is moved into the race.
pub async fn first<A: Future, B: Future>(
    mut first: Pin<&mut A>,
    mut second: Pin<&mut B>,
) -> Result<A::Output, B::Output> {
    poll_fn(|cx| {
        if let Poll::Ready(out) = first.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        second.as_mut().poll(cx).map(Err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::time::Duration;

    #[tokio::test]
    async fn the_first_ready_wins_and_a_tie_goes_to_the_first() {
        let ms = Duration::from_millis;
        let (fast, slow) = (
            pin!(tokio::time::sleep(ms(5))),
            pin!(tokio::time::sleep(ms(500))),
        );
        assert_eq!(first(slow, fast).await, Err(()));
        let (slow, fast) = (
            pin!(tokio::time::sleep(ms(500))),
            pin!(tokio::time::sleep(ms(5))),
        );
        assert_eq!(first(fast, slow).await, Ok(()));
        let (a, b) = (pin!(async { 1 }), pin!(async { 2 }));
        assert_eq!(first(a, b).await, Ok(1));
    }
}
