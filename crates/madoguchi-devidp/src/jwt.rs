//! JSON Web Tokens of the development provider: ES256 with a P-256 key generated at start
//! (pure Rust, `p256`), plus the deliberately bad forms the tests need (`alg=none`, HS256).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// An ES256 signing key with its key id.
pub struct SigningKey {
    key: p256::ecdsa::SigningKey,
    pub kid: String,
}

impl SigningKey {
    /// A fresh random key (never stored: a restart rotates it, which relying parties handle
    /// by reading the JWKS again).
    pub fn generate() -> SigningKey {
        loop {
            let mut b = [0u8; 32];
            getrandom::fill(&mut b).expect("randomness");
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&b) {
                let mut k = [0u8; 8];
                getrandom::fill(&mut k).expect("randomness");
                return SigningKey {
                    key,
                    kid: format!("dev-{}", hex::encode(k)),
                };
            }
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        // Uncompressed SEC1: 0x04 || x (32 bytes) || y (32 bytes).
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
            "use": "sig",
            "alg": "ES256",
            "kid": self.kid,
        })
    }

    /// Signs `claims` with ES256 under the key id `kid`.
    pub fn sign_es256(&self, kid: &str, claims: &Value) -> String {
        let signing_input =
            signing_input(&json!({ "alg": "ES256", "typ": "JWT", "kid": kid }), claims);
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// An unsecured JWT (`alg=none`, empty signature).
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.",
        signing_input(&json!({ "alg": "none", "typ": "JWT" }), claims)
    )
}

/// A JWT signed HS256 with a shared secret.
pub fn sign_hs256(secret: &[u8], claims: &Value) -> String {
    let input = signing_input(&json!({ "alg": "HS256", "typ": "JWT" }), claims);
    let mac = hmac_sha256(secret, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(secret: &[u8], data: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 64];
    if secret.len() > 64 {
        key[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let pad = |b: u8| key.iter().map(|k| k ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn es256_signatures_verify_with_the_published_key() {
        let k = SigningKey::generate();
        let token = k.sign_es256(&k.kid, &json!({ "sub": "x" }));
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        assert!(k.key.verifying_key().verify(input.as_bytes(), &sig).is_ok());
        assert_eq!(k.jwk()["kid"], k.kid.as_str());
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
