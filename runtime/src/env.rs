//! Environment variables and command-line arguments as each service of a
//! merged binary sees them: the plan can give a service its own values
//! (`[services.NAME.env]`), which knit's rewrite of `std::env::var` and friends
//! consults before the process's, and its own arguments (`args = [..]`), which
//! the rewrite of `std::env::args` and clap's `parse` reads instead of the
//! process's.

use std::collections::HashMap;
use std::env::VarError;
use std::ffi::{OsStr, OsString};
use std::sync::{OnceLock, RwLock};

type Overrides = HashMap<String, HashMap<String, String>>;

fn overrides() -> &'static RwLock<Overrides> {
    static OVERRIDES: OnceLock<RwLock<Overrides>> = OnceLock::new();
    OVERRIDES.get_or_init(Default::default)
}

/// Gives `service` its own value of `key`.
pub fn set(service: &str, key: &str, value: String) {
    let mut all = overrides().write().unwrap();
    all.entry(service.to_string())
        .or_default()
        .insert(key.to_string(), value);
}

/// `template` with each `${VAR}` replaced by the process's `VAR`.
pub fn expand(template: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in `{template}`"))?;
        let name = &rest[start + 2..start + end];
        out.push_str(&std::env::var(name).map_err(|_| format!("`{name}` is not set"))?);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(service: &str, key: &OsStr) -> Option<String> {
    let all = overrides().read().unwrap();
    all.get(service)?.get(key.to_str()?).cloned()
}

/// `std::env::var`, as `service` sees it.
pub fn var<K: AsRef<OsStr>>(service: &str, key: K) -> Result<String, VarError> {
    match lookup(service, key.as_ref()) {
        Some(value) => Ok(value),
        None => std::env::var(key),
    }
}

/// `std::env::var_os`, as `service` sees it.
pub fn var_os<K: AsRef<OsStr>>(service: &str, key: K) -> Option<OsString> {
    match lookup(service, key.as_ref()) {
        Some(value) => Some(value.into()),
        None => std::env::var_os(key),
    }
}

/// `std::env::vars`, as `service` sees it.
pub fn vars(service: &str) -> impl Iterator<Item = (String, String)> {
    let own = overrides()
        .read()
        .unwrap()
        .get(service)
        .cloned()
        .unwrap_or_default();
    let mut all: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| !own.contains_key(k))
        .collect();
    all.extend(own);
    all.sort();
    all.into_iter()
}

/// `dotenvy::dotenv()`, as `service` sees it: the first `.env` found in the
/// current folder or above gives `service` the values it does not have yet (from
/// the plan or the process), without touching the process's environment.
pub fn dotenv(service: &str) -> std::io::Result<std::path::PathBuf> {
    let start = std::env::current_dir()?;
    let path = start
        .ancestors()
        .map(|dir| dir.join(".env"))
        .find(|p| p.is_file())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no .env file"))?;
    let text = std::fs::read_to_string(&path)?;
    for line in text.lines().map(str::trim) {
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.starts_with('#') {
            continue;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        if lookup(service, OsStr::new(key)).is_none() && std::env::var_os(key).is_none() {
            set(service, key, value.to_string());
        }
    }
    Ok(path)
}

fn arguments() -> &'static RwLock<HashMap<String, Vec<String>>> {
    static ARGS: OnceLock<RwLock<HashMap<String, Vec<String>>>> = OnceLock::new();
    ARGS.get_or_init(Default::default)
}

/// Gives `service` its own command line: `program` (its binary's name) and `args`.
pub fn set_args(service: &str, program: &str, args: &[&str]) {
    let line = std::iter::once(program)
        .chain(args.iter().copied())
        .map(String::from)
        .collect();
    arguments()
        .write()
        .unwrap()
        .insert(service.to_string(), line);
}

/// The name of the service whose entry runs the calling task; empty outside
/// one (a service's own binary), where only the process's environment counts.
/// How code one binary's roles share reads the running role's values.
pub fn current_service() -> &'static str {
    crate::registry::ServiceHost::try_current().map_or("", |host| host.name())
}

/// The command line of the running service when the host gave it one.
fn own_args() -> Option<Vec<String>> {
    let service = crate::registry::ServiceHost::try_current()?.name();
    arguments().read().unwrap().get(service).cloned()
}

/// `std::env::args()`, as the running service sees it: the arguments the plan
/// gives it when merged, the process's otherwise.
pub fn args() -> std::vec::IntoIter<String> {
    match own_args() {
        Some(line) => line.into_iter(),
        None => std::env::args().collect::<Vec<_>>().into_iter(),
    }
}

/// `std::env::args_os()`, as the running service sees it (see [`args`]).
pub fn args_os() -> std::vec::IntoIter<OsString> {
    match own_args() {
        Some(line) => line
            .into_iter()
            .map(OsString::from)
            .collect::<Vec<_>>()
            .into_iter(),
        None => std::env::args_os().collect::<Vec<_>>().into_iter(),
    }
}
