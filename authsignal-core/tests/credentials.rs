//! Which credential each service gets, offline: the Server API key for the
//! Server API only, Call Connect's own key for Call Connect (and nothing when
//! it is missing), the request's terminal id (and no `Authorization`) for
//! the Terminal API, and the regional Call Connect hosts. Every endpoint is
//! enumerated from core's one list, so a new one is checked without a test
//! change.

use std::cell::Cell;

use authsignal_core::{
    Builder, CallState, Client, Config, CreatePaymentSessionRequest, Endpoint, EndpointInfo,
    EndpointVisitor, Error, FinishCallRequest, GetPaymentSessionRequest, InvalidInput, Region,
    Service, StartCallRequest, TERMINAL_HEADER, TransportError,
    http::{self, header},
    visit_endpoints,
};
use base64::Engine as _;

const SECRET: &str = "sk_test_server_api_4f1d";
const CALL_CONNECT_SECRET: &str = "sk_test_call_connect_8b2e";

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

fn both_keys() -> Builder<Config> {
    Config::builder(SECRET).with_call_connect_secret(CALL_CONNECT_SECRET)
}

/// Every way `key` could travel: as is, base64 with and without the Basic
/// colon.
fn forms_of(key: &str) -> Vec<String> {
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    vec![key.to_owned(), b64(format!("{key}:")), b64(key.to_owned())]
}

/// Fails if any header value, the URI or the body of `request` holds any
/// form of `key`.
#[track_caller]
fn assert_carries_nothing_of(request: &http::Request<Vec<u8>>, key: &str, what: &str) {
    let body = String::from_utf8_lossy(request.body());
    let uri = request.uri().to_string();
    for form in forms_of(key) {
        for (name, value) in request.headers() {
            let value = String::from_utf8_lossy(value.as_bytes());
            assert!(
                !value.contains(&form),
                "{what}: header {name} carries {key}"
            );
        }
        assert!(!body.contains(&form), "{what}: the body carries {key}");
        assert!(!uri.contains(&form), "{what}: the URI carries {key}");
    }
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
fn call_connect_requests_carry_the_call_connect_key_and_nothing_of_the_server_api_key() {
    let config = both_keys().build().unwrap();
    let mut call_connect = 0;
    for_every_endpoint(&config, &mut |name, service, request| {
        if service != Service::CallConnect {
            return;
        }
        call_connect += 1;
        let request = request.unwrap_or_else(|e| panic!("{name}: {e}"));
        let authorization = &request.headers()[header::AUTHORIZATION];
        assert_eq!(authorization, basic(CALL_CONNECT_SECRET).as_str(), "{name}");
        assert!(authorization.is_sensitive(), "{name}");
        let all = request.headers().get_all(header::AUTHORIZATION);
        assert_eq!(all.iter().count(), 1, "{name}");
        let uri = request.uri().to_string();
        let host = "https://us-connect.authsignal.com/call/";
        assert!(uri.starts_with(host), "{name}: {uri}");
        assert_carries_nothing_of(&request, SECRET, name);
    });
    assert_eq!(call_connect, 2, "start_call and finish_call");

    // A request with every field set, too.
    let full = StartCallRequest::new("ref-1")
        .with_phone_number("+6427123456")
        .with_user_id("user-1")
        .with_email("a@example.com")
        .build_request(&config)
        .unwrap();
    assert_carries_nothing_of(&full, SECRET, "full start_call");
}

#[test]
fn server_api_requests_carry_the_server_api_key_and_nothing_of_the_call_connect_key() {
    let config = both_keys().build().unwrap();
    let mut api = 0;
    for_every_endpoint(&config, &mut |name, service, request| {
        let request = request.unwrap_or_else(|e| panic!("{name}: {e}"));
        if service == Service::CallConnect {
            return;
        }
        assert_carries_nothing_of(&request, CALL_CONNECT_SECRET, name);
        if service == Service::Api {
            api += 1;
            let authorization = &request.headers()[header::AUTHORIZATION];
            assert_eq!(authorization, basic(SECRET).as_str(), "{name}");
            assert!(authorization.is_sensitive(), "{name}");
        }
    });
    assert!(api >= 25, "{api} Server API endpoints");
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
fn terminal_requests_carry_the_terminal_id_and_no_secret_key() {
    let config = both_keys().build().unwrap();
    let create = CreatePaymentSessionRequest::new(TERMINAL, 42.5, "POS-0093-118", "NZD");
    let get = GetPaymentSessionRequest::new(TERMINAL, "9a7c3e21");
    let requests = [
        create.build_request(&config).unwrap(),
        get.build_request(&config).unwrap(),
    ];
    for request in &requests {
        let what = request.uri().path();
        let headers = request.headers();
        assert_eq!(headers[&TERMINAL_HEADER], TERMINAL, "{what}");
        assert!(headers[&TERMINAL_HEADER].is_sensitive(), "{what}");
        let no_auth = !headers.contains_key(header::AUTHORIZATION);
        assert!(no_auth, "{what}: {headers:?}");
        let uri = request.uri().to_string();
        assert!(uri.starts_with("https://api.authsignal.com/v1/terminal/"));
        assert_carries_nothing_of(request, SECRET, what);
        assert_carries_nothing_of(request, CALL_CONNECT_SECRET, what);
        // The terminal id travels in its header only.
        let body = String::from_utf8_lossy(request.body());
        assert!(!body.contains(TERMINAL), "{what}");
        assert!(!uri.contains(TERMINAL), "{what}");
    }

    // The same for every Terminal endpoint core declares, and no other
    // service ever gets the terminal header.
    let mut terminal = 0;
    for_every_endpoint(&config, &mut |name, service, request| {
        let request = request.unwrap_or_else(|e| panic!("{name}: {e}"));
        let headers = request.headers();
        if service == Service::Terminal {
            terminal += 1;
            assert!(!headers.contains_key(header::AUTHORIZATION), "{name}");
            assert!(headers[&TERMINAL_HEADER].is_sensitive(), "{name}");
            assert_carries_nothing_of(&request, SECRET, name);
            assert_carries_nothing_of(&request, CALL_CONNECT_SECRET, name);
        } else {
            assert!(!headers.contains_key(&TERMINAL_HEADER), "{name}");
            assert!(headers.contains_key(header::AUTHORIZATION), "{name}");
        }
    });
    assert_eq!(
        terminal, 2,
        "create_payment_session and get_payment_session"
    );
}

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
