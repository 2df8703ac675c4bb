//! Documentation of npcql's SQL functions in DataFusion's own form.
//!
//! Each function carries its [`Documentation`] (returned by `documentation()`), so
//! `SHOW FUNCTIONS`, `information_schema.routines`, the shell's `.functions` and the README's
//! function tables all read the text written beside the function's registration; a test keeps
//! the README's tables equal to [`markdown_table`]'s rendering.

use datafusion::logical_expr::{DocSection, Documentation};

/// The section of the morphology functions.
pub const MORPHOLOGY: DocSection = DocSection {
    include: true,
    label: "Tumour morphology",
    description: Some("Scalar functions of a NIfTI mask path."),
};

/// The section of the segmentation agreement functions.
pub const AGREEMENT: DocSection = DocSection {
    include: true,
    label: "Segmentation agreement",
    description: Some("Scalar functions of two NIfTI mask paths, the reference first."),
};

/// The section of the radiomics function.
pub const RADIOMICS: DocSection = DocSection {
    include: true,
    label: "Radiomics",
    description: Some("Scalar function of a DICOM series folder and a NIfTI mask path."),
};

/// The section of the survival and statistics aggregates.
pub const SURVIVAL: DocSection = DocSection {
    include: true,
    label: "Survival and group statistics",
    description: Some("Aggregate functions: GROUP BY gives one result per group."),
};

/// The section of the multiple-testing window functions.
pub const MULTIPLE_TESTING: DocSection = DocSection {
    include: true,
    label: "Multiple testing",
    description: Some("Window functions: each row's result comes from its whole partition."),
};

/// npcql's sections, in the order the README shows them.
pub const SECTIONS: [DocSection; 5] = [MORPHOLOGY, AGREEMENT, RADIOMICS, SURVIVAL, MULTIPLE_TESTING];

/// A function's documentation: its call syntax and what it returns (markdown).
pub fn document(section: DocSection, syntax: &str, returns: &str) -> Documentation {
    Documentation::builder(section, returns, syntax).build()
}

/// The README's table of the functions of one section: `| function | returns |`.
pub fn markdown_table(docs: &[&Documentation], section: &DocSection) -> String {
    let mut table = String::from("| function | returns |\n|---|---|\n");
    for doc in docs.iter().filter(|doc| doc.doc_section == *section) {
        table.push_str(&format!("| `{}` | {} |\n", doc.syntax_example, doc.description));
    }
    table
}
