//! TODO(helper): glrlm
