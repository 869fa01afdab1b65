//! Walking every page of `GET /users` without handling the cursor.
//!
//! [`Client::query_users_pages`] returns an iterator of pages; its
//! [`users`](QueryUsersPages::users) method flattens it into an iterator of
//! users. [`AsyncClient::query_users_pages`] is the async twin, read with
//! [`next_page`](AsyncQueryUsersPages::next_page) or, with the `stream`
//! feature, as a [`futures_core::Stream`] of pages (use your favourite
//! `StreamExt` on it).
//!
//! ```
//! use authsignal_core::{Client, Config, QueryUsersRequest, TransportError};
//! // A fake server with two pages.
//! let transport = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
//!     let body: &[u8] = match request.uri().query() {
//!         Some("email=a%40example.com") => br#"{"users":[{"userId":"u1"}],"lastEvaluatedUserId":"u1"}"#,
//!         _ => br#"{"users":[{"userId":"u2"}]}"#,
//!     };
//!     Ok(http::Response::new(body.to_vec()))
//! };
//! let client = Client::with_transport(Config::builder("sk_test").build()?, transport);
//! let request = QueryUsersRequest::new().with_email("a@example.com");
//! let ids = client
//!     .query_users_pages(request)
//!     .users()
//!     .map(|user| user.map(|user| user.user_id))
//!     .collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(ids, ["u1", "u2"]);
//! # Ok::<(), authsignal_core::Error>(())
//! ```

use std::{fmt, iter::FusedIterator};
#[cfg(feature = "stream")]
use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use crate::{
    AsyncClient, AsyncTimer, AsyncTransport, BlockingTimer, BlockingTransport, Client, Error,
    QueryUsersRequest, QueryUsersResponse, QueryUsersUser, StdTimer,
};

/// The request for the next page, or `None` once the walk is over.
#[derive(Debug, Clone)]
struct Cursor {
    next: Option<QueryUsersRequest>,
}

impl Cursor {
    fn new(request: QueryUsersRequest) -> Self {
        Self {
            next: Some(request),
        }
    }

    /// Sets up the request after `sent`, given its result. The walk ends after
    /// an error, after a page without a cursor, and after a page whose cursor
    /// did not move (which would otherwise repeat the same page forever).
    fn advance(&mut self, sent: QueryUsersRequest, result: &Result<QueryUsersResponse, Error>) {
        let Ok(page) = result else { return };
        let Some(cursor) = page
            .last_evaluated_user_id
            .as_deref()
            .filter(|c| !c.is_empty())
        else {
            return;
        };
        if sent.last_evaluated_user_id.as_deref() == Some(cursor) {
            return;
        }
        let mut next = sent;
        next.last_evaluated_user_id = Some(cursor.to_owned());
        self.next = Some(next);
    }
}

/// The pages of a `GET /users` query, fetched one by one as the iterator
/// advances. Built by [`Client::query_users_pages`].
///
/// Each item is one page or the error that ended the walk: after an error
/// the iterator yields nothing more. It stops after the page that has no
/// `lastEvaluatedUserId`.
pub struct QueryUsersPages<'a, T, Tm = StdTimer> {
    client: &'a Client<T, Tm>,
    cursor: Cursor,
}

impl<T, Tm> fmt::Debug for QueryUsersPages<'_, T, Tm> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryUsersPages")
            .field("next", &self.cursor.next)
            .finish_non_exhaustive()
    }
}

impl<'a, T: BlockingTransport, Tm: BlockingTimer> QueryUsersPages<'a, T, Tm> {
    /// Flattens the pages into the users they hold, in order.
    pub fn users(self) -> QueryUsersIter<'a, T, Tm> {
        QueryUsersIter {
            pages: self,
            current: Vec::new().into_iter(),
        }
    }
}

impl<T: BlockingTransport, Tm: BlockingTimer> Iterator for QueryUsersPages<'_, T, Tm> {
    type Item = Result<QueryUsersResponse, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let request = self.cursor.next.take()?;
        let result = self.client.send(&request);
        self.cursor.advance(request, &result);
        Some(result)
    }
}

impl<T: BlockingTransport, Tm: BlockingTimer> FusedIterator for QueryUsersPages<'_, T, Tm> {}

/// The users of a `GET /users` query across all pages, fetched page by page
/// as the iterator advances. Built by [`QueryUsersPages::users`].
///
/// After an error it yields nothing more.
pub struct QueryUsersIter<'a, T, Tm = StdTimer> {
    pages: QueryUsersPages<'a, T, Tm>,
    current: std::vec::IntoIter<QueryUsersUser>,
}

impl<T, Tm> fmt::Debug for QueryUsersIter<'_, T, Tm> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryUsersIter")
            .field("pages", &self.pages)
            .field("buffered", &self.current.len())
            .finish()
    }
}

impl<T: BlockingTransport, Tm: BlockingTimer> Iterator for QueryUsersIter<'_, T, Tm> {
    type Item = Result<QueryUsersUser, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(user) = self.current.next() {
                return Some(Ok(user));
            }
            match self.pages.next()? {
                Ok(page) => self.current = page.users.into_iter(),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl<T: BlockingTransport, Tm: BlockingTimer> FusedIterator for QueryUsersIter<'_, T, Tm> {}

impl<T: BlockingTransport, Tm: BlockingTimer> Client<T, Tm> {
    /// Walks every page of `GET /users`, starting from `request` (its
    /// `lastEvaluatedUserId`, if set, is the starting cursor). Each page is
    /// fetched, with the client's retry policy, when the iterator reaches it.
    pub fn query_users_pages(&self, request: QueryUsersRequest) -> QueryUsersPages<'_, T, Tm> {
        QueryUsersPages {
            client: self,
            cursor: Cursor::new(request),
        }
    }
}

/// The pages of a `GET /users` query on the async client, read one by one
/// with [`next_page`](Self::next_page), or (with the `stream` feature) as a
/// [`futures_core::Stream`] of pages. Built by
/// [`AsyncClient::query_users_pages`].
///
/// Either way each item is one page or the error that ended the walk, and
/// the walk stops after the page without a `lastEvaluatedUserId`. The two
/// can be mixed: `next_page` first finishes a page the stream had started
/// to fetch. With the stream, the page being fetched lives in a boxed
/// future (one allocation per page); it is `Send` when the transport's and
/// the timer's futures are, so the stream can cross `tokio::spawn`.
///
#[cfg_attr(
    feature = "stream",
    doc = r##"
```
# async fn demo(client: &authsignal_core::AsyncClient<impl authsignal_core::AsyncTransport + Sync, impl authsignal_core::AsyncTimer + Sync>) -> Result<(), authsignal_core::Error> {
use futures_util::TryStreamExt; // or any StreamExt
use authsignal_core::QueryUsersRequest;
let pages = client.query_users_pages(QueryUsersRequest::new().with_email("a@example.com"));
let pages: Vec<_> = pages.try_collect().await?;
# Ok(()) }
```
"##
)]
pub struct AsyncQueryUsersPages<'a, T, Tm> {
    client: &'a AsyncClient<T, Tm>,
    cursor: Cursor,
    /// The page the stream is fetching, with the request it was sent with.
    #[cfg(feature = "stream")]
    in_flight: Option<PageFuture<'a>>,
}

/// A page being fetched for the stream, returning its request for the cursor.
#[cfg(feature = "stream")]
type PageFuture<'a> = Pin<
    Box<dyn Future<Output = (QueryUsersRequest, Result<QueryUsersResponse, Error>)> + Send + 'a>,
>;

impl<T, Tm> fmt::Debug for AsyncQueryUsersPages<'_, T, Tm> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("AsyncQueryUsersPages");
        debug.field("next", &self.cursor.next);
        #[cfg(feature = "stream")]
        debug.field("fetching", &self.in_flight.is_some());
        debug.finish_non_exhaustive()
    }
}

impl<T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> AsyncQueryUsersPages<'_, T, Tm> {
    /// Fetches the next page: `None` once the page without a
    /// `lastEvaluatedUserId` has been returned, and after an error.
    pub async fn next_page(&mut self) -> Option<Result<QueryUsersResponse, Error>> {
        // A page the stream started fetching comes first.
        #[cfg(feature = "stream")]
        if let Some(in_flight) = self.in_flight.take() {
            let (request, result) = in_flight.await;
            self.cursor.advance(request, &result);
            return Some(result);
        }
        let request = self.cursor.next.take()?;
        let result = self.client.send(&request).await;
        self.cursor.advance(request, &result);
        Some(result)
    }
}

#[cfg(feature = "stream")]
impl<'a, T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> futures_core::Stream
    for AsyncQueryUsersPages<'a, T, Tm>
{
    type Item = Result<QueryUsersResponse, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is `Unpin` (the future is boxed).
        let this = self.get_mut();
        let in_flight = match &mut this.in_flight {
            Some(in_flight) => in_flight,
            None => {
                let Some(request) = this.cursor.next.take() else {
                    return Poll::Ready(None);
                };
                let client: &'a AsyncClient<T, Tm> = this.client;
                this.in_flight.insert(Box::pin(async move {
                    let result = client.send(&request).await;
                    (request, result)
                }))
            }
        };
        match in_flight.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((request, result)) => {
                this.in_flight = None;
                this.cursor.advance(request, &result);
                Poll::Ready(Some(result))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::from(self.in_flight.is_some() || self.cursor.next.is_some());
        // At least the page being (or about to be) fetched; no upper bound.
        (left, (left == 0).then_some(0))
    }
}

#[cfg(feature = "stream")]
impl<T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> futures_core::FusedStream
    for AsyncQueryUsersPages<'_, T, Tm>
{
    fn is_terminated(&self) -> bool {
        self.in_flight.is_none() && self.cursor.next.is_none()
    }
}

impl<T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> AsyncClient<T, Tm> {
    /// Walks every page of `GET /users`, starting from `request`; read the
    /// pages with [`AsyncQueryUsersPages::next_page`] or, with the `stream`
    /// feature, as a `futures_core::Stream`.
    pub fn query_users_pages(&self, request: QueryUsersRequest) -> AsyncQueryUsersPages<'_, T, Tm> {
        AsyncQueryUsersPages {
            client: self,
            cursor: Cursor::new(request),
            #[cfg(feature = "stream")]
            in_flight: None,
        }
    }
}
