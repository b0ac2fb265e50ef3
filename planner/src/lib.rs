//! knit select: the merge planner.
