//! libFuzzer entry of the `check` target ([`knit_fuzz::check`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| knit_fuzz::check::run(data));
