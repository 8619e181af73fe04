use clap::Subcommand;
use hierro_api::DatastoreCreate;

use super::connect::ConnArgs;
use crate::output::Output;

#[derive(Subcommand)]
pub enum DatastoreCmd {
    /// List datastores with capacity and free space.
    Ls,
    /// Add a directory of the host as a datastore.
    Add { name: String, path: String },
}

pub async fn run(cmd: DatastoreCmd, conn: &ConnArgs, out: Output) -> anyhow::Result<()> {
    let client = conn.client().await?;
    let gib = |b: u64| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64);
    match cmd {
        DatastoreCmd::Ls => {
            let list = client.datastores().await?;
            out.show(&list, &["NAME", "PATH", "CAPACITY", "FREE"], |l| {
                l.iter()
                    .map(|d| {
                        vec![
                            d.name.clone(),
                            d.path.clone(),
                            gib(d.capacity_bytes),
                            gib(d.free_bytes),
                        ]
                    })
                    .collect()
            });
        }
        DatastoreCmd::Add { name, path } => {
            let d = client
                .add_datastore(&DatastoreCreate { name, path })
                .await?;
            out.show_fields(&d, |d| {
                vec![
                    ("name", d.name.clone()),
                    ("path", d.path.clone()),
                    ("free", gib(d.free_bytes)),
                ]
            });
        }
    }
    Ok(())
}
