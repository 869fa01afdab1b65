//! Loops one workload many times, for `valgrind --tool=callgrind` (whose
//! instruction counts stay stable on a busy machine, unlike wall time).
//!
//! ```text
//! cargo bench -p authsignal-benches --bench profile --no-run   # prints the binary's path
//! valgrind --tool=callgrind --callgrind-out-file=cg.sdk target/release/deps/profile-<hash> sdk-track 100000
//! callgrind_annotate cg.sdk | head -40
//! ```
//!
//! Workloads: `sdk-track`, `baseline-track` (build + parse), `sdk-build`,
//! `sdk-parse`, `baseline-build`, `baseline-parse`, `response` (only making
//! the response both parse rows start from), and the parse of `get_user` and
//! `get_authenticators` (10 passkeys) by the SDK and by bare serde
//! (`sdk-user-parse`, `baseline-user-parse`, `sdk-authenticators-parse`,
//! `baseline-authenticators-parse`). Without a workload (as under
//! `cargo bench` or `cargo test --benches`) each runs a few times as a smoke
//! test.

use std::hint::black_box;

use authsignal_benches::{
    baseline::{BaselineTrack, PlainAuthenticator, PlainUser, parse_plain},
    fixtures,
};
use authsignal_core::Endpoint;

const WORKLOADS: [&str; 15] = [
    "sdk-track",
    "baseline-track",
    "sdk-build",
    "sdk-parse",
    "baseline-build",
    "baseline-parse",
    "response",
    "sdk-user-parse",
    "baseline-user-parse",
    "sdk-authenticators-parse",
    "baseline-authenticators-parse",
    "loopback-sdk",
    "loopback-raw",
    "loopback-hyper-sdk",
    "loopback-hyper-raw",
];

/// `iterations` sequential `track` calls over loopback: the ureq client, or
/// a raw ureq agent doing the same call (as in the loopback bench).
fn loopback(sdk: bool, iterations: u64) -> Result<(), String> {
    use authsignal_benches::{
        baseline::{PlainTrackBody, parse_track},
        server::Server,
    };
    use authsignal_core::FromConfig;
    let server = Server::start(fixtures::TRACK_RESPONSE.as_bytes()).map_err(|e| e.to_string())?;
    let config = authsignal_core::Config::builder(fixtures::SECRET)
        .with_base_url(server.url())
        .build()
        .map_err(|e| e.to_string())?;
    if sdk {
        let client = authsignal_ureq::Client::from_config(config, Default::default())
            .map_err(|e| e.to_string())?;
        for _ in 0..iterations {
            black_box(
                client
                    .track(fixtures::track_request())
                    .map_err(|e| e.to_string())?,
            );
        }
    } else {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let plain = BaselineTrack::new(&config);
        for _ in 0..iterations {
            let response = agent
                .run(plain.build_with(&PlainTrackBody::new()))
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response
                .into_body()
                .read_to_vec()
                .map_err(|e| e.to_string())?;
            black_box(parse_track(status, &body).map_err(|e| format!("{e:?}"))?);
        }
    }
    Ok(())
}

/// `iterations` `track` calls over loopback, 32 in flight on a
/// current-thread tokio runtime (so callgrind sees one thread of client
/// work): the hyper client, or a raw hyper-util client doing the same call.
fn loopback_hyper(sdk: bool, iterations: u64) -> Result<(), String> {
    use std::sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    };

    use authsignal_benches::{
        baseline::{PlainTrackBody, parse_track},
        server::Server,
    };
    use authsignal_core::FromConfig;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::{client::legacy, rt::TokioExecutor};

    let server = Server::start(fixtures::TRACK_RESPONSE.as_bytes()).map_err(|e| e.to_string())?;
    let config = authsignal_core::Config::builder(fixtures::SECRET)
        .with_base_url(server.url())
        .build()
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let left = Arc::new(AtomicU64::new(iterations));
        let sdk_client = Arc::new(
            authsignal_hyper::Client::from_config(config.clone(), Default::default())
                .map_err(|e| e.to_string())?,
        );
        let raw: Arc<legacy::Client<_, Full<Bytes>>> =
            Arc::new(legacy::Client::builder(TokioExecutor::new()).build_http());
        let plain = Arc::new(BaselineTrack::new(&config));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (left, sdk_client, raw, plain) =
                    (left.clone(), sdk_client.clone(), raw.clone(), plain.clone());
                tokio::spawn(async move {
                    while left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        if sdk {
                            black_box(
                                sdk_client
                                    .track(fixtures::track_request())
                                    .await
                                    .map_err(|e| e.to_string())?,
                            );
                        } else {
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
                            black_box(parse_track(status, &body).map_err(|e| format!("{e:?}"))?);
                        }
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.map_err(|e| e.to_string())??;
        }
        Ok(())
    })
}

fn run(workload: &str, iterations: u64) -> Result<(), String> {
    match workload {
        "loopback-sdk" => return loopback(true, iterations),
        "loopback-raw" => return loopback(false, iterations),
        "loopback-hyper-sdk" => return loopback_hyper(true, iterations),
        "loopback-hyper-raw" => return loopback_hyper(false, iterations),
        _ => {}
    }
    let config = fixtures::config();
    let request = fixtures::track_request();
    let plain = BaselineTrack::new(&config);
    let answer = fixtures::TRACK_RESPONSE.as_bytes();
    let response = || fixtures::ok_response(black_box(answer));
    let user_request = fixtures::get_user_request();
    let user = || fixtures::ok_response(black_box(fixtures::GET_USER_RESPONSE.as_bytes()));
    let authenticators_request = fixtures::get_authenticators_request();
    let authenticators = fixtures::authenticators_response();
    let authenticators = || fixtures::ok_response(black_box(authenticators.as_bytes()));
    for _ in 0..iterations {
        match workload {
            "sdk-track" => {
                black_box(request.build_request(black_box(&config)).unwrap());
                black_box(request.parse_response(response()).unwrap());
            }
            "baseline-track" => {
                black_box(black_box(&plain).build());
                black_box(plain.parse(response()).unwrap());
            }
            "sdk-build" => drop(black_box(
                request.build_request(black_box(&config)).unwrap(),
            )),
            "sdk-parse" => drop(black_box(request.parse_response(response()).unwrap())),
            "baseline-build" => drop(black_box(black_box(&plain).build())),
            "baseline-parse" => drop(black_box(plain.parse(response()).unwrap())),
            "response" => drop(black_box(response())),
            "sdk-user-parse" => drop(black_box(user_request.parse_response(user()).unwrap())),
            "baseline-user-parse" => drop(black_box(parse_plain::<PlainUser>(&user()).unwrap())),
            "sdk-authenticators-parse" => drop(black_box(
                authenticators_request
                    .parse_response(authenticators())
                    .unwrap(),
            )),
            "baseline-authenticators-parse" => drop(black_box(
                parse_plain::<Vec<PlainAuthenticator>>(&authenticators()).unwrap(),
            )),
            other => return Err(format!("unknown workload {other:?}; one of {WORKLOADS:?}")),
        }
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.as_slice() {
        [] => WORKLOADS.iter().try_for_each(|w| run(w, 100)),
        [workload] => run(workload, 100_000),
        [workload, n] => run(workload, n.parse().map_err(|e| format!("iterations: {e}"))?),
        _ => Err("usage: profile [WORKLOAD [ITERATIONS]]".into()),
    }
}
