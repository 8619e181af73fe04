//! The qemu-guest-agent protocol, independent of the transport.
//!
//! Requests are JSON objects `{"execute": NAME, "arguments": {...}, "id": ...}`;
//! replies are `{"return": ...}` or `{"error": {"class": ..., "desc": ...}}`, with
//! the request's "id" echoed. A 0xFF byte in the input discards any partial
//! request (clients send it before `guest-sync-delimited` to resynchronise), and
//! the reply to `guest-sync-delimited` is preceded by a 0xFF byte.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::sys;

/// Every command, with whether it sends a reply on success (guest-info lists this).
const COMMANDS: &[(&str, bool)] = &[
    ("guest-sync", true),
    ("guest-sync-delimited", true),
    ("guest-ping", true),
    ("guest-info", true),
    ("guest-get-host-name", true),
    ("guest-get-time", true),
    ("guest-network-get-interfaces", true),
    ("guest-exec", true),
    ("guest-exec-status", true),
    ("guest-shutdown", false),
    ("guest-fsfreeze-status", true),
    ("guest-fsfreeze-freeze", true),
    ("guest-fsfreeze-thaw", true),
];

/// A QGA error reply.
#[derive(Debug)]
pub struct QgaError {
    class: &'static str,
    desc: String,
}

fn generic(desc: impl Into<String>) -> QgaError {
    QgaError {
        class: "GenericError",
        desc: desc.into(),
    }
}

type CmdResult = Result<Value, QgaError>;

/// A finished guest-exec child, kept until guest-exec-status reports it.
type ExecSlot = Arc<Mutex<Option<(Output, bool)>>>;

/// The protocol state of one agent.
pub struct Agent {
    /// False in tests and `--stdio` mode: commands that would power off or
    /// freeze the machine the agent runs on are refused.
    live: bool,
    /// Bytes received but not yet parsed into a complete request.
    pending: Vec<u8>,
    /// After a JSON syntax error: drop input up to the next newline.
    skip_line: bool,
    execs: HashMap<u32, ExecSlot>,
    frozen: bool,
}

impl Agent {
    pub fn new(live: bool) -> Agent {
        Agent {
            live,
            pending: Vec::new(),
            skip_line: false,
            execs: HashMap::new(),
            frozen: false,
        }
    }

    /// Forgets any partial request (0xFF received, or the host side reconnected).
    pub fn reset(&mut self) {
        self.pending.clear();
        self.skip_line = false;
    }

    /// Feeds bytes received from the host; returns the bytes to send back.
    pub fn feed(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, segment) in input.split(|b| *b == 0xFF).enumerate() {
            if i > 0 {
                self.reset();
            }
            self.pending.extend_from_slice(segment);
            self.process(&mut out);
        }
        out
    }

    /// Handles every complete JSON value in `pending`.
    fn process(&mut self, out: &mut Vec<u8>) {
        loop {
            if self.skip_line {
                match self.pending.iter().position(|b| *b == b'\n') {
                    Some(nl) => {
                        self.pending.drain(..=nl);
                        self.skip_line = false;
                    }
                    None => {
                        self.pending.clear();
                        return;
                    }
                }
            }
            let mut values =
                serde_json::Deserializer::from_slice(&self.pending).into_iter::<Value>();
            match values.next() {
                None => {
                    // Only whitespace left.
                    self.pending.clear();
                    return;
                }
                Some(Ok(request)) => {
                    let used = values.byte_offset();
                    self.pending.drain(..used);
                    self.handle(&request, out);
                }
                Some(Err(e)) if e.is_eof() => return, // incomplete: wait for more
                Some(Err(e)) => {
                    write_reply(
                        out,
                        &json!({"error": {"class": "GenericError", "desc": format!("JSON parse error: {e}")}}),
                    );
                    self.skip_line = true;
                }
            }
        }
    }

    /// Runs one request and appends its reply (if any) to `out`.
    fn handle(&mut self, request: &Value, out: &mut Vec<u8>) {
        let id = request.get("id").cloned();
        let (result, delimited) = match parse_request(request) {
            Ok((name, args)) => (self.dispatch(name, &args), name == "guest-sync-delimited"),
            Err(e) => (Err(e), false),
        };
        let mut reply = match result {
            Ok(Value::Null) if is_silent(request) => return, // guest-shutdown: no reply
            Ok(value) => json!({ "return": value }),
            Err(e) => json!({"error": {"class": e.class, "desc": e.desc}}),
        };
        if let Some(id) = id {
            reply["id"] = id;
        }
        if delimited {
            out.push(0xFF);
        }
        write_reply(out, &reply);
    }

    /// Runs a command by name.
    pub fn dispatch(&mut self, name: &str, args: &Map<String, Value>) -> CmdResult {
        match name {
            "guest-sync" | "guest-sync-delimited" => args
                .get("id")
                .cloned()
                .ok_or_else(|| generic("Parameter 'id' is missing")),
            "guest-ping" => Ok(json!({})),
            "guest-info" => Ok(guest_info()),
            "guest-get-host-name" => Ok(json!({ "host-name": sys::hostname().map_err(io_err)? })),
            "guest-get-time" => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_err(|e| generic(e.to_string()))?;
                Ok(json!(now.as_nanos() as i64))
            }
            "guest-network-get-interfaces" => Ok(sys::interfaces().map_err(io_err)?),
            "guest-exec" => self.exec(args),
            "guest-exec-status" => self.exec_status(args),
            "guest-shutdown" => self.shutdown(args),
            "guest-fsfreeze-status" => Ok(json!(if self.frozen { "frozen" } else { "thawed" })),
            "guest-fsfreeze-freeze" => {
                self.require_live(name)?;
                if self.frozen {
                    return Err(generic("The filesystems are already frozen"));
                }
                let count = sys::freeze().map_err(io_err)?;
                self.frozen = true;
                Ok(json!(count))
            }
            "guest-fsfreeze-thaw" => {
                self.require_live(name)?;
                let count = sys::thaw();
                self.frozen = false;
                Ok(json!(count))
            }
            _ => Err(QgaError {
                class: "CommandNotFound",
                desc: format!("The command {name} has not been found"),
            }),
        }
    }

    fn require_live(&self, name: &str) -> Result<(), QgaError> {
        if self.live {
            Ok(())
        } else {
            Err(generic(format!(
                "{name} is disabled when the agent is not running in the guest"
            )))
        }
    }

    /// guest-exec: starts a process in the background and returns its pid.
    fn exec(&mut self, args: &Map<String, Value>) -> CmdResult {
        let path = str_arg(args, "path")?.ok_or_else(|| generic("Parameter 'path' is missing"))?;
        let mut cmd = Command::new(path);
        cmd.args(str_list_arg(args, "arg")?);
        if args.contains_key("env") {
            // As in qemu-ga, a given environment replaces the agent's.
            cmd.env_clear();
            for var in str_list_arg(args, "env")? {
                let (k, v) = var.split_once('=').unwrap_or((var.as_str(), ""));
                cmd.env(k, v);
            }
        }
        let input = match str_arg(args, "input-data")? {
            Some(b64) => Some(
                B64.decode(b64)
                    .map_err(|e| generic(format!("Invalid input-data: {e}")))?,
            ),
            None => None,
        };
        let capture = match args.get("capture-output") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(generic(
                    "Invalid parameter type for 'capture-output', expected: boolean",
                ))
            }
        };
        let piped_if = |yes: bool| if yes { Stdio::piped() } else { Stdio::null() };
        cmd.stdin(piped_if(input.is_some()))
            .stdout(piped_if(capture))
            .stderr(piped_if(capture));

        let mut child = cmd
            .spawn()
            .map_err(|e| generic(format!("Failed to execute child process '{path}': {e}")))?;
        let pid = child.id();
        let slot: ExecSlot = Arc::new(Mutex::new(None));
        let done = slot.clone();
        std::thread::spawn(move || {
            if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
                // Feed stdin from its own thread so a child that writes a lot
                // before reading cannot deadlock against us.
                std::thread::spawn(move || {
                    let _ = stdin.write_all(&data); // dropping stdin closes it
                });
            }
            if let Ok(output) = child.wait_with_output() {
                *done.lock() = Some((output, capture));
            }
        });
        self.execs.insert(pid, slot);
        Ok(json!({ "pid": pid }))
    }

    /// guest-exec-status: reports a guest-exec child; forgets it once exited.
    fn exec_status(&mut self, args: &Map<String, Value>) -> CmdResult {
        let pid = args
            .get("pid")
            .and_then(Value::as_u64)
            .ok_or_else(|| generic("Parameter 'pid' is missing"))?;
        let pid = u32::try_from(pid).map_err(|_| generic("Invalid parameter 'pid'"))?;
        let slot = self
            .execs
            .get(&pid)
            .ok_or_else(|| generic("Invalid parameter 'pid'"))?;
        let Some((output, captured)) = slot.lock().take() else {
            return Ok(json!({ "exited": false }));
        };
        self.execs.remove(&pid);
        let mut status = json!({ "exited": true });
        match (output.status.code(), output.status.signal()) {
            (Some(code), _) => status["exitcode"] = json!(code),
            (None, Some(sig)) => status["signal"] = json!(sig),
            (None, None) => {}
        }
        // As qemu-ga: output fields only when captured and non-empty.
        if captured && !output.stdout.is_empty() {
            status["out-data"] = json!(B64.encode(&output.stdout));
        }
        if captured && !output.stderr.is_empty() {
            status["err-data"] = json!(B64.encode(&output.stderr));
        }
        Ok(status)
    }

    /// guest-shutdown: powers off, halts or reboots shortly after; no reply.
    fn shutdown(&mut self, args: &Map<String, Value>) -> CmdResult {
        let mode = str_arg(args, "mode")?.unwrap_or("powerdown");
        let how = match mode {
            "powerdown" => libc::RB_POWER_OFF,
            "halt" => libc::RB_HALT_SYSTEM,
            "reboot" => libc::RB_AUTOBOOT,
            _ => return Err(generic(format!("Invalid parameter 'mode': {mode}"))),
        };
        self.require_live("guest-shutdown")?;
        sys::reboot_soon(how);
        Ok(Value::Null)
    }
}

/// True for requests whose successful reply is not sent (guest-shutdown).
fn is_silent(request: &Value) -> bool {
    let name = request.get("execute").and_then(Value::as_str).unwrap_or("");
    COMMANDS
        .iter()
        .any(|(n, success_response)| *n == name && !success_response)
}

/// Splits a request into its command name and arguments.
fn parse_request(request: &Value) -> Result<(&str, Map<String, Value>), QgaError> {
    let obj = request
        .as_object()
        .ok_or_else(|| generic("QMP input must be a JSON object"))?;
    let name = match obj.get("execute") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(generic("QMP input member 'execute' must be a string")),
        None => return Err(generic("QMP input lacks member 'execute'")),
    };
    let args = match obj.get("arguments") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(generic("QMP input member 'arguments' must be an object")),
    };
    Ok((name, args))
}

fn guest_info() -> Value {
    let commands: Vec<Value> = COMMANDS
        .iter()
        .map(|(name, success)| json!({"name": name, "enabled": true, "success-response": success}))
        .collect();
    json!({ "version": env!("CARGO_PKG_VERSION"), "supported_commands": commands })
}

fn str_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, QgaError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(generic(format!(
            "Invalid parameter type for '{name}', expected: string"
        ))),
    }
}

fn str_list_arg(args: &Map<String, Value>, name: &str) -> Result<Vec<String>, QgaError> {
    let bad = || {
        generic(format!(
            "Invalid parameter type for '{name}', expected: array of strings"
        ))
    };
    match args.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
        Some(_) => Err(bad()),
    }
}

fn io_err(e: std::io::Error) -> QgaError {
    generic(e.to_string())
}

/// Appends one reply line.
fn write_reply(out: &mut Vec<u8>, reply: &Value) {
    serde_json::to_writer(&mut *out, reply).expect("serializing a Value cannot fail");
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Feeds a request string and parses the reply lines.
    fn ask(agent: &mut Agent, input: &str) -> Vec<Value> {
        let out = agent.feed(input.as_bytes());
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn ask1(agent: &mut Agent, input: &str) -> Value {
        let mut replies = ask(agent, input);
        assert_eq!(replies.len(), 1, "{replies:?}");
        replies.remove(0)
    }

    #[test]
    fn ping_and_id_echo() {
        let mut a = Agent::new(false);
        assert_eq!(
            ask1(&mut a, r#"{"execute":"guest-ping"}"#),
            json!({"return": {}})
        );
        assert_eq!(
            ask1(&mut a, "{\"execute\":\"guest-ping\",\"id\":\"x1\"}\n"),
            json!({"return": {}, "id": "x1"})
        );
    }

    #[test]
    fn sync_returns_its_id() {
        let mut a = Agent::new(false);
        let r = ask1(
            &mut a,
            r#"{"execute":"guest-sync","arguments":{"id":12345}}"#,
        );
        assert_eq!(r, json!({"return": 12345}));
    }

    #[test]
    fn sync_delimited_prefixes_0xff_and_0xff_discards_partial_input() {
        let mut a = Agent::new(false);
        // A partial request, then 0xFF, then a full sync-delimited request.
        assert!(a.feed(br#"{"execute":"guest-pi"#).is_empty());
        let mut input = vec![0xFF];
        input.extend_from_slice(br#"{"execute":"guest-sync-delimited","arguments":{"id":7}}"#);
        let out = a.feed(&input);
        assert_eq!(out[0], 0xFF);
        let reply: Value = serde_json::from_slice(&out[1..]).unwrap();
        assert_eq!(reply, json!({"return": 7}));
    }

    #[test]
    fn stream_of_values_split_anywhere() {
        let mut a = Agent::new(false);
        let input =
            r#"{"execute":"guest-ping","id":1} {"execute":"guest-sync","arguments":{"id":2}}"#;
        let (x, y) = input.split_at(20);
        assert!(ask(&mut a, x).is_empty());
        let replies = ask(&mut a, y);
        assert_eq!(
            replies,
            vec![json!({"return": {}, "id": 1}), json!({"return": 2})]
        );
    }

    #[test]
    fn errors() {
        let mut a = Agent::new(false);
        let r = ask1(&mut a, r#"{"execute":"guest-nope","id":3}"#);
        assert_eq!(r["error"]["class"], "CommandNotFound");
        assert_eq!(r["id"], 3);
        let r = ask1(&mut a, r#"{"arguments":{}}"#);
        assert_eq!(r["error"]["class"], "GenericError");
        let r = ask1(&mut a, "[1,2]");
        assert_eq!(r["error"]["class"], "GenericError");
        // A syntax error drops the rest of the line, then the agent recovers.
        let replies = ask(
            &mut a,
            "{\"execute\" guest-ping}} junk\n{\"execute\":\"guest-ping\"}\n",
        );
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0]["error"]["class"], "GenericError");
        assert_eq!(replies[1], json!({"return": {}}));
        // Not in the guest: no power-off or freeze of the test machine.
        let r = ask1(&mut a, r#"{"execute":"guest-shutdown"}"#);
        assert_eq!(r["error"]["class"], "GenericError");
        let r = ask1(&mut a, r#"{"execute":"guest-fsfreeze-freeze"}"#);
        assert_eq!(r["error"]["class"], "GenericError");
        let r = ask1(&mut a, r#"{"execute":"guest-fsfreeze-status"}"#);
        assert_eq!(r, json!({"return": "thawed"}));
    }

    #[test]
    fn info_lists_commands() {
        let mut a = Agent::new(false);
        let r = ask1(&mut a, r#"{"execute":"guest-info"}"#);
        let cmds = r["return"]["supported_commands"].as_array().unwrap();
        assert!(cmds
            .contains(&json!({"name": "guest-exec", "enabled": true, "success-response": true})));
        assert!(cmds.contains(
            &json!({"name": "guest-shutdown", "enabled": true, "success-response": false})
        ));
    }

    #[test]
    fn hostname_time_and_interfaces() {
        let mut a = Agent::new(false);
        let r = ask1(&mut a, r#"{"execute":"guest-get-host-name"}"#);
        assert!(!r["return"]["host-name"].as_str().unwrap().is_empty());
        let r = ask1(&mut a, r#"{"execute":"guest-get-time"}"#);
        assert!(r["return"].as_i64().unwrap() > 1_600_000_000_000_000_000);
        let r = ask1(&mut a, r#"{"execute":"guest-network-get-interfaces"}"#);
        let lo = r["return"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "lo")
            .expect("lo")
            .clone();
        let addrs = lo["ip-addresses"].as_array().unwrap();
        assert!(addrs
            .contains(&json!({"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8})));
    }

    /// Polls guest-exec-status until the process has exited.
    fn wait_exec(a: &mut Agent, pid: &Value) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = ask1(
                a,
                &json!({"execute": "guest-exec-status", "arguments": {"pid": pid}}).to_string(),
            );
            if r["return"]["exited"] == true {
                return r["return"].clone();
            }
            assert!(Instant::now() < deadline, "process did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn exec_round_trip() {
        let mut a = Agent::new(false);
        let req = r#"{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","echo hi"],"capture-output":true}}"#;
        let r = ask1(&mut a, req);
        let pid = r["return"]["pid"].clone();
        assert!(pid.as_u64().unwrap() > 0);
        let status = wait_exec(&mut a, &pid);
        assert_eq!(status["exitcode"], 0);
        assert_eq!(status["out-data"], B64.encode("hi\n"));
        assert!(status.get("err-data").is_none());
        // Reported once, then forgotten.
        let r = ask1(
            &mut a,
            &json!({"execute": "guest-exec-status", "arguments": {"pid": pid}}).to_string(),
        );
        assert!(r.get("error").is_some());
    }

    #[test]
    fn exec_with_input_env_and_stderr() {
        let mut a = Agent::new(false);
        let req = json!({"execute": "guest-exec", "arguments": {
            "path": "/bin/sh", "arg": ["-c", "cat; echo $FOO >&2; exit 3"],
            "env": ["FOO=bar"], "input-data": B64.encode("in"), "capture-output": true}});
        let r = ask1(&mut a, &req.to_string());
        let status = wait_exec(&mut a, &r["return"]["pid"]);
        assert_eq!(status["exitcode"], 3);
        assert_eq!(status["out-data"], B64.encode("in"));
        assert_eq!(status["err-data"], B64.encode("bar\n"));
    }

    #[test]
    fn exec_missing_binary_is_an_error() {
        let mut a = Agent::new(false);
        let r = ask1(
            &mut a,
            r#"{"execute":"guest-exec","arguments":{"path":"/nonexistent/x"}}"#,
        );
        assert_eq!(r["error"]["class"], "GenericError");
    }
}
