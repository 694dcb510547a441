//! Whether an address a user gave (a link to read, a Mastodon instance) may
//! be called: otherwise a post or a connect would let anyone make Prasaran
//! call services inside the network it runs in (cloud metadata, databases).

use std::net::{IpAddr, SocketAddr};

/// The first address of `host` when every address it resolves to is public
/// (or when `public_only` is false: tests, closed networks).
pub async fn public_address(
    host: &str,
    port: u16,
    public_only: bool,
) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .collect();
    let first = *addresses.first().ok_or("no address")?;
    if public_only && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(format!("{host} is not on a public address"));
    }
    Ok(first)
}

pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                // Shared address space (carrier-grade NAT) and "this network".
                || (a == 100 && (64..128).contains(&b))
                || a == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local (fc00::/7) and link-local (fe80::/10).
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_read_by_default() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        assert!(is_public("93.184.216.34".parse().unwrap()));
        assert!(is_public("2606:4700::1111".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_loopback_host_is_refused_unless_allowed() {
        assert_eq!(
            public_address("127.0.0.1", 80, true).await.unwrap_err(),
            "127.0.0.1 is not on a public address"
        );
        assert!(public_address("127.0.0.1", 80, false).await.is_ok());
    }
}
