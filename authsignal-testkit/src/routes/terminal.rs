//! The Terminal API: payment sessions.

use super::*;

pub(crate) fn payment_session_json(challenge_id: &str, session: &PaymentSession) -> Value {
    let mut map = Map::new();
    map.insert("challengeId".into(), json!(challenge_id));
    map.insert("status".into(), json!(session.status));
    if let Some(reference) = &session.reference {
        map.insert("reference".into(), json!(reference));
    }
    Value::Object(map)
}

pub(crate) fn create_payment_session(
    state: &mut State,
    terminal: &str,
    request: &ApiRequest<'_>,
) -> ApiResult {
    let body = Body::parse(request.body)?;
    body.check_strs(&["reference", "currency"])?;
    match body.get("amount") {
        None | Some(Value::Number(_)) => {}
        Some(_) => return Err(ApiError::bad_request("`amount` must be a number.")),
    }
    let session = PaymentSession {
        terminal_id: terminal.to_owned(),
        reference: body.opt_str("reference")?.map(str::to_owned),
        status: PaymentSessionStatus::Pending,
    };
    let challenge_id = uuid_v4();
    let response = payment_session_json(&challenge_id, &session);
    state.payment_sessions.insert(challenge_id, session);
    Ok(response)
}

pub(crate) fn get_payment_session(state: &State, terminal: &str, challenge_id: &str) -> ApiResult {
    state
        .payment_sessions
        .get(challenge_id)
        .filter(|session| session.terminal_id == terminal)
        .map(|session| payment_session_json(challenge_id, session))
        .ok_or_else(|| ApiError::not_found("This terminal has no such payment session."))
}
