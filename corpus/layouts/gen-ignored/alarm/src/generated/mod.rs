//! What build.rs generates into this folder. The generated file is gitignored;
//! this one is not.

#[path = "clock.v1.rs"]
mod clock_v1;

pub use clock_v1::*;
