//! Support code for the end-to-end suites in `tests/tests`: every transport against
//! `b2-sim` over real loopback sockets.

pub mod host_conn;

pub use host_conn::HostConnection;
