//! The `authsignal-fake` binary: starts, serves a seeded fake, logs one line
//! per request, and stops on SIGTERM.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authsignal_core::{ErrorCode, TrackRequest, UserActionState};

const UNAUTHORIZED: &str = "The request is unauthorized. Check that your API key and region base URL are correctly configured.";

#[test]
fn binary_serves_a_seed_logs_requests_and_stops_on_sigterm() {
    let seed = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("authsignal-fake-seed.json");
    std::fs::write(
        &seed,
        r#"{"authenticators": [{"userId": "alice", "verificationMethod": "SMS", "phoneNumber": "+64270000001"}]}"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_authsignal-fake"))
        .args(["--port", "0", "--secret", "sk_test_binary"])
        .arg("--seed")
        .arg(&seed)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authsignal-fake");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(
        base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/v1"),
        "{base_url}"
    );

    let client = |secret: &str| -> authsignal_ureq::Client {
        authsignal_ureq::Client::builder(secret)
            .with_base_url(&base_url)
            .build()
            .unwrap()
    };
    let tracked = client("sk_test_binary")
        .track(TrackRequest::new("alice", "signIn"))
        .expect("track");
    let challenge = UserActionState::ChallengeRequired;
    assert_eq!(tracked.state, challenge, "the seed enrolled alice");
    let track = client("sk_test_wrong").track(TrackRequest::new("alice", "signIn"));
    let Err(authsignal_core::Error::Api(error)) = track else {
        panic!("expected a 401");
    };
    let seen = (
        error.status.as_u16(),
        error.code,
        error.description.as_deref(),
    );
    assert_eq!(
        seen,
        (401, Some(ErrorCode::Unauthorized), Some(UNAUTHORIZED))
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");

    let mut log = String::new();
    let stderr = child.stderr.take().unwrap();
    BufReader::new(stderr).read_to_string(&mut log).unwrap();
    // `METHOD PATH STATUS <n>ms`, and never the key.
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines.len() == 2 && lines.iter().all(|l| l.ends_with("ms")),
        "{log}"
    );
    let track = "POST /v1/users/alice/actions/signIn";
    assert!(lines[0].starts_with(&format!("{track} 200 ")), "{log}");
    assert!(lines[1].starts_with(&format!("{track} 401 ")), "{log}");
    assert!(!log.contains("sk_test"), "{log}");
}

#[test]
fn binary_refuses_unknown_options_and_bad_seeds() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_authsignal-fake"))
            .args(args)
            .output()
            .unwrap()
    };
    let unknown = run(&["--colour"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("usage: authsignal-fake"));
    let missing = run(&["--seed", "/nonexistent/seed.json"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/seed.json")
    );
}
