//! Tumour morphology from binary masks: marching-cubes mesh features (IBSI chapter 3.1).
