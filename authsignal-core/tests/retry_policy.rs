//! The retry policy as a pure function (decision table, limits, backoff
//! bounds, `Retry-After` parsing, retry budget) and the client's retry loop
//! over scripted transports.

use std::{
    cell::{Cell, RefCell},
    collections::VecDeque,
    time::{Duration, Instant},
};

use authsignal_core::{
    AttemptOutcome, BlockingTimer, BlockingTransport, Client, Config, Error, GetUserRequest,
    Idempotency, NoWaitTimer, RetryBudget, RetryDecision, RetryPolicy, TrackRequest,
    TransportError, TransportErrorKind,
    http::{self, HeaderMap, HeaderValue, StatusCode, header},
    retry_after,
};

const MS: fn(u64) -> Duration = Duration::from_millis;
const SECS: fn(u64) -> Duration = Duration::from_secs;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

// ---------------------------------------------------------------------------
// Decision table
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Stop,
    /// Retry after the policy's backoff for this attempt.
    Backoff,
    /// Retry after exactly this delay.
    After(Duration),
}

enum Outcome {
    Transport(TransportErrorKind),
    Status(u16, Option<&'static str>),
}

#[test]
fn default_policy_values() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.max_retries, 2);
    assert_eq!(policy.initial_backoff, MS(200));
    assert_eq!(policy.max_backoff, SECS(5));
    assert_eq!(policy.max_retry_after, SECS(10));
    assert_eq!(policy.deadline, SECS(30));
    assert_eq!(RetryPolicy::no_retries().max_retries, 0);
    let custom = RetryPolicy::default()
        .with_max_retries(5)
        .with_backoff(MS(1), MS(2))
        .with_max_retry_after(SECS(60))
        .with_deadline(SECS(3));
    assert_eq!(
        (
            custom.max_retries,
            custom.initial_backoff,
            custom.max_backoff,
            custom.max_retry_after,
            custom.deadline
        ),
        (5, MS(1), MS(2), SECS(60), SECS(3))
    );
}

#[test]
fn decision_table() {
    use Expect::{After, Backoff, Stop};
    use Outcome::{Status, Transport};
    // (outcome, idempotent, non-idempotent)
    let table: Vec<(Outcome, Expect, Expect)> = vec![
        (Transport(TransportErrorKind::Connect), Backoff, Backoff),
        (Transport(TransportErrorKind::Timeout), Backoff, Stop),
        (Transport(TransportErrorKind::Io), Backoff, Stop),
        (Transport(TransportErrorKind::Other), Backoff, Stop),
        (Transport(TransportErrorKind::ResponseTooLarge), Stop, Stop),
        (Status(200, None), Stop, Stop),
        (Status(204, None), Stop, Stop),
        (Status(302, None), Stop, Stop),
        (Status(400, None), Stop, Stop),
        (Status(401, None), Stop, Stop),
        (Status(404, None), Stop, Stop),
        (Status(409, None), Stop, Stop),
        (Status(429, None), Backoff, Backoff),
        (Status(429, Some("1")), After(SECS(1)), After(SECS(1))),
        (Status(429, Some("0")), Backoff, Backoff),
        (Status(429, Some("10")), After(SECS(10)), After(SECS(10))),
        (Status(429, Some("11")), Stop, Stop),
        (Status(429, Some("3600")), Stop, Stop),
        (Status(429, Some("garbage")), Backoff, Backoff),
        (Status(500, None), Backoff, Stop),
        (Status(500, Some("2")), After(SECS(2)), Stop),
        (Status(501, None), Stop, Stop),
        (Status(502, None), Backoff, Stop),
        (Status(503, None), Backoff, Stop),
        (Status(503, Some("1")), After(SECS(1)), Stop),
        (Status(503, Some("60")), Stop, Stop),
        (Status(504, None), Backoff, Stop),
        (Status(505, None), Stop, Stop),
        (Status(400, Some("1")), Stop, Stop),
    ];
    let policy = RetryPolicy::default();
    for jitter in [0.0, 0.5, 1.0] {
        let backoff = policy.backoff(1, jitter);
        for (outcome, idempotent, non_idempotent) in &table {
            let map = match outcome {
                Status(_, Some(retry_after)) => headers(&[("retry-after", retry_after)]),
                _ => HeaderMap::new(),
            };
            let view = match outcome {
                Transport(kind) => AttemptOutcome::Transport(*kind),
                Status(status, _) => AttemptOutcome::Response {
                    status: StatusCode::from_u16(*status).unwrap(),
                    headers: &map,
                },
            };
            for (class, expected) in [
                (Idempotency::Idempotent, idempotent),
                (Idempotency::NonIdempotent, non_idempotent),
            ] {
                let expected = match expected {
                    Stop => RetryDecision::Stop,
                    Backoff => RetryDecision::RetryAfter(backoff),
                    After(delay) => RetryDecision::RetryAfter(*delay),
                };
                let got = policy.decide(1, class, view, jitter);
                assert_eq!(got, expected, "{view:?} {class:?} jitter {jitter}");
            }
        }
    }
}

#[test]
fn backoff_at_default_jitter_is_three_quarters_of_the_step() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.backoff(1, 0.5), MS(150));
    assert_eq!(policy.backoff(2, 0.5), MS(300));
    assert_eq!(policy.backoff(1, 0.0), MS(100));
    assert_eq!(policy.backoff(1, 1.0), MS(200));
    assert_eq!(policy.backoff(2, 1.0), MS(400));
    assert_eq!(
        policy.backoff(6, 1.0),
        SECS(5),
        "200ms·2^5 = 6.4s is capped at 5s"
    );
    assert_eq!(policy.backoff(6, 0.0), MS(2500));
}

#[test]
fn retry_after_shorter_than_backoff_waits_the_backoff() {
    let policy = RetryPolicy::default().with_backoff(SECS(4), SECS(8));
    let map = headers(&[("retry-after", "1")]);
    let view = AttemptOutcome::Response {
        status: StatusCode::TOO_MANY_REQUESTS,
        headers: &map,
    };
    assert_eq!(
        policy.decide(1, Idempotency::NonIdempotent, view, 1.0),
        RetryDecision::RetryAfter(SECS(4))
    );
}

#[test]
fn retry_after_limit_is_configurable() {
    let map = headers(&[("retry-after", "99999999999")]);
    let view = AttemptOutcome::Response {
        status: StatusCode::TOO_MANY_REQUESTS,
        headers: &map,
    };
    assert_eq!(
        RetryPolicy::default().decide(1, Idempotency::Idempotent, view, 0.5),
        RetryDecision::Stop
    );
    let patient = RetryPolicy::default().with_max_retry_after(Duration::MAX);
    assert_eq!(
        patient.decide(1, Idempotency::Idempotent, view, 0.5),
        RetryDecision::RetryAfter(SECS(99_999_999_999))
    );
    let map = headers(&[("retry-after", "30")]);
    let view = AttemptOutcome::Response {
        status: StatusCode::SERVICE_UNAVAILABLE,
        headers: &map,
    };
    let policy = RetryPolicy::default().with_max_retry_after(SECS(30));
    assert_eq!(
        policy.decide(1, Idempotency::Idempotent, view, 0.5),
        RetryDecision::RetryAfter(SECS(30))
    );
}

#[test]
fn max_retries_is_respected() {
    let connect = AttemptOutcome::Transport(TransportErrorKind::Connect);
    let empty = HeaderMap::new();
    let unavailable = AttemptOutcome::Response {
        status: StatusCode::SERVICE_UNAVAILABLE,
        headers: &empty,
    };
    let throttled = AttemptOutcome::Response {
        status: StatusCode::TOO_MANY_REQUESTS,
        headers: &empty,
    };

    for max in [0u32, 1, 2, 5] {
        let policy = RetryPolicy::default().with_max_retries(max);
        for attempt in 1..=max + 3 {
            for outcome in [connect, unavailable, throttled] {
                let decision = policy.decide(attempt, Idempotency::Idempotent, outcome, 0.5);
                if attempt > max {
                    assert_eq!(
                        decision,
                        RetryDecision::Stop,
                        "max {max}, attempt {attempt}, {outcome:?}"
                    );
                } else {
                    assert!(
                        matches!(decision, RetryDecision::RetryAfter(_)),
                        "max {max}, attempt {attempt}, {outcome:?}: {decision:?}"
                    );
                }
            }
        }
    }

    let never = RetryPolicy::no_retries();
    for attempt in [0, 1, 2, u32::MAX] {
        for outcome in [connect, unavailable, throttled] {
            for class in [Idempotency::Idempotent, Idempotency::NonIdempotent] {
                let decision = never.decide(attempt, class, outcome, 0.5);
                // Attempt 0 is not a real attempt number; only 1.. must stop.
                if attempt > 0 {
                    assert_eq!(decision, RetryDecision::Stop, "{attempt} {outcome:?}");
                }
            }
        }
    }
    assert_eq!(
        RetryPolicy::default().decide(u32::MAX, Idempotency::Idempotent, connect, 0.5),
        RetryDecision::Stop
    );
}

#[test]
fn backoff_stays_within_half_and_full_step() {
    for (initial, max) in [
        (MS(200), SECS(5)),
        (MS(1), MS(2)),
        (MS(100), MS(100)),
        (MS(3), SECS(60)),
        (Duration::ZERO, SECS(1)),
    ] {
        let policy = RetryPolicy::default().with_backoff(initial, max);
        for attempt in 1..=10u32 {
            let step = initial.saturating_mul(1 << (attempt - 1)).min(max);
            let mut previous = Duration::ZERO;
            for jitter in [0.0, 0.25, 0.5, 0.75, 1.0] {
                let delay = policy.backoff(attempt, jitter);
                assert!(
                    delay >= step / 2,
                    "attempt {attempt} jitter {jitter}: {delay:?} < {:?}",
                    step / 2
                );
                assert!(
                    delay <= step,
                    "attempt {attempt} jitter {jitter}: {delay:?} > {step:?}"
                );
                assert!(delay >= previous, "more jitter never shortens the delay");
                previous = delay;
                // decide() uses the same backoff.
                assert_eq!(
                    policy.decide(
                        attempt,
                        Idempotency::Idempotent,
                        AttemptOutcome::Transport(TransportErrorKind::Connect),
                        jitter
                    ),
                    if attempt > policy.max_retries {
                        RetryDecision::Stop
                    } else {
                        RetryDecision::RetryAfter(delay)
                    }
                );
            }
            assert_eq!(policy.backoff(attempt, 0.0), step / 2);
        }
    }
}

#[test]
fn huge_attempts_and_odd_jitter_do_not_panic() {
    let policies = [
        RetryPolicy::default(),
        RetryPolicy::default().with_max_retries(u32::MAX),
        RetryPolicy::default().with_backoff(SECS(u64::MAX), Duration::MAX),
        RetryPolicy::default()
            .with_backoff(Duration::MAX, Duration::MAX)
            .with_max_retries(u32::MAX),
        RetryPolicy::default().with_backoff(SECS(10), Duration::ZERO),
    ];
    let jitters = [
        0.0,
        0.5,
        1.0,
        -1.0,
        2.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        0.999_999_999,
    ];
    let empty = HeaderMap::new();
    for policy in &policies {
        for attempt in [
            0,
            1,
            2,
            31,
            32,
            33,
            63,
            64,
            65,
            1000,
            u32::MAX - 1,
            u32::MAX,
        ] {
            for jitter in jitters {
                let delay = policy.backoff(attempt, jitter);
                assert!(
                    delay <= policy.max_backoff,
                    "{delay:?} > {:?}",
                    policy.max_backoff
                );
                assert!(
                    delay >= policy.max_backoff.min(policy.initial_backoff) / 2 || attempt == 0
                );
                for outcome in [
                    AttemptOutcome::Transport(TransportErrorKind::Connect),
                    AttemptOutcome::Response {
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        headers: &empty,
                    },
                ] {
                    let _ = policy.decide(attempt, Idempotency::Idempotent, outcome, jitter);
                }
            }
        }
    }
    // Out-of-range jitter is clamped.
    let policy = RetryPolicy::default();
    assert_eq!(policy.backoff(1, -1.0), MS(100));
    assert_eq!(policy.backoff(1, 2.0), MS(200));
    let nan = policy.backoff(1, f64::NAN);
    assert!((MS(100)..=MS(200)).contains(&nan), "{nan:?}");
}

// ---------------------------------------------------------------------------
// Retry-After parsing
// ---------------------------------------------------------------------------

#[test]
fn retry_after_delay_seconds() {
    let cases: &[(&str, Option<Duration>)] = &[
        ("1", Some(SECS(1))),
        ("0", Some(SECS(0))),
        ("3", Some(SECS(3))),
        ("120", Some(SECS(120))),
        ("99999999999", Some(SECS(99_999_999_999))),
        ("  7 ", Some(SECS(7))),
        ("-1", None),
        ("1.5", None),
        ("abc", None),
        ("", None),
        ("1s", None),
        ("+1", None),
        ("0x10", None),
        ("99999999999999999999999999", None),
    ];
    for (value, expected) in cases {
        assert_eq!(
            retry_after(&headers(&[("retry-after", value)])),
            *expected,
            "Retry-After: {value:?}"
        );
    }
    assert_eq!(retry_after(&HeaderMap::new()), None);
    // Not valid UTF-8.
    let mut map = HeaderMap::new();
    map.insert(
        header::RETRY_AFTER,
        HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
    );
    assert_eq!(retry_after(&map), None);
}

#[test]
fn retry_after_http_date_is_measured_against_the_date_header() {
    let cases: &[(&str, &str, Option<Duration>)] = &[
        (
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:27:30 GMT",
            Some(SECS(30)),
        ),
        (
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            Some(SECS(0)),
        ),
        // In the past: no wait.
        (
            "Wed, 21 Oct 2015 07:27:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            Some(SECS(0)),
        ),
        (
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            Some(SECS(0)),
        ),
        // Across a day, a month with a leap day, and a year.
        (
            "Thu, 22 Oct 2015 00:00:05 GMT",
            "Wed, 21 Oct 2015 23:59:55 GMT",
            Some(SECS(10)),
        ),
        (
            "Sun, 01 Mar 2020 00:00:09 GMT",
            "Sat, 29 Feb 2020 23:59:59 GMT",
            Some(SECS(10)),
        ),
        (
            "Mon, 01 Mar 2021 00:00:00 GMT",
            "Sun, 28 Feb 2021 23:59:00 GMT",
            Some(SECS(60)),
        ),
        (
            "Mon, 01 Jan 2024 00:00:01 GMT",
            "Sun, 31 Dec 2023 23:59:59 GMT",
            Some(SECS(2)),
        ),
        (
            "Wed, 01 Mar 2000 00:00:00 GMT",
            "Mon, 28 Feb 2000 00:00:00 GMT",
            Some(SECS(2 * 86_400)),
        ),
        (
            "Mon, 01 Mar 2100 00:00:00 GMT",
            "Sun, 28 Feb 2100 00:00:00 GMT",
            Some(SECS(86_400)),
        ),
        (
            "Tue, 20 Oct 2026 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            Some(SECS(347_068_800)),
        ),
        // The obsolete forms count too (more in the tests below).
        (
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:27:30 GMT",
            Some(SECS(30)),
        ),
        // Unparseable dates.
        (
            "Wed, 21 Oct 2015 07:28:00 PST",
            "Wed, 21 Oct 2015 07:27:30 GMT",
            None,
        ),
        (
            "Wed, 21 Foo 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:27:30 GMT",
            None,
        ),
        (
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:27:30 GMT",
            None,
        ),
        (
            "Wed, 21 Oct 2015 25:28:00 GMT",
            "Wed, 21 Oct 2015 07:27:30 GMT",
            None,
        ),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "yesterday", None),
    ];
    for (retry, date, expected) in cases {
        let map = headers(&[("retry-after", retry), ("date", date)]);
        assert_eq!(
            retry_after(&map),
            *expected,
            "Retry-After: {retry} / Date: {date}"
        );
    }
    // An HTTP date without a Date header: no clock is read, so no delay.
    let map = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
    assert_eq!(retry_after(&map), None);
}

/// One instant in the three HTTP-date forms of RFC 9110 §5.6.7:
/// IMF-fixdate, obsolete RFC 850, asctime.
type Forms = [&'static str; 3];

/// 1994-11-06T08:49:37Z, RFC 9110's own example.
const RFC_EXAMPLE: Forms = [
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
];
/// 30 s before [`RFC_EXAMPLE`].
const RFC_EXAMPLE_MINUS_30S: Forms = [
    "Sun, 06 Nov 1994 08:49:07 GMT",
    "Sunday, 06-Nov-94 08:49:07 GMT",
    "Sun Nov  6 08:49:07 1994",
];
/// 2015-01-01T00:00:10Z, just after a new year.
const NEW_YEAR_2015: Forms = [
    "Thu, 01 Jan 2015 00:00:10 GMT",
    "Thursday, 01-Jan-15 00:00:10 GMT",
    "Thu Jan  1 00:00:10 2015",
];
/// 20 s before [`NEW_YEAR_2015`], in the old year.
const NEW_YEAR_2015_MINUS_20S: Forms = [
    "Wed, 31 Dec 2014 23:59:50 GMT",
    "Wednesday, 31-Dec-14 23:59:50 GMT",
    "Wed Dec 31 23:59:50 2014",
];

#[test]
fn retry_after_accepts_every_http_date_form_in_either_header() {
    let pairs: [(Forms, Forms, u64); 2] = [
        (RFC_EXAMPLE, RFC_EXAMPLE_MINUS_30S, 30),
        (NEW_YEAR_2015, NEW_YEAR_2015_MINUS_20S, 20),
    ];
    for (later, earlier, seconds) in pairs {
        // Every form against every form: same-form pairs and mixed ones.
        for retry in later {
            for date in earlier {
                let map = headers(&[("retry-after", retry), ("date", date)]);
                assert_eq!(
                    retry_after(&map),
                    Some(SECS(seconds)),
                    "Retry-After: {retry} / Date: {date}"
                );
                // Swapped, the date is in the past: no wait.
                let map = headers(&[("retry-after", date), ("date", retry)]);
                assert_eq!(
                    retry_after(&map),
                    Some(SECS(0)),
                    "Retry-After: {date} / Date: {retry}"
                );
            }
            // The same instant in every pair of forms.
            for date in later {
                let map = headers(&[("retry-after", retry), ("date", date)]);
                assert_eq!(retry_after(&map), Some(SECS(0)), "{retry} / {date}");
            }
            // Whatever its form, a date needs the response's `Date`.
            assert_eq!(retry_after(&headers(&[("retry-after", retry)])), None);
        }
    }
}

#[test]
fn retry_after_rfc850_two_digit_years_and_surrounding_whitespace() {
    let cases: &[(&str, &str, Option<Duration>)] = &[
        // `70`..`99` are 19xx, `00`..`69` are 20xx.
        (
            "Thursday, 01-Jan-70 00:00:30 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            Some(SECS(30)),
        ),
        (
            "Tuesday, 31-Dec-69 23:59:59 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            Some(SECS(3_155_759_999)),
        ),
        (
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Tuesday, 31-Dec-69 23:59:59 GMT",
            Some(SECS(0)),
        ),
        (
            "Tue Dec 31 23:59:59 2069",
            "Thursday, 01-Jan-70 00:00:00 GMT",
            Some(SECS(3_155_759_999)),
        ),
        // Whitespace around a value is not part of it.
        (
            "  Sun, 06 Nov 1994 08:49:37 GMT\t",
            " Sun Nov  6 08:49:07 1994 ",
            Some(SECS(30)),
        ),
        (
            "\tSunday, 06-Nov-94 08:49:37 GMT ",
            "Sun, 06 Nov 1994 08:49:07 GMT  ",
            Some(SECS(30)),
        ),
    ];
    for (retry, date, expected) in cases {
        let map = headers(&[("retry-after", retry), ("date", date)]);
        assert_eq!(
            retry_after(&map),
            *expected,
            "Retry-After: {retry:?} / Date: {date:?}"
        );
    }
}

#[test]
fn retry_after_invalid_http_dates_in_any_form() {
    let invalid = [
        // IMF-fixdate
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 November 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Wed, 31 Dec 1969 23:59:59 GMT",
        // A weekday that does not match the date, a day the month lacks.
        "Mon, 06 Nov 1994 08:49:37 GMT",
        "Mon, 31 Feb 2025 00:00:00 GMT",
        "Thu, 29 Feb 2100 00:00:00 GMT",
        // RFC 850
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sunday, 06-Nov-94 08:49:37 PST",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-94 25:49:37 GMT",
        "Monday, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Xyz-94 08:49:37 GMT",
        // asctime
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49 1994",
        "Sun Nov 31 08:49:37 1994",
        "Mon Nov  6 08:49:37 1994",
        "Sun, Nov  6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1969",
        // Neither
        "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
        "Sün, 06 Nov 1994 08:49:37 GMT",
        "GMT",
        ",",
    ];
    let valid = RFC_EXAMPLE_MINUS_30S;
    for bad in invalid {
        for good in valid {
            // An invalid `Retry-After` against a valid `Date`, and the reverse.
            let map = headers(&[("retry-after", bad), ("date", good)]);
            assert_eq!(retry_after(&map), None, "Retry-After: {bad} / Date: {good}");
            let map = headers(&[("retry-after", good), ("date", bad)]);
            assert_eq!(retry_after(&map), None, "Retry-After: {good} / Date: {bad}");
        }
    }
    // A `Date` that is not valid UTF-8.
    let mut map = headers(&[("retry-after", RFC_EXAMPLE[1])]);
    map.insert(
        header::DATE,
        HeaderValue::from_bytes(b"Sun, 06 Nov 1994 08:49:07 GMT\xff").unwrap(),
    );
    assert_eq!(retry_after(&map), None);
}

// ---------------------------------------------------------------------------
// Retry budget
// ---------------------------------------------------------------------------

#[test]
fn retry_budget_withdraw_refund_and_capacity() {
    let budget = RetryBudget::new(20);
    assert_eq!(budget.available(), 20);
    assert!(budget.try_withdraw(RetryBudget::RETRY_COST));
    assert_eq!(budget.available(), 20 - RetryBudget::RETRY_COST);
    assert!(
        !budget.try_withdraw(RetryBudget::RETRY_COST),
        "not enough left"
    );
    assert_eq!(
        budget.available(),
        20 - RetryBudget::RETRY_COST,
        "a failed withdrawal takes nothing"
    );
    assert!(budget.try_withdraw(RetryBudget::THROTTLE_COST));
    assert_eq!(
        budget.available(),
        20 - RetryBudget::RETRY_COST - RetryBudget::THROTTLE_COST
    );
    budget.refund(0);
    assert_eq!(
        budget.available(),
        20 - RetryBudget::RETRY_COST - RetryBudget::THROTTLE_COST + 1,
        "a success without retries gives back one token"
    );
    budget.refund(RetryBudget::THROTTLE_COST);
    assert_eq!(
        budget.available(),
        20 - RetryBudget::RETRY_COST + 1,
        "a success after retries gives back what they took"
    );
    budget.refund(100);
    assert_eq!(budget.available(), 20, "refunds stop at the capacity");
    assert!(budget.try_withdraw(20));
    assert_eq!(budget.available(), 0);
    assert!(!budget.try_withdraw(1));
    assert!(budget.try_withdraw(0));

    let empty = RetryBudget::new(0);
    empty.refund(5);
    assert_eq!(empty.available(), 0);
    assert!(!empty.try_withdraw(1));

    assert_eq!(RetryBudget::default().available(), 500);
    let big = RetryBudget::new(u32::MAX);
    big.refund(1);
    assert_eq!(big.available(), u32::MAX);
    assert!(!big.try_withdraw(u32::MAX) || big.available() == 0);
}

#[test]
fn retry_budget_is_thread_safe() {
    let budget = std::sync::Arc::new(RetryBudget::new(1000));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let budget = budget.clone();
            std::thread::spawn(move || (0..500).filter(|_| budget.try_withdraw(1)).count())
        })
        .collect();
    let taken: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(taken, 1000);
    assert_eq!(budget.available(), 0);
}

// ---------------------------------------------------------------------------
// The client's retry loop
// ---------------------------------------------------------------------------

type Reply = Result<http::Response<Vec<u8>>, TransportError>;

fn status(code: u16) -> Reply {
    let body: &[u8] = if code == 200 {
        br#"{"isEnrolled":true}"#
    } else {
        br#"{"error":"x"}"#
    };
    Ok(http::Response::builder()
        .status(code)
        .body(body.to_vec())
        .unwrap())
}

fn status_with_retry_after(code: u16, seconds: &str) -> Reply {
    Ok(http::Response::builder()
        .status(code)
        .header(header::RETRY_AFTER, seconds)
        .body(br#"{"error":"too_many_requests"}"#.to_vec())
        .unwrap())
}

fn transport_error(kind: TransportErrorKind) -> Reply {
    Err(TransportError::new(kind, "scripted"))
}

/// A transport that plays a script of replies (repeating the last one), and
/// records every request; as the client's timer, it records every sleep
/// instead of sleeping, and keeps a fake clock.
struct Scripted {
    replies: RefCell<VecDeque<Reply>>,
    last: Box<dyn Fn() -> Reply>,
    calls: Cell<u32>,
    requests: RefCell<Vec<http::Request<Vec<u8>>>>,
    sleeps: RefCell<Vec<Duration>>,
    clock: Option<(Instant, Duration)>,
    started: Instant,
}

impl Scripted {
    fn new(replies: Vec<Reply>, last: impl Fn() -> Reply + 'static) -> Self {
        Self {
            replies: RefCell::new(replies.into()),
            last: Box::new(last),
            calls: Cell::new(0),
            requests: RefCell::new(Vec::new()),
            sleeps: RefCell::new(Vec::new()),
            clock: None,
            started: Instant::now(),
        }
    }
}

impl BlockingTransport for &Scripted {
    fn send(&self, request: http::Request<Vec<u8>>) -> Reply {
        self.calls.set(self.calls.get() + 1);
        self.requests.borrow_mut().push(request);
        self.replies
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| (self.last)())
    }
}

impl BlockingTimer for Scripted {
    fn sleep(&self, delay: Duration) {
        self.sleeps.borrow_mut().push(delay);
    }

    fn now(&self) -> Instant {
        // Time passes only by sleeping, and with a `clock`, by `step` per call.
        let sleeps: Duration = self.sleeps.borrow().iter().sum();
        match self.clock {
            Some((start, step)) => start + sleeps + step * self.calls.get(),
            None => self.started + sleeps,
        }
    }

    fn jitter(&self) -> f64 {
        0.5
    }
}

/// A client of `config` sending through `transport` and timed by it.
fn scripted_client(config: Config, transport: &Scripted) -> Client<&Scripted, &Scripted> {
    Client::with_transport(config, transport).with_timer(transport)
}

fn client(transport: &Scripted) -> Client<&Scripted, &Scripted> {
    scripted_client(Config::builder("sk_test").build().unwrap(), transport)
}

#[test]
fn get_user_503_503_200_succeeds_after_three_calls() {
    let transport = Scripted::new(vec![status(503), status(503), status(200)], || status(500));
    let user = client(&transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap();
    assert!(user.is_enrolled);
    assert_eq!(transport.calls.get(), 3);
    assert_eq!(
        *transport.sleeps.borrow(),
        [MS(150), MS(300)],
        "default backoff at jitter 0.5"
    );
    // Every attempt sends the same request.
    let requests = transport.requests.borrow();
    for request in requests.iter() {
        assert_eq!(request.uri(), requests[0].uri());
        assert_eq!(request.headers(), requests[0].headers());
        assert_eq!(request.body(), requests[0].body());
    }
}

#[test]
fn track_503_is_not_resent() {
    let transport = Scripted::new(vec![], || status(503));
    let error = client(&transport)
        .track(TrackRequest::new("u", "signIn"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 1);
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(error.request_may_have_been_processed());
    assert!(transport.sleeps.borrow().is_empty());
}

#[test]
fn get_user_503_storm_stops_after_max_retries() {
    let transport = Scripted::new(vec![], || status(503));
    let error = client(&transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 3);
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(matches!(error, Error::Api(_)));
}

#[test]
fn track_connect_error_is_retried() {
    let transport = Scripted::new(vec![], || transport_error(TransportErrorKind::Connect));
    let error = client(&transport)
        .track(TrackRequest::new("u", "signIn"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 3);
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.transport_kind(), Some(TransportErrorKind::Connect));
    assert!(!error.request_may_have_been_processed());
    assert!(error.to_string().ends_with("; 3 attempts"), "{error}");

    // Connect, then success.
    let transport = Scripted::new(vec![transport_error(TransportErrorKind::Connect)], || {
        Ok(http::Response::new(
            br#"{"state":"ALLOW","idempotencyKey":"k"}"#.to_vec(),
        ))
    });
    let output = client(&transport)
        .track(TrackRequest::new("u", "signIn"))
        .unwrap();
    assert_eq!(output.idempotency_key, "k");
    assert_eq!(transport.calls.get(), 2);
}

#[test]
fn ambiguous_transport_failures_are_retried_only_for_idempotent_calls() {
    for kind in [
        TransportErrorKind::Timeout,
        TransportErrorKind::Io,
        TransportErrorKind::Other,
    ] {
        let transport = Scripted::new(vec![], move || transport_error(kind));
        let error = client(&transport)
            .track(TrackRequest::new("u", "signIn"))
            .unwrap_err();
        assert_eq!(
            (transport.calls.get(), error.attempts()),
            (1, 1),
            "track {kind:?}"
        );

        let transport = Scripted::new(vec![], move || transport_error(kind));
        let error = client(&transport)
            .get_user(GetUserRequest::new("u"))
            .unwrap_err();
        assert_eq!(
            (transport.calls.get(), error.attempts()),
            (3, 3),
            "get_user {kind:?}"
        );
        assert_eq!(error.transport_kind(), Some(kind));
    }
    let transport = Scripted::new(vec![], || {
        transport_error(TransportErrorKind::ResponseTooLarge)
    });
    let error = client(&transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 1);
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::ResponseTooLarge)
    );
}

#[test]
fn throttled_track_is_retried_after_retry_after() {
    let transport = Scripted::new(
        vec![
            status_with_retry_after(429, "1"),
            status_with_retry_after(429, "2"),
        ],
        || {
            Ok(http::Response::new(
                br#"{"state":"ALLOW","idempotencyKey":"k"}"#.to_vec(),
            ))
        },
    );
    client(&transport)
        .track(TrackRequest::new("u", "signIn"))
        .unwrap();
    assert_eq!(transport.calls.get(), 3);
    assert_eq!(*transport.sleeps.borrow(), [SECS(1), SECS(2)]);

    // Asked to wait longer than the policy allows: returned at once, with the delay.
    let transport = Scripted::new(vec![], || status_with_retry_after(429, "60"));
    let error = client(&transport)
        .track(TrackRequest::new("u", "signIn"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 1);
    assert_eq!(error.retry_after(), Some(SECS(60)));
    assert!(!error.request_may_have_been_processed());
}

#[test]
fn per_call_policy_overrides_the_config() {
    let transport = Scripted::new(vec![], || status(503));
    let error = client(&transport)
        .send_with_policy(&GetUserRequest::new("u"), &RetryPolicy::no_retries())
        .unwrap_err();
    assert_eq!((transport.calls.get(), error.attempts()), (1, 1));

    let transport = Scripted::new(vec![], || status(503));
    let config = Config::builder("sk")
        .with_retry_policy(RetryPolicy::default().with_max_retries(4))
        .build()
        .unwrap();
    let error = scripted_client(config, &transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!((transport.calls.get(), error.attempts()), (5, 5));

    let transport = Scripted::new(vec![], || status(503));
    let config = Config::builder("sk")
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap();
    let error = scripted_client(config, &transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!((transport.calls.get(), error.attempts()), (1, 1));
}

#[test]
fn retry_budget_cuts_a_503_storm_short() {
    let config = Config::builder("sk")
        .with_retry_budget(RetryBudget::new(20))
        .build()
        .unwrap();
    let transport = Scripted::new(vec![], || status(503));
    let client = scripted_client(config, &transport);

    // 20 tokens pay for one retry (14), not two.
    let error = client.get_user(GetUserRequest::new("u")).unwrap_err();
    assert_eq!(transport.calls.get(), 2);
    assert_eq!(error.attempts(), 2);
    assert_eq!(
        client.config().retry_budget().unwrap().available(),
        20 - RetryBudget::RETRY_COST
    );

    // The next call gets no retry at all.
    let error = client.get_user(GetUserRequest::new("u")).unwrap_err();
    assert_eq!(transport.calls.get(), 3);
    assert_eq!(error.attempts(), 1);

    // Successes refund one token each.
    let ok = Scripted::new(vec![], || status(200));
    let config = client.config().clone();
    let before = config.retry_budget().unwrap().available();
    let ok_client = scripted_client(config, &ok);
    ok_client.get_user(GetUserRequest::new("u")).unwrap();
    assert_eq!(
        ok_client.config().retry_budget().unwrap().available(),
        before + 1,
        "the budget is shared by clones"
    );
}

#[test]
fn a_retry_budget_is_on_by_default_and_can_be_turned_off() {
    let config = Config::builder("sk").build().unwrap();
    assert_eq!(config.retry_budget().map(RetryBudget::available), Some(500));
    let transport = Scripted::new(vec![], || status(503));
    let client = scripted_client(config, &transport);
    for _ in 0..20 {
        let _ = client.get_user(GetUserRequest::new("u"));
    }
    // 35 retries of 14 tokens each, then first attempts only.
    assert_eq!(transport.calls.get(), 20 + 35);
    assert_eq!(
        client.config().retry_budget().unwrap().available(),
        500 - 35 * 14
    );

    let config = Config::builder("sk")
        .without_retry_budget()
        .build()
        .unwrap();
    assert!(config.retry_budget().is_none());
    let transport = Scripted::new(vec![], || status(503));
    let client = scripted_client(config, &transport);
    for _ in 0..20 {
        let _ = client.get_user(GetUserRequest::new("u"));
    }
    assert_eq!(transport.calls.get(), 60);
}

#[test]
fn a_success_after_retries_gives_back_what_its_retries_took() {
    let config = Config::builder("sk")
        .with_retry_budget(RetryBudget::new(100))
        .build()
        .unwrap();
    let transport = Scripted::new(vec![status(503), status(429)], || status(200));
    let client = scripted_client(config, &transport);
    client.get_user(GetUserRequest::new("u")).unwrap();
    assert_eq!(transport.calls.get(), 3);
    assert_eq!(client.config().retry_budget().unwrap().available(), 100);

    // A failed call keeps what it took.
    let transport = Scripted::new(vec![status(503)], || status(404));
    let client = scripted_client(client.config().clone(), &transport);
    client.get_user(GetUserRequest::new("u")).unwrap_err();
    assert_eq!(
        client.config().retry_budget().unwrap().available(),
        100 - RetryBudget::RETRY_COST
    );
}

#[test]
fn deadline_stops_retries_when_the_clock_runs_out() {
    // Each attempt "takes" 30 s: the first retry would start after the 30 s deadline.
    let mut transport = Scripted::new(vec![], || status(503));
    transport.clock = Some((Instant::now(), SECS(30)));
    let error = client(&transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 1);
    assert_eq!(error.attempts(), 1);

    // 20 s per attempt: the first retry starts at 20.15 s, the second would at 40.45 s.
    let mut transport = Scripted::new(vec![], || status(503));
    transport.clock = Some((Instant::now(), SECS(20)));
    let error = client(&transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 2);
    assert_eq!(error.attempts(), 2);
    assert_eq!(*transport.sleeps.borrow(), [MS(150)]);

    // A shorter deadline per call.
    let mut transport = Scripted::new(vec![], || status(503));
    transport.clock = Some((Instant::now(), MS(10)));
    let error = client(&transport)
        .send_with_policy(
            &GetUserRequest::new("u"),
            &RetryPolicy::default().with_deadline(MS(100)),
        )
        .unwrap_err();
    assert_eq!(
        transport.calls.get(),
        1,
        "10 ms + 150 ms backoff is past a 100 ms deadline"
    );
    assert_eq!(error.attempts(), 1);
}

#[test]
fn deadline_allows_retries_within_it() {
    let mut transport = Scripted::new(vec![], || status(503));
    transport.clock = Some((Instant::now(), MS(10)));
    let error = client(&transport)
        .get_user(GetUserRequest::new("u"))
        .unwrap_err();
    assert_eq!(transport.calls.get(), 3);
    assert_eq!(error.attempts(), 3);
}

#[test]
fn a_closure_transport_waits_the_backoff_between_attempts() {
    // The default timer is real: 503, 503, 200 waits between attempts.
    let sent_at = RefCell::new(Vec::new());
    let transport = |_request: http::Request<Vec<u8>>| -> Reply {
        sent_at.borrow_mut().push(Instant::now());
        status(if sent_at.borrow().len() < 3 { 503 } else { 200 })
    };
    let policy = RetryPolicy::default().with_backoff(MS(60), SECS(5));
    let config = Config::builder("sk")
        .with_retry_policy(policy.clone())
        .build()
        .unwrap();
    let client = Client::with_transport(config, transport);
    let user = client.get_user(GetUserRequest::new("u")).unwrap();
    assert!(user.is_enrolled);
    let sent_at = sent_at.borrow();
    assert_eq!(sent_at.len(), 3);
    for (retry, pair) in sent_at.windows(2).enumerate() {
        let attempt = u32::try_from(retry).unwrap() + 1;
        let gap = pair[1] - pair[0];
        // Equal jitter: between half and all of the backoff.
        assert!(
            gap >= policy.backoff(attempt, 0.0),
            "retry {attempt} after {gap:?}"
        );
        assert!(
            gap < policy.backoff(attempt, 1.0) + MS(200),
            "retry {attempt} after {gap:?}"
        );
    }

    // A non-idempotent POST is not retried after a 503.
    let calls = Cell::new(0u32);
    let transport = |_request: http::Request<Vec<u8>>| -> Reply {
        calls.set(calls.get() + 1);
        status(503)
    };
    let client = Client::with_transport(Config::builder("sk").build().unwrap(), transport);
    let error = client.track(TrackRequest::new("u", "signIn")).unwrap_err();
    assert_eq!((calls.get(), error.attempts()), (1, 1));
}

#[test]
fn no_wait_timer_retries_at_once_by_name() {
    let sent_at = RefCell::new(Vec::new());
    let transport = |_request: http::Request<Vec<u8>>| -> Reply {
        sent_at.borrow_mut().push(Instant::now());
        status(503)
    };
    let policy = RetryPolicy::default().with_backoff(SECS(2), SECS(5));
    let config = Config::builder("sk")
        .with_retry_policy(policy)
        .build()
        .unwrap();
    let client = Client::with_transport(config, transport).with_timer(NoWaitTimer);
    let started = Instant::now();
    client.get_user(GetUserRequest::new("u")).unwrap_err();
    assert_eq!(sent_at.borrow().len(), 3);
    // Two backoffs of 1-5 s were asked for and none was slept.
    assert!(started.elapsed() < SECS(1), "took {:?}", started.elapsed());
}
