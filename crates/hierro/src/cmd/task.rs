use clap::Subcommand;
use hierro_api::TaskState;

use super::connect::ConnArgs;
use crate::output::{time, Output};

#[derive(Subcommand)]
pub enum TaskCmd {
    /// List recent tasks.
    Ls {
        /// Only tasks on this target (`vm:<id>` or a name).
        #[arg(long)]
        target: Option<String>,
    },
    /// Cancel a running task that can be cancelled (a migration, entering
    /// maintenance mode); it ends in error "cancelled".
    Cancel { id: uuid::Uuid },
}

#[derive(Subcommand)]
pub enum EventCmd {
    /// List events.
    Ls {
        #[arg(long)]
        target: Option<String>,
        /// Keep printing new events as they happen.
        #[arg(long)]
        follow: bool,
    },
}

pub async fn run_task(cmd: TaskCmd, conn: &ConnArgs, out: Output) -> anyhow::Result<()> {
    let client = conn.client().await?;
    let target = match cmd {
        TaskCmd::Ls { target } => target,
        TaskCmd::Cancel { id } => {
            let t = client.cancel_task(id).await?;
            out.show_fields(&t, |t| {
                vec![
                    ("cancelling", t.id.to_string()),
                    ("operation", t.operation.to_string()),
                    ("target", t.target_name.clone()),
                ]
            });
            return Ok(());
        }
    };
    let mut tasks = client.tasks().await?;
    if let Some(t) = target {
        tasks.retain(|x| x.target == t || x.target_name == t);
    }
    out.show(
        &tasks,
        &[
            "ID",
            "QUEUED",
            "OPERATION",
            "TARGET",
            "STATE",
            "%",
            "USER",
            "ERROR",
        ],
        |l| {
            l.iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        time(&t.queued_at),
                        t.operation.to_string(),
                        t.target_name.clone(),
                        format!("{:?}", t.state).to_lowercase(),
                        if t.state == TaskState::Success {
                            "100".into()
                        } else {
                            t.progress.to_string()
                        },
                        t.user.clone(),
                        t.error
                            .as_ref()
                            .map(|e| e.message.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect()
        },
    );
    Ok(())
}

pub async fn run_event(cmd: EventCmd, conn: &ConnArgs, out: Output) -> anyhow::Result<()> {
    let client = conn.client().await?;
    let EventCmd::Ls { target, follow } = cmd;
    let events = client.events(None, target.as_deref()).await?;
    let row = |e: &hierro_api::Event| {
        vec![
            e.id.to_string(),
            time(&e.time),
            format!("{:?}", e.severity).to_lowercase(),
            e.kind.to_string(),
            e.target_name.clone(),
            e.user.clone(),
            e.message.clone(),
        ]
    };
    let header = [
        "ID", "TIME", "SEVERITY", "TYPE", "TARGET", "USER", "MESSAGE",
    ];
    let mut last = events.last().map(|e| e.id);
    out.show(&events, &header, |l| l.iter().map(row).collect());
    if !follow {
        return Ok(());
    }
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        for e in client.events(last, target.as_deref()).await? {
            last = Some(e.id);
            if out.json {
                println!("{}", serde_json::to_string(&e)?);
            } else {
                println!("{}", row(&e).join("  "));
            }
        }
    }
}
