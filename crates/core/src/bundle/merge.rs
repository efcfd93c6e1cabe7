//! 一张表单、一套材料: the chosen items' fields and materials merged.
//!
//! - A field key shared by several items is asked once; it is required if any item
//!   requires it. Two items that define one key differently (type or options) are a
//!   [`FieldConflict`]: the bundle cannot be published until it is resolved.
//! - A material is asked once however many items need it; materials are the same when
//!   their names are the same (after trimming). It is required if any item requires it
//!   (optional only if optional for all); 容缺 only if every item that needs it allows
//!   容缺; 免提交 when any item accepts a certificate for it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{FieldKind, FormField, ItemSpec, Requirement};

use super::Chosen;

/// A field of the one form, and the items that ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MergedField {
    /// The field as asked (the first item's label and help).
    pub field: FormField,
    /// The items that ask for it.
    pub items: Vec<i64>,
}

/// One key defined differently by two items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldConflict {
    /// The key.
    pub key: String,
    /// The first item defining it.
    pub first_item: i64,
    /// The item defining it differently.
    pub other_item: i64,
    /// What differs, in words.
    pub reason: String,
}

/// Where a merged material comes from: an item and the material's code there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MaterialSource {
    /// The item.
    pub item_id: i64,
    /// The material's code in that item.
    pub code: String,
}

/// A material of the one material set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MergedMaterial {
    /// Its name.
    pub name: String,
    /// Required by at least one item (conditional materials count when their rule holds
    /// for the item; here: required if any item has it as required).
    pub required: bool,
    /// Conditional in every item that lists it (asked only in the situation named).
    pub conditional: bool,
    /// 容缺 allowed by every item that needs it.
    pub rongque: bool,
    /// 免提交 by this certificate type, when any item accepts one.
    pub certificate_type: Option<String>,
    /// The items and codes it stands for.
    pub sources: Vec<MaterialSource>,
}

/// The one form and the one material set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Merged {
    /// The fields, each key once, in the order first met.
    pub fields: Vec<MergedField>,
    /// Keys defined differently.
    pub conflicts: Vec<FieldConflict>,
    /// The materials, each name once, in the order first met.
    pub materials: Vec<MergedMaterial>,
}

fn differs(a: &FormField, b: &FormField) -> Option<String> {
    if a.kind != b.kind {
        return Some(format!("类型不同（{:?} / {:?}）", a.kind, b.kind));
    }
    if a.kind == FieldKind::Choice && a.options != b.options {
        return Some(format!(
            "选项不同（{} / {}）",
            a.options.join("、"),
            b.options.join("、")
        ));
    }
    None
}

/// Merge the chosen items (in the bundle's order) with their specs.
pub fn merge(chosen: &[(Chosen, &ItemSpec)]) -> Merged {
    let mut fields: Vec<MergedField> = Vec::new();
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    let mut conflicts = Vec::new();
    let mut materials: Vec<MergedMaterial> = Vec::new();
    // Per material: whether every item needing it (required or conditional) allows
    // 容缺; `None` while only items that list it as optional have been seen.
    let mut rongque: Vec<Option<bool>> = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for (c, spec) in chosen {
        for f in &spec.fields {
            match at.get(&f.key) {
                Some(&i) => {
                    let m = &mut fields[i];
                    if let Some(reason) = differs(&m.field, f) {
                        conflicts.push(FieldConflict {
                            key: f.key.clone(),
                            first_item: m.items[0],
                            other_item: c.item_id,
                            reason,
                        });
                    }
                    m.field.required |= f.required;
                    if !m.items.contains(&c.item_id) {
                        m.items.push(c.item_id);
                    }
                }
                None => {
                    at.insert(f.key.clone(), fields.len());
                    fields.push(MergedField {
                        field: f.clone(),
                        items: vec![c.item_id],
                    });
                }
            }
        }
        for m in spec
            .materials
            .iter()
            .filter(|m| !c.skipped_materials.contains(&m.code))
        {
            let name = m.name.trim().to_string();
            let required = matches!(m.requirement, Requirement::Required);
            let conditional = matches!(m.requirement, Requirement::Conditional { .. });
            let source = MaterialSource {
                item_id: c.item_id,
                code: m.code.clone(),
            };
            match by_name.get(&name) {
                Some(&i) => {
                    let x = &mut materials[i];
                    if required || conditional {
                        rongque[i] = Some(rongque[i].unwrap_or(true) && m.rongque);
                    }
                    x.required |= required;
                    x.conditional &= conditional;
                    if x.certificate_type.is_none() {
                        x.certificate_type = m.certificate_type.clone();
                    }
                    x.sources.push(source);
                }
                None => {
                    by_name.insert(name.clone(), materials.len());
                    rongque.push((required || conditional).then_some(m.rongque));
                    materials.push(MergedMaterial {
                        name,
                        required,
                        conditional,
                        rongque: false,
                        certificate_type: m.certificate_type.clone(),
                        sources: vec![source],
                    });
                }
            }
        }
    }
    for (m, r) in materials.iter_mut().zip(rongque) {
        m.rongque = r.unwrap_or(false);
    }
    Merged {
        fields,
        conflicts,
        materials,
    }
}
