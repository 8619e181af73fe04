//! A tiny `--name value` / `--flag` command-line parser (no clap: small binary).

use std::collections::HashMap;
use std::str::FromStr;

/// Options given on the command line, by name (without the leading `--`).
pub struct Opts(HashMap<String, String>);

impl Opts {
    /// Parses `args`; `valued` options take a value (`--port 1` or `--port=1`),
    /// `flags` do not. Anything else is an error.
    pub fn parse(args: &[String], valued: &[&str], flags: &[&str]) -> Result<Opts, String> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            if valued.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => it.next().ok_or(format!("--{name} needs a value"))?.clone(),
                };
                map.insert(name.to_string(), value);
            } else if flags.contains(&name) && inline.is_none() {
                map.insert(name.to_string(), String::new());
            } else {
                return Err(format!("unknown option --{name}"));
            }
        }
        Ok(Opts(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The parsed value of `--name`, or `default` when absent.
    pub fn get_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("bad value for --{name}: {v:?}")),
        }
    }

    /// The parsed value of a mandatory `--name`.
    pub fn require<T: FromStr>(&self, name: &str) -> Result<T, String> {
        let v = self.get(name).ok_or(format!("--{name} is required"))?;
        v.parse()
            .map_err(|_| format!("bad value for --{name}: {v:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_values_and_flags() {
        let o = Opts::parse(
            &strings(&["--port", "9", "--udp", "--size=10"]),
            &["port", "size"],
            &["udp"],
        )
        .unwrap();
        assert_eq!(o.require::<u16>("port").unwrap(), 9);
        assert_eq!(o.get_or("size", 0u32).unwrap(), 10);
        assert!(o.has("udp"));
        assert!(Opts::parse(&strings(&["--nope"]), &[], &[]).is_err());
        assert!(Opts::parse(&strings(&["--port"]), &["port"], &[]).is_err());
    }
}
