//! Devices: list a user's devices, set how long one is remembered,
//! invalidate one.

use http::Method;
use serde::{Deserialize, Serialize};

use crate::{
    Idempotency, InvalidInput, VerificationMethod,
    endpoint::{Endpoint, PathBuilder, json_body},
};

/// A device a user has signed in from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserDevice {
    /// The user's id.
    pub user_id: String,
    /// The device's id.
    pub device_id: String,
    /// When the device was first seen (ISO 8601).
    pub created_at: Option<String>,
    /// When the user last authenticated on it (ISO 8601).
    pub authenticated_at: Option<String>,
    /// When it was invalidated (ISO 8601).
    pub invalidated_at: Option<String>,
    /// Until when it is remembered (ISO 8601).
    pub remembered_until: Option<String>,
    /// The method the user last verified with on it.
    pub last_verification_method: Option<VerificationMethod>,
}

/// `GET /users/{userId}/devices`: a user's devices.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetDevicesRequest {
    /// The user's id in your system.
    pub user_id: String,
}

impl GetDevicesRequest {
    /// A request for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
        }
    }
}

impl Endpoint for GetDevicesRequest {
    type Output = Vec<UserDevice>;
    const NAME: &'static str = "get_devices";
    const METHOD: Method = Method::GET;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("devices");
        Ok(())
    }
}

/// `PATCH /users/{userId}/devices/{deviceId}`: sets until when a device is
/// remembered, or forgets it.
///
/// The body always carries `rememberedUntil`: a timestamp from
/// [`UpdateDeviceRequest::remember_until`], or an explicit `null` from
/// [`UpdateDeviceRequest::forget`].
///
/// ```
/// use authsignal_core::{Config, Endpoint, UpdateDeviceRequest};
/// let config = Config::builder("sk_test_123").build()?;
/// let request = UpdateDeviceRequest::forget("user-1", "device-1").build_request(&config)?;
/// assert_eq!(request.body(), br#"{"rememberedUntil":null}"#);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
///
/// ```
/// use authsignal_core::{Config, Endpoint, UpdateDeviceRequest};
/// let forget = UpdateDeviceRequest::forget("user-1", "device-9");
/// let request = forget.build_request(&Config::builder("sk_test").build()?)?;
/// assert_eq!(request.method(), "PATCH");
/// // Forgetting sends an explicit null.
/// assert_eq!(request.body().as_slice(), br#"{"rememberedUntil":null}"#);
/// # Ok::<(), authsignal_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UpdateDeviceRequest {
    /// The user's id in your system (path).
    #[serde(skip_serializing)]
    pub user_id: String,
    /// The device's id (path).
    #[serde(skip_serializing)]
    pub device_id: String,
    /// Until when the device is remembered (ISO 8601); `None` is sent as
    /// `null` and forgets the device.
    pub remembered_until: Option<String>,
}

impl UpdateDeviceRequest {
    /// A request to remember the device until `remembered_until` (ISO 8601,
    /// e.g. `2030-01-01T00:00:00Z`).
    pub fn remember_until(
        user_id: impl Into<String>,
        device_id: impl Into<String>,
        remembered_until: impl Into<String>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            device_id: device_id.into(),
            remembered_until: Some(remembered_until.into()),
        }
    }

    /// A request to stop remembering the device (`"rememberedUntil": null`).
    pub fn forget(user_id: impl Into<String>, device_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            device_id: device_id.into(),
            remembered_until: None,
        }
    }
}

impl Endpoint for UpdateDeviceRequest {
    type Output = UserDevice;
    const NAME: &'static str = "update_device";
    const METHOD: Method = Method::PATCH;
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("devices")
            .param("deviceId", &self.device_id)?;
        Ok(())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json_body(self)
    }
}

/// `POST /users/{userId}/devices/{deviceId}/invalidate`: stops trusting a
/// device. It has no body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InvalidateDeviceRequest {
    /// The user's id in your system.
    pub user_id: String,
    /// The device's id.
    pub device_id: String,
}

impl InvalidateDeviceRequest {
    /// A request to invalidate one device of `user_id`.
    pub fn new(user_id: impl Into<String>, device_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            device_id: device_id.into(),
        }
    }
}

impl Endpoint for InvalidateDeviceRequest {
    type Output = UserDevice;
    const NAME: &'static str = "invalidate_device";
    const METHOD: Method = Method::POST;
    // Invalidating twice has no further effect.
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn write_path(&self, path: &mut PathBuilder<'_>) -> Result<(), InvalidInput> {
        path.literal("users")
            .param("userId", &self.user_id)?
            .literal("devices")
            .param("deviceId", &self.device_id)?
            .literal("invalidate");
        Ok(())
    }
}

crate::client::endpoints! {
    /// A user's devices.
    get_devices(GetDevicesRequest) -> Vec<UserDevice>,
        route = "GET /users/{userId}/devices",
        example = GetDevicesRequest::new("user-1");
    /// Sets until when a device is remembered, or forgets it.
    update_device(UpdateDeviceRequest) -> UserDevice,
        route = "PATCH /users/{userId}/devices/{deviceId}",
        example = UpdateDeviceRequest::forget("user-1", "dev-1");
    /// Stops trusting a device.
    invalidate_device(InvalidateDeviceRequest) -> UserDevice,
        route = "POST /users/{userId}/devices/{deviceId}/invalidate",
        example = InvalidateDeviceRequest::new("user-1", "dev-1");
}
