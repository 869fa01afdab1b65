//! One scenario table, run unchanged over both transports (blocking ureq and
//! async hyper) against a `mockito` server.
//!
//! Every endpoint of `authsignal-core` (as `visit_endpoints` lists them)
//! has at least one happy-path row. A row names the exact
//! request the SDK must send (method, path, query, body) and a realistic
//! response, and calls the endpoint with a closure that checks the typed
//! output. Every mock also checks the headers every request carries:
//! `authorization` (`Basic base64("<secret>:")` with the key of the row's
//! service, computed outside the SDK: the Server API key, or Call Connect's
//! own key; none at all on the Terminal API, whose rows check
//! `x-authsignal-terminal` instead), `user-agent`, `x-authsignal-version`,
//! `accept`, and `content-type` exactly when there is a body.
//!
//! Adding an endpoint is one row in [`happy_table`];
//! [`the_table_covers_every_endpoint_in_core`] fails until it is there.
//!
//! A second table covers error mapping and undecodable responses, with the
//! number of attempts each one must take under a retrying policy.

use std::collections::BTreeSet;
use std::time::Duration;

use authsignal_core::*;
use authsignal_tests::{AnyClient, Flavor};
use mockito::{Matcher, Mock, ServerGuard};
use serde_json::{Value, json};

const SECRET: &str = "sk_test_scenarios";
/// `Basic base64("sk_test_scenarios:")`, computed with coreutils `base64`.
const AUTHORIZATION: &str = "Basic c2tfdGVzdF9zY2VuYXJpb3M6";
/// Call Connect's own key…
const CALL_CONNECT_SECRET: &str = "sk_test_scenarios_call_connect";
/// …and `Basic base64("sk_test_scenarios_call_connect:")`, from coreutils `base64`.
const CALL_CONNECT_AUTHORIZATION: &str = "Basic c2tfdGVzdF9zY2VuYXJpb3NfY2FsbF9jb25uZWN0Og==";

/// A user id that needs percent-encoding in a path (`:`, `/`, non-ASCII)…
const USER: &str = "user:1/ü";
/// …and its encoded form.
const USER_PATH: &str = "user%3A1%2F%C3%BC";
/// An idempotency key with a space and a plus, and its encoded form.
const KEY: &str = "key 1+2";
const KEY_PATH: &str = "key%201%2B2";
/// A device id with a colon and non-ASCII, and its encoded form.
const DEVICE: &str = "dev:ü";
const DEVICE_PATH: &str = "dev%3A%C3%BC";

// ---------------------------------------------------------------------------
// The table's machinery

/// Which base URL a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    /// The Server API (`…/v1`).
    Api,
    /// The Call Connect host (no `/v1`).
    CallConnect,
    /// The Terminal API (`…/v1`), as this terminal.
    Terminal(&'static str),
}

/// Calls one endpoint, checks its typed output, and returns `Endpoint::NAME`
/// so the runner can check that the row calls the endpoint it is named after.
type Call = fn(&AnyClient) -> Result<&'static str, Error>;

/// One happy-path exchange.
struct Scenario {
    /// The client method, as named in `endpoint_methods!`.
    endpoint: &'static str,
    method: &'static str,
    host: Host,
    /// The path after the base URL, percent-encoded as it must be sent.
    path: String,
    /// The decoded query pairs; empty means no query string at all.
    query: Vec<(&'static str, String)>,
    /// The JSON body; `None` means no body and no `content-type`.
    body: Option<Value>,
    /// The JSON the mock answers with (status 200).
    response: String,
    call: Call,
}

impl Scenario {
    fn new(endpoint: &'static str, method: &'static str, path: impl Into<String>) -> Self {
        Self {
            endpoint,
            method,
            host: Host::Api,
            path: path.into(),
            query: Vec::new(),
            body: None,
            response: String::new(),
            call: |_| panic!("the row has no call"),
        }
    }

    fn get(endpoint: &'static str, path: impl Into<String>) -> Self {
        Self::new(endpoint, "GET", path)
    }

    fn post(endpoint: &'static str, path: impl Into<String>) -> Self {
        Self::new(endpoint, "POST", path)
    }

    fn patch(endpoint: &'static str, path: impl Into<String>) -> Self {
        Self::new(endpoint, "PATCH", path)
    }

    fn delete(endpoint: &'static str, path: impl Into<String>) -> Self {
        Self::new(endpoint, "DELETE", path)
    }

    fn on_call_connect(mut self) -> Self {
        self.host = Host::CallConnect;
        self
    }

    fn on_terminal(mut self, terminal_id: &'static str) -> Self {
        self.host = Host::Terminal(terminal_id);
        self
    }

    fn query(mut self, pairs: &[(&'static str, &str)]) -> Self {
        self.query = pairs.iter().map(|&(k, v)| (k, v.to_owned())).collect();
        self
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn respond(mut self, body: Value) -> Self {
        self.response = body.to_string();
        self
    }

    fn call(mut self, call: Call) -> Self {
        self.call = call;
        self
    }

    fn full_path(&self) -> String {
        match self.host {
            Host::Api | Host::Terminal(_) => format!("/v1{}", self.path),
            Host::CallConnect => self.path.clone(),
        }
    }

    /// The `authorization` header the row's service must get: none on the
    /// Terminal API, where the Server API key must not go.
    fn authorization(&self) -> Matcher {
        match self.host {
            Host::Api => AUTHORIZATION.into(),
            Host::CallConnect => CALL_CONNECT_AUTHORIZATION.into(),
            Host::Terminal(_) => Matcher::Missing,
        }
    }

    /// The `x-authsignal-terminal` header: the terminal id on the Terminal
    /// API, absent everywhere else.
    fn terminal(&self) -> Matcher {
        match self.host {
            Host::Terminal(id) => id.into(),
            Host::Api | Host::CallConnect => Matcher::Missing,
        }
    }

    /// A mock that answers only the exact request this row describes.
    fn mock(&self, server: &mut ServerGuard) -> Mock {
        let query = if self.query.is_empty() {
            Matcher::Missing
        } else {
            Matcher::AllOf(
                self.query
                    .iter()
                    .map(|(k, v)| Matcher::UrlEncoded((*k).to_owned(), v.clone()))
                    .collect(),
            )
        };
        // `UrlEncoded` checks presence only; also insist on nothing else.
        let pairs = self.query.len();
        let (content_type, body) = match &self.body {
            Some(body) => (
                Matcher::from("application/json"),
                Matcher::Json(body.clone()),
            ),
            None => (Matcher::Missing, Matcher::Missing),
        };
        server
            .mock(self.method, self.full_path().as_str())
            .match_query(query)
            .match_request(move |request| {
                let query = request.path_and_query().split_once('?').map(|(_, q)| q);
                query.map_or(0, |q| q.split('&').count()) == pairs
            })
            .match_header("authorization", self.authorization())
            .match_header("x-authsignal-terminal", self.terminal())
            .match_header("user-agent", Matcher::Regex("^authsignal-rust/".into()))
            .match_header("x-authsignal-version", Matcher::Regex(r"^\d+\.\d+".into()))
            .match_header("accept", "application/json")
            .match_header("content-type", content_type)
            .match_body(body)
            .with_status(200)
            .with_header("content-type", "application/json")
            .with_body(&self.response)
            .expect(1)
            .create()
    }
}

/// Sends `request` and hands its output to `check`.
fn check<E>(
    client: &AnyClient,
    request: E,
    check: impl FnOnce(E::Output),
) -> Result<&'static str, Error>
where
    E: Endpoint + Sync,
    E::Output: Send,
{
    check(client.send(&request)?);
    Ok(E::NAME)
}

fn config(server: &ServerGuard, policy: RetryPolicy) -> Builder<Config> {
    Config::builder(SECRET)
        .with_base_url(format!("{}/v1", server.url()))
        .with_call_connect_url(server.url())
        .with_call_connect_secret(CALL_CONNECT_SECRET)
        .with_retry_policy(policy)
}

// ---------------------------------------------------------------------------
// The happy-path table: at least one row per endpoint

fn happy_table() -> Vec<Scenario> {
    vec![
        // --- Actions -------------------------------------------------------
        Scenario::post("track", format!("/users/{USER_PATH}/actions/signIn"))
            .body(json!({
                "idempotencyKey": KEY,
                "redirectUrl": "https://app.example.com/back",
                "ipAddress": "203.0.113.7",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
                "deviceId": DEVICE,
                "email": "alice@example.com",
                "custom": {"plan": "pro", "amount": 12.5},
            }))
            .respond(json!({
                "state": "CHALLENGE_REQUIRED",
                "idempotencyKey": KEY,
                "url": "https://challenge.authsignal.com/?token=eyJhbGciOiJIUzI1NiJ9.track",
                "token": "eyJhbGciOiJIUzI1NiJ9.track",
                "isEnrolled": true,
                "enrolledVerificationMethods": ["SMS"],
                "allowedVerificationMethods": ["SMS", "PASSKEY"],
                "defaultVerificationMethod": "SMS",
                "ruleIds": ["rule-new-device"],
            }))
            .call(|c| {
                let request = TrackRequest::new(USER, "signIn")
                    .with_idempotency_key(KEY)
                    .with_redirect_url("https://app.example.com/back")
                    .with_ip_address("203.0.113.7")
                    .with_user_agent("Mozilla/5.0 (X11; Linux x86_64)")
                    .with_device_id(DEVICE)
                    .with_email("alice@example.com")
                    .with_custom(json!({"plan": "pro", "amount": 12.5}));
                check(c, request, |out| {
                    assert_eq!(out.state, UserActionState::ChallengeRequired);
                    assert_eq!(out.idempotency_key, KEY);
                    assert_eq!(out.token.expose_secret(), "eyJhbGciOiJIUzI1NiJ9.track");
                    assert!(
                        out.url
                            .expose_secret()
                            .ends_with("token=eyJhbGciOiJIUzI1NiJ9.track")
                    );
                    assert!(out.is_enrolled);
                    assert_eq!(out.enrolled_verification_methods, [VerificationMethod::Sms]);
                    assert_eq!(
                        out.allowed_verification_methods,
                        [VerificationMethod::Sms, VerificationMethod::Passkey]
                    );
                    assert_eq!(
                        out.default_verification_method,
                        Some(VerificationMethod::Sms)
                    );
                    assert_eq!(out.rule_ids, ["rule-new-device"]);
                })
            }),
        Scenario::get(
            "get_action",
            format!("/users/{USER_PATH}/actions/signIn/{KEY_PATH}"),
        )
        .respond(json!({
            "state": "CHALLENGE_SUCCEEDED",
            "stateUpdatedAt": "2024-05-01T10:00:05.000Z",
            "createdAt": "2024-05-01T10:00:00.000Z",
            "verificationMethod": "SMS",
            "rules": [{
                "ruleId": "rule-new-device",
                "name": "New device",
                "description": "First sign-in on this device",
            }],
            "output": {"risk": "low"},
            "idempotencyKey": KEY,
        }))
        .call(|c| {
            check(c, GetActionRequest::new(USER, "signIn", KEY), |out| {
                assert_eq!(out.state, UserActionState::ChallengeSucceeded);
                assert_eq!(out.created_at.as_deref(), Some("2024-05-01T10:00:00.000Z"));
                assert_eq!(
                    out.state_updated_at.as_deref(),
                    Some("2024-05-01T10:00:05.000Z")
                );
                assert_eq!(out.verification_method, Some(VerificationMethod::Sms));
                assert_eq!(out.rules.len(), 1);
                assert_eq!(out.rules[0].name.as_deref(), Some("New device"));
                assert_eq!(out.output, Some(json!({"risk": "low"})));
                assert_eq!(out.idempotency_key.as_deref(), Some(KEY));
                assert!(out.rule_ids.is_empty());
                assert_eq!(out.priority_rule_id, None);
            })
        }),
        // The newest docs add the matched rule ids and the deciding rule.
        Scenario::get(
            "get_action",
            format!("/users/{USER_PATH}/actions/signIn/{KEY_PATH}"),
        )
        .respond(json!({
            "state": "CHALLENGE_SUCCEEDED",
            "createdAt": "2026-11-30T21:04:11.512Z",
            "stateUpdatedAt": "2026-11-30T21:05:02.090Z",
            "verificationMethod": "PASSKEY",
            "output": {},
            "priorityRuleId": "rule_new_device",
            "ruleIds": ["rule_new_device", "rule_high_amount"],
            "rules": [
                {"ruleId": "rule_new_device", "name": "New device"},
                {"ruleId": "rule_high_amount", "name": "High amount"},
            ],
        }))
        .call(|c| {
            check(c, GetActionRequest::new(USER, "signIn", KEY), |out| {
                assert_eq!(out.state, UserActionState::ChallengeSucceeded);
                assert_eq!(out.priority_rule_id.as_deref(), Some("rule_new_device"));
                assert_eq!(out.rule_ids, ["rule_new_device", "rule_high_amount"]);
                assert_eq!(out.rules[1].rule_id.as_deref(), Some("rule_high_amount"));
                assert_eq!(out.verification_method, Some(VerificationMethod::Passkey));
            })
        }),
        Scenario::patch(
            "update_action",
            format!("/users/{USER_PATH}/actions/signIn/{KEY_PATH}"),
        )
        .body(json!({"state": "REVIEW_SUCCEEDED"}))
        .respond(json!({
            "userId": USER,
            "action": "signIn",
            "idempotencyKey": KEY,
            "state": "REVIEW_SUCCEEDED",
        }))
        .call(|c| {
            let request =
                UpdateActionRequest::new(USER, "signIn", KEY, UserActionState::ReviewSucceeded);
            check(c, request, |out| {
                assert_eq!(out.state, Some(UserActionState::ReviewSucceeded));
                assert_eq!(out.user_id.as_deref(), Some(USER));
                assert_eq!(out.action.as_deref(), Some("signIn"));
                assert_eq!(out.idempotency_key.as_deref(), Some(KEY));
                assert_eq!(out.created_at, None);
            })
        }),
        // The docs answer with the whole action.
        Scenario::patch(
            "update_action",
            format!("/users/{USER_PATH}/actions/signIn/{KEY_PATH}"),
        )
        .body(json!({"state": "CHALLENGE_FAILED"}))
        .respond(json!({
            "state": "CHALLENGE_FAILED",
            "createdAt": "2026-11-30T21:04:11.512Z",
            "stateUpdatedAt": "2026-11-30T21:06:00.000Z",
            "output": {},
            "verificationMethod": "PASSKEY",
            "ruleIds": ["rule_new_device"],
        }))
        .call(|c| {
            let request =
                UpdateActionRequest::new(USER, "signIn", KEY, UserActionState::ChallengeFailed);
            check(c, request, |out| {
                assert_eq!(out.state, Some(UserActionState::ChallengeFailed));
                assert_eq!(out.created_at.as_deref(), Some("2026-11-30T21:04:11.512Z"));
                assert_eq!(
                    out.state_updated_at.as_deref(),
                    Some("2026-11-30T21:06:00.000Z")
                );
                assert_eq!(out.output, Some(json!({})));
                assert_eq!(out.verification_method, Some(VerificationMethod::Passkey));
                assert_eq!(out.rule_ids, ["rule_new_device"]);
                assert_eq!(out.user_id, None);
            })
        }),
        Scenario::get("query_user_actions", format!("/users/{USER_PATH}/actions"))
            .query(&[
                ("fromDate", "2024-05-01T00:00:00Z"),
                ("codes", "signIn,withdraw"),
                ("state", "CHALLENGE_REQUIRED"),
            ])
            .respond(json!([
                {
                    "actionCode": "withdraw",
                    "idempotencyKey": "k-2",
                    "createdAt": "2024-05-02T09:00:00.000Z",
                    "updatedAt": "2024-05-02T09:00:00.000Z",
                    "state": "CHALLENGE_REQUIRED",
                    "stateUpdatedAt": "2024-05-02T09:00:00.000Z",
                    "verifiedByAuthenticatorId": "a1b2c3d4-0000-4e5f-8a9b-112233445566",
                    "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)",
                    "ipAddress": "203.0.113.7",
                    "countryCode": "NZ",
                },
                {
                    "actionCode": "signIn",
                    "idempotencyKey": "k-1",
                    "createdAt": "2024-05-01T10:00:00.000Z",
                    "state": "CHALLENGE_REQUIRED",
                    "verificationMethod": null,
                },
            ]))
            .call(|c| {
                let request = QueryUserActionsRequest::new(USER)
                    .with_from_date("2024-05-01T00:00:00Z")
                    .with_codes(["signIn", "withdraw"])
                    .with_state(UserActionState::ChallengeRequired);
                check(c, request, |out| {
                    let codes: Vec<_> = out.iter().map(|a| a.action_code.as_str()).collect();
                    assert_eq!(codes, ["withdraw", "signIn"]);
                    assert_eq!(out[0].idempotency_key, "k-2");
                    assert!(
                        out.iter()
                            .all(|a| a.state == UserActionState::ChallengeRequired)
                    );
                    assert_eq!(out[1].verification_method, None);
                    assert_eq!(
                        out[0].user_agent.as_deref(),
                        Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)")
                    );
                    assert_eq!(out[0].ip_address.as_deref(), Some("203.0.113.7"));
                    assert_eq!(out[0].country_code.as_deref(), Some("NZ"));
                    assert_eq!(
                        out[0].verified_by_authenticator_id.as_deref(),
                        Some("a1b2c3d4-0000-4e5f-8a9b-112233445566")
                    );
                    assert_eq!(out[1].country_code, None);
                })
            }),
        Scenario::post("validate_challenge", "/validate")
            .body(json!({
                "token": "eyJhbGciOiJIUzI1NiJ9.track",
                "userId": USER,
                "action": "signIn",
            }))
            .respond(json!({
                "isValid": true,
                "state": "CHALLENGE_SUCCEEDED",
                "stateUpdatedAt": "2024-05-01T10:00:05.000Z",
                "userId": USER,
                "action": "signIn",
                "idempotencyKey": KEY,
                "verificationMethod": "SMS",
            }))
            .call(|c| {
                let request = ValidateChallengeRequest::new("eyJhbGciOiJIUzI1NiJ9.track")
                    .with_user_id(USER)
                    .with_action("signIn");
                check(c, request, |out| {
                    assert!(out.is_valid);
                    assert_eq!(out.state, Some(UserActionState::ChallengeSucceeded));
                    assert_eq!(out.user_id.as_deref(), Some(USER));
                    assert_eq!(out.action.as_deref(), Some("signIn"));
                    assert_eq!(out.idempotency_key.as_deref(), Some(KEY));
                    assert_eq!(out.verification_method, Some(VerificationMethod::Sms));
                    assert_eq!(out.error, None);
                })
            }),
        // --- Users ---------------------------------------------------------
        Scenario::get("get_user", format!("/users/{USER_PATH}"))
            .respond(json!({
                "userId": USER,
                "isEnrolled": true,
                "email": "alice@example.com",
                "emailVerified": true,
                "phoneNumber": "+6427000000",
                "phoneNumberVerified": false,
                "username": "alice",
                "displayName": "Alice",
                "custom": {"plan": "pro"},
                "enrolledVerificationMethods": ["SMS", "PASSKEY"],
                "allowedVerificationMethods": ["SMS", "PASSKEY", "EMAIL_OTP"],
                "defaultVerificationMethod": "PASSKEY",
            }))
            .call(|c| {
                check(c, GetUserRequest::new(USER), |out| {
                    assert_eq!(out.user_id.as_deref(), Some(USER));
                    assert!(out.is_enrolled);
                    assert_eq!(out.email.as_deref(), Some("alice@example.com"));
                    assert_eq!(out.email_verified, Some(true));
                    assert_eq!(out.phone_number.as_deref(), Some("+6427000000"));
                    assert_eq!(out.phone_number_verified, Some(false));
                    assert_eq!(out.username.as_deref(), Some("alice"));
                    assert_eq!(out.display_name.as_deref(), Some("Alice"));
                    assert_eq!(out.custom, Some(json!({"plan": "pro"})));
                    assert_eq!(
                        out.enrolled_verification_methods,
                        [VerificationMethod::Sms, VerificationMethod::Passkey]
                    );
                    assert_eq!(out.allowed_verification_methods.len(), 3);
                    assert_eq!(
                        out.default_verification_method,
                        Some(VerificationMethod::Passkey)
                    );
                    assert_eq!(out.locale, None);
                })
            }),
        // The docs' shape: `locale`, no verified flags.
        Scenario::get("get_user", format!("/users/{USER_PATH}"))
            .respond(json!({
                "isEnrolled": true,
                "email": "ana@example.org",
                "phoneNumber": "+6421555012",
                "username": "ana@example.org",
                "displayName": "Ana Ruiz",
                "allowedVerificationMethods": ["SMS", "PASSKEY"],
                "enrolledVerificationMethods": ["SMS"],
                "defaultVerificationMethod": "SMS",
                "custom": {"tier": "gold"},
                "locale": "es",
            }))
            .call(|c| {
                check(c, GetUserRequest::new(USER), |out| {
                    assert_eq!(out.locale.as_deref(), Some("es"));
                    assert_eq!(out.email_verified, None);
                    assert_eq!(out.phone_number_verified, None);
                    assert_eq!(out.display_name.as_deref(), Some("Ana Ruiz"));
                    assert_eq!(out.custom, Some(json!({"tier": "gold"})));
                })
            }),
        Scenario::patch("update_user", format!("/users/{USER_PATH}"))
            .body(json!({
                "email": "alice@new.example.com",
                "emailVerified": true,
                "displayName": "Alice B",
                "custom": {"foo": "bar"},
            }))
            .respond(json!({
                "userId": USER,
                "email": "alice@new.example.com",
                "emailVerified": true,
                "phoneNumber": "+6427000000",
                "displayName": "Alice B",
                "custom": {"foo": "bar"},
            }))
            .call(|c| {
                let request = UpdateUserRequest::new(USER)
                    .with_email("alice@new.example.com")
                    .with_email_verified(true)
                    .with_display_name("Alice B")
                    .with_custom(json!({"foo": "bar"}));
                check(c, request, |out| {
                    assert_eq!(out.user_id.as_deref(), Some(USER));
                    assert_eq!(
                        out.attributes.email.as_deref(),
                        Some("alice@new.example.com")
                    );
                    assert_eq!(out.attributes.email_verified, Some(true));
                    assert_eq!(out.attributes.phone_number.as_deref(), Some("+6427000000"));
                    assert_eq!(out.attributes.display_name.as_deref(), Some("Alice B"));
                    assert_eq!(out.attributes.custom, Some(json!({"foo": "bar"})));
                    assert_eq!(out.attributes.username, None);
                })
            }),
        Scenario::delete("delete_user", format!("/users/{USER_PATH}"))
            .respond(json!({"success": true}))
            .call(|c| check(c, DeleteUserRequest::new(USER), |()| {})),
        Scenario::get("query_users", "/users")
            .query(&[
                ("email", "a+b@example.com"),
                ("phoneNumber", "+6427000000"),
                ("token", "tok en&=1"),
                ("limit", "2"),
                ("lastEvaluatedUserId", USER),
            ])
            .respond(json!({
                "users": [
                    {
                        "userId": "user-2",
                        "email": "a+b@example.com",
                        "emailVerified": true,
                        "phoneNumber": "+6427000000",
                        "phoneNumberVerified": false,
                        "username": "ab",
                    },
                    {
                        "userId": "user-3",
                        "email": "a+b@example.com",
                        "emailVerified": false,
                        "phoneNumber": null,
                        "phoneNumberVerified": false,
                        "username": null,
                        "isEnrolled": true,
                        "enrolledVerificationMethods": ["EMAIL_OTP"],
                        "createdAt": "2024-05-01T10:00:00.000Z",
                    },
                ],
                "lastEvaluatedUserId": "user-3",
                "tokenPayload": {"sub": "user-3"},
            }))
            .call(|c| {
                let request = QueryUsersRequest::new()
                    .with_email("a+b@example.com")
                    .with_phone_number("+6427000000")
                    .with_token("tok en&=1")
                    .with_limit(2u32)
                    .with_last_evaluated_user_id(USER);
                check(c, request, |out| {
                    let ids: Vec<_> = out.users.iter().map(|u| u.user_id.as_str()).collect();
                    assert_eq!(ids, ["user-2", "user-3"]);
                    assert_eq!(out.users[0].email_verified, Some(true));
                    assert_eq!(out.users[0].username.as_deref(), Some("ab"));
                    assert_eq!(out.users[1].phone_number, None);
                    assert!(out.users[1].is_enrolled);
                    assert_eq!(
                        out.users[1].enrolled_verification_methods,
                        [VerificationMethod::EmailOtp]
                    );
                    assert_eq!(out.last_evaluated_user_id.as_deref(), Some("user-3"));
                    assert_eq!(out.token_payload, Some(json!({"sub": "user-3"})));
                })
            }),
        // Without filters there is no query string at all.
        Scenario::get("query_users", "/users")
            .respond(json!({"users": []}))
            .call(|c| {
                check(c, QueryUsersRequest::new(), |out| {
                    assert!(out.users.is_empty());
                    assert_eq!(out.last_evaluated_user_id, None);
                    assert_eq!(out.token_payload, None);
                })
            }),
        // --- Authenticators -----------------------------------------------
        Scenario::get("get_authenticator_configurations", "/authenticators")
            .respond(json!([
                {
                    "authenticatorId": "3c0d5a52-7f1e-4c8b-9a61-1d2f0e9b7a10",
                    "verificationMethod": "SMS",
                    "isActive": true,
                    "isEditableByUser": true,
                    "isHiddenToUser": false,
                    "smsChannel": "WHATSAPP",
                },
                {
                    "authenticatorId": "b7e21f04-2d9c-4e55-8f3a-6a4c9d0e1b22",
                    "verificationMethod": "PASSKEY",
                    "isActive": true,
                    "isEditableByUser": true,
                    "isHiddenToUser": false,
                },
                {
                    "authenticatorId": "e41a9c77-5b08-4f2d-a3e6-0c8d7b6f5a33",
                    "verificationMethod": "EMAIL_OTP",
                    "isActive": false,
                },
            ]))
            .call(|c| {
                check(c, GetAuthenticatorConfigurationsRequest::new(), |out| {
                    let methods: Vec<_> = out.iter().map(|a| &a.verification_method).collect();
                    assert_eq!(
                        methods,
                        [
                            &VerificationMethod::Sms,
                            &VerificationMethod::Passkey,
                            &VerificationMethod::EmailOtp
                        ]
                    );
                    assert_eq!(
                        out[0].authenticator_id,
                        "3c0d5a52-7f1e-4c8b-9a61-1d2f0e9b7a10"
                    );
                    assert_eq!(out[0].sms_channel, Some(SmsChannel::Whatsapp));
                    assert_eq!(out[0].is_editable_by_user, Some(true));
                    assert_eq!(out[1].is_hidden_to_user, Some(false));
                    assert!(out[0].is_active && out[1].is_active && !out[2].is_active);
                    assert_eq!(out[2].is_editable_by_user, None);
                })
            }),
        Scenario::get(
            "get_authenticators",
            format!("/users/{USER_PATH}/authenticators"),
        )
        .respond(json!([
            {
                "userAuthenticatorId": "auth-sms",
                "verificationMethod": "SMS",
                "userId": USER,
                "createdAt": "2024-05-01T10:00:00.000Z",
                "verifiedAt": "2024-05-01T10:00:00.000Z",
                "lastVerifiedAt": "2024-05-01T11:31:02.777Z",
                "phoneNumber": "+6427000000",
                "previousSmsChannel": "WHATSAPP",
            },
            {
                "userAuthenticatorId": "auth-passkey",
                "verificationMethod": "PASSKEY",
                "webauthnCredential": {
                    "credentialId": "Y3JlZA",
                    "aaguidMapping": {"name": "iCloud Keychain"},
                    "credentialBackedUp": true,
                    "parsedUserAgent": {
                        "browser": {"name": "Chrome", "major": "124"},
                        "device": {"type": "mobile"},
                    },
                },
            },
        ]))
        .call(|c| {
            check(c, GetAuthenticatorsRequest::new(USER), |out| {
                assert_eq!(out.len(), 2);
                assert_eq!(out[0].user_authenticator_id, "auth-sms");
                assert_eq!(out[0].verification_method, VerificationMethod::Sms);
                assert_eq!(out[0].user_id.as_deref(), Some(USER));
                assert_eq!(out[0].phone_number.as_deref(), Some("+6427000000"));
                assert_eq!(out[0].previous_sms_channel, Some(SmsChannel::Whatsapp));
                assert_eq!(out[1].previous_sms_channel, None);
                assert_eq!(out[1].verification_method, VerificationMethod::Passkey);
                let webauthn = out[1]
                    .webauthn_credential
                    .as_ref()
                    .expect("webauthn details");
                let mapping = webauthn.aaguid_mapping.as_ref().expect("aaguid mapping");
                assert_eq!(mapping.name.as_deref(), Some("iCloud Keychain"));
                assert_eq!(webauthn.credential_backed_up, Some(true));
                let agent = webauthn.parsed_user_agent.as_ref().expect("user agent");
                let browser = agent.browser.as_ref().expect("browser");
                assert_eq!(browser.name.as_deref(), Some("Chrome"));
                let device = agent.device.as_ref().expect("device");
                assert_eq!(device.device_type.as_deref(), Some("mobile"));
            })
        }),
        Scenario::post(
            "enroll_verified_authenticator",
            format!("/users/{USER_PATH}/authenticators"),
        )
        .body(json!({
            "verificationMethod": "SMS",
            "phoneNumber": "+6427000000",
            "isDefault": true,
        }))
        .respond(json!({
            "authenticator": {
                "userAuthenticatorId": "9b2cfd40-7df2-4658-852d-a0c3456e5a2e",
                "verificationMethod": "SMS",
                "userId": USER,
                "phoneNumber": "+6427000000",
                "createdAt": "2022-07-25T03:31:36.219Z",
            },
            "recoveryCodes": ["abcd-efgh", "ijkl-mnop"],
        }))
        .call(|c| {
            let request = EnrollVerifiedAuthenticatorRequest::new(USER, VerificationMethod::Sms)
                .with_phone_number("+6427000000")
                .with_is_default(true);
            check(c, request, |out| {
                let authenticator = &out.authenticator;
                assert_eq!(
                    authenticator.user_authenticator_id,
                    "9b2cfd40-7df2-4658-852d-a0c3456e5a2e"
                );
                assert_eq!(authenticator.verification_method, VerificationMethod::Sms);
                assert_eq!(authenticator.phone_number.as_deref(), Some("+6427000000"));
                assert_eq!(
                    authenticator.created_at.as_deref(),
                    Some("2022-07-25T03:31:36.219Z")
                );
                let codes: Vec<_> = out
                    .recovery_codes
                    .iter()
                    .map(SecretString::expose_secret)
                    .collect();
                assert_eq!(codes, ["abcd-efgh", "ijkl-mnop"]);
            })
        }),
        // A passkey (field names as the batch endpoint documents them).
        Scenario::post(
            "enroll_verified_authenticator",
            format!("/users/{USER_PATH}/authenticators"),
        )
        .body(json!({
            "verificationMethod": "PASSKEY",
            "credentialId": "dGVzdC1jcmVkZW50aWFsLWlk",
            "credentialPublicKey": "pQECAyYgASFYIPr",
            "name": "iPhone",
            "isDefault": false,
        }))
        .respond(json!({
            "authenticator": {
                "userAuthenticatorId": "6e5d4c3b-2a19-4087-b6c5-d4e3f2a1b0c9",
                "verificationMethod": "PASSKEY",
                "userId": USER,
                "createdAt": "2026-12-01T02:10:44.301Z",
                "webauthnCredential": {"credentialId": "dGVzdC1jcmVkZW50aWFsLWlk", "name": "iPhone"},
            },
        }))
        .call(|c| {
            let request = EnrollVerifiedAuthenticatorRequest::passkey(
                USER,
                "dGVzdC1jcmVkZW50aWFsLWlk",
                "pQECAyYgASFYIPr",
            )
            .with_name("iPhone")
            .with_is_default(false);
            check(c, request, |out| {
                assert_eq!(out.authenticator.verification_method, VerificationMethod::Passkey);
                let credential = out.authenticator.webauthn_credential.as_ref().unwrap();
                assert_eq!(credential.name.as_deref(), Some("iPhone"));
                assert!(out.recovery_codes.is_empty());
            })
        }),
        Scenario::delete(
            "delete_authenticator",
            format!("/users/{USER_PATH}/authenticators/auth%2F9"),
        )
        .respond(json!({"success": true}))
        .call(|c| check(c, DeleteAuthenticatorRequest::new(USER, "auth/9"), |()| {})),
        Scenario::post(
            "batch_enroll_verified_authenticators",
            "/users/authenticators",
        )
        .body(json!({"authenticators": [
            {
                "userId": "user-123",
                "verificationMethod": "PASSKEY",
                "credentialId": "dGVzdC1jcmVkZW50aWFsLWlk",
                "credentialPublicKey": "pQECAyYgASFYIPr",
                "name": "iPhone",
                "transports": ["internal", "hybrid"],
            },
            {
                "userId": "user-456",
                "verificationMethod": "PASSKEY",
                "credentialId": "YW5vdGhlci1jcmVkZW50aWFs",
                "credentialPublicKey": "pQECAyYgASFYIKm",
            },
        ]}))
        .respond(json!({
            "total": 2,
            "succeeded": 1,
            "failed": 1,
            "failures": [{
                "userId": "user-456",
                "credentialId": "YW5vdGhlci1jcmVkZW50aWFs",
                "errorCode": "conflict",
                "errorDescription": "Credential already exists for a different user.",
            }],
        }))
        .call(|c| {
            let request = BatchEnrollVerifiedAuthenticatorsRequest::new([
                BatchEnrollAuthenticator::passkey(
                    "user-123",
                    "dGVzdC1jcmVkZW50aWFsLWlk",
                    "pQECAyYgASFYIPr",
                )
                .with_name("iPhone")
                .with_transports(["internal", "hybrid"]),
                BatchEnrollAuthenticator::passkey(
                    "user-456",
                    "YW5vdGhlci1jcmVkZW50aWFs",
                    "pQECAyYgASFYIKm",
                ),
            ]);
            check(c, request, |out| {
                assert_eq!((out.total, out.succeeded, out.failed), (2, 1, 1));
                assert_eq!(out.failures.len(), 1);
                assert_eq!(out.failures[0].user_id, "user-456");
                assert_eq!(out.failures[0].credential_id, "YW5vdGhlci1jcmVkZW50aWFs");
                assert_eq!(out.failures[0].error_code, Some(ErrorCode::Conflict));
                assert!(
                    out.failures[0]
                        .error_description
                        .as_deref()
                        .is_some_and(|d| d.contains("already exists"))
                );
            })
        }),
        // --- OTP challenges ------------------------------------------------
        Scenario::post("challenge", "/challenge")
            .body(json!({
                "verificationMethod": "SMS",
                "action": "signIn",
                "idempotencyKey": KEY,
                "userId": USER,
                "phoneNumber": "+6427000000",
                "smsChannel": "WHATSAPP",
                "locale": "en-NZ",
                "scope": "add:authenticators read:authenticators",
            }))
            .respond(json!({
                "challengeId": "ch-1",
                "idempotencyKey": KEY,
                "expiresAt": 1_714_557_900,
            }))
            .call(|c| {
                let request = ChallengeRequest::new(VerificationMethod::Sms, "signIn")
                    .with_idempotency_key(KEY)
                    .with_user_id(USER)
                    .with_phone_number("+6427000000")
                    .with_sms_channel(SmsChannel::Whatsapp)
                    .with_locale("en-NZ")
                    .with_scopes([AuthScope::AddAuthenticators, AuthScope::ReadAuthenticators]);
                check(c, request, |out| {
                    assert_eq!(out.challenge_id, "ch-1");
                    assert_eq!(out.idempotency_key.as_deref(), Some(KEY));
                    assert_eq!(out.expires_at, 1_714_557_900);
                })
            }),
        // A resend names the open challenge alone.
        Scenario::post("challenge", "/challenge")
            .body(json!({"challengeId": "5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21"}))
            .respond(json!({
                "challengeId": "5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21",
                "idempotencyKey": "c2b1a098-7f6e-4d5c-b4a3-92817f6e5d4c",
                "expiresAt": 1_764_662_700,
            }))
            .call(|c| {
                let request = ChallengeRequest::resend("5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21");
                check(c, request, |out| {
                    assert_eq!(out.challenge_id, "5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21");
                    assert_eq!(
                        out.idempotency_key.as_deref(),
                        Some("c2b1a098-7f6e-4d5c-b4a3-92817f6e5d4c")
                    );
                    assert_eq!(out.expires_at, 1_764_662_700);
                })
            }),
        Scenario::post("verify", "/verify")
            .body(json!({"challengeId": "ch-1", "verificationCode": "123456"}))
            .respond(json!({
                "isVerified": true,
                "phoneNumber": "+6427000000",
                "verificationMethod": "SMS",
            }))
            .call(|c| {
                check(c, VerifyRequest::new("ch-1", "123456"), |out| {
                    assert!(out.is_verified);
                    assert_eq!(out.phone_number.as_deref(), Some("+6427000000"));
                    assert_eq!(out.email, None);
                    assert_eq!(out.verification_method, Some(VerificationMethod::Sms));
                    assert_eq!(out.failure_reason, None);
                })
            }),
        // Exactly the documented body: no rule inputs on claim.
        Scenario::post("claim_challenge", "/claim")
            .body(json!({
                "challengeId": "5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21",
                "userId": USER,
                "skipVerificationCheck": false,
            }))
            .respond(json!({
                "token": "eyJhbGciOiJIUzI1NiJ9.claim",
                "verificationMethod": "SMS",
            }))
            .call(|c| {
                let request =
                    ClaimChallengeRequest::new(USER, "5d0e8f61-3a2b-4c7d-9e10-7f6a5b4c3d21")
                        .with_skip_verification_check(false);
                check(c, request, |out| {
                    assert_eq!(out.token.expose_secret(), "eyJhbGciOiJIUzI1NiJ9.claim");
                    assert_eq!(out.verification_method, Some(VerificationMethod::Sms));
                })
            }),
        Scenario::get("get_challenge", "/challenges")
            .query(&[
                ("challengeId", "ch-1"),
                ("userId", USER),
                ("action", "signIn"),
                ("verificationMethod", "SMS"),
            ])
            .respond(json!({
                "challengeId": "ch-1",
                "expiresAt": 1_714_557_900,
                "verificationMethod": "SMS",
                "smsChannel": "DEFAULT",
                "phoneNumber": "+6427000000",
                "action": "signIn",
            }))
            .call(|c| {
                let request = GetChallengeRequest::new()
                    .with_challenge_id("ch-1")
                    .with_user_id(USER)
                    .with_action("signIn")
                    .with_verification_method(VerificationMethod::Sms);
                check(c, request, |out| {
                    assert_eq!(out.challenge_id.as_deref(), Some("ch-1"));
                    assert_eq!(out.expires_at, Some(1_714_557_900));
                    assert_eq!(out.verification_method, Some(VerificationMethod::Sms));
                    assert_eq!(out.sms_channel, Some(SmsChannel::Default));
                    assert_eq!(out.phone_number.as_deref(), Some("+6427000000"));
                    assert_eq!(out.action.as_deref(), Some("signIn"));
                })
            }),
        // --- Sessions ------------------------------------------------------
        Scenario::post("create_session", "/sessions")
            .body(json!({
                "clientId": "web-app",
                "token": "eyJhbGciOiJIUzI1NiJ9.claim",
                "action": "signIn",
            }))
            .respond(json!({"accessToken": "access-1", "refreshToken": "refresh-1"}))
            .call(|c| {
                let request = CreateSessionRequest::new("web-app", "eyJhbGciOiJIUzI1NiJ9.claim")
                    .with_action("signIn");
                check(c, request, |out| {
                    assert_eq!(out.access_token.expose_secret(), "access-1");
                    assert_eq!(out.refresh_token.expose_secret(), "refresh-1");
                })
            }),
        Scenario::post("validate_session", "/sessions/validate")
            .body(json!({"accessToken": "access-1", "clientIds": ["web-app", "ios-app"]}))
            .respond(json!({
                "user": {
                    "userId": USER,
                    "email": "alice@example.com",
                    "phoneNumber": "+6427000000",
                    "username": "alice",
                    "displayName": "Alice",
                    "custom": {"plan": "pro"},
                },
                "expiresAt": 1_714_561_200,
                "verificationMethod": "SMS",
            }))
            .call(|c| {
                let request =
                    ValidateSessionRequest::new("access-1").with_client_ids(["web-app", "ios-app"]);
                check(c, request, |out| {
                    assert_eq!(out.user.user_id, USER);
                    assert_eq!(
                        out.user.attributes.email.as_deref(),
                        Some("alice@example.com")
                    );
                    assert_eq!(out.user.attributes.username.as_deref(), Some("alice"));
                    assert_eq!(out.user.attributes.custom, Some(json!({"plan": "pro"})));
                    assert_eq!(out.expires_at, 1_714_561_200);
                    assert_eq!(out.verification_method, Some(VerificationMethod::Sms));
                })
            }),
        Scenario::post("refresh_session", "/sessions/refresh")
            .body(json!({"refreshToken": "refresh-1"}))
            .respond(json!({"accessToken": "access-2", "refreshToken": "refresh-2"}))
            .call(|c| {
                check(c, RefreshSessionRequest::new("refresh-1"), |out| {
                    assert_eq!(out.access_token.expose_secret(), "access-2");
                    assert_eq!(out.refresh_token.expose_secret(), "refresh-2");
                })
            }),
        Scenario::post("revoke_session", "/sessions/revoke")
            .body(json!({"accessToken": "access-2"}))
            .respond(json!({"success": true}))
            .call(|c| check(c, RevokeSessionRequest::new("access-2"), |()| {})),
        Scenario::post("revoke_user_sessions", "/sessions/user/revoke")
            .body(json!({"userId": USER}))
            .respond(json!({"success": true}))
            .call(|c| check(c, RevokeUserSessionsRequest::new(USER), |()| {})),
        // --- Devices -------------------------------------------------------
        Scenario::get("get_devices", format!("/users/{USER_PATH}/devices"))
            .respond(json!([
                {
                    "userId": USER,
                    "deviceId": DEVICE,
                    "createdAt": "2023-11-07T05:31:56Z",
                    "authenticatedAt": "2023-11-07T05:32:10Z",
                    "lastVerificationMethod": "SMS",
                },
                {
                    "userId": USER,
                    "deviceId": "dev-2",
                    "createdAt": "2023-11-08T05:31:56Z",
                    "invalidatedAt": "2023-11-09T00:00:00Z",
                },
            ]))
            .call(|c| {
                check(c, GetDevicesRequest::new(USER), |out| {
                    assert_eq!(out.len(), 2);
                    assert_eq!(out[0].user_id, USER);
                    assert_eq!(out[0].device_id, DEVICE);
                    assert_eq!(
                        out[0].authenticated_at.as_deref(),
                        Some("2023-11-07T05:32:10Z")
                    );
                    assert_eq!(
                        out[0].last_verification_method,
                        Some(VerificationMethod::Sms)
                    );
                    assert_eq!(out[0].invalidated_at, None);
                    assert_eq!(
                        out[1].invalidated_at.as_deref(),
                        Some("2023-11-09T00:00:00Z")
                    );
                })
            }),
        Scenario::patch(
            "update_device",
            format!("/users/{USER_PATH}/devices/{DEVICE_PATH}"),
        )
        .body(json!({"rememberedUntil": "2030-01-01T00:00:00Z"}))
        .respond(json!({
            "userId": USER,
            "deviceId": DEVICE,
            "createdAt": "2023-11-07T05:31:56Z",
            "rememberedUntil": "2030-01-01T00:00:00Z",
        }))
        .call(|c| {
            let request = UpdateDeviceRequest::remember_until(USER, DEVICE, "2030-01-01T00:00:00Z");
            check(c, request, |out| {
                assert_eq!(out.device_id, DEVICE);
                assert_eq!(
                    out.remembered_until.as_deref(),
                    Some("2030-01-01T00:00:00Z")
                );
            })
        }),
        // Forgetting sends an explicit `null`.
        Scenario::patch(
            "update_device",
            format!("/users/{USER_PATH}/devices/{DEVICE_PATH}"),
        )
        .body(json!({"rememberedUntil": null}))
        .respond(json!({"userId": USER, "deviceId": DEVICE, "rememberedUntil": null}))
        .call(|c| {
            check(c, UpdateDeviceRequest::forget(USER, DEVICE), |out| {
                assert_eq!(out.remembered_until, None);
            })
        }),
        Scenario::post(
            "invalidate_device",
            format!("/users/{USER_PATH}/devices/{DEVICE_PATH}/invalidate"),
        )
        .respond(json!({
            "userId": USER,
            "deviceId": DEVICE,
            "createdAt": "2023-11-07T05:31:56Z",
            "authenticatedAt": "2023-11-07T05:31:56Z",
            "invalidatedAt": "2023-11-07T06:00:00Z",
            "lastVerificationMethod": "SMS",
        }))
        .call(|c| {
            check(c, InvalidateDeviceRequest::new(USER, DEVICE), |out| {
                assert_eq!(out.user_id, USER);
                assert_eq!(out.device_id, DEVICE);
                assert_eq!(out.invalidated_at.as_deref(), Some("2023-11-07T06:00:00Z"));
            })
        }),
        // --- Terminal API (the terminal id, no secret key) -----------------
        Scenario::post("create_payment_session", "/terminal/payment-session")
            .on_terminal("term_5f2c9a")
            .body(json!({"amount": 42.5, "reference": "POS-0093-118", "currency": "NZD"}))
            .respond(json!({
                "challengeId": "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70",
                "status": "PENDING",
                "reference": "POS-0093-118",
            }))
            .call(|c| {
                let request =
                    CreatePaymentSessionRequest::new("term_5f2c9a", 42.5, "POS-0093-118", "NZD");
                check(c, request, |out| {
                    assert_eq!(out.challenge_id, "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70");
                    assert_eq!(out.status, PaymentSessionStatus::Pending);
                    assert_eq!(out.reference.as_deref(), Some("POS-0093-118"));
                })
            }),
        Scenario::get(
            "get_payment_session",
            "/terminal/payment-session/9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70",
        )
        .on_terminal("term_5f2c9a")
        .respond(json!({
            "challengeId": "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70",
            "status": "COMPLETED",
            "reference": "POS-0093-118",
        }))
        .call(|c| {
            let request = GetPaymentSessionRequest::new(
                "term_5f2c9a",
                "9a7c3e21-0b4d-4f6a-8e15-2d3c4b5a6f70",
            );
            check(c, request, |out| {
                assert_eq!(out.status, PaymentSessionStatus::Completed);
                assert!(out.status.is_final());
                assert_eq!(out.reference.as_deref(), Some("POS-0093-118"));
            })
        }),
        // --- Call Connect (its own host, no `/v1`) -------------------------
        Scenario::post("start_call", "/call/start")
            .on_call_connect()
            .body(json!({
                "referenceId": "3f0c6c1e-1b7a-4c39-9d8e-2a9c1e2b7f10",
                "phoneNumber": "+6427123456",
                "userId": USER,
                "channel": "WHATSAPP",
                "actionCode": "callCenter",
            }))
            .respond(json!({
                "messageId": "msg-1",
                "channel": "WHATSAPP",
                "phoneNumber": "+6427123456",
            }))
            .call(|c| {
                let request = StartCallRequest::new("3f0c6c1e-1b7a-4c39-9d8e-2a9c1e2b7f10")
                    .with_phone_number("+6427123456")
                    .with_user_id(USER)
                    .with_channel(CallConnectMessageChannel::Whatsapp)
                    .with_action_code("callCenter");
                check(c, request, |out| {
                    assert_eq!(out.message_id.as_deref(), Some("msg-1"));
                    assert_eq!(out.channel, Some(CallConnectMessageChannel::Whatsapp));
                    assert_eq!(out.phone_number.as_deref(), Some("+6427123456"));
                    assert_eq!(out.error_code, None);
                })
            }),
        Scenario::post("finish_call", "/call/finish")
            .on_call_connect()
            .body(json!({
                "referenceId": "3f0c6c1e-1b7a-4c39-9d8e-2a9c1e2b7f10",
                "state": "CHALLENGE_SUCCEEDED",
                "userId": USER,
                "payload": {"agent": "a-7"},
            }))
            .respond(json!({"success": true}))
            .call(|c| {
                let request = FinishCallRequest::new(
                    "3f0c6c1e-1b7a-4c39-9d8e-2a9c1e2b7f10",
                    CallState::ChallengeSucceeded,
                )
                .with_user_id(USER)
                .with_payload(json!({"agent": "a-7"}));
                check(c, request, |out| assert!(out.success))
            }),
    ]
}

fn run_happy_table(flavor: Flavor) {
    let mut server = mockito::Server::new();
    let client = AnyClient::new(flavor, config(&server, RetryPolicy::no_retries()));
    for scenario in happy_table() {
        let what = format!(
            "{flavor:?} {} {} {}",
            scenario.endpoint, scenario.method, scenario.path
        );
        // Printed only when the test fails, to name the row an assertion came from.
        println!("scenario: {what}");
        let mock = scenario.mock(&mut server);
        let result = (scenario.call)(&client);
        // On a mismatch this panics with mockito's diff of the closest request.
        mock.assert();
        match result {
            Ok(name) => assert_eq!(
                name, scenario.endpoint,
                "{what}: the row calls another endpoint"
            ),
            Err(error) => panic!("{what}: {error} ({error:?})"),
        }
        server.reset();
    }
}

#[test]
fn happy_table_over_ureq() {
    run_happy_table(Flavor::Ureq);
}

#[test]
fn happy_table_over_hyper() {
    run_happy_table(Flavor::Hyper);
}

#[test]
fn happy_table_over_reqwest() {
    run_happy_table(Flavor::Reqwest);
}

#[test]
fn happy_table_over_tower() {
    run_happy_table(Flavor::Tower);
}

/// The names of every endpoint core declares, from its one list.
fn endpoints_in_core() -> BTreeSet<String> {
    struct Names(BTreeSet<String>);
    impl EndpointVisitor for Names {
        fn visit<E: Endpoint>(&mut self, _info: EndpointInfo, _example: E) {
            self.0.insert(E::NAME.to_owned());
        }
    }
    let mut names = Names(BTreeSet::new());
    visit_endpoints(&mut names);
    names.0
}

#[test]
fn the_table_covers_every_endpoint_in_core() {
    let in_core = endpoints_in_core();
    let in_table: BTreeSet<String> = happy_table()
        .iter()
        .map(|s| s.endpoint.to_owned())
        .collect();
    let missing: Vec<_> = in_core.difference(&in_table).collect();
    let unknown: Vec<_> = in_table.difference(&in_core).collect();
    assert!(
        missing.is_empty(),
        "endpoints without a scenario: {missing:?}"
    );
    assert!(unknown.is_empty(), "scenarios for no endpoint: {unknown:?}");
}

// ---------------------------------------------------------------------------
// Error mapping and undecodable responses

/// One failing exchange. The client retries (2 retries, 1 ms backoff), so
/// `attempts` is also how many requests must reach the server.
struct Failure {
    name: &'static str,
    method: &'static str,
    /// The path after `/v1`.
    path: String,
    status: usize,
    content_type: &'static str,
    body: &'static [u8],
    attempts: u32,
    call: fn(&AnyClient) -> Result<(), Error>,
    check: fn(&Error),
}

fn get_user(client: &AnyClient) -> Result<(), Error> {
    client.send(&GetUserRequest::new(USER)).map(drop)
}

fn track(client: &AnyClient) -> Result<(), Error> {
    client.send(&TrackRequest::new(USER, "signIn")).map(drop)
}

fn unexpected(error: &Error) -> &UnexpectedResponse {
    match error {
        Error::UnexpectedResponse(e) => e,
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
}

fn api(error: &Error) -> &ApiError {
    error
        .api_error()
        .unwrap_or_else(|| panic!("expected Error::Api, got {error:?}"))
}

/// A 2xx decode error tells where and what kind, never the body.
fn assert_reveals_no_body(error: &Error, body_fragments: &[&str]) {
    let e = unexpected(error);
    assert_eq!(e.status, 200);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert!(!error.is_retryable(), "{error:?}");
    assert!(
        e.excerpt.is_empty(),
        "2xx excerpt must be empty: {:?}",
        e.excerpt
    );
    let display = error.to_string();
    let debug = format!("{error:?}");
    for fragment in body_fragments {
        assert!(
            !display.contains(fragment),
            "Display shows {fragment:?}: {display}"
        );
        assert!(
            !debug.contains(fragment),
            "Debug shows {fragment:?}: {debug}"
        );
    }
}

const UNAUTHORIZED_DESCRIPTION: &str = "The request is unauthorized. \
    Check that your API key and region base URL are correctly configured.";
const UNAUTHORIZED_BODY: &[u8] = br#"{"error":"unauthorized","errorDescription":"The request is unauthorized. Check that your API key and region base URL are correctly configured."}"#;

/// A proxy's error page, longer than the 200-character excerpt.
const HTML_502: &[u8] = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n\
<!-- a padding comment to disable MSIE and Chrome friendly error page -->\r\n\
<!-- a padding comment to disable MSIE and Chrome friendly error page -->\r\n";

fn failure_table() -> Vec<Failure> {
    let user_path = format!("/users/{USER_PATH}");
    let track_path = format!("/users/{USER_PATH}/actions/signIn");
    vec![
        Failure {
            name: "401 with error and errorDescription",
            method: "GET",
            path: user_path.clone(),
            status: 401,
            content_type: "application/json",
            body: UNAUTHORIZED_BODY,
            attempts: 1,
            call: get_user,
            check: |error| {
                let e = api(error);
                assert_eq!(e.status, 401);
                assert_eq!(e.code, Some(ErrorCode::Unauthorized));
                assert_eq!(e.description.as_deref(), Some(UNAUTHORIZED_DESCRIPTION));
                assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
                assert_eq!(error.code(), Some(&ErrorCode::Unauthorized));
                assert!(!error.is_retryable());
                assert!(error.to_string().contains("401"), "{error}");
                assert!(error.to_string().contains("unauthorized"), "{error}");
            },
        },
        Failure {
            name: "400 with errorCode only",
            method: "POST",
            path: track_path.clone(),
            status: 400,
            content_type: "application/json",
            body: br#"{"errorCode":"invalid_request"}"#,
            attempts: 1,
            call: track,
            check: |error| {
                let e = api(error);
                assert_eq!(e.status, 400);
                assert_eq!(e.code, Some(ErrorCode::InvalidRequest));
                assert_eq!(e.description, None);
                assert_eq!(e.retry_after, None);
            },
        },
        Failure {
            name: "500 with an empty body on a POST (not retried)",
            method: "POST",
            path: track_path.clone(),
            status: 500,
            content_type: "application/json",
            body: b"",
            attempts: 1,
            call: track,
            check: |error| {
                let e = unexpected(error);
                assert_eq!(e.status, 500);
                assert!(e.excerpt.is_empty(), "{:?}", e.excerpt);
                assert!(error.is_retryable());
                assert!(error.request_may_have_been_processed());
            },
        },
        Failure {
            name: "HTML 502 page on a POST (not retried)",
            method: "POST",
            path: track_path.clone(),
            status: 502,
            content_type: "text/html",
            body: HTML_502,
            attempts: 1,
            call: track,
            check: |error| {
                let e = unexpected(error);
                assert_eq!(e.status, 502);
                assert!(e.excerpt.contains("502 Bad Gateway"), "{:?}", e.excerpt);
                assert!(HTML_502.len() > 200);
                assert_eq!(e.excerpt.chars().count(), 200, "{:?}", e.excerpt);
                assert!(e.excerpt.starts_with("<html>"), "{:?}", e.excerpt);
                assert!(
                    !e.excerpt.contains('\r'),
                    "control characters are blanked: {:?}",
                    e.excerpt
                );
                assert!(error.to_string().contains("502"), "{error}");
            },
        },
        Failure {
            name: "503 on a GET is retried twice",
            method: "GET",
            path: user_path.clone(),
            status: 503,
            content_type: "application/json",
            body: br#"{"error":"service_unavailable","errorDescription":"Try again later."}"#,
            attempts: 3,
            call: get_user,
            check: |error| {
                let e = api(error);
                assert_eq!(e.status, 503);
                assert_eq!(
                    e.code.as_ref().map(ErrorCode::as_str),
                    Some("service_unavailable")
                );
                assert_eq!(e.description.as_deref(), Some("Try again later."));
                assert!(error.is_retryable());
            },
        },
        Failure {
            name: "200 with truncated JSON",
            method: "POST",
            path: track_path.clone(),
            status: 200,
            content_type: "application/json",
            body: br#"{"state":"#,
            attempts: 1,
            call: track,
            check: |error| {
                assert_reveals_no_body(error, &[r#"{"state""#, "state"]);
                assert!(unexpected(error).reason.contains("truncated"), "{error}");
            },
        },
        Failure {
            name: "200 with truncated JSON holding a token",
            method: "POST",
            path: track_path.clone(),
            status: 200,
            content_type: "application/json",
            body: br#"{"state":"ALLOW","token":"tok_live_5ecret","idempotencyKey":"#,
            attempts: 1,
            call: track,
            check: |error| assert_reveals_no_body(error, &["tok_live_5ecret", "ALLOW"]),
        },
        Failure {
            name: "200 with an array where an object is expected",
            method: "GET",
            path: user_path.clone(),
            status: 200,
            content_type: "application/json",
            body: b"[]",
            attempts: 1,
            call: get_user,
            check: |error| {
                assert_reveals_no_body(error, &[]);
                assert!(
                    unexpected(error).reason.contains("unexpected shape"),
                    "{error}"
                );
            },
        },
        Failure {
            name: "200 with non-UTF-8 bytes",
            method: "GET",
            path: user_path,
            status: 200,
            content_type: "application/json",
            body: b"{\"userId\":\"\xff\xfe\xfd\",\"isEnrolled\":true}",
            attempts: 1,
            call: get_user,
            check: |error| {
                assert_reveals_no_body(error, &["isEnrolled"]);
                assert!(unexpected(error).reason.contains("invalid JSON"), "{error}");
            },
        },
        Failure {
            name: "200 with non-JSON bytes on a POST",
            method: "POST",
            path: track_path,
            status: 200,
            content_type: "application/octet-stream",
            body: b"\x00\x9f\x92\x96 binary",
            attempts: 1,
            call: track,
            check: |error| assert_reveals_no_body(error, &["binary"]),
        },
        Failure {
            name: "204 without a body where JSON is expected",
            method: "GET",
            path: format!("/users/{USER_PATH}/devices"),
            status: 204,
            content_type: "application/json",
            body: b"",
            attempts: 1,
            call: |client| client.send(&GetDevicesRequest::new(USER)).map(drop),
            check: |error| {
                let e = unexpected(error);
                assert_eq!(e.status, 204);
                assert!(e.reason.contains("truncated or empty"), "{error}");
            },
        },
    ]
}

fn run_failure_table(flavor: Flavor) {
    let mut server = mockito::Server::new();
    let policy = RetryPolicy::default()
        .with_max_retries(2)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(1));
    let client = AnyClient::new(flavor, config(&server, policy));
    for failure in failure_table() {
        let what = format!("{flavor:?} {}", failure.name);
        println!("failure scenario: {what}");
        let mock = server
            .mock(failure.method, format!("/v1{}", failure.path).as_str())
            .match_query(Matcher::Missing)
            .match_header("authorization", AUTHORIZATION)
            .with_status(failure.status)
            .with_header("content-type", failure.content_type)
            .with_body(failure.body)
            .expect(failure.attempts as usize)
            .create();
        let error = match (failure.call)(&client) {
            Ok(()) => panic!("{what}: the call succeeded"),
            Err(error) => error,
        };
        mock.assert();
        assert_eq!(error.attempts(), failure.attempts, "{what}: {error:?}");
        (failure.check)(&error);
        server.reset();
    }
}

#[test]
fn failure_table_over_ureq() {
    run_failure_table(Flavor::Ureq);
}

#[test]
fn failure_table_over_hyper() {
    run_failure_table(Flavor::Hyper);
}

#[test]
fn failure_table_over_reqwest() {
    run_failure_table(Flavor::Reqwest);
}

#[test]
fn failure_table_over_tower() {
    run_failure_table(Flavor::Tower);
}

/// Endpoints whose output is `()` accept any 2xx, including an empty `204`
/// without `content-type`.
#[test]
fn unit_outputs_accept_an_empty_204() {
    for flavor in Flavor::ALL {
        let mut server = mockito::Server::new();
        let client = AnyClient::new(flavor, config(&server, RetryPolicy::no_retries()));
        let calls: [(&str, String, Call); 4] = [
            ("DELETE", format!("/v1/users/{USER_PATH}"), |c| {
                check(c, DeleteUserRequest::new(USER), |()| {})
            }),
            (
                "DELETE",
                format!("/v1/users/{USER_PATH}/authenticators/auth%2F9"),
                |c| check(c, DeleteAuthenticatorRequest::new(USER, "auth/9"), |()| {}),
            ),
            ("POST", "/v1/sessions/revoke".to_owned(), |c| {
                check(c, RevokeSessionRequest::new("access-1"), |()| {})
            }),
            ("POST", "/v1/sessions/user/revoke".to_owned(), |c| {
                check(c, RevokeUserSessionsRequest::new(USER), |()| {})
            }),
        ];
        for (method, path, call) in calls {
            let mock = server
                .mock(method, path.as_str())
                .match_query(Matcher::Missing)
                .with_status(204)
                .expect(1)
                .create();
            if let Err(error) = call(&client) {
                panic!("{flavor:?} {method} {path}: {error:?}");
            }
            mock.assert();
            server.reset();
        }
    }
}

/// A redirect is reported, not followed (following it would resend the
/// secret to wherever `Location` points).
#[test]
fn redirects_are_reported_not_followed() {
    for flavor in Flavor::ALL {
        let mut server = mockito::Server::new();
        let client = AnyClient::new(flavor, config(&server, RetryPolicy::no_retries()));
        let target = server.mock("POST", "/elsewhere").expect(0).create();
        let redirect = server
            .mock(
                "POST",
                format!("/v1/users/{USER_PATH}/actions/signIn").as_str(),
            )
            .with_status(307)
            .with_header("location", &format!("{}/elsewhere", server.url()))
            .with_body("Temporary Redirect")
            .expect(1)
            .create();
        let error = track(&client).expect_err("a redirect is not a success");
        redirect.assert();
        target.assert();
        let e = unexpected(&error);
        assert_eq!(e.status, 307, "{flavor:?}");
        assert!(e.reason.contains("redirect"), "{flavor:?}: {error}");
    }
}
