//! Fault injection: what the next matching requests get instead of (or on
//! top of) the fake's normal answer.

use std::time::Duration;

use http::{Method, StatusCode};

/// What a faulted request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// 429 `too_many_requests` with `Retry-After` in whole seconds (rounded
    /// up). The request is not processed.
    TooManyRequests {
        /// The wait the `Retry-After` header asks for.
        retry_after: Duration,
    },
    /// This status (e.g. 503) with the `error`/`errorCode`/`errorDescription`
    /// body. The request is not processed.
    Status(StatusCode),
    /// The normal answer, late by this long. On the socket server the
    /// response is held back for real, so client timeouts fire; the
    /// in-process transports instead move the fake's clock forward by the
    /// delay and answer at once, so a test never sleeps.
    Delay(Duration),
    /// No answer: the socket server closes the connection without a
    /// response; the in-process transports return an I/O transport error.
    /// The request is not processed.
    DropConnection,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// Every request, whatever its service.
    All,
    /// Requests with this method whose raw path matches the pattern segment
    /// by segment, `*` matching any one segment: `Route::matching(Method::POST,
    /// "/v1/users/*/actions/*")` is every track.
    Matching {
        /// The method to match.
        method: Method,
        /// The path pattern, e.g. `/v1/users/*/actions/*`.
        pattern: String,
    },
}

impl Route {
    /// Requests with `method` whose path matches `pattern`; see
    /// [`Route::Matching`].
    pub fn matching(method: Method, pattern: impl Into<String>) -> Self {
        Self::Matching {
            method,
            pattern: pattern.into(),
        }
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        match self {
            Self::All => true,
            Self::Matching {
                method: wanted,
                pattern,
            } => {
                let mut got = path.split('/');
                let mut want = pattern.split('/');
                wanted == method
                    && loop {
                        match (got.next(), want.next()) {
                            (None, None) => break true,
                            (Some(g), Some(w)) if w == "*" || w == g => {}
                            _ => break false,
                        }
                    }
            }
        }
    }
}

#[derive(Debug)]
struct Rule {
    route: Route,
    fault: Fault,
    remaining: usize,
}

/// The pending faults, oldest rule first.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<Rule>,
}

impl Faults {
    pub(crate) fn add(&mut self, times: usize, fault: Fault, route: Route) {
        if times > 0 {
            self.rules.push(Rule {
                route,
                fault,
                remaining: times,
            });
        }
    }

    /// The fault for this request, if a rule matches; uses up one of its
    /// requests.
    pub(crate) fn take(&mut self, method: &Method, path: &str) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|rule| rule.route.matches(method, path))?;
        let rule = &mut self.rules[index];
        let fault = rule.fault.clone();
        rule.remaining -= 1;
        if rule.remaining == 0 {
            self.rules.remove(index);
        }
        Some(fault)
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_segment_by_segment() {
        let track = Route::matching(Method::POST, "/v1/users/*/actions/*");
        assert!(track.matches(&Method::POST, "/v1/users/a%2Fb/actions/signIn"));
        assert!(!track.matches(&Method::GET, "/v1/users/a/actions/signIn"));
        assert!(!track.matches(&Method::POST, "/v1/users/a/actions"));
        assert!(!track.matches(&Method::POST, "/v1/users/a/actions/signIn/key"));
        assert!(Route::All.matches(&Method::DELETE, "/anything"));
    }

    #[test]
    fn a_rule_is_used_up_after_its_count() {
        let mut faults = Faults::default();
        faults.add(2, Fault::DropConnection, Route::All);
        faults.add(0, Fault::Status(StatusCode::BAD_GATEWAY), Route::All);
        assert_eq!(
            faults.take(&Method::GET, "/v1/users/a"),
            Some(Fault::DropConnection)
        );
        assert_eq!(
            faults.take(&Method::GET, "/v1/users/a"),
            Some(Fault::DropConnection)
        );
        assert_eq!(faults.take(&Method::GET, "/v1/users/a"), None);
    }
}
