//! TODO(helper): discretise
