//! The request and response types of every endpoint, one file per resource
//! group, and the enums they use. Each group also declares its endpoints'
//! client methods, beside their types.
//!
//! Every request type also deserializes from JSON: its body fields as the
//! API names them, plus its path and query parameters under their wire
//! names (`userId`, `idempotencyKey`…). Tests keep requests as data that
//! way, and a service can read one from a queue or a config file:
//!
//! ```
//! use authsignal_core::{Config, Endpoint, TrackRequest};
//! let track: TrackRequest = serde_json::from_str(
//!     r#"{"userId": "user-1", "action": "signIn", "ipAddress": "203.0.113.7"}"#,
//! )?;
//! let request = track.build_request(&Config::builder("sk_test").build()?)?;
//! assert_eq!(request.uri().path(), "/v1/users/user-1/actions/signIn");
//! assert_eq!(request.body().as_slice(), br#"{"ipAddress":"203.0.113.7"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod actions;
mod authenticators;
mod call_connect;
mod challenges;
mod devices;
mod sessions;
mod terminal;
mod users;

pub use actions::*;
pub use authenticators::*;
pub use call_connect::*;
pub use challenges::*;
pub use devices::*;
pub use sessions::*;
pub use terminal::*;
pub use users::*;

use serde::{Deserialize, Deserializer};

pub use crate::enums::{
    AuthScope, CallConnectMessageChannel, CallState, ErrorCode, PaymentSessionStatus, SmsChannel,
    UnknownValue, UserActionState, VerificationFailureReason, VerificationMethod,
};
use crate::{InvalidInput, endpoint::EndpointVisitor};

/// Shows every endpoint to `visitor`, group by group (see
/// [`crate::endpoint::visit_endpoints`]).
pub(crate) fn visit_all(visitor: &mut impl EndpointVisitor) {
    actions::visit(visitor);
    authenticators::visit(visitor);
    call_connect::visit(visitor);
    challenges::visit(visitor);
    devices::visit(visitor);
    sessions::visit(visitor);
    terminal::visit(visitor);
    users::visit(visitor);
}

/// Generates chainable `with_*` setters for optional fields. Each entry
/// carries the doc of the field it sets (the field's own doc, repeated so
/// the setter reads on its own in rustdoc and in an editor).
macro_rules! setters {
    ($ty:ident { $( $(#[doc = $doc:literal])* $setter:ident => $($field:ident).+ : $t:ty ),* $(,)? }) => {
        impl $ty {
            $(
                $(#[doc = $doc])*
                pub fn $setter(mut self, value: impl Into<$t>) -> Self {
                    self.$($field).+ = Some(value.into());
                    self
                }
            )*
        }
    };
}
pub(crate) use setters;

/// Implements the body-less parts of `Endpoint` for outputs that ignore the
/// response body (deletes, revocations): any 2xx succeeds.
pub(crate) fn ignore_body(_body: &[u8]) -> Result<(), serde_json::Error> {
    Ok(())
}

/// Serializes scopes as one space-separated string.
pub(crate) fn space_separated<S: serde::Serializer>(
    scopes: &[AuthScope],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let joined = scopes
        .iter()
        .map(AuthScope::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    serializer.serialize_str(&joined)
}

/// Reads scopes from one space-separated string (the inverse of
/// [`space_separated`]).
pub(crate) fn from_space_separated<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<AuthScope>, D::Error> {
    let joined = String::deserialize(deserializer)?;
    Ok(joined.split_whitespace().map(AuthScope::from).collect())
}

/// Decodes `null` as the type's default (the API sometimes sends `null` for
/// empty lists and flags).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Checks an action code against the API's rule `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn check_action_code(value: &str) -> Result<(), InvalidInput> {
    let valid = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(InvalidInput::PathParameter {
            name: "action",
            reason: "must be 1 to 64 characters of A-Z, a-z, 0-9, `_` or `-`",
        })
    }
}
