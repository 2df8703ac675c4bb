//! The mask reader on hand-built NIfTI-1 files: every datatype and byte order, scaling,
//! and each kind of bad input (typed fault naming the file, never a panic).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use tempfile::TempPath;

use super::mask::{MaskFault, MaskVolume, read_mask, read_mask_header};
use super::nifti_write::tests::space;
use super::nifti_write::{Voxels, write_nifti_gz};

/// A NIfTI-1 header, editable before `bytes()` serialises it with its voxel data.
#[derive(Clone)]
struct Nifti {
    dim: [i16; 8],
    datatype: i16,
    bitpix: i16,
    pixdim: [f32; 8],
    vox_offset: f32,
    slope: f32,
    inter: f32,
    big_endian: bool,
    data: Vec<u8>,
}

impl Nifti {
    fn new(dims: [usize; 3], datatype: i16, bitpix: i16, data: Vec<u8>) -> Nifti {
        let mut dim = [1i16; 8];
        dim[0] = 3;
        for a in 0..3 {
            dim[a + 1] = dims[a] as i16;
        }
        Nifti {
            dim,
            datatype,
            bitpix,
            pixdim: [1.0, 0.5, 0.75, 3.0, 1.0, 1.0, 1.0, 1.0],
            vox_offset: 352.0,
            slope: 0.0,
            inter: 0.0,
            big_endian: false,
            data,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut h = vec![0u8; 352];
        let be = self.big_endian;
        let put = |h: &mut Vec<u8>, at: usize, b: &[u8]| h[at..at + b.len()].copy_from_slice(b);
        let i16b = |v: i16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let i32b = |v: i32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let f32b = |v: f32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        put(&mut h, 0, &i32b(348));
        for (i, d) in self.dim.iter().enumerate() {
            put(&mut h, 40 + 2 * i, &i16b(*d));
        }
        put(&mut h, 70, &i16b(self.datatype));
        put(&mut h, 72, &i16b(self.bitpix));
        for (i, p) in self.pixdim.iter().enumerate() {
            put(&mut h, 76 + 4 * i, &f32b(*p));
        }
        put(&mut h, 108, &f32b(self.vox_offset));
        put(&mut h, 112, &f32b(self.slope));
        put(&mut h, 116, &f32b(self.inter));
        put(&mut h, 344, b"n+1\0");
        h.extend_from_slice(&self.data);
        h
    }
}

/// Writes `bytes` to a fresh temporary file (gzipped if `gz`); the file is deleted when the
/// returned path is dropped.
fn write_temp(name: &str, bytes: &[u8], gz: bool) -> TempPath {
    let suffix = if gz { ".nii.gz" } else { ".nii" };
    let mut file = tempfile::Builder::new()
        .prefix(&format!("npcql-{name}-"))
        .suffix(suffix)
        .tempfile()
        .unwrap();
    if gz {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        file.write_all(&e.finish().unwrap()).unwrap();
    } else {
        file.write_all(bytes).unwrap();
    }
    file.into_temp_path()
}

fn fault_of(name: &str, nifti: &Nifti, gz: bool) -> MaskFault {
    let path = write_temp(name, &nifti.bytes(), gz);
    let err = read_mask(&path).expect_err("a fault");
    assert!(err.to_string().starts_with(&path.display().to_string()), "{err}");
    err.fault
}

fn small_uint8() -> Nifti {
    let mut data = vec![0u8; 4 * 3 * 2];
    data[5] = 1;
    data[6] = 255;
    Nifti::new([4, 3, 2], 2, 8, data)
}

#[test]
fn rejects_truncated_files() {
    let mut n = small_uint8();
    n.data.pop();
    assert!(matches!(
        fault_of("trunc", &n, false),
        MaskFault::Truncated {
            expected: 376,
            found: 375
        }
    ));
    assert!(matches!(fault_of("trunc", &n, true), MaskFault::Truncated { .. }));
    let header_only = &small_uint8().bytes()[..200];
    let path = write_temp("short", header_only, false);
    assert!(matches!(
        read_mask(&path).unwrap_err().fault,
        MaskFault::Truncated { .. }
    ));
}

#[test]
fn rejects_absurd_dimensions_before_allocating() {
    let mut n = small_uint8();
    n.dim[1..4].copy_from_slice(&[30000, 30000, 30000]);
    assert!(matches!(fault_of("huge", &n, false), MaskFault::TooLarge { .. }));
    // Within the voxel limit but far beyond the file: refused from the file size alone.
    n.dim[1..4].copy_from_slice(&[1000, 1000, 1000]);
    assert!(matches!(fault_of("big", &n, false), MaskFault::Truncated { .. }));
    n.dim[1..4].copy_from_slice(&[4, -3, 2]);
    assert!(matches!(fault_of("negative", &n, false), MaskFault::BadDimensions(_)));
    n.dim[1..4].copy_from_slice(&[4, 0, 2]);
    assert!(matches!(fault_of("zero", &n, false), MaskFault::BadDimensions(_)));
    let mut n = small_uint8();
    n.dim[0] = 4;
    n.dim[4] = 2;
    assert!(matches!(fault_of("4d", &n, false), MaskFault::BadDimensions(_)));
}

#[test]
fn rejects_bad_spacing() {
    for bad in [f32::NAN, 0.0, -1.0, f32::INFINITY] {
        let mut n = small_uint8();
        n.pixdim[2] = bad;
        assert!(matches!(fault_of("spacing", &n, false), MaskFault::BadSpacing(_)));
    }
}

#[test]
fn rejects_unsupported_datatypes_and_non_nifti() {
    let mut n = small_uint8();
    n.datatype = 32; // complex64
    assert_eq!(fault_of("complex", &n, false), MaskFault::UnsupportedDatatype(32));
    n.datatype = 128; // RGB24
    assert_eq!(fault_of("rgb", &n, false), MaskFault::UnsupportedDatatype(128));
    let mut n = small_uint8();
    n.vox_offset = 100.0;
    assert!(matches!(fault_of("offset", &n, false), MaskFault::BadVoxOffset(_)));
    let path = write_temp("text", &[b'x'; 600], false);
    assert!(matches!(read_mask(&path).unwrap_err().fault, MaskFault::NotNifti(_)));
    let missing = std::env::temp_dir().join("npcql-no-such-dir/ROI-T1.nii");
    assert!(matches!(read_mask(&missing).unwrap_err().fault, MaskFault::Io(_)));
}

#[test]
fn reads_scaled_float_and_big_endian_values() {
    // scl_slope 2, scl_inter -2: stored 1 is 0 (background), stored 2 is 2 (tumour).
    let mut n = Nifti::new([3, 1, 1], 2, 8, vec![1, 2, 2]);
    n.slope = 2.0;
    n.inter = -2.0;
    let m = read_mask(write_temp("scaled", &n.bytes(), false)).unwrap();
    assert_eq!(m.voxel_count, 2);
    // float32: NaN and -0.0 are background.
    let values = [f32::NAN, -0.0, 1.0, 0.5];
    let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let m = read_mask(write_temp("float", &Nifti::new([4, 1, 1], 16, 32, data).bytes(), true)).unwrap();
    assert_eq!((m.voxel_count, m.offset), (2, [1, -1, -1]));
    // Big-endian int16 with -1 and 256.
    let data = [0i16, -1, 256, 0].iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut n = Nifti::new([2, 2, 1], 4, 16, data);
    n.big_endian = true;
    let m = read_mask(write_temp("be", &n.bytes(), false)).unwrap();
    assert_eq!(m.voxel_count, 2);
    assert_eq!(m.spacing_mm, [0.5, 0.75, 3.0]);
}

/// (datatype code, bits, encoder of a 0/1 value).
type Encoding = (i16, i16, fn(bool) -> Vec<u8>);

fn encodings() -> Vec<Encoding> {
    vec![
        (2, 8, |b| vec![if b { 255 } else { 0 }]),
        (256, 8, |b| vec![b as u8]),
        (4, 16, |b| (b as i16).to_le_bytes().to_vec()),
        (512, 16, |b| (b as u16 * 300).to_le_bytes().to_vec()),
        (8, 32, |b| (b as i32).to_le_bytes().to_vec()),
        (768, 32, |b| (b as u32).to_le_bytes().to_vec()),
        (1024, 64, |b| (b as i64).to_le_bytes().to_vec()),
        (1280, 64, |b| (b as u64).to_le_bytes().to_vec()),
        (16, 32, |b| (b as u8 as f32).to_le_bytes().to_vec()),
        (64, 64, |b| (b as u8 as f64).to_le_bytes().to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// Any mask in any supported datatype, plain or gzipped, reads back as the same volume.
    #[test]
    fn round_trips_every_datatype(
        (dims, bits) in (1usize..6, 1usize..6, 1usize..4).prop_flat_map(|(x, y, z)| {
            (Just([x, y, z]), proptest::collection::vec(any::<bool>(), x * y * z))
        }),
        encoding in 0usize..10,
        gz in any::<bool>(),
    ) {
        let (code, bits_per, encode) = encodings()[encoding];
        let data = bits.iter().flat_map(|&b| encode(b)).collect();
        let path = write_temp("rt", &Nifti::new(dims, code, bits_per, data).bytes(), gz);
        let read = read_mask(&path).unwrap();
        let built = MaskVolume::from_fn(dims, [0.5, 0.75, 3.0], |x, y, z| {
            bits[(z * dims[1] + y) * dims[0] + x]
        });
        prop_assert_eq!(&read.voxels, &built.voxels);
        prop_assert_eq!(read.offset, built.offset);
        prop_assert_eq!(read.voxel_count, built.voxel_count);
        std::fs::remove_file(&path).unwrap();
    }
}

/// A real NIfTI-2 file, written by nibabel from the sample's NIfTI-1 mask
/// (tests/reference/nifti2/make_nifti2.py): the same voxels, spacing and affine.
#[test]
fn a_nibabel_nifti2_mask_reads_as_its_nifti1_original() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let nifti1 = root.join("data-sample/MRI-Segments/001/ROI-T1.nii");
    let nifti2 = root.join("tests/reference/nifti2/ROI-T1.nii");
    assert_eq!(read_mask(&nifti2).unwrap(), read_mask(&nifti1).unwrap());
    let (h1, h2) = (read_mask_header(&nifti1).unwrap(), read_mask_header(&nifti2).unwrap());
    assert_eq!((h1.nifti_version, h2.nifti_version), (1, 2));
    assert_eq!((h2.dims, h2.spacing_mm, h2.affine), (h1.dims, h1.spacing_mm, h1.affine));
}

/// What the export's writer writes, this reader reads: the geometry fields and the voxels.
#[test]
fn a_written_label_reads_back_with_its_geometry_and_voxels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("label.nii.gz");
    let voxels: Vec<u8> = (0..24).map(|i| u8::from(i % 5 == 0)).collect();
    let file = std::fs::File::create(&path).unwrap();
    write_nifti_gz(file, &space(), &Voxels::Uint8(&voxels), 1, "test").unwrap();
    let header = read_mask_header(&path).unwrap();
    assert_eq!(header.space, space());
    assert_eq!(header.dims, [4, 3, 2]);
    let mask = read_mask(&path).unwrap();
    assert_eq!(mask.voxel_count, 5);
    assert_eq!(mask.affine, space().srow);
}
