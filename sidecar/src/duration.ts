/** Parses the policy's duration strings (`500ms`, `10s`, `1m30s`) into milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (!/^(\d+(ms|s|m|h))+$/.test(s)) throw new Error(`invalid duration "${text}" (use e.g. 500ms, 10s, 1m)`);
  let ms = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h)/g)) {
    const n = Number(m[1]);
    ms += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
  }
  return ms;
}
