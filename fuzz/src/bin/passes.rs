//! libFuzzer entry of the `passes` target ([`knit_fuzz::passes`]).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| knit_fuzz::passes::run(data));
