import { type ReactNode, useEffect, useState } from 'react';

function words(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = d > 0 ? [`${d}d`, `${h}h`] : h > 0 ? [`${h}h`, `${m}m`] : m > 0 ? [`${m}m`, `${s % 60}s`] : [`${s % 60}s`];
  return parts.join(' ');
}

/** Time left until a deadline, ticking every second; the absolute time is in the title. */
export function Countdown({ at, label }: { at: string | null; label: string }): ReactNode {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  if (at === null) return <span className="muted">no {label}</span>;
  const left = Date.parse(at) - now;
  return (
    <time dateTime={at} title={new Date(at).toLocaleString()} className={left < 5 * 60_000 ? 'countdown soon' : 'countdown'}>
      {left > 0 ? `${words(left)} left` : `passed ${words(left)} ago`}
    </time>
  );
}
