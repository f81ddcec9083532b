//! LOGIN7 (packet type 0x10): the fixed part and its offset/length fields (MS-TDS §2.2.6.4),
//! the password's obfuscation undone, and the token sequence SQL Server answers a login with.
//! FeatureExt (7.4) is ignored and never acknowledged; integrated (SSPI) logins are refused.

use super::backend::{Login, SqlError};
use super::packet::{DEFAULT_PACKET, MAX_PACKET};
use super::tokens;
use super::wire::{Parse, Reader, malformed, utf16_to_string};

/// The fixed part's size up to and including cbSSPILong (TDS 7.2+).
const FIXED_LEN: usize = 94;
/// OptionFlags2 bit: integrated security.
const INTEGRATED: u8 = 0x80;

/// What the endpoint needs from LOGIN7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login7 {
    pub tds_version: u32,
    pub packet_size: u32,
    pub login: Login,
    pub integrated: bool,
}

/// XOR 0xA5, then swap the nibbles: the inverse of the client's obfuscation.
pub fn unscramble(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| (b ^ 0xA5).rotate_left(4)).collect()
}

/// The (offset, char count) field at `at` of the fixed part, read from `payload`.
fn field(payload: &[u8], at: usize, what: &str) -> Parse<Vec<u8>> {
    let mut r = Reader::new(payload.get(at..).unwrap_or_default());
    let offset = r.u16_le(what)? as usize;
    let chars = r.u16_le(what)? as usize;
    match payload.get(offset..offset + chars * 2) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => malformed(format!("LOGIN7 {what}: {chars} chars at {offset} past the end")),
    }
}

fn text(payload: &[u8], at: usize, what: &str) -> Parse<String> {
    utf16_to_string(&field(payload, at, what)?, what)
}

pub fn parse(payload: &[u8]) -> Parse<Login7> {
    if payload.len() < FIXED_LEN {
        return malformed(format!("LOGIN7 of {} bytes", payload.len()));
    }
    let mut r = Reader::new(payload);
    let _length = r.u32_le("LOGIN7 length")?;
    let tds_version = r.u32_le("TDSVersion")?;
    let packet_size = r.u32_le("PacketSize")?;
    r.skip(12, "ClientProgVer, ClientPID, ConnectionID")?;
    let _flags1 = r.u8("OptionFlags1")?;
    let flags2 = r.u8("OptionFlags2")?;
    let sspi_bytes = Reader::new(&payload[80..]).u16_le("cbSSPI")?;
    let password = unscramble(&field(payload, 44, "Password")?);
    let login = Login {
        user: text(payload, 40, "UserName")?,
        password: utf16_to_string(&password, "Password")?,
        database: text(payload, 68, "Database")?,
        app_name: text(payload, 48, "AppName")?,
    };
    Ok(Login7 { tds_version, packet_size, login, integrated: flags2 & INTEGRATED != 0 || sspi_bytes != 0 })
}

/// The packet size the reply's ENVCHANGE 4 grants: the client's, within 512..=32767.
pub fn negotiated_packet_size(requested: u32) -> usize {
    match requested {
        0 => DEFAULT_PACKET,
        n => (n as usize).clamp(512, MAX_PACKET - 1),
    }
}

/// Integrated logins: SQL Server's 18452, with what the emulator accepts instead.
pub fn integrated_refused() -> SqlError {
    SqlError {
        number: 18452,
        class: 14,
        state: 1,
        message: "Login failed. The login is from an untrusted domain and cannot be used with Integrated \
                  authentication. (The GP emulator accepts SQL Server logins only.)"
            .to_string(),
    }
}

/// The tokens of a successful login, in SQL Server's order (reference §7.3).
pub fn accepted(database: &str, packet_size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    tokens::database_changed(&mut out, database, "master");
    tokens::collation(&mut out);
    tokens::language(&mut out);
    tokens::login_ack(&mut out);
    tokens::packet_size(&mut out, packet_size, DEFAULT_PACKET);
    tokens::done(&mut out, tokens::done::FINAL, 0);
    out
}

/// ERROR + DONE(error): the connection closes after it.
pub fn refused(err: &SqlError) -> Vec<u8> {
    let mut out = Vec::new();
    tokens::error(&mut out, err, "");
    tokens::done(&mut out, tokens::done::ERROR, 0);
    out
}

#[cfg(test)]
pub mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A LOGIN7 as a client builds it (fields in the usual order), for tests.
    pub fn build(user: &str, password: &str, database: &str) -> Vec<u8> {
        let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let scrambled: Vec<u8> = utf16(password).iter().map(|b| b.rotate_left(4) ^ 0xA5).collect();
        let fields: [(usize, Vec<u8>); 4] =
            [(40, utf16(user)), (44, scrambled), (48, utf16("test")), (68, utf16(database))];
        let mut out = vec![0u8; FIXED_LEN];
        out[4..8].copy_from_slice(&0x7400_0004u32.to_le_bytes());
        out[8..12].copy_from_slice(&4096u32.to_le_bytes());
        for (at, bytes) in fields {
            let offset = out.len() as u16;
            out[at..at + 2].copy_from_slice(&offset.to_le_bytes());
            out[at + 2..at + 4].copy_from_slice(&((bytes.len() / 2) as u16).to_le_bytes());
            out.extend(bytes);
        }
        let len = out.len() as u32;
        out[0..4].copy_from_slice(&len.to_le_bytes());
        out
    }

    #[test]
    fn parses_and_unscrambles() {
        let l = parse(&build("sa", "pässword", "TWO")).unwrap();
        assert_eq!(l.login.user, "sa");
        assert_eq!(l.login.password, "pässword");
        assert_eq!(l.login.database, "TWO");
        assert_eq!(l.login.app_name, "test");
        assert!(!l.integrated);
        assert_eq!(negotiated_packet_size(l.packet_size), 4096);
    }

    #[test]
    fn refuses_fields_past_the_end() {
        let mut l = build("sa", "x", "TWO");
        l[40..42].copy_from_slice(&500u16.to_le_bytes());
        assert!(parse(&l).is_err());
        assert!(parse(&l[..50]).is_err());
    }
}
