//! The dataset's three MRI sequences, and what each is called in SQL and on disk.

/// The three MRI sequences of the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modality {
    T1,
    T2,
    CeT1,
}

impl Modality {
    /// All modalities in the order tables list them.
    pub const ALL: [Modality; 3] = [Modality::T1, Modality::T2, Modality::CeT1];

    /// The name used in SQL (`scans.modality`, `masks.modality`).
    pub fn name(self) -> &'static str {
        match self {
            Modality::T1 => "T1",
            Modality::T2 => "T2",
            Modality::CeT1 => "CE-T1",
        }
    }

    /// The DICOM series folder inside a patient folder.
    pub fn series_folder(self) -> &'static str {
        match self {
            Modality::T1 => "T1WI",
            Modality::T2 => "T2WI",
            Modality::CeT1 => "CE-T1WI",
        }
    }

    /// The mask file stem inside a patient folder (`ROI-T1.nii` or `ROI-T1.nii.gz`).
    pub fn mask_stem(self) -> &'static str {
        match self {
            Modality::T1 => "ROI-T1",
            Modality::T2 => "ROI-T2",
            Modality::CeT1 => "ROI-CE-T1",
        }
    }
}
