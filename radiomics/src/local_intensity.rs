//! TODO(helper): local_intensity
