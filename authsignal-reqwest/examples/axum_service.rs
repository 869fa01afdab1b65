//! An axum service on one shared async client: a sign-in route (track →
//! challenge → verify → validate) and a webhook route that checks
//! `X-Signature-V2` on the raw body before parsing anything.
//!
//! ```sh
//! cargo run -p authsignal-reqwest --example axum_service
//! ```
//!
//! It runs against an in-process fake Authsignal (`authsignal-testkit`),
//! serves on 127.0.0.1 (a free port), calls both routes itself with a real
//! HTTP client, prints what came back and exits: non-zero if a route did
//! not answer as expected. Against the real API the calls are the same;
//! build the client from `AUTHSIGNAL_SECRET_KEY` instead.

use std::sync::Arc;

use authsignal_reqwest::{
    ChallengeRequest, Client, EnrollVerifiedAuthenticatorRequest, StdTimer, TrackRequest,
    UserActionState, ValidateChallengeRequest, VerificationMethod, VerifyRequest,
    webhook::{self, Webhook},
};
use authsignal_testkit::FakeAuthsignal;
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use serde_json::{Value, json};

/// Where the one-time code comes from. In a real service the user types the
/// code from their email, so sign-in is two requests (start: track and
/// challenge; finish: verify and validate); this demo reads it from the
/// fake's outbox to keep one route.
type Inbox = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// What every handler shares: the client (`Clone`, one connection pool), the
/// webhook verifier and, for the demo, the inbox.
#[derive(Clone)]
struct AppState {
    client: Client,
    webhook: Webhook,
    inbox: Inbox,
}

type Reply = (StatusCode, Json<Value>);

fn reply(status: StatusCode, body: Value) -> Reply {
    (status, Json(body))
}

/// An SDK error as the service answers it: 502 for an upstream failure,
/// without echoing anything of the request.
fn upstream(error: authsignal_reqwest::Error) -> Reply {
    eprintln!("authsignal: {error}");
    reply(
        StatusCode::BAD_GATEWAY,
        json!({ "error": "authentication service unavailable" }),
    )
}

/// `POST /sign-in` with `{"userId": "...", "email": "..."}`.
async fn sign_in(State(state): State<AppState>, Json(body): Json<Value>) -> Reply {
    let (Some(user), Some(email)) = (body["userId"].as_str(), body["email"].as_str()) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "error": "userId and email are required" }),
        );
    };
    let client = &state.client;
    let tracked = match client.track(TrackRequest::new(user, "signIn")).await {
        Ok(tracked) => tracked,
        Err(error) => return upstream(error),
    };
    match tracked.state {
        UserActionState::Allow => {
            return reply(
                StatusCode::OK,
                json!({ "signedIn": true, "challenged": false }),
            );
        }
        UserActionState::ChallengeRequired => {}
        other => {
            return reply(
                StatusCode::FORBIDDEN,
                json!({ "signedIn": false, "state": other.as_str() }),
            );
        }
    }
    let challenge = ChallengeRequest::new(VerificationMethod::EmailOtp, "signIn")
        .with_user_id(user)
        .with_email(email)
        .with_idempotency_key(&tracked.idempotency_key);
    let challenge = match client.challenge(challenge).await {
        Ok(challenge) => challenge,
        Err(error) => return upstream(error),
    };
    let Some(code) = (state.inbox)() else {
        return reply(StatusCode::UNAUTHORIZED, json!({ "error": "no code" }));
    };
    let verified = match client
        .verify(VerifyRequest::new(&challenge.challenge_id, code.as_str()))
        .await
    {
        Ok(verified) => verified,
        Err(error) => return upstream(error),
    };
    if !verified.is_verified {
        return reply(StatusCode::UNAUTHORIZED, json!({ "signedIn": false }));
    }
    // Validate on the server, with the token from track: never trust a
    // client's word that the challenge passed.
    let validated = ValidateChallengeRequest::new(tracked.token)
        .with_user_id(user)
        .with_action("signIn");
    match client.validate_challenge(validated).await {
        Ok(validated) if validated.is_valid => reply(
            StatusCode::OK,
            json!({ "signedIn": true, "challenged": true }),
        ),
        Ok(_) => reply(StatusCode::UNAUTHORIZED, json!({ "signedIn": false })),
        Err(error) => upstream(error),
    }
}

/// `POST /webhooks/authsignal`: the raw body is verified against
/// `X-Signature-V2` first; only then is it parsed.
async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verified = webhook::signature_header(&headers)
        .and_then(|header| state.webhook.verify(&body, header, StdTimer::unix_now()));
    let verified = match verified {
        Ok(verified) => verified,
        Err(error) => {
            eprintln!("webhook rejected: {error}");
            return StatusCode::BAD_REQUEST;
        }
    };
    match verified.event() {
        Ok(event) => {
            println!("webhook: {} ({})", event.event_type, event.id);
            StatusCode::OK
        }
        Err(error) => {
            eprintln!("webhook payload: {error}");
            StatusCode::BAD_REQUEST
        }
    }
}

fn app(state: AppState) -> Router {
    Router::new()
        .route("/sign-in", post(sign_in))
        .route("/webhooks/authsignal", post(webhook))
        .with_state(state)
}

const EVENT: &str = r#"{"version":1,"type":"email.created","id":"4a4b4c4d-0000-4000-8000-000000000001","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"tenant-1","data":{"to":"axum-user@example.com","code":"157743","userId":"axum-user","actionCode":"signIn","idempotencyKey":"k-1","verificationMethod":"EMAIL_OTP"}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = FakeAuthsignal::start();
    let client = Client::builder(fake.secret())
        .with_base_url(fake.base_url())
        .build()?;
    let user = "axum-user";
    let email = "axum-user@example.com";
    client
        .enroll_verified_authenticator(
            EnrollVerifiedAuthenticatorRequest::new(user, VerificationMethod::EmailOtp)
                .with_email(email),
        )
        .await?;

    let fake = Arc::new(fake);
    let outbox = Arc::clone(&fake);
    let state = AppState {
        client: client.clone(),
        // Authsignal signs webhooks with your API secret key.
        webhook: Webhook::new(fake.api_secret_key()),
        inbox: Arc::new(move || outbox.last_code()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app(state)).await });
    println!("serving on {base}");

    // A real HTTP client: the SDK's own pooled reqwest client will do.
    let http = client.transport().client().clone();
    let mut failures = Vec::new();

    let response = http
        .post(format!("{base}/sign-in"))
        .json_body(&json!({ "userId": user, "email": email }))
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    println!("POST /sign-in: {status} {body}");
    if status != StatusCode::OK || !body.contains(r#""signedIn":true"#) {
        failures.push("sign-in");
    }

    let now = StdTimer::unix_now();
    let signed = webhook::sign(&fake.api_secret_key(), EVENT.as_bytes(), now);
    let tampered = EVENT.replace("157743", "000000");
    let cases = [
        (
            "signed",
            Some(signed.clone()),
            EVENT.to_owned(),
            StatusCode::OK,
        ),
        (
            "tampered body",
            Some(signed),
            tampered,
            StatusCode::BAD_REQUEST,
        ),
        (
            "no signature",
            None,
            EVENT.to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, signature, body, expected) in cases {
        let mut request = http
            .post(format!("{base}/webhooks/authsignal"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-signature-v2", signature);
        }
        let status = request.send().await?.status();
        println!("POST /webhooks/authsignal ({name}): {status}");
        if status != expected {
            failures.push(name);
        }
    }

    server.abort();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected answers: {failures:?}").into())
    }
}

/// `RequestBuilder::json` needs reqwest's `json` feature, which the SDK does
/// not turn on; this sets the body and header by hand.
trait JsonBody {
    fn json_body(self, value: &Value) -> Self;
}

impl JsonBody for authsignal_reqwest::reqwest::RequestBuilder {
    fn json_body(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }
}
