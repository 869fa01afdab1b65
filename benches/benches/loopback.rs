//! End-to-end throughput on loopback: the SDK clients against the raw HTTP
//! clients they are built on, talking to the same in-process keep-alive
//! server that answers every `track` with a `CHALLENGE_REQUIRED` body.
//!
//! - sequential, one caller: `authsignal_ureq::Client::track` vs a raw
//!   `ureq::Agent` sending the same request (baseline build) and parsing into
//!   a plain struct;
//! - 32 in flight on a tokio multi-thread runtime:
//!   `authsignal_hyper::Client::track` vs a raw `hyper_util` legacy client
//!   doing the same, and `authsignal_reqwest::Client::track` vs a raw
//!   `reqwest::Client` doing the same.
//!
//! The clients of each comparison run in alternating one-second rounds so that
//! noise from other processes hits them alike. The sequential comparison
//! pins the caller to CPU 0 and the server's connection threads to CPU 1:
//! unpinned, where the scheduler puts the two threads of the ping-pong moved
//! each side by ±30 % from run to run.
//!
//! `cargo bench -p authsignal-benches --bench loopback`

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use authsignal_benches::{
    Mode,
    baseline::{BaselineTrack, PlainTrackBody, parse_track},
    cpu::client_cpu,
    fixtures, pin_current_thread,
    server::Server,
};
use authsignal_core::{Config, FromConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client as HyperClient, connect::HttpConnector},
    rt::TokioExecutor,
};

/// Rounds per side; each round lasts [`ROUND`].
const ROUNDS: u32 = 5;
const ROUND: Duration = Duration::from_secs(1);
const WARM_UP: Duration = Duration::from_millis(500);
const IN_FLIGHT: usize = 32;

/// Calls, time and new server connections of one side of a comparison.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    calls: u64,
    elapsed: Duration,
    connections: usize,
    /// CPU time of the client's threads (not the server's) during the rounds.
    cpu: Duration,
}

/// What one timed loop measured.
#[derive(Debug, Clone, Copy)]
struct Round {
    calls: u64,
    elapsed: Duration,
    connections: usize,
    cpu: Duration,
}

impl Tally {
    fn add(&mut self, round: Round) {
        self.calls += round.calls;
        self.elapsed += round.elapsed;
        self.connections += round.connections;
        self.cpu += round.cpu;
    }

    fn per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    /// Client CPU time per call, in microseconds.
    fn cpu_per_call_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.calls as f64
    }
}

type BoxError = Box<dyn std::error::Error>;
/// One blocking call of a benchmarked client.
type Call<'a> = &'a mut dyn FnMut() -> Result<(), BoxError>;

fn main() -> Result<(), BoxError> {
    let mode = Mode::from_args();
    let server = Server::start(fixtures::TRACK_RESPONSE.as_bytes())?;
    let config = Config::builder(fixtures::SECRET)
        .with_base_url(server.url())
        .build()?;

    let rows = concurrent(&server, &config, mode)?;
    let title = format!(
        "concurrent, {IN_FLIGHT} in flight (tokio, {} workers)",
        worker_threads()
    );
    print_table(&title, &rows);
    let rows = concurrent_reqwest(&server, &config, mode)?;
    let title = format!(
        "concurrent reqwest, {IN_FLIGHT} in flight (tokio, {} workers)",
        worker_threads()
    );
    print_table(&title, &rows);
    // The ping-pong runs last, with the client on one core and the server on
    // the other (threads inherit the pin, so the runtime above came first).
    server.pin_new_connections(1);
    pin_current_thread(0);
    let rows = sequential(&server, &config, mode)?;
    print_table("sequential, 1 caller", &rows);

    println!(
        "server answered {} requests on {} connections in all",
        server.requests(),
        server.connections()
    );
    Ok(())
}

/// Prints one comparison; the last row is the raw client, the others are
/// given as a percentage of it.
fn print_table(title: &str, rows: &[(&str, Tally)]) {
    println!("\n{title}");
    println!(
        "  {:<44} {:>9} {:>10} {:>8} {:>12} {:>12} {:>8}",
        "client", "calls", "calls/s", "vs raw", "connections", "CPU µs/call", "vs raw"
    );
    let raw = rows.last().map_or(f64::NAN, |(_, t)| t.per_second());
    let raw_cpu = rows.last().map_or(f64::NAN, |(_, t)| t.cpu_per_call_us());
    for (name, t) in rows {
        let ratio = 100.0 * t.per_second() / raw;
        println!(
            "  {name:<44} {:>9} {:>10.0} {:>7.1}% {:>12} {:>12.2} {:>7.3}×",
            t.calls,
            t.per_second(),
            ratio,
            t.connections,
            t.cpu_per_call_us(),
            t.cpu_per_call_us() / raw_cpu
        );
    }
}

/// Runs `call` in a loop for `duration`: calls, elapsed time, new
/// connections the server accepted meanwhile, client CPU time.
fn timed_loop(server: &Server, duration: Duration, call: Call<'_>) -> Result<Round, BoxError> {
    let connections = server.connections();
    let cpu = client_cpu();
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed() < duration {
        call()?;
        calls += 1;
    }
    Ok(Round {
        calls,
        elapsed: start.elapsed(),
        connections: server.connections() - connections,
        cpu: client_cpu() - cpu,
    })
}

/// Warms every side up, then runs them in alternating rounds. Connections
/// opened during the warm-up count too: the target is one per client.
fn alternate(
    server: &Server,
    mode: Mode,
    sides: &mut [(&'static str, Call<'_>)],
) -> Result<Vec<(&'static str, Tally)>, BoxError> {
    let mut tallies = vec![Tally::default(); sides.len()];
    for ((_, call), tally) in sides.iter_mut().zip(&mut tallies) {
        tally.connections += timed_loop(server, mode.duration(WARM_UP), *call)?.connections;
    }
    for _ in 0..ROUNDS {
        for ((_, call), tally) in sides.iter_mut().zip(&mut tallies) {
            tally.add(timed_loop(server, mode.duration(ROUND), *call)?);
        }
    }
    Ok(sides.iter().map(|(name, _)| *name).zip(tallies).collect())
}

fn sequential(
    server: &Server,
    config: &Config,
    mode: Mode,
) -> Result<Vec<(&'static str, Tally)>, BoxError> {
    let client = authsignal_ureq::Client::from_config(config.clone(), Default::default())?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let plain = BaselineTrack::new(config);

    let mut sdk_call = || -> Result<(), BoxError> {
        std::hint::black_box(client.track(fixtures::track_request())?);
        Ok(())
    };
    let mut raw_call = || -> Result<(), BoxError> {
        // A fresh body per call, as the SDK side makes a fresh `TrackRequest`.
        let response = agent.run(plain.build_with(&PlainTrackBody::new()))?;
        let status = response.status();
        let body = response.into_body().read_to_vec()?;
        std::hint::black_box(parse_track(status, &body).map_err(|e| format!("{e:?}"))?);
        Ok(())
    };
    alternate(
        server,
        mode,
        &mut [
            ("authsignal_ureq::Client", &mut sdk_call),
            ("raw ureq::Agent", &mut raw_call),
        ],
    )
}

fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `IN_FLIGHT` tasks that each call `call` in a loop for `duration`.
async fn concurrent_loop<F, Fut>(
    server: &Server,
    duration: Duration,
    call: F,
) -> Result<Round, BoxError>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let connections = server.connections();
    let cpu = client_cpu();
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
    Ok(Round {
        calls,
        elapsed: start.elapsed(),
        connections: server.connections() - connections,
        cpu: client_cpu() - cpu,
    })
}

/// The concurrent twin of [`alternate`]: warms both sides up, then runs them
/// in alternating rounds of `IN_FLIGHT` tasks each.
async fn alternate_concurrent<F, Fut, G, Gut>(
    server: &Server,
    mode: Mode,
    (sdk_name, sdk_call): (&'static str, F),
    (raw_name, raw_call): (&'static str, G),
) -> Result<Vec<(&'static str, Tally)>, BoxError>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
    G: Fn() -> Gut + Clone + Send + 'static,
    Gut: Future<Output = Result<(), String>> + Send,
{
    let mut sdk = Tally::default();
    let mut raw = Tally::default();
    let warm_up = mode.duration(WARM_UP);
    sdk.connections += concurrent_loop(server, warm_up, sdk_call.clone())
        .await?
        .connections;
    raw.connections += concurrent_loop(server, warm_up, raw_call.clone())
        .await?
        .connections;
    for _ in 0..ROUNDS {
        sdk.add(concurrent_loop(server, mode.duration(ROUND), sdk_call.clone()).await?);
        raw.add(concurrent_loop(server, mode.duration(ROUND), raw_call.clone()).await?);
    }
    Ok(vec![(sdk_name, sdk), (raw_name, raw)])
}

fn concurrent(
    server: &Server,
    config: &Config,
    mode: Mode,
) -> Result<Vec<(&'static str, Tally)>, BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Arc::new(authsignal_hyper::Client::from_config(
            config.clone(),
            Default::default(),
        )?);
        let raw: Arc<HyperClient<HttpConnector, Full<Bytes>>> =
            Arc::new(HyperClient::builder(TokioExecutor::new()).build_http());
        let plain = Arc::new(BaselineTrack::new(config));

        let sdk_call = move || {
            let client = Arc::clone(&client);
            async move {
                let outcome = client
                    .track(fixtures::track_request())
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(outcome);
                Ok(())
            }
        };
        let raw_call = move || {
            let raw = Arc::clone(&raw);
            let plain = Arc::clone(&plain);
            async move {
                let request = plain
                    .build_with(&PlainTrackBody::new())
                    .map(|body| Full::new(Bytes::from(body)));
                let response = raw.request(request).await.map_err(|e| e.to_string())?;
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                std::hint::black_box(parse_track(status, &body).map_err(|e| format!("{e:?}"))?);
                Ok(())
            }
        };

        alternate_concurrent(
            server,
            mode,
            ("authsignal_hyper::Client", sdk_call),
            ("raw hyper_util Client", raw_call),
        )
        .await
    })
}

/// `authsignal_reqwest::Client::track` vs a raw `reqwest::Client` sending
/// the same request (the baseline build, handed over with
/// `reqwest::Request::try_from` as the SDK does) and parsing the body into a
/// plain struct; 32 in flight, alternating rounds.
fn concurrent_reqwest(
    server: &Server,
    config: &Config,
    mode: Mode,
) -> Result<Vec<(&'static str, Tally)>, BoxError> {
    use authsignal_reqwest::reqwest;
    // The SDK's client passes *ring* to reqwest itself; a plain
    // `reqwest::Client` with the rustls back-end needs a process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Arc::new(authsignal_reqwest::Client::from_config(
            config.clone(),
            Default::default(),
        )?);
        let raw = reqwest::Client::builder().build()?;
        let plain = Arc::new(BaselineTrack::new(config));

        let sdk_call = move || {
            let client = Arc::clone(&client);
            async move {
                let outcome = client
                    .track(fixtures::track_request())
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(outcome);
                Ok(())
            }
        };
        let raw_call = move || {
            let raw = raw.clone();
            let plain = Arc::clone(&plain);
            async move {
                let request = reqwest::Request::try_from(plain.build_with(&PlainTrackBody::new()))
                    .map_err(|e| e.to_string())?;
                let response = raw.execute(request).await.map_err(|e| e.to_string())?;
                let status = response.status();
                let body = response.bytes().await.map_err(|e| e.to_string())?;
                std::hint::black_box(parse_track(status, &body).map_err(|e| format!("{e:?}"))?);
                Ok(())
            }
        };

        alternate_concurrent(
            server,
            mode,
            ("authsignal_reqwest::Client", sdk_call),
            ("raw reqwest::Client", raw_call),
        )
        .await
    })
}
