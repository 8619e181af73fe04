//! Human tables by default, JSON with `--json`; task progress bars.

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use hierro_api::Task;
use serde::Serialize;

#[derive(Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or as the table `rows` makes of it.
    pub fn show<T: Serialize>(
        &self,
        value: &T,
        header: &[&str],
        rows: impl FnOnce(&T) -> Vec<Vec<String>>,
    ) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("serializable")
            );
            return;
        }
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY);
        t.set_header(header);
        for r in rows(value) {
            t.add_row(r);
        }
        println!("{t}");
    }

    /// Key/value lines for one object.
    pub fn show_fields<T: Serialize>(
        &self,
        value: &T,
        fields: impl FnOnce(&T) -> Vec<(&'static str, String)>,
    ) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("serializable")
            );
            return;
        }
        let fields = fields(value);
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in fields {
            println!("{k:width$}  {v}");
        }
    }
}

/// Waits for a task with a progress bar on a terminal; prints the task as
/// JSON at the end with `--json`.
pub async fn wait_task(
    client: &hierro_client::Client,
    task: Task,
    out: Output,
) -> anyhow::Result<Task> {
    use indicatif::{ProgressBar, ProgressStyle};
    let bar = if out.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(100)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:40} [{bar:30}] {pos:>3}%")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} {}", task.operation, task.target_name));
    let result = client
        .wait(&task, |t| bar.set_position(t.progress as u64))
        .await;
    match &result {
        Ok(_) => bar.finish_with_message(format!("{} {}: done", task.operation, task.target_name)),
        Err(_) => {
            bar.abandon_with_message(format!("{} {}: failed", task.operation, task.target_name))
        }
    }
    let t = result?;
    if out.json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    }
    Ok(t)
}

pub fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}
