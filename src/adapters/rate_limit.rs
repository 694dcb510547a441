//! "Slow down" in every style platforms say it, read into one
//! [`AdapterError::RateLimited`] that feeds the worker's token bucket:
//! `Retry-After` (seconds or an HTTP date), `X-RateLimit-*` (Manch, GitHub
//! style; Mastodon's reset is an ISO 8601 time), the IETF draft's
//! `RateLimit-*` (Bluesky), and a JSON
//! `retry_after_ms` (Matrix), which the adapter reads from the body.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

use super::AdapterError;

/// Resets above this are instants (epoch seconds); below, seconds from now.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Retry-After`: delta-seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(at.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or_default())
}

/// A reset given as an ISO 8601 time (Mastodon), as epoch seconds.
fn instant(headers: &HeaderMap, name: &str) -> Option<u64> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    let at = chrono::DateTime::parse_from_rfc3339(value).ok()?;
    u64::try_from(at.timestamp()).ok()
}

/// The limit figures, from `x-ratelimit-*` or `ratelimit-*`, whichever is there.
fn figures(headers: &HeaderMap) -> (Option<u32>, Option<u32>, Option<u64>) {
    let pick = |name: &str| {
        number(headers, &format!("x-ratelimit-{name}"))
            .or_else(|| number(headers, &format!("ratelimit-{name}")))
    };
    let narrow = |v: Option<u64>| v.and_then(|v| u32::try_from(v).ok());
    let reset = pick("reset").or_else(|| instant(headers, "x-ratelimit-reset"));
    (narrow(pick("limit")), narrow(pick("remaining")), reset)
}

/// A 429 (or a platform's equivalent) as the engine reads it. `body_retry_after_ms`
/// is a wait the platform gave in its JSON body.
pub fn rate_limited(
    headers: &HeaderMap,
    body_retry_after_ms: Option<u64>,
    now: SystemTime,
) -> AdapterError {
    let (limit, remaining, reset) = figures(headers);
    let now_secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    // Reset as an instant, whichever way it was given.
    let reset_at = reset.map(|r| if r > EPOCH_THRESHOLD { r } else { now_secs + r });
    let retry_after = retry_after(headers, now)
        .or_else(|| body_retry_after_ms.map(Duration::from_millis))
        .or_else(|| reset_at.map(|at| Duration::from_secs(at.saturating_sub(now_secs))));
    AdapterError::RateLimited {
        retry_after,
        limit,
        remaining,
        reset: reset_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    const NOW: u64 = 1_764_590_400; // 2025-12-01T12:00:00Z

    fn at_now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn read(pairs: &[(&'static str, &str)], body_ms: Option<u64>) -> AdapterError {
        rate_limited(&headers(pairs), body_ms, at_now())
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let seconds = read(&[("retry-after", "7")], None);
        assert!(
            matches!(seconds, AdapterError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7))
        );
        let date = read(&[("retry-after", "Mon, 01 Dec 2025 12:00:30 GMT")], None);
        assert!(
            matches!(date, AdapterError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(30))
        );
        let past = read(&[("retry-after", "Mon, 01 Dec 2025 11:00:00 GMT")], None);
        assert!(
            matches!(past, AdapterError::RateLimited { retry_after: Some(d), .. } if d.is_zero())
        );
    }

    #[test]
    fn x_ratelimit_figures_with_an_epoch_reset() {
        let reset = (NOW + 12).to_string();
        let e = read(
            &[
                ("x-ratelimit-limit", "100"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
            None,
        );
        assert_eq!(
            e,
            AdapterError::RateLimited {
                retry_after: Some(Duration::from_secs(12)),
                limit: Some(100),
                remaining: Some(0),
                reset: Some(NOW + 12),
            }
        );
    }

    #[test]
    fn x_ratelimit_reset_as_an_iso_8601_time_as_mastodon_sends_it() {
        let e = read(
            &[
                ("x-ratelimit-limit", "300"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "2025-12-01T12:01:15.123Z"),
            ],
            None,
        );
        assert_eq!(
            e,
            AdapterError::RateLimited {
                retry_after: Some(Duration::from_secs(75)),
                limit: Some(300),
                remaining: Some(0),
                reset: Some(NOW + 75),
            }
        );
    }

    #[test]
    fn draft_ratelimit_headers_with_a_relative_reset() {
        let e = read(
            &[
                ("ratelimit-limit", "30"),
                ("ratelimit-remaining", "0"),
                ("ratelimit-reset", "300"),
                ("ratelimit-policy", "30;w=300"),
            ],
            None,
        );
        assert_eq!(
            e,
            AdapterError::RateLimited {
                retry_after: Some(Duration::from_secs(300)),
                limit: Some(30),
                remaining: Some(0),
                reset: Some(NOW + 300),
            }
        );
    }

    #[test]
    fn a_wait_in_the_body_and_precedence() {
        let body = read(&[], Some(2_500));
        assert!(
            matches!(body, AdapterError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_millis(2_500))
        );
        // Retry-After wins over the body, which wins over the reset.
        let both = read(
            &[("retry-after", "1"), ("ratelimit-reset", "90")],
            Some(5_000),
        );
        assert!(
            matches!(both, AdapterError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(1))
        );
        let nothing = read(&[], None);
        assert!(matches!(
            nothing,
            AdapterError::RateLimited {
                retry_after: None,
                ..
            }
        ));
    }
}
