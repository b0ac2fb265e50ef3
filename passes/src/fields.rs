//! Struct fields as knit follows them: the values a crate's struct literals
//! give a field, when those are all it can hold.

use ra_ap_syntax::ast::{self, HasName, HasVisibility};
use ra_ap_syntax::{AstNode, SyntaxNode};

use crate::model::{FileId, Group};

/// The values the struct literals of crate `krate` give the field `field`
/// reads (`self.channel` in an `impl` of `Store`: each `Store { channel: .. }`,
/// or `Self { channel }` in an `impl` of it), when knit can tell they are
/// all: the receiver is the `self` of an `impl` of a named type the crate
/// declares, the field is not `pub` (no other crate builds the struct), no
/// literal takes its other fields from elsewhere (`..base`) and no macro's
/// arguments name the type, and nothing in the crate assigns to or borrows
/// mutably a field of that name (`x.channel = ..`).
pub fn values(
    group: &Group,
    krate: FileId,
    field: &ast::FieldExpr,
) -> Option<Vec<(FileId, ast::Expr)>> {
    let receiver = field.expr()?;
    if receiver.syntax().text() != "self" {
        return None;
    }
    let ty = impl_type(field.syntax())?;
    let name = field.name_ref()?.text().to_string();
    let trees: Vec<(FileId, SyntaxNode)> = group
        .rust_files()
        .filter(|(_, _, rust)| rust.krate == krate)
        .map(|(id, _, rust)| (id, rust.tree().syntax().clone()))
        .collect();
    let declared = trees
        .iter()
        .flat_map(|(_, tree)| tree.descendants().filter_map(ast::Struct::cast))
        .filter(|s| s.name().is_some_and(|n| n.text() == ty))
        .collect::<Vec<_>>();
    let [declared] = declared.as_slice() else {
        return None;
    };
    let Some(ast::FieldList::RecordFieldList(fields)) = declared.field_list() else {
        return None;
    };
    let declared_field = fields
        .fields()
        .find(|f| f.name().is_some_and(|n| n.text() == name))?;
    let public = declared_field
        .visibility()
        .is_some_and(|v| v.syntax().text() == "pub");
    if public {
        return None;
    }
    let mut values = Vec::new();
    for (id, tree) in &trees {
        for node in tree.descendants() {
            if let Some(changed) = ast::FieldExpr::cast(node.clone())
                && changed.name_ref().is_some_and(|n| n.text() == name)
                && written(&changed)
            {
                return None;
            }
            if let Some(call) = ast::MacroCall::cast(node.clone())
                && call
                    .token_tree()
                    .is_some_and(|t| t.syntax().text().to_string().contains(ty.as_str()))
            {
                return None;
            }
            let Some(literal) = ast::RecordExpr::cast(node) else {
                continue;
            };
            let named = literal
                .path()
                .and_then(|p| p.segment()?.name_ref())
                .map(|n| n.text().to_string());
            let ours = match named.as_deref() {
                Some("Self") => impl_type(literal.syntax()).as_deref() == Some(ty.as_str()),
                Some(other) => other == ty,
                None => false,
            };
            if !ours {
                continue;
            }
            let list = literal.record_expr_field_list()?;
            if list.spread().is_some() {
                return None;
            }
            let given = list
                .fields()
                .find(|f| f.field_name().is_some_and(|n| n.text() == name));
            values.push((*id, given?.expr()?));
        }
    }
    (!values.is_empty()).then_some(values)
}

/// The last segment of the type the `impl` around `node` is for.
fn impl_type(node: &SyntaxNode) -> Option<String> {
    let block = node.ancestors().find_map(ast::Impl::cast)?;
    let ast::Type::PathType(path) = block.self_ty()? else {
        return None;
    };
    Some(path.path()?.segment()?.name_ref()?.text().to_string())
}

/// Whether `field` is assigned to (`x.f = ..`, `x.f += ..`) or borrowed
/// mutably (`&mut x.f`, `mem::replace(&mut x.f, ..)`).
fn written(field: &ast::FieldExpr) -> bool {
    let Some(parent) = field.syntax().parent() else {
        return false;
    };
    if let Some(assign) = ast::BinExpr::cast(parent.clone()) {
        let assigns = matches!(assign.op_kind(), Some(ast::BinaryOp::Assignment { .. }));
        return assigns && assign.lhs().is_some_and(|l| l.syntax() == field.syntax());
    }
    ast::RefExpr::cast(parent).is_some_and(|r| r.mut_token().is_some())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::fixture::{check, with_frontend};
    use crate::pass::PassId;

    /// `frontend`'s call site, its client made on `self.channel` of a
    /// `Store` whose literals are `literals`; the service sets a timeout on
    /// another endpoint (`billing`), which knit cites when it cannot follow.
    fn site(literals: &str) -> String {
        let main = format!(
            "use tonic::transport::{{Channel, Endpoint}};\nuse std::time::Duration;\nmod hello {{ tonic::include_proto!(\"helloworld\"); }}\n\
             struct Store {{ channel: Channel, name: String }}\n\
             impl Store {{\n{literals}\n    async fn hello(&self) {{\n        let channel = self.channel.clone();\n        let client = hello::greeter_client::GreeterClient::new(channel);\n    }}\n}}\n\
             fn billing() -> Endpoint {{\n    Endpoint::from_static(\"http://billing\").timeout(Duration::from_secs(9))\n}}\n\
             #[tokio::main]\nasync fn main() {{}}\n"
        );
        let found = check(PassId::Calls, &with_frontend(&main)).findings;
        found
            .iter()
            .find(|f| f.starts_with("Call("))
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_channel_in_a_field_is_followed_to_the_literals_that_give_it() {
        let lazy = "    fn connect(url: String) -> Self {\n        let endpoint = Endpoint::from_shared(url).unwrap();\n        let channel = endpoint.connect_lazy();\n        Self { channel, name: String::new() }\n    }";
        expect!["Call(Inline) frontend/src/main.rs:13: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
            .assert_eq(&site(lazy));
        // A second literal whose channel has a timeout: the channel keeps it.
        let timed = format!(
            "{lazy}\n    fn timed(url: String) -> Store {{\n        let channel = Endpoint::from_shared(url).unwrap().timeout(Duration::from_secs(1)).connect_lazy();\n        Store {{ name: String::new(), channel }}\n    }}"
        );
        expect!["Call(Bridged) frontend/src/main.rs:17: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8, frontend/src/main.rs:12: the channel `GreeterClient::new` is given has a timeout an in-process client could not be given (`.timeout(Duration::from_secs(1))`)"].assert_eq(&site(&timed));
        // The field given its value elsewhere: knit cannot tell.
        let assigned = format!(
            "{lazy}\n    fn set(&mut self, channel: Channel) {{\n        self.channel = channel;\n    }}"
        );
        expect!["Call(Rpc) frontend/src/main.rs:16: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:20, which an in-process client would not keep, and knit cannot tell where the channel of the client made at frontend/src/main.rs:16 is connected: its channel comes from `self.channel`, a field knit cannot follow to every value it is given (struct literals of its crate, the field not `pub`, not assigned)"].assert_eq(&site(&assigned));
        // The rest taken from another value.
        let spread = format!(
            "{lazy}\n    fn renamed(&self, name: String) -> Self {{\n        Self {{ name, ..self.clone() }}\n    }}"
        );
        expect!["Call(Rpc) frontend/src/main.rs:16: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:20, which an in-process client would not keep, and knit cannot tell where the channel of the client made at frontend/src/main.rs:16 is connected: its channel comes from `self.channel`, a field knit cannot follow to every value it is given (struct literals of its crate, the field not `pub`, not assigned)"].assert_eq(&site(&spread));
    }
}
