//! Both databases the center runs on, fresh for each test: an SQLite file,
//! and a new database on the PostgreSQL server that HIERRO_TEST_POSTGRES
//! names (scripts/test.sh starts one and sets it).
#![allow(dead_code)]

use hierro_center::db::Db;

pub struct TestDb {
    pub name: &'static str,
    pub db: Db,
    cleanup: Option<(String, String)>,
}

pub async fn both() -> Vec<TestDb> {
    let dir = std::env::temp_dir().join(format!("hierro-center-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = Db::open(&Db::sqlite_url(&dir)).await.expect("SQLite");
    let admin_url = std::env::var("HIERRO_TEST_POSTGRES").expect(
        "HIERRO_TEST_POSTGRES is not set: these tests need a PostgreSQL server \
         (scripts/test.sh starts one; e.g. postgres:///postgres?host=/var/run/postgresql&user=root)",
    );
    let name = format!("hierro_test_{}", uuid::Uuid::new_v4().simple());
    let url = Db::create_database(&admin_url, &name)
        .await
        .expect("PostgreSQL server");
    let pg = Db::open(&url).await.expect("PostgreSQL database");
    vec![
        TestDb {
            name: "sqlite",
            db: sqlite,
            cleanup: None,
        },
        TestDb {
            name: "postgres",
            db: pg,
            cleanup: Some((admin_url, name)),
        },
    ]
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.cleanup.take() {
            // Not pool.close(): its connections live on the test's runtime,
            // which waits here. The FORCE drop ends them from the server.
            std::thread::spawn(move || {
                tokio::runtime::Runtime::new()
                    .unwrap()
                    .block_on(Db::drop_database(&admin_url, &name))
            })
            .join()
            .ok();
        }
    }
}
