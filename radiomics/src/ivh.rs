//! TODO(helper): ivh
