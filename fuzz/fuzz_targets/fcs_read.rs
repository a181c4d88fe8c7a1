//! Arbitrary bytes through the whole FCS reader: HEADER, TEXT (primary and
//! supplemental), the DATA plan, and decoding in every mode and data set.
//! Any panic, abort, timeout or out-of-memory is a finding; errors are fine.
#![no_main]

use cd38_core::fcs::{self, DataMode, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lenient = ReadOptions::default();
    let _ = fcs::read_bytes(data, &lenient);
    let strict = ReadOptions {
        strict: true,
        data: DataMode::Raw,
        ..lenient
    };
    let _ = fcs::read_bytes(data, &strict);
    // Follow $NEXTDATA and decode every data set after the first.
    if let Ok(offsets) = fcs::dataset_offsets(data, false) {
        for dataset in 1..offsets.len() {
            let opts = ReadOptions { dataset, ..lenient };
            let _ = fcs::read_bytes(data, &opts);
        }
    }
});
