//! Header hygiene on arbitrary header lists.
//!
//! * `is_reserved_header` and `is_forwarding_header` do not depend on the spelling (case,
//!   `_` for `-`);
//! * after `forward_headers`, no inbound header that is ours (`x-torii-*`), a forwarding
//!   header, hop-by-hop, `Connection`-listed, `Host` or `x-request-id` survives, and the
//!   edge's own headers carry only the context's values;
//! * `claim_header_value` never returns a value with a control character, and refuses
//!   exactly the values that hold one.
//!
//! Input: lines; the first is `host\tclient-ip` for the context, every other is
//! `name:value` (a line without `:` is a name with an empty value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use torii_edge::edge::headers::{
    claim_header_value, connection_listed, forward_headers, is_forwarding_header,
    is_reserved_header, must_strip, ForwardContext, REQUEST_ID,
};

fn spellings(name: &str) -> [String; 3] {
    [
        name.to_ascii_lowercase().replace('_', "-"),
        name.to_ascii_uppercase(),
        name.replace('-', "_"),
    ]
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    let (host, ip) = first.split_once('\t').unwrap_or((first, ""));
    let inbound: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap_or((l, ""));
            (n.to_string(), v.to_string())
        })
        .collect();

    for (name, value) in &inbound {
        for s in spellings(name) {
            assert_eq!(
                is_reserved_header(name),
                is_reserved_header(&s),
                "{name:?} / {s:?}"
            );
            assert_eq!(
                is_forwarding_header(name),
                is_forwarding_header(&s),
                "{name:?} / {s:?}"
            );
        }
        match claim_header_value("sub", value) {
            Ok(Some(v)) => {
                assert_eq!(v, value);
                assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{v:?}");
            }
            Ok(None) => assert!(!value.chars().any(char::is_control)),
            Err(_) => assert!(value.chars().any(char::is_control), "{value:?} refused"),
        }
    }

    let ctx = ForwardContext {
        request_id: "rid-1",
        host: (!host.is_empty()).then_some(host),
        proto: "https",
        client_ip: (!ip.is_empty()).then_some(ip),
    };
    let out = forward_headers(&inbound, &ctx, Vec::new());
    let listed: Vec<String> = inbound
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| connection_listed(v))
        .collect();
    // The inbound headers kept come first, in order; the edge's own follow, from the
    // request id on (an inbound `x-request-id` never survives).
    let split = out
        .iter()
        .position(|(n, _)| n == REQUEST_ID)
        .expect("the request id is always set");
    let (kept, own) = out.split_at(split);
    let mut rest = inbound.iter();
    for (n, v) in kept {
        assert!(
            rest.any(|(a, b)| a == n && b == v),
            "{n:?} is not an inbound header in order"
        );
        assert!(!is_reserved_header(n), "reserved {n:?} survived");
        assert!(!is_forwarding_header(n), "forwarding {n:?} survived");
        assert!(!must_strip(n, &listed), "{n:?} survived");
        assert!(!n.eq_ignore_ascii_case("host") && !n.eq_ignore_ascii_case(REQUEST_ID));
    }
    for (n, v) in own {
        assert!(
            [
                REQUEST_ID,
                "x-forwarded-for",
                "x-real-ip",
                "forwarded",
                "x-forwarded-host",
                "x-forwarded-proto"
            ]
            .contains(&n.as_ref()),
            "unexpected edge header {n:?}"
        );
        assert!(!v.chars().any(char::is_control), "{n}: {v:?}");
        if n == "x-forwarded-host" {
            assert_eq!(Some(v.as_ref()), ctx.host);
        }
        if n == "x-forwarded-for" || n == "x-real-ip" {
            assert_eq!(Some(v.as_ref()), ctx.client_ip);
        }
    }
});
