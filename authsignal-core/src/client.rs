//! The clients: a blocking one over a [`BlockingTransport`] and an async one
//! over an [`AsyncTransport`]. Both run the same retry loop and expose the
//! same methods, generated from one list of endpoints.

use std::time::{Duration, Instant};

use http::{Response, StatusCode};

use crate::{
    AsyncTimer, AsyncTransport, AttemptOutcome, BlockingTimer, BlockingTransport, Config, Endpoint,
    Error, Idempotency, RetryBudget, RetryDecision, RetryPolicy, StdTimer, TransportError,
    TransportFromConfig, api::*, trace,
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
    /// A client with the transport's default set-up for `config`.
    pub fn new(config: Config) -> Result<Self, Error> {
        let transport = T::from_config(&config)?;
        Ok(Self::with_transport(config, transport))
    }

    /// A client for the US region with default settings.
    pub fn from_secret(secret: impl Into<String>) -> Result<Self, Error> {
        Self::new(Config::new(secret)?)
    }
}

impl<T: TransportFromConfig, Tm: Default> AsyncClient<T, Tm> {
    /// A client with the transport's default set-up for `config` and the
    /// default timer.
    pub fn new(config: Config) -> Result<Self, Error> {
        let transport = T::from_config(&config)?;
        Ok(Self::with_transport(config, transport, Tm::default()))
    }

    /// A client for the US region with default settings.
    pub fn from_secret(secret: impl Into<String>) -> Result<Self, Error> {
        Self::new(Config::new(secret)?)
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

/// Generates one method per endpoint on both clients, from one list.
macro_rules! endpoint_methods {
    ($( $(#[$doc:meta])* $method:ident($request:ty) -> $output:ty; )+) => {
        impl<T: BlockingTransport, Tm: BlockingTimer> Client<T, Tm> {
            $(
                $(#[$doc])*
                pub fn $method(&self, request: $request) -> Result<$output, Error> {
                    self.send(&request)
                }
            )+
        }

        impl<T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> AsyncClient<T, Tm> {
            $(
                $(#[$doc])*
                pub async fn $method(&self, request: $request) -> Result<$output, Error> {
                    self.send(&request).await
                }
            )+
        }
    };
}

endpoint_methods! {
    /// `POST /users/{userId}/actions/{action}`: records an action and returns
    /// whether to allow, challenge or block it.
    track(TrackRequest) -> TrackResponse;
    /// `GET /users/{userId}/actions/{action}/{idempotencyKey}`: one tracked action.
    get_action(GetActionRequest) -> GetActionResponse;
    /// `PATCH /users/{userId}/actions/{action}/{idempotencyKey}`: sets an action's state.
    update_action(UpdateActionRequest) -> UpdateActionResponse;
    /// `POST /validate`: validates the token returned after a challenge.
    validate_challenge(ValidateChallengeRequest) -> ValidateChallengeResponse;
    /// `GET /users/{userId}`: a user's attributes and enrolment.
    get_user(GetUserRequest) -> GetUserResponse;
    /// `PATCH /users/{userId}`: updates a user's attributes (omitted fields stay unchanged).
    update_user(UpdateUserRequest) -> UpdateUserResponse;
    /// `DELETE /users/{userId}`: deletes a user.
    delete_user(DeleteUserRequest) -> ();
    /// `GET /users/{userId}/authenticators`: a user's authenticators.
    get_authenticators(GetAuthenticatorsRequest) -> Vec<UserAuthenticator>;
    /// `POST /users/{userId}/authenticators`: enrolls an authenticator verified elsewhere.
    enroll_verified_authenticator(EnrollVerifiedAuthenticatorRequest) -> EnrollVerifiedAuthenticatorResponse;
    /// `DELETE /users/{userId}/authenticators/{userAuthenticatorId}`: removes an authenticator.
    delete_authenticator(DeleteAuthenticatorRequest) -> ();
    /// `GET /users`: one page of users matching a username, email or phone
    /// number (see `query_users_pages` on the blocking client to walk every page).
    query_users(QueryUsersRequest) -> QueryUsersResponse;
    /// `GET /users/{userId}/actions`: a user's recent actions.
    query_user_actions(QueryUserActionsRequest) -> Vec<UserActionSummary>;
    /// `POST /users/authenticators`: enrolls up to 1000 verified passkeys at once.
    batch_enroll_verified_authenticators(BatchEnrollVerifiedAuthenticatorsRequest) -> BatchEnrollVerifiedAuthenticatorsResponse;
    /// `POST /challenge`: sends an SMS, WhatsApp or email OTP.
    challenge(ChallengeRequest) -> ChallengeResponse;
    /// `POST /verify`: checks the code the user entered.
    verify(VerifyRequest) -> VerifyResponse;
    /// `POST /claim`: assigns a verified challenge to a user and returns a token.
    claim_challenge(ClaimChallengeRequest) -> ClaimChallengeResponse;
    /// `GET /challenges`: looks up a challenge.
    get_challenge(GetChallengeRequest) -> GetChallengeResponse;
    /// `POST /sessions`: exchanges a challenge token for access and refresh tokens.
    create_session(CreateSessionRequest) -> CreateSessionResponse;
    /// `POST /sessions/validate`: checks an access token and returns its user.
    validate_session(ValidateSessionRequest) -> ValidateSessionResponse;
    /// `POST /sessions/refresh`: exchanges a refresh token for new tokens.
    refresh_session(RefreshSessionRequest) -> RefreshSessionResponse;
    /// `POST /sessions/revoke`: revokes one access token.
    revoke_session(RevokeSessionRequest) -> ();
    /// `POST /sessions/user/revoke`: revokes every session of a user.
    revoke_user_sessions(RevokeUserSessionsRequest) -> ();
    /// `GET /users/{userId}/devices`: a user's devices.
    get_devices(GetDevicesRequest) -> Vec<UserDevice>;
    /// `PATCH /users/{userId}/devices/{deviceId}`: sets until when a device is remembered, or forgets it.
    update_device(UpdateDeviceRequest) -> UserDevice;
    /// `POST /users/{userId}/devices/{deviceId}/invalidate`: stops trusting a device.
    invalidate_device(InvalidateDeviceRequest) -> UserDevice;
    /// `POST /call/start` on the Call Connect host: sends the caller a verification message.
    start_call(StartCallRequest) -> StartCallResponse;
    /// `POST /call/finish` on the Call Connect host: records the outcome of a call.
    finish_call(FinishCallRequest) -> FinishCallResponse;
}
