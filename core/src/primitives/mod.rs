//! Primitives (Blue Book ch. 29). STUB
