//! Which gRPC services each service of a group registers with its server.

use std::collections::BTreeSet;

use knit_passes::names::{Role, Usage};
use knit_passes::sharing::{REGISTERED_CONSTRUCTORS, Sharing};

/// For each service (by index), the full names of the gRPC services it
/// constructs a generated server for (`XServer::new(..)`): `helloworld.Greeter`.
pub fn registered(services: usize, sharing: &Sharing) -> Vec<BTreeSet<String>> {
    let mut serves = vec![BTreeSet::new(); services];
    for m in &sharing.index.mentions {
        let registration = m.named.role == Role::Server
            && matches!(&m.usage, Usage::Call { method, .. }
                if REGISTERED_CONSTRUCTORS.contains(&method.as_str()));
        if registration {
            serves[m.service.0].insert(full_name(&m.named.package, &m.named.service));
        }
    }
    serves
}

/// `package.Service`, as call findings name the gRPC service they call.
fn full_name(package: &str, service: &str) -> String {
    if package.is_empty() {
        service.to_string()
    } else {
        format!("{package}.{service}")
    }
}
