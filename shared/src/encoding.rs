//! Percent-encoding as AWS reads it (every byte but RFC 3986's unreserved `A-Za-z0-9-_.~` as
//! `%XX`, upper-case hex) and decoding, once and strictly. No I/O.

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Runs of bytes that need no escape are copied at once; only escapes go byte by byte (this sits
/// on the signer's hot path).
fn encode_into(value: &str, keep: impl Fn(u8) -> bool, out: &mut String) {
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !keep(b) {
            if start < i {
                out.push_str(&value[start..i]);
            }
            out.push('%');
            out.push(UPPER_HEX[(b >> 4) as usize] as char);
            out.push(UPPER_HEX[(b & 15) as usize] as char);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push_str(&value[start..]);
    }
}

/// A query-string component: every byte but the unreserved ones escaped.
pub fn encode_query_into(value: &str, out: &mut String) {
    encode_into(value, unreserved, out);
}

/// An S3 object key in a URL path: as a query component, but `/` kept.
pub fn encode_path_into(key: &str, out: &mut String) {
    encode_into(key, |b| unreserved(b) || b == b'/', out);
}

/// How a `+` reads: a plus sign in a URL path, a space in the keys of S3 event notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    Plus,
    Space,
}

/// Decodes exactly once; `None` for a broken escape or bytes that are not UTF-8.
pub fn decode(s: &str, plus: Plus) -> Option<String> {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16)).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                out.push(hex(bytes.get(i + 1))? * 16 + hex(bytes.get(i + 2))?);
                i += 3;
            }
            b'+' if plus == Plus::Space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_aws_reads_it() {
        let mut query = String::new();
        encode_query_into("a b/c+d~é", &mut query);
        assert_eq!(query, "a%20b%2Fc%2Bd~%C3%A9");
        let mut path = String::new();
        encode_path_into("a b/c+d~é", &mut path);
        assert_eq!(path, "a%20b/c%2Bd~%C3%A9");
    }

    #[test]
    fn decodes_once_and_strictly() {
        assert_eq!(decode("a%2Bb+c%20d", Plus::Plus).as_deref(), Some("a+b+c d"));
        assert_eq!(decode("a%2Bb+c%20d", Plus::Space).as_deref(), Some("a+b c d"));
        assert_eq!(decode("100%2525", Plus::Plus).as_deref(), Some("100%25"));
        for broken in ["a%2", "a%zz", "%C3%28", "%"] {
            assert_eq!(decode(broken, Plus::Plus), None, "{broken}");
        }
    }
}
