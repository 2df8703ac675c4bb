//! TODO(helper): ngtdm
