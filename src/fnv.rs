//! FNV-1a, 64 bits: a hash whose values are fixed forever, for what is kept on disk from one
//! run to the next (passage fingerprints, file stamps, the shaping settings). The standard
//! library's hasher may change between Rust releases, and `Hash` impls (of paths, of times)
//! are not promised to be stable either, so callers feed bytes they chose.
//!
//! Written out rather than taken from a crate: it is five lines, and its output must never
//! change with a dependency's version.

/// An FNV-1a (64-bit) hash being computed.
#[derive(Debug, Clone, Copy)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    /// Feeds `bytes` into the hash.
    pub fn eat(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash of everything fed so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}
