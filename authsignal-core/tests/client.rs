//! A client over a closure transport as a point of sale uses it: start a
//! payment session with the terminal id alone, then poll it until its
//! status is final. (Paging through users: `paging.rs`.)

use std::cell::RefCell;

use authsignal_core::{
    Client, Config, CreatePaymentSessionRequest, GetPaymentSessionRequest, PaymentSessionStatus,
    TERMINAL_HEADER, TransportError,
    http::{self, Method, header},
};

fn config() -> Config {
    Config::builder("sk_test_client").build().unwrap()
}

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

#[test]
fn a_point_of_sale_starts_a_session_and_polls_it_through_a_client() {
    let seen = RefCell::new(Vec::new());
    let polls = RefCell::new(0);
    let transport =
        |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
            let terminal = request.headers()[&TERMINAL_HEADER]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(!request.headers().contains_key(header::AUTHORIZATION));
            seen.borrow_mut().push((
                request.method().clone(),
                request.uri().path().to_owned(),
                terminal,
            ));
            let body = if request.method() == Method::POST {
                r#"{"challengeId":"ps-9","status":"PENDING","reference":"POS-7"}"#
            } else {
                *polls.borrow_mut() += 1;
                if *polls.borrow() < 3 {
                    r#"{"challengeId":"ps-9","status":"PENDING","reference":"POS-7"}"#
                } else {
                    r#"{"challengeId":"ps-9","status":"COMPLETED","reference":"POS-7"}"#
                }
            };
            Ok(response(200, body))
        };
    let client = Client::with_transport(config(), transport);
    let session = client
        .create_payment_session(CreatePaymentSessionRequest::new(
            "term-A", 9.99, "POS-7", "NZD",
        ))
        .unwrap();
    let mut status = session.status;
    while !status.is_final() {
        status = client
            .get_payment_session(GetPaymentSessionRequest::new(
                "term-A",
                &session.challenge_id,
            ))
            .unwrap()
            .status;
    }
    assert_eq!(status, PaymentSessionStatus::Completed);
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen[0],
        (
            Method::POST,
            "/v1/terminal/payment-session".to_owned(),
            "term-A".to_owned()
        )
    );
    assert!(seen[1..].iter().all(|(m, p, t)| m == Method::GET
        && p == "/v1/terminal/payment-session/ps-9"
        && t == "term-A"));
}
