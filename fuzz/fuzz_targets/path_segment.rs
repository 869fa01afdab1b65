//! F5/A3: the path-segment encoder on arbitrary text: one canonical segment
//! that decodes to the input, and `/v1/users/{id}` stays three segments.
#![no_main]

use authsignal_core::endpoint::encode_path_segment;
use authsignal_core::{Config, Endpoint, Error, GetUserRequest, InvalidInput};
use authsignal_fuzz::{assert_canonical_segment, is_unreserved};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let mut out = String::from("/users/");
    encode_path_segment(&value, &mut out);
    let segment = out.strip_prefix("/users/").unwrap();
    assert!(!segment.contains(['/', '?', '#']), "{segment}");
    assert_canonical_segment(segment, &value);
    if value.bytes().all(is_unreserved) {
        assert_eq!(segment, value);
    }

    let config = Config::builder("sk_fuzz").build().unwrap();
    let result = GetUserRequest::new(value.as_ref()).build_request(&config);
    if matches!(value.as_ref(), "" | "." | "..") {
        assert!(
            matches!(
                result,
                Err(Error::InvalidInput(InvalidInput::PathParameter { .. }))
            ),
            "{result:?}"
        );
        return;
    }
    let request = result.unwrap();
    let path = request.uri().path();
    assert_eq!(path, format!("/v1/users/{segment}"));
    let parts: Vec<&str> = path.split('/').collect();
    assert_eq!(parts.len(), 4, "{path}");
    assert!(
        parts[1..]
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..")
    );
    assert_eq!(request.uri().query(), None);
    let reparsed: authsignal_core::http::Uri = request.uri().to_string().parse().unwrap();
    assert_eq!(&reparsed, request.uri());
});
