//! A cheap walk over a DICOM file's element headers that refuses lengths the file cannot hold,
//! before dicom-rs reads it: dicom-rs reserves and zero-fills an element's declared length
//! before reading it, so one corrupt length costs up to 4 GiB of memory and seconds of time.
//! The walk ends at the image's Pixel Data element, whose declared length it checks too: a file
//! cut short inside its pixels still has a whole header, and reading stops before the pixels
//! (for the pixel reader, which reads the whole file, it walks on to the end).
//!
//! Hand-written because no crate offers a header-only length check. The walk follows dicom-rs's
//! reading (into sequences of either length, VRs from the dictionary in implicit VR) and refuses
//! only what is certainly damage: a length larger than what is left of the file or of the item
//! holding it, or a binary value whose length is not a whole number of its values (dicom-rs
//! reads the whole values and loses its place in the file); anything it does not understand
//! ends the walk and leaves the verdict to dicom-rs.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_dictionary_std::StandardDataDictionary;

use super::SliceFault;
use crate::cache::FileVersion;

const ITEM: u32 = 0xFFFE_E000;
const ITEM_END: u32 = 0xFFFE_E00D;
const SEQUENCE_END: u32 = 0xFFFE_E0DD;
const PIXEL_DATA: u32 = 0x7FE0_0010;
const UNDEFINED: u32 = 0xFFFF_FFFF;
/// Nesting deeper than this is not a real image header; stop walking rather than recurse.
const MAX_DEPTH: usize = 16;

/// How a walk over part of the file ended.
enum Stop {
    /// The part ended where it should (an item or sequence delimiter): walk on.
    Closed,
    /// Pixel data, the end of the file, or something to leave to dicom-rs: stop, no fault.
    Done,
    /// A declared length the file cannot hold.
    Fault(SliceFault),
}

/// A header file being read: buffered, its position counted without system calls.
pub(crate) type HeaderReader = BufReader<Positioned<File>>;

/// What the first read of a header file takes: a whole header of a common scanner (1–20 KiB,
/// private tags included) in one system call, which the walk and then dicom-rs both read.
const HEADER_READ_BYTES: usize = 32 << 10;

/// Opens the file and checks that no element up to and including the pixel data declares
/// more bytes than the file (or the item holding it) has left, or a binary value of partial
/// length. The reader comes back at the file's start, for dicom-rs to read the bytes the walk
/// buffered, with the file's version (`None` when it cannot be stat'ed; the walk is then left
/// to dicom-rs).
pub(crate) fn open_checked(path: &Path) -> Result<(HeaderReader, Option<FileVersion>), SliceFault> {
    // dicom-rs would say only "Could not open file": say why.
    let unopenable = |e: std::io::Error| SliceFault::Unopenable(e.to_string());
    let file = File::open(path).map_err(unopenable)?;
    let metadata = file.metadata().ok();
    let mut reader = BufReader::with_capacity(HEADER_READ_BYTES, Positioned { inner: file, at: 0 });
    if let Some(size) = metadata.as_ref().map(|m| m.len()) {
        reader.fill_buf().map_err(unopenable)?;
        let mut walker = Walker::new(reader, size, false);
        if let Stop::Fault(fault) = walker.walk_file() {
            return Err(fault);
        }
        reader = walker.reader;
        // Back to the start: within the buffer (no system call) when the walk stayed in it.
        let walked = reader.stream_position().map_err(unopenable)?;
        reader.seek_relative(-(walked as i64)).map_err(unopenable)?;
    }
    let version = metadata.map(|m| FileVersion::from_metadata(path, &m));
    Ok((reader, version))
}

/// A whole file in memory, checked for the pixel reader: past the pixel data too, to the end
/// of the file (elements after the pixels, dicom-rs reads them; the fuzzer found one declaring
/// gigabytes there). Read once and walked in memory, for dicom-rs to parse from the same bytes.
pub(crate) struct CheckedFile {
    pub bytes: Vec<u8>,
    /// Where the image's pixel data value is, when it has a defined length outside a deflated
    /// data set: the native (uncompressed) samples, readable without dicom-rs's decoder.
    pub native_pixels: Option<Range<usize>>,
    /// The meta group's transfer syntax UID, trimmed ("" when the walk did not reach it).
    pub transfer_syntax: String,
    /// The version of the file these bytes are.
    pub version: FileVersion,
}

/// Largest file the pixel reader takes into memory: a 4096 × 4096 slice of 16-bit samples is
/// 32 MiB; a larger file is not one slice of an image.
pub(crate) const MAX_FILE_BYTES: u64 = 256 << 20;

pub(crate) fn read_whole_file(path: &Path) -> Result<CheckedFile, SliceFault> {
    // dicom-rs would say only "Could not open file": say why.
    let unopenable = |e: std::io::Error| SliceFault::Unopenable(e.to_string());
    let mut file = File::open(path).map_err(unopenable)?;
    let metadata = file.metadata().map_err(unopenable)?;
    let size = metadata.len();
    if size > MAX_FILE_BYTES {
        return Err(SliceFault::NotDicom(format!(
            "{size} bytes, more than the {} MiB of any one slice",
            MAX_FILE_BYTES >> 20
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.read_to_end(&mut bytes).map_err(unopenable)?;
    let mut walker = Walker::new(Cursor::new(&bytes[..]), bytes.len() as u64, true);
    if let Stop::Fault(fault) = walker.walk_file() {
        return Err(fault);
    }
    let (native_pixels, transfer_syntax) = (walker.native_pixels, walker.transfer_syntax);
    Ok(CheckedFile {
        bytes,
        native_pixels,
        transfer_syntax,
        version: FileVersion::from_metadata(path, &metadata),
    })
}

/// A reader that keeps count of its position. `BufReader::stream_position` asks the reader
/// below it, and a `File` answers with an lseek: one per element walked, 51 a header file,
/// 128,000 system calls for data-sample's 2,500 slices.
pub(crate) struct Positioned<R> {
    inner: R,
    at: u64,
}

impl<R: Read> Read for Positioned<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Positioned<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.at = self.inner.seek(to)?;
        Ok(self.at)
    }

    fn stream_position(&mut self) -> std::io::Result<u64> {
        Ok(self.at)
    }
}

/// Largest data set a deflated file may inflate to (a 1024 × 1024 16-bit slice is 2 MiB): a
/// deflate stream of a few kilobytes can inflate to gigabytes.
const MAX_INFLATED_BYTES: u64 = 64 << 20;

struct Walker<R> {
    reader: R,
    size: u64,
    /// Explicit VR (the file meta group always is; the data set by its transfer syntax).
    explicit: bool,
    /// Big-endian numbers (explicit VR big endian data sets; the meta group is little endian).
    big_endian: bool,
    /// Walk on past the image's pixel data to the end of the file.
    whole: bool,
    /// The image's pixel data value, when its length is defined (set by the walk).
    native_pixels: Option<Range<usize>>,
    /// The transfer syntax UID the meta group names (set by the walk).
    transfer_syntax: String,
}

impl<R: Read + Seek> Walker<R> {
    /// A walk from the start of `reader` (`size` bytes), through the pixel data and on to the
    /// end when `whole`.
    fn new(reader: R, size: u64, whole: bool) -> Self {
        Walker {
            reader,
            size,
            explicit: true,
            big_endian: false,
            whole,
            native_pixels: None,
            transfer_syntax: String::new(),
        }
    }

    fn position(&mut self) -> Option<u64> {
        self.reader.stream_position().ok()
    }

    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        self.reader.read_exact(&mut buf).ok()?;
        Some(buf)
    }

    /// A tag, group first, in the current byte order.
    fn tag(&mut self) -> Option<u32> {
        let b = self.bytes::<4>()?;
        let (group, element) = if self.big_endian {
            (u16::from_be_bytes([b[0], b[1]]), u16::from_be_bytes([b[2], b[3]]))
        } else {
            (u16::from_le_bytes([b[0], b[1]]), u16::from_le_bytes([b[2], b[3]]))
        };
        Some((u32::from(group) << 16) | u32::from(element))
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.bytes::<2>()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.bytes::<4>()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn walk_file(&mut self) -> Stop {
        // "DICM" after the 128-byte preamble, else (as dicom-rs also accepts) at the very start,
        // in dicom-rs's order: a preamble may begin with "DICM" too (the fuzzer's eleventh
        // out-of-memory: the walk took such a file as preamble-less and read another meta group).
        // Then the meta group (explicit VR little endian).
        // Relative seeks: a buffered reader keeps its buffer for them.
        let magic_at = |walker: &mut Self, offset: u64| {
            let Some(at) = walker.position() else { return false };
            walker.reader.seek_relative(offset as i64 - at as i64).is_ok() && walker.bytes::<4>() == Some(*b"DICM")
        };
        if !magic_at(self, 128) && !magic_at(self, 0) {
            return Stop::Done;
        }
        // The meta group as dicom-rs reads it: (0002,0000) first, holding the group's length,
        // then explicit-VR elements of any group until that many bytes are read. The data set
        // starts where that ends, not where the group number changes.
        let Some(first) = self.tag() else {
            return Stop::Done;
        };
        let (Some((_, 4)), Some(group_length)) = (self.explicit_header(), self.u32()) else {
            return Stop::Done; // dicom-rs refuses the file itself
        };
        if first != 0x0002_0000 {
            return Stop::Done;
        }
        let mut syntax = String::new();
        let mut read = 0u64;
        while read < u64::from(group_length) {
            let Some(start) = self.position() else {
                return Stop::Done;
            };
            let Some(tag) = self.tag() else {
                return Stop::Done;
            };
            // dicom-rs reads a (FFFE,xxxx) tag with no VR, only a 4-byte length, even here
            // (the fuzzer's tenth out-of-memory: the walk read a VR there and lost its place).
            let len = if tag >> 16 == 0xFFFE {
                self.u32()
            } else {
                self.explicit_header().map(|(_, len)| len)
            };
            let Some(len) = len else {
                return Stop::Done;
            };
            if len == UNDEFINED {
                return Stop::Done; // dicom-rs refuses an undefined length here
            }
            if let Some(fault) = self.too_long(tag, len, None) {
                return Stop::Fault(fault);
            }
            if tag == 0x0002_0010 {
                // dicom-rs takes the UID whatever padding follows it (the fuzzer padded one to
                // 151 bytes, and the walk, which skipped it, checked an implicit VR data set as
                // explicit): the first bytes say which, the rest is skipped.
                let mut value = vec![0u8; len.min(256) as usize];
                if self.reader.read_exact(&mut value).is_err() || self.skip(len - value.len() as u32).is_none() {
                    return Stop::Done;
                }
                // Trimmed as dicom-rs trims it: NULs and any whitespace, '\r' too (the fuzzer).
                syntax = String::from_utf8_lossy(&value)
                    .trim_end_matches(|c: char| c.is_whitespace() || c == '\0')
                    .to_string();
            } else if self.skip(len).is_none() {
                return Stop::Done;
            }
            let Some(end) = self.position() else {
                return Stop::Done;
            };
            read += end - start;
        }
        self.transfer_syntax = syntax.clone();
        match syntax.as_str() {
            "1.2.840.10008.1.2" => self.explicit = false,
            // Explicit VR big endian (retired, still written by old scanners; the fuzzer found
            // dicom-rs reserving 4 GiB in one).
            "1.2.840.10008.1.2.2" => self.big_endian = true,
            // A deflated data set (raw deflate, PS3.5 A.5): its lengths are inside the
            // compressed stream, so it is inflated (bounded) and walked there.
            "1.2.840.10008.1.2.1.99" => return self.walk_deflated(),
            _ => {}
        }
        self.walk_elements(0, None)
    }

    /// Inflates the rest of the file (at most [`MAX_INFLATED_BYTES`]) and walks it as an
    /// explicit VR little endian data set.
    fn walk_deflated(&mut self) -> Stop {
        let mut compressed = Vec::new();
        if self.reader.read_to_end(&mut compressed).is_err() {
            return Stop::Done;
        }
        let mut inflated = Vec::new();
        let mut decoder = flate2::read::DeflateDecoder::new(&compressed[..]).take(MAX_INFLATED_BYTES + 1);
        if decoder.read_to_end(&mut inflated).is_err() {
            // A stream that breaks off still gives dicom-rs the bytes before the break (the
            // fuzzer twice: an element there declaring gigabytes), but the read that meets the
            // break drops what it inflated: inflate again a byte at a time, up to the break.
            inflated.clear();
            let mut decoder = flate2::read::DeflateDecoder::new(&compressed[..]);
            let mut byte = [0u8; 1];
            while inflated.len() as u64 <= MAX_INFLATED_BYTES && matches!(decoder.read(&mut byte), Ok(1)) {
                inflated.push(byte[0]);
            }
        }
        if inflated.len() as u64 > MAX_INFLATED_BYTES {
            return Stop::Fault(SliceFault::NotDicom(format!(
                "its deflated data set inflates to more than {} MiB",
                MAX_INFLATED_BYTES >> 20
            )));
        }
        // Its native_pixels stay unused: offsets in the inflated stream, not the file.
        let size = inflated.len() as u64;
        let mut walker = Walker::new(Cursor::new(inflated), size, self.whole);
        walker.walk_elements(0, None)
    }

    /// Walks elements until `end` (the end of a defined-length item), an item delimiter (inside
    /// an undefined-length item), pixel data or the end of the file.
    fn walk_elements(&mut self, depth: usize, end: Option<u64>) -> Stop {
        if depth > MAX_DEPTH {
            return Stop::Done;
        }
        loop {
            if let Some(stop) = self.stop_at(end) {
                return stop;
            }
            let Some(tag) = self.tag() else {
                return Stop::Done;
            };
            // The image's own pixel data ends the walk, as it ends dicom-rs's reading; pixel
            // data inside an item (an icon image) is an element like any other.
            if tag == PIXEL_DATA && depth == 0 {
                match self.check_pixel_data() {
                    Stop::Closed => continue, // walking the whole file: on past the pixels
                    other => return other,
                }
            }
            if tag >> 16 == 0xFFFE {
                // An item's delimiter ends the item: no VR, a 4-byte length (zero).
                if tag == ITEM_END && depth > 0 {
                    return if self.bytes::<4>().is_some() {
                        Stop::Closed
                    } else {
                        Stop::Done
                    };
                }
                // Items and delimiters belong in sequences only. Out of place, dicom-rs skips
                // the "item" as raw bytes and reads on from wherever its length lands, inside
                // the pixel data, say, where it found a 3.5 GB value (the fuzzer).
                let at = self.position().map_or(0, |at| at.saturating_sub(4));
                return Stop::Fault(SliceFault::NotDicom(format!(
                    "an item or delimiter tag ({:04X},{:04X}) outside any sequence, at byte {at}",
                    tag >> 16,
                    tag & 0xFFFF
                )));
            }
            let header = if self.explicit {
                self.explicit_header()
            } else {
                self.u32().map(|len| (implicit_vr(tag), len))
            };
            let Some((vr, len)) = header else { return Stop::Done };
            if len == UNDEFINED && tag == PIXEL_DATA {
                return Stop::Done; // compressed fragments of an icon: raw bytes, not elements
            }
            if len == UNDEFINED {
                match self.walk_items(tag, None, depth + 1) {
                    Stop::Closed => continue,
                    other => return other,
                }
            }
            if let Some(fault) = self.too_long(tag, len, end) {
                return Stop::Fault(fault);
            }
            if let Some(size) = value_size(vr).filter(|size| len % size != 0) {
                return Stop::Fault(SliceFault::NotDicom(format!(
                    "element ({:04X},{:04X}) {} declares {len} bytes, not a whole number of its {size}-byte values",
                    tag >> 16,
                    tag & 0xFFFF,
                    String::from_utf8_lossy(&vr)
                )));
            }
            if &vr == b"SQ" && len > 0 {
                let Some(at) = self.position() else {
                    return Stop::Done;
                };
                match self.walk_items(tag, Some(at + u64::from(len)), depth + 1) {
                    Stop::Closed => continue,
                    other => return other,
                }
            }
            if self.skip(len).is_none() {
                return Stop::Done;
            }
        }
    }

    /// At a defined-length item's or sequence's `end`: Closed exactly there, Done past it (left
    /// to dicom-rs); None before it, or when the length is undefined.
    fn stop_at(&mut self, end: Option<u64>) -> Option<Stop> {
        let end = end?;
        match self.position() {
            Some(at) if at < end => None,
            Some(at) if at == end => Some(Stop::Closed),
            _ => Some(Stop::Done),
        }
    }

    /// The pixel data's declared length must fit in the file; an undefined length means
    /// encapsulated (compressed) fragments, each of which must fit (dicom-rs reads them whole
    /// when the pixels are read). Closed, placed after the pixels, when walking the whole file.
    fn check_pixel_data(&mut self) -> Stop {
        let len = if self.explicit {
            self.explicit_header().map(|(_, len)| len)
        } else {
            self.u32()
        };
        let (Some(len), Some(at)) = (len, self.position()) else {
            return Stop::Done;
        };
        if len == UNDEFINED {
            return self.check_fragments();
        }
        let needed = at + u64::from(len);
        if needed > self.size {
            return Stop::Fault(SliceFault::PixelDataTruncated {
                needed,
                size: self.size,
            });
        }
        self.native_pixels = Some(at as usize..needed as usize);
        if self.whole && self.skip(len).is_some() {
            return Stop::Closed;
        }
        Stop::Done
    }

    /// The items of encapsulated pixel data (the offset table, then the fragments) up to the
    /// sequence delimiter: each item's length must fit in the file.
    fn check_fragments(&mut self) -> Stop {
        loop {
            let (Some(tag), Some(len)) = (self.tag(), self.u32()) else {
                return Stop::Done; // dicom-rs finds the pixel data cut short
            };
            match tag {
                SEQUENCE_END if self.whole => return Stop::Closed,
                SEQUENCE_END => return Stop::Done,
                ITEM if len == UNDEFINED => {
                    return Stop::Fault(SliceFault::NotDicom(
                        "a pixel data fragment declares an undefined length".to_string(),
                    ));
                }
                ITEM => {
                    if let Some(fault) = self.too_long(ITEM, len, None) {
                        return Stop::Fault(fault);
                    }
                    if self.skip(len).is_none() {
                        return Stop::Done;
                    }
                }
                _ => return Stop::Done,
            }
        }
    }

    /// Walks the items of sequence `parent`: up to `end` when its length is defined, else up
    /// to its delimiter. dicom-rs reads every item's elements, so they are walked too.
    fn walk_items(&mut self, parent: u32, end: Option<u64>, depth: usize) -> Stop {
        // A file that ends inside an undefined length is cut short; dicom-rs may read the
        // element's VR from the dictionary (UL, say) and reserve 4 GiB for it (the fuzzer again).
        let cut_short = || {
            let length = if end.is_some() {
                "a length"
            } else {
                "an undefined length"
            };
            Stop::Fault(SliceFault::NotDicom(format!(
                "truncated: element ({:04X},{:04X}) declares {length} and the file ends inside it",
                parent >> 16,
                parent & 0xFFFF
            )))
        };
        loop {
            if let Some(stop) = self.stop_at(end) {
                return stop;
            }
            let Some(tag) = self.tag() else {
                return cut_short();
            };
            let Some(len) = self.u32() else {
                return cut_short();
            };
            match tag {
                // A delimiter in a sequence of defined length is odd, not certainly damage:
                // dicom-rs has the last word.
                SEQUENCE_END => return if end.is_none() { Stop::Closed } else { Stop::Done },
                ITEM if len == UNDEFINED => match self.walk_elements(depth, None) {
                    Stop::Closed => {}
                    other => return other,
                },
                ITEM => {
                    if let Some(fault) = self.too_long(ITEM, len, end) {
                        return Stop::Fault(fault);
                    }
                    let Some(at) = self.position() else {
                        return Stop::Done;
                    };
                    match self.walk_elements(depth, Some(at + u64::from(len))) {
                        Stop::Closed => {}
                        other => return other,
                    }
                }
                // Only items (and, after an undefined length, the delimiter) may make up a
                // sequence: anything else is damage, which dicom-rs would read as a 4 GiB value
                // (found by the fuzzer).
                _ if end.is_some() => {
                    return Stop::Fault(SliceFault::NotDicom(format!(
                        "sequence ({:04X},{:04X}) holds something other than items",
                        parent >> 16,
                        parent & 0xFFFF
                    )));
                }
                _ => {
                    return Stop::Fault(SliceFault::NotDicom(format!(
                        "element ({:04X},{:04X}) declares an undefined length but holds no items",
                        parent >> 16,
                        parent & 0xFFFF
                    )));
                }
            }
        }
    }

    /// The VR and length of an explicit-VR element, after its tag. VRs with a 2-byte length
    /// are listed; every other VR, unknown ones included, has 2 reserved bytes and a 4-byte
    /// length, as dicom-rs reads them (an unknown VR is read as UN).
    fn explicit_header(&mut self) -> Option<([u8; 2], u32)> {
        const SHORT: [&[u8; 2]; 21] = [
            b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN", b"SH", b"SL",
            b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
        ];
        let vr = self.bytes::<2>()?;
        let len = if SHORT.contains(&&vr) {
            self.u16().map(u32::from)
        } else {
            self.bytes::<2>()?;
            self.u32()
        };
        Some((vr, len?))
    }

    /// A length past the end of the file, or of the item holding the element (`end`).
    fn too_long(&mut self, tag: u32, len: u32, end: Option<u64>) -> Option<SliceFault> {
        if len == UNDEFINED {
            return None;
        }
        let at = self.position()?;
        let left = end.unwrap_or(self.size).min(self.size).saturating_sub(at);
        (u64::from(len) > left).then_some(SliceFault::ElementTooLong {
            tag,
            at,
            declared: len,
            left,
        })
    }

    fn skip(&mut self, len: u32) -> Option<()> {
        self.reader.seek_relative(i64::from(len)).ok()
    }
}

/// The VR dicom-rs gives an implicit-VR element: the dictionary's (US for US-or-SS, OW for
/// OB-or-OW), OW for pixel and overlay data, UN for what the dictionary does not know.
fn implicit_vr(tag: u32) -> [u8; 2] {
    let (group, element) = ((tag >> 16) as u16, (tag & 0xFFFF) as u16);
    if tag == PIXEL_DATA || (group >> 8 == 0x60 && element == 0x3000) {
        return *b"OW";
    }
    let vr = StandardDataDictionary
        .by_tag(Tag(group, element))
        .map_or(dicom_core::VR::UN, |entry| entry.vr().relaxed());
    let code = vr.to_bytes();
    [code[0], code[1]]
}

/// The size of one value of a binary VR, which dicom-rs reads as whole values only.
fn value_size(vr: [u8; 2]) -> Option<u32> {
    match &vr {
        b"SS" | b"US" | b"OW" => Some(2),
        b"AT" | b"FL" | b"OF" | b"SL" | b"UL" | b"OL" => Some(4),
        b"FD" | b"OD" | b"SV" | b"UV" | b"OV" => Some(8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Preamble, "DICM" and a meta group naming explicit VR little endian.
    fn header() -> Vec<u8> {
        let mut bytes = vec![0u8; 128];
        bytes.extend_from_slice(b"DICM");
        let syntax = b"1.2.840.10008.1.2.1\0";
        let group_length = 8 + syntax.len() as u32; // the one element below
        bytes.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
        bytes.extend_from_slice(&group_length.to_le_bytes());
        bytes.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
        bytes.extend_from_slice(&(syntax.len() as u16).to_le_bytes());
        bytes.extend_from_slice(syntax);
        bytes
    }

    fn short(bytes: &mut Vec<u8>, group: u16, element: u16, vr: &[u8; 2], value: &[u8]) {
        bytes.extend_from_slice(&group.to_le_bytes());
        bytes.extend_from_slice(&element.to_le_bytes());
        bytes.extend_from_slice(vr);
        bytes.extend_from_slice(&(value.len() as u16).to_le_bytes());
        bytes.extend_from_slice(value);
    }

    fn check(bytes: &[u8]) -> Result<(), String> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        open_checked(file.path()).map(drop).map_err(|fault| fault.to_string())
    }

    /// Found by the fuzzer (`dicom_header`, an out-of-memory): "DICM" at offset 0 with no
    /// preamble, which dicom-rs reads, and a meta element declaring 4 GiB. The walk used to
    /// expect the preamble and left the file to dicom-rs, which reserved the 4 GiB.
    #[test]
    fn a_file_without_preamble_is_walked_too() {
        let mut bytes = b"DICM".to_vec();
        bytes.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0, 0xAC, 0xFE, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0x02, 0x00, 0x02, 0x00, b'U', b'I', 0, 0]);
        bytes.extend_from_slice(&[0x02, 0x00, 0x03, 0x00, b'O', b'B', 0, 0, 0xAC, 0xFE, 0xFF, 0xFF]);
        let fault = check(&bytes).unwrap_err();
        assert!(
            fault.contains("element (0002,0003)") && fault.contains("declares"),
            "{fault}"
        );
        // The fuzzer's own file, whole.
        let found = b"DICM\x02\x00\x00\x00UL\x04\x00\xac\xfe\xff\xff\xff\x00\x01\x00OB\x00\x00\x02\x00\x00\x00\x00\x01\x02\x00\x02\x00F\x10\x00U\x00\xac\xfe\xff\xff\xff\x00\x01\x00OB\x00\x00\x02\x00\x00\x00\x00\x01\x02\x00\x02\x00F\x10\x00U864229114\x00\x00";
        assert!(check(found).is_err());
    }

    /// Found by the fuzzer (`dicom_header`, an out-of-memory, twice): a preamble beginning with
    /// "DICM". dicom-rs looks for "DICM" after the preamble first; the walk looked at offset 0
    /// first, so it walked the preamble as the meta group and left the real one unchecked.
    #[test]
    fn a_preamble_beginning_with_the_magic_is_still_a_preamble() {
        let mut bytes = header();
        bytes[..4].copy_from_slice(b"DICM");
        bytes.extend_from_slice(&[0x10, 0x00, 0x10, 0x00, b'P', b'N', 0x00, 0x40]);
        let fault = check(&bytes).unwrap_err();
        assert!(fault.contains("element (0010,0010)"), "{fault}");
        for found in [
            &include_bytes!("testdata/magic_at_0_and_128.dcm")[..],
            &include_bytes!("testdata/magic_at_0_and_128_2.dcm")[..],
        ] {
            assert!(check(found).is_err());
        }
    }

    /// Found by the fuzzer (`dicom_header`, an out-of-memory): an implicit-VR data set in which
    /// an element (FFFF,FFFF) declares an undefined length and holds no items; dicom-rs read it
    /// as a 4 GiB UL value.
    #[test]
    fn an_undefined_length_without_items_is_damage() {
        let mut bytes = header();
        let implicit = bytes.len() - 20; // the transfer syntax value: implicit VR little endian
        bytes[implicit..].copy_from_slice(b"1.2.840.10008.1.2\0\0\0");
        bytes.extend_from_slice(&[0x08, 0x00, 0x60, 0x00, 2, 0, 0, 0, b'M', b'R']);
        bytes.extend_from_slice(&[0xFF; 16]); // tag, undefined length, then not an item
        let fault = check(&bytes).unwrap_err();
        assert!(fault.contains("(FFFF,FFFF) declares an undefined length"), "{fault}");
    }

    /// Found by the fuzzer (`dicom_header`, two out-of-memory files): a meta group whose length
    /// (0002,0000) runs past its last (0002,xxxx) element, so dicom-rs reads the next elements as
    /// meta and starts the data set elsewhere than the group number says; there an element
    /// declared 3 or 4 GiB, which dicom-rs reserved and zero-filled. The fuzzer's files (398 and
    /// 461 bytes).
    #[test]
    fn the_data_set_starts_where_the_meta_group_length_says() {
        for found in [
            &include_bytes!("testdata/meta_group_longer_than_its_elements.dcm")[..],
            &include_bytes!("testdata/meta_group_longer_than_its_elements_2.dcm")[..],
        ] {
            let fault = check(found).unwrap_err();
            assert!(fault.contains("declares"), "{fault}");
        }
    }

    /// Found by the fuzzer (`dicom_header`, an out-of-memory): the transfer syntax UID (implicit
    /// VR) padded with NULs to 151 bytes, which the walk skipped as too long to be a UID, so it
    /// walked the data set as explicit VR; dicom-rs read it as implicit, where zeros and then
    /// (0000,0000) declared 4 GiB of UL values. The fuzzer's 546 bytes.
    #[test]
    fn a_padded_transfer_syntax_is_read_whole() {
        for found in [
            &include_bytes!("testdata/padded_transfer_syntax.dcm")[..],
            // The same, with a carriage return among the padding (413 bytes).
            &include_bytes!("testdata/padded_transfer_syntax_2.dcm")[..],
        ] {
            let fault = check(found).unwrap_err();
            assert!(
                fault.contains("element (0000,0000)") && fault.contains("declares"),
                "{fault}"
            );
        }
    }

    /// Found by the fuzzer (`dicom_header`, an out-of-memory): an element (FFFE,06EE) inside the
    /// meta group, which dicom-rs reads with a 4-byte length and no VR; the walk read a VR, lost
    /// its place and missed an OB value in the data set declaring about 4 GiB. Its 499 bytes.
    #[test]
    fn a_delimiter_tag_in_the_meta_group_has_no_vr() {
        let found = include_bytes!("testdata/delimiter_tag_in_meta_group.dcm");
        let fault = check(found).unwrap_err();
        assert!(fault.contains("declares"), "{fault}");
    }

    /// Found by the fuzzer (`dicom_header`, an out-of-memory): an explicit VR big endian data
    /// set with an element declaring 4 GiB; the guard used to leave big endian to dicom-rs.
    /// The fuzzer's 617 bytes.
    #[test]
    fn a_big_endian_data_set_is_walked_too() {
        let found = include_bytes!("testdata/big_endian_element_too_long.dcm");
        let fault = check(found).unwrap_err();
        assert!(fault.contains("declares"), "{fault}");
    }

    /// Found by the fuzzer (`dicom_header`, an out-of-memory): an AT element of 2 bytes. dicom-rs
    /// reads AT values 4 bytes at a time, so it read none, lost its place by 2 bytes and took the
    /// next bytes for an element declaring 4 GiB, which it reserved. The fuzzer's 794 bytes.
    #[test]
    fn a_binary_value_of_partial_length_is_damage() {
        let found = include_bytes!("testdata/binary_value_of_partial_length.dcm");
        let fault = check(found).unwrap_err();
        assert_eq!(
            fault,
            "not a readable DICOM file (element (0028,0101) AT declares 2 bytes, not a whole number of its 4-byte values)"
        );
        let mut bytes = header();
        short(&mut bytes, 0x0028, 0x0010, b"US", &[1, 0, 0]);
        assert!(check(&bytes).unwrap_err().contains("(0028,0010) US declares 3 bytes"));
        // In implicit VR the dictionary gives the VR, as dicom-rs takes it.
        let mut implicit = header();
        let syntax = implicit.len() - 20;
        implicit[syntax..].copy_from_slice(b"1.2.840.10008.1.2\0\0\0");
        implicit.extend_from_slice(&[0x28, 0x00, 0x10, 0x00, 3, 0, 0, 0, 1, 0, 0]);
        assert!(
            check(&implicit)
                .unwrap_err()
                .contains("(0028,0010) US declares 3 bytes")
        );
    }

    /// dicom-rs reads the elements of every item, whatever the lengths of the sequence and the
    /// item: the walk checks them against the item's end as well as the file's.
    #[test]
    fn defined_length_sequences_are_walked_into() {
        let item = |inner: &[u8]| {
            let mut bytes = vec![0xFE, 0xFF, 0x00, 0xE0];
            bytes.extend_from_slice(&(inner.len() as u32).to_le_bytes());
            bytes.extend_from_slice(inner);
            bytes
        };
        let sequence = |items: &[u8]| {
            let mut bytes = vec![0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0];
            bytes.extend_from_slice(&(items.len() as u32).to_le_bytes());
            bytes.extend_from_slice(items);
            bytes
        };
        let mut inner = Vec::new();
        short(&mut inner, 0x0008, 0x1150, b"UI", b"1.2\0");
        let mut bytes = header();
        bytes.extend(sequence(&item(&inner)));
        short(&mut bytes, 0x0010, 0x0010, b"PN", b"001 ");
        assert_eq!(check(&bytes), Ok(()));

        // An element inside the item declaring more than the item holds (but less than the file).
        let mut long = vec![0x08, 0x00, 0x50, 0x11, b'O', b'B', 0, 0];
        long.extend_from_slice(&64u32.to_le_bytes());
        let mut bytes = header();
        bytes.extend(sequence(&item(&long)));
        bytes.extend_from_slice(&[0u8; 100]);
        let fault = check(&bytes).unwrap_err();
        assert!(
            fault.contains("element (0008,1150)") && fault.contains("only 0 remain"),
            "{fault}"
        );

        // Something other than an item inside a defined-length sequence.
        let mut bytes = header();
        bytes.extend(sequence(&inner));
        let fault = check(&bytes).unwrap_err();
        assert!(
            fault.contains("sequence (0008,1140) holds something other than items"),
            "{fault}"
        );
    }

    /// Pixel data inside an item (an icon image) does not end the walk: dicom-rs reads on past
    /// it, so what follows is checked too.
    #[test]
    fn an_icon_image_does_not_end_the_walk() {
        let mut icon = vec![0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0];
        icon.extend_from_slice(&4u32.to_le_bytes());
        icon.extend_from_slice(&[0u8; 4]);
        let mut item = vec![0xFE, 0xFF, 0x00, 0xE0];
        item.extend_from_slice(&(icon.len() as u32).to_le_bytes());
        item.extend(icon);
        let mut bytes = header();
        bytes.extend_from_slice(&[0x88, 0x00, 0x00, 0x02, b'S', b'Q', 0, 0]);
        bytes.extend_from_slice(&(item.len() as u32).to_le_bytes());
        bytes.extend(item);
        short(&mut bytes, 0x0010, 0x0010, b"PN", b"001 ");
        assert_eq!(check(&bytes), Ok(()));
        bytes.extend_from_slice(&[0x10, 0x00, 0x20, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0x0F]);
        let fault = check(&bytes).unwrap_err();
        assert!(
            fault.contains("element (0010,0020)") && fault.contains("declares"),
            "{fault}"
        );
    }

    #[test]
    fn a_file_ending_inside_an_undefined_length_is_damage() {
        let mut bytes = header();
        let implicit = bytes.len() - 20; // the transfer syntax value: implicit VR little endian
        bytes[implicit..].copy_from_slice(b"1.2.840.10008.1.2\0\0\0");
        bytes.extend_from_slice(&[0x08, 0x00, 0x60, 0x00, 2, 0, 0, 0, b'M', b'R']);
        bytes.extend_from_slice(&[0x28, 0x00, 0x10, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF]);
        let fault = check(&bytes).unwrap_err();
        assert!(
            fault.contains("(0028,0010) declares an undefined length and the file ends inside it"),
            "{fault}"
        );
    }

    #[test]
    fn walks_through_an_undefined_length_sequence() {
        let mut bytes = header();
        short(&mut bytes, 0x0008, 0x0060, b"CS", b"MR");
        // (0008,1140) SQ, undefined length: one undefined-length item holding one element.
        bytes.extend_from_slice(&[0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        short(&mut bytes, 0x0008, 0x1150, b"UI", b"1.2\0");
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        short(&mut bytes, 0x0010, 0x0010, b"PN", b"001 ");
        assert_eq!(check(&bytes), Ok(()));

        // A damaged VR after the sequence reads as UN with a 4-byte length: far too long.
        let mut damaged = bytes.clone();
        let vr = damaged.len() - 8; // tag 4, VR 2, length 2, value 4: the VR starts 8 from the end
        damaged[vr] = 0xEB;
        let fault = check(&damaged).unwrap_err();
        assert!(
            fault.contains("element (0010,0010)") && fault.contains("declares"),
            "{fault}"
        );
    }

    #[test]
    fn a_length_past_the_end_inside_an_item_is_found() {
        let mut bytes = header();
        bytes.extend_from_slice(&[0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0x00, 0x00, 0x00, 0x10]); // item of 256 MiB
        let fault = check(&bytes).unwrap_err();
        assert!(fault.contains("(FFFE,E000)"), "{fault}");
    }

    #[test]
    fn pixel_data_cut_short_is_truncated() {
        let mut bytes = header();
        short(&mut bytes, 0x0028, 0x0010, b"US", &2u16.to_le_bytes());
        bytes.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0]);
        bytes.extend_from_slice(&8u32.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 8]);
        assert_eq!(check(&bytes), Ok(()));
        bytes.truncate(bytes.len() - 1);
        let fault = check(&bytes).unwrap_err();
        assert!(fault.starts_with("truncated: its pixel data needs"), "{fault}");
    }

    #[test]
    fn files_it_does_not_understand_are_left_to_dicom_rs() {
        assert_eq!(check(b"not a DICOM file"), Ok(()));
        assert_eq!(check(&vec![0u8; 300]), Ok(()));
    }

    #[test]
    fn a_file_cut_inside_its_meta_group_is_corrupt() {
        let mut bytes = header();
        bytes.truncate(bytes.len() - 18); // two bytes into the transfer syntax's value
        let fault = check(&bytes).unwrap_err();
        assert!(fault.contains("element (0002,0010)"), "{fault}");
    }

    fn with_syntax(syntax: &[u8; 22]) -> Vec<u8> {
        let mut bytes = vec![0u8; 128];
        bytes.extend_from_slice(b"DICM");
        bytes.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
        bytes.extend_from_slice(&(8u32 + 22).to_le_bytes());
        bytes.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I', 22, 0]);
        bytes.extend_from_slice(syntax);
        bytes
    }

    /// Encapsulated pixel data: each fragment's length must fit, since dicom-rs reads the
    /// fragments whole when the pixels are read.
    #[test]
    fn a_pixel_data_fragment_longer_than_the_file_is_damage() {
        let mut bytes = with_syntax(b"1.2.840.10008.1.2.5\0\0\0");
        bytes.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]); // empty offset table
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0x00, 0x00, 0x00, 0xF0]);
        bytes.extend_from_slice(&[0u8; 64]);
        let fault = check(&bytes).unwrap_err();
        assert!(
            fault.contains("element (FFFE,E000)") && fault.contains("declares"),
            "{fault}"
        );
        // Whole fragments and the delimiter pass.
        let mut fine = with_syntax(b"1.2.840.10008.1.2.5\0\0\0");
        fine.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        fine.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
        fine.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 1, 2, 3, 4]);
        fine.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        assert_eq!(check(&fine), Ok(()));
    }

    /// A deflated data set is inflated and walked: an element declaring more than the inflated
    /// data set holds is damage, and a stream inflating past the bound is refused unread.
    #[test]
    fn a_deflated_data_set_is_walked_too() {
        use std::io::Write;
        let deflate = |data: &[u8]| {
            let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        };
        let mut data_set = Vec::new();
        short(&mut data_set, 0x0010, 0x0010, b"PN", b"A^B ");
        data_set.extend_from_slice(&[0x10, 0x00, 0x20, 0x00, b'U', b'N', 0, 0, 0, 0, 0, 0x40]);
        let mut bytes = with_syntax(b"1.2.840.10008.1.2.1.99");
        bytes.extend_from_slice(&deflate(&data_set));
        let fault = check(&bytes).unwrap_err();
        assert!(fault.contains("element (0010,0020)"), "{fault}");
        let mut bomb = with_syntax(b"1.2.840.10008.1.2.1.99");
        bomb.extend_from_slice(&deflate(&vec![0u8; (MAX_INFLATED_BYTES + 1) as usize]));
        assert!(check(&bomb).unwrap_err().contains("inflates to more than"));
    }

    /// Found by the fuzzer (`dicom_pixels`, a timeout: dicom-rs zero-filling a value of about
    /// 4 GiB): a deflated data set whose stream breaks off after an element declaring that
    /// much. The walk gave up on the broken stream; it now walks what inflates before the break,
    /// as dicom-rs reads it.
    #[test]
    fn a_deflated_stream_breaking_off_is_walked_up_to_the_break() {
        use std::io::Write;
        // Stored (uncompressed) deflate blocks, cut short: what precedes the cut inflates.
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::none());
        let mut data_set = Vec::new();
        short(&mut data_set, 0x0010, 0x0010, b"PN", b"A^B ");
        data_set.extend_from_slice(&[0x10, 0x00, 0x20, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xF0]);
        data_set.extend_from_slice(&[7; 64]);
        encoder.write_all(&data_set).unwrap();
        let stream = encoder.finish().unwrap();
        let mut bytes = with_syntax(b"1.2.840.10008.1.2.1.99");
        bytes.extend_from_slice(&stream[..stream.len() - 32]);
        assert!(check(&bytes).unwrap_err().contains("element (0010,0020)"));
        // The second: the read meeting the break dropped what it had inflated (now re-read a
        // byte at a time), and dicom-rs, reading in small pieces, got those bytes.
        for found in [
            &include_bytes!("testdata/deflated_stream_breaking_off.dcm")[..],
            &include_bytes!("testdata/deflated_stream_breaking_off_2.dcm")[..],
        ] {
            assert!(check(found).is_err());
        }
    }

    /// Found by the fuzzer (`dicom_pixels`, a timeout): an element after the pixel data
    /// declaring gigabytes. The header reader stops before the pixels and never meets it; the
    /// pixel reader reads the whole file, so its walk goes on past the pixels.
    #[test]
    fn the_whole_file_walk_goes_past_the_pixel_data() {
        let mut bytes = header();
        bytes.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
        bytes.extend_from_slice(&[0xFC, 0xFF, 0xFC, 0xFF, b'O', b'B', 0, 0, 0, 0, 0, 0xF0]);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        assert!(open_checked(file.path()).is_ok());
        let fault = read_whole_file(file.path()).err().unwrap().to_string();
        assert!(fault.contains("element (FFFC,FFFC)"), "{fault}");
        // Encapsulated pixels are walked past too, up to their delimiter.
        let mut bytes = header();
        bytes.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 2, 0, 0, 0, 1, 2]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xFC, 0xFF, 0xFC, 0xFF, b'O', b'B', 0, 0, 0, 0, 0, 0xF0]);
        std::fs::write(file.path(), &bytes).unwrap();
        assert!(read_whole_file(file.path()).is_err());
        let found = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            found.path(),
            include_bytes!("testdata/element_after_pixel_data_too_long.dcm"),
        )
        .unwrap();
        assert!(read_whole_file(found.path()).is_err());
    }

    /// Found by the fuzzer (`dicom_pixels`, an out-of-memory: dicom-rs reserving 3.5 GB): an
    /// item tag (FFFE,E000) among the data set's elements, not in a sequence. The walk stopped
    /// there and left the rest to dicom-rs, which skipped the "item" as raw bytes, landed inside
    /// the pixel data and read pixels as an element declaring 3.5 GB.
    #[test]
    fn an_item_tag_outside_a_sequence_is_damage() {
        let mut bytes = header();
        short(&mut bytes, 0x0010, 0x0010, b"PN", b"A^B ");
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 1, 2, 3, 4]);
        let fault = check(&bytes).unwrap_err();
        assert!(fault.contains("(FFFE,E000) outside any sequence"), "{fault}");
        let found = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(found.path(), include_bytes!("testdata/item_tag_outside_a_sequence.dcm")).unwrap();
        let fault = read_whole_file(found.path()).err().unwrap().to_string();
        assert!(fault.contains("(FFFE,E000) outside any sequence"), "{fault}");
        // In an item of undefined length, its delimiter still closes it.
        let mut bytes = header();
        bytes.extend_from_slice(&[0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        short(&mut bytes, 0x0008, 0x1150, b"UI", b"1.2\0");
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        short(&mut bytes, 0x0010, 0x0010, b"PN", b"A^B ");
        assert_eq!(check(&bytes), Ok(()));
    }

    #[test]
    fn the_whole_file_walk_says_where_native_pixels_are() {
        let mut bytes = header();
        let value_at = bytes.len() + 12;
        bytes.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        let checked = read_whole_file(file.path()).unwrap();
        assert_eq!(checked.native_pixels, Some(value_at..value_at + 4));
        assert_eq!(checked.bytes, bytes);
    }
}
