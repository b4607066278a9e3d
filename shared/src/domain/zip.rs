//! Reads the central directory of a ZIP archive, so that an uploaded configuration
//! archive can be checked (which files, how big, which names are unsafe) before
//! anything is unpacked.
//!
//! Nothing is decompressed and CRCs are not checked: a deployment that unpacks the
//! archive later does that. What the archive declares it unpacks to is bounded
//! ([`MAX_UNCOMPRESSED_BYTES`] in all, [`MAX_RATIO`] per entry and overall), so an
//! unpacker that trusts the declared sizes is safe; one that does not must still
//! cap what it writes (declared sizes can lie). Every offset read from the data is bounds-checked, so
//! any input gives a [`Listing`] or an error message, never a panic.

use std::collections::HashSet;

/// A file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZipFile {
    /// The name the archive gives it: `/`-separated and relative, as checked.
    pub path: String,
    /// The uncompressed size the archive declares, so a caller can refuse to unpack huge files.
    pub size: u64,
}

/// An entry the archive holds but a deployment will not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejected {
    /// The entry's name (lossily decoded when it is not UTF-8), so the client can find it.
    pub path: String,
    /// Why it is left out, for the client to fix the archive.
    pub reason: String,
}

/// What an archive holds: the files a deployment may use, in archive order, and the
/// entries it will not use. Directory entries are in neither: they carry no content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    pub files: Vec<ZipFile>,
    pub rejected: Vec<Rejected>,
    /// Why unpacking the archive as it declares would write too much (see
    /// [`MAX_UNCOMPRESSED_BYTES`], [`MAX_RATIO`]); empty: within the limits.
    pub expansion: Vec<String>,
}

/// Most entries an archive may list.
///
/// Configuration archives are small; the bound keeps the work one upload causes small too.
pub const MAX_ENTRIES: usize = 1000;

/// Most bytes all the entries of an archive may declare, uncompressed.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 16 * 1024 * 1024;

/// Highest compression ratio (uncompressed : compressed) an entry, or the
/// archive as a whole, may declare, once it declares more than
/// [`RATIO_FLOOR`]: deflate gives 5–20:1 on configuration files; a bomb
/// runs at 1000:1.
pub const MAX_RATIO: u64 = 100;

/// Below this many declared bytes nothing is a bomb, whatever its ratio (a
/// few KB of blanks compress 500:1).
pub const RATIO_FLOOR: u64 = 1024 * 1024;

const END_SIGNATURE: u32 = 0x0605_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const END_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const MAX_COMMENT_LEN: usize = 0xFFFF;
const ZIP64_U16: u16 = 0xFFFF;
const ZIP64_U32: u32 = 0xFFFF_FFFF;

const NO_END_RECORD: &str = "not a zip archive: no end of central directory record";
const ZIP64: &str = "zip64 archives are not supported";
const MULTI_DISK: &str = "multi-disk archives are not supported";
const DIRECTORY_OUTSIDE: &str = "corrupt zip archive: the central directory lies outside the archive";
const SIZE_MISMATCH: &str = "corrupt zip archive: the central directory size does not match its entries";

/// Lists an archive from its central directory.
///
/// Err(message) when the bytes are not a zip this reader accepts; the message is for an
/// API client (e.g. "not a zip archive: no end of central directory record").
pub fn list(bytes: &[u8]) -> Result<Listing, String> {
    let end_at = find_end_record(bytes).ok_or(NO_END_RECORD)?;
    let end = bytes.get(end_at..).and_then(EndRecord::parse).ok_or(NO_END_RECORD)?;
    if end.is_zip64() {
        return Err(ZIP64.into());
    }
    if end.disk != 0 || end.directory_disk != 0 || end.disk_entries != end.total_entries {
        return Err(MULTI_DISK.into());
    }
    let total = usize::from(end.total_entries);
    if total > MAX_ENTRIES {
        return Err(format!("too many entries: {total} (at most {MAX_ENTRIES})"));
    }
    let offset = to_usize(end.directory_offset).ok_or(DIRECTORY_OUTSIDE)?;
    let directory = to_usize(end.directory_size)
        .and_then(|size| offset.checked_add(size))
        .filter(|&directory_end| directory_end <= end_at)
        .and_then(|directory_end| bytes.get(offset..directory_end))
        .ok_or(DIRECTORY_OUTSIDE)?;

    let mut listing = Listing::default();
    let mut seen = HashSet::new();
    let mut offsets = HashSet::new();
    let mut pos = 0usize;
    let mut declared_total = 0u64;
    for (walked, number) in (1..=total).enumerate() {
        let rest = directory.get(pos..).filter(|rest| !rest.is_empty()).ok_or_else(|| {
            format!(
                "corrupt zip archive: the end record lists {total} entries but the central directory holds {walked}"
            )
        })?;
        let (entry, len) = CentralEntry::parse(rest, number)?;
        pos = pos.checked_add(len).ok_or(SIZE_MISMATCH)?;
        if entry.is_zip64() {
            return Err(ZIP64.into());
        }
        if entry.disk_start != 0 {
            return Err(MULTI_DISK.into());
        }
        if !has_local_header(bytes, entry.local_offset) {
            return Err(format!(
                "corrupt zip archive: entry {number} does not point to a local file header"
            ));
        }
        // An unpacker that streams local headers must see what we checked.
        if local_name(bytes, entry.local_offset) != Some(entry.name) {
            return Err(format!(
                "corrupt zip archive: entry {number}'s local header names another file"
            ));
        }
        if !offsets.insert(entry.local_offset) {
            return Err(format!(
                "corrupt zip archive: entry {number} shares its local header with another entry"
            ));
        }
        // The compressed size is what the ratio is judged by: it must be
        // data the archive really holds.
        if local_data_end(bytes, entry.local_offset, entry.compressed_size).is_none_or(|end| end > offset) {
            return Err(format!(
                "corrupt zip archive: entry {number}'s data reaches past the central directory"
            ));
        }
        declared_total += u64::from(entry.uncompressed_size);
        let ratio = ratio(entry.uncompressed_size.into(), entry.compressed_size.into());
        if u64::from(entry.uncompressed_size) > RATIO_FLOOR && ratio > MAX_RATIO {
            listing.expansion.push(format!(
                "entry {} declares {} bytes from {} compressed ({ratio}:1); the limit is {MAX_RATIO}:1",
                String::from_utf8_lossy(entry.name),
                entry.uncompressed_size,
                entry.compressed_size
            ));
        }
        if entry.name.last() == Some(&b'/') {
            continue;
        }
        let Ok(path) = std::str::from_utf8(entry.name) else {
            listing.rejected.push(Rejected {
                path: String::from_utf8_lossy(entry.name).into_owned(),
                reason: "name is not UTF-8".into(),
            });
            continue;
        };
        let reason = match name_problem(path) {
            Some(problem) => Some(problem.to_owned()),
            None => {
                let first = seen.insert(path);
                entry
                    .problem()
                    .or_else(|| (!first).then(|| "duplicate path".to_owned()))
            }
        };
        match reason {
            Some(reason) => listing.rejected.push(Rejected {
                path: path.to_owned(),
                reason,
            }),
            None => listing.files.push(ZipFile {
                path: path.to_owned(),
                size: u64::from(entry.uncompressed_size),
            }),
        }
    }
    if declared_total > MAX_UNCOMPRESSED_BYTES {
        listing.expansion.push(format!(
            "the archive declares {declared_total} bytes uncompressed in all; the limit is {MAX_UNCOMPRESSED_BYTES} (16 MiB)"
        ));
    }
    let overall = ratio(declared_total, bytes.len() as u64);
    if declared_total > RATIO_FLOOR && overall > MAX_RATIO {
        listing.expansion.push(format!(
            "the archive expands to {declared_total} bytes from {} ({overall}:1); the limit is {MAX_RATIO}:1",
            bytes.len()
        ));
    }
    match directory.get(pos..) {
        Some([]) => Ok(listing),
        Some(rest) if u32_le(rest, 0) == Some(CENTRAL_SIGNATURE) => Err(format!(
            "corrupt zip archive: the central directory holds more than the {total} entries the end record lists"
        )),
        _ => Err(SIZE_MISMATCH.into()),
    }
}

/// Where the end of central directory record starts: the last signature whose comment
/// ends exactly at the end of the data (a comment may itself hold the signature).
fn find_end_record(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(END_LEN)?;
    let first = last.saturating_sub(MAX_COMMENT_LEN);
    (first..=last).rev().find(|&at| {
        u32_le(bytes, at) == Some(END_SIGNATURE)
            && at
                .checked_add(20)
                .and_then(|comment_len_at| u16_le(bytes, comment_len_at))
                .map(usize::from)
                == Some(last.saturating_sub(at))
    })
}

/// Whether `offset` points at a whole local file header, as every entry must.
fn has_local_header(bytes: &[u8], offset: u32) -> bool {
    to_usize(offset)
        .and_then(|at| bytes.get(at..))
        .filter(|header| header.len() >= LOCAL_LEN)
        .and_then(|header| u32_le(header, 0))
        == Some(LOCAL_SIGNATURE)
}

/// Where an entry's compressed data ends: after its local header, name,
/// extra field and `compressed` bytes (`None` if that overflows).
fn local_data_end(bytes: &[u8], offset: u32, compressed: u32) -> Option<usize> {
    let at = to_usize(offset)?;
    let header = bytes.get(at..)?;
    let name_len = usize::from(u16_le(header, 26)?);
    let extra_len = usize::from(u16_le(header, 28)?);
    at.checked_add(LOCAL_LEN)?
        .checked_add(name_len)?
        .checked_add(extra_len)?
        .checked_add(to_usize(compressed)?)
}

/// `uncompressed : compressed`, rounded down (a zero compressed size counts as one byte).
fn ratio(uncompressed: u64, compressed: u64) -> u64 {
    uncompressed / compressed.max(1)
}

/// The file name a local header gives (bounds-checked).
fn local_name(bytes: &[u8], offset: u32) -> Option<&[u8]> {
    let header = bytes.get(to_usize(offset)?..)?;
    let name_len = usize::from(u16::from_le_bytes([*header.get(26)?, *header.get(27)?]));
    header.get(LOCAL_LEN..LOCAL_LEN.checked_add(name_len)?)
}

/// Why a name must not be unpacked, if it must not: it would escape the target
/// directory or mean different things on different systems.
fn name_problem(path: &str) -> Option<&'static str> {
    let mut chars = path.chars();
    let drive = matches!((chars.next(), chars.next()), (Some(letter), Some(':')) if letter.is_ascii_alphabetic());
    if path.is_empty() {
        Some("name is empty")
    } else if path.chars().any(char::is_control) {
        Some("name has control characters")
    } else if path.starts_with(['/', '\\']) || drive {
        Some("absolute path")
    } else if path.contains('\\') {
        Some("uses backslashes")
    } else if path.split('/').any(|segment| segment == "..") {
        Some("leaves the archive (..)")
    } else {
        None
    }
}

/// The fields of the end of central directory record this reader uses.
struct EndRecord {
    disk: u16,
    directory_disk: u16,
    disk_entries: u16,
    total_entries: u16,
    directory_size: u32,
    directory_offset: u32,
}

impl EndRecord {
    fn parse(record: &[u8]) -> Option<Self> {
        Some(Self {
            disk: u16_le(record, 4)?,
            directory_disk: u16_le(record, 6)?,
            disk_entries: u16_le(record, 8)?,
            total_entries: u16_le(record, 10)?,
            directory_size: u32_le(record, 12)?,
            directory_offset: u32_le(record, 16)?,
        })
    }

    /// A maxed-out field means the real value is in a zip64 record, which this reader does not read.
    fn is_zip64(&self) -> bool {
        [self.disk, self.directory_disk, self.disk_entries, self.total_entries].contains(&ZIP64_U16)
            || [self.directory_size, self.directory_offset].contains(&ZIP64_U32)
    }
}

/// The fields of a central directory entry this reader uses.
struct CentralEntry<'a> {
    flags: u16,
    method: u16,
    compressed_size: u32,
    uncompressed_size: u32,
    disk_start: u16,
    local_offset: u32,
    name: &'a [u8],
}

impl<'a> CentralEntry<'a> {
    /// The entry at the start of `rest` and its length, or why it cannot be read.
    fn parse(rest: &'a [u8], number: usize) -> Result<(Self, usize), String> {
        let truncated = || format!("corrupt zip archive: central directory entry {number} is truncated");
        let header = rest.get(..CENTRAL_LEN).ok_or_else(truncated)?;
        if u32_le(header, 0) != Some(CENTRAL_SIGNATURE) {
            return Err(format!(
                "corrupt zip archive: central directory entry {number} has a bad signature"
            ));
        }
        let field16 = |at| u16_le(header, at).ok_or_else(truncated);
        let field32 = |at| u32_le(header, at).ok_or_else(truncated);
        let (name_len, extra_len, comment_len) = (field16(28)?, field16(30)?, field16(32)?);
        let name_end = CENTRAL_LEN.checked_add(usize::from(name_len)).ok_or_else(truncated)?;
        let len = name_end
            .checked_add(usize::from(extra_len))
            .and_then(|len| len.checked_add(usize::from(comment_len)))
            .filter(|&len| len <= rest.len())
            .ok_or_else(truncated)?;
        let entry = Self {
            flags: field16(8)?,
            method: field16(10)?,
            compressed_size: field32(20)?,
            uncompressed_size: field32(24)?,
            disk_start: field16(34)?,
            local_offset: field32(42)?,
            name: rest.get(CENTRAL_LEN..name_end).ok_or_else(truncated)?,
        };
        Ok((entry, len))
    }

    /// A maxed-out size or offset means the real value is in a zip64 extra field.
    fn is_zip64(&self) -> bool {
        [self.compressed_size, self.uncompressed_size, self.local_offset].contains(&ZIP64_U32)
            || self.disk_start == ZIP64_U16
    }

    /// Why the content cannot be unpacked, if it cannot.
    fn problem(&self) -> Option<String> {
        if self.flags & 1 != 0 {
            Some("encrypted".into())
        } else if self.method != 0 && self.method != 8 {
            Some(format!("unsupported compression method {}", self.method))
        } else {
            None
        }
    }
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    let field = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(field.try_into().ok()?))
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(field.try_into().ok()?))
}

fn to_usize(value: u32) -> Option<usize> {
    usize::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One entry for [`build`]: always written with the stored layout (data as is, CRC 0),
    /// whatever `method` says, since the reader neither decompresses nor checks CRCs.
    struct Entry {
        name: Vec<u8>,
        data: Vec<u8>,
        method: u16,
        flags: u16,
        /// The uncompressed size the headers declare (default: the data's).
        declared: Option<u32>,
    }

    fn file(name: &str, data: &str) -> Entry {
        raw(name.as_bytes(), data)
    }

    fn raw(name: &[u8], data: &str) -> Entry {
        Entry {
            name: name.to_vec(),
            data: data.as_bytes().to_vec(),
            method: 0,
            flags: 0,
            declared: None,
        }
    }

    fn dir(name: &str) -> Entry {
        file(name, "")
    }

    impl Entry {
        fn method(self, method: u16) -> Self {
            Self { method, ..self }
        }

        fn flags(self, flags: u16) -> Self {
            Self { flags, ..self }
        }

        fn declares(self, size: u32) -> Self {
            Self {
                declared: Some(size),
                ..self
            }
        }
    }

    fn u16s(out: &mut Vec<u8>, values: &[u16]) {
        for value in values {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }

    fn u32s(out: &mut Vec<u8>, values: &[u32]) {
        for value in values {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// A single-disk archive of `entries` with `comment`, headers computed by hand.
    fn build(entries: &[Entry], comment: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for entry in entries {
            let offset = u32::try_from(out.len()).unwrap();
            let size = u32::try_from(entry.data.len()).unwrap();
            let declared = entry.declared.unwrap_or(size);
            let name_len = u16::try_from(entry.name.len()).unwrap();
            // Local file header: version needed, flags, method, time, date; CRC, sizes; name and extra lengths.
            u32s(&mut out, &[LOCAL_SIGNATURE]);
            u16s(&mut out, &[20, entry.flags, entry.method, 0, 0x21]);
            u32s(&mut out, &[0, size, declared]);
            u16s(&mut out, &[name_len, 0]);
            out.extend_from_slice(&entry.name);
            out.extend_from_slice(&entry.data);
            // Central directory header: made by, needed, flags, method, time, date; CRC, sizes;
            // name, extra and comment lengths, disk start, internal attributes; external attributes, offset.
            u32s(&mut central, &[CENTRAL_SIGNATURE]);
            u16s(&mut central, &[0x031e, 20, entry.flags, entry.method, 0, 0x21]);
            u32s(&mut central, &[0, size, declared]);
            u16s(&mut central, &[name_len, 0, 0, 0, 0]);
            u32s(&mut central, &[0, offset]);
            central.extend_from_slice(&entry.name);
        }
        let count = u16::try_from(entries.len()).unwrap();
        let directory_offset = u32::try_from(out.len()).unwrap();
        let directory_size = u32::try_from(central.len()).unwrap();
        out.extend_from_slice(&central);
        u32s(&mut out, &[END_SIGNATURE]);
        u16s(&mut out, &[0, 0, count, count]);
        u32s(&mut out, &[directory_size, directory_offset]);
        u16s(&mut out, &[u16::try_from(comment.len()).unwrap()]);
        out.extend_from_slice(comment);
        out
    }

    fn put16(bytes: &mut [u8], at: usize, value: u16) {
        bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
    }

    fn put32(bytes: &mut [u8], at: usize, value: u32) {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Where the end record of a comment-less archive starts.
    fn end_at(bytes: &[u8]) -> usize {
        bytes.len() - END_LEN
    }

    /// Where the first central directory entry of a comment-less archive starts.
    fn central_at(bytes: &[u8]) -> usize {
        let end = end_at(bytes);
        u32::from_le_bytes(bytes[end + 16..end + 20].try_into().unwrap()) as usize
    }

    fn sample() -> Vec<u8> {
        build(
            &[
                dir("config/"),
                file("config/main.json", "{\"a\":1}"),
                file("readme.md", "hi"),
            ],
            b"",
        )
    }

    fn zip_file(path: &str, size: u64) -> ZipFile {
        ZipFile {
            path: path.into(),
            size,
        }
    }

    fn rejected(path: &str, reason: &str) -> Rejected {
        Rejected {
            path: path.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn lists_files_in_archive_order_and_skips_directories() {
        let bytes = build(
            &[
                dir("config/"),
                file("config/main.json", "{\"name\":\"x\"}"),
                dir("config/nested/"),
                file("readme.md", "hello"),
                file("config/nested/data.bin", "0123456789").method(8),
                file("..hidden/a..b/c..", ""),
            ],
            b"",
        );
        let listing = list(&bytes).unwrap();
        assert_eq!(
            listing.files,
            [
                zip_file("config/main.json", 12),
                zip_file("readme.md", 5),
                zip_file("config/nested/data.bin", 10),
                zip_file("..hidden/a..b/c..", 0),
            ]
        );
        assert_eq!(listing.rejected, []);
    }

    #[test]
    fn an_archive_without_entries_lists_nothing() {
        assert_eq!(list(&build(&[], b"")), Ok(Listing::default()));
    }

    #[test]
    fn rejects_each_unsafe_entry_with_its_reason() {
        let bytes = build(
            &[
                file("ok.txt", "fine"),
                raw(b"bad\xff.txt", "x"),
                file("", "x"),
                file("/etc/passwd", "x"),
                file("\\windows\\system.ini", "x"),
                file("C:/boot.ini", "x"),
                file("c:", "x"),
                file("../evil.txt", "x"),
                file("a/../../evil.txt", "x"),
                file("a/..", "x"),
                file("a\\b.txt", "x"),
                file("line\nbreak.txt", "x"),
                file("nul\0.txt", "x"),
                file("del\u{7f}.txt", "x"),
                file("secret.txt", "x").flags(1),
                file("packed.bz2", "x").method(12),
                file("ok.txt", "again"),
                dir("../outside/"),
            ],
            b"",
        );
        let listing = list(&bytes).unwrap();
        assert_eq!(listing.files, [zip_file("ok.txt", 4)]);
        assert_eq!(
            listing.rejected,
            [
                rejected("bad\u{fffd}.txt", "name is not UTF-8"),
                rejected("", "name is empty"),
                rejected("/etc/passwd", "absolute path"),
                rejected("\\windows\\system.ini", "absolute path"),
                rejected("C:/boot.ini", "absolute path"),
                rejected("c:", "absolute path"),
                rejected("../evil.txt", "leaves the archive (..)"),
                rejected("a/../../evil.txt", "leaves the archive (..)"),
                rejected("a/..", "leaves the archive (..)"),
                rejected("a\\b.txt", "uses backslashes"),
                rejected("line\nbreak.txt", "name has control characters"),
                rejected("nul\0.txt", "name has control characters"),
                rejected("del\u{7f}.txt", "name has control characters"),
                rejected("secret.txt", "encrypted"),
                rejected("packed.bz2", "unsupported compression method 12"),
                rejected("ok.txt", "duplicate path"),
            ]
        );
    }

    #[test]
    fn a_rejected_entry_still_claims_its_path() {
        let bytes = build(&[file("a.txt", "x").flags(1), file("a.txt", "y")], b"");
        let listing = list(&bytes).unwrap();
        assert_eq!(listing.files, []);
        assert_eq!(
            listing.rejected,
            [rejected("a.txt", "encrypted"), rejected("a.txt", "duplicate path")]
        );
    }

    #[test]
    fn empty_input_and_junk_are_not_zips() {
        let mut state = 0x2545_f491_u32;
        let junk: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state.to_le_bytes()[0]
            })
            .collect();
        for bytes in [&[][..], b"PK", b"PK\x05\x06", &[0; 22], b"hello, world", &junk] {
            assert_eq!(list(bytes), Err(NO_END_RECORD.to_owned()), "{bytes:?}");
        }
    }

    #[test]
    fn every_truncation_and_any_trailing_data_is_rejected() {
        let bytes = sample();
        for cut in 0..bytes.len() {
            assert!(list(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(list(&longer), Err(NO_END_RECORD.to_owned()));
    }

    #[test]
    fn an_end_record_comment_is_skipped() {
        let entries = [file("a.txt", "a")];
        let expected = Ok(Listing {
            files: vec![zip_file("a.txt", 1)],
            rejected: vec![],
            expansion: vec![],
        });
        // The comment holds a decoy signature whose own comment length does not fit.
        let comment = b"built by ci PK\x05\x06 with a decoy signature....";
        assert_eq!(list(&build(&entries, comment)), expected);
        assert_eq!(list(&build(&entries, &[b'#'; MAX_COMMENT_LEN])), expected);

        // A comment length that does not reach exactly the end of the data.
        let mut bytes = build(&entries, b"abc");
        let at = bytes.len() - 3 - 2;
        put16(&mut bytes, at, 2);
        assert_eq!(list(&bytes), Err(NO_END_RECORD.to_owned()));
        put16(&mut bytes, at, 4);
        assert_eq!(list(&bytes), Err(NO_END_RECORD.to_owned()));
    }

    #[test]
    fn a_wrong_central_directory_size_or_offset_is_rejected() {
        let bytes = sample();
        let end = end_at(&bytes);
        let size = u32::from_le_bytes(bytes[end + 12..end + 16].try_into().unwrap());
        let offset = u32::try_from(central_at(&bytes)).unwrap();
        for (size, offset) in [
            (size - 1, offset),
            (size + 1, offset),
            (size - 1, offset + 1),
            (size, offset + 1),
            (size, offset - 1),
            (0, offset),
            (size, 0),
            (0xFFFF_FFFE, offset),
            (size, 0xFFFF_FFFE),
        ] {
            let mut bytes = bytes.clone();
            put32(&mut bytes, end + 12, size);
            put32(&mut bytes, end + 16, offset);
            assert!(list(&bytes).is_err(), "size {size}, offset {offset}");
        }
    }

    #[test]
    fn an_entry_count_mismatch_is_rejected() {
        let bytes = sample();
        let end = end_at(&bytes);
        for count in [0, 1, 2, 4, 1000] {
            let mut bytes = bytes.clone();
            put16(&mut bytes, end + 8, count);
            put16(&mut bytes, end + 10, count);
            let error = list(&bytes).unwrap_err();
            assert!(error.contains("entries"), "{count}: {error}");
        }
    }

    #[test]
    fn multi_disk_archives_are_rejected() {
        let bytes = sample();
        let end = end_at(&bytes);
        let central = central_at(&bytes);
        for (at, value) in [(end + 4, 1), (end + 6, 1), (end + 8, 2), (central + 34, 1)] {
            let mut bytes = bytes.clone();
            put16(&mut bytes, at, value);
            assert_eq!(list(&bytes), Err(MULTI_DISK.to_owned()), "at {at}");
        }
    }

    #[test]
    fn zip64_markers_are_rejected() {
        let bytes = sample();
        let end = end_at(&bytes);
        let central = central_at(&bytes);
        let mut cases = Vec::new();
        for at in [end + 4, end + 6, end + 8, end + 10, central + 34] {
            let mut bytes = bytes.clone();
            put16(&mut bytes, at, 0xFFFF);
            cases.push(bytes);
        }
        let mut both_counts = bytes.clone();
        put16(&mut both_counts, end + 8, 0xFFFF);
        put16(&mut both_counts, end + 10, 0xFFFF);
        cases.push(both_counts);
        for at in [end + 12, end + 16, central + 20, central + 24, central + 42] {
            let mut bytes = bytes.clone();
            put32(&mut bytes, at, 0xFFFF_FFFF);
            cases.push(bytes);
        }
        for bytes in cases {
            assert_eq!(list(&bytes), Err(ZIP64.to_owned()));
        }
    }

    #[test]
    fn at_most_max_entries_are_listed() {
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("f{i}")).collect();
        let entries: Vec<Entry> = names.iter().map(|name| file(name, "")).collect();
        let listing = list(&build(&entries[..MAX_ENTRIES], b"")).unwrap();
        assert_eq!(listing.files.len(), MAX_ENTRIES);
        assert_eq!(listing.files.last(), Some(&zip_file("f999", 0)));
        assert_eq!(
            list(&build(&entries, b"")),
            Err("too many entries: 1001 (at most 1000)".to_owned())
        );
    }

    #[test]
    fn a_bad_central_signature_or_local_header_is_rejected() {
        let bytes = sample();
        let central = central_at(&bytes);
        let second = central + CENTRAL_LEN + "config/".len();

        let mut bad = bytes.clone();
        bad[second] = b'Q';
        assert!(list(&bad).unwrap_err().contains("entry 2 has a bad signature"));

        for offset in [1, 0x7FFF_FFFF, u32::try_from(bytes.len() - LOCAL_LEN + 1).unwrap()] {
            let mut bad = bytes.clone();
            put32(&mut bad, second + 42, offset);
            assert!(list(&bad)
                .unwrap_err()
                .contains("entry 2 does not point to a local file header"));
        }

        // A name length reaching past the central directory.
        let mut bad = bytes.clone();
        put16(&mut bad, second + 28, 0xFFF0);
        assert!(list(&bad).unwrap_err().contains("entry 2 is truncated"));
    }

    #[test]
    fn files_serialize_in_camel_case() {
        let json = serde_json::to_value(zip_file("a/b.json", 3)).unwrap();
        assert_eq!(json, serde_json::json!({"path": "a/b.json", "size": 3}));
        let json = serde_json::to_value(rejected("../x", "leaves the archive (..)")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"path": "../x", "reason": "leaves the archive (..)"})
        );
    }

    /// Made by Python 3.11's `zipfile` (all entries `ZIP_DEFLATED`, even the directory):
    /// "config/main.json" (240 bytes), "config/", "../evil.txt", "/abs.txt".
    #[rustfmt::skip]
    const PYTHON_ZIP: &[u8] = &[
        0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x83, 0x18, 0x22, 0x58, 0x75, 0x08,
        0x2e, 0x2c, 0x48, 0x00, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x63, 0x6f,
        0x6e, 0x66, 0x69, 0x67, 0x2f, 0x6d, 0x61, 0x69, 0x6e, 0x2e, 0x6a, 0x73, 0x6f, 0x6e, 0xab, 0x56,
        0xca, 0x4b, 0xcc, 0x4d, 0x55, 0xb2, 0x52, 0x50, 0x2a, 0x49, 0xcd, 0x4b, 0xcc, 0x2b, 0x51, 0xd2,
        0x51, 0x50, 0x4a, 0x4b, 0x4d, 0x2c, 0x29, 0x2d, 0x4a, 0x2d, 0x06, 0x8a, 0x46, 0x2b, 0x25, 0x82,
        0x44, 0x92, 0x40, 0x44, 0xb2, 0x52, 0x2c, 0x90, 0x2c, 0x4a, 0x2d, 0x29, 0xca, 0x04, 0xcb, 0x19,
        0x03, 0x79, 0x65, 0xa9, 0x45, 0x49, 0xf9, 0xc5, 0x20, 0xfd, 0x69, 0x89, 0x39, 0xc5, 0xa9, 0xb5,
        0x5c, 0xd5, 0x83, 0xdc, 0x3c, 0x00, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x83, 0x18, 0x22, 0x58, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x07, 0x00, 0x00, 0x00, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x67, 0x2f, 0x03, 0x00, 0x50, 0x4b, 0x03,
        0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x83, 0x18, 0x22, 0x58, 0x7d, 0x2f, 0x81, 0x00, 0x0a,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x2e, 0x2e, 0x2f, 0x65, 0x76,
        0x69, 0x6c, 0x2e, 0x74, 0x78, 0x74, 0x4b, 0x2d, 0xcb, 0xcc, 0x51, 0x48, 0x45, 0x21, 0xb8, 0x00,
        0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x83, 0x18, 0x22, 0x58, 0x8b, 0xe3,
        0x0d, 0x87, 0x0f, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x2f, 0x61,
        0x62, 0x73, 0x2e, 0x74, 0x78, 0x74, 0x4b, 0x4c, 0x2a, 0xce, 0xcf, 0x29, 0x2d, 0x49, 0x55, 0x48,
        0x44, 0x67, 0x70, 0x01, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x83, 0x18, 0x22, 0x58, 0x75, 0x08, 0x2e, 0x2c, 0x48, 0x00, 0x00, 0x00, 0xf0, 0x00, 0x00,
        0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x67, 0x2f, 0x6d, 0x61, 0x69, 0x6e, 0x2e, 0x6a,
        0x73, 0x6f, 0x6e, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x83,
        0x18, 0x22, 0x58, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x76, 0x00, 0x00,
        0x00, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x67, 0x2f, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00,
        0x00, 0x00, 0x08, 0x00, 0x83, 0x18, 0x22, 0x58, 0x7d, 0x2f, 0x81, 0x00, 0x0a, 0x00, 0x00, 0x00,
        0x14, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x80, 0x01, 0x9d, 0x00, 0x00, 0x00, 0x2e, 0x2e, 0x2f, 0x65, 0x76, 0x69, 0x6c, 0x2e, 0x74, 0x78,
        0x74, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x83, 0x18, 0x22,
        0x58, 0x8b, 0xe3, 0x0d, 0x87, 0x0f, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0xd0, 0x00, 0x00, 0x00, 0x2f,
        0x61, 0x62, 0x73, 0x2e, 0x74, 0x78, 0x74, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x04,
        0x00, 0x04, 0x00, 0xe2, 0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn reads_an_archive_made_by_python() {
        let listing = list(PYTHON_ZIP).unwrap();
        assert_eq!(listing.files, [zip_file("config/main.json", 240)]);
        assert_eq!(
            listing.rejected,
            [
                rejected("../evil.txt", "leaves the archive (..)"),
                rejected("/abs.txt", "absolute path")
            ]
        );
    }

    /// Paths a deployment may unpack: relative, unique, and staying inside its directory.
    fn assert_safe(listing: &Listing) {
        let mut seen = HashSet::new();
        for file in &listing.files {
            assert!(name_problem(&file.path).is_none(), "{file:?}");
            assert!(!file.path.ends_with('/'), "{file:?}");
            assert!(seen.insert(&file.path), "{file:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            if let Ok(listing) = list(&bytes) {
                assert_safe(&listing);
            }
        }

        #[test]
        fn damaged_archives_never_panic(
            python in any::<bool>(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..), 0..8),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let mut bytes = if python { PYTHON_ZIP.to_vec() } else { sample() };
            for (at, mask) in &flips {
                let at = at.index(bytes.len());
                bytes[at] ^= mask;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len()));
            }
            if let Ok(listing) = list(&bytes) {
                assert_safe(&listing);
            }
        }

        /// Every entry of a well-formed archive ends up a file, a rejection or a skipped directory.
        #[test]
        fn every_entry_is_sorted(names in proptest::collection::vec("[a:./\\\\\u{0}é]{0,6}", 0..20)) {
            let entries: Vec<Entry> = names.iter().map(|name| file(name, "x")).collect();
            let listing = list(&build(&entries, b"")).unwrap();
            let directories = names.iter().filter(|name| name.ends_with('/')).count();
            prop_assert_eq!(listing.files.len() + listing.rejected.len() + directories, names.len());
            assert_safe(&listing);
        }
    }

    #[test]
    fn a_local_header_that_names_another_file_is_refused() {
        let mut bytes = build(&[file("config/a.json", "{}")], b"");
        // The local header's copy of the name (after its 30 fixed bytes) says ../a.json.
        bytes[30..43].copy_from_slice(b"../../a.json!");
        let err = list(&bytes).unwrap_err();
        assert!(err.contains("local header names another file"), "{err}");
    }

    /// Issue 17, item 14: what an archive declares it unpacks to is bounded.
    #[test]
    fn an_archive_declaring_too_much_in_all_is_refused() {
        // 102 KB declaring 100 MB, as the finding had it.
        let data = "x".repeat(102 * 1024);
        let bomb = build(&[file("huge.json", &data).method(8).declares(100_000_000)], b"");
        let listing = list(&bomb).unwrap();
        assert!(
            listing
                .expansion
                .iter()
                .any(|m| m.contains("100000000 bytes uncompressed in all")
                    && m.contains(&format!("{MAX_UNCOMPRESSED_BYTES}"))),
            "{:?}",
            listing.expansion
        );
        // Under every ratio (90:1 each) but 18 MiB in all.
        let chunk = "y".repeat(100 * 1024);
        let wide = build(
            &[
                file("a.json", &chunk).method(8).declares(9 << 20),
                file("b.json", &chunk).method(8).declares(9 << 20),
            ],
            b"",
        );
        assert_eq!(
            list(&wide).unwrap().expansion,
            [format!(
                "the archive declares {} bytes uncompressed in all; the limit is {MAX_UNCOMPRESSED_BYTES} (16 MiB)",
                18 << 20
            )]
        );
    }

    #[test]
    fn an_entry_or_an_archive_compressed_beyond_the_ratio_is_refused() {
        let dense = build(
            &[
                file("ok.json", "{}"),
                file("zeros.bin", &"0".repeat(2048)).method(8).declares(2 << 20),
            ],
            b"",
        );
        let expansion = list(&dense).unwrap().expansion;
        assert!(
            expansion
                .iter()
                .any(|m| m.contains("zeros.bin") && m.contains("1024:1") && m.contains("100:1")),
            "{expansion:?}"
        );
        assert!(
            expansion.iter().any(|m| m.contains("the archive expands")),
            "{expansion:?}"
        );
        // Small entries are not bombs, whatever their ratio; honest archives pass.
        let small = build(&[file("tiny.json", "{}").method(8).declares(500 * 1024)], b"");
        assert_eq!(list(&small).unwrap().expansion, Vec::<String>::new());
        assert_eq!(list(&sample()).unwrap().expansion, Vec::<String>::new());
        assert_eq!(list(PYTHON_ZIP).unwrap().expansion, Vec::<String>::new());
    }

    #[test]
    fn an_entry_whose_data_reaches_past_the_central_directory_is_refused() {
        let mut bytes = build(&[file("a.json", "{}"), file("b.json", "[]")], b"");
        let second = central_at(&bytes) + CENTRAL_LEN + "a.json".len();
        // Entry 2 claims 100 KB of compressed data in a 200-byte archive.
        put32(&mut bytes, second + 20, 100 * 1024);
        let err = list(&bytes).unwrap_err();
        assert!(
            err.contains("entry 2's data reaches past the central directory"),
            "{err}"
        );
    }
}
