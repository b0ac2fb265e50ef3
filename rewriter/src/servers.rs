//! Which gRPC services each service of a group registers with its server.

use std::collections::BTreeSet;

use knit_passes::Group;
use knit_passes::model::PerService;
use knit_passes::names::{Role, Usage};
use knit_passes::sharing::{Sharing, registers};

/// For each service, the full names of the gRPC services it
/// constructs a generated server for (`XServer::new(..)`): `helloworld.Greeter`.
pub fn registered(group: &Group, sharing: &Sharing) -> PerService<BTreeSet<String>> {
    let mut serves = PerService::of(group, |_| BTreeSet::new());
    for m in &sharing.index.mentions {
        let registration = m.named.role == Role::Server
            && matches!(&m.usage, Usage::Call { method, .. } if registers(method));
        if registration {
            serves[m.service].insert(full_name(&m.named.package, &m.named.service));
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
