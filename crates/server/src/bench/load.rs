//! The HTTP workloads: whole case lifecycles, and reads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::Method;
use serde::Serialize;

use super::client::{Client, top_level_id};
use super::cpu;
use super::rng::Rng;

/// The steps of one lifecycle: 收件 → 受理 → 审查 → 决定 → 制证 → 出件核验 → 送达 → 归档.
pub const STEPS: [&str; 8] = [
    "收件 receive",
    "受理 accept",
    "审查 review",
    "决定 approve",
    "制证 produce_result",
    "出件核验 check_result_ok",
    "送达 deliver_pickup",
    "归档 archive",
];

/// Bearer tokens of the people in the lifecycle.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// 综合受理窗口.
    pub clerk: String,
    /// 审查员.
    pub reviewer: String,
    /// 审批人.
    pub approver: String,
    /// 综合出件窗口.
    pub issuer: String,
}

/// Latency of one kind of request.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// What.
    pub name: String,
    /// Requests measured.
    pub count: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
}

fn latency(name: &str, h: &Histogram<u64>) -> Latency {
    Latency {
        name: name.to_string(),
        count: h.len(),
        p50_ms: h.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: h.max() as f64 / 1000.0,
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

/// What a lifecycle run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LifecycleResult {
    /// Backend.
    pub backend: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Seconds measured (after warm-up).
    pub seconds: f64,
    /// Lifecycles completed.
    pub cases: u64,
    /// Transitions (steps, 收件 included) completed.
    pub transitions: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Transitions per second.
    pub transitions_per_s: f64,
    /// Lifecycles per second.
    pub cases_per_s: f64,
    /// Over all steps.
    pub all: Latency,
    /// Per step.
    pub steps: Vec<Latency>,
    /// Writes per commit, on average (group commit at work).
    pub jobs_per_commit: f64,
    /// Share of the writer's time spent committing (fsync).
    pub commit_share: f64,
    /// Share of the wall-clock time, warm-up included, that the writer spent running
    /// jobs or committing (summed over its threads: PostgreSQL's two can exceed 1). Near
    /// 1 per thread, the writer is the bound; well under it, the rest of the machine is.
    pub writer_busy: f64,
    /// Share of the wall-clock time the writer's sync thread spent making commits
    /// durable (SQLite: the WAL's `fdatasync`, while the writer ran the next jobs).
    pub sync_busy: f64,
    /// CPU time over the measured interval (the whole machine, and this process).
    pub cpu: cpu::Usage,
    /// Machine CPU microseconds per transition: this process (server, load generator,
    /// SQLite) and a local PostgreSQL server together.
    pub cpu_us_per_transition: f64,
    /// This process's CPU microseconds per transition.
    pub own_cpu_us_per_transition: f64,
    /// KiB the machine wrote to disk per transition.
    pub disk_kib_per_transition: f64,
}

/// Run whole lifecycles from `clients` concurrent connections for `measure` after
/// `warmup`.
pub async fn lifecycles(
    addr: SocketAddr,
    tokens: Tokens,
    receive_body: Bytes,
    clients: usize,
    warmup: Duration,
    measure: Duration,
    backend: &str,
) -> anyhow::Result<LifecycleResult> {
    let start = Instant::now();
    let from = start + warmup;
    let until = from + measure;
    let tokens = Arc::new(tokens);
    let meter = cpu_meter(from, until);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (tokens, body) = (tokens.clone(), receive_body.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await?;
            let mut taken: Vec<Samples> = (0..STEPS.len()).map(|_| Samples::default()).collect();
            let (mut cases, mut errors) = (0u64, 0u64);
            let actions: [(&str, &'static str); 7] = [
                (&tokens.reviewer, r#"{"action":"accept"}"#),
                (&tokens.reviewer, r#"{"action":"review","opinion":"材料齐全，符合法定条件","recommend_approval":true}"#),
                (&tokens.approver, r#"{"action":"approve","opinion":"同意"}"#),
                (&tokens.reviewer, r#"{"action":"produce_result","number":"JY14409020001234"}"#),
                (&tokens.issuer, r#"{"action":"check_result_ok"}"#),
                (&tokens.issuer, r#"{"action":"deliver_pickup","signed_by":"张伟"}"#),
                (&tokens.issuer, r#"{"action":"archive"}"#),
            ];
            'outer: while Instant::now() < until {
                let t = Instant::now();
                let (status, resp) = c.send(Method::POST, "/api/v1/cases", &tokens.clerk, Some(body.clone())).await?;
                let Some(id) = top_level_id(&resp).filter(|_| status == 201) else {
                    errors += 1;
                    continue;
                };
                taken[0].record(t, from, until);
                let path = format!("/api/v1/cases/{id}/actions");
                for (i, (token, action)) in actions.iter().enumerate() {
                    let t = Instant::now();
                    let (status, _) = c.send(Method::POST, &path, token, Some(Bytes::from_static(action.as_bytes()))).await?;
                    if status != 200 {
                        errors += 1;
                        continue 'outer;
                    }
                    taken[i + 1].record(t, from, until);
                }
                let now = Instant::now();
                if now > from && now <= until {
                    cases += 1;
                }
            }
            anyhow::Ok((taken, cases, errors))
        }));
    }
    let mut hist: Vec<Histogram<u64>> = (0..STEPS.len()).map(|_| histogram()).collect();
    let (mut cases, mut steps, mut errors) = (0, 0, 0);
    for t in tasks {
        let (taken, c, e) = t.await??;
        for (h, samples) in hist.iter_mut().zip(&taken) {
            samples.count_into(h);
            steps += samples.0.len() as u64;
        }
        cases += c;
        errors += e;
    }
    let mut all = histogram();
    for h in &hist {
        all.add(h)?;
    }
    let secs = measure.as_secs_f64();
    let usage = meter.await?;
    Ok(LifecycleResult {
        backend: backend.to_string(),
        clients,
        seconds: secs,
        cases,
        transitions: steps,
        errors,
        transitions_per_s: steps as f64 / secs,
        cases_per_s: cases as f64 / secs,
        all: latency("all steps", &all),
        steps: STEPS
            .iter()
            .zip(hist.iter())
            .map(|(n, h)| latency(n, h))
            .collect(),
        jobs_per_commit: 0.0,
        commit_share: 0.0,
        writer_busy: 0.0,
        sync_busy: 0.0,
        cpu: usage,
        cpu_us_per_transition: usage.machine_us_per(steps as f64),
        own_cpu_us_per_transition: usage.own_us_per(steps as f64),
        disk_kib_per_transition: usage.disk_kib_per(steps as f64),
    })
}

/// The machine's CPU time between `from` and `until`, measured on a task of its own.
fn cpu_meter(from: Instant, until: Instant) -> tokio::task::JoinHandle<cpu::Usage> {
    tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let a = cpu::sample();
        tokio::time::sleep_until(until.into()).await;
        cpu::between(a, cpu::sample())
    })
}

/// The latencies one client measured, in µs, as they came. Appending to a vector walks
/// memory in order; a histogram per client and step is some 140 KB of counters hit at
/// random (three significant digits up to a minute), which cost the load generator, and
/// so the server beside it on the same cores, a cache miss per request. They are counted
/// into histograms once the run is over.
#[derive(Default)]
struct Samples(Vec<u32>);

impl Samples {
    /// Keep the latency of a request sent at `t` and answered now, if it fell wholly
    /// within the measured interval.
    fn record(&mut self, t: Instant, from: Instant, until: Instant) {
        let now = Instant::now();
        if t >= from && now <= until {
            let us = now
                .duration_since(t)
                .as_micros()
                .clamp(1, u128::from(u32::MAX));
            self.0.push(us as u32);
        }
    }

    /// Count these latencies into `h` (one beyond its range as its highest).
    fn count_into(&self, h: &mut Histogram<u64>) {
        for &us in &self.0 {
            h.saturating_record(u64::from(us));
        }
    }
}

/// The HTTP exchange alone: what one request costs the machine when the server does
/// nothing (`GET /healthz`, with the same connection, headers and load generator as the
/// lifecycle's requests).
#[derive(Debug, Clone, Serialize)]
pub struct FloorResult {
    /// Concurrent clients.
    pub clients: usize,
    /// Requests per second.
    pub per_s: f64,
    /// Latency.
    pub latency: Latency,
    /// Machine CPU microseconds per request.
    pub cpu_us_per_request: f64,
    /// Share of the machine busy.
    pub busy: f64,
}

/// [`FloorResult`] from `clients` connections for `measure` after `warmup`.
pub async fn http_floor(
    addr: SocketAddr,
    token: String,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<FloorResult> {
    let from = Instant::now() + warmup;
    let until = from + measure;
    let meter = cpu_meter(from, until);
    let paths: PathPicker = Arc::new(|_| ("/healthz".to_string(), 0));
    let (per_s, latency) = reads(
        addr,
        "GET /healthz",
        paths,
        Arc::new(vec![token]),
        clients,
        warmup,
        measure,
    )
    .await?;
    let usage = meter.await?;
    Ok(FloorResult {
        clients,
        per_s,
        latency,
        cpu_us_per_request: usage.machine_us_per(per_s * measure.as_secs_f64()),
        busy: usage.busy_share(),
    })
}

/// What a read run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ReadResult {
    /// Backend.
    pub backend: String,
    /// Dataset size (cases).
    pub cases: u64,
    /// Requests per second.
    pub per_s: f64,
    /// Latency.
    pub latency: Latency,
}

/// Picks the next path to read and which token to read it with.
pub type PathPicker = Arc<dyn Fn(&mut Rng) -> (String, usize) + Send + Sync>;

/// GET `paths()` with tokens from `tokens` from `clients` connections for `measure`.
pub async fn reads(
    addr: SocketAddr,
    name: &str,
    paths: PathPicker,
    tokens: Arc<Vec<String>>,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<(f64, Latency)> {
    let start = Instant::now();
    let from = start + warmup;
    let until = from + measure;
    let mut tasks = Vec::new();
    for k in 0..clients {
        let (paths, tokens) = (paths.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await?;
            let mut rng = Rng::new(7 + k as u64);
            let mut taken = Samples::default();
            while Instant::now() < until {
                let (path, who) = paths(&mut rng);
                let t = Instant::now();
                let (status, _) = c
                    .send(Method::GET, &path, &tokens[who % tokens.len()], None)
                    .await?;
                anyhow::ensure!(status == 200, "GET {path}: {status}");
                taken.record(t, from, until);
            }
            anyhow::Ok(taken)
        }));
    }
    let mut h = histogram();
    let mut n = 0;
    for t in tasks {
        let taken = t.await??;
        taken.count_into(&mut h);
        n += taken.0.len();
    }
    Ok((n as f64 / measure.as_secs_f64(), latency(name, &h)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_wholly_inside_the_interval_are_counted() {
        let now = Instant::now();
        let (from, until) = (now - Duration::from_secs(10), now + Duration::from_secs(10));
        let mut s = Samples::default();
        // Sent 3 ms ago, inside: kept, as about 3,000 µs.
        s.record(now - Duration::from_millis(3), from, until);
        // Sent before the interval began (warm-up): left out.
        s.record(from - Duration::from_millis(1), from, until);
        // Answered after the interval ended: left out.
        s.record(
            now - Duration::from_millis(3),
            from,
            now - Duration::from_secs(1),
        );
        assert_eq!(s.0.len(), 1);
        assert!((3_000..10_000_000).contains(&s.0[0]), "{:?}", s.0);

        let mut h = histogram();
        Samples(
            vec![100; 98]
                .into_iter()
                .chain([5_000, 70_000_000])
                .collect(),
        )
        .count_into(&mut h);
        assert_eq!(h.len(), 100);
        assert_eq!(h.value_at_quantile(0.5), 100);
        // Beyond the histogram's range counts as its highest value, not as an error.
        assert!(h.max() >= 60_000_000 && h.max() < 70_000_000, "{}", h.max());
    }
}
