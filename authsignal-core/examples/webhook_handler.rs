//! A webhook handler that verifies Authsignal's signature before trusting the
//! body, fed with a signed request, a tampered one and a replayed one.
//!
//! ```sh
//! cargo run -p authsignal-core --example webhook_handler
//! ```
//!
//! In a real service, `handle` is called by your HTTP framework with the raw
//! request body and headers; answer 2xx only when it returns `Ok`.

use authsignal_core::{
    ApiSecretKey, StdTimer,
    http::{HeaderMap, HeaderValue, StatusCode},
    webhook::{self, SIGNATURE_HEADER, Webhook, WebhookError, WebhookEvent, WebhookEventType},
};

/// Reads the signature header, verifies it against the raw body and decodes
/// the event.
fn verified_event(
    webhook: &Webhook,
    headers: &HeaderMap,
    raw_body: &[u8],
    now: i64,
) -> Result<WebhookEvent, WebhookError> {
    let signature_header = webhook::signature_header(headers)?;
    webhook.verify(raw_body, signature_header, now)?.event()
}

/// Verifies the request and acts on the event; returns the HTTP status to answer with.
fn handle(webhook: &Webhook, headers: &HeaderMap, raw_body: &[u8], now: i64) -> StatusCode {
    match verified_event(webhook, headers, raw_body, now) {
        Ok(event) => {
            match &event.event_type {
                WebhookEventType::EmailCreated => {
                    println!(
                        "   email.created for {}: send it with your provider",
                        event.data["to"]
                    );
                }
                other => println!("   {other}: nothing to do"),
            }
            StatusCode::OK
        }
        Err(error) => {
            println!("   rejected: {error}");
            StatusCode::UNAUTHORIZED
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The webhook secret is the tenant's API secret key.
    let secret = ApiSecretKey::new(
        std::env::var("AUTHSIGNAL_SECRET_KEY").unwrap_or_else(|_| "sk_test_example".into()),
    );
    let webhook = Webhook::new(secret.clone());
    let now = StdTimer::unix_now();

    let body = br#"{"version":1,"type":"email.created","id":"bc1598bc-e5d6-4c69-9afb-1a6fe3469d6e","source":"https://authsignal.com","time":"2025-02-20T01:51:56.070Z","tenantId":"7752d28e-e627-4b1b-bb81-b45d68d617bc","data":{"to":"user@example.com","code":"157743","actionCode":"signIn"}}"#;
    let signed = |at: i64| -> Result<HeaderMap, Box<dyn std::error::Error>> {
        let mut headers = HeaderMap::new();
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::try_from(webhook::sign(&secret, body, at))?,
        );
        Ok(headers)
    };

    println!("1. a request signed just now");
    assert_eq!(handle(&webhook, &signed(now)?, body, now), StatusCode::OK);

    println!("2. the same request with one byte of the body changed");
    let mut tampered = body.to_vec();
    if let Some(byte) = tampered.iter_mut().find(|b| **b == b'7') {
        *byte = b'8';
    }
    assert_eq!(
        handle(&webhook, &signed(now)?, &tampered, now),
        StatusCode::UNAUTHORIZED
    );

    println!("3. the original request replayed ten minutes later");
    assert_eq!(
        handle(&webhook, &signed(now)?, body, now + 600),
        StatusCode::UNAUTHORIZED
    );

    println!("4. a request without a signature");
    assert_eq!(
        handle(&webhook, &HeaderMap::new(), body, now),
        StatusCode::UNAUTHORIZED
    );
    Ok(())
}
