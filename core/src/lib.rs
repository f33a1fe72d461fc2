//! st80-core: a Smalltalk-80 virtual machine after the Blue Book (ch. 26-30).
//!
//! Load an image with [`image::load`], wrap it in an [`interpreter::Interpreter`] and call
//! `run` with something that implements [`host::Host`]. Everything platform-specific (windows,
//! files, clocks) lives behind that trait, so this crate builds for bare metal (`no_std` with
//! `alloc`; disable the default `std` feature).
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod bitblt;
pub mod check;
pub mod clock;
pub mod display_hash;
pub mod embed;
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod image;
pub mod interpreter;
mod method_cache;
pub mod object_memory;
pub mod objects;
pub mod primitives;
pub mod scheduler;
pub mod summary;
pub mod trace;

pub use clock::VirtualClock;
pub use display_hash::display_hash;
pub use embed::EvalOutcome;
pub use host::{Host, InputEvent, MouseButton, NullHost, Rect, SnapshotError};
pub use image::{ByteOrder, ImageError, ImageInfo};
pub use interpreter::{DisplayForm, Interpreter, StopReason};
pub use object_memory::{ObjectMemory, Oop};
