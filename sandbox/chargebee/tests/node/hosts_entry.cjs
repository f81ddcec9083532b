// Preload (`node --require ./hosts_entry.cjs`) standing in for a hosts entry
// `127.0.0.1 <site>.chargebee.com`: every *.chargebee.com lookup answers 127.0.0.1, so the SDK
// can keep Chargebee's own host name without touching /etc/hosts or the network.
const dns = require('node:dns');
const original = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') [options, callback] = [{}, options];
  if (typeof hostname === 'string' && hostname.toLowerCase().endsWith('.chargebee.com')) {
    const opts = typeof options === 'number' ? { family: options } : options || {};
    if (opts.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(callback, null, '127.0.0.1', 4);
  }
  return original.call(this, hostname, options, callback);
};
