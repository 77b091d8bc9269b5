//! `dynamo_shadow._native`: the core sanitizer behind PyO3, wrapped by the pure-Python
//! package in `python/dynamo_shadow` (format detection, docs, the reader helper).
//!
//! Two ways in, both ending in the one engine the Lambda and the CLI use:
//! - DynamoDB JSON arrives as text (`json.dumps` on the Python side) and goes through the
//!   core's validated codec, so the result is byte-for-byte what `dynamo-shadow sanitize`
//!   prints for the same line;
//! - boto3 resource-style values (`str`, `Decimal`, `int`, `bool`, `None`, `bytes`,
//!   `Binary`, `set`, `list`, `dict`) are converted here, exactly: numbers are carried as
//!   their decimal text, never through a float, and sets stay sets.
//!
//! No exception raised here carries a value: messages name a path (with the core's
//! value-hiding `Display`), a Python type or a rule, never the data.

use std::path::PathBuf;

use dynamo_shadow_core::item::{item_to_line, parse_item_str, Item};
use dynamo_shadow_core::policy::SectionError;
use dynamo_shadow_core::sanitize::token_key_from_env;
use dynamo_shadow_core::{AttributeValue, Path, Policy, Report, SanitizeError as CoreError, Sanitizer};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};

create_exception!(
    _native,
    SanitizeError,
    PyValueError,
    "An item or text that cannot be sanitized with certainty. The message never quotes a value."
);
create_exception!(_native, PolicyError, SanitizeError, "A policy that does not parse, validate or compile.");
create_exception!(
    _native,
    ItemError,
    SanitizeError,
    "An item that is not a valid DynamoDB item (named by path, never by value)."
);

fn sanitize_err(e: CoreError) -> PyErr {
    match e {
        CoreError::Item(e) => ItemError::new_err(e.to_string()),
        other => SanitizeError::new_err(other.to_string()),
    }
}

/// The compiled policy and detectors: build once, call from any thread.
#[pyclass(frozen, module = "dynamo_shadow._native", name = "NativeSanitizer")]
struct NativeSanitizer {
    inner: Sanitizer,
    /// The table's key attributes, when the policy declares them (`keys = [...]`).
    keys: Vec<String>,
}

fn token_key_arg(key: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    match key {
        None => Ok(None),
        Some(k) if k.is_none() => Ok(None),
        Some(k) => {
            if let Ok(s) = k.cast::<PyString>() {
                return Ok(Some(s.to_cow()?.as_bytes().to_vec()));
            }
            if let Ok(b) = k.cast::<PyBytes>() {
                return Ok(Some(b.as_bytes().to_vec()));
            }
            Err(PolicyError::new_err("token_key must be str or bytes"))
        }
    }
}

#[pymethods]
impl NativeSanitizer {
    /// The built-in default policy (deny mode, every detector).
    #[staticmethod]
    fn default_policy() -> Self {
        NativeSanitizer { inner: Sanitizer::default_policy(), keys: Vec::new() }
    }

    /// Parses `text` (named `source` in errors) and compiles the section for `table`, as the
    /// function and the CLI do. The tokenization key is `token_key`, else the environment
    /// variable the policy names (`[tokenize] key_env`, `SHADOW_TOKEN_KEY` by default).
    #[staticmethod]
    #[pyo3(signature = (text, source, table=None, token_key=None))]
    fn from_policy_str(
        text: &str,
        source: &str,
        table: Option<&str>,
        token_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let policy = Policy::parse(text, source).map_err(|e| PolicyError::new_err(e.to_string()))?;
        let section = policy.section(table).map_err(|e| {
            PolicyError::new_err(match e {
                SectionError::NoSuchTable(t) => format!("{source}: the policy has no [tables.{t}] section"),
                SectionError::NeedsTable => {
                    format!("{source}: the policy has [tables.NAME] sections: choose one with table=NAME")
                }
                SectionError::NotSectioned => format!("{source}: table= needs a policy with [tables.NAME] sections"),
            })
        })?;
        let key = match token_key_arg(token_key)? {
            Some(k) => policy.uses_tokenize().then_some(k),
            None => token_key_from_env(&policy, |k| std::env::var(k).ok())
                .map_err(|e| PolicyError::new_err(e.to_string()))?,
        };
        if let Some(k) = &key {
            if k.len() < dynamo_shadow_core::sanitize::MIN_TOKEN_KEY_BYTES {
                return Err(PolicyError::new_err(format!(
                    "token_key: the HMAC key must be at least {} bytes",
                    dynamo_shadow_core::sanitize::MIN_TOKEN_KEY_BYTES
                )));
            }
        }
        let inner = Sanitizer::build(&policy, section, key).map_err(|e| PolicyError::new_err(e.to_string()))?;
        Ok(NativeSanitizer { keys: section.keys.clone(), inner })
    }

    #[staticmethod]
    #[pyo3(signature = (path, table=None, token_key=None))]
    fn from_policy_file(path: PathBuf, table: Option<&str>, token_key: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| PolicyError::new_err(format!("{source}: {e}")))?;
        Self::from_policy_str(&text, &source, table, token_key)
    }

    /// The fingerprint written on every shadow item as `_shadow_policy`.
    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    #[getter]
    fn keys(&self) -> Vec<String> {
        self.keys.clone()
    }

    /// One DynamoDB JSON item (text) in, the sanitized item (text, the CLI's line) out.
    fn sanitize_json(&self, py: Python<'_>, text: &str, keys: Vec<String>) -> PyResult<String> {
        let item = parse_item_str(text).map_err(|e| ItemError::new_err(e.to_string()))?;
        let (clean, _) = py.detach(|| self.run(item, &keys)).map_err(sanitize_err)?;
        Ok(item_to_line(&clean))
    }

    /// One resource-style item (a dict of Python values) in, the sanitized dict out.
    fn sanitize_python<'py>(
        &self,
        py: Python<'py>,
        item: &Bound<'py, PyDict>,
        keys: Vec<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let conv = Conv::new(py)?;
        let item = conv.item_from_py(item)?;
        let (clean, _) = py.detach(|| self.run(item, &keys)).map_err(sanitize_err)?;
        conv.item_to_py(&clean)
    }

    /// What sanitizing would do to a DynamoDB JSON item: (path, rule, action) triples.
    fn explain_json(&self, py: Python<'_>, text: &str, keys: Vec<String>) -> PyResult<Vec<(String, String, String)>> {
        let item = parse_item_str(text).map_err(|e| ItemError::new_err(e.to_string()))?;
        let (_, report) = py.detach(|| self.run(item, &keys)).map_err(sanitize_err)?;
        Ok(decisions(&report))
    }

    fn explain_python(
        &self,
        py: Python<'_>,
        item: &Bound<'_, PyDict>,
        keys: Vec<String>,
    ) -> PyResult<Vec<(String, String, String)>> {
        let item = Conv::new(py)?.item_from_py(item)?;
        let (_, report) = py.detach(|| self.run(item, &keys)).map_err(sanitize_err)?;
        Ok(decisions(&report))
    }

    /// Free text (a prompt, a model's answer): every detector, no name or path rules.
    fn sanitize_text(&self, py: Python<'_>, text: &str) -> String {
        py.detach(|| self.inner.sanitize_text(text).0)
    }

    /// Rule ids and counts of what `sanitize_text` would redact.
    fn explain_text(&self, py: Python<'_>, text: &str) -> Vec<(String, u64)> {
        let report = py.detach(|| self.inner.sanitize_text(text).1);
        report.by_rule.iter().map(|(r, n)| (r.to_string(), *n)).collect()
    }
}

impl NativeSanitizer {
    fn run(&self, item: Item, keys: &[String]) -> Result<(Item, Report), CoreError> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.inner.sanitize_owned(item, &keys)
    }
}

fn decisions(report: &Report) -> Vec<(String, String, String)> {
    let mut d: Vec<_> = report.decisions.iter().collect();
    d.sort_by(|a, b| a.path.cmp(&b.path));
    d.iter().map(|d| (d.path.to_string(), d.rule.to_string(), d.action.as_str().to_string())).collect()
}

/// Python values to and from `AttributeValue`, boto3 resource-style.
struct Conv<'py> {
    py: Python<'py>,
    decimal: Bound<'py, PyAny>,
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn at(path: &Path, what: String) -> PyErr {
    if path.is_root() {
        ItemError::new_err(what)
    } else {
        ItemError::new_err(format!("attribute `{path}`: {what}"))
    }
}

/// What one set element is: sets hold one scalar type.
enum Elem {
    S(String),
    N(String),
    B(Vec<u8>),
}

impl<'py> Conv<'py> {
    fn new(py: Python<'py>) -> PyResult<Self> {
        Ok(Conv { py, decimal: py.import("decimal")?.getattr("Decimal")? })
    }

    fn item_from_py(&self, item: &Bound<'py, PyDict>) -> PyResult<Item> {
        let mut out = Item::with_capacity(item.len());
        for (k, v) in item.iter() {
            let name = k
                .cast::<PyString>()
                .map_err(|_| ItemError::new_err(format!("attribute names are str, found {}", type_name(&k))))?
                .to_cow()?
                .into_owned();
            let path = Path::attr(&name);
            let value = self.from_py(&v, &path, 0)?;
            out.insert(name, value);
        }
        Ok(out)
    }

    fn number_text(&self, v: &Bound<'py, PyAny>) -> PyResult<Option<String>> {
        if v.is_instance_of::<PyBool>() {
            return Ok(None);
        }
        if v.is_instance_of::<PyInt>() || v.is_instance(&self.decimal)? {
            return Ok(Some(v.str()?.to_cow()?.into_owned()));
        }
        Ok(None)
    }

    fn binary(&self, v: &Bound<'py, PyAny>) -> PyResult<Option<Vec<u8>>> {
        if let Ok(b) = v.cast::<PyBytes>() {
            return Ok(Some(b.as_bytes().to_vec()));
        }
        if let Ok(b) = v.cast::<pyo3::types::PyByteArray>() {
            return Ok(Some(b.to_vec()));
        }
        // boto3.dynamodb.types.Binary, without importing boto3 (an optional dependency).
        if type_name(v) == "Binary" {
            if let Ok(inner) = v.getattr("value") {
                if let Ok(b) = inner.cast::<PyBytes>() {
                    return Ok(Some(b.as_bytes().to_vec()));
                }
            }
        }
        Ok(None)
    }

    fn elem(&self, v: &Bound<'py, PyAny>, path: &Path) -> PyResult<Elem> {
        if let Ok(s) = v.cast::<PyString>() {
            return Ok(Elem::S(s.to_cow()?.into_owned()));
        }
        if let Some(n) = self.number_text(v)? {
            return Ok(Elem::N(n));
        }
        if let Some(b) = self.binary(v)? {
            return Ok(Elem::B(b));
        }
        Err(at(
            path,
            format!("a set element of type {} is not a DynamoDB set type (str, number or bytes)", type_name(v)),
        ))
    }

    fn set(&self, items: Vec<Bound<'py, PyAny>>, path: &Path) -> PyResult<AttributeValue> {
        if items.is_empty() {
            return Err(at(path, "DynamoDB has no empty sets".into()));
        }
        let elems = items.iter().map(|e| self.elem(e, path)).collect::<PyResult<Vec<_>>>()?;
        let mixed = || at(path, "a set holds one type (all str, all numbers or all bytes)".into());
        match elems[0] {
            Elem::S(_) => elems
                .into_iter()
                .map(|e| if let Elem::S(s) = e { Ok(s) } else { Err(mixed()) })
                .collect::<PyResult<_>>()
                .map(AttributeValue::Ss),
            Elem::N(_) => elems
                .into_iter()
                .map(|e| if let Elem::N(s) = e { Ok(s) } else { Err(mixed()) })
                .collect::<PyResult<_>>()
                .map(AttributeValue::Ns),
            Elem::B(_) => elems
                .into_iter()
                .map(|e| if let Elem::B(s) = e { Ok(s) } else { Err(mixed()) })
                .collect::<PyResult<_>>()
                .map(AttributeValue::Bs),
        }
    }

    #[allow(clippy::wrong_self_convention)]
    fn from_py(&self, v: &Bound<'py, PyAny>, path: &Path, depth: usize) -> PyResult<AttributeValue> {
        if v.is_none() {
            return Ok(AttributeValue::Null(true));
        }
        if let Ok(b) = v.cast::<PyBool>() {
            return Ok(AttributeValue::Bool(b.is_true()));
        }
        if let Ok(s) = v.cast::<PyString>() {
            return Ok(AttributeValue::S(s.to_cow()?.into_owned()));
        }
        if let Some(n) = self.number_text(v)? {
            return Ok(AttributeValue::N(n));
        }
        if let Some(b) = self.binary(v)? {
            return Ok(AttributeValue::B(b));
        }
        if depth >= dynamo_shadow_core::item::MAX_DEPTH
            && (v.is_instance_of::<PyDict>() || v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>())
        {
            return Err(at(
                path,
                format!("nested deeper than DynamoDB's {} levels", dynamo_shadow_core::item::MAX_DEPTH),
            ));
        }
        if let Ok(d) = v.cast::<PyDict>() {
            let mut m = std::collections::HashMap::with_capacity(d.len());
            for (k, e) in d.iter() {
                let name = k
                    .cast::<PyString>()
                    .map_err(|_| at(path, format!("map keys are str, found {}", type_name(&k))))?
                    .to_cow()?
                    .into_owned();
                let child = path.child(&name);
                m.insert(name, self.from_py(&e, &child, depth + 1)?);
            }
            return Ok(AttributeValue::M(m));
        }
        if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
            let mut l = Vec::new();
            for (i, e) in v.try_iter()?.enumerate() {
                l.push(self.from_py(&e?, &path.index(i), depth + 1)?);
            }
            return Ok(AttributeValue::L(l));
        }
        if v.is_instance_of::<PySet>() || v.is_instance_of::<PyFrozenSet>() {
            let items = v.try_iter()?.collect::<PyResult<Vec<_>>>()?;
            return self.set(items, path);
        }
        let hint = if type_name(v) == "float" { " (DynamoDB numbers are exact: use decimal.Decimal)" } else { "" };
        Err(at(path, format!("Python type {} is not a DynamoDB type{hint}", type_name(v))))
    }

    fn item_to_py(&self, item: &Item) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(self.py);
        for (k, v) in item {
            d.set_item(k, self.to_py(v)?)?;
        }
        Ok(d)
    }

    fn to_py(&self, v: &AttributeValue) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match v {
            AttributeValue::S(s) => PyString::new(py, s).into_any(),
            AttributeValue::N(n) => self.decimal.call1((n.as_str(),))?,
            AttributeValue::B(b) => PyBytes::new(py, b).into_any(),
            AttributeValue::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
            AttributeValue::Null(_) => py.None().into_bound(py),
            AttributeValue::M(m) => {
                let d = PyDict::new(py);
                for (k, e) in m {
                    d.set_item(k, self.to_py(e)?)?;
                }
                d.into_any()
            }
            AttributeValue::L(l) => {
                let out = PyList::empty(py);
                for e in l {
                    out.append(self.to_py(e)?)?;
                }
                out.into_any()
            }
            AttributeValue::Ss(s) => PySet::new(py, s)?.into_any(),
            AttributeValue::Ns(s) => {
                let out = PySet::empty(py)?;
                for n in s {
                    out.add(self.decimal.call1((n.as_str(),))?)?;
                }
                out.into_any()
            }
            AttributeValue::Bs(s) => {
                let out = PySet::empty(py)?;
                for b in s {
                    out.add(PyBytes::new(py, b))?;
                }
                out.into_any()
            }
        })
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeSanitizer>()?;
    m.add("SanitizeError", m.py().get_type::<SanitizeError>())?;
    m.add("PolicyError", m.py().get_type::<PolicyError>())?;
    m.add("ItemError", m.py().get_type::<ItemError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
