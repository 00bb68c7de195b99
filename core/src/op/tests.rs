//! Unit tests of the operations.
//!
//! Each operation is tested state by state with scripted answers (`op::script`): a test
//! starts in the state it checks, feeds one canned answer or transport error per exchange and
//! checks the next step, the request rendered, the wait or the error. One file per operation:
//!
//! - `tests/authorize.rs`: `Authorize`;
//! - `tests/call.rs`: `Call` and the retry classes of a JSON call;
//! - `tests/copy.rs`: `Copy` (one `b2_copy_file`, or copy parts through the coordinator);
//! - `tests/copy_sse.rs`: encryption and Object Lock settings of copies on the wire;
//! - `tests/upload_file.rs`: `UploadFile` (small files on upload URLs);
//! - `tests/download.rs`: `Download`;
//! - `tests/list.rs`: `List`;
//! - `tests/large.rs`: `LargeFile` (the coordinator: start or resume, jobs, finish,
//!   checkpoints, streams) and `LargeUpload`, its sequential driver;
//! - `tests/unhide.rs`: `Unhide`;
//! - `tests/protect.rs`: encryption, Object Lock and custom timestamps on the wire.
//!
//! Scenario tests of the same operations against `b2-sim` over real sockets are in the
//! workspace's `tests/tests/core_ops.rs`.

mod authorize;
mod call;
mod copy;
mod copy_sse;
mod download;
mod large;
mod list;
mod protect;
mod share;
mod unhide;
mod upload_file;
