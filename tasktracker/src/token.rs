//! Access and refresh tokens (JWT HS256), opaque session ids, and password hashing.

use crate::error::ApiError;
use crate::model::Micros;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::time::Duration;

const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    iat: u64,
    typ: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
}

/// Signs and checks tokens with one secret; shared by every service of a process.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

/// A freshly issued refresh token and the id the store keeps to allow one use.
pub struct Refresh {
    pub token: String,
    pub jti: String,
    pub expires_at: Micros,
}

impl Tokens {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS256);
        // The default 60 s leeway would make a `--token-ttl 1s` test wait a minute.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    fn sign(&self, user_id: i64, typ: &str, ttl: Duration, jti: Option<String>) -> String {
        let now = Micros::now().0 as u64 / 1_000_000;
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + ttl.as_secs().max(1),
            typ: typ.to_string(),
            jti,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    pub fn access(&self, user_id: i64) -> String {
        self.sign(user_id, ACCESS, self.access_ttl, None)
    }

    pub fn refresh(&self, user_id: i64) -> Refresh {
        let jti = random_token();
        Refresh {
            token: self.sign(user_id, REFRESH, self.refresh_ttl, Some(jti.clone())),
            jti,
            expires_at: Micros::now().after(self.refresh_ttl),
        }
    }

    fn verify(&self, token: &str, typ: &str) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.typ == typ).then_some(claims)
    }

    /// The user id of a valid, unexpired access token.
    pub fn verify_access(&self, token: &str) -> Option<i64> {
        self.verify(token, ACCESS)?.sub.parse().ok()
    }

    /// The user id and one-use id of a valid, unexpired refresh token.
    pub fn verify_refresh(&self, token: &str) -> Option<(i64, String)> {
        let claims = self.verify(token, REFRESH)?;
        Some((claims.sub.parse().ok()?, claims.jti?))
    }

    /// The user of an `Authorization: Bearer <jwt>` header value.
    pub fn user_of_authorization(&self, value: &http::HeaderValue) -> Result<i64, ApiError> {
        let text = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("Invalid authorization header"))?;
        let (scheme, token) = text
            .split_once(' ')
            .ok_or_else(|| ApiError::unauthorized("Invalid authorization header"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::unauthorized("Unsupported authorization scheme"));
        }
        self.verify_access(token.trim())
            .ok_or_else(|| ApiError::unauthorized("Could not validate credentials"))
    }
}

/// 32 random bytes in hex, from the operating system's CSPRNG-seeded thread RNG.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `session` cookie's value among the request's `Cookie` headers.
pub fn session_cookie(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == "session" && !value.is_empty()).then(|| value.to_string())
        })
}

/// bcrypt on the blocking pool, so a login storm does not stall the async workers.
pub async fn hash_password(password: String, cost: u32) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || bcrypt::hash(password, cost)).await??)
}

pub async fn verify_password(password: String, hash: String) -> anyhow::Result<bool> {
    Ok(
        tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(b"secret", Duration::from_secs(60), Duration::from_secs(600))
    }

    #[test]
    fn access_tokens_verify_and_refresh_tokens_are_not_access_tokens() {
        let t = tokens();
        assert_eq!(t.verify_access(&t.access(7)), Some(7));
        let r = t.refresh(7);
        assert_eq!(t.verify_access(&r.token), None);
        assert_eq!(t.verify_refresh(&r.token), Some((7, r.jti)));
    }

    #[test]
    fn tampered_and_foreign_tokens_fail() {
        let t = tokens();
        let token = t.access(7);
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "8".into(),
                exp: u64::MAX / 2,
                iat: 0,
                typ: ACCESS.into(),
                jti: None,
            },
            &EncodingKey::from_secret(b"other"),
        )
        .unwrap();
        let forged_payload = forged.split('.').nth(1).unwrap().to_string();
        parts[1] = &forged_payload;
        assert_eq!(t.verify_access(&parts.join(".")), None);
        assert_eq!(t.verify_access(&forged), None);
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "a=1; session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("abc"));
        h.insert(http::header::COOKIE, "session=".parse().unwrap());
        assert_eq!(session_cookie(&h), None);
    }
}
