//! Users: get, query, update, delete.

use http::Method;
use serde::{Deserialize, Serialize};

use super::{ignore_body, null_as_default, setters};
use crate::{
    Idempotency, InvalidInput, SecretString, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, QueryBuilder, json_body},
};

/// `GET /users/{userId}`: a user's attributes and enrolment.
///
/// An unknown or deleted user is not an error: the API answers with
/// `isEnrolled: false`.
///
/// ```
/// use authsignal_core::{Config, Endpoint, GetUserRequest, http};
/// let get = GetUserRequest::new("team/alice");
/// let request = get.build_request(&Config::builder("sk_test").build()?)?;
/// // A path parameter is always one segment.
/// assert_eq!(request.uri().path(), "/v1/users/team%2Falice");
///
/// let user = get.parse_response(http::Response::new(br#"{"isEnrolled":true}"#.to_vec()))?;
/// assert!(user.is_enrolled);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetUserRequest {
    /// The user's id in your system.
    pub user_id: String,
}

impl GetUserRequest {
    /// A request for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
        }
    }
}

/// A user as returned by [`GetUserRequest`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetUserResponse {
    /// The user's id.
    pub user_id: Option<String>,
    /// Whether the user has at least one authenticator.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_enrolled: bool,
    /// Email address.
    pub email: Option<String>,
    /// Whether the email address is verified (not in the API reference for
    /// this endpoint, so it may be absent).
    pub email_verified: Option<bool>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Whether the phone number is verified (not in the API reference for
    /// this endpoint, so it may be absent).
    pub phone_number_verified: Option<bool>,
    /// Username.
    pub username: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Custom data.
    pub custom: Option<serde_json::Value>,
    /// The user's locale, e.g. `en`.
    pub locale: Option<String>,
    /// Methods the user has enrolled.
    #[serde(default, deserialize_with = "null_as_default")]
    pub enrolled_verification_methods: Vec<VerificationMethod>,
    /// Methods the user may use.
    #[serde(default, deserialize_with = "null_as_default")]
    pub allowed_verification_methods: Vec<VerificationMethod>,
    /// The user's default method.
    pub default_verification_method: Option<VerificationMethod>,
}

impl Endpoint for GetUserRequest {
    type Output = GetUserResponse;
    const NAME: &'static str = "get_user";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users").param("userId", &self.user_id)?;
        Ok(())
    }
}

/// A user's attributes: the body of [`UpdateUserRequest`] and its response.
/// Unset fields are omitted and left unchanged by the API.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserAttributes {
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the email address is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Phone number (E.164).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the phone number is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    /// Username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Custom data (any JSON object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
    /// Preferred locale, e.g. `en-NZ`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The user's default verification method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_verification_method: Option<VerificationMethod>,
}

/// `PATCH /users/{userId}`: updates a user's attributes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UpdateUserRequest {
    /// The user's id in your system.
    pub user_id: String,
    /// The attributes to change; unset ones stay as they are.
    #[serde(flatten)]
    pub attributes: UserAttributes,
}

impl UpdateUserRequest {
    /// A request that changes nothing yet; add attributes with the setters.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            attributes: UserAttributes::default(),
        }
    }

    /// Replaces all attributes at once.
    pub fn with_attributes(mut self, attributes: UserAttributes) -> Self {
        self.attributes = attributes;
        self
    }
}

setters!(UpdateUserRequest {
    /// Email address.
    with_email => attributes.email: String,
    /// Whether the email address is verified.
    with_email_verified => attributes.email_verified: bool,
    /// Phone number (E.164).
    with_phone_number => attributes.phone_number: String,
    /// Whether the phone number is verified.
    with_phone_number_verified => attributes.phone_number_verified: bool,
    /// Username.
    with_username => attributes.username: String,
    /// Display name.
    with_display_name => attributes.display_name: String,
    /// Custom data (any JSON object).
    with_custom => attributes.custom: serde_json::Value,
    /// Preferred locale, e.g. `en-NZ`.
    with_locale => attributes.locale: String,
    /// The user's default verification method.
    with_default_verification_method => attributes.default_verification_method: VerificationMethod,
});

/// The user after [`UpdateUserRequest`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UpdateUserResponse {
    /// The user's id, when the API returns it.
    pub user_id: Option<String>,
    /// The user's attributes.
    #[serde(flatten)]
    pub attributes: UserAttributes,
}

impl Endpoint for UpdateUserRequest {
    type Output = UpdateUserResponse;
    const NAME: &'static str = "update_user";
    const METHOD: Method = Method::PATCH;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users").param("userId", &self.user_id)?;
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(&self.attributes)
    }
}

/// `DELETE /users/{userId}`: deletes a user and their authenticators.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeleteUserRequest {
    /// The user's id in your system.
    pub user_id: String,
}

impl DeleteUserRequest {
    /// A request for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
        }
    }
}

impl Endpoint for DeleteUserRequest {
    type Output = ();
    const NAME: &'static str = "delete_user";
    const METHOD: Method = Method::DELETE;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users").param("userId", &self.user_id)?;
        Ok(())
    }

    fn parse_body(&self, body: &[u8]) -> Result<Self::Output, serde_json::Error> {
        ignore_body(body)
    }
}

/// `GET /users`: finds users by username, email or phone number, one page at
/// a time.
///
/// Only the parameters that are set are sent. The API asks for at least one
/// of `username`, `email` or `phoneNumber`. To walk every page without
/// handling the cursor, use
/// [`Client::query_users_pages`](crate::Client::query_users_pages).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QueryUsersRequest {
    /// Match this username.
    pub username: Option<String>,
    /// Match this email address.
    pub email: Option<String>,
    /// Match this phone number (E.164).
    pub phone_number: Option<String>,
    /// A token identifying the user (sent as the `token` query parameter).
    pub token: Option<SecretString>,
    /// The page size.
    pub limit: Option<u32>,
    /// The cursor: the `lastEvaluatedUserId` of the previous page.
    pub last_evaluated_user_id: Option<String>,
}

impl QueryUsersRequest {
    /// A request with no filter yet; add them with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `limit`, the page size. (A plain `u32` so `with_limit(50)` infers.)
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

setters!(QueryUsersRequest {
    /// Match this username.
    with_username => username: String,
    /// Match this email address.
    with_email => email: String,
    /// Match this phone number (E.164).
    with_phone_number => phone_number: String,
    /// A token identifying the user (sent as the `token` query parameter).
    with_token => token: SecretString,
    /// The cursor: the `lastEvaluatedUserId` of the previous page.
    with_last_evaluated_user_id => last_evaluated_user_id: String,
});

/// One user in a [`QueryUsersResponse`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QueryUsersUser {
    /// The user's id.
    pub user_id: String,
    /// Email address.
    pub email: Option<String>,
    /// Whether the email address is verified.
    pub email_verified: Option<bool>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Whether the phone number is verified.
    pub phone_number_verified: Option<bool>,
    /// Username.
    pub username: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Whether the user has at least one authenticator.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_enrolled: bool,
    /// Methods the user has enrolled.
    #[serde(default, deserialize_with = "null_as_default")]
    pub enrolled_verification_methods: Vec<VerificationMethod>,
    /// When the user was created (ISO 8601).
    pub created_at: Option<String>,
}

/// One page of [`QueryUsersRequest`] results.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QueryUsersResponse {
    /// The users on this page.
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<QueryUsersUser>,
    /// The cursor for the next page; absent on the last page.
    pub last_evaluated_user_id: Option<String>,
    /// The decoded payload of the `token` parameter, when one was sent.
    pub token_payload: Option<serde_json::Value>,
}

impl Endpoint for QueryUsersRequest {
    type Output = QueryUsersResponse;
    const NAME: &'static str = "query_users";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users");
        Ok(())
    }

    fn write_query(&self, query: &mut QueryBuilder<'_>) {
        let limit = self.limit.map(|limit| limit.to_string());
        query
            .optional("username", self.username.as_deref())
            .optional("email", self.email.as_deref())
            .optional("phoneNumber", self.phone_number.as_deref())
            .optional(
                "token",
                self.token.as_ref().map(SecretString::expose_secret),
            )
            .optional("limit", limit.as_deref())
            .optional(
                "lastEvaluatedUserId",
                self.last_evaluated_user_id.as_deref(),
            );
    }
}

crate::client::endpoints! {
    /// A user's attributes and enrolment.
    get_user(GetUserRequest) -> GetUserResponse,
        route = "GET /users/{userId}",
        example = GetUserRequest::new("user-1");
    /// Updates a user's attributes; omitted fields stay unchanged.
    update_user(UpdateUserRequest) -> UpdateUserResponse,
        route = "PATCH /users/{userId}",
        example = UpdateUserRequest::new("user-1").with_email("a@example.com");
    /// Deletes a user.
    delete_user(DeleteUserRequest) -> (),
        route = "DELETE /users/{userId}",
        example = DeleteUserRequest::new("user-1");
    /// One page of users matching a username, email or phone number; see
    /// `query_users_pages` on either client to walk every page.
    query_users(QueryUsersRequest) -> QueryUsersResponse,
        route = "GET /users",
        example = QueryUsersRequest::new().with_email("a@example.com");
}
