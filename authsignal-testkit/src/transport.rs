//! The fake as a transport: no socket, the client's request goes straight
//! to [`FakeAuthsignal::handle`](crate::FakeAuthsignal::handle) (after any
//! injected fault).

use std::future::Future;
use std::sync::Arc;

use authsignal_core::{AsyncTransport, BlockingTransport, TransportError, TransportErrorKind};
use http::{Request, Response};

use crate::fake::{Fake, Served};

/// A [`BlockingTransport`] and [`AsyncTransport`] that hands each request
/// to the fake in the same process; get one from
/// [`FakeAuthsignal::transport`](crate::FakeAuthsignal::transport).
///
/// Clones share the fake. An injected [`Fault::Delay`](crate::Fault::Delay)
/// moves the fake's clock forward instead of sleeping, and
/// [`Fault::DropConnection`](crate::Fault::DropConnection) becomes a
/// [`TransportErrorKind::Io`] error, which the client treats like a
/// connection reset.
#[derive(Debug, Clone)]
pub struct InProcessTransport {
    fake: Arc<Fake>,
}

impl InProcessTransport {
    pub(crate) fn new(fake: Arc<Fake>) -> Self {
        Self { fake }
    }

    fn exchange(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        match self.fake.serve(request) {
            Served::Respond { response, delay } => {
                if let Some(delay) = delay {
                    self.fake.clock.advance(delay);
                }
                Ok(response)
            }
            Served::Drop => Err(TransportError::new(
                TransportErrorKind::Io,
                "the fake dropped the connection (an injected fault)",
            )),
        }
    }
}

impl BlockingTransport for InProcessTransport {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.exchange(request)
    }
}

impl AsyncTransport for InProcessTransport {
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        std::future::ready(self.exchange(request))
    }
}
