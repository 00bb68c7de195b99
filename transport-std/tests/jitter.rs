//! End to end: two clients with the same key back off differently (jitter from OS entropy,
//! not from the key), over real sockets to a `b2-sim` that then goes away.

use b2_sim::Sim;
use b2_transport_std::client::{Client, RetryPolicy};

/// The backoff waits (ms) of `calls` calls that all fail to connect.
fn waits(client: &Client, calls: usize) -> Vec<u64> {
    (0..calls)
        .map(|_| {
            let before = client.stats().waited_ms;
            client
                .file_info_by_id("4_zdoes_not_matter")
                .expect_err("server gone");
            client.stats().waited_ms - before
        })
        .collect()
}

#[test]
fn two_clients_with_the_same_key_back_off_differently() {
    let sim = Sim::builder().start().expect("sim");
    let (id, key) = sim.master_key();
    let (id, key) = (id.to_owned(), key.to_owned());
    let a = Client::new(&id, &key, sim.url()).expect("client a");
    let b = Client::new(&id, &key, sim.url()).expect("client b");
    sim.stop();
    let policy = RetryPolicy {
        max_json_tries: 3,
        initial_backoff_ms: 1,
        max_backoff_ms: 2,
        max_jitter_ms: 300,
        ..RetryPolicy::default()
    };
    let a = a.with_retry_policy(policy);
    let b = b.with_retry_policy(policy);
    let (wa, wb) = (waits(&a, 3), waits(&b, 3));
    for w in wa.iter().chain(&wb) {
        // Two waits a call: 1 ms and 2 ms steps plus up to 299 ms of jitter each.
        assert!((3..=601).contains(w), "{w} ms");
    }
    assert_ne!(wa, wb, "same key, same policy: the delays must differ");
}
