//! libFuzzer entry of the `plan` target ([`knit_fuzz::plan`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| knit_fuzz::plan::run(data));
