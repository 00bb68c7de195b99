//! End to end: a JSON answer announcing an absurd `Content-Length` is a typed error after one
//! exchange, over real loopback sockets against `b2-sim` (ureq, hyper): no allocation of the
//! announced size, no wrapped size, no re-sending.

mod common;

use b2_sim::{Faults, Sim};
use b2_transport_std::client::{ClientError, MAX_JSON_ANSWER};
use common::start;

#[test]
fn absurd_content_lengths_are_a_typed_error_after_one_request() {
    let (sim, client) = start(Sim::builder());
    client
        .create_bucket("bounded-answers", false)
        .expect("bucket");
    for announced in [100_000_000_000_000u64, u64::MAX, MAX_JSON_ANSWER as u64 + 1] {
        sim.set_faults(Faults {
            json_content_length_override: Some(announced),
            ..Faults::default()
        });
        let before = sim.stats().requests;
        let err = client.list_buckets().expect_err("refused");
        let sent = sim.stats().requests - before;
        match err {
            ClientError::AnswerTooLarge { needed, limit } => {
                assert_eq!(limit, MAX_JSON_ANSWER);
                assert_eq!(needed, usize::try_from(announced).unwrap_or(usize::MAX));
            }
            other => panic!("{announced}: expected AnswerTooLarge, got {other:?}"),
        }
        assert_eq!(sent, 1, "{announced}: one request, not re-sent");
        assert!(err.to_string().contains("more than the"), "{err}");
    }
    // A size the client may hold but the body does not reach: the answer is cut short,
    // retried like a broken connection, and the retries end (5 tries).
    let client = client.with_retry_policy(b2_transport_std::client::RetryPolicy {
        initial_backoff_ms: 1,
        max_backoff_ms: 4,
        max_jitter_ms: 1,
        ..Default::default()
    });
    sim.set_faults(Faults {
        json_content_length_override: Some(10_000),
        ..Faults::default()
    });
    let before = sim.stats().requests;
    let ex = client.stats().exchanges;
    let err = client.list_buckets().expect_err("cut short");
    assert_eq!(client.stats().exchanges - ex, 5, "{err}");
    assert_eq!(sim.stats().requests - before, 5, "{err}");
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    sim.set_faults(Faults::default());
    assert_eq!(client.list_buckets().expect("healthy again").len(), 1);
}

#[test]
fn an_answer_growing_the_buffer_stays_within_the_limit() {
    // A large but honest answer: 60 buckets do not fit the first 16 KiB buffer; the
    // client asks again with a buffer of the announced size and succeeds.
    let (sim, client) = start(Sim::builder());
    for i in 0..60 {
        client
            .create_bucket(&format!("bucket-with-a-long-name-{i:03}"), false)
            .expect("bucket");
    }
    let before = sim.stats().requests;
    assert_eq!(client.list_buckets().expect("list").len(), 60);
    let sent = sim.stats().requests - before;
    assert!(sent <= 2, "{sent} requests");
}
