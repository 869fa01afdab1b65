//! Request rules the endpoint table (`tests/fixtures/`) cannot state in
//! JSON: an amount JSON cannot carry is refused before anything is sent.

use authsignal_core::{Config, CreatePaymentSessionRequest, Endpoint, Error, InvalidInput};

#[test]
fn create_payment_session_refuses_an_amount_json_cannot_carry() {
    let config = Config::builder("sk_test_requests").build().unwrap();
    for amount in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let error = CreatePaymentSessionRequest::new("term_5f2c9a", amount, "POS-1", "NZD")
            .build_request(&config)
            .unwrap_err();
        match error {
            Error::InvalidInput(InvalidInput::Field { name, .. }) => assert_eq!(name, "amount"),
            other => panic!("{amount}: {other:?}"),
        }
    }
}
