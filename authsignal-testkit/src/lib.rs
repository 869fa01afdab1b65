//! A stateful fake of the Authsignal Server API for tests, in three forms:
//!
//! - **In-process**: [`FakeAuthsignal::new`] and [`FakeAuthsignal::transport`],
//!   a [`BlockingTransport`](authsignal_core::BlockingTransport) and
//!   [`AsyncTransport`](authsignal_core::AsyncTransport) with no socket, to
//!   plug into `Client::with_transport`/`AsyncClient::with_transport`.
//! - **Loopback server**: [`FakeAuthsignal::start`] serves the same fake on
//!   `127.0.0.1` at a random port (hyper on a background tokio runtime),
//!   stopped when the handle is dropped, for any HTTP client.
//! - **Standalone binary**: `authsignal-fake` (`cargo install
//!   authsignal-testkit`, or `cargo run -p authsignal-testkit` in this
//!   workspace) for tests in any language or a docker-compose stack; see
//!   [Binary](#binary).
//!
//! All three run [`FakeAuthsignal::handle`], one function from an
//! `http::Request<Vec<u8>>` to an `http::Response<Vec<u8>>` over typed
//! state. It speaks the real wire protocol under `/v1` (HTTP Basic auth with
//! the API secret key, camelCase JSON, the `error`/`errorCode`/
//! `errorDescription` error shape) and decodes request bodies on its own
//! rather than with `authsignal-core`'s types, so it checks the SDK's wire
//! format instead of mirroring it.
//!
//! **This is a test double, not a security boundary.** Tokens are opaque
//! random strings rather than signed JWTs, nothing is persisted, the random
//! values are not cryptographically strong, and the inspection helpers hand
//! out codes and tokens to anyone holding the handle.
//!
//! # Example
//!
//! ```
//! use authsignal_core::{Client, GetUserRequest, TrackRequest, UserActionState};
//! use authsignal_testkit::FakeAuthsignal;
//!
//! let fake = FakeAuthsignal::new();
//! fake.set_action_outcome("withdraw", UserActionState::Block);
//! let client = Client::with_transport(fake.config(), fake.transport());
//!
//! let user = client.get_user(GetUserRequest::new("alice"))?;
//! assert!(!user.is_enrolled);
//! let tracked = client.track(TrackRequest::new("alice", "withdraw"))?;
//! assert_eq!(tracked.state, UserActionState::Block);
//!
//! let requests = fake.requests();
//! assert_eq!(requests.len(), 2);
//! assert_eq!(requests[1].method, http::Method::POST);
//! assert_eq!(requests[1].path, "/v1/users/alice/actions/withdraw");
//! # Ok::<(), authsignal_core::Error>(())
//! ```
//!
//! # The clock
//!
//! The fake keeps its own clock: the wall clock plus every
//! [`FakeAuthsignal::advance`] so far. OTP challenges (5 minutes), track and
//! claim tokens (10 minutes) and session access tokens (1 hour) expire on
//! it, so a test moves time instead of sleeping.
//!
//! # Faults
//!
//! [`FakeAuthsignal::fail_next`] makes the next `n` requests matching a
//! [`Route`] get a [`Fault`]: 429 with `Retry-After`, any status, a delay or
//! a dropped connection. Faulted requests (but for delays) are not
//! processed, and all are recorded. [`FakeAuthsignal::handle`] itself never
//! applies faults: the transports and the server do.
//!
//! # Seed files
//!
//! [`FakeAuthsignal::load_seed`] (and the binary's `--seed FILE`) takes JSON
//! like this; every key is optional, unknown keys are refused:
//!
//! ```json
//! {
//!   "users": [{ "userId": "alice", "email": "alice@example.com",
//!               "phoneNumber": "+64270000001", "username": "alice",
//!               "displayName": "Alice" }],
//!   "authenticators": [{ "userId": "alice", "verificationMethod": "SMS",
//!                        "phoneNumber": "+64270000001" }],
//!   "actionOutcomes": { "withdraw": "BLOCK" }
//! }
//! ```
//!
//! An authenticator takes `phoneNumber` (SMS, WHATSAPP), `email`
//! (EMAIL_OTP, EMAIL_MAGIC_LINK) or `credentialId` (PASSKEY); outcomes are
//! action states such as `ALLOW`, `CHALLENGE_REQUIRED`, `BLOCK`,
//! `REVIEW_REQUIRED`.
//!
//! # Binary
//!
//! ```text
//! authsignal-fake [--host 127.0.0.1] [--port 0] [--secret KEY]
//!                 [--call-connect-secret KEY] [--seed FILE]
//! ```
//!
//! It prints `listening on http://HOST:PORT/v1` on stdout once it accepts
//! connections, then one line per request on stderr (`POST
//! /v1/users/alice/actions/signIn 200 1ms`: method, path, status,
//! milliseconds; never a query, header or body), and stops on SIGTERM or
//! Ctrl-C. Without `--secret` it makes one up and prints it; `--port 0`
//! (the default) picks a free port.
//!
//! # What it emulates
//!
//! Server API paths are relative to `/v1`. Every Server API request needs
//! `Authorization: Basic base64("<secret>:")`, otherwise 401 `unauthorized`.
//! Call Connect lives on the same server at `/call/…`, without `/v1`
//! ([`FakeAuthsignal::call_connect_url`]), and needs its own key,
//! [`FakeAuthsignal::call_connect_secret`]; each key works only for its
//! service. The Terminal API (`/v1/terminal/…`) needs no key but
//! `x-authsignal-terminal` with a terminal paired by
//! [`FakeAuthsignal::add_terminal`], otherwise 401 `unauthorized`.
//! Each path segment is split on `/` first and then percent-decoded, so the
//! user id `a/b` travels as `a%2Fb`; `+` in a path is a literal plus, in a
//! query a space. Malformed JSON, missing required fields, wrong field types
//! and action codes outside `^[a-zA-Z0-9_-]{1,64}$` get 400 `invalid_request`;
//! a path the fake does not know gets 404 `not_found`. Every success is 200.
//!
//! | Routes | Behaviour |
//! |---|---|
//! | `GET /authenticators` | the tenant's authenticator configurations (`authenticatorId`, `verificationMethod`, `isActive`, `isEditableByUser`, `isHiddenToUser`): SMS (with `smsChannel: WHATSAPP`), EMAIL_OTP, EMAIL_MAGIC_LINK, AUTHENTICATOR_APP and PASSKEY active and shown, SECURITY_KEY inactive and hidden |
//! | `GET /users/{userId}` | unknown or deleted users give `isEnrolled: false` |
//! | `PATCH` (or `POST`) `/users/{userId}` | merges the given attributes (`null` clears one, `custom` is replaced whole), answers with all attributes and `userId` |
//! | `DELETE /users/{userId}` | forgets the user, its authenticators, devices and actions, and revokes its sessions |
//! | `GET /users` | needs one of the filters `username`, `email` (case-insensitive), `phoneNumber`, `token`; pages by `limit` (default 100) and `lastEvaluatedUserId`, which is absent on the last page |
//! | `GET`/`POST /users/{userId}/authenticators`, `DELETE …/{id}` | enrol SMS, WHATSAPP, EMAIL_OTP, EMAIL_MAGIC_LINK, AUTHENTICATOR_APP, PASSKEY (with `credentialId` and `credentialPublicKey`); the deprecated `oobChannel` is accepted; enrolling the same phone or email twice returns the existing authenticator; an SMS authenticator shows the channel of its last verified challenge as `previousSmsChannel` |
//! | `POST /users/authenticators` | batch passkey enrolment with per-item `invalid_request` and `conflict` failures |
//! | `GET /users/{userId}/devices`, `PATCH …/{deviceId}`, `POST …/{deviceId}/invalidate` | devices come from `deviceId` in track attributes |
//! | `POST /users/{userId}/actions/{action}` | track; the state comes from [`FakeAuthsignal::set_action_outcome`], else `CHALLENGE_REQUIRED` for enrolled users and `ALLOW` for others; a repeated `idempotencyKey` replays the same action |
//! | `GET`/`PATCH /users/{userId}/actions/{action}/{key}`, `GET /users/{userId}/actions` | read, override (answering the whole action) and list actions (newest first, with the `ipAddress` and `userAgent` given to track, and `countryCode` `NZ` for any IP address: the fake does not geolocate) |
//! | `POST /challenge`, `POST /verify`, `POST /claim`, `GET`/`POST /challenges` | six-digit OTP challenges for SMS, EMAIL_OTP and WHATSAPP |
//! | `POST /validate` | validates a track or claim token |
//! | `POST /sessions`, `/sessions/validate`, `/sessions/refresh`, `/sessions/revoke`, `/sessions/user/revoke` | opaque access and refresh tokens |
//! | Terminal API: `POST /terminal/payment-session`, `GET /terminal/payment-session/{challengeId}` | a new session is `PENDING` until [`FakeAuthsignal::set_payment_session_status`]; only the terminal that started a session may read it (others get 404 `not_found`) |
//! | Call Connect: `POST /call/start`, `POST /call/finish` (no `/v1`) | start answers a `messageId` and the channel (the given one, else `SMS` with a `phoneNumber`, `EMAIL` with an `email`); finish records the `state` ([`FakeAuthsignal::call_outcome`]); finishing a call never started is 404 `not_found` |
//!
//! Webhook delivery is not emulated; [`sign`] is re-exported so tests can
//! produce signed webhook payloads.
//!
//! # Choices where the real API is not documented
//!
//! - **Validate**: a token validates (`isValid: true`) when its action is
//!   `ALLOW`, `CHALLENGE_SUCCEEDED` or `REVIEW_SUCCEEDED`, and only once: later
//!   calls return `isValid: false`, the action details and
//!   `error: "The token has already been used."`. A token whose action is
//!   still pending (or `BLOCK`, `CHALLENGE_FAILED`, …) returns `isValid:
//!   false` with the state and is not consumed. Unknown, expired
//!   (older than 10 minutes on the fake's clock) and
//!   mismatched (`userId`/`action` given but different) tokens get 200 with
//!   `{"isValid": false, "error": "…"}` rather than an HTTP error, the way the
//!   Node SDK's `error` field suggests.
//! - **Challenges** last 5 minutes. A wrong code returns `isVerified: false`
//!   with `CODE_INVALID_OR_EXPIRED`; after three wrong codes every further
//!   attempt (even with the right code) returns `MAX_ATTEMPTS_EXCEEDED` and
//!   the linked action becomes `CHALLENGE_FAILED`. A code works once. An
//!   unknown `challengeId` on `/verify` reads as an expired challenge.
//!   `POST /challenge` with the `idempotencyKey` of a tracked action links to
//!   it (a `BLOCK` action refuses); without one, a new action is created
//!   (right away when `userId` is given, otherwise at claim time). With the
//!   `challengeId` of an open challenge, alone or with a matching
//!   `verificationMethod` and `action`, it re-sends a fresh code to the same
//!   destination and extends the expiry.
//! - **Claim** needs a verified challenge (unless `skipVerificationCheck`),
//!   works once, records the verified email or phone number on the user and
//!   returns a token that validates like a track token.
//! - **Sessions** are created from a valid, unexpired token whose action
//!   succeeded (a token already validated is fine), once per token. Access
//!   tokens live one hour. Invalid, revoked or expired tokens on
//!   create/validate/refresh are 400 `invalid_request` (not 401, which this
//!   API reserves for a bad API key). Refresh rotates: the old refresh token
//!   and the old access token stop working. Revoking an unknown token
//!   succeeds, as token revocation usually does.
//! - **Deletes** and revokes answer `{"success": true}`; deleting an unknown
//!   authenticator or touching an unknown device is 404 `not_found`.
//! - `GET /users` needs a filter (`username`, `email`, `phoneNumber` or
//!   `token`), as the real API does: without one it is 400 `invalid_request`.
//! - **Delays and drops** on the in-process transport: see [`Fault`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clock;
mod fake;
mod faults;
mod random;
mod routes;
mod seed;
mod server;
mod state;
mod transport;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authsignal_core::{
    Builder, CallState, Config, FromConfig, PaymentSessionStatus, UserActionState,
    VerificationMethod,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method, StatusCode};

pub use authsignal_core::ApiSecretKey;
/// Signs a webhook payload the way Authsignal does (re-exported from
/// `authsignal-core`), for tests that feed signed webhooks to their handlers.
pub use authsignal_core::webhook::sign;
pub use faults::{Fault, Route};
pub use seed::SeedError;
pub use transport::InProcessTransport;

use crate::fake::Fake;
use crate::seed::Seed;
use crate::server::Background;

/// The base URL of a fake without a socket. The in-process transport routes
/// by path and never resolves it; `.invalid` never resolves (RFC 2606), so a
/// real transport pointed at it by mistake fails at once.
const IN_PROCESS_BASE: &str = "https://authsignal-fake.invalid";

/// One request the fake received, as it arrived, for assertions.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The raw (still percent-encoded) path, e.g. `"/v1/users/a%2Fb"`.
    pub path: String,
    /// The query, form-decoded, in order (empty without a query).
    pub query: Vec<(String, String)>,
    /// The headers as received.
    pub headers: HeaderMap,
    /// The body as JSON; `None` when it is empty or not JSON.
    pub body: Option<serde_json::Value>,
    /// The body as text (invalid UTF-8 replaced by U+FFFD).
    pub raw_body: String,
    /// The status the fake answered with; `None` for a dropped connection.
    pub status: Option<StatusCode>,
}

impl RecordedRequest {
    /// The value of the last header called `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(name)
            .iter()
            .next_back()
            .and_then(|value| value.to_str().ok())
    }

    /// The value of the last query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A fake Authsignal: in-process ([`FakeAuthsignal::new`]) or on a loopback
/// socket as well ([`FakeAuthsignal::start`], stopped when dropped).
///
/// It is `Send + Sync`: share it by reference (or in an `Arc`) between the
/// threads of a test. All state sits behind one mutex, so every request and
/// every helper call sees a consistent snapshot.
pub struct FakeAuthsignal {
    fake: Arc<Fake>,
    server: Option<Background>,
}

impl fmt::Debug for FakeAuthsignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeAuthsignal")
            .field("base_url", &self.base_url())
            .field("secret", &"<redacted>")
            .field("call_connect_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Default for FakeAuthsignal {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeAuthsignal {
    /// An in-process fake (no socket) with a fresh secret like
    /// `sk_test_fake_3f9c…`; reach it through [`FakeAuthsignal::transport`].
    pub fn new() -> Self {
        Self::with_secret(format!("sk_test_fake_{}", random::random_hex(16)))
    }

    /// An in-process fake that accepts only `secret` as the API secret key.
    pub fn with_secret(secret: impl Into<String>) -> Self {
        Self::with_secrets(
            secret,
            format!("sk_test_fake_cc_{}", random::random_hex(16)),
        )
    }

    /// An in-process fake with both keys chosen: `secret` for the Server
    /// and Terminal APIs, `call_connect_secret` for Call Connect.
    pub fn with_secrets(secret: impl Into<String>, call_connect_secret: impl Into<String>) -> Self {
        Self {
            fake: Arc::new(Fake::new(secret.into(), call_connect_secret.into())),
            server: None,
        }
    }

    /// Starts a fake on `127.0.0.1` at a random port, with a fresh secret.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or no thread spawned; see
    /// [`FakeAuthsignal::try_start_with_secret`] for the fallible form.
    pub fn start() -> Self {
        Self::start_with_secret(format!("sk_test_fake_{}", random::random_hex(16)))
    }

    /// Starts a fake on a loopback socket that accepts only `secret`.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or no thread spawned.
    pub fn start_with_secret(secret: impl Into<String>) -> Self {
        match Self::try_start_with_secret(secret) {
            Ok(fake) => fake,
            Err(err) => panic!("cannot start the fake Authsignal server: {err}"),
        }
    }

    /// Starts a fake on a loopback socket that accepts only `secret`,
    /// reporting bind and spawn failures instead of panicking.
    pub fn try_start_with_secret(secret: impl Into<String>) -> io::Result<Self> {
        let mut fake = Self::with_secret(secret);
        fake.server = Some(Background::start(Arc::clone(&fake.fake))?);
        Ok(fake)
    }

    /// Serves this fake on `listener` until `shutdown` completes, inside
    /// the caller's tokio runtime (the `authsignal-fake` binary runs this).
    /// With `log_requests`, writes one line per request to stderr: method,
    /// path, status and milliseconds, never a query, header or body.
    pub async fn serve(
        &self,
        listener: std::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
        log_requests: bool,
    ) -> io::Result<()> {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        server::serve(Arc::clone(&self.fake), listener, shutdown, log_requests).await;
        Ok(())
    }

    /// The fake's answer to one request, without any injected fault; the
    /// request and its status are recorded like any other.
    pub fn handle(&self, request: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        self.fake.handle(request)
    }

    /// A transport into this fake, with no socket; see
    /// [`InProcessTransport`].
    pub fn transport(&self) -> InProcessTransport {
        InProcessTransport::new(Arc::clone(&self.fake))
    }

    /// A client configuration ready for this fake: its base URL, Call
    /// Connect URL and both keys, with no retries. Use
    /// [`FakeAuthsignal::config_builder`] to change more.
    pub fn config(&self) -> Config {
        self.config_builder::<Config>()
            .build()
            .unwrap_or_else(|err| unreachable!("the fake's configuration is valid: {err}"))
    }

    /// A builder for any client type (`Config`, a transport crate's
    /// `Client`…) preset for this fake as [`FakeAuthsignal::config`] is.
    pub fn config_builder<T: FromConfig>(&self) -> Builder<T> {
        Builder::new(self.fake.secret.clone())
            .with_base_url(self.base_url())
            .with_call_connect_url(self.call_connect_url())
            .with_call_connect_secret(self.fake.call_connect_secret.clone())
            .with_retry_policy(authsignal_core::RetryPolicy::no_retries())
    }

    /// The Server API base URL: `http://127.0.0.1:PORT/v1` for a started
    /// fake, `https://authsignal-fake.invalid/v1` for an in-process one.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.call_connect_url())
    }

    /// The socket address a started fake listens on; `None` in-process.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|server| server.addr)
    }

    /// The Call Connect base URL: the base URL without `/v1` (Call Connect
    /// paths have none).
    pub fn call_connect_url(&self) -> String {
        match self.addr() {
            Some(addr) => format!("http://{addr}"),
            None => IN_PROCESS_BASE.to_owned(),
        }
    }

    /// The API secret key the fake accepts.
    pub fn secret(&self) -> &str {
        &self.fake.secret
    }

    /// The API secret key, wrapped for `authsignal-core`'s configuration.
    pub fn api_secret_key(&self) -> ApiSecretKey {
        ApiSecretKey::new(self.fake.secret.clone())
    }

    /// Call Connect's own API secret key (`sk_test_fake_cc_…`), the only key
    /// `/call/start` and `/call/finish` accept; the Server API key gets 401
    /// there, and this key gets 401 everywhere else.
    pub fn call_connect_secret(&self) -> &str {
        &self.fake.call_connect_secret
    }

    /// The `Authorization` header value the fake expects:
    /// `Basic base64("<secret>:")`.
    pub fn authorization_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:", self.fake.secret))
        )
    }

    /// The `Authorization` header value Call Connect routes expect:
    /// `Basic base64("<call connect secret>:")`.
    pub fn call_connect_authorization_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:", self.fake.call_connect_secret))
        )
    }

    /// Moves the fake's clock forward: challenges, tokens and sessions
    /// whose lifetime ends within `by` expire.
    pub fn advance(&self, by: Duration) {
        self.fake.clock.advance(by);
    }

    /// Makes the next `times` requests matching `route` get `fault` instead
    /// of their normal answer (a [`Fault::Delay`] delays it). Rules apply in
    /// the order they were added; each request uses up at most one.
    pub fn fail_next(&self, times: usize, fault: Fault, route: Route) {
        self.fake.faults().add(times, fault, route);
    }

    /// Forgets every pending fault.
    pub fn clear_faults(&self) {
        self.fake.faults().clear();
    }

    /// Loads a seed file's users, authenticators and action outcomes (the
    /// format is in the [crate docs](crate#seed-files)); on error nothing is
    /// loaded.
    pub fn load_seed(&self, json: &str) -> Result<(), SeedError> {
        Seed::parse(json)?.load_into(&self.fake);
        Ok(())
    }

    /// Pairs the terminal `terminal_id`: from now on the Terminal API
    /// (`/v1/terminal/…`) accepts it in `x-authsignal-terminal`. No terminal
    /// is paired at first, so every Terminal API request gets 401.
    pub fn add_terminal(&self, terminal_id: &str) {
        self.fake.lock().terminals.insert(terminal_id.to_owned());
    }

    /// Plays the customer at the terminal: sets the status of the payment
    /// session `challenge_id`. Returns `false`, changing nothing, when there
    /// is no such session or the status is unknown.
    pub fn set_payment_session_status(
        &self,
        challenge_id: &str,
        status: PaymentSessionStatus,
    ) -> bool {
        if status.is_unknown() {
            return false;
        }
        match self.fake.lock().payment_sessions.get_mut(challenge_id) {
            Some(session) => {
                session.status = status;
                true
            }
            None => false,
        }
    }

    /// The `state` the call `reference_id` was finished with; `None` while
    /// it is only started, or was never started.
    pub fn call_outcome(&self, reference_id: &str) -> Option<CallState> {
        self.fake
            .lock()
            .calls
            .get(reference_id)
            .and_then(|call| call.outcome.clone())
    }

    /// Makes every later track of `action_code` end in `outcome`, whoever
    /// the user is, as a rule would (see the crate docs on `ruleIds`).
    pub fn set_action_outcome(&self, action_code: &str, outcome: UserActionState) {
        self.fake
            .lock()
            .outcomes
            .insert(action_code.to_owned(), outcome);
    }

    /// Restores the default outcome for `action_code`:
    /// `CHALLENGE_REQUIRED` when the user has an authenticator, else `ALLOW`.
    pub fn clear_action_outcome(&self, action_code: &str) {
        self.fake.lock().outcomes.remove(action_code);
    }

    /// The OTP code of the most recently started (or re-sent) challenge.
    pub fn last_code(&self) -> Option<String> {
        let state = self.fake.lock();
        let id = state.last_challenge_id.as_ref()?;
        state.challenges.get(id).map(|c| c.code.clone())
    }

    /// The id of the most recently started (or re-sent) challenge.
    pub fn last_challenge_id(&self) -> Option<String> {
        self.fake.lock().last_challenge_id.clone()
    }

    /// The current OTP code of the challenge `challenge_id`.
    pub fn last_code_for(&self, challenge_id: &str) -> Option<String> {
        self.fake
            .lock()
            .challenges
            .get(challenge_id)
            .map(|c| c.code.clone())
    }

    /// Every request received so far, oldest first, including rejected and
    /// faulted ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.fake.lock().requests.clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        self.fake.lock().requests.len()
    }

    /// Forgets the recorded requests (the fake's other state stays).
    pub fn clear_requests(&self) {
        self.fake.lock().requests.clear();
    }

    /// Creates the user `user_id` with no attributes, unless it exists.
    pub fn add_user(&self, user_id: &str) {
        self.fake.lock().user_mut(user_id);
    }

    /// Enrols a verified authenticator directly and returns its
    /// `userAuthenticatorId`; the user is created if needed.
    ///
    /// `contact` is the phone number for `SMS`/`WHATSAPP`, the email address
    /// for `EMAIL_OTP`/`EMAIL_MAGIC_LINK` and the credential id for
    /// `PASSKEY`; it is ignored for other methods. As over HTTP, enrolling
    /// the same method and contact twice returns the existing authenticator.
    pub fn add_authenticator(
        &self,
        user_id: &str,
        method: VerificationMethod,
        contact: Option<&str>,
    ) -> String {
        let (phone, email, credential) = match method {
            VerificationMethod::Sms | VerificationMethod::Whatsapp => (contact, None, None),
            VerificationMethod::EmailOtp | VerificationMethod::EmailMagicLink => {
                (None, contact, None)
            }
            VerificationMethod::Passkey | VerificationMethod::SecurityKey => {
                (None, None, contact.map(str::to_owned))
            }
            _ => (None, None, None),
        };
        let mut state = self.fake.lock();
        routes::add_authenticator(
            &mut state,
            user_id,
            method.as_str(),
            phone,
            email,
            credential,
            None,
            false,
        )
        .id
    }

    /// The current state of a tracked action, if it exists and belongs to
    /// `user_id` and `action_code`.
    pub fn action_state(
        &self,
        user_id: &str,
        action_code: &str,
        idempotency_key: &str,
    ) -> Option<UserActionState> {
        self.fake
            .lock()
            .actions
            .get(idempotency_key)
            .filter(|a| a.user_id == user_id && a.action_code == action_code)
            .map(|a| a.state.clone())
    }
}
