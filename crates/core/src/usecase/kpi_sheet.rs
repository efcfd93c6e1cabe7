//! The KPI table as a spreadsheet.

use super::kpi::KpiReport;
use crate::table::Sheet;

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_default()
}

/// One row per group and a total row, with the figures as on the dashboard.
pub fn kpi_sheet(r: &KpiReport) -> Sheet {
    let mut s = Sheet::new(
        "效能指标",
        &[
            "分组",
            "名称",
            "收件",
            "办结",
            "按时办结率",
            "平均办理工作日",
            "即办件占比",
            "网上申办率",
            "最多跑一次占比",
            "一窗受理率",
            "评价数",
            "满意率",
            "差评数",
            "差评率",
            "整改及时率",
            "回访率",
            "黄牌",
            "红牌",
        ],
    );
    for k in r.rows.iter().chain(std::iter::once(&r.total)) {
        s.rows.push(vec![
            k.key.clone(),
            k.label.clone(),
            k.received.to_string(),
            k.decided.to_string(),
            pct(k.on_time_rate),
            k.average_working_days
                .map(|d| format!("{d:.1}"))
                .unwrap_or_default(),
            pct(k.immediate_share),
            pct(k.online_share),
            pct(k.max_one_visit_share),
            pct(k.one_window_share),
            k.ratings.to_string(),
            pct(k.satisfaction_rate),
            k.bad.to_string(),
            pct(k.bad_rate),
            pct(k.rectified_on_time_rate),
            pct(k.call_back_rate),
            k.yellow.map(|x| x.to_string()).unwrap_or_default(),
            k.red.map(|x| x.to_string()).unwrap_or_default(),
        ]);
    }
    s
}
