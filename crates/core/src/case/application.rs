//! Checking an application against its item: the form and the materials checklist
//! (收件 — "checks the materials against the guide"). Used at receipt, at online
//! submission and whenever the applicant changes what was handed in.

use std::collections::BTreeMap;

use super::action::{MaterialInput, MaterialLine};
use super::model::{ApplicantKind, MaterialEntry, MaterialStatus};
use crate::catalog::{ItemSpec, Material, Requirement, ServiceObject, check_form};
use crate::error::FieldErrors;

/// Whether a material is required for this application, given its form values.
pub fn is_required(m: &Material, form: &BTreeMap<String, String>) -> bool {
    match &m.requirement {
        Requirement::Required => true,
        Requirement::Optional => false,
        // Without a machine rule, the clerk judges the situation: not enforced here.
        Requirement::Conditional { when: None, .. } => false,
        Requirement::Conditional {
            when: Some(rule), ..
        } => form.get(&rule.field).map(|v| v.as_str()) == Some(rule.equals.as_str()),
    }
}

/// The checklist of a new application: one entry per material of the item, from the
/// lines given (materials not mentioned are not provided).
pub fn build_checklist(
    spec: &ItemSpec,
    form: &BTreeMap<String, String>,
    lines: &[MaterialLine],
    errors: &mut FieldErrors,
) -> Vec<MaterialEntry> {
    for (i, l) in lines.iter().enumerate() {
        if spec.material(&l.code).is_none() {
            errors.add(
                format!("materials[{i}].code"),
                format!("该事项没有编码为“{}”的材料", l.code),
            );
        }
        if lines[..i].iter().any(|o| o.code == l.code) {
            errors.add(format!("materials[{i}].code"), "同一材料重复填写");
        }
    }
    spec.materials
        .iter()
        .map(|m| {
            let status = lines
                .iter()
                .find(|l| l.code == m.code)
                .map(|l| status_of(m, &l.input, errors))
                .unwrap_or(MaterialStatus::NotProvided);
            MaterialEntry {
                code: m.code.clone(),
                name: m.name.clone(),
                required: is_required(m, form),
                status,
            }
        })
        .collect()
}

/// Apply changed lines to an existing checklist (补正, 重新提交, 容缺补交).
pub fn update_checklist(
    spec: &ItemSpec,
    form: &BTreeMap<String, String>,
    current: &[MaterialEntry],
    lines: &[MaterialLine],
    errors: &mut FieldErrors,
) -> Vec<MaterialEntry> {
    let mut out: Vec<MaterialEntry> = current.to_vec();
    for (i, l) in lines.iter().enumerate() {
        match (
            spec.material(&l.code),
            out.iter_mut().find(|e| e.code == l.code),
        ) {
            (Some(m), Some(entry)) => entry.status = status_of(m, &l.input, errors),
            _ => errors.add(
                format!("materials[{i}].code"),
                format!("该事项没有编码为“{}”的材料", l.code),
            ),
        }
    }
    for e in &mut out {
        if let Some(m) = spec.material(&e.code) {
            e.required = is_required(m, form);
        }
    }
    out
}

fn status_of(m: &Material, input: &MaterialInput, errors: &mut FieldErrors) -> MaterialStatus {
    let field = format!("materials.{}", m.code);
    match input {
        MaterialInput::Provided { electronic, files } => {
            if files.iter().any(|f| f.trim().is_empty() || f.len() > 128) {
                errors.add(field, "文件标识无效");
            }
            MaterialStatus::Provided {
                electronic: *electronic,
                files: files.clone(),
            }
        }
        MaterialInput::Shared { certificate_no } => {
            if m.certificate_type.is_none() {
                errors.add(field, format!("“{}”不能以证照共享免提交", m.name));
            } else if certificate_no.trim().is_empty() || certificate_no.chars().count() > 60 {
                errors.add(field, "须填写证照编号（不超过 60 字）");
            }
            MaterialStatus::Shared {
                certificate_no: certificate_no.trim().to_string(),
            }
        }
        MaterialInput::Rongque => {
            if !m.rongque {
                errors.add(field, format!("“{}”不是容缺材料，不能容缺受理", m.name));
            }
            MaterialStatus::Rongque
        }
        MaterialInput::NotProvided => MaterialStatus::NotProvided,
    }
}

/// Check that every required material is present or under 容缺; name each one missing.
pub fn check_complete(entries: &[MaterialEntry], errors: &mut FieldErrors) {
    for e in entries {
        if e.required && matches!(e.status, MaterialStatus::NotProvided) {
            errors.add(
                format!("materials.{}", e.code),
                format!("缺少必要材料“{}”", e.name),
            );
        }
    }
}

/// Check the applicant kind against the item's service objects.
pub fn check_service_object(spec: &ItemSpec, kind: ApplicantKind, errors: &mut FieldErrors) {
    let needed = match kind {
        ApplicantKind::Person => ServiceObject::Person,
        ApplicantKind::Enterprise => ServiceObject::Enterprise,
    };
    if !spec.service_objects.contains(&needed) {
        errors.add(
            "applicant",
            match kind {
                ApplicantKind::Person => "该事项不面向自然人办理",
                ApplicantKind::Enterprise => "该事项不面向法人办理",
            },
        );
    }
}

/// Check a form: all rules when `complete`, only the values given otherwise (drafts).
pub fn check_form_values(
    spec: &ItemSpec,
    form: &BTreeMap<String, String>,
    complete: bool,
    errors: &mut FieldErrors,
) -> BTreeMap<String, String> {
    if complete {
        match check_form(&spec.fields, form) {
            Ok(v) => v,
            Err(e) => {
                for (k, v) in e.fields() {
                    errors.add(k.clone(), v.clone());
                }
                form.clone()
            }
        }
    } else {
        let mut out = BTreeMap::new();
        for (k, v) in form {
            match spec.fields.iter().find(|f| &f.key == k) {
                None => errors.add(format!("form.{k}"), "该事项没有这个字段"),
                Some(_) if v.trim().is_empty() => {}
                Some(f) => match f.check_value(v) {
                    Ok(v) => {
                        out.insert(k.clone(), v);
                    }
                    Err(rule) => errors.add(format!("form.{k}"), format!("“{}”{rule}", f.label)),
                },
            }
        }
        out
    }
}

/// True when some material is under 容缺.
pub fn has_rongque(entries: &[MaterialEntry]) -> bool {
    entries.iter().any(|e| e.status == MaterialStatus::Rongque)
}
