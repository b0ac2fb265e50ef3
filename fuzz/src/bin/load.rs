//! libFuzzer entry of the `load` target ([`knit_fuzz::load`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| knit_fuzz::load::run(data));
