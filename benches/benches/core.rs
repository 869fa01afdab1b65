//! CPU cost of the sans-io core: building requests and parsing responses
//! (`track`, `get_user`, `get_authenticators`) and verifying webhooks, next
//! to hand-written baselines.
//!
//! `cargo bench -p authsignal-benches --bench core`
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not
//! wall time: on a machine shared with other jobs, time spent descheduled
//! would otherwise inflate every figure. Set `BENCH_CLOCK=wall` for wall time.

use std::hint::black_box;
use std::time::Duration;

use authsignal_benches::{
    baseline::{BaselineTrack, PlainAuthenticator, PlainUser, parse_plain},
    fixtures,
};
use authsignal_core::{ApiSecretKey, Endpoint, webhook};
use base64::Engine as _;
use criterion::{
    BatchSize, Criterion, Throughput,
    measurement::{Measurement, ValueFormatter, WallTime},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn track<M: Measurement>(c: &mut Criterion<M>) {
    let config = fixtures::config();
    let request = fixtures::track_request();
    let plain = BaselineTrack::new(&config);
    let answer = fixtures::TRACK_RESPONSE.as_bytes();

    let mut group = c.benchmark_group("track");
    // The response is made in the setup (untimed): a transport hands it over.
    let response = || fixtures::ok_response(answer);
    group.bench_function("sdk/build", |b| {
        b.iter(|| {
            black_box(&request)
                .build_request(black_box(&config))
                .unwrap()
        })
    });
    group.bench_function("sdk/parse", |b| {
        b.iter_batched(
            response,
            |r| request.parse_response(r).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("sdk/build+parse", |b| {
        b.iter_batched(
            response,
            |r| {
                black_box(
                    black_box(&request)
                        .build_request(black_box(&config))
                        .unwrap(),
                );
                request.parse_response(r).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("baseline/build", |b| b.iter(|| black_box(&plain).build()));
    group.bench_function("baseline/parse", |b| {
        b.iter_batched(response, |r| plain.parse(r).unwrap(), BatchSize::SmallInput)
    });
    group.bench_function("baseline/build+parse", |b| {
        b.iter_batched(
            response,
            |r| {
                black_box(black_box(&plain).build());
                plain.parse(r).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn get_user<M: Measurement>(c: &mut Criterion<M>) {
    let config = fixtures::config();
    let request = fixtures::get_user_request();
    let answer = fixtures::GET_USER_RESPONSE.as_bytes();

    let mut group = c.benchmark_group("get_user");
    group.bench_function("sdk/build", |b| {
        b.iter(|| {
            black_box(&request)
                .build_request(black_box(&config))
                .unwrap()
        })
    });
    let response = || fixtures::ok_response(answer);
    group.bench_function("sdk/parse", |b| {
        b.iter_batched(
            response,
            |r| request.parse_response(r).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("baseline/parse", |b| {
        b.iter_batched(
            response,
            |r| parse_plain::<PlainUser>(&r).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("sdk/build+parse", |b| {
        b.iter_batched(
            response,
            |r| {
                black_box(
                    black_box(&request)
                        .build_request(black_box(&config))
                        .unwrap(),
                );
                request.parse_response(r).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn get_authenticators<M: Measurement>(c: &mut Criterion<M>) {
    let config = fixtures::config();
    let request = fixtures::get_authenticators_request();
    let answer = fixtures::authenticators_response();
    let answer = answer.as_bytes();

    let mut group = c.benchmark_group("get_authenticators");
    group.bench_function("sdk/build", |b| {
        b.iter(|| {
            black_box(&request)
                .build_request(black_box(&config))
                .unwrap()
        })
    });
    group.bench_function("sdk/parse_10", |b| {
        b.iter_batched(
            || fixtures::ok_response(answer),
            |r| request.parse_response(r).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("baseline/parse_10", |b| {
        b.iter_batched(
            || fixtures::ok_response(answer),
            |r| parse_plain::<Vec<PlainAuthenticator>>(&r).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn webhook<M: Measurement>(c: &mut Criterion<M>) {
    let secret = fixtures::SECRET;
    let body = fixtures::webhook_body();
    let t = fixtures::WEBHOOK_TIMESTAMP;
    let header = webhook::sign(&ApiSecretKey::new(secret), &body, t);
    let verifier = webhook::Webhook::new(ApiSecretKey::new(secret));
    assert!(verifier.verify(&body, &header, t).is_ok());
    let expected = header
        .split_once(",v2=")
        .expect("a signed header")
        .1
        .to_owned();

    let mut group = c.benchmark_group("webhook");
    group.bench_function("sdk/verify_1KiB", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&body), black_box(&header), black_box(t))
                .unwrap()
                .timestamp()
        })
    });
    // The floor: one keyed HMAC-SHA256 over `"{t}.{body}"`, base64 and a
    // comparison, with no header parsing and no timestamp check.
    group.bench_function("baseline/hmac_1KiB", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(secret).as_bytes()).unwrap();
            mac.update(t.to_string().as_bytes());
            mac.update(b".");
            mac.update(black_box(&body));
            let tag = mac.finalize().into_bytes();
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(tag) == expected
        })
    });
    group.finish();
}

/// The calling thread's CPU time, as a criterion measurement.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = cpu_time::ThreadTime;
    type Value = Duration;

    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }
    fn end(&self, start: Self::Intermediate) -> Self::Value {
        start.elapsed()
    }
    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }
    fn zero(&self) -> Self::Value {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Self::Value) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Formats nanoseconds as ns, µs or ms, like criterion's wall-time output.
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns"),
            t if t < 1e6 => (1e-3, "µs"),
            t if t < 1e9 => (1e-6, "ms"),
            _ => (1e-9, "s"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (per_iteration, unit) = match *throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n as f64, "B/s"),
            Throughput::Elements(n) => (n as f64, "elem/s"),
        };
        values
            .iter_mut()
            .for_each(|v| *v = per_iteration * 1e9 / *v);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn settings<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args()
}

fn run<M: Measurement>(mut c: Criterion<M>) {
    track(&mut c);
    get_user(&mut c);
    get_authenticators(&mut c);
    webhook(&mut c);
    c.final_summary();
}

fn main() {
    if std::env::var("BENCH_CLOCK").is_ok_and(|v| v == "wall") {
        run(settings(Criterion::default().with_measurement(WallTime)));
    } else {
        run(settings(
            Criterion::default().with_measurement(ThreadCpuTime),
        ));
    }
}
