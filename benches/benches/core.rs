//! CPU cost of the sans-io core: building requests and parsing responses
//! (`track`, `get_user`, `get_authenticators`) and verifying webhooks, next
//! to hand-written baselines.
//!
//! `cargo bench -p authsignal-benches --bench core`

use std::hint::black_box;
use std::time::Duration;

use authsignal_benches::{baseline::BaselineTrack, fixtures};
use authsignal_core::{ApiSecretKey, Endpoint, webhook};
use base64::Engine as _;
use criterion::Criterion;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn track(c: &mut Criterion) {
    let config = fixtures::config();
    let request = fixtures::track_request();
    let plain = BaselineTrack::new(&config);
    let answer = fixtures::TRACK_RESPONSE.as_bytes();

    let mut group = c.benchmark_group("track");
    group.bench_function("sdk/build", |b| {
        b.iter(|| black_box(&request).build_request(black_box(&config)).unwrap())
    });
    group.bench_function("sdk/parse", |b| {
        b.iter(|| request.parse_response(fixtures::ok_response(black_box(answer))).unwrap())
    });
    group.bench_function("sdk/build+parse", |b| {
        b.iter(|| {
            let built = black_box(&request).build_request(black_box(&config)).unwrap();
            black_box(built);
            request.parse_response(fixtures::ok_response(black_box(answer))).unwrap()
        })
    });
    group.bench_function("baseline/build", |b| b.iter(|| black_box(&plain).build()));
    group.bench_function("baseline/parse", |b| {
        b.iter(|| plain.parse(fixtures::ok_response(black_box(answer))).unwrap())
    });
    group.bench_function("baseline/build+parse", |b| {
        b.iter(|| {
            black_box(black_box(&plain).build());
            plain.parse(fixtures::ok_response(black_box(answer))).unwrap()
        })
    });
    group.finish();
}

fn get_user(c: &mut Criterion) {
    let config = fixtures::config();
    let request = fixtures::get_user_request();
    let answer = fixtures::GET_USER_RESPONSE.as_bytes();

    let mut group = c.benchmark_group("get_user");
    group.bench_function("sdk/build", |b| {
        b.iter(|| black_box(&request).build_request(black_box(&config)).unwrap())
    });
    group.bench_function("sdk/parse", |b| {
        b.iter(|| request.parse_response(fixtures::ok_response(black_box(answer))).unwrap())
    });
    group.bench_function("sdk/build+parse", |b| {
        b.iter(|| {
            black_box(black_box(&request).build_request(black_box(&config)).unwrap());
            request.parse_response(fixtures::ok_response(black_box(answer))).unwrap()
        })
    });
    group.finish();
}

fn get_authenticators(c: &mut Criterion) {
    let config = fixtures::config();
    let request = fixtures::get_authenticators_request();
    let answer = fixtures::authenticators_response();
    let answer = answer.as_bytes();

    let mut group = c.benchmark_group("get_authenticators");
    group.bench_function("sdk/build", |b| {
        b.iter(|| black_box(&request).build_request(black_box(&config)).unwrap())
    });
    group.bench_function("sdk/parse_10", |b| {
        b.iter(|| request.parse_response(fixtures::ok_response(black_box(answer))).unwrap())
    });
    group.finish();
}

fn webhook(c: &mut Criterion) {
    let secret = fixtures::SECRET;
    let body = fixtures::webhook_body();
    let t = fixtures::WEBHOOK_TIMESTAMP;
    let header = webhook::sign(&ApiSecretKey::new(secret), &body, t);
    let verifier = webhook::Webhook::new(ApiSecretKey::new(secret));
    assert!(verifier.verify(&body, &header, t).is_ok());
    let expected = header.split_once(",v2=").expect("a signed header").1.to_owned();

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

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

fn main() {
    let mut c = config().configure_from_args();
    track(&mut c);
    get_user(&mut c);
    get_authenticators(&mut c);
    webhook(&mut c);
    c.final_summary();
}
