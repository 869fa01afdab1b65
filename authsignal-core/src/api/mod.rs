//! Request and response types, one file per resource group.

mod actions;
mod authenticators;
mod call_connect;
mod challenges;
mod devices;
mod sessions;
mod users;

pub use actions::*;
pub use authenticators::*;
pub use call_connect::*;
pub use challenges::*;
pub use devices::*;
pub use sessions::*;
pub use users::*;

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::{Endpoint, InvalidInput};

/// Where an endpoint is declared: its client method and its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointInfo {
    /// The client method, e.g. `track` (the same as [`Endpoint::NAME`]).
    pub method: &'static str,
    /// The route as the API reference writes it, e.g.
    /// `POST /users/{userId}/actions/{action}`.
    pub route: &'static str,
}

/// Something that wants to see every endpoint of the SDK: a test table, a
/// property test or a fuzz target. [`visit_endpoints`] calls
/// [`visit`](Self::visit) once per endpoint with an example request.
pub trait EndpointVisitor {
    /// Called for one endpoint, with an example request of its type.
    fn visit<E>(&mut self, info: EndpointInfo, example: E)
    where
        E: Endpoint + Clone + fmt::Debug + Send + Sync + 'static,
        E::Output: fmt::Debug + Send + 'static;
}

/// Shows every endpoint of the SDK to `visitor`, group by group. The one
/// list of endpoints lives beside their types; tests enumerate it here
/// instead of keeping lists of their own.
///
/// ```
/// use authsignal_core::{Endpoint, EndpointInfo, EndpointVisitor, visit_endpoints};
/// struct Names(Vec<&'static str>);
/// impl EndpointVisitor for Names {
///     fn visit<E: Endpoint>(&mut self, _info: EndpointInfo, _example: E) {
///         self.0.push(E::NAME);
///     }
/// }
/// let mut names = Names(Vec::new());
/// visit_endpoints(&mut names);
/// assert!(names.0.contains(&"track"));
/// ```
pub fn visit_endpoints(visitor: &mut impl EndpointVisitor) {
    actions::visit(visitor);
    authenticators::visit(visitor);
    call_connect::visit(visitor);
    challenges::visit(visitor);
    devices::visit(visitor);
    sessions::visit(visitor);
    users::visit(visitor);
}

/// Generates chainable `with_*` setters for optional fields.
macro_rules! setters {
    ($ty:ident { $( $setter:ident => $($field:ident).+ : $t:ty ),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets `", stringify!($($field).+), "`.")]
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
