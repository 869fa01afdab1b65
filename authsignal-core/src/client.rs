//! The clients: a blocking one over a [`BlockingTransport`] and an async one
//! over an [`AsyncTransport`]. Both run the same retry loop; their endpoint
//! methods are declared beside each endpoint's types, with [`endpoints!`].

use std::time::{Duration, Instant};

use http::{Response, StatusCode};

use crate::{
    AsyncTimer, AsyncTransport, AttemptOutcome, BlockingTimer, BlockingTransport, Builder, Config,
    Endpoint, Error, FromConfig, Idempotency, RetryBudget, RetryDecision, RetryPolicy, StdTimer,
    TransportError, TransportFromConfig, trace,
};

/// A blocking Authsignal client over any [`BlockingTransport`].
///
/// With the ureq transport this is `authsignal_ureq::Client`. It waits
/// between retries with its [`BlockingTimer`], [`StdTimer`] unless
/// [`Client::with_timer`] sets another. Cloning is cheap when the
/// transport's is (it shares the connection pool).
#[derive(Debug, Clone)]
pub struct Client<T, Tm = StdTimer> {
    config: Config,
    transport: T,
    timer: Tm,
}

/// An async Authsignal client over any [`AsyncTransport`], waiting between
/// retries with an [`AsyncTimer`] of the caller's runtime.
///
/// With the hyper transport this is `authsignal_hyper::Client`. Its futures
/// are `Send` when the transport's and the timer's are.
#[derive(Debug, Clone)]
pub struct AsyncClient<T, Tm> {
    config: Config,
    transport: T,
    timer: Tm,
}

impl<T> Client<T> {
    /// A client that sends through `transport` and waits with [`StdTimer`].
    pub fn with_transport(config: Config, transport: T) -> Self {
        Self {
            config,
            transport,
            timer: StdTimer,
        }
    }
}

impl<T, Tm> AsyncClient<T, Tm> {
    /// A client that sends through `transport` and waits with `timer` (an
    /// async client has no default: the timer belongs to the runtime).
    pub fn with_transport(config: Config, transport: T, timer: Tm) -> Self {
        Self {
            config,
            transport,
            timer,
        }
    }
}

macro_rules! accessors {
    ($client:ident) => {
        impl<T, Tm> $client<T, Tm> {
            /// The same client waiting with `timer` instead (for example
            /// [`NoWaitTimer`](crate::NoWaitTimer) in tests).
            pub fn with_timer<U>(self, timer: U) -> $client<T, U> {
                $client {
                    config: self.config,
                    transport: self.transport,
                    timer,
                }
            }

            /// The configuration.
            pub fn config(&self) -> &Config {
                &self.config
            }

            /// The transport.
            pub fn transport(&self) -> &T {
                &self.transport
            }

            /// The timer.
            pub fn timer(&self) -> &Tm {
                &self.timer
            }
        }
    };
}
accessors!(Client);
accessors!(AsyncClient);

impl<T: TransportFromConfig> Client<T> {
    /// Starts a client with the transport's default set-up; configure it,
    /// then [`build`](Builder::build) checks every setting once.
    pub fn builder(secret: impl Into<String>) -> Builder<Self> {
        Builder::new(secret)
    }
}

impl<T: TransportFromConfig, Tm: AsyncTimer + Default> AsyncClient<T, Tm> {
    /// Starts a client with the transport's default set-up and the default
    /// timer; configure it, then [`build`](Builder::build) checks every
    /// setting once.
    pub fn builder(secret: impl Into<String>) -> Builder<Self> {
        Builder::new(secret)
    }
}

impl<T: TransportFromConfig, Tm: BlockingTimer + Default> FromConfig for Client<T, Tm> {
    type Options = T::Options;

    fn from_config(config: Config, options: T::Options) -> Result<Self, Error> {
        let transport = T::from_config(&config, options)?;
        Ok(Self {
            config,
            transport,
            timer: Tm::default(),
        })
    }
}

impl<T: TransportFromConfig, Tm: AsyncTimer + Default> FromConfig for AsyncClient<T, Tm> {
    type Options = T::Options;

    fn from_config(config: Config, options: T::Options) -> Result<Self, Error> {
        let transport = T::from_config(&config, options)?;
        Ok(Self::with_transport(config, transport, Tm::default()))
    }
}

impl<T: BlockingTransport, Tm: BlockingTimer> Client<T, Tm> {
    /// Runs any endpoint with the client's retry policy.
    pub fn send<E: Endpoint>(&self, endpoint: &E) -> Result<E::Output, Error> {
        self.send_with_policy(endpoint, self.config.retry_policy())
    }

    /// Runs any endpoint with a retry policy for this call only.
    pub fn send_with_policy<E: Endpoint>(
        &self,
        endpoint: &E,
        policy: &RetryPolicy,
    ) -> Result<E::Output, Error> {
        let _span = trace::call_span(E::NAME, &E::METHOD).entered();
        let mut attempts = Attempts::new(policy, self.config.retry_budget(), self.timer.now());
        loop {
            let request = endpoint.build_request(&self.config)?;
            let sent_at = self.timer.now();
            let outcome = self.transport.send(request);
            let now = self.timer.now();
            attempts.record(&outcome, sent_at, now);
            match attempts.retry_delay(E::IDEMPOTENCY, &outcome, self.timer.jitter(), now) {
                Some(delay) => self.timer.sleep(delay),
                None => return attempts.finish(endpoint, &self.config, outcome),
            }
        }
    }
}

impl<T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> AsyncClient<T, Tm> {
    /// Runs any endpoint with the client's retry policy.
    pub async fn send<E: Endpoint + Sync>(&self, endpoint: &E) -> Result<E::Output, Error> {
        self.send_with_policy(endpoint, self.config.retry_policy())
            .await
    }

    /// Runs any endpoint with a retry policy for this call only.
    pub async fn send_with_policy<E: Endpoint + Sync>(
        &self,
        endpoint: &E,
        policy: &RetryPolicy,
    ) -> Result<E::Output, Error> {
        let calls = async {
            let mut attempts = Attempts::new(policy, self.config.retry_budget(), self.timer.now());
            loop {
                let request = endpoint.build_request(&self.config)?;
                let sent_at = self.timer.now();
                let outcome = self.transport.send(request).await;
                let now = self.timer.now();
                attempts.record(&outcome, sent_at, now);
                match attempts.retry_delay(E::IDEMPOTENCY, &outcome, self.timer.jitter(), now) {
                    Some(delay) => self.timer.sleep(delay).await,
                    None => return attempts.finish(endpoint, &self.config, outcome),
                }
            }
        };
        trace::instrument(calls, trace::call_span(E::NAME, &E::METHOD)).await
    }
}

/// The state of one call's retry loop, shared by both clients.
struct Attempts<'a> {
    policy: &'a RetryPolicy,
    budget: Option<&'a RetryBudget>,
    started: Instant,
    made: u32,
    /// Tokens this call took from the budget, returned if it succeeds.
    withdrawn: u32,
}

impl<'a> Attempts<'a> {
    fn new(policy: &'a RetryPolicy, budget: Option<&'a RetryBudget>, now: Instant) -> Self {
        Self {
            policy,
            budget,
            started: now,
            made: 1,
            withdrawn: 0,
        }
    }

    /// Reports the attempt that just ended to `tracing` (when enabled).
    fn record(
        &self,
        outcome: &Result<Response<Vec<u8>>, TransportError>,
        sent_at: Instant,
        now: Instant,
    ) {
        trace::attempt(self.made, outcome, now.saturating_duration_since(sent_at));
    }

    /// How long to wait before the next attempt, or `None` to stop.
    fn retry_delay(
        &mut self,
        idempotency: Idempotency,
        outcome: &Result<Response<Vec<u8>>, TransportError>,
        jitter: f64,
        now: Instant,
    ) -> Option<Duration> {
        let view = match outcome {
            Ok(response) => AttemptOutcome::Response {
                status: response.status(),
                headers: response.headers(),
            },
            Err(error) => AttemptOutcome::Transport(error.kind()),
        };
        let RetryDecision::RetryAfter(delay) =
            self.policy.decide(self.made, idempotency, view, jitter)
        else {
            return None;
        };
        let retry_starts = now
            .saturating_duration_since(self.started)
            .saturating_add(delay);
        if retry_starts > self.policy.deadline {
            return None;
        }
        if let Some(budget) = self.budget {
            let throttled = matches!(outcome, Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS);
            let cost = if throttled {
                RetryBudget::THROTTLE_COST
            } else {
                RetryBudget::RETRY_COST
            };
            if !budget.try_withdraw(cost) {
                return None;
            }
            self.withdrawn += cost;
        }
        trace::retry(self.made, delay);
        self.made += 1;
        Some(delay)
    }

    /// Turns the last outcome into the call's result.
    fn finish<E: Endpoint>(
        self,
        endpoint: &E,
        config: &Config,
        outcome: Result<Response<Vec<u8>>, TransportError>,
    ) -> Result<E::Output, Error> {
        let result = match outcome {
            Ok(response) => endpoint.parse_response(response),
            Err(source) => Err(Error::Transport {
                source: source.with_host(config.host(E::SERVICE)),
                attempts: 1,
            }),
        };
        match result {
            Ok(output) => {
                if let Some(budget) = self.budget {
                    budget.refund(self.withdrawn);
                }
                Ok(output)
            }
            Err(error) => Err(error.with_attempts(self.made)),
        }
    }
}

/// Declares a group's endpoints once, beside their types: one method per
/// endpoint on both clients, and the group's `visit` function that lets
/// tests enumerate every endpoint (see [`crate::endpoint::visit_endpoints`]).
///
/// Each entry: doc lines, `method(Request) -> Output` (an output is a type
/// name, `Vec<Name>` or `()`), the route as the API reference writes it, and
/// an example request.
macro_rules! endpoints {
    ($(
        $(#[$doc:meta])*
        $method:ident($request:ident) -> $output:tt $(<$item:ident>)?,
        route = $route:literal,
        example = $example:expr;
    )+) => {
        $(
            $crate::client::endpoints!(@methods
                [$(#[$doc])*] $method $request ($output $(<$item>)?) $route
                [$crate::client::endpoints!(@returns $output $(<$item>)?)]
            );
        )+

        /// Shows each endpoint of this group to `visitor`.
        pub(crate) fn visit(visitor: &mut impl $crate::endpoint::EndpointVisitor) {
            $(
                visitor.visit(
                    $crate::endpoint::EndpointInfo { method: stringify!($method), route: $route },
                    $example,
                );
            )+
        }
    };
    (@returns ()) => { "nothing: any 2xx answer is a success" };
    (@returns $name:ident) => { concat!("a [`", stringify!($name), "`]") };
    (@returns $outer:ident <$item:ident>) => {
        concat!("a list of [`", stringify!($item), "`]")
    };
    (@methods [$($doc:tt)*] $method:ident $request:ident ($($output:tt)*) $route:literal [$returns:expr]) => {
        impl<T: $crate::BlockingTransport, Tm: $crate::BlockingTimer> $crate::Client<T, Tm> {
            #[doc = concat!("`", $route, "`: sends a [`", stringify!($request), "`] and returns ", $returns, ".")]
            #[doc = ""]
            $($doc)*
            pub fn $method(&self, request: $request) -> Result<$($output)*, $crate::Error> {
                self.send(&request)
            }
        }

        impl<T: $crate::AsyncTransport + Sync, Tm: $crate::AsyncTimer + Sync> $crate::AsyncClient<T, Tm> {
            #[doc = concat!("`", $route, "`: sends a [`", stringify!($request), "`] and returns ", $returns, ".")]
            #[doc = ""]
            $($doc)*
            pub async fn $method(&self, request: $request) -> Result<$($output)*, $crate::Error> {
                self.send(&request).await
            }
        }
    };
}
pub(crate) use endpoints;
