//! Seed files: users, authenticators and action outcomes to start a fake
//! with, as JSON (the format is in the crate docs).

use std::collections::BTreeMap;
use std::fmt;

use authsignal_core::{UserActionState, VerificationMethod};
use serde::Deserialize;

use crate::fake::Fake;
use crate::routes::add_authenticator;

/// What a seed file holds. Every field may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Seed {
    #[serde(default)]
    users: Vec<SeedUser>,
    #[serde(default)]
    authenticators: Vec<SeedAuthenticator>,
    #[serde(default)]
    action_outcomes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedUser {
    user_id: String,
    email: Option<String>,
    phone_number: Option<String>,
    username: Option<String>,
    display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedAuthenticator {
    user_id: String,
    verification_method: String,
    phone_number: Option<String>,
    email: Option<String>,
    credential_id: Option<String>,
}

/// Why a seed file was refused; nothing of it was loaded.
#[derive(Debug)]
pub struct SeedError(String);

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid seed file: {}", self.0)
    }
}

impl std::error::Error for SeedError {}

impl Seed {
    pub(crate) fn parse(json: &str) -> Result<Self, SeedError> {
        let seed: Self = serde_json::from_str(json).map_err(|e| SeedError(e.to_string()))?;
        for (action, outcome) in &seed.action_outcomes {
            if UserActionState::from(outcome.as_str()).is_unknown() {
                return Err(SeedError(format!(
                    "action {action:?}: unknown state {outcome:?}"
                )));
            }
        }
        for authenticator in &seed.authenticators {
            let method = VerificationMethod::from(authenticator.verification_method.as_str());
            if method.is_unknown() {
                return Err(SeedError(format!(
                    "user {:?}: unknown verification method {:?}",
                    authenticator.user_id, authenticator.verification_method
                )));
            }
        }
        Ok(seed)
    }

    pub(crate) fn load_into(self, fake: &Fake) {
        let mut state = fake.lock();
        for seeded in self.users {
            let user = state.user_mut(&seeded.user_id);
            user.email = seeded.email.or(user.email.take());
            user.phone_number = seeded.phone_number.or(user.phone_number.take());
            user.username = seeded.username.or(user.username.take());
            user.display_name = seeded.display_name.or(user.display_name.take());
        }
        for a in self.authenticators {
            add_authenticator(
                &mut state,
                &a.user_id,
                &a.verification_method,
                a.phone_number.as_deref(),
                a.email.as_deref(),
                a.credential_id,
                None,
                false,
            );
        }
        for (action, outcome) in self.action_outcomes {
            state
                .outcomes
                .insert(action, UserActionState::from(outcome.as_str()));
        }
    }
}
