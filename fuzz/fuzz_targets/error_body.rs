//! F2: the error-body parser `api_error` on arbitrary status, headers and
//! body. Input: `[status: u16 BE] [headers…] body`.
#![no_main]

use authsignal_core::endpoint::api_error;
use authsignal_fuzz::{Reader, check_error, headers, status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::new(data);
    let status = status(&mut reader);
    let headers = headers(&mut reader);
    let body = reader.rest();
    let error = api_error(status, &headers, body);
    if !status.is_client_error() && !status.is_server_error() {
        // `parse_response` only sends 4xx/5xx here, but `api_error` is
        // public: for other statuses it must still be total and keep them.
        assert_eq!(error.status(), Some(status));
        return;
    }
    check_error(status, &headers, body, &error);
});
