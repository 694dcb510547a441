//! DPoP (RFC 9449) proofs for ATProto OAuth: every request to the
//! authorization server and to the PDS carries a fresh JWT signed with the
//! connection's own P-256 key, naming the method and URL (and, to the PDS,
//! the hash of the access token), so a stolen token is useless without the
//! key. Servers hand out nonces that the next proof must carry.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

/// One connection's DPoP key. Its PKCS#8 form is sealed like a token.
pub struct DpopKey {
    pair: EcdsaKeyPair,
    pkcs8: SecretSlice<u8>,
    rng: SystemRandom,
}

#[derive(Debug, thiserror::Error)]
#[error("DPoP key: {0}")]
pub struct KeyError(String);

impl DpopKey {
    pub fn generate() -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| KeyError(e.to_string()))?;
        Self::from_pkcs8(document.as_ref())
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|e| KeyError(e.to_string()))?;
        Ok(Self {
            pair,
            pkcs8: SecretSlice::from(pkcs8.to_vec()),
            rng,
        })
    }

    /// The private key, to be sealed and stored.
    pub fn pkcs8(&self) -> &[u8] {
        self.pkcs8.expose_secret()
    }

    /// The public half as a JWK.
    pub fn jwk(&self) -> Value {
        // An uncompressed point: 0x04, then x and y (32 bytes each).
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    /// A proof for one request. `access_token` is given for calls to the
    /// resource server (its hash goes in `ath`).
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, KeyError> {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        let mut target = url.clone();
        // `htu` is the URL without query and fragment.
        target.set_query(None);
        target.set_fragment(None);
        let mut claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": method,
            "htu": target.as_str(),
            "iat": chrono::Utc::now().timestamp(),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(token) = access_token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())));
        }
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|e| KeyError(e.to_string()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    fn part(jwt: &str, n: usize) -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(n).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_proof_is_signed_by_the_key_it_names_and_binds_method_url_and_token() {
        let key = DpopKey::generate().unwrap();
        let url = Url::parse("https://pds.example/xrpc/com.atproto.repo.putRecord?x=1").unwrap();
        let proof = key
            .proof("POST", &url, Some("n0nce"), Some("the-token"))
            .unwrap();
        let header = part(&proof, 0);
        let claims = part(&proof, 1);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"], key.jwk());
        assert_eq!(claims["htm"], "POST");
        assert_eq!(
            claims["htu"],
            "https://pds.example/xrpc/com.atproto.repo.putRecord"
        );
        assert_eq!(claims["nonce"], "n0nce");
        assert_eq!(
            claims["ath"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(b"the-token"))
        );

        // The signature verifies with the public key in the header.
        let (input, signature) = proof.rsplit_once('.').unwrap();
        let jwk = &header["jwk"];
        let mut point = vec![4u8];
        point.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
        point.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(
                input.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
            .expect("a valid ES256 signature");

        // Stored and opened again, it is the same key; two proofs never share a jti.
        let again = DpopKey::from_pkcs8(key.pkcs8()).unwrap();
        assert_eq!(again.jwk(), key.jwk());
        let other = again.proof("POST", &url, None, None).unwrap();
        assert_ne!(part(&other, 1)["jti"], claims["jti"]);
        assert!(part(&other, 1).get("ath").is_none());
    }
}
