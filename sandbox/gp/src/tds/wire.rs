//! Byte-level reading and writing of TDS values: a bounds-checked reader over one reassembled
//! message, and little-endian / UTF-16 writers for replies. Every read says what it expected
//! when the message ends early; nothing allocates more than the message holds.

use std::fmt;

/// A message that does not parse: truncated, a length past its end, an unknown code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Malformed {}

pub type Parse<T> = Result<T, Malformed>;

pub fn malformed<T>(what: impl Into<String>) -> Parse<T> {
    Err(Malformed(what.into()))
}

/// A cursor over one message's payload.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &str) -> Parse<&'a [u8]> {
        if n > self.remaining() {
            return malformed(format!("{what}: needs {n} bytes, {} left", self.remaining()));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn skip(&mut self, n: usize, what: &str) -> Parse<()> {
        self.take(n, what).map(|_| ())
    }

    fn array<const N: usize>(&mut self, what: &str) -> Parse<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub fn peek_u8(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub fn u8(&mut self, what: &str) -> Parse<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16_le(&mut self, what: &str) -> Parse<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    pub fn u32_le(&mut self, what: &str) -> Parse<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub fn u64_le(&mut self, what: &str) -> Parse<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// `chars` UTF-16LE code units as a string.
    pub fn utf16(&mut self, chars: usize, what: &str) -> Parse<String> {
        let bytes = self.take(chars.saturating_mul(2), what)?;
        utf16_to_string(bytes, what)
    }

    /// B_VARCHAR: a one-byte character count, then UTF-16LE.
    pub fn b_varchar(&mut self, what: &str) -> Parse<String> {
        let chars = self.u8(what)? as usize;
        self.utf16(chars, what)
    }

    /// US_VARCHAR: a two-byte character count, then UTF-16LE.
    #[cfg(test)]
    pub fn us_varchar(&mut self, what: &str) -> Parse<String> {
        let chars = self.u16_le(what)? as usize;
        self.utf16(chars, what)
    }
}

/// UTF-16LE bytes (an even count) as a string; unpaired surrogates are refused.
pub fn utf16_to_string(bytes: &[u8], what: &str) -> Parse<String> {
    if !bytes.len().is_multiple_of(2) {
        return malformed(format!("{what}: odd UTF-16 byte count {}", bytes.len()));
    }
    let units = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units).collect::<Result<String, _>>().map_err(|_| Malformed(format!("{what}: invalid UTF-16")))
}

/// Writers for a reply's token stream.
pub trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_i32(&mut self, v: i32);
    fn put_u64(&mut self, v: u64);
    /// B_VARCHAR (at most 255 UTF-16 units; longer text is cut).
    fn put_b_varchar(&mut self, s: &str);
    /// US_VARCHAR (at most 65535 UTF-16 units; longer text is cut).
    fn put_us_varchar(&mut self, s: &str);
}

fn utf16_cut(s: &str, max: usize) -> Vec<u16> {
    let mut units: Vec<u16> = s.encode_utf16().collect();
    units.truncate(max);
    units
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_b_varchar(&mut self, s: &str) {
        let units = utf16_cut(s, u8::MAX as usize);
        self.put_u8(units.len() as u8);
        units.iter().for_each(|u| self.put_u16(*u));
    }
    fn put_us_varchar(&mut self, s: &str) {
        let units = utf16_cut(s, u16::MAX as usize);
        self.put_u16(units.len() as u16);
        units.iter().for_each(|u| self.put_u16(*u));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[1, 0, 2]);
        assert_eq!(r.u16_le("a").unwrap(), 1);
        assert!(r.u16_le("b").is_err());
        assert_eq!(r.u8("c").unwrap(), 2);
        assert!(r.take(usize::MAX, "d").is_err());
    }

    #[test]
    fn varchar_roundtrip() {
        let mut out = Vec::new();
        out.put_b_varchar("TWO");
        out.put_us_varchar("é€");
        let mut r = Reader::new(&out);
        assert_eq!(r.b_varchar("x").unwrap(), "TWO");
        assert_eq!(r.us_varchar("y").unwrap(), "é€");
        assert!(r.is_empty());
    }
}
