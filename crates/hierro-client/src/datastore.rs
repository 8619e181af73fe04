//! A host's datastores.

use hierro_api::*;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    pub async fn datastores(&self) -> Result<Vec<Datastore>> {
        self.get("/api/datastores").await
    }

    pub async fn add_datastore(&self, req: &DatastoreCreate) -> Result<Datastore> {
        self.call(Method::POST, "/api/datastores", Some(req)).await
    }
}
