//! What knit loads and its passes read: the merge [`model::Group`] (services,
//! packages, source files, protos), with what both sides need to build and read
//! it: the proto parser and its fingerprint ([`proto`], [`hash`]), the syntax
//! scan ([`scan`]) and Cargo's version rules ([`versions`]). The loader
//! (`knit-load`) builds a group; the passes (`knit-passes`) read one.

pub mod hash;
pub mod model;
pub mod proto;
pub mod scan;
pub mod versions;

pub use model::{FileId, Group, Package, Service, SourceFile};
