// A porthouse node's /metrics as the benchmarks read it: one fetch, then the value of any series
// named exactly as the exposition prints it (name and labels), or undefined if it is not there.

export async function nodeMetrics(url: string): Promise<(series: string) => number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (series) => {
    const at = text.indexOf(`\n${series} `);
    return at < 0 ? undefined : Number.parseFloat(text.slice(at + series.length + 2));
  };
}
