//! TODO(helper): neighbours
