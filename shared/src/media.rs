//! What an object really is: its media type from its first bytes (magic numbers), the import data
//! type that follows, and whether its name or `Content-Type` claims something else.

use serde::{Deserialize, Serialize};

/// How many leading bytes are fetched to sniff: enough for every signature below and for the
/// first TIFF directory when it sits at the start of the file, as GeoTIFF writers put it.
pub const SNIFF_BYTES: u64 = 8192;

/// The import data types of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    Image,
    Video,
    Audio,
    Text,
    Document,
    Html,
    Geospatial,
}

impl DataType {
    pub const ALL: [DataType; 7] =
        [DataType::Image, DataType::Video, DataType::Audio, DataType::Text, DataType::Document, DataType::Html, DataType::Geospatial];

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Image => "image",
            DataType::Video => "video",
            DataType::Audio => "audio",
            DataType::Text => "text",
            DataType::Document => "document",
            DataType::Html => "html",
            DataType::Geospatial => "geospatial",
        }
    }

    /// A declared media type: a data type name in any case (`IMAGE`), or a MIME type (`image/png`).
    pub fn from_declared(declared: &str) -> Option<DataType> {
        let lower = declared.trim().to_ascii_lowercase();
        if lower.contains('/') {
            return from_mime(&lower);
        }
        DataType::ALL.into_iter().find(|t| t.as_str() == lower)
    }
}

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub mime: &'static str,
    pub data_type: DataType,
}

const fn sniffed(mime: &'static str, data_type: DataType) -> Option<Sniffed> {
    Some(Sniffed { mime, data_type })
}

/// The media type of an object from its first bytes; `None` when it is none we import.
pub fn sniff(head: &[u8]) -> Option<Sniffed> {
    use DataType::*;
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"\xFF\xD8\xFF") {
        return sniffed("image/jpeg", Image);
    }
    if at(0, b"\x89PNG\r\n\x1A\n") {
        return sniffed("image/png", Image);
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return sniffed("image/gif", Image);
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return if is_geotiff(head) { sniffed("image/tiff; application=geotiff", Geospatial) } else { sniffed("image/tiff", Image) };
    }
    if at(0, b"RIFF") {
        return match head.get(8..12) {
            Some(b"WEBP") => sniffed("image/webp", Image),
            Some(b"WAVE") => sniffed("audio/wav", Audio),
            Some(b"AVI ") => sniffed("video/x-msvideo", Video),
            _ => None,
        };
    }
    if at(4, b"ftyp") {
        return match head.get(8..12) {
            Some(b"qt  ") => sniffed("video/quicktime", Video),
            Some(b"M4A " | b"M4B ") => sniffed("audio/mp4", Audio),
            Some(b"avif" | b"avis") => sniffed("image/avif", Image),
            Some(b"heic" | b"heix" | b"mif1" | b"msf1") => sniffed("image/heic", Image),
            Some(_) => sniffed("video/mp4", Video),
            None => None,
        };
    }
    if at(0, b"\x1A\x45\xDF\xA3") {
        return sniffed("video/webm", Video);
    }
    if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE6 == 0xE2) {
        return sniffed("audio/mpeg", Audio);
    }
    if at(0, b"fLaC") {
        return sniffed("audio/flac", Audio);
    }
    if at(0, b"OggS") {
        return sniffed("audio/ogg", Audio);
    }
    if at(0, b"%PDF-") {
        return sniffed("application/pdf", Document);
    }
    sniff_text(head)
}

fn sniff_text(head: &[u8]) -> Option<Sniffed> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // The sample may end inside a multi-byte character.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    if text.is_empty() || text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C')) {
        return None;
    }
    let start = text.trim_start();
    let lower: String = start.chars().take(256).collect::<String>().to_ascii_lowercase();
    if ["<!doctype html", "<html", "<head", "<body"].iter().any(|tag| lower.starts_with(tag)) {
        return sniffed("text/html", DataType::Html);
    }
    if lower.starts_with("<?xml") && lower.contains("<svg") || lower.starts_with("<svg") {
        return sniffed("image/svg+xml", DataType::Image);
    }
    if start.starts_with('{') && is_geojson(start) {
        return sniffed("application/geo+json", DataType::Geospatial);
    }
    sniffed("text/plain", DataType::Text)
}

/// A GeoJSON object names its `type` near the start: a feature, a collection or a geometry.
fn is_geojson(text: &str) -> bool {
    const TYPES: [&str; 9] =
        ["FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"];
    let compact: String = text.chars().take(4096).filter(|c| !c.is_whitespace()).collect();
    TYPES.iter().any(|t| compact.contains(&format!("\"type\":\"{t}\"")))
}

/// A TIFF whose first directory carries a GeoTIFF tag (GeoKeyDirectory, ModelTiepoint,
/// ModelPixelScale or ModelTransformation).
fn is_geotiff(head: &[u8]) -> bool {
    let little = head.starts_with(b"II");
    let u16_at = |o: usize| head.get(o..o + 2).map(|b| if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) });
    let u32_at =
        |o: usize| head.get(o..o + 4).map(|b| if little { u32::from_le_bytes([b[0], b[1], b[2], b[3]]) } else { u32::from_be_bytes([b[0], b[1], b[2], b[3]]) });
    let Some(ifd) = u32_at(4).map(|o| o as usize) else { return false };
    let Some(entries) = u16_at(ifd) else { return false };
    (0..entries as usize).filter_map(|n| u16_at(ifd + 2 + n * 12)).any(|tag| matches!(tag, 34735 | 33922 | 33550 | 34264))
}

/// The data type a MIME type claims.
pub fn from_mime(mime: &str) -> Option<DataType> {
    let essence = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Some(DataType::Html),
        "application/pdf" => Some(DataType::Document),
        "application/geo+json" | "application/vnd.geo+json" => Some(DataType::Geospatial),
        "image/svg+xml" => Some(DataType::Image),
        _ => match essence.split('/').next() {
            Some("image") => Some(DataType::Image),
            Some("video") => Some(DataType::Video),
            Some("audio") => Some(DataType::Audio),
            Some("text") => Some(DataType::Text),
            _ => None,
        },
    }
}

/// The data type a file name's extension claims.
pub fn from_extension(key: &str) -> Option<DataType> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (_, ext) = name.rsplit_once('.')?;
    match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" | "png" | "gif" | "webp" | "bmp" | "avif" | "heic" | "svg" => Some(DataType::Image),
        "tif" | "tiff" => Some(DataType::Image),
        "mp4" | "m4v" | "mov" | "webm" | "mkv" | "avi" => Some(DataType::Video),
        "wav" | "mp3" | "m4a" | "flac" | "ogg" | "oga" | "aac" => Some(DataType::Audio),
        "txt" | "csv" | "tsv" | "md" | "log" => Some(DataType::Text),
        "pdf" => Some(DataType::Document),
        "html" | "htm" => Some(DataType::Html),
        "geojson" => Some(DataType::Geospatial),
        _ => None,
    }
}

/// Where the name or the `Content-Type` claims another type than the bytes: one sentence each.
/// A GeoTIFF named `.tif` is an image file and a JSON-ish text may be sent as `text/plain`;
/// neither is a lie.
pub fn mismatches(key: &str, content_type: Option<&str>, sniffed: Sniffed) -> Vec<String> {
    let compatible = |claimed: DataType| {
        claimed == sniffed.data_type
            || matches!((claimed, sniffed.data_type), (DataType::Image, DataType::Geospatial) | (DataType::Text, DataType::Geospatial | DataType::Html))
    };
    let mut notes = Vec::new();
    if let Some(claimed) = from_extension(key).filter(|c| !compatible(*c)) {
        let name = key.rsplit('/').next().unwrap_or(key);
        notes.push(format!("The name {name:?} says {}, but the bytes are {} ({}).", claimed.as_str(), sniffed.data_type.as_str(), sniffed.mime));
    }
    let generic = |ct: &str| ct.starts_with("binary/octet-stream") || ct.starts_with("application/octet-stream");
    if let Some(ct) = content_type.filter(|ct| !generic(ct)) {
        if let Some(claimed) = from_mime(ct).filter(|c| !compatible(*c)) {
            notes.push(format!("Content-Type {ct:?} says {}, but the bytes are {} ({}).", claimed.as_str(), sniffed.data_type.as_str(), sniffed.mime));
        }
    }
    notes
}

/// Upper size per data type; set with `BUCKETLINK_MAX_OBJECT_BYTES` (`image=100MiB,video=20GiB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeLimits([u64; 7]);

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

impl Default for SizeLimits {
    fn default() -> Self {
        // Order of DataType::ALL: image, video, audio, text, document, html, geospatial.
        SizeLimits([100 * MIB, 20 * GIB, 2 * GIB, 50 * MIB, 500 * MIB, 50 * MIB, 10 * GIB])
    }
}

impl SizeLimits {
    pub fn of(&self, data_type: DataType) -> u64 {
        self.0[DataType::ALL.iter().position(|t| *t == data_type).unwrap_or_default()]
    }

    /// `type=size` pairs separated by commas; sizes in bytes or with KiB/MiB/GiB; unnamed types keep their default.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut limits = SizeLimits::default();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, size) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not type=size"))?;
            let data_type = DataType::ALL.into_iter().find(|t| t.as_str() == name.trim()).ok_or_else(|| format!("unknown data type {name:?}"))?;
            let size = size.trim();
            let (digits, unit) = size.find(|c: char| !c.is_ascii_digit()).map_or((size, ""), |i| size.split_at(i));
            let factor = match unit {
                "" | "B" => 1,
                "KiB" => 1 << 10,
                "MiB" => MIB,
                "GiB" => GIB,
                _ => return Err(format!("unknown size unit {unit:?} (use B, KiB, MiB or GiB)")),
            };
            let bytes = digits.parse::<u64>().ok().and_then(|d| d.checked_mul(factor)).filter(|b| *b > 0).ok_or_else(|| format!("bad size {size:?}"))?;
            limits.0[DataType::ALL.iter().position(|t| *t == data_type).unwrap_or_default()] = bytes;
        }
        Ok(limits)
    }
}

/// A size as people write it (1.5 KiB, 3.0 GiB).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= GIB => format!("{:.1} GiB", b as f64 / GIB as f64),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(bytes: &[u8]) -> Option<(&'static str, DataType)> {
        sniff(bytes).map(|s| (s.mime, s.data_type))
    }

    fn tiff_with_tag(tag: u16) -> Vec<u8> {
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&[3, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        t
    }

    #[test]
    fn binary_formats_by_their_magic_bytes() {
        use DataType::*;
        let cases: [(&[u8], &str, DataType); 15] = [
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF", "image/jpeg", Image),
            (b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR", "image/png", Image),
            (b"GIF89a\x01\0", "image/gif", Image),
            (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp", Image),
            (b"RIFF\x24\0\0\0WAVEfmt ", "audio/wav", Audio),
            (b"\0\0\0\x18ftypmp42\0\0\0\0", "video/mp4", Video),
            (b"\0\0\0\x14ftypqt  \0\0\0\0", "video/quicktime", Video),
            (b"\0\0\0\x1cftypM4A \0\0\0\0", "audio/mp4", Audio),
            (b"\0\0\0\x1cftypheic\0\0\0\0", "image/heic", Image),
            (b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81", "video/webm", Video),
            (b"ID3\x04\0\0\0\0\0\0", "audio/mpeg", Audio),
            (b"\xFF\xFB\x90\x64\0", "audio/mpeg", Audio),
            (b"fLaC\0\0\0\x22", "audio/flac", Audio),
            (b"OggS\0\x02\0\0", "audio/ogg", Audio),
            (b"%PDF-1.7\n%\xE2\xE3", "application/pdf", Document),
        ];
        for (bytes, mime, data_type) in cases {
            assert_eq!(kind(bytes), Some((mime, data_type)), "{mime}");
        }
    }

    #[test]
    fn geotiff_is_told_from_plain_tiff_by_its_geo_tags() {
        assert_eq!(kind(&tiff_with_tag(34735)).unwrap().1, DataType::Geospatial);
        assert_eq!(kind(&tiff_with_tag(33922)).unwrap().1, DataType::Geospatial);
        assert_eq!(kind(&tiff_with_tag(256)), Some(("image/tiff", DataType::Image)));
        // Directory beyond the sample: a TIFF, not provably geo.
        assert_eq!(kind(b"MM\0*\x7F\0\0\0"), Some(("image/tiff", DataType::Image)));
    }

    #[test]
    fn text_formats_by_their_content() {
        use DataType::*;
        assert_eq!(kind(b"  <!DOCTYPE html><html><body>hi"), Some(("text/html", Html)));
        assert_eq!(kind(b"\xEF\xBB\xBF<HTML lang=en>"), Some(("text/html", Html)));
        assert_eq!(kind(br#"{"type": "FeatureCollection", "features": []}"#), Some(("application/geo+json", Geospatial)));
        assert_eq!(kind(b"{\n  \"type\" :\n \"Point\", \"coordinates\": [1, 2]}"), Some(("application/geo+json", Geospatial)));
        assert_eq!(kind(br#"{"name": "not geo"}"#), Some(("text/plain", Text)));
        assert_eq!(kind("plain words, caf\u{e9}\n".as_bytes()), Some(("text/plain", Text)));
        assert_eq!(kind(br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#), Some(("image/svg+xml", Image)));
        // Cut inside a two-byte character: still text.
        assert_eq!(kind(b"caf\xC3"), Some(("text/plain", Text)));
    }

    #[test]
    fn unknown_binaries_are_not_imported() {
        for bytes in [&b"\0\x01\x02\x03binary"[..], b"PK\x03\x04zip", b"\x7FELF\x02\x01", b"caf\xC3\x28", b""] {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn declared_types_by_name_or_mime() {
        assert_eq!(DataType::from_declared("IMAGE"), Some(DataType::Image));
        assert_eq!(DataType::from_declared("geospatial"), Some(DataType::Geospatial));
        assert_eq!(DataType::from_declared("video/mp4"), Some(DataType::Video));
        assert_eq!(DataType::from_declared("application/pdf"), Some(DataType::Document));
        assert_eq!(DataType::from_declared("spreadsheet"), None);
    }

    #[test]
    fn names_and_content_types_that_lie_are_noted() {
        let pdf = sniff(b"%PDF-1.4").unwrap();
        let notes = mismatches("scans/receipt.jpg", Some("image/jpeg"), pdf);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("\"receipt.jpg\" says image") && notes[0].contains("document"), "{notes:?}");
        assert!(mismatches("a/b.pdf", Some("application/pdf"), pdf).is_empty());
        assert!(mismatches("a/b.bin", Some("binary/octet-stream"), pdf).is_empty());
        let geo = sniff(&tiff_with_tag(34735)).unwrap();
        assert!(mismatches("map.tif", Some("image/tiff"), geo).is_empty());
        let geojson = sniff(br#"{"type":"Feature"}"#).unwrap();
        assert!(mismatches("x.geojson", Some("text/plain"), geojson).is_empty());
    }

    #[test]
    fn size_limits_parse_with_units_and_keep_defaults() {
        let limits = SizeLimits::parse("image=5MiB, text=1024").unwrap();
        assert_eq!(limits.of(DataType::Image), 5 * MIB);
        assert_eq!(limits.of(DataType::Text), 1024);
        assert_eq!(limits.of(DataType::Video), 20 * GIB);
        for bad in ["image", "pictures=5", "image=5TB", "image=0", "image=x"] {
            assert!(SizeLimits::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * GIB / 2), "1.5 GiB");
    }
}
