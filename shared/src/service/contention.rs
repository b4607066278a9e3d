//! Optimistic writes that lose a race try again, here, not in the client:
//! a server that can resolve its own contention must not hand it back as a
//! 409 "retry". Each use case loops on [`Retry::next`], which pauses with
//! full jitter (a random wait up to a cap that doubles each time) so that
//! writers colliding on one item spread out instead of colliding again.
//! Only when a time budget is spent does the use case answer
//! [`Error::Contended`] (503 with `Retry-After`).
//!
//! One attempt is one read → decide → conditional write. Attempts are
//! redone when the write lost a race (a condition failed on a change made
//! meanwhile, or the transaction kept colliding with others), never on a
//! refusal the caller must hear (412, a name it chose being taken): that
//! ends the loop at once.
//!
//! Below every attempt, `store::sdk::transact` resends a transaction that
//! DynamoDB cancelled for a conflicting one, unchanged, up to 5 times
//! (jittered 10 to 80 ms pauses): no condition failed, so nothing needs
//! reading again. Where use-case retries nest (a forced delete's rounds
//! over a subtree, each tenant's delete within a round), the loop says
//! what it retries. Other loops are not retries: pages read one after
//! another, and the passes of `pending::run`, which wait for lagging
//! indexes rather than for other writers.

use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;

/// The first pause's cap; each later cap doubles, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(8);
const MAX_PAUSE: Duration = Duration::from_millis(250);
/// Well inside a function's 10 s timeout, with room for the write itself.
const BUDGET: Duration = Duration::from_secs(4);
/// A bound on attempts too, for stores that fail fast.
const MAX_ATTEMPTS: u32 = 40;

/// The attempts of one optimistic write.
pub struct Retry {
    attempt: u32,
    deadline: Instant,
}

impl Default for Retry {
    fn default() -> Self {
        Self::new()
    }
}

impl Retry {
    pub fn new() -> Self {
        Self {
            attempt: 0,
            deadline: Instant::now() + BUDGET,
        }
    }

    /// Whether to make another attempt: the first is at once, every later
    /// one after a jittered pause; `false` once the budget is spent.
    pub async fn next(&mut self) -> bool {
        self.attempt += 1;
        if self.attempt == 1 {
            return true;
        }
        if self.attempt > MAX_ATTEMPTS {
            self.attempt = MAX_ATTEMPTS;
            return false;
        }
        let pause = jittered(cap(self.attempt - 1));
        if Instant::now() + pause >= self.deadline {
            // Spent stays spent, though a shorter pause might still fit.
            self.attempt = MAX_ATTEMPTS;
            return false;
        }
        tokio::time::sleep(pause).await;
        true
    }

    /// How many attempts have been made (for the logs).
    pub fn attempts(&self) -> u32 {
        self.attempt.min(MAX_ATTEMPTS)
    }
}

/// The cap of the pause before retry `n` (1-based): 8, 16, 32, … 250 ms.
fn cap(n: u32) -> Duration {
    FIRST_PAUSE.saturating_mul(1 << (n - 1).min(16)).min(MAX_PAUSE)
}

/// A uniformly random duration in `[0, cap]` ("full jitter").
fn jittered(cap: Duration) -> Duration {
    let mut bytes = [0u8; 8];
    // Without randomness, half the cap still spreads writers by their timing.
    let random = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => u64::MAX / 2,
    };
    let micros = cap.as_micros() as u64;
    Duration::from_micros(random % (micros + 1))
}

/// The answer once every attempt lost: `what` names the items.
pub fn exhausted(what: impl std::fmt::Display, retry: &Retry) -> Error {
    tracing::warn!(attempts = retry.attempts(), "contention outlasted the retries: {what}");
    Error::Contended(format!(
        "{what} kept being changed by other requests while the server retried; retry after a pause"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_up_to_the_most() {
        let caps: Vec<u64> = (1..=7).map(|n| cap(n).as_millis() as u64).collect();
        assert_eq!(caps, [8, 16, 32, 64, 128, 250, 250]);
        assert_eq!(cap(40), MAX_PAUSE);
    }

    #[test]
    fn a_pause_never_exceeds_its_cap_and_varies() {
        let pauses: Vec<Duration> = (0..200).map(|_| jittered(Duration::from_millis(50))).collect();
        assert!(pauses.iter().all(|p| *p <= Duration::from_millis(50)));
        let distinct: std::collections::HashSet<_> = pauses.iter().collect();
        assert!(
            distinct.len() > 100,
            "jitter spreads: {} distinct of 200",
            distinct.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn it_stops_within_its_budget() {
        let started = Instant::now();
        let mut retry = Retry::new();
        let mut attempts = 0;
        while retry.next().await {
            attempts += 1;
        }
        assert!(attempts > 10, "{attempts} attempts");
        assert!(attempts <= MAX_ATTEMPTS);
        assert!(started.elapsed() <= BUDGET, "{:?}", started.elapsed());
        assert!(!retry.next().await, "spent stays spent");
    }
}
