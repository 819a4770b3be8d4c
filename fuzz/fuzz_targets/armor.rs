//! `licfile::armor::parse` on arbitrary bytes: must return `Ok` or `Err`, never
//! panic, and whatever it accepts must survive a write/parse round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use licfile::{ArmorError, armor};

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = armor::parse(data) else {
        return;
    };
    // What was accepted, written back out canonically, reads back the same.
    let headers: Vec<(&str, String)> = parsed
        .headers
        .iter()
        .map(|(n, v)| (*n, v.clone()))
        .collect();
    let text = armor::write(parsed.kind, &headers, &parsed.body);
    match armor::parse(text.as_bytes()) {
        Ok(again) => {
            assert_eq!(again.kind, parsed.kind);
            assert_eq!(again.headers, parsed.headers);
            assert_eq!(again.body, parsed.body);
        }
        // Base64 given on one long line grows by a newline every 64 characters
        // when written back, so a file just under the limit may not fit again.
        Err(ArmorError::TooLarge { .. }) => {}
        Err(e) => panic!("armor::write produced text armor::parse refuses: {e}\n{text}"),
    }
});
