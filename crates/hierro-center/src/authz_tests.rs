//! Tests of the authorization model: the system roles, custom role
//! validation, named scenarios over a generated inventory (the pure half of
//! the issue's permission matrix test), and a brute-force comparison with a
//! naive reference implementation over random trees and permissions.

use super::*;
use std::collections::HashMap;

/// A privilege by its id.
fn pv(id: &str) -> Privilege {
    id.parse().unwrap()
}

// ---------------------------------------------------------------- roles

#[test]
fn catalogue_has_unique_ids_and_the_required_privileges() {
    let ids: BTreeSet<&str> = Privilege::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(ids.len(), Privilege::ALL.len(), "duplicate privilege id");
    for required in [
        "System.Anonymous",
        "System.View",
        "System.Read",
        "Global.Settings",
        "Folder.Create",
        "Folder.Delete",
        "Folder.Move",
        "Folder.Rename",
        "Datacenter.Create",
        "Datacenter.Delete",
        "Host.Inventory.AddHostToCluster",
        "Host.Inventory.AddStandaloneHost",
        "Host.Inventory.RemoveHostFromCluster",
        "Host.Inventory.CreateCluster",
        "Host.Config.Network",
        "Host.Config.Storage",
        "Host.Config.Maintenance",
        "Datastore.AllocateSpace",
        "Datastore.Browse",
        "Network.Assign",
        "VirtualMachine.Inventory.Create",
        "VirtualMachine.Inventory.Delete",
        "VirtualMachine.Inventory.Move",
        "VirtualMachine.Interact.PowerOn",
        "VirtualMachine.Interact.PowerOff",
        "VirtualMachine.Interact.Reset",
        "VirtualMachine.Interact.ConsoleInteract",
        "VirtualMachine.Config.CPUCount",
        "VirtualMachine.Config.Memory",
        "VirtualMachine.Config.EditDevice",
        "VirtualMachine.State.CreateSnapshot",
        "VirtualMachine.State.RevertToSnapshot",
        "VirtualMachine.State.RemoveSnapshot",
        "VirtualMachine.Provisioning.Clone",
        "Resource.AssignVMToPool",
        "Resource.HotMigrate",
        "Authorization.ModifyPermissions",
        "Authorization.ModifyRoles",
        "Authorization.ReassignRolePermissions",
        "Sessions.TerminateSession",
        "Task.Create",
        "Task.Update",
        "Alarm.Create",
        "Alarm.Acknowledge",
    ] {
        assert!(ids.contains(required), "{required} missing");
    }
    for &p in Privilege::ALL {
        assert!(!p.description().is_empty(), "{p} has no description");
        assert_eq!(privilege(p.as_str()), Some(p));
    }
    assert_eq!(privilege("VirtualMachine.Interact.Fly"), None);
}

#[test]
fn system_roles() {
    let admin = Role::administrator();
    assert_eq!(admin.name, "Administrator");
    assert_eq!(admin.privileges.len(), Privilege::ALL.len());
    assert!(Privilege::ALL.iter().all(|p| admin.privileges.contains(p)));

    let read_only = Role::read_only();
    assert_eq!(read_only.name, "Read-only");
    assert_eq!(read_only.privileges, BTreeSet::from(BASE_PRIVILEGES));

    let no_access = Role::no_access();
    assert_eq!(no_access.name, "No access");
    assert!(no_access.privileges.is_empty());
    assert!(no_access.is_no_access());
    assert!(!admin.is_no_access() && !read_only.is_no_access());

    for role in Role::system_roles() {
        assert!(role.system);
        assert_eq!(
            role.check_editable(),
            Err(RoleError::SystemRole(role.name.clone()))
        );
    }
    let ids: BTreeSet<String> = Role::system_roles().into_iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn stored_copies_of_system_roles_are_replaced_by_the_code() {
    let mut stale = Role::administrator();
    stale.privileges = BTreeSet::from([Privilege::SystemView]);
    let authz = Authz::new([stale], []);
    assert_eq!(authz.role(ADMINISTRATOR_ROLE), Some(&Role::administrator()));
    assert_eq!(authz.role(NO_ACCESS_ROLE), Some(&Role::no_access()));
    assert_eq!(authz.role(READ_ONLY_ROLE), Some(&Role::read_only()));
}

#[test]
fn custom_role_gets_the_base_privileges() {
    let role = Role::custom("r1", "VM user", ["VirtualMachine.Interact.PowerOn"]).unwrap();
    assert_eq!(role.name, "VM user");
    assert!(!role.system);
    assert_eq!(role.check_editable(), Ok(()));
    let expected: BTreeSet<Privilege> = [
        "System.Anonymous",
        "System.View",
        "System.Read",
        "VirtualMachine.Interact.PowerOn",
    ]
    .map(pv)
    .into();
    assert_eq!(role.privileges, expected);

    // An empty custom role still sees and reads.
    let empty = Role::custom("r2", "Viewer", Vec::<String>::new()).unwrap();
    assert_eq!(empty.privileges, Role::read_only().privileges);
}

#[test]
fn custom_role_refuses_unknown_privileges_naming_them() {
    let err = Role::custom(
        "r1",
        "Bad",
        ["VirtualMachine.Interact.PowerOn", "VM.Fly", "Host.Teleport"],
    )
    .unwrap_err();
    assert_eq!(
        err,
        RoleError::UnknownPrivileges(vec!["Host.Teleport".into(), "VM.Fly".into()])
    );
    let message = err.to_string();
    assert!(message.contains("VM.Fly") && message.contains("Host.Teleport"));
    assert!(!message.contains("PowerOn"), "{message}");
}

#[test]
fn custom_role_refuses_an_empty_long_or_hidden_name() {
    let long = "r".repeat(81);
    for name in ["", "   ", "a\u{0}b", "a\u{200B}b", long.as_str()] {
        assert!(
            matches!(
                validate_custom_role(name, BTreeSet::new()),
                Err(RoleError::BadName(_))
            ),
            "{name:?}"
        );
    }
}

#[test]
fn principal_serializes_as_kind_and_name() {
    let user = serde_json::to_value(Principal::User("alice".into())).unwrap();
    assert_eq!(user, serde_json::json!({ "user": "alice" }));
    let group: Principal = serde_json::from_value(serde_json::json!({ "group": "ops" })).unwrap();
    assert_eq!(group, Principal::Group("ops".into()));
}

// ---------------------------------------------------------------- tree

#[test]
fn tree_path_walks_to_the_root_and_survives_cycles() {
    let tree: Tree = [
        ("root".to_string(), None),
        ("dc".to_string(), Some("root".to_string())),
        ("vm".to_string(), Some("dc".to_string())),
    ]
    .into_iter()
    .collect();
    assert_eq!(tree.path("vm"), ["vm", "dc", "root"]);
    assert_eq!(tree.path("root"), ["root"]);
    assert_eq!(tree.path("unknown"), ["unknown"]);
    assert_eq!(tree.parent("dc"), Some("root"));

    let mut cyclic = Tree::new();
    cyclic.insert("a", Some("b".into()));
    cyclic.insert("b", Some("a".into()));
    assert!(cyclic.path("a").len() <= 3);
}

// ---------------------------------------------------------------- scenarios

/// The scenario inventory: root -> dc -> for each branch x a folder `f-x`
/// holding `vm-x-0`, then `f-x-1` and `f-x-1-1` nested below it, the deepest
/// holding `vm-x-1` and `vm-x-2`.
fn scenario_tree() -> Tree {
    let mut tree = Tree::new();
    tree.insert("root", None);
    tree.insert("dc", Some("root".into()));
    for x in ["a", "b", "c", "d", "e", "f", "g"] {
        let (f1, f2, f3) = (format!("f-{x}"), format!("f-{x}-1"), format!("f-{x}-1-1"));
        tree.insert(f1.clone(), Some("dc".into()));
        tree.insert(f2.clone(), Some(f1.clone()));
        tree.insert(f3.clone(), Some(f2));
        tree.insert(format!("vm-{x}-0"), Some(f1));
        tree.insert(format!("vm-{x}-1"), Some(f3.clone()));
        tree.insert(format!("vm-{x}-2"), Some(f3));
    }
    tree
}

/// Every object id of the scenario tree, sorted.
fn scenario_objects() -> Vec<String> {
    let tree = scenario_tree();
    let mut ids: Vec<String> = tree.parents.keys().cloned().collect();
    ids.sort();
    ids
}

const POWER: [&str; 3] = [
    "VirtualMachine.Interact.PowerOn",
    "VirtualMachine.Interact.PowerOff",
    "VirtualMachine.Interact.ConsoleInteract",
];
const SNAPSHOTS: [&str; 2] = [
    "VirtualMachine.State.CreateSnapshot",
    "VirtualMachine.State.RevertToSnapshot",
];

fn custom_roles() -> Vec<Role> {
    vec![
        Role::custom("vm-user", "VM user", POWER).unwrap(),
        Role::custom("snapshots", "Snapshot taker", SNAPSHOTS).unwrap(),
    ]
}

/// Users in overlapping groups.
fn user(name: &str) -> Subject {
    let groups: &[&str] = match name {
        "alice" => &["ops", "dev"],
        "bob" => &["dev"],
        "carol" => &["ops", "auditors"],
        "erin" => &["dev", "contractors"],
        _ => &[],
    };
    Subject::user(name, groups.iter().copied())
}

fn perm(principal: &str, role: &str, object: &str, propagate: bool) -> Permission {
    let principal = match principal.strip_prefix('@') {
        Some(group) => Principal::Group(group.into()),
        None => Principal::User(principal.into()),
    };
    Permission {
        principal,
        role: role.into(),
        object: object.into(),
        propagate,
    }
}

/// The scenario world with these permissions (`@name` is a group).
struct World {
    tree: Tree,
    authz: Authz,
}

impl World {
    fn new(permissions: Vec<Permission>) -> World {
        World {
            tree: scenario_tree(),
            authz: Authz::new(custom_roles(), permissions),
        }
    }

    fn on(&self, who: &str, object: &str) -> Decision {
        self.authz.effective(&user(who), &self.tree.path(object))
    }

    fn role_of(&self, who: &str, object: &str) -> BTreeSet<Privilege> {
        self.on(who, object).privileges
    }

    /// The objects `who` sees in listings.
    fn visible(&self, who: &str) -> Vec<String> {
        scenario_objects()
            .into_iter()
            .filter(|o| self.authz.visible(&user(who), &self.tree.path(o)))
            .collect()
    }
}

fn privileges_of(role: &str) -> BTreeSet<Privilege> {
    let authz = Authz::new(custom_roles(), []);
    authz.role(role).unwrap().privileges.clone()
}

fn reason(principal: &str, role: &str, object: &str, propagate: bool) -> Reason {
    let p = perm(principal, role, object, propagate);
    let authz = Authz::new(custom_roles(), []);
    Reason {
        principal: p.principal,
        role_id: role.into(),
        role: authz.role(role).unwrap().name.clone(),
        object: object.into(),
        propagate,
    }
}

#[test]
fn user_permission_overrides_group_permission_at_the_same_object() {
    let world = World::new(vec![
        perm("@ops", ADMINISTRATOR_ROLE, "f-a", true),
        perm("alice", READ_ONLY_ROLE, "f-a", true),
    ]);
    let d = world.on("alice", "vm-a-1");
    assert_eq!(d.privileges, privileges_of(READ_ONLY_ROLE));
    assert_eq!(d.decided_at.as_deref(), Some("f-a"));
    assert_eq!(
        d.permissions,
        [reason("alice", READ_ONLY_ROLE, "f-a", true)]
    );
    assert!(!d.no_access);
    assert!(check(&d, pv("System.Read")));
    assert!(!check(&d, pv("VirtualMachine.Interact.PowerOn")));
    // carol is in ops too, without a permission of her own.
    assert_eq!(
        world.role_of("carol", "vm-a-1"),
        privileges_of(ADMINISTRATOR_ROLE)
    );
}

#[test]
fn two_groups_add_up_at_one_object() {
    let world = World::new(vec![
        perm("@ops", "vm-user", "f-b", true),
        perm("@dev", "snapshots", "f-b", true),
    ]);
    let d = world.on("alice", "vm-b-2");
    let mut both = privileges_of("vm-user");
    both.extend(privileges_of("snapshots"));
    assert_eq!(d.privileges, both);
    assert_eq!(d.decided_at.as_deref(), Some("f-b"));
    assert_eq!(d.permissions.len(), 2);
    assert!(d
        .permissions
        .contains(&reason("@ops", "vm-user", "f-b", true)));
    assert!(d
        .permissions
        .contains(&reason("@dev", "snapshots", "f-b", true)));
    // One group each: bob only snapshots, carol only power.
    assert_eq!(world.role_of("bob", "vm-b-2"), privileges_of("snapshots"));
    assert_eq!(world.role_of("carol", "vm-b-2"), privileges_of("vm-user"));
    assert_eq!(world.on("dave", "vm-b-2"), Decision::default());
}

#[test]
fn nearer_group_permission_overrides_farther_user_permission() {
    let world = World::new(vec![
        perm("alice", ADMINISTRATOR_ROLE, "dc", true),
        perm("@dev", READ_ONLY_ROLE, "f-c-1", true),
    ]);
    let d = world.on("alice", "vm-c-1");
    assert_eq!(d.privileges, privileges_of(READ_ONLY_ROLE));
    assert_eq!(d.decided_at.as_deref(), Some("f-c-1"));
    assert_eq!(
        d.permissions,
        [reason("@dev", READ_ONLY_ROLE, "f-c-1", true)]
    );
    // Above the group permission, and in other branches, the user's holds.
    assert_eq!(
        world.role_of("alice", "f-c"),
        privileges_of(ADMINISTRATOR_ROLE)
    );
    assert_eq!(
        world.role_of("alice", "vm-c-0"),
        privileges_of(ADMINISTRATOR_ROLE)
    );
    assert_eq!(
        world.role_of("alice", "vm-a-1"),
        privileges_of(ADMINISTRATOR_ROLE)
    );
    // The dc permission is not propagated upwards.
    assert_eq!(world.on("alice", "root"), Decision::default());
}

#[test]
fn propagate_false_applies_to_the_object_only() {
    let world = World::new(vec![
        perm("bob", "vm-user", "f-d", false),
        perm("@dev", READ_ONLY_ROLE, "root", true),
    ]);
    let d = world.on("bob", "f-d");
    assert_eq!(d.privileges, privileges_of("vm-user"));
    assert_eq!(d.permissions, [reason("bob", "vm-user", "f-d", false)]);
    // Below f-d the non-propagating permission does not apply: the next
    // applicable one up the path (dev's on the root) decides.
    for child in ["vm-d-0", "f-d-1", "vm-d-1"] {
        let d = world.on("bob", child);
        assert_eq!(d.privileges, privileges_of(READ_ONLY_ROLE), "{child}");
        assert_eq!(d.decided_at.as_deref(), Some("root"));
    }
    // Without any other permission, the children get nothing.
    let alone = World::new(vec![perm("bob", "vm-user", "f-d", false)]);
    assert_eq!(alone.role_of("bob", "f-d"), privileges_of("vm-user"));
    assert_eq!(alone.on("bob", "vm-d-0"), Decision::default());
    assert_eq!(alone.visible("bob"), ["f-d"]);
}

#[test]
fn no_access_hides_the_subtree_except_where_a_nearer_permission_grants() {
    let world = World::new(vec![
        perm("alice", ADMINISTRATOR_ROLE, "root", true),
        perm("alice", NO_ACCESS_ROLE, "f-e", true),
        perm("alice", "vm-user", "vm-e-1", false),
    ]);
    let d = world.on("alice", "vm-e-2");
    assert!(d.no_access);
    assert!(d.privileges.is_empty());
    assert_eq!(d.decided_at.as_deref(), Some("f-e"));
    assert_eq!(
        d.permissions,
        [reason("alice", NO_ACCESS_ROLE, "f-e", true)]
    );
    assert_eq!(d.permissions[0].role, "No access");

    let granted = world.on("alice", "vm-e-1");
    assert!(!granted.no_access);
    assert_eq!(granted.privileges, privileges_of("vm-user"));

    let all = scenario_objects();
    let hidden: Vec<&String> = all
        .iter()
        .filter(|o| !world.visible("alice").contains(o))
        .collect();
    assert_eq!(hidden, ["f-e", "f-e-1", "f-e-1-1", "vm-e-0", "vm-e-2"]);
    // A user with no permission of its own still sees nothing.
    assert!(world.visible("bob").is_empty());
}

#[test]
fn no_access_via_a_group_hides_and_a_group_grant_below_shows_again() {
    let world = World::new(vec![
        perm("@dev", READ_ONLY_ROLE, "root", true),
        perm("@dev", NO_ACCESS_ROLE, "f-g", true),
        perm("@contractors", "vm-user", "vm-g-2", false),
    ]);
    // erin (dev, contractors) sees vm-g-2 again; bob (dev only) does not.
    let visible_in_g = |who: &str| -> Vec<String> {
        world
            .visible(who)
            .into_iter()
            .filter(|o| o.contains("-g"))
            .collect()
    };
    assert_eq!(visible_in_g("erin"), ["vm-g-2"]);
    assert!(visible_in_g("bob").is_empty());
    assert_eq!(world.visible("bob").len(), scenario_objects().len() - 6);
}

#[test]
fn no_access_on_one_group_beats_another_groups_grant_at_the_same_object() {
    let world = World::new(vec![
        perm("@ops", NO_ACCESS_ROLE, "f-f", true),
        perm("@dev", ADMINISTRATOR_ROLE, "f-f", true),
    ]);
    let d = world.on("alice", "vm-f-1");
    assert!(d.no_access);
    assert!(d.privileges.is_empty());
    assert_eq!(d.decided_at.as_deref(), Some("f-f"));
    assert_eq!(d.permissions, [reason("@ops", NO_ACCESS_ROLE, "f-f", true)]);
    assert!(!d.visible());
    // bob is only in dev.
    assert_eq!(
        world.role_of("bob", "vm-f-1"),
        privileges_of(ADMINISTRATOR_ROLE)
    );
    // The user's own permission at the same object still wins over the deny.
    let own = World::new(vec![
        perm("@ops", NO_ACCESS_ROLE, "f-f", true),
        perm("@dev", ADMINISTRATOR_ROLE, "f-f", true),
        perm("alice", READ_ONLY_ROLE, "f-f", true),
    ]);
    let d = own.on("alice", "vm-f-1");
    assert!(!d.no_access);
    assert_eq!(d.privileges, privileges_of(READ_ONLY_ROLE));
}

#[test]
fn no_permission_anywhere_gives_nothing() {
    let world = World::new(vec![perm("@ops", ADMINISTRATOR_ROLE, "root", true)]);
    for object in scenario_objects() {
        let d = world.on("dave", &object);
        assert_eq!(d, Decision::default());
        assert!(d.decided_at.is_none() && d.permissions.is_empty() && !d.no_access);
        assert!(!d.visible());
    }
    assert_eq!(
        World::new(vec![]).on("alice", "vm-a-1"),
        Decision::default()
    );
}

#[test]
fn a_group_alone_can_be_asked_about() {
    let world = World::new(vec![
        perm("@dev", "snapshots", "f-a", true),
        perm("bob", ADMINISTRATOR_ROLE, "f-a", true),
    ]);
    let d = world
        .authz
        .effective(&Subject::group("dev"), &world.tree.path("vm-a-1"));
    assert_eq!(d.privileges, privileges_of("snapshots"));
    assert_eq!(
        world.role_of("bob", "vm-a-1"),
        privileges_of(ADMINISTRATOR_ROLE)
    );
}

#[test]
fn decision_serializes() {
    let world = World::new(vec![perm("@ops", "vm-user", "f-a", true)]);
    let json = serde_json::to_value(world.on("carol", "vm-a-0")).unwrap();
    assert_eq!(json["decided_at"], "f-a");
    assert_eq!(json["no_access"], false);
    assert_eq!(json["permissions"][0]["principal"]["group"], "ops");
    assert_eq!(json["permissions"][0]["role"], "VM user");
}

// ---------------------------------------------------------------- brute force

/// A small deterministic PRNG (xorshift64*), so the test needs no crates.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
}

/// A random world: a tree, users in random groups, roles, permissions.
struct Random {
    parent: HashMap<String, Option<String>>,
    objects: Vec<String>,
    users: Vec<(String, BTreeSet<String>)>,
    groups: Vec<String>,
    roles: Vec<Role>,
    permissions: Vec<Permission>,
}

fn random_world(seed: u64) -> Random {
    let mut rng = Rng::new(seed);
    let n = 2 + rng.below(24);
    let objects: Vec<String> = (0..n).map(|i| format!("o{i}")).collect();
    let mut parent = HashMap::new();
    parent.insert(objects[0].clone(), None);
    for i in 1..n {
        parent.insert(objects[i].clone(), Some(objects[rng.below(i)].clone()));
    }
    let groups: Vec<String> = (0..4).map(|i| format!("g{i}")).collect();
    let users = (0..4)
        .map(|i| {
            let member_of = groups.iter().filter(|_| rng.percent(40)).cloned().collect();
            (format!("u{i}"), member_of)
        })
        .collect();
    let mut roles: Vec<Role> = Role::system_roles().into();
    for i in 0..3 {
        let picked: Vec<&str> = Privilege::ALL
            .iter()
            .filter(|_| rng.percent(15))
            .map(|p| p.as_str())
            .collect();
        roles.push(Role::custom(&format!("c{i}"), &format!("Custom {i}"), picked).unwrap());
    }
    let principals: Vec<Principal> = (0..4)
        .map(|i| Principal::User(format!("u{i}")))
        .chain(groups.iter().cloned().map(Principal::Group))
        .collect();
    // At most one permission per (principal, object), as the store ensures.
    let density = 3 + rng.below(15) as u64;
    let mut permissions = Vec::new();
    for object in &objects {
        for principal in &principals {
            if rng.percent(density) {
                permissions.push(Permission {
                    principal: principal.clone(),
                    role: roles[rng.below(roles.len())].id.clone(),
                    object: object.clone(),
                    propagate: rng.percent(60),
                });
            }
        }
    }
    Random {
        parent,
        objects,
        users,
        groups,
        roles,
        permissions,
    }
}

/// The rule, transcribed as naively as possible: does `user` (or no user,
/// for a group alone) with `groups` hold `privilege` on `object`, and at
/// which object was it decided?
fn reference(
    w: &Random,
    user: Option<&str>,
    groups: &BTreeSet<String>,
    object: &str,
    privilege: Privilege,
) -> (bool, Option<String>) {
    let role_named = |id: &str| w.roles.iter().find(|r| r.id == id).unwrap();
    // Walk from O towards the root.
    let mut x = Some(object.to_string());
    while let Some(here) = x {
        // Permissions set on X itself count when X is O; on a proper
        // ancestor only with propagate. Only U's and U's groups' count.
        let mut applicable = Vec::new();
        for p in &w.permissions {
            let on_here = p.object == here && (here == object || p.propagate);
            let for_u = match &p.principal {
                Principal::User(name) => Some(name.as_str()) == user,
                Principal::Group(name) => groups.contains(name),
            };
            if on_here && for_u {
                applicable.push(p);
            }
        }
        if !applicable.is_empty() {
            // The nearest such object decides.
            let own: Vec<&&Permission> = applicable
                .iter()
                .filter(|p| matches!(p.principal, Principal::User(_)))
                .collect();
            if let Some(own) = own.first() {
                let role = role_named(&own.role);
                let granted = role.name != "No access" && role.privileges.contains(&privilege);
                return (granted, Some(here));
            }
            let mut any_no_access = false;
            let mut any_grants = false;
            for p in &applicable {
                let role = role_named(&p.role);
                if role.name == "No access" {
                    any_no_access = true;
                }
                if role.privileges.contains(&privilege) {
                    any_grants = true;
                }
            }
            return (any_grants && !any_no_access, Some(here));
        }
        x = w.parent.get(&here).cloned().flatten();
    }
    (false, None)
}

#[test]
fn matches_the_naive_reference_on_random_worlds() {
    let mut checked = 0u64;
    let mut granted = 0u64;
    for seed in 0..300 {
        let w = random_world(seed);
        let authz = Authz::new(w.roles.clone(), w.permissions.clone());
        let tree: Tree = w.parent.clone().into_iter().collect();
        let mut subjects: Vec<(Option<&str>, Subject)> = w
            .users
            .iter()
            .map(|(u, g)| (Some(u.as_str()), Subject::user(u, g.iter().cloned())))
            .collect();
        subjects.extend(w.groups.iter().map(|g| (None, Subject::group(g))));
        for (user, subject) in &subjects {
            for object in &w.objects {
                let decision = authz.effective(subject, &tree.path(object));
                for &p in Privilege::ALL {
                    let (expected, at) = reference(&w, *user, &subject.groups, object, p);
                    assert_eq!(
                        check(&decision, p),
                        expected,
                        "seed {seed}, {user:?} {:?} on {object}, {}: {decision:?}",
                        subject.groups,
                        p
                    );
                    assert_eq!(decision.decided_at, at, "seed {seed}, {user:?} on {object}");
                    checked += 1;
                    granted += expected as u64;
                }
            }
        }
    }
    // The random worlds exercise both answers.
    assert!(
        granted > checked / 20 && granted < checked / 2,
        "{granted}/{checked}"
    );
}

#[test]
fn administrators_are_those_the_administrator_role_reaches_on_the_root() {
    let perm = |p: Principal, role: &str| Permission {
        principal: p,
        role: role.into(),
        object: crate::inventory::ROOT.into(),
        propagate: true,
    };
    let ops = vec!["ops".to_string()];
    let none: Vec<String> = vec![];
    let accounts = |disabled: bool| {
        [
            Account {
                name: "alice",
                groups: &none,
                disabled,
            },
            Account {
                name: "bob",
                groups: &ops,
                disabled: false,
            },
        ]
    };
    // Alice's own permission; Bob's group's.
    let authz = Authz::new(
        [],
        [
            perm(Principal::User("alice".into()), ADMINISTRATOR_ROLE),
            perm(Principal::Group("ops".into()), ADMINISTRATOR_ROLE),
        ],
    );
    assert_eq!(administrators(&authz, &accounts(false)), ["alice", "bob"]);
    // A disabled user cannot log in to help.
    assert_eq!(administrators(&authz, &accounts(true)), ["bob"]);
    // Bob's own lesser permission beats his group's (vSphere's rule).
    let authz = Authz::new(
        [],
        [
            perm(Principal::Group("ops".into()), ADMINISTRATOR_ROLE),
            perm(Principal::User("bob".into()), READ_ONLY_ROLE),
        ],
    );
    assert!(administrators(&authz, &accounts(false)).is_empty());
}
