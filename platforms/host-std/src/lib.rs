//! Services every st80 host with a standard library shares, so that hosts depend on the core
//! and on this kit, never on each other:
//!
//! * [`files`]: the image's file primitives over one sandboxed directory ([`HostFiles`]);
//! * [`snapshot`]: crash-safe image writing ([`write_image_atomically`]);
//! * [`replay`]: the input-log format of `--record`/`--replay`, and feeding a log to a VM;
//! * [`screen`]: the Display as a PNG and its display hash;
//! * [`clock`]: the machine's clocks as the image wants them ([`SystemClock`]), start dates;
//! * [`sources`]: sources out of the box for an image without a file system (the Xerox one);
//! * [`soak`]: a seeded random user for soak runs.

pub mod clock;
pub mod files;
pub mod replay;
pub mod screen;
pub mod snapshot;
pub mod soak;
pub mod sources;

pub use clock::SystemClock;
pub use files::{Access, HostFiles};
pub use screen::{display_hash, display_to_png};
pub use snapshot::write_image_atomically;
