//! Random damage to headers never panics or hangs: every run ends with rows or a clear error.
//! (A deterministic generator: the same damage on every run.)

use npcql::Engine;

use crate::support::copy_of_sample;

/// SplitMix64, so the damage is the same on every run.
struct Damage(u64);

impl Damage {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % below.max(1) as u64) as usize
    }

    /// Overwrites a few bytes within the first `span` bytes, and sometimes cuts the file short.
    fn apply(&mut self, path: &std::path::Path, span: usize) {
        let mut bytes = std::fs::read(path).unwrap();
        let span = span.min(bytes.len());
        for _ in 0..1 + self.next(8) {
            let at = self.next(span);
            bytes[at] = self.next(256) as u8;
        }
        if self.next(4) == 0 {
            bytes.truncate(self.next(bytes.len()));
        }
        std::fs::write(path, bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_headers_give_rows_or_errors() {
    let mut damage = Damage(2025);
    for round in 0..40 {
        let data = copy_of_sample(1);
        let patient = data.path().join("MRI-Segments/001");
        let (t2_slice, t1_slice) = (1 + damage.next(20), 1 + damage.next(16));
        damage.apply(&patient.join(format!("T2WI/IM{t2_slice}.dcm")), 1500);
        damage.apply(&patient.join(format!("T1WI/IM{t1_slice}.dcm")), 1500);
        damage.apply(&patient.join("ROI-T1.nii"), 352);
        damage.apply(&patient.join("ROI-T2.nii"), 352);
        damage.apply(&data.path().join("clinical.csv"), 400);
        let engine = match Engine::open(data.path(), false) {
            Ok(engine) => engine,
            Err(e) => panic!("round {round}: a damaged dataset still opens ({e:#})"),
        };
        let sql = "SELECT count(*), count(error) FROM scans; SELECT count(*), count(error) FROM masks;
                   SELECT sum(tumor_volume(path)), max(max_diameter(path)) FROM masks; SELECT count(*) FROM patients";
        let results = npcql::query::run(&engine, sql).await;
        let results = results.unwrap_or_else(|e| panic!("round {round}: {e:#}"));
        let counts: Vec<usize> = results.iter().map(|r| r.row_count()).collect();
        assert_eq!(counts, [1, 1, 1, 1], "round {round}");
        let _ = engine.take_warnings();
    }
}
