//! One synchronous face over every transport, so a scenario table runs
//! unchanged through the blocking ureq client and the async clients on
//! hyper, reqwest and a tower service.

use std::time::Duration;

use authsignal_core::{AsyncClient, Builder, Config, Endpoint, Error, FromConfig};
use authsignal_hyper::{
    HyperConnector, TowerTransport,
    bytes::Bytes,
    http_body_util::Full,
    hyper_util::{
        client::legacy,
        rt::{TokioExecutor, TokioTimer as PoolTimer},
    },
};
use tower::{ServiceBuilder, timeout::Timeout};

/// Which transport a client runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `authsignal_ureq::Client` (blocking).
    Ureq,
    /// `authsignal_hyper::Client` (async, driven by a private tokio runtime).
    Hyper,
    /// `authsignal_reqwest::Client` (async, driven by a private tokio runtime).
    Reqwest,
    /// `authsignal_hyper::TowerTransport` over a hyper-util client on the
    /// SDK's [`HyperConnector`], wrapped in a `tower::timeout` layer (async,
    /// driven by a private tokio runtime).
    Tower,
}

impl Flavor {
    /// Every flavor, for table-driven tests.
    pub const ALL: [Flavor; 4] = [Flavor::Ureq, Flavor::Hyper, Flavor::Reqwest, Flavor::Tower];
}

/// The tower service of [`Flavor::Tower`]: a pooled hyper-util client in a
/// timeout layer far longer than any attempt timeout of the tests (so the
/// SDK's own bound is what fires).
pub type TowerService = Timeout<legacy::Client<HyperConnector, Full<Bytes>>>;

/// The async client of [`Flavor::Tower`].
pub type TowerClient = AsyncClient<TowerTransport<TowerService>, authsignal_hyper::TokioTimer>;

/// The tower layer's own timeout.
const TOWER_LAYER_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of any flavor with a blocking `send`.
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
    Reqwest {
        client: authsignal_reqwest::Client,
        runtime: tokio::runtime::Runtime,
    },
    Tower {
        // A hyper-util client held inline (not behind an `Arc` as in
        // `HyperTransport`) is large.
        client: Box<TowerClient>,
        runtime: tokio::runtime::Runtime,
    },
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The [`Flavor::Tower`] client for `config`: built inside the runtime, as
/// the hyper-util pool needs.
fn tower_client(config: Config) -> TowerClient {
    let connector = HyperConnector::new(&config).expect("the SDK's connector");
    let client: legacy::Client<HyperConnector, Full<Bytes>> =
        legacy::Client::builder(TokioExecutor::new())
            .pool_timer(PoolTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
    let service = ServiceBuilder::new()
        .timeout(TOWER_LAYER_TIMEOUT)
        .service(client);
    let transport = TowerTransport::new(&config, service);
    AsyncClient::with_transport(config, transport, authsignal_hyper::TokioTimer)
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
                let runtime = runtime();
                // The hyper-util pool needs to be created inside the runtime.
                let client = runtime
                    .block_on(async {
                        authsignal_hyper::Client::from_config(config, Default::default())
                    })
                    .expect("hyper client from config");
                Inner::Hyper { client, runtime }
            }
            Flavor::Reqwest => {
                let runtime = runtime();
                let client = runtime
                    .block_on(async {
                        authsignal_reqwest::Client::from_config(config, Default::default())
                    })
                    .expect("reqwest client from config");
                Inner::Reqwest { client, runtime }
            }
            Flavor::Tower => {
                let runtime = runtime();
                let client = Box::new(runtime.block_on(async { tower_client(config) }));
                Inner::Tower { client, runtime }
            }
        };
        Self { inner }
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
            Inner::Reqwest { client, runtime } => runtime.block_on(client.send(endpoint)),
            Inner::Tower { client, runtime } => runtime.block_on(client.send(endpoint)),
        }
    }

    /// Runs an endpoint like [`AnyClient::send`], expecting success: an error
    /// panics, naming the endpoint.
    #[track_caller]
    pub fn ok<E>(&self, endpoint: &E) -> E::Output
    where
        E: Endpoint + Sync,
        E::Output: Send,
    {
        match self.send(endpoint) {
            Ok(output) => output,
            Err(error) => panic!("{}: expected Ok, got {error} ({error:?})", E::NAME),
        }
    }
}
