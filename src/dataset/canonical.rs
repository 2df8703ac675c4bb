//! The canonical clinical columns (SPEC, `patients`): the names every analysis relies on,
//! whatever the clinical file calls them, and how their cells are typed.

/// The canonical clinical columns and their SQL types (SPEC, `patients`).
pub const CANONICAL_COLUMNS: [(&str, CanonicalType); 12] = [
    ("patient_id", CanonicalType::Text),
    ("sex", CanonicalType::Text),
    ("age", CanonicalType::Number),
    ("ebv_dna", CanonicalType::Double),
    ("ebv_status", CanonicalType::EbvStatus),
    ("who_type", CanonicalType::Text),
    ("t_stage", CanonicalType::Text),
    ("n_stage", CanonicalType::Text),
    ("m_stage", CanonicalType::Text),
    ("clinical_stage", CanonicalType::Text),
    ("pfs_months", CanonicalType::Double),
    ("pfs_event", CanonicalType::Event),
];

/// How a canonical column's cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonicalType {
    Text,
    /// BIGINT when every value is whole, else DOUBLE.
    Number,
    Double,
    /// 'positive' / 'negative'.
    EbvStatus,
    /// 1 = progression or death, 0 = censored.
    Event,
}
