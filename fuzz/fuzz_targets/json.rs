//! The two readings of a JSON object agree, whatever the bytes.
//!
//! `json::parse_members` (a JOSE header's reading: members in order, no map) gives members
//! exactly when `json::parse_object` accepts an object of at most `MAX_MEMBERS` members
//! (depth bound `MAX_DEPTH`), and then the same members with the same values; neither panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torii_edge::json;

const MAX_DEPTH: usize = 4;
const MAX_MEMBERS: usize = 16;

fuzz_target!(|data: &[u8]| {
    let members = json::parse_members(data, MAX_DEPTH, MAX_MEMBERS);
    match json::parse_object(data, MAX_DEPTH) {
        Ok(map) if map.len() <= MAX_MEMBERS => {
            let members = members.expect("an object parse_object accepts is read as members");
            assert_eq!(members.len(), map.len());
            for (name, value) in &members {
                assert_eq!(map.get(name.as_ref()), Some(value), "member {name:?}");
            }
        }
        _ => assert!(members.is_none(), "parse_members accepted what parse_object refuses"),
    }
});
