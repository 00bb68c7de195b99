//! Download answer headers (`name: value` lines) through `parse_download_head`.
#![no_main]

use b2_core::wire::download::{parse_content_range, parse_download_head};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|b: &[u8]| {
    let Ok(s) = core::str::from_utf8(b) else {
        return;
    };
    let pairs: Vec<(&str, &str)> = s
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let h: &[(&str, &str)] = &pairs;
    let _ = parse_download_head(&h);
    let _ = parse_content_range(s);
});
