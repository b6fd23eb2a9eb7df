import { type ReactNode, useId } from 'react';
import { SafeText } from '../../components/SafeText.js';

/**
 * Hand-drawn SVG charts (no chart library: the dashboard's chunk stays small). Each has a title and a
 * description for assistive technology and the same numbers as a table beside it; colours come from the
 * stylesheet (classes, never inline styles: the CSP forbids them) and follow the Okabe–Ito palette, which
 * stays distinguishable with the common colour-vision deficiencies.
 */

export interface Series {
  key: string;
  label: string;
}

const W = 640;
const H = 220;
const PAD = { left: 44, right: 8, top: 8, bottom: 28 };

/** A round axis maximum (1, 2 or 5 times a power of ten) at or above `max`. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function Axis({ max, format }: { max: number; format: (n: number) => string }): ReactNode {
  const ticks = [0, max / 2, max];
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  return (
    <g className="chart-axis">
      {ticks.map((t) => (
        <g key={t}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
          <text x={PAD.left - 4} y={y(t) + 4} textAnchor="end">
            {format(t)}
          </text>
        </g>
      ))}
    </g>
  );
}

function XLabels({ labels }: { labels: string[] }): ReactNode {
  const n = labels.length;
  const step = Math.max(1, Math.ceil(n / 8));
  const bw = (W - PAD.left - PAD.right) / Math.max(1, n);
  return (
    <g className="chart-axis">
      {labels.map((l, i) =>
        i % step === 0 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the buckets are positional
          <text key={i} x={PAD.left + bw * i + bw / 2} y={H - 8} textAnchor="middle">
            {l}
          </text>
        ) : null,
      )}
    </g>
  );
}

function Legend({ series, prefix }: { series: Series[]; prefix: string }): ReactNode {
  return (
    <ul className="chart-legend" aria-hidden="true">
      {series.map((s) => (
        <li key={s.key}>
          <svg width="12" height="12" viewBox="0 0 12 12" role="presentation">
            <rect width="12" height="12" className={`${prefix}-${s.key}`} />
          </svg>{' '}
          {s.label}
        </li>
      ))}
    </ul>
  );
}

/** Stacked bars, one per bucket; rows are the buckets, `series` the stacked keys. */
export function StackedBars<R extends Record<string, number | string>>(props: {
  title: string;
  description: string;
  rows: R[];
  labels: string[];
  series: Series[];
  prefix: string;
}): ReactNode {
  const id = useId();
  const { rows, series } = props;
  const totals = rows.map((r) => series.reduce((a, s) => a + Number(r[s.key] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const bw = (W - PAD.left - PAD.right) / Math.max(1, rows.length);
  const ih = H - PAD.top - PAD.bottom;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} className="chart-svg">
        <title id={`${id}-t`}>{props.title}</title>
        <desc id={`${id}-d`}>{props.description}</desc>
        <Axis max={max} format={(n) => String(Math.round(n))} />
        {rows.map((r, i) => {
          let y = PAD.top + ih;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: the buckets are positional
            <g key={i}>
              {series.map((s) => {
                const v = Number(r[s.key] ?? 0);
                if (v === 0) return null;
                const h = (v / max) * ih;
                y -= h;
                return (
                  <rect
                    key={s.key}
                    x={PAD.left + bw * i + bw * 0.1}
                    y={y}
                    width={bw * 0.8}
                    height={h}
                    className={`${props.prefix}-${s.key}`}
                  />
                );
              })}
            </g>
          );
        })}
        <XLabels labels={props.labels} />
      </svg>
      <Legend series={series} prefix={props.prefix} />
    </figure>
  );
}

/** Lines over the buckets (null: no point there); `format` writes the y values. */
export function Lines(props: {
  title: string;
  description: string;
  labels: string[];
  series: (Series & { values: (number | null)[] })[];
  format: (n: number) => string;
  prefix: string;
}): ReactNode {
  const id = useId();
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(0, ...all));
  const n = props.labels.length;
  const bw = (W - PAD.left - PAD.right) / Math.max(1, n);
  const ih = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + bw * i + bw / 2;
  const y = (v: number) => PAD.top + ih * (1 - v / max);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} className="chart-svg">
        <title id={`${id}-t`}>{props.title}</title>
        <desc id={`${id}-d`}>{props.description}</desc>
        <Axis max={max} format={props.format} />
        {props.series.map((s) => {
          const pts = s.values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter((p): p is string => p !== null);
          return (
            <g key={s.key} className={`${props.prefix}-${s.key}`}>
              {pts.length > 1 && <polyline points={pts.join(' ')} fill="none" strokeWidth="2" />}
              {s.values.map((v, i) =>
                v === null ? null : (
                  // biome-ignore lint/suspicious/noArrayIndexKey: the buckets are positional
                  <circle key={i} cx={x(i)} cy={y(v)} r="3.5" />
                ),
              )}
            </g>
          );
        })}
        <XLabels labels={props.labels} />
      </svg>
      <Legend series={props.series} prefix={props.prefix} />
    </figure>
  );
}

/** Horizontal bars with their numbers written beside them: a list that reads without the bars. Names may be agent-written. */
export function BarList({ items, label }: { items: { name: string; count: number }[]; label: string }): ReactNode {
  const max = Math.max(1, ...items.map((i) => i.count));
  return (
    <ul className="bar-list" aria-label={label}>
      {items.map((i) => (
        <li key={i.name}>
          <span className="bar-name">
            <SafeText value={i.name} limit={80} />
          </span>
          <span className="bar-value">{i.count}</span>
          <svg viewBox="0 0 100 6" preserveAspectRatio="none" className="bar-track" aria-hidden="true">
            <rect width={(i.count / max) * 100} height="6" />
          </svg>
        </li>
      ))}
    </ul>
  );
}
