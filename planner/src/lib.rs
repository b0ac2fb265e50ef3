//! knit select: the merge planner. Picks which services to merge from a
//! service graph (JSON, or traces as OTLP/JSON), under configurable rules,
//! estimates what each merge saves, and writes the merge plan of a chosen
//! group. No I/O: inputs and outputs are strings. See docs/select.md.

mod draw;
mod estimate;
mod figures;
#[cfg(test)]
mod fixtures;
mod graph;
mod otlp;
mod plan;
mod render;
mod rules;
mod screen;
mod select;
mod selection;
mod synthetic;

pub use estimate::Estimate;
pub use graph::{Edge, Graph, ServiceNode};
pub use plan::{is_plan_name, plan_name};
pub use rules::Rules;
pub use select::select;
pub use selection::{Exclusion, Group, MergedEdge, Reason, Selection};
pub use synthetic::synthetic;
