import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { PerfSeries, call, newest } from "./api";
import { usePoll } from "./poll";

const INTERVALS: [string, string][] = [
  ["realtime", "Real-time"],
  ["day", "Past day"],
  ["week", "Past week"],
  ["month", "Past month"],
  ["year", "Past year"],
];

interface Chart {
  title: string;
  unit: string;
  // Counter, legend label, and how a value is shown in `unit`.
  lines: { counter: string; label: string; color: string }[];
  scale?: number;
}

// vSphere's overview charts: CPU, memory, network, disk.
const CHARTS: Chart[] = [
  { title: "CPU", unit: "%", lines: [{ counter: "cpu.usage", label: "Usage", color: "#1565c0" }] },
  {
    title: "Memory",
    unit: "MiB",
    scale: 1 / (1024 * 1024),
    lines: [{ counter: "mem.consumed", label: "Consumed", color: "#6a1b9a" }],
  },
  {
    title: "Network",
    unit: "KBps",
    lines: [
      { counter: "net.received", label: "Received", color: "#2f7d32" },
      { counter: "net.transmitted", label: "Transmitted", color: "#e65100" },
    ],
  },
  {
    title: "Disk",
    unit: "KBps",
    lines: [
      { counter: "disk.read", label: "Read", color: "#00838f" },
      { counter: "disk.write", label: "Write", color: "#b00020" },
    ],
  },
];

// The Monitor > Performance page of a host or VM: its charts over the
// chosen interval, refreshed while shown (real-time every few seconds).
export function Performance(props: { object: string }) {
  const [period, setPeriod] = useState("realtime");
  const key = `${props.object}/${period}`;
  const series = usePoll(
    () => call<PerfSeries>("GET", `/api/perf/${encodeURIComponent(props.object)}?interval=${period}`),
    period === "realtime" ? 5000 : 60000,
    key,
  );
  const s = series.value;
  return (
    <section className="performance" aria-label="Performance">
      <label>
        Period{" "}
        <select name="interval" value={period} onChange={(e) => setPeriod(e.target.value)}>
          {INTERVALS.map(([v, label]) => (
            <option key={v} value={v}>{label}</option>
          ))}
        </select>
      </label>
      {series.error && <p className="error" role="alert">{series.error}</p>}
      {s && s.times.length === 0 && (
        <p className="empty">
          No samples for this period yet: hosts sample every 20 seconds, and longer periods show
          averages once a whole 5-minute, 30-minute, 2-hour or daily interval has passed.
        </p>
      )}
      {s && s.times.length > 0 && (
        <div className="charts" data-points={s.times.length}>
          {CHARTS.map((c) => (
            <ChartView key={c.title} chart={c} series={s} />
          ))}
        </div>
      )}
    </section>
  );
}

function ChartView(props: { chart: Chart; series: PerfSeries }) {
  const { chart, series } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const scale = chart.scale ?? 1;
  const data: uPlot.AlignedData = [
    series.times,
    ...chart.lines.map((l) => (series.values[l.counter] ?? []).map((v) => (v === null ? null : v * scale))),
  ];

  // One uPlot per chart, sized to its box; new data goes into it as is.
  useEffect(() => {
    const el = box.current!;
    const u = new uPlot(
      {
        width: el.clientWidth,
        height: 180,
        series: [{}, ...chart.lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, spanGaps: false }))],
        axes: [{}, { label: chart.unit, size: 60 }],
        scales: { y: { range: (_u, min, max) => [0, Math.max(max, chart.unit === "%" ? 10 : 1, min)] } },
      },
      data,
      el,
    );
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The chart is made once; data changes go through setData below.
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure className="chart" aria-label={`${chart.title} chart`}>
      <figcaption>
        <strong>{chart.title}</strong>
        <dl>
          {chart.lines.map((l) => (
            <div key={l.counter}>
              <dt>{l.label}</dt>
              <dd data-counter={l.counter}>{latest(series.values[l.counter], scale, chart.unit)}</dd>
            </div>
          ))}
        </dl>
      </figcaption>
      <div ref={box} />
    </figure>
  );
}

// The newest measured value, as the legend shows it.
function latest(values: (number | null)[] | undefined, scale: number, unit: string): string {
  const v = newest(values);
  return v === null ? "–" : `${(v * scale).toFixed(1)} ${unit}`;
}
