//! Checkpoint bytes (what a device reads back from flash after a reboot): decoding any bytes
//! never panics, and what decodes encodes back to the same bytes.
#![no_main]

use b2_core::op::large::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut digests = [[0u8; 20]; 64];
    if let Ok(head) = Checkpoint::decode(data, &mut digests) {
        let mut out = vec![0u8; Checkpoint::encoded_len(&head.file_id, head.count)];
        let n = Checkpoint::encode(&head, &digests, &mut out).expect("room for it");
        assert_eq!(
            &out[..n],
            data,
            "a decoded checkpoint encodes back to its bytes"
        );
    }
});
