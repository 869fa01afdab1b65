//! Name resolution for the ureq agent.
//!
//! ureq resolves the host before every request, even one that reuses a pooled
//! connection, and when a timeout is configured its default resolver spawns a
//! thread for each lookup. That cost a loopback call two thirds of its
//! throughput. This resolver answers IP literals directly and remembers host
//! names for a short while; real lookups still go through ureq's resolver,
//! with the call's timeout.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use ureq::{
    config::Config,
    http::Uri,
    unversioned::{
        resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver},
        transport::NextTimeout,
    },
};

/// How long a looked-up address is reused.
const TTL: Duration = Duration::from_secs(30);

/// IP literals without a lookup; host names cached for [`TTL`].
#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    lookups: DefaultResolver,
    cache: Mutex<HashMap<String, (ResolvedSocketAddrs, Instant)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(authority) = uri.authority() else {
            return self.lookups.resolve(uri, config, timeout);
        };
        let default_port = match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        };
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if let (Ok(ip), Some(port)) = (
            host.parse::<IpAddr>(),
            authority.port_u16().or(default_port),
        ) {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }

        let key = format!("{}://{authority}", uri.scheme_str().unwrap_or_default());
        let now = Instant::now();
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache
                .get(&key)
                .filter(|(_, at)| now.saturating_duration_since(*at) < TTL)
                .map(|(addrs, _)| addrs.clone())
        };
        if let Some(addrs) = cached {
            return Ok(addrs);
        }
        let addrs = self.lookups.resolve(uri, config, timeout)?;
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, (addrs.clone(), now));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(resolver: &CachingResolver, url: &str) -> Vec<SocketAddr> {
        let uri: Uri = url.parse().unwrap();
        let config = ureq::Agent::config_builder().build();
        resolver
            .resolve(&uri, &config, NextTimeout::default())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn ip_literals_need_no_lookup_and_are_not_cached() {
        let resolver = CachingResolver::default();
        assert_eq!(
            resolve(&resolver, "http://127.0.0.1:8080/v1"),
            ["127.0.0.1:8080".parse().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "https://[::1]/v1"),
            ["[::1]:443".parse().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "http://10.1.2.3/"),
            ["10.1.2.3:80".parse().unwrap()]
        );
        assert!(resolver.cache.lock().unwrap().is_empty());
    }

    #[test]
    fn host_names_are_looked_up_once_then_cached() {
        let resolver = CachingResolver::default();
        let first = resolve(&resolver, "http://localhost:9/v1/users");
        assert!(!first.is_empty() && first.iter().all(|a| a.ip().is_loopback() && a.port() == 9));
        let cache = resolver.cache.lock().unwrap().clone();
        assert_eq!(cache.len(), 1);
        assert!(cache.contains_key("http://localhost:9"));
        // The second call is served from the cache, same answer.
        assert_eq!(resolve(&resolver, "http://localhost:9/other"), first);
        assert_eq!(resolver.cache.lock().unwrap().len(), 1);
    }
}
