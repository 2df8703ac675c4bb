//! TODO(helper): glszm
