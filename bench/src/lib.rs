//! Shared helpers of the benchmark programs in `bench/src/bin`.
