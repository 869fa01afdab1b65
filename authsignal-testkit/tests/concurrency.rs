//! Many clients at once against one fake.

mod common;

use std::thread;

use authsignal_testkit::FakeAuthsignal;
use common::*;
use serde_json::json;

#[test]
fn sixteen_threads_run_independent_flows() {
    let fake = FakeAuthsignal::start();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let fake = &fake;
                scope.spawn(move || {
                    let user_id = format!("user/{i}");
                    let phone = format!("+1555000{i:04}");
                    let flow = sign_in(fake, &user_id, "signIn", &phone);

                    let validated = post(fake, "/validate", &json!({"token": flow.token}));
                    assert_eq!(validated.json["isValid"], true, "{}", validated.body);
                    assert_eq!(validated.json["userId"], user_id.as_str());
                    assert_eq!(
                        validated.json["idempotencyKey"],
                        flow.idempotency_key.as_str()
                    );

                    let session = post(
                        fake,
                        "/sessions",
                        &json!({"clientId": "web", "token": flow.token}),
                    );
                    assert_eq!(session.status, 200, "{}", session.body);
                    let refreshed = post(
                        fake,
                        "/sessions/refresh",
                        &json!({"refreshToken": session.str("refreshToken")}),
                    );
                    let checked = post(
                        fake,
                        "/sessions/validate",
                        &json!({"accessToken": refreshed.str("accessToken")}),
                    );
                    assert_eq!(checked.json["user"]["userId"], user_id.as_str());
                    assert_eq!(checked.json["user"]["phoneNumber"], phone.as_str());

                    let challenge = get(
                        fake,
                        &format!("/challenges?challengeId={}", flow.challenge_id),
                    );
                    assert_eq!(challenge.json["userId"], user_id.as_str());
                    flow.challenge_id
                })
            })
            .collect();
        let mut ids: Vec<String> = handles
            .into_iter()
            .map(|h| h.join().expect("flow thread panicked"))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 16);
    });
    // 8 requests per flow (enrol, track, challenge, verify, validate,
    // session, refresh, validate session) plus the challenge lookup.
    assert_eq!(fake.request_count(), 16 * 9);
    for i in 0..16 {
        let user = get(&fake, &format!("/users/{}", seg(&format!("user/{i}"))));
        assert_eq!(user.json["isEnrolled"], true, "{}", user.body);
    }
}
