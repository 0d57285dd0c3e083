//! The running totals one statistics pass keeps: per endpoint, per time
//! interval, and for the run. Both inputs feed them: raw Events
//! ([`crate::events`]) and summaries being merged ([`crate::merge`]).
//!
//! Memory does not grow with the number of events: a fixed set of
//! histograms per endpoint, and one histogram per interval, so it grows with
//! the run's duration, never with its request count. Only the few buckets
//! being written to hold a live histogram (about 6 KB); the others keep
//! theirs encoded (a few hundred bytes), so a 24-hour run of 1-second buckets
//! stays within tens of megabytes.

use std::collections::{BTreeMap, HashMap};

use hdrhistogram::Histogram;
use records::{hist, ErrorGroup, Load};

/// Precision of the per-interval histograms: 2 significant digits keep a
/// bucket's histogram a few KB while p99 over a second stays within 1%.
pub const INTERVAL_SIGFIG: u8 = 2;
/// Interval histograms resolve 1 µs at the bottom (below that is noise on any network).
pub const INTERVAL_LOWEST_NS: u64 = 1_000;
/// More buckets than this means a too-fine `--interval` for the run's length.
pub const MAX_INTERVALS: usize = 100_000;
/// Buckets whose histograms stay live: the most recently written ones. Events
/// come roughly in time order (hammer writes them as requests complete, a
/// slow one a few buckets late), so a handful covers the buckets still
/// filling; a bucket written to after it was encoded is decoded again.
pub const OPEN_INTERVALS: usize = 16;

/// A new histogram for one time-series bucket: 2 digits, starting small
/// (about 1 KB) and growing only as far as the bucket's latencies reach.
pub fn new_interval_histogram() -> Histogram<u32> {
    let mut h =
        Histogram::new_with_bounds(INTERVAL_LOWEST_NS, 2 * INTERVAL_LOWEST_NS, INTERVAL_SIGFIG)
            .expect("constant bounds are valid");
    h.auto(true);
    h
}

/// A bucket histogram with u64 counts, for encoding and merging.
pub fn widen(from: &Histogram<u32>) -> Histogram<u64> {
    let mut h =
        Histogram::new_with_bounds(INTERVAL_LOWEST_NS, 2 * INTERVAL_LOWEST_NS, INTERVAL_SIGFIG)
            .expect("constant bounds are valid");
    h.auto(true);
    fold_into(&mut h, from);
    h
}

/// Adds a decoded (u64) bucket histogram into a u32 one. A single value's
/// count in one bucket would need 4 billion requests per interval to saturate.
pub fn narrow_into(into: &mut Histogram<u32>, from: &Histogram<u64>) {
    for v in from.iter_recorded() {
        let n = u32::try_from(v.count_at_value()).unwrap_or(u32::MAX);
        let _ = into.record_n(v.value_iterated_to(), n);
    }
}

/// Totals for one endpoint (`name`).
#[derive(Debug)]
pub struct EndpointTally {
    pub name: String,
    pub count: u64,
    pub errors: u64,
    /// Error kind to count; few distinct kinds, so a list beats a map.
    pub error_kinds: Vec<(String, u64)>,
    /// Each distinct error, with when it was first and last seen.
    pub failures: Vec<ErrorGroup>,
    pub status: Vec<(u16, u64)>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Exact extremes (the histogram only knows them to 3 digits).
    pub min_ns: u64,
    pub max_ns: u64,
    pub service_min_ns: u64,
    pub service_max_ns: u64,
    /// Response time corrected for coordinated omission (`lag_ns + latency_ns`).
    response: Histogram<u64>,
    /// Service time (`latency_ns` alone); `None` while it equals `response`
    /// (no event of this endpoint was sent late).
    service: Option<Histogram<u64>>,
    /// Where the hot loop records; folded into the histograms above.
    recent: Option<Box<Recent>>,
    /// Connection set-up and time to first byte, once an event carried them.
    pub phases: Option<Box<Phases>>,
    /// Requests per protocol other than HTTP/1.1 (events' `proto`): the
    /// rest of `count` went over HTTP/1.1.
    pub protocols: Vec<(String, u64)>,
}

/// The request phases events may carry (`connect_ns`, `ttfb_ns`).
#[derive(Clone, Debug)]
pub struct Phases {
    pub connect: Histogram<u64>,
    pub ttfb: Histogram<u64>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            connect: hist::new_histogram(),
            ttfb: hist::new_histogram(),
        }
    }

    fn absorb(&mut self, other: &Phases) {
        hist::merge(&mut self.connect, &other.connect);
        hist::merge(&mut self.ttfb, &other.ttfb);
    }
}

/// Histograms the per-event path records into. u32 counts halve the cache
/// footprint (the hot loop is bound by cache misses on the counts); they are
/// folded into the u64 histograms before a count could overflow.
#[derive(Debug)]
struct Recent {
    /// Events sent on time: response time = service time, one record.
    on_time: Histogram<u32>,
    /// Events sent late: the two times differ.
    late_response: Option<Histogram<u32>>,
    late_service: Option<Histogram<u32>>,
    recorded: u64,
}

fn new_u32_histogram() -> Histogram<u32> {
    let mut h = Histogram::new_with_bounds(1, 60 * 1_000_000_000, hist::SIGFIG)
        .expect("constant bounds are valid");
    h.auto(true);
    h
}

#[inline]
fn record_u32(h: &mut Histogram<u32>, value: u64) {
    // the same clamp as records::hist::record; counts cannot overflow (see `recorded`)
    let _ = h.record(value.min(i64::MAX as u64 / 2));
}

/// Adds u32 counts into a u64 histogram of the same layout.
fn fold_into(into: &mut Histogram<u64>, from: &Histogram<u32>) {
    for v in from.iter_recorded() {
        let _ = into.record_n(v.value_iterated_to(), u64::from(v.count_at_value()));
    }
}

impl EndpointTally {
    pub fn new(name: String) -> Self {
        EndpointTally {
            name,
            count: 0,
            errors: 0,
            error_kinds: Vec::new(),
            failures: Vec::new(),
            status: Vec::new(),
            bytes_in: 0,
            bytes_out: 0,
            min_ns: u64::MAX,
            max_ns: 0,
            service_min_ns: u64::MAX,
            service_max_ns: 0,
            response: hist::new_histogram(),
            service: None,
            recent: None,
            phases: None,
            protocols: Vec::new(),
        }
    }

    /// Counts `n` requests that went over `proto`; HTTP/1.1 is what is not counted.
    #[inline]
    pub fn add_protocol(&mut self, proto: &str, n: u64) {
        if proto == records::event::HTTP1 {
            return;
        }
        if let Some(slot) = self.protocols.iter_mut().find(|(p, _)| p == proto) {
            slot.1 = slot.1.saturating_add(n);
        } else {
            self.protocols.push((proto.to_string(), n));
        }
    }

    /// Records a request's phases, when its event carried any.
    #[inline]
    pub fn record_phases(&mut self, connect_ns: Option<u64>, ttfb_ns: Option<u64>) {
        let phases = self.phases.get_or_insert_with(|| Box::new(Phases::new()));
        if let Some(ns) = connect_ns {
            hist::record(&mut phases.connect, ns);
        }
        if let Some(ns) = ttfb_ns {
            hist::record(&mut phases.ttfb, ns);
        }
    }

    /// Adds a merged summary's phase histograms.
    pub fn add_phases(&mut self, connect: Option<&Histogram<u64>>, ttfb: Option<&Histogram<u64>>) {
        if connect.is_none() && ttfb.is_none() {
            return;
        }
        let phases = self.phases.get_or_insert_with(|| Box::new(Phases::new()));
        if let Some(h) = connect {
            hist::merge(&mut phases.connect, h);
        }
        if let Some(h) = ttfb {
            hist::merge(&mut phases.ttfb, h);
        }
    }

    /// An endpoint from a merged summary's histograms.
    pub fn with_histograms(
        name: String,
        response: Histogram<u64>,
        service: Option<Histogram<u64>>,
    ) -> Self {
        let mut e = EndpointTally::new(name);
        hist::merge(&mut e.response, &response);
        if let Some(service) = service {
            let mut h = hist::new_histogram();
            hist::merge(&mut h, &service);
            e.service = Some(h);
        }
        e
    }

    /// Records one request's latencies (the hot path).
    #[inline]
    pub fn record_latency(&mut self, latency_ns: u64, lag_ns: u64) {
        let recent = self.recent.get_or_insert_with(|| {
            Box::new(Recent {
                on_time: new_u32_histogram(),
                late_response: None,
                late_service: None,
                recorded: 0,
            })
        });
        if lag_ns == 0 {
            record_u32(&mut recent.on_time, latency_ns);
        } else {
            record_u32(
                recent.late_response.get_or_insert_with(new_u32_histogram),
                lag_ns.saturating_add(latency_ns),
            );
            record_u32(
                recent.late_service.get_or_insert_with(new_u32_histogram),
                latency_ns,
            );
        }
        recent.recorded += 1;
        if recent.recorded == u64::from(u32::MAX) {
            self.fold();
        }
    }

    /// Moves the hot loop's counts into the final histograms.
    pub fn fold(&mut self) {
        let Some(recent) = self.recent.take() else {
            return;
        };
        if self.service.is_none() && recent.late_service.is_some() {
            // until now, service time equalled response time
            self.service = Some(self.response.clone());
        }
        fold_into(&mut self.response, &recent.on_time);
        if let Some(late) = &recent.late_response {
            fold_into(&mut self.response, late);
        }
        if let Some(service) = &mut self.service {
            fold_into(service, &recent.on_time);
            if let Some(late) = &recent.late_service {
                fold_into(service, late);
            }
        }
    }

    /// The response-time histogram (after [`fold`](Self::fold)).
    pub fn response(&self) -> &Histogram<u64> {
        &self.response
    }

    /// The service-time histogram (after [`fold`](Self::fold)).
    pub fn service(&self) -> &Histogram<u64> {
        self.service.as_ref().unwrap_or(&self.response)
    }

    #[inline]
    pub fn add_status(&mut self, status: u16, n: u64) {
        if let Some(slot) = self.status.iter_mut().find(|(s, _)| *s == status) {
            slot.1 = slot.1.saturating_add(n);
        } else {
            self.status.push((status, n));
        }
    }

    #[inline]
    pub fn add_error(&mut self, kind: &str, n: u64) {
        self.errors = self.errors.saturating_add(n);
        if let Some(slot) = self.error_kinds.iter_mut().find(|(k, _)| k == kind) {
            slot.1 = slot.1.saturating_add(n);
        } else {
            self.error_kinds.push((kind.to_string(), n));
        }
    }

    /// Counts `n` errors of one group, seen from `first_ns` to `last_ns`
    /// (their kinds are counted by [`add_error`](Self::add_error)).
    pub fn add_failure(
        &mut self,
        kind: &str,
        status: u16,
        detail: Option<&str>,
        n: u64,
        (first_ns, last_ns): (u64, u64),
    ) {
        let (kind, status, mut detail) = ErrorGroup::key(kind, status, detail);
        let same = |g: &ErrorGroup, detail: Option<&str>| {
            g.kind == kind && g.status == status && g.detail.as_deref() == detail
        };
        let group = match self.failures.iter().position(|g| same(g, detail)) {
            Some(i) => i,
            None => {
                if detail.is_some()
                    && self.failures.iter().filter(|g| g.kind == kind).count()
                        >= records::summary::MAX_ERROR_GROUPS
                {
                    detail = None;
                }
                match self.failures.iter().position(|g| same(g, detail)) {
                    Some(i) => i,
                    None => {
                        self.failures.push(ErrorGroup {
                            kind: kind.to_string(),
                            status,
                            detail: detail.map(str::to_string),
                            ..ErrorGroup::default()
                        });
                        self.failures.len() - 1
                    }
                }
            }
        };
        self.failures[group].add(n, first_ns, last_ns);
    }

    /// Adds another endpoint's totals (both folded) into this one.
    pub fn absorb(&mut self, other: &EndpointTally) {
        self.count = self.count.saturating_add(other.count);
        for (kind, n) in &other.error_kinds {
            self.add_error(kind, *n);
        }
        // errors without a kind (merged summaries that lost them) still count
        let kinds = other
            .error_kinds
            .iter()
            .fold(0u64, |sum, (_, n)| sum.saturating_add(*n));
        self.errors = self
            .errors
            .saturating_add(other.errors.saturating_sub(kinds));
        for g in &other.failures {
            self.add_failure(
                &g.kind,
                g.status,
                g.detail.as_deref(),
                g.count,
                (g.first_ns, g.last_ns),
            );
        }
        for (status, n) in &other.status {
            self.add_status(*status, *n);
        }
        self.bytes_in = self.bytes_in.saturating_add(other.bytes_in);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
        self.service_min_ns = self.service_min_ns.min(other.service_min_ns);
        self.service_max_ns = self.service_max_ns.max(other.service_max_ns);
        if self.service.is_some() || other.service.is_some() {
            let own = self.service().clone();
            let service = self.service.get_or_insert(own);
            hist::merge(service, other.service());
        }
        hist::merge(&mut self.response, &other.response);
        if let Some(theirs) = &other.phases {
            self.phases
                .get_or_insert_with(|| Box::new(Phases::new()))
                .absorb(theirs);
        }
        for (proto, n) in &other.protocols {
            self.add_protocol(proto, *n);
        }
    }
}

/// A bucket's response times: a live histogram while the bucket is being
/// written to, else the encoding its interval record will carry. The
/// encoding is lossless (HdrHistogram V2 of every count), so closing and
/// reopening a bucket changes nothing in the output.
#[derive(Debug)]
pub enum BucketHist {
    /// u32 counts keep the live ones small.
    Open(Box<Histogram<u32>>),
    /// [`records::hist::encode_raw`] of the bucket's histogram widened to u64.
    Closed(Box<[u8]>),
}

impl BucketHist {
    /// The live histogram, decoding a closed one first.
    #[inline]
    pub fn open(&mut self) -> &mut Histogram<u32> {
        if let BucketHist::Closed(raw) = self {
            let mut h = new_interval_histogram();
            narrow_into(
                &mut h,
                &hist::decode_raw(raw).expect("a bucket decodes what it encoded"),
            );
            *self = BucketHist::Open(Box::new(h));
        }
        match self {
            BucketHist::Open(h) => h,
            BucketHist::Closed(_) => unreachable!("opened above"),
        }
    }

    /// Encodes a live histogram, freeing it.
    pub fn close(&mut self) {
        if let BucketHist::Open(h) = self {
            *self = BucketHist::Closed(hist::encode_raw(&widen(h)).into_boxed_slice());
        }
    }

    /// The histogram (u64 counts) and its encoding.
    pub fn finish(self) -> (Histogram<u64>, Box<[u8]>) {
        match self {
            BucketHist::Open(h) => {
                let wide = widen(&h);
                let raw = hist::encode_raw(&wide).into_boxed_slice();
                (wide, raw)
            }
            BucketHist::Closed(raw) => (
                hist::decode_raw(&raw).expect("a bucket decodes what it encoded"),
                raw,
            ),
        }
    }
}

/// Totals for one time-series bucket over all endpoints.
#[derive(Debug)]
pub struct IntervalTally {
    pub count: u64,
    pub errors: u64,
    /// Status code to count; few distinct codes, so a list beats a map.
    pub status: Vec<(u16, u64)>,
    pub max_ns: u64,
    pub bytes_in: u64,
    /// Response times in the bucket (open whenever [`Tally`] hands it out).
    pub hist: BucketHist,
    /// Distinct VUs of inputs already finished (shards have distinct VUs).
    pub vus_done: u64,
    /// VUs of the input being read: a bitset for the usual small ids.
    vu_bits: Vec<u64>,
    vu_other: Vec<u32>,
}

/// VU ids below this go into the bitset (8 KB at most a bucket); larger ones into a list.
const VU_BITSET_LIMIT: u32 = 1 << 16;

impl IntervalTally {
    pub fn new() -> Self {
        IntervalTally {
            count: 0,
            errors: 0,
            status: Vec::new(),
            max_ns: 0,
            bytes_in: 0,
            hist: BucketHist::Open(Box::new(new_interval_histogram())),
            vus_done: 0,
            vu_bits: Vec::new(),
            vu_other: Vec::new(),
        }
    }

    #[inline]
    pub fn add_status(&mut self, status: u16, n: u64) {
        match self.status.iter_mut().find(|(s, _)| *s == status) {
            Some((_, count)) => *count += n,
            None => self.status.push((status, n)),
        }
    }

    pub fn see_vu(&mut self, vu: u32) {
        if vu < VU_BITSET_LIMIT {
            let word = (vu / 64) as usize;
            if word >= self.vu_bits.len() {
                self.vu_bits.resize(word + 1, 0);
            }
            self.vu_bits[word] |= 1 << (vu % 64);
        } else if !self.vu_other.contains(&vu) {
            self.vu_other.push(vu);
        }
    }

    /// Distinct VUs seen so far, over finished inputs and the current one.
    pub fn vus(&self) -> u64 {
        self.vus_done + self.current_vus()
    }

    fn current_vus(&self) -> u64 {
        self.vu_bits
            .iter()
            .map(|w| u64::from(w.count_ones()))
            .sum::<u64>()
            + self.vu_other.len() as u64
    }

    /// Encodes the histogram and trims the lists to their length: a bucket
    /// no longer written to costs its bytes, not the room it grew into.
    fn close(&mut self) {
        self.hist.close();
        self.status.shrink_to_fit();
        self.vu_bits.shrink_to_fit();
        self.vu_other.shrink_to_fit();
    }

    /// Ends the current input: its VUs are counted and forgotten.
    pub fn close_input(&mut self) {
        self.vus_done += self.current_vus();
        self.vu_bits = Vec::new();
        self.vu_other = Vec::new();
    }
}

impl Default for IntervalTally {
    fn default() -> Self {
        Self::new()
    }
}

/// The tally called `name` in `all`, created on first sight.
#[inline]
fn named<'t>(
    all: &'t mut Vec<EndpointTally>,
    index: &mut HashMap<String, usize>,
    name: &str,
) -> &'t mut EndpointTally {
    let i = match index.get(name) {
        Some(&i) => i,
        None => {
            let i = all.len();
            all.push(EndpointTally::new(name.to_string()));
            index.insert(name.to_string(), i);
            i
        }
    };
    &mut all[i]
}

/// Everything one aggregation pass accumulates.
#[derive(Debug)]
pub struct Tally {
    pub endpoints: Vec<EndpointTally>,
    index: HashMap<String, usize>,
    /// Flows' iterations, tallied like endpoints (kept apart: an iteration
    /// is not a request, and never counts in the total or the time series).
    pub flows: Vec<EndpointTally>,
    flow_index: HashMap<String, usize>,
    /// Bucket width in nanoseconds.
    pub interval_ns: u64,
    /// Each bucket with its number (start / interval_ns).
    intervals: Vec<(u64, IntervalTally)>,
    /// Bucket number (start / interval_ns) to position in `intervals`.
    interval_index: HashMap<u64, usize>,
    last_bucket: Option<(u64, usize)>,
    /// Positions in `intervals` of the buckets with a live histogram, most
    /// recently used first (at most [`OPEN_INTERVALS`]).
    open: Vec<usize>,
    /// Earliest send time and latest completion time seen.
    pub start: u64,
    pub end: u64,
    /// The latest send time seen: the end of the load window when no
    /// generator said when its schedule ended.
    pub last_send: u64,
    /// hammer's `load` records (a summary's run record when merging),
    /// combined: the earliest start, the latest end, the arrivals summed.
    pub load: Option<Load>,
    /// Whether any event was sent late against its schedule (open model).
    pub any_lag: bool,
    pub skipped_lines: u64,
    /// Run metadata carried over from merged summaries.
    pub labels: BTreeMap<String, String>,
    pub scenario: Option<String>,
    pub tools: BTreeMap<String, String>,
}

impl Tally {
    /// Takes in a declared load window and what became of its arrivals.
    pub fn add_load(&mut self, load: &Load) {
        let Some(all) = &mut self.load else {
            self.load = Some(load.clone());
            return;
        };
        all.start = all.start.min(load.start);
        all.end = all.end.max(load.end);
        all.scheduled = all.scheduled.saturating_add(load.scheduled);
        all.sent = all.sent.saturating_add(load.sent);
        all.dropped = all.dropped.saturating_add(load.dropped);
        all.cancelled = all.cancelled.saturating_add(load.cancelled);
        all.vus_not_started = all.vus_not_started.saturating_add(load.vus_not_started);
        all.cpu_bound |= load.cpu_bound;
        // Streams of several shards are no longer any one shard.
        if all.shard != load.shard {
            all.shard = None;
        }
    }

    /// The load window (start, end) and the end of the data (the last
    /// completion, never before the window's end). The window is the one
    /// hammer declared; without one, first send to last send (n sends span
    /// n - 1 gaps, so rates read n / (n - 1) high: 0.1% at 1,000 requests;
    /// kept so because it merges exactly, shard by shard).
    pub fn load_window(&self) -> (u64, u64, u64) {
        let first = if self.start == u64::MAX {
            0
        } else {
            self.start
        };
        let (start, end) = match &self.load {
            Some(load) => (load.start, load.end.max(load.start)),
            None => (first, self.last_send.max(first)),
        };
        (start, end, self.end.max(end))
    }

    pub fn new(interval_ns: u64) -> Self {
        Tally {
            endpoints: Vec::new(),
            index: HashMap::new(),
            flows: Vec::new(),
            flow_index: HashMap::new(),
            interval_ns: interval_ns.max(1),
            intervals: Vec::new(),
            interval_index: HashMap::new(),
            last_bucket: None,
            open: Vec::with_capacity(OPEN_INTERVALS + 1),
            start: u64::MAX,
            end: 0,
            last_send: 0,
            load: None,
            any_lag: false,
            skipped_lines: 0,
            labels: BTreeMap::new(),
            scenario: None,
            tools: BTreeMap::new(),
        }
    }

    /// The endpoint named `name`, created on first sight; looked up by `&str`
    /// so a known endpoint costs no allocation.
    #[inline]
    pub fn endpoint(&mut self, name: &str) -> &mut EndpointTally {
        named(&mut self.endpoints, &mut self.index, name)
    }

    /// The flow named `name`, created on first sight.
    pub fn flow(&mut self, name: &str) -> &mut EndpointTally {
        named(&mut self.flows, &mut self.flow_index, name)
    }

    /// The bucket holding time `ts`, its histogram open; `None` when there
    /// would be more than [`MAX_INTERVALS`] buckets.
    #[inline]
    pub fn interval(&mut self, ts: u64) -> Option<&mut IntervalTally> {
        let bucket = ts / self.interval_ns;
        if let Some((b, i)) = self.last_bucket {
            if b == bucket {
                return Some(&mut self.intervals[i].1);
            }
        }
        self.interval_for_bucket(bucket)
    }

    fn interval_for_bucket(&mut self, bucket: u64) -> Option<&mut IntervalTally> {
        let i = match self.interval_index.get(&bucket) {
            Some(&i) => i,
            None => {
                if self.intervals.len() >= MAX_INTERVALS {
                    return None;
                }
                let i = self.intervals.len();
                self.intervals.push((bucket, IntervalTally::new()));
                self.interval_index.insert(bucket, i);
                i
            }
        };
        self.last_bucket = Some((bucket, i));
        self.use_interval(i);
        Some(&mut self.intervals[i].1)
    }

    /// Opens bucket `i` as the most recently used, encoding the least
    /// recently used one when too many are open.
    fn use_interval(&mut self, i: usize) {
        match self.open.iter().position(|&o| o == i) {
            Some(0) => {}
            Some(at) => self.open[..=at].rotate_right(1),
            None => {
                self.intervals[i].1.hist.open();
                self.open.insert(0, i);
                if self.open.len() > OPEN_INTERVALS {
                    let old = self.open.pop().expect("more than zero are open");
                    self.intervals[old].1.close();
                }
            }
        }
    }

    /// The bucket starting at `start` (epoch ns, a multiple of the width).
    pub fn interval_at(&mut self, start: u64) -> Option<&mut IntervalTally> {
        self.interval_for_bucket(start / self.interval_ns)
    }

    /// Ends one input (file or shard): per-input state is folded away.
    pub fn close_input(&mut self) {
        for (_, interval) in &mut self.intervals {
            interval.close_input();
        }
        for endpoint in self.endpoints.iter_mut().chain(&mut self.flows) {
            endpoint.fold();
        }
    }

    /// Takes the buckets out, in time order, with their start time. Sorted
    /// in place: a day of buckets is a large array not to copy.
    pub fn take_intervals(&mut self) -> Vec<(u64, IntervalTally)> {
        let mut taken = std::mem::take(&mut self.intervals);
        self.interval_index = HashMap::new();
        self.last_bucket = None;
        self.open.clear();
        taken.sort_unstable_by_key(|&(bucket, _)| bucket);
        for (bucket, _) in &mut taken {
            *bucket *= self.interval_ns;
        }
        taken
    }

    pub fn event_count(&self) -> u64 {
        self.endpoints.iter().map(|e| e.count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket written to again after it was encoded (a slow request's
    /// event arriving late) ends as if it had never been closed.
    #[test]
    fn a_closed_bucket_reopens_losslessly() {
        let second = 1_000_000_000;
        let mut tally = Tally::new(second);
        let values = [1_500u64, 250_000, 3_000_000, 41_000_000];
        let mut expected = new_interval_histogram();
        for (b, &v) in values.iter().enumerate() {
            let _ = tally.interval(0).unwrap().hist.open().record(v);
            let _ = expected.record(v);
            // enough other buckets to push bucket 0 out of the open ones
            for other in 1..=OPEN_INTERVALS as u64 + 1 {
                let t = tally.interval(other * second + b as u64).unwrap();
                let _ = t.hist.open().record(v);
            }
            assert!(matches!(tally.intervals[0].1.hist, BucketHist::Closed(_)));
        }
        let intervals = tally.take_intervals();
        assert_eq!(intervals.len(), OPEN_INTERVALS + 2);
        assert!(intervals.windows(2).all(|w| w[0].0 < w[1].0));
        let (start, first) = intervals.into_iter().next().unwrap();
        assert_eq!(start, 0);
        let (h, raw) = first.hist.finish();
        assert_eq!(h, widen(&expected));
        assert_eq!(hist::base64_of(&raw), hist::encode(&widen(&expected)));
    }
}
