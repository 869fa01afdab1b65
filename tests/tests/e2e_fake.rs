//! End-to-end sign-in flows through both clients (blocking ureq, async hyper)
//! against the stateful fake Authsignal of `authsignal-testkit`.
//!
//! Each test starts its own fake and runs the flow once per transport, with
//! user ids prefixed by the flavor so the two runs never share state.

use std::time::{SystemTime, UNIX_EPOCH};

use authsignal_core::*;
use authsignal_testkit::{FakeAuthsignal, Outcome};
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
    fake.set_action_outcome("withdraw", Outcome::Block);
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
        fake.expire_tokens();
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
    assert!(requests.iter().all(|r| r.status == 401));
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") != Some(fake.authorization_header().as_str()))
    );
}
