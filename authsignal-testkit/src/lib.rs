//! A stateful, in-memory fake of the Authsignal Server API for tests.
//!
//! [`FakeAuthsignal::start`] binds `127.0.0.1` on a random port and serves the
//! real wire protocol under `/v1` (HTTP Basic auth with the API secret key,
//! camelCase JSON bodies, the `error`/`errorCode`/`errorDescription` error
//! shape), so that a real client, whatever its transport, can run complete
//! flows against it: track an action, start an OTP challenge, read the code
//! with [`FakeAuthsignal::last_code`], verify it, validate the token, open a
//! session, refresh and revoke it.
//!
//! **This is a test double, not a security boundary.** Tokens are opaque
//! random strings rather than signed JWTs, nothing is persisted, the "random"
//! values come from std's hasher keys rather than a CSPRNG, and the
//! inspection helpers hand out codes and tokens to anyone holding the
//! handle. Never put it in front of anything real.
//!
//! # Example
//!
//! Point a client at [`FakeAuthsignal::base_url`] with
//! [`FakeAuthsignal::secret`] as its API secret key. Here a raw HTTP request
//! stands in for the client:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//!
//! use authsignal_testkit::{FakeAuthsignal, Outcome};
//!
//! let fake = FakeAuthsignal::start();
//! assert!(fake.base_url().starts_with("http://127.0.0.1:"));
//! assert!(fake.base_url().ends_with("/v1"));
//! assert!(fake.secret().starts_with("sk_test_fake_"));
//! fake.set_action_outcome("withdraw", Outcome::Block);
//!
//! let mut stream = TcpStream::connect(fake.addr()).unwrap();
//! write!(
//!     stream,
//!     "GET /v1/users/alice HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
//!     fake.addr(),
//!     fake.authorization_header(),
//! )
//! .unwrap();
//! let mut response = String::new();
//! stream.read_to_string(&mut response).unwrap();
//! assert!(response.starts_with("HTTP/1.1 200"));
//! assert!(response.contains(r#""isEnrolled":false"#));
//!
//! let requests = fake.requests();
//! assert_eq!(requests.len(), 1);
//! assert_eq!(requests[0].method, "GET");
//! assert_eq!(requests[0].path, "/v1/users/alice");
//! ```
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
//! | `GET /authenticators` | the tenant's authenticator configurations: SMS (with `smsChannel: WHATSAPP`), EMAIL_OTP, EMAIL_MAGIC_LINK, AUTHENTICATOR_APP and PASSKEY active, SECURITY_KEY inactive |
//! | `GET /users/{userId}` | unknown or deleted users give `isEnrolled: false` |
//! | `PATCH` (or `POST`) `/users/{userId}` | merges the given attributes (`null` clears one, `custom` is replaced whole), answers with all attributes and `userId` |
//! | `DELETE /users/{userId}` | forgets the user, its authenticators, devices and actions, and revokes its sessions |
//! | `GET /users` | filters `username`, `email` (case-insensitive), `phoneNumber`, `token`; pages by `limit` (default 100) and `lastEvaluatedUserId`, which is absent on the last page |
//! | `GET`/`POST /users/{userId}/authenticators`, `DELETE …/{id}` | enrol SMS, WHATSAPP, EMAIL_OTP, EMAIL_MAGIC_LINK, AUTHENTICATOR_APP, PASSKEY (with `credentialId` and `credentialPublicKey`); the deprecated `oobChannel` is accepted; enrolling the same phone or email twice returns the existing authenticator; an SMS authenticator shows the channel of its last verified challenge as `previousSmsChannel` |
//! | `POST /users/authenticators` | batch passkey enrolment with per-item `invalid_request` and `conflict` failures |
//! | `GET /users/{userId}/devices`, `PATCH …/{deviceId}`, `POST …/{deviceId}/invalidate` | devices come from `deviceId` in track attributes |
//! | `POST /users/{userId}/actions/{action}` | track; the state comes from [`FakeAuthsignal::set_action_outcome`], else `CHALLENGE_REQUIRED` for enrolled users and `ALLOW` for others; a repeated `idempotencyKey` replays the same action |
//! | `GET`/`PATCH /users/{userId}/actions/{action}/{key}`, `GET /users/{userId}/actions` | read, override (answering the whole action) and list actions (newest first, with the `ipAddress` and `userAgent` given to track; no `countryCode`, the fake does not geolocate) |
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
//!   ([`FakeAuthsignal::expire_tokens`], or older than 10 minutes) and
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
//! - `GET /users` does not insist on a filter (the real API reportedly
//!   wants one of `username`, `email`, `phoneNumber`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod routes;
mod server;
mod state;
mod util;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub use authsignal_core::ApiSecretKey;
/// Signs a webhook payload the way Authsignal does (re-exported from
/// `authsignal-core`), for tests that feed signed webhooks to their handlers.
pub use authsignal_core::webhook::sign;

use crate::server::{Shared, worker_loop};
use crate::state::State;

/// How many threads serve requests.
const WORKERS: usize = 8;

/// The decision a fake track returns for an action code; see
/// [`FakeAuthsignal::set_action_outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `ALLOW`: the action proceeds; its token validates straight away.
    Allow,
    /// `CHALLENGE_REQUIRED`: the user must pass a challenge first.
    ChallengeRequired,
    /// `BLOCK`: the action is refused; its token never validates.
    Block,
    /// `REVIEW_REQUIRED`: held for manual review (see the update-action route).
    ReviewRequired,
}

impl Outcome {
    /// The wire name of the resulting action state, e.g. `"CHALLENGE_REQUIRED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "ALLOW",
            Self::ChallengeRequired => "CHALLENGE_REQUIRED",
            Self::Block => "BLOCK",
            Self::ReviewRequired => "REVIEW_REQUIRED",
        }
    }
}

/// One request the fake received, as it arrived, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `"POST"`.
    pub method: String,
    /// The raw (still percent-encoded) path, e.g. `"/v1/users/a%2Fb"`.
    pub path: String,
    /// The raw query string without `?`, if there was one.
    pub query: Option<String>,
    /// The headers in the order received.
    pub headers: Vec<(String, String)>,
    /// The body (invalid UTF-8 replaced by U+FFFD).
    pub body: String,
    /// The status code the fake answered with.
    pub status: u16,
}

impl RecordedRequest {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// A running fake Authsignal server on `127.0.0.1`; it stops when dropped.
///
/// It is `Send + Sync`: share it by reference (or in an `Arc`) between the
/// threads of a test. All state sits behind one mutex, so every request and
/// every helper call sees a consistent snapshot.
pub struct FakeAuthsignal {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
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

impl FakeAuthsignal {
    /// Starts a fake with a fresh secret like `sk_test_fake_3f9c…`.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or no thread spawned; see
    /// [`FakeAuthsignal::try_start_with_secret`] for the fallible form.
    pub fn start() -> Self {
        Self::start_with_secret(format!("sk_test_fake_{}", util::random_hex(16)))
    }

    /// Starts a fake that accepts only `secret` as the API secret key.
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

    /// Starts a fake that accepts only `secret`, reporting bind and spawn
    /// failures instead of panicking.
    pub fn try_start_with_secret(secret: impl Into<String>) -> io::Result<Self> {
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(io::Error::other)?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("the server is not listening on an IP address"))?;
        let mut fake = Self {
            shared: Arc::new(Shared {
                secret: secret.into(),
                call_connect_secret: format!("sk_test_fake_cc_{}", util::random_hex(16)),
                state: Mutex::new(State::default()),
                shutdown: AtomicBool::new(false),
            }),
            server: Arc::new(server),
            addr,
            workers: Vec::with_capacity(WORKERS),
        };
        for index in 0..WORKERS {
            let server = Arc::clone(&fake.server);
            let shared = Arc::clone(&fake.shared);
            // On error, dropping `fake` stops the workers spawned so far.
            let worker = thread::Builder::new()
                .name(format!("authsignal-fake-{index}"))
                .spawn(move || worker_loop(&server, &shared))?;
            fake.workers.push(worker);
        }
        Ok(fake)
    }

    /// The base URL to configure a client with: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The socket address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API secret key the fake accepts.
    pub fn secret(&self) -> &str {
        &self.shared.secret
    }

    /// The Call Connect base URL to configure a client with:
    /// `http://127.0.0.1:PORT` (Call Connect paths have no `/v1`).
    pub fn call_connect_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Call Connect's own API secret key (`sk_test_fake_cc_…`), the only key
    /// `/call/start` and `/call/finish` accept; the Server API key gets 401
    /// there, and this key gets 401 everywhere else.
    pub fn call_connect_secret(&self) -> &str {
        &self.shared.call_connect_secret
    }

    /// The `Authorization` header value Call Connect routes expect:
    /// `Basic base64("<call connect secret>:")`.
    pub fn call_connect_authorization_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:", self.shared.call_connect_secret))
        )
    }

    /// Pairs the terminal `terminal_id`: from now on the Terminal API
    /// (`/v1/terminal/…`) accepts it in `x-authsignal-terminal`. No terminal
    /// is paired at first, so every Terminal API request gets 401.
    pub fn add_terminal(&self, terminal_id: &str) {
        self.shared.lock().terminals.insert(terminal_id.to_owned());
    }

    /// Plays the customer at the terminal: sets the status of the payment
    /// session `challenge_id` (`"COMPLETED"`, `"EXPIRED"`, `"FAILED"` or back
    /// to `"PENDING"`). Returns `false`, changing nothing, when there is no
    /// such session or the status is none of those.
    pub fn set_payment_session_status(&self, challenge_id: &str, status: &str) -> bool {
        if !state::PAYMENT_SESSION_STATUSES.contains(&status) {
            return false;
        }
        match self.shared.lock().payment_sessions.get_mut(challenge_id) {
            Some(session) => {
                session.status = status.to_owned();
                true
            }
            None => false,
        }
    }

    /// The `state` the call `reference_id` was finished with
    /// (`"CHALLENGE_SUCCEEDED"` or `"CHALLENGE_FAILED"`); `None` while it is
    /// only started, or was never started.
    pub fn call_outcome(&self, reference_id: &str) -> Option<String> {
        self.shared
            .lock()
            .calls
            .get(reference_id)
            .and_then(|call| call.outcome.clone())
    }

    /// The API secret key, wrapped for `authsignal-core`'s configuration.
    pub fn api_secret_key(&self) -> ApiSecretKey {
        ApiSecretKey::new(self.shared.secret.clone())
    }

    /// The `Authorization` header value the fake expects:
    /// `Basic base64("<secret>:")`.
    pub fn authorization_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:", self.shared.secret))
        )
    }

    /// Makes every later track of `action_code` end in `outcome`, whoever
    /// the user is.
    pub fn set_action_outcome(&self, action_code: &str, outcome: Outcome) {
        self.shared
            .lock()
            .outcomes
            .insert(action_code.to_owned(), outcome);
    }

    /// Restores the default outcome for `action_code`:
    /// `CHALLENGE_REQUIRED` when the user has an authenticator, else `ALLOW`.
    pub fn clear_action_outcome(&self, action_code: &str) {
        self.shared.lock().outcomes.remove(action_code);
    }

    /// The OTP code of the most recently started (or re-sent) challenge.
    pub fn last_code(&self) -> Option<String> {
        let state = self.shared.lock();
        let id = state.last_challenge_id.as_ref()?;
        state.challenges.get(id).map(|c| c.code.clone())
    }

    /// The id of the most recently started (or re-sent) challenge.
    pub fn last_challenge_id(&self) -> Option<String> {
        self.shared.lock().last_challenge_id.clone()
    }

    /// The current OTP code of the challenge `challenge_id`.
    pub fn last_code_for(&self, challenge_id: &str) -> Option<String> {
        self.shared
            .lock()
            .challenges
            .get(challenge_id)
            .map(|c| c.code.clone())
    }

    /// Every request received so far, oldest first, including rejected ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Forgets the recorded requests (the fake's other state stays).
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Creates the user `user_id` with no attributes, unless it exists.
    pub fn add_user(&self, user_id: &str) {
        self.shared.lock().user_mut(user_id);
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
        verification_method: &str,
        contact: Option<&str>,
    ) -> String {
        let (phone, email, credential) = match verification_method {
            "SMS" | "WHATSAPP" => (contact, None, None),
            "EMAIL_OTP" | "EMAIL_MAGIC_LINK" => (None, contact, None),
            "PASSKEY" | "SECURITY_KEY" => (None, None, contact.map(str::to_owned)),
            _ => (None, None, None),
        };
        let mut state = self.shared.lock();
        routes::add_authenticator(
            &mut state,
            user_id,
            verification_method,
            phone,
            email,
            credential,
            None,
            false,
        )
        .id
    }

    /// The current state (e.g. `"CHALLENGE_SUCCEEDED"`) of a tracked action,
    /// if it exists and belongs to `user_id` and `action_code`.
    pub fn action_state(
        &self,
        user_id: &str,
        action_code: &str,
        idempotency_key: &str,
    ) -> Option<String> {
        self.shared
            .lock()
            .actions
            .get(idempotency_key)
            .filter(|a| a.user_id == user_id && a.action_code == action_code)
            .map(|a| a.state.clone())
    }

    /// Expires every track and claim token issued so far: `/validate` then
    /// answers `isValid: false` and `/sessions` refuses them. Tokens issued
    /// later are unaffected.
    pub fn expire_tokens(&self) {
        for info in self.shared.lock().tokens.values_mut() {
            info.expired = true;
        }
    }

    /// Expires every open challenge: `/verify` then answers
    /// `CODE_INVALID_OR_EXPIRED`.
    pub fn expire_challenges(&self) {
        let now = util::now_millis() / 1000;
        for challenge in self.shared.lock().challenges.values_mut() {
            challenge.expires_at = challenge.expires_at.min(now - 1);
        }
    }

    /// Expires every session's access token; refresh tokens keep working.
    pub fn expire_sessions(&self) {
        let now = util::now_millis() / 1000;
        for session in self.shared.lock().sessions.values_mut() {
            session.expires_at = session.expires_at.min(now - 1);
        }
    }
}

impl Drop for FakeAuthsignal {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Each `unblock` releases one worker blocked in (or about to enter) `recv`.
        for _ in &self.workers {
            self.server.unblock();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        // The listening socket closes when the last `Arc<Server>` drops,
        // which is ours, right after this.
    }
}
