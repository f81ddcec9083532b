//! PRELOGIN (packet type 0x12): the client's option table is read only for its ENCRYPTION
//! byte; the answer is always VERSION, ENCRYPTION = NOT_SUP, INSTOPT 0, THREADID (empty) and
//! MARS 0.
//!
//! Encryption: the emulator has no certificate for the TDS endpoint, so it answers NOT_SUP to
//! every client value, including REQ (0x03) — what SQL Server does without a certificate. The
//! client decides: tiberius configured `EncryptionLevel::NotSupported`, python-tds without
//! `cafile`, FreeTDS with `encryption = off`/`request` continue in plaintext; a client that
//! insists on TLS gives up (tiberius with `On` even panics, see the reference §7.1).

use super::tokens::PROG_VERSION;
use super::wire::{Parse, Reader};

/// ENCRYPTION values.
pub mod encryption {
    pub const NOT_SUP: u8 = 0x02;
    pub const REQ: u8 = 0x03;
}

/// The client's ENCRYPTION option (None when it sent none).
pub fn client_encryption(payload: &[u8]) -> Parse<Option<u8>> {
    let mut r = Reader::new(payload);
    loop {
        let token = r.u8("PRELOGIN option")?;
        if token == 0xFF {
            return Ok(None);
        }
        let offset = u16::from_be_bytes([r.u8("PRELOGIN offset")?, r.u8("PRELOGIN offset")?]) as usize;
        let length = u16::from_be_bytes([r.u8("PRELOGIN length")?, r.u8("PRELOGIN length")?]) as usize;
        if token == 0x01 && length >= 1 {
            return Ok(payload.get(offset).copied());
        }
    }
}

/// The server's PRELOGIN answer.
pub fn reply() -> Vec<u8> {
    // (token, value): VERSION (4-byte version + 2-byte sub-build), ENCRYPTION, INSTOPT,
    // THREADID (empty: tiberius accepts 0 or 4 bytes), MARS (FreeTDS drops to 7.1 without it).
    let version = [PROG_VERSION[0], PROG_VERSION[1], PROG_VERSION[2], PROG_VERSION[3], 0, 0];
    let options: [(u8, &[u8]); 5] =
        [(0x00, &version), (0x01, &[encryption::NOT_SUP]), (0x02, &[0]), (0x03, &[]), (0x04, &[0])];
    let table_len = options.len() * 5 + 1;
    let mut table = Vec::with_capacity(table_len);
    let mut data = Vec::new();
    for (token, value) in options {
        table.push(token);
        table.extend_from_slice(&((table_len + data.len()) as u16).to_be_bytes());
        table.extend_from_slice(&(value.len() as u16).to_be_bytes());
        data.extend_from_slice(value);
    }
    table.push(0xFF);
    table.extend(data);
    table
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn reply_reads_back() {
        let r = reply();
        assert_eq!(client_encryption(&r).unwrap(), Some(encryption::NOT_SUP));
        assert_eq!(r[25], 0xFF);
        // VERSION 6 bytes, ENCRYPTION 1, INSTOPT 1, THREADID 0, MARS 1.
        assert_eq!(r.len(), 26 + 6 + 1 + 1 + 1);
    }

    #[test]
    fn truncated_tables_are_errors() {
        assert!(client_encryption(&[0x00, 0x00]).is_err());
        assert_eq!(client_encryption(&[0x01, 0x00, 0x10, 0x00, 0x01]).unwrap(), None);
    }
}
