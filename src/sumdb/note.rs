//! Signed notes in the format of golang.org/x/mod/sumdb/note: the text, a blank line,
//! then `— <name> <base64(key hash ‖ signature)>` lines. A checksum database signs its
//! tree heads with an Ed25519 key; go verifies them with the verifier key
//! `<name>+<hash>+<base64(0x01 ‖ public key)>` given in GOSUMDB.

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use sha2::{Digest, Sha256};

/// Algorithm byte for Ed25519 in verifier keys.
const ALG_ED25519: u8 = 1;

/// A named signing key.
pub struct Signer {
    name: String,
    key: Ed25519KeyPair,
    hash: u32,
}

/// The key could not be made or the name is unusable.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    /// Names are non-empty, without spaces or `+`.
    #[error("invalid signer name {0:?}: names have no spaces and no '+'")]
    Name(String),
    /// The system random source failed.
    #[error("cannot generate an Ed25519 key")]
    Key,
}

impl Signer {
    /// A fresh key named `name` (the checksum database's name).
    pub fn generate(name: &str) -> Result<Signer, NoteError> {
        if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
            return Err(NoteError::Name(name.to_string()));
        }
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| NoteError::Key)?;
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| NoteError::Key)?;
        let hash = key_hash(name, &public_key_bytes(&key));
        Ok(Signer { name: name.to_string(), key, hash })
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `<name>+<hash>+<base64(0x01 ‖ key)>`: what GOSUMDB must say for go to trust us.
    pub fn verifier_key(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(public_key_bytes(&self.key));
        format!("{}+{:08x}+{b64}", self.name, self.hash)
    }

    /// Signs `text` (which must end in a newline) into a note.
    pub fn sign(&self, text: &str) -> String {
        debug_assert!(text.ends_with('\n'));
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.hash.to_be_bytes().to_vec();
        blob.extend_from_slice(signature.as_ref());
        format!("{text}\n— {} {}\n", self.name, base64::engine::general_purpose::STANDARD.encode(blob))
    }
}

fn public_key_bytes(key: &Ed25519KeyPair) -> Vec<u8> {
    let mut bytes = vec![ALG_ED25519];
    bytes.extend_from_slice(key.public_key().as_ref());
    bytes
}

/// First 4 bytes (big-endian) of SHA-256(name ‖ "\n" ‖ key).
fn key_hash(name: &str, key: &[u8]) -> u32 {
    let digest = Sha256::new().chain_update(name.as_bytes()).chain_update(b"\n").chain_update(key).finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ED25519, UnparsedPublicKey};

    #[test]
    fn notes_verify_with_the_published_key() {
        let signer = Signer::generate("sum.corp.example").unwrap();
        let vkey = signer.verifier_key();
        let parts: Vec<&str> = vkey.splitn(3, '+').collect(); // base64 may contain '+' too
        assert_eq!(parts[0], "sum.corp.example");
        assert_eq!(parts[1].len(), 8);
        let key = base64::engine::general_purpose::STANDARD.decode(parts[2]).unwrap();
        assert_eq!((key[0], key.len()), (1, 33));
        assert_eq!(format!("{:08x}", key_hash("sum.corp.example", &key)), parts[1]);

        let text = "go.sum database tree\n3\nAAAA\n";
        let note = signer.sign(text);
        let (body, sig_line) = note.split_once("\n\n").unwrap();
        assert_eq!(format!("{body}\n"), text);
        let b64 = sig_line.strip_prefix("— sum.corp.example ").unwrap().trim_end();
        let blob = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert_eq!(&blob[..4], &u32::from_str_radix(parts[1], 16).unwrap().to_be_bytes());
        UnparsedPublicKey::new(&ED25519, &key[1..]).verify(text.as_bytes(), &blob[4..]).expect("signature verifies");
    }

    #[test]
    fn names_with_spaces_or_plus_are_refused() {
        assert!(Signer::generate("a b").is_err());
        assert!(Signer::generate("a+b").is_err());
        assert!(Signer::generate("").is_err());
    }
}
