//! What arrives from S3: object keys in event records are URL-encoded with `+` for a space.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("object key in event is not valid URL encoding: {0:?}")]
pub struct BadKey(pub String);

/// Decodes an S3 event key exactly once: `+` is a space, `%XX` a byte, and the bytes must be UTF-8.
pub fn decode_event_key(raw: &str) -> Result<String, BadKey> {
    let bad = || BadKey(raw.to_owned());
    let mut bytes = Vec::with_capacity(raw.len());
    let mut input = raw.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hi = input.next().and_then(|c| (c as char).to_digit(16)).ok_or_else(bad)?;
                let lo = input.next().and_then(|c| (c as char).to_digit(16)).ok_or_else(bad)?;
                bytes.push((hi * 16 + lo) as u8);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_spaces_plus_signs_and_unicode_once() {
        assert_eq!(decode_event_key("photos/summer+2024/a.jpg").unwrap(), "photos/summer 2024/a.jpg");
        assert_eq!(decode_event_key("a%2Bb%20c").unwrap(), "a+b c");
        assert_eq!(decode_event_key("caf%C3%A9%2Fx").unwrap(), "café/x");
        assert_eq!(decode_event_key("100%2525").unwrap(), "100%25");
        assert_eq!(decode_event_key("plain/key.txt").unwrap(), "plain/key.txt");
    }

    #[test]
    fn refuses_broken_encoding() {
        for raw in ["a%2", "a%zz", "%C3%28", "%"] {
            assert_eq!(decode_event_key(raw), Err(BadKey(raw.to_owned())), "{raw}");
        }
    }
}
