//! Walks every user matching a query, page by page, without handling the
//! `lastEvaluatedUserId` cursor yourself.
//!
//! ```sh
//! cargo run -p authsignal-ureq --example query_users
//! ```
//!
//! It seeds an in-process fake Authsignal with a few users; with
//! `AUTHSIGNAL_SECRET_KEY` (and optionally `AUTHSIGNAL_API_URL`) set it queries
//! the real API for users whose email is `QUERY_EMAIL`.

use authsignal_testkit::FakeAuthsignal;
use authsignal_ureq::{Client, QueryUsersRequest, UpdateUserRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _fake, email) = match std::env::var("AUTHSIGNAL_SECRET_KEY") {
        Ok(secret) => {
            let mut builder = Client::builder(secret);
            if let Ok(url) = std::env::var("AUTHSIGNAL_API_URL") {
                builder = builder.with_base_url(url);
            }
            let email = std::env::var("QUERY_EMAIL")?;
            (builder.build()?, None, email)
        }
        Err(_) => {
            let fake = FakeAuthsignal::start();
            let client = Client::builder(fake.secret())
                .with_base_url(fake.base_url())
                .build()?;
            // Seven accounts share one email address (say, a family plan).
            for n in 1..=7 {
                client.update_user(
                    UpdateUserRequest::new(format!("member-{n}"))
                        .with_email("family@example.com")
                        .with_display_name(format!("Member {n}")),
                )?;
            }
            (client, Some(fake), "family@example.com".to_owned())
        }
    };

    let request = QueryUsersRequest::new().with_email(&email).with_limit(3);
    for (number, page) in client.query_users_pages(request).enumerate() {
        let page = page?;
        let ids: Vec<&str> = page
            .users
            .iter()
            .map(|user| user.user_id.as_str())
            .collect();
        println!("page {}: {}", number + 1, ids.join(", "));
    }

    // Or user by user, across pages:
    let total = client
        .query_users_pages(QueryUsersRequest::new().with_email(&email).with_limit(3))
        .users()
        .collect::<Result<Vec<_>, _>>()?
        .len();
    println!("{total} users in all");
    Ok(())
}
