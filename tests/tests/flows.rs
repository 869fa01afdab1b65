//! End-to-end sign-in flows through both clients (blocking ureq, async hyper)
//! against the stateful fake Authsignal of `authsignal-testkit`.
//!
//! Each test starts its own fake and runs the flow once per transport, with
//! user ids prefixed by the flavor so the two runs never share state.

use std::time::{SystemTime, UNIX_EPOCH};

use authsignal_core::*;
use authsignal_testkit::FakeAuthsignal;
use authsignal_tests::{AnyClient, Flavor};
use serde_json::json;

const PHONE: &str = "+64270000001";

fn config(fake: &FakeAuthsignal, secret: &str) -> Builder<Config> {
    Config::builder(secret)
        .with_base_url(fake.base_url())
        .with_retry_policy(RetryPolicy::no_retries())
}

fn client(fake: &FakeAuthsignal, flavor: Flavor) -> AnyClient {
    AnyClient::new(flavor, config(fake, fake.secret()))
}

/// A user id unique to the flavor, with characters that need encoding.
fn user_id(flavor: Flavor, name: &str) -> String {
    format!("{flavor:?}:{name}/ü").to_lowercase()
}

fn now_secs() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit in i64")
}

/// The `Error::Api` inside `result`, or a panic naming what came instead.
fn api_error<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) -> ApiError {
    match result {
        Err(Error::Api(e)) => *e,
        other => panic!("{what}: expected an API error, got {other:?}"),
    }
}

/// Enrolls an SMS authenticator and returns its id.
fn enroll_sms(client: &AnyClient, user: &str) -> String {
    let enrolled = client
        .send(
            &EnrollVerifiedAuthenticatorRequest::new(user, VerificationMethod::Sms)
                .with_phone_number(PHONE),
        )
        .expect("enroll SMS");
    let authenticator = enrolled.authenticator;
    assert_eq!(authenticator.verification_method, VerificationMethod::Sms);
    assert_eq!(authenticator.phone_number.as_deref(), Some(PHONE));
    assert_eq!(authenticator.user_id.as_deref(), Some(user));
    assert!(!authenticator.user_authenticator_id.is_empty());
    authenticator.user_authenticator_id
}

/// Tracks `action` for an enrolled user and starts the SMS challenge linked
/// to it; returns the track response and the challenge id.
fn track_and_challenge(client: &AnyClient, user: &str, action: &str) -> (TrackResponse, String) {
    let tracked = client
        .send(
            &TrackRequest::new(user, action)
                .with_ip_address("203.0.113.7")
                .with_user_agent("e2e-test/1.0"),
        )
        .expect("track");
    assert_eq!(tracked.state, UserActionState::ChallengeRequired);
    assert!(tracked.is_enrolled);
    assert!(!tracked.token.expose_secret().is_empty());
    let challenge = client
        .send(
            &ChallengeRequest::new(VerificationMethod::Sms, action)
                .with_user_id(user)
                .with_phone_number(PHONE)
                .with_idempotency_key(tracked.idempotency_key.clone()),
        )
        .expect("challenge");
    assert!(!challenge.challenge_id.is_empty());
    assert_eq!(
        challenge.idempotency_key.as_deref(),
        Some(tracked.idempotency_key.as_str())
    );
    assert!(challenge.expires_at > now_secs());
    (tracked, challenge.challenge_id)
}

fn validate(client: &AnyClient, token: &SecretString) -> ValidateChallengeResponse {
    client
        .send(&ValidateChallengeRequest::new(token.clone()))
        .expect("validate challenge")
}

/// A code that is not `code`.
fn wrong_code(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

// (a) ------------------------------------------------------------------------

#[test]
fn sign_in_with_sms_then_session_lifecycle() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "alice");

        enroll_sms(&client, &user);
        let (tracked, challenge_id) = track_and_challenge(&client, &user, "signIn");
        assert_eq!(
            tracked.enrolled_verification_methods,
            [VerificationMethod::Sms]
        );

        let code = fake.last_code().expect("a code was sent");
        let verified = client
            .send(&VerifyRequest::new(challenge_id, code))
            .expect("verify");
        assert!(verified.is_verified, "{flavor:?}: {verified:?}");
        assert_eq!(verified.failure_reason, None);
        assert_eq!(verified.phone_number.as_deref(), Some(PHONE));
        assert_eq!(verified.verification_method, Some(VerificationMethod::Sms));

        let validated = client
            .send(
                &ValidateChallengeRequest::new(tracked.token.clone())
                    .with_user_id(user.clone())
                    .with_action("signIn"),
            )
            .expect("validate");
        assert!(validated.is_valid, "{flavor:?}: {validated:?}");
        assert_eq!(validated.state, Some(UserActionState::ChallengeSucceeded));
        assert_eq!(validated.action.as_deref(), Some("signIn"));
        assert_eq!(validated.user_id.as_deref(), Some(user.as_str()));
        assert_eq!(
            validated.idempotency_key.as_deref(),
            Some(tracked.idempotency_key.as_str())
        );
        assert_eq!(validated.verification_method, Some(VerificationMethod::Sms));

        // The action's record agrees.
        let action = client
            .send(&GetActionRequest::new(
                user.clone(),
                "signIn",
                tracked.idempotency_key.clone(),
            ))
            .expect("get action");
        assert_eq!(action.state, UserActionState::ChallengeSucceeded);
        let actions = client
            .send(&QueryUserActionsRequest::new(user.clone()).with_code("signIn"))
            .expect("query user actions");
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].idempotency_key, tracked.idempotency_key);

        // Session: create, validate, refresh, revoke.
        let session = client
            .send(&CreateSessionRequest::new("web-app", tracked.token.clone()))
            .expect("create session");
        let checked = client
            .send(&ValidateSessionRequest::new(session.access_token.clone()))
            .expect("validate session");
        assert_eq!(checked.user.user_id, user);
        assert!(checked.expires_at > now_secs());

        let refreshed = client
            .send(&RefreshSessionRequest::new(session.refresh_token.clone()))
            .expect("refresh session");
        assert_ne!(
            refreshed.access_token.expose_secret(),
            session.access_token.expose_secret()
        );
        assert_ne!(
            refreshed.refresh_token.expose_secret(),
            session.refresh_token.expose_secret()
        );
        let reused = api_error(
            client.send(&RefreshSessionRequest::new(session.refresh_token.clone())),
            "refresh with the old refresh token",
        );
        assert_eq!(reused.status, 400);
        assert_eq!(reused.code, Some(ErrorCode::InvalidRequest));
        api_error(
            client.send(&ValidateSessionRequest::new(session.access_token.clone())),
            "validate the access token replaced by refresh",
        );
        let checked = client
            .send(&ValidateSessionRequest::new(refreshed.access_token.clone()))
            .expect("validate the refreshed session");
        assert_eq!(checked.user.user_id, user);

        client
            .send(&RevokeSessionRequest::new(refreshed.access_token.clone()))
            .expect("revoke session");
        let revoked = api_error(
            client.send(&ValidateSessionRequest::new(refreshed.access_token.clone())),
            "validate a revoked session",
        );
        assert_eq!(revoked.status, 400);
    }
}

// (b) ------------------------------------------------------------------------

#[test]
fn wrong_code_is_not_verified_and_the_token_stays_invalid() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "bob");
        enroll_sms(&client, &user);
        let (tracked, challenge_id) = track_and_challenge(&client, &user, "signIn");
        let code = fake.last_code().expect("a code was sent");

        let verified = client
            .send(&VerifyRequest::new(challenge_id.clone(), wrong_code(&code)))
            .expect("verify");
        assert!(!verified.is_verified);
        assert_eq!(
            verified.failure_reason,
            Some(VerificationFailureReason::CodeInvalidOrExpired)
        );

        let validated = validate(&client, &tracked.token);
        assert!(!validated.is_valid, "{flavor:?}: {validated:?}");
        assert_eq!(validated.state, Some(UserActionState::ChallengeRequired));

        // Two more wrong codes use up the attempts: then even the right one fails.
        for _ in 0..2 {
            let again = client
                .send(&VerifyRequest::new(challenge_id.clone(), wrong_code(&code)))
                .expect("verify");
            assert!(!again.is_verified);
        }
        let locked = client
            .send(&VerifyRequest::new(challenge_id, code))
            .expect("verify");
        assert!(!locked.is_verified);
        assert_eq!(
            locked.failure_reason,
            Some(VerificationFailureReason::MaxAttemptsExceeded)
        );
        let validated = validate(&client, &tracked.token);
        assert!(!validated.is_valid);
        assert_eq!(validated.state, Some(UserActionState::ChallengeFailed));
    }
}

// (c) ------------------------------------------------------------------------

#[test]
fn blocked_action_never_validates() {
    let fake = FakeAuthsignal::start();
    fake.set_action_outcome("withdraw", UserActionState::Block);
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "carol");
        enroll_sms(&client, &user);

        let tracked = client
            .send(&TrackRequest::new(user.clone(), "withdraw"))
            .expect("track");
        assert_eq!(tracked.state, UserActionState::Block);

        let validated = validate(&client, &tracked.token);
        assert!(!validated.is_valid, "{flavor:?}: {validated:?}");
        assert_eq!(validated.state, Some(UserActionState::Block));

        // No challenge can be started for it either.
        let refused = api_error(
            client.send(
                &ChallengeRequest::new(VerificationMethod::Sms, "withdraw")
                    .with_idempotency_key(tracked.idempotency_key),
            ),
            "challenge a blocked action",
        );
        assert_eq!(refused.status, 400);

        // Other actions are unaffected.
        let sign_in = client
            .send(&TrackRequest::new(user, "signIn"))
            .expect("track");
        assert_eq!(sign_in.state, UserActionState::ChallengeRequired);
    }
}

// (d) ------------------------------------------------------------------------

#[test]
fn used_and_expired_tokens_do_not_validate() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);

        // Used: a successful token validates once.
        let user = user_id(flavor, "dave");
        enroll_sms(&client, &user);
        let (tracked, challenge_id) = track_and_challenge(&client, &user, "signIn");
        let code = fake.last_code().expect("a code was sent");
        let verified = client
            .send(&VerifyRequest::new(challenge_id, code))
            .expect("verify");
        assert!(verified.is_verified);
        let first = validate(&client, &tracked.token);
        assert!(first.is_valid, "{flavor:?}: {first:?}");
        let second = validate(&client, &tracked.token);
        assert!(!second.is_valid, "{flavor:?}: {second:?}");
        assert!(second.error.is_some(), "{second:?}");

        // Expired: an allowed action's token, expired before validation.
        let other = user_id(flavor, "erin");
        let allowed = client
            .send(&TrackRequest::new(other, "signIn"))
            .expect("track");
        assert_eq!(allowed.state, UserActionState::Allow);
        fake.advance(std::time::Duration::from_secs(10 * 60 + 1));
        let expired = validate(&client, &allowed.token);
        assert!(!expired.is_valid, "{flavor:?}: {expired:?}");
        assert!(expired.error.is_some(), "{expired:?}");
        // Nor can it open a session.
        api_error(
            client.send(&CreateSessionRequest::new("web-app", allowed.token)),
            "create a session from an expired token",
        );
    }
}

// (e) ------------------------------------------------------------------------

#[test]
fn user_without_authenticator_is_allowed() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "frank");
        let tracked = client
            .send(&TrackRequest::new(user.clone(), "signIn"))
            .expect("track");
        assert_eq!(tracked.state, UserActionState::Allow);
        assert!(!tracked.is_enrolled);
        assert!(tracked.enrolled_verification_methods.is_empty());

        let validated = validate(&client, &tracked.token);
        assert!(validated.is_valid, "{flavor:?}: {validated:?}");
        assert_eq!(validated.state, Some(UserActionState::Allow));
        assert_eq!(validated.user_id.as_deref(), Some(user.as_str()));
        assert_eq!(validated.action.as_deref(), Some("signIn"));
    }
}

// (f) ------------------------------------------------------------------------

/// Walks `GET /users` by hand, following `lastEvaluatedUserId`; returns the
/// page sizes and the user ids in order.
fn walk_pages(client: &AnyClient, email: &str, limit: u32) -> (Vec<usize>, Vec<String>) {
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    let mut request = QueryUsersRequest::new().with_email(email).with_limit(limit);
    loop {
        let page = client.send(&request).expect("query users");
        sizes.push(page.users.len());
        ids.extend(page.users.into_iter().map(|u| u.user_id));
        match page.last_evaluated_user_id {
            Some(cursor) => request = request.with_last_evaluated_user_id(cursor),
            None => break,
        }
        assert!(sizes.len() < 10, "the walk does not end");
    }
    (sizes, ids)
}

#[test]
fn user_administration() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "grace");

        // Update, then read back.
        let updated = client
            .send(
                &UpdateUserRequest::new(user.clone())
                    .with_email("grace@example.com")
                    .with_display_name("Grace H")
                    .with_custom(json!({"tier": "gold"})),
            )
            .expect("update user");
        assert_eq!(updated.user_id.as_deref(), Some(user.as_str()));
        assert_eq!(
            updated.attributes.email.as_deref(),
            Some("grace@example.com")
        );
        assert_eq!(updated.attributes.display_name.as_deref(), Some("Grace H"));
        assert_eq!(updated.attributes.custom, Some(json!({"tier": "gold"})));

        let got = client
            .send(&GetUserRequest::new(user.clone()))
            .expect("get user");
        assert_eq!(got.email.as_deref(), Some("grace@example.com"));
        assert_eq!(got.display_name.as_deref(), Some("Grace H"));
        assert_eq!(got.custom, Some(json!({"tier": "gold"})));
        assert!(!got.is_enrolled);

        // Pagination over 5 users sharing an email, 2 per page.
        let team_email = format!("team-{flavor:?}@example.com").to_lowercase();
        let mut team: Vec<String> = (0..5)
            .map(|i| user_id(flavor, &format!("member-{i}")))
            .collect();
        for member in &team {
            client
                .send(&UpdateUserRequest::new(member.clone()).with_email(team_email.clone()))
                .expect("update team member");
        }
        team.sort();
        let (sizes, ids) = walk_pages(&client, &team_email, 2);
        assert_eq!(sizes, [2, 2, 1], "{flavor:?}");
        assert_eq!(ids, team, "{flavor:?}");

        // Authenticators: list, delete one.
        let sms = enroll_sms(&client, &user);
        let email_otp = client
            .send(
                &EnrollVerifiedAuthenticatorRequest::new(
                    user.clone(),
                    VerificationMethod::EmailOtp,
                )
                .with_email("grace@example.com"),
            )
            .expect("enroll email OTP")
            .authenticator
            .user_authenticator_id;
        let listed = client
            .send(&GetAuthenticatorsRequest::new(user.clone()))
            .expect("get authenticators");
        let mut methods: Vec<_> = listed
            .iter()
            .map(|a| {
                (
                    a.user_authenticator_id.clone(),
                    a.verification_method.clone(),
                )
            })
            .collect();
        methods.sort_by(|a, b| a.1.as_str().cmp(b.1.as_str()));
        assert_eq!(
            methods,
            [
                (email_otp.clone(), VerificationMethod::EmailOtp),
                (sms.clone(), VerificationMethod::Sms),
            ]
        );
        assert!(
            client
                .send(&GetUserRequest::new(user.clone()))
                .expect("get user")
                .is_enrolled
        );

        client
            .send(&DeleteAuthenticatorRequest::new(user.clone(), sms.clone()))
            .expect("delete authenticator");
        let listed = client
            .send(&GetAuthenticatorsRequest::new(user.clone()))
            .expect("get authenticators");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].user_authenticator_id, email_otp);
        let gone = api_error(
            client.send(&DeleteAuthenticatorRequest::new(user.clone(), sms)),
            "delete an authenticator twice",
        );
        assert_eq!(gone.status, 404);

        // Delete the user: it reads as not enrolled, with no authenticators.
        client
            .send(&DeleteUserRequest::new(user.clone()))
            .expect("delete user");
        let got = client
            .send(&GetUserRequest::new(user.clone()))
            .expect("get deleted user");
        assert!(!got.is_enrolled);
        assert_eq!(got.email, None);
        assert!(
            client
                .send(&GetAuthenticatorsRequest::new(user))
                .expect("get authenticators")
                .is_empty()
        );
    }
}

/// `query_users_pages` on the blocking core client (ureq) and on the async
/// one (hyper) walk the same 5 users 2 at a time.
#[test]
fn query_users_pages_walks_every_page() {
    let fake = FakeAuthsignal::start();
    let setup = client(&fake, Flavor::Ureq);
    let email = "pages@example.com";
    let mut team: Vec<String> = (0..5).map(|i| format!("page-user-{i}")).collect();
    for member in &team {
        setup
            .send(&UpdateUserRequest::new(member.clone()).with_email(email))
            .expect("update user");
    }
    team.sort();
    let request = QueryUsersRequest::new().with_email(email).with_limit(2u32);

    let blocking = authsignal_ureq::Client::builder(fake.secret())
        .with_base_url(fake.base_url())
        .build()
        .expect("ureq client");
    let sizes: Vec<usize> = blocking
        .query_users_pages(request.clone())
        .map(|page| page.expect("page").users.len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    let ids: Vec<String> = blocking
        .query_users_pages(request.clone())
        .users()
        .map(|user| user.expect("user").user_id)
        .collect();
    assert_eq!(ids, team);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ids = runtime.block_on(async {
        let client = authsignal_hyper::Client::builder(fake.secret())
            .with_base_url(fake.base_url())
            .build()
            .expect("hyper client");
        let mut pages = client.query_users_pages(request);
        let mut ids = Vec::new();
        let mut sizes = Vec::new();
        while let Some(page) = pages.next_page().await {
            let page = page.expect("page");
            sizes.push(page.users.len());
            ids.extend(page.users.into_iter().map(|u| u.user_id));
        }
        assert_eq!(sizes, [2, 2, 1]);
        ids
    });
    assert_eq!(ids, team);
}

/// The async pages as a `futures_core::Stream` (the `stream` feature,
/// on by default in `authsignal-hyper`), polled with `StreamExt`, also from
/// a spawned task.
#[test]
fn query_users_pages_is_a_stream_on_hyper() {
    use futures_util::{StreamExt, TryStreamExt};

    let fake = FakeAuthsignal::start();
    let email = "stream@example.com";
    let setup = client(&fake, Flavor::Ureq);
    let mut team: Vec<String> = (0..5).map(|i| format!("stream-user-{i}")).collect();
    for member in &team {
        setup
            .send(&UpdateUserRequest::new(member.clone()).with_email(email))
            .expect("update user");
    }
    team.sort();
    let request = QueryUsersRequest::new().with_email(email).with_limit(2u32);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (sizes, ids, spawned) = runtime.block_on(async {
        let client = authsignal_hyper::Client::builder(fake.secret())
            .with_base_url(fake.base_url())
            .build()
            .expect("hyper client");
        let sizes: Vec<usize> = client
            .query_users_pages(request.clone())
            .map(|page| page.expect("page").users.len())
            .collect()
            .await;
        let ids: Vec<String> = client
            .query_users_pages(request.clone())
            .map_ok(|page| {
                page.users
                    .into_iter()
                    .map(|u| u.user_id)
                    .collect::<Vec<_>>()
            })
            .try_concat()
            .await
            .expect("pages");
        // The stream is `Send`: it can run on another task.
        let client = std::sync::Arc::new(client);
        let spawned = tokio::spawn({
            let client = std::sync::Arc::clone(&client);
            async move {
                let mut pages = client.query_users_pages(request);
                let mut count = 0;
                while let Some(page) = pages.next().await {
                    count += page.expect("page").users.len();
                }
                count
            }
        })
        .await
        .expect("task");
        (sizes, ids, spawned)
    });
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(ids, team);
    assert_eq!(spawned, 5);
}

// (g) ------------------------------------------------------------------------

#[test]
fn wrong_secret_is_unauthorized() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = AnyClient::new(flavor, config(&fake, "sk_test_not_the_right_one"));
        let user = user_id(flavor, "mallory");

        let error = api_error(
            client.send(&GetUserRequest::new(user.clone())),
            "get user with a wrong secret",
        );
        assert_eq!(error.status, 401);
        assert_eq!(error.code, Some(ErrorCode::Unauthorized));
        assert!(
            error.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{error:?}"
        );
        assert_eq!(error.attempts, 1);

        let error = api_error(
            client.send(&TrackRequest::new(user, "signIn")),
            "track with a wrong secret",
        );
        assert_eq!(error.status, 401);
        assert_eq!(error.code, Some(ErrorCode::Unauthorized));
    }
    // Every flavor reached the fake twice and was turned away.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2 * Flavor::ALL.len());
    assert!(
        requests
            .iter()
            .all(|r| r.status == Some(http::StatusCode::UNAUTHORIZED))
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") != Some(fake.authorization_header().as_str()))
    );
}

// (h) ------------------------------------------------------------------------

/// A client for the fake whose Call Connect host is the fake's, with
/// `call_connect_secret` as Call Connect key (`None`: none set).
fn call_connect_client(
    fake: &FakeAuthsignal,
    flavor: Flavor,
    call_connect_secret: Option<&str>,
) -> AnyClient {
    let mut builder = config(fake, fake.secret()).with_call_connect_url(fake.call_connect_url());
    if let Some(key) = call_connect_secret {
        builder = builder.with_call_connect_secret(key);
    }
    AnyClient::new(flavor, builder)
}

#[test]
fn call_connect_runs_with_its_own_key_and_never_with_the_server_api_key() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = call_connect_client(&fake, flavor, Some(fake.call_connect_secret()));
        let reference = format!("{flavor:?}-call-1");
        let started = client
            .send(
                &StartCallRequest::new(reference.clone())
                    .with_phone_number(PHONE)
                    .with_channel(CallConnectMessageChannel::Whatsapp),
            )
            .expect("start call");
        assert!(started.message_id.is_some_and(|id| !id.is_empty()));
        assert_eq!(started.channel, Some(CallConnectMessageChannel::Whatsapp));
        assert_eq!(started.phone_number.as_deref(), Some(PHONE));
        assert_eq!(fake.call_outcome(&reference), None);

        let finished = client
            .send(&FinishCallRequest::new(
                reference.clone(),
                CallState::ChallengeSucceeded,
            ))
            .expect("finish call");
        assert!(finished.success);
        assert_eq!(
            fake.call_outcome(&reference),
            Some(CallState::ChallengeSucceeded)
        );

        // The Server API key, given as the Call Connect key, is refused.
        let confused = call_connect_client(&fake, flavor, Some(fake.secret()));
        let error = api_error(
            confused.send(&StartCallRequest::new("x").with_phone_number(PHONE)),
            "start call with the Server API key",
        );
        assert_eq!(error.status, 401);

        // Without a Call Connect key nothing is sent at all.
        let before = fake.request_count();
        let without = call_connect_client(&fake, flavor, None);
        let error = without
            .send(&StartCallRequest::new("y").with_phone_number(PHONE))
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidInput(InvalidInput::MissingCallConnectSecret)
            ),
            "{error:?}"
        );
        assert_eq!(fake.request_count(), before);
    }
    // What reached Call Connect carried its key, never the Server API key.
    let server_api = fake.authorization_header();
    let connect = fake.call_connect_authorization_header();
    let calls: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/call/"))
        .collect();
    assert_eq!(
        calls.len(),
        3 * Flavor::ALL.len(),
        "start, finish and the refused start, per flavor"
    );
    for request in &calls {
        let authorization = request.header("authorization");
        match request.status {
            Some(http::StatusCode::OK) => assert_eq!(authorization, Some(connect.as_str())),
            // The start the test sent with the wrong key on purpose.
            Some(http::StatusCode::UNAUTHORIZED) => {
                assert_eq!(authorization, Some(server_api.as_str()))
            }
            other => panic!("{} answered {other:?}", request.path),
        }
        assert!(!request.raw_body.contains(fake.secret()));
    }
}

// (i) ------------------------------------------------------------------------

#[test]
fn a_point_of_sale_runs_a_payment_session_with_the_terminal_id_alone() {
    let fake = FakeAuthsignal::start();
    fake.add_terminal("term-A");
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let reference = format!("{flavor:?}-POS-0093");
        let created = client
            .send(&CreatePaymentSessionRequest::new(
                "term-A",
                42.5,
                reference.clone(),
                "NZD",
            ))
            .expect("create payment session");
        assert_eq!(created.status, PaymentSessionStatus::Pending);
        assert_eq!(created.reference.as_deref(), Some(reference.as_str()));

        let poll = GetPaymentSessionRequest::new("term-A", created.challenge_id.clone());
        let polled = client.send(&poll).expect("poll");
        assert_eq!(polled, created);
        assert!(!polled.status.is_final());

        // The customer approves at the terminal.
        assert!(
            fake.set_payment_session_status(&created.challenge_id, PaymentSessionStatus::Completed)
        );
        let done = client.send(&poll).expect("poll again");
        assert_eq!(done.status, PaymentSessionStatus::Completed);
        assert!(done.status.is_final());

        // A terminal that is not paired is turned away.
        let error = api_error(
            client.send(&GetPaymentSessionRequest::new(
                "term-B",
                created.challenge_id.clone(),
            )),
            "poll from an unpaired terminal",
        );
        assert_eq!(error.status, 401);
        assert_eq!(error.code, Some(ErrorCode::Unauthorized));
    }
    // Every Terminal request carried the terminal id and no secret key.
    let terminal_requests: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/terminal/"))
        .collect();
    assert_eq!(terminal_requests.len(), 4 * Flavor::ALL.len());
    for request in &terminal_requests {
        assert_eq!(request.header("authorization"), None, "{}", request.path);
        assert!(request.header("x-authsignal-terminal").is_some());
        assert!(!request.raw_body.contains(fake.secret()));
        assert!(
            !request.raw_body.contains("term-"),
            "the id goes in the header only"
        );
    }
}

#[test]
fn the_tenant_authenticator_configurations_are_listed() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let configurations = client(&fake, flavor)
            .send(&GetAuthenticatorConfigurationsRequest::new())
            .expect("authenticator configurations");
        assert!(configurations.len() >= 5);
        let sms = configurations
            .iter()
            .find(|c| c.verification_method == VerificationMethod::Sms)
            .expect("an SMS configuration");
        assert!(sms.is_active);
        assert_eq!(sms.sms_channel, Some(SmsChannel::Whatsapp));
        assert!(
            configurations
                .iter()
                .any(|c| c.verification_method == VerificationMethod::Passkey && c.is_active)
        );
        assert!(configurations.iter().any(|c| !c.is_active));
    }
}

// (j) ------------------------------------------------------------------------

#[test]
fn a_code_that_did_not_arrive_is_resent_by_challenge_id_and_claimed() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "resend");
        let started = client
            .send(
                &ChallengeRequest::new(VerificationMethod::Sms, "signUp").with_phone_number(PHONE),
            )
            .expect("start challenge");
        let resent = client
            .send(&ChallengeRequest::resend(started.challenge_id.clone()))
            .expect("resend by challenge id");
        assert_eq!(resent.challenge_id, started.challenge_id);
        assert!(resent.expires_at >= started.expires_at);

        // The code of the resend verifies, and the challenge is claimed.
        let code = fake
            .last_code_for(&resent.challenge_id)
            .expect("a re-sent code");
        let verified = client
            .send(&VerifyRequest::new(resent.challenge_id.clone(), code))
            .expect("verify");
        assert!(verified.is_verified, "{flavor:?}: {verified:?}");
        let claimed = client
            .send(&ClaimChallengeRequest::new(
                user.clone(),
                resent.challenge_id.clone(),
            ))
            .expect("claim");
        assert_eq!(claimed.verification_method, Some(VerificationMethod::Sms));
        let validated = validate(&client, &claimed.token);
        assert!(validated.is_valid, "{validated:?}");
        assert_eq!(validated.user_id.as_deref(), Some(user.as_str()));

        // A claimed challenge cannot be re-sent.
        let error = api_error(
            client.send(&ChallengeRequest::resend(resent.challenge_id.clone())),
            "resend a claimed challenge",
        );
        assert_eq!(error.status, 400);
    }
    // The resends went out as `{"challengeId": …}` alone; the claims as the
    // documented three fields at most.
    for request in fake.requests().iter().filter(|r| r.path == "/v1/challenge") {
        let body = request.body.as_ref().expect("a JSON body");
        if body.get("verificationMethod").is_none() {
            let keys: Vec<_> = body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["challengeId"], "{}", request.raw_body);
        }
    }
    for request in fake.requests().iter().filter(|r| r.path == "/v1/claim") {
        let body = request.body.as_ref().expect("a JSON body");
        let keys: Vec<_> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["challengeId", "userId"], "{}", request.raw_body);
    }
}
