//! Sessions: who the server is, logging in and out, a host's service
//! tokens for its center, and (on a center) users' API tokens.

use hierro_api::*;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    pub async fn login(&mut self, username: &str, password: &str) -> Result<LoginResponse> {
        let r: LoginResponse = self
            .call(
                Method::POST,
                "/api/session",
                Some(&LoginRequest {
                    username: username.into(),
                    password: password.into(),
                }),
            )
            .await?;
        self.token = Some(r.token.clone());
        Ok(r)
    }

    pub async fn logout(&mut self) -> Result<()> {
        self.send(Method::DELETE, "/api/session", None::<&()>)
            .await?;
        self.token = None;
        Ok(())
    }

    pub async fn about(&self) -> Result<About> {
        self.get("/api/about").await
    }

    pub async fn create_service_token(&self, name: &str) -> Result<ServiceTokenResponse> {
        self.call(
            Method::POST,
            "/api/service-tokens",
            Some(&ServiceTokenRequest { name: name.into() }),
        )
        .await
    }

    pub async fn revoke_service_token(&self, name: &str) -> Result<()> {
        self.send(
            Method::DELETE,
            &format!("/api/service-tokens/{name}"),
            None::<&()>,
        )
        .await?;
        Ok(())
    }
}
