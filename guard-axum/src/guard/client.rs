//! The client's address, as login throttling counts it: the peer's, or, where the peer is a
//! reverse proxy the application trusts, the address that proxy forwarded.
//!
//! Behind a proxy every request comes from the proxy's address, so limits per address would
//! become one limit for everybody: one attacker could slow every login. `X-Forwarded-For`
//! is believed only from trusted peers, read from its right end (the hop nearest to the
//! server) leftwards to the first address that is not a trusted proxy: everything left of it
//! was written by the client and proves nothing.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

pub use ipnet::IpNet;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The reverse proxies whose `X-Forwarded-For` the guard believes. None by default.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub(crate) fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies(networks.into_iter().map(canonical).collect())
    }

    /// The address of the client of this request, where the server knows its peer (it was
    /// served with connect info).
    pub(crate) fn client(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
        Some(self.resolve(peer, &parts.headers))
    }

    fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several headers are one list, in order; the last hop is at the end of the last one.
        for value in headers.get_all(FORWARDED_FOR).iter().rev() {
            let Ok(list) = value.to_str() else { return client };
            for hop in list.rsplit(',') {
                // A hop that is not an address ends the walk at the nearest known one.
                let Some(address) = parse_hop(hop.trim()) else { return client };
                client = address;
                if !self.trusts(client) {
                    return client;
                }
            }
        }
        client
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }
}

/// An IPv4-mapped IPv6 network as the IPv4 network it is, since addresses are compared in
/// their canonical form.
fn canonical(network: IpNet) -> IpNet {
    match network {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(network, IpNet::V4),
            None => network,
        },
        _ => network,
    }
}

/// One hop of `X-Forwarded-For`: an address, with a port or in brackets as some proxies
/// write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let address = hop
        .parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| hop.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>())
        .ok()?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(networks.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn resolve(trusted: &TrustedProxies, peer: &str, forwarded: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append(FORWARDED_FOR, value.parse().unwrap());
        }
        trusted.resolve(peer.parse().unwrap(), &headers).to_string()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = proxies(&[]);
        assert_eq!(resolve(&none, "10.0.0.1", &["203.0.113.9"]), "10.0.0.1");
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(resolve(&trusted, "192.0.2.7", &["203.0.113.9"]), "192.0.2.7");
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client wrote 1.1.1.1 itself; its own address was appended by the first proxy.
        let chain = "1.1.1.1, 203.0.113.9, 10.0.0.5";
        assert_eq!(resolve(&trusted, "10.0.0.1", &[chain]), "203.0.113.9");
        assert_eq!(
            resolve(&trusted, "10.0.0.1", &["1.1.1.1", "203.0.113.9,10.0.0.5"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn a_mapped_network_trusts_the_addresses_it_maps() {
        let trusted = proxies(&["::ffff:10.0.0.0/104"]);
        assert_eq!(resolve(&trusted, "10.1.2.3", &["203.0.113.9"]), "203.0.113.9");
        assert_eq!(resolve(&trusted, "::ffff:10.1.2.3", &["203.0.113.9"]), "203.0.113.9");
        assert_eq!(resolve(&trusted, "11.0.0.1", &["203.0.113.9"]), "11.0.0.1");
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_read() {
        let trusted = proxies(&["10.0.0.0/8", "::1/128"]);
        assert_eq!(resolve(&trusted, "10.0.0.1", &["203.0.113.9:4711"]), "203.0.113.9");
        assert_eq!(resolve(&trusted, "::1", &["[2001:db8::7]:443"]), "2001:db8::7");
        assert_eq!(resolve(&trusted, "::1", &["[2001:db8::7]"]), "2001:db8::7");
        assert_eq!(resolve(&trusted, "::ffff:10.0.0.1", &["::ffff:203.0.113.9"]), "203.0.113.9");
    }

    #[test]
    fn a_malformed_or_missing_header_leaves_the_nearest_known_address() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(resolve(&trusted, "10.0.0.1", &[]), "10.0.0.1");
        assert_eq!(resolve(&trusted, "10.0.0.1", &["unknown"]), "10.0.0.1");
        assert_eq!(resolve(&trusted, "10.0.0.1", &["garbage, 10.0.0.2"]), "10.0.0.2");
        // The walk stops at a bad hop: what lies left of it is not looked at.
        assert_eq!(resolve(&trusted, "10.0.0.1", &["203.0.113.9, garbage, 10.0.0.2"]), "10.0.0.2");
        assert_eq!(resolve(&trusted, "10.0.0.1", &["203.0.113.9,,10.0.0.2"]), "10.0.0.2");
        assert_eq!(resolve(&trusted, "10.0.0.1", &["203.0.113.9,"]), "10.0.0.1");
        assert_eq!(resolve(&trusted, "10.0.0.1", &[""]), "10.0.0.1");
        assert_eq!(resolve(&trusted, "10.0.0.1", &["fe80::1%eth0"]), "10.0.0.1");
        assert_eq!(resolve(&trusted, "10.0.0.1", &["\t203.0.113.9 ,\t10.0.0.2"]), "203.0.113.9");
        let mut headers = HeaderMap::new();
        headers.insert(FORWARDED_FOR, axum::http::HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(trusted.resolve("10.0.0.1".parse().unwrap(), &headers).to_string(), "10.0.0.1");
        // Only trusted hops: the farthest of them.
        assert_eq!(resolve(&trusted, "10.0.0.1", &["10.0.0.3, 10.0.0.2"]), "10.0.0.3");
    }

    /// A hop as a proxy or a client may write it: an address in any of the forms read, or
    /// anything else.
    fn hop() -> impl proptest::strategy::Strategy<Value = (String, Option<IpAddr>)> {
        use proptest::prelude::*;
        let v4 = prop_oneof![
            any::<[u8; 4]>(),
            any::<u8>().prop_map(|b| [10, 0, 0, b]),
            any::<u8>().prop_map(|b| [203, 0, 113, b]),
        ]
        .prop_map(IpAddr::from);
        let v6 = any::<[u8; 16]>().prop_map(IpAddr::from);
        prop_oneof![
            v4.clone().prop_map(|a| (a.to_string(), Some(a))),
            (v4, any::<u16>()).prop_map(|(a, p)| (format!("{a}:{p}"), Some(a))),
            v6.clone().prop_map(|a| (a.to_string(), Some(a.to_canonical()))),
            (v6, any::<u16>()).prop_map(|(a, p)| (format!("[{a}]:{p}"), Some(a.to_canonical()))),
            "[a-z ]{0,8}".prop_map(|junk| (junk, None)),
        ]
    }

    /// The client address by the rule, as a reference: from the right, each hop is the
    /// client as long as the one before it is trusted; a hop that is not an address ends
    /// the walk at the nearest known one.
    fn model(trusted: &TrustedProxies, peer: IpAddr, hops: &[Option<IpAddr>]) -> IpAddr {
        let mut client = peer.to_canonical();
        for hop in hops.iter().rev() {
            if !trusted.trusts(client) {
                return client;
            }
            match hop {
                Some(address) => client = *address,
                None => return client,
            }
        }
        client
    }

    #[test]
    fn any_forwarded_chain_gives_the_client_the_rule_gives() {
        use proptest::prelude::*;
        let cases = std::env::var("FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
        let config = proptest::test_runner::Config {
            cases,
            failure_persistence: None,
            ..Default::default()
        };
        let trusted = proxies(&["10.0.0.0/8", "::1/128"]);
        let chain = (
            prop_oneof![Just("10.0.0.1"), Just("::1"), Just("192.0.2.7")],
            proptest::collection::vec(hop(), 0..8),
            1..4usize,
            prop_oneof![Just(","), Just(", "), Just(" ,\t")],
        );
        let mut runner = proptest::test_runner::TestRunner::new(config);
        let result = runner.run(&chain, |(peer, hops, lines, separator)| {
            // The hops in order, over one to three header lines.
            let mut headers = HeaderMap::new();
            let per_line = hops.len().div_ceil(lines).max(1);
            for line in hops.chunks(per_line) {
                let text: Vec<&str> = line.iter().map(|(t, _)| t.as_str()).collect();
                headers.append(FORWARDED_FOR, text.join(separator).parse().unwrap());
            }
            let addresses: Vec<Option<IpAddr>> = hops.iter().map(|(_, a)| *a).collect();
            let peer: IpAddr = peer.parse().unwrap();
            let expected = model(&trusted, peer, &addresses);
            prop_assert_eq!(trusted.resolve(peer, &headers), expected);
            // Without trusted proxies, the header is never believed.
            prop_assert_eq!(TrustedProxies::default().resolve(peer, &headers), peer);
            Ok(())
        });
        if let Err(error) = result {
            panic!("{error}");
        }
    }
}
