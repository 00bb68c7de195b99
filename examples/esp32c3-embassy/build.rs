//! Copies the pinned CA (`B2_CA_DER`, a DER file) into OUT_DIR; an empty file when unset.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("ca.der");
    let ca = match env::var_os("B2_CA_DER") {
        Some(p) => {
            fs::read(&p).unwrap_or_else(|e| panic!("B2_CA_DER {}: {e}", PathBuf::from(p).display()))
        }
        None => Vec::new(),
    };
    fs::write(out, ca).expect("write ca.der");
    println!("cargo:rerun-if-env-changed=B2_CA_DER");
    for v in [
        "WIFI_SSID",
        "WIFI_PASS",
        "B2_KEY_ID",
        "B2_KEY",
        "B2_REALM",
        "B2_NAS_SIZE",
    ] {
        println!("cargo:rerun-if-env-changed={v}");
    }
}
