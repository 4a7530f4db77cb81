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

/// The same, one per person (public id).
type PersonLimiter<C> =
    RateLimiter<String, DashMapStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// How many new public rooms one person, and one address, may create: a quota over an hour
/// and over a day (a token bucket the size of the quota, refilled over its period), so a
/// spammer cannot fill everyone's room list (150 rooms in 32 s were possible under the
/// general event rate). Per node: with several nodes each counts its own.
pub struct RoomQuota<C: Clock = DefaultClock> {
    per_person: PersonLimiter<C>,
    per_address: KeyedLimiter<C>,
    person_quota: u32,
    address_quota: u32,
}

impl RoomQuota {
    pub fn new(config: &ChatSection) -> Self {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RoomQuota<C> {
    pub fn with_clock(config: &ChatSection, clock: C) -> Self {
        let person = config.rooms_per_person_per_hour;
        let address = config.rooms_per_address_per_day;
        Self {
            per_person: RateLimiter::dashmap_with_clock(
                quota(f64::from(person) / 3600.0, person),
                clock.clone(),
            ),
            per_address: RateLimiter::dashmap_with_clock(
                quota(f64::from(address) / 86_400.0, address),
                clock,
            ),
            person_quota: person,
            address_quota: address,
        }
    }

    /// Takes one room from `person`'s and `ip`'s quotas, or says which one is used up (and
    /// takes nothing). A quota of 0 means no limit.
    pub fn take(&self, person: &str, ip: Option<IpAddr>) -> Result<(), String> {
        let person_ok = self.person_quota == 0 || {
            let key = person.to_owned();
            self.per_person.check_key(&key).is_ok()
        };
        if !person_ok {
            return Err(format!(
                "You may create {} rooms an hour; join an existing one, or wait.",
                self.person_quota
            ));
        }
        let address_ok =
            self.address_quota == 0 || ip.is_none_or(|ip| self.per_address.check_key(&ip).is_ok());
        if !address_ok {
            return Err(format!(
                "Your network may create {} rooms a day; join an existing one, or wait.",
                self.address_quota
            ));
        }
        if self.per_person.len() > 100_000 {
            self.per_person.retain_recent();
        }
        if self.per_address.len() > 100_000 {
            self.per_address.retain_recent();
        }
        Ok(())
    }
}

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
    fn room_creation_has_a_quota_per_person_and_per_address() {
        let clock = FakeRelativeClock::default();
        let config = ChatSection {
            rooms_per_person_per_hour: 3,
            rooms_per_address_per_day: 5,
            ..ChatSection::default()
        };
        let rooms = RoomQuota::with_clock(&config, clock.clone());
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..3 {
            rooms.take("ann", Some(ip)).unwrap();
        }
        let refused = rooms.take("ann", Some(ip)).unwrap_err();
        assert!(refused.contains("3 rooms an hour"), "{refused}");
        rooms.take("bob", Some(ip)).unwrap();
        rooms.take("bob", Some(ip)).unwrap();
        let network = rooms.take("cat", Some(ip)).unwrap_err();
        assert!(network.contains("5 rooms a day"), "{network}");
        rooms
            .take("cat", Some("192.0.2.10".parse().unwrap()))
            .unwrap();
        // An hour later Ann has her quota back; the address still waits for its day.
        clock.advance(Duration::from_secs(3600));
        assert!(rooms.take("ann", None).is_ok());
        assert!(rooms.take("dan", Some(ip)).is_err());
        let unlimited = RoomQuota::new(&ChatSection {
            rooms_per_person_per_hour: 0,
            rooms_per_address_per_day: 0,
            ..ChatSection::default()
        });
        assert!((0..100).all(|_| unlimited.take("ann", Some(ip)).is_ok()));
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
