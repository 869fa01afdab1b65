//! Paging through `GET /users` with the cursor, offline over closure
//! transports. Each scenario's scripted pages are walked every way the SDK
//! offers — the blocking iterator and its `users()`, the async `next_page`,
//! and (feature `stream`) the async pages as a `futures_core::Stream` — and
//! every way must yield the same pages with one request each. Then what only
//! a stream polled by hand shows: `Pending`, the wake-up, and `next_page`
//! finishing the fetch the stream started.

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
    AsyncClient, Client, Config, Error, NoWaitTimer, QueryUsersRequest, QueryUsersResponse,
    RetryPolicy, TransportError,
    http::{self, Method},
};

const PAGE_1: &str =
    r#"{"users":[{"userId":"user-1"},{"userId":"user-2"}],"lastEvaluatedUserId":"user-2"}"#;
const PAGE_2: &str =
    r#"{"users":[{"userId":"user-3"},{"userId":"user-4"}],"lastEvaluatedUserId":"user-4"}"#;
const PAGE_3: &str = r#"{"users":[{"userId":"user-5"}]}"#;

/// What one page yields: its user ids and cursor, or the error's status and code.
type Outcome = Result<(Vec<String>, Option<String>), (u16, String)>;

/// What `users()` yields: a user id, or the error that ended the walk.
type UserOutcome = Result<String, (u16, String)>;

struct Scenario {
    why: &'static str,
    request: QueryUsersRequest,
    /// The server, in the order the walk asks: a query string and the status
    /// and body it answers.
    pages: Vec<(&'static str, u16, &'static str)>,
    /// What the walk yields, page by page.
    yields: Vec<Outcome>,
}

fn page(ids: &[&str], cursor: Option<&str>) -> Outcome {
    let ids = ids.iter().map(|id| (*id).to_owned()).collect();
    Ok((ids, cursor.map(str::to_owned)))
}

fn failed(status: u16, code: &str) -> Outcome {
    Err((status, code.to_owned()))
}

fn scenarios() -> Vec<Scenario> {
    let by_email = || QueryUsersRequest::new().with_email("a@example.com");
    vec![
        Scenario {
            why: "the cursor is walked until a page comes without one",
            request: by_email().with_limit(2u32),
            pages: vec![
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
            ],
            yields: vec![
                page(&["user-1", "user-2"], Some("user-2")),
                page(&["user-3", "user-4"], Some("user-4")),
                page(&["user-5"], None),
            ],
        },
        Scenario {
            why: "an empty page in the middle does not stop the walk",
            request: by_email(),
            pages: vec![
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
            ],
            yields: vec![
                page(&["user-1", "user-2"], Some("user-2")),
                page(&[], Some("user-3")),
                page(&["user-5"], None),
            ],
        },
        Scenario {
            why: "a 400 on a later page yields the error, then nothing",
            request: QueryUsersRequest::new().with_username("x"),
            pages: vec![
                ("username=x", 200, PAGE_1),
                (
                    "username=x&lastEvaluatedUserId=user-2",
                    400,
                    r#"{"error":"invalid_request","errorDescription":"bad cursor"}"#,
                ),
            ],
            yields: vec![
                page(&["user-1", "user-2"], Some("user-2")),
                failed(400, "invalid_request"),
            ],
        },
        Scenario {
            why: "a 500 ends the pages after the pages before it",
            request: by_email(),
            pages: vec![
                ("email=a%40example.com", 200, PAGE_1),
                (
                    "email=a%40example.com&lastEvaluatedUserId=user-2",
                    500,
                    r#"{"error":"internal_error","errorDescription":"Something went wrong"}"#,
                ),
            ],
            yields: vec![
                page(&["user-1", "user-2"], Some("user-2")),
                failed(500, "internal_error"),
            ],
        },
        Scenario {
            why: "a cursor that does not move ends the walk",
            request: QueryUsersRequest::new().with_last_evaluated_user_id("user-9"),
            pages: vec![(
                "lastEvaluatedUserId=user-9",
                200,
                r#"{"users":[{"userId":"user-9"}],"lastEvaluatedUserId":"user-9"}"#,
            )],
            yields: vec![page(&["user-9"], Some("user-9"))],
        },
    ]
}

/// Without retries, so a failed page is one request.
fn config() -> Config {
    Config::builder("sk_test_paging")
        .with_retry_policy(RetryPolicy::no_retries())
        .build()
        .unwrap()
}

/// The scripted server: records the query and answers it from `pages`.
fn answer(
    pages: &[(&str, u16, &str)],
    seen: &Mutex<Vec<String>>,
    request: &http::Request<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>, TransportError> {
    assert_eq!(request.method(), Method::GET);
    assert_eq!(request.uri().path(), "/v1/users");
    let query = request.uri().query().unwrap_or("").to_owned();
    seen.lock().unwrap().push(query.clone());
    let (_, status, body) = pages
        .iter()
        .find(|(q, _, _)| *q == query)
        .unwrap_or_else(|| panic!("unexpected query {query:?}"));
    let response = http::Response::builder().status(*status);
    Ok(response.body(body.as_bytes().to_vec()).unwrap())
}

fn outcome(result: Result<QueryUsersResponse, Error>) -> Outcome {
    match result {
        Ok(page) => {
            let ids = page.users.into_iter().map(|u| u.user_id).collect();
            Ok((ids, page.last_evaluated_user_id))
        }
        Err(error) => {
            let status = error.status().map_or(0, |s| s.as_u16());
            Err((
                status,
                error
                    .code()
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default(),
            ))
        }
    }
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

#[test]
fn every_way_of_paging_yields_the_same_pages_with_one_request_each() {
    for s in scenarios() {
        let why = s.why;
        let asked: Vec<String> = s.pages.iter().map(|(q, _, _)| (*q).to_owned()).collect();
        let seen = Mutex::new(Vec::new());
        let take_seen = || std::mem::take(&mut *seen.lock().unwrap());
        let users: Vec<UserOutcome> = s
            .yields
            .iter()
            .flat_map(|page| match page {
                Ok((ids, _)) => ids.iter().cloned().map(Ok).collect(),
                Err(error) => vec![Err(error.clone())],
            })
            .collect();

        let client = Client::with_transport(config(), |r| answer(&s.pages, &seen, &r));
        let mut pages = client.query_users_pages(s.request.clone());
        let got: Vec<Outcome> = pages.by_ref().map(outcome).collect();
        assert_eq!(got, s.yields, "{why}: blocking pages");
        assert!(pages.next().is_none(), "{why}: fused after the last page");
        assert_eq!(take_seen(), asked, "{why}: blocking pages");

        let flat = client.query_users_pages(s.request.clone()).users();
        let got: Vec<UserOutcome> = flat
            .map(|u| u.map(|u| u.user_id).map_err(error_of))
            .collect();
        assert_eq!(got, users, "{why}: users()");
        assert_eq!(take_seen(), asked, "{why}: users()");

        let transport =
            |r: http::Request<Vec<u8>>| YieldOnce(Some(answer(&s.pages, &seen, &r)), false);
        let client = AsyncClient::with_transport(config(), transport, NoWaitTimer);
        let mut pages = client.query_users_pages(s.request.clone());
        let mut got = Vec::new();
        while let Some(page) = block_on(pages.next_page()) {
            got.push(outcome(page));
        }
        assert_eq!(got, s.yields, "{why}: async next_page");
        assert!(block_on(pages.next_page()).is_none(), "{why}");
        assert_eq!(take_seen(), asked, "{why}: async next_page");

        #[cfg(feature = "stream")]
        {
            use futures_core::{FusedStream, Stream};
            use futures_util::{StreamExt, TryStreamExt};
            fn assert_send<S: Stream + Send>(_: &S) {}
            let mut pages = client.query_users_pages(s.request.clone());
            assert_send(&pages);
            assert!(!pages.is_terminated(), "{why}");
            assert_eq!(pages.size_hint(), (1, None), "{why}");
            let got: Vec<Outcome> = block_on((&mut pages).map(outcome).collect());
            assert_eq!(got, s.yields, "{why}: stream");
            // Over: terminated, nothing more, nothing sent.
            assert!(pages.is_terminated(), "{why}");
            assert_eq!(pages.size_hint(), (0, Some(0)), "{why}");
            assert!(block_on(pages.next()).is_none(), "{why}");
            assert!(block_on(pages.next_page()).is_none(), "{why}");
            assert_eq!(take_seen(), asked, "{why}: stream");

            let ids = |page: QueryUsersResponse| page.users.into_iter().map(|u| u.user_id);
            let pages = client.query_users_pages(s.request.clone());
            let all = block_on(pages.map_ok(|p| ids(p).collect::<Vec<_>>()).try_concat());
            let expected: Result<Vec<String>, _> = users.iter().cloned().collect();
            assert_eq!(all.map_err(error_of), expected, "{why}: try_concat");
        }
    }
}

fn error_of(error: Error) -> (u16, String) {
    outcome(Err(error)).unwrap_err()
}

#[test]
fn a_pages_iterator_over_a_token_query_hides_the_token() {
    let client = Client::with_transport(config(), |_: http::Request<Vec<u8>>| {
        let response = http::Response::new(br#"{"users":[]}"#.to_vec());
        Ok::<_, TransportError>(response)
    });
    let pages = client.query_users_pages(QueryUsersRequest::new().with_token("SECRET-TOKEN-1"));
    let debug = format!("{pages:?}");
    assert!(!debug.contains("SECRET-TOKEN-1"), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

/// The first scenario's server, answering asynchronously with one `Pending`
/// per answer, and the queries it saw.
#[cfg(feature = "stream")]
fn first_scenario_client(
    seen: &Mutex<Vec<String>>,
) -> AsyncClient<impl authsignal_core::AsyncTransport + Sync + '_, NoWaitTimer> {
    let pages = scenarios().swap_remove(0).pages;
    let transport =
        move |r: http::Request<Vec<u8>>| YieldOnce(Some(answer(&pages, seen, &r)), false);
    AsyncClient::with_transport(config(), transport, NoWaitTimer)
}

#[cfg(feature = "stream")]
#[test]
fn polling_a_stream_by_hand_sees_pending_and_the_wake_up() {
    use futures_core::{FusedStream, Stream};
    let seen = Mutex::new(Vec::new());
    let client = first_scenario_client(&seen);
    let s = scenarios().swap_remove(0);
    let mut pages = client.query_users_pages(s.request);
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
        Poll::Ready(Some(page)) => assert_eq!(outcome(page), s.yields[0]),
        other => panic!("expected the first page, got {other:?}"),
    }
    assert_eq!(seen.lock().unwrap().len(), 1);
    let shown = format!("{pages:?}");
    assert!(shown.contains("fetching: false"), "{shown}");
}

#[cfg(feature = "stream")]
#[test]
fn next_page_finishes_the_page_the_stream_started() {
    use futures_core::Stream;
    use futures_util::StreamExt;
    let seen = Mutex::new(Vec::new());
    let client = first_scenario_client(&seen);
    let s = scenarios().swap_remove(0);
    let mut pages = client.query_users_pages(s.request);
    let waker = Waker::from(Arc::new(CountingWaker::default()));
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut pages).poll_next(&mut cx).is_pending());

    // `next_page` picks up the fetch in flight instead of sending another.
    let first = block_on(pages.next_page()).unwrap();
    assert_eq!(outcome(first), s.yields[0]);
    assert_eq!(seen.lock().unwrap().len(), 1);
    // Then the walk goes on, by either means.
    let second = block_on(pages.next()).unwrap();
    assert_eq!(outcome(second), s.yields[1]);
    let third = block_on(pages.next_page()).unwrap();
    assert_eq!(outcome(third), s.yields[2]);
    assert!(block_on(pages.next()).is_none());
    assert_eq!(seen.lock().unwrap().len(), 3);
}
