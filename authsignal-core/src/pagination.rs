//! Walking every page of `GET /users` without handling the cursor.
//!
//! [`Client::query_users_pages`] returns an iterator of pages; its
//! [`users`](QueryUsersPages::users) method flattens it into an iterator of
//! users. [`AsyncClient::query_users_pages`] is the async twin, read with
//! [`next_page`](AsyncQueryUsersPages::next_page).
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
/// with [`next_page`](Self::next_page). Built by
/// [`AsyncClient::query_users_pages`].
pub struct AsyncQueryUsersPages<'a, T, Tm> {
    client: &'a AsyncClient<T, Tm>,
    cursor: Cursor,
}

impl<T, Tm> fmt::Debug for AsyncQueryUsersPages<'_, T, Tm> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncQueryUsersPages")
            .field("next", &self.cursor.next)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> AsyncQueryUsersPages<'_, T, Tm> {
    /// Fetches the next page: `None` once the page without a
    /// `lastEvaluatedUserId` has been returned, and after an error.
    pub async fn next_page(&mut self) -> Option<Result<QueryUsersResponse, Error>> {
        let request = self.cursor.next.take()?;
        let result = self.client.send(&request).await;
        self.cursor.advance(request, &result);
        Some(result)
    }
}

impl<T: AsyncTransport + Sync, Tm: AsyncTimer + Sync> AsyncClient<T, Tm> {
    /// Walks every page of `GET /users`, starting from `request`; read the
    /// pages with [`AsyncQueryUsersPages::next_page`].
    pub fn query_users_pages(&self, request: QueryUsersRequest) -> AsyncQueryUsersPages<'_, T, Tm> {
        AsyncQueryUsersPages {
            client: self,
            cursor: Cursor::new(request),
        }
    }
}
