//! A NIfTI header, version 1 (348 bytes, read by nifti-rs) or 2 (540 bytes: 64-bit dims,
//! double pixdim and srow, as nibabel's `Nifti2Image` and ITK write it), as one set of facts.
//! NIfTI-2 is parsed here because nifti-rs reads only NIfTI-1; its layout is nifti2.h's.

use std::io::{self, Read};

use nifti::{Endianness, NiftiHeader, NiftiType};

/// The header fields a mask reader uses, whatever the version.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    /// 1 or 2.
    pub version: u8,
    /// Bytes of the header itself (348 or 540).
    pub size: u64,
    pub magic: [u8; 8],
    pub dim: [i64; 8],
    /// The datatype code; [`Header::data_type`] names it.
    pub datatype: i16,
    pub pixdim: [f64; 8],
    pub vox_offset: f64,
    pub scl_slope: f64,
    pub scl_inter: f64,
    pub qform_code: i32,
    pub sform_code: i32,
    pub quatern: [f64; 3],
    pub qoffset: [f64; 3],
    pub srow: [[f64; 4]; 3],
    /// Units of pixdim (NIFTI_UNITS_*: 2 = mm, 8 = s).
    pub xyzt_units: u8,
    pub big_endian: bool,
}

/// Why a header could not be read.
#[derive(Debug)]
pub(crate) enum HeaderError {
    /// The stream ended after `found` header bytes of `expected`.
    Truncated {
        expected: u64,
        found: u64,
    },
    /// Neither a NIfTI-1 nor a NIfTI-2 header size, in either byte order.
    NotNifti(String),
    Io(io::Error),
}

impl Header {
    /// The datatype, if its code is one NIfTI defines.
    pub fn data_type(&self) -> Option<NiftiType> {
        let probe = NiftiHeader {
            datatype: self.datatype,
            ..NiftiHeader::default()
        };
        probe.data_type().ok()
    }

    /// Reads a header from the start of `reader`, leaving it just past the header.
    pub fn read(reader: &mut dyn Read) -> Result<Header, HeaderError> {
        let mut first = [0u8; 4];
        read_full(reader, &mut first, 0, 348)?;
        let (le, be) = (i32::from_le_bytes(first), i32::from_be_bytes(first));
        match (le, be) {
            (348, _) | (_, 348) => {
                let mut bytes = [0u8; 348];
                bytes[..4].copy_from_slice(&first);
                read_full(reader, &mut bytes[4..], 4, 348)?;
                let header = NiftiHeader::from_reader(&bytes[..]).map_err(|e| {
                    HeaderError::NotNifti(match e {
                        nifti::NiftiError::InvalidFormat => "bad magic code".into(),
                        e => e.to_string(),
                    })
                })?;
                Ok(Header::from_nifti1(&header))
            }
            (540, _) | (_, 540) => {
                let mut bytes = vec![0u8; 540];
                bytes[..4].copy_from_slice(&first);
                read_full(reader, &mut bytes[4..], 4, 540)?;
                Ok(Header::from_nifti2(&bytes, be == 540))
            }
            _ => Err(HeaderError::NotNifti(format!(
                "sizeof_hdr = {le} is neither 348 (NIfTI-1) nor 540 (NIfTI-2)"
            ))),
        }
    }

    fn from_nifti1(h: &NiftiHeader) -> Header {
        let mut magic = [0u8; 8];
        magic[..4].copy_from_slice(&h.magic);
        Header {
            version: 1,
            size: 348,
            magic,
            // nifti-rs reads dim as u16: a negative i16 shows up as > 32767.
            dim: h.dim.map(|d| i64::from(d as i16)),
            datatype: h.datatype,
            pixdim: h.pixdim.map(f64::from),
            vox_offset: f64::from(h.vox_offset),
            scl_slope: f64::from(h.scl_slope),
            scl_inter: f64::from(h.scl_inter),
            qform_code: i32::from(h.qform_code),
            sform_code: i32::from(h.sform_code),
            quatern: [h.quatern_b, h.quatern_c, h.quatern_d].map(f64::from),
            qoffset: [h.quatern_x, h.quatern_y, h.quatern_z].map(f64::from),
            srow: [h.srow_x, h.srow_y, h.srow_z].map(|r| r.map(f64::from)),
            xyzt_units: h.xyzt_units,
            big_endian: h.endianness == Endianness::Big,
        }
    }

    /// nifti2.h's `nifti_2_header`, byte offsets as there.
    fn from_nifti2(b: &[u8], big_endian: bool) -> Header {
        let take = |at: usize, n: usize| -> [u8; 8] {
            let mut out = [0u8; 8];
            out[..n].copy_from_slice(&b[at..at + n]);
            if big_endian {
                out[..n].reverse();
            }
            out
        };
        let i16_at = |at| i16::from_le_bytes(take(at, 2)[..2].try_into().expect("2 bytes"));
        let i32_at = |at| i32::from_le_bytes(take(at, 4)[..4].try_into().expect("4 bytes"));
        let i64_at = |at| i64::from_le_bytes(take(at, 8));
        let f64_at = |at| f64::from_le_bytes(take(at, 8));
        let mut magic = [0u8; 8];
        magic.copy_from_slice(&b[4..12]);
        Header {
            version: 2,
            size: 540,
            magic,
            datatype: i16_at(12),
            dim: std::array::from_fn(|i| i64_at(16 + 8 * i)),
            pixdim: std::array::from_fn(|i| f64_at(104 + 8 * i)),
            vox_offset: i64_at(168) as f64,
            scl_slope: f64_at(176),
            scl_inter: f64_at(184),
            qform_code: i32_at(344),
            sform_code: i32_at(348),
            quatern: [f64_at(352), f64_at(360), f64_at(368)],
            qoffset: [f64_at(376), f64_at(384), f64_at(392)],
            srow: std::array::from_fn(|r| std::array::from_fn(|c| f64_at(400 + 32 * r + 8 * c))),
            xyzt_units: i32_at(500) as u8,
            big_endian,
        }
    }

    /// Whether the magic is the single-file form of this version ("n+1" or "n+2").
    pub fn single_file_magic(&self) -> bool {
        match self.version {
            1 => &self.magic[..4] == b"n+1\0",
            _ => &self.magic == b"n+2\0\r\n\x1a\n",
        }
    }
}

/// Fills `buf`, which starts `at` bytes into a header of `expected` bytes.
fn read_full(reader: &mut dyn Read, buf: &mut [u8], at: u64, expected: u64) -> Result<(), HeaderError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(HeaderError::Truncated {
                    expected,
                    found: at + filled as u64,
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(HeaderError::Io(e)),
        }
    }
    Ok(())
}
