//! Who is asking: the peer's address, or — when the peer is one of our own
//! proxies (`server.trusted_proxies`) — the client it forwarded for, read
//! from `X-Forwarded-For`. Anyone else's `X-Forwarded-For` is ignored: it
//! would let a client pick the address its rate limits are kept under.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
}

/// The client's address. Walking `X-Forwarded-For` from the right (each
/// proxy appends the address it saw), the first address that is not a
/// trusted proxy is the client; a malformed entry ends the walk there.
pub fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    let Some(trusted) = request.app_data::<actix_web::web::Data<TrustedProxies>>() else {
        return Some(peer);
    };
    if !trusted.trusts(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !trusted.trusts(&ip) {
            break;
        }
    }
    Some(client)
}

/// The key rate limits are kept under: an IPv4 address, or an IPv6 address's
/// /64 (one end site gets a whole /64; keying by address would give it
/// 2^64 fresh buckets).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use actix_web::web::Data;

    fn request(peer: &str, forwarded: Option<&str>, trusted: &[&str]) -> HttpRequest {
        let mut builder = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(value) = forwarded {
            builder = builder.insert_header(("X-Forwarded-For", value));
        }
        let nets = trusted.iter().map(|n| n.parse().unwrap()).collect();
        builder
            .app_data(Data::new(TrustedProxies(nets)))
            .to_http_request()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        // A client's own header is ignored.
        assert_eq!(
            client_ip(&request("203.0.113.9", Some("1.2.3.4"), &[])),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(&request("203.0.113.9", Some("1.2.3.4"), &["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
        // Through our proxy: the address it saw.
        assert_eq!(
            client_ip(&request("10.0.0.2", Some("198.51.100.7"), &["10.0.0.0/8"])),
            ip("198.51.100.7")
        );
        // A client that sends its own X-Forwarded-For through our proxy
        // cannot choose: the proxy appended the real one last.
        assert_eq!(
            client_ip(&request(
                "10.0.0.2",
                Some("1.2.3.4, 198.51.100.7"),
                &["10.0.0.0/8"]
            )),
            ip("198.51.100.7")
        );
        // Two of our proxies in a row.
        assert_eq!(
            client_ip(&request(
                "10.0.0.2",
                Some("198.51.100.7, 10.0.0.5"),
                &["10.0.0.0/8"]
            )),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last address believed.
        assert_eq!(
            client_ip(&request(
                "10.0.0.2",
                Some("198.51.100.7, nonsense"),
                &["10.0.0.0/8"]
            )),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv6_is_limited_per_64() {
        assert_eq!(
            limit_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            limit_key("192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }
}
