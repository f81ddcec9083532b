// Drives the official Chargebee Node SDK against the sandbox and prints what it saw as JSON.
// Env: CB_PORT (the site's region origin port), CB_KEY (a site with room), CB_TIGHT_KEY (a
// site in the same region with a small limit, to provoke a 429).
import Chargebee from 'chargebee';

const port = Number(process.env.CB_PORT);
const connect = (apiKey) =>
  new Chargebee({ site: 'localhost', hostSuffix: '', protocol: 'http', port, apiKey });

const errorFields = (e) => ({
  api_error_code: e.api_error_code,
  http_status_code: e.http_status_code,
  type: e.type ?? null,
  message: e.message,
  retry_after: e.headers?.['retry-after'] ?? null,
});

const cb = connect(process.env.CB_KEY);
const out = {};

// Every invoice, seven a page, following next_offset.
const invoiceIds = [];
let offset;
let pages = 0;
do {
  const page = await cb.invoice.list({ limit: 7, offset, sort_by: { asc: 'updated_at' } });
  pages += 1;
  for (const item of page.list) invoiceIds.push(item.invoice.id);
  offset = page.next_offset;
} while (offset);
out.invoice_count = invoiceIds.length;
out.invoice_unique = new Set(invoiceIds).size;
out.invoice_pages = pages;

// A filtered event list (event_type[in] as the SDK serialises arrays), then one event by id.
const events = [];
offset = undefined;
do {
  const page = await cb.event.list({ limit: 100, offset, event_type: { in: ['payment_succeeded', 'invoice_generated'] } });
  for (const item of page.list) events.push(item.event);
  offset = page.next_offset;
} while (offset);
out.filtered_event_count = events.length;
const picked = await cb.event.retrieve(events[0].id);
out.event = {
  id: picked.event.id,
  event_type: picked.event.event_type,
  content_keys: Object.keys(picked.event.content).sort(),
};

try {
  await cb.invoice.retrieve('no-such-invoice');
  out.not_found = null;
} catch (e) {
  out.not_found = errorFields(e);
}

// Hammer the tight site until the SDK reports a 429.
const tight = connect(process.env.CB_TIGHT_KEY);
out.rate_limit = null;
for (let i = 0; i < 50 && !out.rate_limit; i++) {
  try {
    await tight.customer.list({ limit: 1 });
  } catch (e) {
    out.rate_limit = { ...errorFields(e), after_calls: i + 1 };
  }
}

console.log(JSON.stringify(out));
