//! Result types of the survival aggregates, and the calls into the survival kernels.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::scalar::ScalarStructBuilder;
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err};

use super::rows::Column;
use crate::survival::{self, CoxCoefficient};

pub(super) fn double(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Float64)
}

fn kernel_error<T>(name: &str, e: impl std::fmt::Display) -> Result<T> {
    exec_err!("{name}: {e}")
}

/// The rows' time and event columns (always the first two).
fn time_event(columns: &[Column]) -> (&[f64], Vec<bool>) {
    (columns[0].numbers(), columns[1].events())
}

fn curve_of(name: &str, columns: &[Column]) -> Result<Vec<survival::KmStep>> {
    let (time, event) = time_event(columns);
    survival::kaplan_meier(time, &event).or_else(|e| kernel_error(name, e))
}

pub(super) fn km_survival_at(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let at = columns[2].numbers();
    let Some(&t) = at.first() else {
        return Ok(ScalarValue::Float64(None));
    };
    if at.iter().any(|&x| x != t) {
        return exec_err!("{name}: t must be the same on every row of a group, got {t} and others");
    }
    let curve = curve_of(name, columns)?;
    Ok(ScalarValue::Float64(survival::km_survival_at(&curve, t)))
}

pub(super) fn km_median(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let curve = curve_of(name, columns)?;
    Ok(ScalarValue::Float64(survival::km_median(&curve)))
}

fn km_step_fields() -> Fields {
    Fields::from(vec![
        Field::new("time", DataType::Float64, false),
        Field::new("at_risk", DataType::Int64, false),
        Field::new("events", DataType::Int64, false),
        Field::new("censored", DataType::Int64, false),
        Field::new("survival", DataType::Float64, false),
        Field::new("ci_lower", DataType::Float64, false),
        Field::new("ci_upper", DataType::Float64, false),
    ])
}

pub(super) fn km_curve_type(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::new_list(DataType::Struct(km_step_fields()), true))
}

pub(super) fn km_curve(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let curve = curve_of(name, columns)?;
    let floats =
        |f: fn(&survival::KmStep) -> f64| -> ArrayRef { Arc::new(curve.iter().map(f).collect::<Float64Array>()) };
    let counts = |f: fn(&survival::KmStep) -> u64| -> ArrayRef {
        Arc::new(curve.iter().map(|s| f(s) as i64).collect::<Int64Array>())
    };
    let steps = StructArray::try_new(
        km_step_fields(),
        vec![
            floats(|s| s.time),
            counts(|s| s.at_risk),
            counts(|s| s.events),
            counts(|s| s.censored),
            floats(|s| s.survival),
            floats(|s| s.ci_lower),
            floats(|s| s.ci_upper),
        ],
        None,
    )?;
    Ok(SingleRowListArrayBuilder::new(Arc::new(steps)).build_list_scalar())
}

fn logrank_fields() -> Fields {
    Fields::from(vec![
        Field::new("chi2", DataType::Float64, true),
        Field::new("df", DataType::Int64, true),
        Field::new("p", DataType::Float64, true),
    ])
}

pub(super) fn logrank_type(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Struct(logrank_fields()))
}

pub(super) fn logrank(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let (time, event) = time_event(columns);
    if time.is_empty() {
        return Ok(ScalarStructBuilder::new_null(logrank_fields()));
    }
    let r = survival::logrank_test(time, &event, columns[2].labels()).or_else(|e| kernel_error(name, e))?;
    let f = logrank_fields();
    ScalarStructBuilder::new()
        .with_scalar(f[0].clone(), ScalarValue::Float64(Some(r.chi2)))
        .with_scalar(f[1].clone(), ScalarValue::Int64(Some(r.df as i64)))
        .with_scalar(f[2].clone(), ScalarValue::Float64(Some(r.p)))
        .build()
}

fn cox_fields() -> Fields {
    ["coef", "hr", "se", "hr_lower", "hr_upper", "z", "p"]
        .into_iter()
        .map(|n| Field::new(n, DataType::Float64, true))
        .collect()
}

/// The covariate names of a multivariable call (`x` a STRUCT), `None` for a single covariate.
fn covariate_names(arg_types: &[DataType]) -> Option<Vec<String>> {
    match &arg_types[2] {
        DataType::Struct(fields) => Some(fields.iter().map(|f| f.name().clone()).collect()),
        _ => None,
    }
}

/// One STRUCT per covariate under its name for a multivariable fit, else the coefficient STRUCT.
fn multivariable_fields(names: &[String]) -> Fields {
    names
        .iter()
        .map(|n| Field::new(n, DataType::Struct(cox_fields()), true))
        .collect()
}

pub(super) fn cox_type(arg_types: &[DataType]) -> Result<DataType> {
    Ok(DataType::Struct(match covariate_names(arg_types) {
        Some(names) => multivariable_fields(&names),
        None => cox_fields(),
    }))
}

fn coefficient_struct(c: &CoxCoefficient) -> Result<ScalarValue> {
    let values = [c.coef, c.hr, c.se, c.hr_lower, c.hr_upper, c.z, c.p];
    let builder = cox_fields()
        .iter()
        .zip(values)
        .fold(ScalarStructBuilder::new(), |b, (f, v)| {
            b.with_scalar(f.clone(), ScalarValue::Float64(Some(v)))
        });
    builder.build()
}

pub(super) fn cox(name: &str, arg_types: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let (time, event) = time_event(columns);
    let names = covariate_names(arg_types);
    let fields = match &names {
        Some(names) => multivariable_fields(names),
        None => cox_fields(),
    };
    if time.is_empty() {
        return Ok(ScalarStructBuilder::new_null(fields));
    }
    let covariates: Vec<Vec<f64>> = columns[2..].iter().map(|c| c.numbers().to_vec()).collect();
    let fit = survival::cox_ph(time, &event, &covariates).or_else(|e| kernel_error(name, e))?;
    match names {
        None => coefficient_struct(&fit.coefficients[0]),
        Some(_) => {
            let mut builder = ScalarStructBuilder::new();
            for (field, c) in fields.iter().zip(&fit.coefficients) {
                builder = builder.with_scalar(field.clone(), coefficient_struct(c)?);
            }
            builder.build()
        }
    }
}

pub(super) fn c_index(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let (time, event) = time_event(columns);
    let c = survival::harrell_c(time, &event, columns[2].numbers()).or_else(|e| kernel_error(name, e))?;
    Ok(ScalarValue::Float64(c))
}
