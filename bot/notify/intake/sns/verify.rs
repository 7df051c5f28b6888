//! The signature check for every message the SNS HTTP(S) endpoint receives,
//! per AWS's "Verifying the signatures of Amazon SNS messages"
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>).
//!
//! # The spec, as implemented
//! - The string to sign is `"Key\nvalue\n"` for each of the type's keys in
//!   byte order. Notification: Message, MessageId, Subject (only when the
//!   message has one), Timestamp, TopicArn, Type. SubscriptionConfirmation and
//!   UnsubscribeConfirmation: Message, MessageId, SubscribeURL, Timestamp,
//!   Token, TopicArn, Type. Values are the JSON-decoded strings.
//! - `SignatureVersion` "1" is SHA1withRSA, "2" SHA256withRSA, both RSA
//!   PKCS#1 v1.5 (keys 2048–8192 bits); the signature is base64; the key is
//!   the RSA key of the X.509 certificate (PEM) at `SigningCertURL`.
//!
//! # Decisions
//! - Everything that can be refused without the network is refused first:
//!   version, base64, fields, then the certificate URL against the allow-list
//!   ([`UrlAllow::permits_cert`]); a refused URL is never fetched.
//! - Certificates are cached by URL (AWS publishes a new URL when it rotates
//!   its key), at most [`CERT_CACHE_CAPACITY`], oldest out first. Only a
//!   certificate that parsed is cached: a failed fetch is retried next time.
//! - Success returns [`Verified`], the only way to reach the subscription
//!   confirmation ([`super::confirm`]).
//! - moto signs HTTP deliveries with version 2 but leaves `Subject` out of the
//!   string to sign; such messages are refused here on purpose (see
//!   /work/shared/notes): the spec, not the emulator, decides.
//! - Concurrent first messages for one URL may fetch it twice; the cache
//!   keeps one copy.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm};
use webpki::EndEntityCert;

use super::SnsError;
use super::fetch::CertSource;
use super::url::UrlAllow;
use super::{SnsMessage, SnsType};

/// How many signing certificates are kept (AWS uses one per partition at a time).
pub const CERT_CACHE_CAPACITY: usize = 16;

/// A message whose signature checked out.
#[derive(Debug, Clone, Copy)]
pub struct Verified<'m>(&'m SnsMessage);

impl<'m> Verified<'m> {
    pub fn message(&self) -> &'m SnsMessage {
        self.0
    }
}

/// Checks SNS signatures, fetching certificates from allowed URLs only.
pub struct SnsVerifier {
    allow: UrlAllow,
    certs: Arc<dyn CertSource>,
    cache: Mutex<CertCache>,
}

impl SnsVerifier {
    /// `allow` is `notifications.sns.cert_url_allow` (default [`UrlAllow::SnsHosts`]).
    pub fn new(allow: UrlAllow, certs: Arc<dyn CertSource>) -> SnsVerifier {
        SnsVerifier { allow, certs, cache: Mutex::new(CertCache::default()) }
    }

    pub async fn verify<'m>(&self, msg: &'m SnsMessage) -> Result<Verified<'m>, SnsError> {
        let algorithm = RsaPkcs1::for_version(msg)?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(&msg.signature)
            .map_err(|reason| SnsError::SignatureNotBase64 { message_id: msg.message_id.clone(), reason })?;
        let signed = string_to_sign(msg)?;
        let url = &msg.signing_cert_url;
        if !self.allow.permits_cert(url) {
            return Err(SnsError::CertUrlNotAllowed { url: url.clone(), allow: self.allow.describe().to_owned() });
        }
        let der = self.certificate(url).await?;
        let cert = EndEntityCert::try_from(der.as_ref()).map_err(|e| bad_cert(url, e))?;
        match cert.verify_signature(&algorithm, signed.as_bytes(), &signature) {
            Ok(()) => Ok(Verified(msg)),
            Err(webpki::Error::InvalidSignatureForPublicKey) => {
                Err(SnsError::BadSignature { message_id: msg.message_id.clone(), url: url.clone() })
            }
            Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => {
                Err(bad_cert(url, "its public key is not an RSA key"))
            }
            Err(e) => Err(bad_cert(url, e)),
        }
    }

    async fn certificate(&self, url: &str) -> Result<Arc<CertificateDer<'static>>, SnsError> {
        if let Some(der) = self.cache.lock().expect("cert cache lock").get(url) {
            return Ok(der);
        }
        let der = Arc::new(parse_pem(url, &self.certs.fetch(url).await?)?);
        self.cache.lock().expect("cert cache lock").put(url, der.clone());
        Ok(der)
    }
}

fn parse_pem(url: &str, pem: &Bytes) -> Result<CertificateDer<'static>, SnsError> {
    let der = CertificateDer::from_pem_slice(pem).map_err(|e| bad_cert(url, e))?;
    EndEntityCert::try_from(&der).map_err(|e| bad_cert(url, e))?;
    Ok(der)
}

fn bad_cert(url: &str, reason: impl std::fmt::Display) -> SnsError {
    SnsError::BadCertificate { url: url.to_owned(), reason: reason.to_string() }
}

/// The canonical string SNS signed for this message.
pub(crate) fn string_to_sign(msg: &SnsMessage) -> Result<String, SnsError> {
    let missing = |field| SnsError::MissingField { kind: msg.kind.as_str(), message_id: msg.message_id.clone(), field };
    let fields: Vec<(&str, Option<&str>)> = match msg.kind {
        SnsType::Notification => vec![
            ("Message", Some(&msg.message)),
            ("MessageId", Some(&msg.message_id)),
            ("Subject", msg.subject.as_deref()),
            ("Timestamp", Some(&msg.timestamp)),
            ("TopicArn", Some(&msg.topic_arn)),
            ("Type", Some(msg.kind.as_str())),
        ],
        SnsType::SubscriptionConfirmation | SnsType::UnsubscribeConfirmation => vec![
            ("Message", Some(&msg.message)),
            ("MessageId", Some(&msg.message_id)),
            ("SubscribeURL", Some(msg.subscribe_url.as_deref().ok_or_else(|| missing("SubscribeURL"))?)),
            ("Timestamp", Some(&msg.timestamp)),
            ("Token", Some(msg.token.as_deref().ok_or_else(|| missing("Token"))?)),
            ("TopicArn", Some(&msg.topic_arn)),
            ("Type", Some(msg.kind.as_str())),
        ],
    };
    Ok(fields.into_iter().filter_map(|(key, value)| Some(format!("{key}\n{}\n", value?))).collect())
}

/// RSA PKCS#1 v1.5 with the hash the message's `SignatureVersion` names.
#[derive(Debug)]
struct RsaPkcs1(&'static ring::signature::RsaParameters);

impl RsaPkcs1 {
    fn for_version(msg: &SnsMessage) -> Result<RsaPkcs1, SnsError> {
        match msg.signature_version.as_str() {
            "1" => Ok(RsaPkcs1(&ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY)),
            "2" => Ok(RsaPkcs1(&ring::signature::RSA_PKCS1_2048_8192_SHA256)),
            other => {
                Err(SnsError::UnknownSignatureVersion { message_id: msg.message_id.clone(), version: other.to_owned() })
            }
        }
    }
}

impl SignatureVerificationAlgorithm for RsaPkcs1 {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        ring::signature::UnparsedPublicKey::new(self.0, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    /// The certificate's key must be an RSA key (rsaEncryption, NULL parameters).
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        rustls::pki_types::alg_id::RSA_ENCRYPTION
    }

    /// Only named in webpki's errors: the verifier never reads a certificate's own signature.
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        rustls::pki_types::alg_id::RSA_PKCS1_SHA256
    }

    fn fips(&self) -> bool {
        false
    }
}

/// Parsed certificates by URL, oldest evicted first.
#[derive(Default)]
struct CertCache {
    by_url: HashMap<String, Arc<CertificateDer<'static>>>,
    order: VecDeque<String>,
}

impl CertCache {
    fn get(&self, url: &str) -> Option<Arc<CertificateDer<'static>>> {
        self.by_url.get(url).cloned()
    }

    fn put(&mut self, url: &str, der: Arc<CertificateDer<'static>>) {
        if self.by_url.insert(url.to_owned(), der).is_none() {
            self.order.push_back(url.to_owned());
        }
        while self.order.len() > CERT_CACHE_CAPACITY {
            let oldest = self.order.pop_front().expect("non-empty");
            self.by_url.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests;
