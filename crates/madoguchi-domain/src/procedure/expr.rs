//! Expressions in definitions, written in CEL (the Common Expression Language,
//! <https://cel.dev>, interpreted by the `cel` crate): cross-field rules,
//! computed values and conditions beyond the simple `{ field, includes }` ones.
//!
//! An expression is compiled once, when its definition loads (a syntax error is
//! a load error with file and line). It sees, as variables:
//! - every answered field in its scope by id (top-level fields; plus the
//!   establishment's fields in a per-establishment group; plus the item's
//!   fields inside a repeating group), a repeating group by its id as a list
//!   of maps (`staff.map(s, s.weekly_hours)`),
//! - the definition's `constants`.
//!
//! Dates are ISO strings (`"2026-04-01"`), so `<` compares them.
//!
//! Functions beyond CEL's standard library: `sum(list)` and the `math.*`
//! extension (`math.floor`, `math.ceil`, `math.round`, `math.abs`, …).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr as AstExpr};
use cel::extractors::Arguments;
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Program, Value as CelValue};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::registry::Record;

/// The environment every expression is compiled and run in.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::math)
        .expect("the math extension declares no conflicting names");
    Arc::new(env)
});

/// A compiled CEL expression with its source text.
#[derive(Clone)]
pub struct Expr {
    source: String,
    program: Arc<Program>,
    /// Free variables, sorted (computed once).
    names: Arc<Vec<String>>,
}

impl Expr {
    /// Compiles `source`; the error is the parser's message.
    pub fn parse(source: &str) -> Result<Expr, String> {
        if source.trim().is_empty() {
            return Err("an expression must not be empty".to_owned());
        }
        if source.len() > 4000 {
            return Err("an expression must not be longer than 4,000 bytes".to_owned());
        }
        // The parser recurses on nesting: refuse pathological depth before it does.
        let depth = source
            .chars()
            .scan(0i32, |d, c| {
                match c {
                    '(' | '[' | '{' => *d += 1,
                    ')' | ']' | '}' => *d -= 1,
                    _ => {}
                }
                Some(*d)
            })
            .max()
            .unwrap_or(0);
        if depth > 32 {
            return Err("an expression must not nest brackets more than 32 deep".to_owned());
        }
        let program = ENV
            .compile(source)
            .map_err(|e| format!("invalid CEL expression `{source}`: {e}"))?;
        let mut names = Vec::new();
        free_variables(program.expression(), &mut Vec::new(), &mut names);
        names.sort();
        names.dedup();
        Ok(Expr {
            source: source.to_owned(),
            program: Arc::new(program),
            names: Arc::new(names),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Top-level variable names the expression refers to (fields, groups,
    /// constants), sorted, without repeats; names bound by
    /// comprehension macros (`x` in `list.all(x, …)`) are left out.
    pub fn variables(&self) -> Vec<String> {
        self.names.to_vec()
    }

    /// The same, borrowed.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Evaluates with the given variables (JSON answers).
    pub fn eval(&self, vars: &Vars<'_>) -> Result<Value, EvalError> {
        let mut ctx = Context::with_env(ENV.clone());
        ctx.add_function("sum", sum)
            .expect("`sum` is not a standard CEL function");
        for name in self.names.iter() {
            if let Some(v) = vars.get(name) {
                ctx.add_variable_from_value(name.clone(), to_cel(v));
            }
        }
        let out = self.program.execute(&ctx).map_err(EvalError::from)?;
        from_cel(&out).ok_or_else(|| EvalError::Type(format!("result {out:?} is not a value")))
    }

    /// Evaluates to a bool; any other result is a type error.
    pub fn eval_bool(&self, vars: &Vars<'_>) -> Result<bool, EvalError> {
        match self.eval(vars)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError::Type(format!(
                "`{}` must be true or false, got {other}",
                self.source
            ))),
        }
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Expr::parse(&source).map_err(serde::de::Error::custom)
    }
}

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// An operator or function applied to values of the wrong type, or a
    /// result of the wrong type: a mistake in the definition.
    Type(String),
    /// A name that is not bound (a field left blank, or a misspelt name).
    Unbound(String),
    /// Anything else (division by zero, overflow, a missing map key).
    Other(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Type(m) => write!(f, "type error: {m}"),
            EvalError::Unbound(m) => write!(f, "unknown name `{m}`"),
            EvalError::Other(m) => f.write_str(m),
        }
    }
}

impl From<ExecutionError> for EvalError {
    fn from(e: ExecutionError) -> Self {
        match &e {
            ExecutionError::UndeclaredReference(name) => EvalError::Unbound(name.to_string()),
            ExecutionError::NoSuchOverload(_)
            | ExecutionError::UnexpectedType { .. }
            | ExecutionError::UnsupportedTargetType { .. }
            | ExecutionError::NotSupportedAsMethod { .. }
            | ExecutionError::ValuesNotComparable(..)
            | ExecutionError::InvalidArgumentCount { .. }
            | ExecutionError::UnsupportedBinaryOperator(..) => EvalError::Type(e.to_string()),
            _ => EvalError::Other(e.to_string()),
        }
    }
}

/// The variables of one evaluation: layered maps of JSON values, searched
/// innermost first (item → establishment → top level → constants).
#[derive(Clone, Debug, Default)]
pub struct Vars<'a> {
    layers: Vec<&'a Record>,
}

impl<'a> Vars<'a> {
    pub fn new() -> Self {
        Vars { layers: Vec::new() }
    }

    /// Adds an inner layer (looked up before the ones already there).
    pub fn with(&self, layer: &'a Record) -> Vars<'a> {
        let mut layers = self.layers.clone();
        layers.push(layer);
        Vars { layers }
    }

    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.layers.iter().rev().find_map(|l| l.get(name))
    }
}

/// Identifiers not bound by an enclosing comprehension (`x` in `l.all(x, …)`).
fn free_variables(e: &IdedExpr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match &e.expr {
        AstExpr::Ident(name) if !name.starts_with('@') && !bound.contains(name) => {
            out.push(name.clone());
        }
        AstExpr::Ident(_) => {}
        AstExpr::Call(call) => {
            if let Some(t) = &call.target {
                free_variables(t, bound, out);
            }
            for a in &call.args {
                free_variables(a, bound, out);
            }
        }
        AstExpr::Comprehension(c) => {
            free_variables(&c.iter_range, bound, out);
            free_variables(&c.accu_init, bound, out);
            let before = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            for part in [&c.loop_cond, &c.loop_step, &c.result] {
                free_variables(part, bound, out);
            }
            bound.truncate(before);
        }
        AstExpr::List(l) => {
            for el in &l.elements {
                free_variables(el, bound, out);
            }
        }
        AstExpr::Map(m) => {
            for entry in &m.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => free_variables(&f.value, bound, out),
                    EntryExpr::MapEntry(me) => {
                        free_variables(&me.key, bound, out);
                        free_variables(&me.value, bound, out);
                    }
                }
            }
        }
        AstExpr::Struct(s) => {
            for entry in &s.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => free_variables(&f.value, bound, out),
                    EntryExpr::MapEntry(me) => {
                        free_variables(&me.key, bound, out);
                        free_variables(&me.value, bound, out);
                    }
                }
            }
        }
        AstExpr::Select(sel) => free_variables(&sel.operand, bound, out),
        AstExpr::Literal(_) | AstExpr::Unspecified => {}
        #[allow(unreachable_patterns)]
        _ => {}
    }
}

/// `sum(list)`: the sum of a list of numbers (int if every item is an int).
fn sum(Arguments(args): Arguments) -> Result<CelValue, ExecutionError> {
    let items = match args.first() {
        Some(CelValue::List(items)) if args.len() == 1 => items.clone(),
        _ => return Err(ExecutionError::function_error("sum", "sum takes one list")),
    };
    let mut int: Option<i64> = Some(0);
    let mut float = 0.0f64;
    for item in items.iter() {
        match item {
            CelValue::Int(i) => {
                int = int.and_then(|acc| acc.checked_add(*i));
                float += *i as f64;
            }
            CelValue::UInt(u) => {
                int = int.and_then(|acc| i64::try_from(*u).ok().and_then(|u| acc.checked_add(u)));
                float += *u as f64;
            }
            CelValue::Float(f) => {
                int = None;
                float += f;
            }
            other => {
                return Err(ExecutionError::function_error(
                    "sum",
                    format!("sum needs numbers, got {other:?}"),
                ));
            }
        }
    }
    Ok(match int {
        Some(i) if items.iter().all(|v| !matches!(v, CelValue::Float(_))) => CelValue::Int(i),
        _ => CelValue::Float(float),
    })
}

/// JSON → CEL. Whole numbers become `int`, so `beds * 605000` works.
pub(crate) fn to_cel(v: &Value) -> CelValue {
    match v {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => CelValue::Int(i),
            (None, Some(u), _) => CelValue::UInt(u),
            (_, _, Some(f)) => CelValue::Float(f),
            _ => CelValue::Null,
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(items) => CelValue::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let map: HashMap<Key, CelValue> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            CelValue::Map(Map { map: Arc::new(map) })
        }
    }
}

/// CEL → JSON, for computed values; `None` for values JSON cannot hold.
pub(crate) fn from_cel(v: &CelValue) -> Option<Value> {
    Some(match v {
        CelValue::Null => Value::Null,
        CelValue::Bool(b) => Value::Bool(*b),
        CelValue::Int(i) => Value::from(*i),
        CelValue::UInt(u) => Value::from(*u),
        CelValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number)?,
        CelValue::String(s) => Value::String(s.to_string()),
        CelValue::List(items) => Value::Array(items.iter().map(from_cel).collect::<Option<_>>()?),
        CelValue::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.map.iter() {
                let Key::String(k) = k else { return None };
                out.insert(k.to_string(), from_cel(v)?);
            }
            Value::Object(out)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn evaluates_with_fields_constants_and_sum() {
        let e = Expr::parse("beds <= 4 ? flat : beds * per_bed").unwrap();
        assert_eq!(e.variables(), ["beds", "flat", "per_bed"]);
        let k = vars(json!({ "flat": 3_000_000, "per_bed": 605_000 }));
        let f = vars(json!({ "beds": 19 }));
        let v = Vars::new().with(&k).with(&f);
        assert_eq!(e.eval(&v).unwrap(), json!(11_495_000));

        let e = Expr::parse("double(sum(staff.map(s, s.hours))) / 40.0").unwrap();
        assert_eq!(e.variables(), ["staff"]);
        let f = vars(json!({ "staff": [{ "hours": 40 }, { "hours": 20 }] }));
        assert_eq!(e.eval(&Vars::new().with(&f)).unwrap(), json!(1.5));
        let e = Expr::parse("math.floor(2.567 * 100.0) / 100.0").unwrap();
        assert_eq!(e.eval(&Vars::new()).unwrap(), json!(2.56));
    }

    #[test]
    fn errors_are_classified() {
        let e = Expr::parse("beds + 'x'").unwrap();
        let f = vars(json!({ "beds": 1 }));
        assert!(matches!(
            e.eval(&Vars::new().with(&f)),
            Err(EvalError::Type(_))
        ));
        let e = Expr::parse("nope > 1").unwrap();
        assert!(matches!(e.eval(&Vars::new()), Err(EvalError::Unbound(_))));
        assert!(Expr::parse("1 +").is_err());
        assert!(Expr::parse("").is_err());
        assert!(Expr::parse(&"(".repeat(40)).is_err());
        let e = Expr::parse("1").unwrap();
        assert!(matches!(e.eval_bool(&Vars::new()), Err(EvalError::Type(_))));
    }
}
