// The official Chargebee Node SDK's own list loop over what a backfill reads (customers,
// invoices, transactions, credit notes; 100 a page, oldest first, deleted included, following next_offset),
// timed by itself. Prints {"records", "pages", "ms"}. Env: CB_PORT, CB_KEY.
import Chargebee from 'chargebee';

const cb = new Chargebee({ site: 'localhost', hostSuffix: '', protocol: 'http', port: Number(process.env.CB_PORT), apiKey: process.env.CB_KEY });
const started = performance.now();
let records = 0;
let pages = 0;
// Credit notes sort by date only (the API refuses updated_at there), as in chargebee-source.
for (const [resource, sort] of [['customer', 'updated_at'], ['invoice', 'updated_at'], ['transaction', 'updated_at'], ['creditNote', 'date']]) {
  let offset;
  do {
    const page = await cb[resource].list({ limit: 100, offset, include_deleted: true, sort_by: { asc: sort } });
    pages += 1;
    records += page.list.length;
    offset = page.next_offset;
  } while (offset);
}
console.log(JSON.stringify({ records, pages, ms: performance.now() - started }));
