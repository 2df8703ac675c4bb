//! TODO(helper): firstorder
