//! TODO(helper): gldm
