// The API side of `pnpm bench kafka`, in its own process (the load generator
// must not share its event loop), in Kafka ingestion mode:
// kafka-api-server.ts <brokers> <touchpoints topic> <postgres url> <schema>. Prints the port once listening.
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { openPostgresEventStore } from '@sluice/event-store-postgres';
import { connectKafka, touchpointPublisher } from '@sluice/kafka';

const [brokers, topic, url, schema] = process.argv.slice(2) as [string, string, string, string];
const producer = await connectKafka({ brokers: brokers.split(','), clientId: 'bench-api' }).producer();
const store = await openPostgresEventStore({ connectionString: url, schema });
const app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], ingestQueue: touchpointPublisher(producer, topic) });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => producer.disconnect()).then(() => store.close()).then(() => process.exit(0)));
