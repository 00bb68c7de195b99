//! Percent-decoding and validation of names and info from arbitrary input.
#![no_main]

use b2_core::encoding::{parse_sha1_hex, percent_decode, percent_encode};
use b2_core::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|b: &[u8]| {
    let Ok(s) = core::str::from_utf8(b) else {
        return;
    };
    let mut out = [0u8; 256];
    let _ = percent_decode(s, &mut out);
    let enc = format!("{}", percent_encode(s));
    let mut back = vec![0u8; s.len()];
    assert_eq!(percent_decode(&enc, &mut back), Ok(s));
    let _ = validate::file_name(s);
    let _ = validate::bucket_name(s);
    let _ = validate::file_info(s, [(s, s)]);
    let _ = parse_sha1_hex(s);
});
