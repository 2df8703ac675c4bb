//! The patient-level cross-validation split, defined so it can be re-derived anywhere:
//!
//! 1. the training patients, sorted by id (byte order);
//! 2. grouped into strata by the `--stratify` value, strata in value order, NULL last (a stratum
//!    of its own); without `--stratify`, one stratum;
//! 3. each stratum shuffled by Fisher–Yates (for i from n−1 down to 1: j = next() mod (i+1),
//!    swap i and j) with one SplitMix64 stream seeded with `--seed`, continued from one stratum
//!    to the next;
//! 4. dealt to the folds in turn, the fold counter continuing across strata, so every fold's
//!    size and every stratum's count per fold differ by at most one.
//!
//! SplitMix64 is written here (six lines) rather than taken from a crate: a crate's generator
//! or shuffle may change between versions, and this one must give the same split forever.

use std::collections::BTreeMap;

/// SplitMix64 (Steele, Lea & Flood 2014), as in Java's `SplittableRandom` and numpy's seeding.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Each patient's fold (0-based), for `patients` given as (id, stratum), in id order.
/// Err when there are fewer patients than folds.
pub fn assign_folds(
    patients: &[(String, Option<String>)],
    folds: usize,
    seed: u64,
) -> Result<Vec<(String, usize)>, String> {
    if folds < 2 {
        return Err(format!("{folds} folds: a cross-validation split needs at least 2"));
    }
    if patients.len() < folds {
        return Err(format!(
            "{} training patients cannot fill {folds} folds (fewer folds, or select more patients)",
            patients.len()
        ));
    }
    let mut sorted: Vec<&(String, Option<String>)> = patients.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    // `Option`'s order puts None first; NULL goes last, so key on (is NULL, value).
    let mut strata: BTreeMap<(bool, Option<&str>), Vec<&str>> = BTreeMap::new();
    for (id, stratum) in sorted {
        strata
            .entry((stratum.is_none(), stratum.as_deref()))
            .or_default()
            .push(id);
    }
    let mut random = SplitMix64(seed);
    let mut assigned = Vec::with_capacity(patients.len());
    let mut fold = 0;
    for members in strata.values_mut() {
        for i in (1..members.len()).rev() {
            let j = (random.next() % (i as u64 + 1)) as usize;
            members.swap(i, j);
        }
        for id in members.iter() {
            assigned.push((id.to_string(), fold));
            fold = (fold + 1) % folds;
        }
    }
    assigned.sort();
    Ok(assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cohort(n: usize, stratum: impl Fn(usize) -> Option<&'static str>) -> Vec<(String, Option<String>)> {
        (1..=n)
            .map(|i| (format!("{i:03}"), stratum(i).map(String::from)))
            .collect()
    }

    #[test]
    fn splitmix64_is_the_published_generator() {
        // The first outputs for seed 0 (Vigna's reference implementation, splitmix64.c).
        let mut r = SplitMix64(0);
        assert_eq!(r.next(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn every_patient_once_and_every_stratum_spread() {
        let patients = cohort(48, |i| match i % 3 {
            0 => Some("positive"),
            1 => Some("negative"),
            _ => None,
        });
        let folds = assign_folds(&patients, 5, 12345).unwrap();
        assert_eq!(folds.len(), 48);
        let ids: std::collections::BTreeSet<_> = folds.iter().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), 48);
        for stratum in [Some("positive"), Some("negative"), None] {
            let mut per_fold = [0; 5];
            for (id, fold) in &folds {
                let i: usize = id.parse().unwrap();
                if patients[i - 1].1.as_deref() == stratum {
                    per_fold[*fold] += 1;
                }
            }
            assert!(
                per_fold.iter().max().unwrap() - per_fold.iter().min().unwrap() <= 1,
                "{per_fold:?}"
            );
        }
        let mut sizes = [0; 5];
        folds.iter().for_each(|(_, f)| sizes[*f] += 1);
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
    }

    #[test]
    fn the_seed_decides_and_the_input_order_does_not() {
        let patients = cohort(20, |_| None);
        let a = assign_folds(&patients, 4, 12345).unwrap();
        let mut reversed = patients.clone();
        reversed.reverse();
        assert_eq!(assign_folds(&reversed, 4, 12345).unwrap(), a);
        assert_ne!(assign_folds(&patients, 4, 1).unwrap(), a);
    }

    #[test]
    fn too_few_patients_or_folds_is_an_error() {
        assert!(
            assign_folds(&cohort(3, |_| None), 5, 1)
                .unwrap_err()
                .contains("3 training patients")
        );
        assert!(assign_folds(&cohort(3, |_| None), 1, 1).is_err());
    }
}
