//! Entry GUIDs: the immutable id that links a source entry to its target record.
//!
//! Text GUIDs (`entryUUID`, `nsUniqueId`, ...) are used as written, trimmed.
//!
//! Binary GUIDs (`guid_binary`, e.g. AD's `objectGUID`) arrive as bytes: in LDIF as
//! `objectGUID:: <base64>`, in CSV and JSON as base64 text (the only way those formats can carry
//! bytes). They are rendered as text once, here:
//! * 16 bytes: the Microsoft GUID string form, lower case, without braces
//!   (`{b1e2b5c8-...}` as AD tools and `Get-ADUser` show it): the first three groups are the
//!   little-endian fields, byte-swapped, so the id matches what AD administrators see;
//! * any other length: the bytes in lower-case hex.

use base64::Engine as _;

/// Render GUID bytes (see the module documentation).
pub fn render_binary_guid(bytes: &[u8]) -> String {
    if bytes.len() == 16 {
        let b = bytes;
        format!(
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
        )
    } else {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The bytes of a GUID rendered by [`render_binary_guid`] (the inverse): the 36-character AD
/// form gives its 16 bytes, even-length hex gives its bytes; anything else `None`.
pub fn binary_guid_bytes(rendered: &str) -> Option<Vec<u8>> {
    let r = rendered.trim();
    let hex = |s: &str| -> Option<Vec<u8>> {
        if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
    };
    let groups: Vec<&str> = r.split('-').collect();
    if groups.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&groups).all(|(n, g)| g.len() == *n) {
        let b = hex(&groups.concat())?;
        return Some(vec![
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15],
        ]);
    }
    hex(r).filter(|b| !b.is_empty())
}

/// Decode a binary GUID given as base64 text and render it. The error text follows an entry's
/// DN in a message.
pub fn binary_guid_from_base64(attribute: &str, value: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|e| {
        format!(
            "has {attribute} '{value}', which is not base64 ({e}); with guid_binary the GUID must be its bytes in base64 (LDIF: '{attribute}:: <base64>')"
        )
    })?;
    if bytes.is_empty() {
        return Err(format!("has an empty {attribute}"));
    }
    Ok(render_binary_guid(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bytes_render_like_active_directory() {
        // objectGUID {c8b5e2b1-...}: bytes as stored in AD.
        let bytes = [0xb1, 0xe2, 0xb5, 0xc8, 0x1e, 0x2d, 0x4f, 0x47, 0x8a, 0x4b, 0x9b, 0x3c, 0x1d, 0x2e, 0x3f, 0x40];
        assert_eq!(render_binary_guid(&bytes), "c8b5e2b1-2d1e-474f-8a4b-9b3c1d2e3f40");
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(binary_guid_from_base64("objectGUID", &b64).unwrap(), "c8b5e2b1-2d1e-474f-8a4b-9b3c1d2e3f40");
    }

    #[test]
    fn other_lengths_are_hex() {
        assert_eq!(render_binary_guid(&[0xde, 0xad, 0x0b]), "dead0b");
        assert_eq!(binary_guid_bytes("dead0b"), Some(vec![0xde, 0xad, 0x0b]));
        assert_eq!(binary_guid_bytes("not hex"), None);
    }

    #[test]
    fn rendering_is_reversible() {
        let bytes: Vec<u8> = (0u8..16).map(|i| i.wrapping_mul(37).wrapping_add(0xc1)).collect();
        assert_eq!(binary_guid_bytes(&render_binary_guid(&bytes)), Some(bytes));
    }

    #[test]
    fn bad_base64_says_how_to_write_it() {
        let e = binary_guid_from_base64("objectGUID", "not base64!").unwrap_err();
        assert!(e.contains("objectGUID:: <base64>"), "{e}");
        assert!(binary_guid_from_base64("objectGUID", "").is_err());
    }
}
