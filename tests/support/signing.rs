//! Request signing for the tests, independent of the bot's own code:
//! [`sign`] computes Slack's `v0` HMAC directly, and [`sign_with_slack_sdk`]
//! asks Slack's official Python SDK (installed in the test venv) to do it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    sign_bytes(secret, timestamp, body.as_bytes())
}

/// [`sign`] for a body that need not be UTF-8.
pub fn sign_bytes(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// `slack_sdk.signature.SignatureVerifier(secret).generate_signature(...)`.
pub fn sign_with_slack_sdk(secret: &str, timestamp: &str, body: &str) -> String {
    let python = super::venv().join("bin/python");
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys; from slack_sdk.signature import SignatureVerifier as V; \
             print(V(sys.argv[1]).generate_signature(timestamp=sys.argv[2], body=sys.argv[3]))",
            secret,
            timestamp,
            body,
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run scripts/emulators.sh)", python.display()));
    assert!(out.status.success(), "slack_sdk failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}
