//! The functions a service's `main` runs its server through, in its own file,
//! other files of its binary, or the libraries of the service's path
//! dependencies: `main` → `app::run(cfg)` → `grpc::start(addr, state)` →
//! `grpc_kit::serve(..)`, each building or serving tonic servers as `main`
//! would.
//!
//! Followed from `main`'s body (and from the function a synchronous `main`
//! builds its runtime in): calls to a function of those crates by a path knit
//! resolves, free (`run(..)`, `app::run(..)`, `crate::`/`self::`/`super::`
//! paths, `use` imports, a dependency's path `grpc_kit::serve(..)` through its
//! re-exports) or associated (`Server::run(..)`, `Self::start(..)`, an inherent
//! `impl` of the crate), and methods of such an impl on a receiver whose type
//! knit tells (`self`, `App::new(cfg)?.run()`, `let app = App { .. };
//! app.serve()`, `Options::parse().run()` of clap's derive), and the futures of a `join!`/`try_join!` by path, then the
//! calls of each function followed, to any depth. A dependency's library is the service's own copy in the merged
//! workspace, so edits there touch no other service. A function is followed
//! when it:
//! - is called on the entry's own task, or in a task spawned there with its
//!   future as the call (or an `async` block around it) makes it: not inside
//!   a closure, nor in a future kept to be polled elsewhere, where the host
//!   the code reaches through `ServiceHost::current()` (a task-local the host
//!   sets) would not be set; a spawned future runs in the service's scope
//!   (`entry.rs` wraps it);
//! - has no type parameters (its server is one, not one per instantiation);
//! - is named nowhere else in those crates (test code aside) than at calls
//!   followed: code reached another way would register or serve under no host.
//!
//! A service whose entry is lifted into its package's library is walked the
//! same way, for the functions of its binary and of its path dependencies:
//! its library is its entry's code as a whole ([`super::entry_scope`]), so its
//! functions are not listed as reached.

use std::collections::{BTreeMap, HashMap, HashSet};

use ra_ap_syntax::ast::{self, HasArgList, HasName};
use ra_ap_syntax::{AstNode, SyntaxKind, SyntaxNode, TextRange, TextSize};

use crate::model::{FileId, Group, ServiceId};
use crate::volo::names::{Names, scope_of, segments};

/// How many arguments a method that gives a `Result`'s or an `Option`'s
/// value, or keeps it while mapping the error, takes: `App::new(cfg).expect(..)`
/// is an `App`. `None` for other methods.
fn unwrap_arity(method: &str) -> Option<usize> {
    match method {
        "unwrap" | "unwrap_or_default" => Some(0),
        "expect" | "unwrap_or_else" | "context" | "with_context" | "wrap_err" | "wrap_err_with"
        | "map_err" | "inspect_err" => Some(1),
        _ => None,
    }
}

/// What the walk from a service's `main` found (made once per service, with
/// the sharing decisions).
#[derive(Debug, Default)]
pub struct Deep {
    /// The functions followed, outside `main` and its runtime's function:
    /// (file, the function's range).
    pub reached: Vec<(FileId, TextRange)>,
    /// Futures spawned with a call followed in them, which the entry runs in
    /// the service's scope: (file, the future, whether `main` (or its
    /// runtime's function) spawns it).
    pub spawned: Vec<(FileId, TextRange, bool)>,
    /// Where the walk stopped.
    pub unreached: Unreached,
}

/// Where the walk from a service's `main` stopped, to tell why a server
/// built past there is not the entry's (kept per service by the sharing
/// decisions, so that a reason does not walk again).
#[derive(Debug, Default)]
pub struct Unreached {
    /// The functions of the crate knit stopped at.
    stops: Vec<Stop>,
    /// Functions reached only through one it stopped at: (file, range, the
    /// index of that stop).
    beyond: Vec<(FileId, TextRange, usize)>,
}

/// A function knit did not follow, and why.
#[derive(Debug)]
struct Stop {
    name: String,
    at: (FileId, TextRange),
    why: String,
}

impl Deep {
    /// The functions followed, found again in their files' trees.
    pub fn functions(&self, group: &Group) -> Vec<(FileId, ast::Fn)> {
        self.reached
            .iter()
            .filter_map(|&(file, range)| {
                let tree = group.file(file).rust.as_ref()?.tree();
                let f = tree
                    .syntax()
                    .covering_element(range)
                    .ancestors()
                    .filter_map(ast::Fn::cast)
                    .find(|f| f.syntax().text_range() == range)?;
                Some((file, f))
            })
            .collect()
    }
}

impl Unreached {
    /// Why knit does not follow the function at `range` of `file` named
    /// `name`: it stopped there, or at a function on the way to it.
    pub fn why_not(&self, file: FileId, range: TextRange, name: &str) -> Option<String> {
        if let Some(stop) = self.stops.iter().find(|s| s.at == (file, range)) {
            return Some(stop.why.clone());
        }
        let (_, _, stop) = self
            .beyond
            .iter()
            .find(|(f, r, _)| (*f, *r) == (file, range))?;
        let stop = &self.stops[*stop];
        Some(format!(
            "`main` reaches `{name}` through `{}`, where knit stops: {}",
            stop.name, stop.why
        ))
    }
}

/// A function of the crates walked: its crate (root file), file, module and
/// syntax, and for an associated function the name of the type of its
/// inherent `impl`.
struct CrateFn {
    krate: FileId,
    file: FileId,
    module: Vec<String>,
    owner: Option<String>,
    f: ast::Fn,
}

impl CrateFn {
    fn key(&self) -> (FileId, TextRange) {
        (self.file, self.f.syntax().text_range())
    }

    fn name(&self) -> String {
        self.f
            .name()
            .map(|n| n.text().to_string())
            .unwrap_or_default()
    }
}

/// The crates a walk covers: a binary and the libraries it reaches by path
/// dependencies (or one library).
struct Crate<'a> {
    group: &'a Group,
    /// The crate the walk starts in.
    root: FileId,
    /// The crates' name index ([`Crate::names`]), made when first asked.
    names: std::cell::OnceCell<Names>,
    /// Per crate, the libraries of the service it names by their crate names.
    externs: BTreeMap<FileId, BTreeMap<String, FileId>>,
    fns: Vec<CrateFn>,
    /// The indices of `fns` by the functions' names.
    by_name: HashMap<String, Vec<usize>>,
    /// Where code outside test files names a function of `fns`, by the
    /// function's name, found for a name when first asked ([`Crate::uses`]).
    uses: std::cell::RefCell<HashMap<String, std::rc::Rc<Uses>>>,
}

/// Where code names a function: (file, the path or the method's name,
/// whether by a method call); test code inside a file is told apart when
/// asked.
type Uses = Vec<(FileId, TextRange, bool)>;

/// A call to a function of the crate: where, the callee's path (a method's
/// name), the call (for one among a `join!`'s futures, the macro, which polls
/// it on its task) and the function (an index of [`Crate::fns`]).
struct Call {
    file: FileId,
    callee: TextRange,
    call: SyntaxNode,
    target: usize,
    joined: bool,
}

/// The functions `service`'s `main` runs its server through (see the module's
/// documentation); for an entry lifted into a library, those outside it.
pub(crate) fn deep(group: &Group, service: ServiceId) -> Deep {
    let lib = super::lifted_into_lib(group, service).map(|lib| lib.root);
    let Some(main) = super::main_fn(group, service) else {
        return Deep::default();
    };
    let root = group.services[service].bin.root;
    let mut starts = vec![main.clone()];
    if main.async_token().is_none() {
        starts.extend(super::runtime::delegate(&main));
    }
    let mut externs = externs(group, service);
    if lib.is_some() {
        // Lifted into its library, whose code is the entry's whole: the walk
        // is for the binary's functions and the dependencies it names.
        named_by_binary(group, root, &mut externs);
    }
    let krate = Crate::of(group, root, externs);
    let starts: Vec<(FileId, TextRange)> = starts
        .iter()
        .map(|f| (root, f.syntax().text_range()))
        .collect();
    // Functions named outside the calls followed are left out, and the walk
    // done again without them, until none is.
    let mut banned: Vec<((FileId, TextRange), String)> = Vec::new();
    loop {
        let (reached, mut stops, followed, spawned) = krate.walk(&starts, &banned);
        let elsewhere = reached.iter().find_map(|&i| {
            let f = &krate.fns[i];
            let (path, line) = krate.named_outside(f, &followed)?;
            Some((f.key(), format!(
                "`{}` is also named at {path}:{line}, outside the calls knit follows from `main`: code reached that way would serve under no host",
                f.name()
            )))
        });
        if let Some(ban) = elsewhere {
            banned.push(ban);
            continue;
        }
        stops.sort_by_key(|(i, _)| *i);
        stops.dedup_by_key(|(i, _)| *i);
        // What lies past each stop, for the reasons of servers built there.
        let mut beyond = Vec::new();
        let mut seen: HashSet<(FileId, TextRange)> = starts.iter().copied().collect();
        seen.extend(reached.iter().map(|&i| krate.fns[i].key()));
        seen.extend(stops.iter().map(|(i, _)| krate.fns[*i].key()));
        for (index, (stop, _)) in stops.iter().enumerate() {
            let mut todo = vec![*stop];
            while let Some(i) = todo.pop() {
                let f = &krate.fns[i];
                for call in krate.calls(f.file, &f.f) {
                    let key = krate.fns[call.target].key();
                    if seen.insert(key) {
                        beyond.push((key.0, key.1, index));
                        todo.push(call.target);
                    }
                }
            }
        }
        let in_lib = |file: FileId| {
            let rust = group.file(file).rust.as_ref();
            lib.is_some() && rust.map(|r| r.krate) == lib
        };
        return Deep {
            reached: reached
                .iter()
                .map(|&i| krate.fns[i].key())
                .filter(|(file, _)| !in_lib(*file))
                .collect(),
            spawned: spawned
                .into_iter()
                .filter(|(file, ..)| !in_lib(*file))
                .collect(),
            unreached: Unreached {
                stops: stops
                    .into_iter()
                    .map(|(i, why)| Stop {
                        name: krate.fns[i].name(),
                        at: krate.fns[i].key(),
                        why,
                    })
                    .collect(),
                beyond,
            },
        };
    }
}

/// The futures the crate rooted at `root` (a library its service's entry is
/// lifted into) spawns that call, directly or through its other functions, a
/// function with code at `edited` (a serve or a registration through
/// `ServiceHost::current()`): a spawned task does not inherit the host, so
/// the entry runs each in the service's scope. A future as it is handed to
/// `spawn*(..)`, not a closure; none in test code. With `main` (in its file),
/// also the futures `main` spawns by calling a serving function of the
/// library by its name (`actix_web::rt::spawn(grpc::serve(addr, state))`).
pub(crate) fn spawned_into(
    group: &Group,
    root: FileId,
    edited: &[(FileId, TextRange)],
    main: Option<(FileId, &ast::Fn)>,
) -> Vec<(FileId, TextRange)> {
    // A future is spawned by a call of `spawn*`, which its file spells.
    let spawns = group
        .rust_files()
        .any(|(_, file, rust)| rust.krate == root && file.text.contains("spawn"))
        || main.is_some_and(|(file, _)| group.file(file).text.contains("spawn"));
    if !spawns {
        return Vec::new();
    }
    let krate = Crate::of(group, root, BTreeMap::new());
    let holds = |f: &CrateFn| {
        let (file, range) = f.key();
        edited
            .iter()
            .any(|(e, at)| *e == file && range.contains_range(*at))
    };
    let mut serving: Vec<bool> = krate.fns.iter().map(holds).collect();
    // The calls of each function, resolved only in files that name a serving
    // function (most name none).
    let mut calls: Vec<Option<Vec<Call>>> = krate.fns.iter().map(|_| None).collect();
    // Callers of serving functions serve, to a fixed point.
    loop {
        let names: HashSet<String> = krate
            .fns
            .iter()
            .zip(&serving)
            .filter(|(_, serves)| **serves)
            .map(|(f, _)| f.name())
            .collect();
        let named = |file: FileId| {
            names
                .iter()
                .any(|n| group.file(file).text.contains(n.as_str()))
        };
        let before = serving.iter().filter(|s| **s).count();
        for (i, f) in krate.fns.iter().enumerate() {
            if !named(f.file) {
                continue;
            }
            let calls = calls[i].get_or_insert_with(|| krate.calls(f.file, &f.f));
            if calls.iter().any(|c| serving[c.target]) {
                serving[i] = true;
            }
        }
        if serving.iter().filter(|s| **s).count() == before {
            break;
        }
    }
    let calls: Vec<Vec<Call>> = calls.into_iter().map(Option::unwrap_or_default).collect();
    let mut futures = Vec::new();
    if let Some((file, main)) = main {
        // `async` ones only: what they return is a future, whatever the
        // spawn takes it as.
        let names: HashSet<String> = krate
            .fns
            .iter()
            .zip(&serving)
            .filter(|(f, serves)| **serves && f.f.async_token().is_some())
            .map(|(f, _)| f.name())
            .collect();
        futures.extend(
            spawned_by_name(main, &names)
                .into_iter()
                .map(|future| (file, future)),
        );
    }
    for calls in &calls {
        for call in calls.iter().filter(|c| serving[c.target]) {
            let spawned = call
                .call
                .ancestors()
                .take_while(|n| {
                    !ast::Fn::can_cast(n.kind()) && !ast::ClosureExpr::can_cast(n.kind())
                })
                .filter_map(ast::ArgList::cast)
                .filter(|args| called(args).is_some_and(|c| c.starts_with("spawn")))
                .filter_map(|args| args.args().next())
                .filter(|future| !matches!(future, ast::Expr::ClosureExpr(_)))
                .last();
            let source = group.file(call.file);
            let test = source.rust.as_ref().is_some_and(|r| r.test_only)
                || crate::compiled::not_compiled(group, call.file, call.callee);
            if let Some(future) = spawned.filter(|_| !test) {
                let at = (call.file, future.syntax().text_range());
                if !futures.contains(&at) {
                    futures.push(at);
                }
            }
        }
    }
    futures
}

/// Paths of the functions that spawn a task on tokio's or actix's runtime.
const TASK_SPAWNS: &[&str] = &[
    "spawn",
    "spawn_local",
    "tokio::spawn",
    "tokio::task::spawn",
    "tokio::task::spawn_local",
    "task::spawn",
    "task::spawn_local",
    "actix_web::rt::spawn",
    "actix_rt::spawn",
    "rt::spawn",
];

/// The futures `main` hands to a task spawn ([`TASK_SPAWNS`]) that are calls
/// of an `async` function named in `names`.
fn spawned_by_name(main: &ast::Fn, names: &HashSet<String>) -> Vec<TextRange> {
    let Some(body) = main.body() else {
        return Vec::new();
    };
    let spawns = body
        .syntax()
        .descendants()
        .filter_map(ast::CallExpr::cast)
        .filter(|call| {
            let Some(ast::Expr::PathExpr(path)) = call.expr() else {
                return false;
            };
            let path: String = path
                .syntax()
                .text()
                .to_string()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            TASK_SPAWNS.contains(&path.as_str())
        });
    let called = |future: &ast::Expr| match future {
        ast::Expr::CallExpr(call) => match call.expr() {
            Some(ast::Expr::PathExpr(path)) => path
                .path()
                .and_then(|p| p.segment()?.name_ref())
                .map(|n| n.text().to_string()),
            _ => None,
        },
        ast::Expr::MethodCallExpr(call) => call.name_ref().map(|n| n.text().to_string()),
        _ => None,
    };
    spawns
        .filter_map(|call| call.arg_list()?.args().next())
        .filter(|future| called(future).is_some_and(|name| names.contains(&name)))
        .map(|future| future.syntax().text_range())
        .collect()
}

/// Constructors that a derive or a common trait gives a type, each returning
/// `Self` (or `Result<Self, _>`): clap's `Parser`, structopt's `StructOpt`,
/// `Default`.
const DERIVED_CONSTRUCTORS: [&str; 7] = [
    "parse",
    "try_parse",
    "parse_from",
    "try_parse_from",
    "from_args",
    "from_iter",
    "default",
];

/// The type `T` that `T::parse()` or `<T as clap::Parser>::parse()` (one of
/// [`DERIVED_CONSTRUCTORS`], a function the crates do not define) makes.
fn derived_constructor(path: &ast::Path) -> Option<String> {
    let name = path.segment()?.name_ref()?.text().to_string();
    if !DERIVED_CONSTRUCTORS.contains(&name.as_str()) {
        return None;
    }
    let qualifier = path.qualifier()?.segment()?;
    let ty = match qualifier.type_anchor() {
        Some(anchor) => match anchor.ty()? {
            ast::Type::PathType(ty) => ty.path()?.segment()?,
            _ => return None,
        },
        None => qualifier,
    };
    let ty = ty.name_ref()?.text().to_string();
    // A type (`Options`), not a module (`config::parse()`).
    ty.starts_with(char::is_uppercase).then_some(ty)
}

fn has_self(f: &ast::Fn) -> bool {
    f.param_list().and_then(|p| p.self_param()).is_some()
}

/// The crates of `service` its binary reaches by path dependencies, each with
/// the libraries it names (crate name → root): the binary's package's
/// dependencies first, then theirs.
fn externs(group: &Group, service: ServiceId) -> BTreeMap<FileId, BTreeMap<String, FileId>> {
    let packages = &group.services[service].packages;
    let bin = group.services[service].bin.root;
    let mut externs: BTreeMap<FileId, BTreeMap<String, FileId>> = BTreeMap::new();
    let mut todo = vec![(bin, 0)];
    while let Some((krate, package)) = todo.pop() {
        if externs.contains_key(&krate) {
            continue;
        }
        let mut named = BTreeMap::new();
        for dep in &packages[package].local_deps {
            let Some(p) = packages.iter().position(|p| p.name == dep.package) else {
                continue;
            };
            if let Some(lib) = &packages[p].lib {
                named.insert(dep.key.replace('-', "_"), lib.root);
                todo.push((lib.root, p));
            }
        }
        externs.insert(krate, named);
    }
    externs
}

/// `externs` with only the libraries the binary rooted at `root` names in
/// its files (`grpc_kit::..`), and those they name.
fn named_by_binary(
    group: &Group,
    root: FileId,
    externs: &mut BTreeMap<FileId, BTreeMap<String, FileId>>,
) {
    let texts: Vec<&str> = group
        .rust_files()
        .filter(|(_, _, rust)| rust.krate == root)
        .map(|(_, file, _)| file.text.as_str())
        .collect();
    if let Some(own) = externs.get_mut(&root) {
        own.retain(|key, _| texts.iter().any(|t| t.contains(&format!("{key}::"))));
    }
    let mut kept = vec![root];
    let mut todo = vec![root];
    while let Some(krate) = todo.pop() {
        for &lib in externs
            .get(&krate)
            .into_iter()
            .flat_map(|named| named.values())
        {
            if !kept.contains(&lib) {
                kept.push(lib);
                todo.push(lib);
            }
        }
    }
    externs.retain(|krate, _| kept.contains(krate));
}

impl<'a> Crate<'a> {
    /// The crate rooted at `root` and the crates `externs` lists (each with
    /// the libraries it names).
    fn of(
        group: &'a Group,
        root: FileId,
        externs: BTreeMap<FileId, BTreeMap<String, FileId>>,
    ) -> Crate<'a> {
        let walked = |krate: FileId| krate == root || externs.contains_key(&krate);
        let mut fns = Vec::new();
        for (file, _, rust) in group.rust_files().filter(|(_, _, r)| walked(r.krate)) {
            for f in rust.tree().syntax().descendants().filter_map(ast::Fn::cast) {
                let parent = f.syntax().parent();
                let imp = parent
                    .as_ref()
                    .filter(|p| ast::AssocItemList::can_cast(p.kind()))
                    .and_then(|p| p.parent())
                    .and_then(ast::Impl::cast);
                let free = parent.as_ref().is_some_and(|p| {
                    ast::SourceFile::can_cast(p.kind()) || ast::ItemList::can_cast(p.kind())
                });
                let owner = match imp {
                    // Inherent impls only: a trait's method is not called by
                    // its type's path alone.
                    Some(imp) if imp.trait_().is_none() => match self_type(&imp) {
                        Some(ty) => Some(ty),
                        None => continue,
                    },
                    Some(_) => continue,
                    None if free => None,
                    None => continue,
                };
                fns.push(CrateFn {
                    krate: rust.krate,
                    file,
                    module: scope_of(&rust.module, f.syntax()),
                    owner,
                    f,
                });
            }
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in fns.iter().enumerate() {
            by_name.entry(f.name()).or_default().push(i);
        }
        Crate {
            group,
            root,
            names: std::cell::OnceCell::new(),
            externs,
            fns,
            by_name,
            uses: Default::default(),
        }
    }

    /// The walked crates' name index: only a call to resolve needs it.
    fn names(&self) -> &Names {
        self.names.get_or_init(|| {
            Names::of_crates(self.group, |krate| {
                krate == self.root || self.externs.contains_key(&krate)
            })
        })
    }

    /// Where the crates name functions called `name` (the `uses` field):
    /// only files that spell it are walked, when a walk reaches such a
    /// function.
    fn uses(&self, name: &str) -> std::rc::Rc<Uses> {
        if let Some(found) = self.uses.borrow().get(name) {
            return found.clone();
        }
        let walked = |krate: FileId| krate == self.root || self.externs.contains_key(&krate);
        let mut uses = Uses::new();
        for (file, source, rust) in self.group.rust_files() {
            if !walked(rust.krate) || rust.test_only || !source.text.contains(name) {
                continue;
            }
            for name_ref in rust
                .tree()
                .syntax()
                .descendants()
                .filter_map(ast::NameRef::cast)
                .filter(|n| n.text() == name)
            {
                if let Some(at) = naming(&name_ref) {
                    uses.push((file, at.0, at.1));
                }
            }
        }
        let uses = std::rc::Rc::new(uses);
        self.uses
            .borrow_mut()
            .insert(name.to_string(), uses.clone());
        uses
    }

    /// The calls in `caller`'s body (not in the items it nests) of functions
    /// of the crate: by path, and methods on a receiver whose type knit tells
    /// ([`Crate::resolve_method`]).
    fn calls(&self, file: FileId, caller: &ast::Fn) -> Vec<Call> {
        let Some(body) = caller.body() else {
            return Vec::new();
        };
        body.syntax()
            .descendants()
            .filter(|node| {
                matches!(
                    node.kind(),
                    SyntaxKind::CALL_EXPR | SyntaxKind::METHOD_CALL_EXPR
                )
            })
            .filter(|node| {
                !node
                    .ancestors()
                    .take_while(|n| n != body.syntax())
                    .any(|n| ast::Fn::can_cast(n.kind()))
            })
            .filter_map(|node| {
                let (callee, target) = match ast::Expr::cast(node.clone())? {
                    ast::Expr::CallExpr(call) => {
                        let ast::Expr::PathExpr(callee) = call.expr()? else {
                            return None;
                        };
                        let path = callee.path()?;
                        let target = self.resolve(file, caller, &path)?;
                        (path.syntax().text_range(), target)
                    }
                    ast::Expr::MethodCallExpr(call) => {
                        let target = self.resolve_method(file, caller, &call)?;
                        (call.name_ref()?.syntax().text_range(), target)
                    }
                    _ => return None,
                };
                Some(Call {
                    file,
                    callee,
                    call: node,
                    target,
                    joined: false,
                })
            })
            .chain(self.joined_calls(file, caller, &body))
            .collect()
    }

    /// The calls of functions of the crate that are the futures of a
    /// `join!`/`try_join!` in `body` (`tokio::try_join!(grpc(addr),
    /// http(addr))`), by path: the macro's tokens parsed on their own.
    fn joined_calls(&self, file: FileId, caller: &ast::Fn, body: &ast::BlockExpr) -> Vec<Call> {
        const WRAP: &str = "fn f() { (";
        let mut calls = Vec::new();
        for mac in body.syntax().descendants().filter_map(ast::MacroCall::cast) {
            let name = mac
                .path()
                .and_then(|p| p.segment())
                .map(|s| s.syntax().text().to_string());
            let nested = mac
                .syntax()
                .ancestors()
                .take_while(|n| n != body.syntax())
                .any(|n| ast::Fn::can_cast(n.kind()));
            let Some(tokens) = mac.token_tree() else {
                continue;
            };
            if nested || !matches!(name.as_deref(), Some("join" | "try_join")) {
                continue;
            }
            let text = tokens.syntax().text().to_string();
            let Some(inner) = text.get(1..text.len().saturating_sub(1)) else {
                continue;
            };
            let parsed = ast::SourceFile::parse(
                &format!("{WRAP}{inner},) }}"),
                ra_ap_syntax::Edition::CURRENT,
            );
            let base = tokens.syntax().text_range().start() + TextSize::of("(");
            let shift = |r: TextRange| r - TextSize::of(WRAP) + base;
            let futures = parsed
                .tree()
                .syntax()
                .descendants()
                .find_map(ast::TupleExpr::cast)
                .into_iter()
                .flat_map(|t| t.fields());
            for future in futures {
                let ast::Expr::CallExpr(call) = future else {
                    continue;
                };
                let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
                    continue;
                };
                let Some(path) = callee.path() else { continue };
                if let Some(target) = self.resolve(file, caller, &path) {
                    calls.push(Call {
                        file,
                        callee: shift(path.syntax().text_range()),
                        call: mac.syntax().clone(),
                        target,
                        joined: true,
                    });
                }
            }
        }
        calls
    }

    /// The method of the crate (an index of [`Crate::fns`]) that `call`, in
    /// `caller` of `file`, calls, when knit tells its receiver's type: `self`
    /// in an inherent impl, a constructor of the crate's type that returns
    /// it (`App::new(cfg)?`, through `?`, `.await`, `.unwrap()`,
    /// `.expect(..)` and `.context(..)`), a struct literal, or
    /// a `let` of one of those (or with the type written). Then the one
    /// method of that name, taking `self`, in an inherent impl of a type of
    /// that name.
    fn resolve_method(
        &self,
        file: FileId,
        caller: &ast::Fn,
        call: &ast::MethodCallExpr,
    ) -> Option<usize> {
        let name = call.name_ref()?.text().to_string();
        let named = self.by_name.get(&name)?;
        if !named.iter().any(|&i| has_self(&self.fns[i].f)) {
            return None;
        }
        let ty = self.type_of(file, caller, &call.receiver()?, call.syntax(), 0)?;
        let methods: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&i| {
                self.fns[i].owner.as_deref() == Some(ty.as_str()) && has_self(&self.fns[i].f)
            })
            .collect();
        match methods.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The name of the crate's type that `e` (in `caller` of `file`, used at
    /// `at`) is a value of, when knit tells it (see [`Crate::resolve_method`]).
    fn type_of(
        &self,
        file: FileId,
        caller: &ast::Fn,
        e: &ast::Expr,
        at: &SyntaxNode,
        depth: usize,
    ) -> Option<String> {
        match e {
            ast::Expr::ParenExpr(p) => self.type_of(file, caller, &p.expr()?, at, depth),
            ast::Expr::TryExpr(t) => self.type_of(file, caller, &t.expr()?, at, depth),
            ast::Expr::AwaitExpr(a) => self.type_of(file, caller, &a.expr()?, at, depth),
            // What a `Result` or `Option` holds, unwrapped or its error mapped.
            ast::Expr::MethodCallExpr(m) => {
                let name = m.name_ref()?.text().to_string();
                if unwrap_arity(&name)? != ast::HasArgList::arg_list(m)?.args().count() {
                    return None;
                }
                let ty = self.type_of(file, caller, &m.receiver()?, at, depth)?;
                // A method of that name of the type's own is not the unwrap.
                let own = self.by_name.get(&name).is_some_and(|named| {
                    named
                        .iter()
                        .any(|&i| self.fns[i].owner.as_deref() == Some(ty.as_str()))
                });
                (!own).then_some(ty)
            }
            ast::Expr::RecordExpr(r) => Some(r.path()?.segment()?.name_ref()?.text().to_string()),
            ast::Expr::CallExpr(c) => {
                let ast::Expr::PathExpr(callee) = c.expr()? else {
                    return None;
                };
                let path = callee.path()?;
                let Some(f) = self.resolve(file, caller, &path) else {
                    return derived_constructor(&path);
                };
                let f = &self.fns[f];
                let owner = f.owner.clone()?;
                let ret = f.f.ret_type()?.ty()?.syntax().to_string().replace(' ', "");
                // `Self`, or the type, alone or in a `Result`/`Option`.
                let returns = |t: &str| {
                    ret == t || ret.ends_with(&format!("<{t}>")) || ret.contains(&format!("<{t},"))
                };
                (returns("Self") || returns(&owner)).then_some(owner)
            }
            ast::Expr::PathExpr(p) => {
                let name = p.path()?.as_single_name_ref()?.text().to_string();
                if name == "self" {
                    let imp = caller.syntax().ancestors().find_map(ast::Impl::cast)?;
                    return imp.trait_().is_none().then(|| self_type(&imp)).flatten();
                }
                let binding = crate::locals::binding(at, &name)?;
                if let Some(ast::Type::PathType(ty)) = binding.ty() {
                    return Some(ty.path()?.segment()?.name_ref()?.text().to_string());
                }
                if depth >= 4 {
                    return None;
                }
                let init = binding.initializer()?;
                self.type_of(file, caller, &init, binding.syntax(), depth + 1)
            }
            _ => None,
        }
    }

    /// Walks from `starts`: the functions reached (indices of `fns`), the
    /// functions stopped at (index, why), the calls followed (file, the
    /// callee's path) and the futures spawned with them.
    #[allow(clippy::type_complexity)]
    fn walk(
        &self,
        starts: &[(FileId, TextRange)],
        banned: &[((FileId, TextRange), String)],
    ) -> (
        Vec<usize>,
        Vec<(usize, String)>,
        Vec<(FileId, TextRange)>,
        Vec<(FileId, TextRange, bool)>,
    ) {
        let mut spawned = Vec::new();
        let mut reached = Vec::new();
        let mut stops = Vec::new();
        let mut followed = Vec::new();
        let mut seen: HashSet<(FileId, TextRange)> = starts.iter().copied().collect();
        let root = self.group.file(self.root).rust.as_ref().map(|r| r.tree());
        let mut todo: Vec<(FileId, ast::Fn)> = starts
            .iter()
            .filter_map(|(_, range)| {
                root.as_ref()?
                    .syntax()
                    .descendants()
                    .filter_map(ast::Fn::cast)
                    .find(|f| f.syntax().text_range() == *range)
                    .map(|f| (self.root, f))
            })
            .collect();
        while let Some((file, caller)) = todo.pop() {
            let Some(body) = caller.body() else { continue };
            for Call {
                file,
                callee,
                call,
                target,
                joined,
            } in self.calls(file, &caller)
            {
                let (index, target) = (target, &self.fns[target]);
                let key = target.key();
                if starts.contains(&key) {
                    continue;
                }
                let name = target.name();
                // A `join!` polls its futures on the task it runs on.
                let awaits = target.f.async_token().is_some() && !joined;
                let future = match on_task(&call, awaits, body.syntax(), self.group, file) {
                    Ok(future) => future,
                    Err(why) => {
                        stops.push((index, format!("`main` reaches `{name}` only {why}")));
                        continue;
                    }
                };
                if let Some((_, why)) = banned.iter().find(|(k, _)| *k == key) {
                    stops.push((index, why.clone()));
                    continue;
                }
                followed.push((file, callee));
                if let Some(future) = future {
                    let in_main = starts.contains(&(file, caller.syntax().text_range()));
                    spawned.push((file, future, in_main));
                }
                if seen.insert(key) {
                    reached.push(index);
                    todo.push((target.file, target.f.clone()));
                }
            }
        }
        (reached, stops, followed, spawned)
    }
    /// The function of the crate (an index of [`Crate::fns`]) `path`, called
    /// in `caller` of `file`, names.
    fn resolve(&self, file: FileId, caller: &ast::Fn, path: &ast::Path) -> Option<usize> {
        let rust = self.group.file(file).rust.as_ref()?;
        let krate = rust.krate;
        let module = scope_of(&rust.module, caller.syntax());
        let mut written = segments(path)?;
        // `Self::start(..)` in an inherent impl: its type's path.
        if written.first().is_some_and(|s| s == "Self") {
            let imp = caller.syntax().ancestors().find_map(ast::Impl::cast)?;
            written[0] = self_type(&imp)?;
        }
        let resolved = self.names().resolve(krate, &module, &written);
        let dependency = resolved.split_first().and_then(|(first, rest)| {
            let lib = *self.externs.get(&krate)?.get(first)?;
            Some((lib, rest))
        });
        let (krate, absolute) = match (resolved.split_first(), dependency) {
            (Some((first, rest)), _) if first == "crate" => (krate, rest.to_vec()),
            // `grpc_kit::serve`: from the library's root, through its re-exports.
            (_, Some((lib, rest))) => {
                let from_root = [&["crate".to_string()], rest].concat();
                let resolved = self.names().resolve(lib, &[], &from_root);
                (
                    lib,
                    resolved.strip_prefix(&["crate".to_string()][..])?.to_vec(),
                )
            }
            _ => (krate, [module.as_slice(), &resolved].concat()),
        };
        let (name, parent) = absolute.split_last()?;
        let named = self.by_name.get(name)?;
        let fns = || {
            named
                .iter()
                .copied()
                .map(|i| (i, &self.fns[i]))
                .filter(|(_, f)| f.krate == krate)
        };
        if let Some((free, _)) = fns().find(|(_, f)| f.owner.is_none() && f.module == parent) {
            return Some(free);
        }
        // `Type::f`: the inherent impls of a type of that name with an `f`,
        // the one in the type's module when there are several.
        let (ty, ty_module) = parent.split_last()?;
        let owned: Vec<(usize, &CrateFn)> = fns()
            .filter(|(_, f)| f.owner.as_deref() == Some(ty.as_str()))
            .collect();
        match owned.as_slice() {
            [(one, _)] => Some(*one),
            many => many
                .iter()
                .find(|(_, f)| f.module == ty_module)
                .map(|(i, _)| *i),
        }
    }

    /// Where the crate names the function `f` (by a path; by a method call too
    /// when it takes `self`, unless knit tells the call is another type's)
    /// other than at the calls `followed` and in test code: the file's path
    /// and line.
    fn named_outside(
        &self,
        f: &CrateFn,
        followed: &[(FileId, TextRange)],
    ) -> Option<(String, usize)> {
        let method = has_self(&f.f);
        // Free functions and those of inherent `impl`s (the only ones walked)
        // are called only in their crate and in crates that depend on it: a
        // binary's `run` is not another crate's `run`.
        let uses = self.uses(&f.name());
        let (file, at, _) = uses.iter().find(|(file, at, by_method)| {
            let elsewhere = !followed.contains(&(*file, *at))
                && !crate::compiled::not_compiled(self.group, *file, *at)
                && self.sees(*file, f.krate);
            match by_method {
                // A function of an `impl` is named by a path of several
                // segments (`Self::start`): a bare `start` is a variable.
                false => elsewhere && (f.owner.is_none() || self.qualified(*file, *at)),
                true => method && elsewhere && self.may_call(*file, *at, f),
            }
        })?;
        let source = self.group.file(*file);
        let (line, _) = source.line_col(at.start());
        Some((source.path.clone(), line))
    }

    /// Whether the path at `at` of `file` has several segments.
    fn qualified(&self, file: FileId, at: TextRange) -> bool {
        let text = &self.group.file(file).text;
        text.get(usize::from(at.start())..usize::from(at.end()))
            .is_none_or(|path| path.contains("::"))
    }

    /// Whether code of `file` may name a function of the crate rooted at
    /// `krate`: `file` is of that crate, or of one that depends on it (for a
    /// file several crates compile, any of them).
    fn sees(&self, file: FileId, krate: FileId) -> bool {
        let Some(rust) = self.group.file(file).rust.as_ref() else {
            return true;
        };
        // A file several crates compile is each one's code.
        let mut seen: HashSet<FileId> = rust.crates().collect();
        let mut todo: Vec<FileId> = seen.iter().copied().collect();
        while let Some(k) = todo.pop() {
            if k == krate {
                return true;
            }
            for &dep in self.externs.get(&k).into_iter().flat_map(|d| d.values()) {
                if seen.insert(dep) {
                    todo.push(dep);
                }
            }
        }
        false
    }

    /// Whether the method call named at `at` in `file` may call `f`: not when
    /// its receiver is a tonic router (whose `serve` is tonic's), nor when knit
    /// tells the receiver is of another type.
    fn may_call(&self, file: FileId, at: TextRange, f: &CrateFn) -> bool {
        let Some(rust) = self.group.file(file).rust.as_ref() else {
            return true;
        };
        let tree = rust.tree();
        let call = tree
            .syntax()
            .covering_element(at)
            .ancestors()
            .find_map(ast::MethodCallExpr::cast);
        let Some(call) = call else { return true };
        if crate::router::serves_a_tonic_router(call.receiver()) {
            return false;
        }
        let caller = call.syntax().ancestors().find_map(ast::Fn::cast);
        let ty = caller.zip(call.receiver()).and_then(|(caller, receiver)| {
            self.type_of(file, &caller, &receiver, call.syntax(), 0)
        });
        ty.is_none_or(|ty| f.owner.as_deref() == Some(ty.as_str()))
    }
}

/// Whether `name_ref` names a function: the last segment of a path outside
/// a `use` item or an attribute (the path's range), or a method call's name
/// (its range, and `true`).
fn naming(name_ref: &ast::NameRef) -> Option<(TextRange, bool)> {
    let parent = name_ref.syntax().parent()?;
    if ast::MethodCallExpr::can_cast(parent.kind()) {
        return Some((name_ref.syntax().text_range(), true));
    }
    let path = parent.parent().and_then(ast::Path::cast)?;
    // A `use`, or an attribute (`#[tokio::main]` names a macro, not a
    // function called `main`).
    let in_use = path
        .syntax()
        .ancestors()
        .any(|a| ast::Use::can_cast(a.kind()) || ast::Meta::can_cast(a.kind()));
    let last = path.syntax().parent().and_then(ast::Path::cast).is_none();
    (!in_use && last).then(|| (path.syntax().text_range(), false))
}

/// The name of an inherent `impl`'s type (`Worker` of `impl<T> Worker<T>`).
fn self_type(imp: &ast::Impl) -> Option<String> {
    match imp.self_ty()? {
        ast::Type::PathType(ty) => Some(ty.path()?.segment()?.name_ref()?.text().to_string()),
        _ => None,
    }
}

/// Whether `call`, in `body`, runs on the task that runs `body`, or in a
/// task spawned there with its future (`tokio::spawn(app::run(cfg))`,
/// `tokio::spawn(async move { app::run(cfg).await })`): then `Ok` with that
/// future, which the entry runs in the service's scope. `Err` with why not:
/// inside a closure, in a future (an `async` block, or the call's own when
/// `awaits`) neither awaited where it is made nor spawned.
fn on_task(
    call: &SyntaxNode,
    awaits: bool,
    body: &SyntaxNode,
    group: &Group,
    file: FileId,
) -> Result<Option<TextRange>, String> {
    let line = |node: &SyntaxNode| {
        let source = group.file(file);
        let (line, _) = source.line_col(node.text_range().start());
        format!("{}:{line}", source.path)
    };
    const UNAWAITED: &str =
        "knit follows futures awaited on the entry's task, or spawned as they are made, only";
    // The future a spawn takes, and its argument list.
    let mut spawned: Option<(TextRange, ast::ArgList)> = None;
    let spawns = |future: &SyntaxNode, spawned: &mut Option<_>| match handed_to(future) {
        Some(args)
            if spawned.is_none() && called(&args).is_some_and(|c| c.starts_with("spawn")) =>
        {
            *spawned = Some((future.text_range(), args));
            true
        }
        _ => false,
    };
    if awaits && !awaited(call) && !spawns(call, &mut spawned) {
        return Err(format!(
            "through a future not awaited where the call makes it (at {}): {UNAWAITED}",
            line(call)
        ));
    }
    for node in call.ancestors().take_while(|n| n != body) {
        if ast::ClosureExpr::can_cast(node.kind()) {
            return Err(format!(
                "inside a closure (at {}), which knit does not follow",
                line(&node)
            ));
        }
        if let Some(args) = ast::ArgList::cast(node.clone())
            && called(&args).is_some_and(|c| c.starts_with("spawn"))
            && spawned.as_ref().is_none_or(|(_, taken)| *taken != args)
        {
            return Err(format!(
                "in a task it spawns (at {}) with a future knit does not follow: there the service's host is not current (`ServiceHost::current()`)",
                line(&node)
            ));
        }
        let future = ast::BlockExpr::cast(node.clone()).is_some_and(|b| b.async_token().is_some());
        if future && !awaited(&node) && !spawns(&node, &mut spawned) {
            return Err(format!(
                "inside an `async` block (at {}) not awaited where it is written: {UNAWAITED}",
                line(&node)
            ));
        }
    }
    Ok(spawned.map(|(future, _)| future))
}

/// The argument list `future` (through parentheses) is an argument of.
fn handed_to(future: &SyntaxNode) -> Option<ast::ArgList> {
    let mut node = future.clone();
    loop {
        let parent = node.parent()?;
        if ast::ParenExpr::can_cast(parent.kind()) {
            node = parent;
            continue;
        }
        return ast::ArgList::cast(parent);
    }
}

/// Whether the future `expr` makes is awaited where it is made
/// (`f(..).await`, through parentheses), or handed to a runtime's
/// `block_on(..)`, which the entry makes an `.await`.
fn awaited(expr: &SyntaxNode) -> bool {
    let mut node = expr.clone();
    while let Some(parent) = node.parent() {
        if ast::ParenExpr::can_cast(parent.kind()) {
            node = parent;
            continue;
        }
        if ast::AwaitExpr::can_cast(parent.kind()) {
            return true;
        }
        return ast::ArgList::cast(parent)
            .and_then(|args| called(&args))
            .is_some_and(|c| c == "block_on");
    }
    false
}

/// The name of the function or method whose arguments are `args`.
fn called(args: &ast::ArgList) -> Option<String> {
    match ast::Expr::cast(args.syntax().parent()?)? {
        ast::Expr::CallExpr(c) => match c.expr()? {
            ast::Expr::PathExpr(p) => Some(p.path()?.segment()?.name_ref()?.text().to_string()),
            _ => None,
        },
        ast::Expr::MethodCallExpr(m) => Some(m.name_ref()?.text().to_string()),
        _ => None,
    }
}
