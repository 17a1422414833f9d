//! Randomness, injected: servers draw every secret from a [`SecretSource`], the OS CSPRNG in
//! production, so tests and simulations can substitute their own.

use rand::rngs::OsRng;
use rand::{CryptoRng, RngCore};

/// A source of cryptographically secure random bytes.
///
/// Implementations must be cryptographically secure: everything Ward mints draws from here.
pub trait SecretSource: Send + Sync + std::fmt::Debug {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's CSPRNG (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsSecrets;

impl SecretSource for OsSecrets {
    fn fill(&self, dest: &mut [u8]) {
        OsRng.fill_bytes(dest);
    }
}

/// Adapts a [`SecretSource`] to the `rand` traits the minting functions take.
#[derive(Debug)]
pub struct SourceRng<'a>(pub &'a dyn SecretSource);

impl RngCore for SourceRng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

/// The contract of [`SecretSource`] is a CSPRNG, so the adapter is one too.
impl CryptoRng for SourceRng<'_> {}
