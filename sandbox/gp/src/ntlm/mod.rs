//! NTLMv2 server side, checked by hand against the configured account ([MS-NLMP] 3.3.2).
//!
//! We verify NTProofStr ourselves (MD4 + HMAC-MD5) instead of using an SSPI server implementation:
//! the point of the emulator is to refuse a wrong password exactly as IIS does, and at least one
//! Rust SSPI server accepts any password when the client sends no MIC. Only what a server needs
//! is here: build the CHALLENGE message, parse NEGOTIATE/AUTHENTICATE, verify the response, the
//! MIC and the timestamp. Message sealing/signing is not used by HTTP and is not implemented.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod crypto;

use crypto::{ct_eq, rc4, utf16le};
pub use crypto::{hmac_md5, lm_v2_response, md4, nt_proof_str, ntowf_v2};

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

// Negotiate flags ([MS-NLMP] 2.2.2.5) that matter for the server.
pub const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
pub const NEGOTIATE_OEM: u32 = 0x0000_0002;
pub const REQUEST_TARGET: u32 = 0x0000_0004;
pub const NEGOTIATE_SIGN: u32 = 0x0000_0010;
pub const NEGOTIATE_SEAL: u32 = 0x0000_0020;
pub const NEGOTIATE_NTLM: u32 = 0x0000_0200;
pub const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
pub const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
pub const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
pub const NEGOTIATE_VERSION: u32 = 0x0200_0000;
pub const NEGOTIATE_128: u32 = 0x2000_0000;
pub const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
pub const NEGOTIATE_56: u32 = 0x8000_0000;

// AV pair ids ([MS-NLMP] 2.2.2.1).
const AV_EOL: u16 = 0;
const AV_NB_COMPUTER_NAME: u16 = 1;
const AV_NB_DOMAIN_NAME: u16 = 2;
const AV_DNS_COMPUTER_NAME: u16 = 3;
const AV_DNS_DOMAIN_NAME: u16 = 4;
const AV_FLAGS: u16 = 6;
const AV_TIMESTAMP: u16 = 7;
/// MsvAvFlags bit: the client put a MIC in the AUTHENTICATE message.
const AV_FLAG_MIC_PRESENT: u32 = 0x2;

/// Offset of the MIC in an AUTHENTICATE message that carries a Version field.
const MIC_OFFSET: usize = 72;
/// NTProofStr (16) + the fixed part of the NTLMv2 client challenge (28).
const MIN_NTLMV2_RESPONSE: usize = 16 + 28;
/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET_SECS: u64 = 11_644_473_600;

/// Why an AUTHENTICATE message was refused. The text goes to the server log only: on the wire
/// every refusal is the same bare 401, as IIS does, so a client cannot probe which part failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NtlmError {
    #[error("not an NTLMSSP message: {0}")]
    Malformed(&'static str),
    #[error("expected NTLM message type {expected}, got {got}")]
    WrongType { expected: u32, got: u32 },
    #[error("NTLMv1 (24-byte NT response) is refused; configure the client for NTLMv2")]
    NtlmV1,
    #[error("anonymous NTLM authentication is refused")]
    Anonymous,
    #[error("user {0:?} is not the configured account")]
    WrongUser(String),
    #[error("domain {0:?} is not the configured domain")]
    WrongDomain(String),
    #[error("NTProofStr does not match: wrong password (or user/domain spelled differently)")]
    BadProof,
    #[error("MIC does not match the three NTLM messages")]
    BadMic,
    #[error("client timestamp is {0:?} away from server time, outside the allowed window")]
    ClockSkew(Duration),
}

/// The account the emulated GP server accepts (a Windows account mapped to a GP user).
#[derive(Clone)]
pub struct Account {
    pub domain: String,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Account {
    // The password never appears in logs or test output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Account({}\\{})", self.domain, self.user)
    }
}

/// Server identity announced in the CHALLENGE target info.
#[derive(Debug, Clone)]
pub struct ServerIdentity {
    pub nb_domain: String,
    pub nb_computer: String,
    pub dns_domain: String,
    pub dns_computer: String,
}

/// What we keep between the CHALLENGE and the AUTHENTICATE on one connection.
#[derive(Clone)]
pub struct IssuedChallenge {
    pub server_challenge: [u8; 8],
    pub negotiate: Vec<u8>,
    pub challenge: Vec<u8>,
}

fn read_u16(b: &[u8], at: usize) -> Result<u16, NtlmError> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]])).ok_or(NtlmError::Malformed("truncated header"))
}

fn read_u32(b: &[u8], at: usize) -> Result<u32, NtlmError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(NtlmError::Malformed("truncated header"))
}

/// A (len, maxlen, offset) field pointing into the message payload.
fn read_field(b: &[u8], at: usize) -> Result<&[u8], NtlmError> {
    let len = read_u16(b, at)? as usize;
    let offset = read_u32(b, at + 4)? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    b.get(offset..offset.saturating_add(len)).ok_or(NtlmError::Malformed("field points outside the message"))
}

/// Message type of an NTLMSSP token (1, 2 or 3).
pub fn message_type(msg: &[u8]) -> Result<u32, NtlmError> {
    if msg.len() < 12 || &msg[..8] != SIGNATURE {
        return Err(NtlmError::Malformed("missing NTLMSSP signature"));
    }
    read_u32(msg, 8)
}

fn expect_type(msg: &[u8], expected: u32) -> Result<(), NtlmError> {
    let got = message_type(msg)?;
    if got != expected {
        return Err(NtlmError::WrongType { expected, got });
    }
    Ok(())
}

/// Flags the client asked for in its NEGOTIATE message.
pub fn negotiate_flags(negotiate: &[u8]) -> Result<u32, NtlmError> {
    expect_type(negotiate, 1)?;
    read_u32(negotiate, 12)
}

fn now_filetime() -> u64 {
    let since_unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (since_unix.as_secs() + FILETIME_UNIX_OFFSET_SECS) * 10_000_000 + u64::from(since_unix.subsec_nanos() / 100)
}

fn push_av(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
}

/// Builds the CHALLENGE (type 2) message answering `negotiate`.
///
/// The target info carries MsvAvTimestamp: per [MS-NLMP] 3.1.5.1.2 that makes NTLMv2 clients
/// omit the LMv2 response and add a MIC, so the MIC path is exercised by ordinary clients.
pub fn build_challenge(
    negotiate: &[u8],
    server: &ServerIdentity,
    server_challenge: [u8; 8],
) -> Result<IssuedChallenge, NtlmError> {
    let client_flags = negotiate_flags(negotiate)?;
    let mut flags = NEGOTIATE_NTLM
        | NEGOTIATE_ALWAYS_SIGN
        | NEGOTIATE_EXTENDED_SESSIONSECURITY
        | NEGOTIATE_TARGET_INFO
        | NEGOTIATE_VERSION
        | TARGET_TYPE_DOMAIN
        | REQUEST_TARGET;
    flags |= if client_flags & NEGOTIATE_UNICODE != 0 { NEGOTIATE_UNICODE } else { NEGOTIATE_OEM };
    // Echo the security options the client asked for so it does not abort the handshake.
    flags |= client_flags & (NEGOTIATE_SIGN | NEGOTIATE_SEAL | NEGOTIATE_KEY_EXCH | NEGOTIATE_128 | NEGOTIATE_56);

    let encode = |s: &str| {
        if flags & NEGOTIATE_UNICODE != 0 { utf16le(s) } else { s.as_bytes().to_vec() }
    };
    let target_name = encode(&server.nb_domain);
    let mut target_info = Vec::new();
    push_av(&mut target_info, AV_NB_DOMAIN_NAME, &utf16le(&server.nb_domain));
    push_av(&mut target_info, AV_NB_COMPUTER_NAME, &utf16le(&server.nb_computer));
    push_av(&mut target_info, AV_DNS_DOMAIN_NAME, &utf16le(&server.dns_domain));
    push_av(&mut target_info, AV_DNS_COMPUTER_NAME, &utf16le(&server.dns_computer));
    push_av(&mut target_info, AV_TIMESTAMP, &now_filetime().to_le_bytes());
    push_av(&mut target_info, AV_EOL, &[]);

    const HEADER: usize = 56;
    let mut msg = Vec::with_capacity(HEADER + target_name.len() + target_info.len());
    msg.extend_from_slice(SIGNATURE);
    msg.extend_from_slice(&2u32.to_le_bytes());
    msg.extend_from_slice(&(target_name.len() as u16).to_le_bytes());
    msg.extend_from_slice(&(target_name.len() as u16).to_le_bytes());
    msg.extend_from_slice(&(HEADER as u32).to_le_bytes());
    msg.extend_from_slice(&flags.to_le_bytes());
    msg.extend_from_slice(&server_challenge);
    msg.extend_from_slice(&[0; 8]);
    msg.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
    msg.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
    msg.extend_from_slice(&((HEADER + target_name.len()) as u32).to_le_bytes());
    // Version: Windows Server 2016 (10.0 build 14393), NTLM revision 15, as a GP host would send.
    msg.extend_from_slice(&[10, 0, 0x39, 0x38, 0, 0, 0, 15]);
    msg.extend_from_slice(&target_name);
    msg.extend_from_slice(&target_info);
    Ok(IssuedChallenge { server_challenge, negotiate: negotiate.to_vec(), challenge: msg })
}

/// The parts of an AUTHENTICATE (type 3) message the server needs.
#[derive(Debug, Clone)]
pub struct Authenticate {
    pub flags: u32,
    pub lm_response: Vec<u8>,
    pub nt_response: Vec<u8>,
    pub domain: String,
    pub user: String,
    pub workstation: String,
    pub encrypted_session_key: Vec<u8>,
}

fn decode_string(bytes: &[u8], unicode: bool) -> Result<String, NtlmError> {
    if unicode {
        if !bytes.len().is_multiple_of(2) {
            return Err(NtlmError::Malformed("odd-length UTF-16 string"));
        }
        let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).map_err(|_| NtlmError::Malformed("invalid UTF-16 string"))
    } else {
        Ok(bytes.iter().map(|&b| b as char).collect())
    }
}

pub fn parse_authenticate(msg: &[u8]) -> Result<Authenticate, NtlmError> {
    expect_type(msg, 3)?;
    let flags = read_u32(msg, 60)?;
    let unicode = flags & NEGOTIATE_UNICODE != 0;
    Ok(Authenticate {
        flags,
        lm_response: read_field(msg, 12)?.to_vec(),
        nt_response: read_field(msg, 20)?.to_vec(),
        domain: decode_string(read_field(msg, 28)?, unicode)?,
        user: decode_string(read_field(msg, 36)?, unicode)?,
        workstation: decode_string(read_field(msg, 44)?, unicode)?,
        encrypted_session_key: read_field(msg, 52)?.to_vec(),
    })
}

/// AV pairs of the NTLMv2 client blob (`temp` after its 28 fixed bytes), as (id, value).
fn av_pairs(mut rest: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while rest.len() >= 4 {
        let id = u16::from_le_bytes([rest[0], rest[1]]);
        let len = u16::from_le_bytes([rest[2], rest[3]]) as usize;
        if id == AV_EOL || rest.len() < 4 + len {
            break;
        }
        out.push((id, &rest[4..4 + len]));
        rest = &rest[4 + len..];
    }
    out
}

/// Policy knobs of the verifier.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Maximum distance between the client's timestamp and ours; `None` skips the check.
    pub max_clock_skew: Option<Duration>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        // Windows' default tolerance for NTLMv2 timestamps is 36 hours.
        Self { max_clock_skew: Some(Duration::from_secs(36 * 3600)) }
    }
}

/// Verifies an AUTHENTICATE message against the challenge issued on the same connection.
/// Returns the user name as the client spelled it.
pub fn verify(
    account: &Account,
    issued: &IssuedChallenge,
    authenticate: &[u8],
    opts: &VerifyOptions,
) -> Result<String, NtlmError> {
    let auth = parse_authenticate(authenticate)?;
    if auth.user.is_empty() && auth.nt_response.is_empty() {
        return Err(NtlmError::Anonymous);
    }
    if auth.nt_response.len() == 24 {
        return Err(NtlmError::NtlmV1);
    }
    if auth.nt_response.len() < MIN_NTLMV2_RESPONSE {
        return Err(NtlmError::Malformed("NT response too short for NTLMv2"));
    }
    if auth.user.to_lowercase() != account.user.to_lowercase() {
        return Err(NtlmError::WrongUser(auth.user));
    }
    if auth.domain.to_lowercase() != account.domain.to_lowercase() {
        return Err(NtlmError::WrongDomain(auth.domain));
    }

    // The client computed the key with the user/domain it sent; they matched ours above.
    let key = ntowf_v2(&account.password, &auth.user, &auth.domain);
    let (proof, temp) = auth.nt_response.split_at(16);
    let expected = nt_proof_str(&key, &issued.server_challenge, temp);
    if !ct_eq(proof, &expected) {
        return Err(NtlmError::BadProof);
    }

    let pairs = av_pairs(&temp[28..]);
    if let Some(max) = opts.max_clock_skew {
        let client_ts = u64::from_le_bytes(temp[8..16].try_into().unwrap_or([0; 8]));
        let skew = now_filetime().abs_diff(client_ts) / 10_000_000;
        let skew = Duration::from_secs(skew);
        if skew > max {
            return Err(NtlmError::ClockSkew(skew));
        }
    }

    let mic_present = pairs
        .iter()
        .find(|(id, _)| *id == AV_FLAGS)
        .and_then(|(_, v)| v.get(..4))
        .is_some_and(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]) & AV_FLAG_MIC_PRESENT != 0);
    if mic_present {
        let session_base_key = hmac_md5(&key, &[&expected]);
        // NTLMv2: KeyExchangeKey = SessionBaseKey.
        let exported = if auth.flags & NEGOTIATE_KEY_EXCH != 0 && !auth.encrypted_session_key.is_empty() {
            rc4(&session_base_key, &auth.encrypted_session_key)
        } else {
            session_base_key.to_vec()
        };
        let mic = authenticate
            .get(MIC_OFFSET..MIC_OFFSET + 16)
            .ok_or(NtlmError::Malformed("MIC flag set but message too short"))?;
        let mut zeroed = authenticate.to_vec();
        zeroed[MIC_OFFSET..MIC_OFFSET + 16].fill(0);
        let expected_mic = hmac_md5(&exported, &[&issued.negotiate, &issued.challenge, &zeroed]);
        if !ct_eq(mic, &expected_mic) {
            return Err(NtlmError::BadMic);
        }
    }
    Ok(auth.user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];

    /// temp from [MS-NLMP] 4.2.4.1.3: zero timestamp, AV pairs NbDomainName "Domain",
    /// NbComputerName "Server", EOL.
    fn kat_temp() -> Vec<u8> {
        let mut t = vec![1, 1, 0, 0, 0, 0, 0, 0];
        t.extend_from_slice(&[0; 8]);
        t.extend_from_slice(&CLIENT_CHALLENGE);
        t.extend_from_slice(&[0; 4]);
        push_av(&mut t, AV_NB_DOMAIN_NAME, &utf16le("Domain"));
        push_av(&mut t, AV_NB_COMPUTER_NAME, &utf16le("Server"));
        push_av(&mut t, AV_EOL, &[]);
        t.extend_from_slice(&[0; 4]);
        t
    }

    #[test]
    fn md4_known_answers() {
        assert_eq!(hex(&md4(b"")), "31d6cfe0d16ae931b73c59d7e0c089c0");
        assert_eq!(hex(&md4(b"abc")), "a448017aaf21d8525fc10ae87aa6729d");
        assert_eq!(hex(&md4(&utf16le("Password"))), "a4f49c406510bdcab6824ee7c30fd852");
    }

    #[test]
    fn ms_nlmp_4_2_4_known_answers() {
        let key = ntowf_v2("Password", "User", "Domain");
        assert_eq!(hex(&key), "0c868a403bfd7a93a3001ef22ef02e3f");
        let proof = nt_proof_str(&key, &SERVER_CHALLENGE, &kat_temp());
        assert_eq!(hex(&proof), "68cd0ab851e51c96aabc927bebef6a1c");
        assert_eq!(hex(&hmac_md5(&key, &[&proof])), "8de40ccadbc14a82f15cb0ad0de95ca3");
        assert_eq!(
            hex(&lm_v2_response(&key, &SERVER_CHALLENGE, &CLIENT_CHALLENGE)),
            "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"
        );
    }

    #[test]
    fn rc4_known_answer() {
        // RFC 6229 first bytes of keystream for key 0x0102030405.
        let out = rc4(&unhex("0102030405"), &[0; 8]);
        assert_eq!(hex(&out), "b2396305f03dc027");
    }

    fn account() -> Account {
        Account { domain: "Domain".into(), user: "User".into(), password: "Password".into() }
    }

    fn server() -> ServerIdentity {
        ServerIdentity {
            nb_domain: "DOMAIN".into(),
            nb_computer: "SERVER".into(),
            dns_domain: "domain.test".into(),
            dns_computer: "server.domain.test".into(),
        }
    }

    fn negotiate() -> Vec<u8> {
        let mut m = SIGNATURE.to_vec();
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&(NEGOTIATE_UNICODE | NEGOTIATE_NTLM | NEGOTIATE_EXTENDED_SESSIONSECURITY).to_le_bytes());
        m.extend_from_slice(&[0; 16]);
        m
    }

    /// A minimal NTLMv2 client, for exercising the verifier on paths real clients rarely take.
    fn authenticate(
        issued: &IssuedChallenge,
        domain: &str,
        user: &str,
        password: &str,
        nt_override: Option<Vec<u8>>,
    ) -> Vec<u8> {
        let mut temp = vec![1, 1, 0, 0, 0, 0, 0, 0];
        temp.extend_from_slice(&now_filetime().to_le_bytes());
        temp.extend_from_slice(&CLIENT_CHALLENGE);
        temp.extend_from_slice(&[0; 4]);
        push_av(&mut temp, AV_EOL, &[]);
        let key = ntowf_v2(password, user, domain);
        let mut nt = nt_proof_str(&key, &issued.server_challenge, &temp).to_vec();
        nt.extend_from_slice(&temp);
        let nt = nt_override.unwrap_or(nt);
        let fields: [Vec<u8>; 6] = [vec![0; 24], nt, utf16le(domain), utf16le(user), utf16le("WS"), vec![]];
        let mut msg = SIGNATURE.to_vec();
        msg.extend_from_slice(&3u32.to_le_bytes());
        let mut offset = 64 + 8 + 16;
        let mut payload = Vec::new();
        for f in &fields {
            msg.extend_from_slice(&(f.len() as u16).to_le_bytes());
            msg.extend_from_slice(&(f.len() as u16).to_le_bytes());
            msg.extend_from_slice(&(offset as u32).to_le_bytes());
            offset += f.len();
            payload.extend_from_slice(f);
        }
        msg.extend_from_slice(&NEGOTIATE_UNICODE.to_le_bytes());
        msg.extend_from_slice(&[0; 24]);
        msg.extend_from_slice(&payload);
        msg
    }

    #[test]
    fn verifier_accepts_right_password_and_refuses_the_rest() {
        let issued = build_challenge(&negotiate(), &server(), SERVER_CHALLENGE).unwrap();
        let opts = VerifyOptions::default();
        let ok = authenticate(&issued, "Domain", "User", "Password", None);
        assert_eq!(verify(&account(), &issued, &ok, &opts).unwrap(), "User");
        // User and domain compare case-insensitively, the password does not.
        let ok = authenticate(&issued, "DOMAIN", "user", "Password", None);
        assert!(verify(&account(), &issued, &ok, &opts).is_ok());
        let bad = authenticate(&issued, "Domain", "User", "password", None);
        assert_eq!(verify(&account(), &issued, &bad, &opts), Err(NtlmError::BadProof));
        let bad = authenticate(&issued, "Domain", "Other", "Password", None);
        assert!(matches!(verify(&account(), &issued, &bad, &opts), Err(NtlmError::WrongUser(_))));
        let bad = authenticate(&issued, "Elsewhere", "User", "Password", None);
        assert!(matches!(verify(&account(), &issued, &bad, &opts), Err(NtlmError::WrongDomain(_))));
        let v1 = authenticate(&issued, "Domain", "User", "Password", Some(vec![7; 24]));
        assert_eq!(verify(&account(), &issued, &v1, &opts), Err(NtlmError::NtlmV1));
        // A response computed for another challenge must not pass (replay on a new challenge).
        let other = build_challenge(&negotiate(), &server(), [9; 8]).unwrap();
        let replay = authenticate(&other, "Domain", "User", "Password", None);
        assert_eq!(verify(&account(), &issued, &replay, &opts), Err(NtlmError::BadProof));
    }

    #[test]
    fn challenge_message_is_well_formed() {
        let issued = build_challenge(&negotiate(), &server(), SERVER_CHALLENGE).unwrap();
        let m = &issued.challenge;
        assert_eq!(message_type(m).unwrap(), 2);
        assert_eq!(&m[24..32], &SERVER_CHALLENGE);
        let flags = read_u32(m, 20).unwrap();
        assert!(flags & NEGOTIATE_UNICODE != 0 && flags & NEGOTIATE_TARGET_INFO != 0);
        let info = read_field(m, 40).unwrap();
        let ids: Vec<u16> = av_pairs(info).iter().map(|(id, _)| *id).collect();
        assert!(ids.contains(&AV_TIMESTAMP) && ids.contains(&AV_NB_DOMAIN_NAME));
        assert_eq!(decode_string(read_field(m, 12).unwrap(), true).unwrap(), "DOMAIN");
    }
}
