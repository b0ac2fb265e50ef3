//! Deploying what was merged: beside the workspace, in `deploy/`, a container
//! recipe for the merged binary, the listeners the merged process keeps, and
//! compose and Kubernetes snippets that point each old service name at it.

mod listeners;

use std::fmt::Write as _;

pub use listeners::Listener;

use crate::load::Loaded;

/// The folder of the output that holds the recipes.
pub const DIR: &str = "deploy";

/// The recipes for `loaded`'s merged binary: (path in the output, text).
pub fn files(loaded: &Loaded) -> Vec<(String, String)> {
    let listeners = listeners::of(loaded);
    vec![
        (format!("{DIR}/Dockerfile"), dockerfile(&listeners)),
        (format!("{DIR}/listeners.md"), listing(loaded, &listeners)),
        (format!("{DIR}/compose.yaml"), compose(loaded, &listeners)),
        (
            format!("{DIR}/kubernetes.yaml"),
            kubernetes(loaded, &listeners),
        ),
    ]
}

/// The variables the merged process must be given for each listener to keep
/// its default port: a plan `env` entry that maps an address variable to
/// `${VAR}` makes `VAR` the one to set.
fn port_variables(loaded: &Loaded, listeners: &[Listener]) -> Vec<(String, u16)> {
    let mut vars = Vec::new();
    for l in listeners {
        let Some(port) = l.port else { continue };
        for (key, value) in &loaded.group.services[l.service].env {
            let whole = value
                .strip_prefix("${")
                .and_then(|v| v.strip_suffix('}'))
                .filter(|v| !v.contains('$'));
            if let (true, Some(var)) = (l.variables.contains(key), whole) {
                vars.push((var.to_string(), port));
            }
        }
    }
    vars
}

/// The ports the merged process listens on, each once, in service order.
fn ports(listeners: &[Listener]) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::new();
    for port in listeners.iter().filter_map(|l| l.port) {
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports
}

fn dockerfile(listeners: &[Listener]) -> String {
    // The merged package and its binary share a name.
    let host = knit_codegen::names::HOST_PACKAGE;
    let mut text = format!(
        "# The merged binary, built in release from this workspace (the folder above).\n\
         #   docker build -f deploy/Dockerfile -t merged .\n\
         FROM rust:1.95-bookworm AS build\n\
         WORKDIR /src\n\
         COPY . .\n\
         RUN cargo build --release --locked -p {host}\n\
         \n\
         FROM debian:bookworm-slim\n\
         RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*\n\
         COPY --from=build /src/target/release/{host} /usr/local/bin/{host}\n",
    );
    for port in ports(listeners) {
        let _ = writeln!(text, "EXPOSE {port}");
    }
    let _ = writeln!(text, "ENTRYPOINT [\"/usr/local/bin/{host}\"]");
    text
}

fn listing(loaded: &Loaded, listeners: &[Listener]) -> String {
    let mut text = format!(
        "# Listeners of the merged binary of group `{}`\n\n\
         One process replaces the services below. Callers outside the group keep dialling\n\
         the old service names: point each name at the merged process (compose.yaml,\n\
         kubernetes.yaml). `KNIT_LISTEN_<SERVICE>=0|1` turns a listener off or on.\n\n\
         | service | listener | address variables it reads | default port | env in the merged process |\n\
         |---|---|---|---|---|\n",
        loaded.plan.group
    );
    for l in listeners {
        let service = &loaded.group.services[l.service];
        let env: Vec<String> = service
            .env
            .iter()
            .map(|(k, v)| format!("`{k}={v}`"))
            .collect();
        let vars: Vec<String> = l.variables.iter().map(|v| format!("`{v}`")).collect();
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} |",
            service.name,
            if service.listen { "kept" } else { "off" },
            if vars.is_empty() {
                "-".into()
            } else {
                vars.join(", ")
            },
            l.port.map_or("-".to_string(), |p| p.to_string()),
            if env.is_empty() {
                "-".into()
            } else {
                env.join(", ")
            }
        );
    }
    text
}

fn compose(loaded: &Loaded, listeners: &[Listener]) -> String {
    let mut text = format!(
        "# The merged binary of group `{}` under each old service name: callers on\n\
         # this network keep dialling `NAME:PORT`.\n\
         services:\n  merged:\n    build:\n      context: ..\n      dockerfile: deploy/Dockerfile\n",
        loaded.plan.group
    );
    let ports = ports(listeners);
    if !ports.is_empty() {
        text.push_str("    expose:\n");
        for port in &ports {
            let _ = writeln!(text, "      - \"{port}\"");
        }
    }
    let vars = port_variables(loaded, listeners);
    if !vars.is_empty() {
        text.push_str("    environment:\n");
        for (var, port) in &vars {
            let _ = writeln!(text, "      {var}: \"{port}\"");
        }
    }
    text.push_str("    networks:\n      default:\n        aliases:\n");
    for l in listeners
        .iter()
        .filter(|l| loaded.group.services[l.service].listen)
    {
        let _ = writeln!(
            text,
            "          - {}",
            loaded.group.services[l.service].name
        );
    }
    text
}

fn kubernetes(loaded: &Loaded, listeners: &[Listener]) -> String {
    let group = loaded.plan.group.replace('_', "-");
    let mut text = format!(
        "# The merged binary of group `{}`, and a Service per old service name that\n\
         # selects it, so callers keep dialling `NAME:PORT`.\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {group}-merged\n\
         spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {group}-merged\n\
         \x20 template:\n    metadata:\n      labels:\n        app: {group}-merged\n\
         \x20   spec:\n      containers:\n        - name: merged\n          image: {group}-merged:latest\n",
        loaded.plan.group
    );
    let ports = ports(listeners);
    if !ports.is_empty() {
        text.push_str("          ports:\n");
        for port in &ports {
            let _ = writeln!(text, "            - containerPort: {port}");
        }
    }
    let vars = port_variables(loaded, listeners);
    if !vars.is_empty() {
        text.push_str("          env:\n");
        for (var, port) in &vars {
            let _ = writeln!(
                text,
                "            - name: {var}\n              value: \"{port}\""
            );
        }
    }
    for l in listeners
        .iter()
        .filter(|l| loaded.group.services[l.service].listen)
    {
        let name = loaded.group.services[l.service].name.replace('_', "-");
        let _ = write!(
            text,
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {group}-merged\n"
        );
        match l.port {
            Some(port) => {
                let _ = writeln!(
                    text,
                    "  ports:\n    - port: {port}\n      targetPort: {port}"
                );
            }
            None => {
                let _ = writeln!(
                    text,
                    "  # knit found no default port for `{name}`: set the port its address variable gives.\n  ports: []"
                );
            }
        }
    }
    text
}
