//! Fault injection, as a user's retry and timeout handling sees it.

use std::time::Duration;

use authsignal_core::{
    Client, Error, ErrorCode, GetUserRequest, NoWaitTimer, RetryPolicy, TrackRequest,
    TransportErrorKind,
};
use authsignal_testkit::{FakeAuthsignal, Fault, Route};
use http::{Method, StatusCode};

fn track_route() -> Route {
    Route::matching(Method::POST, "/v1/users/*/actions/*")
}

#[test]
fn too_many_requests_carries_retry_after_and_is_not_processed() {
    let fake = FakeAuthsignal::new();
    let client = Client::with_transport(fake.config(), fake.transport());
    let retry_after = Duration::from_millis(1500);
    fake.fail_next(1, Fault::TooManyRequests { retry_after }, track_route());
    // A request the route does not match is untouched.
    assert!(
        !client
            .get_user(GetUserRequest::new("alice"))
            .unwrap()
            .is_enrolled
    );
    let Err(Error::Api(error)) = client.track(TrackRequest::new("alice", "signIn")) else {
        panic!("expected an API error");
    };
    let (code, status) = (
        Some(ErrorCode::TooManyRequests),
        StatusCode::TOO_MANY_REQUESTS,
    );
    // The delay is rounded up to whole seconds.
    let seen = (error.status, error.code, error.retry_after, error.attempts);
    assert_eq!(seen, (status, code, Some(Duration::from_secs(2)), 1));
    // Not processed: no action exists; the next track goes through.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].status, Some(StatusCode::TOO_MANY_REQUESTS));
    let tracked = client.track(TrackRequest::new("alice", "signIn")).unwrap();
    let state = fake.action_state("alice", "signIn", &tracked.idempotency_key);
    assert!(state.is_some());
    assert_eq!(fake.request_count(), 3);
}

#[test]
fn a_client_retries_through_server_errors() {
    let fake = FakeAuthsignal::new();
    let config = fake
        .config_builder::<authsignal_core::Config>()
        .with_retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    let client = Client::with_transport(config, fake.transport()).with_timer(NoWaitTimer);
    let unavailable = StatusCode::SERVICE_UNAVAILABLE;
    let users = Route::matching(Method::GET, "/v1/users/*");
    fake.fail_next(2, Fault::Status(unavailable), users);
    let user = client.get_user(GetUserRequest::new("bob"));
    assert!(!user.expect("the third try works").is_enrolled);
    let statuses: Vec<_> = fake.requests().into_iter().map(|r| r.status).collect();
    let expected = [Some(unavailable), Some(unavailable), Some(StatusCode::OK)];
    assert_eq!(statuses, expected);
    // Used up: the next call is answered normally at once.
    client.get_user(GetUserRequest::new("bob")).unwrap();
    assert_eq!(fake.request_count(), 4);
}

#[test]
fn server_error_body_has_the_error_shape() {
    let fake = FakeAuthsignal::new();
    let client = Client::with_transport(fake.config(), fake.transport());
    fake.fail_next(1, Fault::Status(StatusCode::BAD_GATEWAY), Route::All);
    let Err(Error::Api(error)) = client.get_user(GetUserRequest::new("a")) else {
        panic!("expected an API error");
    };
    assert_eq!(error.status, StatusCode::BAD_GATEWAY);
    assert_eq!(error.code, Some(ErrorCode::from("internal_error")));
    assert!(error.description.is_some_and(|d| d.contains("502")));
}

#[test]
fn a_dropped_connection_is_a_transport_error_in_process_and_on_the_socket() {
    for fake in [FakeAuthsignal::new(), FakeAuthsignal::start()] {
        fake.fail_next(1, Fault::DropConnection, track_route());
        let result = match fake.addr() {
            None => Client::with_transport(fake.config(), fake.transport())
                .track(TrackRequest::new("carol", "signIn")),
            Some(_) => fake
                .config_builder::<authsignal_ureq::Client>()
                .build()
                .unwrap()
                .track(TrackRequest::new("carol", "signIn")),
        };
        let Err(Error::Transport { source, attempts }) = result else {
            panic!("expected a transport error, got {result:?}");
        };
        assert_eq!(attempts, 1);
        assert!(source.kind().request_may_have_been_sent(), "{source:?}");
        if fake.addr().is_none() {
            assert_eq!(source.kind(), TransportErrorKind::Io);
        }
        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].status, None);
        assert_eq!(requests[0].path, "/v1/users/carol/actions/signIn");
        // Not processed: carol was never created by the track.
        fake.clear_requests();
        let user = Client::with_transport(fake.config(), fake.transport())
            .get_user(GetUserRequest::new("carol"))
            .unwrap();
        assert!(!user.is_enrolled);
    }
}

#[test]
fn a_delay_moves_the_clock_in_process_and_times_out_on_the_socket() {
    // In process: no sleeping; the fake's clock moves instead, so an OTP
    // sent before the delay has expired after it.
    let fake = FakeAuthsignal::new();
    let client = Client::with_transport(fake.config(), fake.transport());
    fake.fail_next(1, Fault::Delay(Duration::from_secs(6 * 60)), Route::All);
    let started = std::time::Instant::now();
    client
        .get_user(GetUserRequest::new("dan"))
        .expect("answered after the delay");
    assert!(started.elapsed() < Duration::from_secs(5));
    let tracked = client.track(TrackRequest::new("dan", "signIn")).unwrap();
    fake.fail_next(1, Fault::Delay(Duration::from_secs(11 * 60)), Route::All);
    client.get_user(GetUserRequest::new("dan")).unwrap();
    let validated = client
        .validate_challenge(authsignal_core::ValidateChallengeRequest::new(
            tracked.token,
        ))
        .unwrap();
    assert!(!validated.is_valid, "the token expired during the delay");

    // On the socket the answer is held back for real: the client times out.
    let fake = FakeAuthsignal::start();
    let client: authsignal_ureq::Client = fake
        .config_builder()
        .with_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    fake.fail_next(1, Fault::Delay(Duration::from_secs(3)), Route::All);
    let error = client.get_user(GetUserRequest::new("dan")).unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        !client
            .get_user(GetUserRequest::new("dan"))
            .unwrap()
            .is_enrolled
    );
}

#[test]
fn rules_apply_in_order_and_can_be_cleared() {
    let fake = FakeAuthsignal::new();
    let client = Client::with_transport(fake.config(), fake.transport());
    let (internal, bad_gateway) = (StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY);
    fake.fail_next(1, Fault::Status(internal), Route::All);
    fake.fail_next(1, Fault::Status(bad_gateway), Route::All);
    let status = || {
        client
            .get_user(GetUserRequest::new("a"))
            .unwrap_err()
            .status()
    };
    assert_eq!([status(), status()], [Some(internal), Some(bad_gateway)]);
    fake.fail_next(5, Fault::DropConnection, Route::All);
    fake.clear_faults();
    assert!(client.get_user(GetUserRequest::new("a")).is_ok());
}
