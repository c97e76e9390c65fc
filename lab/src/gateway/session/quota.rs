//! AWS IoT's quota on what one connection receives: at most 100 publishes and 512 KiB a
//! second (service quotas, "Outbound publish requests per second per connection" and
//! "Throughput per connection"). Above it AWS IoT throttles the connection and the messages
//! are lost to it; the lab does the same and counts them, so a console that reads a large
//! fleet's status over one connection is throttled in the demo as it would be on AWS.

use tokio::time::Instant;

/// Publishes a second one connection may receive.
pub const PUBLISHES_PER_SECOND: u32 = 100;
/// Bytes a second one connection may receive.
pub const BYTES_PER_SECOND: u32 = 512 * 1024;

/// A token bucket refilled continuously, holding at most one second's worth.
#[derive(Debug)]
struct Bucket {
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(per_second: u32, now: Instant) -> Self {
        let per_second = f64::from(per_second);
        Self {
            per_second,
            tokens: per_second,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        self.last = now;
    }
}

/// One connection's receive quota.
#[derive(Debug)]
pub struct ReceiveQuota {
    publishes: Bucket,
    bytes: Bucket,
}

impl ReceiveQuota {
    /// AWS IoT's quota, full at `now`.
    #[must_use]
    pub fn aws(now: Instant) -> Self {
        Self {
            publishes: Bucket::new(PUBLISHES_PER_SECOND, now),
            bytes: Bucket::new(BYTES_PER_SECOND, now),
        }
    }

    /// Whether a publish of `size` bytes may go out at `now`; it is counted if so.
    pub fn admit(&mut self, size: usize, now: Instant) -> bool {
        self.publishes.refill(now);
        self.bytes.refill(now);
        #[allow(clippy::cast_precision_loss)] // packet sizes are far below 2^52
        let size = size as f64;
        if self.publishes.tokens < 1.0 || self.bytes.tokens < size {
            return false;
        }
        self.publishes.tokens -= 1.0;
        self.bytes.tokens -= size;
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_second_admits_a_hundred_publishes_and_refills_as_time_passes() {
        let start = Instant::now();
        let mut quota = ReceiveQuota::aws(start);
        let admitted = (0..250).filter(|_| quota.admit(200, start)).count();
        assert_eq!(admitted, 100);
        // A tenth of a second later, ten more.
        let later = start + Duration::from_millis(100);
        let admitted = (0..50).filter(|_| quota.admit(200, later)).count();
        assert_eq!(admitted, 10);
    }

    #[test]
    fn bytes_are_limited_too() {
        let start = Instant::now();
        let mut quota = ReceiveQuota::aws(start);
        // 100 KiB messages: five fit in 512 KiB.
        let admitted = (0..20).filter(|_| quota.admit(100 * 1024, start)).count();
        assert_eq!(admitted, 5);
    }
}
