//! Brute-force limits on login and signup, per client IP and per account.
//!
//! Token buckets from `governor`, keyed in memory per process: each limit is a
//! burst that refills evenly over its period.

use std::hash::Hash;
use std::net::IpAddr;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::client_ip::limit_key;
use super::error::ApiError;
use crate::domain::Email;
use crate::settings::RateLimitSettings;

pub struct RateLimiters {
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_account: DefaultKeyedRateLimiter<String>,
    signup_ip: DefaultKeyedRateLimiter<IpAddr>,
    signup_account: DefaultKeyedRateLimiter<String>,
}

impl RateLimiters {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            login_ip: governor::RateLimiter::keyed(Quota::per_minute(
                settings.login_per_ip_per_minute,
            )),
            login_account: governor::RateLimiter::keyed(Quota::per_minute(
                settings.login_per_account_per_minute,
            )),
            signup_ip: governor::RateLimiter::keyed(Quota::per_hour(
                settings.signup_per_ip_per_hour,
            )),
            signup_account: governor::RateLimiter::keyed(Quota::per_hour(
                settings.signup_per_account_per_hour,
            )),
        }
    }

    /// The per-account login limit is kept per account *and* client, so a
    /// stranger guessing at an account cannot lock its owner out.
    pub fn check_login(&self, ip: Option<IpAddr>, email: &Email) -> Result<(), ApiError> {
        let ip = ip.map(limit_key);
        if let Some(ip) = ip {
            check(&self.login_ip, &ip)?;
        }
        let key = match ip {
            Some(ip) => format!("{}|{ip}", email.as_str()),
            None => email.as_str().to_owned(),
        };
        check(&self.login_account, &key)
    }

    pub fn check_signup(&self, ip: Option<IpAddr>, email: &Email) -> Result<(), ApiError> {
        check_pair(&self.signup_ip, ip, &self.signup_account, email)
    }

    /// Forgets keys whose buckets are full again, so memory tracks recent clients only.
    pub fn forget_idle(&self) {
        for limiter in [&self.login_ip, &self.signup_ip] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        for limiter in [&self.login_account, &self.signup_account] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

fn check_pair(
    by_ip: &DefaultKeyedRateLimiter<IpAddr>,
    ip: Option<IpAddr>,
    by_account: &DefaultKeyedRateLimiter<String>,
    email: &Email,
) -> Result<(), ApiError> {
    if let Some(ip) = ip {
        check(by_ip, &limit_key(ip))?;
    }
    check(by_account, &email.as_str().to_owned())
}

fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        // Round up: a client that waits exactly Retry-After must get through.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::rate_limited(seconds.max(1))
    })
}
