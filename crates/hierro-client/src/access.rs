//! A center's users, groups, roles, permissions and API tokens.

use hierro_api::*;
use reqwest::Method;

use crate::{enc, query, Client, Result};

impl Client {
    pub async fn users(&self) -> Result<Vec<User>> {
        self.get("/api/users").await
    }

    pub async fn create_user(&self, req: &NewUser) -> Result<User> {
        self.call(Method::POST, "/api/users", Some(req)).await
    }

    pub async fn delete_user(&self, name: &str) -> Result<()> {
        let path = format!("/api/users/{}", enc(name));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    pub async fn groups(&self) -> Result<Vec<Group>> {
        self.get("/api/groups").await
    }

    pub async fn create_group(&self, req: &NewGroup) -> Result<()> {
        self.call_unit(Method::POST, "/api/groups", Some(req)).await
    }

    pub async fn delete_group(&self, name: &str) -> Result<()> {
        let path = format!("/api/groups/{}", enc(name));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    pub async fn add_member(&self, group: &str, user: &str) -> Result<()> {
        let path = format!("/api/groups/{}/members/{}", enc(group), enc(user));
        self.call_unit(Method::POST, &path, None::<&()>).await
    }

    pub async fn remove_member(&self, group: &str, user: &str) -> Result<()> {
        let path = format!("/api/groups/{}/members/{}", enc(group), enc(user));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    /// The privilege catalogue.
    pub async fn privileges(&self) -> Result<Vec<PrivilegeInfo>> {
        self.get("/api/privileges").await
    }

    pub async fn roles(&self) -> Result<Vec<Role>> {
        self.get("/api/roles").await
    }

    pub async fn create_role(&self, req: &RoleSpec) -> Result<Role> {
        self.call(Method::POST, "/api/roles", Some(req)).await
    }

    /// Changes a custom role's privileges.
    pub async fn update_role(&self, id: &str, req: &RoleSpec) -> Result<Role> {
        let path = format!("/api/roles/{}", enc(id));
        self.call(Method::PUT, &path, Some(req)).await
    }

    pub async fn delete_role(&self, id: &str) -> Result<()> {
        let path = format!("/api/roles/{}", enc(id));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    /// The permissions set on an object (or with `all`, everywhere).
    pub async fn permissions(&self, q: &PermissionQuery) -> Result<Vec<Permission>> {
        let all = q.all.then_some("true");
        let path = query(
            "/api/permissions",
            &[("object", q.object.as_deref()), ("all", all)],
        );
        self.get(&path).await
    }

    pub async fn set_permission(&self, p: &Permission) -> Result<()> {
        self.call_unit(Method::POST, "/api/permissions", Some(p))
            .await
    }

    pub async fn remove_permission(&self, key: &PermissionKey) -> Result<()> {
        let path = query(
            "/api/permissions",
            &[
                ("principal", Some(&key.principal)),
                ("object", Some(&key.object)),
            ],
        );
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    /// What a principal (the caller, by default) may do on an object, and
    /// which permissions decided it.
    pub async fn effective(&self, q: &EffectiveQuery) -> Result<Effective> {
        let path = query(
            "/api/effective",
            &[
                ("object", Some(&q.object)),
                ("principal", q.principal.as_deref()),
            ],
        );
        self.get(&path).await
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.get("/api/tokens").await
    }

    /// A new API token for the caller; its secret is in the answer only.
    pub async fn create_api_token(&self, req: &TokenRequest) -> Result<NewToken> {
        self.call(Method::POST, "/api/tokens", Some(req)).await
    }

    pub async fn revoke_api_token(&self, id: &str) -> Result<()> {
        let path = format!("/api/tokens/{}", enc(id));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }
}
