// The official Node SDK over HTTPS with nothing changed but the port: protocol https and host
// `{site}.chargebee.com` are the SDK's defaults. Run with NODE_EXTRA_CA_CERTS=<the sandbox CA>
// and `--require ./hosts_entry.cjs`. Env: CB_SITE, CB_KEY, CB_PORT (the HTTPS port).
// Prints JSON: {ok, count, first_id} or {ok:false, error}.
import Chargebee from 'chargebee';

const cb = new Chargebee({ site: process.env.CB_SITE, apiKey: process.env.CB_KEY, port: Number(process.env.CB_PORT) });
try {
  const page = await cb.invoice.list({ limit: 5, include_deleted: true, sort_by: { asc: 'updated_at' } });
  const events = await cb.event.list({ limit: 3, include_deleted: true });
  console.log(JSON.stringify({ ok: true, count: page.list.length, events: events.list.length, first_id: page.list[0]?.invoice.id ?? null }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e), code: e?.api_error_code ?? e?.cause?.code ?? null }));
}
