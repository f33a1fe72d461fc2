//! Process scheduler (Blue Book ch. 29, "Process primitives"). STUB
