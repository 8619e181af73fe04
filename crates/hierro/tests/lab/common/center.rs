//! A real `hierro center serve` process for tests, and small JSON helpers.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hierro_client::{Client, ClientError, Trust};
use reqwest::Method;
use serde_json::{json, Value};

/// A `hierro center serve` on loopback, killed when dropped.
pub struct Center {
    child: Child,
    pub url: String,
    pub thumbprint: String,
    /// Its data directory.
    pub dir: std::path::PathBuf,
    /// The database URL configured (SQLite in `dir` when none).
    database: Option<String>,
}

impl Drop for Center {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Makes a folder, datacenter or cluster under `parent`; its id.
pub async fn create(admin: &Client, kind: &str, name: &str, parent: &str) -> String {
    let body = json!({"kind": kind, "name": name, "parent": parent});
    let made = call(admin, Method::POST, "/api/inventory", body)
        .await
        .unwrap();
    made["id"].as_str().unwrap().to_string()
}

/// The databases a center test runs on: the embedded SQLite (`None`),
/// then a new database `prefix_<random>` on the test PostgreSQL server,
/// each with its name for messages. `drop` removes the PostgreSQL one.
pub struct Databases {
    pub list: [(&'static str, Option<String>); 2],
    server: String,
    name: String,
}

pub async fn databases(prefix: &str) -> Databases {
    let server = std::env::var("HIERRO_TEST_POSTGRES")
        .expect("HIERRO_TEST_POSTGRES is not set: scripts/test.sh starts PostgreSQL");
    let name = format!("{prefix}_{}", rand::random::<u32>());
    let url = hierro_center::db::Db::create_database(&server, &name)
        .await
        .unwrap();
    Databases {
        list: [("sqlite", None), ("postgres", Some(url))],
        server,
        name,
    }
}

impl Databases {
    pub async fn drop(self) {
        let _ = hierro_center::db::Db::drop_database(&self.server, &self.name).await;
    }
}

pub async fn start(database: Option<String>) -> Center {
    start_with(database, |_| {}).await
}

/// A center whose configuration `edit` changes first.
pub async fn start_with(
    database: Option<String>,
    edit: impl FnOnce(&mut hierro_center::config::CenterConfig),
) -> Center {
    let dir = std::env::temp_dir().join(format!("hierro-center-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut config = hierro_center::config::CenterConfig {
        web_dir: None,
        perf_collect_secs: 2,
        lockout: Default::default(),
        certificate_check_secs: 3600,
        certificate_renew_days: 30,
        fault_injection: false,
        name: "vc-test".into(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        data_dir: dir.clone(),
        database: database.clone(),
        session_idle_secs: 1800,
        admin: hierro_center::config::Admin {
            user: "administrator".into(),
            password_hash: hierro_center::directory::hash_password("admin password"),
        },
    };
    edit(&mut config);
    config.save(&dir.join("center.toml")).unwrap();
    // Made before waiting, so that a center that never answers is killed too.
    let mut center = Center {
        child: spawn(&dir),
        url: format!("https://127.0.0.1:{port}"),
        thumbprint: String::new(),
        dir,
        database,
    };
    center.wait_ready().await;
    center
}

fn spawn(dir: &std::path::Path) -> Child {
    Command::new(super::HIERRO)
        .args(["center", "serve", "--config"])
        .arg(dir.join("center.toml"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

impl Center {
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(t) = hierro_client::fetch_thumbprint(&self.url).await {
                self.thumbprint = t;
                return;
            }
            assert!(Instant::now() < deadline, "the center did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The database URL: the one configured, else the center's SQLite file.
    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| hierro_center::db::Db::sqlite_url(&self.dir))
    }

    /// SIGKILL, then the same center (configuration, database) again.
    pub async fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn(&self.dir);
        self.wait_ready().await;
    }
}

pub async fn login(c: &Center, user: &str, password: &str) -> Client {
    let mut client = Client::new(&c.url, Trust::Thumbprint(c.thumbprint.clone())).unwrap();
    client.login(user, password).await.unwrap();
    client
}

pub async fn call(
    c: &Client,
    method: Method,
    path: &str,
    body: Value,
) -> Result<Value, ClientError> {
    let body = (!body.is_null()).then_some(body);
    c.call_json(method, path, body.as_ref()).await
}

pub fn status(r: Result<Value, ClientError>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => e.status().map(|s| s.as_u16()).unwrap_or(0),
    }
}

/// Polls `path` on the center until `check` holds on its answer (which it
/// returns); fails naming `what` after 30 s.
pub async fn wait_for(c: &Client, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = Value::Null;
    loop {
        if let Ok(v) = call(c, Method::GET, path, Value::Null).await {
            if check(&v) {
                return v;
            }
            last = v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; {path} answered {last}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Makes user `name`, with the password "`name` password", and gives it
/// `role` on `object` and below.
pub async fn user_with_role(admin: &Client, name: &str, role: &str, object: &str) {
    call(
        admin,
        Method::POST,
        "/api/users",
        json!({"name": name, "password": format!("{name} password")}),
    )
    .await
    .unwrap();
    call(
        admin,
        Method::POST,
        "/api/permissions",
        json!({"principal": {"user": name}, "role": role, "object": object, "propagate": true}),
    )
    .await
    .unwrap();
}

/// The inventory object of the VM named exactly `name` (the inventory's
/// search matches part of a name).
pub async fn vm_object(c: &Client, name: &str) -> Value {
    let path = format!("/api/inventory?kind=vm&name={name}");
    let found = call(c, Method::GET, &path, Value::Null).await.unwrap();
    let exact: Vec<&Value> = found
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"] == name)
        .collect();
    assert_eq!(exact.len(), 1, "VMs named {name}: {found}");
    exact[0].clone()
}

/// A request as a hostile client sends it: any method, content type and
/// bytes, with `token` as the session. The status and the JSON answer
/// (`null` when it is not JSON).
pub async fn raw(
    url: &str,
    token: Option<&str>,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    // Only statuses are checked: the certificate is not.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let mut req = http
        .request(method, format!("{url}{path}"))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.header(hierro_api::SESSION_HEADER, t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
