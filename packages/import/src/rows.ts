import { Readable, pipeline } from 'node:stream';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';

/** A file (or body) that cannot be read as a table: named with its line where there is one. */
export class ImportFileError extends Error {}

/** One record of the input, numbered by the line it starts on (the header is line 1 of a CSV). */
export type SourceRecord =
  | { line: number; values: string[] }
  | { line: number; object: Record<string, unknown> }
  | { line: number; malformed: string };

export interface SourceTable {
  format: 'csv' | 'ndjson';
  gzip: boolean;
  /** the CSV field delimiter, given or detected from the header line */
  delimiter?: string;
  /** a CSV's header row (names trimmed); NDJSON has none */
  header?: string[];
  /** records in batches of up to `batchSize` */
  batches: AsyncIterable<SourceRecord[]>;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const;
const SNIFF_BYTES = 64 * 1024;

/** The first bytes of a byte stream (at least `size` unless it ends first) and the whole stream again. */
async function peek(chunks: AsyncIterable<Buffer>, size: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < size) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    seen.push(next.value);
    length += next.value.length;
  }
  async function* all() {
    yield* seen;
    if (done) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head: Buffer.concat(seen), all: all() };
}

/**
 * The delimiter of a CSV from its header line: the candidate (`,` `;` tab `|`)
 * found most often outside quotes; a tie goes to the earlier candidate.
 */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>(DELIMITER_CANDIDATES.map((c) => [c, 0]));
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  let best: string = DELIMITER_CANDIDATES[0];
  for (const [candidate, count] of counts) if (count > counts.get(best)!) best = candidate;
  return best;
}

/**
 * Opens a CSV or NDJSON source as a stream of records: gzip is recognised by
 * its magic bytes, a UTF-8 byte-order mark is dropped, NDJSON by a first
 * character `{`, anything else is CSV with a header row (quotes, CRLF and
 * quoted line breaks as RFC 4180; the delimiter given or detected). Memory
 * stays constant however large the source.
 */
export async function openSourceTable(bytes: AsyncIterable<Buffer>, options: { delimiter?: string | undefined; batchSize: number }): Promise<SourceTable> {
  const raw = await peek(bytes, GZIP_MAGIC.length);
  const gzip = raw.head.length >= 2 && raw.head[0] === GZIP_MAGIC[0] && raw.head[1] === GZIP_MAGIC[1];
  const decoded: AsyncIterable<Buffer> = gzip ? gunzipped(raw.all) : raw.all;
  const { head, all } = await peek(decoded, SNIFF_BYTES);
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trimStart().startsWith('{')) return { format: 'ndjson', gzip, batches: ndjsonBatches(utf8Checked(all), options.batchSize) };
  const delimiter = options.delimiter ?? detectDelimiter(text);
  const parser = parse({ delimiter, bom: true, info: true, relax_column_count: true, skip_empty_lines: true });
  // pipeline, not pipe: a failure reading the source (bad UTF-8, corrupt gzip) ends the parser with it instead of leaving it waiting
  pipeline(Readable.from(utf8Checked(all)), parser, () => {});
  const records = (parser as AsyncIterable<CsvRecord>)[Symbol.asyncIterator]();
  const first = await nextRecord(records, 0);
  if (first.done) throw new ImportFileError('the file is empty: a CSV needs a header row');
  const header = first.value.record.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of header) {
    if (name !== '' && seen.has(name)) throw new ImportFileError(`the header row names the column "${name}" twice`);
    seen.add(name);
  }
  return { format: 'csv', gzip, delimiter, header, batches: csvBatches(records, first.value.info, options.batchSize) };
}

interface CsvRecord {
  record: string[];
  info: { lines: number; empty_lines: number };
}

async function nextRecord(records: AsyncIterator<CsvRecord>, lastLine: number): Promise<IteratorResult<CsvRecord>> {
  try {
    return await records.next();
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    if (err instanceof CsvError) throw new ImportFileError(`line ${(err as CsvError & { lines?: number }).lines ?? lastLine + 1}: ${err.message}`);
    throw err;
  }
}

const countLines = (text: string) => {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
};

/**
 * The source's bytes, checked to be UTF-8 text as they pass. Bytes that are
 * not UTF-8 stop the import with the line they are on: a spreadsheet's plain
 * "CSV" is often Windows-1252, and read as UTF-8 its accents would be stored
 * as replacement characters without a word.
 */
async function* utf8Checked(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  try {
    for await (const chunk of chunks) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        const readable = new TextDecoder('utf-8').decode(chunk);
        const at = line + countLines(readable.slice(0, Math.max(0, readable.indexOf('\uFFFD'))));
        throw new ImportFileError(`line ${at}: the file is not UTF-8 text (a spreadsheet's CSV saved as Windows-1252 or Latin-1? save it as "CSV UTF-8")`);
      }
      line += countLines(text);
      // the bytes go on, not the text: csv-parse and readline read bytes faster than strings they would encode again
      yield chunk;
    }
    decoder.decode();
  } catch (err) {
    if (err instanceof TypeError && (err as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') throw new ImportFileError(`line ${line}: the file ends inside a character that is not UTF-8`);
    throw err;
  }
}

/** A gzipped source's bytes; a corrupt or truncated one is an ImportFileError, not zlib's bare "unexpected end of file". */
async function* gunzipped(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  pipeline(Readable.from(chunks), gunzip, () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== undefined && code.startsWith('Z_')) throw new ImportFileError(`the gzip data is corrupt or cut short (${(err as Error).message})`);
    throw err;
  }
}

/** Records in batches, each numbered by the line it starts on: after the line the previous one ended on and the empty lines skipped since. */
async function* csvBatches(records: AsyncIterator<CsvRecord>, after: CsvRecord['info'], size: number): AsyncGenerator<SourceRecord[]> {
  let lastLine = after.lines;
  let emptyLines = after.empty_lines;
  let batch: SourceRecord[] = [];
  for (let next = await nextRecord(records, lastLine); !next.done; next = await nextRecord(records, lastLine)) {
    const { record, info } = next.value;
    batch.push({ line: lastLine + 1 + (info.empty_lines - emptyLines), values: record });
    lastLine = info.lines;
    emptyLines = info.empty_lines;
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function* ndjsonBatches(bytes: AsyncIterable<Buffer>, size: number): AsyncGenerator<SourceRecord[]> {
  const lines = createInterface({ input: Readable.from(bytes), crlfDelay: Infinity });
  let batch: SourceRecord[] = [];
  let line = 0;
  for await (const text of lines) {
    line++;
    const content = line === 1 ? text.replace(/^\uFEFF/, '') : text;
    if (content.trim().length === 0) continue;
    batch.push(ndjsonRecord(content, line));
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function ndjsonRecord(text: string, line: number): SourceRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { line, malformed: `malformed JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { line, malformed: 'a line must be a JSON object' };
  return { line, object: value as Record<string, unknown> };
}
