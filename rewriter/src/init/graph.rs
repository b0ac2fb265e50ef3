//! The service graph of the candidates: loaded and analysed as `knit merge`
//! loads and analyses a group (the same loader, name resolution and passes),
//! with the candidates the loader refuses set aside with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use knit_passes::sharing::Sharing;
use knit_passes::{Level, Tier};

use super::discover::Candidate;
use crate::error::{Diagnostic, Error, Result};
use crate::load::{self, Loaded, Versions};
use crate::plan::Plan;

/// A candidate the analysis kept as a service.
#[derive(Debug)]
pub struct Found {
    /// Its plan name.
    pub name: String,
    pub candidate: Candidate,
    /// The gRPC services it registers, with a tonic or a Volo server
    /// (`helloworld.Greeter`).
    pub serves: BTreeSet<String>,
    /// The environment variables it reads by name.
    pub env: BTreeSet<String>,
    /// What `knit merge` refuses in it as it is (`file:line:col: reason`).
    pub refusals: Vec<String>,
}

/// A client call site.
#[derive(Debug)]
pub struct CallSite {
    /// Index into [`Graph::services`].
    pub caller: usize,
    /// The gRPC service called; `None` where knit could not attribute the client.
    pub callee: Option<String>,
    /// The service that serves `callee`, when one was found.
    pub provider: Option<usize>,
    pub tier: Tier,
    /// `file:line:col`, the file relative to the current folder.
    pub site: String,
    pub detail: String,
    /// The client type the site names when it is not tonic's `XClient` of
    /// the callee (a Volo `XClientBuilder`).
    pub client: Option<String>,
}

/// A candidate that is not a service of the graph, and why.
#[derive(Debug)]
pub struct SetAside {
    pub candidate: Candidate,
    pub reason: String,
}

/// What `knit init` found.
#[derive(Debug, Default)]
pub struct Graph {
    pub services: Vec<Found>,
    pub calls: Vec<CallSite>,
    pub set_aside: Vec<SetAside>,
}

/// Plan names for `candidates`: the binary's name, made a valid plan name;
/// where several binaries share one, the first of their package's name, its
/// folder's name and the folder above that tells them apart.
pub fn names(candidates: &[Candidate]) -> Vec<String> {
    let options = |c: &Candidate| -> Vec<String> {
        let dir = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        let folder = dir(&c.dir).unwrap_or_default();
        let above = c.dir.parent().and_then(dir).unwrap_or_default();
        [
            c.bin.clone(),
            c.package.clone(),
            folder.clone(),
            above.clone(),
            format!("{above}_{folder}"),
        ]
        .iter()
        .map(|n| knit_planner::plan_name(n))
        .collect()
    };
    let all: Vec<Vec<String>> = candidates.iter().map(options).collect();
    let mut names: Vec<String> = all.iter().map(|o| o[0].clone()).collect();
    for i in 0..candidates.len() {
        let twins: Vec<usize> = (0..candidates.len())
            .filter(|&j| all[j][0] == all[i][0])
            .collect();
        if twins.len() < 2 || twins[0] != i {
            continue;
        }
        let level = (1..all[i].len()).find(|&k| {
            let picked: BTreeSet<&String> = twins.iter().map(|&j| &all[j][k]).collect();
            picked.len() == twins.len()
        });
        for &j in &twins {
            names[j] = match level {
                Some(k) => all[j][k].clone(),
                None => all[j][0].clone(),
            };
        }
    }
    // What is still taken twice gets a number.
    let mut taken = BTreeSet::new();
    for name in &mut names {
        let base = name.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            *name = format!("{base}_{n}");
            n += 1;
        }
    }
    names
}

/// The plan that loads `candidates` as one group, paths relative to `plan_dir`.
pub fn provisional_plan(plan_dir: &Path, names: &[String], candidates: &[Candidate]) -> String {
    let listed: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let mut text = format!(
        "[group]\nname = \"knit_init\"\nservices = [{}]\n",
        listed.join(", ")
    );
    for (name, c) in names.iter().zip(candidates) {
        text += &format!(
            "\n[services.{name}]\npath = {}\nbin = {}\n",
            super::toml_string(&super::plan_path(plan_dir, &c.dir)),
            super::toml_string(&c.bin)
        );
    }
    text
}

/// Loads `candidates` as one group, setting aside each one the loader refuses,
/// and analyses what is left.
pub fn analyse(plan_file: &Path, plan_dir: &Path, candidates: Vec<Candidate>) -> Result<Graph> {
    let mut graph = Graph::default();
    let mut left: Vec<(String, Candidate)> =
        names(&candidates).into_iter().zip(candidates).collect();
    loop {
        if left.len() < 2 {
            break;
        }
        let (names, cands): (Vec<String>, Vec<Candidate>) = left.iter().cloned().unzip();
        let text = provisional_plan(plan_dir, &names, &cands);
        let plan = Plan::parse(plan_file, text)?;
        let lines: Vec<usize> = plan.services.iter().map(|s| s.line).collect();
        match crate::in_workers(|| load::load(plan, Versions::Skip))? {
            Ok(loaded) => {
                graph.analyse(&loaded, left)?;
                return Ok(graph);
            }
            Err(Error(diagnostics)) => {
                let refused = culprits(&diagnostics, plan_file, &lines, &left);
                if refused.is_empty() {
                    return Err(Error(diagnostics));
                }
                for (index, reason) in refused.into_iter().rev() {
                    let (_, candidate) = left.remove(index);
                    graph.set_aside.push(SetAside { candidate, reason });
                }
            }
        }
    }
    for (_, candidate) in left {
        graph.set_aside.push(SetAside {
            candidate,
            reason: "no other service to merge it with loaded".into(),
        });
    }
    Ok(graph)
}

/// The candidates `diagnostics` are about (by plan line, service name or
/// file), each with its first diagnostic, in index order.
fn culprits(
    diagnostics: &[Diagnostic],
    plan_file: &Path,
    lines: &[usize],
    left: &[(String, Candidate)],
) -> Vec<(usize, String)> {
    let mut found: BTreeMap<usize, String> = BTreeMap::new();
    for d in diagnostics {
        let by_line = (d.file.as_deref() == Some(plan_file))
            .then(|| {
                d.line
                    .and_then(|(line, _)| lines.iter().position(|l| *l == line))
            })
            .flatten();
        let by_name = || {
            left.iter()
                .position(|(name, _)| d.message.contains(&format!("service `{name}`")))
        };
        let by_file = || {
            let file = d.file.as_deref()?.canonicalize().ok()?;
            left.iter()
                .enumerate()
                .filter(|(_, (_, c))| file.starts_with(&c.dir))
                .max_by_key(|(_, (_, c))| c.dir.components().count())
                .map(|(i, _)| i)
        };
        if let Some(i) = by_line.or_else(by_name).or_else(by_file) {
            found.entry(i).or_insert_with(|| d.message.clone());
        }
    }
    found.into_iter().collect()
}

impl Graph {
    fn analyse(&mut self, loaded: &Loaded, services: Vec<(String, Candidate)>) -> Result<()> {
        let group = &loaded.group;
        let (sharing, output) = crate::in_workers(|| {
            let sharing = Sharing::of(group);
            let output = knit_passes::run_all(group, &sharing);
            (sharing, output)
        })?;
        // tonic's generated servers, by name resolution; Volo's, by the
        // `XServer::new(..)` its own code builds.
        let mut serves = crate::servers::registered(group, &sharing);
        let volo = knit_passes::volo::servers::served(group);
        for s in group.service_ids() {
            serves[s].extend(volo[s].iter().cloned());
        }
        let provider = |callee: &str| serves.values().position(|s| s.contains(callee));
        let here = std::env::current_dir().unwrap_or_default();
        let site = |file: knit_passes::FileId, offset: usize| {
            let f = group.file(file);
            let (line, col) = crate::error::line_col(&f.text, offset);
            let path = super::plan_path(&here, &loaded.origins[file.0 as usize]);
            format!("{path}:{line}:{col}")
        };
        let volo_names = knit_passes::volo::names::Names::of_volo_group(group);
        let mut refusals: Vec<Vec<String>> = vec![Vec::new(); services.len()];
        let mut calls = Vec::new();
        for c in &output.calls {
            let (file, offset) = c.at;
            let (caller, provider) = (c.caller.0, c.callee.as_deref().and_then(provider));
            // A client in a package several services reach (the callee's
            // own client-helper library) calls for the others.
            if provider == Some(caller) && !group.file(file).also.is_empty() {
                continue;
            }
            let order = (caller, file.0, u32::from(offset));
            calls.push((
                order,
                CallSite {
                    caller,
                    callee: c.callee.clone(),
                    provider: provider.filter(|p| *p != caller),
                    tier: c.tier,
                    site: site(file, usize::from(offset)),
                    detail: c.detail.clone(),
                    client: knit_passes::volo::calls::builder_at(group, &volo_names, file, offset),
                },
            ));
        }
        let errors = output.findings.iter().filter(|f| f.level == Level::Error);
        for (f, (file, offset)) in errors.filter_map(|f| Some((f, f.at?))) {
            refusals[group.file(file).service.0].push(format!(
                "{}: {}",
                site(file, usize::from(offset)),
                f.message
            ));
        }
        calls.sort_by_key(|(order, _)| *order);
        // A file several services reach is analysed once per service: one row
        // per caller, callee and site.
        calls.dedup_by(|(_, a), (_, b)| {
            (a.caller, &a.callee, &a.site) == (b.caller, &b.callee, &b.site)
        });
        self.calls = calls.into_iter().map(|(_, call)| call).collect();
        let env = knit_passes::globals::env_reads(group);
        let kept: Vec<bool> = group
            .service_ids()
            .map(|s| !serves[s].is_empty() || self.calls.iter().any(|c| c.caller == s.0))
            .collect();
        // Indices move as set-aside services leave.
        let mut index = vec![usize::MAX; services.len()];
        for (s, ((name, candidate), serves)) in services.into_iter().zip(serves).enumerate() {
            if !kept[s] {
                self.set_aside.push(SetAside {
                    candidate,
                    reason: "serves no gRPC service and makes no gRPC call".into(),
                });
                continue;
            }
            index[s] = self.services.len();
            self.services.push(Found {
                name,
                candidate,
                serves,
                env: env
                    .get(&knit_passes::model::ServiceId(s))
                    .cloned()
                    .unwrap_or_default(),
                refusals: std::mem::take(&mut refusals[s]),
            });
        }
        for call in &mut self.calls {
            call.caller = index[call.caller];
            call.provider = call.provider.map(|p| index[p]);
        }
        Ok(())
    }

    /// The services connected to `start` by calls, `start` included.
    pub fn component(&self, start: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([start]);
        let mut queue = vec![start];
        while let Some(s) = queue.pop() {
            for c in &self.calls {
                let Some(p) = c.provider else { continue };
                let next = if c.caller == s {
                    p
                } else if p == s {
                    c.caller
                } else {
                    continue;
                };
                if seen.insert(next) {
                    queue.push(next);
                }
            }
        }
        seen
    }

    /// The group to propose: the connected services with the most calls
    /// between them (then the most services; then the first found).
    pub fn busiest_group(&self) -> Option<BTreeSet<usize>> {
        let mut best: Option<(usize, usize, BTreeSet<usize>)> = None;
        let mut done = BTreeSet::new();
        for s in 0..self.services.len() {
            if done.contains(&s) {
                continue;
            }
            let members = self.component(s);
            done.extend(members.iter().copied());
            let calls = self.calls_within(&members);
            if members.len() < 2 || calls == 0 {
                continue;
            }
            if best
                .as_ref()
                .is_none_or(|(c, n, _)| (calls, members.len()) > (*c, *n))
            {
                best = Some((calls, members.len(), members));
            }
        }
        best.map(|(_, _, members)| members)
    }

    /// How many call sites go from one of `members` to another.
    pub fn calls_within(&self, members: &BTreeSet<usize>) -> usize {
        self.calls
            .iter()
            .filter(|c| {
                members.contains(&c.caller) && c.provider.is_some_and(|p| members.contains(&p))
            })
            .count()
    }

    /// `members` in start order: each service after those it calls (a cycle is
    /// broken in the order found).
    pub fn start_order(&self, members: &BTreeSet<usize>) -> Vec<usize> {
        let mut order = Vec::new();
        let mut placed = BTreeSet::new();
        while placed.len() < members.len() {
            let ready = members.iter().copied().find(|s| {
                !placed.contains(s)
                    && self.calls.iter().all(|c| {
                        c.caller != *s
                            || c.provider.is_none_or(|p| {
                                p == *s || placed.contains(&p) || !members.contains(&p)
                            })
                    })
            });
            let next = ready.unwrap_or_else(|| {
                *members
                    .iter()
                    .find(|s| !placed.contains(*s))
                    .expect("a member is left")
            });
            placed.insert(next);
            order.push(next);
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn candidate(dir: &str, package: &str, bin: &str) -> Candidate {
        Candidate {
            dir: PathBuf::from(dir),
            package: package.into(),
            bin: bin.into(),
            root: PathBuf::from(dir).join("src/main.rs"),
            one_of_several: false,
        }
    }

    #[test]
    fn names_are_binaries_told_apart_by_package_or_folder() {
        let names = names(&[
            candidate("/r/accounts/server", "server", "server"),
            candidate("/r/payments/server", "server", "server"),
            candidate("/r/users", "users-svc", "users-svc"),
            candidate("/r/a", "api-a", "api"),
            candidate("/r/b", "api-b", "api"),
            candidate("/r/x/same", "same", "same"),
            candidate("/r/x/same", "same", "same"),
        ]);
        assert_eq!(
            names,
            [
                "accounts",
                "payments",
                "users_svc",
                "api_a",
                "api_b",
                "same",
                "same_2"
            ]
        );
    }
}
