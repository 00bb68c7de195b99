//! Fixed-capacity storage for secrets (keys and tokens) that never prints its content.

use core::fmt;

use crate::error::InvalidInput;

/// A secret string of at most `N` bytes. `Debug`, `Display` and `defmt` show `<redacted>`;
/// only [`Secret::expose`] gives the text, for putting it on the wire.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<const N: usize>(heapless::String<N>);

impl<const N: usize> Secret<N> {
    /// Stores `s`, or fails if it is longer than `N` bytes.
    pub fn new(s: &str) -> Result<Self, InvalidInput> {
        let mut v = heapless::String::new();
        v.push_str(s).map_err(|_| InvalidInput::TooLong)?;
        Ok(Secret(v))
    }

    /// The secret text, for the wire only.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Forgets the secret.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<const N: usize> fmt::Display for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for Secret<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn never_prints_its_content() {
        let s: Secret<32> = Secret::new("K001topsecret").unwrap();
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "K001topsecret");
        assert!(Secret::<4>::new("12345").is_err());
    }
}
