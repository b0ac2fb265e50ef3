//! Which pass made an edit, a new file or a finding.

use std::fmt;

/// A pass's identity, as the report names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PassId {
    Namespace,
    Entry,
    Calls,
    Globals,
    /// Volo (CloudWeGo) mains, servers and clients ([`crate::volo`]).
    Volo,
    /// Imports the other passes' edits left unused ([`crate::imports::prune`]).
    Imports,
}

impl PassId {
    /// The pass's name (`namespace`), as the report and the docs spell it.
    pub fn name(self) -> &'static str {
        match self {
            PassId::Namespace => "namespace",
            PassId::Entry => "entry",
            PassId::Calls => "calls",
            PassId::Globals => "globals",
            PassId::Volo => "volo",
            PassId::Imports => "imports",
        }
    }
}

impl fmt::Display for PassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
