//! `knit`: merge Rust gRPC services into one binary at compile time.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use knit_planner::{Graph, Rules};
use knit_rewriter::check::{self, Verdict};
use knit_rewriter::error::Diagnostic;
use knit_rewriter::load::{Loaded, Versions};
use knit_rewriter::merge::Merged;
use knit_rewriter::verify::SourceMap;
use knit_rewriter::{
    Lockfile, diff, emit, error::Error, output_files, prepare, render, report::Report,
};

/// Merges Rust gRPC services into one binary: calls between them become
/// in-process function calls. Reads a merge plan (knit.toml); never modifies
/// its inputs.
#[derive(Parser)]
#[command(
    name = "knit",
    version,
    about = "Merges Rust gRPC services into one binary: calls between them become in-process function calls.",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How errors are printed: with the source line, a caret and a help line
    /// (`human`), or one line each (`short`). Default: human on a terminal.
    #[arg(long, global = true, value_enum)]
    error_format: Option<ErrorFormat>,
    /// Colours of errors and of `diff`; `auto` honours NO_COLOR.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, ValueEnum)]
enum ErrorFormat {
    Human,
    Short,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the merged workspace of PLAN to DIR, with knit.diff and a report.
    Merge {
        /// The merge plan (knit.toml).
        plan: PathBuf,
        /// The output folder: created, or replaced if knit created it.
        #[arg(long, short)]
        out: PathBuf,
        /// How to print the report on stdout.
        #[arg(long, value_enum, default_value_t = Format::Summary)]
        format: Format,
        /// Then run `cargo check --workspace` on DIR; if it does not build, print
        /// the first compiler errors at the services' own lines and exit 2 (DIR
        /// stays for inspection).
        #[arg(long)]
        verify: bool,
    },
    /// Prints the diff the merge makes to the services' sources; writes nothing.
    Diff { plan: PathBuf },
    /// Exits 0 when DIR is exactly what knit generates from PLAN now, 1 when a
    /// service changed since (naming services and files) or a call site stopped
    /// converting, 2 on errors.
    Check {
        plan: PathBuf,
        /// The merged workspace to check.
        #[arg(long)]
        against: PathBuf,
    },
    /// Lists each service of the merged build in DIR with its recorded version
    /// and whether it has moved on since (exit 1 when one has).
    Status { dir: PathBuf },
    /// Ranks which services to merge from a service graph (or OpenTelemetry
    /// traces) and, with --emit-plan, writes the plan of a chosen group.
    Select {
        /// The service graph (JSON; see docs/select.md), or an OTLP/JSON trace export with --otlp.
        graph: PathBuf,
        /// Read GRAPH as OTLP/JSON trace data.
        #[arg(long)]
        otlp: bool,
        /// Rules overriding the defaults (TOML).
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = SelectFormat::Table)]
        format: SelectFormat,
        /// Write a knit.toml for the chosen group to this file.
        #[arg(long)]
        emit_plan: Option<PathBuf>,
        /// The group --emit-plan writes, by rank.
        #[arg(long, default_value_t = 1)]
        group: usize,
    },
    /// Finds the tonic services under PATHs and who calls whom, prints that
    /// graph and writes a plan proposing a group to merge.
    Init {
        /// Folders to scan: repositories, a monorepo, or a folder of repositories
        /// (default: the current folder).
        paths: Vec<PathBuf>,
        /// Where to write the plan (default: knit.toml in the only PATH, or in
        /// the current folder).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// The services of the group, by the names printed (default: the
        /// connected services with the most calls between them).
        #[arg(long, value_delimiter = ',', conflicts_with = "from_select")]
        group: Option<Vec<String>>,
        /// Take the group from a plan that `knit select --emit-plan` wrote.
        #[arg(long)]
        from_select: Option<PathBuf>,
        /// Overwrite an existing plan.
        #[arg(long)]
        force: bool,
    },
    /// Prints a completion script for SHELL (e.g. `knit completions bash >
    /// ~/.local/share/bash-completion/completions/knit`).
    Completions { shell: clap_complete::Shell },
    /// Prints knit's man page (roff): `knit man > knit.1 && man ./knit.1`.
    Man,
    /// Prints the merge report; writes nothing.
    Report {
        plan: PathBuf,
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    /// One line per service and a count of call sites.
    Summary,
    /// The Markdown report.
    Md,
    /// The JSON report.
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ReportFormat {
    /// The Markdown report.
    Md,
    /// The JSON report.
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum SelectFormat {
    /// A table for people.
    Table,
    /// JSON for tools.
    Json,
    /// The fleet graph with the groups, as a Mermaid flowchart.
    Mermaid,
    /// The fleet graph with the groups, in Graphviz dot.
    Dot,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

pub(crate) fn main() -> ExitCode {
    let args = arguments();
    if args.len() == 1 {
        let _ = Cli::command().print_help();
        return ExitCode::SUCCESS;
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // `--help` and `--version`.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", one_line(&e.render().to_string()));
            return ExitCode::from(2);
        }
    };
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let errors = match cli.error_format {
        Some(ErrorFormat::Short) => render::ErrorFormat::Short,
        Some(ErrorFormat::Human) => render::ErrorFormat::Human,
        None if stderr_is_terminal => render::ErrorFormat::Human,
        None => render::ErrorFormat::Short,
    };
    let error_color = cli.color.enabled(stderr_is_terminal);
    match run(cli.command, cli.color) {
        Ok(code) => code,
        Err(Stop::Failed(e)) => {
            eprint!("{}", render::render(&e, errors, error_color));
            ExitCode::from(2)
        }
        // As a Unix tool killed by SIGPIPE: nothing more to say, 128 + 13.
        Err(Stop::ClosedPipe) => ExitCode::from(141),
    }
}

/// Why a command stopped before its end.
enum Stop {
    Failed(Error),
    /// The reader of standard output went away (`knit diff | head -1`).
    ClosedPipe,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Failed(e)
    }
}

impl From<Diagnostic> for Stop {
    fn from(d: Diagnostic) -> Stop {
        Stop::Failed(d.into())
    }
}

/// Writes `text` to standard output: a write that fails is an error, and a
/// closed pipe ends knit quietly.
fn put(stdout: &mut impl Write, text: impl AsRef<[u8]>) -> Result<(), Stop> {
    stdout
        .write_all(text.as_ref())
        .and_then(|()| stdout.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Stop::ClosedPipe,
            _ => Diagnostic::new(format!("cannot write to standard output: {e}")).into(),
        })
}

/// clap's usage error on one line, as every error of knit: its lines joined
/// with `; `, without blank lines and the pointer to `--help`.
fn one_line(usage: &str) -> String {
    let mut text = String::new();
    for line in usage.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("For more information") {
            continue;
        }
        if !text.is_empty() {
            text.push_str(if text.ends_with(':') { " " } else { "; " });
        }
        text.push_str(line.strip_prefix("tip: ").unwrap_or(line));
    }
    text
}

impl Color {
    /// Whether to colour a stream that is (or is not) a terminal.
    fn enabled(self, terminal: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

fn run(command: Command, color: Color) -> Result<ExitCode, Stop> {
    let mut stdout = std::io::stdout().lock();
    match command {
        Command::Merge {
            plan,
            out,
            format,
            verify,
        } => {
            let (loaded, merged) = prepare(&plan, Versions::Read)?;
            let files = output_files(&loaded, &merged, &out, Lockfile::Resolved)?;
            emit::write(&out, &files)?;
            let report = Report::new(&loaded, &merged);
            let text = match format {
                Format::Summary => summary(&report, &out),
                Format::Md => report.to_markdown(),
                Format::Json => report.to_json(),
            };
            put(&mut stdout, text)?;
            drop(report);
            if verify {
                let map = SourceMap::new(&loaded, &merged);
                let passed =
                    knit_rewriter::verify::verify(&out, &map, std::io::stderr().is_terminal())?;
                eprintln!(
                    "knit: verified: cargo check of {} passed ({} crates, {:.1} s)",
                    out.display(),
                    passed.crates,
                    passed.elapsed.as_secs_f64()
                );
            }
            exiting((loaded, merged));
        }
        Command::Diff { plan } => {
            let (loaded, merged) = prepare(&plan, Versions::Skip)?;
            let text = diff::render(&merged.changes);
            let colored = color.enabled(std::io::stdout().is_terminal());
            let text = if colored { diff::colorize(&text) } else { text };
            exiting((loaded, merged));
            put(&mut stdout, text)?;
        }
        Command::Check { plan, against } => {
            return Ok(match check::check(&plan, &against)? {
                Verdict::UpToDate => {
                    eprintln!("knit check: {} is up to date", against.display());
                    ExitCode::SUCCESS
                }
                Verdict::Stale(reasons) => {
                    let mut text = format!("knit check: {} is out of date\n", against.display());
                    for reason in reasons {
                        text.push_str(&format!("  {reason}\n"));
                    }
                    put(&mut stdout, text)?;
                    ExitCode::from(1)
                }
            });
        }
        Command::Status { dir } => {
            let rows = check::status(&dir)?;
            let width = rows
                .iter()
                .map(|r| r.service.len())
                .max()
                .unwrap_or(0)
                .max(7);
            let recorded = rows
                .iter()
                .map(|r| r.recorded.len())
                .max()
                .unwrap_or(0)
                .max(8);
            let mut text = format!("{:width$}  {:recorded$}  now\n", "service", "recorded");
            for r in &rows {
                text.push_str(&format!(
                    "{:width$}  {:recorded$}  {}\n",
                    r.service, r.recorded, r.now
                ));
            }
            put(&mut stdout, text)?;
            return Ok(if rows.iter().any(|r| r.moved) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        Command::Select {
            graph,
            otlp,
            rules,
            format,
            emit_plan,
            group,
        } => {
            let text = read(&graph)?;
            let parsed = if otlp {
                Graph::from_otlp_json(&text)
            } else {
                Graph::from_json(&text)
            };
            let graph_data = parsed.map_err(|e| Diagnostic::in_file(&graph, e))?;
            let rules = match &rules {
                Some(path) => {
                    Rules::from_toml(&read(path)?).map_err(|e| Diagnostic::in_file(path, e))?
                }
                None => Rules::default(),
            };
            let selection = knit_planner::select(&graph_data, &rules);
            let shown = match format {
                SelectFormat::Table => selection.to_table(),
                SelectFormat::Json => selection.to_json(),
                SelectFormat::Mermaid => selection.to_mermaid(&graph_data),
                SelectFormat::Dot => selection.to_dot(&graph_data),
            };
            put(&mut stdout, shown)?;
            if let Some(path) = emit_plan {
                let index = group
                    .checked_sub(1)
                    .ok_or_else(|| Diagnostic::new("--group counts from 1"))?;
                let plan = selection
                    .emit_plan(index, &graph_data)
                    .map_err(|e| Diagnostic::in_file(&graph, e))?;
                std::fs::write(&path, plan)
                    .map_err(|e| Diagnostic::in_file(&path, format!("cannot write: {e}")))?;
                eprintln!(
                    "knit select: wrote the plan of group {group} to {}",
                    path.display()
                );
            }
        }
        Command::Init {
            paths,
            plan,
            group,
            from_select,
            force,
        } => {
            let roots = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            let plan = plan.unwrap_or_else(|| match roots.as_slice() {
                [one] => one.join("knit.toml"),
                _ => PathBuf::from("knit.toml"),
            });
            let group = match from_select {
                Some(file) => Some(knit_rewriter::init::selected_group(&read(&file)?, &file)?),
                None => group,
            };
            let request = knit_rewriter::init::Request {
                roots,
                plan: plan.clone(),
                group,
                force,
            };
            let outcome = knit_rewriter::init::run(&request)?;
            put(&mut stdout, outcome.graph_text())?;
            eprintln!(
                "knit init: wrote {} (group: {}); next: knit merge {} --out DIR",
                plan.display(),
                outcome.group_names().join(", "),
                plan.display()
            );
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "knit", &mut script);
            put(&mut stdout, script)?;
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|e| Diagnostic::new(format!("cannot write the man page: {e}")))?;
            put(&mut stdout, page)?;
        }
        Command::Report { plan, format } => {
            let (loaded, merged) = prepare(&plan, Versions::Skip)?;
            let report = Report::new(&loaded, &merged);
            let text = if format == ReportFormat::Json {
                report.to_json()
            } else {
                report.to_markdown()
            };
            drop(report);
            exiting((loaded, merged));
            put(&mut stdout, text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Leaves the loaded group and its merge to the end of the process, which
/// is near: freeing their syntax trees node by node took a tenth of `knit
/// diff`'s time on a 60-service system (docs/performance.md). Nothing in
/// them does anything when dropped but free memory.
fn exiting(prepared: (Loaded, Merged)) {
    std::mem::forget(prepared);
}

/// The command line, as `knit` sees it: run as `cargo knit ..`, cargo starts
/// `cargo-knit knit ..`, and the subcommand's own name is dropped.
fn arguments() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let as_cargo_subcommand = args
        .first()
        .and_then(|program| std::path::Path::new(program).file_stem())
        .is_some_and(|stem| stem == "cargo-knit");
    if as_cargo_subcommand && args.get(1).is_some_and(|a| a == "knit") {
        args.remove(1);
    }
    args
}

fn read(path: &std::path::Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::in_file(path, format!("cannot read: {e}")).into())
}

fn summary(report: &Report, out: &std::path::Path) -> String {
    let inline = report
        .calls
        .iter()
        .filter(|c| c.tier == knit_passes::Tier::Inline)
        .count();
    let mut text = format!(
        "knit: merged group `{}` into {}\n",
        report.group,
        out.display()
    );
    for s in &report.services {
        text.push_str(&format!(
            "  service {:<12} package {} -> {}\n",
            s.name, s.package, s.merged_package
        ));
    }
    let bridged = report
        .calls
        .iter()
        .filter(|c| c.tier == knit_passes::Tier::Bridged)
        .count();
    let unresolved = match report
        .calls
        .iter()
        .filter(|c| c.tier == knit_passes::Tier::Unresolved)
        .count()
    {
        0 => String::new(),
        n => format!(" ({n} unresolved)"),
    };
    let shared = match report.shared_sites() {
        0 => String::new(),
        n => format!(" ({n} in shared code, counted once per calling service)"),
    };
    // With the services' Cargo configuration, the build runs where Cargo reads it.
    let build = match out.join(knit_rewriter::cargo_config::PATH).is_file() {
        true => format!("cd {} && cargo build -p merged", out.display()),
        false => format!(
            "cargo build --manifest-path {}/Cargo.toml -p merged",
            out.display()
        ),
    };
    text.push_str(&format!(
        "  call sites: {inline} inline, {bridged} bridged, {} left as RPC{unresolved}{shared}\n  review: {}/knit.diff, {}/report.md\n  build:  {build}\n",
        report.calls.len() - inline - bridged,
        out.display(),
        out.display(),
    ));
    text
}
