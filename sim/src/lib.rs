//! b2-sim (being written)
