//! Credentials and the authorized session, in fixed-capacity storage.

use core::fmt;

use crate::error::{BadAnswer, Error, InvalidInput};
use crate::secret::Secret;
use crate::wire::auth::AuthorizeAnswer;
use crate::wire::Text;

/// Longest URL kept (realm, API URL, download URL, upload URLs).
pub const URL_CAPACITY: usize = 192;
/// Longest account or upload token kept.
pub const TOKEN_CAPACITY: usize = 256;
/// Longest application key id kept.
pub const KEY_ID_CAPACITY: usize = 64;
/// Longest application key kept.
pub const KEY_CAPACITY: usize = 128;
/// Longest id kept (account, bucket, file ids).
pub const ID_CAPACITY: usize = 128;
/// Longest name prefix restriction kept.
pub const PREFIX_CAPACITY: usize = 256;

/// A URL of at most [`URL_CAPACITY`] bytes.
pub type Url = heapless::String<URL_CAPACITY>;
/// An id (account, bucket, file) of at most [`ID_CAPACITY`] bytes.
pub type Id = heapless::String<ID_CAPACITY>;

/// Copies `s` into fixed storage or reports that it does not fit.
pub fn fixed<const N: usize>(s: &str) -> Result<heapless::String<N>, InvalidInput> {
    let mut out = heapless::String::new();
    out.push_str(s).map_err(|_| InvalidInput::TooLong)?;
    Ok(out)
}

/// Copies decoded JSON text into fixed storage, or fails with [`BadAnswer::TooLong`].
pub fn fixed_text<const N: usize>(t: Text<'_>) -> Result<heapless::String<N>, Error> {
    let mut out = heapless::String::new();
    decode_into(t, out.as_mut_view())?;
    Ok(out)
}

/// [`fixed_text`] for any capacity (compiled once, not once per `N`).
fn decode_into(t: Text<'_>, out: &mut heapless::string::StringView) -> Result<(), Error> {
    for c in t.chars() {
        let c = c.map_err(Error::BadAnswer)?;
        out.push(c)
            .map_err(|_| Error::BadAnswer(BadAnswer::TooLong))?;
    }
    Ok(())
}

/// An application key and the realm it belongs to.
#[derive(Clone)]
pub struct Credentials {
    key_id: heapless::String<KEY_ID_CAPACITY>,
    key: Secret<KEY_CAPACITY>,
    realm: Url,
}

impl Credentials {
    /// Credentials for `realm`: `"production"` or any `http://`/`https://` URL (e.g. a
    /// loopback simulator).
    pub fn new(key_id: &str, key: &str, realm: &str) -> Result<Self, InvalidInput> {
        if key_id.is_empty() || key.is_empty() {
            return Err(InvalidInput::Credentials);
        }
        let realm = if realm == "production" {
            crate::PRODUCTION_REALM
        } else {
            realm.trim_end_matches('/')
        };
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(InvalidInput::Url);
        }
        Ok(Credentials {
            key_id: fixed(key_id).map_err(|_| InvalidInput::Credentials)?,
            key: Secret::new(key).map_err(|_| InvalidInput::Credentials)?,
            realm: fixed(realm).map_err(|_| InvalidInput::Url)?,
        })
    }

    /// The application key id (not secret).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The application key, for the wire only.
    pub fn key(&self) -> &Secret<KEY_CAPACITY> {
        &self.key
    }

    /// The realm URL authorization goes to.
    pub fn realm(&self) -> &str {
        &self.realm
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("key_id", &self.key_id)
            .field("key", &self.key)
            .field("realm", &self.realm)
            .finish()
    }
}

/// What the key may touch, from the authorize answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    /// The one bucket the key is restricted to, when it is restricted to exactly one.
    pub bucket_id: Option<Id>,
    /// That bucket's name.
    pub bucket_name: Option<heapless::String<64>>,
    /// File name prefix restriction.
    pub name_prefix: Option<heapless::String<PREFIX_CAPACITY>>,
}

/// Credentials plus what authorization returned: the state every operation shares.
/// About 1.2 KiB; cloning it is cheap and each thread may hold its own.
#[derive(Clone, Debug)]
pub struct Session {
    credentials: Credentials,
    /// Account id from the authorize answer.
    pub account_id: Id,
    /// Account authorization token (empty until authorized).
    pub token: Secret<TOKEN_CAPACITY>,
    /// API URL for JSON calls.
    pub api_url: Url,
    /// Download URL.
    pub download_url: Url,
    /// `absoluteMinimumPartSize`.
    pub min_part_size: u64,
    /// `recommendedPartSize`.
    pub recommended_part_size: u64,
    /// The key's restrictions.
    pub allowed: Allowed,
    /// Times this session was (re-)authorized.
    pub authorizations: u32,
    /// Value of the `X-Bz-Test-Mode` header sent with every request, if any
    /// (`fail_some_uploads`, `expire_some_account_authorization_tokens`, `force_cap_exceeded`).
    pub test_mode: Option<&'static str>,
    /// Entropy for backoff jitter, handed in by the caller (the core has no random number
    /// generator): see [`Session::set_entropy`]. 0 until set.
    pub entropy: u64,
}

impl Session {
    /// A session that will authorize on first use.
    pub fn new(credentials: Credentials) -> Self {
        Session {
            credentials,
            account_id: Id::new(),
            token: Secret::default(),
            api_url: Url::new(),
            download_url: Url::new(),
            min_part_size: 5_000_000,
            recommended_part_size: 100_000_000,
            allowed: Allowed::default(),
            authorizations: 0,
            test_mode: None,
            entropy: 0,
        }
    }

    /// Hands in entropy for the random jitter of backoff delays (from the OS, a hardware
    /// RNG, an ADC's noise...). Operations created from this session derive their jitter
    /// from it, so clients or devices sharing a key do not retry in lockstep. Without it the
    /// jitter depends only on the key id and the number of authorizations.
    pub fn set_entropy(&mut self, entropy: u64) {
        self.entropy = entropy;
    }

    /// The credentials this session authorizes with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Whether the session holds a token (which may still have expired).
    pub fn is_authorized(&self) -> bool {
        !self.token.is_empty()
    }

    /// Takes in an authorize answer: account id, token, URLs, part sizes, restrictions.
    /// Fails (leaving the session unauthorized) when a value does not fit its storage or a
    /// URL is not `http(s)://`.
    pub fn apply_authorization(&mut self, a: &AuthorizeAnswer<'_>) -> Result<(), Error> {
        self.token.clear();
        let url = |t: Text<'_>| -> Result<Url, Error> {
            let u: Url = fixed_text(t)?;
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(Error::BadAnswer(BadAnswer::Mismatch));
            }
            let trimmed = u.trim_end_matches('/');
            fixed(trimmed).map_err(|_| Error::BadAnswer(BadAnswer::TooLong))
        };
        self.api_url = url(a.api_url)?;
        self.download_url = url(a.download_url)?;
        self.account_id = fixed_text(a.account_id)?;
        self.min_part_size = a.absolute_minimum_part_size.max(1);
        self.recommended_part_size = a.recommended_part_size.max(self.min_part_size);
        let mut allowed = Allowed::default();
        if let Some(buckets) = a.allowed.buckets.clone() {
            let mut only = None;
            for (i, b) in buckets.enumerate() {
                let b = b.map_err(Error::BadAnswer)?;
                only = (i == 0).then_some(b);
            }
            if let Some(b) = only {
                allowed.bucket_id = Some(fixed_text(b.id)?);
                allowed.bucket_name = b.name.map(fixed_text).transpose()?;
            }
        }
        allowed.name_prefix = a.allowed.name_prefix.map(fixed_text).transpose()?;
        self.allowed = allowed;
        let token: heapless::String<TOKEN_CAPACITY> = fixed_text(a.authorization_token)?;
        self.token = Secret::new(&token).map_err(|_| Error::BadAnswer(BadAnswer::TooLong))?;
        Ok(())
    }

    /// Forgets the token so that the next call authorizes again.
    pub fn invalidate(&mut self) {
        self.token.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn realm_and_redaction() {
        let c = Credentials::new("id1", "sekret-key", "production").unwrap();
        assert_eq!(c.realm(), "https://api.backblazeb2.com");
        let c = Credentials::new("id1", "sekret-key", "http://127.0.0.1:8080/").unwrap();
        assert_eq!(c.realm(), "http://127.0.0.1:8080");
        assert!(Credentials::new("id1", "k", "ftp://x").is_err());
        assert!(Credentials::new("", "k", "production").is_err());
        let mut s = Session::new(c);
        s.token = Secret::new("4_tokentokentoken").unwrap();
        let dbg = format!("{s:?}");
        assert!(
            !dbg.contains("sekret-key") && !dbg.contains("tokentoken"),
            "{dbg}"
        );
    }
}
