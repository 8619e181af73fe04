//! vSphere's authorization model, as pure functions over data the store
//! loads: no I/O, no database, no async.
//!
//! - A **privilege** is one action (`VirtualMachine.Interact.PowerOn`); the
//!   catalogue is [`Privilege::ALL`].
//! - A **role** is a named set of privileges. Three system roles, not
//!   editable: Administrator (every privilege), Read-only (`System.Anonymous`,
//!   `System.View`, `System.Read`) and No access (nothing, and it denies).
//!   Custom roles always carry the three `System.*` base privileges.
//! - A **permission** gives a principal (user or group) a role on one
//!   inventory object, optionally propagating to the object's subtree.
//! - The **effective rights** of a user on an object are decided by
//!   [`Authz::effective`], which also says which permissions decided them.

use std::collections::{BTreeSet, HashMap};

pub use hierro_api::{Decision, Permission, Principal, Privilege, Reason, Role};

/// The privilege with this id, if it is in the catalogue.
pub fn privilege(id: &str) -> Option<Privilege> {
    id.parse().ok()
}

/// `System.View`: the privilege that makes an object appear in listings.
pub const VIEW: Privilege = Privilege::SystemView;

/// Held by every role except No access (vSphere adds them to custom roles).
pub const BASE_PRIVILEGES: [Privilege; 3] = Privilege::BASE;

/// Role ids of the three system roles.
pub const ADMINISTRATOR_ROLE: &str = "administrator";
pub const READ_ONLY_ROLE: &str = "read-only";
pub const NO_ACCESS_ROLE: &str = "no-access";

/// Why a role is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("{0}")]
    BadName(String),
    #[error("unknown privilege(s): {}", .0.join(", "))]
    UnknownPrivileges(Vec<String>),
    #[error("\"{0}\" is a system role and cannot be changed")]
    SystemRole(String),
}

/// A role refused by the store: a system role cannot change (409), the
/// rest is bad input (400).
impl From<RoleError> for crate::error::StoreError {
    fn from(e: RoleError) -> Self {
        match e {
            RoleError::SystemRole(_) => crate::error::StoreError::Conflict(e.to_string()),
            _ => crate::error::StoreError::Invalid(e.to_string()),
        }
    }
}

/// The rules of roles: the three system roles, and what a custom role may
/// be (vSphere's).
pub trait RoleRules: Sized {
    /// Every privilege in the catalogue.
    fn administrator() -> Self;
    /// View and read, nothing else.
    fn read_only() -> Self;
    /// No privileges; where it decides, it denies everything (see
    /// [`Authz::effective`]).
    fn no_access() -> Self;
    /// The three system roles.
    fn system_roles() -> [Self; 3];
    /// A custom role, validated by [`validate_custom_role`].
    fn custom<I, S>(id: &str, name: &str, privileges: I) -> Result<Self, RoleError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>;
    /// Whether this is the No access role.
    fn is_no_access(&self) -> bool;
    /// Refuses changes to system roles; callers check before editing or
    /// deleting a role.
    fn check_editable(&self) -> Result<(), RoleError>;
}

fn system_role(id: &str, name: &str, privileges: BTreeSet<Privilege>) -> Role {
    Role {
        id: id.to_string(),
        name: name.to_string(),
        privileges,
        system: true,
    }
}

impl RoleRules for Role {
    fn administrator() -> Role {
        let all = Privilege::ALL.iter().copied().collect();
        system_role(ADMINISTRATOR_ROLE, "Administrator", all)
    }

    fn read_only() -> Role {
        let base = BASE_PRIVILEGES.into_iter().collect();
        system_role(READ_ONLY_ROLE, "Read-only", base)
    }

    fn no_access() -> Role {
        system_role(NO_ACCESS_ROLE, "No access", BTreeSet::new())
    }

    fn system_roles() -> [Role; 3] {
        [Role::administrator(), Role::read_only(), Role::no_access()]
    }

    fn custom<I, S>(id: &str, name: &str, privileges: I) -> Result<Role, RoleError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let privileges = privileges
            .into_iter()
            .map(|p| p.as_ref().to_string())
            .collect();
        Ok(Role {
            id: id.to_string(),
            name: hierro_api::display_name("role name", name).map_err(RoleError::BadName)?,
            privileges: validate_custom_role(name, privileges)?,
            system: false,
        })
    }

    fn is_no_access(&self) -> bool {
        self.id == NO_ACCESS_ROLE
    }

    fn check_editable(&self) -> Result<(), RoleError> {
        if self.system {
            return Err(RoleError::SystemRole(self.name.clone()));
        }
        Ok(())
    }
}

/// Checks a custom role's name and privileges, and returns the privileges
/// with the base ones added, as vSphere does. Name uniqueness is the
/// caller's business.
pub fn validate_custom_role(
    name: &str,
    privileges: BTreeSet<String>,
) -> Result<BTreeSet<Privilege>, RoleError> {
    hierro_api::display_name("role name", name).map_err(RoleError::BadName)?;
    let unknown: Vec<String> = privileges
        .iter()
        .filter(|id| privilege(id).is_none())
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(RoleError::UnknownPrivileges(unknown));
    }
    let mut known: BTreeSet<Privilege> = privileges.iter().filter_map(|p| privilege(p)).collect();
    known.extend(BASE_PRIVILEGES);
    Ok(known)
}

/// Whose rights are asked for: a user with its groups, or (to answer "what
/// may this group do") a group alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    pub user: Option<String>,
    pub groups: BTreeSet<String>,
}

impl Subject {
    /// A user and the names of the groups it belongs to.
    pub fn user<I, S>(name: &str, groups: I) -> Subject
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Subject {
            user: Some(name.to_string()),
            groups: groups.into_iter().map(Into::into).collect(),
        }
    }

    /// A group on its own.
    pub fn group(name: &str) -> Subject {
        Subject {
            user: None,
            groups: BTreeSet::from([name.to_string()]),
        }
    }

    /// Whether a permission for `principal` concerns this subject.
    pub fn matches(&self, principal: &Principal) -> bool {
        match principal {
            Principal::User(u) => self.user.as_deref() == Some(u.as_str()),
            Principal::Group(g) => self.groups.contains(g),
        }
    }
}

/// The inventory's shape: each object's parent. Built from the store's
/// (id, parent) pairs.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    parents: HashMap<String, Option<String>>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// Adds or moves an object.
    pub fn insert(&mut self, id: impl Into<String>, parent: Option<String>) {
        self.parents.insert(id.into(), parent);
    }

    /// Forgets an object (its children keep pointing at it).
    pub fn remove(&mut self, id: &str) {
        self.parents.remove(id);
    }

    /// The object's parent, `None` for the root or an unknown object.
    pub fn parent(&self, id: &str) -> Option<&str> {
        self.parents.get(id)?.as_deref()
    }

    /// `id` and its ancestors, nearest first, the root last: the `path` that
    /// [`Authz::effective`] takes. The walk stops at an unknown object, and
    /// at a cycle (which the store should never produce).
    pub fn path<'a>(&'a self, id: &'a str) -> Vec<&'a str> {
        let mut path = vec![id];
        while let Some(parent) = self.parent(path[path.len() - 1]) {
            if path.len() > self.parents.len() {
                break;
            }
            path.push(parent);
        }
        path
    }
}

impl FromIterator<(String, Option<String>)> for Tree {
    fn from_iter<I: IntoIterator<Item = (String, Option<String>)>>(pairs: I) -> Tree {
        Tree {
            parents: pairs.into_iter().collect(),
        }
    }
}

/// Whether `decision` grants `privilege`.
pub fn check(decision: &Decision, privilege: Privilege) -> bool {
    decision.allows(privilege)
}

/// Roles and permissions, indexed for evaluation. Cheap to query; rebuild it
/// (or keep it in the store's cache) when roles or permissions change.
#[derive(Clone, Debug, Default)]
pub struct Authz {
    roles: HashMap<String, Role>,
    by_object: HashMap<String, Vec<Permission>>,
}

impl Authz {
    /// Indexes the roles and permissions. The system roles always come from
    /// this code: stored copies with their ids are ignored, so a catalogue
    /// that grows gives Administrator the new privileges at once.
    pub fn new(
        roles: impl IntoIterator<Item = Role>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Authz {
        let mut authz = Authz::default();
        // The system roles go in last, replacing any stored copies.
        for role in roles.into_iter().chain(Role::system_roles()) {
            authz.roles.insert(role.id.clone(), role);
        }
        for permission in permissions {
            authz
                .by_object
                .entry(permission.object.clone())
                .or_default()
                .push(permission);
        }
        authz
    }

    /// The role with this id.
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.get(id)
    }

    /// The permissions set on one object.
    pub fn permissions_on(&self, object: &str) -> &[Permission] {
        self.by_object.get(object).map_or(&[], Vec::as_slice)
    }

    /// The effective rights of `subject` on `path[0]`, where `path` is the
    /// object followed by its ancestors up to the root (see [`Tree::path`]).
    ///
    /// Walk from the object towards the root. At each object, the applicable
    /// permissions are those for the subject (the user or one of its groups)
    /// set on the object itself, propagating or not, or set on an ancestor
    /// with propagate. The nearest object with at least one applicable
    /// permission decides alone; everything above it is ignored, whichever
    /// principal it names. There, the user's own permission wins over its
    /// groups'; otherwise the roles of all its matching groups add up.
    ///
    /// No access: if the deciding permission is the user's own and names
    /// No access, the user gets nothing. Among group permissions, we treat
    /// No access as an explicit deny that wins: one matching group with No
    /// access at the deciding object removes every privilege, whatever the
    /// other groups grant there (the union is not taken). A permission set
    /// nearer to the object, or the user's own permission at the same
    /// object, still overrides it, as any permission would.
    ///
    /// A permission naming an unknown role decides with no privileges (the
    /// store's foreign keys should make this impossible).
    pub fn effective<S: AsRef<str>>(&self, subject: &Subject, path: &[S]) -> Decision {
        for (depth, object) in path.iter().enumerate() {
            let applicable: Vec<&Permission> = self
                .permissions_on(object.as_ref())
                .iter()
                .filter(|p| (depth == 0 || p.propagate) && subject.matches(&p.principal))
                .collect();
            if !applicable.is_empty() {
                return self.decide(object.as_ref(), applicable);
            }
        }
        Decision::default()
    }

    /// Whether `subject` holds `privilege` on `path[0]`.
    pub fn allows<S: AsRef<str>>(
        &self,
        subject: &Subject,
        path: &[S],
        privilege: Privilege,
    ) -> bool {
        self.effective(subject, path).allows(privilege)
    }

    /// Whether `path[0]` appears in `subject`'s listings (it holds
    /// `System.View` there).
    pub fn visible<S: AsRef<str>>(&self, subject: &Subject, path: &[S]) -> bool {
        self.allows(subject, path, VIEW)
    }

    /// The decision at the nearest object with applicable permissions.
    fn decide(&self, object: &str, applicable: Vec<&Permission>) -> Decision {
        let own = applicable
            .iter()
            .find(|p| matches!(p.principal, Principal::User(_)));
        let deciding = match own {
            Some(own) => vec![*own],
            None => applicable,
        };
        let denying: Vec<&Permission> = deciding
            .iter()
            .copied()
            .filter(|p| p.role == NO_ACCESS_ROLE)
            .collect();
        let no_access = !denying.is_empty();
        let (privileges, reasons) = if no_access {
            (BTreeSet::new(), denying)
        } else {
            let privileges = deciding
                .iter()
                .filter_map(|p| self.role(&p.role))
                .flat_map(|r| r.privileges.iter().cloned())
                .collect();
            (privileges, deciding)
        };
        Decision {
            privileges,
            decided_at: Some(object.to_string()),
            permissions: reasons.into_iter().map(|p| self.reason(p)).collect(),
            no_access,
        }
    }

    fn reason(&self, p: &Permission) -> Reason {
        Reason {
            principal: p.principal.clone(),
            role_id: p.role.clone(),
            role: self
                .role(&p.role)
                .map_or(p.role.clone(), |r| r.name.clone()),
            object: p.object.clone(),
            propagate: p.propagate,
        }
    }
}

/// A user as the directory knows it: its name, its groups, and whether it
/// may log in.
pub struct Account<'a> {
    pub name: &'a str,
    pub groups: &'a [String],
    pub disabled: bool,
}

/// The users that hold Administrator on the root: enabled, their rights
/// there decided by a permission (their own, or a group's) with the
/// Administrator role. vSphere refuses a change that would leave none, as
/// then nobody could give anyone rights again.
pub fn administrators<'a>(authz: &Authz, accounts: &[Account<'a>]) -> Vec<&'a str> {
    accounts
        .iter()
        .filter(|a| !a.disabled)
        .filter(|a| {
            let subject = Subject::user(a.name, a.groups.iter().cloned());
            let d = authz.effective(&subject, &[crate::inventory::ROOT]);
            !d.no_access
                && d.permissions
                    .iter()
                    .any(|r| r.role_id == ADMINISTRATOR_ROLE)
        })
        .map(|a| a.name)
        .collect()
}

#[cfg(test)]
#[path = "authz_tests.rs"]
mod authz_tests;
