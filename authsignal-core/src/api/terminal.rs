//! The Terminal API: payment sessions on a paired Authsignal terminal.
//!
//! A point-of-sale back end starts a payment session, which brings up the
//! payment-authorisation screen on the terminal app, then polls the session
//! until it is no longer [`Pending`](PaymentSessionStatus::Pending).
//!
//! These calls use the Server API base URL but not its secret key: each
//! request carries the id of the terminal it is for, sent as
//! `x-authsignal-terminal` ([`TERMINAL_HEADER`](crate::endpoint::TERMINAL_HEADER),
//! marked sensitive), and **no** `Authorization` header. The terminal id is
//! a field of each request rather than of the [`Config`](crate::Config),
//! because one back end usually drives many terminals: one client serves
//! them all. It is a [`SecretString`], so it never shows in `Debug`.

use http::Method;
use serde::{Deserialize, Serialize};

use crate::{
    Idempotency, InvalidInput, PaymentSessionStatus, SecretString,
    endpoint::{Endpoint, PathBuilder, Service, json_body},
};

/// `POST /terminal/payment-session`: starts a payment session on the
/// terminal `terminal_id`, to authorise `amount` in `currency`.
///
/// The API marks no body field as required; this SDK asks for all three,
/// since a payment session without them means nothing. Neither the unit of
/// `amount` (major or minor) nor the format of `currency` (ISO 4217 is the
/// likely one) is documented.
///
/// ```
/// use authsignal_core::{Config, CreatePaymentSessionRequest, Endpoint, http};
/// let config = Config::builder("sk_test").build()?;
/// let create = CreatePaymentSessionRequest::new("term_5f2c9a", 42.5, "POS-0093-118", "NZD");
/// let request = create.build_request(&config)?;
/// assert_eq!(request.uri(), "https://api.authsignal.com/v1/terminal/payment-session");
/// // The terminal id is the credential; the Server API key is not sent.
/// assert_eq!(request.headers()["x-authsignal-terminal"], "term_5f2c9a");
/// assert!(request.headers().get("authorization").is_none());
///
/// let session = create.parse_response(http::Response::new(
///     br#"{"challengeId":"9a7c3e21","status":"PENDING","reference":"POS-0093-118"}"#.to_vec(),
/// ))?;
/// assert!(!session.status.is_final());
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreatePaymentSessionRequest {
    /// The paired terminal to show the payment on (sent as the
    /// `x-authsignal-terminal` header, never in the body).
    #[serde(skip_serializing)]
    pub terminal_id: SecretString,
    /// The amount to authorise (a finite number; its unit is not documented).
    pub amount: f64,
    /// Your point-of-sale reference for the payment.
    pub reference: String,
    /// The currency to authorise, e.g. `NZD`.
    pub currency: String,
}

impl CreatePaymentSessionRequest {
    /// A request to authorise `amount` `currency` for `reference` on the
    /// terminal `terminal_id`.
    pub fn new(
        terminal_id: impl Into<SecretString>,
        amount: f64,
        reference: impl Into<String>,
        currency: impl Into<String>,
    ) -> Self {
        Self {
            terminal_id: terminal_id.into(),
            amount,
            reference: reference.into(),
            currency: currency.into(),
        }
    }
}

/// A payment session: the result of [`CreatePaymentSessionRequest`] and of
/// [`GetPaymentSessionRequest`].
///
/// The API marks no field as required; the id and the status are required
/// here, since an answer without them cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PaymentSession {
    /// The session's id, for [`GetPaymentSessionRequest`].
    pub challenge_id: String,
    /// Where the session stands.
    pub status: PaymentSessionStatus,
    /// Your point-of-sale reference, as given at creation.
    pub reference: Option<String>,
}

impl Endpoint for CreatePaymentSessionRequest {
    type Output = PaymentSession;
    const NAME: &'static str = "create_payment_session";
    const METHOD: Method = Method::POST;
    // Each call starts another payment on the terminal.
    const IDEMPOTENCY: Idempotency = Idempotency::NonIdempotent;
    const SERVICE: Service = Service::Terminal;

    fn validate(&self) -> Result<(), InvalidInput> {
        if self.amount.is_finite() {
            Ok(())
        } else {
            // JSON has no NaN or infinity: serde_json would send `null`.
            Err(InvalidInput::Field {
                name: "amount",
                reason: "must be a finite number".into(),
            })
        }
    }

    fn request_credential(&self) -> Option<&SecretString> {
        Some(&self.terminal_id)
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("terminal").literal("payment-session");
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `GET /terminal/payment-session/{challengeId}`: polls a payment session
/// started on the terminal `terminal_id`.
///
/// Polling reads only, so the client retries it like any `GET`. The poll
/// interval and the session's lifetime are not documented.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetPaymentSessionRequest {
    /// The terminal the session was started on (sent as the
    /// `x-authsignal-terminal` header).
    pub terminal_id: SecretString,
    /// The session's id, from [`PaymentSession::challenge_id`].
    pub challenge_id: String,
}

impl GetPaymentSessionRequest {
    /// A request for the session `challenge_id` of the terminal `terminal_id`.
    pub fn new(terminal_id: impl Into<SecretString>, challenge_id: impl Into<String>) -> Self {
        Self {
            terminal_id: terminal_id.into(),
            challenge_id: challenge_id.into(),
        }
    }
}

impl Endpoint for GetPaymentSessionRequest {
    type Output = PaymentSession;
    const NAME: &'static str = "get_payment_session";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;
    const SERVICE: Service = Service::Terminal;

    fn request_credential(&self) -> Option<&SecretString> {
        Some(&self.terminal_id)
    }

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("terminal")
            .literal("payment-session")
            .param("challengeId", &self.challenge_id)?;
        Ok(())
    }
}

crate::client::endpoints! {
    /// Starts a payment session on a paired terminal (Terminal API: the
    /// terminal id is the credential, the Server API key is not sent).
    create_payment_session(CreatePaymentSessionRequest) -> PaymentSession,
        route = "POST /terminal/payment-session",
        example = CreatePaymentSessionRequest::new("term-1", 12.5, "POS-1", "NZD");
    /// Polls a payment session (Terminal API).
    get_payment_session(GetPaymentSessionRequest) -> PaymentSession,
        route = "GET /terminal/payment-session/{challengeId}",
        example = GetPaymentSessionRequest::new("term-1", "ps-1");
}
