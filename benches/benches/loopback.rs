//! End-to-end throughput on loopback: the SDK clients against the raw HTTP
//! clients they are built on, talking to the same in-process keep-alive
//! server that answers every `track` with a `CHALLENGE_REQUIRED` body.
//!
//! - sequential, one caller: `authsignal_ureq::Client::track` vs a raw
//!   `ureq::Agent` sending the same request (baseline build) and parsing into
//!   a plain struct;
//! - 32 in flight on a tokio multi-thread runtime:
//!   `authsignal_hyper::Client::track` vs a raw `hyper_util` legacy client
//!   doing the same.
//!
//! The two sides of each pair run in alternating one-second rounds so that
//! noise from other processes hits both alike.
//!
//! `cargo bench -p authsignal-benches --bench loopback`

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use authsignal_benches::{
    Mode,
    baseline::{BaselineTrack, parse_track},
    fixtures,
    server::Server,
};
use authsignal_core::Config;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client as HyperClient, connect::HttpConnector},
    rt::TokioExecutor,
};

/// Rounds per side; each round lasts [`ROUND`].
const ROUNDS: u32 = 3;
const ROUND: Duration = Duration::from_secs(1);
const WARM_UP: Duration = Duration::from_millis(500);
const IN_FLIGHT: usize = 32;

/// Calls, time and new server connections of one side of a comparison.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    calls: u64,
    elapsed: Duration,
    connections: usize,
}

impl Tally {
    fn add(&mut self, calls: u64, elapsed: Duration, connections: usize) {
        self.calls += calls;
        self.elapsed += elapsed;
        self.connections += connections;
    }

    fn per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = Mode::from_args();
    let server = Server::start(fixtures::TRACK_RESPONSE.as_bytes())?;
    let config = Config::new(fixtures::SECRET)?.with_base_url(&server.url())?;

    let (sdk, raw) = sequential(&server, &config, mode)?;
    print_pair("sequential, 1 caller", "authsignal_ureq::Client", "raw ureq::Agent", sdk, raw);

    let (sdk, raw) = concurrent(&server, &config, mode)?;
    let title = format!("concurrent, {IN_FLIGHT} in flight (tokio, {} workers)", worker_threads());
    print_pair(&title, "authsignal_hyper::Client", "raw hyper_util Client", sdk, raw);
    println!("server answered {} requests on {} connections in all", server.requests(), server.connections());
    Ok(())
}

fn print_pair(title: &str, sdk_name: &str, raw_name: &str, sdk: Tally, raw: Tally) {
    println!("\n{title}");
    println!("  {:<26} {:>10} {:>12} {:>12}", "client", "calls", "calls/s", "connections");
    for (name, t) in [(sdk_name, sdk), (raw_name, raw)] {
        println!("  {name:<26} {:>10} {:>12.0} {:>12}", t.calls, t.per_second(), t.connections);
    }
    println!("  SDK / raw: {:.1} %", 100.0 * sdk.per_second() / raw.per_second());
}

/// Runs `call` in a loop for `duration` and returns (calls, elapsed, new
/// connections the server accepted meanwhile).
fn timed_loop(
    server: &Server,
    duration: Duration,
    mut call: impl FnMut() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(u64, Duration, usize), Box<dyn std::error::Error>> {
    let connections = server.connections();
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed() < duration {
        call()?;
        calls += 1;
    }
    Ok((calls, start.elapsed(), server.connections() - connections))
}

fn sequential(
    server: &Server,
    config: &Config,
    mode: Mode,
) -> Result<(Tally, Tally), Box<dyn std::error::Error>> {
    let client = authsignal_ureq::Client::new(config.clone())?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let plain = BaselineTrack::new(config);

    let mut sdk_call = || -> Result<(), Box<dyn std::error::Error>> {
        let outcome = client.track(fixtures::track_request())?;
        std::hint::black_box(outcome);
        Ok(())
    };
    let mut raw_call = || -> Result<(), Box<dyn std::error::Error>> {
        let response = agent.run(plain.build())?;
        let status = response.status();
        let body = response.into_body().read_to_vec()?;
        std::hint::black_box(parse_track(status, &body).map_err(|e| format!("{e:?}"))?);
        Ok(())
    };

    let mut sdk = Tally::default();
    let mut raw = Tally::default();
    // Warm-up connections count: the target is one connection for the whole run.
    let (_, _, c) = timed_loop(server, mode.duration(WARM_UP), &mut sdk_call)?;
    sdk.connections += c;
    let (_, _, c) = timed_loop(server, mode.duration(WARM_UP), &mut raw_call)?;
    raw.connections += c;
    for _ in 0..ROUNDS {
        let (n, t, c) = timed_loop(server, mode.duration(ROUND), &mut sdk_call)?;
        sdk.add(n, t, c);
        let (n, t, c) = timed_loop(server, mode.duration(ROUND), &mut raw_call)?;
        raw.add(n, t, c);
    }
    Ok((sdk, raw))
}

fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `IN_FLIGHT` tasks that each call `call` in a loop for `duration`;
/// returns (calls, elapsed, new connections).
async fn concurrent_loop<F, Fut>(
    server: &Server,
    duration: Duration,
    call: F,
) -> Result<(u64, Duration, usize), Box<dyn std::error::Error>>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let connections = server.connections();
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut calls = 0u64;
                while Instant::now() < deadline {
                    call().await?;
                    calls += 1;
                }
                Ok::<u64, String>(calls)
            })
        })
        .collect();
    let mut calls = 0;
    for task in tasks {
        calls += task.await??;
    }
    Ok((calls, start.elapsed(), server.connections() - connections))
}

fn concurrent(
    server: &Server,
    config: &Config,
    mode: Mode,
) -> Result<(Tally, Tally), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Arc::new(authsignal_hyper::Client::new(config.clone())?);
        let raw: Arc<HyperClient<HttpConnector, Full<Bytes>>> =
            Arc::new(HyperClient::builder(TokioExecutor::new()).build_http());
        let plain = Arc::new(BaselineTrack::new(config));

        let sdk_call = move || {
            let client = Arc::clone(&client);
            async move {
                let outcome = client.track(fixtures::track_request()).await.map_err(|e| e.to_string())?;
                std::hint::black_box(outcome);
                Ok(())
            }
        };
        let raw_call = move || {
            let raw = Arc::clone(&raw);
            let plain = Arc::clone(&plain);
            async move {
                let request = plain.build().map(|body| Full::new(Bytes::from(body)));
                let response = raw.request(request).await.map_err(|e| e.to_string())?;
                let status = response.status();
                let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
                std::hint::black_box(parse_track(status, &body).map_err(|e| format!("{e:?}"))?);
                Ok(())
            }
        };

        let mut sdk = Tally::default();
        let mut raw = Tally::default();
        let (_, _, c) = concurrent_loop(server, mode.duration(WARM_UP), sdk_call.clone()).await?;
        sdk.connections += c;
        let (_, _, c) = concurrent_loop(server, mode.duration(WARM_UP), raw_call.clone()).await?;
        raw.connections += c;
        for _ in 0..ROUNDS {
            let (n, t, c) = concurrent_loop(server, mode.duration(ROUND), sdk_call.clone()).await?;
            sdk.add(n, t, c);
            let (n, t, c) = concurrent_loop(server, mode.duration(ROUND), raw_call.clone()).await?;
            raw.add(n, t, c);
        }
        Ok((sdk, raw))
    })
}
