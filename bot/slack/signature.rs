//! Slack request signing ("verifying requests from Slack"): `v0=` hex of
//! HMAC-SHA256 over `v0:{timestamp}:{raw body}` with the signing secret.
//!
//! Checked before anything else reads the body. The comparison is constant
//! time (`Mac::verify_slice`), and a timestamp more than five minutes from our
//! clock is refused so a captured request cannot be replayed later.
//!
//! Several secrets may be accepted at once ([`verify_any`]), so a secret can
//! be rotated without an outage: each is compared in constant time, and a
//! request passes when any matches.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Slack's replay window.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Slack-Request-Timestamp or X-Slack-Signature header")]
    MissingHeader,
    #[error("timestamp is not a number")]
    BadTimestamp,
    #[error("timestamp is more than 5 minutes from now (replayed or clock skew)")]
    Stale,
    #[error("signature does not match")]
    Mismatch,
}

/// Verifies one request against one secret. `now` is unix seconds.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    verify_any([secret], timestamp, signature, body, now)
}

/// Verifies one request against each of `secrets` (the old and the new one
/// while a secret is rotated); passes when any matches.
pub fn verify_any<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SignatureError::MissingHeader);
    };
    let ts: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    // abs_diff: `now - ts` overflows for a timestamp near i64::MIN or MAX.
    if now.abs_diff(ts) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let given = signature.strip_prefix("v0=").and_then(|hex| hex::decode(hex).ok()).ok_or(SignatureError::Mismatch)?;
    let matches = |secret: &str| mac(secret, timestamp, body).verify_slice(&given).is_ok();
    if secrets.into_iter().any(matches) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// The `v0=` signature for a body (used by tests and the load benchmark).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    format!("v0={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example from Slack's "Verifying requests from Slack" documentation.
    const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TS: &str = "1531420618";
    const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOC_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn check(ts: Option<&str>, sig: Option<&str>, body: &str, now: i64) -> Result<(), SignatureError> {
        verify(DOC_SECRET, ts, sig, body.as_bytes(), now)
    }

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(check(Some(DOC_TS), Some(DOC_SIG), DOC_BODY, 1531420618 + 10), Ok(()));
        assert_eq!(sign(DOC_SECRET, DOC_TS, DOC_BODY.as_bytes()), DOC_SIG);
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let body = DOC_BODY.replace("roadrunner", "coyote");
        assert_eq!(check(Some(DOC_TS), Some(DOC_SIG), &body, 1531420618), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let forged = sign("not-the-secret", DOC_TS, DOC_BODY.as_bytes());
        assert_eq!(check(Some(DOC_TS), Some(&forged), DOC_BODY, 1531420618), Err(SignatureError::Mismatch));
        assert_eq!(check(Some(DOC_TS), Some("v0=zz"), DOC_BODY, 1531420618), Err(SignatureError::Mismatch));
        assert_eq!(check(Some(DOC_TS), Some("v1=abc"), DOC_BODY, 1531420618), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_stale_or_future_timestamp_is_refused_even_when_signed() {
        assert_eq!(check(Some(DOC_TS), Some(DOC_SIG), DOC_BODY, 1531420618 + 301), Err(SignatureError::Stale));
        assert_eq!(check(Some(DOC_TS), Some(DOC_SIG), DOC_BODY, 1531420618 - 301), Err(SignatureError::Stale));
    }

    #[test]
    fn during_a_rotation_a_request_signed_with_either_secret_verifies_and_one_signed_with_neither_does_not() {
        let secrets = ["the-new-secret", DOC_SECRET];
        let now = 1531420618;
        let check = |secret: &str| {
            let sig = sign(secret, DOC_TS, DOC_BODY.as_bytes());
            verify_any(secrets, Some(DOC_TS), Some(&sig), DOC_BODY.as_bytes(), now)
        };
        assert_eq!(check(DOC_SECRET), Ok(()), "the old secret");
        assert_eq!(check("the-new-secret"), Ok(()), "the new secret");
        assert_eq!(check("neither"), Err(SignatureError::Mismatch));
        let none: [&str; 0] = [];
        assert_eq!(
            verify_any(none, Some(DOC_TS), Some(DOC_SIG), DOC_BODY.as_bytes(), now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_timestamp_at_the_ends_of_the_number_range_is_stale_not_a_panic() {
        // Found by fuzzing (tests/fuzz): `now - ts` overflowed for these.
        for ts in [i64::MIN.to_string(), i64::MAX.to_string(), "-9223372036854775807".to_owned()] {
            assert_eq!(check(Some(&ts), Some(DOC_SIG), DOC_BODY, 1531420618), Err(SignatureError::Stale), "{ts}");
        }
        assert_eq!(check(Some("0"), Some(DOC_SIG), DOC_BODY, i64::MIN), Err(SignatureError::Stale));
    }

    #[test]
    fn missing_headers_are_refused() {
        assert_eq!(check(None, Some(DOC_SIG), DOC_BODY, 0), Err(SignatureError::MissingHeader));
        assert_eq!(check(Some(DOC_TS), None, DOC_BODY, 0), Err(SignatureError::MissingHeader));
        assert_eq!(check(Some("soon"), Some(DOC_SIG), DOC_BODY, 0), Err(SignatureError::BadTimestamp));
    }
}
