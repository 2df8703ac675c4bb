//! The export's fingerprints: the sha256 of each source (a mask file; a series, the sha256 of
//! its slice files' sha256 digests in slice order) and of each file written.
//!
//! A source file's sha256 is remembered in the persistent cache under its version (path, size,
//! modification and change times, inode), as Git's index and DVC remember theirs: exporting an
//! unchanged cohort again reads every pixel again but does not hash its gigabytes again. A file
//! changed since has a new version and is hashed afresh; one changed within its timestamp
//! granule is not remembered (the cache's racy rule).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use npcql_imaging::cache::{FileVersion, ResultKey, ResultStore, get_value, put_value};
use sha2::{Digest, Sha256};

/// Where the digests of source files are remembered, if anywhere.
#[derive(Clone, Copy)]
pub struct SourceDigests<'a> {
    pub store: Option<&'a dyn ResultStore>,
}

impl SourceDigests<'_> {
    /// The sha256 of the file `version` whose bytes, just read, are `bytes`.
    pub fn of_read(&self, version: &FileVersion, bytes: &[u8]) -> [u8; 32] {
        match self.remembered(version, || {
            Ok::<_, std::convert::Infallible>(Sha256::digest(bytes).into())
        }) {
            Ok(digest) => digest,
        }
    }

    /// The sha256 of the file at `path`, read only when not remembered.
    pub fn of_file(&self, path: &Path) -> io::Result<[u8; 32]> {
        let version = FileVersion::of(path)?;
        self.remembered(&version, || {
            let mut hasher = HashingWriter::new(io::sink());
            io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
            Ok(hasher.finish().1)
        })
    }

    fn remembered<E>(&self, version: &FileVersion, hash: impl FnOnce() -> Result<[u8; 32], E>) -> Result<[u8; 32], E> {
        let key = ResultKey {
            function: "file_sha256",
            version: 1,
            settings: String::new(),
            files: vec![version.clone()],
        };
        if let Some(digest) = get_value(self.store, &key) {
            return Ok(digest);
        }
        let digest = hash()?;
        put_value(self.store, &key, &digest);
        Ok(digest)
    }
}

/// A series' sha256: of its slice files' sha256 digests (32 bytes each), fed in slice order
/// (position along the normal).
pub struct SeriesDigest<'a> {
    sources: SourceDigests<'a>,
    hasher: Sha256,
}

impl<'a> SeriesDigest<'a> {
    pub fn new(sources: SourceDigests<'a>) -> Self {
        SeriesDigest {
            sources,
            hasher: Sha256::new(),
        }
    }

    /// The next slice file, as the pixel reader read it.
    pub fn add_file(&mut self, version: &FileVersion, bytes: &[u8]) {
        self.hasher.update(self.sources.of_read(version, bytes));
    }

    pub fn finish(self) -> [u8; 32] {
        self.hasher.finalize().into()
    }
}

/// A writer that passes everything on and takes the sha256 and length of what passed: a file
/// written is fingerprinted as it is written, not read back.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The writer, and the sha256 and length of everything written.
    pub fn finish(self) -> (W, [u8; 32], u64) {
        (self.inner, self.hasher.finalize().into(), self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lowercase hexadecimal, as `sha256sum` prints a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    fn sha256_by_reading(path: &Path) -> [u8; 32] {
        Sha256::digest(std::fs::read(path).unwrap()).into()
    }

    /// A store in memory of one function's results, that remembers every put, racy or not.
    #[derive(Debug, Default)]
    struct Remembering(Mutex<HashMap<Vec<FileVersion>, Vec<u8>>>);

    impl ResultStore for Remembering {
        fn get(&self, key: &ResultKey) -> Option<Vec<u8>> {
            self.0.lock().unwrap().get(&key.files).cloned()
        }
        fn put(&self, key: &ResultKey, value: &[u8]) {
            self.0.lock().unwrap().insert(key.files.clone(), value.to_vec());
        }
    }

    #[test]
    fn a_remembered_digest_is_used_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ROI-T2.nii");
        std::fs::write(&path, b"first contents").unwrap();
        let store = Remembering::default();
        let sources = SourceDigests { store: Some(&store) };
        assert_eq!(sources.of_file(&path).unwrap(), sha256_by_reading(&path));

        // What is remembered for this version is what is returned: the file is not read.
        let version = FileVersion::of(&path).unwrap();
        let planted = [7u8; 32];
        put_value(
            Some(&store),
            &ResultKey {
                function: "file_sha256",
                version: 1,
                settings: String::new(),
                files: vec![version.clone()],
            },
            &planted,
        );
        assert_eq!(sources.of_file(&path).unwrap(), planted);
        assert_eq!(sources.of_read(&version, b"not even these bytes"), planted);

        // Rewritten (another length, so another version whatever the clock's granule): hashed afresh.
        std::fs::write(&path, b"second, longer contents").unwrap();
        assert_eq!(sources.of_file(&path).unwrap(), sha256_by_reading(&path));
    }

    #[test]
    fn without_a_store_every_digest_is_computed_and_a_series_digest_chains_its_files() {
        let sources = SourceDigests { store: None };
        let dir = tempfile::tempdir().unwrap();
        let mut series = SeriesDigest::new(sources);
        let mut expected = Sha256::new();
        for (i, text) in ["slice one", "slice two"].into_iter().enumerate() {
            let path = dir.path().join(format!("{i}.dcm"));
            std::fs::write(&path, text).unwrap();
            series.add_file(&FileVersion::of(&path).unwrap(), text.as_bytes());
            expected.update(Sha256::digest(text));
        }
        assert_eq!(series.finish(), <[u8; 32]>::from(expected.finalize()));
    }

    #[test]
    fn a_hashing_writer_passes_everything_on_and_fingerprints_it() {
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"npcql ").unwrap();
        writer.write_all(b"export").unwrap();
        let (written, digest, len) = writer.finish();
        assert_eq!(written, b"npcql export");
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(b"npcql export")));
        assert_eq!(len, 12);
    }

    #[test]
    fn hex_is_what_sha256sum_prints() {
        // FIPS 180-2's first example.
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
