//! TODO(helper): glcm
