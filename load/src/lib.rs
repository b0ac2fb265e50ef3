//! knit's loader: reads a merge plan ([`plan`]) and loads the services it names
//! ([`load`]) as one [`knit_model::model::Group`]: their Cargo workspaces
//! ([`workspace`]), source trees parsed in parallel ([`parse`], bounded by
//! [`nesting`]), what their builds read outside their packages ([`reads`],
//! [`probe`]), their protos ([`protos`]) and lockfiles ([`cargolock`],
//! [`lockmerge`], [`links`], [`tonic`]), exported at a revision when the plan
//! pins one ([`git`]). Protos are parsed by `knit_model::proto`. Errors are [`error::Diagnostic`]s naming file, line and
//! column. The driver (`knit-rewriter`) runs the passes on what this returns.

pub mod cargolock;
mod cfg_if;
pub mod error;
mod external;
pub mod features;
pub mod git;
pub mod links;
pub mod load;
pub mod lockmerge;
pub mod nesting;
pub mod parse;
pub mod paths;
pub mod plan;
mod probe;
mod protos;
mod reads;
pub mod tonic;
pub mod workspace;

/// The file knit writes into every workspace it generates; its presence marks a
/// folder as knit's own.
pub const OUTPUT_MARKER: &str = "knit.lock";
