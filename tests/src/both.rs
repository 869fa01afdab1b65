//! One synchronous face over both transports, so a scenario table runs
//! unchanged through the blocking ureq client and the async hyper client.

use authsignal_core::{Builder, Config, Endpoint, Error, FromConfig};

/// Which transport a client runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `authsignal_ureq::Client` (blocking).
    Ureq,
    /// `authsignal_hyper::Client` (async, driven by a private tokio runtime).
    Hyper,
}

impl Flavor {
    /// Both flavors, for table-driven tests.
    pub const ALL: [Flavor; 2] = [Flavor::Ureq, Flavor::Hyper];
}

/// A client of either flavor with a blocking `send`.
#[derive(Debug)]
pub struct AnyClient {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Ureq(authsignal_ureq::Client),
    Hyper {
        client: authsignal_hyper::Client,
        runtime: tokio::runtime::Runtime,
    },
}

impl AnyClient {
    /// A client of `flavor` with the transport's default set-up for the
    /// configuration `config` builds.
    pub fn new(flavor: Flavor, config: Builder<Config>) -> Self {
        let config = config.build().expect("a valid configuration");
        let inner = match flavor {
            Flavor::Ureq => {
                let client = authsignal_ureq::Client::from_config(config, Default::default());
                Inner::Ureq(client.expect("ureq client from config"))
            }
            Flavor::Hyper => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                // The hyper-util pool needs to be created inside the runtime.
                let client = runtime
                    .block_on(async {
                        authsignal_hyper::Client::from_config(config, Default::default())
                    })
                    .expect("hyper client from config");
                Inner::Hyper { client, runtime }
            }
        };
        Self { inner }
    }

    /// The client's flavor.
    pub fn flavor(&self) -> Flavor {
        match self.inner {
            Inner::Ureq(_) => Flavor::Ureq,
            Inner::Hyper { .. } => Flavor::Hyper,
        }
    }

    /// Runs an endpoint with the client's retry policy and waits for the result.
    pub fn send<E>(&self, endpoint: &E) -> Result<E::Output, Error>
    where
        E: Endpoint + Sync,
        E::Output: Send,
    {
        match &self.inner {
            Inner::Ureq(client) => client.send(endpoint),
            Inner::Hyper { client, runtime } => runtime.block_on(client.send(endpoint)),
        }
    }
}
