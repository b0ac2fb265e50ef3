//! The merge plan (`knit.toml`): which services exist, where they live, and which
//! of them merge into one binary. See docs/plan.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use knit_planner::is_plan_name;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Diagnostic, Result, line_col};

/// A parsed plan.
#[derive(Debug)]
pub struct Plan {
    /// The plan file as given.
    pub file: PathBuf,
    /// The folder that holds it: service paths are relative to it.
    pub dir: PathBuf,
    pub text: String,
    pub group: String,
    /// Worker threads of the merged binary's runtime (tokio's default if unset).
    pub worker_threads: Option<usize>,
    /// How long the merged binary waits, once it shuts down, for the services
    /// that stop by themselves (knit-runtime's default if unset).
    pub shutdown_grace_secs: Option<u64>,
    /// The service whose `#[global_allocator]` the merged binary keeps.
    pub global_allocator: Option<String>,
    /// The services to merge, in start order.
    pub services: Vec<ServiceSpec>,
}

/// One service to merge.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    /// The folder with the service's `Cargo.toml` (a package, or a workspace root).
    pub path: PathBuf,
    /// The package, when the folder is a workspace of several.
    pub package: Option<String>,
    /// The binary whose `main` is the service, when the package has several.
    pub bin: Option<String>,
    /// Whether the service keeps its own listener in the merged binary.
    pub listen: bool,
    /// A git revision to read the service from instead of its working tree.
    pub rev: Option<String>,
    /// Environment variables this service alone sees in the merged binary.
    pub env: Vec<(String, String)>,
    /// The command-line arguments the service's entry is given (after the
    /// program name), when the plan sets them.
    pub args: Option<Vec<String>>,
    /// The working directory the service's relative file reads resolve
    /// against, relative to the plan's folder (`/`-separated, normalised).
    pub cwd: Option<String>,
    /// 1-based line of the service's table in the plan.
    pub line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    group: RawGroup,
    services: BTreeMap<String, Spanned<RawService>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: String,
    worker_threads: Option<usize>,
    shutdown_grace_secs: Option<u64>,
    global_allocator: Option<Spanned<String>>,
    services: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    path: Spanned<String>,
    package: Option<String>,
    bin: Option<String>,
    rev: Option<String>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<String>>,
    args: Option<Spanned<Vec<Spanned<String>>>>,
    cwd: Option<Spanned<String>>,
    #[serde(default = "yes")]
    listen: bool,
}

fn yes() -> bool {
    true
}

/// What is wrong with one `[services.NAME.env]` entry, and the offset to point at:
/// a key the environment cannot hold, or a value whose `${VAR}` is not closed or
/// names no variable (the merged binary would stop at start).
fn env_problem(
    service: &str,
    key: &Spanned<String>,
    value: &Spanned<String>,
) -> Option<(usize, String)> {
    let name = key.get_ref();
    if name.is_empty() {
        return Some((
            key.span().start,
            format!("service `{service}`: an env key cannot be empty"),
        ));
    }
    if name.contains('=') || name.contains('\0') {
        return Some((
            key.span().start,
            format!(
                "service `{service}`: env key `{}`: a variable name cannot contain `=` or NUL",
                name.escape_debug()
            ),
        ));
    }
    let text = value.get_ref();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start..].find('}') else {
            return Some((
                value.span().start,
                format!(
                    "service `{service}`: env `{name}`: unclosed `${{` in `{}` (write `${{VAR}}`)",
                    text.escape_debug()
                ),
            ));
        };
        let var = &rest[start + 2..start + end];
        if var.is_empty() || var.contains('=') || var.contains('\0') {
            return Some((
                value.span().start,
                format!(
                    "service `{service}`: env `{name}`: `${{{}}}` names no variable (write `${{VAR}}`)",
                    var.escape_debug()
                ),
            ));
        }
        rest = &rest[start + end + 1..];
    }
    None
}

/// What is wrong with a service's `args`: an argument holding NUL, which no
/// process argument can.
fn args_problem(
    service: &str,
    args: Option<&Spanned<Vec<Spanned<String>>>>,
) -> Option<(usize, String)> {
    args?.get_ref().iter().find_map(|arg| {
        arg.get_ref().contains('\0').then(|| {
            (
                arg.span().start,
                format!(
                    "service `{service}`: argument `{}` contains NUL, which no command-line argument can hold",
                    arg.get_ref().escape_debug()
                ),
            )
        })
    })
}

/// A service's `cwd`, relative to the plan's folder `dir` and normalised
/// (`a/./b/..` is `a`), or why it is refused: empty, absolute, or not an
/// existing folder.
fn cwd_of(
    service: &str,
    dir: &Path,
    cwd: &Spanned<String>,
) -> std::result::Result<String, (usize, String)> {
    let text = cwd.get_ref();
    let refuse = |why: String| {
        Err((
            cwd.span().start,
            format!("service `{service}`: `cwd = {text:?}`: {why}"),
        ))
    };
    if text.is_empty() {
        return refuse(
            "name a folder relative to the plan's folder (`.` for the plan's folder)".into(),
        );
    }
    if Path::new(text).is_absolute() || text.starts_with('\\') {
        return refuse("an absolute path does not travel with the merged workspace; name a folder relative to the plan's folder".into());
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let normal = if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    };
    if !dir.join(&normal).is_dir() {
        return refuse(format!("no folder `{}`", dir.join(&normal).display()));
    }
    Ok(normal)
}

impl Plan {
    /// Reads and checks the plan at `file`.
    pub fn read(file: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Diagnostic::in_file(file, format!("cannot read the plan: {e}")))?;
        Self::parse(file, text)
    }

    pub fn parse(file: &Path, text: String) -> Result<Plan> {
        let at = |offset: usize, message: String| {
            let (line, col) = line_col(&text, offset);
            Diagnostic::at(file, line, col, message)
        };
        let raw: RawPlan = toml::from_str(&text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim_end().to_string())
        })?;
        if raw.group.worker_threads == Some(0) {
            return Err(at(0, "`worker_threads` must be at least 1".into()).into());
        }
        if !is_plan_name(&raw.group.name) {
            return Err(at(
                0,
                format!(
                    "group name `{}`: use lowercase letters, digits and `_`",
                    raw.group.name
                ),
            )
            .into());
        }
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let mut services = Vec::new();
        let mut errors = Vec::new();
        // The first service's `cwd` (name, folder): the merged process has one.
        let mut first_cwd: Option<(String, String)> = None;
        for name in raw.group.services.get_ref() {
            let span = name.span();
            let name = name.get_ref();
            let Some(spec) = raw.services.get(name) else {
                errors.push(at(
                    span.start,
                    format!(
                        "service `{name}` is in the group but has no `[services.{name}]` table"
                    ),
                ));
                continue;
            };
            if !is_plan_name(name) {
                errors.push(at(
                    span.start,
                    format!("service name `{name}`: use lowercase letters, digits and `_`"),
                ));
                continue;
            }
            if services.iter().any(|s: &ServiceSpec| &s.name == name) {
                errors.push(at(span.start, format!("service `{name}` is listed twice")));
                continue;
            }
            let line = line_col(&text, spec.span().start).0;
            let raw = spec.get_ref();
            let bad_env: Vec<_> = raw
                .env
                .iter()
                .filter_map(|(key, value)| env_problem(name, key, value))
                .map(|(offset, message)| at(offset, message))
                .collect();
            if !bad_env.is_empty() {
                errors.extend(bad_env);
                continue;
            }
            if let Some((offset, message)) = args_problem(name, raw.args.as_ref()) {
                errors.push(at(offset, message));
                continue;
            }
            let cwd = match raw.cwd.as_ref().map(|cwd| cwd_of(name, &dir, cwd)) {
                Some(Err((offset, message))) => {
                    errors.push(at(offset, message));
                    continue;
                }
                Some(Ok(cwd)) => Some(cwd),
                None => None,
            };
            if let (Some(cwd), Some(span)) = (&cwd, raw.cwd.as_ref().map(|c| c.span())) {
                match &first_cwd {
                    Some((other, theirs)) if theirs != cwd => {
                        errors.push(at(span.start, format!(
                            "service `{name}`: `cwd = {cwd:?}`, but service `{other}` has `cwd = {theirs:?}`: a merged process has one working directory; give both the same `cwd`, or make one of them read its files through an absolute path (an environment variable of its `[services.{name}.env]`)"
                        )));
                        continue;
                    }
                    Some(_) => {}
                    None => first_cwd = Some((name.clone(), cwd.clone())),
                }
            }
            let path = dir.join(raw.path.get_ref());
            if !path.join("Cargo.toml").is_file() {
                errors.push(at(
                    raw.path.span().start,
                    format!("service `{name}`: no Cargo.toml in `{}`", path.display()),
                ));
                continue;
            }
            services.push(ServiceSpec {
                name: name.clone(),
                path,
                package: raw.package.clone(),
                bin: raw.bin.clone(),
                listen: raw.listen,
                rev: raw.rev.clone(),
                env: raw
                    .env
                    .iter()
                    .map(|(k, v)| (k.get_ref().clone(), v.get_ref().clone()))
                    .collect(),
                args: raw
                    .args
                    .as_ref()
                    .map(|a| a.get_ref().iter().map(|s| s.get_ref().clone()).collect()),
                cwd,
                line,
            });
        }
        if services.len() + errors.len() < 2 {
            errors.push(at(
                raw.group.services.span().start,
                "a group merges at least two services".into(),
            ));
        }
        if let Some(chosen) = &raw.group.global_allocator
            && !raw
                .group
                .services
                .get_ref()
                .iter()
                .any(|s| s.get_ref() == chosen.get_ref())
        {
            let listed: Vec<&str> = raw
                .group
                .services
                .get_ref()
                .iter()
                .map(|s| s.get_ref().as_str())
                .collect();
            errors.push(at(
                chosen.span().start,
                format!(
                    "`global_allocator = \"{}\"` names no service of the group (services: {})",
                    chosen.get_ref(),
                    listed.join(", ")
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(crate::error::Error(errors));
        }
        Ok(Plan {
            file: file.to_path_buf(),
            dir,
            text,
            group: raw.group.name,
            worker_threads: raw.group.worker_threads,
            shutdown_grace_secs: raw.group.shutdown_grace_secs,
            global_allocator: raw.group.global_allocator.map(Spanned::into_inner),
            services,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> String {
        match Plan::parse(Path::new("knit.toml"), text.to_string()) {
            Ok(plan) => format!("ok: {}", plan.group),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn invalid_toml_names_line() {
        assert_eq!(
            parse("[group]\nname = \"x\nservices = []\n"),
            "error: knit.toml:2:10: invalid basic string, expected `\"`"
        );
    }

    #[test]
    fn missing_service_table_names_line() {
        let plan =
            "[group]\nname = \"g\"\nservices = [\"a\", \"b\"]\n\n[services.a]\npath = \".\"\n";
        let out = parse(plan);
        assert!(
            out.contains(
                "knit.toml:3:18: service `b` is in the group but has no `[services.b]` table"
            ),
            "{out}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let out = parse("[group]\nname = \"g\"\nservices = []\nextra = 1\n");
        assert!(
            out.starts_with("error: knit.toml:4:1: unknown field `extra`"),
            "{out}"
        );
    }

    /// Two services whose folders exist (the test runs in `rewriter/`), `extra`
    /// appended.
    fn two(extra: &str) -> String {
        format!(
            "[group]\nname = \"g\"\nservices = [\"a\", \"b\"]\n\n[services.a]\npath = \".\"\n\n[services.b]\npath = \".\"\n{extra}"
        )
    }

    #[test]
    fn env_templates_must_be_closed_and_named() {
        assert_eq!(parse(&two("")), "ok: g");
        assert_eq!(
            parse(&two("[services.b.env]\nPORT = \"${GREETER_PORT}:x\"\n")),
            "ok: g"
        );
        assert_eq!(
            parse(&two("[services.b.env]\nPORT = \"${PORT\"\n")),
            "error: knit.toml:11:8: service `b`: env `PORT`: unclosed `${` in `${PORT` (write `${VAR}`)"
        );
        assert_eq!(
            parse(&two("[services.b.env]\nPORT = \"a${}b\"\n")),
            "error: knit.toml:11:8: service `b`: env `PORT`: `${}` names no variable (write `${VAR}`)"
        );
    }

    #[test]
    fn the_grace_period_is_whole_seconds() {
        let with = |grace: &str| {
            two("").replace(
                "services = [",
                &format!("shutdown_grace_secs = {grace}\nservices = ["),
            )
        };
        let plan = Plan::parse(Path::new("knit.toml"), with("20")).unwrap();
        assert_eq!(plan.shutdown_grace_secs, Some(20));
        let plan = Plan::parse(Path::new("knit.toml"), two("")).unwrap();
        assert_eq!(plan.shutdown_grace_secs, None);
        assert_eq!(
            parse(&with("-1")),
            "error: knit.toml:3:23: invalid value: integer `-1`, expected u64"
        );
        assert_eq!(
            parse(&with("\"5s\"")),
            "error: knit.toml:3:23: invalid type: string \"5s\", expected u64"
        );
    }

    #[test]
    fn env_keys_must_be_variable_names() {
        assert_eq!(
            parse(&two("[services.b.env]\n\"\" = \"x\"\n")),
            "error: knit.toml:11:1: service `b`: an env key cannot be empty"
        );
        assert_eq!(
            parse(&two("[services.b.env]\n\"A=B\" = \"x\"\n")),
            "error: knit.toml:11:1: service `b`: env key `A=B`: a variable name cannot contain `=` or NUL"
        );
    }

    #[test]
    fn args_are_strings_without_nul() {
        let plan = Plan::parse(
            Path::new("knit.toml"),
            two("args = [\"cart\", \"--addr-var\", \"CART_ADDR\"]\n"),
        )
        .unwrap();
        assert_eq!(plan.services[0].args, None);
        assert_eq!(
            plan.services[1].args.as_deref(),
            Some(&["cart".to_string(), "--addr-var".into(), "CART_ADDR".into()][..])
        );
        assert_eq!(
            parse(&two("args = \"cart\"\n")),
            "error: knit.toml:10:8: invalid type: string \"cart\", expected a sequence"
        );
        assert_eq!(
            parse(&two("args = [1]\n")),
            "error: knit.toml:10:9: invalid type: integer `1`, expected a string"
        );
        assert_eq!(
            parse(&two("args = [\"a\\u0000b\"]\n")),
            "error: knit.toml:10:9: service `b`: argument `a\\0b` contains NUL, which no command-line argument can hold"
        );
    }

    #[test]
    fn cwd_is_a_folder_below_the_plan_and_one_per_process() {
        let plan = Plan::parse(Path::new("knit.toml"), two("cwd = \"./src/../src/\"\n")).unwrap();
        assert_eq!(plan.services[1].cwd.as_deref(), Some("src"));
        assert_eq!(
            parse(&two("cwd = \"/srv/data\"\n")),
            "error: knit.toml:10:7: service `b`: `cwd = \"/srv/data\"`: an absolute path does not travel with the merged workspace; name a folder relative to the plan's folder"
        );
        assert_eq!(
            parse(&two("cwd = \"nope\"\n")),
            "error: knit.toml:10:7: service `b`: `cwd = \"nope\"`: no folder `./nope`"
        );
        assert_eq!(
            parse(&two("cwd = \"\"\n")),
            "error: knit.toml:10:7: service `b`: `cwd = \"\"`: name a folder relative to the plan's folder (`.` for the plan's folder)"
        );
        let both = |cwd: &str| {
            format!(
                "[group]\nname = \"g\"\nservices = [\"a\", \"b\"]\n\n[services.a]\npath = \".\"\ncwd = \"src\"\n\n[services.b]\npath = \".\"\ncwd = \"{cwd}\"\n"
            )
        };
        assert_eq!(
            parse(&both(".")),
            "error: knit.toml:11:7: service `b`: `cwd = \".\"`, but service `a` has `cwd = \"src\"`: a merged process has one working directory; give both the same `cwd`, or make one of them read its files through an absolute path (an environment variable of its `[services.b.env]`)"
        );
        assert_eq!(parse(&both("./src")), "ok: g");
    }

    #[test]
    fn global_allocator_names_a_service_of_the_group() {
        let plan = |chosen: &str| {
            format!(
                "[group]\nname = \"g\"\nservices = [\"a\", \"b\"]\nglobal_allocator = \"{chosen}\"\n\n[services.a]\npath = \".\"\n\n[services.b]\npath = \".\"\n"
            )
        };
        assert_eq!(parse(&plan("b")), "ok: g");
        assert_eq!(
            parse(&plan("c")),
            "error: knit.toml:4:20: `global_allocator = \"c\"` names no service of the group (services: a, b)"
        );
    }
}
