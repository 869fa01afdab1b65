//! The clients' helpers over closure transports: paging through users with
//! the cursor (blocking iterator and async `next_page`), and a point of sale
//! polling a payment session until its status is final.

use std::{
    cell::RefCell,
    future::Future,
    pin::pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Wake},
};

use authsignal_core::{
    AsyncClient, Client, Config, CreatePaymentSessionRequest, GetPaymentSessionRequest,
    NoWaitTimer, PaymentSessionStatus, QueryUsersRequest, RetryPolicy, TERMINAL_HEADER,
    TransportError,
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

/// A fake `GET /users` server: answers each cursor with a canned page and
/// records the query strings it saw.
fn paging_transport<'a>(
    seen: &'a RefCell<Vec<String>>,
    pages: &'a [(&'a str, u16, &'a str)],
) -> impl Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> + 'a {
    move |request| {
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri().path(), "/v1/users");
        let query = request.uri().query().unwrap_or("").to_owned();
        seen.borrow_mut().push(query.clone());
        let (_, status, body) = pages
            .iter()
            .find(|(q, _, _)| *q == query)
            .unwrap_or_else(|| panic!("unexpected query {query:?}"));
        Ok(response(*status, body))
    }
}

const PAGE_1: &str =
    r#"{"users":[{"userId":"user-1"},{"userId":"user-2"}],"lastEvaluatedUserId":"user-2"}"#;
const PAGE_2: &str =
    r#"{"users":[{"userId":"user-3"},{"userId":"user-4"}],"lastEvaluatedUserId":"user-4"}"#;
const PAGE_3: &str = r#"{"users":[{"userId":"user-5"}]}"#;

#[test]
fn pages_walk_the_cursor_and_stop_after_the_page_without_one() {
    let seen = RefCell::new(Vec::new());
    let pages = [
        ("email=a%40example.com&limit=2", 200, PAGE_1),
        (
            "email=a%40example.com&limit=2&lastEvaluatedUserId=user-2",
            200,
            PAGE_2,
        ),
        (
            "email=a%40example.com&limit=2&lastEvaluatedUserId=user-4",
            200,
            PAGE_3,
        ),
    ];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let request = QueryUsersRequest::new()
        .with_email("a@example.com")
        .with_limit(2u32);
    let mut iter = client.query_users_pages(request.clone());
    let pages: Vec<(usize, Option<String>)> = iter
        .by_ref()
        .map(|page| page.unwrap())
        .map(|page| (page.users.len(), page.last_evaluated_user_id))
        .collect();
    let cursors = [Some("user-2".into()), Some("user-4".into()), None];
    assert_eq!(
        pages,
        [2, 2, 1].into_iter().zip(cursors).collect::<Vec<_>>()
    );
    assert!(iter.next().is_none(), "fused after the last page");
    assert_eq!(seen.borrow().len(), 3, "exactly three requests");
    let ids = client
        .query_users_pages(request)
        .users()
        .map(|user| user.map(|u| u.user_id))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(ids, ["user-1", "user-2", "user-3", "user-4", "user-5"]);
    assert_eq!(seen.borrow().len(), 6);
}

#[test]
fn users_flattens_every_page_in_order() {
    let seen = RefCell::new(Vec::new());
    let pages = [
        ("email=a%40example.com", 200, PAGE_1),
        (
            "email=a%40example.com&lastEvaluatedUserId=user-2",
            200,
            r#"{"users":[],"lastEvaluatedUserId":"user-3"}"#,
        ),
        (
            "email=a%40example.com&lastEvaluatedUserId=user-3",
            200,
            PAGE_3,
        ),
    ];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let ids = client
        .query_users_pages(QueryUsersRequest::new().with_email("a@example.com"))
        .users()
        .map(|user| user.map(|u| u.user_id))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(
        ids,
        ["user-1", "user-2", "user-5"],
        "an empty middle page does not stop the walk"
    );
    assert_eq!(seen.borrow().len(), 3);
}

#[test]
fn pages_yield_the_error_then_nothing() {
    let seen = RefCell::new(Vec::new());
    let pages = [
        ("username=x", 200, PAGE_1),
        (
            "username=x&lastEvaluatedUserId=user-2",
            400,
            r#"{"error":"invalid_request","errorDescription":"bad cursor"}"#,
        ),
    ];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let mut iter = client.query_users_pages(QueryUsersRequest::new().with_username("x"));
    assert_eq!(iter.next().unwrap().unwrap().users.len(), 2);
    let error = iter.next().unwrap().unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::BAD_REQUEST));
    assert_eq!(error.code().map(|c| c.as_str()), Some("invalid_request"));
    assert!(iter.next().is_none());
    assert!(iter.next().is_none());
    assert_eq!(seen.borrow().len(), 2, "no request after the error");

    seen.borrow_mut().clear();
    let mut users = client
        .query_users_pages(QueryUsersRequest::new().with_username("x"))
        .users();
    assert_eq!(users.next().unwrap().unwrap().user_id, "user-1");
    assert_eq!(users.next().unwrap().unwrap().user_id, "user-2");
    assert!(users.next().unwrap().is_err());
    assert!(users.next().is_none());
}

#[test]
fn a_server_error_ends_the_pages_after_the_pages_before_it() {
    let seen = RefCell::new(Vec::new());
    let pages = [
        ("email=a%40example.com", 200, PAGE_1),
        (
            "email=a%40example.com&lastEvaluatedUserId=user-2",
            500,
            r#"{"error":"internal_error","errorDescription":"Something went wrong"}"#,
        ),
    ];
    let config = Config::builder("sk_test_client")
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap();
    let client = Client::with_transport(config, paging_transport(&seen, &pages));
    let mut iter = client.query_users_pages(QueryUsersRequest::new().with_email("a@example.com"));
    let page = iter.next().unwrap().unwrap();
    let ids: Vec<_> = page.users.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(ids, ["user-1", "user-2"]);
    let error = iter.next().unwrap().unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(error.code().map(|c| c.as_str()), Some("internal_error"));
    assert!(iter.next().is_none());
    assert!(iter.next().is_none());
    assert_eq!(
        seen.borrow().len(),
        2,
        "one request per page, none after the error"
    );
}

#[test]
fn pages_stop_when_the_cursor_does_not_move() {
    let seen = RefCell::new(Vec::new());
    let stuck = r#"{"users":[{"userId":"user-9"}],"lastEvaluatedUserId":"user-9"}"#;
    let pages = [("lastEvaluatedUserId=user-9", 200, stuck)];
    let client = Client::with_transport(config(), paging_transport(&seen, &pages));
    let request = QueryUsersRequest::new().with_last_evaluated_user_id("user-9");
    assert_eq!(client.query_users_pages(request).count(), 1);
    assert_eq!(seen.borrow().len(), 1);
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Arc::new(ThreadWaker(std::thread::current())).into();
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn async_pages_walk_the_cursor_too() {
    let seen = Mutex::new(Vec::new());
    let transport = |request: http::Request<Vec<u8>>| {
        let query = request.uri().query().unwrap_or("").to_owned();
        seen.lock().unwrap().push(query.clone());
        let body = match query.as_str() {
            "email=a%40example.com" => PAGE_1,
            "email=a%40example.com&lastEvaluatedUserId=user-2" => PAGE_3,
            other => panic!("unexpected query {other:?}"),
        };
        std::future::ready(Ok::<_, TransportError>(response(200, body)))
    };
    let client = AsyncClient::with_transport(config(), transport, NoWaitTimer);
    let mut pages = client.query_users_pages(QueryUsersRequest::new().with_email("a@example.com"));
    let mut ids = Vec::new();
    while let Some(page) = block_on(pages.next_page()) {
        ids.extend(page.unwrap().users.into_iter().map(|u| u.user_id));
    }
    assert_eq!(ids, ["user-1", "user-2", "user-5"]);
    assert!(block_on(pages.next_page()).is_none());
    assert_eq!(seen.lock().unwrap().len(), 2);
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

#[test]
fn a_pages_iterator_over_a_token_query_hides_the_token() {
    let client = Client::with_transport(config(), |_: http::Request<Vec<u8>>| {
        Ok::<_, TransportError>(response(200, r#"{"users":[]}"#))
    });
    let pages = client.query_users_pages(QueryUsersRequest::new().with_token("SECRET-TOKEN-1"));
    let debug = format!("{pages:?}");
    assert!(!debug.contains("SECRET-TOKEN-1"), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}
