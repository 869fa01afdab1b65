//! F1: `parse_response` of every endpoint on arbitrary status, headers and
//! body. Input: `[status: u16 BE] [headers…] body` (see `authsignal_fuzz::headers`).
#![no_main]

use authsignal_core::Error;
use authsignal_fuzz::{Reader, check_error, endpoints, headers, response, status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::new(data);
    let status = status(&mut reader);
    let headers = headers(&mut reader);
    let body = reader.rest();
    for case in endpoints() {
        let result = (case.parse)(response(status, &headers, body));
        if status.is_success() {
            match &result {
                Ok(()) => {}
                Err(Error::UnexpectedResponse(e)) => {
                    assert_eq!(e.status, status, "{}", case.name);
                    // A 2xx body may hold tokens: it is never copied.
                    assert!(e.excerpt.is_empty(), "{}: excerpt of a 2xx body", case.name);
                    assert!(!e.reason.is_empty());
                    assert_eq!(e.retry_after, None);
                }
                Err(other) => panic!("{}: 2xx gave {other:?}", case.name),
            }
            if case.ignores_body {
                assert!(result.is_ok(), "{}: a 2xx body was rejected", case.name);
            }
        } else {
            match &result {
                Ok(()) => panic!("{}: HTTP {status} parsed as Ok", case.name),
                Err(error) => check_error(status, &headers, body, error),
            }
        }
    }
});
