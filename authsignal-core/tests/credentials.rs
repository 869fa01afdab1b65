//! Credentials beyond the endpoint table: Call Connect requests without
//! Call Connect's key (refused, nothing sent), bad keys and terminal ids
//! (refused without showing them), `Debug`, and the regional and explicit
//! Call Connect hosts. Which credential each built request carries — the
//! Server API key for the Server API only, Call Connect's own key for Call
//! Connect, the terminal id and no `Authorization` for the Terminal API — is
//! asserted header by header for every endpoint by the offline trials of
//! `tests/tests/endpoints.rs`.

use std::cell::Cell;

use authsignal_core::{
    Builder, CallState, Client, Config, CreatePaymentSessionRequest, Endpoint, EndpointInfo,
    EndpointVisitor, Error, FinishCallRequest, GetPaymentSessionRequest, InvalidInput, Region,
    Service, StartCallRequest, TransportError, http, visit_endpoints,
};
use base64::Engine as _;

const SECRET: &str = "sk_test_server_api_4f1d";
const CALL_CONNECT_SECRET: &str = "sk_test_call_connect_8b2e";

fn both_keys() -> Builder<Config> {
    Config::builder(SECRET).with_call_connect_secret(CALL_CONNECT_SECRET)
}

/// Every way `key` could travel: as is, base64 with and without the Basic
/// colon.
fn forms_of(key: &str) -> Vec<String> {
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    vec![key.to_owned(), b64(format!("{key}:")), b64(key.to_owned())]
}

fn is_missing_call_connect_secret(error: &Error) -> bool {
    matches!(
        error,
        Error::InvalidInput(InvalidInput::MissingCallConnectSecret)
    )
}

/// Fails unless `error` rejects the credential `name` for `reason`.
#[track_caller]
fn assert_credential_error(error: &Error, name: &str, reason: &str) {
    let Error::InvalidInput(InvalidInput::Credential {
        name: got,
        reason: why,
    }) = error
    else {
        panic!("{name}: {error:?}");
    };
    assert_eq!((*got, *why), (name, reason), "{error:?}");
}

/// What [`for_every_endpoint`] hands over: the endpoint's name, its
/// service and its example request as built.
type Check<'a> = dyn FnMut(&'static str, Service, Result<http::Request<Vec<u8>>, Error>) + 'a;

/// Builds every endpoint's example request with `config` and hands it to
/// `check` with the endpoint's name and service.
fn for_every_endpoint(config: &Config, check: &mut Check<'_>) {
    struct Visit<'a, 'b> {
        config: &'a Config,
        check: &'a mut Check<'b>,
    }
    impl EndpointVisitor for Visit<'_, '_> {
        fn visit<E: Endpoint>(&mut self, _info: EndpointInfo, example: E) {
            (self.check)(E::NAME, E::SERVICE, example.build_request(self.config));
        }
    }
    visit_endpoints(&mut Visit { config, check });
}

#[test]
fn without_a_call_connect_key_call_connect_requests_fail_and_nothing_is_sent() {
    let config = Config::builder(SECRET).build().unwrap();
    assert!(!config.has_call_connect_secret());
    assert!(both_keys().build().unwrap().has_call_connect_secret());
    for_every_endpoint(&config, &mut |name, service, request| match service {
        Service::CallConnect => {
            let error = request.expect_err(name);
            assert!(is_missing_call_connect_secret(&error), "{name}: {error:?}");
            let message = error.to_string();
            assert!(message.contains("with_call_connect_secret"), "{message}");
            assert!(message.contains("nothing was sent"), "{message}");
        }
        _ => {
            request.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    });

    // Through a client: the transport is never called, no attempt is made.
    let sent = Cell::new(0);
    let transport = |_: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        sent.set(sent.get() + 1);
        Ok(http::Response::new(b"{}".to_vec()))
    };
    let client = Client::with_transport(config, transport);
    let finish = FinishCallRequest::new("ref-1", CallState::ChallengeFailed);
    let error = client.finish_call(finish).unwrap_err();
    assert!(is_missing_call_connect_secret(&error), "{error:?}");
    assert_eq!(error.attempts(), 0);
    assert!(!error.request_may_have_been_processed());
    assert_eq!(
        sent.get(),
        0,
        "nothing may be sent without the Call Connect key"
    );
}

#[test]
fn a_bad_call_connect_key_is_rejected_by_build_without_showing_it() {
    for (key, reason) in [
        ("", "must not be empty"),
        ("sk_cc\n", "contains control characters"),
        ("sk\u{7f}cc", "contains control characters"),
    ] {
        let config = Config::builder(SECRET)
            .with_call_connect_secret(key)
            .build();
        let error = config.unwrap_err();
        assert_credential_error(&error, "callConnectSecret", reason);
        let shown = format!("{error} {error:?}");
        assert!(key.is_empty() || !shown.contains(key.trim()), "{error:?}");
    }
}

#[test]
fn the_call_connect_key_stays_out_of_debug() {
    let builder = both_keys();
    let config = both_keys().build().unwrap();
    let request = StartCallRequest::new("ref-1").build_request(&config);
    let request = request.unwrap();
    for (what, debug) in [
        ("Builder", format!("{builder:?}")),
        ("Config", format!("{config:?}")),
        ("http::Request", format!("{request:?}")),
    ] {
        let mut forms = forms_of(CALL_CONNECT_SECRET);
        forms.extend(forms_of(SECRET));
        for form in forms {
            assert!(!debug.contains(&form), "{what} shows a key: {debug}");
        }
        let marked = debug.contains("redacted") || debug.contains("Sensitive");
        assert!(marked, "{what}: {debug}");
    }
    assert!(format!("{config:?}").contains("call_connect_secret: Some(<redacted>)"));
    let without = Config::builder(SECRET).build().unwrap();
    assert!(format!("{without:?}").contains("call_connect_secret: None"));
}

#[test]
fn each_region_has_its_own_call_connect_host() {
    // (region, Server API host prefix, Call Connect host)
    let hosts = [
        (Region::Us, "", "https://us-connect.authsignal.com"),
        (Region::Au, "au.", "https://au-connect.api.authsignal.com"),
        (Region::Eu, "eu.", "https://eu-connect.api.authsignal.com"),
        (Region::Ca, "ca.", "https://ca-connect.api.authsignal.com"),
    ];
    for (region, prefix, connect) in hosts {
        let api = format!("https://{prefix}api.authsignal.com/v1");
        assert_eq!(region.call_connect_url(), connect);
        let config = both_keys().with_region(region).build().unwrap();
        assert_eq!(config.base_url(), api, "{region:?}");
        assert_eq!(config.call_connect_url(), connect, "{region:?}");
        let request = StartCallRequest::new("ref-1").build_request(&config);
        let uri = request.unwrap().uri().to_string();
        assert_eq!(uri, format!("{connect}/call/start"), "{region:?}");
    }
    // The default is the US host.
    let default = Config::builder(SECRET).build().unwrap();
    let url = authsignal_core::DEFAULT_CALL_CONNECT_URL;
    assert_eq!(default.call_connect_url(), url);
}

#[test]
fn an_explicit_call_connect_url_wins_over_the_region_in_either_order() {
    let custom = "https://connect.example.com";
    let before = both_keys()
        .with_call_connect_url(custom)
        .with_region(Region::Eu)
        .build()
        .unwrap();
    let after = both_keys()
        .with_region(Region::Eu)
        .with_call_connect_url(format!("{custom}/"))
        .build()
        .unwrap();
    for config in [before, after] {
        assert_eq!(config.call_connect_url(), custom);
        assert_eq!(config.base_url(), "https://eu.api.authsignal.com/v1");
    }
    // A custom Server API URL leaves the region's Call Connect host alone.
    let config = both_keys().with_region(Region::Au);
    let config = config
        .with_base_url("http://127.0.0.1:9/v1")
        .build()
        .unwrap();
    let url = "https://au-connect.api.authsignal.com";
    assert_eq!(config.call_connect_url(), url);
}

// ---------------------------------------------------------------------------
// Terminal API
// ---------------------------------------------------------------------------

const TERMINAL: &str = "term_5f2c9a";

#[test]
fn terminal_requests_work_without_a_call_connect_key_and_on_the_region_host() {
    let config = Config::builder(SECRET).with_region(Region::Eu).build();
    let request = GetPaymentSessionRequest::new(TERMINAL, "ps-1");
    let request = request.build_request(&config.unwrap()).unwrap();
    let uri = "https://eu.api.authsignal.com/v1/terminal/payment-session/ps-1";
    assert_eq!(request.uri().to_string(), uri);
}

#[test]
fn a_bad_terminal_id_is_rejected_before_sending_without_showing_it() {
    let config = both_keys().build().unwrap();
    for (id, reason) in [
        ("", "must not be empty"),
        ("term\r\nx-evil: 1", "contains control characters"),
        ("term\u{0}", "contains control characters"),
    ] {
        let create = CreatePaymentSessionRequest::new(id, 1.0, "r", "NZD");
        let get = GetPaymentSessionRequest::new(id, "ps-1");
        for error in [
            create.build_request(&config).unwrap_err(),
            get.build_request(&config).unwrap_err(),
        ] {
            assert_credential_error(&error, "terminalId", reason);
            let shown = format!("{error} {error:?}");
            let hidden = !shown.contains(id) && !shown.contains("evil");
            assert!(id.is_empty() || hidden, "{shown}");
        }
    }
}

#[test]
fn the_terminal_id_stays_out_of_debug() {
    let config = both_keys().build().unwrap();
    let create = CreatePaymentSessionRequest::new(TERMINAL, 42.5, "POS-1", "NZD");
    let get = GetPaymentSessionRequest::new(TERMINAL, "ps-1");
    let built = create.build_request(&config).unwrap();
    for debug in [
        format!("{create:?}"),
        format!("{get:?}"),
        format!("{built:?}"),
        format!("{create:#?}"),
    ] {
        assert!(!debug.contains(TERMINAL), "{debug}");
    }
    assert!(format!("{create:?}").contains("<redacted>"));
    assert!(format!("{get:?}").contains("ps-1"));
}
