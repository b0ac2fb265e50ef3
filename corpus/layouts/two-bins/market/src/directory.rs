//! The buyers the market knows, with what each may still order today.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tonic::{Request, Response, Status};

use crate::pb::users::users_server::Users;
use crate::pb::users::{LookupRequest, User};

/// The users service's handler: a fixed set of buyers and their allowances.
pub struct Directory {
    allowances: Mutex<BTreeMap<u32, (String, u32)>>,
}

impl Default for Directory {
    fn default() -> Self {
        let buyers = [(1, "ada", 3), (2, "grace", 1), (3, "edsger", 0)];
        let allowances = buyers
            .into_iter()
            .map(|(id, name, allowance)| (id, (name.to_string(), allowance)))
            .collect();
        Directory {
            allowances: Mutex::new(allowances),
        }
    }
}

#[tonic::async_trait]
impl Users for Directory {
    async fn lookup(&self, request: Request<LookupRequest>) -> Result<Response<User>, Status> {
        let id = request.into_inner().id;
        let mut allowances = self.allowances.lock().unwrap();
        let (name, allowance) = allowances
            .get_mut(&id)
            .ok_or_else(|| Status::not_found(format!("no buyer {id}")))?;
        let user = User {
            id,
            name: name.clone(),
            allowance: *allowance,
        };
        // Each lookup spends one order of the allowance: state that carries over.
        *allowance = allowance.saturating_sub(1);
        Ok(Response::new(user))
    }
}
