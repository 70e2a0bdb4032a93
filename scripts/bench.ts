// `pnpm bench <name>`: each benchmark prints its figures beside a baseline
// measured in the same run (the raw engine doing the same work) and the ratio,
// because absolute times do not compare between runs on shared machines.
const benches: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  funnel: () => import('./bench/funnel.js'),
  import: () => import('./bench/import.js'),
  ingest: () => import('./bench/ingest.js'),
  kafka: () => import('./bench/kafka.js'),
  pipeline: () => import('./bench/pipeline.js'),
  replay: () => import('./bench/replay.js'),
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : benches[name];
if (!load) {
  console.error(`usage: pnpm bench <${Object.keys(benches).join('|')}> [options]`);
  process.exit(2);
}
await (await load()).run(args);
