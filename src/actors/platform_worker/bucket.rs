//! A token bucket for one connection: seeded from config, corrected by what
//! the platform says (`X-RateLimit-*`, `Retry-After`). A platform that names
//! no limit but says how long to wait (Matrix's `retry_after_ms`) is taken
//! at its word: one call per that wait, for a while, instead of the whole
//! concurrency knocking again at once and being refused together.

use std::time::{Duration, Instant};

pub struct TokenBucket {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    updated: Instant,
    /// Nothing may be sent before this (after a 429).
    blocked_until: Option<Instant>,
    /// The configured rate, returned to once a learned pace has had its time.
    seed: f64,
    /// When a pace was learned from a 429 that named no limit.
    paced_since: Option<Instant>,
}

/// How long a pace learned from a bare 429 holds before the configured rate
/// is tried again.
const PACE_HOLDS: Duration = Duration::from_secs(60);
/// The slowest pace learned (one call per minute).
const SLOWEST_SPACING_SECS: f64 = 60.0;

impl TokenBucket {
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        Self {
            capacity: rate,
            tokens: rate,
            per_second: rate,
            updated: Instant::now(),
            blocked_until: None,
            seed: rate,
            paced_since: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
    }

    /// Takes up to `wanted` tokens; how many it got.
    pub fn take(&mut self, wanted: usize) -> usize {
        let now = Instant::now();
        if self.blocked_until.is_some_and(|until| until > now) {
            return 0;
        }
        self.blocked_until = None;
        if self
            .paced_since
            .is_some_and(|since| now.saturating_duration_since(since) > PACE_HOLDS)
        {
            self.paced_since = None;
            self.per_second = self.seed;
            self.capacity = self.seed;
        }
        self.refill(now);
        let granted = (self.tokens.floor() as usize).min(wanted);
        self.tokens -= granted as f64;
        granted
    }

    /// How long until at least one token is available.
    pub fn wait(&self) -> Duration {
        let now = Instant::now();
        if let Some(until) = self.blocked_until
            && until > now
        {
            return until - now;
        }
        let missing = (1.0 - self.tokens).max(0.0);
        Duration::from_secs_f64(missing / self.per_second).max(Duration::from_millis(1))
    }

    /// The platform said stop: no calls for `retry_after`, and learn its limit.
    pub fn throttle(&mut self, retry_after: Duration, limit: Option<u32>) {
        let now = Instant::now();
        // Callers clamp; this guards the arithmetic against any duration still.
        let until = now
            .checked_add(retry_after)
            .unwrap_or(now + Duration::from_secs(3600));
        self.blocked_until = Some(self.blocked_until.map_or(until, |u| u.max(until)));
        self.tokens = 0.0;
        match limit.filter(|l| *l > 0) {
            Some(limit) => {
                self.per_second = f64::from(limit);
                self.capacity = f64::from(limit);
            }
            None => {
                // The wait it named is the spacing it allows: one call when
                // it ends, then one per that wait; nothing accrues meanwhile.
                let spacing = retry_after.as_secs_f64().clamp(0.05, SLOWEST_SPACING_SECS);
                self.per_second = self.per_second.min(1.0 / spacing);
                self.capacity = 1.0;
                self.tokens = 1.0;
                self.updated = until;
                self.paced_since = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_retry_after_does_not_panic() {
        let mut bucket = TokenBucket::new(5);
        bucket.throttle(Duration::MAX, Some(u32::MAX));
        assert_eq!(bucket.take(1), 0);
    }

    #[test]
    fn grants_its_burst_then_waits() {
        let mut bucket = TokenBucket::new(5);
        assert_eq!(bucket.take(10), 5);
        assert_eq!(bucket.take(1), 0);
        assert!(bucket.wait() > Duration::ZERO);
    }

    #[test]
    fn a_429_naming_only_a_wait_paces_calls_one_per_wait() {
        let mut bucket = TokenBucket::new(50);
        bucket.throttle(Duration::from_millis(300), None);
        assert_eq!(bucket.take(8), 0, "blocked for the wait");
        std::thread::sleep(Duration::from_millis(320));
        assert_eq!(bucket.take(8), 1, "one call when the wait ends, not eight");
        assert_eq!(bucket.take(8), 0);
        let next = bucket.wait();
        assert!(
            next > Duration::from_millis(200) && next <= Duration::from_millis(300),
            "{next:?}"
        );
    }

    #[test]
    fn a_429_blocks_for_retry_after_and_adopts_the_limit() {
        let mut bucket = TokenBucket::new(100);
        bucket.throttle(Duration::from_millis(200), Some(2));
        assert_eq!(bucket.take(1), 0);
        assert!(bucket.wait() > Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(
            bucket.take(10),
            2,
            "refilled to the platform's limit, not the seed"
        );
    }
}
