//! TODO(helper): gldzm
