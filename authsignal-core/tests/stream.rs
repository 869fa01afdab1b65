//! `AsyncQueryUsersPages` as a `futures_core::Stream` (the `stream`
//! feature), polled offline over closure transports: with `StreamExt`, and
//! by hand through `poll_next` to see `Pending`, wake-ups and the mix with
//! `next_page`.
#![cfg(feature = "stream")]

use std::{
    future::Future,
    pin::{Pin, pin},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll, Wake, Waker},
};

use authsignal_core::{
    AsyncClient, AsyncQueryUsersPages, AsyncTransport, Config, Error, NoWaitTimer,
    QueryUsersRequest, QueryUsersResponse, RetryPolicy, TransportError, http,
};
use futures_core::{FusedStream, Stream};
use futures_util::{StreamExt, TryStreamExt};

const PAGE_1: &str =
    r#"{"users":[{"userId":"user-1"},{"userId":"user-2"}],"lastEvaluatedUserId":"user-2"}"#;
const PAGE_2: &str = r#"{"users":[{"userId":"user-3"}],"lastEvaluatedUserId":"user-3"}"#;
const PAGE_3: &str = r#"{"users":[{"userId":"user-4"}]}"#;

fn config() -> Config {
    Config::builder("sk_test_stream")
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap()
}

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

/// Counts wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `future` to completion on this thread (the futures here wake
/// themselves before returning `Pending`).
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(CountingWaker::default()));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// A future that returns `Pending` once (waking its task) before `value`,
/// the way a real transport waits for the network.
struct YieldOnce<T>(Option<T>, bool);

impl<T: Unpin> Future for YieldOnce<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if !self.1 {
            self.1 = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.0.take().expect("polled after completion"))
    }
}

/// A transport serving the three pages by cursor, recording the queries it
/// saw; each answer takes one `Pending` first.
fn three_pages(seen: &Mutex<Vec<String>>) -> impl AsyncTransport + Sync + '_ {
    move |request: http::Request<Vec<u8>>| {
        let query = request.uri().query().unwrap_or("").to_owned();
        seen.lock().unwrap().push(query.clone());
        let body = match query.as_str() {
            "email=a%40example.com" => PAGE_1,
            "email=a%40example.com&lastEvaluatedUserId=user-2" => PAGE_2,
            "email=a%40example.com&lastEvaluatedUserId=user-3" => PAGE_3,
            other => panic!("unexpected query {other:?}"),
        };
        YieldOnce(Some(Ok::<_, TransportError>(response(200, body))), false)
    }
}

/// The query every test here pages through.
fn by_email() -> QueryUsersRequest {
    QueryUsersRequest::new().with_email("a@example.com")
}

fn ids(page: &QueryUsersResponse) -> Vec<&str> {
    page.users.iter().map(|u| u.user_id.as_str()).collect()
}

#[test]
fn the_pages_stream_to_the_end_with_stream_ext() {
    let seen = Mutex::new(Vec::new());
    let client = AsyncClient::with_transport(config(), three_pages(&seen), NoWaitTimer);
    let mut pages = client.query_users_pages(by_email());
    assert!(!pages.is_terminated());
    assert_eq!(pages.size_hint(), (1, None));

    let collected: Vec<_> = block_on((&mut pages).collect::<Vec<_>>());
    let collected: Vec<_> = collected.into_iter().map(Result::unwrap).collect();
    let all: Vec<Vec<&str>> = collected.iter().map(ids).collect();
    assert_eq!(
        all,
        [vec!["user-1", "user-2"], vec!["user-3"], vec!["user-4"]]
    );
    assert_eq!(collected[2].last_evaluated_user_id, None);
    let query = "email=a%40example.com";
    let after = |id: &str| format!("{query}&lastEvaluatedUserId={id}");
    let expected = [query.to_owned(), after("user-2"), after("user-3")];
    assert_eq!(*seen.lock().unwrap(), expected);

    // Over: terminated, nothing more, nothing sent.
    assert!(pages.is_terminated());
    assert_eq!(pages.size_hint(), (0, Some(0)));
    assert!(block_on(pages.next()).is_none());
    assert!(block_on(pages.next_page()).is_none());
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn try_stream_ext_flattens_pages_into_users() {
    let seen = Mutex::new(Vec::new());
    let client = AsyncClient::with_transport(config(), three_pages(&seen), NoWaitTimer);
    let pages = client.query_users_pages(by_email());
    let ids = |page: QueryUsersResponse| page.users.into_iter().map(|u| u.user_id);
    let users = block_on(
        pages
            .map_ok(|page| ids(page).collect::<Vec<_>>())
            .try_concat(),
    );
    let users = users.unwrap();
    assert_eq!(users, ["user-1", "user-2", "user-3", "user-4"]);
}

#[test]
fn the_stream_yields_an_error_then_ends() {
    let calls = AtomicUsize::new(0);
    let transport = |_: http::Request<Vec<u8>>| {
        let body = match calls.fetch_add(1, Ordering::SeqCst) {
            0 => response(200, PAGE_1),
            _ => response(400, r#"{"errorCode":"invalid_request"}"#),
        };
        std::future::ready(Ok::<_, TransportError>(body))
    };
    let client = AsyncClient::with_transport(config(), transport, NoWaitTimer);
    let items: Vec<Result<_, Error>> = block_on(client.query_users_pages(by_email()).collect());
    assert_eq!(items.len(), 2);
    assert_eq!(ids(items[0].as_ref().unwrap()), ["user-1", "user-2"]);
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(calls.load(Ordering::SeqCst), 2, "nothing after the error");
}

#[test]
fn polling_by_hand_sees_pending_and_the_wake_up() {
    let seen = Mutex::new(Vec::new());
    let client = AsyncClient::with_transport(config(), three_pages(&seen), NoWaitTimer);
    let mut pages = client.query_users_pages(by_email());
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);

    // The first poll sends the request and waits for the answer.
    assert!(Pin::new(&mut pages).poll_next(&mut cx).is_pending());
    let wakes = counter.0.load(Ordering::SeqCst);
    assert_eq!(wakes, 1, "the transport woke the task");
    assert!(!pages.is_terminated());
    assert!(format!("{pages:?}").contains("fetching: true"), "{pages:?}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    // Polled again after the wake-up, the page is ready; the request was
    // sent once.
    match Pin::new(&mut pages).poll_next(&mut cx) {
        Poll::Ready(Some(Ok(page))) => assert_eq!(ids(&page), ["user-1", "user-2"]),
        other => panic!("expected the first page, got {other:?}"),
    }
    assert_eq!(seen.lock().unwrap().len(), 1);
    let shown = format!("{pages:?}");
    assert!(shown.contains("fetching: false"), "{shown}");
}

#[test]
fn next_page_finishes_the_page_the_stream_started() {
    let seen = Mutex::new(Vec::new());
    let client = AsyncClient::with_transport(config(), three_pages(&seen), NoWaitTimer);
    let mut pages = client.query_users_pages(by_email());
    let waker = Waker::from(Arc::new(CountingWaker::default()));
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut pages).poll_next(&mut cx).is_pending());

    // `next_page` picks up the fetch in flight instead of sending another.
    let first = block_on(pages.next_page()).unwrap().unwrap();
    assert_eq!(ids(&first), ["user-1", "user-2"]);
    assert_eq!(seen.lock().unwrap().len(), 1);
    // Then the walk goes on, by either means.
    let second = block_on(pages.next()).unwrap().unwrap();
    assert_eq!(ids(&second), ["user-3"]);
    let third = block_on(pages.next_page()).unwrap().unwrap();
    assert_eq!(ids(&third), ["user-4"]);
    assert!(block_on(pages.next()).is_none());
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn the_stream_is_send_when_the_transport_and_timer_are() {
    fn assert_send<S: Stream + Send>(_: &S) {}
    let transport = |_: http::Request<Vec<u8>>| {
        std::future::ready(Ok::<_, TransportError>(response(200, PAGE_3)))
    };
    let client = AsyncClient::with_transport(config(), transport, NoWaitTimer);
    let pages: AsyncQueryUsersPages<'_, _, _> = client.query_users_pages(QueryUsersRequest::new());
    assert_send(&pages);
    let all: Vec<_> = block_on(pages.collect::<Vec<_>>());
    assert_eq!(all.len(), 1);
}
