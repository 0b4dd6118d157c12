//! Loading: the built-in defaults, then the config file, then
//! `LEADSCOUT_*` environment overrides; errors name the key and where its
//! value came from.

use std::collections::HashMap;

use super::{Config, ConfigError, ConfigFile, ENV_PREFIX, Origin};

impl Config {
    /// Loads the config: defaults, then `file` (if any), then overrides from
    /// `env` (normally `std::env::vars()`).
    pub fn load(
        file: Option<&ConfigFile>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::load_with_stages(file, env, None)
    }

    /// Like [`load`](Self::load), and refuses `[stages.NAME]` sections for
    /// stages not in `stages`.
    pub fn load_with_stages(
        file: Option<&ConfigFile>,
        env: impl IntoIterator<Item = (String, String)>,
        stages: Option<&[&str]>,
    ) -> Result<Self, ConfigError> {
        let mut table = toml::Table::new();
        let mut file_origin = Origin::Default;
        if let Some(file) = file {
            match std::fs::read_to_string(&file.path) {
                Ok(text) => {
                    table = text
                        .parse::<toml::Table>()
                        .map_err(|e| ConfigError::Syntax {
                            path: file.path.clone(),
                            message: e.to_string().trim().replace('\n', " "),
                        })?;
                    file_origin = Origin::File(file.path.clone());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !file.explicit => {}
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: file.path.clone(),
                        source,
                    });
                }
            }
        }
        let env_keys = apply_env(&mut table, env)?;
        // A key set by an env var, or a section that only env vars created.
        let origin_of = |key: &str| {
            let section = format!("{key}.");
            env_keys
                .get(key)
                .or_else(|| {
                    env_keys
                        .iter()
                        .find(|(k, _)| k.starts_with(&section))
                        .map(|(_, v)| v)
                })
                .map(|var| Origin::Env(var.clone()))
                .unwrap_or_else(|| file_origin.clone())
        };
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|err| {
                let path = err.path().to_string();
                let message = err.inner().to_string();
                if let Some(field) = unknown_field(&message) {
                    // The path already ends in the unknown field, except at the top.
                    let key = if path == "." || path.is_empty() {
                        field
                    } else {
                        path
                    };
                    let origin = origin_of(&key);
                    if crate::domain::settings::key_looks_secret(&key) && !key.ends_with("_env") {
                        ConfigError::SecretKey { key, origin }
                    } else {
                        ConfigError::UnknownKey { key, origin }
                    }
                } else {
                    let origin = origin_of(&path);
                    ConfigError::BadValue {
                        key: path,
                        origin,
                        message: first_line(&message),
                    }
                }
            })?;
        config.validate(&origin_of)?;
        if let Some(known) = stages
            && let Some(name) = config
                .stages
                .keys()
                .find(|name| !known.contains(&name.as_str()))
        {
            let key = format!("stages.{name}");
            return Err(ConfigError::BadValue {
                origin: origin_of(&key),
                key,
                message: format!("there is no stage `{name}` (stages: {})", known.join(", ")),
            });
        }
        Ok(config)
    }
}

/// Applies `LEADSCOUT_A__B=value` overrides to the table. Values are read as
/// TOML when they parse (`true`, `5`, `["a", "b"]`) and as strings otherwise;
/// a string for a list key is split on commas.
/// Returns dotted key → variable name, for error messages.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, ConfigError> {
    let mut keys = HashMap::new();
    let defaults = toml::Value::try_from(Config::default())
        .unwrap_or_else(|_| toml::Value::Table(toml::Table::new()));
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains("__"))
        .collect();
    vars.sort();
    for (var, raw) in vars {
        let path: Vec<String> = var[ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::UnknownKey {
                key: path.join("."),
                origin: Origin::Env(var),
            });
        }
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let dotted = path.join(".");
        let mut cursor = &mut *table;
        for part in &path[..path.len() - 1] {
            let entry = cursor
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            cursor = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigError::BadValue {
                        key: dotted,
                        origin: Origin::Env(var),
                        message: format!("`{part}` is not a section"),
                    });
                }
            };
        }
        let key = path[path.len() - 1].clone();
        // A list key given a plain string takes it as a comma-separated
        // list: `LEADSCOUT_FETCH__ALLOW_HOSTS=127.0.0.1:8001,intranet`.
        let is_list = cursor.get(&key).is_some_and(toml::Value::is_array)
            || path
                .iter()
                .try_fold(&defaults, |node, part| node.get(part))
                .is_some_and(toml::Value::is_array);
        let value = match value {
            toml::Value::String(text) if is_list => toml::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            ),
            value => value,
        };
        cursor.insert(key, value);
        keys.insert(dotted, var);
    }
    Ok(keys)
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_string)
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}
