//! The NTLMv2 primitives ([MS-NLMP] 3.3.2): MD4, HMAC-MD5, NTOWFv2, NTProofStr, LMv2, RC4 (to
//! unwrap a KEY_EXCH session key) and a constant-time compare.

use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;

type HmacMd5 = Hmac<Md5>;

pub fn md4(data: &[u8]) -> [u8; 16] {
    Md4::digest(data).into()
}

pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here; fall back to an
    // all-zero digest rather than panic to keep non-test code free of unwrap.
    let Ok(mut mac) = <HmacMd5 as KeyInit>::new_from_slice(key) else {
        return [0; 16];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

pub(super) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// NTOWFv2 = HMAC_MD5(MD4(UTF16LE(password)), UTF16LE(UPPER(user) || domain)).
pub fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let nt_hash = md4(&utf16le(password));
    let mut who = user.to_uppercase();
    who.push_str(domain);
    hmac_md5(&nt_hash, &[&utf16le(&who)])
}

/// NTProofStr = HMAC_MD5(ResponseKeyNT, server_challenge || temp).
pub fn nt_proof_str(response_key_nt: &[u8; 16], server_challenge: &[u8; 8], temp: &[u8]) -> [u8; 16] {
    hmac_md5(response_key_nt, &[server_challenge, temp])
}

/// LMv2 response = HMAC_MD5(ResponseKeyLM, server_challenge || client_challenge) || client_challenge.
pub fn lm_v2_response(response_key: &[u8; 16], server_challenge: &[u8; 8], client_challenge: &[u8; 8]) -> Vec<u8> {
    let mut out = hmac_md5(response_key, &[server_challenge, client_challenge]).to_vec();
    out.extend_from_slice(client_challenge);
    out
}

/// RC4, needed only to unwrap the exported session key when the client negotiated KEY_EXCH
/// (that key is what the MIC is computed with).
pub(super) fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    if key.is_empty() {
        return data.to_vec();
    }
    let mut s: [u8; 256] = std::array::from_fn(|i| i as u8);
    let mut j: u8 = 0;
    for i in 0..256 {
        j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
        s.swap(i, j as usize);
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|b| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[i as usize]);
            s.swap(i as usize, j as usize);
            b ^ s[s[i as usize].wrapping_add(s[j as usize]) as usize]
        })
        .collect()
}

/// Constant-time equality: the proof comparison must not leak how many leading bytes matched.
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
