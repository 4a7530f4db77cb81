//! Rates: how many events one connection may send (governor's GCRA, in effect a token
//! bucket), how many refusals in a row it may earn before it is dropped, and the quota the
//! per-address limits in [`super::guard`] are built from.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use super::config::ChatSection;

/// A GCRA limiter (governor's; in effect a token bucket) for one connection, and the clock
/// it reads (a fake one in tests).
type DirectLimiter<C> =
    RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;
/// The same, one per IP address.
pub(super) type KeyedLimiter<C> =
    RateLimiter<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// `burst` events at once, refilled at `per_second`; a rate of 0 never refills.
pub(super) fn quota(per_second: f64, burst: u32) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let period = if per_second > 0.0 {
        Duration::from_secs_f64(1.0 / per_second).max(Duration::from_nanos(1))
    } else {
        Duration::from_secs(u64::from(u32::MAX))
    };
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

/// One connection's allowance: its rate, and how many refusals it has had in a row. Lock-free
/// (the limiter and the count are atomics), so every handler of the connection shares it.
pub struct ConnectionLimit<C: Clock = DefaultClock> {
    rate: DirectLimiter<C>,
    strikes: AtomicU32,
    max_strikes: u32,
}

impl<C: Clock> std::fmt::Debug for ConnectionLimit<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionLimit")
            .field("strikes", &self.strikes)
            .finish_non_exhaustive()
    }
}

/// What to do with an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the rate: refuse this one.
    Limit,
    /// Refused too often in a row: drop the connection.
    Drop,
}

impl ConnectionLimit {
    pub fn new(config: &ChatSection) -> Self {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock> ConnectionLimit<C> {
    pub fn with_clock(config: &ChatSection, clock: C) -> Self {
        Self {
            rate: RateLimiter::direct_with_clock(
                quota(config.rate_per_second, config.rate_burst),
                clock,
            ),
            strikes: AtomicU32::new(0),
            max_strikes: config.abuse_strikes.max(1),
        }
    }

    /// Counts an incoming event against the rate.
    pub fn check(&self) -> Verdict {
        if self.rate.check().is_ok() {
            Verdict::Allow
        } else {
            self.strike()
        }
    }

    /// Counts a refusal; `Drop` once there were too many in a row.
    pub fn strike(&self) -> Verdict {
        let strikes = self.strikes.fetch_add(1, Ordering::Relaxed) + 1;
        if strikes >= self.max_strikes {
            Verdict::Drop
        } else {
            Verdict::Limit
        }
    }

    /// An accepted event ends the run of refusals.
    pub fn clear(&self) {
        self.strikes.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn config() -> ChatSection {
        ChatSection {
            rate_per_second: 5.0,
            rate_burst: 10,
            abuse_strikes: 3,
            ..ChatSection::default()
        }
    }

    #[test]
    fn a_connection_gets_its_burst_then_its_rate_then_is_dropped_for_keeping_on() {
        let clock = FakeRelativeClock::default();
        let limit = ConnectionLimit::with_clock(&config(), clock.clone());
        for _ in 0..10 {
            assert_eq!(limit.check(), Verdict::Allow);
        }
        assert_eq!(limit.check(), Verdict::Limit);
        clock.advance(Duration::from_millis(100));
        assert_eq!(limit.check(), Verdict::Limit, "5 a second: not yet");
        clock.advance(Duration::from_millis(120));
        assert_eq!(limit.check(), Verdict::Allow, "one more after 200 ms");
        assert_eq!(limit.check(), Verdict::Drop, "third refusal in a row");
        limit.clear();
        assert_eq!(limit.strike(), Verdict::Limit);
        clock.advance(Duration::from_secs(60));
        limit.clear();
        assert_eq!(
            (0..20).filter(|_| limit.check() == Verdict::Allow).count(),
            10,
            "a full burst again after a quiet minute"
        );
    }
}
