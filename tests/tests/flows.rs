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
    let enroll = EnrollVerifiedAuthenticatorRequest::new(user, VerificationMethod::Sms);
    let authenticator = client.ok(&enroll.with_phone_number(PHONE)).authenticator;
    assert_eq!(authenticator.verification_method, VerificationMethod::Sms);
    assert_eq!(authenticator.phone_number.as_deref(), Some(PHONE));
    assert_eq!(authenticator.user_id.as_deref(), Some(user));
    assert!(!authenticator.user_authenticator_id.is_empty());
    authenticator.user_authenticator_id
}

/// Tracks `action` for an enrolled user and starts the SMS challenge linked
/// to it; returns the track response and the challenge id.
fn track_and_challenge(client: &AnyClient, user: &str, action: &str) -> (TrackResponse, String) {
    let track = TrackRequest::new(user, action).with_ip_address("203.0.113.7");
    let tracked = client.ok(&track.with_user_agent("e2e-test/1.0"));
    assert_eq!(tracked.state, UserActionState::ChallengeRequired);
    assert!(tracked.is_enrolled);
    assert!(!tracked.token.expose_secret().is_empty());
    let key = tracked.idempotency_key.clone();
    let challenge = ChallengeRequest::new(VerificationMethod::Sms, action).with_user_id(user);
    let challenge = challenge.with_phone_number(PHONE);
    let challenge = client.ok(&challenge.with_idempotency_key(key.clone()));
    assert!(!challenge.challenge_id.is_empty());
    assert_eq!(challenge.idempotency_key, Some(key));
    assert!(challenge.expires_at > now_secs());
    (tracked, challenge.challenge_id)
}

fn validate(client: &AnyClient, token: &SecretString) -> ValidateChallengeResponse {
    client.ok(&ValidateChallengeRequest::new(token.clone()))
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
        let key = tracked.idempotency_key.clone();
        let sms = VerificationMethod::Sms;
        assert_eq!(
            tracked.enrolled_verification_methods,
            [VerificationMethod::Sms]
        );

        let code = fake.last_code().expect("a code was sent");
        let verified = client.ok(&VerifyRequest::new(challenge_id, code));
        assert!(verified.is_verified, "{flavor:?}: {verified:?}");
        assert_eq!(verified.failure_reason, None);
        assert_eq!(verified.phone_number.as_deref(), Some(PHONE));
        assert_eq!(verified.verification_method, Some(sms.clone()));

        let validate = ValidateChallengeRequest::new(tracked.token.clone()).with_user_id(&user);
        let validated = client.ok(&validate.with_action("signIn"));
        assert!(validated.is_valid, "{flavor:?}: {validated:?}");
        assert_eq!(validated.state, Some(UserActionState::ChallengeSucceeded));
        assert_eq!(validated.action.as_deref(), Some("signIn"));
        assert_eq!(validated.user_id.as_deref(), Some(user.as_str()));
        assert_eq!(validated.idempotency_key.as_deref(), Some(key.as_str()));
        assert_eq!(validated.verification_method, Some(sms));

        // The action's record agrees.
        let action = client.ok(&GetActionRequest::new(&user, "signIn", &key));
        assert_eq!(action.state, UserActionState::ChallengeSucceeded);
        let actions = client.ok(&QueryUserActionsRequest::new(&user).with_code("signIn"));
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].idempotency_key, key);

        // Session: create, validate, refresh, revoke.
        let session = client.ok(&CreateSessionRequest::new("web-app", tracked.token.clone()));
        let checked = client.ok(&ValidateSessionRequest::new(session.access_token.clone()));
        assert_eq!(checked.user.user_id, user);
        assert!(checked.expires_at > now_secs());

        let refresh = RefreshSessionRequest::new(session.refresh_token.clone());
        let refreshed = client.ok(&refresh);
        let (new, old) = (&refreshed, &session);
        assert_ne!(
            new.access_token.expose_secret(),
            old.access_token.expose_secret()
        );
        assert_ne!(
            new.refresh_token.expose_secret(),
            old.refresh_token.expose_secret()
        );
        let reused = api_error(client.send(&refresh), "refresh with the old refresh token");
        assert_eq!(reused.status, 400);
        assert_eq!(reused.code, Some(ErrorCode::InvalidRequest));
        let replaced = ValidateSessionRequest::new(session.access_token.clone());
        api_error(
            client.send(&replaced),
            "validate the access token replaced by refresh",
        );
        let current = ValidateSessionRequest::new(refreshed.access_token.clone());
        assert_eq!(client.ok(&current).user.user_id, user);

        client.ok(&RevokeSessionRequest::new(refreshed.access_token.clone()));
        let revoked = api_error(client.send(&current), "validate a revoked session");
        assert_eq!(revoked.status, 400);
    }
}

// (b) ------------------------------------------------------------------------

#[test]
fn wrong_code_is_not_verified_and_the_token_stays_invalid() {
    use VerificationFailureReason::{CodeInvalidOrExpired, MaxAttemptsExceeded};
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "bob");
        enroll_sms(&client, &user);
        let (tracked, challenge_id) = track_and_challenge(&client, &user, "signIn");
        let code = fake.last_code().expect("a code was sent");
        let verify = |code: &str| client.ok(&VerifyRequest::new(&challenge_id, code));

        let verified = verify(wrong_code(&code));
        assert!(!verified.is_verified);
        assert_eq!(verified.failure_reason, Some(CodeInvalidOrExpired));

        let validated = validate(&client, &tracked.token);
        assert!(!validated.is_valid, "{flavor:?}: {validated:?}");
        assert_eq!(validated.state, Some(UserActionState::ChallengeRequired));

        // Two more wrong codes use up the attempts: then even the right one fails.
        for _ in 0..2 {
            assert!(!verify(wrong_code(&code)).is_verified);
        }
        let locked = verify(&code);
        assert!(!locked.is_verified);
        assert_eq!(locked.failure_reason, Some(MaxAttemptsExceeded));
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

        let tracked = client.ok(&TrackRequest::new(&user, "withdraw"));
        assert_eq!(tracked.state, UserActionState::Block);

        let validated = validate(&client, &tracked.token);
        assert!(!validated.is_valid, "{flavor:?}: {validated:?}");
        assert_eq!(validated.state, Some(UserActionState::Block));

        // No challenge can be started for it either.
        let challenge = ChallengeRequest::new(VerificationMethod::Sms, "withdraw")
            .with_idempotency_key(tracked.idempotency_key);
        let refused = api_error(client.send(&challenge), "challenge a blocked action");
        assert_eq!(refused.status, 400);

        // Other actions are unaffected.
        let sign_in = client.ok(&TrackRequest::new(user, "signIn"));
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
        assert!(
            client
                .ok(&VerifyRequest::new(challenge_id, code))
                .is_verified
        );
        let first = validate(&client, &tracked.token);
        assert!(first.is_valid, "{flavor:?}: {first:?}");
        let second = validate(&client, &tracked.token);
        assert!(!second.is_valid, "{flavor:?}: {second:?}");
        assert!(second.error.is_some(), "{second:?}");

        // Expired: an allowed action's token, expired before validation.
        let allowed = client.ok(&TrackRequest::new(user_id(flavor, "erin"), "signIn"));
        assert_eq!(allowed.state, UserActionState::Allow);
        fake.advance(std::time::Duration::from_secs(10 * 60 + 1));
        let expired = validate(&client, &allowed.token);
        assert!(!expired.is_valid, "{flavor:?}: {expired:?}");
        assert!(expired.error.is_some(), "{expired:?}");
        // Nor can it open a session.
        let create = CreateSessionRequest::new("web-app", allowed.token);
        api_error(
            client.send(&create),
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
        let tracked = client.ok(&TrackRequest::new(&user, "signIn"));
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
        let page = client.ok(&request);
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

/// Gives the users `members` the email `email`; returns their ids, sorted.
fn team(client: &AnyClient, email: &str, members: impl Iterator<Item = String>) -> Vec<String> {
    let mut team: Vec<String> = members.collect();
    for member in &team {
        client.ok(&UpdateUserRequest::new(member).with_email(email));
    }
    team.sort();
    team
}

/// Five users `{name}-user-{i}` sharing an email (set up over ureq): their
/// sorted ids, and the query for them two per page.
fn team_query(fake: &FakeAuthsignal, name: &str) -> (Vec<String>, QueryUsersRequest) {
    let email = format!("{name}@example.com");
    let members = (0..5).map(|i| format!("{name}-user-{i}"));
    let team = team(&client(fake, Flavor::Ureq), &email, members);
    (
        team,
        QueryUsersRequest::new().with_email(email).with_limit(2u32),
    )
}

/// An async (hyper) client of the fake; call it inside the runtime.
fn hyper_client(fake: &FakeAuthsignal) -> authsignal_hyper::Client {
    let builder = authsignal_hyper::Client::builder(fake.secret());
    builder
        .with_base_url(fake.base_url())
        .build()
        .expect("hyper client")
}

#[test]
fn user_administration() {
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let client = client(&fake, flavor);
        let user = user_id(flavor, "grace");

        // Update, then read back.
        let update = UpdateUserRequest::new(&user).with_email("grace@example.com");
        let update = update.with_display_name("Grace H");
        let updated = client.ok(&update.with_custom(json!({"tier": "gold"})));
        assert_eq!(updated.user_id.as_deref(), Some(user.as_str()));
        assert_eq!(
            updated.attributes.email.as_deref(),
            Some("grace@example.com")
        );
        assert_eq!(updated.attributes.display_name.as_deref(), Some("Grace H"));
        assert_eq!(updated.attributes.custom, Some(json!({"tier": "gold"})));

        let got = client.ok(&GetUserRequest::new(&user));
        assert_eq!(got.email.as_deref(), Some("grace@example.com"));
        assert_eq!(got.display_name.as_deref(), Some("Grace H"));
        assert_eq!(got.custom, Some(json!({"tier": "gold"})));
        assert!(!got.is_enrolled);

        // Pagination over 5 users sharing an email, 2 per page.
        let team_email = format!("team-{flavor:?}@example.com").to_lowercase();
        let members = (0..5).map(|i| user_id(flavor, &format!("member-{i}")));
        let team = team(&client, &team_email, members);
        let (sizes, ids) = walk_pages(&client, &team_email, 2);
        assert_eq!(sizes, [2, 2, 1], "{flavor:?}");
        assert_eq!(ids, team, "{flavor:?}");

        // Authenticators: list, delete one.
        let sms = enroll_sms(&client, &user);
        let enroll = EnrollVerifiedAuthenticatorRequest::new(&user, VerificationMethod::EmailOtp);
        let enrolled = client.ok(&enroll.with_email("grace@example.com"));
        let email_otp = enrolled.authenticator.user_authenticator_id;
        let list = GetAuthenticatorsRequest::new(&user);
        let listed = client.ok(&list);
        let mut methods: Vec<_> = (listed.iter())
            .map(|a| {
                (
                    a.user_authenticator_id.clone(),
                    a.verification_method.clone(),
                )
            })
            .collect();
        methods.sort_by(|a, b| a.1.as_str().cmp(b.1.as_str()));
        let want = [
            (email_otp.clone(), VerificationMethod::EmailOtp),
            (sms.clone(), VerificationMethod::Sms),
        ];
        assert_eq!(methods, want);
        assert!(client.ok(&GetUserRequest::new(&user)).is_enrolled);

        client.ok(&DeleteAuthenticatorRequest::new(&user, &sms));
        let listed = client.ok(&list);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].user_authenticator_id, email_otp);
        let delete = DeleteAuthenticatorRequest::new(&user, sms);
        let gone = api_error(client.send(&delete), "delete an authenticator twice");
        assert_eq!(gone.status, 404);

        // Delete the user: it reads as not enrolled, with no authenticators.
        client.ok(&DeleteUserRequest::new(&user));
        let got = client.ok(&GetUserRequest::new(&user));
        assert!(!got.is_enrolled);
        assert_eq!(got.email, None);
        assert!(client.ok(&list).is_empty());
    }
}

/// The pages helpers over real transports (their logic is walked every way
/// offline in `authsignal-core/tests/paging.rs`): the blocking client's
/// `users()` (ureq), and the async pages (hyper) as a `Stream`, on a spawned
/// task of a multi-threaded runtime.
#[test]
fn query_users_pages_walk_every_page_on_ureq_and_as_a_spawned_stream_on_hyper() {
    use futures_util::{StreamExt, TryStreamExt};

    let fake = FakeAuthsignal::start();
    let (team, request) = team_query(&fake, "page");
    let blocking = authsignal_ureq::Client::builder(fake.secret())
        .with_base_url(fake.base_url())
        .build()
        .expect("ureq client");
    let users = blocking.query_users_pages(request.clone()).users();
    let ids: Vec<String> = users.map(|user| user.expect("user").user_id).collect();
    assert_eq!(ids, team);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (sizes, ids) = runtime.block_on(async {
        let client = hyper_client(&fake);
        // The stream is `Send`: it can run on another task.
        let task = tokio::spawn(async move {
            let pages = client.query_users_pages(request.clone());
            let sizes: Vec<usize> = pages
                .map(|page| page.expect("page").users.len())
                .collect()
                .await;
            let pages = client.query_users_pages(request);
            let ids = pages.map_ok(|page| {
                page.users
                    .into_iter()
                    .map(|u| u.user_id)
                    .collect::<Vec<_>>()
            });
            (sizes, ids.try_concat().await.expect("pages"))
        });
        task.await.expect("task")
    });
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(ids, team);
}

// (g) ------------------------------------------------------------------------

#[test]
fn wrong_secret_is_unauthorized() {
    let fake = FakeAuthsignal::start();
    let unauthorized = Some(ErrorCode::Unauthorized);
    for flavor in Flavor::ALL {
        let client = AnyClient::new(flavor, config(&fake, "sk_test_not_the_right_one"));
        let user = user_id(flavor, "mallory");

        let get = GetUserRequest::new(&user);
        let error = api_error(client.send(&get), "get user with a wrong secret");
        let description = error.description.as_deref();
        assert!(description.is_some_and(|d| !d.is_empty()), "{error:?}");
        assert_eq!(error.status, 401);
        assert_eq!(error.code, unauthorized);
        assert_eq!(error.attempts, 1);

        let track = TrackRequest::new(user, "signIn");
        let error = api_error(client.send(&track), "track with a wrong secret");
        assert_eq!(error.status, 401);
        assert_eq!(error.code, unauthorized);
    }
    // Every flavor reached the fake twice and was turned away.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2 * Flavor::ALL.len());
    let right = fake.authorization_header();
    for request in &requests {
        assert_eq!(request.status, Some(http::StatusCode::UNAUTHORIZED));
        assert_ne!(request.header("authorization"), Some(right.as_str()));
    }
}

// (h) ------------------------------------------------------------------------

/// A client for the fake whose Call Connect host is the fake's, with
/// `call_connect_secret` as Call Connect key (`None`: none set).
fn call_connect_client(fake: &FakeAuthsignal, flavor: Flavor, key: Option<&str>) -> AnyClient {
    let mut builder = config(fake, fake.secret()).with_call_connect_url(fake.call_connect_url());
    if let Some(key) = key {
        builder = builder.with_call_connect_secret(key);
    }
    AnyClient::new(flavor, builder)
}

#[test]
fn call_connect_runs_with_its_own_key_and_never_with_the_server_api_key() {
    let fake = FakeAuthsignal::start();
    let whatsapp = CallConnectMessageChannel::Whatsapp;
    for flavor in Flavor::ALL {
        let client = call_connect_client(&fake, flavor, Some(fake.call_connect_secret()));
        let reference = format!("{flavor:?}-call-1");
        let start = StartCallRequest::new(&reference).with_phone_number(PHONE);
        let started = client.ok(&start.with_channel(whatsapp.clone()));
        assert!(started.message_id.is_some_and(|id| !id.is_empty()));
        assert_eq!(started.channel, Some(whatsapp.clone()));
        assert_eq!(started.phone_number.as_deref(), Some(PHONE));
        assert_eq!(fake.call_outcome(&reference), None);

        let finish = FinishCallRequest::new(&reference, CallState::ChallengeSucceeded);
        assert!(client.ok(&finish).success);
        let outcome = fake.call_outcome(&reference);
        assert_eq!(outcome, Some(CallState::ChallengeSucceeded));

        // The Server API key, given as the Call Connect key, is refused.
        let confused = call_connect_client(&fake, flavor, Some(fake.secret()));
        let start = StartCallRequest::new("x").with_phone_number(PHONE);
        let error = api_error(confused.send(&start), "start call with the Server API key");
        assert_eq!(error.status, 401);

        // Without a Call Connect key nothing is sent at all.
        let before = fake.request_count();
        let without = call_connect_client(&fake, flavor, None);
        let start = StartCallRequest::new("y").with_phone_number(PHONE);
        let error = without.send(&start).unwrap_err();
        let missing = matches!(
            error,
            Error::InvalidInput(InvalidInput::MissingCallConnectSecret)
        );
        assert!(missing, "{error:?}");
        assert_eq!(fake.request_count(), before);
    }
    // What reached Call Connect carried its key, never the Server API key.
    let server_api = fake.authorization_header();
    let connect = fake.call_connect_authorization_header();
    let requests = fake.requests();
    let calls: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/call/"))
        .collect();
    let want = 3 * Flavor::ALL.len();
    assert_eq!(
        calls.len(),
        want,
        "start, finish and the refused start, per flavor"
    );
    for request in calls {
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
        let create = CreatePaymentSessionRequest::new("term-A", 42.5, &reference, "NZD");
        let created = client.ok(&create);
        assert_eq!(created.status, PaymentSessionStatus::Pending);
        assert_eq!(created.reference.as_deref(), Some(reference.as_str()));

        let poll = GetPaymentSessionRequest::new("term-A", created.challenge_id.clone());
        let polled = client.ok(&poll);
        assert_eq!(polled, created);
        assert!(!polled.status.is_final());

        // The customer approves at the terminal.
        let completed = PaymentSessionStatus::Completed;
        assert!(fake.set_payment_session_status(&created.challenge_id, completed));
        let done = client.ok(&poll);
        assert_eq!(done.status, PaymentSessionStatus::Completed);
        assert!(done.status.is_final());

        // A terminal that is not paired is turned away.
        let unpaired = GetPaymentSessionRequest::new("term-B", created.challenge_id.clone());
        let error = api_error(client.send(&unpaired), "poll from an unpaired terminal");
        assert_eq!(error.status, 401);
        assert_eq!(error.code, Some(ErrorCode::Unauthorized));
    }
    // Every Terminal request carried the terminal id and no secret key.
    let requests = fake.requests();
    let terminal_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/v1/terminal/"))
        .collect();
    assert_eq!(terminal_requests.len(), 4 * Flavor::ALL.len());
    for request in terminal_requests {
        assert_eq!(request.header("authorization"), None, "{}", request.path);
        assert!(request.header("x-authsignal-terminal").is_some());
        assert!(!request.raw_body.contains(fake.secret()));
        let id_in_body = request.raw_body.contains("term-");
        assert!(!id_in_body, "the id goes in the header only");
    }
}

#[test]
fn the_tenant_authenticator_configurations_are_listed() {
    use VerificationMethod::{Passkey, Sms};
    let fake = FakeAuthsignal::start();
    for flavor in Flavor::ALL {
        let configurations =
            client(&fake, flavor).ok(&GetAuthenticatorConfigurationsRequest::new());
        assert!(configurations.len() >= 5);
        let sms = configurations.iter().find(|c| c.verification_method == Sms);
        let sms = sms.expect("an SMS configuration");
        assert!(sms.is_active);
        assert_eq!(sms.sms_channel, Some(SmsChannel::Whatsapp));
        assert!(
            configurations
                .iter()
                .any(|c| c.verification_method == Passkey && c.is_active)
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
        let start =
            ChallengeRequest::new(VerificationMethod::Sms, "signUp").with_phone_number(PHONE);
        let started = client.ok(&start);
        let resent = client.ok(&ChallengeRequest::resend(started.challenge_id.clone()));
        assert_eq!(resent.challenge_id, started.challenge_id);
        assert!(resent.expires_at >= started.expires_at);

        // The code of the resend verifies, and the challenge is claimed.
        let id = resent.challenge_id;
        let code = fake.last_code_for(&id).expect("a re-sent code");
        let verified = client.ok(&VerifyRequest::new(&id, code));
        assert!(verified.is_verified, "{flavor:?}: {verified:?}");
        let claimed = client.ok(&ClaimChallengeRequest::new(&user, &id));
        assert_eq!(claimed.verification_method, Some(VerificationMethod::Sms));
        let validated = validate(&client, &claimed.token);
        assert!(validated.is_valid, "{validated:?}");
        assert_eq!(validated.user_id.as_deref(), Some(user.as_str()));

        // A claimed challenge cannot be re-sent.
        let resend = ChallengeRequest::resend(id);
        let error = api_error(client.send(&resend), "resend a claimed challenge");
        assert_eq!(error.status, 400);
    }
    // The resends went out as `{"challengeId": …}` alone; the claims as the
    // documented three fields at most.
    let requests = fake.requests();
    for request in requests.iter().filter(|r| r.path == "/v1/challenge") {
        let body = request.body.as_ref().expect("a JSON body");
        if body.get("verificationMethod").is_none() {
            let keys: Vec<_> = body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["challengeId"], "{}", request.raw_body);
        }
    }
    for request in requests.iter().filter(|r| r.path == "/v1/claim") {
        let body = request.body.as_ref().expect("a JSON body");
        let keys: Vec<_> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["challengeId", "userId"], "{}", request.raw_body);
    }
}
